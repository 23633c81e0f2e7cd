from odoo import models

from ..models.loyalty_history import STOCK_SKIP, ledger_scope


class LoyaltyGenerateWizard(models.TransientModel):
    _inherit = "loyalty.generate.wizard"

    def generate_coupons(self):
        # New ledger cards post their initial balance themselves (loyalty.card.create); the stock
        # history line of the gift would count the points twice.
        with ledger_scope(STOCK_SKIP):
            return super().generate_coupons()
