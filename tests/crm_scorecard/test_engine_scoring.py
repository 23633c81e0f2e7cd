"""Scoring engine: directions, clamping, undefined values, stoplights, trends, weighted averages."""

import hypothesis
import pytest
from hypothesis import strategies as st

from odoo.addons.crm_scorecard.engine import scoring


def test_maximise_performance_and_progress():
    assert scoring.performance(30, 0, 100, "max") == pytest.approx(0.3)
    assert scoring.progress(30, 10, 50, "max") == pytest.approx(0.5)


def test_minimise_is_inverted():
    # Lead lifetime: baseline 60 days, target 20, range 0-120; 30 days is 75 % of the way.
    assert scoring.progress(30, 60, 20, "min") == pytest.approx(0.75)
    assert scoring.performance(30, 0, 120, "min") == pytest.approx(0.75)


def test_clamped_to_zero_and_one():
    assert scoring.progress(80, 10, 50, "max") == 1.0
    assert scoring.progress(0, 10, 50, "max") == 0.0
    assert scoring.performance(150, 0, 100, "max") == 1.0
    assert scoring.performance(-5, 0, 100, "max") == 0.0
    assert scoring.progress(10, 60, 20, "min") == 1.0
    assert scoring.progress(90, 60, 20, "min") == 0.0


def test_binary():
    assert scoring.progress(1, 0, 1, "binary") == 1.0
    assert scoring.progress(0, 0, 1, "binary") == 0.0
    assert scoring.performance(1, None, None, "binary") == 1.0
    assert scoring.progress(None, 0, 1, "binary") is None


def test_band_performance():
    # Best between 40 and 60, falls to 0 at min 0 and max 100.
    assert scoring.performance(50, 0, 100, "band", 40, 60) == 1.0
    assert scoring.performance(40, 0, 100, "band", 40, 60) == 1.0
    assert scoring.performance(20, 0, 100, "band", 40, 60) == pytest.approx(0.5)
    assert scoring.performance(80, 0, 100, "band", 40, 60) == pytest.approx(0.5)
    assert scoring.performance(100, 0, 100, "band", 40, 60) == 0.0
    assert scoring.performance(120, 0, 100, "band", 40, 60) == 0.0


def test_band_progress_from_baseline():
    # Baseline 20 below the band [40, 60]: 30 is half-way.
    assert scoring.progress(30, 20, 40, "band", 60) == pytest.approx(0.5)
    assert scoring.progress(55, 20, 40, "band", 60) == 1.0
    # Baseline 90 above the band: 75 is half-way down to 60.
    assert scoring.progress(75, 90, 40, "band", 60) == pytest.approx(0.5)
    # Overshooting to the far side is measured against the max.
    assert scoring.progress(80, 20, 40, "band", 60, 0, 100) == pytest.approx(0.5)
    assert scoring.progress(80, 20, 40, "band", None) is None


def test_undefined_inputs_stay_undefined():
    assert scoring.performance(None, 0, 100) is None
    assert scoring.progress(None, 0, 100) is None
    # Zero-width ranges: undefined, never 0.
    assert scoring.performance(5, 10, 10) is None
    assert scoring.progress(5, 10, 10) is None
    assert scoring.progress(5, None, 10) is None


def test_unknown_direction():
    with pytest.raises(ValueError):
        scoring.progress(1, 0, 1, "sideways")


def test_stoplight():
    assert scoring.stoplight(0.49, 0.5, 0.8) == "red"
    assert scoring.stoplight(0.5, 0.5, 0.8) == "yellow"
    assert scoring.stoplight(0.8, 0.5, 0.8) == "green"
    assert scoring.stoplight(None, 0.5, 0.8) is None


def test_trend():
    assert scoring.trend(10, 8, "max") == ("up", True)
    assert scoring.trend(10, 8, "min") == ("up", False)
    assert scoring.trend(6, 8, "min") == ("down", True)
    assert scoring.trend(8, 8, "max") == ("flat", None)
    assert scoring.trend(8, None, "max") == (None, None)
    assert scoring.band_trend(45, 30, 40, 60) is True
    assert scoring.band_trend(80, 70, 40, 60) is False


def test_weighted_average_skips_undefined():
    assert scoring.weighted_average([(1.0, 1), (0.5, 3)]) == pytest.approx(0.625)
    assert scoring.weighted_average([(1.0, 1), (None, 3)]) == 1.0
    assert scoring.weighted_average([(None, 1)]) is None
    assert scoring.weighted_average([]) is None


def test_weighted_average_zero_total_weight_is_undefined():
    assert scoring.weighted_average([(1.0, 0), (0.2, 0)]) is None
    assert scoring.weighted_average([(1.0, 0), (0.2, 2)]) == pytest.approx(0.2)


def test_score_kpi_bundle():
    figures = scoring.score_kpi(30, "min", baseline=60, target=20, minimum=0, maximum=120, previous=40)
    assert figures["progress"] == pytest.approx(0.75)
    assert figures["score"] == pytest.approx(0.75)
    assert figures["stoplight"] == "yellow"
    assert figures["trend"] == "down"
    assert figures["improved"] is True
    by_performance = scoring.score_kpi(30, "max", minimum=0, maximum=100, basis="performance")
    assert by_performance["score"] == pytest.approx(0.3)
    assert by_performance["stoplight"] == "red"
    undefined = scoring.score_kpi(None, "max", baseline=0, target=10)
    assert undefined["score"] is None
    assert undefined["stoplight"] is None


def test_binary_is_scored_against_the_target():
    # BSC Designer: 100 % only when the target is met, in either direction.
    assert scoring.progress(0.5, 0, 1, "binary") == 0.0
    assert scoring.performance(0.5, 0, 1, "binary", target=1, baseline=0) == 0.0
    assert scoring.progress(3, 0, 3, "binary") == 1.0
    assert scoring.progress(4, 0, 3, "binary") == 1.0
    # A target below the baseline: met at or under it.
    assert scoring.progress(2, 10, 2, "binary") == 1.0
    assert scoring.progress(3, 10, 2, "binary") == 0.0
    assert scoring.performance(3, 0, 10, "binary", target=2, baseline=10) == 0.0


@hypothesis.given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_binary_scores_are_zero_or_one(value, baseline, target):
    assert scoring.progress(value, baseline, target, "binary") in (0.0, 1.0)


def test_rollups():
    items = [(0.2, 1), (0.8, 3), (None, 5), (1.0, 0)]
    assert scoring.rollup(items) == pytest.approx((0.2 + 2.4) / 4)
    assert scoring.rollup(items, "average") == pytest.approx(0.5)
    assert scoring.rollup(items, "minimum") == 0.2
    assert scoring.rollup(items, "maximum") == 0.8
    assert scoring.rollup(items, "sum") == 1.0  # 0.2 + 2.4, clamped
    assert scoring.rollup([(0.1, 1), (0.2, 2)], "sum") == pytest.approx(0.5)
    for method in scoring.ROLLUPS:
        assert scoring.rollup([(None, 1)], method) is None
    with pytest.raises(ValueError):
        scoring.rollup(items, "median")


@hypothesis.given(
    st.lists(st.tuples(st.one_of(st.none(), st.floats(0, 1)), st.floats(0, 10)), max_size=8),
    st.sampled_from(scoring.ROLLUPS),
)
def test_rollups_stay_in_range(items, method):
    result = scoring.rollup(items, method)
    assert result is None or -1e-9 <= result <= 1 + 1e-9


def test_threshold_bands():
    bands = [(0.0, "red"), (0.5, "yellow"), (0.8, "green"), (1.0, "blue")]
    assert scoring.band_of(0.3, bands) == "red"
    assert scoring.band_of(0.5, bands) == "yellow"
    assert scoring.band_of(0.99, bands) == "green"
    assert scoring.band_of(1.0, bands) == "blue"
    assert scoring.band_of(0.1, [(0.2, "yellow"), (0.6, "green")]) == "yellow"  # below all: lowest
    assert scoring.band_of(None, bands) is None
    assert scoring.band_of(0.5, []) is None
