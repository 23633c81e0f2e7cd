from odoo import api, models
from odoo.tools.sql import create_index

from .loyalty_history import STOCK_SKIP, ledger_scope


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    def init(self):
        res = super().init()
        # coupon usage (campaign reports, coupon issues) joins order lines on their coupon
        create_index(
            self.env.cr,
            "sale_order_line_crm_loyalty_coupon_id_idx",
            self._table,
            ["coupon_id"],
            where="coupon_id IS NOT NULL",
        )
        # the rewards' cost to serve (crm.loyalty.cost.to.serve) reads the reward lines of the
        # company's orders: a few among the order lines, found without a scan of them all
        create_index(
            self.env.cr,
            "sale_order_line_crm_loyalty_reward_id_idx",
            self._table,
            ["reward_id"],
            where="reward_id IS NOT NULL",
        )
        return res

    def _crm_loyalty_touches_ledger(self):
        return any(line.coupon_id.program_id.ledger_enabled and line.state == "sale" for line in self)

    @api.model_create_multi
    def create(self, vals_list):
        if not any(vals.get("coupon_id") for vals in vals_list):
            return super().create(vals_list)
        with ledger_scope(STOCK_SKIP):
            lines = super().create(vals_list)
        if lines._crm_loyalty_touches_ledger():
            lines.order_id.filtered(lambda order: order.state == "sale")._crm_loyalty_sync_ledger()
        return lines

    def write(self, vals):
        if "points_cost" not in vals or not self._crm_loyalty_touches_ledger():
            return super().write(vals)
        with ledger_scope(STOCK_SKIP):
            res = super().write(vals)
        self.order_id.filtered(lambda order: order.state == "sale")._crm_loyalty_sync_ledger()
        return res

    def unlink(self):
        if not self._crm_loyalty_touches_ledger():
            return super().unlink()
        orders = self.order_id
        with ledger_scope(STOCK_SKIP):
            res = super().unlink()
        orders.filtered(lambda order: order.state == "sale")._crm_loyalty_sync_ledger()
        return res
