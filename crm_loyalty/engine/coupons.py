"""Personalised coupons without the ORM: campaign periods, product picking, response rate."""

import secrets

from dateutil.relativedelta import relativedelta


def period_start(date_start, interval_number, interval_type, day):
    """Start of the campaign period containing ``day``; periods of ``interval_number``
    ``interval_type`` ("weeks" or "months") follow each other from ``date_start``.
    Returns None before ``date_start``."""
    if day < date_start:
        return None
    if interval_number <= 0:
        raise ValueError("the campaign interval must be positive")
    if interval_type == "weeks":
        step = 7 * interval_number
        return date_start + relativedelta(days=(day - date_start).days // step * step)
    if interval_type == "months":
        months = (day.year - date_start.year) * 12 + day.month - date_start.month
        count = months // interval_number
        start = date_start + relativedelta(months=count * interval_number)
        if start > day:  # e.g. started on the 31st, today is the 15th
            start = date_start + relativedelta(months=(count - 1) * interval_number)
        return start
    raise ValueError(f"unknown interval type {interval_type!r}")


def pick_products(purchases, count, excluded=frozenset()):
    """Pick up to ``count`` products per member among what each member bought.

    ``purchases``: ``{member: [(product_id, order_count, amount, last_date), ...]}``.
    Products bought on more orders come first, then the larger amount, then the more recent
    purchase, then the lower product id (so that the choice is deterministic).
    ``excluded`` product ids are never picked. Members with nothing left are omitted.
    Returns ``{member: [product_id, ...]}``.
    """
    if count <= 0:
        return {}
    picked = {}
    for member, rows in purchases.items():
        candidates = [row for row in rows if row[0] not in excluded]
        if not candidates:
            continue
        candidates.sort(key=lambda row: (-row[1], -row[2], _date_key(row[3]), row[0]))
        picked[member] = [row[0] for row in candidates[:count]]
    return picked


def _date_key(value):
    # Most recent first: negate the ordinal; a missing date sorts last.
    return -value.toordinal() if value else 0


def response_rate(issued, used):
    """Share of issued coupons that were used, in percent (None when nothing was issued)."""
    if not issued:
        return None
    return 100.0 * used / issued


def new_code():
    """A coupon code with 80 random bits, in stock's '044' barcode family.

    Stock's ``loyalty.card._generate_code`` keeps about 36 random bits of a UUID: with a hundred
    thousand cards, a campaign issuing thousands more hits its unique constraint (measured on the
    large bench), which aborts a batch.
    """
    return "044" + secrets.token_hex(10)
