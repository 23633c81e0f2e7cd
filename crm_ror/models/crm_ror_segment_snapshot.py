from odoo import api, fields, models
from odoo.tools import SQL

from .crm_ror_segment_month import FIGURES


class CrmRorSegmentSnapshot(models.Model):
    """The segment and figures of each customer at the end of a month that is over, kept when the
    first run of a new month overwrites the profiles (``_ror_close_month``). Read through
    ``crm.ror.segment.history``, which adds the month being computed: the profiles."""

    _name = "crm.ror.segment.snapshot"
    _inherit = ["crm.ror.segment.month"]
    _description = "Monthly Customer Segment Snapshot"
    # Written by ``_ror_close_month``'s SQL only: no creator or writer columns (their foreign keys
    # are checked row by row, 0.4 s per 100k rows).
    _log_access = False

    month = fields.Date(required=True, index=True)
    partner_id = fields.Many2one(required=True, ondelete="cascade")
    company_id = fields.Many2one(required=True, ondelete="cascade")
    segment_id = fields.Many2one(ondelete="set null")

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
        column = SQL.identifier
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO crm_ror_segment_snapshot (month, partner_id, company_id, %(figures)s)
                SELECT date_trunc('month', p.reference_date)::date, p.partner_id, p.company_id, %(values)s
                  FROM crm_ror_customer_profile p
                 WHERE p.company_id = %(company)s AND date_trunc('month', p.reference_date) <> %(month)s
                -- a month computed again later (a run dated back) keeps its last state
                ON CONFLICT (company_id, partner_id, month) DO UPDATE SET %(updates)s
                """,
                figures=SQL(", ").join(column(name) for name in FIGURES),
                values=SQL(", ").join(SQL("p.%s", column(name)) for name in FIGURES),
                updates=SQL(", ").join(
                    SQL("%s = EXCLUDED.%s", column(name), column(name)) for name in FIGURES
                ),
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
