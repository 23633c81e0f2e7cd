"""Query KPIs gathered in batches: the query part, the keys, and the reader of grouped rows.

A query KPI is one aggregate (its numerator), or the ratio of two (numerator and denominator).
Each is a :class:`QueryPart`. Many scorecards (companies, teams) and periods are evaluated with
one grouped query per part and company for all the periods of a type shown (grouped by the
period's date bucket, e.g. ``create_date:month`` in the scorecard's timezone);
:func:`grouped_reader` then gives each period's value from the grouped rows.
"""

from typing import NamedTuple

ADDITIVE = ("count", "sum")  # aggregates whose groups add up: the only batched ones


class QueryPart(NamedTuple):
    """One aggregate of a query KPI, as plain names (no record)."""

    model: str  # model name, e.g. "crm.lead"
    domain: str  # the domain's text
    date_field: str | None  # field name, or None for every record
    date_type: str | None  # "date" or "datetime"
    aggregate: str  # count, count_distinct, sum, avg
    field: str | None  # aggregated field name (None for count)

    @property
    def spec(self):
        """The ``_read_group`` aggregate of this part."""
        return "__count" if self.aggregate == "count" else f"{self.field}:{self.aggregate}"


def bounds(period):
    """The dates of a period dict, as a hashable key."""
    return (period["date_from"], period["date_to"], period["datetime_from"], period["datetime_to"])


def batch_key(kpi_id, period):
    """Key of a KPI's value for a period dict (company, team or department users, dates)."""
    team = period.get("team")
    return (kpi_id, period["company"].id, team.id if team else 0, period.get("user_ids"), *bounds(period))


def bucket_of(value):
    """The first day of a read_group date bucket (a date, or a naive local datetime)."""
    if value is None or value is False:
        return None
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def grouped_reader(rows, by_bucket, by_team, aggregate, empty_is_zero=False):
    """A function giving a period's value from rows grouped by date bucket (the period's first
    local day, when several periods share the query) and team (no team asked: every team).

    Rows are ``(bucket?, team?, aggregate value)``. Counts and sums add up over the rows of the
    period (a count over no row is 0; a sum over no row is undefined unless ``empty_is_zero``);
    other aggregates (average, count distinct) are queried per team, so that one row at most
    is the period's.
    """
    additive = aggregate in ADDITIVE

    def read(period):
        total, found = 0.0, False
        team = period.get("team")
        for row in rows:
            index = 0
            if by_bucket:
                if bucket_of(row[index]) != period["date_from"]:
                    continue
                index += 1
            if by_team:
                row_team = row[index]
                index += 1
                if team and row_team != team:
                    continue
            value = row[index]
            if value is not None and value is not False:
                total = total + value if additive else value
                found = True
        # As a single read_group: counts over no row are 0, averages and sums None.
        if aggregate in ("count", "count_distinct") or empty_is_zero:
            return float(total)
        return float(total) if found else None

    return read
