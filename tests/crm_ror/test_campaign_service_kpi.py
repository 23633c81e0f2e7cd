"""Grievances and the satisfaction / service KPIs offered to the scorecard catalog."""

from datetime import datetime, time, timedelta

from odoo import fields
from odoo.exceptions import AccessError, ValidationError

from .campaign_common import CrmRorCampaignCase


class TestServiceKpi(CrmRorCampaignCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a = cls.company_a
        # Buyers of the last 30 days in A: p1 (twice: a repeat customer), p6 and p7.
        cls._invoice(a, cls.p1, 200, [(1, 100.0, 0.0)])
        cls._invoice(a, cls.p1, 10, [(1, 100.0, 0.0)])
        cls._invoice(a, cls.p6, 5, [(1, 100.0, 0.0)])
        cls._invoice(a, cls.p7, 3, [(1, 100.0, 0.0)])
        cls.Kpi = cls.env["crm.ror.service.scorecard.kpi"]
        cls.now = datetime.combine(cls.today, time(12, 0))

    def _period(self, days=30, company=None):
        date_from = self._days_ago(days - 1)
        return {
            "company": company or self.company_a,
            "team": self.env["crm.team"],
            "date_from": date_from,
            "date_to": self.today,
            "datetime_from": datetime.combine(date_from, time.min),
            "datetime_to": datetime.combine(self.today + timedelta(days=1), time.min),
        }

    def _grievance(self, partner, opened_hours_ago, resolved_after_hours=None, company=None):
        grievance = self.env["crm.ror.grievance"].create(
            {
                "name": f"ROR complaint {partner.name}",
                "partner_id": partner.id,
                "company_id": (company or self.company_a).id,
                "date_opened": self.now - timedelta(hours=opened_hours_ago),
            }
        )
        if resolved_after_hours is not None:
            grievance.write(
                {
                    "state": "resolved",
                    "date_resolved": grievance.date_opened + timedelta(hours=resolved_after_hours),
                }
            )
        return grievance

    def test_catalog_contract(self):
        catalog = self.Kpi._crm_scorecard_kpi_catalog()
        codes = {entry["code"] for entry in catalog}
        self.assertLessEqual(
            {
                "crm_ror.nps",
                "crm_ror.complaint_rate",
                "crm_ror.median_resolution_hours",
                "crm_ror.repeat_purchase_rate",
                "crm_ror.data_complete_share",
                "crm_ror.data_median_age",
            },
            codes,
        )
        for entry in catalog:
            self.assertIn(entry["perspective"], ("financial", "customer", "process", "learning"))
            self.assertIn(entry["direction"], ("max", "min"))
            self.assertTrue(callable(getattr(self.Kpi, entry["method"])))
        if "crm.scorecard.catalog" in self.env:
            self.assertIn("crm_ror.nps", self.env["crm.scorecard.catalog"]._collect_catalog())

    def test_complaint_rate_and_resolution(self):
        period = self._period()
        self.assertEqual(self.Kpi._kpi_complaint_rate(period), 0.0)
        self.assertIsNone(self.Kpi._kpi_median_resolution_hours(period))
        # Two complaints of p1, one of p6; resolved in 2, 4 and 9 hours; one in B does not count.
        self._grievance(self.p1, 48, 2)
        self._grievance(self.p1_contact, 30, 4)
        self._grievance(self.p6, 20, 9)
        self._grievance(self.p7, 10)  # still open
        self._grievance(self.p1, 10, 100, company=self.company_b)
        # Customers who complained (p1, p6, p7) per buyer (p1, p6, p7): 100 %.
        self.assertAlmostEqual(self.Kpi._kpi_complaint_rate(period), 100.0)
        self.assertAlmostEqual(self.Kpi._kpi_median_resolution_hours(period), 4.0)
        self.assertIsNone(self.Kpi._kpi_complaint_rate(self._period(company=self.company_b)))

    def test_repeat_purchase_rate_and_nps(self):
        # p1 bought before: 1 repeat buyer of 3.
        self.assertAlmostEqual(self.Kpi._kpi_repeat_purchase_rate(self._period()), 100.0 / 3)
        self.assertIsNone(self.Kpi._kpi_nps(self._period()))
        Answer = self.env["crm.ror.nps.answer"]
        Answer.create(
            [
                {"partner_id": self.p1.id, "company_id": self.company_a.id, "score": 10, "date": self.today},
                {"partner_id": self.p6.id, "company_id": self.company_a.id, "score": 3, "date": self.today},
                {"partner_id": self.p7.id, "company_id": self.company_a.id, "score": 9, "date": self.today},
                {
                    "partner_id": self.p7.id,
                    "company_id": self.company_a.id,
                    "score": 0,
                    "date": self._days_ago(90),
                },
            ]
        )
        # In the period: 2 promoters, 1 detractor of 3.
        self.assertAlmostEqual(self.Kpi._kpi_nps(self._period()), 100.0 / 3)

    def test_grievance_dates(self):
        grievance = self.env["crm.ror.grievance"].create(
            {
                "name": "ROR late",
                "partner_id": self.p1.id,
                "date_opened": fields.Datetime.now() - timedelta(hours=5),
            }
        )
        self.assertFalse(grievance.date_resolved)
        grievance.action_resolve()
        self.assertTrue(grievance.date_resolved)
        self.assertAlmostEqual(grievance.resolution_hours, 5.0, delta=0.1)
        grievance.state = "open"
        self.assertFalse(grievance.date_resolved, "reopening clears the resolution")
        with self.assertRaisesRegex(ValidationError, "cannot be resolved before it was opened"):
            grievance.date_resolved = grievance.date_opened - timedelta(hours=1)

    def test_resolution_date_is_set_by_the_server_only(self):
        seller = self.env["res.users"].create(
            {
                "name": "ROR Grievance Seller",
                "login": "ror_grievance_seller",
                "company_id": self.company_a.id,
                "company_ids": [(6, 0, self.company_a.ids)],
                "groups_id": [(6, 0, [self.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        Grievance = self.env["crm.ror.grievance"].with_user(seller).with_company(self.company_a)
        opened = fields.Datetime.now() - timedelta(hours=30)
        with self.assertRaises(AccessError):
            Grievance.create(
                {
                    "name": "ROR forged",
                    "partner_id": self.p1.id,
                    "date_opened": opened,
                    "date_resolved": opened,
                }
            )
        grievance = Grievance.create({"name": "ROR honest", "partner_id": self.p1.id, "date_opened": opened})
        for value in (opened + timedelta(minutes=1), False):
            with self.subTest(value=value), self.assertRaises(AccessError):
                grievance.write({"date_resolved": value})
            with self.subTest(value=value, state="resolved"), self.assertRaises(AccessError):
                grievance.write({"state": "resolved", "date_resolved": value})
        self.assertFalse(grievance.date_resolved)
        grievance.action_resolve()
        self.assertAlmostEqual(grievance.resolution_hours, 30.0, delta=0.1)
        # Created resolved, it is stamped too: no resolved grievance without its date.
        done = Grievance.create(
            {"name": "ROR done", "partner_id": self.p1.id, "date_opened": opened, "state": "resolved"}
        )
        self.assertTrue(done.date_resolved)
