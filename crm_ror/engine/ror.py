"""Return on Relationship: ROR = (gross margin - cost to serve) / cost to serve, and its trend."""

import math

# Two RORs are "stable" when within 5 % of each other (relative: RORs range from -1 to the hundreds),
# or within 0.05 of each other near zero.
TREND_TOLERANCE = 0.05


def return_on_relationship(gross_margin, cost_to_serve, precision=1e-6):
    """The ROR, or None when there is no (positive) cost to serve to divide by."""
    if cost_to_serve is None or cost_to_serve <= precision:
        return None
    return (gross_margin - cost_to_serve) / cost_to_serve


def trend(current, previous, tolerance=TREND_TOLERANCE):
    """'up', 'down' or 'stable' between two RORs; 'none' when either is undefined."""
    if current is None or previous is None:
        return "none"
    if math.isclose(current, previous, rel_tol=tolerance, abs_tol=tolerance):
        return "stable"
    return "up" if current > previous else "down"
