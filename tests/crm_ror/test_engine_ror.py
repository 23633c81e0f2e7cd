"""ROR engine (no database)."""

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


def test_trend():
    assert ror.trend(1.0, 0.5) == "up"
    assert ror.trend(0.2, 0.5) == "down"
    assert ror.trend(0.5, 0.52) == "stable"
    assert ror.trend(0.5, None) == "none"
    assert ror.trend(None, 0.5) == "none"


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
    assert ror.trend(current, previous) == expected
