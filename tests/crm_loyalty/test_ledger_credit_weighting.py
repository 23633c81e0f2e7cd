"""Credit notes take back what the refunded invoice lines earned, line by line.

The program earns 1 point per currency unit on the "Earning" product only (a rule with a product
domain); the "Plain" product earns nothing. Every case below is computed by hand: the points an
invoice earns, or a credit note takes back, are the earned points x (refunded or invoiced amount of
the lines that earned) / (amount of the lines that earned them).
"""

from contextlib import contextmanager

from odoo import Command

from .common import LedgerCase

# (earn trigger, invoices as {product: qty}, credit notes as (invoice index, {product: qty}),
#  expected balance after each invoice, expected balance after each credit note)
# The order is 2 x Earning at 100 + 1 x Plain at 200: it earns 200 points, on 200 of its 400.
CASES = [
    # earning on confirmation: 200 points at once
    ("order", [{"earn": 2, "plain": 1}], [(0, {"plain": 1})], [200], [200]),  # main: 100
    ("order", [{"earn": 2, "plain": 1}], [(0, {"earn": 1})], [200], [100]),  # main: 150
    ("order", [{"earn": 2, "plain": 1}], [(0, {"earn": 2, "plain": 1})], [200], [0]),
    ("order", [{"earn": 2, "plain": 1}], [(0, {"earn": 1}), (0, {"earn": 1})], [200], [100, 0]),
    (
        "order",
        [{"earn": 1}, {"earn": 1, "plain": 1}],
        [(1, {"plain": 1}), (1, {"earn": 1})],
        [200, 200],
        [200, 100],
    ),
    # earning on invoices: each invoice earns on what it bills of the earning lines
    ("invoice", [{"plain": 1}, {"earn": 2}], [(1, {"earn": 2})], [0, 200], [0]),  # main: 100, 300
    ("invoice", [{"earn": 1, "plain": 1}], [(0, {"plain": 1})], [100], [100]),  # main: 150 then 50
    ("invoice", [{"earn": 1, "plain": 1}], [(0, {"earn": 1})], [100], [0]),
    ("invoice", [{"earn": 1, "plain": 1}, {"earn": 1}], [(0, {"earn": 1, "plain": 1})], [100, 200], [100]),
    (
        "invoice",
        [{"earn": 1}, {"earn": 1, "plain": 1}],
        [(1, {"plain": 1}), (0, {"earn": 1})],
        [100, 200],
        [200, 100],
    ),
]


class TestCreditNoteWeighting(LedgerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plain = cls.env["product.product"].create(
            {
                "name": "Plain Service",
                "type": "service",
                "list_price": 200.0,
                "invoice_policy": "order",
                "taxes_id": [Command.clear()],
            }
        )
        cls.products = {"earn": cls.product, "plain": cls.plain}
        cls.program.rule_ids.product_ids = cls.product

    @contextmanager
    def _rolled_back(self):
        """Each case starts from the fixture: its postings are rolled back after it."""
        savepoint = self.env.cr.savepoint()
        try:
            yield
        finally:
            savepoint.close(rollback=True)
            self.env.invalidate_all()

    def _mixed_order(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "order_line": [
                    Command.create({"product_id": product.id, "product_uom_qty": qty, "tax_id": False})
                    for product, qty in ((self.product, 2), (self.plain, 1))
                ],
            }
        )
        order._update_programs_and_rewards()
        order.action_confirm()
        return order

    def _keep_only(self, move, quantities):
        """Bill or refund only ``quantities`` ({product key: qty}) of the draft ``move``."""
        commands = []
        for line in move.invoice_line_ids:
            key = next(k for k, product in self.products.items() if product == line.product_id)
            if key in quantities:
                commands.append(Command.update(line.id, {"quantity": quantities[key]}))
            else:
                commands.append(Command.delete(line.id))
        move.write({"invoice_line_ids": commands})

    def _credit(self, invoice, quantities):
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "test"})
        )
        refund = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        self._keep_only(refund, quantities)
        refund.action_post()
        return refund

    def test_the_hand_computed_cases(self):
        for trigger, invoiced, credited, after_invoices, after_credits in CASES:
            with self.subTest(trigger=trigger, invoiced=invoiced, credited=credited):
                with self._rolled_back():
                    self.program.earn_trigger = trigger
                    order = self._mixed_order()
                    invoices = []
                    for quantities, expected in zip(invoiced, after_invoices, strict=True):
                        invoice = order._create_invoices()
                        self._keep_only(invoice, quantities)
                        invoice.action_post()
                        invoices.append(invoice)
                        self.assertAlmostEqual(
                            self.card.points, expected, places=2, msg=f"after {quantities}"
                        )
                    refunds = []
                    for (index, quantities), expected in zip(credited, after_credits, strict=True):
                        refunds.append(self._credit(invoices[index], quantities))
                        self.assertAlmostEqual(
                            self.card.points, expected, places=2, msg=f"after -{quantities}"
                        )
                    self.assertBalanced()
                    # resetting every credit note to draft gives all their points back
                    for refund in reversed(refunds):
                        refund.button_draft()
                    self.assertAlmostEqual(self.card.points, after_invoices[-1], places=2)
                    self.assertBalanced()

    def test_a_refund_never_takes_more_than_its_lines_earned(self):
        # property over every split of the order: the points left are the earning line's
        # unrefunded share, whatever the plain line does
        for earn_refunded in (0, 1, 2):
            for plain_refunded in (0, 1):
                if not (earn_refunded or plain_refunded):
                    continue
                with self.subTest(earn=earn_refunded, plain=plain_refunded):
                    with self._rolled_back():
                        order = self._mixed_order()
                        invoice = order._create_invoices()
                        invoice.action_post()
                        quantities = {"earn": earn_refunded, "plain": plain_refunded}
                        self._credit(invoice, {k: v for k, v in quantities.items() if v})
                        self.assertAlmostEqual(self.card.points, 100.0 * (2 - earn_refunded), places=2)
                        self.assertBalanced()
