from odoo import fields, models


class LoyaltyCard(models.Model):
    _inherit = "loyalty.card"  # pylint: disable=consider-merging-classes-inherited

    crm_coupon_reward_ids = fields.Many2many(
        "loyalty.reward",
        "crm_loyalty_card_reward_rel",
        "card_id",
        "reward_id",
        string="Personalised Rewards",
        copy=False,
        help="When set, this coupon can only claim these rewards of its program (personalised "
        "coupons of a campaign).",
    )
