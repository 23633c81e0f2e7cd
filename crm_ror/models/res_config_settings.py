from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ror_source = fields.Selection(related="company_id.ror_source", readonly=False)
    ror_lost_days = fields.Integer(related="company_id.ror_lost_days", readonly=False)
    ror_clv_horizon_months = fields.Integer(related="company_id.ror_clv_horizon_months", readonly=False)
    ror_clv_discount_rate = fields.Float(related="company_id.ror_clv_discount_rate", readonly=False)
    ror_clv_model_info = fields.Text(related="company_id.ror_clv_model_info")
    ror_computed_at = fields.Datetime(related="company_id.ror_computed_at")

    def action_ror_recompute(self):
        self.env["crm.ror.customer.profile"].action_recompute()
