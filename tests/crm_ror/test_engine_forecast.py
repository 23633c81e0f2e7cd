"""Forecast engine: weighted pipeline, variance band and run-rate on a known set (no database)."""

import math
from datetime import date

from odoo.addons.crm_ror.engine import forecast as f

TODAY = date(2026, 3, 10)


def test_horizon_crosses_the_year():
    assert f.horizon(date(2026, 11, 30), 3) == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]


def test_weighted_pipeline_and_band():
    deals = [
        ("A", date(2026, 3, 20), 1000.0, 50.0),  # 500, var 1000²·.25 = 250000
        ("A", date(2026, 3, 1), 2000.0, 10.0),  # same month: 200, var 4e6·.09 = 360000
        ("A", date(2026, 1, 5), 100.0, 100.0),  # overdue -> its own bucket: 100, var 0
        ("A", date(2026, 2, 28), 200.0, 50.0),  # overdue too: 100, var 40000 x .25 = 10000
        ("B", date(2026, 8, 31), 400.0, 25.0),  # last month of horizon: 100, var 160000·.1875 = 30000
        ("B", date(2026, 9, 1), 999.0, 90.0),  # beyond 6 months: left out
        ("B", None, 999.0, 90.0),  # no date: left out
    ]
    cells = f.weighted_pipeline(deals, TODAY, months=6)
    assert set(cells) == {(f.OVERDUE, "A"), (date(2026, 3, 1), "A"), (date(2026, 8, 1), "B")}
    march = cells[(date(2026, 3, 1), "A")]
    assert march["count"] == 2
    assert abs(march["weighted"] - 700.0) < 1e-9
    assert abs(march["variance"] - 610000.0) < 1e-6
    lower, upper, sigma = f.band(march["weighted"], march["variance"])
    assert abs(sigma - math.sqrt(610000.0)) < 1e-9
    assert lower == 0.0  # 700 - 781: floored at 0
    assert abs(upper - (700.0 + math.sqrt(610000.0))) < 1e-9
    overdue = cells[(f.OVERDUE, "A")]
    assert (overdue["count"], overdue["weighted"], overdue["variance"]) == (2, 200.0, 10000.0)
    august = cells[(date(2026, 8, 1), "B")]
    assert abs(august["weighted"] - 100.0) < 1e-9
    assert abs(august["variance"] - 30000.0) < 1e-9


def test_band_floor_and_run_rate():
    assert f.band(100.0, 400.0) == (80.0, 120.0, 20.0)
    assert f.band(10.0, 400.0) == (0.0, 30.0, 20.0)
    assert f.run_rate([1000.0, 500.0, 1500.0], 12) == 250.0
    assert f.run_rate([1.0], 0) == 0.0
