"""RFM scoring by quintile (or fixed frequency bins) and segment mapping.

Tie rule (documented, tested): a block of equal values gets the score of its *lowest position*
(minimum rank). The score is ``floor(5 * p) + 1``, capped at 5, where ``p`` is the percent rank of
PostgreSQL's ``percent_rank()``: ``(number of values strictly worse) / (n - 1)`` (0 when n = 1).
Consequences:

* the worst value always scores 1: F=1 means "bought once" whenever some active customer bought
  only once, however large that block is (60 % one-time buyers is a usual retail base);
* equal values always get the same score, whatever their order in the input;
* scores never go down as the value gets better: F never decreases with the purchase count, R
  never increases with the days since the last purchase;
* with distinct values, each fifth of the population gets one score (1 for the worst fifth), and
  the best value scores 5 even in a small population;
* a population where everybody is equal, or a single customer, scores 1.

Frequency can also be scored with fixed purchase-count bins (``FREQUENCY_BINS``: 1, 2, 3-4, 5-9,
10+), which do not depend on the other customers at all.
"""

import numpy as np

SCORES = 5
QUINTILES = "quintile"
BINS = "bins"
# Lowest purchase count of frequency scores 1..5 with fixed bins.
FREQUENCY_BINS = (1, 2, 3, 5, 10)


def quintile_scores(values, higher_is_better=True, population=None):
    """Return the 1..5 score of each value (an int array in input order), minimum rank for ties.

    ``higher_is_better=False`` scores small values best (recency in days since last purchase).
    ``population``: the values ranked against (default: ``values`` themselves), which hold
    ``values``: a part of a population (a chunk of customers) then scores as within the whole.
    """
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return np.zeros(0, dtype=int)
    reference = data if population is None else np.asarray(population, dtype=float)
    if np.isnan(data).any() or np.isnan(reference).any():
        raise ValueError("cannot score missing values")
    if not higher_is_better:
        data, reference = -data, -reference
    worse = np.searchsorted(np.sort(reference), data, side="left")
    scores = np.floor(SCORES * worse / max(reference.size - 1, 1)).astype(int) + 1
    return np.clip(scores, 1, SCORES)


def frequency_bin_scores(counts):
    """Fixed bins of the purchase count (an int array): 1 -> 1, 2 -> 2, 3-4 -> 3, 5-9 -> 4, 10 and more -> 5."""
    data = np.asarray(counts, dtype=float)
    if data.size == 0:
        return np.zeros(0, dtype=int)
    if np.isnan(data).any():
        raise ValueError("cannot score missing values")
    scores = np.searchsorted(np.asarray(FREQUENCY_BINS, dtype=float), data, side="right")
    return np.clip(scores, 1, SCORES)


def rfm_scores(recency_days, frequency, monetary, frequency_method=QUINTILES, population=None):
    """Score three aligned sequences; return three int arrays ``(r, f, m)``.

    ``frequency_method`` is ``"quintile"`` (minimum-rank quintiles, the default) or ``"bins"``.
    ``population``: the three sequences of the whole population the scores rank against, when the
    ones scored are a part of it (see ``quintile_scores``).
    """
    recency_ref, frequency_ref, monetary_ref = population or (None, None, None)
    if not len(recency_days) == len(frequency) == len(monetary):
        raise ValueError("recency, frequency and monetary must have the same length")
    if frequency_method not in (QUINTILES, BINS):
        raise ValueError(f"unknown frequency method {frequency_method!r}")
    r = quintile_scores(recency_days, higher_is_better=False, population=recency_ref)
    f = (
        frequency_bin_scores(frequency)
        if frequency_method == BINS
        else quintile_scores(frequency, population=frequency_ref)
    )
    m = quintile_scores(monetary, population=monetary_ref)
    return r, f, m


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


def map_segments(recency_scores, frequency_scores, segments, missing=None):
    """``map_segment`` of each pair of two aligned int arrays, through a 5x5 lookup grid (linear in
    customers): an object array, ``missing`` where no segment matches."""
    segments = list(segments)
    grid = np.full((SCORES + 1, SCORES + 1), missing, dtype=object)
    for r in range(1, SCORES + 1):
        for f in range(1, SCORES + 1):
            segment = map_segment(r, f, segments)
            grid[r, f] = missing if segment is None else segment
    return grid[np.asarray(recency_scores, dtype=int), np.asarray(frequency_scores, dtype=int)]


def uncovered_cells(segments):
    """Return the (r, f) cells no segment covers, to warn about gaps in a segment map."""
    segments = list(segments)
    return [
        (r, f)
        for r in range(1, SCORES + 1)
        for f in range(1, SCORES + 1)
        if map_segment(r, f, segments) is None
    ]
