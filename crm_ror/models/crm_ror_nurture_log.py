from odoo import fields, models


class CrmRorNurtureLog(models.Model):
    _name = "crm.ror.nurture.log"
    _description = "Lead Nurture Log"
    _order = "id desc"

    rule_id = fields.Many2one("crm.ror.nurture.rule", required=True, ondelete="cascade", index=True)
    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade", index=True)
    activity_id = fields.Many2one("mail.activity", ondelete="set null")
    company_id = fields.Many2one(related="lead_id.company_id", store=True)

    _sql_constraints = [
        ("rule_lead_unique", "UNIQUE(rule_id, lead_id)", "A nurture rule acts on a lead only once."),
    ]
