from odoo import fields, models, tools
from odoo.tools import SQL

SPEND_BANDS = [
    ("0", "Under 10"),
    ("1", "10 to 99"),
    ("2", "100 to 999"),
    ("3", "1,000 to 9,999"),
    ("4", "10,000 to 99,999"),
    ("5", "100,000 and more"),
]


PERIOD_TYPES = [("month", "Month"), ("quarter", "Quarter"), ("year", "Year")]


class CrmLoyaltyRetentionReport(models.Model):
    """One row per member, company and period (month, quarter or year) in which the member
    bought: did the member buy again in the following period? The average of
    ``retention_rate`` is the retention of any group of rows of one ``period_type``.

    The company is the member's (the card's, else the customer's); a member of no company (a
    shared program) gets one row per company it bought from, each in that company's currency.
    Only completed periods are shown: the period in progress would always read low.
    """

    _name = "crm.loyalty.retention.report"
    _description = "Loyalty Retention Analysis"
    _auto = False
    # what the query reads: the ORM flushes it before any read of the report
    _depends = {
        "loyalty.card": ["partner_id", "program_id", "company_id", "active"],
        "loyalty.program": ["company_id", "program_type"],
        "res.partner": ["company_id", "commercial_partner_id"],
        "sale.order": ["partner_id", "state", "date_order", "amount_untaxed", "currency_rate", "company_id"],
        "loyalty.tier.history": ["card_id", "date", "new_tier_id"],
    }
    _order = "period_date desc"

    period_type = fields.Selection(
        PERIOD_TYPES, readonly=True, help="Rows of one period type only are read together."
    )
    period_date = fields.Date(
        "Period", readonly=True, help="The period in which a repeat purchase is looked for."
    )
    card_id = fields.Many2one("loyalty.card", readonly=True)
    partner_id = fields.Many2one("res.partner", readonly=True)
    program_id = fields.Many2one("loyalty.program", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    tier_id = fields.Many2one(
        "loyalty.tier", "Tier", readonly=True, help="The member's tier at the start of the period."
    )
    spend_band = fields.Selection(
        SPEND_BANDS,
        readonly=True,
        help="Spend band of the previous period's confirmed orders (untaxed, company currency).",
    )
    previous_spend = fields.Float("Previous Period Spend", readonly=True)
    member_count = fields.Integer("Members", readonly=True)
    retained_count = fields.Integer("Retained Members", readonly=True)
    retention_rate = fields.Float("Retention Rate (%)", readonly=True, aggregator="avg")

    def _auto_init(self):
        # the report was a SQL view (init) before its table query: drop what is left of it
        tools.drop_view_if_exists(self.env.cr, self._table)
        return super()._auto_init()

    @property
    def _table_query(self):
        return SQL(
            """
            WITH member AS (
                SELECT card.id AS card_id, card.partner_id, card.program_id,
                       COALESCE(card.company_id, partner.company_id) AS company_id,
                       partner.commercial_partner_id
                  FROM loyalty_card card
                  JOIN loyalty_program program ON program.id = card.program_id
                  JOIN res_partner partner ON partner.id = card.partner_id
                 WHERE program.program_type = 'loyalty' AND card.active
            ), kind (period_type, code, step) AS (
                VALUES ('month', 0, interval '1 month'), ('quarter', 1, interval '3 months'),
                       ('year', 2, interval '1 year')
            ), spend AS (
                SELECT member.card_id, so.company_id, kind.period_type, kind.code, kind.step,
                       date_trunc(kind.period_type, so.date_order)::date AS period,
                       SUM(so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1)) AS amount
                  FROM member
                  JOIN res_partner buyer ON buyer.commercial_partner_id = member.commercial_partner_id
                  JOIN sale_order so ON so.partner_id = buyer.id
            CROSS JOIN kind
                 WHERE so.state = 'sale'
                   AND (member.company_id IS NULL OR so.company_id = member.company_id)
              GROUP BY member.card_id, so.company_id, kind.period_type, kind.code, kind.step,
                       date_trunc(kind.period_type, so.date_order)
            )
            -- stable ids: card, company, period (months since year 0) and period type
            SELECT ((base.card_id::bigint * 10000 + base.company_id) * 30000
                        + (extract(year FROM base.period) * 12 + extract(month FROM base.period) - 1)::bigint
                   ) * 3 + base.code AS id,
                   base.period_type,
                   (base.period + base.step)::date AS period_date,
                   member.card_id,
                   member.partner_id,
                   member.program_id,
                   base.company_id,
                   (SELECT history.new_tier_id FROM loyalty_tier_history history
                     WHERE history.card_id = member.card_id
                       AND history.date < (base.period + base.step)::date
                  ORDER BY history.date DESC, history.id DESC LIMIT 1) AS tier_id,
                   LEAST(5, GREATEST(0, floor(log(GREATEST(base.amount, 1)))))::int::varchar
                       AS spend_band,
                   base.amount AS previous_spend,
                   1 AS member_count,
                   CASE WHEN again.card_id IS NULL THEN 0 ELSE 1 END AS retained_count,
                   CASE WHEN again.card_id IS NULL THEN 0.0 ELSE 100.0 END AS retention_rate
              FROM spend base
              JOIN member ON member.card_id = base.card_id
         LEFT JOIN spend again ON again.card_id = base.card_id
                              AND again.company_id = base.company_id
                              AND again.period_type = base.period_type
                              AND again.period = (base.period + base.step)::date
             -- only completed periods: the period looked at must be over (not the one in progress)
             WHERE base.period + 2 * base.step <= %(today)s
            """,
            today=fields.Date.context_today(self),
        )
