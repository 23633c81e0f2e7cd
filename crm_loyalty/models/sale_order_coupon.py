from odoo import models


class SaleOrder(models.Model):
    _inherit = "sale.order"  # pylint: disable=consider-merging-classes-inherited

    def action_confirm(self):
        res = super().action_confirm()
        self._crm_tier_requalify()
        return res

    def _action_cancel(self):
        confirmed = self.filtered(lambda order: order.state == "sale")
        res = super()._action_cancel()
        confirmed._crm_tier_requalify()
        return res

    def _crm_tier_requalify(self):
        """Real-time re-qualification of the tiers earned on ordered spend."""
        partners = self.partner_id.commercial_partner_id
        if partners:
            self.env["loyalty.card"].sudo()._crm_tier_evaluate_partners(set(partners.ids), "orders")

    def _get_claimable_rewards(self, forced_coupons=None):
        # A personalised coupon only claims the rewards of the products chosen for its holder, and
        # a campaign's rewards are claimed only through the coupons personalised with them.
        result = super()._get_claimable_rewards(forced_coupons=forced_coupons)
        for coupon in list(result):
            if coupon.crm_coupon_reward_ids:
                result[coupon] &= coupon.crm_coupon_reward_ids
            else:
                result[coupon] = result[coupon].filtered(lambda reward: not reward.crm_campaign_reward)
            if not result[coupon]:
                del result[coupon]
        return result

    def _apply_program_reward(self, reward, coupon, **kwargs):
        if reward.crm_campaign_reward and reward not in coupon.crm_coupon_reward_ids:
            return {
                "error": self.env._(
                    "Coupon %(code)s cannot claim the reward %(reward)s: it is personalised for other products.",
                    code=coupon.code,
                    reward=reward.description,
                )
            }
        return super()._apply_program_reward(reward, coupon, **kwargs)
