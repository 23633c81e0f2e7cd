import numpy as np

from odoo import api, fields, models
from odoo.tools import SQL

from ..engine import affinity as engine

# Text of (order, product) rows counted at a time by the affinity (about 80k rows).
BASKET_BATCH_BYTES = 1 << 20


class _BasketStream:
    """Target of ``COPY ... TO STDOUT`` of (order, product) rows sorted by order: hands the counter
    batches of whole orders, the rows of the last order of a batch waiting for the next one."""

    def __init__(self, counter):
        self.counter = counter
        self.batch_bytes = BASKET_BATCH_BYTES
        self.text = bytearray()
        self.waiting = np.empty(0, dtype=np.int64)

    def write(self, data):  # pylint: disable=method-required-super
        # the file protocol of COPY (this is no model: there is no super() to call)
        self.text += data
        if len(self.text) >= self.batch_bytes:
            self._feed(final=False)
        return len(data)

    def finish(self):
        self._feed(final=True)

    def _feed(self, final):
        end = len(self.text) if final else self.text.rfind(b"\n") + 1
        parsed = np.fromstring(bytes(self.text[:end]), dtype=np.int64, sep=" ") if end else self.waiting[:0]
        del self.text[:end]
        rows = np.concatenate([self.waiting, parsed])
        orders, products = rows[0::2], rows[1::2]
        # the last order may go on in the next batch: it waits, unless this is the end
        cut = len(orders) if final or not len(orders) else int(np.searchsorted(orders, orders[-1]))
        self.counter.add(orders[:cut], products[:cut])
        self.waiting = rows[2 * cut :]


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
    def _compute_company_affinity(self, company, baskets=None):
        """Rewrite the company's product pairs (both directions of each pair).

        ``baskets``: SQL of (order_id, product_id) rows, by default ``_baskets_sql``. The rows are
        streamed once, as text through COPY in order of orders, and counted by
        ``engine.affinity.PairCounter`` a batch of whole orders at a time (memory bounded by
        BASKET_BATCH_BYTES and the pairs); the kept pairs are written with one INSERT.
        """
        for model in ("sale.order", "sale.order.line", "res.partner"):
            self.env[model].flush_model()
        baskets = baskets or self._baskets_sql(company)
        counter = engine.PairCounter()
        stream = _BasketStream(counter)
        # np.fromstring stops quietly at a NULL (COPY writes \N): the rows are whole pairs or none
        query = SQL(
            "COPY (SELECT order_id, product_id FROM (%s) baskets"
            " WHERE order_id IS NOT NULL AND product_id IS NOT NULL ORDER BY order_id) TO STDOUT",
            baskets,
        )
        self.env.cr.copy_expert(self.env.cr.mogrify(query.code, query.params).decode(), stream)
        stream.finish()
        rules = counter.rules(min_support=company.crm_ror_affinity_min_support)
        self.env.execute_query(SQL("DELETE FROM crm_ror_product_affinity WHERE company_id = %s", company.id))
        if rules["a"].size:
            self.env.execute_query(
                SQL(
                    """
                    INSERT INTO crm_ror_product_affinity
                           (company_id, product_a_id, product_b_id, pair_count, support, confidence, lift,
                            create_uid, write_uid, create_date, write_date)
                    SELECT %(company)s, r.a, r.b, r.n, r.support, r.confidence, r.lift,
                           %(uid)s, %(uid)s, NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
                      FROM unnest(%(a)s::int[], %(b)s::int[], %(n)s::int[], %(support)s::float[],
                                  %(confidence)s::float[], %(lift)s::float[])
                           AS r(a, b, n, support, confidence, lift)
                    """,
                    company=company.id,
                    uid=self.env.uid,
                    a=rules["a"].tolist(),
                    b=rules["b"].tolist(),
                    n=rules["count"].tolist(),
                    support=rules["support"].tolist(),
                    confidence=rules["confidence"].tolist(),
                    lift=rules["lift"].tolist(),
                )
            )
        # Fresh statistics for the suggestion queries that join the rules right after, in this transaction.
        self.env.cr.execute(SQL("ANALYZE crm_ror_product_affinity"))
        self.invalidate_model()
