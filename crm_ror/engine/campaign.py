"""Campaign economics: response rates with their Wilson interval, ROMI, control groups, shrinkage,
expected-value ranking of targets, projections, NPS and the median. Plain Python, no Odoo import."""

import math

# z of a two-sided 95 % interval.
Z_95 = 1.959963984540054
# Weight, in contacts, of the channel's overall rate in a segment's shrunk rate: a segment with
# this many contacts of history sits half-way between its own rate and the channel's.
PRIOR_CONTACTS = 20.0
# NPS bands (inclusive): 9-10 promoters, 0-6 detractors.
PROMOTER_MIN = 9
DETRACTOR_MAX = 6


def wilson_interval(successes, trials, z=Z_95):
    """(low, high) of the Wilson score interval of successes/trials, as shares in [0, 1].

    None when there are no trials: no data is no interval, not a zero-width one."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"successes ({successes}) must lie between 0 and the trials ({trials})")
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def romi(margin, cost, precision=1e-6):
    """Return on marketing investment (margin - cost) / cost, or None without a positive cost."""
    if cost is None or cost <= precision:
        return None
    return (margin - cost) / cost


def rate(successes, trials):
    """successes/trials, or None without trials."""
    return successes / trials if trials > 0 else None


def campaign_figures(
    targets, responders, revenue, margin, cost, control_targets=0, control_responders=0, control_margin=0.0
):
    """Figures of one campaign (or one cell of segment x channel).

    ``targets``/``responders``/``revenue``/``margin`` are those of the contacted group; the control group
    (held out, never contacted) gives the response and the margin the customers would have produced
    anyway. Returns a dict of rate, interval (low, high), romi, and, with a control group, the
    control rate, the incremental rate (contacted minus control), the incremental responders and margin
    (scaled to the contacted group) and the incremental ROMI. Rates are shares in [0, 1].
    """
    response_rate = rate(responders, targets)
    result = {
        "rate": response_rate,
        "interval": wilson_interval(responders, targets),
        "romi": romi(margin, cost),
        "control_rate": None,
        "incremental_rate": None,
        "incremental_responders": None,
        "incremental_margin": None,
        "incremental_romi": None,
    }
    if control_targets > 0 and targets > 0:
        control_rate = control_responders / control_targets
        incremental_margin = margin - control_margin * targets / control_targets
        result.update(
            control_rate=control_rate,
            incremental_rate=response_rate - control_rate,
            incremental_responders=(response_rate - control_rate) * targets,
            incremental_margin=incremental_margin,
            incremental_romi=romi(incremental_margin, cost),
        )
    return result


def shrunk_rate(responders, contacts, prior_rate, prior_contacts=PRIOR_CONTACTS):
    """A segment's response rate pulled toward ``prior_rate`` (the channel's) when its history is thin.

    Beta-binomial posterior mean with a prior worth ``prior_contacts`` contacts: with no history it is
    the prior; with a long history it tends to the segment's own rate."""
    if contacts < 0 or not 0 <= responders <= max(contacts, 0):
        raise ValueError(f"responders ({responders}) must lie between 0 and the contacts ({contacts})")
    return (responders + prior_contacts * prior_rate) / (contacts + prior_contacts)


def expected_value(probability, order_margin, contact_cost, touches=1):
    """Expected value of contacting a customer: P(response) x expected order margin - contact cost."""
    return probability * order_margin - contact_cost * touches


def select(candidates, mode, contact_cost, touches=1, top_n=0, budget=0.0):
    """Candidates kept by the selection rule, best expected value first.

    ``candidates``: iterable of (key, expected value). ``mode``: ``positive`` keeps the positive
    expected values, ``top`` the ``top_n`` best (positive or not), ``budget`` the best positive ones
    whose contact cost fits in ``budget``. Ties keep the order of the keys, so the result is stable.
    """
    ranked = sorted(candidates, key=lambda item: (-item[1], item[0]))
    if mode == "positive":
        return [item for item in ranked if item[1] > 0]
    if mode == "top":
        return ranked[: max(top_n, 0)]
    if mode == "budget":
        unit = contact_cost * touches
        if unit <= 0:
            return [item for item in ranked if item[1] > 0]
        affordable = math.floor(budget / unit + 1e-9)
        return [item for item in ranked if item[1] > 0][:affordable]
    raise ValueError(f"unknown selection mode {mode!r}")


def projection(history, segments, planned_targets, order_margin, order_revenue, contact_cost, touches):
    """Expected figures of a planned campaign from past ones.

    ``history``: {segment: (contacts, responders, campaigns)} of past campaigns of the channel (and
    touches); ``segments``: {segment: planned targets}. Returns per segment and in total the expected
    responders with their interval, revenue, margin, cost, ROMI and the number of past campaigns and
    contacts behind them. ``order_margin``/``order_revenue``: {segment: average per responder}.
    """
    lines = []
    for segment, planned in segments.items():
        contacts, responders, campaigns = history.get(segment, (0, 0, 0))
        share = rate(responders, contacts)
        interval = wilson_interval(responders, contacts)
        cost = planned * contact_cost * touches
        expected = planned * share if share is not None else None
        margin = expected * order_margin.get(segment, 0.0) if expected is not None else None
        lines.append(
            {
                "segment": segment,
                "targets": planned,
                "contacts": contacts,
                "campaigns": campaigns,
                "rate": share,
                "responders": expected,
                "responders_low": planned * interval[0] if interval else None,
                "responders_high": planned * interval[1] if interval else None,
                "revenue": expected * order_revenue.get(segment, 0.0) if expected is not None else None,
                "margin": margin,
                "cost": cost,
                "romi": romi(margin, cost) if margin is not None else None,
            }
        )
    known = [line for line in lines if line["rate"] is not None]
    total_cost = sum(line["cost"] for line in lines)
    total_margin = sum(line["margin"] for line in known) if known else None
    total = {
        "targets": sum(line["targets"] for line in lines),
        "responders": sum(line["responders"] for line in known) if known else None,
        "responders_low": sum(line["responders_low"] for line in known) if known else None,
        "responders_high": sum(line["responders_high"] for line in known) if known else None,
        "revenue": sum(line["revenue"] for line in known) if known else None,
        "margin": total_margin,
        "cost": total_cost,
        "romi": romi(total_margin, total_cost) if total_margin is not None else None,
        "unknown_segments": [line["segment"] for line in lines if line["rate"] is None],
    }
    return lines, total


def nps(scores):
    """Net promoter score: % promoters (9-10) - % detractors (0-6), or None without answers."""
    scores = list(scores)
    for score in scores:
        if not 0 <= score <= 10:
            raise ValueError(f"an NPS answer is between 0 and 10, not {score}")
    if not scores:
        return None
    promoters = sum(1 for score in scores if score >= PROMOTER_MIN)
    detractors = sum(1 for score in scores if score <= DETRACTOR_MAX)
    return 100.0 * (promoters - detractors) / len(scores)


def median(values):
    """Median of the values, or None when there are none."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2.0
