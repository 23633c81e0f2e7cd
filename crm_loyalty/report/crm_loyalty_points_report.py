from odoo import fields, models, tools
from odoo.tools import SQL


def moves_sql():
    """Every loyalty history line as issued / redeemed / expired / adjusted points, by date.

    Ledger lines count by type, a reversing line in the type of the line it reverses (so an
    invoice cancelled after earning nets to zero issued points); lines from before the ledger
    (no type) count their stock issued and used points.
    """
    return SQL(
        """
        SELECT line.id, line.card_id, COALESCE(line.date, line.create_date)::date AS date,
               CASE WHEN line.move_type IS NULL THEN line.issued
                    WHEN COALESCE(origin.move_type, line.move_type) = 'earn' THEN line.points
                    ELSE 0 END AS issued,
               CASE WHEN line.move_type IS NULL THEN line.used
                    WHEN COALESCE(origin.move_type, line.move_type) = 'redeem' THEN -line.points
                    ELSE 0 END AS redeemed,
               CASE WHEN COALESCE(origin.move_type, line.move_type) = 'expire' THEN -line.points
                    ELSE 0 END AS expired,
               CASE WHEN COALESCE(origin.move_type, line.move_type) = 'adjust' THEN line.points
                    ELSE 0 END AS adjusted
          FROM loyalty_history line
     LEFT JOIN loyalty_history origin
            ON origin.id = line.reversed_line_id AND line.move_type = 'reverse'
        """
    )


class CrmLoyaltyPointsReport(models.Model):
    """One row per loyalty history line of a loyalty program: points issued, redeemed, expired."""

    _name = "crm.loyalty.points.report"
    _description = "Loyalty Points Analysis"
    _auto = False
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
                   program.company_id,
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
             WHERE program.program_type = 'loyalty'
            """,
            moves=moves_sql(),
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
