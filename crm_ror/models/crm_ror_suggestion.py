import itertools
import threading
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..engine.reorder import is_due
from .crm_ror_customer_profile import LOCK_RETRY_MINUTES, LOCK_SQL, RUN_PARAM_SUGGESTIONS

# Customers per transaction of the suggestion recompute (its queries per chunk do not grow with it).
SUGGESTION_CHUNK = 20000
# Memory for the sorts of the company's sales lines (PostgreSQL's 4 MB default spills them to disk).
WORK_MEM = "64MB"
# The temporary tables of a company's run, dropped when it ends.
TEMP_TABLES = (
    "crm_ror_sugg_line",
    "crm_ror_sugg_bought",
    "crm_ror_sugg_price",
    "crm_ror_sugg_customer",
    "crm_ror_sugg_higher",
    "crm_ror_sugg_upgrade",
)

KINDS = [("cross_sell", "Cross-sell"), ("reorder", "Due for Reorder"), ("up_sell", "Up-sell")]


class CrmRorSuggestion(models.Model):
    _name = "crm.ror.suggestion"
    _description = "Up-sell / Cross-sell Suggestion"
    _order = "expected_value desc, id"
    _rec_name = "product_id"

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True, ondelete="cascade")
    currency_id = fields.Many2one(related="company_id.currency_id")
    product_id = fields.Many2one("product.product", required=True, readonly=True, ondelete="cascade")
    product_categ_id = fields.Many2one(related="product_id.categ_id", string="Product Category")
    kind = fields.Selection(KINDS, required=True, readonly=True, index=True)
    reason = fields.Char(compute="_compute_reason", help="Why this product is suggested to this customer.")
    expected_value = fields.Monetary(
        currency_field="currency_id",
        readonly=True,
        help="Revenue expected from the suggestion in the company's currency: cross-sell = average price x "
        "average quantity x confidence; reorder = the customer's price x usual quantity; up-sell = the price "
        "difference x the customer's usual quantity.",
    )
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True, index=True)
    state = fields.Selection(
        [("new", "New"), ("done", "Converted"), ("dismissed", "Dismissed")],
        required=True,
        default="new",
        readonly=True,
        index=True,
    )
    computed_date = fields.Datetime(string="Computed On", readonly=True)
    closed_date = fields.Datetime(
        string="Converted/Dismissed On",
        readonly=True,
        help="Start of the cool-down before proposing it again.",
    )
    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True, ondelete="set null")
    order_id = fields.Many2one("sale.order", string="Quotation", readonly=True, ondelete="set null")
    # Evidence behind the suggestion, kept as figures so the reason reads in the user's language.
    source_product_id = fields.Many2one(
        "product.product",
        string="Because of",
        readonly=True,
        ondelete="cascade",
        help="Cross-sell: the product bought that leads to this one; up-sell: the product it replaces.",
    )
    confidence = fields.Float(readonly=True, digits=(16, 4))
    lift = fields.Float(readonly=True, digits=(16, 2))
    interval_days = fields.Float(string="Usual Interval (days)", readonly=True, digits=(16, 1))
    purchase_count = fields.Integer(string="Purchases/Buyers", readonly=True)
    last_purchase_date = fields.Date(readonly=True)
    usual_qty = fields.Float(string="Usual Quantity", readonly=True, digits="Product Unit of Measure")
    segment_id = fields.Many2one(
        "crm.ror.segment",
        string="Customer Segment",
        readonly=True,
        ondelete="set null",
        help="Up-sell: the customer's value segment; the product is bought by customers of better segments.",
    )

    @api.depends(
        "kind",
        "product_id",
        "source_product_id",
        "confidence",
        "lift",
        "interval_days",
        "purchase_count",
        "last_purchase_date",
    )
    def _compute_reason(self):
        today = fields.Date.context_today(self)
        for suggestion in self:
            product = suggestion.product_id.display_name
            source = suggestion.source_product_id.display_name
            if suggestion.kind == "cross_sell":
                suggestion.reason = self.env._(
                    "Bought %(bought)s; %(confidence)s%% of orders with %(bought)s also include %(product)s "
                    "(lift %(lift)s)",
                    bought=source,
                    product=product,
                    confidence=round(suggestion.confidence * 100),
                    lift=round(suggestion.lift, 1),
                )
            elif suggestion.kind == "reorder":
                suggestion.reason = self.env._(
                    "Buys %(product)s about every %(interval)s days (%(count)s purchases); last bought "
                    "%(days)s days ago",
                    product=product,
                    interval=round(suggestion.interval_days),
                    count=suggestion.purchase_count,
                    days=(today - suggestion.last_purchase_date).days
                    if suggestion.last_purchase_date
                    else "?",
                )
            else:
                suggestion.reason = self.env._(
                    "Buys %(bought)s; %(count)s customers of segments above %(segment)s buy %(product)s, "
                    "a higher-priced %(category)s product",
                    bought=source,
                    product=product,
                    count=suggestion.purchase_count,
                    segment=suggestion.segment_id.display_name or "?",
                    category=suggestion.product_id.categ_id.display_name,
                )

    # ------------------------------------------------------------------------------------
    # Conversion
    # ------------------------------------------------------------------------------------

    def _check_can_contact(self):
        self._check_can_act()
        for suggestion in self:
            if suggestion.state != "new":
                raise UserError(
                    self.env._(
                        "The suggestion of %(product)s for %(partner)s was already converted or dismissed.",
                        product=suggestion.product_id.display_name,
                        partner=suggestion.partner_id.display_name,
                    )
                )
            if suggestion.partner_id.crm_ror_no_outreach:
                raise UserError(
                    self.env._(
                        "%(partner)s must not be contacted (Do Not Contact or blacklisted email): the suggestion "
                        "of %(product)s cannot be acted on.",
                        partner=suggestion.partner_id.display_name,
                        product=suggestion.product_id.display_name,
                    )
                )

    def _check_can_act(self):
        """Users never write suggestions (their ACL is read-only): the actions write them as superuser,
        once the user is shown to see them through the ownership and company rules."""
        self.check_access("read")

    def _close(self, values):
        # sudo: users have read-only access; _check_can_act() checked they may see these suggestions.
        self.sudo().write(dict(values, closed_date=fields.Datetime.now()))

    def action_create_opportunity(self):
        """Turn each suggestion into an opportunity with its expected value as expected revenue."""
        self._check_can_contact()
        leads = self.env["crm.lead"]
        for suggestion in self:
            lead = self.env["crm.lead"].create(
                {
                    "name": self.env._(
                        "%(product)s for %(partner)s",
                        product=suggestion.product_id.display_name,
                        partner=suggestion.partner_id.display_name,
                    ),
                    "type": "opportunity",
                    "partner_id": suggestion.partner_id.id,
                    "company_id": suggestion.company_id.id,
                    "user_id": (suggestion.user_id or self.env.user).id,
                    "expected_revenue": suggestion.expected_value,
                    "description": suggestion.reason,
                }
            )
            suggestion._close({"state": "done", "lead_id": lead.id})
            leads |= lead
        return self._open_records(leads, self.env._("Opportunities"))

    def action_add_to_quotation(self):
        """Add each product to the customer's draft quotation, or to a new one.

        The draft of the suggestion's salesperson is preferred to another salesperson's; when it
        already holds the product, that line's quantity is raised instead of adding a duplicate.
        """
        self._check_can_contact()
        orders = self.env["sale.order"]
        for suggestion in self:
            salesperson = suggestion.user_id or self.env.user
            drafts = self.env["sale.order"].search(
                [
                    ("partner_id", "child_of", suggestion.partner_id.id),
                    ("company_id", "=", suggestion.company_id.id),
                    ("state", "=", "draft"),
                ],
                order="date_order desc, id desc",
            )
            order = drafts.filtered(lambda o, user=salesperson: o.user_id == user)[:1] or drafts[:1]
            if not order:
                order = self.env["sale.order"].create(
                    {
                        "partner_id": suggestion.partner_id.id,
                        "company_id": suggestion.company_id.id,
                        "user_id": salesperson.id,
                    }
                )
            quantity = suggestion.usual_qty or 1.0
            line = order.order_line.filtered(
                lambda line, product=suggestion.product_id: line.product_id == product
                and not line.display_type
            )[:1]
            if line:
                # The usual quantity is in the product's unit; the line may be in another of its category.
                line.product_uom_qty += suggestion.product_id.uom_id._compute_quantity(
                    quantity, line.product_uom, round=False
                )
            else:
                self.env["sale.order.line"].create(
                    {
                        "order_id": order.id,
                        "product_id": suggestion.product_id.id,
                        "product_uom_qty": quantity,
                    }
                )
            suggestion._close({"state": "done", "order_id": order.id})
            orders |= order
        return self._open_records(orders, self.env._("Quotations"))

    def action_dismiss(self):
        self._check_can_act()
        self.filtered(lambda s: s.state == "new")._close({"state": "dismissed"})

    def _open_records(self, records, name):
        action = {"type": "ir.actions.act_window", "res_model": records._name, "name": name}
        if len(records) == 1:
            action.update(view_mode="form", views=[(False, "form")], res_id=records.id)
        else:
            action.update(
                view_mode="list,form",
                views=[(False, "list"), (False, "form")],
                domain=[("id", "in", records.ids)],
            )
        return action

    # ------------------------------------------------------------------------------------
    # Scorecard KPIs (contract 1)
    # ------------------------------------------------------------------------------------

    @api.model
    def _crm_scorecard_kpi_catalog(self):
        return [
            {
                "code": "crm_ror.suggestion_conversion_rate",
                "name": self.env._("Suggestion conversion rate"),
                "perspective": "process",
                "unit": "%",
                "direction": "max",
                "description": self.env._(
                    "Up-sell, cross-sell and reorder suggestions turned into an opportunity or a quotation in "
                    "the period, out of those converted or dismissed in the period."
                ),
                "method": "_kpi_suggestion_conversion_rate",
            },
            {
                "code": "crm_ror.suggestion_converted_value",
                "name": self.env._("Suggested value converted"),
                "perspective": "financial",
                "unit": "currency",
                "direction": "max",
                "description": self.env._(
                    "Expected value of the suggestions turned into an opportunity or a quotation in the period."
                ),
                "method": "_kpi_suggestion_converted_value",
            },
        ]

    @api.model
    def _kpi_closed_suggestions(self, period):
        """Suggestions closed in the period: ``{state: (count, expected value)}``."""
        domain = [
            ("company_id", "=", period["company"].id),
            ("state", "in", ("done", "dismissed")),
            ("closed_date", ">=", period["datetime_from"]),
            ("closed_date", "<", period["datetime_to"]),
        ]
        if period.get("team"):
            domain.append(("user_id", "in", period["team"].member_ids.ids))
        # sudo: a company-wide KPI, evaluated for the scorecard (its dispatcher already runs as superuser).
        groups = self.sudo()._read_group(domain, ["state"], ["__count", "expected_value:sum"])
        return {state: (count, value) for state, count, value in groups}

    @api.model
    def _kpi_suggestion_conversion_rate(self, period):
        closed = self._kpi_closed_suggestions(period)
        total = sum(count for count, _value in closed.values())
        if not total:
            return None
        return 100.0 * closed.get("done", (0, 0.0))[0] / total

    @api.model
    def _kpi_suggestion_converted_value(self, period):
        return float(self._kpi_closed_suggestions(period).get("done", (0, 0.0))[1])

    # ------------------------------------------------------------------------------------
    # Recompute (set-wise)
    # ------------------------------------------------------------------------------------

    def action_recompute(self):
        """Button: schedule the suggestion cron and return at once (it runs in the cron worker)."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(self.env._("Only sales administrators can recompute the suggestions."))
        # sudo: triggering a scheduled action needs Settings rights; the manager group was checked above.
        self.env.ref("crm_ror.ir_cron_crm_ror_suggestions").sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._("The suggestions are being recomputed in the background."),
                "type": "info",
            },
        }

    @api.model
    def _cron_compute_suggestions(self):
        """Scheduled action: affinities and suggestions, one company per call (see the profile cron)."""
        self.env["crm.ror.customer.profile"]._ror_run_batch(
            RUN_PARAM_SUGGESTIONS, "crm_ror_suggestion_date", self._compute_company_suggestions
        )

    @api.model
    def _compute_company_suggestions(self, company, chunk_size=SUGGESTION_CHUNK):
        """Rewrite the company's affinities and its 'new' suggestions, customers in chunks.

        The sales lines are read once (``_prepare_company_tables``): the affinities are counted from
        them, then they are summed into ``crm_ror_sugg_bought``, one row per customer and product with
        the figures every kind needs, and the company-wide evidence (prices, upgrades, buyers of
        better segments) goes into small temporary tables. Each chunk of customers (a range of ids)
        then costs one DELETE, the cross-sell and up-sell INSERTs and the reorder read and INSERT,
        whatever its size, and is committed on its own (outside tests): a customer shows either its
        old or its new suggestions, never a mix, and no transaction holds the whole company.
        Returns False when it gave the lock up between chunks (the company stays pending), else True.
        """
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        now = fields.Datetime.now()
        self.flush_model()
        # The segments and states of the customers are read with SQL.
        self.env["crm.ror.customer.profile"].flush_model(
            ["partner_id", "company_id", "segment_id", "customer_state"]
        )
        partner_ids = self._prepare_company_tables(company)
        # Chunk bounds on the customers with lines; the first and last ranges are open, so that the
        # 'new' suggestions of customers without lines any more are deleted too.
        bounds = [0, *partner_ids[chunk_size::chunk_size], None]
        chunks = list(itertools.pairwise(bounds))
        for index, (low, high) in enumerate(chunks):
            self._compute_chunk(company, now, low, high)
            if auto_commit:
                # one chunk per transaction: finished chunks are kept, nobody waits on the company
                self.env.cr.commit()  # pylint: disable=invalid-commit
                if index == len(chunks) - 1:
                    break  # the company is done: only its stamp is left to write
                if not self.env.execute_query(LOCK_SQL)[0][0]:
                    # the commit released the recompute lock and the profile cron took it: the
                    # company stays pending and is done again once the profiles are written
                    self._drop_company_tables()
                    self.env.ref("crm_ror.ir_cron_crm_ror_suggestions")._trigger(
                        now + timedelta(minutes=LOCK_RETRY_MINUTES)
                    )
                    return False
                self._set_local_settings()  # SET LOCAL ends with its transaction
        # Not in a finally: after an error the transaction is aborted, a DROP would hide the error,
        # and the next run drops the leftovers first.
        self._drop_company_tables()
        self.invalidate_model()
        # sudo: a timestamp of the run; the user of the button need not edit the company.
        company.sudo().crm_ror_suggestion_date = now
        return True

    @api.model
    def _drop_company_tables(self):
        self.env.cr.execute(SQL("DROP TABLE IF EXISTS %s", SQL(", ").join(map(SQL.identifier, TEMP_TABLES))))

    @api.model
    def _set_local_settings(self):
        # A few sorts of the company's lines: enough memory for them not to spill to disk; the plans
        # are simple, compiling them (JIT) costs more than it saves.
        self.env.cr.execute(SQL("SET LOCAL work_mem = %s", WORK_MEM))
        self.env.cr.execute(SQL("SET LOCAL jit = off"))

    def _compute_chunk(self, company, now, low, high):
        """Replace the 'new' suggestions of the customers with ids in [low, high) (high None: no end)."""
        self.env.execute_query(
            SQL(
                "DELETE FROM crm_ror_suggestion WHERE company_id = %s AND state = 'new' AND %s",
                company.id,
                self._chunk_sql(SQL("crm_ror_suggestion"), low, high),
            )
        )
        self._insert_cross_sell(company, now, self._chunk_sql(SQL("b"), low, high))
        self._insert_reorder(company, now, self._chunk_sql(SQL("u"), low, high))
        self._insert_up_sell(company, now, self._chunk_sql(SQL("b"), low, high))

    @api.model
    def _chunk_sql(self, alias, low, high):
        if high is None:
            return SQL("%s.partner_id >= %s", alias, low)
        return SQL("%s.partner_id >= %s AND %s.partner_id < %s", alias, low, alias, high)

    def _prepare_company_tables(self, company):
        """Fill the temporary tables of the company's run and rewrite its affinities; return its
        customer ids with lines, in order.

        ``crm_ror_sugg_line``: the company's sales lines (``_lines_sql``), the one read of them.
        ``crm_ror_sugg_bought``: per customer and product, purchase days, last day, the sums of
        quantity (product unit and reference unit), amount and orders, and the median gap between
        purchase days when they are enough for a reorder.
        ``crm_ror_sugg_price``: per product, the unit prices and quantity per order.
        ``crm_ror_sugg_customer``: the customers not Lost, with the rank of their segment (0 = best).
        ``crm_ror_sugg_higher``: per product and rank, its buyers in the better segments.
        ``crm_ror_sugg_upgrade``: the dearer products a product may be replaced by (see up-sell).
        """
        cr = self.env.cr
        self._drop_company_tables()
        self._set_local_settings()
        # The company's sales lines, read once for the affinities and every kind of suggestion.
        for model in ("sale.order", "sale.order.line", "res.partner", "product.product", "product.template"):
            self.env[model].flush_model()
        self.env.execute_query(
            SQL(
                """
                CREATE TEMPORARY TABLE crm_ror_sugg_line AS
                SELECT order_id, partner_id, product_id, day, qty, ref_qty, amount FROM (%s) lines
                """,
                self._lines_sql(company),
            )
        )
        self.env["crm.ror.product.affinity"]._compute_company_affinity(
            company, baskets=SQL("SELECT order_id, product_id FROM crm_ror_sugg_line")
        )
        cr.execute(
            SQL(
                """
                CREATE TEMPORARY TABLE crm_ror_sugg_bought AS
                SELECT partner_id, product_id, COUNT(DISTINCT day) AS purchases, MAX(day) AS last_day,
                       NULL::float AS interval, SUM(qty) AS qty, SUM(ref_qty) AS ref_qty,
                       SUM(amount) AS amount, COUNT(DISTINCT order_id) AS orders
                  FROM crm_ror_sugg_line
                 GROUP BY partner_id, product_id
                """
            )
        )
        cr.execute(SQL("CREATE UNIQUE INDEX ON crm_ror_sugg_bought (partner_id, product_id)"))
        # The usual interval (median gap between purchase days) of the repeated purchases only.
        cr.execute(
            SQL(
                """
                WITH days AS (
                    SELECT l.partner_id, l.product_id, l.day
                      FROM crm_ror_sugg_line l
                      JOIN crm_ror_sugg_bought b
                        ON b.partner_id = l.partner_id AND b.product_id = l.product_id
                       AND b.purchases >= %(min_purchases)s
                     GROUP BY l.partner_id, l.product_id, l.day
                ),
                gaps AS (
                    SELECT partner_id, product_id,
                           day - LAG(day) OVER (PARTITION BY partner_id, product_id ORDER BY day) AS gap
                      FROM days
                ),
                usual AS (
                    SELECT partner_id, product_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) AS interval
                      FROM gaps GROUP BY partner_id, product_id
                )
                UPDATE crm_ror_sugg_bought b SET interval = usual.interval
                  FROM usual WHERE b.partner_id = usual.partner_id AND b.product_id = usual.product_id
                """,
                min_purchases=company.crm_ror_reorder_min_purchases,
            )
        )
        cr.execute(
            SQL(
                """
                CREATE TEMPORARY TABLE crm_ror_sugg_price AS
                SELECT b.product_id, pt.id AS template_id, pt.categ_id, uom.category_id AS uom_category_id,
                       SUM(b.amount) / NULLIF(SUM(b.qty), 0) AS unit_price,
                       SUM(b.qty) / NULLIF(SUM(b.orders), 0) AS order_qty,
                       SUM(b.amount) / NULLIF(SUM(b.ref_qty), 0) AS ref_unit_price
                  FROM crm_ror_sugg_bought b
                  JOIN product_product pp ON pp.id = b.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                  JOIN uom_uom uom ON uom.id = pt.uom_id
                 GROUP BY b.product_id, pt.id, pt.categ_id, uom.category_id
                """
            )
        )
        segments = self.env["crm.ror.segment"]._segments_for_company(company)
        cr.execute(
            SQL(
                """
                CREATE TEMPORARY TABLE crm_ror_sugg_customer AS
                SELECT pr.partner_id, pr.segment_id, seg.rank
                  FROM crm_ror_customer_profile pr
                  JOIN unnest(%(segments)s::int[], %(ranks)s::int[]) AS seg(segment_id, rank)
                       ON seg.segment_id = pr.segment_id
                 WHERE pr.company_id = %(company)s AND pr.customer_state IS DISTINCT FROM 'lost'
                """,
                segments=segments.ids,
                ranks=list(range(len(segments))),
                company=company.id,
            )
        )
        cr.execute(SQL("CREATE UNIQUE INDEX ON crm_ror_sugg_customer (partner_id)"))
        cr.execute(
            SQL(
                """
                CREATE TEMPORARY TABLE crm_ror_sugg_higher AS
                WITH buyers AS (
                    SELECT b.product_id, c.rank, COUNT(*) AS n
                      FROM crm_ror_sugg_bought b JOIN crm_ror_sugg_customer c ON c.partner_id = b.partner_id
                     GROUP BY b.product_id, c.rank
                )
                SELECT bu.product_id, seg.rank, SUM(bu.n) AS n
                  FROM generate_series(0, %(last_rank)s) AS seg(rank)
                  JOIN buyers bu ON bu.rank < seg.rank
                 GROUP BY bu.product_id, seg.rank
                """,
                last_rank=len(segments) - 1,
            )
        )
        cr.execute(
            SQL(
                """
                CREATE TEMPORARY TABLE crm_ror_sugg_upgrade AS
                -- categories narrow enough to mean "the same kind of product"
                WITH small_categories AS (
                    SELECT pt.categ_id
                      FROM product_product pp JOIN product_template pt ON pt.id = pp.product_tmpl_id
                     WHERE pp.active AND pt.active AND pt.sale_ok
                  GROUP BY pt.categ_id
                    HAVING COUNT(*) <= %(max_category)s
                )
                SELECT cur.product_id AS current_id, up.product_id AS upper_id,
                       up.ref_unit_price - cur.ref_unit_price AS unit_gain, cur.ref_unit_price AS current_price
                  FROM crm_ror_sugg_price cur
                  JOIN crm_ror_sugg_price up
                       ON up.uom_category_id = cur.uom_category_id AND up.ref_unit_price > cur.ref_unit_price
                 WHERE (up.categ_id = cur.categ_id
                        AND EXISTS (SELECT 1 FROM small_categories sc WHERE sc.categ_id = cur.categ_id))
                    OR EXISTS (SELECT 1 FROM product_optional_rel o
                                WHERE o.src_id = cur.template_id AND o.dest_id = up.template_id)
                """,
                max_category=company.crm_ror_upsell_max_category_size,
            )
        )
        for table in TEMP_TABLES:
            cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))
        cr.execute(SQL("SELECT DISTINCT partner_id FROM crm_ror_sugg_bought ORDER BY partner_id"))
        return [row[0] for row in cr.fetchall()]

    def _filters_sql(self, company, kind, partner, product, now):
        """Conditions every suggestion meets: the customer may be contacted, is active and not Lost, the
        product can be sold, and the same suggestion was not converted or dismissed within the cool-down."""
        return SQL(
            """
            %(partner)s.active AND NOT %(blocked)s
            AND EXISTS (SELECT 1 FROM product_product pp JOIN product_template pt ON pt.id = pp.product_tmpl_id
                         WHERE pp.id = %(product)s AND pp.active AND pt.active AND pt.sale_ok)
            -- Lost customers get no suggestion: the relationship is to be won back first.
            AND NOT EXISTS (
                SELECT 1 FROM crm_ror_customer_profile lost
                 WHERE lost.company_id = %(company)s AND lost.partner_id = %(partner)s.id
                   AND lost.customer_state = 'lost')
            AND NOT EXISTS (
                SELECT 1 FROM crm_ror_suggestion old
                 WHERE old.company_id = %(company)s AND old.partner_id = %(partner)s.id
                   AND old.product_id = %(product)s AND old.kind = %(kind)s
                   AND old.state IN ('done', 'dismissed') AND old.closed_date >= %(cooldown)s)
            """,
            partner=partner,
            blocked=self.env["res.partner"]._crm_ror_outreach_blocked_sql(partner),
            product=product,
            company=company.id,
            kind=kind,
            cooldown=now - timedelta(days=company.crm_ror_suggestion_cooldown_days),
        )

    def _lines_sql(self, company):
        """The company's confirmed order lines of products (those of the value profiles): ``qty`` in
        the product's unit (the unit a new quotation line gets), ``ref_qty`` in the reference unit of
        its UoM category, so that unit prices compare across units, ``amount`` in company currency."""
        return SQL(
            "SELECT * FROM (%s) order_lines WHERE product_id IS NOT NULL AND qty > 0",
            self.env["crm.ror.customer.profile"]._ror_order_lines_query(company),
        )

    def _insert_cross_sell(self, company, now, chunk):
        """High-lift products the customer has not bought, through the best rule from one they have."""
        self.env.execute_query(
            SQL(
                """
                WITH candidates AS MATERIALIZED (
                    SELECT DISTINCT ON (b.partner_id, a.product_b_id)
                           b.partner_id, a.product_a_id, a.product_b_id, a.confidence, a.lift
                      FROM crm_ror_sugg_bought b
                      JOIN crm_ror_product_affinity a
                        ON a.company_id = %(company)s AND a.product_a_id = b.product_id
                     WHERE %(chunk)s AND a.lift >= %(min_lift)s
                       AND NOT EXISTS (SELECT 1 FROM crm_ror_sugg_bought b2
                                        WHERE b2.partner_id = b.partner_id AND b2.product_id = a.product_b_id)
                     ORDER BY b.partner_id, a.product_b_id, a.confidence DESC, a.lift DESC, a.product_a_id
                ),
                ranked AS (
                    SELECT c.*, cp.user_id, pr.order_qty AS qty,
                           COALESCE(pr.unit_price * pr.order_qty * c.confidence, 0) AS expected,
                           ROW_NUMBER() OVER (PARTITION BY c.partner_id
                                              ORDER BY COALESCE(pr.unit_price * pr.order_qty * c.confidence, 0) DESC,
                                                       c.confidence DESC, c.product_b_id) AS rank
                      FROM candidates c
                      JOIN res_partner cp ON cp.id = c.partner_id
                      LEFT JOIN crm_ror_sugg_price pr ON pr.product_id = c.product_b_id
                     WHERE %(filters)s
                )
                INSERT INTO crm_ror_suggestion
                       (company_id, partner_id, product_id, kind, state, user_id, expected_value,
                        source_product_id, confidence, lift, usual_qty, computed_date,
                        create_uid, write_uid, create_date, write_date)
                SELECT %(company)s, partner_id, product_b_id, 'cross_sell', 'new', user_id, expected,
                       product_a_id, confidence, lift, qty, %(now)s, %(uid)s, %(uid)s, %(now)s, %(now)s
                  FROM ranked
                 WHERE rank <= %(max)s
                """,
                chunk=chunk,
                company=company.id,
                min_lift=company.crm_ror_affinity_min_lift,
                filters=self._filters_sql(company, "cross_sell", SQL("cp"), SQL("c.product_b_id"), now),
                now=now,
                uid=self.env.uid,
                max=company.crm_ror_suggestion_max_per_customer,
            )
        )

    def _insert_reorder(self, company, now, chunk):
        """Products a customer buys repeatedly whose usual interval has passed (engine decides)."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT u.partner_id, u.product_id, u.purchases, u.last_day, u.interval, u.qty / u.purchases,
                       COALESCE(u.amount / NULLIF(u.qty, 0), 0), cp.user_id
                  FROM crm_ror_sugg_bought u
                  JOIN res_partner cp ON cp.id = u.partner_id
                 WHERE %(chunk)s AND u.purchases >= %(min_purchases)s AND %(filters)s
                """,
                chunk=chunk,
                min_purchases=company.crm_ror_reorder_min_purchases,
                filters=self._filters_sql(company, "reorder", SQL("cp"), SQL("u.product_id"), now),
            )
        )
        today = fields.Date.context_today(self)
        by_partner = {}
        for partner_id, product_id, purchases, last_day, interval, qty, unit_price, user_id in rows:
            if is_due(
                last_day,
                interval,
                today,
                company.crm_ror_reorder_tolerance,
                company.crm_ror_reorder_max_cycles,
            ):
                by_partner.setdefault(partner_id, []).append(
                    (unit_price * qty, product_id, purchases, last_day, interval, qty, user_id)
                )
        values = []
        for partner_id, candidates in by_partner.items():
            candidates.sort(key=lambda c: (-c[0], c[1]))
            for expected, product_id, purchases, last_day, interval, qty, user_id in candidates[
                : company.crm_ror_suggestion_max_per_customer
            ]:
                values.append((partner_id, product_id, user_id, expected, purchases, last_day, interval, qty))
        self._insert_rows(company, "reorder", now, values)

    def _insert_rows(self, company, kind, now, values):
        """Insert suggestions computed in Python in one statement (arrays unnested by PostgreSQL)."""
        if not values:
            return
        columns = list(zip(*values, strict=False))
        self.env.execute_query(
            SQL(
                """
                INSERT INTO crm_ror_suggestion
                       (company_id, partner_id, product_id, kind, state, user_id, expected_value,
                        purchase_count, last_purchase_date, interval_days, usual_qty, computed_date,
                        create_uid, write_uid, create_date, write_date)
                SELECT %(company)s, r.partner_id, r.product_id, %(kind)s, 'new', r.user_id, r.expected,
                       r.purchases, r.last_day, r.interval, r.qty, %(now)s, %(uid)s, %(uid)s, %(now)s, %(now)s
                  FROM unnest(%(partners)s::int[], %(products)s::int[], %(users)s::int[],
                              %(expected)s::numeric[], %(purchases)s::int[], %(last_days)s::date[],
                              %(intervals)s::float[], %(qtys)s::numeric[])
                       AS r(partner_id, product_id, user_id, expected, purchases, last_day, interval, qty)
                """,
                company=company.id,
                kind=kind,
                now=now,
                uid=self.env.uid,
                partners=list(columns[0]),
                products=list(columns[1]),
                users=list(columns[2]),
                expected=list(columns[3]),
                purchases=list(columns[4]),
                last_days=list(columns[5]),
                intervals=list(columns[6]),
                qtys=list(columns[7]),
            )
        )

    def _insert_up_sell(self, company, now, chunk):
        """A higher-priced replacement of a product the customer buys, bought by at least K customers of
        better value segments (segments ranked best first, from the customers' value profiles).

        Bounded so that it means something and stays linear: a replacement is one of the product's
        optional products, or a product of its own category when the category holds at most N
        saleable products (Odoo's default "All" category does not qualify), and is sold in the same
        unit-of-measure category (prices compared per reference unit). Lost customers get none.
        Per customer and higher product, the current product kept is the dearest one below it; the
        expected value is the price difference times the customer's usual quantity of the current one.
        """
        self.env.execute_query(
            SQL(
                """
                WITH candidates AS MATERIALIZED (
                    SELECT DISTINCT ON (b.partner_id, u.upper_id)
                           b.partner_id, c.segment_id, b.product_id AS current_id, u.upper_id,
                           b.qty / b.orders AS qty, u.unit_gain * b.ref_qty / b.orders AS expected,
                           h.n AS higher_buyers
                      FROM crm_ror_sugg_bought b
                      JOIN crm_ror_sugg_customer c ON c.partner_id = b.partner_id
                      JOIN crm_ror_sugg_upgrade u ON u.current_id = b.product_id
                      JOIN crm_ror_sugg_higher h ON h.product_id = u.upper_id AND h.rank = c.rank
                                                AND h.n >= %(min_buyers)s
                     WHERE %(chunk)s
                       AND NOT EXISTS (SELECT 1 FROM crm_ror_sugg_bought owned
                                        WHERE owned.partner_id = b.partner_id AND owned.product_id = u.upper_id)
                       -- already proposed as a cross-sell in this run
                       AND NOT EXISTS (SELECT 1 FROM crm_ror_suggestion cs
                                        WHERE cs.company_id = %(company)s AND cs.state = 'new'
                                          AND cs.partner_id = b.partner_id AND cs.product_id = u.upper_id)
                     ORDER BY b.partner_id, u.upper_id, u.current_price DESC, b.product_id
                ),
                ranked AS (
                    SELECT cd.*, cp.user_id,
                           ROW_NUMBER() OVER (PARTITION BY cd.partner_id
                                              ORDER BY cd.expected DESC, cd.upper_id) AS rank
                      FROM candidates cd
                      JOIN res_partner cp ON cp.id = cd.partner_id
                     WHERE %(filters)s
                )
                INSERT INTO crm_ror_suggestion
                       (company_id, partner_id, product_id, kind, state, user_id, expected_value,
                        source_product_id, segment_id, purchase_count, usual_qty, computed_date,
                        create_uid, write_uid, create_date, write_date)
                SELECT %(company)s, partner_id, upper_id, 'up_sell', 'new', user_id, expected,
                       current_id, segment_id, higher_buyers, qty, %(now)s, %(uid)s, %(uid)s, %(now)s, %(now)s
                  FROM ranked
                 WHERE rank <= %(max)s
                """,
                chunk=chunk,
                company=company.id,
                filters=self._filters_sql(company, "up_sell", SQL("cp"), SQL("cd.upper_id"), now),
                now=now,
                uid=self.env.uid,
                max=company.crm_ror_suggestion_max_per_customer,
                min_buyers=company.crm_ror_upsell_min_buyers,
            )
        )
