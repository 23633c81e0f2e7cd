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

    # Customer value (h-rorvalue): RFM, lifetime value, suggestions, recompute.
    ror_rfm_frequency_method = fields.Selection(
        [("quintile", "Quintiles (ties at their lowest rank)"), ("bins", "Fixed bins: 1, 2, 3-4, 5-9, 10+")],
        string="Frequency scores",
        default="quintile",
        required=True,
        help="Quintiles: the purchase counts of the company's active customers are ranked, equal counts "
        "sharing the score of their lowest rank, so F=1 always means 'bought once'. Fixed bins score the "
        "purchase count alone: 1 purchase F=1, 2 F=2, 3-4 F=3, 5-9 F=4, 10 or more F=5.",
    )
    ror_clv_model = fields.Selection(
        [("mbgnbd", "Modified BG/NBD"), ("bgnbd", "BG/NBD")],
        string="Purchase model",
        default="mbgnbd",
        required=True,
        help="Modified BG/NBD (Batislam et al. 2007) lets a customer drop out after any purchase, the first "
        "included, so a one-time buyer of long ago is not 100 % alive; BG/NBD (Fader, Hardie & Lee 2005) "
        "only after a repeat purchase.",
    )
    ror_churn_high_below = fields.Float(
        "High churn risk below (%)",
        default=30.0,
        help="Customers whose probability of being alive is below this have a high churn risk.",
    )
    ror_churn_medium_below = fields.Float(
        "Medium churn risk below (%)",
        default=70.0,
        help="Customers whose probability of being alive is below this (and not high) have a medium churn risk.",
    )

    crm_ror_upsell_min_buyers = fields.Integer(
        string="Up-sell Minimum Buyers",
        default=5,
        help="Suggest a dearer product only when at least this many customers of better segments buy it.",
    )
    crm_ror_upsell_max_category_size = fields.Integer(
        string="Up-sell Category Size",
        default=50,
        help="Up-sell within a product category only when it holds at most this many saleable products "
        "(a catch-all category such as 'All' says nothing about what replaces what); a product's optional "
        "products are always candidates.",
    )
    crm_ror_reorder_max_cycles = fields.Integer(
        string="Reorder Expiry (cycles)",
        default=3,
        help="A reorder suggestion expires once the purchase is more than this many usual intervals overdue.",
    )

    @api.constrains(
        "crm_ror_upsell_min_buyers", "crm_ror_upsell_max_category_size", "crm_ror_reorder_max_cycles"
    )
    def _check_crm_ror_suggestion_bounds(self):
        for company in self:
            if (
                min(
                    company.crm_ror_upsell_min_buyers,
                    company.crm_ror_upsell_max_category_size,
                    company.crm_ror_reorder_max_cycles,
                )
                < 1
            ):
                raise ValidationError(
                    self.env._(
                        "%(company)s: up-sell minimum buyers, category size and reorder expiry must be at "
                        "least 1.",
                        company=company.name,
                    )
                )

    @api.constrains("ror_churn_high_below", "ror_churn_medium_below")
    def _check_ror_churn_thresholds(self):
        for company in self:
            if not 0 <= company.ror_churn_high_below <= company.ror_churn_medium_below <= 100:
                raise ValidationError(
                    self.env._(
                        "%(company)s: the churn-risk thresholds must satisfy 0 <= high <= medium <= 100 %%.",
                        company=company.name,
                    )
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

    # lead side (crm_ror leads)
    crm_ror_lead_fallback_user_id = fields.Many2one(
        "res.users",
        string="Fallback Salesperson",
        domain="[('share', '=', False)]",
        help="Takes the open leads of departed salespeople when their team has no active leader, and the "
        "nurture activities of leads with nobody else to call them.",
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
