from odoo import api, fields, models
from odoo.tools import SQL


class CrmRorProductAffinity(models.Model):
    _name = "crm.ror.product.affinity"
    _description = "Product Affinity (bought together)"
    _order = "company_id, lift desc, confidence desc"
    _rec_name = "product_a_id"

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True, ondelete="cascade")
    product_a_id = fields.Many2one(
        "product.product", string="Bought", required=True, readonly=True, index=True, ondelete="cascade"
    )
    product_b_id = fields.Many2one(
        "product.product", string="Also Bought", required=True, readonly=True, ondelete="cascade"
    )
    pair_count = fields.Integer(string="Orders with Both", readonly=True)
    support = fields.Float(
        readonly=True, digits=(16, 4), help="Share of the confirmed orders holding both products."
    )
    confidence = fields.Float(
        readonly=True, digits=(16, 4), help="Share of the orders with the first product that hold the second."
    )
    lift = fields.Float(
        readonly=True,
        digits=(16, 2),
        help="Confidence divided by the share of orders holding the second product: above 1, the products "
        "sell together more than by chance.",
    )

    _sql_constraints = [
        (
            "pair_unique",
            "UNIQUE(company_id, product_a_id, product_b_id)",
            "A product pair is stored once per company.",
        ),
    ]

    @api.model
    def _baskets_sql(self, company):
        """Distinct (order, product, customer) rows of the company's confirmed orders."""
        return SQL(
            """
            SELECT DISTINCT l.order_id, l.product_id, rp.commercial_partner_id AS partner_id
              FROM sale_order_line l
              JOIN sale_order o ON o.id = l.order_id
              JOIN res_partner rp ON rp.id = o.partner_id
             WHERE o.company_id = %(company)s
               AND o.state = 'sale'
               AND l.product_id IS NOT NULL
               AND l.display_type IS NULL
               AND NOT COALESCE(l.is_downpayment, FALSE)
               AND l.product_uom_qty > 0
            """,
            company=company.id,
        )

    @api.model
    def _compute_company_affinity(self, company):
        """Rewrite the company's product pairs in one statement (both directions of each pair)."""
        for model in ("sale.order", "sale.order.line", "res.partner"):
            self.env[model].flush_model()
        self.env.execute_query(SQL("DELETE FROM crm_ror_product_affinity WHERE company_id = %s", company.id))
        self.env.execute_query(
            SQL(
                """
                WITH lines AS (%(baskets)s),
                -- one row per order with its distinct products: pairs come from unnesting each basket
                -- twice, linear in the orders whatever the planner's estimates (no self-join)
                baskets AS (SELECT order_id, array_agg(product_id) AS products FROM lines GROUP BY order_id),
                total AS MATERIALIZED (SELECT COUNT(*)::float AS n FROM baskets),
                items AS (
                    SELECT item AS product_id, COUNT(*) AS n FROM baskets, unnest(products) AS item GROUP BY item
                ),
                pairs AS (
                    SELECT a AS product_a, b AS product_b, COUNT(*) AS n
                      FROM baskets, unnest(products) AS a, unnest(products) AS b
                     WHERE a <> b
                     GROUP BY a, b
                )
                INSERT INTO crm_ror_product_affinity
                       (company_id, product_a_id, product_b_id, pair_count, support, confidence, lift,
                        create_uid, write_uid, create_date, write_date)
                SELECT %(company)s, p.product_a, p.product_b, p.n,
                       p.n / t.n,
                       p.n::float / ia.n,
                       (p.n::float / ia.n) / (ib.n / t.n),
                       %(uid)s, %(uid)s, NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
                  FROM pairs p
                  CROSS JOIN total t
                  JOIN items ia ON ia.product_id = p.product_a
                  JOIN items ib ON ib.product_id = p.product_b
                 WHERE p.n / t.n >= %(min_support)s
                """,
                baskets=self._baskets_sql(company),
                company=company.id,
                uid=self.env.uid,
                min_support=company.crm_ror_affinity_min_support,
            )
        )
        # Fresh statistics for the suggestion queries that join the rules right after, in this transaction.
        self.env.cr.execute(SQL("ANALYZE crm_ror_product_affinity"))
        self.invalidate_model()
