from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    # Kept apart from the value part's class while both are built in parallel; merge at integration.
    _inherit = "res.config.settings"  # pylint: disable=consider-merging-classes-inherited

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
