"""Points-to-voucher engine (no database): hand-computed cases and properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoo.addons.crm_loyalty.engine import vouchers


@pytest.mark.parametrize(
    ("balance", "expected"),
    [
        (149.0, (0, 0.0, 0.0, 149.0)),  # under one step
        (150.0, (1, 150.0, 1.5, 0.0)),
        (320.0, (2, 300.0, 3.0, 20.0)),  # the remainder is carried over
        (449.99, (2, 300.0, 3.0, 149.99)),
        (-40.0, (0, 0.0, 0.0, -40.0)),  # a card in debt converts nothing
    ],
)
def test_hand_computed(balance, expected):
    steps, points, value, remainder = vouchers.convert(balance, 150.0, 150.0, 1.5)
    assert (steps, points, remainder) == expected[:2] + expected[3:]
    assert value == pytest.approx(expected[2])


def test_minimum_balance_above_the_step():
    # at least 500 points, then in steps of 150: 480 stays, 500 converts 450
    assert vouchers.convert(480.0, 500.0, 150.0, 1.5)[:2] == (0, 0.0)
    steps, points, value, remainder = vouchers.convert(500.0, 500.0, 150.0, 1.5)
    assert (steps, points, remainder) == (3, 450.0, 50.0)
    assert value == pytest.approx(4.5)


def test_exact_multiples_despite_float_steps():
    # 0.3 / 0.1 is 2.9999999999999996 in floats
    assert vouchers.convert(0.3, 0.0, 0.1, 1.0)[:2] == (3, 0.3)


def test_bad_settings_raise():
    with pytest.raises(ValueError):
        vouchers.convert(100.0, 0.0, 0.0, 1.0)
    with pytest.raises(ValueError):
        vouchers.convert(100.0, 0.0, 10.0, 0.0)


@given(
    balance=st.decimals(min_value=-1000, max_value=10**6, places=2).map(float),
    minimum=st.integers(min_value=0, max_value=2000).map(float),
    step=st.integers(min_value=1, max_value=1000).map(float),
    step_value=st.decimals(min_value="0.01", max_value=100, places=2).map(float),
)
def test_conservation_and_whole_steps(balance, minimum, step, step_value):
    steps, points, value, remainder = vouchers.convert(balance, minimum, step, step_value)
    # nothing is lost or made: converted + remainder = balance
    assert points + remainder == pytest.approx(balance, abs=1e-6)
    assert points == pytest.approx(steps * step)
    assert value == pytest.approx(steps * step_value)
    if steps:
        assert balance >= minimum and balance >= step
        assert 0 <= remainder < step  # as many whole steps as fit
    else:
        assert remainder == balance
        assert balance < max(minimum, step)
