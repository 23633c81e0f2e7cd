from odoo import fields, models

# The figures of a customer's month, as the profile holds them (the columns the month's closing
# copies and the history reads).
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


class CrmRorSegmentMonth(models.AbstractModel):
    """A customer's segment and figures in a month: the fields of the stored snapshots of the months
    that are over and of the history that adds the month being computed."""

    _name = "crm.ror.segment.month"
    _description = "Customer Segment of a Month"
    _order = "month desc, company_id, partner_id"
    _rec_name = "partner_id"

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
