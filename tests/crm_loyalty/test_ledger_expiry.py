"""Point expiry with time frozen: lot expiry dates, the nightly cron, the 'expiring soon' mail."""

import datetime as dt

from odoo.tests import freeze_time

from .common import LedgerCase


class TestLedgerExpiry(LedgerCase):
    def test_lots_expire_by_the_cron_once(self):
        self.program.write(
            {"points_validity": 1, "points_validity_unit": "month", "points_expiry_rounding": "month"}
        )
        with freeze_time("2026-01-15 10:00:00"):
            self._order().action_confirm()
        with freeze_time("2026-02-10 10:00:00"):
            self._order(qty=2).action_confirm()
        first, second = self._ledger()
        self.assertEqual(first.expiry_date, dt.date(2026, 2, 28))
        self.assertEqual(second.expiry_date, dt.date(2026, 3, 31))
        with freeze_time("2026-02-20 10:00:00"):
            self.card._ledger_post("redeem", -30)  # taken from the lot expiring first
        self.assertEqual(first.remaining_points, 70)
        with freeze_time("2026-02-28 23:00:00"):
            self.env["loyalty.history"]._cron_expire_points()
        self.assertEqual(len(self._ledger()), 3, "points are usable on their expiry date")
        with freeze_time("2026-03-01 02:00:00"):
            self.env["loyalty.history"]._cron_expire_points()
            self.env["loyalty.history"]._cron_expire_points()
        expire = self._ledger()[-1]
        self.assertRecordValues(
            expire, [{"move_type": "expire", "points": -70, "source_type": "expiry", "balance_after": 200}]
        )
        self.assertEqual(expire.consumption_ids.lot_id, first)
        self.assertEqual(first.remaining_points, 0)
        self.assertEqual(len(self._ledger()), 4, "the cron expires a lot once")
        with freeze_time("2026-04-01 02:00:00"):
            self.env["loyalty.history"]._cron_expire_points()
        self.assertEqual(self.card.points, 0)
        self.assertBalanced()

    def test_expiring_soon_mail_is_sent_once_per_expiry(self):
        self.program.write({"points_validity": 30, "points_validity_unit": "day", "expiry_notice_days": 7})
        with freeze_time("2026-01-01 10:00:00"):
            self._order().action_confirm()
        lot = self._ledger()
        self.assertEqual(lot.expiry_date, dt.date(2026, 1, 31))
        mails = self.env["mail.mail"].search([("model", "=", "loyalty.card"), ("res_id", "=", self.card.id)])
        with freeze_time("2026-01-20 07:00:00"):
            self.env["loyalty.history"]._cron_notify_expiring_points()
        self.assertEqual(
            len(
                self.env["mail.mail"].search([("model", "=", "loyalty.card"), ("res_id", "=", self.card.id)])
                - mails
            ),
            0,
        )
        with freeze_time("2026-01-25 07:00:00"):
            self.env["loyalty.history"]._cron_notify_expiring_points()
            self.assertEqual(self.card.points_expiring_next, 100)
            self.assertEqual(self.card.next_expiry_date, dt.date(2026, 1, 31))
        with freeze_time("2026-01-26 07:00:00"):
            self.env["loyalty.history"]._cron_notify_expiring_points()
        new = (
            self.env["mail.mail"].search([("model", "=", "loyalty.card"), ("res_id", "=", self.card.id)])
            - mails
        )
        self.assertEqual(len(new), 1)
        self.assertIn("expire", new.subject)
        self.assertIn(self.partner, new.recipient_ids)
        self.assertEqual(self.card.expiry_notified_until, dt.date(2026, 1, 31))

    def test_expiring_soon_mail_at_most_weekly_and_with_consent(self):
        # main: one mail a day while a daily shopper's lots keep entering the window
        self.program.write({"points_validity": 30, "points_validity_unit": "day", "expiry_notice_days": 7})
        for day in ("2026-01-01", "2026-01-02", "2026-01-03"):
            with freeze_time(f"{day} 10:00:00"):
                self._order().action_confirm()
        mails = self.env["mail.mail"].search([("model", "=", "loyalty.card"), ("res_id", "=", self.card.id)])
        for day in ("2026-01-25", "2026-01-26", "2026-01-27"):
            with freeze_time(f"{day} 07:00:00"):
                self.env["loyalty.history"]._cron_notify_expiring_points()
        new = (
            self.env["mail.mail"].search([("model", "=", "loyalty.card"), ("res_id", "=", self.card.id)])
            - mails
        )
        self.assertEqual(len(new), 1, "one mail a week at most")
        # a blacklisted address gets none
        self.env["mail.blacklist"].sudo()._add(self.partner.email)
        self.env.invalidate_all()  # (a later transaction)
        with freeze_time("2026-02-05 07:00:00"):
            self._order().action_confirm()
        with freeze_time("2026-02-28 07:00:00"):
            self.env["loyalty.history"]._cron_notify_expiring_points()
        after = self.env["mail.mail"].search([("model", "=", "loyalty.card"), ("res_id", "=", self.card.id)])
        self.assertEqual(after, mails | new)


class TestLedgerExpiryAtScale(LedgerCase):
    def _lots(self, cards, per_card):
        with freeze_time("2026-01-10 10:00:00"):
            for card in cards:
                for n in range(per_card):
                    card._ledger_post("adjust", 10 + n, reason="opening", expiry_date=dt.date(2026, 1, 31))
                card._ledger_post("adjust", 5, reason="opening", expiry_date=dt.date(2026, 6, 30))

    def _expire(self):
        with freeze_time("2026-02-01 02:00:00"):
            return self._queries(self.env["loyalty.history"]._cron_expire_points)

    def test_the_cron_posts_set_wise(self):
        # the number of queries does not grow with the lots or the cards expired (main: ~10 per lot)
        partners = self.env["res.partner"].create([{"name": f"Member {n}"} for n in range(12)])
        cards = self.env["loyalty.card"].create(
            [{"program_id": self.program.id, "partner_id": partner.id} for partner in partners]
        )
        small, large = cards[:2], cards[2:]
        self._lots(small, 1)
        with self.env.cr.savepoint():
            few = self._expire()
        self.env.invalidate_all()
        self._lots(large, 4)
        many = self._expire()
        self.assertLess(many, few + 10, f"{few} queries for 2 lots, {many} for 42")
        for card in cards:
            lines = self._ledger(card)
            expired = lines.filtered(lambda line: line.move_type == "expire")
            lots = lines.filtered(lambda line: line.move_type == "adjust")
            self.assertEqual(card.points, 5.0, "only the lot still valid is left")
            self.assertEqual(expired.consumption_ids.lot_id, lots[:-1], "each lot expires from itself")
            self.assertEqual(lots.mapped("remaining_points"), [0.0] * (len(lots) - 1) + [5.0])
            # balances after each line run down the card's lots in expiry order
            running = 0.0
            for line in lines:
                running += line.points
                self.assertAlmostEqual(line.balance_after, running, places=2)
            self.assertBalanced(card)
        posted = self.env["loyalty.history"].search_count([("move_type", "=", "expire")])
        self._expire()
        self.assertEqual(
            self.env["loyalty.history"].search_count([("move_type", "=", "expire")]),
            posted,
            "a second run posts nothing",
        )

    def test_a_refilled_lot_expires_again_with_its_next_key(self):
        self.program.write({"points_validity": 10, "points_validity_unit": "day"})
        with freeze_time("2026-01-10 10:00:00"):
            order = self._order()
            order.action_confirm()
        lot = self._ledger()
        with freeze_time("2026-01-20 10:00:00"):
            redeem = self.card._ledger_post("redeem", -40)
        self._expire()
        expire = self._ledger()[-1]
        self.assertEqual(
            (expire.move_type, expire.points, expire.idempotency_key), ("expire", -60, f"expiry:{lot.id}#1")
        )
        # the redemption is reversed after the expiry: its 40 points go back to the expired lot
        with freeze_time("2026-02-01 01:00:00"):
            self.card._ledger_post("reverse", 40, reversed_line_id=redeem.id)
        self._expire()
        again = self._ledger()[-1]
        self.assertEqual((again.move_type, again.idempotency_key), ("expire", f"expiry:{lot.id}#2"))
        self.assertEqual(self.card.points, 0.0)
        self.assertBalanced()
