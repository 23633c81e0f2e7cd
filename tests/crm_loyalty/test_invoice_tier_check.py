"""The real-time tier check of a document that only raises the member's spend: upgrades only."""

from odoo.tests import freeze_time

from .tiers_common import MemberCase


class TestInvoiceTierCheck(MemberCase):
    def _gold_due_for_a_downgrade(self):
        """Ann was Gold on earlier spend (no tier history); nothing this year qualifies her."""
        self._force_tier(self.card, crm_tier_id=self.gold.id, crm_tier_date="2023-03-01")
        self.env.flush_all()
        return len(self.card.crm_tier_history_ids), len(self._mails(self.card))

    def test_a_purchase_never_moves_a_member_down(self):
        # measure f: main downgraded (history, tier write, mail) on the member's next invoice,
        # so the ledger run of the bench paid for every member's pending downgrade
        changes, mails = self._gold_due_for_a_downgrade()
        with freeze_time("2024-03-15"):
            move = self._invoice(self.ann, 50.0, "2024-03-15")
            self.assertEqual(self.card.crm_tier_id, self.gold, "buying more never downgrades")
            self.assertEqual(len(self.card.crm_tier_history_ids), changes)
            self.assertEqual(len(self._mails(self.card)), mails, "no downgrade mail")
            # the check: one card search, one amount query
            self.assertLessEqual(self._queries(move._crm_tier_requalify), 2)
            # confirming an order on an ordered-spend program neither
            self.program.crm_tier_basis = "orders"
            self._order(self.ann, [(self.product_a, 1)], "2024-03-15")
            self.assertEqual(self.card.crm_tier_id, self.gold)
            self.program.crm_tier_basis = "spend"
            # the downgrade due is the daily run's: one level, once
            self.env["loyalty.card"]._cron_tier_requalify()
        self.assertEqual(self.card.crm_tier_id, self.silver)
        self.assertEqual(self.card.crm_tier_history_ids.sorted("id")[-1].change, "downgrade")

    def test_a_purchase_still_lifts_a_member_at_once(self):
        self._force_tier(self.card, crm_tier_id=self.bronze.id)
        with freeze_time("2024-03-15"):
            self._invoice(self.ann, 1100.0, "2024-03-15")
            self.assertEqual(self.card.crm_tier_id, self.silver, "1100 this year: Silver at once")
            self.assertEqual(self.card.crm_tier_history_ids.sorted("id")[-1].trigger, "realtime")

    def test_what_lowers_the_spend_still_moves_down_at_once(self):
        self._gold_due_for_a_downgrade()
        with freeze_time("2024-03-15"):
            invoice = self._invoice(self.ann, 50.0, "2024-03-15")
            self.assertEqual(self.card.crm_tier_id, self.gold)
            # a reset to draft lowers the spend: the full evaluation, one level down
            invoice.button_draft()
            self.assertEqual(self.card.crm_tier_id, self.silver)
