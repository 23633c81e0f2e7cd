"""Return on Relationship: ROR = (gross margin - cost to serve) / cost to serve, and its trend.

The functions take arrays (a chunk of customers at once); undefined figures are NaN."""

import numpy as np

# Two RORs are "stable" when within 5 % of each other (relative: RORs range from -1 to the hundreds),
# or within 0.05 of each other near zero.
TREND_TOLERANCE = 0.05
# The trends, in the order of the codes ``trends`` returns.
TRENDS = ("up", "down", "stable", "none")


def returns_on_relationship(gross_margins, costs_to_serve, precision=1e-6):
    """The RORs; NaN where there is no (positive) cost to serve to divide by."""
    margins = np.asarray(gross_margins, dtype=float)
    costs = np.asarray(costs_to_serve, dtype=float)
    defined = costs > precision  # NaN costs are not
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(defined, (margins - costs) / np.where(defined, costs, 1.0), np.nan)


def return_on_relationship(gross_margin, cost_to_serve, precision=1e-6):
    """The ROR of one pair of figures, or None when there is no (positive) cost to serve."""
    if cost_to_serve is None:
        return None
    value = float(returns_on_relationship([gross_margin], [cost_to_serve], precision)[0])
    return None if np.isnan(value) else value


def trends(current, previous, tolerance=TREND_TOLERANCE):
    """Index in TRENDS of each pair of RORs: 'up', 'down' or 'stable', 'none' when either is NaN.
    Stable is ``math.isclose`` with ``tolerance`` as both the relative and the absolute tolerance."""
    current = np.asarray(current, dtype=float)
    previous = np.asarray(previous, dtype=float)
    with np.errstate(invalid="ignore"):
        close = (current == previous) | (
            np.abs(current - previous)
            <= np.maximum(tolerance * np.maximum(np.abs(current), np.abs(previous)), tolerance)
        )
        codes = np.where(close, 2, np.where(current > previous, 0, 1))
    return np.where(np.isnan(current) | np.isnan(previous), 3, codes)
