from odoo import models


class SaleOrder(models.Model):
    _inherit = "sale.order"  # pylint: disable=consider-merging-classes-inherited

    def _get_claimable_rewards(self, forced_coupons=None):
        # A personalised coupon only claims the rewards of the products chosen for its holder.
        result = super()._get_claimable_rewards(forced_coupons=forced_coupons)
        for coupon in list(result):
            if coupon.crm_coupon_reward_ids:
                result[coupon] &= coupon.crm_coupon_reward_ids
                if not result[coupon]:
                    del result[coupon]
        return result

    def _apply_program_reward(self, reward, coupon, **kwargs):
        if coupon.crm_coupon_reward_ids and reward not in coupon.crm_coupon_reward_ids:
            return {
                "error": self.env._(
                    "Coupon %(code)s cannot claim the reward %(reward)s: it is personalised for other products.",
                    code=coupon.code,
                    reward=reward.description,
                )
            }
        return super()._apply_program_reward(reward, coupon, **kwargs)
