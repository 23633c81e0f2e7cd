from datetime import timedelta

from odoo import api, models
from odoo.tools import SQL
from odoo.tools.sql import create_index

# A profile computed less than this long before the end of the period counts as fresh.
FRESHNESS_HOURS = 48


class CrmRorScorecardKpi(models.AbstractModel):
    """Catalog KPIs of crm_ror for the scorecard (contract 1 of the team's brief)."""

    _name = "crm.ror.scorecard.kpi"
    _description = "Return on Relationship Scorecard KPIs"

    def init(self):
        res = super().init()
        # The KPIs' own indexes on account_move (this model owns no table): the posted invoices of
        # a date range with their customer and team, read from the index alone (buyers of a
        # period) ...
        create_index(
            self.env.cr,
            "account_move_crm_ror_kpi_buyers_idx",
            "account_move",
            ["company_id", "invoice_date", "commercial_partner_id", "team_id"],
            where="state = 'posted' AND move_type = 'out_invoice'",
        )
        # ... and a customer's invoices and credit notes (repeat customers). crm_loyalty has the
        # same index for its tier spend; neither addon depends on the other.
        create_index(
            self.env.cr,
            "account_move_crm_ror_kpi_customer_idx",
            "account_move",
            ["commercial_partner_id", "invoice_date"],
            where="state = 'posted' AND move_type IN ('out_invoice', 'out_refund')",
        )
        return res

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
        """(number of repeat customers, number of salespeople who sold in the period).

        A repeat customer has at least two purchases up to the end of the period, one of them in
        it; a salesperson sold one of the period's purchases (the smallest user id of its lines).
        The purchases are those of the profiles' sales lines (``_ror_sales_lines_query``), read at
        the document level: only the customers with a purchase in the period are looked at (from
        the documents of the period, by their date index), and only their own documents up to the
        period end (by the customer's index), not every line of the company's history.
        """
        self.env.flush_all()
        if period["company"].ror_source == "order":
            query = self._ror_repeat_orders_sql(period)
        else:
            query = self._ror_repeat_invoices_sql(period)
        [row] = self.env.execute_query(query)
        return row

    def _ror_repeat_aggregate_sql(self, date_from):
        """The KPI's two figures out of a CTE ``docs`` (partner_id, doc_id, doc_date, user_id): one
        row per customer and purchase up to the period end, of every customer with a purchase in
        the period, ``user_id`` the smallest of the customer's lines on the purchase."""
        return SQL(
            """
            SELECT (SELECT count(*) FROM (
                        SELECT partner_id FROM docs
                      GROUP BY partner_id
                        HAVING count(*) >= 2 AND max(doc_date) >= %(date_from)s) customers),
                   (SELECT count(DISTINCT user_id) FROM docs WHERE doc_date >= %(date_from)s)
            """,
            date_from=date_from,
        )

    def _ror_repeat_orders_sql(self, period):
        """``_ror_repeat_customers`` on confirmed orders: a purchase is an order with a line of the
        profiles' order lines (no section, note or down payment), on its (UTC) order date."""
        company, team = period["company"], period["team"]
        return SQL(
            """
            WITH candidates AS (
                SELECT DISTINCT p.commercial_partner_id AS id
                  FROM sale_order o
                  JOIN res_partner p ON p.id = o.partner_id
                 WHERE o.company_id = %(company)s AND o.state = 'sale'
                   AND o.date_order >= %(date_from)s AND o.date_order < %(date_to)s::date + 1
                   AND (%(team)s::int IS NULL OR o.team_id = %(team)s)
            ),
            docs AS (
                SELECT candidate.id AS partner_id, o.id AS doc_id, o.date_order::date AS doc_date, o.user_id
                  FROM candidates candidate
                  JOIN res_partner p ON p.commercial_partner_id = candidate.id
                  JOIN sale_order o ON o.partner_id = p.id
                 WHERE o.company_id = %(company)s AND o.state = 'sale'
                   AND o.date_order < %(date_to)s::date + 1
                   AND (%(team)s::int IS NULL OR o.team_id = %(team)s)
                   AND EXISTS (SELECT FROM sale_order_line l
                                WHERE l.order_id = o.id AND l.display_type IS NULL
                                  AND NOT COALESCE(l.is_downpayment, FALSE))
            )
            %(aggregate)s
            """,
            company=company.id,
            team=team.id or None,
            date_from=period["date_from"],
            date_to=period["date_to"],
            aggregate=self._ror_repeat_aggregate_sql(period["date_from"]),
        )

    def _ror_repeat_invoices_sql(self, period):
        """``_ror_repeat_customers`` on posted invoices, with the purchases of
        ``_ror_invoice_lines_query``: a customer's product line of a posted invoice is on that
        invoice, or on the final invoice (of the period end at the latest) deducting it when it is a
        down payment; a credit note's product line is on the invoice it reverses (reversal link,
        else the latest invoice not after it that its receivable is reconciled with), and is no
        purchase without one. A purchase's date is its invoice's."""
        company, team = period["company"], period["team"]
        # the invoices a line may go to: posted customer invoices of the company up to the period end
        invoice = SQL(
            """inv.move_type = 'out_invoice' AND inv.state = 'posted'
               AND inv.company_id = %(company)s AND inv.invoice_date <= %(date_to)s""",
            company=company.id,
            date_to=period["date_to"],
        )
        return SQL(
            """
            WITH period_docs AS (
                SELECT inv.id FROM account_move inv
                 WHERE %(invoice)s AND inv.invoice_date >= %(date_from)s
            ),
            candidates AS (
                -- every customer who may have a line on a purchase of the period: the invoice's
                -- own, those of the credit notes going to it and of the down payments it deducts
                SELECT m.commercial_partner_id AS id
                  FROM period_docs d JOIN account_move m ON m.id = d.id
                 UNION
                SELECT r.commercial_partner_id
                  FROM period_docs d JOIN account_move r ON r.reversed_entry_id = d.id
                 UNION
                SELECT r.commercial_partner_id
                  FROM period_docs d
                  JOIN account_move_line il ON il.move_id = d.id
                  JOIN account_partial_reconcile apr ON apr.debit_move_id = il.id
                  JOIN account_move_line rl ON rl.id = apr.credit_move_id
                  JOIN account_move r ON r.id = rl.move_id
                 UNION
                SELECT dm.commercial_partner_id
                  FROM period_docs d
                  JOIN account_move_line fl ON fl.move_id = d.id AND fl.quantity < 0
                  JOIN sale_order_line_invoice_rel frel ON frel.invoice_line_id = fl.id
                  JOIN sale_order_line_invoice_rel drel ON drel.order_line_id = frel.order_line_id
                  JOIN account_move_line dl ON dl.id = drel.invoice_line_id
                  JOIN account_move dm ON dm.id = dl.move_id
            ),
            moves AS (
                -- the candidates' posted invoices and credit notes up to the period end
                SELECT m.id, m.move_type, m.invoice_date, m.reversed_entry_id,
                       m.commercial_partner_id AS partner_id, m.invoice_user_id AS user_id
                  FROM account_move m
                 WHERE m.commercial_partner_id IN (SELECT id FROM candidates)
                   AND m.company_id = %(company)s AND m.state = 'posted'
                   AND m.move_type IN ('out_invoice', 'out_refund') AND m.invoice_date <= %(date_to)s
                   AND (%(team)s::int IS NULL OR m.team_id = %(team)s)
            ),
            line_docs AS (
                -- an invoice with a product line that is not a down payment
                SELECT mv.partner_id, mv.user_id, mv.id AS doc_id
                  FROM moves mv
                 WHERE mv.move_type = 'out_invoice'
                   AND EXISTS (SELECT FROM account_move_line l
                                WHERE l.move_id = mv.id AND l.display_type = 'product'
                                  AND NOT COALESCE(l.is_downpayment AND l.quantity > 0, FALSE))
                 UNION ALL
                -- a down payment: on the final invoice deducting it, else on its own invoice
                SELECT mv.partner_id, mv.user_id, COALESCE(
                           (SELECT min(fl.move_id)
                              FROM sale_order_line_invoice_rel drel
                              JOIN sale_order_line_invoice_rel frel
                                ON frel.order_line_id = drel.order_line_id AND frel.invoice_line_id <> l.id
                              JOIN account_move_line fl ON fl.id = frel.invoice_line_id AND fl.quantity < 0
                              JOIN account_move inv ON inv.id = fl.move_id
                             WHERE drel.invoice_line_id = l.id AND %(invoice)s),
                           mv.id)
                  FROM moves mv
                  JOIN account_move_line l
                    ON l.move_id = mv.id AND l.display_type = 'product' AND l.is_downpayment AND l.quantity > 0
                 WHERE mv.move_type = 'out_invoice'
                 UNION ALL
                -- a credit note: on the invoice it reverses
                SELECT mv.partner_id, mv.user_id, COALESCE(
                           (SELECT inv.id FROM account_move inv WHERE inv.id = mv.reversed_entry_id AND %(invoice)s),
                           (SELECT inv.id
                              FROM account_move_line rl
                              JOIN account_partial_reconcile apr ON apr.credit_move_id = rl.id
                              JOIN account_move_line il ON il.id = apr.debit_move_id
                              JOIN account_move inv ON inv.id = il.move_id
                             WHERE rl.move_id = mv.id AND rl.display_type = 'payment_term'
                               AND %(invoice)s AND inv.invoice_date <= mv.invoice_date
                          ORDER BY inv.invoice_date DESC, inv.id DESC
                             LIMIT 1))
                  FROM moves mv
                 WHERE mv.move_type = 'out_refund'
                   AND EXISTS (SELECT FROM account_move_line l WHERE l.move_id = mv.id AND l.display_type = 'product')
            ),
            docs AS (
                SELECT line_doc.partner_id, line_doc.doc_id, doc.invoice_date AS doc_date,
                       min(line_doc.user_id) AS user_id
                  FROM line_docs line_doc
                  JOIN account_move doc ON doc.id = line_doc.doc_id
              GROUP BY line_doc.partner_id, line_doc.doc_id, doc.invoice_date
            )
            %(aggregate)s
            """,
            invoice=invoice,
            company=company.id,
            team=team.id or None,
            date_from=period["date_from"],
            date_to=period["date_to"],
            aggregate=self._ror_repeat_aggregate_sql(period["date_from"]),
        )

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
