"""How many qualified leads it takes to reach a revenue target, and their mix by source.

From history, per source: qualified leads closed ``n``, of which won ``w`` for revenue ``r``:
conversion ``c = w / n``, average deal ``d = r / w``, mix ``m = n / Σn`` (the historical share of
the source). One lead drawn from that mix is worth ``v = Σ m·c·d`` (= total won revenue / total
closed leads); the target needs ``N = target / v`` leads, ``N·m`` of them from each source.
"""

import math


def leads_needed(history, target):
    """``history``: ``{source: (closed_leads, won_leads, won_revenue)}``.

    Returns ``{"lines": {source: {...}}, "total_leads", "value_per_lead", "conversion_rate",
    "average_deal"}`` or ``None`` when history has no won revenue (nothing to extrapolate from).
    Rates are fractions (0-1); lead counts are rounded up per source, the total is their sum.
    """
    closed_total = sum(item[0] for item in history.values())
    won_total = sum(item[1] for item in history.values())
    revenue_total = sum(item[2] for item in history.values())
    if closed_total <= 0 or revenue_total <= 0:
        return None
    value_per_lead = revenue_total / closed_total
    needed = max(target, 0.0) / value_per_lead
    lines = {}
    for source, (closed, won, revenue) in history.items():
        mix = closed / closed_total
        exact = needed * mix
        lines[source] = {
            "closed": closed,
            "won": won,
            "revenue": revenue,
            "conversion_rate": won / closed if closed else 0.0,
            "average_deal": revenue / won if won else 0.0,
            "mix": mix,
            "leads_exact": exact,
            # 1e-9 absorbs float noise so an exact 10.0 does not round up to 11.
            "leads": math.ceil(exact - 1e-9),
            "expected_revenue": exact * (revenue / closed if closed else 0.0),
        }
    return {
        "lines": lines,
        "total_leads": sum(line["leads"] for line in lines.values()),
        "total_exact": needed,
        "value_per_lead": value_per_lead,
        "conversion_rate": won_total / closed_total,
        "average_deal": revenue_total / won_total if won_total else 0.0,
    }
