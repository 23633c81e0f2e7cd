"""crm_ror's scorecard catalog KPIs (contract 1) on real records."""

from datetime import datetime, time, timedelta

from odoo.tools import SQL

from .value_common import CrmRorScenarioCase


class TestScorecardKpi(CrmRorScenarioCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.ror.customer.profile"]._compute_profiles(cls.company_a | cls.company_b)
        cls.Kpi = cls.env["crm.ror.scorecard.kpi"]

    def _period(self, days, company=None, team=None):
        date_from, date_to = self._days_ago(days - 1), self.today
        return {
            "company": company or self.company_a,
            "team": team or self.env["crm.team"],
            "date_from": date_from,
            "date_to": date_to,
            "datetime_from": datetime.combine(date_from, time.min),
            "datetime_to": datetime.combine(date_to + timedelta(days=1), time.min),
        }

    def test_catalog(self):
        catalog = self.Kpi._crm_scorecard_kpi_catalog()
        codes = {kpi["code"] for kpi in catalog}
        self.assertLessEqual(
            {
                "crm_ror.retention_rate",
                "crm_ror.churn_rate",
                "crm_ror.repeat_customers",
                "crm_ror.repeat_customers_per_salesperson",
                "crm_ror.profile_freshness",
            },
            codes,
        )
        for kpi in catalog:
            self.assertIn(kpi["perspective"], ("financial", "customer", "process", "learning"))
            self.assertIn(kpi["direction"], ("max", "min"))
            self.assertTrue(callable(getattr(self.Kpi, kpi["method"])))

    def test_retention_and_churn(self):
        # Previous 90 days: none bought; previous of a 180-day window: Acme (172 days ago) ... see below.
        period = self._period(90)
        # Base = buyers 90..179 days ago = Acme (112 and 172); this period: newcomer only.
        self.assertEqual(self.Kpi._kpi_retention_rate(period), 0.0)
        self.assertEqual(self.Kpi._kpi_churn_rate(period), 100.0)
        # Acme buys again: retained.
        self._invoice(self.company_a, self.p1, 3, [(1, 10.0, 0.0)])
        self.assertEqual(self.Kpi._kpi_retention_rate(period), 100.0)
        self.assertEqual(self.Kpi._kpi_churn_rate(period), 0.0)
        # No buyer in the previous period: undefined.
        self.assertIsNone(self.Kpi._kpi_retention_rate(self._period(30)))

    def test_repeat_customers(self):
        period = self._period(200)
        # Acme (two purchases) is the only repeat customer; the reversed invoice does not count.
        self.assertEqual(self.Kpi._kpi_repeat_customers(period), 1.0)
        self.assertEqual(self.Kpi._kpi_repeat_customers_per_salesperson(period), 1.0)
        self.assertEqual(self.Kpi._kpi_repeat_customers(self._period(50)), 0.0)
        empty_team = self.env["crm.team"].create({"name": "ROR empty team"})
        self.assertIsNone(self.Kpi._kpi_repeat_customers_per_salesperson(self._period(200, team=empty_team)))

    def test_profile_freshness(self):
        self.assertEqual(self.Kpi._kpi_profile_freshness(self._period(30)), 100.0)
        self.env["crm.ror.customer.profile"].search([("partner_id", "=", self.p1.id)]).computed_at = datetime(
            2000, 1, 1
        )
        # Acme, newcomer, sleeper have purchases in A; Acme's profile is stale.
        self.assertAlmostEqual(self.Kpi._kpi_profile_freshness(self._period(30)), 200 / 3)
        self.assertIsNone(
            self.Kpi._kpi_profile_freshness(
                self._period(30, company=self.env["res.company"].create({"name": "ROR empty"}))
            )
        )

    def test_buyers_are_the_purchases_of_the_sales_lines(self):
        """The buyers read from the documents of the range are those of the profiles' sales lines."""
        Profile = self.env["crm.ror.customer.profile"]

        def from_lines(period, date_from, date_to):
            company, team = period["company"], period["team"]
            rows = self.env.execute_query(
                SQL(
                    """
                    SELECT DISTINCT partner_id FROM (%(lines)s) lines
                     WHERE is_purchase AND partner_id IS NOT NULL AND doc_date >= %(date_from)s
                       AND (%(team)s::int IS NULL OR team_id = %(team)s)
                    """,
                    lines=Profile._ror_sales_lines_query(company, date_to),
                    date_from=date_from,
                    team=team.id or None,
                )
            )
            return {row[0] for row in rows}

        # the scenario's invoices, credit notes (partial, unmatched, a full reversal) and drafts, both sources
        seen = set()
        for company in (self.company_a, self.company_b):
            for source in ("invoice", "order"):
                company.ror_source = source
                for days in (10, 30, 90, 200, 400, 2000):
                    period = self._period(days, company=company)
                    for lo, hi in (
                        (period["date_from"], period["date_to"]),
                        (self._days_ago(days * 2), self._days_ago(days)),
                    ):
                        expected = from_lines(period, lo, hi)
                        self.assertEqual(
                            self.Kpi._ror_buyers(period, lo, hi), expected, (company.name, source, days)
                        )
                        seen |= expected
        self.assertTrue(seen, "the scenario has buyers: the comparison is not vacuous")
