from odoo import fields, models, tools
from odoo.tools import SQL


class CrmLoyaltyCouponReport(models.Model):
    """One row per coupon issued by a campaign: used or not, revenue of the orders using it."""

    _name = "crm.loyalty.coupon.report"
    _description = "Coupon Campaign Analysis"
    _auto = False
    # what the query reads: the ORM flushes it before any read of the report
    _depends = {
        "crm.loyalty.coupon.issue": ["campaign_id", "card_id", "partner_id", "period_date"],
        "crm.loyalty.coupon.campaign": ["company_id", "loyalty_program_id"],
        "sale.order.line": ["coupon_id", "order_id"],
        "sale.order": ["partner_id", "state", "date_order", "amount_untaxed", "currency_rate", "company_id"],
        "loyalty.card": [
            "partner_id",
            "program_id",
            "crm_tier_id",
            "points",
            "active",
            "crm_tier_start_date",
        ],
    }
    _order = "period_date desc"

    period_date = fields.Date("Period", readonly=True)
    campaign_id = fields.Many2one("crm.loyalty.coupon.campaign", readonly=True)
    card_id = fields.Many2one("loyalty.card", "Coupon", readonly=True)
    partner_id = fields.Many2one("res.partner", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    tier_id = fields.Many2one("loyalty.tier", "Member Tier", readonly=True)
    issued_count = fields.Integer("Coupons Issued", readonly=True)
    used_count = fields.Integer("Coupons Used", readonly=True)
    response_rate = fields.Float("Response Rate (%)", readonly=True, aggregator="avg")
    revenue = fields.Float(
        readonly=True, help="Untaxed amount (company currency) of the confirmed orders using the coupon."
    )

    def _auto_init(self):
        # the report was a SQL view (init) before its table query: drop what is left of it
        tools.drop_view_if_exists(self.env.cr, self._table)
        return super()._auto_init()

    @property
    def _table_query(self):
        return SQL(
            """
            WITH usage AS (
                SELECT issue.id AS issue_id,
                       SUM(so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1)) AS revenue
                  FROM crm_loyalty_coupon_issue issue
                  JOIN (SELECT DISTINCT line.coupon_id, line.order_id FROM sale_order_line line
                         WHERE line.coupon_id IS NOT NULL) used ON used.coupon_id = issue.card_id
                  JOIN sale_order so ON so.id = used.order_id AND so.state = 'sale'
              GROUP BY issue.id
            )
            SELECT issue.id AS id,
                   issue.period_date,
                   issue.campaign_id,
                   issue.card_id,
                   issue.partner_id,
                   campaign.company_id,
                   (SELECT member.crm_tier_id FROM loyalty_card member
                     WHERE member.program_id = campaign.loyalty_program_id
                       AND member.partner_id = issue.partner_id
                  ORDER BY member.id LIMIT 1) AS tier_id,
                   1 AS issued_count,
                   CASE WHEN usage.issue_id IS NULL THEN 0 ELSE 1 END AS used_count,
                   CASE WHEN usage.issue_id IS NULL THEN 0.0 ELSE 100.0 END AS response_rate,
                   COALESCE(usage.revenue, 0) AS revenue
              FROM crm_loyalty_coupon_issue issue
              JOIN crm_loyalty_coupon_campaign campaign ON campaign.id = issue.campaign_id
         LEFT JOIN usage ON usage.issue_id = issue.id
            """
        )
