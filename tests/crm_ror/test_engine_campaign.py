"""Campaign engine (no database): Wilson interval, ROMI, control groups, shrinkage, ranking, NPS."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoo.addons.crm_ror.engine import campaign


def test_wilson_known_values():
    # Reference values of the Wilson score interval (Newcombe 1998, table I style).
    low, high = campaign.wilson_interval(10, 100)
    assert low == pytest.approx(0.0552, abs=1e-4)
    assert high == pytest.approx(0.1744, abs=1e-4)
    low, high = campaign.wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.2775, abs=1e-4)
    assert campaign.wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        campaign.wilson_interval(5, 3)


@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_rate(pair):
    successes, trials = pair
    low, high = campaign.wilson_interval(successes, trials)
    assert 0.0 <= low <= successes / trials + 1e-12
    assert successes / trials - 1e-12 <= high <= 1.0


@given(st.integers(0, 50), st.integers(1, 50))
def test_wilson_narrows_with_more_data(successes, trials):
    successes = min(successes, trials)
    low1, high1 = campaign.wilson_interval(successes, trials)
    low4, high4 = campaign.wilson_interval(successes * 4, trials * 4)
    assert high4 - low4 < high1 - low1


def test_romi():
    assert campaign.romi(300.0, 100.0) == pytest.approx(2.0)
    assert campaign.romi(50.0, 100.0) == pytest.approx(-0.5)
    assert campaign.romi(50.0, 0.0) is None


def test_figures_without_control():
    # 100 contacted, 8 responders, margin 1200, cost 400 (hand computed: ROMI = 800 / 400 = 2).
    figures = campaign.campaign_figures(100, 8, 3000.0, 1200.0, 400.0)
    assert figures["rate"] == pytest.approx(0.08)
    assert figures["romi"] == pytest.approx(2.0)
    assert figures["control_rate"] is None
    assert figures["incremental_romi"] is None


def test_figures_with_control():
    # 100 contacted: 8 responders, margin 1200; 25 held out: 1 responder, margin 100.
    # Control scaled to 100: 4 responders, margin 400. Incremental: 4 responders, margin 800,
    # cost 400 -> incremental ROMI (800 - 400) / 400 = 1.
    figures = campaign.campaign_figures(100, 8, 3000.0, 1200.0, 400.0, 25, 1, 100.0)
    assert figures["control_rate"] == pytest.approx(0.04)
    assert figures["incremental_rate"] == pytest.approx(0.04)
    assert figures["incremental_responders"] == pytest.approx(4.0)
    assert figures["incremental_margin"] == pytest.approx(800.0)
    assert figures["incremental_romi"] == pytest.approx(1.0)


@given(
    st.integers(0, 200).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.floats(0.0, 1.0),
)
def test_shrunk_rate_between_own_and_prior(pair, prior):
    responders, contacts = pair
    shrunk = campaign.shrunk_rate(responders, contacts, prior)
    own = responders / contacts if contacts else prior
    assert min(own, prior) - 1e-12 <= shrunk <= max(own, prior) + 1e-12


def test_shrunk_rate_thin_and_long_history():
    assert campaign.shrunk_rate(0, 0, 0.05) == pytest.approx(0.05)
    # 1 of 2 contacts with a prior of 20 contacts at 5 %: (1 + 1) / 22.
    assert campaign.shrunk_rate(1, 2, 0.05) == pytest.approx(2 / 22)
    # A long history dominates the prior.
    assert campaign.shrunk_rate(3000, 10000, 0.05) == pytest.approx(0.3, abs=0.001)


def test_select_modes():
    candidates = [(1, 5.0), (2, -1.0), (3, 9.0), (4, 5.0), (5, 0.0)]
    assert campaign.select(candidates, "positive", 2.0) == [(3, 9.0), (1, 5.0), (4, 5.0)]
    assert campaign.select(candidates, "top", 2.0, top_n=2) == [(3, 9.0), (1, 5.0)]
    # Budget 5 at 2 per contact x 1 touch: 2 contacts.
    assert campaign.select(candidates, "budget", 2.0, budget=5.0) == [(3, 9.0), (1, 5.0)]
    # Two touches: 4 per customer, one fits.
    assert campaign.select(candidates, "budget", 2.0, touches=2, budget=5.0) == [(3, 9.0)]
    with pytest.raises(ValueError):
        campaign.select(candidates, "all", 2.0)


@given(st.lists(st.tuples(st.integers(0, 10**6), st.floats(-1e6, 1e6)), unique_by=lambda c: c[0]))
def test_select_positive_is_sorted_and_positive(candidates):
    kept = campaign.select(candidates, "positive", 1.0)
    values = [value for _key, value in kept]
    assert all(value > 0 for value in values)
    assert values == sorted(values, reverse=True)
    assert len(kept) == sum(1 for _key, value in candidates if value > 0)


def test_projection_known_history():
    history = {"champions": (200, 20, 4), "at_risk": (50, 2, 2)}
    lines, total = campaign.projection(
        history,
        {"champions": 100, "at_risk": 40, "new": 10},
        planned_targets=150,
        order_margin={"champions": 50.0, "at_risk": 30.0},
        order_revenue={"champions": 200.0, "at_risk": 100.0},
        contact_cost=1.0,
        touches=2,
    )
    by_segment = {line["segment"]: line for line in lines}
    assert by_segment["champions"]["responders"] == pytest.approx(10.0)
    assert by_segment["champions"]["margin"] == pytest.approx(500.0)
    assert by_segment["champions"]["cost"] == pytest.approx(200.0)
    assert by_segment["champions"]["romi"] == pytest.approx(1.5)
    assert by_segment["champions"]["campaigns"] == 4
    assert by_segment["at_risk"]["responders"] == pytest.approx(1.6)
    assert by_segment["new"]["responders"] is None
    assert by_segment["new"]["campaigns"] == 0
    assert total["responders"] == pytest.approx(11.6)
    assert total["margin"] == pytest.approx(548.0)
    assert total["cost"] == pytest.approx(300.0)
    assert total["romi"] == pytest.approx(248.0 / 300.0)
    assert total["unknown_segments"] == ["new"]
    low, high = by_segment["champions"]["responders_low"], by_segment["champions"]["responders_high"]
    assert low < 10.0 < high


def test_nps_arithmetic():
    # 3 promoters, 2 passives, 5 detractors of 10: 30 % - 50 % = -20.
    assert campaign.nps([10, 9, 9, 8, 7, 6, 5, 0, 3, 1]) == pytest.approx(-20.0)
    assert campaign.nps([10, 10]) == pytest.approx(100.0)
    assert campaign.nps([7, 8]) == pytest.approx(0.0)
    assert campaign.nps([]) is None
    with pytest.raises(ValueError):
        campaign.nps([11])


@given(st.lists(st.integers(0, 10), min_size=1))
def test_nps_bounds(scores):
    value = campaign.nps(scores)
    assert -100.0 <= value <= 100.0


def test_median():
    assert campaign.median([3, 1, 2]) == 2.0
    assert campaign.median([4, 1, 2, 3]) == 2.5
    assert campaign.median([]) is None
