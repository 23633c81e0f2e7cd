from odoo import api, fields, models

from ..engine import periods as period_engine


class CrmScorecardManualValue(models.Model):
    """Value entered by hand for a manual KPI of a scorecard, for one period.

    Entered in their own list (importable from CSV) by the owner of the KPI's line, or by
    managers: the record rules check ``line_id.user_id``.
    """

    _name = "crm.scorecard.manual.value"
    _description = "CRM Scorecard manual KPI value"
    _order = "date_from desc, id"

    scorecard_id = fields.Many2one("crm.scorecard", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="scorecard_id.company_id", store=True)
    kpi_id = fields.Many2one(
        "crm.scorecard.kpi",
        string="KPI",
        required=True,
        ondelete="cascade",
        domain="[('source', '=', 'manual')]",
    )
    line_id = fields.Many2one(
        "crm.scorecard.line",
        string="KPI line",
        compute="_compute_line_id",
        store=True,
        index=True,
        help="The scorecard's line of this KPI: its owner may enter the values.",
    )
    user_id = fields.Many2one(related="line_id.user_id", string="Line owner")
    period_type = fields.Selection(related="scorecard_id.period_type", store=True)
    date = fields.Date(string="Day in the period", required=True, default=fields.Date.context_today)
    date_from = fields.Date(string="Period start", compute="_compute_date_from", store=True)
    value = fields.Float(required=True, digits=(16, 2))

    _sql_constraints = [
        (
            "period_unique",
            "unique(scorecard_id, kpi_id, date_from)",
            "This KPI already has a manual value for this period: edit it instead.",
        ),
    ]

    @api.depends("scorecard_id.line_ids.kpi_id", "kpi_id")
    def _compute_line_id(self):
        for record in self:
            lines = record.scorecard_id.line_ids.filtered(lambda line, kpi=record.kpi_id: line.kpi_id == kpi)
            record.line_id = lines[:1]

    @api.depends("date", "scorecard_id.period_type")
    def _compute_date_from(self):
        for record in self:
            if record.date and record.scorecard_id:
                record.date_from = period_engine.period_of(
                    record.scorecard_id.period_type, record.date
                ).date_from
            else:
                record.date_from = False
