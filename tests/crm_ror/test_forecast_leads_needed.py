"""Forecast wizard (weighted pipeline, band, run-rate) and leads-needed wizard on known sets."""

import math
from datetime import date, datetime

from odoo.exceptions import ValidationError
from odoo.tests import freeze_time

from .leads_common import LeadsCase


class TestForecastWizard(LeadsCase):
    def test_forecast_by_month_and_team(self):
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
        self.assertEqual((wizard.undated_count, wizard.undated_amount), (1, 300))
        lines = {(line.month, line.team_id, line.is_total): line for line in wizard.line_ids}
        self.assertEqual(len(lines), 6 * 3, "six months x (two teams + total)")
        march = lines[(date(2026, 3, 1), self.team, False)]
        # 1000 x .5 + 2000 x .1 + 100 x .9 (overdue: this month); variance 250000 + 360000 + 900
        self.assertEqual(march.nb_deals, 3)
        self.assertAlmostEqual(march.weighted, 790.0)
        sigma = math.sqrt(610900.0)
        self.assertAlmostEqual(march.sigma, sigma, places=2)
        self.assertAlmostEqual(march.lower, 790.0 - sigma, places=2)
        self.assertAlmostEqual(march.upper, 790.0 + sigma, places=2)
        # run-rate: won 2025-03-01 .. 2026-02-28 = 1200 + 2400 over 12 months
        self.assertAlmostEqual(march.run_rate, 300.0)
        august_2 = lines[(date(2026, 8, 1), team_2, False)]
        self.assertAlmostEqual(august_2.weighted, 100.0)
        self.assertAlmostEqual(august_2.sigma, math.sqrt(30000.0), places=2)
        self.assertEqual(august_2.run_rate, 0.0)
        august = lines[(date(2026, 8, 1), self.env["crm.team"], True)]
        self.assertAlmostEqual(august.weighted, 100.0)
        self.assertAlmostEqual(august.run_rate, 300.0)
        empty = lines[(date(2026, 5, 1), self.team, False)]
        self.assertEqual((empty.weighted, empty.lower, empty.upper), (0.0, 0.0, 0.0))
        action = wizard.action_open_lines()
        self.assertEqual(self.env["crm.ror.forecast.line"].search_count(action["domain"]), 12)

    def test_menu_action_opens_a_computed_forecast(self):
        action = self.env.ref("crm_ror.crm_ror_forecast_wizard_action").run()
        self.assertEqual(action["res_model"], "crm.ror.forecast.wizard")
        wizard = self.env["crm.ror.forecast.wizard"].browse(action["res_id"])
        self.assertEqual(len(wizard.line_ids.filtered("is_total")), 6)


class TestLeadsNeededWizard(LeadsCase):
    def _closed(self, name, source, won, amount, closed):
        lead = self._lead(name, source_id=source.id, expected_revenue=amount)
        if won:
            self._win(lead, datetime(2025, 6, 1), closed)
        else:
            self._lose(lead, datetime(2025, 6, 1), closed)

    def test_leads_needed_by_source(self):
        web, fair = self.source_web, self.source_fair
        self._closed("w1", web, True, 1000, datetime(2025, 7, 1))
        self._closed("w2", web, True, 3000, datetime(2025, 8, 1))
        self._closed("w3", web, False, 800, datetime(2025, 9, 1))
        self._closed("w4", web, False, 800, datetime(2025, 12, 31, 23, 0))
        self._closed("f1", fair, True, 2000, datetime(2025, 10, 1))
        self._closed("f2", fair, False, 500, datetime(2025, 10, 2))
        self._closed("after", fair, True, 90000, datetime(2026, 1, 2))
        self._closed("before", fair, True, 90000, datetime(2024, 12, 31))
        self._lead("open", source_id=web.id, expected_revenue=5000)
        self.env.flush_all()
        wizard = self.env["crm.ror.leads.needed.wizard"].create(
            {
                "company_id": self.company.id,
                "target_amount": 9000,
                "date_from": date(2026, 1, 1),
                "date_to": date(2026, 3, 31),
                "history_months": 12,
            }
        )
        wizard.action_compute()
        # 6 closed opportunities made 6000: 1000 a lead; 9000 needs 9, 4/6 web and 2/6 fair
        self.assertEqual(wizard.total_leads, 9)
        self.assertAlmostEqual(wizard.leads_per_month, 3.0)
        self.assertAlmostEqual(wizard.conversion_rate, 50.0)
        self.assertAlmostEqual(wizard.average_deal, 2000.0)
        lines = {line.source_id: line for line in wizard.line_ids}
        self.assertEqual(
            (lines[web].closed, lines[web].won, lines[web].leads_required, lines[fair].leads_required),
            (4, 2, 6, 3),
        )
        self.assertAlmostEqual(lines[web].conversion_rate, 50.0)
        self.assertAlmostEqual(lines[web].average_deal, 2000.0)
        self.assertAlmostEqual(lines[web].mix, 400 / 6, places=1)
        self.assertAlmostEqual(lines[fair].average_deal, 2000.0)
        self.assertAlmostEqual(sum(wizard.line_ids.mapped("expected_revenue")), 9000.0)

    def test_no_history(self):
        wizard = self.env["crm.ror.leads.needed.wizard"].create(
            {"company_id": self.company.id, "target_amount": 1000}
        )
        with self.assertRaises(ValidationError):
            wizard.action_compute()
