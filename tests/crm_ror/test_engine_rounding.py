"""The recompute's inlined rounding gives what Odoo's float_round gives, to the bit."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.addons.crm_ror.engine.rounding import money_rounder
from odoo.tools import float_round

ROUNDINGS = (0.01, 0.001, 0.05, 0.1, 1.0, 5.0, 0.00001)


@pytest.mark.parametrize("rounding", ROUNDINGS)
@settings(max_examples=400, deadline=None)
@given(amount=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_subnormal=False))
def test_money_rounder_is_float_round(rounding, amount):
    assert money_rounder(rounding)(amount) == float_round(amount, precision_rounding=rounding)


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_money_rounder_on_ties_and_zero(rounding):
    money = money_rounder(rounding)
    # halves of the rounding (the ties HALF-UP sends away from zero), their float neighbours, zero
    for units in range(-2000, 2001):
        for amount in ((units + 0.5) * rounding, units * rounding, units * rounding * 1.0000000001):
            assert money(amount) == float_round(amount, precision_rounding=rounding), amount
    assert money(None) == money(0.0) == money(-0.0) == 0.0
