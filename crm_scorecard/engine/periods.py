"""Period boundaries (month, quarter, year) in a timezone.

A period is given by its first and last day (dates, both inclusive, local to the timezone)
and by the matching half-open interval of naive UTC datetimes [datetime_from, datetime_to),
ready to compare with Odoo's UTC ``Datetime`` columns.
"""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

PERIOD_TYPES = ("month", "quarter", "year")
MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class Period:
    period_type: str
    date_from: datetime.date
    date_to: datetime.date
    datetime_from: datetime.datetime
    datetime_to: datetime.datetime
    tz: str

    @property
    def label(self):
        if self.period_type == "year":
            return str(self.date_from.year)
        if self.period_type == "quarter":
            return f"{self.date_from.year} Q{(self.date_from.month - 1) // 3 + 1}"
        return self.date_from.strftime("%Y-%m")


def _add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _utc(day, tz):
    """Naive UTC datetime of local midnight starting ``day`` in ``tz``."""
    local = datetime.datetime.combine(day, datetime.time.min, tzinfo=ZoneInfo(tz))
    return local.astimezone(datetime.UTC).replace(tzinfo=None)


def period_of(period_type, day, tz="UTC"):
    """The period of type ``period_type`` that contains the local date ``day``."""
    if period_type not in PERIOD_TYPES:
        raise ValueError(f"unknown period type {period_type!r}, expected one of {PERIOD_TYPES}")
    tz = tz or "UTC"
    months = MONTHS[period_type]
    first_month = (day.month - 1) // months * months + 1
    date_from = datetime.date(day.year, first_month, 1)
    next_from = _add_months(date_from, months)
    return Period(
        period_type,
        date_from,
        next_from - datetime.timedelta(days=1),
        _utc(date_from, tz),
        _utc(next_from, tz),
        tz,
    )


def local_today(tz="UTC", now=None):
    """Today's date in ``tz`` (``now`` is an aware or naive-UTC datetime, default: now)."""
    now = now or datetime.datetime.now(datetime.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=datetime.UTC)
    return now.astimezone(ZoneInfo(tz or "UTC")).date()


def previous_period(period):
    return period_of(period.period_type, period.date_from - datetime.timedelta(days=1), period.tz)


def next_period(period):
    return period_of(period.period_type, period.date_to + datetime.timedelta(days=1), period.tz)


def same_period_last_year(period):
    return period_of(period.period_type, period.date_from.replace(year=period.date_from.year - 1), period.tz)


def periods_between(period_type, date_from, date_to, tz="UTC"):
    """Every period of ``period_type`` touching [date_from, date_to], oldest first."""
    period = period_of(period_type, date_from, tz)
    result = []
    while period.date_from <= date_to:
        result.append(period)
        period = next_period(period)
    return result


def last_ended_period(period_type, tz="UTC", now=None):
    """The most recent period that is over at ``now`` in ``tz``."""
    return previous_period(period_of(period_type, local_today(tz, now), tz))
