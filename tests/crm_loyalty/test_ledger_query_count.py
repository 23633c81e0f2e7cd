"""Measure f in queries: what the ledger adds to stock sale_loyalty's order confirmation, invoice
posting and credit note, for the same documents, and that it does not grow with their lines."""

from unittest.mock import patch

from odoo import Command
from odoo.sql_db import Cursor
from odoo.tools import SQL

from .common import LedgerCase

# queries the ledger may add to stock's for one document, whatever its number of lines
# (main: 8 on confirmation, 9 on an invoice earning the points, 15 on a credit note, and 7 card
# locks for one confirmation)
EXTRA_CONFIRM = 1
EXTRA_INVOICE = 4
EXTRA_CREDIT_NOTE = 6


class TestLedgerQueryCount(LedgerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.products = cls.product | cls.env["product.product"].create(
            [
                {
                    "name": f"Ledger Product {n}",
                    "type": "service",
                    "list_price": 10.0 * n,
                    "invoice_policy": "order",
                    "taxes_id": [Command.clear()],
                }
                for n in range(1, 5)
            ]
        )
        # the same program in stock sale_loyalty, each with its own customer; one automatic
        # program applies at a time (as in the bench)
        cls.stock = cls.program.copy({"name": "Stock Loyalty", "ledger_enabled": False})
        cls.customers = {
            cls.program: cls.partner,
            cls.stock: cls.env["res.partner"].create({"name": "Stock Customer", "email": "s@example.com"}),
        }

    def _use(self, program):
        (self.program | self.stock).write({"active": False})
        program.active = True
        self.env.flush_all()

    def _new_order(self, program, lines):
        self._use(program)
        return self.env["sale.order"].create(
            {
                "partner_id": self.customers[program].id,
                "order_line": [
                    Command.create({"product_id": product.id, "product_uom_qty": 1 + n, "tax_id": False})
                    for n, product in enumerate(self.products[:lines])
                ],
            }
        )

    def _flow(self, program, lines):
        """Queries of (confirmation, invoice posting, credit note posting) of a new order."""
        order = self._new_order(program, lines)
        confirm = self._queries(order.action_confirm)
        invoice = order._create_invoices()
        post = self._queries(invoice.action_post)
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "returned"})
        )
        refund = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        credit_note = self._queries(refund.action_post)
        return {"confirm": confirm, "invoice": post, "credit note": credit_note}

    def _extra(self, lines):
        """Queries the ledger program adds to the stock one, per flow, for orders of ``lines``."""
        for program in (self.program, self.stock):
            self._flow(program, lines)  # warm the caches
        ledger, stock = self._flow(self.program, lines), self._flow(self.stock, lines)
        return {flow: ledger[flow] - stock[flow] for flow in ledger}, ledger

    def test_order_earning_adds_one_query_to_confirmation(self):
        for lines in (1, 5):
            with self.subTest(lines=lines):
                extra, ledger = self._extra(lines)
                self.assertLessEqual(extra["confirm"], EXTRA_CONFIRM, (extra, ledger))
                # the invoice of an order that earned at confirmation posts nothing
                self.assertLessEqual(extra["invoice"], 0, (extra, ledger))
                self.assertLessEqual(extra["credit note"], EXTRA_CREDIT_NOTE, (extra, ledger))
        self.assertBalanced()

    def test_invoice_earning_adds_four_queries_to_posting(self):
        self.program.earn_trigger = "invoice"
        for lines in (1, 5):
            with self.subTest(lines=lines):
                extra, ledger = self._extra(lines)
                self.assertLessEqual(extra["confirm"], 0, (extra, ledger))
                self.assertLessEqual(extra["invoice"], EXTRA_INVOICE, (extra, ledger))
                self.assertLessEqual(extra["credit note"], EXTRA_CREDIT_NOTE, (extra, ledger))
        self.assertBalanced()

    def test_one_lock_per_document_in_id_order(self):
        """Issue 14 item 5: the cards of a document are locked once, FOR NO KEY UPDATE (no
        conflict with foreign-key checks), with a lock timeout, in id order."""
        self.stock.active = False
        second = self.program.copy({"name": "Second Ledger Loyalty"})
        cards = (
            self.env["loyalty.card"].create({"program_id": second.id, "partner_id": self.partner.id})
            | self.card
        )
        order = self._order(qty=2)
        self.assertEqual(order.coupon_point_ids.coupon_id, cards)
        statements = []
        execute = Cursor.execute

        def spy(cr, query, params=None, log_exceptions=None):
            code = query.code if isinstance(query, SQL) else str(query)
            if "FOR" in code and "loyalty_card" in code:
                statements.append((code, query.params if isinstance(query, SQL) else params))
            return execute(cr, query, params, log_exceptions)

        with patch("odoo.sql_db.Cursor.execute", spy):
            order.action_confirm()
            self.env.flush_all()
        self.assertEqual(len(statements), 1, "one lock for the order's cards, not one per posting")
        code, params = statements[0]
        self.assertIn("FOR NO KEY UPDATE", code)
        self.assertNotIn("FOR UPDATE", code)
        self.assertIn("lock_timeout", code)
        self.assertIn("ORDER BY id", code)
        self.assertIn(tuple(sorted(cards.ids)), params)
        self.assertEqual(len(self._ledger()), 1)
        self.assertEqual(len(self._ledger(cards - self.card)), 1)

    def test_indexes_of_the_reward_lines_and_the_real_time_tier_check(self):
        """Issue 14 item 5: the coupon usage joins order lines on their coupon (the rewards' cost to
        serve on their reward), the real-time tier check sums a customer's posted invoices over the
        window, and finds the cards of commercial partners."""
        rows = dict(
            self.env.execute_query(
                SQL(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN %s",
                    (
                        "sale_order_line_crm_loyalty_coupon_id_idx",
                        "sale_order_line_crm_loyalty_reward_id_idx",
                        "account_move_crm_loyalty_spend_idx",
                        "res_partner__commercial_partner_id_index",
                        "loyalty_card__partner_id_index",
                    ),
                )
            )
        )
        self.assertIn(
            "(coupon_id) WHERE (coupon_id IS NOT NULL)", rows["sale_order_line_crm_loyalty_coupon_id_idx"]
        )
        # the rewards' cost to serve (crm_ror's profiles) reads the reward lines of the orders
        self.assertIn(
            "(reward_id) WHERE (reward_id IS NOT NULL)", rows["sale_order_line_crm_loyalty_reward_id_idx"]
        )
        spend = rows["account_move_crm_loyalty_spend_idx"]
        self.assertIn("(commercial_partner_id, invoice_date)", spend)
        self.assertIn("'posted'", spend)
        self.assertIn("res_partner__commercial_partner_id_index", rows)
        self.assertIn("loyalty_card__partner_id_index", rows)
