from odoo import fields, models
from odoo.tools import SQL

FIGURES = [
    "segment_id",
    "customer_state",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "revenue",
    "revenue_12m",
    "gross_margin",
]


class CrmRorSegmentHistory(models.Model):
    """The segment and figures of each customer per month: the months that are over from their
    snapshots (``crm.ror.segment.snapshot``), the month being computed from the profiles themselves,
    so a daily run writes no history. Ids are even for snapshots, odd for profiles."""

    _name = "crm.ror.segment.history"
    _description = "Customer Segment History"
    _auto = False
    _order = "month desc, company_id, partner_id"
    _rec_name = "partner_id"
    _depends = {
        "crm.ror.segment.snapshot": ["month", "partner_id", "company_id", *FIGURES],
        "crm.ror.customer.profile": ["reference_date", "partner_id", "company_id", *FIGURES],
    }

    month = fields.Date(readonly=True, help="First day of the month.")
    partner_id = fields.Many2one("res.partner", "Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    segment_id = fields.Many2one("crm.ror.segment", readonly=True)
    customer_state = fields.Selection(
        [("active", "Active"), ("lost", "Lost"), ("refund_only", "Credit notes only")], readonly=True
    )
    recency_score = fields.Integer("R", readonly=True, aggregator="avg")
    frequency_score = fields.Integer("F", readonly=True, aggregator="avg")
    monetary_score = fields.Integer("M", readonly=True, aggregator="avg")
    revenue = fields.Monetary(readonly=True)
    revenue_12m = fields.Monetary("Revenue (12 months)", readonly=True)
    gross_margin = fields.Monetary(readonly=True)

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
