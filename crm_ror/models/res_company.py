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
    crm_ror_affinity_min_support = fields.Float(
        string="Affinity Minimum Support",
        default=0.01,
        digits=(16, 4),
        help="Keep product pairs bought together in at least this share of the confirmed orders (0.01 = 1 %).",
    )
    crm_ror_affinity_min_lift = fields.Float(
        string="Cross-sell Minimum Lift",
        default=1.2,
        help="Suggest a product only through a pair bought together this many times more often than by chance.",
    )
    crm_ror_reorder_tolerance = fields.Float(
        string="Reorder Tolerance",
        default=1.2,
        help="A product is due for reorder when the days since its last purchase exceed the customer's usual "
        "interval times this factor (1.2 = 20 % late).",
    )
    crm_ror_reorder_min_purchases = fields.Integer(
        string="Reorder Minimum Purchases",
        default=3,
        help="Purchases (on distinct days) of a product by a customer before its usual interval is trusted.",
    )
    crm_ror_suggestion_cooldown_days = fields.Integer(
        string="Suggestion Cool-down (days)",
        default=90,
        help="A dismissed or converted suggestion is not proposed again for the same customer, product and kind "
        "within this many days.",
    )
    crm_ror_suggestion_max_per_customer = fields.Integer(
        string="Suggestions per Customer and Kind",
        default=5,
        help="At most this many suggestions of each kind per customer, the highest expected values first.",
    )
    crm_ror_key_date_remind_days = fields.Integer(
        string="Key Date Reminder (days before)",
        default=7,
        help="Default number of days before a key date that its reminder is given to the salesperson.",
    )
    crm_ror_suggestion_date = fields.Datetime(
        string="Suggestions Computed On",
        readonly=True,
        help="When the suggestions and product affinities of this company were last recomputed.",
    )

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

    @api.constrains(
        "crm_ror_affinity_min_support",
        "crm_ror_reorder_tolerance",
        "crm_ror_reorder_min_purchases",
        "crm_ror_suggestion_cooldown_days",
        "crm_ror_suggestion_max_per_customer",
        "crm_ror_key_date_remind_days",
    )
    def _check_crm_ror_touch_settings(self):
        for company in self:
            if not 0 < company.crm_ror_affinity_min_support <= 1:
                raise ValidationError(
                    self.env._(
                        "%(company)s: the affinity minimum support is a share of orders between 0 and 1 "
                        "(e.g. 0.01 for 1 %%).",
                        company=company.name,
                    )
                )
            if company.crm_ror_reorder_tolerance <= 0:
                raise ValidationError(
                    self.env._("%(company)s: the reorder tolerance must be positive.", company=company.name)
                )
            if company.crm_ror_reorder_min_purchases < 2:
                raise ValidationError(
                    self.env._(
                        "%(company)s: a usual reorder interval needs at least 2 purchases.",
                        company=company.name,
                    )
                )
            if (
                min(
                    company.crm_ror_suggestion_cooldown_days,
                    company.crm_ror_suggestion_max_per_customer,
                    company.crm_ror_key_date_remind_days,
                )
                < 0
            ):
                raise ValidationError(
                    self.env._(
                        "%(company)s: cool-down, suggestions per customer and reminder days cannot be negative.",
                        company=company.name,
                    )
                )

    # Campaigns, satisfaction and data quality (one block).
    crm_ror_nps_token_days = fields.Integer(
        string="Survey Link Validity (days)",
        default=30,
        help="A satisfaction survey link expires this many days after it was sent, or once answered.",
    )
    crm_ror_dq_weight_email = fields.Integer("Weight: email", default=1)
    crm_ror_dq_weight_phone = fields.Integer("Weight: phone", default=1)
    crm_ror_dq_weight_address = fields.Integer("Weight: address", default=1)
    crm_ror_dq_weight_vat = fields.Integer("Weight: tax ID", default=1)
    crm_ror_dq_weight_salesperson = fields.Integer("Weight: salesperson", default=1)
    crm_ror_dq_weight_segment = fields.Integer("Weight: value segment", default=1)
    crm_ror_dq_freshness_days = fields.Integer(
        string="Data Freshness (days)",
        default=365,
        help="A customer's data is stale when no key field changed and nobody verified it for longer than "
        "this; a sales team's data-quality policy can set its own limit.",
    )

    @api.constrains(
        "crm_ror_nps_token_days",
        "crm_ror_dq_freshness_days",
        "crm_ror_dq_weight_email",
        "crm_ror_dq_weight_phone",
        "crm_ror_dq_weight_address",
        "crm_ror_dq_weight_vat",
        "crm_ror_dq_weight_salesperson",
        "crm_ror_dq_weight_segment",
    )
    def _check_crm_ror_quality_settings(self):
        for company in self:
            if company.crm_ror_nps_token_days < 1 or company.crm_ror_dq_freshness_days < 1:
                raise ValidationError(
                    self.env._(
                        "%(company)s: the survey link validity and the data freshness are at least 1 day.",
                        company=company.name,
                    )
                )
            weights = company._crm_ror_dq_weights()
            if min(weights.values()) < 0 or not sum(weights.values()):
                raise ValidationError(
                    self.env._(
                        "%(company)s: completeness weights cannot be negative and at least one must be positive.",
                        company=company.name,
                    )
                )

    def _crm_ror_dq_weights(self):
        self.ensure_one()
        return {
            "email": self.crm_ror_dq_weight_email,
            "phone": self.crm_ror_dq_weight_phone,
            "address": self.crm_ror_dq_weight_address,
            "vat": self.crm_ror_dq_weight_vat,
            "salesperson": self.crm_ror_dq_weight_salesperson,
            "segment": self.crm_ror_dq_weight_segment,
        }
