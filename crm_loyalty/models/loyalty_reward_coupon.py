from odoo import fields, models


class LoyaltyReward(models.Model):
    _inherit = "loyalty.reward"

    crm_campaign_reward = fields.Boolean(
        string="Personalised Campaign Reward",
        readonly=True,
        copy=False,
        help="Created by a coupon campaign: only the coupons personalised with it can claim it.",
    )
