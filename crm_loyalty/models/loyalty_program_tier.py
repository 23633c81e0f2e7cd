from odoo import api, fields, models


class LoyaltyProgram(models.Model):
    _inherit = "loyalty.program"  # pylint: disable=consider-merging-classes-inherited

    crm_tier_ids = fields.One2many("loyalty.tier", "program_id", string="Tiers", copy=True)
    crm_tier_basis = fields.Selection(
        [("spend", "Invoiced spend"), ("orders", "Ordered spend"), ("points", "Points earned")],
        string="Qualification Basis",
        default="spend",
        required=True,
        help="Invoiced spend: posted customer invoices net of credit notes, untaxed, in company "
        "currency. Ordered spend: confirmed sales orders, untaxed, in company currency. "
        "Points earned: points the member earned on this program, before tier multipliers.",
    )
    crm_tier_window_months = fields.Integer(
        string="Qualification Window (months)",
        default=12,
        required=True,
        help="The qualifying amount is summed over this many months up to the review day.",
    )
    crm_tier_requalification = fields.Selection(
        [("realtime", "Real time"), ("anniversary", "At the membership anniversary")],
        string="Re-qualification",
        default="realtime",
        required=True,
        help="Upgrades are always granted as soon as a member qualifies. Downgrades are applied at "
        "any evaluation in real time, only on the membership anniversary otherwise.",
    )
    crm_tier_downgrade_policy = fields.Selection(
        [
            ("never", "Never downgrade"),
            ("one_level", "One level at a time"),
            ("qualify", "To the qualifying tier"),
        ],
        string="Downgrade Policy",
        default="one_level",
        required=True,
    )
    crm_tier_upgrade_template_id = fields.Many2one(
        "mail.template",
        string="Upgrade Email",
        domain=[("model", "=", "loyalty.card")],
        default=lambda self: self.env.ref("crm_loyalty.mail_template_tier_upgrade", False),
    )
    crm_tier_downgrade_template_id = fields.Many2one(
        "mail.template",
        string="Downgrade Email",
        domain=[("model", "=", "loyalty.card")],
        default=lambda self: self.env.ref("crm_loyalty.mail_template_tier_downgrade", False),
    )
    crm_point_value = fields.Float(
        string="Point Value",
        digits="Product Price",
        help="Value of one point in the program's currency, used for the outstanding liability.",
    )

    _sql_constraints = [
        (
            "crm_tier_window_positive",
            "CHECK (crm_tier_window_months > 0)",
            "The tier qualification window must be at least one month.",
        ),
        (
            "crm_point_value_positive",
            "CHECK (crm_point_value >= 0)",
            "The point value cannot be negative.",
        ),
    ]

    @api.model
    def _crm_tiered_programs(self):
        return self.search([("program_type", "=", "loyalty"), ("crm_tier_ids", "!=", False)])

    def action_crm_tier_requalify(self):
        """Re-qualify every member of these programs now (the daily scheduled action does the same)."""
        cards = self.env["loyalty.card"].search(
            [("program_id", "in", self.filtered("crm_tier_ids").ids), ("partner_id", "!=", False)]
        )
        changes = cards._crm_tier_evaluate()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "Members re-qualified: %(members)s; tier changes: %(changes)s.",
                    members=len(cards),
                    changes=len(changes),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
