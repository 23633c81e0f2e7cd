"""Period engine: boundaries of months, quarters, years in a timezone."""

import datetime

import pytest

from odoo.addons.crm_scorecard.engine import periods

D = datetime.date
DT = datetime.datetime


def test_month_in_utc():
    period = periods.period_of("month", D(2024, 2, 15))
    assert (period.date_from, period.date_to) == (D(2024, 2, 1), D(2024, 2, 29))
    assert (period.datetime_from, period.datetime_to) == (DT(2024, 2, 1), DT(2024, 3, 1))
    assert period.label == "2024-02"


def test_quarter_and_year():
    quarter = periods.period_of("quarter", D(2024, 11, 3))
    assert (quarter.date_from, quarter.date_to, quarter.label) == (D(2024, 10, 1), D(2024, 12, 31), "2024 Q4")
    year = periods.period_of("year", D(2024, 6, 30))
    assert (year.date_from, year.date_to, year.label) == (D(2024, 1, 1), D(2024, 12, 31), "2024")


def test_auckland_boundaries_in_utc():
    # Auckland is UTC+13 in January (daylight time), UTC+12 in July.
    period = periods.period_of("month", D(2025, 1, 10), "Pacific/Auckland")
    assert period.datetime_from == DT(2024, 12, 31, 11, 0)
    assert period.datetime_to == DT(2025, 1, 31, 11, 0)
    july = periods.period_of("month", D(2025, 7, 10), "Pacific/Auckland")
    assert july.datetime_from == DT(2025, 6, 30, 12, 0)


def test_new_york_dst_change_inside_quarter():
    period = periods.period_of("quarter", D(2025, 2, 1), "America/New_York")
    assert period.datetime_from == DT(2025, 1, 1, 5, 0)  # EST
    assert period.datetime_to == DT(2025, 4, 1, 4, 0)  # EDT


def test_previous_next_last_year():
    period = periods.period_of("quarter", D(2025, 2, 1), "Europe/Brussels")
    assert periods.previous_period(period).date_from == D(2024, 10, 1)
    assert periods.next_period(period).date_from == D(2025, 4, 1)
    assert periods.same_period_last_year(period).date_from == D(2024, 1, 1)
    january = periods.period_of("month", D(2025, 1, 20))
    assert periods.previous_period(january).date_from == D(2024, 12, 1)


def test_local_today_and_last_ended_period():
    now = DT(2025, 3, 31, 12, 30, tzinfo=datetime.UTC)
    assert periods.local_today("Pacific/Auckland", now) == D(2025, 4, 1)
    assert periods.local_today("America/New_York", now) == D(2025, 3, 31)
    assert periods.last_ended_period("month", "Pacific/Auckland", now).date_from == D(2025, 3, 1)
    assert periods.last_ended_period("month", "America/New_York", now).date_from == D(2025, 2, 1)


def test_periods_between():
    found = periods.periods_between("month", D(2024, 11, 15), D(2025, 2, 1))
    assert [p.date_from for p in found] == [D(2024, 11, 1), D(2024, 12, 1), D(2025, 1, 1), D(2025, 2, 1)]


def test_unknown_period_type():
    with pytest.raises(ValueError):
        periods.period_of("week", D(2025, 1, 1))
