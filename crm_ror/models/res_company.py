from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    ror_source = fields.Selection(
        [("invoice", "Posted customer invoices"), ("order", "Confirmed sale orders")],
        string="Purchases from",
        default="invoice",
        required=True,
        help="Invoices: posted customer invoices net of credit notes (an invoice fully reversed by a "
        "credit note is not a purchase). Orders: confirmed sale orders.",
    )
    ror_lost_days = fields.Integer(
        "Lost after (days)",
        default=365,
        help="A customer without purchase for longer than this is in the Lost segment and out of the RFM scoring.",
    )
    ror_clv_horizon_months = fields.Integer("CLV horizon (months)", default=12)
    ror_clv_discount_rate = fields.Float("CLV discount rate (%/year)", default=10.0)
    ror_clv_model_info = fields.Text("Fitted CLV models", readonly=True)
    ror_computed_at = fields.Datetime("Value profiles computed on", readonly=True)

    @api.constrains("ror_lost_days", "ror_clv_horizon_months", "ror_clv_discount_rate")
    def _check_ror_settings(self):
        for company in self:
            if company.ror_lost_days < 1:
                raise ValidationError(
                    self.env._(
                        "%(company)s: the inactivity limit for Lost customers must be at least one day.",
                        company=company.name,
                    )
                )
            if not 1 <= company.ror_clv_horizon_months <= 120:
                raise ValidationError(
                    self.env._(
                        "%(company)s: the CLV horizon must be between 1 and 120 months.", company=company.name
                    )
                )
            if not 0 <= company.ror_clv_discount_rate < 100:
                raise ValidationError(
                    self.env._(
                        "%(company)s: the CLV discount rate must be between 0 and 100 %%.",
                        company=company.name,
                    )
                )
