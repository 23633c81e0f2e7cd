from odoo import api, fields, models
from odoo.exceptions import UserError

from .loyalty_history import POSTING, in_ledger_scope


class CrmLoyaltyLotConsumption(models.Model):
    """Which earned lot a ledger line took points from (positive) or gave them back to (negative)."""

    _name = "crm.loyalty.lot.consumption"
    _description = "Loyalty Points Lot Consumption"
    _order = "id"

    line_id = fields.Many2one("loyalty.history", required=True, ondelete="cascade", index=True, readonly=True)
    lot_id = fields.Many2one(
        "loyalty.history",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
        help="The earn (or positive adjustment) line whose points are consumed.",
    )
    card_id = fields.Many2one(related="line_id.card_id", store=True, precompute=True, index=True)
    company_id = fields.Many2one(related="line_id.company_id")
    points = fields.Float(readonly=True, help="Points taken from the lot; negative when given back.")

    @api.model_create_multi
    def create(self, vals_list):
        if not in_ledger_scope(POSTING):
            raise UserError(self.env._("Lot consumptions are written by the points ledger only."))
        return super().create(vals_list)

    def write(self, vals):
        if self:
            raise UserError(
                self.env._("Lot consumptions are part of the posted ledger and cannot be changed.")
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted(self):
        raise UserError(self.env._("Lot consumptions are part of the posted ledger and cannot be deleted."))
