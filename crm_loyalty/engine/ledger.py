"""Points-ledger arithmetic: lot allocation by expiry, expiry dates, proportional reversals.

Everything here takes plain values (numbers, dates, tuples) and returns plain values, so it is
unit-tested without a database (tests/crm_loyalty/test_engine_ledger.py).
"""

import calendar
import datetime

PRECISION = 2  # points are kept to two decimals, as sale_loyalty rounds them


class InsufficientPoints(ValueError):
    """The lots cannot cover the amount asked for."""

    def __init__(self, requested, available):
        super().__init__(f"requested {requested} points, {available} available")
        self.requested = requested
        self.available = available


def round_points(value):
    """Points rounded to the ledger precision; -0.0 becomes 0.0."""
    return round(value, PRECISION) + 0.0


def _fifo_key(lot):
    lot_id, expiry, _remaining = lot
    # Lots that never expire are consumed last; ties by lot id (oldest first).
    return (expiry is None, expiry or datetime.date.max, lot_id)


def allocate_fifo(lots, amount, first_lot_id=None):
    """Consume ``amount`` points from ``lots``, oldest-expiring first.

    :param lots: iterable of ``(lot_id, expiry_date or None, remaining_points)``
    :param amount: points to consume (>= 0)
    :param first_lot_id: a lot consumed before all others (the lot a reversal cancels)
    :return: list of ``(lot_id, points)`` with positive points summing to ``amount``
    :raises InsufficientPoints: when the lots hold less than ``amount``
    """
    amount = round_points(amount)
    if amount < 0:
        raise ValueError("amount must be positive")
    usable = [lot for lot in lots if round_points(lot[2]) > 0]
    available = round_points(sum(lot[2] for lot in usable))
    if amount > available:
        raise InsufficientPoints(amount, available)
    ordered = sorted(usable, key=lambda lot: (lot[0] != first_lot_id, *_fifo_key(lot)))
    allocation = []
    left = amount
    for lot_id, _expiry, remaining in ordered:
        if left <= 0:
            break
        take = round_points(min(remaining, left))
        allocation.append((lot_id, take))
        left = round_points(left - take)
    return allocation


def release_lifo(consumptions, amount):
    """Give back ``amount`` points to the lots a movement consumed, latest-expiring first.

    :param consumptions: iterable of ``(lot_id, expiry_date or None, points_consumed)``
    :return: list of ``(lot_id, points)`` to restore, positive, summing to ``amount``
    :raises InsufficientPoints: when more is given back than was consumed
    """
    amount = round_points(amount)
    usable = [lot for lot in consumptions if round_points(lot[2]) > 0]
    available = round_points(sum(lot[2] for lot in usable))
    if amount > available:
        raise InsufficientPoints(amount, available)
    allocation = []
    left = amount
    for lot_id, _expiry, remaining in sorted(usable, key=_fifo_key, reverse=True):
        if left <= 0:
            break
        take = round_points(min(remaining, left))
        allocation.append((lot_id, take))
        left = round_points(left - take)
    return allocation


def _end_of_month(day):
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _add_months(day, months):
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def expiry_date(earned_on, number, unit, rounding="none"):
    """Date on which points earned on ``earned_on`` expire (they are usable up to that day).

    :param number: length of the validity period; 0 or None means the points never expire
    :param unit: ``day`` | ``week`` | ``month`` | ``year``
    :param rounding: ``none`` | ``month`` | ``quarter`` | ``year``: push the date to the end of that period
    :return: a date, or None when points never expire
    """
    if not number:
        return None
    if unit == "day":
        day = earned_on + datetime.timedelta(days=number)
    elif unit == "week":
        day = earned_on + datetime.timedelta(weeks=number)
    elif unit == "month":
        day = _add_months(earned_on, number)
    elif unit == "year":
        day = _add_months(earned_on, 12 * number)
    else:
        raise ValueError(f"unknown expiry unit {unit!r}")
    if rounding == "month":
        day = _end_of_month(day)
    elif rounding == "quarter":
        day = _end_of_month(day.replace(month=(day.month - 1) // 3 * 3 + 3, day=1))
    elif rounding == "year":
        day = day.replace(month=12, day=31)
    elif rounding not in (None, "none"):
        raise ValueError(f"unknown expiry rounding {rounding!r}")
    return day


def proportional_reversal(earned, base_amount, refunded_amount, already_reversed=0.0):
    """Points a credit note takes back: ``earned`` x refunded / base, never more than what is left.

    :param earned: points earned on the source (order or invoice), >= 0
    :param base_amount: untaxed amount the points were earned on
    :param refunded_amount: untaxed amount refunded (sign ignored)
    :param already_reversed: points already taken back by other credit notes, >= 0
    :return: points to reverse, >= 0
    """
    if earned <= 0 or not base_amount:
        return 0.0
    ratio = min(abs(refunded_amount) / abs(base_amount), 1.0)
    return round_points(max(0.0, min(earned * ratio, earned - already_reversed)))


def earned_share(points, base_amount, invoiced_amount):
    """Points earned by an invoice that bills ``invoiced_amount`` of an order worth ``base_amount``."""
    if points <= 0 or not base_amount:
        return 0.0
    return round_points(points * max(0.0, min(invoiced_amount / base_amount, 1.0)))


def split_reversal(requested, expired_open, balance, policy):
    """Split a take-back of ``requested`` points (> 0) into what moves and what cannot.

    A reversal takes back only the unexpired part of its lot: the points of the lot that
    already expired (``expired_open``, not yet accounted by an earlier reversal) were taken
    once. Of the rest, the ``debt`` policy takes everything (the card may go negative, and later
    earnings pay it back); the ``shortfall`` policy takes at most the positive ``balance`` and
    records the rest as a shortfall.

    :return: ``(taken, expired, shortfall)``, each >= 0, summing to ``requested``
    """
    requested = round_points(requested)
    expired = round_points(min(requested, max(expired_open, 0.0)))
    rest = round_points(requested - expired)
    taken = rest
    if policy == "shortfall":
        taken = round_points(min(rest, max(balance, 0.0)))
    elif policy != "debt":
        raise ValueError(f"unknown reversal policy {policy!r}")
    return taken, expired, round_points(rest - taken)
