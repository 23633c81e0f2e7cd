"""Campaign economics on real invoices and opportunities, against hand-computed figures."""

from odoo.addons.crm_ror.engine import campaign as engine
from odoo.exceptions import UserError, ValidationError

from .campaign_common import CrmRorCampaignCase


class TestCampaignEconomics(CrmRorCampaignCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a = cls.company_a
        cls.campaign = cls._campaign("ROR Autumn", crm_ror_fixed_cost=10.0, crm_ror_response_days=30)
        # p1: targeted 40 days ago, 2 touches; buys 35 days ago (2 x 100, cost 60), credit note 20 days
        # ago (50, cost 30 back): revenue 150, margin 140 - 20 = 120.
        cls.t1 = cls._target(cls.campaign, cls.p1_contact, 40, touches=2, segment_id=cls.seg_1.id)
        cls._invoice(a, cls.p1, 35, [(2, 100.0, 0.0)])
        cls._invoice(a, cls.p1, 20, [(1, 50.0, 0.0)], move_type="out_refund")
        # The same customer's purchase in company B is not company A's response.
        cls._invoice(cls.company_b, cls.p1, 30, [(1, 500.0, 0.0)])
        # p2: buys 5 days ago, outside its window (40 - 30 = 10 days ago): no response.
        cls.t2 = cls._target(cls.campaign, cls.p2, 40, segment_id=cls.seg_1.id)
        cls._invoice(a, cls.p2, 5, [(1, 100.0, 0.0)])
        # p3: targeted 10 days ago, wins an opportunity 2 days ago: responder without revenue.
        cls.t3 = cls._target(cls.campaign, cls.p3, 10, segment_id=cls.seg_2.id)
        cls._won_opportunity(a, cls.p3, 2)
        # p4: targeted, a draft invoice only: no response.
        cls.t4 = cls._target(cls.campaign, cls.p4, 40, segment_id=cls.seg_2.id)
        cls._invoice(a, cls.p4, 30, [(1, 100.0, 0.0)], post=False)

    def test_responses_and_romi_without_control(self):
        self.campaign.action_crm_ror_refresh()
        self.assertEqual(
            (self.t1 | self.t2 | self.t3 | self.t4).mapped("responded"), [True, False, True, False]
        )
        self.assertAlmostEqual(self.t1.revenue, 150.0)
        self.assertAlmostEqual(self.t1.margin, 120.0)
        self.assertEqual(self.t1.response_date, self._days_ago(35))
        self.assertEqual(self.t1.partner_id, self.p1, "a contact is targeted as its company")
        campaign = self.campaign
        self.assertEqual(campaign.crm_ror_target_count, 4)
        self.assertEqual(campaign.crm_ror_responder_count, 2)
        self.assertAlmostEqual(campaign.crm_ror_response_rate, 50.0)
        self.assertAlmostEqual(campaign.crm_ror_revenue, 150.0)
        self.assertAlmostEqual(campaign.crm_ror_margin, 120.0)
        # Cost: fixed 10 + (2 + 1 + 1 + 1) touches x 2 = 20. ROMI = (120 - 20) / 20 = 5.
        self.assertAlmostEqual(campaign.crm_ror_cost, 20.0)
        self.assertAlmostEqual(campaign.crm_ror_romi, 5.0)
        self.assertTrue(campaign.crm_ror_has_romi)
        # Wilson 95 % of 2 / 4: 15.0 % to 85.0 %.
        self.assertAlmostEqual(campaign.crm_ror_rate_low, 15.0, delta=0.1)
        self.assertAlmostEqual(campaign.crm_ror_rate_high, 85.0, delta=0.1)
        self.assertFalse(campaign.crm_ror_has_control)

    def test_control_group(self):
        # Held out: p6 buys 30 days ago (100, cost 30: margin 70), p7 does not.
        self._target(self.campaign, self.p6, 40, is_control=True, touches=0)
        self._target(self.campaign, self.p7, 40, is_control=True, touches=0)
        self._invoice(self.company_a, self.p6, 30, [(1, 100.0, 0.0)])
        self.campaign.action_crm_ror_refresh()
        campaign = self.campaign
        self.assertEqual(campaign.crm_ror_target_count, 4, "control customers are not contacted")
        self.assertEqual(campaign.crm_ror_control_count, 2)
        self.assertAlmostEqual(campaign.crm_ror_cost, 20.0, msg="control customers cost nothing")
        self.assertAlmostEqual(campaign.crm_ror_control_rate, 50.0)
        self.assertAlmostEqual(campaign.crm_ror_incremental_rate, 0.0)
        # Control margin 70 for 2 customers = 140 for 4: incremental margin 120 - 140 = -20,
        # incremental ROMI (-20 - 20) / 20 = -2.
        self.assertAlmostEqual(campaign.crm_ror_incremental_margin, -20.0)
        self.assertAlmostEqual(campaign.crm_ror_incremental_romi, -2.0)
        self.assertAlmostEqual(campaign.crm_ror_romi, 5.0)

    def test_tagged_attribution_counts_only_campaign_documents(self):
        campaign = self._campaign("ROR Tagged", crm_ror_attribution="tagged", crm_ror_response_days=60)
        target = self._target(campaign, self.p6, 50)
        self._invoice(self.company_a, self.p6, 40, [(1, 100.0, 0.0)])
        campaign.action_crm_ror_refresh()
        self.assertFalse(target.responded, "an invoice without the campaign is not attributed")
        tagged = self._invoice(self.company_a, self.p6, 30, [(3, 100.0, 0.0)], post=False)
        tagged.campaign_id = campaign
        tagged.action_post()
        campaign.action_crm_ror_refresh()
        self.assertTrue(target.responded)
        self.assertAlmostEqual(target.revenue, 300.0)

    def test_response_by_touches_and_segment(self):
        self.campaign.action_crm_ror_refresh()
        Target = self.env["crm.ror.campaign.target"]
        by_touches = dict(
            Target._read_group([("campaign_id", "=", self.campaign.id)], ["touches"], ["response_rate:avg"])
        )
        self.assertAlmostEqual(by_touches[2], 100.0)
        self.assertAlmostEqual(by_touches[1], 100.0 / 3)
        by_cell = {
            (segment, channel): value
            for segment, channel, value in Target._read_group(
                [("campaign_id", "=", self.campaign.id)], ["segment_id", "channel"], ["response_rate:avg"]
            )
        }
        self.assertAlmostEqual(by_cell[self.seg_1, "phone"], 50.0)
        self.assertAlmostEqual(by_cell[self.seg_2, "phone"], 50.0)

    def test_response_report_by_segment_channel_touches(self):
        Report = self.env["crm.ror.campaign.response.report"]
        self.assertFalse(Report.search([("company_id", "=", self.company_a.id)]), "no computed campaign yet")
        self._target(self.campaign, self.p6, 40, is_control=True, touches=0)
        self.campaign.action_crm_ror_refresh()
        rows = {
            (row.segment_id, row.touches): row
            for row in Report.search([("company_id", "=", self.company_a.id), ("channel", "=", "phone")])
        }
        self.assertEqual(
            set(rows), {(self.seg_1, 2), (self.seg_1, 1), (self.seg_2, 1)}, "control is left out"
        )
        cell = rows[self.seg_2, 1]
        self.assertEqual((cell.contacts, cell.responders, cell.campaigns), (2, 1, 1))
        low, high = engine.wilson_interval(1, 2)
        self.assertAlmostEqual(cell.rate, 50.0)
        self.assertAlmostEqual(cell.rate_low, 100 * low)
        self.assertAlmostEqual(cell.rate_high, 100 * high)
        # Seg 1 with 2 touches: margin 120 on a contact cost of 4: ROMI 29.
        self.assertAlmostEqual(rows[self.seg_1, 2].romi, 29.0)
        self.assertAlmostEqual(rows[self.seg_1, 1].rate, 0.0)

    def test_refresh_is_idempotent_and_follows_new_credit_notes(self):
        self.campaign.action_crm_ror_refresh()
        self.campaign.action_crm_ror_refresh()
        self.assertAlmostEqual(self.t1.revenue, 150.0)
        self._invoice(self.company_a, self.p1, 15, [(1, 150.0, 0.0)], move_type="out_refund")
        self.campaign.action_crm_ror_refresh()
        self.assertAlmostEqual(self.t1.revenue, 0.0)
        self.assertTrue(self.t1.responded, "it bought; the credit note takes the revenue, not the response")

    def test_nightly_refresh_follows_open_windows_only(self):
        closed = self._campaign("ROR Closed", crm_ror_response_days=10)
        old = self._target(closed, self.p6, 100)
        self._invoice(self.company_a, self.p6, 95, [(1, 100.0, 0.0)])
        self.env["utm.campaign"]._cron_refresh_responses()
        self.assertTrue(self.t1.responded, "the window of the autumn campaign is open")
        self.assertFalse(old.responded, "a window closed long ago is left as it was")
        self.assertFalse(closed.crm_ror_refreshed_at)
        closed.action_crm_ror_refresh()
        self.assertTrue(old.responded)

    def test_bad_input(self):
        with self.assertRaisesRegex(ValidationError, "fixed cost cannot be negative"):
            self._campaign("ROR Negative", crm_ror_fixed_cost=-1.0)
        with self.assertRaisesRegex(ValidationError, "response window must be at least 1 day"):
            self._campaign("ROR No Window", crm_ror_response_days=0)
        with self.assertRaisesRegex(ValidationError, "cost per contact cannot be negative"):
            self.phone.with_company(self.company_a).ror_contact_cost = -0.5
        with self.assertRaisesRegex(ValidationError, "control group is never contacted"):
            self._campaign("ROR Tagged Control", crm_ror_attribution="tagged", crm_ror_control_share=10.0)

    def test_target_takes_the_segment_of_today_and_touches_add_up(self):
        self._profile_of(self.p6, self.seg_2, 100.0, 40.0)
        self._profile_of(self.p6, self.seg_1, 100.0, 40.0, company=self.company_b)
        target = self._target(self.campaign, self.p6, 1)
        self.assertEqual(target.segment_id, self.seg_2, "the segment in the campaign's company")
        self.assertFalse(self._target(self.campaign, self.p7, 1).segment_id, "no profile, no segment")
        control = self._target(self.campaign, self.p5, 1, is_control=True, touches=0)
        (self.t1 | self.t2 | control).action_add_touch()
        self.assertEqual((self.t1.touches, self.t2.touches, control.touches), (3, 2, 0))
        self.assertAlmostEqual(self.t1.cost, 6.0)
        self.assertAlmostEqual(control.cost, 0.0)

    def test_do_not_contact_holds_for_targets_added_by_hand(self):
        self.p7.crm_ror_do_not_contact = True
        with self.assertRaisesRegex(UserError, "ROR Sleeper is marked Do Not Contact"):
            self._target(self.campaign, self.p7, 1)
        self.p1.crm_ror_do_not_contact = True
        with self.assertRaisesRegex(UserError, "ROR Acme.* is marked Do Not Contact"):
            self._target(self._campaign("ROR Other"), self.p1_contact, 1)
        self.env["mail.blacklist"].create({"email": "newcomer@example.com"})
        self.p6.email = "newcomer@example.com"
        with self.assertRaisesRegex(UserError, "ROR Newcomer is marked"):
            self._target(self.campaign, self.p6, 1)
        # A held-out control customer is never contacted: allowed.
        self.assertTrue(self._target(self.campaign, self.p6, 1, is_control=True, touches=0))

    def test_control_share_holds_out_at_random(self):
        campaign = self._campaign("ROR Held Out", crm_ror_control_share=25.0)
        partners = self.env["res.partner"].create([{"name": f"ROR Held {i}"} for i in range(8)])
        targets = campaign._crm_ror_add_targets(partners)
        self.assertEqual(len(targets), 8)
        self.assertEqual(len(targets.filtered("is_control")), 2)
        self.assertEqual(set(targets.filtered("is_control").mapped("touches")), {0})
        # Adding the same customers again targets nobody twice.
        self.assertFalse(campaign._crm_ror_add_targets(partners))

    def test_company_isolation(self):
        campaign_b = self._campaign("ROR B", company=self.company_b)
        target_b = self._target(campaign_b, self.p1, 40)
        campaign_b.action_crm_ror_refresh()
        # In B: the 500 EUR invoice 30 days ago (cost 400 in B): margin 100; A's invoices are not B's.
        self.assertAlmostEqual(target_b.revenue, 500.0)
        self.assertAlmostEqual(target_b.margin, 100.0)
        self.assertAlmostEqual(campaign_b.crm_ror_cost, 7.0, msg="B's cost per contact")
        manager = self.env["res.users"].create(
            {
                "name": "ROR Campaign Manager A",
                "login": "ror_campaign_manager_a",
                "company_id": self.company_a.id,
                "company_ids": [(6, 0, self.company_a.ids)],
                "groups_id": [(6, 0, [self.env.ref("sales_team.group_sale_manager").id])],
            }
        )
        seen = self.env["crm.ror.campaign.target"].with_user(manager).search([])
        self.assertNotIn(target_b, seen)
        self.assertIn(self.t1, seen)
