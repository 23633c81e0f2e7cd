"""Nurture rules: once per idle episode, computed temperatures, planned activities, idle window,
do-not-contact and blacklist, and never OdooBot (team leader, fallback salesperson, or skipped)."""

from datetime import date, datetime

from odoo import SUPERUSER_ID
from odoo.tests import freeze_time

from .leads_common import LeadsCase


class TestLeadNurture(LeadsCase):
    def setUp(self):
        super().setUp()
        self.rule_warm = self.env["crm.ror.nurture.rule"].create(
            {
                "name": "Warm, idle 14 days: call",
                "company_id": self.company.id,
                "temperature": "warm",
                "min_idle_days": 14,
                "max_idle_days": 90,
                "activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
                "summary": "Call the warm lead",
                "delay_days": 2,
            }
        )
        self.team_bare = self.env["crm.team"].create({"name": "No Leader", "company_id": self.company.id})

    def _activities(self, leads, rule):
        return self.env["mail.activity"].search(
            [("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids), ("summary", "=", rule.summary)]
        )

    def _cron(self):
        self.env["crm.lead"]._cron_update_temperature()

    def test_once_per_idle_episode_on_computed_temperatures(self):
        with freeze_time("2026-02-20 10:00:00"):
            # probability 40, no star, no closing date: 53.5 when fresh (warm), 38.5 idle 14 days (warm)
            warm = self._lead("warm", probability=40.0)
            hot = self._lead("hot", probability=90.0, priority="3")
            cold = self._lead("cold", probability=0.0, date_deadline=date(2026, 1, 1))
            departed = self._lead("warm, owner left", probability=40.0, user_id=self.seller_c.id)
            unowned = self._lead("warm, nobody", probability=40.0, user_id=False)
            orphan = self._lead("warm, no leader", probability=40.0, user_id=False, team_id=self.team_bare.id)
            planned = self._lead("warm, call planned", probability=40.0)
            blocked_partner = self.env["res.partner"].create(
                {"name": "Do Not Call", "crm_ror_do_not_contact": True}
            )
            blocked = self._lead("warm, do not contact", probability=40.0, partner_id=blocked_partner.id)
            self.env["mail.blacklist"].create({"email": "gone@example.com"})
            blacklisted = self._lead("warm, blacklisted", probability=40.0, email_from="gone@example.com")
            leads = warm | hot | cold | departed | unowned | orphan | planned | blocked | blacklisted
            self._age(leads, datetime(2026, 2, 20, 10, 0))
            ancient = self._lead("warm, idle for years", probability=95.0, priority="3")
            self._age(ancient, datetime(2025, 6, 1, 10, 0))
            self._commit()
            self.assertEqual(warm.temperature, "warm")
        with freeze_time("2026-03-06 10:00:00"):
            planned.activity_schedule("mail.mail_activity_data_meeting", user_id=self.seller_a.id)
            self.seller_c.action_archive()
            self._cron()
            self.assertEqual((warm.temperature, warm.idle_days), ("warm", 14))
            activities = self._activities(leads | ancient, self.rule_warm)
            self.assertEqual(
                {(act.res_id, act.user_id) for act in activities},
                {(warm.id, self.seller_a), (departed.id, self.leader), (unowned.id, self.leader)},
            )
            self.assertEqual(set(activities.mapped("date_deadline")), {date(2026, 3, 8)})
            self.assertNotIn(SUPERUSER_ID, activities.user_id.ids)
            # the lead nobody can call is reported, not given to OdooBot
            skipped = self.rule_warm.log_ids.filtered("skip_reason")
            self.assertEqual(skipped.lead_id, orphan)
            self.assertEqual((self.rule_warm.log_count, self.rule_warm.skipped_count), (3, 1))
            self.assertFalse(self._activities(orphan, self.rule_warm))
            # a fallback salesperson takes it at the next run; the others are not nurtured twice
            self.company.crm_ror_lead_fallback_user_id = self.seller_b
            self._cron()
            self.assertEqual(self._activities(orphan, self.rule_warm).user_id, self.seller_b)
            self.assertEqual((self.rule_warm.log_count, self.rule_warm.skipped_count), (4, 0))
            self._cron()
            self.assertEqual(len(self._activities(leads, self.rule_warm)), 4)
            # the call is made: a new idle episode starts
            self._activities(warm, self.rule_warm).action_feedback(feedback="Called, thinking it over")
            self._commit()
            self.assertEqual(warm.idle_days, 0)
        with freeze_time("2026-03-15 10:00:00"):
            self._cron()
            self.assertFalse(self._activities(warm, self.rule_warm), "idle 9 days only")
        with freeze_time("2026-03-20 11:00:00"):
            self._cron()
            again = self._activities(warm, self.rule_warm)
            self.assertEqual(len(again), 1, "idle 14 days again: a second episode, a second call")
            self.assertEqual(len(self.rule_warm.log_ids.filtered(lambda log: log.lead_id == warm)), 2)

    def test_start_date_and_no_limit(self):
        with freeze_time("2026-03-10 10:00:00"):
            before = self._lead("idle since before the rule", probability=40.0)
            after = self._lead("idle since the rule", probability=40.0)
            self._age(before, datetime(2026, 2, 10, 10, 0))
            self._age(after, datetime(2026, 2, 22, 10, 0))
            rule = self.rule_warm.copy(
                {
                    "name": "From March",
                    "temperature": False,
                    "max_idle_days": 0,
                    "date_start": date(2026, 2, 20),
                }
            )
            self.rule_warm.action_archive()
            self._cron()
            self.assertEqual(rule.log_ids.lead_id, after)

    def test_rule_acts_on_its_company_only(self):
        from psycopg2 import IntegrityError

        from odoo.tools import mute_logger

        with freeze_time("2026-02-20 10:00:00"):
            warm = self._lead("warm, scoped", probability=40.0)
            self._age(warm, datetime(2026, 2, 20, 10, 0))
            self._commit()
        with freeze_time("2026-03-06 10:00:00"):
            self.assertIn(warm.id, [row[0] for row in self.rule_warm._matching_leads(datetime.now())])
            other = self.env["res.company"].create({"name": "ROR Nurture Other Co"})
            self.rule_warm.company_id = other
            self.assertNotIn(warm.id, [row[0] for row in self.rule_warm._matching_leads(datetime.now())])
            # A rule cannot be left without company; one left so by older data matches no lead at all.
            with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
                self.rule_warm.copy({"company_id": False})
            self.env.cr.execute("ALTER TABLE crm_ror_nurture_rule ALTER COLUMN company_id DROP NOT NULL")
            self.env.cr.execute(
                "UPDATE crm_ror_nurture_rule SET company_id = NULL WHERE id = %s", [self.rule_warm.id]
            )
            self.rule_warm.invalidate_recordset()
            self.assertEqual(self.rule_warm._matching_leads(datetime.now()), [])

    def test_skipped_leads_resumed_without_per_log_writes(self):
        from unittest.mock import patch

        with freeze_time("2026-02-20 10:00:00"):
            orphans = self.env["crm.lead"].browse()
            for index in range(3):
                orphans |= self._lead(
                    f"warm, no leader {index}", probability=40.0, user_id=False, team_id=self.team_bare.id
                )
            self._age(orphans, datetime(2026, 2, 20, 10, 0))
            self._commit()
        with freeze_time("2026-03-06 10:00:00"):
            self._cron()
            logs = self.rule_warm.log_ids.filtered(lambda log: log.lead_id in orphans)
            self.assertEqual(len(logs), 3)
            self.assertTrue(all(logs.mapped("skip_reason")))
            self.company.crm_ror_lead_fallback_user_id = self.seller_b
            Log = type(self.env["crm.ror.nurture.log"])
            with patch.object(Log, "write", side_effect=AssertionError("one ORM write per log")):
                self._cron()
            self.assertEqual(self.rule_warm.log_ids.filtered(lambda log: log.lead_id in orphans), logs)
            self.assertFalse(any(logs.mapped("skip_reason")))
            self.assertEqual(logs.user_id, self.seller_b)
            self.assertEqual(
                {(log.lead_id.id, log.activity_id.res_id, log.activity_id.user_id) for log in logs},
                {(lead.id, lead.id, self.seller_b) for lead in orphans},
            )
            self.assertEqual(self.rule_warm.skipped_count, 0)

    def test_nurture_run_is_set_wise_and_fills_what_stock_fills(self):
        """The queries of a run do not grow with its leads nor its salespeople (the first run after
        install nurtures the whole backlog), and each activity is what stock's create makes of it."""
        sellers = self.seller_a | self.seller_b | self.seller_c
        self.seller_b.tz = "Europe/Brussels"

        def run(count, users):
            with freeze_time("2026-02-20 10:00:00"):
                leads = self.env["crm.lead"].browse()
                for index in range(count):
                    leads |= self._lead(
                        f"warm {count}-{index}", probability=40.0, user_id=users[index % len(users)].id
                    )
                self._age(leads, datetime(2026, 2, 20, 10, 0))
                self._commit()
            with freeze_time("2026-03-06 10:00:00"):
                self.env.invalidate_all()
                count_before = self.env.cr.sql_log_count
                self.env["crm.ror.nurture.rule"]._cron_apply_nurture_rules()
                queries = self.env.cr.sql_log_count - count_before
            return leads, queries

        small, few = run(2, self.seller_a)
        self.env["mail.activity"].search([("res_model", "=", "crm.lead")]).unlink()
        self.rule_warm.log_ids.unlink()
        large, many = run(9, sellers)
        self.assertLessEqual(many, few, "one fixed set of statements per rule, whatever the leads and owners")
        activities = self._activities(large, self.rule_warm)
        self.assertEqual(len(activities), 9)
        for lead in large:
            activity = lead.activity_ids
            self.assertEqual(len(activity), 1)
            self.assertEqual(
                (activity.res_model, activity.res_name, activity.user_id, activity.user_tz, activity.summary),
                ("crm.lead", lead.name, lead.user_id, lead.user_id.tz or False, "Call the warm lead"),
            )
            self.assertEqual(activity.activity_type_id, self.rule_warm.activity_type_id)
            self.assertTrue(activity.active)
            # the salesperson follows the lead, as stock's activity create does
            self.assertIn(lead.user_id.partner_id, lead.message_partner_ids)
            log = self.rule_warm.log_ids.filtered(lambda log, lead=lead: log.lead_id == lead)
            self.assertEqual(
                (log.activity_id, log.user_id, log.company_id), (activity, lead.user_id, self.company)
            )
        self.assertEqual(large.activity_user_id, sellers)
        follower = large[0].message_follower_ids.filtered(
            lambda f: f.partner_id == large[0].user_id.partner_id
        )
        default, _internal, _external = self.env["mail.message.subtype"].default_subtypes("crm.lead")
        self.assertEqual(follower.subtype_ids, default)
