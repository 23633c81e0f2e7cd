from odoo import models

from .loyalty_card_tier import INVOICE_TYPES


class AccountMove(models.Model):
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._crm_tier_requalify()
        return posted

    def button_draft(self):
        moves = self.filtered(lambda m: m.state == "posted")
        res = super().button_draft()
        moves._crm_tier_requalify()
        return res

    def _crm_tier_requalify(self):
        """Real-time re-qualification of the tiers of the customers whose spend changed."""
        partners = self.filtered(lambda m: m.move_type in INVOICE_TYPES).commercial_partner_id
        if partners:
            self.env["loyalty.card"].sudo()._crm_tier_evaluate_partners(set(partners.ids), "spend")
