"""RFM engine: quintile scoring, tie rule and segment mapping (no database)."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoo.addons.crm_ror.engine import rfm

# The standard 10-segment map (R/F ranges) shipped in data/crm_ror_segment_data.xml.
STANDARD_MAP = [
    {"id": "champions", "r_min": 5, "r_max": 5, "f_min": 4, "f_max": 5},
    {"id": "loyal", "r_min": 3, "r_max": 4, "f_min": 4, "f_max": 5},
    {"id": "potential_loyalist", "r_min": 4, "r_max": 5, "f_min": 2, "f_max": 3},
    {"id": "new", "r_min": 5, "r_max": 5, "f_min": 1, "f_max": 1},
    {"id": "promising", "r_min": 4, "r_max": 4, "f_min": 1, "f_max": 1},
    {"id": "need_attention", "r_min": 3, "r_max": 3, "f_min": 3, "f_max": 3},
    {"id": "about_to_sleep", "r_min": 3, "r_max": 3, "f_min": 1, "f_max": 2},
    {"id": "at_risk", "r_min": 1, "r_max": 2, "f_min": 3, "f_max": 4},
    {"id": "cant_lose", "r_min": 1, "r_max": 2, "f_min": 5, "f_max": 5},
    {"id": "hibernating", "r_min": 1, "r_max": 2, "f_min": 1, "f_max": 2},
]


def test_distinct_values_split_in_fifths():
    assert rfm.quintile_scores([10, 20, 30, 40, 50]).tolist() == [1, 2, 3, 4, 5]
    assert rfm.quintile_scores(list(range(10))).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_order_of_input_does_not_matter():
    values = list(range(1, 101))
    shuffled = values[:]
    random.Random(7).shuffle(shuffled)
    expected = dict(zip(values, rfm.quintile_scores(values).tolist(), strict=True))
    assert rfm.quintile_scores(shuffled).tolist() == [expected[v] for v in shuffled]
    assert [expected[v] for v in (1, 20, 21, 40, 41, 60, 61, 80, 81, 100)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_lower_is_better_for_recency():
    assert rfm.quintile_scores([1, 100, 10, 1000, 50], higher_is_better=False).tolist() == [5, 2, 4, 1, 3]


@pytest.mark.parametrize(
    ("values", "scores"),
    [
        # hand-computed: score = min(floor(5 x (values strictly worse) / (n - 1)) + 1, 5)
        ([1, 1, 1, 1, 1, 1, 2, 3, 4, 5], [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]),
        ([1] * 8 + [3, 7], [1] * 8 + [5, 5]),
        ([1, 1, 2, 2, 3], [1, 1, 3, 3, 5]),
        ([1, 1, 1, 2, 2, 2, 2, 3, 3, 9], [1, 1, 1, 2, 2, 2, 2, 4, 4, 5]),
        ([10, 20], [1, 5]),
        ([3, 1, 2], [5, 1, 3]),
        ([1, 1, 1, 1], [1, 1, 1, 1]),
        ([42.0], [1]),
        ([], []),
    ],
)
def test_ties_score_their_lowest_position(values, scores):
    assert rfm.quintile_scores(values).tolist() == scores


@pytest.mark.parametrize("share", [0.2, 0.3, 0.45, 0.6, 0.8, 0.95, 1.0])
def test_one_time_buyers_are_f1_whatever_their_share(share):
    n = 1000
    ones = int(share * n)
    rng = random.Random(3)
    counts = [1] * ones + [rng.randint(2, 15) for _ in range(n - ones)]
    rng.shuffle(counts)
    scores = rfm.quintile_scores(counts).tolist()
    assert {score for count, score in zip(counts, scores, strict=True) if count == 1} == {1}
    assert all(score > 1 for count, score in zip(counts, scores, strict=True) if count > 1) or share == 1.0


@given(st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=300))
def test_frequency_and_recency_scores_are_monotone(values):
    for higher_is_better in (True, False):
        scores = rfm.quintile_scores(values, higher_is_better=higher_is_better).tolist()
        ranked = sorted(zip(values, scores, strict=True), reverse=not higher_is_better)
        assert [score for _value, score in ranked] == sorted(score for _value, score in ranked)
        by_value = {}
        for value, score in zip(values, scores, strict=True):
            assert by_value.setdefault(value, score) == score  # ties share a score
    assert rfm.frequency_bin_scores(sorted(values)).tolist() == sorted(
        rfm.frequency_bin_scores(values).tolist()
    )


@pytest.mark.parametrize(
    ("count", "score"), [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (9, 4), (10, 5), (250, 5)]
)
def test_fixed_frequency_bins(count, score):
    assert rfm.frequency_bin_scores([count]).tolist() == [score]
    assert rfm.rfm_scores([1], [count], [1.0], frequency_method="bins")[1].tolist() == [score]


def test_sixty_percent_one_time_buyers_fill_the_standard_map():
    """A retail base: 60 % one-time buyers, recencies over a year; both frequency methods."""
    rng = random.Random(11)
    n = 2000
    counts = [1 if i < 0.6 * n else rng.choice([2, 2, 2, 3, 3, 4, 5, 7, 12]) for i in range(n)]
    recency = [rng.randint(0, 365) for _ in range(n)]
    monetary = [count * rng.uniform(20, 200) for count in counts]
    for method in ("quintile", "bins"):
        r, f, _m = rfm.rfm_scores(recency, counts, monetary, frequency_method=method)
        segments = set(rfm.map_segments(r, f, STANDARD_MAP).tolist())
        assert {"new", "promising", "hibernating", "champions"} <= segments, method
        assert all(score == 1 for score, count in zip(f.tolist(), counts, strict=True) if count == 1)


def test_negative_monetary_values_score_lowest():
    assert rfm.quintile_scores([-50, 0, 10, 20, 30]).tolist() == [1, 2, 3, 4, 5]


def test_missing_values_are_refused():
    with pytest.raises(ValueError):
        rfm.quintile_scores([1, float("nan")])


def test_rfm_scores_triplets():
    r, f, m = rfm.rfm_scores([5, 400], [10, 1], [1000, 10])
    assert list(zip(r.tolist(), f.tolist(), m.tolist(), strict=True)) == [(5, 5, 5), (1, 1, 1)]
    with pytest.raises(ValueError):
        rfm.rfm_scores([1], [1, 2], [1])
    with pytest.raises(ValueError):
        rfm.rfm_scores([1], [1], [1], frequency_method="deciles")


def test_standard_map_covers_the_grid_once():
    assert rfm.uncovered_cells(STANDARD_MAP) == []
    for r in range(1, 6):
        for f in range(1, 6):
            matches = [
                s for s in STANDARD_MAP if s["r_min"] <= r <= s["r_max"] and s["f_min"] <= f <= s["f_max"]
            ]
            assert len(matches) == 1, (r, f)


@pytest.mark.parametrize(
    ("r", "f", "segment"),
    [
        (5, 5, "champions"),
        (5, 4, "champions"),
        (4, 5, "loyal"),
        (3, 4, "loyal"),
        (5, 2, "potential_loyalist"),
        (4, 3, "potential_loyalist"),
        (5, 1, "new"),
        (4, 1, "promising"),
        (3, 3, "need_attention"),
        (3, 1, "about_to_sleep"),
        (2, 3, "at_risk"),
        (1, 4, "at_risk"),
        (1, 5, "cant_lose"),
        (2, 2, "hibernating"),
        (1, 1, "hibernating"),
    ],
)
def test_standard_map(r, f, segment):
    assert rfm.map_segment(r, f, STANDARD_MAP) == segment


def test_first_matching_segment_wins_and_gaps_are_none():
    segments = [
        {"id": "a", "r_min": 4, "r_max": 5, "f_min": 1, "f_max": 5},
        {"id": "b", "r_min": 1, "r_max": 5, "f_min": 1, "f_max": 5},
    ]
    assert rfm.map_segments([5, 2], [1, 2], segments).tolist() == ["a", "b"]
    assert rfm.map_segments([5], [1], segments[1:]).tolist() == ["b"]
    assert rfm.map_segments([1], [1], segments[:1]).tolist() == [None]
    assert rfm.map_segments([1], [1], segments[:1], missing=0).tolist() == [0]
    assert len(rfm.uncovered_cells(segments[:1])) == 15
