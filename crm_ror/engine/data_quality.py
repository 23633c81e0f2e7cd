"""Data quality: weighted completeness and the age of a record's data. Plain Python, no Odoo import."""


def completeness(filled, weights):
    """Weighted completeness in % of one record: ``filled`` {field: bool}, ``weights`` {field: weight}.

    None when no weight is positive (nothing is asked, so nothing can be complete)."""
    total = sum(weight for weight in weights.values() if weight > 0)
    if total <= 0:
        return None
    got = sum(weight for name, weight in weights.items() if weight > 0 and filled.get(name))
    return 100.0 * got / total


def missing(filled, weights):
    """Names of the weighted fields that are empty, heaviest first (then by name)."""
    return sorted(
        (name for name, weight in weights.items() if weight > 0 and not filled.get(name)),
        key=lambda name: (-weights[name], name),
    )


def age_days(today, *dates):
    """Days from the latest of ``dates`` (last change, verification, creation; None ignored) to today.

    None when no date is known. A date in the future counts as today (age 0)."""
    known = [day for day in dates if day]
    if not known:
        return None
    return max(0, (today - max(known)).days)


def is_stale(age, freshness_days):
    """True when the data is older than the freshness limit; unknown age is stale."""
    return age is None or age > freshness_days
