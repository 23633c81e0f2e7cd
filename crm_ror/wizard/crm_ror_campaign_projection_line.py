from odoo import fields, models


class CrmRorCampaignProjectionLine(models.TransientModel):
    _name = "crm.ror.campaign.projection.line"
    _description = "Campaign Projection Line"

    wizard_id = fields.Many2one("crm.ror.campaign.projection", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    segment_id = fields.Many2one("crm.ror.segment")
    targets = fields.Integer()
    campaigns = fields.Integer("Past campaigns")
    contacts = fields.Integer("Past contacts")
    known = fields.Boolean("History")
    rate = fields.Float("Response rate (%)", aggregator=None)
    responders = fields.Float(digits=(16, 1))
    responders_low = fields.Float("95 % low", digits=(16, 1))
    responders_high = fields.Float("95 % high", digits=(16, 1))
    revenue = fields.Monetary()
    margin = fields.Monetary()
    cost = fields.Monetary()
    romi = fields.Float("ROMI", aggregator=None)
