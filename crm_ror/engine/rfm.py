"""RFM scoring by quintile and segment mapping.

Tie rule (documented, tested): a value's score comes from the *mid-rank percentile* of its block of
equal values, ``p = (number of values strictly worse + half the number of equal values) / n`` and
``score = floor(5 * p) + 1`` (1..5). Consequences:

* equal values always get the same score, whatever their order in the input;
* with distinct values, each fifth of the population gets one score (1 for the worst fifth);
* a population where everybody is equal (a single customer, or all single-purchase customers on
  frequency) scores 3, the middle, rather than an arbitrary best or worst;
* a large block of ties lands on the score of its middle.
"""

import numpy as np

SCORES = 5


def quintile_scores(values, higher_is_better=True):
    """Return the 1..5 score of each value (a list of ints in input order).

    ``higher_is_better=False`` scores small values best (recency in days since last purchase).
    """
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return []
    if np.isnan(data).any():
        raise ValueError("cannot score missing values")
    if not higher_is_better:
        data = -data
    ordered = np.sort(data)
    worse = np.searchsorted(ordered, data, side="left")
    worse_or_equal = np.searchsorted(ordered, data, side="right")
    percentile = (worse + 0.5 * (worse_or_equal - worse)) / data.size
    scores = np.floor(SCORES * percentile).astype(int) + 1
    return np.clip(scores, 1, SCORES).tolist()


def rfm_scores(recency_days, frequency, monetary):
    """Score three aligned sequences; return a list of ``(r, f, m)`` tuples."""
    if not len(recency_days) == len(frequency) == len(monetary):
        raise ValueError("recency, frequency and monetary must have the same length")
    r = quintile_scores(recency_days, higher_is_better=False)
    f = quintile_scores(frequency)
    m = quintile_scores(monetary)
    return list(zip(r, f, m, strict=True))


def map_segment(recency_score, frequency_score, segments):
    """Return the id of the first segment (in the given order) whose R and F ranges hold the scores.

    ``segments`` is an ordered iterable of dicts with keys ``id``, ``r_min``, ``r_max``, ``f_min``,
    ``f_max``; returns ``None`` when no segment matches.
    """
    for segment in segments:
        if (
            segment["r_min"] <= recency_score <= segment["r_max"]
            and segment["f_min"] <= frequency_score <= segment["f_max"]
        ):
            return segment["id"]
    return None


def map_segments(score_pairs, segments):
    """Map many ``(r, f)`` pairs at once (a 5x5 lookup grid, so it is linear in customers)."""
    segments = list(segments)
    grid = {(r, f): map_segment(r, f, segments) for r in range(1, SCORES + 1) for f in range(1, SCORES + 1)}
    return [grid.get((r, f)) for r, f in score_pairs]


def uncovered_cells(segments):
    """Return the (r, f) cells no segment covers, to warn about gaps in a segment map."""
    segments = list(segments)
    return [
        (r, f)
        for r in range(1, SCORES + 1)
        for f in range(1, SCORES + 1)
        if map_segment(r, f, segments) is None
    ]
