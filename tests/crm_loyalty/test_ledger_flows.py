"""Ledger postings of the sale and invoice flows, immutability, adjustments, cost to serve."""

from odoo import fields
from odoo.exceptions import AccessError, UserError

from .common import LedgerCase


class TestLedgerFlows(LedgerCase):
    def test_confirm_posts_one_earn_line(self):
        order = self._order(qty=2)
        order.action_confirm()
        line = self._ledger()
        self.assertEqual(len(line), 1)
        self.assertRecordValues(
            line,
            [
                {
                    "move_type": "earn",
                    "points": 200.0,
                    "issued": 200.0,
                    "used": 0.0,
                    "balance_after": 200.0,
                    "sale_order_id": order.id,
                    "source_type": "sale_order",
                    "remaining_points": 200.0,
                    "earn_multiplier": 1.0,
                    "base_points": 200.0,
                    "idempotency_key": f"sale.order:{order.id}:earn#1",
                    "user_id": self.env.uid,
                }
            ],
        )
        self.assertEqual(self.card.points, 200.0)
        # stock sale_loyalty reads the order's history lines: still one, with the points
        self.assertEqual(order.loyalty_data["issued"], 200.0)
        # syncing again (re-confirmation path) posts nothing
        order._crm_loyalty_sync_ledger()
        self.assertEqual(len(self._ledger()), 1)
        self.assertBalanced()

    def test_cancel_reverses_exactly_once_and_reconfirm_earns_again(self):
        order = self._order()
        order.action_confirm()
        order._action_cancel()
        lines = self._ledger()
        self.assertEqual(lines.mapped("move_type"), ["earn", "reverse"])
        self.assertEqual(lines[1].reversed_line_id, lines[0])
        self.assertEqual(lines[1].points, -100.0)
        self.assertEqual(self.card.points, 0.0)
        order._crm_loyalty_sync_ledger()
        order._action_cancel()
        self.assertEqual(len(self._ledger()), 2, "a cancellation reverses once")
        order.action_draft()
        order.action_confirm()
        self.assertEqual(self._ledger().mapped("move_type"), ["earn", "reverse", "earn"])
        self.assertEqual(self._ledger()[-1].idempotency_key, f"sale.order:{order.id}:earn#3")
        self.assertEqual(self.card.points, 100.0)
        self.assertBalanced()

    def test_posted_lines_are_immutable(self):
        self._order().action_confirm()
        line = self._ledger()
        with self.assertRaises(UserError):
            line.write({"issued": 1000})
        with self.assertRaises(UserError):
            line.unlink()
        with self.assertRaises(UserError):
            self.card.points = 5000
        with self.assertRaises(UserError):
            self.env["loyalty.history"].create({"card_id": self.card.id, "description": "x", "issued": 5})
        redeem = self.card._ledger_post("redeem", -10)
        with self.assertRaises(UserError):
            redeem.consumption_ids.unlink()
        with self.assertRaises(UserError):
            redeem.consumption_ids.write({"points": 1})
        with self.assertRaises(UserError):
            self.card.unlink()

    def test_redeem_on_order_consumes_oldest_lots_and_cancel_gives_back(self):
        self.program.write({"points_validity": 12, "points_validity_unit": "month"})
        self.card._ledger_post("adjust", 30, reason="goodwill", expiry_date="2099-12-31")
        self.card._ledger_post("adjust", 40, reason="goodwill", expiry_date=fields.Date.today())
        order = self._order()
        self._claim(order)
        order.action_confirm()
        lines = self._ledger()
        self.assertEqual(lines.mapped("move_type"), ["adjust", "adjust", "earn", "redeem"])
        redeem = lines[-1]
        self.assertEqual(redeem.points, -50.0)
        # oldest expiring first: today's lot (40), then the new earn lot (12 months), not the 2099 one
        consumed = {c.lot_id: c.points for c in redeem.consumption_ids}
        self.assertEqual(consumed, {lines[1]: 40.0, lines[2]: 10.0})
        self.assertEqual(
            self.card.points, 30 + 40 + 100 - 50
        )  # the program's own discount does not lower its points
        self.assertEqual(order.loyalty_data["cost"], 50.0)
        self.assertBalanced()
        order._action_cancel()
        self.assertEqual(self._ledger().mapped("move_type")[-2:], ["reverse", "reverse"])
        self.assertEqual(self.card.points, 70.0)
        self.assertEqual(lines[1].remaining_points, 40.0, "cancelling the redemption refills the lot")
        self.assertBalanced()

    def test_reward_added_on_confirmed_order_is_redeemed_in_ledger(self):
        self.card._ledger_post("adjust", 60, reason="opening")
        order = self._order()
        order.action_confirm()
        self._claim(order)
        self.assertEqual(self._ledger().mapped("move_type"), ["adjust", "earn", "redeem"])
        self.assertEqual(self.card.points, 60 + 100 - 50)
        # sale_loyalty resets a confirmed reward line's cost when it drops the reward
        order.order_line.filtered("reward_id")._reset_loyalty()
        self.assertEqual(self._ledger().mapped("move_type")[-1], "reverse")
        self.assertEqual(self.card.points, 160)
        self.assertBalanced()

    def test_redemption_never_goes_below_zero(self):
        self.card._ledger_post("adjust", 10, reason="x")
        with self.assertRaises(UserError):
            self.card._ledger_post("redeem", -10.5)
        self.card._ledger_post("redeem", -10)
        self.assertEqual(self.card.points, 0)
        with self.assertRaises(UserError):
            self.card._ledger_post("adjust", -1, reason="x")
        with self.assertRaises(UserError):
            self.card._ledger_post("adjust", 5, reason=" ")
        self.assertBalanced()

    def test_idempotency_key_posts_once(self):
        first = self.card._ledger_post("earn", 10, idempotency_key="ext:1")
        again = self.card._ledger_post("earn", 10, idempotency_key="ext:1")
        self.assertEqual(first, again)
        self.assertEqual(self.card.points, 10)

    def test_invoice_trigger_earns_on_posting_and_credit_note_reverses_in_proportion(self):
        self.program.earn_trigger = "invoice"
        order = self._order(qty=4)
        order.action_confirm()
        self.assertFalse(self._ledger(), "no points at confirmation when earning on invoices")
        invoice = self._invoice(order)
        earn = self._ledger()
        self.assertRecordValues(
            earn, [{"move_type": "earn", "points": 400.0, "invoice_id": invoice.id, "source_type": "invoice"}]
        )
        # reset to draft and post again: reversed then earned again, never doubled
        invoice.button_draft()
        self.assertEqual(self.card.points, 0.0)
        invoice.action_post()
        invoice._crm_loyalty_sync_ledger()
        self.assertEqual(self.card.points, 400.0)
        self.assertEqual(self._ledger().mapped("move_type"), ["earn", "reverse", "earn"])
        refund = self._refund(invoice, ratio=0.25)
        last = self._ledger()[-1]
        self.assertRecordValues(
            last,
            [
                {
                    "move_type": "reverse",
                    "points": -100.0,
                    "invoice_id": refund.id,
                    "source_type": "credit_note",
                }
            ],
        )
        refund._crm_loyalty_sync_ledger()
        self.assertEqual(self.card.points, 300.0)
        refund.button_draft()
        self.assertEqual(self.card.points, 400.0)
        self.assertBalanced()

    def test_credit_note_reverses_order_trigger_points(self):
        order = self._order(qty=2)
        order.action_confirm()
        invoice = self._invoice(order)
        self.assertEqual(len(self._ledger()), 1, "order-trigger programs earn nothing more on the invoice")
        self._refund(invoice, ratio=0.5)
        self.assertEqual(self.card.points, 100.0)
        self.assertBalanced()

    def test_credit_note_takes_back_at_most_the_balance(self):
        # (corrected: capping was the only behaviour; it is now the 'shortfall' policy, recorded)
        self.program.crm_reversal_policy = "shortfall"
        order = self._order(qty=1)
        order.action_confirm()
        invoice = self._invoice(order)
        self.card._ledger_post("redeem", -80)
        refund = self._refund(invoice)
        self.assertEqual(self._ledger()[-1].points, -20.0)
        self.assertEqual(self._ledger()[-1].shortfall_points, -80.0)
        self.assertEqual(self.card.points, 0.0)
        # the shortfall is not collected from points earned later
        self.card._ledger_post("adjust", 50, reason="goodwill")
        refund._crm_loyalty_sync_ledger()
        self.assertEqual(self.card.points, 50.0)
        self.assertBalanced()

    def test_manual_adjustment_wizard_needs_reason_and_manager(self):
        wizard = self.env["crm.loyalty.adjust.wizard"].create(
            {"card_id": self.card.id, "points": 25, "reason": "Compensation for a late delivery"}
        )
        wizard.action_post()
        line = self._ledger()
        self.assertRecordValues(
            line, [{"move_type": "adjust", "points": 25, "reason": "Compensation for a late delivery"}]
        )
        salesman = self.env["res.users"].create(
            {
                "name": "Ledger Salesman",
                "login": "ledger_salesman",
                "groups_id": [(6, 0, [self.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        self.assertTrue(salesman.has_group("crm_loyalty.group_crm_loyalty_user"))
        self.assertFalse(salesman.has_group("crm_loyalty.group_crm_loyalty_manager"))
        with self.assertRaises(AccessError):
            self.env["crm.loyalty.adjust.wizard"].with_user(salesman).create(
                {"card_id": self.card.id, "points": 5, "reason": "x"}
            ).action_post()
        self.assertEqual(self.card.action_loyalty_update_balance()["res_model"], "crm.loyalty.adjust.wizard")

    def test_enabling_the_ledger_opens_existing_balances(self):
        program = self.program.copy({"ledger_enabled": False, "name": "Legacy"})
        card = self.env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": self.partner.id, "points": 42}
        )
        program.ledger_enabled = True
        self.assertRecordValues(
            self._ledger(card), [{"move_type": "adjust", "points": 42, "remaining_points": 42}]
        )
        self.assertBalanced(card)
        with self.assertRaises(Exception):  # noqa: B017 - ValidationError from the constraint
            program.ledger_enabled = False

    def test_stock_programs_keep_stock_history(self):
        program = self.program.copy({"ledger_enabled": False, "name": "Stock"})
        card = self.env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": self.partner.id, "points": 5}
        )
        card.points = 6  # plain stock behaviour stays allowed
        self.assertFalse(self._ledger(card))

    def test_cost_to_serve_is_the_value_of_rewards_redeemed(self):
        self.card._ledger_post("adjust", 60, reason="opening")
        order = self._order()
        self._claim(order)
        order.action_confirm()
        provider = self.env["crm.loyalty.cost.to.serve"]
        commercial = self.partner.commercial_partner_id.id
        self.assertEqual(
            provider._crm_ror_cost_to_serve(self.company, [commercial], None, None), {commercial: 10.0}
        )
        self.assertEqual(
            provider._crm_ror_cost_to_serve(self.company, [commercial], order.date_order.date(), None),
            {commercial: 10.0},
        )
        self.assertEqual(provider._crm_ror_cost_to_serve(self.company, [commercial], None, "2000-01-01"), {})

    def test_generated_cards_open_their_balance_on_the_ledger(self):
        self.env["loyalty.generate.wizard"].with_context(active_id=self.program.id).create(
            {"mode": "selected", "customer_ids": [(6, 0, self.partner.ids)], "points_granted": 15}
        ).generate_coupons()
        card = self.program.coupon_ids - self.card
        self.assertEqual(len(card), 1)
        self.assertEqual(
            card.history_ids.mapped("move_type"), ["adjust"], "no stock gift line besides the ledger"
        )
        self.assertEqual(card.points, 15)
        self.assertBalanced(card)

    def test_stock_update_balance_wizard_cannot_bypass_the_ledger(self):
        wizard = self.env["loyalty.card.update.balance"].create(
            {"card_id": self.card.id, "new_balance": 99, "description": "x"}
        )
        with self.assertRaises(UserError):
            wizard.action_update_card_point()
        self.assertEqual(self.card.points, 0)

    def test_invoice_reposted_while_its_credit_note_stays_posted(self):
        self.program.earn_trigger = "invoice"
        order = self._order(qty=4)
        order.action_confirm()
        invoice = self._invoice(order)
        self._refund(invoice, ratio=0.25)
        self.assertEqual(self.card.points, 300.0)
        invoice.button_draft()
        self.assertEqual(self.card.points, 0.0)
        invoice._crm_loyalty_sync_ledger()
        invoice.action_post()
        self.assertEqual(self.card.points, 300.0, "the credit note still takes back its 100 points")
        invoice._crm_loyalty_sync_ledger()
        self.assertEqual(self.card.points, 300.0)
        self.assertBalanced()
