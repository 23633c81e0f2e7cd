"""Target selection by expected value, do-not-contact rules, and the projection of a planned campaign."""

from odoo import fields
from odoo.exceptions import UserError

from .campaign_common import CrmRorCampaignCase


class TestCampaignTargeting(CrmRorCampaignCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        # History on the phone channel: seg 1 5 of 10 responded, seg 2 0 of 10 (one past campaign).
        past = cls._campaign("ROR Past", crm_ror_fixed_cost=0.0)
        past_partners = Partner.create([{"name": f"ROR Past {i}", "is_company": True} for i in range(20)])
        Target = cls.env["crm.ror.campaign.target"]
        Target.create(
            [
                {
                    "campaign_id": past.id,
                    "partner_id": partner.id,
                    "segment_id": (cls.seg_1 if i < 10 else cls.seg_2).id,
                    "date_targeted": cls._days_ago(100),
                }
                for i, partner in enumerate(past_partners)
            ]
        )
        # Responses as a refresh would write them: 5 responders of seg 1, 40 of revenue and 20 of margin each.
        responders = Target.search(
            [("campaign_id", "=", past.id), ("segment_id", "=", cls.seg_1.id)], limit=5
        )
        responders.write({"responded": True, "response_rate": 100.0, "revenue": 40.0, "margin": 20.0})
        past.crm_ror_refreshed_at = fields.Datetime.now()
        cls.past = past

        cls.q1, cls.q2, cls.q3, cls.q4, cls.q5, cls.q7 = Partner.create(
            [
                {"name": "ROR Q1", "is_company": True},
                {"name": "ROR Q2", "is_company": True},
                {"name": "ROR Q3", "is_company": True},
                {"name": "ROR Q4 DNC", "is_company": True, "crm_ror_do_not_contact": True},
                {"name": "ROR Q5 Blacklisted", "is_company": True, "email": "q5@example.com"},
                {"name": "ROR Q7 Company DNC", "is_company": True, "crm_ror_do_not_contact": True},
            ]
        )
        cls.q6 = Partner.create({"name": "ROR Q6 Contact", "parent_id": cls.q7.id})
        cls.env["mail.blacklist"].create({"email": "q5@example.com"})
        # Expected order margin = expected spend x margin rate.
        cls._profile_of(cls.q1, cls.seg_1, 300.0, 50.0)  # 150
        cls._profile_of(cls.q2, cls.seg_2, 300.0, 50.0)  # 150
        cls._profile_of(cls.q3, cls.seg_2, 12.0, 50.0)  # 6
        cls._profile_of(cls.q4, cls.seg_1, 1000.0, 50.0)
        cls._profile_of(cls.q5, cls.seg_1, 1000.0, 50.0)
        cls.campaign = cls._campaign("ROR Winter")

    def _wizard(self, **values):
        return self.env["crm.ror.campaign.target.wizard"].create(
            {
                "campaign_id": self.campaign.id,
                "segment_ids": [(6, 0, (self.seg_1 | self.seg_2).ids)],
                "partner_ids": [(6, 0, self.q6.ids)],
                **values,
            }
        )

    def test_rank_positive_and_removed_counts(self):
        wizard = self._wizard(mode="positive")
        wizard.action_select()
        targets = self.campaign.crm_ror_target_ids
        # Channel rate 5 / 20 = 0.25; shrunk with 20 contacts of prior:
        # seg 1 (5 + 5) / 30 = 1/3, seg 2 (0 + 5) / 30 = 1/6.
        # EV: q1 150/3 - 2 = 48, q2 150/6 - 2 = 23, q3 6/6 - 2 = -1 (dropped).
        self.assertEqual(targets.sorted("expected_value", reverse=True).partner_id, self.q1 | self.q2)
        by_partner = {target.partner_id: target for target in targets}
        self.assertAlmostEqual(by_partner[self.q1].expected_value, 48.0)
        self.assertAlmostEqual(by_partner[self.q2].expected_value, 23.0)
        self.assertEqual(by_partner[self.q1].segment_id, self.seg_1)
        self.assertEqual(wizard.removed_dnc_count, 1)
        self.assertEqual(wizard.removed_company_dnc_count, 1)
        self.assertEqual(wizard.removed_blacklist_count, 1)
        self.assertEqual(wizard.candidate_count, 6)
        self.assertEqual(wizard.selected_count, 2)
        self.assertAlmostEqual(wizard.expected_total, 71.0)
        blocked = self.q4 | self.q5 | self.q6 | self.q7
        self.assertFalse(targets.partner_id & blocked, "do-not-contact and blacklist always win")

    def test_top_n_and_budget(self):
        self._wizard(mode="top", top_n=1).action_select()
        self.assertEqual(self.campaign.crm_ror_target_ids.partner_id, self.q1)
        # Budget 5 at 2 x 2 touches: one more customer (q1 is already targeted, q2 is next).
        wizard = self._wizard(mode="budget", budget=5.0, touches=2)
        wizard.action_select()
        self.assertEqual(wizard.removed_targeted_count, 1)
        self.assertEqual(self.campaign.crm_ror_target_ids.partner_id, self.q1 | self.q2)
        self.assertEqual(
            self.campaign.crm_ror_target_ids.filtered(lambda t: t.partner_id == self.q2).touches, 2
        )

    def test_thin_history_falls_back_to_assumed_rate(self):
        sms = self.env["utm.medium"].create({"name": "ROR SMS", "crm_ror_channel": "sms"})
        sms.with_company(self.company_a).ror_contact_cost = 1.0
        self.campaign.crm_ror_medium_id = sms
        self._wizard(mode="positive", assumed_rate=10.0).action_select()
        # No SMS history: P = 10 % for every segment; EV q1 = 15 - 1, q2 = 14, q3 = 0.6 - 1 < 0.
        targets = self.campaign.crm_ror_target_ids
        self.assertEqual(targets.partner_id, self.q1 | self.q2)
        self.assertAlmostEqual(targets[0].expected_value, 14.0)

    def test_bad_input(self):
        with self.assertRaisesRegex(UserError, "Budget: .* does not pay for one contact"):
            self._wizard(mode="budget", budget=1.0).action_select()
        with self.assertRaisesRegex(UserError, "Segments: choose at least one segment"):
            self._wizard(segment_ids=[(5, 0, 0)], partner_ids=[(5, 0, 0)]).action_select()
        empty = self.env["crm.ror.segment"].create({"name": "ROR Empty", "company_id": self.company_a.id})
        with self.assertRaisesRegex(UserError, "Segment ROR Empty has no customer"):
            self._wizard(segment_ids=[(6, 0, empty.ids)]).action_select()
        self.campaign.crm_ror_medium_id = False
        with self.assertRaisesRegex(UserError, "has no contact medium"):
            self._wizard().action_select()
        self.assertFalse(self.campaign.crm_ror_target_ids)

    def test_projection_on_known_history(self):
        projection = self.env["crm.ror.campaign.projection"].create(
            {
                "company_id": self.company_a.id,
                "medium_id": self.phone.id,
                "touches": 1,
                "segment_ids": [(6, 0, (self.seg_1 | self.seg_2).ids)],
                "fixed_cost": 3.0,
            }
        )
        projection.action_project()
        lines = {line.segment_id: line for line in projection.line_ids}
        # Seg 1 has 3 customers (q1, q4, q5), history 5 / 10: 1.5 responders, 40 / 20 per responder.
        self.assertEqual(lines[self.seg_1].targets, 3)
        self.assertEqual(lines[self.seg_1].campaigns, 1)
        self.assertEqual(lines[self.seg_1].contacts, 10)
        self.assertAlmostEqual(lines[self.seg_1].responders, 1.5)
        self.assertAlmostEqual(lines[self.seg_1].revenue, 60.0)
        self.assertAlmostEqual(lines[self.seg_1].margin, 30.0)
        # Seg 2 (q2, q3): 0 of 10, nothing expected.
        self.assertAlmostEqual(lines[self.seg_2].responders, 0.0)
        self.assertGreater(lines[self.seg_2].responders_high, 0.0, "0 of 10 is not a certainty")
        # Cost: 5 customers x 2 + 3 fixed = 13; ROMI (30 - 13) / 13.
        self.assertAlmostEqual(projection.cost, 13.0)
        self.assertAlmostEqual(projection.margin, 30.0)
        self.assertAlmostEqual(projection.romi, 17.0 / 13.0)
        self.assertFalse(projection.note)
        # Two touches have no history: the projection says so instead of inventing a rate.
        projection.touches = 2
        projection.action_project()
        self.assertFalse(any(projection.line_ids.mapped("known")))
        self.assertIn("ROR Seg One", projection.note)

    def test_projection_bad_input(self):
        projection = self.env["crm.ror.campaign.projection"].create(
            {"company_id": self.company_a.id, "medium_id": self.phone.id}
        )
        with self.assertRaisesRegex(UserError, "Segments: choose at least one segment"):
            projection.action_project()
