from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class CrmLoyaltyAdjustWizard(models.TransientModel):
    _name = "crm.loyalty.adjust.wizard"
    _description = "Loyalty Points Manual Adjustment"

    card_id = fields.Many2one(
        "loyalty.card", required=True, domain=[("program_id.ledger_enabled", "=", True)], ondelete="cascade"
    )
    current_points = fields.Float(related="card_id.points", string="Current Balance")
    points = fields.Float(required=True, help="Points to add (positive) or remove (negative).")
    new_balance = fields.Float(compute="_compute_new_balance")
    reason = fields.Text(required=True, help="Why the balance is corrected; kept on the ledger line.")

    @api.depends("card_id", "points")
    def _compute_new_balance(self):
        for wizard in self:
            wizard.new_balance = wizard.card_id.points + wizard.points

    def action_post(self):
        self.ensure_one()
        if not self.env.user.has_group("crm_loyalty.group_crm_loyalty_manager"):
            raise AccessError(self.env._("Only loyalty managers can adjust points by hand."))
        if not (self.reason or "").strip():
            raise UserError(self.env._("Give the reason of the adjustment."))
        if not self.points:
            raise UserError(self.env._("Enter the points to add or remove."))
        self.card_id._ledger_post(
            "adjust",
            self.points,
            reason=self.reason,
            description=self.env._("Manual adjustment: %s", self.reason),
            source_type="manual",
        )
        return {"type": "ir.actions.act_window_close"}
