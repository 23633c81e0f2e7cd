"""Campaigns with Email Marketing (mass_mailing, installed in the test database by dev.py): the target
selection writes a mailing list, and the mailings' sent traces count as targets and touches."""

from datetime import datetime, time, timedelta
from unittest.mock import patch

from odoo.exceptions import UserError

from .campaign_common import CrmRorCampaignCase


class TestCampaignMailing(CrmRorCampaignCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.email_medium = cls.env["utm.medium"].create(
            {"name": "ROR Campaign Email", "crm_ror_channel": "email"}
        )
        cls.email_medium.with_company(cls.company_a).ror_contact_cost = 0.5
        cls.m1, cls.m2, cls.m3, cls.m4, cls.m5, cls.m6 = Partner.create(
            [
                {"name": "ROR M1", "is_company": True, "email": "M1@Example.com"},
                # no email of its own: its first contact that may be emailed stands in
                {"name": "ROR M2", "is_company": True},
                {"name": "ROR M3 no email", "is_company": True},
                {
                    "name": "ROR M4 DNC",
                    "is_company": True,
                    "email": "m4@example.com",
                    "crm_ror_do_not_contact": True,
                },
                {"name": "ROR M5 Blacklisted", "is_company": True, "email": "m5@example.com"},
                {"name": "ROR M6", "is_company": True, "email": "m6@example.com"},
            ]
        )
        Partner.create(
            [
                # ids in this order: the DNC and blacklisted contacts come first and must be passed over
                {
                    "name": "ROR M2 DNC contact",
                    "parent_id": cls.m2.id,
                    "email": "m2.dnc@example.com",
                    "crm_ror_do_not_contact": True,
                },
                {"name": "ROR M2 blacklisted contact", "parent_id": cls.m2.id, "email": "m2.bl@example.com"},
                {"name": "ROR M2 buyer", "parent_id": cls.m2.id, "email": "m2.buyer@example.com"},
            ]
        )
        cls.env["mail.blacklist"].create([{"email": "m5@example.com"}, {"email": "m2.bl@example.com"}])
        for partner in (cls.m1, cls.m2, cls.m3, cls.m4, cls.m5, cls.m6):
            cls._profile_of(partner, cls.seg_1, 500.0, 50.0)
        # m1's address is already a mailing contact: it is reused, not duplicated.
        cls.known_contact = cls.env["mailing.contact"].create({"name": "Known", "email": "m1@example.com"})

    def _wizard(self, campaign, **values):
        return self.env["crm.ror.campaign.target.wizard"].create(
            {
                "campaign_id": campaign.id,
                "segment_ids": [(6, 0, self.seg_1.ids)],
                "mode": "positive",
                **values,
            }
        )

    def _mailing(self, campaign, model="res.partner"):
        return self.env["mailing.mailing"].create(
            {
                "subject": f"ROR mailing of {campaign.title}",
                "body_html": "<p>Hello</p>",
                "campaign_id": campaign.id,
                "mailing_model_id": self.env["ir.model"]._get_id(model),
            }
        )

    def _trace(self, mailing, days_ago, partner=None, email=None, sent=True, **values):
        model = mailing.mailing_model_real
        return self.env["mailing.trace"].create(
            {
                "mass_mailing_id": mailing.id,
                "model": model,
                "res_id": partner.id if partner else 0,
                "email": email or (partner.email_normalized if partner else False),
                "trace_status": "sent" if sent else "outgoing",
                "sent_datetime": datetime.combine(self._days_ago(days_ago), time(10)) if sent else False,
                **values,
            }
        )

    # ------------------------------------------------------------------------------------------
    # Target list as a mailing list
    # ------------------------------------------------------------------------------------------

    def test_option_shown_when_mass_mailing_is_installed(self):
        wizard = self._wizard(self._campaign("ROR Option"))
        self.assertTrue(wizard.mailing_available)
        Wizard = type(self.env["crm.ror.campaign.target.wizard"])
        with patch.object(Wizard, "_mailing_installed", return_value=False):
            wizard.invalidate_recordset(["mailing_available"])
            self.assertFalse(wizard.mailing_available, "the option is hidden without mass_mailing")
            wizard.write_mailing_list = True
            with self.assertRaisesRegex(UserError, r"Write a mailing list: .*mass_mailing.* install"):
                wizard.action_select()
        self.assertFalse(wizard.campaign_id.crm_ror_target_ids, "nothing is written when refused")

    def test_target_list_written_as_mailing_list(self):
        campaign = self._campaign("ROR Newsletter", crm_ror_medium_id=self.email_medium.id)
        contacts_before = self.env["mailing.contact"].search_count([])
        wizard = self._wizard(campaign, write_mailing_list=True)
        wizard.action_select()
        targets = campaign.crm_ror_target_ids
        self.assertEqual(targets.partner_id, self.m1 | self.m2 | self.m3 | self.m6)
        # the removed counts are those of the partner list, as without a mailing list
        self.assertEqual(
            (wizard.removed_dnc_count, wizard.removed_company_dnc_count, wizard.removed_blacklist_count),
            (1, 0, 1),
        )
        mailing_list = wizard.mailing_list_ref
        self.assertEqual(mailing_list._name, "mailing.list")
        self.assertIn("ROR Newsletter", mailing_list.name)
        emails = set(mailing_list.contact_ids.mapped("email_normalized"))
        self.assertEqual(emails, {"m1@example.com", "m2.buyer@example.com", "m6@example.com"})
        self.assertEqual(wizard.mailing_contact_count, 3)
        self.assertEqual(wizard.removed_no_email_count, 1, "m3 has no address to mail")
        # Properties: no address of a do-not-contact or blacklisted partner; one contact per address.
        blocked = self.env["res.partner"].search(
            [("crm_ror_no_outreach", "=", True), ("email_normalized", "!=", False)]
        )
        self.assertFalse(emails & set(blocked.mapped("email_normalized")))
        self.assertFalse(mailing_list.contact_ids.filtered("is_blacklisted"))
        self.assertIn(self.known_contact, mailing_list.contact_ids)
        self.assertEqual(self.env["mailing.contact"].search_count([]), contacts_before + 2)
        action = wizard.action_open_mailing_list()
        self.assertEqual((action["res_model"], action["res_id"]), ("mailing.list", mailing_list.id))

    def test_control_group_stays_off_the_mailing_list(self):
        Partner = self.env["res.partner"]
        many = Partner.create(
            [
                {"name": f"ROR Many {i}", "is_company": True, "email": f"many{i}@example.com"}
                for i in range(20)
            ]
        )
        for partner in many:
            self._profile_of(partner, self.seg_2, 500.0, 50.0)
        campaign = self._campaign(
            "ROR Held Out", crm_ror_medium_id=self.email_medium.id, crm_ror_control_share=25.0
        )
        wizard = self._wizard(campaign, segment_ids=[(6, 0, self.seg_2.ids)], write_mailing_list=True)
        wizard.action_select()
        targets = campaign.crm_ror_target_ids
        control = targets.filtered("is_control")
        self.assertEqual(len(control), 5)
        emails = set(wizard.mailing_list_ref.contact_ids.mapped("email_normalized"))
        self.assertEqual(emails, set((targets - control).partner_id.mapped("email_normalized")))

    def test_without_the_option_no_mailing_list(self):
        campaign = self._campaign("ROR Phone only")
        lists_before = self.env["mailing.list"].search_count([])
        wizard = self._wizard(campaign)
        wizard.action_select()
        self.assertTrue(campaign.crm_ror_target_ids)
        self.assertFalse(wizard.mailing_list_ref)
        self.assertEqual(self.env["mailing.list"].search_count([]), lists_before)

    # ------------------------------------------------------------------------------------------
    # Mailing traces as targets and touches
    # ------------------------------------------------------------------------------------------

    def test_sent_traces_are_targets_and_touches(self):
        campaign = self._campaign("ROR Mailed", crm_ror_medium_id=self.email_medium.id)
        other = self._campaign("ROR Other campaign", crm_ror_medium_id=self.email_medium.id)
        buyer = self.env["res.partner"].search([("email_normalized", "=", "m2.buyer@example.com")])
        on_partners = self._mailing(campaign)
        second = self._mailing(campaign)
        on_contacts = self._mailing(campaign, model="mailing.contact")
        # m1: two sends (two mailings). m2: one send to its contact (res_id), folded into m2.
        self._trace(on_partners, 12, self.m1)
        self._trace(second, 5, self.m1)
        self._trace(on_partners, 12, buyer)
        # m6: reached through a mailing contact's email. m3: a trace never sent is no touch.
        m6_contact = self.env["mailing.contact"].create({"name": "M6", "email": "m6@example.com"})
        self._trace(on_contacts, 8, email="m6@example.com", res_id=m6_contact.id)
        self._trace(on_partners, 12, self.m3, email="m3@example.com", sent=False)
        # another campaign's send is not this campaign's touch
        self._trace(self._mailing(other), 3, self.m6)
        # m6 also buys within the window: the target made from its send responds
        self._invoice(self.company_a, self.m6, 2, [(1, 100.0, 0.0)])

        campaign.action_crm_ror_refresh()
        targets = {target.partner_id: target for target in campaign.crm_ror_target_ids}
        self.assertEqual(set(targets), {self.m1, self.m2, self.m6})
        self.assertEqual(
            {p.name: t.touches for p, t in targets.items()}, {"ROR M1": 2, "ROR M2": 1, "ROR M6": 1}
        )
        self.assertEqual(targets[self.m1].date_targeted, self._days_ago(12), "targeted on its first send")
        self.assertEqual(targets[self.m6].date_targeted, self._days_ago(8))
        for target in targets.values():
            # stored related and computed fields of the rows written in SQL
            self.assertEqual(target.company_id, self.company_a)
            self.assertEqual(target.channel, "email")
            self.assertEqual(target.segment_id, self.seg_1)
            self.assertAlmostEqual(target.cost, 0.5 * target.touches)
        self.assertTrue(targets[self.m6].responded)
        self.assertAlmostEqual(targets[self.m6].revenue, 100.0)
        self.assertEqual(campaign.crm_ror_target_count, 3)
        self.assertAlmostEqual(campaign.crm_ror_cost, 2.0)
        # A second refresh counts the same sends again, not twice.
        campaign.action_crm_ror_refresh()
        self.assertEqual(sum(campaign.crm_ror_target_ids.mapped("touches")), 4)
        self.assertFalse(other.crm_ror_target_ids, "only the refreshed campaigns are synchronised")

    def test_sends_raise_planned_touches_and_spare_the_control_group(self):
        campaign = self._campaign("ROR Planned", crm_ror_medium_id=self.email_medium.id)
        planned = self._target(campaign, self.m1, 20, touches=2)
        single = self._target(campaign, self.m6, 20)
        control = self._target(campaign, self.m2, 20, is_control=True, touches=0)
        mailing = self._mailing(campaign)
        self._trace(mailing, 10, self.m1)  # one send of two planned touches: still 2
        for days in (15, 10, 5):
            self._trace(mailing, days, self.m6)  # three sends of one planned touch: 3
        buyer = self.env["res.partner"].search([("email_normalized", "=", "m2.buyer@example.com")])
        self._trace(mailing, 10, buyer)  # a control customer mailed anyway stays a control
        campaign.action_crm_ror_refresh()
        self.assertEqual(campaign.crm_ror_target_ids, planned | single | control)
        self.assertEqual((planned.touches, single.touches, control.touches), (2, 3, 0))
        self.assertEqual(planned.date_targeted, self._days_ago(20))
        self.assertAlmostEqual(single.cost, 1.5)
        self.assertAlmostEqual(control.cost, 0.0)

    def test_control_customers_mailed_anyway_are_reported(self):
        # main: the send to a control customer left no trace on the target nor on the campaign
        campaign = self._campaign("ROR Leaky control", crm_ror_medium_id=self.email_medium.id)
        contacted = self._target(campaign, self.m1, 20)
        control = self._target(campaign, self.m2, 20, is_control=True, touches=0)
        untouched = self._target(campaign, self.m6, 20, is_control=True, touches=0)
        buyer = self.env["res.partner"].search([("email_normalized", "=", "m2.buyer@example.com")])
        # the target list went out, then another mailing of the campaign reached m2 twice
        self._trace(self._mailing(campaign), 10, self.m1)
        other_mailing = self._mailing(campaign)
        self._trace(other_mailing, 8, buyer)
        self._trace(other_mailing, 4, self.m2)
        campaign.action_crm_ror_refresh()
        self.assertEqual((control.control_sends, untouched.control_sends, contacted.control_sends), (2, 0, 0))
        self.assertEqual(campaign.crm_ror_control_mailed_count, 1)
        # still a control target: never counted as contacted, no cost
        self.assertEqual((control.is_control, control.touches, control.cost), (True, 0, 0.0))
        self.assertEqual(campaign.crm_ror_control_count, 2)
        # a second refresh counts the same sends again, not twice
        campaign.action_crm_ror_refresh()
        self.assertEqual(control.control_sends, 2)

    def test_refresh_of_campaigns_never_mailed(self):
        campaign = self._campaign("ROR Unmailed")
        target = self._target(campaign, self.m1, 5)
        campaign.action_crm_ror_refresh()
        self.assertEqual(campaign.crm_ror_target_ids, target)
        self.assertEqual(target.touches, 1)

    def test_trace_by_email_takes_a_customer_of_the_campaigns_company(self):
        Partner = self.env["res.partner"]
        shared = "shared.buyer@example.com"
        # oldest first: another company's customer, then a contact of one of ours, then one of ours
        foreign = Partner.create(
            {"name": "ROR B customer", "is_company": True, "email": shared, "company_id": self.company_b.id}
        )
        ours = Partner.create({"name": "ROR A customer", "is_company": True, "company_id": self.company_a.id})
        Partner.create({"name": "ROR A customer buyer", "parent_id": ours.id, "email": shared})
        ours_too = Partner.create(
            {"name": "ROR A second", "is_company": True, "email": shared, "company_id": self.company_a.id}
        )
        contact = self.env["mailing.contact"].create({"name": "Shared", "email": shared})
        campaign = self._campaign("ROR Shared address", crm_ror_medium_id=self.email_medium.id)
        self._trace(self._mailing(campaign, model="mailing.contact"), 4, email=shared, res_id=contact.id)
        campaign_b = self._campaign(
            "ROR Shared B", company=self.company_b, crm_ror_medium_id=self.email_medium.id
        )
        self._trace(self._mailing(campaign_b, model="mailing.contact"), 4, email=shared, res_id=contact.id)
        (campaign | campaign_b).action_crm_ror_refresh()
        # the commercial entity with the address comes before a contact with it
        self.assertEqual(campaign.crm_ror_target_ids.partner_id, ours_too)
        self.assertEqual(campaign_b.crm_ror_target_ids.partner_id, foreign)
        for target in (campaign | campaign_b).crm_ror_target_ids:
            self.assertIn(target.partner_id.company_id, target.campaign_id.company_id | Partner.company_id)

    def test_only_email_traces_are_touches(self):
        campaign = self._campaign("ROR SMS", crm_ror_medium_id=self.email_medium.id)
        mailing = self._mailing(campaign)
        self._trace(mailing, 3, self.m1)
        sms = self._trace(mailing, 3, self.m6)
        self.env.flush_all()
        # an SMS trace (mass_mailing_sms, not installed here) carries no email send
        self.env.cr.execute("UPDATE mailing_trace SET trace_type = 'sms' WHERE id = %s", [sms.id])
        campaign.action_crm_ror_refresh()
        self.assertEqual(campaign.crm_ror_target_ids.partner_id, self.m1)

    def test_cron_refreshes_campaigns_mailed_lately(self):
        # sent through a mailing only: no target yet
        mailed_only = self._campaign("ROR Mailed only", crm_ror_medium_id=self.email_medium.id)
        self._trace(self._mailing(mailed_only), 2, self.m1)
        # targeted long ago (window closed), mailed again this week
        late = self._campaign("ROR Mailed late", crm_ror_medium_id=self.email_medium.id)
        old_target = self._target(late, self.m6, 90)
        for days in (3, 2):
            self._trace(self._mailing(late), days, self.m6)
        # mailed long ago, window closed: left alone
        stale = self._campaign("ROR Stale", crm_ror_medium_id=self.email_medium.id)
        self._trace(self._mailing(stale), 60, self.m1)
        self.env["utm.campaign"]._cron_refresh_responses()
        self.assertEqual(mailed_only.crm_ror_target_ids.partner_id, self.m1)
        self.assertEqual(mailed_only.crm_ror_target_ids.touches, 1)
        self.assertTrue(mailed_only.crm_ror_refreshed_at)
        self.assertEqual(old_target.touches, 2)
        self.assertTrue(late.crm_ror_refreshed_at)
        self.assertFalse(stale.crm_ror_target_ids)
        self.assertFalse(stale.crm_ror_refreshed_at)

    def test_fallback_contact_of_the_campaigns_company(self):
        Partner = self.env["res.partner"]
        customer = Partner.create({"name": "ROR M7", "is_company": True})
        # the first contact belongs to another company: the campaign's company may not mail it
        Partner.create(
            {
                "name": "ROR M7 B contact",
                "parent_id": customer.id,
                "email": "m7.b@example.com",
                "company_id": self.company_b.id,
            }
        )
        Partner.create({"name": "ROR M7 A contact", "parent_id": customer.id, "email": "m7.a@example.com"})
        self._profile_of(customer, self.seg_2, 500.0, 50.0)
        campaign = self._campaign("ROR M7", crm_ror_medium_id=self.email_medium.id)
        wizard = self._wizard(campaign, segment_ids=[(6, 0, self.seg_2.ids)], write_mailing_list=True)
        wizard.action_select()
        emails = set(wizard.mailing_list_ref.contact_ids.mapped("email_normalized"))
        self.assertEqual(emails, {"m7.a@example.com"})

    def test_customers_sharing_an_address_each_have_their_contact(self):
        # main: one mailing contact for the address, the second customer counted as "no email"
        Partner = self.env["res.partner"]
        first, second, third = Partner.create(
            [
                {"name": "ROR Shared One", "is_company": True, "email": "office@shared.example.com"},
                {"name": "ROR Shared Two", "is_company": True, "email": "Office@Shared.example.com"},
                {"name": "ROR Shared Three", "is_company": True, "email": "office@shared.example.com"},
            ]
        )
        for partner in first | second | third:
            self._profile_of(partner, self.seg_2, 500.0, 50.0)
        # the address is already a mailing contact, named after the second customer: it is reused for it
        known = self.env["mailing.contact"].create(
            {"name": "ROR Shared Two", "email": "office@shared.example.com"}
        )
        contacts_before = self.env["mailing.contact"].search_count([])
        campaign = self._campaign("ROR Shared office", crm_ror_medium_id=self.email_medium.id)
        wizard = self._wizard(campaign, segment_ids=[(6, 0, self.seg_2.ids)], write_mailing_list=True)
        wizard.action_select()
        self.assertEqual(campaign.crm_ror_target_ids.partner_id, first | second | third)
        contacts = wizard.mailing_list_ref.contact_ids
        self.assertEqual(
            sorted(contacts.mapped("name")), ["ROR Shared One", "ROR Shared Three", "ROR Shared Two"]
        )
        self.assertEqual(set(contacts.mapped("email_normalized")), {"office@shared.example.com"})
        self.assertIn(known, contacts)
        self.assertEqual((wizard.mailing_contact_count, wizard.removed_no_email_count), (3, 0))
        self.assertEqual(self.env["mailing.contact"].search_count([]), contacts_before + 2)

    def test_mailing_list_needs_the_email_marketing_group(self):
        user = self.env["res.users"].create(
            {
                "name": "ROR Campaign manager without Email Marketing",
                "login": "ror_campaign_no_mailing",
                "company_id": self.company_a.id,
                "company_ids": [(6, 0, self.company_a.ids)],
                "groups_id": [(6, 0, [self.env.ref("sales_team.group_sale_manager").id])],
            }
        )
        group = self.env.ref("mass_mailing.group_mass_mailing_user")
        self.assertNotIn(group, user.groups_id)
        campaign = self._campaign("ROR No rights", crm_ror_medium_id=self.email_medium.id)
        wizard = self._wizard(campaign, write_mailing_list=True).with_user(user)
        with self.assertRaises(UserError) as caught:
            wizard.action_select()
        self.assertIs(type(caught.exception), UserError, "a clear refusal, not an access error midway")
        self.assertIn(group.full_name, str(caught.exception))
        self.assertFalse(campaign.crm_ror_target_ids, "nothing is written when refused")


class TestCampaignMailingBudget(CrmRorCampaignCase):
    def test_sync_is_set_wise(self):
        """The trace synchronisation costs the same few queries for 5 or 50 customers."""
        email = self.env["utm.medium"].create({"name": "ROR Budget Email", "crm_ror_channel": "email"})
        counts = []
        for size in (5, 50):
            campaign = self._campaign(f"ROR Budget {size}", crm_ror_medium_id=email.id)
            partners = self.env["res.partner"].create(
                [
                    {"name": f"ROR B{size} {i}", "is_company": True, "email": f"b{size}.{i}@example.com"}
                    for i in range(size)
                ]
            )
            mailing = self.env["mailing.mailing"].create(
                {
                    "subject": "ROR budget",
                    "body_html": "<p>x</p>",
                    "campaign_id": campaign.id,
                    "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                }
            )
            self.env["mailing.trace"].create(
                [
                    {
                        "mass_mailing_id": mailing.id,
                        "model": "res.partner",
                        "res_id": p.id,
                        "email": p.email,
                        "trace_status": "sent",
                        "sent_datetime": datetime.now() - timedelta(days=1),
                    }
                    for p in partners
                ]
            )
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            campaign._crm_ror_sync_mailing_touches()
            counts.append(self.env.cr.sql_log_count - before)
            self.assertEqual(len(campaign.crm_ror_target_ids), size)
        # the second, ten times larger, costs no more (the first also fills the caches)
        self.assertLessEqual(counts[1], counts[0], f"queries grow with the customers: {counts}")
        self.assertLessEqual(max(counts), 6)
