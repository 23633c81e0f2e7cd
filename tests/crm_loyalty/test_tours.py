"""crm_loyalty's main flow walked in a real browser (tour in ``crm_loyalty/static/tests/tours``).

The test builds its own program, customer and card (the ledger tests' fixture) and quotation, so
the tour runs without demo data. The tour drives the screens; the test then checks the ledger on
the server.
"""

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import LedgerFixture


@tagged("standard", "post_install", "-at_install")
class TestCrmLoyaltyTours(LedgerFixture, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env,
            login="tour_loyalty_sales",
            name="Lou Loyal",
            email="lou.loyal@example.com",
            groups="sales_team.group_sale_manager,account.group_account_invoice",
        )
        # the ledger fixture's program, earning on invoices (1 point per currency unit invoiced)
        # with points valid for a year, and a reward out of the tour's reach
        cls.program.write({"earn_trigger": "invoice", "points_validity": 1, "points_validity_unit": "year"})
        cls.program.reward_ids.required_points = 5000
        cls.partner.name = "Tour Member"  # the tour opens the customer by name

    def test_order_invoice_ledger(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "user_id": self.user.id,
                "order_line": [
                    Command.create({"product_id": self.product.id, "product_uom_qty": 4, "tax_id": False})
                ],
            }
        )
        order._update_programs_and_rewards()
        self.start_tour(
            f"/odoo/sale.order/{order.id}", "crm_loyalty_order_invoice_ledger", login=self.user.login
        )

        self.assertEqual(order.state, "sale")
        invoice = order.invoice_ids
        self.assertEqual(invoice.mapped("state"), ["posted"], "one invoice, posted")
        ledger = self.env["loyalty.history"].search(
            [("card_id", "=", self.card.id), ("move_type", "!=", False)]
        )
        self.assertRecordValues(
            ledger,
            [
                {
                    "move_type": "earn",
                    "points": 400.0,
                    "remaining_points": 400.0,
                    "invoice_id": invoice.id,
                    "source_type": "invoice",
                }
            ],
        )
        self.assertEqual(self.card.points, 400.0, "the card is the sum of its ledger")
        self.assertGreater(ledger.expiry_date, fields.Date.today(), "the lot expires in the future")
