from odoo import fields, models, tools
from odoo.tools import SQL

from ..models.loyalty_history import moves_sql


class CrmLoyaltyMemberReport(models.Model):
    """One row per loyalty card: tier, activity, balance, liability and breakage."""

    _name = "crm.loyalty.member.report"
    _description = "Loyalty Members Analysis"
    _auto = False
    # what the view reads: the ORM flushes it before any read of the report
    _depends = {
        "loyalty.history": ["card_id", "date", "move_type", "issued", "used", "points", "reversed_line_id"],
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
    }
    _rec_name = "card_id"
    _order = "card_id"

    card_id = fields.Many2one("loyalty.card", readonly=True)
    partner_id = fields.Many2one("res.partner", readonly=True)
    program_id = fields.Many2one("loyalty.program", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
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
    liability = fields.Float(
        "Outstanding Liability", readonly=True, help="Balance x the program's point value."
    )
    breakage = fields.Float(readonly=True, help="Expired points x the program's point value.")

    def _select_points(self):
        """Issued, redeemed and expired points per card."""
        return SQL(
            """
            SELECT card_id, SUM(issued) AS issued, SUM(redeemed) AS redeemed, SUM(expired) AS expired
              FROM (%s) moves
          GROUP BY card_id
            """,
            moves_sql(),
        )

    def _query(self):
        return SQL(
            """
            SELECT card.id AS id,
                   card.id AS card_id,
                   card.partner_id,
                   card.program_id,
                   program.company_id,
                   card.crm_tier_id AS tier_id,
                   COALESCE(card.crm_tier_start_date, card.create_date::date) AS member_since,
                   1 AS member_count,
                   CASE WHEN EXISTS (
                       SELECT 1 FROM sale_order so
                         JOIN res_partner buyer ON buyer.id = so.partner_id
                        WHERE buyer.commercial_partner_id = partner.commercial_partner_id
                          AND so.state = 'sale'
                          AND (program.company_id IS NULL OR so.company_id = program.company_id)
                          AND so.date_order >= now() AT TIME ZONE 'UTC'
                              - make_interval(months => program.crm_tier_window_months)
                   ) THEN 1 ELSE 0 END AS active_count,
                   card.points,
                   COALESCE(moves.issued, 0) AS points_issued,
                   COALESCE(moves.redeemed, 0) AS points_redeemed,
                   COALESCE(moves.expired, 0) AS points_expired,
                   card.points * COALESCE(program.crm_point_value, 0) AS liability,
                   COALESCE(moves.expired, 0) * COALESCE(program.crm_point_value, 0) AS breakage
              FROM loyalty_card card
              JOIN loyalty_program program ON program.id = card.program_id
              JOIN res_partner partner ON partner.id = card.partner_id
         LEFT JOIN (%(points)s) moves ON moves.card_id = card.id
             WHERE program.program_type = 'loyalty' AND card.active
            """,
            points=self._select_points(),
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
