from odoo import api, fields, models
from odoo.exceptions import UserError

from .crm_scorecard_kpi import DIRECTIONS, PERSPECTIVES


class CrmScorecardTemplate(models.Model):
    """A ready-made scorecard (perspectives weights and KPI lines), loaded from data."""

    _name = "crm.scorecard.template"
    _description = "CRM Scorecard template"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)
    period_type = fields.Selection(
        [("month", "Month"), ("quarter", "Quarter"), ("year", "Year")], required=True, default="month"
    )
    weight_financial = fields.Float(string="Financial weight", default=1.0)
    weight_customer = fields.Float(string="Customer weight", default=1.0)
    weight_process = fields.Float(string="Internal process weight", default=1.0)
    weight_learning = fields.Float(string="Learning and growth weight", default=1.0)
    line_ids = fields.One2many("crm.scorecard.template.line", "template_id", string="KPIs", copy=True)

    def _create_scorecard(self, team=None, user=None, company=None, name=None):
        """A new scorecard from this template for ``team``; lines whose catalog KPI is not
        available (provider addon not installed) are left out and listed in the chatter."""
        self.ensure_one()
        company = company or (team and team.company_id) or self.env.company
        scorecard = self.env["crm.scorecard"].create(
            {
                "name": name or (f"{self.name} - {team.name}" if team else self.name),
                "team_id": team.id if team else False,
                "user_id": (user or self.env.user).id,
                "company_id": company.id,
                "period_type": self.period_type,
                "perspective_ids": [
                    fields.Command.create(
                        {
                            "name": label,
                            "kind": kind,
                            "sequence": index * 10,
                            "weight": self[f"weight_{kind}"],
                        }
                    )
                    for index, (kind, label) in enumerate(PERSPECTIVES, start=1)
                ],
            }
        )
        perspectives = {p.kind: p for p in scorecard.perspective_ids}
        skipped = []
        line_values = []
        for tline in self.line_ids:
            kpi = tline._resolve_kpi()
            if not kpi:
                skipped.append(tline.catalog_code or tline.name or "")
                continue
            line_values.append(
                {
                    "scorecard_id": scorecard.id,
                    "perspective_id": perspectives[tline.perspective].id,
                    "kpi_id": kpi.id,
                    "sequence": tline.sequence,
                    "weight": tline.weight,
                    "direction": tline.direction or kpi.direction,
                    "unit": kpi.unit,
                    "baseline": tline.baseline,
                    "target": tline.target,
                    "target_high": tline.target_high,
                    "min_value": tline.min_value,
                    "max_value": tline.max_value,
                    "threshold_yellow": tline.threshold_yellow,
                    "threshold_green": tline.threshold_green,
                }
            )
        self.env["crm.scorecard.line"].create(line_values)
        if skipped:
            scorecard.message_post(
                body=self.env._(
                    "Left out of the template (catalog KPI not available, install its addon): %(codes)s",
                    codes=", ".join(skipped),
                )
            )
        return scorecard


class CrmScorecardTemplateLine(models.Model):
    _name = "crm.scorecard.template.line"
    _description = "CRM Scorecard template KPI"
    _order = "template_id, sequence, id"

    template_id = fields.Many2one("crm.scorecard.template", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(
        compute="_compute_name", help="The KPI definition, or the catalog code when none is set."
    )
    perspective = fields.Selection(PERSPECTIVES, required=True)
    kpi_id = fields.Many2one("crm.scorecard.kpi", string="KPI", ondelete="cascade")
    catalog_code = fields.Char(
        help="Catalog KPI used when no definition is set: a definition is created for it if the "
        "addon providing it is installed, else the line is left out."
    )
    weight = fields.Float(default=1.0)
    direction = fields.Selection(DIRECTIONS)
    baseline = fields.Float()
    target = fields.Float()
    target_high = fields.Float(string="Target (high end)")
    min_value = fields.Float(string="Min")
    max_value = fields.Float(string="Max", default=100.0)
    threshold_yellow = fields.Float(string="Yellow from (%)", default=50.0)
    threshold_green = fields.Float(string="Green from (%)", default=80.0)

    @api.depends("kpi_id.name", "catalog_code")
    def _compute_name(self):
        for line in self:
            line.name = line.kpi_id.name or line.catalog_code

    def _resolve_kpi(self):
        """The KPI definition of this line, created from the catalog if needed (or empty)."""
        self.ensure_one()
        if self.kpi_id:
            return self.kpi_id
        if not self.catalog_code:
            raise UserError(
                self.env._(
                    "Template %(template)s: a line has neither KPI nor catalog code.",
                    template=self.template_id.name,
                )
            )
        Kpi = self.env["crm.scorecard.kpi"].with_context(active_test=False)
        kpi = Kpi.search([("source", "=", "catalog"), ("catalog_code", "=", self.catalog_code)], limit=1)
        if kpi:
            return kpi
        entry = self.env["crm.scorecard.catalog"]._collect_catalog().get(self.catalog_code)
        if not entry:
            return Kpi
        code = self.catalog_code.replace(".", "_")
        # A catalog KPI is an installed addon's fixed SQL (no domain, no formula): defining it
        # for the template's user, who may manage scorecards but not KPIs, grants nothing.
        return Kpi.sudo().create(
            {
                "name": entry["name"],
                "code": code,
                "source": "catalog",
                "catalog_code": self.catalog_code,
                "unit": entry.get("unit"),
                "direction": entry.get("direction") or "max",
                "perspective": entry.get("perspective"),
                "description": entry.get("description"),
            }
        )
