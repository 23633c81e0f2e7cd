"""Cost to serve, return on relationship, lifetime value on records, and the provider hook."""

from datetime import date, timedelta
from unittest.mock import patch

import numpy as np

from odoo import fields
from odoo.addons.crm_ror.engine import clv
from odoo.addons.crm_ror.engine import ror as ror_engine
from odoo.tools import SQL

from .value_common import CrmRorScenarioCase


class TestRor(CrmRorScenarioCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.ror.customer.profile"]._compute_profiles(cls.company_a | cls.company_b)

    def test_cost_to_serve_and_ror(self):
        acme = self._profile(self.p1)
        self.assertAlmostEqual(acme.cost_campaign, 10.0)
        self.assertAlmostEqual(acme.cost_activity, 5.0)
        self.assertAlmostEqual(acme.cost_discount, 15.0)
        self.assertAlmostEqual(acme.cost_other, 0.0)
        self.assertAlmostEqual(acme.cost_to_serve, 30.0)
        self.assertTrue(acme.has_ror)
        self.assertAlmostEqual(acme.ror, (225.0 - 30.0) / 30.0)
        self.assertAlmostEqual(acme.ror_12m, (225.0 - 30.0) / 30.0)
        self.assertAlmostEqual(acme.cost_to_serve_12m, 30.0)
        self.assertEqual(acme.ror_trend, "none")  # nothing the year before

    def test_costs_stay_in_their_company(self):
        acme_b = self._profile(self.p1, self.company_b)
        self.assertAlmostEqual(acme_b.cost_campaign, 99.0)
        self.assertAlmostEqual(acme_b.cost_activity, 0.0)  # the call was made for company A
        self.assertAlmostEqual(acme_b.ror, (200.0 - 99.0) / 99.0)

    def test_no_cost_means_no_ror(self):
        newcomer = self._profile(self.p6)
        self.assertAlmostEqual(newcomer.cost_to_serve, 0.0)
        self.assertFalse(newcomer.has_ror)
        self.assertEqual(newcomer.ror, 0.0)

    def test_undefined_figures_are_null(self):
        self.env.flush_all()
        Profile = self.env["crm.ror.customer.profile"]

        def column(partner, name):
            query = SQL(
                "SELECT %s FROM crm_ror_customer_profile WHERE partner_id = %s AND company_id = %s",
                SQL.identifier(name),
                partner.id,
                self.company_a.id,
            )
            return self.env.execute_query(query)[0][0]

        # The newcomer: one purchase, no cost to serve. The reversed customer: no revenue.
        for partner, name in (
            (self.p6, "ror"),
            (self.p6, "ror_12m"),
            (self.p6, "avg_days_between"),
            (self.p6, "median_days_between"),
            (self.p2, "margin_rate"),
            (self.p2, "average_order_value"),
            (self.p2, "days_since_last_purchase"),
            (self.p7, "recency_score"),  # Lost: not scored
            (self.p6, "clv_probability_alive"),  # too few customers for a model
        ):
            self.assertIsNone(column(partner, name), f"{partner.name}: {name}")
        self.assertEqual(column(self.p1, "avg_days_between"), 60.0)
        # Averages skip the undefined values: only Acme has a gap between purchases.
        [(gap,)] = Profile._read_group(
            [("company_id", "=", self.company_a.id)], aggregates=["avg_days_between:avg"]
        )
        self.assertAlmostEqual(gap, 60.0)

    def test_group_ratios_are_ratios_of_sums(self):
        Profile = self.env["crm.ror.customer.profile"]
        domain = [("company_id", "=", self.company_a.id)]
        profiles = Profile.search(domain)
        self.assertGreater(len(profiles), 2)
        margin, cost = sum(profiles.mapped("gross_margin")), sum(profiles.mapped("cost_to_serve"))
        revenue = sum(profiles.mapped("revenue"))
        [row] = Profile.read_group(domain, ["ror:avg", "margin_rate", "ror_12m", "revenue:sum"], [])
        self.assertAlmostEqual(row["ror"], (margin - cost) / cost)
        self.assertAlmostEqual(row["margin_rate"], 100.0 * margin / revenue)
        self.assertAlmostEqual(row["revenue"], revenue)
        self.assertNotIn("__ror_gross_margin", row)
        # Per group as well, and undefined (no cost) stays empty.
        rows = Profile.read_group(domain, ["ror", "cost_to_serve:sum"], ["partner_id"])
        by_partner = {row["partner_id"][0]: row for row in rows}
        self.assertAlmostEqual(by_partner[self.p1.id]["ror"], self._profile(self.p1).ror)
        self.assertIs(by_partner[self.p6.id]["ror"], False)

    def test_every_campaign_contact_costs(self):
        """Quotations and orders with a campaign are contacts too, not only leads; an order of a lead
        of the same campaign is that lead's contact."""
        campaign = self.env["utm.campaign"].create({"name": "ROR Autumn"})
        Order = self.env["sale.order"].with_company(self.company_a)
        values = {
            "partner_id": self.p6.id,
            "company_id": self.company_a.id,
            "campaign_id": campaign.id,
            "medium_id": self.medium.id,
        }
        Order.create(values)  # a quotation sent through the campaign: 10
        lead = (
            self.env["crm.lead"]
            .with_company(self.company_a)
            .create(dict(values, name="ROR autumn lead", type="opportunity"))
        )  # 10
        Order.create(dict(values, opportunity_id=lead.id))  # the lead's own order: no second contact
        self._compute(self.company_a)
        self.assertAlmostEqual(self._profile(self.p6).cost_campaign, 20.0)

    def test_mass_mailing_traces_are_campaign_contacts(self):
        """With mass_mailing (installed in the test database), each mailing delivered to a customer
        is a contact at its medium's cost, in the period it was sent; bounced or cancelled traces and
        mailings without a medium cost nothing."""
        partner_model = self.env["ir.model"]._get_id("res.partner")
        mailing, no_medium = self.env["mailing.mailing"].create(
            [
                {"subject": "ROR news", "mailing_model_id": partner_model, "medium_id": self.medium.id},
                {"subject": "ROR news, no medium", "mailing_model_id": partner_model},
            ]
        )
        no_medium.medium_id = False
        now = fields.Datetime.now()
        self.env["mailing.trace"].create(
            [
                {
                    "model": "res.partner",
                    "res_id": partner.id,
                    "mass_mailing_id": sent_by.id,
                    "trace_status": status,
                    "sent_datetime": when,
                }
                for partner, sent_by, status, when in (
                    (self.p6, mailing, "sent", now),
                    (self.p6, mailing, "open", now - timedelta(days=400)),
                    (self.p6, mailing, "bounce", now),
                    (self.p6, mailing, "cancel", now),
                    (self.p6, no_medium, "sent", now),
                    (self.p1, mailing, "reply", now),
                )
            ]
        )
        start_12m = self.today - timedelta(days=364)
        all_time, last_12m = self.env["crm.ror.cost.to.serve"]._costs_by_period(
            self.company_a, [self.p6.id], [(None, self.today), (start_12m, self.today)]
        )
        self.assertAlmostEqual(all_time["campaign"][self.p6.id], 20.0)  # delivered and opened: 2 x 10
        self.assertAlmostEqual(last_12m["campaign"][self.p6.id], 10.0)  # the opened one is older
        before = self._profile(self.p1).cost_campaign
        self._compute(self.company_a)
        self.assertAlmostEqual(self._profile(self.p1).cost_campaign, before + 10.0)

    def test_default_costs_of_standard_mediums_and_activity_types(self):
        call = self.env.ref("mail.mail_activity_data_call")
        self.assertAlmostEqual(call.ror_default_cost, 5.0)
        self.assertAlmostEqual(self.env.ref("utm.utm_medium_email").ror_default_contact_cost, 0.1)
        activity = (
            self.env["mail.activity"]
            .with_company(self.company_a)
            .create(
                {
                    "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                    "res_id": self.p6.id,
                    "activity_type_id": call.id,
                    "user_id": self.env.uid,
                }
            )
        )
        activity.action_feedback(feedback="Called")
        self._compute(self.company_a)
        newcomer = self._profile(self.p6)
        self.assertAlmostEqual(newcomer.cost_activity, 5.0)  # no cost of company A's own: the default
        self.assertTrue(newcomer.has_ror)
        call.with_company(self.company_a).ror_cost = 3.0
        self._compute(self.company_a)
        self.assertAlmostEqual(self._profile(self.p6).cost_activity, 3.0)

    def test_ror_trend(self):
        """The trend codes the recompute stores: an undefined ROR (NaN) is not comparable."""
        codes = ror_engine.trends([1.0, 0.2, 0.5, 0.5], [0.5, 0.5, 0.52, np.nan])
        self.assertEqual([ror_engine.TRENDS[code] for code in codes], ["up", "down", "stable", "none"])
        # Seen 300 days from now, Acme's purchases fall in the 12 months before the last 12 months,
        # while the contact and the call (made today) stay in the last 12 months.
        self._compute(self.company_a, reference_date=self._days_ago(-300))
        acme = self._profile(self.p1)
        self.assertAlmostEqual(acme.gross_margin_12m, 0.0)
        self.assertAlmostEqual(acme.cost_to_serve_12m, 15.0)
        self.assertAlmostEqual(acme.ror_12m, -1.0)
        self.assertAlmostEqual(acme.ror_prev_12m, (225.0 - 15.0) / 15.0)
        self.assertEqual(acme.ror_trend, "down")

    def test_other_costs_from_providers(self):
        partner_class = type(self.env["res.partner"])
        calls = []

        def provider(model, company, partner_ids, date_from, date_to):
            calls.append((company, date_from, date_to))
            return {self.p1.id: 20.0} if company == self.company_a and self.p1.id in partner_ids else {}

        with patch.object(partner_class, "_crm_ror_cost_to_serve", provider, create=True):
            self.assertIn("res.partner", self.env["crm.ror.customer.profile"]._ror_cost_providers())
            self._compute(self.company_a)
        acme = self._profile(self.p1)
        self.assertAlmostEqual(acme.cost_other, 20.0)
        self.assertAlmostEqual(acme.cost_to_serve, 50.0)
        self.assertAlmostEqual(acme.ror, (225.0 - 50.0) / 50.0)
        # whole relationship, last 12 months, previous 12 months
        self.assertEqual(len(calls), 3)
        self.assertIsNone(calls[0][1])

    def test_clv_not_enough_history(self):
        acme = self._profile(self.p1)
        self.assertAlmostEqual(acme.clv_historic, 225.0)
        self.assertEqual(acme.clv_status, "not_enough_history")
        self.assertIn("3 customers", acme.clv_message)
        self.assertEqual(acme.clv_predicted, 0.0)
        self.assertIn("Not enough history", self.company_a.ror_clv_model_info)
        self.assertEqual(self._profile(self.p3).clv_message, "No purchase yet.")

    def test_clv_prediction_with_enough_history(self):
        """The model's plumbing on simulated customers: weeks, margins, statuses."""
        Profile = self.env["crm.ror.customer.profile"]
        rng = np.random.default_rng(5)
        truth = clv.BGNBDParams(r=0.5, alpha=6.0, a=0.8, b=2.5)
        today = (self.today - date(2000, 1, 1)).days  # the recompute's day numbers
        rows = []
        for _index in range(300):
            lam, drop = rng.gamma(truth.r, 1 / truth.alpha), rng.beta(truth.a, truth.b)
            t, days = 0.0, [0]
            while True:
                t += rng.exponential(1 / lam)
                if t > 52 or (rng.random() < drop and len(days) > 1):
                    break
                days.append(int(t * 7) + 1)
            days = sorted(set(days))
            first = today - 364
            spend = float(rng.gamma(6, 15.0 / 4)) if len(days) > 1 else 0.0
            rows.append((len(days), first, first + days[-1], spend, 100.0 * len(days), 40.0 * len(days)))
        count, first, last, spend, revenue, margin = map(np.array, zip(*rows, strict=True))
        buyers = {
            "day_count": count,
            "first_date": first,
            "last_date": last,
            "repeat_mean": spend,
            "revenue": revenue,
            "margin": margin,
        }
        fit = Profile._ror_clv_fit(
            self.company_a, *Profile._ror_fit_inputs(buyers, today), spend, revenue, margin
        )
        self.assertIn("BG/NBD", fit["info"])
        figures = Profile._ror_clv_figures(self.company_a, today, count > 0, buyers, fit)
        ok = Profile._ror_codes("clv_status")["ok"]
        self.assertEqual(set(figures["clv_status"].tolist()), {ok})
        self.assertTrue(np.isnan(figures["clv_message"]).all())
        predicted = figures["clv_predicted"]
        self.assertTrue((predicted >= 0).all())
        self.assertTrue((predicted > 0).any())
        alive = figures["clv_probability_alive"]
        self.assertTrue(((alive > 0) & (alive <= 100)).all())
        # margin rate 40 %: the predicted margin is 40 % of the expected revenue (before discounting)
        self.assertTrue(
            (
                predicted <= 0.4 * figures["clv_expected_purchases"] * figures["clv_expected_spend"] + 0.01
            ).all()
        )
