from odoo import api, fields, models
from odoo.tools import SQL


class CrmRorSegmentSnapshot(models.Model):
    """The segment and figures of each customer at the end of a month that is over, kept when the
    first run of a new month overwrites the profiles (``_ror_close_month``). Read through
    ``crm.ror.segment.history``, which adds the month being computed: the profiles."""

    _name = "crm.ror.segment.snapshot"
    _description = "Monthly Customer Segment Snapshot"
    _order = "month desc, company_id, partner_id"
    _rec_name = "partner_id"
    # Written by ``_ror_close_month``'s SQL only: no creator or writer columns (their foreign keys
    # are checked row by row, 0.4 s per 100k rows).
    _log_access = False

    month = fields.Date(required=True, index=True, readonly=True, help="First day of the month.")
    partner_id = fields.Many2one("res.partner", "Customer", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    segment_id = fields.Many2one("crm.ror.segment", ondelete="set null", readonly=True)
    customer_state = fields.Selection(
        [("active", "Active"), ("lost", "Lost"), ("refund_only", "Credit notes only")], readonly=True
    )
    recency_score = fields.Integer("R", readonly=True, aggregator="avg")
    frequency_score = fields.Integer("F", readonly=True, aggregator="avg")
    monetary_score = fields.Integer("M", readonly=True, aggregator="avg")
    revenue = fields.Monetary(readonly=True)
    revenue_12m = fields.Monetary("Revenue (12 months)", readonly=True)
    gross_margin = fields.Monetary(readonly=True)

    _sql_constraints = [
        (
            "company_partner_month_uniq",
            "unique(company_id, partner_id, month)",
            "A customer has one segment snapshot per company and month.",
        ),
    ]

    @api.model
    def _ror_close_month(self, company, month):
        """Store the state of the company's profiles as their month's snapshot when a run of
        ``month`` is about to overwrite them, if they were computed in another month.

        The month being computed is the profiles themselves (``crm.ror.segment.history`` shows
        them): a daily run stores nothing, the first run of a month stores the last state of the
        month before, and a month keeps the last state computed in it.
        """
        self.env["crm.ror.customer.profile"].flush_model()
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO crm_ror_segment_snapshot AS s
                       (month, partner_id, company_id, segment_id, customer_state, recency_score,
                        frequency_score, monetary_score, revenue, revenue_12m, gross_margin)
                SELECT date_trunc('month', p.reference_date)::date, p.partner_id, p.company_id, p.segment_id,
                       p.customer_state, p.recency_score, p.frequency_score, p.monetary_score, p.revenue,
                       p.revenue_12m, p.gross_margin
                  FROM crm_ror_customer_profile p
                 WHERE p.company_id = %(company)s AND date_trunc('month', p.reference_date) <> %(month)s
                -- a month computed again later (a run dated back) keeps its last state
                ON CONFLICT (company_id, partner_id, month) DO UPDATE
                   SET segment_id = EXCLUDED.segment_id, customer_state = EXCLUDED.customer_state,
                       recency_score = EXCLUDED.recency_score, frequency_score = EXCLUDED.frequency_score,
                       monetary_score = EXCLUDED.monetary_score, revenue = EXCLUDED.revenue,
                       revenue_12m = EXCLUDED.revenue_12m, gross_margin = EXCLUDED.gross_margin
                """,
                month=month,
                company=company.id,
            )
        )
        # The month computed now is the profiles: a snapshot stored for it earlier gives way.
        self.env.cr.execute(
            SQL(
                "DELETE FROM crm_ror_segment_snapshot WHERE company_id = %s AND month = %s",
                company.id,
                month,
            )
        )
        self.invalidate_model()
