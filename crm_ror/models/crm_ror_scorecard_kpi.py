from datetime import timedelta

from odoo import api, models
from odoo.tools import SQL

# A profile computed less than this long before the end of the period counts as fresh.
FRESHNESS_HOURS = 48


class CrmRorScorecardKpi(models.AbstractModel):
    """Catalog KPIs of crm_ror for the scorecard (contract 1 of the team's brief)."""

    _name = "crm.ror.scorecard.kpi"
    _description = "Return on Relationship Scorecard KPIs"

    @api.model
    def _crm_scorecard_kpi_catalog(self):
        return [
            {
                "code": "crm_ror.retention_rate",
                "name": self.env._("Retention rate"),
                "perspective": "customer",
                "unit": "%",
                "direction": "max",
                "description": self.env._(
                    "Customers who bought in the previous period of the same length and bought again in the period, "
                    "out of the customers who bought in the previous period."
                ),
                "method": "_kpi_retention_rate",
            },
            {
                "code": "crm_ror.churn_rate",
                "name": self.env._("Churn rate"),
                "perspective": "customer",
                "unit": "%",
                "direction": "min",
                "description": self.env._(
                    "Customers who bought in the previous period of the same length and did not buy in the period, "
                    "out of the customers who bought in the previous period."
                ),
                "method": "_kpi_churn_rate",
            },
            {
                "code": "crm_ror.repeat_customers",
                "name": self.env._("Repeat customers"),
                "perspective": "customer",
                "unit": "customers",
                "direction": "max",
                "description": self.env._(
                    "Customers who bought in the period and had bought before (earlier in the period or before it)."
                ),
                "method": "_kpi_repeat_customers",
            },
            {
                "code": "crm_ror.repeat_customers_per_salesperson",
                "name": self.env._("Repeat customers per salesperson"),
                "perspective": "process",
                "unit": "customers",
                "direction": "max",
                "description": self.env._(
                    "Repeat customers divided by the salespeople who sold in the period."
                ),
                "method": "_kpi_repeat_customers_per_salesperson",
            },
            {
                "code": "crm_ror.profile_freshness",
                "name": self.env._("Value profile freshness"),
                "perspective": "learning",
                "unit": "%",
                "direction": "max",
                "description": self.env._(
                    "Share of the customers with purchases (of the team's salespeople) whose value profile was computed at most 48 hours "
                    "before the end of the period (or later)."
                ),
                "method": "_kpi_profile_freshness",
            },
        ]

    @api.model
    def _ror_buyers(self, period, date_from, date_to):
        """Ids of the customers with a purchase of the company (and team) in [date_from, date_to].

        A purchase of the profiles' sales lines (``_ror_sales_lines_query``) falls in the range
        exactly when its document does: a posted customer invoice dated in it (credit notes and
        down payments go to an invoice of the range, or are no purchase), or a confirmed order of
        the range. So the documents of the range are read through their date index, not every line
        of the company's history up to ``date_to`` (which cost 10-20 s per call at 1M lines).
        """
        company, team = period["company"], period["team"]
        self.env.flush_all()
        if company.ror_source == "order":
            query = SQL(
                """
                SELECT DISTINCT p.commercial_partner_id
                  FROM sale_order o
                  JOIN res_partner p ON p.id = o.partner_id
                 WHERE o.company_id = %(company)s AND o.state = 'sale'
                   AND o.date_order >= %(date_from)s AND o.date_order < %(date_to)s::date + 1
                   AND (%(team)s::int IS NULL OR o.team_id = %(team)s)
                """,
                company=company.id,
                date_from=date_from,
                date_to=date_to,
                team=team.id or None,
            )
        else:
            query = SQL(
                """
                SELECT DISTINCT m.commercial_partner_id
                  FROM account_move m
                 WHERE m.company_id = %(company)s AND m.state = 'posted' AND m.move_type = 'out_invoice'
                   AND m.invoice_date BETWEEN %(date_from)s AND %(date_to)s
                   AND m.commercial_partner_id IS NOT NULL
                   AND (%(team)s::int IS NULL OR m.team_id = %(team)s)
                """,
                company=company.id,
                date_from=date_from,
                date_to=date_to,
                team=team.id or None,
            )
        return {row[0] for row in self.env.execute_query(query)}

    @api.model
    def _ror_retention(self, period):
        length = period["date_to"] - period["date_from"]
        previous_to = period["date_from"] - timedelta(days=1)
        previous_from = previous_to - length
        base = self._ror_buyers(period, previous_from, previous_to)
        if not base:
            return None, None
        current = self._ror_buyers(period, period["date_from"], period["date_to"])
        retained = len(base & current)
        return 100.0 * retained / len(base), 100.0 * (len(base) - retained) / len(base)

    @api.model
    def _kpi_retention_rate(self, period):
        return self._ror_retention(period)[0]

    @api.model
    def _kpi_churn_rate(self, period):
        return self._ror_retention(period)[1]

    @api.model
    def _ror_repeat_customers(self, period):
        """(number of repeat customers, number of salespeople who sold in the period)."""
        company, team = period["company"], period["team"]
        lines = self.env["crm.ror.customer.profile"]._ror_sales_lines_query(company, period["date_to"])
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH docs AS (
                    SELECT partner_id, doc_id, min(doc_date) AS doc_date, min(user_id) AS user_id
                      FROM (%(lines)s) lines
                     WHERE is_purchase AND partner_id IS NOT NULL
                       AND (%(team)s::int IS NULL OR team_id = %(team)s)
                  GROUP BY partner_id, doc_id
                ),
                customers AS (
                    SELECT partner_id FROM docs
                  GROUP BY partner_id
                    HAVING count(*) >= 2 AND max(doc_date) >= %(date_from)s
                )
                SELECT (SELECT count(*) FROM customers),
                       (SELECT count(DISTINCT user_id) FROM docs WHERE doc_date >= %(date_from)s)
                """,
                lines=lines,
                team=team.id or None,
                date_from=period["date_from"],
            )
        )
        return self.env.cr.fetchone()

    @api.model
    def _kpi_repeat_customers(self, period):
        return float(self._ror_repeat_customers(period)[0])

    @api.model
    def _kpi_repeat_customers_per_salesperson(self, period):
        repeat, salespeople = self._ror_repeat_customers(period)
        if not salespeople:
            return None
        return repeat / salespeople

    @api.model
    def _kpi_profile_freshness(self, period):
        domain = [("company_id", "=", period["company"].id), ("purchase_count", ">", 0)]
        if period["team"]:
            # Partners carry no sales team: take the customers of the team's salespeople.
            domain.append(("partner_id.user_id", "in", period["team"].member_ids.ids))
        # sudo: a company-wide count (no figure of any customer), as every catalog KPI of the scorecard.
        profiles = self.env["crm.ror.customer.profile"].sudo()
        total = profiles.search_count(domain)
        if not total:
            return None
        threshold = period["datetime_to"] - timedelta(hours=FRESHNESS_HOURS)
        fresh = profiles.search_count([*domain, ("computed_at", ">=", threshold)])
        return 100.0 * fresh / total
