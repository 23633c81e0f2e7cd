"""The public survey route through real HTTP requests (run with pytest-odoo's --odoo-http)."""

from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged


@tagged("standard", "post_install", "-at_install")
class TestNpsSurveyHttp(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create(
            {"name": "ROR Survey Customer", "email": "survey@example.com"}
        )
        cls.request_ = cls.env["crm.ror.nps.answer"]._crm_ror_request(cls.partner)
        cls.token = cls.request_.sudo().access_token

    def test_form_answer_then_expired(self):
        url = f"/crm_ror/nps/{self.token}"
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        self.assertIn("How likely are you to recommend", page.text)
        bad = self.url_open(url, data={"score": "11"})
        self.assertEqual(bad.status_code, 400)
        self.assertIn("Score: choose a whole number from 0 to 10", bad.text)
        done = self.url_open(url, data={"score": "10", "comment": "Fast & friendly <3"})
        self.assertEqual(done.status_code, 200)
        self.assertIn("Thank you", done.text)
        self.request_.invalidate_recordset()
        self.assertEqual((self.request_.state, self.request_.score), ("answered", 10))
        self.assertEqual(self.request_.comment, "Fast & friendly <3")
        self.assertEqual(self.request_.category, "promoter")
        again = self.url_open(url, data={"score": "0"})
        self.assertEqual(again.status_code, 410)
        self.assertIn("already used", again.text)
        self.assertEqual(self.url_open(url).status_code, 410)
        self.request_.invalidate_recordset()
        self.assertEqual(self.request_.score, 10, "a used link writes nothing")

    def test_expired_and_unknown_token(self):
        self.request_.sudo().token_expires = fields.Datetime.now() - timedelta(days=1)
        response = self.url_open(f"/crm_ror/nps/{self.token}", data={"score": "8"})
        self.assertEqual(response.status_code, 410)
        self.assertIn("expired", response.text)
        self.assertEqual(self.url_open("/crm_ror/nps/not-a-token").status_code, 410)
