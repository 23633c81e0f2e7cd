"""RFM engine: quintile scoring, tie rule and segment mapping (no database)."""

import random

import pytest

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
    assert rfm.quintile_scores([10, 20, 30, 40, 50]) == [1, 2, 3, 4, 5]
    assert rfm.quintile_scores(list(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_order_of_input_does_not_matter():
    values = list(range(1, 101))
    shuffled = values[:]
    random.Random(7).shuffle(shuffled)
    expected = dict(zip(values, rfm.quintile_scores(values), strict=True))
    assert rfm.quintile_scores(shuffled) == [expected[v] for v in shuffled]
    assert [expected[v] for v in (1, 20, 21, 40, 41, 60, 61, 80, 81, 100)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_lower_is_better_for_recency():
    assert rfm.quintile_scores([1, 100, 10, 1000, 50], higher_is_better=False) == [5, 2, 4, 1, 3]


def test_ties_share_the_score_of_their_middle():
    # Six equal values out of ten sit at ranks 0..5: mid-rank percentile 0.3 -> score 2.
    scores = rfm.quintile_scores([1, 1, 1, 1, 1, 1, 2, 3, 4, 5])
    assert scores[:6] == [2] * 6
    assert scores[6:] == [4, 4, 5, 5]


def test_everybody_equal_or_alone_scores_the_middle():
    assert rfm.quintile_scores([1, 1, 1, 1]) == [3, 3, 3, 3]
    assert rfm.quintile_scores([42.0]) == [3]
    assert rfm.quintile_scores([]) == []


def test_single_purchase_customers_share_one_frequency_score():
    # Eight single-purchase customers and two repeat buyers.
    frequency = [1] * 8 + [3, 7]
    scores = rfm.quintile_scores(frequency)
    assert set(scores[:8]) == {3}  # percentile 0.4 -> 3
    assert scores[8:] == [5, 5]


def test_negative_monetary_values_score_lowest():
    assert rfm.quintile_scores([-50, 0, 10, 20, 30]) == [1, 2, 3, 4, 5]


def test_missing_values_are_refused():
    with pytest.raises(ValueError):
        rfm.quintile_scores([1, float("nan")])


def test_rfm_scores_triplets():
    assert rfm.rfm_scores([5, 400], [10, 1], [1000, 10]) == [(4, 4, 4), (2, 2, 2)]
    with pytest.raises(ValueError):
        rfm.rfm_scores([1], [1, 2], [1])


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
    assert rfm.map_segments([(5, 1), (2, 2)], segments) == ["a", "b"]
    assert rfm.map_segments([(5, 1)], segments[1:]) == ["b"]
    assert rfm.map_segments([(1, 1)], segments[:1]) == [None]
    assert len(rfm.uncovered_cells(segments[:1])) == 15
