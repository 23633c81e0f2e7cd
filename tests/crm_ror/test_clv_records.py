"""Predictive lifetime value fitted on real posted invoices."""

import numpy as np

from odoo import Command

from .value_common import CrmRorValueCase


class TestClvOnRecords(CrmRorValueCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 36 customers whose purchases follow the BG/NBD story over two years and whose spend follows
        # the Gamma-Gamma story (seeded).
        rng = np.random.default_rng(42)
        partners = cls.env["res.partner"].create([{"name": f"ROR buyer {i}"} for i in range(36)])
        vals_list = []
        for partner in partners:
            rate, dropout = rng.gamma(1.0, 1 / 8.0), rng.beta(1.0, 3.0)
            spend_rate = rng.gamma(4.0, 1 / 75.0)
            start = int(rng.integers(0, 300))
            day, days = 730 - start, [730 - start]
            while True:
                day -= int(rng.exponential(7 / rate)) + 1
                if day < 1 or (len(days) > 1 and rng.random() < dropout):
                    break
                days.append(day)
            for days_ago in days:
                vals_list.append(
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "invoice_date": cls._days_ago(days_ago),
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "product_id": cls.product.id,
                                    "quantity": 1,
                                    "price_unit": float(round(rng.gamma(6.0, 1 / spend_rate), 2)),
                                    "tax_ids": [Command.clear()],
                                }
                            )
                        ],
                    }
                )
        cls.moves = cls.env["account.move"].with_company(cls.company_a).create(vals_list)
        cls.moves.action_post()
        cls.partners = partners
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
        # Single-purchase customers are alive for the model; the expected value orders with recency.
        single = profiles.filtered(lambda p: p.purchase_count == 1)
        self.assertTrue(all(p.clv_probability_alive == 100.0 for p in single))
        # A longer horizon never lowers the predicted value.
        before = {p.id: p.clv_predicted for p in profiles}
        self.company_a.ror_clv_horizon_months = 36
        self.env["crm.ror.customer.profile"]._compute_profiles(self.company_a)
        self.assertTrue(all(p.clv_predicted >= before[p.id] for p in profiles))
        self.assertTrue(any(p.clv_predicted > before[p.id] for p in profiles))

    def test_too_few_customers_is_stated(self):
        Profile = self.env["crm.ror.customer.profile"]
        self.patch(type(Profile), "_ror_clv_min_customers", 100)
        Profile._compute_profiles(self.company_a)
        profiles = Profile.search([("company_id", "=", self.company_a.id)])
        self.assertEqual(set(profiles.mapped("clv_status")), {"not_enough_history"})
        self.assertEqual(set(profiles.mapped("clv_predicted")), {0.0})
        self.assertIn("36 customers, at least 100 needed", profiles[0].clv_message)
