"""Reorder timing: the usual interval between a customer's purchases of one product.

The usual interval is the median gap, in days, between the distinct dates on which the
customer bought the product. The product is due for reorder when the days since the last
purchase exceed that interval times a tolerance (e.g. 1.2 = 20 % late).
"""

from itertools import pairwise
from statistics import median


def purchase_gaps(dates):
    """Gaps in days between consecutive distinct purchase dates."""
    ordered = sorted(set(dates))
    return [(later - earlier).days for earlier, later in pairwise(ordered)]


def usual_interval(dates):
    """Median gap in days between distinct purchase dates, ``None`` with fewer than two dates."""
    gaps = purchase_gaps(dates)
    if not gaps:
        return None
    return float(median(gaps))


def is_due(last_date, interval, today, tolerance=1.0, max_cycles_overdue=None):
    """True when the days since ``last_date`` exceed ``interval`` x ``tolerance``, and the purchase is
    not more than ``max_cycles_overdue`` intervals overdue (then the habit is gone: it expires).

    An interval of ``None`` or 0 (bought several times on one day) never makes a product due.
    """
    if not interval:
        return False
    days = (today - last_date).days
    if max_cycles_overdue is not None and days - interval > max_cycles_overdue * interval:
        return False
    return days > interval * tolerance


def days_overdue(last_date, interval, today):
    """Days past the usual interval (negative while not yet due)."""
    return (today - last_date).days - interval
