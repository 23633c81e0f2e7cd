from odoo import fields, models

from .crm_scorecard import STOPLIGHTS


class CrmScorecardLineBand(models.Model):
    """A threshold band of a KPI line: from this score on, the line shows this colour
    (e.g. red from 0 %, yellow from 50 %, green from 80 %, blue "exceeds" from 100 %).
    A line with bands uses them in place of its two thresholds."""

    _name = "crm.scorecard.line.band"
    _description = "CRM Scorecard KPI threshold band"
    _order = "line_id, score_from, id"

    line_id = fields.Many2one("crm.scorecard.line", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="line_id.company_id", store=True)
    name = fields.Char(required=True, translate=True, help="e.g. Exceeds")
    colour = fields.Selection(STOPLIGHTS, required=True, default="green")
    score_from = fields.Float(string="From score (%)", required=True)

    _sql_constraints = [
        (
            "line_score_unique",
            "unique(line_id, score_from)",
            "Two bands of a KPI line start at the same score.",
        ),
    ]
