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
            # engaged again after the period: at its end it was idle since 03-20 (11 days); hot now and
            # never tracked otherwise, so hot then
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
            self.assertAlmostEqual(Kpi._kpi_lead_avg_idle_days(self._period()), (11 + 20 + 58) / 3)
            self.assertAlmostEqual(Kpi._kpi_lead_hot_share(self._period(self.team)), 100 / 3)
            # revenue-weighted: 1,000 won of the 4,000 closed (the count-based rate would say 50 %)
            self.assertAlmostEqual(Kpi._kpi_lead_won_revenue_rate(self._period()), 25.0)

    def test_past_period_reads_what_was_true_at_its_end(self):
        """A past period's lead KPIs are what they were at its end: leads closed since count as open,
        engagement after the end is not seen, and the temperature is the one tracked then."""
        Kpi = self.env["crm.ror.lead.scorecard.kpi"]
        with freeze_time("2026-03-10 10:00:00"):
            cooled = self._lead("hot, cold in mid-March, hot again in April", probability=90.0, priority="3")
            self._age(cooled, datetime(2026, 3, 10, 10, 0))
            self._commit()
            self.assertEqual(cooled.temperature, "hot")
        with freeze_time("2026-03-15 10:00:00"):
            # idle 5: 0 + 0 + 30 x 2^(-5/14) (23.4) + 7.5 = 30.9: cold
            cooled.write({"probability": 0.0, "priority": "0"})
            self._commit()
            self.assertEqual(cooled.temperature, "cold")
        with freeze_time("2026-04-10 10:00:00"):
            cooled.write({"probability": 90.0, "priority": "3"})
            self._commit()
            self.assertEqual(cooled.temperature, "hot")
        with freeze_time("2026-04-15 10:00:00"):
            called_since = self._lead("called in April", probability=0.0)
            self._age(called_since, datetime(2026, 2, 1, 10, 0))
            called_since.date_last_activity_done = datetime(2026, 4, 10, 10, 0)
            won_since = self._lead("won in April")
            self._win(won_since, datetime(2026, 2, 1, 10, 0), datetime(2026, 4, 5))
            self._commit()
            period = self._period()
            # open at the end of March: all three; idle then 58, 58 and 21 whole days
            self.assertAlmostEqual(Kpi._kpi_lead_avg_idle_days(period), (58 + 58 + 21) / 3)
            self.assertAlmostEqual(Kpi._kpi_lead_black_hole_rate(period), 200 / 3)
            self.assertAlmostEqual(Kpi._kpi_lead_hot_share(period), 0.0, msg="the hot lead was cold then")
            # the current period reads today's values
            april = dict(
                period,
                date_from=date(2026, 4, 1),
                date_to=date(2026, 4, 30),
                datetime_from=datetime(2026, 4, 1),
                datetime_to=datetime(2026, 5, 1),
            )
            self.assertAlmostEqual(Kpi._kpi_lead_hot_share(april), 50.0)
            self.assertAlmostEqual(Kpi._kpi_lead_avg_idle_days(april), (5 + 36) / 2)
