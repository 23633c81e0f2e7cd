from odoo import api, fields, models


class LoyaltyTier(models.Model):
    _name = "loyalty.tier"
    _description = "Loyalty Tier"
    _order = "program_id, min_amount, sequence, id"

    name = fields.Char(required=True, translate=True)
    program_id = fields.Many2one(
        "loyalty.program",
        required=True,
        ondelete="cascade",
        index=True,
        domain=[("program_type", "=", "loyalty")],
    )
    company_id = fields.Many2one(related="program_id.company_id", store=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    sequence = fields.Integer(default=10)
    min_amount = fields.Float(
        string="Minimum Qualifying Amount",
        help="Qualifying spend (company currency) or points over the program's rolling window "
        "from which a member reaches this tier.",
    )
    multiplier = fields.Float(
        string="Earning Multiplier",
        default=1.0,
        help="Points earned by members of this tier are multiplied by this factor.",
    )
    color = fields.Integer()
    member_count = fields.Integer(compute="_compute_member_count", string="Members")

    _sql_constraints = [
        (
            "min_amount_positive",
            "CHECK (min_amount >= 0)",
            "A tier's minimum qualifying amount cannot be negative.",
        ),
        (
            "multiplier_positive",
            "CHECK (multiplier > 0)",
            "A tier's earning multiplier must be greater than zero (1 = no bonus).",
        ),
        (
            "name_program_unique",
            "UNIQUE (program_id, name)",
            "Two tiers of the same program cannot have the same name.",
        ),
    ]

    def _compute_member_count(self):
        counts = dict(
            self.env["loyalty.card"]._read_group(
                [("crm_tier_id", "in", self.ids)], ["crm_tier_id"], ["__count"]
            )
        )
        for tier in self:
            tier.member_count = counts.get(tier, 0)

    @api.constrains("multiplier", "program_id")
    def _check_multiplier_needs_ledger(self):
        self.program_id._check_ledger_settings()
