"""Nurture rules: one activity per rule and lead, for the owner or the team leader, across runs."""

from datetime import date, datetime

from odoo.tests import freeze_time

from .leads_common import LeadsCase


class TestLeadNurture(LeadsCase):
    def setUp(self):
        super().setUp()
        self.rule_warm = self.env["crm.ror.nurture.rule"].create(
            {
                "name": "Warm, idle 14 days: call",
                "company_id": self.company.id,
                "team_id": self.team.id,
                "temperature": "warm",
                "min_idle_days": 14,
                "activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
                "summary": "Call the warm lead",
                "delay_days": 2,
            }
        )

    def _activities(self, leads, rule):
        return self.env["mail.activity"].search(
            [("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids), ("summary", "=", rule.summary)]
        )

    def test_activity_once_per_rule_and_lead(self):
        with freeze_time("2026-03-10 10:00:00"):
            warm_idle = self._lead("warm idle", temperature_manual="warm")
            warm_fresh = self._lead("warm fresh", temperature_manual="warm")
            cold_idle = self._lead("cold idle", temperature_manual="cold")
            departed = self._lead("warm, owner left", temperature_manual="warm", user_id=self.seller_c.id)
            unowned = self._lead("warm, nobody", temperature_manual="warm", user_id=False)
            won = self._lead("won", temperature_manual="warm")
            self._win(won, datetime(2026, 1, 1), datetime(2026, 2, 1))
            self._age(warm_idle | cold_idle | departed | unowned | won, datetime(2026, 2, 20, 10, 0))
            self._age(warm_fresh, datetime(2026, 3, 1, 10, 0))
            self.seller_c.action_archive()
            self.assertEqual(warm_idle.idle_days, 18)
            self.assertEqual(warm_fresh.idle_days, 9)

            self.env["crm.ror.nurture.rule"]._cron_apply_nurture_rules()
            activities = self._activities(
                warm_idle | warm_fresh | cold_idle | departed | unowned | won, self.rule_warm
            )
            self.assertEqual(
                {(act.res_id, act.user_id) for act in activities},
                {(warm_idle.id, self.seller_a), (departed.id, self.leader), (unowned.id, self.leader)},
            )
            self.assertEqual(set(activities.mapped("date_deadline")), {date(2026, 3, 12)})
            self.assertEqual(activities.activity_type_id, self.env.ref("mail.mail_activity_data_call"))
            self.assertEqual(self.rule_warm.log_count, 3)

            # later runs, even after the salesperson deleted the activity, leave these leads alone
            self.env["crm.ror.nurture.rule"]._cron_apply_nurture_rules()
            activities.filtered(lambda act: act.res_id == warm_idle.id).unlink()
            self.env["crm.ror.nurture.rule"]._cron_apply_nurture_rules()
            self.assertEqual(len(self._activities(warm_idle | departed | unowned, self.rule_warm)), 2)
            self.assertEqual(self.rule_warm.log_count, 3)

        with freeze_time("2026-03-16 10:00:00"):
            self.env["crm.lead"]._cron_update_temperature()
            self.assertEqual(warm_fresh.idle_days, 15)
            # a second rule for any temperature, and the fresh lead that went idle meanwhile
            rule_any = self.rule_warm.copy(
                {"name": "Any, idle 10 days", "temperature": False, "min_idle_days": 10, "summary": "Any"}
            )
            self.env["crm.ror.nurture.rule"]._cron_apply_nurture_rules()
            self.env["crm.ror.nurture.rule"]._cron_apply_nurture_rules()
            self.assertEqual(
                set(self._activities(warm_fresh, self.rule_warm).mapped("res_id")), {warm_fresh.id}
            )
            self.assertEqual(
                set(rule_any.log_ids.lead_id.ids),
                {warm_idle.id, warm_fresh.id, cold_idle.id, departed.id, unowned.id},
            )
            self.assertEqual(self.rule_warm.log_count, 4)
