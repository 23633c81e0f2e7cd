from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CrmRorDataQualityPolicy(models.Model):
    """A sales team's own freshness limit for its customers' data (the company's applies otherwise)."""

    _name = "crm.ror.data.quality.policy"
    _description = "Data Quality Policy"
    _rec_name = "team_id"

    team_id = fields.Many2one("crm.team", "Sales team", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="team_id.company_id", store=True, string="Company")
    freshness_days = fields.Integer("Freshness (days)", required=True, default=365)

    _sql_constraints = [("team_uniq", "unique(team_id)", "A sales team has one data-quality policy.")]

    @api.constrains("freshness_days")
    def _check_freshness_days(self):
        for policy in self:
            if policy.freshness_days < 1:
                raise ValidationError(
                    self.env._(
                        "Data-quality policy of %(team)s: the freshness limit is at least 1 day.",
                        team=policy.team_id.name,
                    )
                )
