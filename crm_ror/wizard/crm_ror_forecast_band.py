from odoo import fields, models

SERIES = [
    ("lower", "Lower (-1 sigma)"),
    ("weighted", "Weighted Pipeline"),
    ("upper", "Upper (+1 sigma)"),
    ("run_rate", "Won Run-Rate"),
]


class CrmRorForecastBand(models.TransientModel):
    """One point per period and series of the all-teams forecast: the line graph draws the band."""

    _name = "crm.ror.forecast.band"
    _description = "Pipeline Forecast Band"
    _order = "bucket, series"

    wizard_id = fields.Many2one("crm.ror.forecast.wizard", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    bucket = fields.Char("Period", required=True)
    series = fields.Selection(SERIES, required=True)
    amount = fields.Monetary()
