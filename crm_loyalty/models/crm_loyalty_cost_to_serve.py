from collections import defaultdict

from odoo import api, models
from odoo.tools import SQL


class CrmLoyaltyCostToServe(models.AbstractModel):
    """crm_loyalty's provider of crm_ror's cost to serve (contract 2), without depending on crm_ror."""

    _name = "crm.loyalty.cost.to.serve"
    _description = "Loyalty Rewards Cost to Serve"

    @api.model
    def _crm_ror_cost_to_serve(self, company, partner_ids, date_from, date_to):
        """Value of the loyalty rewards each commercial partner redeemed, in company currency.

        Odoo's loyalty has no money value per point, so the value is read where sale_loyalty
        books it (sale.order._compute_reward_total): discount reward lines count their untaxed
        amount given away; free-product reward lines (priced 0) count the product's cost. Only
        confirmed orders of loyalty card programs, dated in [date_from, date_to], count.
        """
        if not partner_ids:
            return {}
        conditions = [
            SQL("so.state = 'sale'"),
            SQL("so.company_id = %s", company.id),
            # one int4[] literal: a list of 100k ids is parsed and planned id by id (0.1 s)
            SQL("p.commercial_partner_id = ANY(%s::int4[])", "{" + ",".join(map(str, partner_ids)) + "}"),
            SQL("prog.program_type = 'loyalty'"),
        ]
        if date_from:
            conditions.append(SQL("so.date_order >= %s", date_from))
        if date_to:
            conditions.append(SQL("so.date_order < %s::date + 1", date_to))
        self.env["sale.order.line"].flush_model()
        self.env["sale.order"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT p.commercial_partner_id,
                       SUM(CASE WHEN reward.reward_type = 'product'
                                THEN sol.product_uom_qty * COALESCE((pp_cost.value)::numeric, 0)
                                ELSE -sol.price_subtotal / COALESCE(NULLIF(so.currency_rate, 0), 1)
                           END)
                  FROM sale_order_line sol
                  JOIN sale_order so ON so.id = sol.order_id
                  JOIN res_partner p ON p.id = so.partner_id
                  JOIN loyalty_reward reward ON reward.id = sol.reward_id
                  JOIN loyalty_program prog ON prog.id = reward.program_id
                  LEFT JOIN LATERAL (
                      SELECT (pt.standard_price ->> %(company)s) AS value
                        FROM product_product pt WHERE pt.id = sol.product_id
                  ) pp_cost ON TRUE
                 WHERE %(where)s
                 GROUP BY p.commercial_partner_id
                """,
                company=str(company.id),
                where=SQL(" AND ").join(conditions),
            )
        )
        result = defaultdict(float)
        for partner_id, amount in self.env.cr.fetchall():
            result[partner_id] = company.currency_id.round(float(amount or 0.0))
        return dict(result)
