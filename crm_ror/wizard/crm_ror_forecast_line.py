from odoo import fields, models


class CrmRorForecastLine(models.TransientModel):
    _name = "crm.ror.forecast.line"
    _description = "Pipeline Forecast Line"
    _order = "is_overdue desc, month, is_total, team_id"

    wizard_id = fields.Many2one("crm.ror.forecast.wizard", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    month = fields.Date(help="Empty for the overdue bucket.")
    is_overdue = fields.Boolean(
        "Overdue", help="Open opportunities whose expected closing is before this month."
    )
    bucket = fields.Char("Period", help="The month (YYYY-MM), or Overdue.")
    team_id = fields.Many2one("crm.team", "Sales Team")
    is_total = fields.Boolean("All Teams")
    nb_deals = fields.Integer("# Deals")
    weighted = fields.Monetary("Weighted Pipeline", help="Sum of expected revenue x probability.")
    # sigma and the band do not add up across lines: no sum in pivot and list
    sigma = fields.Monetary("Std. Deviation", aggregator=None, help="Square root of sum of a^2 p (1 - p).")
    lower = fields.Monetary("Lower (-1 sigma)", aggregator=None)
    upper = fields.Monetary("Upper (+1 sigma)", aggregator=None)
    # a monthly average: summing it over months means nothing
    run_rate = fields.Monetary(
        "Won Run-Rate", aggregator=None, help="Average monthly won revenue over the run-rate months."
    )
