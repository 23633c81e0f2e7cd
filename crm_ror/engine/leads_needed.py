"""How many qualified leads it takes to reach a revenue target, and their mix by source.

History is a set of opportunity *cohorts* (opportunities created in the history window), per source:
``n`` counted opportunities, of which ``w`` won for revenue ``r``. Won and lost opportunities count;
open ones count as not converted once they are older than the maturity lag, and are left out while
younger (they may still convert). So the opportunities that rot open (the black hole) lower the
conversion rate instead of vanishing from it.

Per source: conversion ``c = w / n``, average deal ``d = r / w``, mix ``m = n / Σn``. One lead drawn
from that mix is worth ``v = Σ m·c·d = Σr / Σn``; the target needs ``N = target / v`` leads. Sources that
never won leave the mix by default (they would get leads that bring nothing). ``N`` is rounded up once,
and the per-source counts are whole numbers that add up to it (largest remainder).
"""

import math


def leads_needed(history, target, include_sources_without_wins=False):
    """``history``: ``{source: (counted_opportunities, won, won_revenue)}``.

    Returns ``{"lines": {source: {...}}, "total_leads", "total_exact", "value_per_lead",
    "conversion_rate", "average_deal"}`` or ``None`` when history has no won revenue (nothing to
    extrapolate from). Rates are fractions (0-1).
    """
    if not include_sources_without_wins:
        history = {source: item for source, item in history.items() if item[1] > 0}
    counted_total = sum(item[0] for item in history.values())
    won_total = sum(item[1] for item in history.values())
    revenue_total = sum(item[2] for item in history.values())
    if counted_total <= 0 or revenue_total <= 0:
        return None
    value_per_lead = revenue_total / counted_total
    needed = max(target, 0.0) / value_per_lead
    # 1e-9 absorbs float noise so an exact 10.0 does not round up to 11
    total = math.ceil(needed - 1e-9)
    lines = {}
    for source, (counted, won, revenue) in history.items():
        mix = counted / counted_total
        lines[source] = {
            "closed": counted,
            "won": won,
            "revenue": revenue,
            "conversion_rate": won / counted if counted else 0.0,
            "average_deal": revenue / won if won else 0.0,
            "mix": mix,
            "leads_exact": needed * mix,
            "expected_revenue": needed * mix * (revenue / counted if counted else 0.0),
        }
    for source, count in allocate(total, {source: line["mix"] for source, line in lines.items()}).items():
        lines[source]["leads"] = count
    return {
        "lines": lines,
        "total_leads": total,
        "total_exact": needed,
        "value_per_lead": value_per_lead,
        "conversion_rate": won_total / counted_total,
        "average_deal": revenue_total / won_total if won_total else 0.0,
    }


def allocate(total, shares):
    """Whole numbers proportional to ``shares`` that add up to ``total`` (largest remainder method)."""
    weight = sum(shares.values())
    if not shares or weight <= 0:
        return dict.fromkeys(shares, 0)
    exact = {key: total * share / weight for key, share in shares.items()}
    counts = {key: math.floor(value + 1e-9) for key, value in exact.items()}
    rest = total - sum(counts.values())
    # ties go to the larger share, then to the first key, so the result does not depend on float noise
    order = sorted(exact, key=lambda key: (-(exact[key] - counts[key]), -shares[key], str(key)))
    for key in order[:rest]:
        counts[key] += 1
    return counts
