"""Reversals: never refused, never charging expired points twice, on the base that earned."""

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import freeze_time

from .common import LedgerCase


class TestReversalPolicy(LedgerCase):
    def test_cancel_after_the_points_are_spent_makes_a_debt_repaid_first(self):
        order = self._order()
        order.action_confirm()
        self.card._ledger_post("redeem", -80)
        order._action_cancel()  # refused on main: "cannot give 100 points"
        self.assertEqual(order.state, "cancel")
        self.assertEqual(self.card.points, -80.0)
        self.assertBalanced()
        self._order().action_confirm()
        self.assertEqual(self.card.points, 20.0)
        earn = self._ledger()[-1]
        self.assertEqual(earn.remaining_points, 20.0, "the new points paid the debt back first")
        self.assertBalanced()

    def test_a_customer_in_debt_can_still_confirm_an_order_that_earns_less(self):
        # found by the state machine: stock refuses to confirm an order whose coupon would stay
        # below zero, which a debt always is while the new order earns less than it
        order = self._order(qty=2)
        order.action_confirm()
        self.card._ledger_post("redeem", -120)
        order._action_cancel()
        self.assertEqual(self.card.points, -120.0)
        small = self._order(qty=1)
        small.action_confirm()
        self.assertEqual(small.state, "sale")
        self.assertEqual(self.card.points, -20.0, "the new points pay the debt back")
        self.assertBalanced()

    def test_invoice_reset_to_draft_after_the_points_are_spent(self):
        self.program.earn_trigger = "invoice"
        order = self._order()
        order.action_confirm()
        invoice = self._invoice(order)
        self.card._ledger_post("redeem", -100)
        invoice.button_draft()  # refused on main
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(self.card.points, -100.0)
        invoice.button_cancel()
        self.assertEqual(invoice.state, "cancel")
        self.assertEqual(self.card.points, -100.0)
        self.assertBalanced()

    def test_shortfall_policy_records_what_was_not_taken(self):
        self.program.crm_reversal_policy = "shortfall"
        order = self._order()
        order.action_confirm()
        self.card._ledger_post("redeem", -80)
        order._action_cancel()
        reverse = self._ledger()[-1]
        self.assertEqual((reverse.points, reverse.shortfall_points), (-20.0, -80.0))
        self.assertEqual(self.card.points, 0.0)
        # the shortfall is recorded once: a re-sync or later earnings do not collect it
        order._crm_loyalty_sync_ledger()
        self._order().action_confirm()
        self.assertEqual(self.card.points, 100.0)
        # re-confirming the cancelled order earns it again, in full
        order.action_draft()
        order.action_confirm()
        self.assertEqual(self.card.points, 200.0)
        self.assertBalanced()

    def test_expired_points_are_not_taken_twice(self):
        self.program.write({"points_validity": 1, "points_validity_unit": "month"})
        with freeze_time("2026-01-10"):
            first = self._order()
            first.action_confirm()  # earns 100
        with freeze_time("2026-03-01"):
            self.env["loyalty.history"]._cron_expire_points()
            self.assertEqual(self.card.points, 0.0)
            second = self._order(qty=1.5)
            second.action_confirm()  # earns 150
            first._action_cancel()  # main: takes 100 from the second order's lot: 50 left
        self.assertEqual(self.card.points, 150.0)
        reverse = self._ledger()[-1]
        self.assertEqual((reverse.points, reverse.expired_points), (0.0, -100.0))
        self.assertBalanced()
        # re-confirming it earns again
        with freeze_time("2026-03-02"):
            first.action_draft()
            first.action_confirm()
        self.assertEqual(self.card.points, 250.0)
        self.assertBalanced()

    def test_credit_note_after_expiry_takes_only_the_unexpired_part(self):
        self.program.write({"points_validity": 1, "points_validity_unit": "month"})
        with freeze_time("2026-01-10"):
            order = self._order()
            order.action_confirm()
            invoice = self._invoice(order)
            self.card._ledger_post("redeem", -30)
        with freeze_time("2026-03-01"):
            self.env["loyalty.history"]._cron_expire_points()  # the 70 left expire
            self._order(qty=2).action_confirm()  # earns 200
            self._refund(invoice)
        # the refund takes back the 30 spent, not the 70 already expired
        self.assertEqual(self.card.points, 170.0)
        self.assertBalanced()

    def test_credit_note_of_a_partly_invoiced_order(self):
        # order of 400 (400 points), half invoiced: 200 points; a full credit note of that invoice
        # takes the 200 back (main: 100); invoicing the rest earns 200: 200 points for 200 net
        self.program.earn_trigger = "invoice"
        order = self._order(qty=4)
        order.action_confirm()
        invoice = order._create_invoices()
        invoice.invoice_line_ids.quantity = 2
        invoice.action_post()
        self.assertEqual(self.card.points, 200.0)
        self._refund(invoice)
        self.assertEqual(self.card.points, 0.0)
        rest = order._create_invoices()
        rest.invoice_line_ids.quantity = 2
        rest.action_post()
        self.assertEqual(self.card.points, 200.0)
        self.assertBalanced()


class TestLedgerSwitch(LedgerCase):
    def test_switching_on_a_live_program(self):
        program = self.program.copy({"ledger_enabled": False, "name": "Live"})
        partners = self.env["res.partner"].create(
            [{"name": n} for n in ("Confirmed", "Archived", "Negative")]
        )
        confirmed_card, archived_card, negative_card = self.env["loyalty.card"].create(
            [{"program_id": program.id, "partner_id": partner.id} for partner in partners]
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": partners[0].id,
                "order_line": [
                    Command.create({"product_id": self.product.id, "product_uom_qty": 2, "tax_id": False})
                ],
            }
        )
        order._update_programs_and_rewards()
        order.action_confirm()
        self.assertEqual(confirmed_card.points, 200.0)
        archived_card.points = 30
        archived_card.active = False
        negative_card.points = -40  # stock lets a cancel take a card below zero
        program.ledger_enabled = True  # main: refused (negative card), archived card skipped
        for card, balance in ((confirmed_card, 200.0), (archived_card, 30.0), (negative_card, -40.0)):
            with self.subTest(card=card.partner_id.name):
                self.assertEqual(card.points, balance)
                self.assertBalanced(card)
        self.assertEqual(self._ledger(confirmed_card).sale_order_id, order)
        self.assertIn("negative balance", negative_card.message_ids[:1].body)
        # the order confirmed before the switch is reversed by its cancellation (main: points kept)
        order._action_cancel()
        self.assertEqual(confirmed_card.points, 0.0)
        self.assertBalanced(confirmed_card)

    def test_earn_trigger_is_locked_once_points_are_credited(self):
        self.program.earn_trigger = "invoice"  # nothing credited yet: allowed
        self.program.earn_trigger = "order"
        self._order().action_confirm()
        with self.assertRaises(ValidationError):
            self.program.earn_trigger = "invoice"
        self.assertEqual(self.card.points, 100.0)


class TestStockFlowsOnTheLedger(LedgerCase):
    def test_contact_merge_posts_through_the_ledger(self):
        # main: stock's merge writes the points of ledger cards -> UserError, merge impossible
        duplicate = self.env["res.partner"].create(
            {"name": "Ledger Customer (dup)", "email": "dup@example.com"}
        )
        dup_card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": duplicate.id}
        )
        self.card._ledger_post("adjust", 40, reason="x", expiry_date="2099-01-31")
        dup_card._ledger_post("adjust", 25, reason="x", expiry_date="2098-06-30")
        wizard = self.env["base.partner.merge.automatic.wizard"].create({})
        wizard._merge(duplicate.ids + self.partner.ids, self.partner)
        self.assertEqual(self.card.points, 65.0)
        self.assertEqual(dup_card.points, 0.0)
        self.assertFalse(dup_card.active)
        self.assertBalanced(self.card)
        self.assertBalanced(dup_card)
        moved = self._ledger(self.card).filtered(lambda line: "merge" in line.reason)
        self.assertEqual(moved.mapped("expiry_date"), [fields.Date.to_date("2098-06-30")])


class TestAnalytics(LedgerCase):
    def test_undone_take_back_counts_as_issued(self):
        order = self._order()
        order.action_confirm()
        refund = self._refund(self._invoice(order))
        refund.button_draft()  # the take-back is reversed: the 100 points are issued again
        self.assertEqual(self.card.points, 100.0)
        rows = self.env["crm.loyalty.points.report"].search([("card_id", "=", self.card.id)])
        self.assertEqual(sum(rows.mapped("points_issued")), 100.0, "main: 0 (reverse of reverse dropped)")

    def test_retention_leaves_out_the_period_in_progress(self):
        self.env.cr.execute("SELECT date_trunc('quarter', now() AT TIME ZONE 'UTC')::date")
        current = self.env.cr.fetchone()[0]
        previous = current - relativedelta(months=3)
        order = self._order()
        order.action_confirm()
        order.date_order = fields.Datetime.to_datetime(previous) + relativedelta(days=5)
        self.env.flush_all()
        periods = (
            self.env["crm.loyalty.retention.report"]
            .search([("card_id", "=", self.card.id), ("period_type", "=", "quarter")])
            .mapped("period_date")
        )
        self.assertNotIn(current, periods, "main: the quarter in progress reads as 0 % retention")
        older = self._order()
        older.action_confirm()
        older.date_order = fields.Datetime.to_datetime(previous - relativedelta(months=3)) + relativedelta(
            days=5
        )
        self.env.flush_all()
        rows = self.env["crm.loyalty.retention.report"].search(
            [("card_id", "=", self.card.id), ("period_type", "=", "quarter")]
        )
        self.assertEqual(rows.mapped("period_date"), [previous])
        self.assertEqual(rows.retention_rate, 100.0)

    def test_order_summary_after_cancel_and_reconfirm(self):
        self.card._ledger_post("adjust", 60, reason="opening")
        order = self._order()
        self._claim(order)
        order.action_confirm()
        order._action_cancel()
        order.action_draft()
        order._update_programs_and_rewards()
        self._claim(order)
        order.action_confirm()
        order.invalidate_recordset(["loyalty_data"])
        # main: issued 200, cost 100 (the reversals and the re-confirmation both counted)
        self.assertEqual((order.loyalty_data["issued"], order.loyalty_data["cost"]), (100.0, 50.0))
