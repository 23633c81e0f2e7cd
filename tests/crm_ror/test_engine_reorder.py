"""Reorder intervals and key-date occurrences (pure engines)."""

from datetime import date, timedelta

import pytest

from odoo.addons.crm_ror.engine.key_dates import next_occurrence, reminder_due
from odoo.addons.crm_ror.engine.reorder import days_overdue, is_due, purchase_gaps, usual_interval


def test_usual_interval_is_median_gap_of_distinct_days():
    days = [date(2024, 1, 1), date(2024, 1, 31), date(2024, 1, 31), date(2024, 3, 1), date(2024, 5, 30)]
    assert purchase_gaps(days) == [30, 30, 90]
    assert usual_interval(days) == 30.0
    assert (
        usual_interval([date(2024, 1, 1), date(2024, 1, 11), date(2024, 1, 31)]) == 15.0
    )  # even: mean of middle
    assert usual_interval([date(2024, 1, 1)]) is None


def test_due_only_past_interval_times_tolerance():
    last = date(2024, 1, 1)
    assert not is_due(last, 30, date(2024, 2, 6), tolerance=1.2)  # 36 days = 30 x 1.2: not yet
    assert is_due(last, 30, date(2024, 2, 7), tolerance=1.2)  # 37 days
    assert is_due(last, 30, date(2024, 2, 1))  # 31 > 30 with no tolerance
    assert not is_due(last, None, date(2025, 1, 1))
    assert not is_due(last, 0, date(2025, 1, 1))
    assert days_overdue(last, 30, date(2024, 2, 10)) == 10


def test_next_occurrence_yearly_and_leap_day():
    assert next_occurrence(date(1980, 6, 15), date(2024, 6, 1)) == date(2024, 6, 15)
    assert next_occurrence(date(1980, 6, 15), date(2024, 6, 16)) == date(2025, 6, 15)
    assert next_occurrence(date(1980, 2, 29), date(2025, 1, 1)) == date(2025, 2, 28)
    assert next_occurrence(date(2024, 6, 15), date(2024, 6, 16), recurring=False) is None


@pytest.mark.parametrize(
    ("today", "last", "expected"),
    [
        (date(2024, 6, 7), None, None),  # 8 days before
        (date(2024, 6, 8), None, date(2024, 6, 15)),  # exactly 7 days before
        (date(2024, 6, 15), None, date(2024, 6, 15)),  # missed nights catch up until the day
        (date(2024, 6, 10), date(2024, 6, 15), None),  # already reminded of this occurrence
        (date(2025, 6, 8), date(2024, 6, 15), date(2025, 6, 15)),  # next year again
    ],
)
def test_reminder_due(today, last, expected):
    assert reminder_due(date(1980, 6, 15), today, 7, True, last) == expected


def test_reorder_expires_after_max_cycles_overdue():
    today = date(2024, 6, 1)
    # interval 30, tolerance 1.2: due after 36 days; with 3 cycles allowed, until 30 + 3 x 30 = 120 days.
    for days, due in ((30, False), (37, True), (120, True), (121, False), (2000, False)):
        assert is_due(today - timedelta(days=days), 30.0, today, 1.2, 3) is due, days
    assert is_due(today - timedelta(days=2000), 30.0, today, 1.2) is True  # unbounded when not given
