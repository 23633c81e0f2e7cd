"""Scoring of KPI values the way BSC Designer does it.

* performance = (v - min) / (max - min), progress = (v - baseline) / (target - baseline);
* for a minimised KPI both are inverted: (max - v) / (max - min), (baseline - v) / (baseline - target);
* a binary KPI scores 100 % when its target is met, 0 % otherwise (BSC Designer's "binary"):
  the value must reach the target, or stay at or under it when the target is below the
  baseline; with no target, any non-zero value (yes) meets it;
* a band KPI is best between ``target`` and ``target_high``: 100 % inside, falling linearly
  to 0 % at ``min`` below the band and at ``max`` above it (progress: from the baseline to the
  nearer edge of the band);
* every ratio is clamped to [0, 1]; an undefined input (``None``, zero-width range) gives ``None``,
  which stays undefined and is left out of every weighted average.

Scores are fractions (0.0 - 1.0); callers show them as percentages.
"""

MAXIMISE = "max"
MINIMISE = "min"
BINARY = "binary"
BAND = "band"
DIRECTIONS = (MAXIMISE, MINIMISE, BINARY, BAND)

RED = "red"
YELLOW = "yellow"
GREEN = "green"

UP = "up"
DOWN = "down"
FLAT = "flat"


def clamp(ratio):
    """Clamp a ratio to [0, 1]; ``None`` stays ``None``."""
    if ratio is None:
        return None
    return min(1.0, max(0.0, ratio))


def _ratio(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _check_direction(direction):
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}, expected one of {DIRECTIONS}")


def _band_ratio(value, low, high, start_low, start_high):
    """1 inside [low, high]; below, linear from ``start_low`` (0) to ``low`` (1);
    above, linear from ``start_high`` (0) down to ``high`` (1)."""
    if low is None or high is None:
        return None
    low, high = min(low, high), max(low, high)
    if low <= value <= high:
        return 1.0
    if value < low:
        return _ratio(value - start_low, low - start_low) if start_low is not None else None
    return _ratio(start_high - value, start_high - high) if start_high is not None else None


def binary_met(value, target, baseline=None):
    """1.0 when ``value`` meets ``target``: at or above it, or at or under it when the target is
    below the baseline (a KPI to bring down); no target: any non-zero value meets it."""
    if target is None:
        return 1.0 if value else 0.0
    if baseline is not None and target < baseline:
        return 1.0 if value <= target else 0.0
    return 1.0 if value >= target else 0.0


def performance(value, minimum, maximum, direction=MAXIMISE, target=None, target_high=None, baseline=None):
    """Position of ``value`` in the [minimum, maximum] range, 0-1, or ``None`` if undefined."""
    _check_direction(direction)
    if value is None:
        return None
    if direction == BINARY:
        return binary_met(value, target, baseline)
    if minimum is None or maximum is None:
        return None
    if direction == BAND:
        return clamp(_band_ratio(value, target, target_high, minimum, maximum))
    if direction == MINIMISE:
        return clamp(_ratio(maximum - value, maximum - minimum))
    return clamp(_ratio(value - minimum, maximum - minimum))


def _band_progress(value, baseline, low, high, minimum, maximum):
    """From a baseline below the band, progress goes up to its low edge; from above, down to
    its high edge. Overshooting to the far side is measured against min/max instead."""
    if high is None:
        return None
    low, high = min(low, high), max(low, high)
    start_low = baseline if baseline < low else minimum
    start_high = baseline if baseline > high else maximum
    return _band_ratio(value, low, high, start_low, start_high)


def progress(value, baseline, target, direction=MAXIMISE, target_high=None, minimum=None, maximum=None):
    """Progress made from ``baseline`` towards ``target``, 0-1, or ``None`` if undefined."""
    _check_direction(direction)
    if value is None:
        return None
    if direction == BINARY:
        return binary_met(value, target, baseline)
    if baseline is None or target is None:
        return None
    if direction == BAND:
        return clamp(_band_progress(value, baseline, target, target_high, minimum, maximum))
    if direction == MINIMISE:
        return clamp(_ratio(baseline - value, baseline - target))
    return clamp(_ratio(value - baseline, target - baseline))


def stoplight(score, yellow_from, green_from):
    """Colour of a score (0-1): red below ``yellow_from``, yellow below ``green_from``, green above."""
    if score is None:
        return None
    if score >= green_from:
        return GREEN
    if score >= yellow_from:
        return YELLOW
    return RED


def band_of(score, bands):
    """Colour of ``score`` (0-1) from ``(score_from, colour)`` bands: the band with the highest
    start at or below it; below every band, the lowest one. ``None`` when undefined."""
    if score is None or not bands:
        return None
    ordered = sorted(bands)
    colour = ordered[0][1]
    for start, band_colour in ordered:
        if score + 1e-9 >= start:
            colour = band_colour
    return colour


def trend(value, previous, direction=MAXIMISE, tolerance=1e-9):
    """Arrow of ``value`` against ``previous`` and whether the change is an improvement.

    Returns ``(arrow, improved)``: arrow in up/down/flat (``None`` if either is undefined),
    improved ``True``/``False`` (``None`` when flat, undefined, or for a band/binary KPI whose
    better side depends on where the band lies).
    """
    _check_direction(direction)
    if value is None or previous is None:
        return None, None
    delta = value - previous
    if abs(delta) <= tolerance:
        return FLAT, None
    arrow = UP if delta > 0 else DOWN
    if direction in (MAXIMISE, BINARY):
        return arrow, arrow == UP
    if direction == MINIMISE:
        return arrow, arrow == DOWN
    return arrow, None


def band_trend(value, previous, low, high):
    """Improvement of a band KPI: ``True`` when the value moved closer to the band."""
    if value is None or previous is None or low is None or high is None:
        return None
    low, high = min(low, high), max(low, high)

    def distance(v):
        return max(low - v, 0.0, v - high)

    before, after = distance(previous), distance(value)
    if abs(after - before) <= 1e-9:
        return None
    return after < before


def weighted_average(items):
    """Weighted average of ``(score, weight)`` pairs, skipping undefined scores.

    Returns ``None`` when no score is defined or the weights of the defined ones sum to zero.
    """
    total = 0.0
    weights = 0.0
    for score, weight in items:
        if score is None or not weight:
            continue
        total += score * weight
        weights += weight
    if not weights:
        return None
    return total / weights


ROLLUPS = ("weighted_average", "average", "minimum", "maximum", "sum")


def rollup(items, method="weighted_average"):
    """Score of a perspective or scorecard from ``(score, weight)`` pairs (BSC Designer's
    rollups). Undefined scores are left out; no defined score gives ``None``.

    * weighted_average: weights apply (zero-weight items are left out, zero total gives None);
    * average, minimum, maximum: of the defined scores of non-zero weight, weights otherwise ignored;
    * sum: of score x weight, clamped to [0, 1] (a share of the goal, like every score).
    """
    if method not in ROLLUPS:
        raise ValueError(f"unknown rollup {method!r}, expected one of {ROLLUPS}")
    if method == "weighted_average":
        return weighted_average(items)
    defined = [(score, weight) for score, weight in items if score is not None and weight]
    if not defined:
        return None
    scores = [score for score, _weight in defined]
    if method == "average":
        return sum(scores) / len(scores)
    if method == "minimum":
        return min(scores)
    if method == "maximum":
        return max(scores)
    return clamp(sum(score * weight for score, weight in defined))


def score_kpi(
    value,
    direction=MAXIMISE,
    baseline=None,
    target=None,
    target_high=None,
    minimum=None,
    maximum=None,
    yellow_from=0.5,
    green_from=0.8,
    basis="progress",
    previous=None,
):
    """All the figures of one KPI line, as a dict (see the module docstring)."""
    perf = performance(value, minimum, maximum, direction, target, target_high, baseline)
    prog = progress(value, baseline, target, direction, target_high, minimum, maximum)
    score = prog if basis == "progress" else perf
    arrow, improved = trend(value, previous, direction)
    if direction == BAND:
        improved = band_trend(value, previous, target, target_high)
    return {
        "value": value,
        "performance": perf,
        "progress": prog,
        "score": score,
        "stoplight": stoplight(score, yellow_from, green_from),
        "trend": arrow,
        "improved": improved,
    }
