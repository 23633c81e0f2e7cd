"""Tiers on the points ledger: earning multiplier, qualification on points, expiring points."""

from datetime import timedelta

from odoo import fields

from .tiers_common import LoyaltyCase


class TestLedgerTiers(LoyaltyCase):
    ledger = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.crm_tier_basis = "points"
        cls.ann = cls._partner("Ann")
        cls.card = cls._card(cls.ann)

    def test_tier_multiplier_on_earning(self):
        self.card.crm_tier_id = self.gold
        self.assertEqual(self.card._get_earn_multiplier(), 2.0)
        line = self.card._ledger_earn("test:gold", 100.0, description="Order")
        self.assertEqual((line.points, line.base_points, line.earn_multiplier), (200.0, 100.0, 2.0))
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
