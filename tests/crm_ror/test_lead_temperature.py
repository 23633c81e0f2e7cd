"""Lead temperature on crm.lead: rules, decay with time frozen, override expiry, events, tracking."""

from datetime import date, datetime

from odoo.exceptions import ValidationError
from odoo.tests import freeze_time

from .leads_common import LeadsCase


class TestLeadTemperature(LeadsCase):
    def _cron(self):
        self.env["crm.lead"]._cron_update_temperature()

    def test_decay_and_customer_message_with_tracking(self):
        with freeze_time("2026-01-01 10:00:00"):
            lead = self._lead("Hot deal", probability=90.0, priority="3", date_deadline=date(2026, 1, 5))
            self._age(lead, datetime(2026, 1, 1, 9, 0))
            # 90 * .5 + 3 stars 15 + recency 100 * .2 + due in 4 days 15 = 95
            self.assertAlmostEqual(lead.temperature_score, 95.0)
            self.assertEqual((lead.temperature, lead.idle_days), ("hot", 0))
            self._flush_tracking()
        with freeze_time("2026-01-15 10:00:00"):
            self._cron()
            # idle 14: recency (1 - 14/30) * 20 = 10.67, deadline passed: score 70.67 is hot, decay -> warm
            self.assertEqual(lead.idle_days, 14)
            self.assertAlmostEqual(lead.temperature_score, 45 + 15 + 20 * 16 / 30, places=1)
            self.assertEqual(lead.temperature, "warm")
            self.assertFalse(lead.is_neglected)
            self._flush_tracking()
        with freeze_time("2026-01-29 10:00:00"):
            self._cron()
            self.assertEqual((lead.temperature, lead.idle_days), ("cold", 28))
            self._flush_tracking()
        with freeze_time("2026-01-31 10:00:00"):
            self._cron()
            self.assertTrue(lead.is_neglected, "idle 30 days reaches the team's neglect limit")
            lead.message_post(
                body="Still interested, call me",
                author_id=self.customer.id,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            self.env.flush_all()
            self.assertEqual(lead.date_last_customer_message, datetime(2026, 1, 31, 10, 0))
            self.assertEqual((lead.temperature, lead.idle_days, lead.is_neglected), ("hot", 0, False))
            self._flush_tracking()
        trend = self.env["mail.tracking.value"].search(
            [
                ("mail_message_id.model", "=", "crm.lead"),
                ("mail_message_id.res_id", "=", lead.id),
                ("field_id.name", "=", "temperature"),
            ],
            order="id",
        )
        self.assertEqual(
            [(value.old_value_char, value.new_value_char) for value in trend],
            [("Hot", "Warm"), ("Warm", "Cold"), ("Cold", "Hot")],
        )

    def test_internal_note_is_no_engagement_but_done_activity_is(self):
        with freeze_time("2026-01-20 10:00:00"):
            lead = self._lead("Quiet", probability=50.0)
            self._age(lead, datetime(2026, 1, 1, 10, 0))
            self.assertEqual(lead.idle_days, 19)
            lead.message_post(body="note to self", message_type="comment", subtype_xmlid="mail.mt_note")
            self.env.flush_all()
            self.assertEqual(lead.idle_days, 19)
            activity = lead.activity_schedule("mail.mail_activity_data_call", user_id=self.seller_a.id)
            activity.action_feedback(feedback="Called, will decide next week")
            self.env.flush_all()
            self.assertEqual(lead.date_last_activity_done, datetime(2026, 1, 20, 10, 0))
            self.assertEqual(lead.idle_days, 0)

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
            lead.invalidate_recordset()
            self._cron()
            self.assertEqual(lead.date_last_customer_message, datetime(2026, 1, 18, 8, 0))
            self.assertEqual(lead.idle_days, 2)

    def test_manual_override_expires(self):
        with freeze_time("2026-02-01 10:00:00"):
            lead = self._lead("Gut feeling", probability=5.0, priority="0")
            self._age(lead, datetime(2026, 2, 1, 9, 0))
            self.assertEqual(lead.temperature, "cold")  # 2.5 + 0 + 20 + 0 = 22.5
            lead.write({"temperature_manual": "hot", "temperature_manual_until": date(2026, 2, 10)})
            self.assertEqual(lead.temperature, "hot")
        with freeze_time("2026-02-10 10:00:00"):
            self._cron()
            self.assertEqual(lead.temperature, "hot", "the override holds through its last day")
        with freeze_time("2026-02-11 10:00:00"):
            self._cron()
            self.assertEqual(lead.temperature, "cold")
            lead.write({"temperature_manual": "warm", "temperature_manual_until": False})
            self.assertEqual(lead.temperature, "warm")

    def test_thresholds_per_team_and_closed_leads(self):
        with freeze_time("2026-02-01 10:00:00"):
            lead = self._lead("Middling", probability=40.0, priority="1")
            self._age(lead, datetime(2026, 2, 1, 9, 0))
            # 20 + 5 + 20 = 45: warm for 60/35
            self.assertEqual(lead.temperature, "warm")
            self.team.temperature_hot_threshold = 45
            self.assertEqual(lead.temperature, "hot")
            with self.assertRaises(ValidationError):
                self.team.temperature_warm_threshold = 46
            lead.write({"stage_id": self.stage_won.id})
            self.assertFalse(lead.temperature, "won leads have no temperature")
