"""Query KPIs gathered in batches: the query part, the keys, and the reader of grouped rows.

A query KPI is one aggregate (its numerator), or the ratio of two (numerator and denominator).
Each is a :class:`QueryPart`. Many scorecards (companies, teams) and periods are evaluated with
one grouped query per part and distinct period; :func:`additive_reader` then gives each
period's value from the grouped rows.
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
    """Key of a KPI's value for a period dict (company, team, dates)."""
    team = period.get("team")
    return (kpi_id, period["company"].id, team.id if team else 0, *bounds(period))


def additive_reader(rows, by_company, by_team, aggregate, empty_is_zero=False):
    """A function giving a period's value from rows grouped by company (records without a
    company count for every company) and team (no team asked: every team).

    A count over no row is 0; a sum over no row is undefined (None) unless ``empty_is_zero``.
    """

    def read(period):
        total, found = 0.0, False
        team = period.get("team")
        for row in rows:
            index = 0
            if by_company:
                company = row[index]
                index += 1
                if company and company.id != period["company"].id:
                    continue
            if by_team:
                row_team = row[index]
                index += 1
                if team and row_team != team:
                    continue
            if row[index] is not None and row[index] is not False:
                total += row[index]
                found = True
        if aggregate == "count" or empty_is_zero:
            return total
        return total if found else None

    return read
