"""Lead KPIs offered to crm_scorecard's catalog (contract 1)."""

from datetime import date, datetime

from odoo.tests import freeze_time

from .leads_common import LeadsCase


class TestLeadScorecardKpi(LeadsCase):
    def _period(self, team=None):
        return {
            "company": self.company,
            "team": team or self.env["crm.team"],
            "date_from": date(2026, 3, 1),
            "date_to": date(2026, 3, 31),
            "datetime_from": datetime(2026, 3, 1),
            "datetime_to": datetime(2026, 4, 1),
        }

    def test_catalog_shape(self):
        Kpi = self.env["crm.ror.lead.scorecard.kpi"]
        catalog = Kpi._crm_scorecard_kpi_catalog()
        self.assertEqual(len({item["code"] for item in catalog}), len(catalog))
        for item in catalog:
            self.assertTrue(item["code"].startswith("crm_ror."))
            self.assertIn(item["perspective"], ("financial", "customer", "process", "learning"))
            self.assertIn(item["direction"], ("max", "min"))
            self.assertTrue(callable(getattr(Kpi, item["method"])))

    def test_values(self):
        Kpi = self.env["crm.ror.lead.scorecard.kpi"]
        self.assertIsNone(Kpi._kpi_lead_black_hole_rate(self._period()))
        self.assertIsNone(Kpi._kpi_lead_won_revenue_rate(self._period()))
        with freeze_time("2026-04-15 10:00:00"):
            hot = self._lead("hot", probability=90.0, priority="3")
            quiet = self._lead("quiet")
            stale = self._lead("stale")
            won = self._lead("won", expected_revenue=1000.0)
            lost = self._lead("lost", expected_revenue=3000.0)
            # engaged after the period: idle 0 at its end; hot now (temperature is a snapshot)
            self._age(hot, datetime(2026, 3, 20, 10, 0))
            hot.date_last_activity_done = datetime(2026, 4, 10, 10, 0)
            self._age(
                quiet, datetime(2026, 3, 11, 10, 0)
            )  # 20 whole days at the period end (2026-04-01 00:00)
            self._age(stale, datetime(2026, 2, 1, 10, 0))  # 58 days: beyond the team's 30
            self._win(won, datetime(2026, 2, 1), datetime(2026, 3, 10))
            self._lose(lost, datetime(2026, 2, 1), datetime(2026, 3, 20))
            # disqualified raw leads are not lost deals: no effect on the win rate
            junk = self._lead("junk", type="lead")
            self._lose(junk, datetime(2026, 2, 1), datetime(2026, 3, 21))
            self._commit()
            self.assertAlmostEqual(Kpi._kpi_lead_black_hole_rate(self._period()), 100 / 3)
            self.assertAlmostEqual(Kpi._kpi_lead_avg_idle_days(self._period()), (0 + 20 + 58) / 3)
            self.assertAlmostEqual(Kpi._kpi_lead_hot_share(self._period(self.team)), 100 / 3)
            # revenue-weighted: 1,000 won of the 4,000 closed (the count-based rate would say 50 %)
            self.assertAlmostEqual(Kpi._kpi_lead_won_revenue_rate(self._period()), 25.0)
