"""Satisfaction answers: NPS arithmetic on records, bad scores, one-time survey tokens."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError

from .campaign_common import CrmRorCampaignCase


class TestNps(CrmRorCampaignCase):
    def _answers(self, scores, company=None, partner=None):
        return self.env["crm.ror.nps.answer"].create(
            [
                {
                    "partner_id": (partner or self.p1).id,
                    "company_id": (company or self.company_a).id,
                    "score": score,
                }
                for score in scores
            ]
        )

    def test_nps_arithmetic_on_records(self):
        # 3 promoters, 2 passives, 5 detractors: 30 - 50 = -20.
        answers = self._answers([10, 9, 9, 8, 7, 6, 5, 0, 3, 1])
        self._answers([0, 0], company=self.company_b)
        nps, count = self.env["crm.ror.nps.answer"]._crm_ror_nps([("company_id", "=", self.company_a.id)])
        self.assertEqual(count, 10)
        self.assertAlmostEqual(nps, -20.0)
        self.assertEqual(answers.mapped("category").count("promoter"), 3)
        # The pivot's average of nps_value is the NPS too.
        [(value,)] = self.env["crm.ror.nps.answer"]._read_group(
            [("company_id", "=", self.company_a.id)], [], ["nps_value:avg"]
        )
        self.assertAlmostEqual(value, -20.0)
        self.assertEqual(
            self.env["crm.ror.nps.answer"]._crm_ror_nps(
                [("company_id", "=", self.company_a.id), ("score", ">", 10)]
            ),
            (None, 0),
        )

    def test_score_out_of_range(self):
        with self.assertRaisesRegex(ValidationError, "the score is 11; enter a whole number from 0 to 10"):
            self._answers([11])
        with self.assertRaisesRegex(ValidationError, "the score is -1"):
            self._answers([-1])

    def test_request_and_token_lifecycle(self):
        self.p1.email = "acme@example.com"
        self.p6.write({"email": "newcomer@example.com", "crm_ror_do_not_contact": True})
        Answer = self.env["crm.ror.nps.answer"]
        requests = Answer._crm_ror_request(self.p1 | self.p6 | self.p7, company=self.company_a)
        self.assertEqual(requests.partner_id, self.p1, "no email or do not contact: no survey")
        self.assertEqual(requests.state, "requested")
        token = requests.sudo().access_token
        self.assertGreaterEqual(len(token), 32)
        self.assertAlmostEqual(
            requests.token_expires, fields.Datetime.now() + timedelta(days=30), delta=timedelta(minutes=5)
        )
        self.assertIn(token, requests._crm_ror_survey_url())
        self.assertTrue(
            self.env["mail.mail"].search(
                [("model", "=", "crm.ror.nps.answer"), ("res_id", "=", requests.id)]
            ),
            "the link is mailed",
        )
        # A requested answer counts in no NPS.
        self.assertEqual(Answer._crm_ror_nps([("id", "=", requests.id)]), (None, 0))
        with self.assertRaisesRegex(ValidationError, "Score: choose a whole number from 0 to 10"):
            Answer._crm_ror_answer_by_token(token, "12")
        self.assertEqual(requests.state, "requested", "a bad score leaves the link usable")
        Answer._crm_ror_answer_by_token(token, "9", "Great service")
        self.assertEqual((requests.state, requests.score, requests.comment), ("answered", 9, "Great service"))
        self.assertFalse(requests.sudo().access_token)
        with self.assertRaisesRegex(UserError, "already used or does not exist"):
            Answer._crm_ror_answer_by_token(token, "3")
        self.assertEqual(requests.score, 9)

    def test_contact_action_sends_and_reports(self):
        self.p1.email = "acme@example.com"
        action = self.env.ref("crm_ror.crm_ror_nps_request_action_server")
        result = action.with_context(active_model="res.partner", active_ids=(self.p1 | self.p7).ids).run()
        self.assertEqual(result["tag"], "display_notification")
        self.assertIn("1 survey link(s) sent; 1 contact(s) skipped", result["params"]["message"])
        self.assertEqual(
            self.env["crm.ror.nps.answer"].search([("state", "=", "requested")]).partner_id, self.p1
        )

    def test_expired_token(self):
        self.p1.email = "acme@example.com"
        request = self.env["crm.ror.nps.answer"]._crm_ror_request(self.p1, company=self.company_a)
        request.sudo().token_expires = fields.Datetime.now() - timedelta(seconds=1)
        with self.assertRaisesRegex(UserError, "has expired"):
            self.env["crm.ror.nps.answer"]._crm_ror_answer_by_token(request.sudo().access_token, "10")
        self.assertEqual(request.state, "requested")


class TestNpsAccess(CrmRorCampaignCase):
    """Salespeople request surveys for their own customers only, and cannot forge a linked answer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        group = cls.env.ref("sales_team.group_sale_salesman")
        cls.seller, cls.other_seller = cls.env["res.users"].create(
            [
                {
                    "name": f"ROR NPS Seller {index}",
                    "login": f"ror_nps_seller_{index}",
                    "company_id": cls.company_a.id,
                    "company_ids": [(6, 0, cls.company_a.ids)],
                    "groups_id": [(6, 0, [group.id])],
                }
                for index in (1, 2)
            ]
        )
        cls.manager = cls.env["res.users"].create(
            {
                "name": "ROR NPS Manager",
                "login": "ror_nps_manager",
                "company_id": cls.company_a.id,
                "company_ids": [(6, 0, cls.company_a.ids)],
                "groups_id": [(6, 0, [cls.env.ref("sales_team.group_sale_manager").id])],
            }
        )
        cls.mine, cls.theirs = cls.env["res.partner"].create(
            [
                {"name": "ROR NPS Mine", "email": "mine@example.com", "user_id": cls.seller.id},
                {"name": "ROR NPS Theirs", "email": "theirs@example.com", "user_id": cls.other_seller.id},
            ]
        )

    def _answers(self, partner):
        return self.env["crm.ror.nps.answer"].search([("partner_id", "=", partner.id)])

    def test_salesperson_requests_surveys_for_own_customers_only(self):
        Answer = self.env["crm.ror.nps.answer"].with_user(self.seller).with_company(self.company_a)
        with self.assertRaises(AccessError):
            Answer.action_request_survey(self.theirs.with_user(self.seller))
        self.assertFalse(self._answers(self.theirs), "no answer under another salesperson's customer")
        self.assertFalse(self.env["mail.mail"].search([("email_to", "ilike", "theirs@example.com")]))
        result = Answer.action_request_survey(self.mine.with_user(self.seller))
        self.assertIn("1 survey link(s) sent", result["params"]["message"])
        request = self._answers(self.mine)
        self.assertEqual(request.state, "requested")
        self.assertGreaterEqual(len(request.sudo().access_token), 32)

    def test_salesperson_cannot_forge_linked_answer(self):
        request = self.env["crm.ror.nps.answer"]._crm_ror_request(self.mine, company=self.company_a)
        as_seller = request.with_user(self.seller)
        for vals in (
            {"score": 10},
            {"state": "answered"},
            {"score": 10, "state": "answered"},
            {"channel": "phone"},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                as_seller.write(vals)
        self.assertEqual((request.state, request.score), ("requested", 0))
        # Answered through the link, the score stays the customer's.
        self.env["crm.ror.nps.answer"]._crm_ror_answer_by_token(request.sudo().access_token, "3")
        with self.assertRaises(AccessError):
            as_seller.write({"score": 10})
        self.assertEqual(request.score, 3)
        # A manual answer is the salesperson's to enter and correct; a manager may correct any.
        manual = (
            self.env["crm.ror.nps.answer"]
            .with_user(self.seller)
            .create(
                {"partner_id": self.mine.id, "company_id": self.company_a.id, "score": 7, "channel": "phone"}
            )
        )
        manual.score = 8
        self.assertEqual((manual.state, manual.score, manual.category), ("answered", 8, "passive"))
        with self.assertRaises(AccessError):
            manual.state = "requested"
        request.with_user(self.manager).score = 4
        self.assertEqual(request.score, 4)
