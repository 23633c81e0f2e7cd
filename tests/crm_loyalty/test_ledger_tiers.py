"""Tiers on the points ledger: earning multiplier, qualification on points, expiring points."""

from datetime import timedelta

from odoo import Command, fields

from .tiers_common import LoyaltyCase


class TestLedgerTiers(LoyaltyCase):
    ledger = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write(
            {
                "crm_tier_basis": "points",
                "trigger": "auto",
                "applies_on": "both",
                # 1 point per currency unit spent
                "rule_ids": [Command.create({"reward_point_mode": "money", "reward_point_amount": 1})],
            }
        )
        cls.ann = cls._partner("Ann")
        cls.card = cls._card(cls.ann)

    def test_tier_multiplier_on_earning(self):
        self._force_tier(self.card, crm_tier_id=self.gold.id)
        self.assertEqual(self.card._get_earn_multiplier(), 2.0)
        line = self.card._ledger_earn("test:gold", 100.0, description="Order")
        self.assertEqual((line.points, line.base_points, line.earn_multiplier), (200.0, 100.0, 2.0))
        self.assertEqual(self.card.points, 200.0)

    def test_tier_multiplier_on_a_confirmed_order(self):
        self.program.crm_tier_downgrade_policy = "never"
        self._force_tier(self.card, crm_tier_id=self.gold.id)
        order = self.env["sale.order"].create(
            {
                "partner_id": self.ann.id,
                "order_line": [(0, 0, {"product_id": self.product_b.id, "product_uom_qty": 2})],
            }
        )
        order._update_programs_and_rewards()
        order.action_confirm()
        # 100 untaxed at 1 point per unit spent, doubled by Gold.
        earn = self.card.ledger_line_ids.filtered(lambda line: line.move_type == "earn")
        self.assertEqual((earn.base_points, earn.earn_multiplier, earn.points), (100.0, 2.0, 200.0))
        self.assertEqual(self.card.points, 200.0)

    def test_realtime_qualification_on_points(self):
        self.card._ledger_earn("test:1", 1200.0, description="Order 1")
        # The earning itself re-qualifies the card: 1200 base points reach Silver.
        self.assertEqual(self.card.crm_tier_id, self.silver)
        self.card._ledger_earn("test:2", 100.0, description="Order 2")
        self.assertEqual(self.card.points, 1200.0 + 150.0, "Silver earns 1.5 times")
        # Qualification counts base points, not the tier bonus.
        self.card.invalidate_recordset(["crm_qualifying_amount"])
        self.assertEqual(self.card.crm_qualifying_amount, 1300.0)
        # Reversing the first earning drops the qualifying points to 100: one level down.
        self.card._ledger_sync("test:1", 0.0, "earn", description="Order 1 cancelled")
        self.assertEqual(self.card.crm_tier_id, self.bronze)
        changes = self.env["loyalty.tier.history"].search([("card_id", "=", self.card.id)], order="id")
        self.assertEqual(changes.mapped("change"), ["upgrade", "downgrade"])
        self.assertEqual(changes.mapped("qualifying_amount"), [1200.0, 100.0])

    def test_partner_expiring_points(self):
        today = fields.Date.context_today(self.card)
        self.card._ledger_post("earn", 80.0, description="Soon", expiry_date=today + timedelta(days=10))
        self.card._ledger_post("earn", 40.0, description="Later", expiry_date=today + timedelta(days=90))
        self.ann.invalidate_recordset()
        self.assertEqual(self.ann.crm_loyalty_card_id, self.card)
        self.assertEqual(self.ann.crm_loyalty_points, 120.0)
        self.assertEqual(self.ann.crm_loyalty_expiring_points, 80.0)

    def test_a_reversal_of_a_reversal_qualifies_again(self):
        # issue 14 item 6 (main: qualifying points dropped it): a credit note takes 400 of the
        # 1200 earned back, then is reset to draft (its take-back reversed): 1200 qualify again
        earn = self.card._ledger_earn("test:1", 1200.0, description="Order 1")
        self.assertEqual(self.card.crm_tier_id, self.silver)
        take_back = self.card._ledger_post("reverse", -400.0, reversed_line_id=earn.id, description="Refund")
        self.assertEqual(self.card.crm_tier_id, self.bronze)
        self.card._ledger_post("reverse", 400.0, reversed_line_id=take_back.id, description="Refund reset")
        today = fields.Date.context_today(self.card)
        self.assertEqual(self.program._crm_tier_qualifying_amounts(self.card, today), {self.card.id: 1200.0})
        self.assertEqual(self.card.crm_tier_id, self.silver)
        # the analytics count it as issued too
        report = self.env["crm.loyalty.points.report"].search([("card_id", "=", self.card.id)])
        self.assertEqual(sum(report.mapped("points_issued")), 1200.0)
