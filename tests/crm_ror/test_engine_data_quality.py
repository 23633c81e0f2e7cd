"""Data-quality engine (no database): completeness, missing fields, age and staleness."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoo.addons.crm_ror.engine import data_quality as dq


def test_completeness_weighted():
    weights = {"email": 2, "phone": 1, "vat": 1, "ignored": 0}
    assert dq.completeness({"email": True, "phone": True}, weights) == pytest.approx(75.0)
    assert dq.completeness({}, weights) == pytest.approx(0.0)
    assert dq.completeness({"email": True, "phone": True, "vat": True}, weights) == pytest.approx(100.0)
    assert dq.completeness({"email": True}, {"email": 0}) is None
    assert dq.missing({"phone": True}, weights) == ["email", "vat"]


@given(
    st.dictionaries(st.sampled_from("abcdef"), st.booleans()),
    st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 5), min_size=1),
)
def test_completeness_bounds_and_monotone(filled, weights):
    value = dq.completeness(filled, weights)
    if value is None:
        assert not any(weight > 0 for weight in weights.values())
        return
    assert 0.0 <= value <= 100.0
    # Filling one more field never lowers the score.
    for name in weights:
        assert dq.completeness({**filled, name: True}, weights) >= value - 1e-9


def test_age_and_staleness():
    today = date(2026, 6, 30)
    assert dq.age_days(today, date(2026, 6, 1), None, date(2025, 1, 1)) == 29
    assert dq.age_days(today, None) is None
    assert dq.age_days(today, date(2026, 7, 5)) == 0
    assert dq.is_stale(29, 30) is False
    assert dq.is_stale(31, 30) is True
    assert dq.is_stale(None, 30) is True
