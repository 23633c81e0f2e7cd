"""Tier qualification without the ORM: qualifying amount -> tier, downgrade policy, anniversaries.

Tiers are handled as ranks: ``0`` means "no tier", ``1`` the lowest tier, ``len(thresholds)``
the highest. ``thresholds`` are the tiers' minimum qualifying amounts in rank order.
"""

from datetime import timedelta

from dateutil.relativedelta import relativedelta

POLICY_NEVER = "never"
POLICY_ONE_LEVEL = "one_level"
POLICY_QUALIFY = "qualify"
POLICIES = (POLICY_NEVER, POLICY_ONE_LEVEL, POLICY_QUALIFY)

MODE_REALTIME = "realtime"
MODE_ANNIVERSARY = "anniversary"


def qualified_rank(amount, thresholds):
    """Rank of the highest tier whose minimum ``amount`` reaches (0 when none does).

    ``thresholds`` must be non-decreasing.
    """
    rank = 0
    for index, minimum in enumerate(thresholds, start=1):
        if amount >= minimum:
            rank = index
        else:
            break
    return rank


def downgraded_rank(current, qualified, policy):
    """Rank after a downgrade review: ``qualified`` is below ``current``."""
    if policy == POLICY_NEVER:
        return current
    if policy == POLICY_ONE_LEVEL:
        return max(current - 1, qualified)
    if policy == POLICY_QUALIFY:
        return qualified
    raise ValueError(f"unknown downgrade policy {policy!r}")


def new_rank(current, qualified, policy, mode, review_due):
    """Rank a member moves to.

    Upgrades are granted as soon as the member qualifies, in both modes. Downgrades follow the
    policy, at every evaluation in real-time mode, only when the anniversary review is due
    (``review_due``) in anniversary mode.
    """
    if qualified >= current:
        return qualified
    if mode == MODE_ANNIVERSARY and not review_due:
        return current
    return downgraded_rank(current, qualified, policy)


def window_start(today, months):
    """First day of a rolling window of ``months`` months ending on ``today`` (inclusive)."""
    return today - relativedelta(months=months) + timedelta(days=1)


def last_anniversary(start, today):
    """The latest anniversary of ``start`` on or before ``today`` (``start`` itself in year one).

    A 29 February start has its anniversary on 28 February in common years.
    """
    if today < start:
        return None
    years = today.year - start.year
    candidate = start + relativedelta(years=years)
    if candidate > today:
        candidate = start + relativedelta(years=years - 1)
    return candidate


def next_anniversary(start, today):
    """The first anniversary of ``start`` strictly after ``today``."""
    if today < start:
        return start + relativedelta(years=1)
    return last_anniversary(start, today) + relativedelta(years=1)


def review_due(start, last_review, today):
    """Whether an anniversary review is due: an anniversary (not the start date itself) passed
    since the last review (or since ``start`` when never reviewed)."""
    anniversary = last_anniversary(start, today)
    if anniversary is None or anniversary == start:
        return False
    return last_review is None or last_review < anniversary


def evaluate(members, thresholds, policy, mode, today, window_months=None):
    """Decide every member's rank.

    ``members``: iterable of dicts with ``key``, ``amount`` (qualifying amount), ``rank``
    (current rank), ``start`` (membership date), ``last_review`` (date of the last anniversary
    review, or None) and optionally ``last_downgrade`` (date of the member's last downgrade). Returns
    ``{key: (new_rank, reviewed)}`` where ``reviewed`` tells that an anniversary review took
    place (to be recorded as the new ``last_review``).

    In real time, "one level" moves a member down at most once per qualification window
    (``window_months``): the tier a one-level step leads to holds for a full window.
    """
    result = {}
    for member in members:
        due = mode == MODE_ANNIVERSARY and review_due(member["start"], member["last_review"], today)
        qualified = qualified_rank(member["amount"], thresholds)
        rank = new_rank(member["rank"], qualified, policy, mode, due)
        since = member.get("last_downgrade")
        if (
            rank < member["rank"]
            and mode == MODE_REALTIME
            and policy == POLICY_ONE_LEVEL
            and window_months
            and since
            and since >= window_start(today, window_months)
        ):
            rank = member["rank"]
        result[member["key"]] = (rank, due)
    return result
