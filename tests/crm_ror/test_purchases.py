"""What counts as a purchase: credit notes matched to the invoice they reverse, down payments.

One table of hand-computed cases: each case builds the documents of its own customer in company A,
all are computed together, then each profile is compared with the expected figures.
"""

from odoo import Command

from .value_common import CrmRorValueCase


class TestPurchases(CrmRorValueCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product.invoice_policy = "order"
        cls.cases = {}
        for name in dir(cls):
            if name.startswith("_case_"):
                partner = cls.env["res.partner"].create({"name": f"ROR {name[6:]}", "is_company": True})
                expected = getattr(cls, name)(partner)
                cls.cases[name[6:]] = (partner, expected)
        cls.env["crm.ror.customer.profile"]._compute_profiles(cls.company_a)

    # ------------------------------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------------------------------

    @classmethod
    def _refund_of(cls, invoice, days_ago, price=None, quantity=None):
        """A credit note of ``invoice`` made with Odoo's reversal (``reversed_entry_id`` set)."""
        day = cls._days_ago(days_ago)
        refund = invoice._reverse_moves([{"invoice_date": day, "date": day}], cancel=False)
        if price is not None:
            refund.invoice_line_ids.price_unit = price
        if quantity is not None:
            refund.invoice_line_ids.quantity = quantity
        refund.action_post()
        return refund

    @classmethod
    def _reconcile(cls, *moves):
        lines = cls.env["account.move.line"].union(*(move.line_ids for move in moves))
        lines.filtered(lambda line: line.account_id.account_type == "asset_receivable").reconcile()

    @classmethod
    def _pay(cls, invoice):
        cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"payment_date": invoice.invoice_date})._create_payments()

    # ------------------------------------------------------------------------------------------
    # cases: each returns (purchases, revenue, revenue_12m, last purchase days ago or None)
    # ------------------------------------------------------------------------------------------

    @classmethod
    def _case_full_reversal_after_payment(cls, partner):
        invoice = cls._invoice(cls.company_a, partner, 60, [(1, 100.0, 0.0)])
        cls._pay(invoice)
        cls._refund_of(invoice, 30)
        assert invoice.payment_state in ("paid", "in_payment"), invoice.payment_state
        return 0, 0.0, 0.0, None

    @classmethod
    def _case_full_reversal_with_cancel(cls, partner):
        invoice = cls._invoice(cls.company_a, partner, 60, [(1, 100.0, 0.0)])
        day = cls._days_ago(50)
        invoice._reverse_moves([{"invoice_date": day, "date": day}], cancel=True)
        return 0, 0.0, 0.0, None

    @classmethod
    def _case_partial_credit_note(cls, partner):
        invoice = cls._invoice(cls.company_a, partner, 40, [(2, 100.0, 0.0)])
        cls._refund_of(invoice, 20, price=50.0, quantity=1)  # one widget back
        return 1, 150.0, 150.0, 40

    @classmethod
    def _case_new_invoice_paid_by_old_credit_note(cls, partner):
        old_credit = cls._invoice(cls.company_a, partner, 100, [(1, 80.0, 0.0)], move_type="out_refund")
        invoice = cls._invoice(cls.company_a, partner, 50, [(1, 80.0, 0.0)])
        cls._reconcile(old_credit, invoice)
        assert invoice.payment_state == "reversed", invoice.payment_state
        return 1, 0.0, 0.0, 50

    @classmethod
    def _case_credit_note_reconciled_without_reversal_link(cls, partner):
        invoice = cls._invoice(cls.company_a, partner, 70, [(1, 120.0, 0.0)])
        credit = cls._invoice(cls.company_a, partner, 30, [(1, 120.0, 0.0)], move_type="out_refund")
        cls._reconcile(invoice, credit)
        return 0, 0.0, 0.0, None

    @classmethod
    def _case_credit_note_of_an_old_invoice(cls, partner):
        # Invoiced 13 months ago, partly credited last week: the credit note belongs to the old
        # invoice's period, so the last 12 months show no (negative) revenue.
        old = cls._invoice(cls.company_a, partner, 400, [(1, 300.0, 0.0)])
        cls._invoice(cls.company_a, partner, 100, [(1, 50.0, 0.0)])
        cls._refund_of(old, 7, price=100.0, quantity=1)
        return 2, 250.0, 50.0, 100

    @classmethod
    def _case_down_payment_and_final_invoice(cls, partner):
        order = (
            cls.env["sale.order"]
            .with_company(cls.company_a)
            .create(
                {
                    "partner_id": partner.id,
                    "company_id": cls.company_a.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": cls.product.id,
                                "product_uom_qty": 4,
                                "price_unit": 100.0,
                                "tax_id": False,
                            }
                        )
                    ],
                }
            )
        )
        order.action_confirm()
        Wizard = cls.env["sale.advance.payment.inv"].with_company(cls.company_a)
        context = {"active_model": "sale.order", "active_ids": order.ids}
        Wizard.with_context(context).create(
            {"advance_payment_method": "percentage", "amount": 25}
        ).create_invoices()
        deposit = order.invoice_ids
        deposit.invoice_date = cls._days_ago(30)
        deposit.action_post()
        Wizard.with_context(context).create({"advance_payment_method": "delivered"}).create_invoices()
        final = order.invoice_ids - deposit
        final.invoice_date = cls._days_ago(10)
        final.action_post()
        assert final.amount_untaxed == 300.0, final.amount_untaxed
        return 1, 400.0, 400.0, 10

    @classmethod
    def _case_anglo_saxon_cost_lines(cls, partner):
        """Stock valuation books the cost of goods on the invoice (as stock_account does at posting):
        that cost (45) is the margin's, not today's product cost (30)."""
        invoice = cls._invoice(cls.company_a, partner, 15, [(1, 100.0, 0.0)], post=False)
        Account = cls.env["account.account"].with_company(cls.company_a)
        expense = Account.search([("account_type", "=", "expense_direct_cost")], limit=1) or Account.search(
            [("account_type", "=", "expense")], limit=1
        )
        interim = Account.search([("account_type", "=", "asset_current")], limit=1)
        cls.env["account.move.line"].create(
            [
                {
                    "move_id": invoice.id,
                    "display_type": "cogs",
                    "name": "COGS",
                    "product_id": cls.product.id,
                    "quantity": 1,
                    "account_id": account.id,
                    "balance": balance,
                    "price_unit": 45.0,
                }
                for account, balance in ((expense, 45.0), (interim, -45.0))
            ]
        )
        invoice.action_post()
        cls.anglo_saxon_invoice = invoice
        return 1, 100.0, 100.0, 15

    # ------------------------------------------------------------------------------------------

    def test_margin_uses_the_invoice_cost_lines(self):
        self.assertEqual(
            len(self.anglo_saxon_invoice.line_ids.filtered(lambda line: line.display_type == "cogs")), 2
        )
        partner, _expected = self.cases["anglo_saxon_cost_lines"]
        profile = self._profile(partner)
        self.assertAlmostEqual(profile.cost, 45.0)
        self.assertAlmostEqual(profile.gross_margin, 55.0)
        # Without cost lines, the product's cost: 30 a widget.
        other, _expected = self.cases["partial_credit_note"]
        self.assertAlmostEqual(self._profile(other).cost, 30.0)

    def test_purchase_cases(self):
        self.assertTrue(self.cases)
        mismatches = []
        for case, (partner, expected) in sorted(self.cases.items()):
            profile = self._profile(partner)
            purchases, revenue, revenue_12m, last_days = expected
            got = (
                profile.purchase_count,
                round(profile.revenue, 2),
                round(profile.revenue_12m, 2),
                (self.today - profile.last_purchase_date).days if profile.last_purchase_date else None,
            )
            if len(profile) != 1 or got != expected:
                mismatches.append(f"{case}: expected {expected}, got {got}")
            # No purchase, no score: a refunded customer is neither active nor segmented.
            if (profile.customer_state == "refund_only") != (purchases == 0) or (
                not purchases and (profile.segment_id or profile.frequency_score)
            ):
                mismatches.append(
                    f"{case}: state {profile.customer_state}, segment {profile.segment_id.name}"
                )
        self.assertFalse(mismatches, "\n".join(mismatches))

    def test_partial_credit_note_lowers_the_order_value(self):
        partner, _expected = self.cases["partial_credit_note"]
        profile = self._profile(partner)
        self.assertAlmostEqual(profile.average_order_value, 150.0)
        # 2 widgets sold at 30, one returned.
        self.assertAlmostEqual(profile.cost, 30.0)
