"""Calibration report: win rate by the temperature leads had at 30 days (or at close if younger)."""

from datetime import datetime

from odoo.tests import freeze_time

from .leads_common import LeadsCase


class TestTemperatureCalibration(LeadsCase):
    def test_win_rate_by_temperature_at_thirty_days(self):
        with freeze_time("2026-01-01 10:00:00"):
            # at 30 days idle: p 90 + 3 stars -> 36 + 15 + 6.8 + 7.5 = 65 hot; p 40 -> 16 + 6.8 + 7.5 = 30 cold;
            # p 60 -> 24 + 6.8 + 7.5 = 38 warm
            hot = [self._lead(f"hot {i}", probability=90.0, priority="3") for i in range(4)]
            warm = [self._lead(f"warm {i}", probability=60.0) for i in range(3)]
            cold = [self._lead(f"cold {i}", probability=40.0) for i in range(2)]
            leads = self.env["crm.lead"].union(*hot, *warm, *cold)
            self._age(leads, datetime(2026, 1, 1, 10, 0))
            self._commit()
        with freeze_time("2026-01-31 11:00:00"):
            self._cron()
        self.assertEqual({lead.temperature_at_age for lead in hot}, {"hot"})
        self.assertEqual({lead.temperature_at_age for lead in warm}, {"warm"})
        self.assertEqual({lead.temperature_at_age for lead in cold}, {"cold"})
        # outcomes: hot 3 won 1 lost; warm 1 won 1 lost 1 open; cold 0 won 2 lost
        for lead in hot[:3] + warm[:1]:
            self._win(lead, datetime(2026, 1, 1, 10, 0), datetime(2026, 2, 15))
        for lead in hot[3:] + warm[1:2] + cold:
            self._lose(lead, datetime(2026, 1, 1, 10, 0), datetime(2026, 2, 20))
        # closed younger than 30 days: its temperature at close stands in (fresh 4 + 30 + 7.5: warm)
        with freeze_time("2025-12-20 10:00:00"):
            quick_new = self._lead("quick", probability=10.0)
            self._commit()
            self.assertEqual(quick_new.temperature, "warm")
            quick_new.write({"stage_id": self.stage_won.id})
            self._commit()
        self._set_closed(quick_new, datetime(2025, 12, 13), datetime(2025, 12, 20))
        self.env.flush_all()
        rows = {
            temperature: (count, won, rate)
            for temperature, count, won, rate in self.env[
                "crm.ror.temperature.calibration.report"
            ]._read_group(
                [("team_id", "=", self.team.id)],
                ["temperature"],
                ["nb_leads:sum", "nb_won:sum", "win_rate:avg"],
            )
        }
        self.assertEqual(rows["hot"][:2], (4, 3))
        self.assertAlmostEqual(rows["hot"][2], 75.0)
        self.assertEqual(rows["warm"][:2], (4, 2))  # 3 at 30 days + the quick win at close
        self.assertAlmostEqual(rows["warm"][2], 200 / 3)  # the open one is not in the rate
        self.assertEqual(rows["cold"][:2], (2, 0))
        self.assertAlmostEqual(rows["cold"][2], 0.0)
        self.assertNotIn(
            False, rows, "the lead still open and younger than 30 days at no cron run is left out"
        )

    def _cron(self):
        self.env["crm.lead"]._cron_update_temperature()

    def test_backfill_from_tracking_then_history(self):
        """Leads older than 30 days without a snapshot get the temperature they had at 30 days: from the
        chatter's tracking when there is one, else rebuilt from their stored history, never from
        today's values nor the outcome; leads closed younger keep to their temperature at close."""
        Lead = self.env["crm.lead"]
        with freeze_time("2025-11-01 10:00:00"):
            # hot when created (90 % and three stars): no message, the first level is not a change
            changed_before = self._lead("tracked: warm on day 24", probability=90.0, priority="3")
            changed_after = self._lead("tracked: cold on day 39 only", probability=90.0, priority="3")
            self._age(changed_before | changed_after, datetime(2025, 11, 1, 10, 0))
            self._commit()
            self.assertEqual(changed_after.temperature, "hot")
        with freeze_time("2025-11-25 10:00:00"):
            # idle 24: 4 + 15 + 30 x 2^(-24/14) (9.2) + 7.5 = 35.7: warm, logged hot -> warm
            changed_before.write({"probability": 10.0})
            self._commit()
            self.assertEqual(changed_before.temperature, "warm")
        with freeze_time("2025-12-10 10:00:00"):
            (changed_before | changed_after).write({"probability": 0.0, "priority": "0"})
            self._commit()
            self.assertEqual((changed_before | changed_after).mapped("temperature"), ["cold", "cold"])
        # loaded without any temperature (an import, or before the install)
        with freeze_time("2026-01-15 10:00:00"):
            won = self._lead("history: won", probability=10.0, priority="1")
            lost = self._lead("history: lost", probability=10.0, priority="1")
            quiet = self._lead("history: no engagement", probability=10.0, priority="1")
            young = self._lead("history: closed at 10 days", probability=10.0)
            loaded = won | lost | quiet | young
            self._win(won, datetime(2025, 10, 1, 10, 0), datetime(2025, 12, 15))
            self._lose(lost, datetime(2025, 10, 1, 10, 0), datetime(2025, 12, 15))
            self._set_closed(quiet, datetime(2025, 10, 1, 10, 0), None)
            self._win(young, datetime(2025, 10, 1, 10, 0), datetime(2025, 10, 11))
            self.env.flush_all()
            self.env.cr.execute(
                """UPDATE crm_lead SET temperature = NULL, temperature_at_age = NULL, temperature_at_close = NULL,
                          date_last_stage_update = create_date + INTERVAL '60 days',
                          automated_probability = CASE WHEN id = %s THEN 50 ELSE automated_probability END
                    WHERE id IN %s""",
                [won.id, tuple(loaded.ids)],
            )
            self.env.cr.execute(
                "DELETE FROM mail_message WHERE model = 'crm.lead' AND res_id IN %s", [tuple(loaded.ids)]
            )
            # a call done on day 20, and a customer email on day 45 (after the snapshot day)
            for lead in won | lost:
                lead.message_post(
                    body="Called",
                    message_type="notification",
                    mail_activity_type_id=self.env.ref("mail.mail_activity_data_call").id,
                )
                lead.message_post(
                    body="Yes!",
                    author_id=self.customer.id,
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                )
            self.env.flush_all()
            self.env.cr.execute(
                """UPDATE mail_message SET date = CASE WHEN body LIKE '%%Called%%' THEN '2025-10-21 10:00'
                                                       ELSE '2025-11-15 10:00' END::timestamp
                    WHERE model = 'crm.lead' AND res_id IN %s""",
                [tuple((won | lost).ids)],
            )
            self.env.cr.execute(
                "UPDATE crm_lead SET date_last_activity_done = NULL, date_last_customer_message = NULL WHERE id IN %s",
                [tuple(loaded.ids)],
            )
            Lead.invalidate_model()
            self.assertEqual(Lead._ror_backfill_temperature_at_age(), 5)
            # tracking: the level set before day 30, else the level the first later change left
            self.assertEqual(changed_before.temperature_at_age, "warm")
            self.assertEqual(changed_after.temperature_at_age, "hot")
            # rebuilt as of day 30: idle 10 (the call), priority 1 (5), no closing date (7.5); the won
            # lead's predictive 50 % kept by the import: 20 + 5 + 30 x 2^(-10/14) (18.3) + 7.5 = 50.8 warm
            # (its 100 % would say hot); the lost one's 0 % is the outcome: neutral 50, 50.8 warm too
            self.assertEqual(won.temperature_at_age, "warm")
            self.assertEqual(lost.temperature_at_age, "warm")
            # no engagement until day 30, open at 10 %: 4 + 5 + 6.9 + 7.5 = 23.4: cold
            self.assertEqual(quiet.temperature_at_age, "cold")
            self.assertFalse(young.temperature_at_age, "closed younger than 30 days: its close stands in")
            self.assertEqual(Lead._ror_backfill_temperature_at_age(), 0, "done once")
            rows = self.env["crm.ror.temperature.calibration.report"].search(
                [("lead_id", "in", (won | lost).ids)]
            )
            self.assertEqual(sorted(rows.mapped("state")), ["lost", "won"])
