from odoo import models

from ..models.loyalty_history import ISSUE, STOCK_SKIP, ledger_scope


class LoyaltyGenerateWizard(models.TransientModel):
    _inherit = "loyalty.generate.wizard"

    def generate_coupons(self):
        # New ledger cards post the points granted as the program's issuance (loyalty.card.create,
        # ISSUE scope); the stock history line of the gift would count the points twice.
        with ledger_scope(STOCK_SKIP, ISSUE):
            return super().generate_coupons()
