"""Lead temperature on crm.lead: hand-computed cases with time frozen, events once per transaction,
tracking of level changes, override reason and expiry, temperature at close, SQL = engine."""

import random
from datetime import date, datetime, timedelta

from odoo.addons.crm_ror.engine import temperature as engine
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import freeze_time

from .leads_common import LeadsCase


class TestLeadTemperature(LeadsCase):
    def _cron(self):
        self.env["crm.lead"]._cron_update_temperature()

    def _trend(self, lead):
        values = self.env["mail.tracking.value"].search(
            [
                ("mail_message_id.model", "=", "crm.lead"),
                ("mail_message_id.res_id", "=", lead.id),
                ("field_id.name", "=", "temperature"),
            ],
            order="id",
        )
        return [(value.old_value_char, value.new_value_char) for value in values]

    def test_fresh_lead_of_average_probability_is_warm(self):
        with freeze_time("2026-01-01 10:00:00"):
            lead = self._lead("Average", probability=20.0)
            self._age(lead, datetime(2026, 1, 1, 10, 0))
            self._commit()
            # 20 x .4 + 0 + 30 (fresh) + 50 x .15 (no closing date: neutral) = 45.5, stored as 46
            self.assertEqual(lead.temperature_score, 46)
            self.assertEqual(lead.temperature, "warm")

    def test_decay_and_customer_message_with_tracking(self):
        with freeze_time("2026-01-01 10:00:00"):
            lead = self._lead("Good deal", probability=45.0, priority="2", date_deadline=date(2026, 1, 5))
            self._age(lead, datetime(2026, 1, 1, 9, 0))
            self._commit()
            # 45 x .4 + 2 stars 10 + fresh 30 + due in 4 days 15 = 73
            self.assertAlmostEqual(lead.temperature_score, 73.0)
            self.assertEqual((lead.temperature, lead.idle_days), ("hot", 0))
            self.assertTrue(lead.temperature_explanation.startswith("probability 18.0 + priority 10.0 + "))
            self.assertAlmostEqual(lead.temperature_part_engagement, 30.0)
        with freeze_time("2026-01-15 10:00:00"):
            self._cron()
            # idle 14 = one half-life: engagement 15; closing date passed: 0 -> 43
            self.assertEqual(lead.idle_days, 14)
            self.assertAlmostEqual(lead.temperature_score, 43.0)
            self.assertEqual(lead.temperature, "warm")
        with freeze_time("2026-01-29 10:00:00"):
            self._cron()
            self.assertEqual(lead.temperature_score, 36)  # 28 + 7.5
            self.assertEqual(lead.temperature, "warm")
            self.assertFalse(lead.is_neglected, "idle 28 days: not yet the team's 30")
        with freeze_time("2026-01-31 10:00:00"):
            self._cron()
            self.assertEqual(lead.temperature_score, 35)  # 28 + 30 x 2^(-30/14) = 6.8
            self.assertEqual(lead.temperature, "warm")
            self.assertTrue(lead.is_neglected, "idle 30 days reaches the team's neglect limit")
        with freeze_time("2026-02-12 10:00:00"):
            self._cron()
            self.assertEqual(lead.temperature_score, 32)  # 28 + 3.75
            self.assertEqual(lead.temperature, "cold")
            lead.message_post(
                body="Still interested, call me",
                author_id=self.customer.id,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            self._commit()
            self.assertEqual(lead.date_last_customer_message, datetime(2026, 2, 12, 10, 0))
            # engaged today: 18 + 10 + 30 + 0 = 58
            self.assertEqual((lead.temperature, lead.idle_days, lead.is_neglected), ("warm", 0, False))
        self.assertEqual(self._trend(lead), [("Hot", "Warm"), ("Warm", "Cold"), ("Cold", "Warm")])
        message = (
            self.env["mail.tracking.value"]
            .search(
                [("field_id.name", "=", "temperature"), ("mail_message_id.res_id", "=", lead.id)], limit=1
            )
            .mail_message_id
        )
        self.assertEqual(
            (message.message_type, message.subtype_id), ("notification", self.env.ref("mail.mt_note"))
        )

    def test_events_recompute_once_at_commit(self):
        with freeze_time("2026-02-01 10:00:00"):
            leads = self.env["crm.lead"]
            for index in range(6):
                leads |= self._lead(f"Lead {index}", probability=10.0)
            self._commit()
            self.assertEqual(set(leads.mapped("temperature")), {"warm"})  # 4 + 30 + 7.5 = 41.5 -> 42
            # the salesperson's edits: nothing is recomputed in the write itself ...
            for lead in leads:
                lead.write({"priority": "3"})
                lead.write({"probability": 80.0})
            self.env.flush_all()
            self.assertEqual(set(leads.mapped("temperature")), {"warm"})
            # ... but once, set-wise, when the transaction commits: 32 + 15 + 30 + 7.5 = 84.5 -> 85
            self.env.flush_all()
            with self.assertQueryCount(8):
                self.env.cr.precommit.run()
            self.assertEqual(set(leads.mapped("temperature")), {"hot"})
            self.assertEqual(set(leads.mapped("temperature_score")), {85})
            # the budget does not grow with the leads
            more = self.env["crm.lead"]
            for index in range(30):
                more |= self._lead(f"More {index}", probability=10.0)
            self._commit()
            for lead in more:
                lead.write({"priority": "3"})
            self.env.flush_all()
            with self.assertQueryCount(8):
                self.env.cr.precommit.run()

    def test_cron_query_budget_per_chunk(self):
        with freeze_time("2026-02-01 10:00:00"):
            leads = self.env["crm.lead"]
            for index in range(40):
                leads |= self._lead(f"Lead {index}", probability=float(index))
            self._age(leads, datetime(2026, 1, 1, 10, 0))
            self._commit()
        Lead = self.env["crm.lead"]
        span = max(leads.ids) - min(leads.ids) + 1
        with freeze_time("2026-02-10 10:00:00"):
            # one chunk: a fixed cost (reassignment, engagement catch-up, nurture) and one UPDATE
            self.env.invalidate_all()
            count = self.env.cr.sql_log_count
            Lead._cron_update_temperature(chunk_size=span)
            one_chunk = self.env.cr.sql_log_count - count
        with freeze_time("2026-02-20 10:00:00"):
            self.env.invalidate_all()
            count = self.env.cr.sql_log_count
            Lead._cron_update_temperature(chunk_size=10)
            chunks = -(-span // 10)
            several = self.env.cr.sql_log_count - count
            self.assertEqual(set(leads.mapped("idle_days")), {50})
        # each extra chunk costs one statement (UPDATE, chatter messages and tracking values together)
        self.assertLessEqual(several - one_chunk, chunks - 1)
        self.assertLessEqual(one_chunk, 30)

    def test_sql_agrees_with_engine(self):
        rng = random.Random(7)
        team_2 = self.env["crm.team"].create(
            {
                "name": "ROR Team 2",
                "company_id": self.company.id,
                "temperature_hot_threshold": 50,
                "temperature_warm_threshold": 20,
                "temperature_half_life_days": 5,
                "temperature_weight_probability": 10,
                "temperature_weight_priority": 0,
                "temperature_weight_engagement": 60,
                "temperature_weight_deadline": 30,
                "temperature_use_automated_probability": True,
            }
        )
        now = datetime(2026, 3, 10, 12, 0)
        with freeze_time(now):
            leads = self.env["crm.lead"]
            for index in range(60):
                lead = self._lead(
                    f"Random {index}",
                    probability=round(rng.uniform(0, 99), 2),
                    priority=str(rng.randint(0, 3)),
                    date_deadline=rng.choice(
                        [False, date(2026, 3, 10) + timedelta(days=rng.randint(-30, 120))]
                    ),
                    team_id=rng.choice([self.team.id, team_2.id, False]),
                )
                self._age(lead, now - timedelta(days=rng.randint(0, 200), hours=rng.randint(0, 23)))
                leads |= lead
            self._cron()
            for lead in leads:
                params = lead.team_id._temperature_params()
                probability = (
                    lead.automated_probability
                    if lead.team_id.temperature_use_automated_probability
                    else lead.probability
                )
                args = (probability, lead.priority, lead.idle_days, lead.date_deadline, now.date(), params)
                raw = engine.score(*args)
                if abs(raw - int(raw) - 0.5) < 1e-6:
                    continue  # a tie at half a point: float noise may round either way
                self.assertEqual(
                    (lead.temperature, lead.temperature_score), engine.temperature(*args), lead.name
                )

    def test_internal_note_is_no_engagement_but_done_activity_is(self):
        with freeze_time("2026-01-20 10:00:00"):
            lead = self._lead("Quiet", probability=50.0)
            self._age(lead, datetime(2026, 1, 1, 10, 0))
            self.assertEqual(lead.idle_days, 19)
            lead.message_post(body="note to self", message_type="comment", subtype_xmlid="mail.mt_note")
            self._commit()
            self.assertEqual(lead.idle_days, 19)
            self.assertEqual(
                self.env["crm.lead"].search([("id", "=", lead.id), ("idle_days", ">=", 19)]), lead
            )
            self.assertFalse(self.env["crm.lead"].search([("id", "=", lead.id), ("idle_days", ">", 19)]))
            activity = lead.activity_schedule("mail.mail_activity_data_call", user_id=self.seller_a.id)
            activity.action_feedback(feedback="Called, will decide next week")
            self._commit()
            self.assertEqual(lead.date_last_activity_done, datetime(2026, 1, 20, 10, 0))
            self.assertEqual(lead.idle_days, 0)
            self.assertEqual(self.env["crm.lead"].search([("id", "=", lead.id), ("idle_days", "<", 1)]), lead)

    def test_internal_users_emails_are_no_customer_message(self):
        """A salesperson's own email (or one sent from his mailbox) is not the customer engaging,
        neither for the hook, nor for the cron's catch-up from the chatter, nor for past engagement."""
        with freeze_time("2026-01-20 10:00:00"):
            lead = self._lead("Emailed by us", probability=50.0)
            self._age(lead, datetime(2026, 1, 1, 10, 0))
            ours = lead.message_post(
                body="Any news?",
                author_id=self.seller_a.partner_id.id,
                message_type="email",
                subtype_xmlid="mail.mt_comment",
            )
            self._commit()
            self.assertFalse(lead.date_last_customer_message)
            self.assertEqual(lead.idle_days, 19)
            self.env["ir.config_parameter"].set_param("crm_ror.engagement_message_id", ours.id - 1)
            self._cron()
            self.assertFalse(lead.date_last_customer_message, "the catch-up skips it too")
            unknown = lead.message_post(
                body="Reply",
                author_id=False,
                email_from="someone@example.com",
                message_type="email",
                subtype_xmlid="mail.mt_comment",
            )
            self._commit()
            self.assertEqual(lead.date_last_customer_message, unknown.date, "an outside sender counts")

    def test_cron_catches_up_engagement_from_the_chatter(self):
        with freeze_time("2026-01-20 10:00:00"):
            lead = self._lead("Imported", probability=50.0)
            self._age(lead, datetime(2026, 1, 1, 10, 0))
            message = lead.message_post(
                body="Reply",
                author_id=self.customer.id,
                message_type="email",
                subtype_xmlid="mail.mt_comment",
            )
            # as if the message predates the addon: the hook's value is wiped, the cron finds it again
            self.env.flush_all()
            self.env.cr.execute(
                "UPDATE crm_lead SET date_last_customer_message = NULL WHERE id = %s", [lead.id]
            )
            self.env.cr.execute(
                "UPDATE mail_message SET date = %s WHERE id = %s", ["2026-01-18 08:00:00", message.id]
            )
            self.env["ir.config_parameter"].set_param("crm_ror.engagement_message_id", message.id - 1)
            lead.invalidate_recordset()
            self._cron()
            self.assertEqual(lead.date_last_customer_message, datetime(2026, 1, 18, 8, 0))
            self.assertEqual(lead.idle_days, 2)

    def test_manual_override_needs_a_reason_is_tracked_and_expires(self):
        with freeze_time("2026-02-01 10:00:00"):
            lead = self._lead("Gut feeling", probability=5.0, priority="0", date_deadline=date(2026, 1, 1))
            self._age(lead, datetime(2026, 1, 20, 9, 0))
            self._commit()
            # 2 + 0 + 30 x 2^(-12/14) (16.5) + overdue 0 = 18.5
            self.assertEqual(lead.temperature, "cold")
            with self.assertRaises(ValidationError):
                lead.write({"temperature_manual": "hot", "temperature_manual_until": date(2026, 2, 10)})
            lead.write(
                {
                    "temperature_manual": "hot",
                    "temperature_manual_until": date(2026, 2, 10),
                    "temperature_manual_reason": "The CEO called me",
                }
            )
            self._commit()
            self.assertEqual(lead.temperature, "hot")
            tracked = self.env["mail.tracking.value"].search(
                [("mail_message_id.res_id", "=", lead.id), ("mail_message_id.model", "=", "crm.lead")]
            )
            self.assertTrue(
                {"temperature_manual", "temperature_manual_until", "temperature_manual_reason"}
                <= set(tracked.field_id.mapped("name"))
            )
            self.assertFalse(lead.temperature_manual_expired)
        with freeze_time("2026-02-10 10:00:00"):
            self._cron()
            self.assertEqual(lead.temperature, "hot", "the override holds through its last day")
        with freeze_time("2026-02-11 10:00:00"):
            self._cron()
            lead.invalidate_recordset(["temperature_manual_expired"])
            self.assertEqual(lead.temperature, "cold")
            self.assertTrue(lead.temperature_manual_expired)

    def test_team_thresholds_schedule_the_recompute(self):
        with freeze_time("2026-02-01 10:00:00"):
            lead = self._lead("Middling", probability=40.0, priority="1")
            self._age(lead, datetime(2026, 2, 1, 9, 0))
            self._commit()
            # 16 + 5 + 30 + 7.5 = 58.5 -> 59: warm for 60/35
            self.assertEqual(lead.temperature, "warm")
            cron = self.env.ref("crm_ror.ir_cron_crm_ror_lead_temperature")
            triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
            self.team.temperature_hot_threshold = 55
            self._commit()
            self.assertEqual(lead.temperature, "warm", "not recomputed in the request")
            self.assertEqual(
                self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1
            )
            self._cron()
            self.assertEqual(lead.temperature, "hot")
            with self.assertRaises(ValidationError):
                self.team.temperature_warm_threshold = 56
            with self.assertRaises(ValidationError):
                self.team.write({"temperature_weight_probability": -1})

    def test_temperature_kept_at_close(self):
        with freeze_time("2026-02-01 10:00:00"):
            won = self._lead("Won", probability=80.0)
            lost = self._lead("Lost", probability=5.0)
            self._commit()
            self.assertEqual((won.temperature, lost.temperature), ("hot", "warm"))  # 70, 40
            won.write({"stage_id": self.stage_won.id})
            lost.action_set_lost()
            self._commit()
            self.assertEqual((won.temperature, won.temperature_at_close), (False, "hot"))
            self.assertEqual((lost.temperature, lost.temperature_at_close), (False, "warm"))
            # closed in the same transaction as created: the level it had at close
            quick = self._lead("Quick win", probability=10.0)
            quick.write({"stage_id": self.stage_won.id})
            self._commit()
            self.assertEqual((quick.temperature, quick.temperature_at_close), (False, "hot"))
            # a lead won in a won stage stays won even when its probability is edited
            won.write({"probability": 60.0})
            self._commit()
            self.assertEqual((won.temperature, won.temperature_at_close), (False, "hot"))
            lost.action_unarchive()
            self._commit()
            self.assertTrue(lost.temperature)
            self.assertFalse(lost.temperature_at_close)

    def test_calibration_snapshot_at_thirty_days(self):
        with freeze_time("2026-01-01 10:00:00"):
            lead = self._lead("Aging", probability=60.0)
            old = self._lead("Older than the window", probability=60.0)
            self._age(lead, datetime(2026, 1, 1, 10, 0))
            self._age(old, datetime(2025, 10, 1, 10, 0))
            self._commit()
        with freeze_time("2026-01-31 11:00:00"):
            self._cron()
            # idle 30 days: 24 + 0 + 30 x 2^(-30/14) (6.9) + 7.5 = 38.4: warm at 30 days
            self.assertEqual(lead.temperature_at_age, "warm")
            # past the window: rebuilt from its history (idle 30 days at 30 days old), 38.4: warm
            self.assertEqual(old.temperature_at_age, "warm")
            lead.message_post(
                body="Yes!",
                author_id=self.customer.id,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            self._commit()
            self.assertEqual(lead.temperature, "hot")
            self.assertEqual(lead.temperature_at_age, "warm", "the snapshot stays")

    def test_users_cannot_write_the_computed_temperature(self):
        with freeze_time("2026-02-01 10:00:00"):
            lead = self._lead("Honest lead", probability=5.0, priority="0", date_deadline=date(2026, 1, 1))
            self._age(lead, datetime(2026, 1, 20, 9, 0))
            self._commit()
            before = lead.read(
                [
                    "temperature",
                    "temperature_score",
                    "is_neglected",
                    "temperature_at_close",
                    "temperature_at_age",
                ]
            )[0]
            as_seller = lead.with_user(self.seller_a)
            forged = {
                "temperature": "hot",
                "temperature_score": 99,
                "is_neglected": True,
                "temperature_at_close": "hot",
                "temperature_at_age": "hot",
            }
            for name, value in forged.items():
                with self.subTest(field=name), self.assertRaises(AccessError):
                    as_seller.write({name: value})
                with self.subTest(field=name, create=True), self.assertRaises(AccessError):
                    self.env["crm.lead"].with_user(self.seller_a).create({"name": "Forged", name: value})
            lead.invalidate_recordset()
            self.assertEqual(lead.read(list(forged))[0], before)
            # The manual override and ordinary fields stay the user's to write.
            as_seller.write(
                {
                    "temperature_manual": "hot",
                    "temperature_manual_until": date(2026, 2, 10),
                    "temperature_manual_reason": "Met at the fair",
                    "priority": "2",
                }
            )
            self._commit()
            self.assertEqual(lead.temperature, "hot")
