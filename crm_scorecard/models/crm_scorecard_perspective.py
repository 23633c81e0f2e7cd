from odoo import api, fields, models

from .crm_scorecard import ROLLUPS, STOPLIGHTS
from .crm_scorecard_kpi import PERSPECTIVES


class CrmScorecardPerspective(models.Model):
    """A perspective of one scorecard (financial, customer, ...), weighted in its total."""

    _name = "crm.scorecard.perspective"
    _description = "CRM Scorecard perspective"
    _order = "scorecard_id, sequence, id"

    name = fields.Char(required=True, translate=True)
    kind = fields.Selection(PERSPECTIVES, required=True, default="customer")
    sequence = fields.Integer(default=10)
    weight = fields.Float(default=1.0, help="Weight of the perspective in the scorecard's score.")
    rollup = fields.Selection(
        ROLLUPS,
        string="Rollup of KPIs",
        required=True,
        default="weighted_average",
        help="How the KPIs' scores make the perspective's score.",
    )
    scorecard_id = fields.Many2one("crm.scorecard", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="scorecard_id.company_id", store=True)
    line_ids = fields.One2many("crm.scorecard.line", "perspective_id", string="KPIs")
    score = fields.Float(compute="_compute_score", string="Score (%)")
    score_defined = fields.Boolean(compute="_compute_score")
    stoplight = fields.Selection(STOPLIGHTS, compute="_compute_score")

    _sql_constraints = [
        ("weight_positive", "CHECK(weight >= 0)", "A perspective's weight cannot be negative."),
    ]

    @api.depends("scorecard_id.evaluation_data")
    @api.depends_context("scorecard_date", "uid")
    def _compute_score(self):
        for perspective in self:
            evaluation = (perspective.scorecard_id.evaluation_data or {}).get("current") or {}
            score, light = evaluation.get("perspectives", {}).get(perspective.id, (None, None))
            perspective.score = (score or 0.0) * 100.0
            perspective.score_defined = score is not None
            perspective.stoplight = light or False
