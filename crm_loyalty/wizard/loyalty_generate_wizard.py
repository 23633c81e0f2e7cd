from odoo import models


class LoyaltyGenerateWizard(models.TransientModel):
    _inherit = "loyalty.generate.wizard"

    def generate_coupons(self):
        # New ledger cards post their initial balance themselves (loyalty.card.create); the stock
        # history line of the gift would count the points twice.
        return super(LoyaltyGenerateWizard, self.with_context(crm_loyalty_stock_skip=True)).generate_coupons()
