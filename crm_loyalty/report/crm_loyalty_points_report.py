from odoo import api, fields, models, tools
from odoo.tools import SQL

from ..models.loyalty_history import moves_sql


def _rate_sql(currency, day):
    # res.currency._get_rates in SQL: the latest rate on or before the day, of the company's root
    # (alias ``company``) or shared, else the earliest one, else 1
    rates = SQL(
        """
        FROM res_currency_rate rate
        WHERE rate.currency_id = %(currency)s
          AND (rate.company_id IS NULL OR rate.company_id = split_part(company.parent_path, '/', 1)::int)
        """,
        currency=SQL(currency),
    )
    return SQL(
        """
        COALESCE((SELECT rate.rate %(rates)s AND rate.name <= %(day)s ORDER BY rate.company_id, rate.name DESC LIMIT 1),
                 (SELECT rate.rate %(rates)s ORDER BY rate.company_id, rate.name LIMIT 1),
                 1.0)
        """,
        rates=rates,
        day=day,
    )


def company_conversion_sql(company_id, currency_id, day, current_company_id):
    """The joins of a report's table query that value its rows in their company's currency:
    ``company`` (the row's ``company_id`` expression, else the current company: the amounts of a
    row of no company are in its currency) and ``conversion.factor``, one unit of the
    ``currency_id`` expression (a loyalty program's currency) in that company's currency on
    ``day`` (the report date), as ``res.currency._convert`` computes it."""
    return SQL(
        """
        JOIN res_company company ON company.id = COALESCE(%(company_id)s, %(current_company_id)s)
        JOIN (
            SELECT company.id AS company_id, currency.id AS currency_id,
                   %(to_rate)s / %(from_rate)s AS factor
              FROM res_company company
        CROSS JOIN (SELECT DISTINCT currency_id AS id FROM loyalty_program) currency
        ) conversion ON conversion.company_id = company.id AND conversion.currency_id = %(currency_id)s
        """,
        company_id=company_id,
        current_company_id=current_company_id,
        to_rate=_rate_sql("company.currency_id", day),
        from_rate=_rate_sql("currency.id", day),
        currency_id=currency_id,
    )


class CrmLoyaltyPointsReport(models.Model):
    """One row per loyalty history line of a loyalty program: points issued, redeemed, expired.

    Values are in the currency of the line's company, converted from the program's currency at
    the report date.
    """

    _name = "crm.loyalty.points.report"
    _description = "Loyalty Points Analysis"
    _auto = False
    # what the query reads: the ORM flushes it before any read of the report
    _depends = {
        "loyalty.history": [
            "card_id",
            "date",
            "move_type",
            "issued",
            "used",
            "points",
            "reversed_line_id",
            "sale_order_id",
            "invoice_id",
        ],
        "loyalty.card": ["partner_id", "program_id", "crm_tier_id"],
        "loyalty.program": ["company_id", "currency_id", "program_type", "crm_point_value"],
        "sale.order": ["company_id"],
        "account.move": ["company_id"],
        "res.partner": ["company_id"],
        "res.company": ["currency_id", "parent_path"],
        "res.currency.rate": ["currency_id", "company_id", "name", "rate"],
    }
    _order = "date desc"

    date = fields.Date(readonly=True)
    card_id = fields.Many2one("loyalty.card", readonly=True)
    partner_id = fields.Many2one("res.partner", readonly=True)
    program_id = fields.Many2one("loyalty.program", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    tier_id = fields.Many2one("loyalty.tier", "Current Tier", readonly=True)
    points_issued = fields.Float(readonly=True)
    points_redeemed = fields.Float(readonly=True)
    points_expired = fields.Float(readonly=True)
    points_adjusted = fields.Float(readonly=True, help="Manual adjustments (signed).")
    value_issued = fields.Monetary(readonly=True, help="Points issued x point value (company currency).")
    value_redeemed = fields.Monetary(readonly=True, help="Points redeemed x point value (company currency).")

    @api.model
    def _report_date(self):
        return fields.Date.context_today(self)

    def _auto_init(self):
        # the report was a SQL view (init) before its table query: drop what is left of it
        tools.drop_view_if_exists(self.env.cr, self._table)
        return super()._auto_init()

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT move.id,
                   move.date,
                   move.card_id,
                   card.partner_id,
                   card.program_id,
                   move_company.company_id,
                   company.currency_id,
                   card.crm_tier_id AS tier_id,
                   move.issued AS points_issued,
                   move.redeemed AS points_redeemed,
                   move.expired AS points_expired,
                   move.adjusted AS points_adjusted,
                   move.issued * COALESCE(program.crm_point_value, 0) * conversion.factor AS value_issued,
                   move.redeemed * COALESCE(program.crm_point_value, 0) * conversion.factor AS value_redeemed
              FROM (%(moves)s) move
              JOIN loyalty_card card ON card.id = move.card_id
              JOIN loyalty_program program ON program.id = card.program_id
              JOIN loyalty_history line ON line.id = move.id
         LEFT JOIN sale_order so ON so.id = line.sale_order_id
         LEFT JOIN account_move invoice ON invoice.id = line.invoice_id
         LEFT JOIN res_partner partner ON partner.id = card.partner_id
              -- a shared program's line belongs to its order's or invoice's company
             CROSS JOIN LATERAL (
                   SELECT COALESCE(program.company_id, so.company_id, invoice.company_id, partner.company_id)
                              AS company_id
             ) move_company
              %(valued)s
             WHERE program.program_type = 'loyalty'
            """,
            moves=moves_sql(),
            valued=company_conversion_sql(
                SQL("move_company.company_id"),
                SQL("program.currency_id"),
                self._report_date(),
                self.env.company.id,
            ),
        )
