"""Key-date reminders: once per occurrence, N days before, for the salesperson, never for do-not-contact."""

from datetime import date

from odoo import fields

from .touch_common import TouchCase


class TestKeyDates(TouchCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._customer("Touch Keys", cls.salesman_1)
        cls.contact = cls.env["res.partner"].create(
            {"name": "Kim Keys", "parent_id": cls.customer.id, "email": "kim@example.com"}
        )

    def _key_date(self, partner, **values):
        return self.env["crm.ror.key.date"].create(
            {
                "partner_id": partner.id,
                "kind": "birthday",
                "date": date(1980, 6, 15),
                "remind_days_before": 7,
                **values,
            }
        )

    def _activities(self, partner):
        return self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", partner.id)]
        )

    def _run(self, today):
        return self.env["crm.ror.key.date"]._cron_create_reminders(today=today)

    def test_reminder_once_n_days_before_for_salesperson(self):
        self.customer.crm_ror_preferred_channel = "phone"
        key_date = self._key_date(self.contact)
        self.assertEqual(key_date.user_id, self.salesman_1, "the salesperson of the contact's company")
        self._run(date(2024, 6, 7))
        self.assertFalse(self._activities(self.contact), "8 days before: too early")
        self._run(date(2024, 6, 8))
        activity = self._activities(self.contact)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.salesman_1)
        self.assertEqual(activity.activity_type_id, self.env.ref("mail.mail_activity_data_todo"))
        self.assertEqual(activity.date_deadline, date(2024, 6, 15))
        self.assertEqual(activity.summary, "Birthday of Touch Keys, Kim Keys on 2024-06-15")
        self.assertIn("Preferred channel: Phone", str(activity.note))
        self.assertEqual(key_date.last_reminded_date, date(2024, 6, 15))
        self._run(date(2024, 6, 8))
        self._run(date(2024, 6, 12))
        self.assertEqual(len(self._activities(self.contact)), 1, "one reminder per occurrence")
        self._run(date(2025, 6, 8))
        self.assertEqual(len(self._activities(self.contact)), 2, "recurring: again next year")

    def test_reminded_only_in_a_company_of_the_salesperson(self):
        other = self.env["res.company"].create({"name": "Touch Elsewhere"})
        key_date = self._key_date(self.contact, company_id=other.id)
        self._run(date(2024, 6, 8))
        self.assertFalse(self._activities(self.contact), "salesperson 1 does not work for that company")
        self.assertFalse(key_date.last_reminded_date)
        self.salesman_1.company_ids |= other
        self._run(date(2024, 6, 8))
        self.assertEqual(len(self._activities(self.contact)), 1)

    def test_label_and_one_off_date(self):
        key_date = self._key_date(
            self.customer,
            kind="custom",
            label="Company founded",
            date=date(2024, 9, 1),
            recurring=False,
            remind_days_before=3,
        )
        self._run(date(2024, 8, 29))
        self.assertEqual(
            self._activities(self.customer).summary, "Company founded of Touch Keys on 2024-09-01"
        )
        self._run(date(2025, 8, 29))
        self.assertEqual(len(self._activities(self.customer)), 1, "a one-off date is reminded once")
        self.assertEqual(key_date.last_reminded_date, date(2024, 9, 1))

    def test_skipped_for_do_not_contact(self):
        self._key_date(self.contact)
        self.customer.crm_ror_do_not_contact = True  # the company's flag covers its contacts
        self._run(date(2024, 6, 8))
        self.assertFalse(self._activities(self.contact))
        self.customer.crm_ror_do_not_contact = False
        self.env["mail.blacklist"].create({"email": "kim@example.com"})
        self._run(date(2024, 6, 8))
        self.assertFalse(self._activities(self.contact), "blacklisted email")

    def test_other_customers_do_not_contact_does_not_block(self):
        hermit = self._customer(
            "Touch Hermit", self.salesman_1, crm_ror_do_not_contact=True, email="hermit@example.com"
        )
        self.env["mail.blacklist"].create({"email": "hermit@example.com"})
        self._key_date(self.contact)
        self._run(date(2024, 6, 8))
        self.assertEqual(len(self._activities(self.contact)), 1)
        self.assertFalse(self.contact.crm_ror_no_outreach)
        Partner = self.env["res.partner"]
        self.assertIn(self.contact, Partner.search([("crm_ror_no_outreach", "=", False)]))
        self.assertIn(hermit, Partner.search([("crm_ror_no_outreach", "=", True)]), "blacklisted")
        self.assertNotIn(hermit, Partner.search([("crm_ror_no_outreach", "!=", True)]))

    def test_skipped_without_salesperson(self):
        loner = self._customer("Touch Loner")
        key_date = self._key_date(loner)
        self._run(date(2024, 6, 8))
        self.assertFalse(self._activities(loner))
        self.assertFalse(key_date.last_reminded_date, "reminded once a salesperson is set")

    def test_done_activity_sets_last_contact_and_next_due(self):
        self.customer.crm_ror_contact_frequency = 30
        self._key_date(self.contact)
        self._run(date(2024, 6, 8))
        self._activities(self.contact).action_done()
        today = date.today()
        self.assertEqual(self.customer.crm_ror_last_contact_date, today)
        self.assertEqual((self.customer.crm_ror_next_contact_date - today).days, 30)
        self.customer.crm_ror_do_not_contact = True
        self.assertFalse(self.customer.crm_ror_next_contact_date)

    def test_daily_cron(self):
        today = fields.Date.context_today(self.env.user)
        self._key_date(self.contact, date=today.replace(year=2000))  # a leap year: 29 February works too
        self.env.ref("crm_ror.ir_cron_crm_ror_key_date_reminders").method_direct_trigger()
        self.assertEqual(len(self._activities(self.contact)), 1, "the birthday is today: reminded on the day")

    def test_done_activity_on_opportunity_counts_as_contact(self):
        lead = self.env["crm.lead"].create(
            {"name": "Touch deal", "type": "opportunity", "partner_id": self.contact.id}
        )
        activity = lead.activity_schedule("mail.mail_activity_data_call", user_id=self.salesman_1.id)
        activity.action_done()
        today = fields.Date.context_today(self.env.user)
        self.assertEqual(self.contact.crm_ror_last_contact_date, today)
        self.assertEqual(
            self.customer.crm_ror_last_contact_date, today, "the company is contacted through its contact"
        )
