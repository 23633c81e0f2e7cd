from odoo import fields, models


class CrmLoyaltyTierWizard(models.TransientModel):
    """Change a card's tier by hand: loyalty managers, with a reason kept in the tier history."""

    _name = "crm.loyalty.tier.wizard"
    _description = "Loyalty Tier Manual Change"

    card_id = fields.Many2one("loyalty.card", required=True, ondelete="cascade")
    program_id = fields.Many2one(related="card_id.program_id")
    current_tier_id = fields.Many2one(related="card_id.crm_tier_id", string="Current Tier")
    tier_id = fields.Many2one("loyalty.tier", string="New Tier", domain="[('program_id', '=', program_id)]")
    reason = fields.Text(required=True, help="Why the tier is set by hand; kept in the tier history.")

    def action_apply(self):
        self.ensure_one()
        self.card_id._crm_tier_set_manual(self.tier_id, self.reason)
        return {"type": "ir.actions.act_window_close"}
