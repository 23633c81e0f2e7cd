from odoo import fields, models


class CrmRorLeadsNeededLine(models.TransientModel):
    _name = "crm.ror.leads.needed.line"
    _description = "Leads Needed by Source"
    _order = "mix desc, id"

    wizard_id = fields.Many2one("crm.ror.leads.needed.wizard", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    source_id = fields.Many2one("utm.source", "Source")
    closed = fields.Integer("Opportunities (History)", help="Won, lost, and open past the maturity lag.")
    won = fields.Integer("Won (History)")
    conversion_rate = fields.Float("Conversion Rate (%)", digits=(16, 1))
    average_deal = fields.Monetary()
    mix = fields.Float("Mix (%)", digits=(16, 1))
    leads_required = fields.Integer("Leads Needed")
    expected_revenue = fields.Monetary()
