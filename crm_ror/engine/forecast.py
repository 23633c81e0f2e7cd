"""Weighted pipeline forecast with a one-sigma band, and the historical won run-rate.

Each open deal is a Bernoulli trial: it brings its amount ``a`` with probability ``p``.
Expected value Σ a·p, variance Σ a²·p·(1-p) (deals independent), band = expected +/- sqrt(variance);
the lower bound is floored at 0 since revenue cannot be negative.
"""

import math
from collections import defaultdict
from datetime import date

OVERDUE = "overdue"


def month_start(day):
    return date(day.year, day.month, 1)


def add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def horizon(today, months):
    """First days of the ``months`` months starting with the current one."""
    first = month_start(today)
    return [add_months(first, i) for i in range(months)]


def weighted_pipeline(deals, today, months=6):
    """Aggregate deals into (month, key) cells.

    ``deals``: iterable of ``(key, expected_closing_date, amount, probability_percent)``; ``key`` is any
    grouping value (e.g. a team id). Overdue deals (expected before this month) go to their own bucket,
    ``OVERDUE``, so that stale deals do not inflate this month; deals beyond the horizon or without a
    date are left out. Returns ``{(month or OVERDUE, key): {"weighted", "variance", "count"}}``.
    """
    months_list = horizon(today, months)
    first, end = months_list[0], add_months(months_list[-1], 1)
    cells = defaultdict(lambda: {"weighted": 0.0, "variance": 0.0, "count": 0})
    for key, closing, amount, probability in deals:
        if not closing or closing >= end:
            continue
        month = OVERDUE if closing < first else month_start(closing)
        p = min(max((probability or 0.0) / 100.0, 0.0), 1.0)
        a = amount or 0.0
        cell = cells[(month, key)]
        cell["weighted"] += a * p
        cell["variance"] += a * a * p * (1.0 - p)
        cell["count"] += 1
    return dict(cells)


def band(weighted, variance):
    """``(lower, upper, sigma)`` of the one-sigma band."""
    sigma = math.sqrt(max(variance, 0.0))
    return max(weighted - sigma, 0.0), weighted + sigma, sigma


def run_rate(won_amounts, months):
    """Average monthly won revenue over ``months`` months: sum of the won amounts / months."""
    if months <= 0:
        return 0.0
    return sum(won_amounts) / months
