from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ror_source = fields.Selection(related="company_id.ror_source", readonly=False)
    ror_lost_days = fields.Integer(related="company_id.ror_lost_days", readonly=False)
    ror_clv_horizon_months = fields.Integer(related="company_id.ror_clv_horizon_months", readonly=False)
    ror_clv_discount_rate = fields.Float(related="company_id.ror_clv_discount_rate", readonly=False)
    ror_clv_model_info = fields.Text(related="company_id.ror_clv_model_info")
    ror_computed_at = fields.Datetime(related="company_id.ror_computed_at")

    crm_ror_affinity_min_support = fields.Float(
        related="company_id.crm_ror_affinity_min_support", readonly=False, digits=(16, 4)
    )
    crm_ror_affinity_min_lift = fields.Float(related="company_id.crm_ror_affinity_min_lift", readonly=False)
    crm_ror_reorder_tolerance = fields.Float(related="company_id.crm_ror_reorder_tolerance", readonly=False)
    crm_ror_reorder_min_purchases = fields.Integer(
        related="company_id.crm_ror_reorder_min_purchases", readonly=False
    )
    crm_ror_suggestion_cooldown_days = fields.Integer(
        related="company_id.crm_ror_suggestion_cooldown_days", readonly=False
    )
    crm_ror_suggestion_max_per_customer = fields.Integer(
        related="company_id.crm_ror_suggestion_max_per_customer", readonly=False
    )
    crm_ror_key_date_remind_days = fields.Integer(
        related="company_id.crm_ror_key_date_remind_days", readonly=False
    )
    crm_ror_suggestion_date = fields.Datetime(related="company_id.crm_ror_suggestion_date")

    # Customer value (h-rorvalue)
    ror_rfm_frequency_method = fields.Selection(related="company_id.ror_rfm_frequency_method", readonly=False)
    ror_clv_model = fields.Selection(related="company_id.ror_clv_model", readonly=False)
    ror_churn_high_below = fields.Float(related="company_id.ror_churn_high_below", readonly=False)
    ror_churn_medium_below = fields.Float(related="company_id.ror_churn_medium_below", readonly=False)
    crm_ror_upsell_min_buyers = fields.Integer(related="company_id.crm_ror_upsell_min_buyers", readonly=False)
    crm_ror_upsell_max_category_size = fields.Integer(
        related="company_id.crm_ror_upsell_max_category_size", readonly=False
    )
    crm_ror_reorder_max_cycles = fields.Integer(
        related="company_id.crm_ror_reorder_max_cycles", readonly=False
    )

    def action_ror_recompute(self):
        self.env["crm.ror.customer.profile"].action_recompute()

    # lead side (crm_ror leads)
    crm_ror_lead_fallback_user_id = fields.Many2one(
        related="company_id.crm_ror_lead_fallback_user_id", readonly=False
    )

    # Campaigns, satisfaction and data quality (one block).
    crm_ror_nps_token_days = fields.Integer(related="company_id.crm_ror_nps_token_days", readonly=False)
    crm_ror_dq_weight_email = fields.Integer(related="company_id.crm_ror_dq_weight_email", readonly=False)
    crm_ror_dq_weight_phone = fields.Integer(related="company_id.crm_ror_dq_weight_phone", readonly=False)
    crm_ror_dq_weight_address = fields.Integer(related="company_id.crm_ror_dq_weight_address", readonly=False)
    crm_ror_dq_weight_vat = fields.Integer(related="company_id.crm_ror_dq_weight_vat", readonly=False)
    crm_ror_dq_weight_salesperson = fields.Integer(
        related="company_id.crm_ror_dq_weight_salesperson", readonly=False
    )
    crm_ror_dq_weight_segment = fields.Integer(related="company_id.crm_ror_dq_weight_segment", readonly=False)
    crm_ror_dq_freshness_days = fields.Integer(related="company_id.crm_ror_dq_freshness_days", readonly=False)
