"""ROR engine (no database)."""

import math

import numpy as np
import pytest

from odoo.addons.crm_ror.engine import ror


def test_return_on_relationship():
    assert ror.return_on_relationship(225.0, 30.0) == pytest.approx(6.5)
    assert ror.return_on_relationship(10.0, 20.0) == pytest.approx(-0.5)
    assert ror.return_on_relationship(-10.0, 10.0) == pytest.approx(-2.0)


def test_no_cost_no_ror():
    assert ror.return_on_relationship(100.0, 0.0) is None
    assert ror.return_on_relationship(100.0, 1e-9) is None
    assert ror.return_on_relationship(100.0, -5.0) is None
    assert ror.return_on_relationship(100.0, None) is None


def trend(current, previous):
    """The trend of one pair (None: undefined, NaN as the recompute passes it)."""
    pair = ([np.nan if current is None else current], [np.nan if previous is None else previous])
    return ror.TRENDS[ror.trends(*pair)[0]]


def test_trend():
    assert trend(1.0, 0.5) == "up"
    assert trend(0.2, 0.5) == "down"
    assert trend(0.5, 0.52) == "stable"
    assert trend(0.5, None) == "none"
    assert trend(None, 0.5) == "none"


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (200.0, 195.0, "stable"),  # 2.5 % apart: the same relationship
        (200.0, 150.0, "up"),
        (0.01, 0.04, "stable"),  # near zero, the absolute tolerance
        (-0.5, -0.9, "up"),
    ],
)
def test_trend_tolerance_is_relative(current, previous, expected):
    assert trend(current, previous) == expected


def test_arrays_are_the_pairwise_rules():
    """The array forms the recompute uses give, pair by pair, what the rules above give: the ROR
    against ``(m - c) / c`` unless c <= precision, the trend against ``math.isclose``."""
    rng = np.random.default_rng(3)
    margins = rng.normal(100, 300, 20_000)
    costs = np.concatenate([rng.normal(20, 40, 19_000), np.zeros(500), np.full(500, np.nan)])
    precision = 0.005
    rors = ror.returns_on_relationship(margins, costs, precision)
    for margin, cost, value in zip(margins.tolist(), costs.tolist(), rors.tolist(), strict=True):
        if math.isnan(cost) or cost <= precision:
            assert math.isnan(value)
        else:
            assert value == (margin - cost) / cost
    previous = np.concatenate([rors[1:], rors[:1]])
    previous[::7] = rors[::7] * 1.04  # within the tolerance
    for current, prev, code in zip(rors.tolist(), previous.tolist(), ror.trends(rors, previous), strict=True):
        if math.isnan(current) or math.isnan(prev):
            expected = "none"
        elif math.isclose(current, prev, rel_tol=0.05, abs_tol=0.05):
            expected = "stable"
        else:
            expected = "up" if current > prev else "down"
        assert ror.TRENDS[code] == expected
