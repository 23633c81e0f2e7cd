"""Coupon engine: periods, product picking, response rate (no database)."""

from datetime import date

import pytest

from odoo.addons.crm_loyalty.engine import coupons


def test_pick_products_order():
    purchases = {
        "ann": [
            (10, 1, 500.0, date(2024, 1, 1)),
            (11, 3, 20.0, date(2024, 1, 1)),
            (12, 1, 500.0, date(2024, 2, 1)),
            (13, 1, 5.0, None),
        ],
        "bob": [(10, 2, 1.0, date(2024, 1, 1))],
        "cid": [(99, 5, 1.0, date(2024, 1, 1))],
    }
    picked = coupons.pick_products(purchases, 3, excluded={99})
    # most orders first, then amount, then most recent
    assert picked == {"ann": [11, 12, 10], "bob": [10]}


def test_pick_products_tie_on_id():
    purchases = {"ann": [(5, 1, 1.0, date(2024, 1, 1)), (4, 1, 1.0, date(2024, 1, 1))]}
    assert coupons.pick_products(purchases, 1) == {"ann": [4]}


def test_pick_nothing():
    assert coupons.pick_products({"ann": [(1, 1, 1.0, None)]}, 0) == {}


def test_response_rate():
    assert coupons.response_rate(0, 0) is None
    assert coupons.response_rate(4, 1) == 25.0


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2023, 12, 31), None),
        (date(2024, 1, 31), date(2024, 1, 31)),
        (date(2024, 2, 28), date(2024, 1, 31)),
        (date(2024, 2, 29), date(2024, 2, 29)),
        (date(2024, 3, 30), date(2024, 2, 29)),
        (date(2024, 3, 31), date(2024, 3, 31)),
    ],
)
def test_monthly_periods(day, expected):
    assert coupons.period_start(date(2024, 1, 31), 1, "months", day) == expected


def test_quarterly_and_weekly_periods():
    assert coupons.period_start(date(2024, 1, 1), 3, "months", date(2024, 6, 30)) == date(2024, 4, 1)
    assert coupons.period_start(date(2024, 1, 1), 2, "weeks", date(2024, 1, 20)) == date(2024, 1, 15)


def test_bad_interval():
    with pytest.raises(ValueError):
        coupons.period_start(date(2024, 1, 1), 1, "days", date(2024, 1, 2))


def test_new_codes_are_long_and_distinct():
    codes = {coupons.new_code() for _ in range(10000)}
    assert len(codes) == 10000
    assert all(code.startswith("044") and len(code) == 23 for code in codes)
