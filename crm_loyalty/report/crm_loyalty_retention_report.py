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


class CrmLoyaltyRetentionReport(models.Model):
    """One row per member and quarter in which the member bought: did the member buy again in
    the following quarter? The average of ``retention_rate`` is the retention of any group."""

    _name = "crm.loyalty.retention.report"
    _description = "Loyalty Retention Analysis"
    _auto = False
    # what the view reads: the ORM flushes it before any read of the report
    _depends = {
        "loyalty.card": [
            "partner_id",
            "program_id",
            "crm_tier_id",
            "points",
            "active",
            "crm_tier_start_date",
        ],
        "loyalty.program": ["company_id", "program_type", "crm_point_value", "crm_tier_window_months"],
        "sale.order": ["partner_id", "state", "date_order", "amount_untaxed", "currency_rate", "company_id"],
        "loyalty.tier.history": ["card_id", "date", "new_tier_id"],
    }
    _order = "period_date desc"

    period_date = fields.Date(
        "Period", readonly=True, help="The quarter in which a repeat purchase is looked for."
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
        help="Spend band of the previous quarter's confirmed orders (untaxed, company currency).",
    )
    previous_spend = fields.Float("Previous Quarter Spend", readonly=True)
    member_count = fields.Integer("Members", readonly=True)
    retained_count = fields.Integer("Retained Members", readonly=True)
    retention_rate = fields.Float("Retention Rate (%)", readonly=True, aggregator="avg")

    def _query(self):
        return SQL(
            """
            WITH member AS (
                SELECT card.id AS card_id, card.partner_id, card.program_id, program.company_id,
                       partner.commercial_partner_id
                  FROM loyalty_card card
                  JOIN loyalty_program program ON program.id = card.program_id
                  JOIN res_partner partner ON partner.id = card.partner_id
                 WHERE program.program_type = 'loyalty' AND card.active
            ), spend AS (
                SELECT member.card_id,
                       date_trunc('quarter', so.date_order)::date AS quarter,
                       SUM(so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1)) AS amount
                  FROM member
                  JOIN res_partner buyer ON buyer.commercial_partner_id = member.commercial_partner_id
                  JOIN sale_order so ON so.partner_id = buyer.id
                 WHERE so.state = 'sale'
                   AND (member.company_id IS NULL OR so.company_id = member.company_id)
              GROUP BY member.card_id, date_trunc('quarter', so.date_order)
            )
            SELECT row_number() OVER (ORDER BY base.card_id, base.quarter) AS id,
                   (base.quarter + interval '3 months')::date AS period_date,
                   member.card_id,
                   member.partner_id,
                   member.program_id,
                   member.company_id,
                   (SELECT history.new_tier_id FROM loyalty_tier_history history
                     WHERE history.card_id = member.card_id
                       AND history.date < (base.quarter + interval '3 months')::date
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
                              AND again.quarter = (base.quarter + interval '3 months')::date
             -- only completed periods: the quarter looked at must be over (not the one in progress)
             WHERE base.quarter + interval '6 months' <= now() AT TIME ZONE 'UTC'
            """
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
