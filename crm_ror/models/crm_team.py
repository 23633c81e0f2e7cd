from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine.temperature import TemperatureParams


class CrmTeam(models.Model):
    _inherit = "crm.team"

    temperature_hot_threshold = fields.Float(
        "Hot Threshold",
        default=60.0,
        help="Leads scoring at least this (0-100) are HOT. The score blends Odoo's predictive "
        "probability, the priority, engagement recency and closeness of the expected closing date.",
    )
    temperature_warm_threshold = fields.Float(
        "Warm Threshold",
        default=35.0,
        help="Leads scoring at least this (0-100) but below the hot threshold are WARM.",
    )
    temperature_decay_days = fields.Integer(
        "Cooling After (Days)",
        default=14,
        help="A lead cools one level (HOT to WARM, WARM to COLD) for every this many idle days. 0 disables decay.",
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

    @api.constrains(
        "temperature_hot_threshold",
        "temperature_warm_threshold",
        "temperature_decay_days",
        "black_hole_idle_days",
    )
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
            if team.temperature_decay_days < 0 or team.black_hole_idle_days < 0:
                raise ValidationError(
                    self.env._(
                        "Sales team %(team)s: the day counts cannot be negative.", team=team.display_name
                    )
                )

    def _temperature_params(self):
        """Engine parameters of this team (defaults when no team)."""
        if not self:
            return TemperatureParams()
        self.ensure_one()
        return TemperatureParams(
            hot_threshold=self.temperature_hot_threshold,
            warm_threshold=self.temperature_warm_threshold,
            decay_days=self.temperature_decay_days,
        )
