"""Predictive lifetime value fitted on real posted invoices."""

from datetime import timedelta

from odoo.exceptions import UserError
from odoo.tools import SQL

from .value_common import CrmRorValueCase


class TestClvOnRecords(CrmRorValueCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 36 customers of the lifetime-value story (MBG/NBD purchases, Gamma-Gamma spend, seeded).
        cls.partners = cls._post_clv_story(36, "ROR buyer")
        cls.moves = cls.env["account.move"].search([("partner_id", "in", cls.partners.ids)])
        cls.env["crm.ror.customer.profile"]._compute_profiles(cls.company_a)

    def test_predictive_clv(self):
        profiles = self.env["crm.ror.customer.profile"].search([("company_id", "=", self.company_a.id)])
        self.assertEqual(len(profiles), 36)
        self.assertEqual(set(profiles.mapped("clv_status")), {"ok"}, self.company_a.ror_clv_model_info)
        self.assertIn("BG/NBD", self.company_a.ror_clv_model_info)
        for profile in profiles:
            self.assertGreaterEqual(profile.clv_predicted, 0.0)
            self.assertTrue(0.0 < profile.clv_probability_alive <= 100.0)
            self.assertGreater(profile.clv_expected_spend, 0.0)
            self.assertFalse(profile.clv_message)
        # MBG/NBD (the default): one-time buyers may have dropped out, the older the first (and only)
        # purchase the less likely alive. Under BG/NBD they were all "100 % alive".
        self.assertIn("MBG/NBD", self.company_a.ror_clv_model_info)
        single = profiles.filtered(lambda p: p.purchase_count == 1).sorted("days_since_last_purchase")
        self.assertGreater(len(single), 1)
        self.assertTrue(all(p.clv_probability_alive < 100.0 for p in single))
        alive = single.mapped("clv_probability_alive")
        self.assertEqual(alive, sorted(alive, reverse=True))
        # Churn risk bands follow the company's thresholds; next purchases lie ahead.
        for profile in profiles:
            alive = profile.clv_probability_alive
            band = "high" if alive < 30.0 else "medium" if alive < 70.0 else "low"
            self.assertEqual(profile.churn_risk, band)
            self.assertTrue(not profile.clv_next_purchase_date or profile.clv_next_purchase_date > self.today)
        self.assertTrue(any(profiles.mapped("clv_next_purchase_date")))
        # A longer horizon never lowers the predicted value.
        before = {p.id: p.clv_predicted for p in profiles}
        self.company_a.ror_clv_horizon_months = 36
        self.env["crm.ror.customer.profile"]._compute_profiles(self.company_a)
        self.assertTrue(all(p.clv_predicted >= before[p.id] for p in profiles))
        self.assertTrue(any(p.clv_predicted > before[p.id] for p in profiles))

    def test_calibration_report(self):
        cutoff = self.today - timedelta(days=240)
        calibration = self.env["crm.ror.clv.calibration"].create(
            {"company_id": self.company_a.id, "cutoff_date": cutoff, "end_date": self.today}
        )
        self.assertEqual(calibration.model, "mbgnbd")
        calibration.action_compute()
        # Hand count: customers who bought before the cut-off, and their purchase days after it.
        days = {}
        for move in self.moves:
            days.setdefault(move.partner_id, set()).add(move.invoice_date)
        known = {partner: d for partner, d in days.items() if min(d) <= cutoff}
        holdout = sum(len([day for day in d if day > cutoff]) for d in known.values())
        lines = calibration.line_ids
        self.assertEqual(calibration.customer_count, len(known))
        self.assertEqual(sum(lines.mapped("customers")), len(known))
        # (means stored to 3 decimals)
        self.assertAlmostEqual(
            sum(line.actual * line.customers for line in lines), holdout, delta=0.001 * len(known)
        )
        self.assertEqual(lines.mapped("frequency"), sorted(lines.mapped("frequency")))
        self.assertTrue(all(line.predicted >= 0 for line in lines))
        self.assertGreater(calibration.mae, 0.0)
        self.assertIn("r=", calibration.parameters)
        # Too early a cut-off is refused with a reason.
        early = calibration.copy({"cutoff_date": self.today - timedelta(days=725)})
        with self.assertRaises(UserError):
            early.action_compute()

    def test_bgnbd_stays_selectable(self):
        self.company_a.ror_clv_model = "bgnbd"
        self.env["crm.ror.customer.profile"]._compute_profiles(self.company_a)
        self.assertIn("BG/NBD", self.company_a.ror_clv_model_info)
        self.assertNotIn("MBG/NBD", self.company_a.ror_clv_model_info)
        profiles = self.env["crm.ror.customer.profile"].search([("company_id", "=", self.company_a.id)])
        single = profiles.filtered(lambda p: p.purchase_count == 1)
        self.assertTrue(single)
        self.assertTrue(all(p.clv_probability_alive == 100.0 for p in single))

    def test_churn_thresholds_per_company(self):
        self.company_a.write({"ror_churn_high_below": 0.0, "ror_churn_medium_below": 0.0})
        self.env["crm.ror.customer.profile"]._compute_profiles(self.company_a)
        profiles = self.env["crm.ror.customer.profile"].search([("company_id", "=", self.company_a.id)])
        self.assertEqual(set(profiles.mapped("churn_risk")), {"low"})

    def test_too_few_customers_is_stated(self):
        Profile = self.env["crm.ror.customer.profile"]
        self.patch(type(Profile), "_ror_clv_min_customers", 100)
        Profile._compute_profiles(self.company_a)
        profiles = Profile.search([("company_id", "=", self.company_a.id)])
        self.assertEqual(set(profiles.mapped("clv_status")), {"not_enough_history"})
        self.assertEqual(set(profiles.mapped("clv_predicted")), {0.0})
        # Without a model the predictions are undefined (NULL), not zero.
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                "SELECT count(*) FROM crm_ror_customer_profile WHERE company_id = %s AND (clv_predicted "
                "IS NOT NULL OR clv_probability_alive IS NOT NULL OR churn_risk IS NOT NULL)",
                self.company_a.id,
            )
        )
        self.assertEqual(rows, [(0,)])
        self.assertIn("36 customers, at least 100 needed", profiles[0].clv_message)
