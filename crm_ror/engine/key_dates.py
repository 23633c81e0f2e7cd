"""Occurrences of key dates (birthdays, anniversaries...) and when to remind of them."""

import calendar
from datetime import date, timedelta


def anniversary(day, year):
    """``day`` moved to ``year``; 29 February falls on 28 February in other years."""
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def next_occurrence(day, today, recurring=True):
    """First occurrence of ``day`` on or after ``today`` (``None`` for a past one-off date)."""
    if not recurring:
        return day if day >= today else None
    occurrence = anniversary(day, today.year)
    if occurrence < today:
        occurrence = anniversary(day, today.year + 1)
    return occurrence


def reminder_due(day, today, remind_days_before, recurring=True, last_reminded=None):
    """Occurrence to remind of today, or ``None``.

    A reminder is due from ``remind_days_before`` days before the occurrence until the
    occurrence itself (so a missed night catches up), once per occurrence: ``last_reminded``
    is the occurrence already reminded of.
    """
    occurrence = next_occurrence(day, today, recurring)
    if occurrence is None or occurrence == last_reminded:
        return None
    if today < occurrence - timedelta(days=remind_days_before or 0):
        return None
    return occurrence
