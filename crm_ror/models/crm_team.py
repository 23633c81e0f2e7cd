from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine.temperature import DEFAULT_PARAMS, TemperatureParams

# team fields the stored lead temperature is computed from: saving one schedules the recompute
TEMPERATURE_PARAM_FIELDS = (
    "temperature_hot_threshold",
    "temperature_warm_threshold",
    "temperature_half_life_days",
    "temperature_weight_probability",
    "temperature_weight_priority",
    "temperature_weight_engagement",
    "temperature_weight_deadline",
    "black_hole_idle_days",
    "temperature_use_automated_probability",
)


class CrmTeam(models.Model):
    _inherit = "crm.team"

    temperature_hot_threshold = fields.Float(
        "Hot Threshold",
        default=DEFAULT_PARAMS.hot_threshold,
        help="Leads scoring at least this (0-100) are HOT. The score is the weighted mean of Odoo's "
        "predictive probability, the priority, engagement and the closeness of the expected closing date.",
    )
    temperature_warm_threshold = fields.Float(
        "Warm Threshold",
        default=DEFAULT_PARAMS.warm_threshold,
        help="Leads scoring at least this (0-100) but below the hot threshold are WARM.",
    )
    temperature_half_life_days = fields.Float(
        "Engagement Half-Life (Days)",
        default=DEFAULT_PARAMS.half_life_days,
        help="The engagement factor is 100 on the day of the last engagement and halves every this many "
        "idle days, so the score cools continuously. 0 turns the decay off.",
    )
    temperature_weight_probability = fields.Float(
        "Weight: Probability", default=DEFAULT_PARAMS.weight_probability
    )
    temperature_weight_priority = fields.Float("Weight: Priority", default=DEFAULT_PARAMS.weight_priority)
    temperature_weight_engagement = fields.Float(
        "Weight: Engagement", default=DEFAULT_PARAMS.weight_engagement
    )
    temperature_weight_deadline = fields.Float(
        "Weight: Closing Date",
        default=DEFAULT_PARAMS.weight_deadline,
        help="A missing closing date scores 50 (neutral), an overdue one 0.",
    )
    black_hole_idle_days = fields.Integer(
        "Neglected After (Days)",
        default=30,
        help="Open leads idle at least this many days count as neglected (the black hole). 0 disables.",
    )
    temperature_use_automated_probability = fields.Boolean(
        "Score on Automated Probability",
        help="Score leads on Odoo's automated (predictive) probability even when the salesperson "
        "changed the probability by hand. Otherwise the lead's probability is used.",
    )

    @api.constrains(*TEMPERATURE_PARAM_FIELDS)
    def _check_temperature_thresholds(self):
        for team in self:
            if not 0 <= team.temperature_warm_threshold < team.temperature_hot_threshold <= 100:
                raise ValidationError(
                    self.env._(
                        "Sales team %(team)s: the temperature thresholds must satisfy "
                        "0 <= warm < hot <= 100 (warm %(warm)s, hot %(hot)s).",
                        team=team.display_name,
                        warm=team.temperature_warm_threshold,
                        hot=team.temperature_hot_threshold,
                    )
                )
            if team.temperature_half_life_days < 0 or team.black_hole_idle_days < 0:
                raise ValidationError(
                    self.env._(
                        "Sales team %(team)s: the day counts cannot be negative.", team=team.display_name
                    )
                )
            weights = team._temperature_params().weights()
            if min(weights.values()) < 0 or not sum(weights.values()):
                raise ValidationError(
                    self.env._(
                        "Sales team %(team)s: the temperature weights cannot be negative and at least one "
                        "must be positive.",
                        team=team.display_name,
                    )
                )

    def write(self, vals):
        res = super().write(vals)
        if any(fname in vals for fname in TEMPERATURE_PARAM_FIELDS):
            # the team's leads are recomputed by the daily lead cron, run soon, not in this request
            self.env["crm.lead"]._ror_schedule_temperature_recompute()
        return res

    def _temperature_params(self):
        """Engine parameters of this team (defaults when no team)."""
        if not self:
            return DEFAULT_PARAMS
        self.ensure_one()
        return TemperatureParams(
            hot_threshold=self.temperature_hot_threshold,
            warm_threshold=self.temperature_warm_threshold,
            half_life_days=self.temperature_half_life_days,
            weight_probability=self.temperature_weight_probability,
            weight_priority=self.temperature_weight_priority,
            weight_engagement=self.temperature_weight_engagement,
            weight_deadline=self.temperature_weight_deadline,
        )
