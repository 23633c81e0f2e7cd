"""Fixtures of the crm_loyalty ledger tests: a ledger loyalty program, a customer, a card."""

from odoo import Command

from ..common import CrmTransactionCase


class LedgerFixture:
    """The ledger fixtures, for the transaction cases (``LedgerCase``) and the browser tours."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, loyalty_no_mail=True))
        cls.company = cls.env.company
        cls.partner = cls.env["res.partner"].create(
            {"name": "Ledger Customer", "email": "ledger@example.com"}
        )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Ledger Service",
                "type": "service",
                "list_price": 100.0,
                "invoice_policy": "order",
                "taxes_id": [Command.clear()],
            }
        )
        # 1 point per currency unit spent; a 10 currency-unit discount costs 50 points
        cls.program = cls.env["loyalty.program"].create(
            {
                "name": "Ledger Loyalty",
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
                "ledger_enabled": True,
                "rule_ids": [
                    Command.create(
                        {"reward_point_mode": "money", "reward_point_amount": 1, "minimum_amount": 0}
                    )
                ],
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount": 10,
                            "discount_mode": "per_order",
                            "discount_applicability": "order",
                            "required_points": 50,
                        }
                    )
                ],
            }
        )
        cls.card = cls.env["loyalty.card"].create(
            {"program_id": cls.program.id, "partner_id": cls.partner.id}
        )


class LedgerCase(LedgerFixture, CrmTransactionCase):
    def _order(self, qty=1.0, partner=None):
        order = self.env["sale.order"].create(
            {
                "partner_id": (partner or self.partner).id,
                "order_line": [
                    Command.create({"product_id": self.product.id, "product_uom_qty": qty, "tax_id": False})
                ],
            }
        )
        order._update_programs_and_rewards()
        return order

    def _claim(self, order):
        status = order._apply_program_reward(self.program.reward_ids, self.card)
        self.assertNotIn("error", status, status.get("error"))

    def _invoice(self, order):
        invoice = order._create_invoices()
        invoice.action_post()
        return invoice

    def _refund(self, invoice, ratio=1.0):
        """Post a credit note of ``ratio`` of the invoice (quantities scaled)."""
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "test"})
        )
        refund = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        if ratio != 1.0:
            for line in refund.invoice_line_ids:
                line.quantity = line.quantity * ratio
        refund.action_post()
        return refund

    def _ledger(self, card=None):
        return self.env["loyalty.history"].search(
            [("card_id", "=", (card or self.card).id), ("move_type", "!=", False)], order="id"
        )

    def assertBalanced(self, card=None):
        card = card or self.card
        card.invalidate_recordset()
        lines = self._ledger(card)
        total = round(sum(lines.mapped("points")), 2)
        self.assertAlmostEqual(
            card.points, total, places=2, msg="card points must equal the sum of its ledger"
        )
        if card.points < 0:
            # (corrected: a debt is now the policy when a reversal takes back spent points)
            self.assertEqual(card.program_id.crm_reversal_policy, "debt", "only reversals make a debt")
        self.assertAlmostEqual(round(sum(lines.mapped("remaining_points")), 2), max(total, 0.0), places=2)
        if lines:
            self.assertAlmostEqual(lines[-1].balance_after, card.points, places=2)
