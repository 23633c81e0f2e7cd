from odoo import fields, models, tools
from odoo.tools import SQL

from ..models.loyalty_history import moves_sql


class CrmLoyaltyPointsReport(models.Model):
    """One row per loyalty history line of a loyalty program: points issued, redeemed, expired."""

    _name = "crm.loyalty.points.report"
    _description = "Loyalty Points Analysis"
    _auto = False
    # what the view reads: the ORM flushes it before any read of the report
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
        "loyalty.card": [
            "partner_id",
            "program_id",
            "crm_tier_id",
            "points",
            "active",
            "crm_tier_start_date",
        ],
        "loyalty.program": ["company_id", "program_type", "crm_point_value", "crm_tier_window_months"],
        "sale.order": ["company_id"],
        "account.move": ["company_id"],
        "res.partner": ["company_id"],
    }
    _order = "date desc"

    date = fields.Date(readonly=True)
    card_id = fields.Many2one("loyalty.card", readonly=True)
    partner_id = fields.Many2one("res.partner", readonly=True)
    program_id = fields.Many2one("loyalty.program", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    tier_id = fields.Many2one("loyalty.tier", "Current Tier", readonly=True)
    points_issued = fields.Float(readonly=True)
    points_redeemed = fields.Float(readonly=True)
    points_expired = fields.Float(readonly=True)
    points_adjusted = fields.Float(readonly=True, help="Manual adjustments (signed).")
    value_issued = fields.Float(readonly=True, help="Points issued x point value.")
    value_redeemed = fields.Float(readonly=True, help="Points redeemed x point value.")

    def _query(self):
        return SQL(
            """
            SELECT move.id AS id,
                   move.date,
                   move.card_id,
                   card.partner_id,
                   card.program_id,
                   -- a shared program's line belongs to its order's or invoice's company
                   COALESCE(program.company_id, so.company_id, invoice.company_id, partner.company_id)
                       AS company_id,
                   card.crm_tier_id AS tier_id,
                   move.issued AS points_issued,
                   move.redeemed AS points_redeemed,
                   move.expired AS points_expired,
                   move.adjusted AS points_adjusted,
                   move.issued * COALESCE(program.crm_point_value, 0) AS value_issued,
                   move.redeemed * COALESCE(program.crm_point_value, 0) AS value_redeemed
              FROM (%(moves)s) move
              JOIN loyalty_card card ON card.id = move.card_id
              JOIN loyalty_program program ON program.id = card.program_id
              JOIN loyalty_history line ON line.id = move.id
         LEFT JOIN sale_order so ON so.id = line.sale_order_id
         LEFT JOIN account_move invoice ON invoice.id = line.invoice_id
         LEFT JOIN res_partner partner ON partner.id = card.partner_id
             WHERE program.program_type = 'loyalty'
            """,
            moves=moves_sql(),
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
