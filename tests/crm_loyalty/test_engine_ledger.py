"""Pure-Python tests of crm_loyalty.engine.ledger (no database)."""

import datetime as dt

import pytest

from odoo.addons.crm_loyalty.engine import ledger

D = dt.date


def test_fifo_consumes_oldest_expiry_first_and_never_expiring_last():
    lots = [(1, None, 50), (2, D(2026, 6, 30), 30), (3, D(2026, 3, 31), 40)]
    assert ledger.allocate_fifo(lots, 60) == [(3, 40), (2, 20)]
    assert ledger.allocate_fifo(lots, 120) == [(3, 40), (2, 30), (1, 50)]


def test_fifo_ties_by_lot_id_and_skips_empty_lots():
    lots = [(7, D(2026, 1, 31), 10), (5, D(2026, 1, 31), 10), (6, D(2025, 1, 1), 0)]
    assert ledger.allocate_fifo(lots, 15) == [(5, 10), (7, 5)]


def test_fifo_first_lot_is_taken_before_the_others():
    lots = [(1, D(2026, 1, 31), 10), (2, D(2027, 1, 31), 10)]
    assert ledger.allocate_fifo(lots, 15, first_lot_id=2) == [(2, 10), (1, 5)]


def test_fifo_refuses_more_than_available():
    with pytest.raises(ledger.InsufficientPoints) as error:
        ledger.allocate_fifo([(1, None, 10)], 10.01)
    assert error.value.available == 10
    assert ledger.allocate_fifo([(1, None, 10)], 0) == []


def test_release_gives_back_latest_expiring_first():
    consumed = [(1, D(2026, 1, 31), 10), (2, D(2027, 1, 31), 5)]
    assert ledger.release_lifo(consumed, 8) == [(2, 5), (1, 3)]
    with pytest.raises(ledger.InsufficientPoints):
        ledger.release_lifo(consumed, 16)


@pytest.mark.parametrize(
    ("number", "unit", "rounding", "expected"),
    [
        (0, "month", "none", None),
        (10, "day", "none", D(2026, 1, 25)),
        (2, "week", "none", D(2026, 1, 29)),
        (1, "month", "none", D(2026, 2, 15)),
        (1, "month", "month", D(2026, 2, 28)),
        (1, "month", "quarter", D(2026, 3, 31)),
        (2, "month", "quarter", D(2026, 3, 31)),
        (3, "month", "quarter", D(2026, 6, 30)),
        (1, "year", "none", D(2027, 1, 15)),
        (1, "year", "year", D(2027, 12, 31)),
    ],
)
def test_expiry_date(number, unit, rounding, expected):
    assert ledger.expiry_date(D(2026, 1, 15), number, unit, rounding) == expected


def test_expiry_date_clamps_month_end_and_leap_years():
    assert ledger.expiry_date(D(2026, 1, 31), 1, "month") == D(2026, 2, 28)
    assert ledger.expiry_date(D(2024, 2, 29), 1, "year") == D(2025, 2, 28)
    assert ledger.expiry_date(D(2026, 11, 30), 2, "month", "month") == D(2027, 1, 31)
    with pytest.raises(ValueError):
        ledger.expiry_date(D(2026, 1, 1), 1, "fortnight")


def test_proportional_reversal():
    assert ledger.proportional_reversal(100, 200, 50) == 25
    assert ledger.proportional_reversal(100, 200, -50) == 25  # credit notes carry either sign
    assert ledger.proportional_reversal(100, 200, 500) == 100  # never more than earned
    assert ledger.proportional_reversal(100, 200, 150, already_reversed=50) == 50
    assert ledger.proportional_reversal(100, 200, 50, already_reversed=100) == 0
    assert ledger.proportional_reversal(0, 200, 50) == 0
    assert ledger.proportional_reversal(100, 0, 50) == 0
    assert ledger.proportional_reversal(10, 3, 1) == 3.33


def test_earned_share():
    assert ledger.earned_share(100, 200, 50) == 25
    assert ledger.earned_share(100, 200, 400) == 100
    assert ledger.earned_share(100, 200, -10) == 0
    assert ledger.earned_share(100, 0, 10) == 0


def test_round_points():
    assert ledger.round_points(0.1 + 0.2) == 0.3
    assert str(ledger.round_points(-0.001)) == "0.0"
