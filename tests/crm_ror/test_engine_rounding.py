"""The recompute's array rounding gives what Odoo's float_round gives for each amount, to the bit."""

import numpy as np
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
    assert money_rounder(rounding)([amount])[0] == float_round(amount, precision_rounding=rounding)


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_money_rounder_on_ties_and_zero(rounding):
    money = money_rounder(rounding)
    # halves of the rounding (the ties HALF-UP sends away from zero), their float neighbours, the
    # largest float below a half (where float_round's test of a half misfires), zero
    units = np.arange(-2000, 2001, dtype=float)
    amounts = np.concatenate(
        [
            (units + 0.5) * rounding,
            units * rounding,
            units * rounding * 1.0000000001,
            np.nextafter(units + 0.5, units) * rounding,
            [0.49999999999999994, -0.49999999999999994, 0.0, -0.0],
        ]
    )
    expected = [float_round(amount, precision_rounding=rounding) for amount in amounts.tolist()]
    assert money(amounts).tolist() == expected
    assert money([0.0, -0.0]).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_money_rounder_on_random_amounts(rounding):
    """A hundred thousand amounts of the magnitudes of invoices, one array: each as float_round."""
    rng = np.random.default_rng(11)
    amounts = np.round(rng.lognormal(5, 3, 100_000) * rng.choice([-1, 1], 100_000), 4)
    expected = [float_round(amount, precision_rounding=rounding) for amount in amounts.tolist()]
    assert money_rounder(rounding)(amounts).tolist() == expected
