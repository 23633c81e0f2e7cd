from odoo import fields, models
from odoo.tools import SQL


class CrmRorSegmentTransitionReport(models.Model):
    _name = "crm.ror.segment.transition.report"
    _description = "Customer Segment Transitions"
    _auto = False
    _order = "month desc"
    _rec_name = "partner_id"

    month = fields.Date(readonly=True, help="Month of the snapshot the customer moved to.")
    from_month = fields.Date("Previous snapshot", readonly=True)
    partner_id = fields.Many2one("res.partner", "Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    from_segment_id = fields.Many2one("crm.ror.segment", "From segment", readonly=True)
    to_segment_id = fields.Many2one("crm.ror.segment", "To segment", readonly=True)
    is_move = fields.Boolean("Changed segment", readonly=True)
    is_new = fields.Boolean("First snapshot", readonly=True)
    customer_count = fields.Integer("Customers", readonly=True)
    revenue_12m = fields.Monetary("Revenue (12 months)", readonly=True)
    revenue_change = fields.Monetary("Revenue change (12 months)", readonly=True)

    def init(self):
        self.env.cr.execute(SQL("DROP VIEW IF EXISTS %s", SQL.identifier(self._table)))
        # Each month of the history against the same customer's month before (skipped months are
        # bridged); the history is the stored snapshots and the profiles' own month.
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %(table)s AS (
                    SELECT s.id AS id, s.month, prev.month AS from_month, s.partner_id, s.company_id,
                           c.currency_id, prev.segment_id AS from_segment_id, s.segment_id AS to_segment_id,
                           prev.segment_id IS DISTINCT FROM s.segment_id AS is_move,
                           prev.id IS NULL AS is_new,
                           1 AS customer_count, s.revenue_12m,
                           s.revenue_12m - COALESCE(prev.revenue_12m, 0) AS revenue_change
                      FROM (%(history)s) s
                      JOIN res_company c ON c.id = s.company_id
                 LEFT JOIN LATERAL (
                        SELECT p.id, p.month, p.segment_id, p.revenue_12m
                          FROM (%(history)s) p
                         WHERE p.company_id = s.company_id AND p.partner_id = s.partner_id AND p.month < s.month
                      ORDER BY p.month DESC
                         LIMIT 1
                    ) prev ON TRUE
                )
                """,
                table=SQL.identifier(self._table),
                history=self.env["crm.ror.segment.history"]._table_query,
            )
        )
