"""Calibration report: win rate by the temperature leads had at 30 days (or at close if younger)."""

from datetime import datetime

from odoo.tests import freeze_time

from .leads_common import LeadsCase


class TestTemperatureCalibration(LeadsCase):
    def test_win_rate_by_temperature_at_thirty_days(self):
        with freeze_time("2026-01-01 10:00:00"):
            # at 30 days idle: p 90 + 3 stars -> 36 + 15 + 6.8 + 7.5 = 65 hot; p 40 -> 16 + 6.8 + 7.5 = 30 cold;
            # p 60 -> 24 + 6.8 + 7.5 = 38 warm
            hot = [self._lead(f"hot {i}", probability=90.0, priority="3") for i in range(4)]
            warm = [self._lead(f"warm {i}", probability=60.0) for i in range(3)]
            cold = [self._lead(f"cold {i}", probability=40.0) for i in range(2)]
            leads = self.env["crm.lead"].union(*hot, *warm, *cold)
            self._age(leads, datetime(2026, 1, 1, 10, 0))
            self._commit()
        with freeze_time("2026-01-31 11:00:00"):
            self._cron()
        self.assertEqual({lead.temperature_at_age for lead in hot}, {"hot"})
        self.assertEqual({lead.temperature_at_age for lead in warm}, {"warm"})
        self.assertEqual({lead.temperature_at_age for lead in cold}, {"cold"})
        # outcomes: hot 3 won 1 lost; warm 1 won 1 lost 1 open; cold 0 won 2 lost
        for lead in hot[:3] + warm[:1]:
            self._win(lead, datetime(2026, 1, 1, 10, 0), datetime(2026, 2, 15))
        for lead in hot[3:] + warm[1:2] + cold:
            self._lose(lead, datetime(2026, 1, 1, 10, 0), datetime(2026, 2, 20))
        # closed younger than 30 days: its temperature at close stands in (fresh 4 + 30 + 7.5: warm)
        with freeze_time("2025-12-20 10:00:00"):
            quick_new = self._lead("quick", probability=10.0)
            self._commit()
            self.assertEqual(quick_new.temperature, "warm")
            quick_new.write({"stage_id": self.stage_won.id})
            self._commit()
        self._set_closed(quick_new, datetime(2025, 12, 13), datetime(2025, 12, 20))
        self.env.flush_all()
        rows = {
            temperature: (count, won, rate)
            for temperature, count, won, rate in self.env[
                "crm.ror.temperature.calibration.report"
            ]._read_group(
                [("team_id", "=", self.team.id)],
                ["temperature"],
                ["nb_leads:sum", "nb_won:sum", "win_rate:avg"],
            )
        }
        self.assertEqual(rows["hot"][:2], (4, 3))
        self.assertAlmostEqual(rows["hot"][2], 75.0)
        self.assertEqual(rows["warm"][:2], (4, 2))  # 3 at 30 days + the quick win at close
        self.assertAlmostEqual(rows["warm"][2], 200 / 3)  # the open one is not in the rate
        self.assertEqual(rows["cold"][:2], (2, 0))
        self.assertAlmostEqual(rows["cold"][2], 0.0)
        self.assertNotIn(
            False, rows, "the lead still open and younger than 30 days at no cron run is left out"
        )

    def _cron(self):
        self.env["crm.lead"]._cron_update_temperature()
