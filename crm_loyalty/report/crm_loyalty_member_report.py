from dateutil.relativedelta import relativedelta

from odoo import api, fields, models, tools
from odoo.tools import SQL

from ..models.loyalty_history import moves_sql
from .crm_loyalty_points_report import company_conversion_sql

# breakage rate: points expired / points issued over this many months up to the report date
BREAKAGE_WINDOW_MONTHS = 12


class CrmLoyaltyMemberReport(models.Model):
    """One row per loyalty card: tier, activity, balance, liability and breakage.

    Amounts are in the currency of the member's company (the card's, else the customer's, else
    the current company's), converted from the program's currency at the report date.
    """

    _name = "crm.loyalty.member.report"
    _description = "Loyalty Members Analysis"
    _auto = False
    # what the query reads: the ORM flushes it before any read of the report
    _depends = {
        "loyalty.history": ["card_id", "date", "move_type", "issued", "used", "points", "reversed_line_id"],
        "loyalty.card": [
            "partner_id",
            "program_id",
            "company_id",
            "crm_tier_id",
            "points",
            "active",
            "crm_tier_start_date",
        ],
        "loyalty.program": [
            "company_id",
            "currency_id",
            "program_type",
            "crm_point_value",
            "crm_tier_window_months",
        ],
        "res.partner": ["company_id", "commercial_partner_id"],
        "res.company": ["currency_id", "parent_path"],
        "res.currency.rate": ["currency_id", "company_id", "name", "rate"],
        "sale.order": ["partner_id", "state", "date_order", "amount_untaxed", "currency_rate", "company_id"],
    }
    _rec_name = "card_id"
    _order = "card_id"

    card_id = fields.Many2one("loyalty.card", readonly=True)
    partner_id = fields.Many2one("res.partner", readonly=True)
    program_id = fields.Many2one("loyalty.program", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True, help="The member's company's currency.")
    tier_id = fields.Many2one("loyalty.tier", readonly=True)
    member_since = fields.Date(readonly=True)
    member_count = fields.Integer("Members", readonly=True)
    active_count = fields.Integer(
        "Active Members",
        readonly=True,
        help="Members with a confirmed order over the program's qualification window.",
    )
    points = fields.Float("Balance", readonly=True)
    points_issued = fields.Float(readonly=True)
    points_redeemed = fields.Float(readonly=True)
    points_expired = fields.Float(readonly=True)
    liability = fields.Monetary(
        "Outstanding Liability",
        readonly=True,
        help="Balance x the program's point value, in the company's currency at the report date.",
    )
    breakage = fields.Monetary(
        readonly=True,
        help="Expired points x the program's point value (company currency): realised breakage.",
    )
    breakage_rate = fields.Float(
        "Breakage Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Points expired / points issued on the program (and company) over the last 12 months. "
        "The same on every row of a program: group by program to read it.",
    )
    breakage_estimate = fields.Float(
        "Expected Breakage (points)",
        readonly=True,
        help="The balance x the breakage rate: the outstanding points expected to expire unused.",
    )
    breakage_estimate_value = fields.Monetary(
        "Expected Breakage", readonly=True, help="Expected breakage x the point value (company currency)."
    )

    def _select_points(self):
        """Issued, redeemed and expired points per card, ever and over the breakage window."""
        return SQL(
            """
            SELECT card_id, SUM(issued) AS issued, SUM(redeemed) AS redeemed, SUM(expired) AS expired,
                   SUM(issued) FILTER (WHERE date > %(since)s AND date <= %(today)s) AS window_issued,
                   SUM(expired) FILTER (WHERE date > %(since)s AND date <= %(today)s) AS window_expired
              FROM (%(moves)s) moves
          GROUP BY card_id
            """,
            moves=moves_sql(),
            since=self._report_date() - relativedelta(months=BREAKAGE_WINDOW_MONTHS),
            today=self._report_date(),
        )

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
            WITH member AS (
                SELECT card.id AS card_id, card.partner_id, card.program_id, card.crm_tier_id,
                       card.points, COALESCE(card.crm_tier_start_date, card.create_date::date) AS member_since,
                       -- the member's company: the card's (its program's), else the customer's
                       COALESCE(card.company_id, partner.company_id) AS company_id,
                       partner.commercial_partner_id, program.currency_id AS program_currency_id,
                       COALESCE(program.crm_point_value, 0) AS point_value, program.crm_tier_window_months,
                       COALESCE(moves.issued, 0) AS issued, COALESCE(moves.redeemed, 0) AS redeemed,
                       COALESCE(moves.expired, 0) AS expired,
                       COALESCE(moves.window_issued, 0) AS window_issued,
                       COALESCE(moves.window_expired, 0) AS window_expired
                  FROM loyalty_card card
                  JOIN loyalty_program program ON program.id = card.program_id
                  JOIN res_partner partner ON partner.id = card.partner_id
             LEFT JOIN (%(points)s) moves ON moves.card_id = card.id
                 WHERE program.program_type = 'loyalty' AND card.active
            ), breakage AS (
                SELECT program_id, company_id,
                       SUM(window_expired) / NULLIF(SUM(window_issued), 0) AS rate
                  FROM member
              GROUP BY program_id, company_id
            ), valued AS (
                SELECT member.*, company.currency_id,
                       -- one point in the company's currency at the report date
                       member.point_value * conversion.factor AS unit_value,
                       COALESCE(breakage.rate, 0) AS breakage_rate
                  FROM member
                  %(valued)s
             LEFT JOIN breakage ON breakage.program_id = member.program_id
                               AND breakage.company_id IS NOT DISTINCT FROM member.company_id
            )
            SELECT card_id AS id,
                   card_id,
                   partner_id,
                   program_id,
                   company_id,
                   currency_id,
                   crm_tier_id AS tier_id,
                   member_since,
                   1 AS member_count,
                   CASE WHEN EXISTS (
                       SELECT 1 FROM sale_order so
                         JOIN res_partner buyer ON buyer.id = so.partner_id
                        WHERE buyer.commercial_partner_id = valued.commercial_partner_id
                          AND so.state = 'sale'
                          AND (valued.company_id IS NULL OR so.company_id = valued.company_id)
                          AND so.date_order >= now() AT TIME ZONE 'UTC'
                              - make_interval(months => valued.crm_tier_window_months)
                   ) THEN 1 ELSE 0 END AS active_count,
                   points,
                   issued AS points_issued,
                   redeemed AS points_redeemed,
                   expired AS points_expired,
                   points * unit_value AS liability,
                   expired * unit_value AS breakage,
                   100.0 * breakage_rate AS breakage_rate,
                   points * breakage_rate AS breakage_estimate,
                   points * breakage_rate * unit_value AS breakage_estimate_value
              FROM valued
            """,
            points=self._select_points(),
            valued=company_conversion_sql(
                SQL("member.company_id"),
                SQL("member.program_currency_id"),
                self._report_date(),
                self.env.company.id,
            ),
        )
