"""Forecast wizard (weighted pipeline, band, run-rate) and leads-needed wizard on known sets."""

import math
from datetime import date, datetime

from odoo.exceptions import ValidationError
from odoo.tests import freeze_time

from .leads_common import LeadsCase


class TestForecastWizard(LeadsCase):
    def test_forecast_by_month_and_team(self):
        wizard, team_2 = self._forecast()
        self._check_lines(wizard, team_2)
        self._check_band(wizard)

    def _forecast(self):
        team_2 = self.env["crm.team"].create({"name": "ROR Team 2", "company_id": self.company.id})
        with freeze_time("2026-03-10 10:00:00"):
            self._lead("A1", expected_revenue=1000, probability=50.0, date_deadline=date(2026, 3, 20))
            self._lead("A2", expected_revenue=2000, probability=10.0, date_deadline=date(2026, 3, 1))
            self._lead("A3 overdue", expected_revenue=100, probability=90.0, date_deadline=date(2026, 1, 5))
            self._lead(
                "B1",
                expected_revenue=400,
                probability=25.0,
                date_deadline=date(2026, 8, 31),
                team_id=team_2.id,
            )
            self._lead("B2 later", expected_revenue=999, probability=90.0, date_deadline=date(2026, 9, 1))
            self._lead("no date", expected_revenue=300, probability=50.0)
            won_1 = self._lead("won 1", expected_revenue=1200)
            won_2 = self._lead("won 2", expected_revenue=2400)
            won_old = self._lead("won too early", expected_revenue=10000)
            won_now = self._lead("won this month", expected_revenue=7000)
            self._win(won_1, datetime(2025, 12, 1), datetime(2026, 1, 15))
            self._win(won_2, datetime(2025, 11, 1), datetime(2025, 12, 1))
            self._win(won_old, datetime(2024, 1, 1), datetime(2025, 2, 28))
            self._win(won_now, datetime(2026, 3, 1), datetime(2026, 3, 2))
            self.env.flush_all()
            wizard = self.env["crm.ror.forecast.wizard"].create({"company_id": self.company.id})
            wizard.action_compute()
        return wizard, team_2

    def _check_lines(self, wizard, team_2):
        self.assertEqual((wizard.undated_count, wizard.undated_amount), (1, 300))
        lines = {(line.bucket, line.team_id, line.is_total): line for line in wizard.line_ids}
        self.assertEqual(len(lines), 7 * 3, "overdue + six months, x (two teams + total)")
        march = lines[("2026-03", self.team, False)]
        # 1000 x .5 + 2000 x .1; variance 250000 + 360000. The overdue deal is not in this month.
        self.assertEqual(march.nb_deals, 2)
        self.assertAlmostEqual(march.weighted, 700.0)
        sigma = math.sqrt(610000.0)
        self.assertAlmostEqual(march.sigma, sigma, places=2)
        self.assertEqual(march.lower, 0.0, "700 - 781: floored at 0")
        self.assertAlmostEqual(march.upper, 700.0 + sigma, places=2)
        overdue = lines[("Overdue", self.team, False)]
        self.assertTrue(overdue.is_overdue)
        self.assertEqual(overdue.nb_deals, 1)
        self.assertAlmostEqual(overdue.weighted, 90.0)
        self.assertAlmostEqual(overdue.sigma, 30.0, places=6)  # sqrt(100^2 x .9 x .1)
        self.assertEqual(overdue.run_rate, 0.0, "a monthly run-rate has no overdue bucket")
        # run-rate: won 2025-03-01 .. 2026-02-28 = 1200 + 2400 over 12 months
        self.assertAlmostEqual(march.run_rate, 300.0)
        august_2 = lines[("2026-08", team_2, False)]
        self.assertAlmostEqual(august_2.weighted, 100.0)
        self.assertAlmostEqual(august_2.sigma, math.sqrt(30000.0), places=2)
        self.assertEqual(august_2.run_rate, 0.0)
        august = lines[("2026-08", self.env["crm.team"], True)]
        self.assertAlmostEqual(august.weighted, 100.0)
        self.assertAlmostEqual(august.run_rate, 300.0)
        empty = lines[("2026-05", self.team, False)]
        self.assertEqual((empty.weighted, empty.lower, empty.upper), (0.0, 0.0, 0.0))
        action = wizard.action_open_lines()
        self.assertEqual(self.env["crm.ror.forecast.line"].search_count(action["domain"]), 14)
        # the run-rate is a monthly average: the pivot cannot sum it over months
        self.assertIsNone(self.env["crm.ror.forecast.line"]._fields["run_rate"].aggregator)

    def _check_band(self, wizard):
        sigma = math.sqrt(610000.0)
        # the band graph: lower / weighted / upper (and the run-rate) of all teams per period
        band = self.env["crm.ror.forecast.band"].search(wizard.action_open_band()["domain"])
        points = {(point.bucket, point.series): point.amount for point in band}
        self.assertEqual(len(points), 7 * 4 - 1)
        self.assertAlmostEqual(points[("2026-03", "weighted")], 700.0)
        self.assertAlmostEqual(points[("2026-03", "upper")], 700.0 + sigma, places=2)
        self.assertAlmostEqual(points[("Overdue", "lower")], 60.0, places=6)
        self.assertAlmostEqual(points[("2026-03", "run_rate")], 300.0)

    def test_leads_without_company_are_forecast(self):
        with freeze_time("2026-03-10 10:00:00"):
            self._lead(
                "no company",
                company_id=False,
                team_id=False,
                user_id=False,
                expected_revenue=1000,
                date_deadline=date(2026, 4, 2),
            )
            other = self.env["res.company"].create({"name": "ROR Other Co"})
            self._lead(
                "other company",
                company_id=other.id,
                team_id=False,
                user_id=False,
                expected_revenue=5000,
                date_deadline=date(2026, 4, 2),
            )
            wizard = self.env["crm.ror.forecast.wizard"].create({"company_id": self.company.id})
            wizard.action_compute()
        april = wizard.line_ids.filtered(lambda line: line.bucket == "2026-04" and line.is_total)
        self.assertEqual((april.nb_deals, april.weighted), (1, 100.0))

    def test_menu_action_opens_a_computed_forecast(self):
        action = self.env.ref("crm_ror.crm_ror_forecast_wizard_action").run()
        self.assertEqual(action["res_model"], "crm.ror.forecast.wizard")
        wizard = self.env["crm.ror.forecast.wizard"].browse(action["res_id"])
        self.assertEqual(len(wizard.line_ids.filtered("is_total")), 7)


class TestLeadsNeededWizard(LeadsCase):
    def _history_lead(self, name, source, state, amount, created, closed=None):
        lead = self._lead(name, source_id=source.id, expected_revenue=amount)
        if state == "won":
            self._win(lead, created, closed)
        elif state == "lost":
            self._lose(lead, created, closed)
        else:
            self._set_closed(lead, created, None)
        return lead

    def _wizard(self, **values):
        return self.env["crm.ror.leads.needed.wizard"].create(
            {
                "company_id": self.company.id,
                "target_amount": 9000,
                "date_from": date(2026, 1, 1),
                "date_to": date(2026, 3, 31),
                "history_months": 12,
                **values,
            }
        )

    def test_leads_needed_from_matured_cohorts(self):
        web, fair = self.source_web, self.source_fair
        cold = self.env["utm.source"].create({"name": "ROR Cold Calls"})
        created = datetime(2025, 6, 1)
        self._history_lead("w1", web, "won", 1000, created, datetime(2025, 7, 1))
        self._history_lead(
            "w2", web, "won", 3000, created, datetime(2026, 2, 1)
        )  # won after the window: counts
        self._history_lead("w3", web, "lost", 800, created, datetime(2025, 9, 1))
        self._history_lead("w4 rotting", web, "open", 800, created)  # open past the lag: not converted
        self._history_lead(
            "w5 young", web, "open", 800, datetime(2025, 12, 20)
        )  # may still convert: left out
        self._history_lead("f1", fair, "won", 2000, created, datetime(2025, 10, 1))
        self._history_lead("f2", fair, "lost", 500, created, datetime(2025, 10, 2))
        self._history_lead("before", fair, "won", 90000, datetime(2024, 12, 31), datetime(2025, 2, 1))
        self._history_lead("after", fair, "won", 90000, datetime(2026, 1, 2), datetime(2026, 1, 3))
        self._history_lead("c1", cold, "lost", 0, created, datetime(2025, 8, 1))
        self._history_lead("c2", cold, "open", 0, created)
        self.env.flush_all()
        with freeze_time("2026-01-10 10:00:00"):
            wizard = self._wizard()
            wizard.action_compute()
        # 6 counted opportunities made 6000: 1000 a lead; 9000 needs 9, 4/6 web and 2/6 fair; cold calls
        # never won and get none
        self.assertEqual(wizard.total_leads, 9)
        self.assertAlmostEqual(wizard.leads_per_month, 3.0)
        self.assertAlmostEqual(wizard.conversion_rate, 50.0)
        self.assertAlmostEqual(wizard.average_deal, 2000.0)
        lines = {line.source_id: line for line in wizard.line_ids}
        self.assertEqual(set(lines), {web, fair})
        self.assertEqual(
            (lines[web].closed, lines[web].won, lines[web].leads_required, lines[fair].leads_required),
            (4, 2, 6, 3),
        )
        self.assertAlmostEqual(lines[web].conversion_rate, 50.0)
        self.assertAlmostEqual(lines[web].mix, 400 / 6, places=1)
        self.assertAlmostEqual(sum(wizard.line_ids.mapped("expected_revenue")), 9000.0)
        self.assertEqual(sum(wizard.line_ids.mapped("leads_required")), wizard.total_leads)
        with freeze_time("2026-01-10 10:00:00"):
            both = self._wizard(include_sources_without_wins=True)
            both.action_compute()
        # 8 counted for 6000: 750 a lead, 12 leads, a quarter of them (3) to cold calls
        self.assertEqual(both.total_leads, 12)
        self.assertEqual(both.line_ids.filtered(lambda line: line.source_id == cold).leads_required, 3)

    def test_no_history(self):
        wizard = self._wizard(target_amount=1000)
        with self.assertRaises(ValidationError):
            wizard.action_compute()
