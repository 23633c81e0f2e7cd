"""Tier engine: qualification, downgrade policies, anniversaries (no database)."""

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoo.addons.crm_loyalty.engine import tiers

THRESHOLDS = [0.0, 1000.0, 5000.0]  # Bronze, Silver, Gold


@pytest.mark.parametrize(
    ("amount", "rank"),
    [(-50.0, 0), (0.0, 1), (999.99, 1), (1000.0, 2), (4999.0, 2), (5000.0, 3), (1e9, 3)],
)
def test_qualified_rank(amount, rank):
    assert tiers.qualified_rank(amount, THRESHOLDS) == rank


def test_qualified_rank_without_base_tier():
    assert tiers.qualified_rank(10.0, [100.0, 500.0]) == 0


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("never", 3), ("one_level", 2), ("qualify", 0)],
)
def test_downgrade_policies(policy, expected):
    assert tiers.downgraded_rank(3, 0, policy) == expected


def test_one_level_never_below_qualified():
    assert tiers.downgraded_rank(3, 2, "one_level") == 2


def test_unknown_policy():
    with pytest.raises(ValueError):
        tiers.downgraded_rank(2, 1, "sometimes")


def test_new_rank_upgrades_immediately_in_both_modes():
    assert tiers.new_rank(1, 3, "qualify", "realtime", False) == 3
    assert tiers.new_rank(1, 3, "qualify", "anniversary", False) == 3


def test_new_rank_anniversary_waits_for_review():
    assert tiers.new_rank(3, 1, "qualify", "anniversary", False) == 3
    assert tiers.new_rank(3, 1, "qualify", "anniversary", True) == 1
    assert tiers.new_rank(3, 1, "qualify", "realtime", False) == 1


def test_window_start():
    assert tiers.window_start(date(2024, 6, 30), 12) == date(2023, 7, 1)
    assert tiers.window_start(date(2024, 3, 31), 1) == date(2024, 3, 1)


def test_anniversaries():
    start = date(2022, 5, 10)
    assert tiers.last_anniversary(start, date(2022, 5, 9)) is None
    assert tiers.last_anniversary(start, date(2022, 12, 1)) == start
    assert tiers.last_anniversary(start, date(2024, 5, 9)) == date(2023, 5, 10)
    assert tiers.last_anniversary(start, date(2024, 5, 10)) == date(2024, 5, 10)
    assert tiers.next_anniversary(start, date(2024, 5, 10)) == date(2025, 5, 10)
    assert tiers.next_anniversary(start, date(2022, 1, 1)) == date(2023, 5, 10)


def test_leap_day_anniversary():
    assert tiers.last_anniversary(date(2020, 2, 29), date(2021, 3, 1)) == date(2021, 2, 28)


def test_review_due():
    start = date(2022, 5, 10)
    assert not tiers.review_due(start, None, date(2023, 5, 9))
    assert tiers.review_due(start, None, date(2023, 5, 10))
    assert not tiers.review_due(start, date(2023, 5, 10), date(2024, 1, 1))
    assert tiers.review_due(start, date(2023, 5, 10), date(2024, 5, 12))


def test_evaluate():
    today = date(2024, 5, 10)
    members = [
        {"key": "up", "amount": 6000, "rank": 1, "start": date(2023, 1, 1), "last_review": None},
        {"key": "wait", "amount": 0, "rank": 3, "start": date(2023, 1, 1), "last_review": date(2024, 1, 1)},
        {"key": "review", "amount": 0, "rank": 3, "start": date(2023, 5, 10), "last_review": None},
    ]
    result = tiers.evaluate(members, THRESHOLDS, "one_level", "anniversary", today)
    assert result == {"up": (3, True), "wait": (3, False), "review": (2, True)}
    realtime = tiers.evaluate(members, THRESHOLDS, "one_level", "realtime", today)
    assert realtime == {"up": (3, False), "wait": (2, False), "review": (2, False)}


@given(
    ranks=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=30),
    days=st.lists(st.integers(min_value=1, max_value=60), min_size=30, max_size=30),
)
def test_one_level_moves_down_at_most_once_per_window(ranks, days):
    """Whatever the qualifying amounts, real-time "one level" never drops twice within a window."""
    thresholds = [0, 100, 200, 300]
    today = date(2024, 1, 1)
    rank, last_down, downs = 4, None, []
    for qualified, step in zip(ranks, days, strict=False):
        today += timedelta(days=step)
        member = {
            "key": 1,
            "amount": thresholds[qualified - 1] if qualified else -1,
            "rank": rank,
            "start": date(2020, 1, 1),
            "last_review": None,
            "last_downgrade": last_down,
        }
        new, _reviewed = tiers.evaluate(
            [member], thresholds, "one_level", "realtime", today, window_months=12
        )[1]
        assert new >= rank - 1
        if new < rank:
            downs.append(today)
            last_down = today
        rank = new
    for earlier, later in pairwise(downs):
        assert tiers.window_start(later, 12) > earlier
