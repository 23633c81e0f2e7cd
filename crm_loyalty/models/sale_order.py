from collections import defaultdict

from odoo import api, models
from odoo.exceptions import UserError

from .loyalty_card import HELD_FIELDS
from .loyalty_history import STOCK_SKIP, ledger_scope


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _compute_loyalty_data(self):
        # Stock sums the issued and used points of the history lines whose ``order_id`` is the
        # order's id, whatever their model (our invoice lines carry the invoice's id) and
        # reversals included (cancel then re-confirm shows twice the points). On the ledger the
        # order's points are the net of its earn and redeem postings.
        super()._compute_loyalty_data()
        confirmed = self.filtered(lambda order: order.state == "sale" and order.id)
        if not confirmed:
            return
        History = self.env["loyalty.history"].sudo()  # sudo: as stock's compute
        rows = History._read_group(
            [
                ("order_model", "=", "sale.order"),
                ("order_id", "in", confirmed.ids),
                ("move_type", "=", False),
            ],
            ["order_id"],
            ["issued:sum", "used:sum"],
        )
        stock = {order_id: (issued, used) for order_id, issued, used in rows}
        ledger = defaultdict(lambda: [0.0, 0.0])
        for order, key, points in History._read_group(
            [
                ("sale_order_id", "in", confirmed.ids),
                ("move_type", "!=", False),
                ("source_type", "!=", "credit_note"),
            ],
            ["sale_order_id", "source_key"],
            ["points:sum"],
        ):
            if key and ":earn" in key:
                ledger[order.id][0] += points
            elif key and ":redeem" in key:
                ledger[order.id][1] -= points
        for order in confirmed:
            issued, cost = stock.get(order.id, (0.0, 0.0))
            if order.id in ledger:
                issued, cost = issued + ledger[order.id][0], cost + ledger[order.id][1]
            elif order.id not in stock:
                order.loyalty_data = {}
                continue
            coupons = order.coupon_point_ids.coupon_id
            order.loyalty_data = {
                "point_name": (len(coupons) == 1 and coupons.point_name) or self.env._("Points"),
                "issued": issued,
                "cost": cost,
            }

    def _crm_loyalty_earning_lines(self, program):
        """The order lines that earned ``program``'s points: lines of products one of its rules
        counts, reward and combo item lines left out (as stock's point computation does)."""
        self.ensure_one()
        lines = self.order_line.filtered(lambda line: not line.is_reward_line and not line.combo_item_id)
        valid = self.env["product.product"].union(*program._get_valid_products(lines.product_id).values())
        return lines.filtered(lambda line: line.product_id in valid)

    def _crm_loyalty_source_keys(self):
        self.ensure_one()
        return f"sale.order:{self.id}:earn", f"sale.order:{self.id}:redeem"

    def _crm_loyalty_ledger_cards(self, posted=None):
        """Ledger cards the order earns on, redeem from, or already posted lines on.

        :param posted: the order's own ledger lines, when the caller already read them
        """
        self.ensure_one()
        cards = (self.coupon_point_ids.coupon_id | self.order_line.coupon_id).filtered(
            "program_id.ledger_enabled"
        )
        if posted is None:
            posted = self._crm_loyalty_posted_lines()
        return cards | posted.card_id

    def _crm_loyalty_posted_lines(self):
        """The order's own ledger lines (earn, redeem and their reversals), in one query."""
        # sudo: the order's own posted lines, whatever the user may read of the cards
        return (
            self.env["loyalty.history"]
            .sudo()
            .search_fetch(
                [("source_key", "in", list(self._crm_loyalty_source_keys()))],
                HELD_FIELDS,
                order="id",
            )
        )

    def _crm_loyalty_sync_ledger(self):
        """Post on ledger cards what the orders' state implies: earn and redeem when confirmed,
        reverse both otherwise. Idempotent: calling it again posts nothing.

        Per order, its posted lines are read once and its cards locked once
        (``loyalty.card._ledger_hold``), whatever the number of its lines and cards."""
        for order in self:
            earn_key, redeem_key = order._crm_loyalty_source_keys()
            posted = order._crm_loyalty_posted_lines()
            cards = order._crm_loyalty_ledger_cards(posted).sorted("id")
            if not cards:
                continue
            confirmed = order.state == "sale"
            earned = defaultdict(float)
            for coupon_point in order.coupon_point_ids:
                earned[coupon_point.coupon_id] += coupon_point.points
            cost = defaultdict(float)
            for line in order.order_line.filtered(lambda line: line.reward_id and line.coupon_id):
                cost[line.coupon_id] += line.points_cost
            vals = {
                "sale_order_id": order.id,
                "source_type": "sale_order",
                "description": order.display_name,
            }
            with cards._ledger_hold((earn_key, redeem_key), lines=posted):
                for card in cards:
                    if confirmed:
                        if card.program_id.earn_trigger == "order":
                            card._ledger_earn(earn_key, earned[card], **vals)
                        card._ledger_sync(redeem_key, -cost[card], "redeem", **vals)
                    else:
                        # give back the redeemed points before taking back the earned ones
                        card._ledger_sync(redeem_key, 0.0, "redeem", **vals)
                        card._ledger_sync(earn_key, 0.0, "earn", **vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_loyalty_ledger(self):
        # sudo: the ledger lines may be on cards the user does not read; only their existence matters
        lines = self.env["loyalty.history"].sudo().search([("sale_order_id", "in", self.ids)], limit=1)
        if lines:
            raise UserError(
                self.env._(
                    "Order %s is the source of loyalty ledger lines: it cannot be deleted; keep it cancelled.",
                    lines.sale_order_id.display_name,
                )
            )

    def action_confirm(self):
        to_post = self.filtered(lambda order: order.state != "sale")
        with ledger_scope(STOCK_SKIP):
            res = super().action_confirm()
        to_post.filtered(lambda order: order.state == "sale")._crm_loyalty_sync_ledger()
        self._crm_tier_requalify(raised=True)
        return res

    def _action_cancel(self):
        confirmed = self.filtered(lambda order: order.state == "sale")
        with ledger_scope(STOCK_SKIP):
            res = super()._action_cancel()
        confirmed._crm_loyalty_sync_ledger()
        confirmed._crm_tier_requalify()
        return res

    def _add_points_for_coupon(self, coupon_points):
        if self.state != "sale" or not any(coupon.program_id.ledger_enabled for coupon in coupon_points):
            return super()._add_points_for_coupon(coupon_points)
        with ledger_scope(STOCK_SKIP):
            res = super()._add_points_for_coupon(coupon_points)
        self._crm_loyalty_sync_ledger()
        return res

    def _get_real_points_for_coupon(self, coupon, post_confirm=False):
        points = super()._get_real_points_for_coupon(coupon, post_confirm=post_confirm)
        program = coupon.program_id
        if (
            program.ledger_enabled
            and program.earn_trigger == "invoice"
            and program.applies_on != "future"
            and self.state not in ("sale", "done")
        ):
            # points of this order are earned when it is invoiced: they cannot pay its own rewards
            points -= sum(self.coupon_point_ids.filtered(lambda p: p.coupon_id == coupon).mapped("points"))
            points = coupon.currency_id.round(points)
        if (
            points < 0
            and program.ledger_enabled
            and not self.order_line.filtered(lambda line: line.coupon_id == coupon)
        ):
            # A card in debt (a reversal after its points were spent) is paid back by the next
            # points: an order that claims none of them must not be refused for the debt, or the
            # debt could never be repaid. Nothing becomes claimable: 0 points pay no reward.
            points = 0.0
        return points

    def _update_loyalty_history(self, coupon_id, points):
        if coupon_id.program_id.ledger_enabled:
            # the reward line's redemption is posted by _crm_loyalty_sync_ledger
            return None
        return super()._update_loyalty_history(coupon_id, points)

    def _crm_tier_requalify(self, raised=False):
        """Real-time re-qualification of the tiers earned on ordered spend (``raised``: the orders
        were confirmed, so only upgrades are looked for)."""
        partners = self.partner_id.commercial_partner_id
        if partners:
            # sudo: re-qualification follows the order, whoever confirmed it; it hands nothing back to the user
            self.env["loyalty.card"].sudo()._crm_tier_evaluate_partners(
                set(partners.ids), "orders", raised=raised
            )

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
