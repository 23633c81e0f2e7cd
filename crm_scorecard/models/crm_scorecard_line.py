from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from .crm_scorecard import STOPLIGHTS, TRENDS
from .crm_scorecard_kpi import DIRECTIONS

TREND_ARROWS = {"up": "↑", "down": "↓", "flat": "→"}
EMPTY_FIGURES = {
    "value": 0.0,
    "value_defined": False,
    "value_previous": 0.0,
    "value_previous_defined": False,
    "value_last_year": 0.0,
    "value_last_year_defined": False,
    "performance": 0.0,
    "performance_defined": False,
    "progress": 0.0,
    "progress_defined": False,
    "score": 0.0,
    "score_defined": False,
    "stoplight": False,
    "trend": False,
    "trend_arrow": False,
    "improved": False,
    "worsened": False,
}


class CrmScorecardLine(models.Model):
    """A KPI of a scorecard, with its goal (baseline, target, range) and thresholds."""

    _name = "crm.scorecard.line"
    _description = "CRM Scorecard KPI line"
    _order = "scorecard_id, perspective_sequence, sequence, id"

    scorecard_id = fields.Many2one("crm.scorecard", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="scorecard_id.company_id", store=True)
    currency_id = fields.Many2one(related="scorecard_id.currency_id")
    perspective_id = fields.Many2one(
        "crm.scorecard.perspective",
        required=True,
        ondelete="cascade",
        domain="[('scorecard_id', '=', scorecard_id)]",
    )
    perspective_sequence = fields.Integer(
        related="perspective_id.sequence", store=True, string="Perspective sequence"
    )
    kpi_id = fields.Many2one("crm.scorecard.kpi", string="KPI", required=True, ondelete="restrict")
    name = fields.Char(related="kpi_id.name")
    sequence = fields.Integer(default=10)
    user_id = fields.Many2one("res.users", string="Owner", help="Alerted when the KPI turns red.")
    weight = fields.Float(default=1.0)
    direction = fields.Selection(
        DIRECTIONS, required=True, compute="_compute_from_kpi", store=True, readonly=False, precompute=True
    )
    unit = fields.Char(compute="_compute_from_kpi", store=True, readonly=False, precompute=True)
    unit_label = fields.Char(compute="_compute_unit_label", string="Unit shown")
    baseline = fields.Float()
    target = fields.Float(help="The goal; for a band, the low end of the best band.")
    target_high = fields.Float(string="Target (high end)", help="For a band: the high end of the best band.")
    min_value = fields.Float(string="Min")
    max_value = fields.Float(string="Max", default=100.0)
    threshold_yellow = fields.Float(string="Yellow from (%)", default=50.0, help="Scores below it are red.")
    threshold_green = fields.Float(string="Green from (%)", default=80.0)
    band_ids = fields.One2many(
        "crm.scorecard.line.band",
        "line_id",
        string="Threshold bands",
        copy=True,
        help="Colours by score, in place of the two thresholds (e.g. a blue band for exceeding).",
    )

    value = fields.Float(compute="_compute_figures", digits=(16, 2))
    value_defined = fields.Boolean(compute="_compute_figures")
    value_previous = fields.Float(compute="_compute_figures", string="Previous period", digits=(16, 2))
    value_previous_defined = fields.Boolean(compute="_compute_figures")
    value_last_year = fields.Float(compute="_compute_figures", string="Last year", digits=(16, 2))
    value_last_year_defined = fields.Boolean(compute="_compute_figures")
    performance = fields.Float(compute="_compute_figures", string="Performance (%)")
    performance_defined = fields.Boolean(compute="_compute_figures")
    progress = fields.Float(compute="_compute_figures", string="Progress (%)")
    progress_defined = fields.Boolean(compute="_compute_figures")
    score = fields.Float(compute="_compute_figures", string="Score (%)")
    score_defined = fields.Boolean(compute="_compute_figures")
    stoplight = fields.Selection(STOPLIGHTS, compute="_compute_figures")
    trend = fields.Selection(TRENDS, compute="_compute_figures")
    trend_arrow = fields.Char(compute="_compute_figures", string="Trend arrow")
    improved = fields.Boolean(compute="_compute_figures")
    worsened = fields.Boolean(compute="_compute_figures")
    message = fields.Char(compute="_compute_figures")

    _sql_constraints = [
        ("weight_positive", "CHECK(weight >= 0)", "A KPI's weight cannot be negative."),
        (
            "thresholds",
            "CHECK(threshold_yellow <= threshold_green)",
            "The yellow threshold must not be above the green one.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._check_query_kpi_owner()
        return lines

    def write(self, vals):
        result = super().write(vals)
        if "kpi_id" in vals or "scorecard_id" in vals:
            self._check_query_kpi_owner()
        return result

    def _check_query_kpi_owner(self):
        """A query KPI on a scorecard runs, in its history, with the owner's rights, and its
        figures are shown to every reader of the scorecard: only the owner (or a Settings
        administrator, who chooses owners) may put one, directly or through a formula, on it."""
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        for line in self:
            owner = line.scorecard_id.user_id
            if not owner or owner == self.env.user:
                continue
            queries = line.kpi_id._with_dependencies().filtered(lambda kpi: kpi.source == "query")
            if queries:
                raise AccessError(
                    self.env._(
                        "Scorecard %(scorecard)s: KPI %(kpi)s queries records (%(queries)s) and its history "
                        "is computed with the rights of the owner, %(owner)s. Ask %(owner)s to add it, or "
                        "add it to a scorecard of your own.",
                        scorecard=line.scorecard_id.name,
                        kpi=line.kpi_id.name,
                        queries=", ".join(queries.mapped("name")),
                        owner=owner.name,
                    )
                )

    @api.depends("kpi_id")
    def _compute_from_kpi(self):
        for line in self:
            line.direction = line.kpi_id.direction or line.direction or "max"
            line.unit = line.kpi_id.unit

    @api.depends("unit", "scorecard_id.company_id.currency_id")
    def _compute_unit_label(self):
        for line in self:
            # The catalog contract's "currency" unit means the company's currency.
            line.unit_label = line.currency_id.name if line.unit == "currency" else line.unit

    @api.constrains("perspective_id", "scorecard_id")
    def _check_perspective(self):
        for line in self:
            if line.perspective_id.scorecard_id != line.scorecard_id:
                raise ValidationError(
                    self.env._(
                        "KPI %(kpi)s: the perspective %(perspective)s belongs to another scorecard.",
                        kpi=line.kpi_id.name,
                        perspective=line.perspective_id.name,
                    )
                )

    @api.constrains("direction", "baseline", "target", "target_high", "min_value", "max_value")
    def _check_goal(self):
        """The range and the goal must be the right way round for the direction (BSC Designer:
        a minimised KPI's baseline is above its target). Equal baseline and target are allowed:
        no goal is set yet, and the progress is undefined."""
        for line in self:
            kpi = line.kpi_id.name
            if line.direction != "binary" and line.min_value >= line.max_value:
                raise ValidationError(self.env._("KPI %(kpi)s: its min must be below its max.", kpi=kpi))
            if line.direction == "max" and line.target < line.baseline:
                raise ValidationError(
                    self.env._(
                        "KPI %(kpi)s is maximised: its target must be above its baseline "
                        "(or choose the direction Minimise).",
                        kpi=kpi,
                    )
                )
            if line.direction == "min" and line.target > line.baseline:
                raise ValidationError(
                    self.env._(
                        "KPI %(kpi)s is minimised: its target must be below its baseline "
                        "(or choose the direction Maximise).",
                        kpi=kpi,
                    )
                )
            if line.direction == "band":
                if line.target_high < line.target:
                    raise ValidationError(
                        self.env._("KPI %(kpi)s: the high end of the band is below its low end.", kpi=kpi)
                    )
                if line.target < line.min_value or line.target_high > line.max_value:
                    raise ValidationError(
                        self.env._("KPI %(kpi)s: the band must lie between the min and the max.", kpi=kpi)
                    )

    @api.depends("scorecard_id.evaluation_data")
    @api.depends_context("scorecard_date", "uid")
    def _compute_figures(self):
        for line in self:
            data = line.scorecard_id.evaluation_data or {}
            figures = data.get("current", {}).get("lines", {}).get(line.id)
            if not figures:
                line.update(dict(EMPTY_FIGURES, message=data.get("error") or False))
                continue
            line.update(
                {
                    "value": figures["value"] or 0.0,
                    "value_defined": figures["value"] is not None,
                    "value_previous": figures["previous"] or 0.0,
                    "value_previous_defined": figures["previous"] is not None,
                    "value_last_year": figures["last_year"] or 0.0,
                    "value_last_year_defined": figures["last_year"] is not None,
                    "performance": (figures["performance"] or 0.0) * 100.0,
                    "performance_defined": figures["performance"] is not None,
                    "progress": (figures["progress"] or 0.0) * 100.0,
                    "progress_defined": figures["progress"] is not None,
                    "score": (figures["score"] or 0.0) * 100.0,
                    "score_defined": figures["score"] is not None,
                    "stoplight": figures["stoplight"] or False,
                    "trend": figures["trend"] or False,
                    "trend_arrow": TREND_ARROWS.get(figures["trend"], False),
                    "improved": figures["improved"] is True,
                    "worsened": figures["improved"] is False,
                    "message": figures["message"] or False,
                }
            )

    def action_open_bands(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Threshold bands of %(kpi)s", kpi=self.kpi_id.name),
            "res_model": "crm.scorecard.line",
            "res_id": self.id,
            "view_mode": "form",
            "views": [(self.env.ref("crm_scorecard.crm_scorecard_line_view_form_bands").id, "form")],
            "target": "new",
        }

    def action_open_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_scorecard.crm_scorecard_value_action")
        action["domain"] = [("line_id", "=", self.id)]
        action["views"] = [(False, "graph"), (False, "list"), (False, "pivot")]
        action["context"] = {"graph_mode": "line", "graph_groupbys": ["date_from:month"]}
        action["name"] = self.env._("History of %(kpi)s", kpi=self.kpi_id.name)
        return action
