from odoo import models
from odoo.tools import SQL

from ..models.crm_ror_segment_month import FIGURES


class CrmRorSegmentHistory(models.Model):
    """The segment and figures of each customer per month: the months that are over from their
    snapshots (``crm.ror.segment.snapshot``), the month being computed from the profiles themselves,
    so a daily run writes no history. Ids are even for snapshots, odd for profiles."""

    _name = "crm.ror.segment.history"
    _inherit = ["crm.ror.segment.month"]
    _description = "Customer Segment History"
    _auto = False
    _depends = {
        "crm.ror.segment.snapshot": ["month", "partner_id", "company_id", *FIGURES],
        "crm.ror.customer.profile": ["reference_date", "partner_id", "company_id", *FIGURES],
    }

    @property
    def _table_query(self):
        figures = SQL(", ").join(SQL.identifier(name) for name in FIGURES)
        # The month computed now is never stored (``_ror_close_month``): the two parts are disjoint.
        return SQL(
            """
            SELECT 2 * s.id AS id, s.month, s.partner_id, s.company_id, %(figures)s
              FROM crm_ror_segment_snapshot s
         UNION ALL
            SELECT 2 * p.id + 1, date_trunc('month', p.reference_date)::date, p.partner_id, p.company_id,
                   %(figures)s
              FROM crm_ror_customer_profile p
             WHERE p.reference_date IS NOT NULL
            """,
            figures=figures,
        )
