import functools
import io
import itertools
import json
import logging
import threading
import time
from datetime import date, timedelta

import numpy as np
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, str2bool
from odoo.tools.sql import create_index

from ..engine import clv, pgcopy, rfm
from ..engine import ror as ror_engine
from ..engine import rounding as rounding_engine

_logger = logging.getLogger(__name__)

# The CLV models count time in weeks.
DAYS_PER_WEEK = 7.0
# Start of the run of each value cron (ir.config_parameter), empty between runs.
RUN_PARAM_PROFILES = "crm_ror.profile_run_start"
RUN_PARAM_SUGGESTIONS = "crm_ror.suggestion_run_start"
# One lock for the profile and suggestion recomputes: they never run over each other.
LOCK_SQL = SQL("SELECT pg_try_advisory_xact_lock(hashtext('crm_ror.value_recompute'))")
LOCK_RETRY_MINUTES = 10
# The chunk jobs hold the lock shared: they run side by side, never beside a cron.
JOB_LOCK_SQL = SQL("SELECT pg_try_advisory_xact_lock_shared(hashtext('crm_ror.value_recompute'))")
JOB_LOCK_RETRY_SECONDS = 60
# Where queue_job is installed the chunks of a run are its jobs, unless this parameter is False.
QUEUE_JOBS_PARAM = "crm_ror.profile_queue_jobs"
# The states of a queue job still to run or running.
LIVE_JOB_STATES = ("wait_dependencies", "pending", "enqueued", "started")
# PostgreSQL's work_mem of the recompute's transactions: its per-customer hashes fit at 100k customers.
RECOMPUTE_WORK_MEM = "64MB"
# Percentage of each page of the profiles filled by inserts, the rest kept for the next run's versions.
PROFILE_FILLFACTOR = 50
# Customers per chunk (and transaction) of a recompute's second phase.
PROFILE_CHUNK = 25000
# The tables of a staged run (``_compute_profiles``): its state per company, its chunks, the purchase
# figures of phase 1, the profile figures of phase 2.
RUN_TABLE = SQL.identifier("crm_ror_profile_run")
CHUNK_TABLE = SQL.identifier("crm_ror_profile_chunk")
STAGE_TABLE = SQL.identifier("crm_ror_profile_stage")
RESULT_TABLE = SQL.identifier("crm_ror_profile_result")
COST_TABLE = SQL.identifier("crm_ror_profile_cost")
# The costs to serve staged per customer: a column per family and period (all time, 12 months, before).
COST_FAMILIES = ("campaign", "activity", "other")
COST_COLUMNS = tuple(f"{family}_{period}" for period in ("all", "12m", "prev") for family in COST_FAMILIES)
# Ratio measures of the reports: (numerator, denominator) summed over the group.
RATIO_MEASURES = {
    "ror": ("gross_margin", "cost_to_serve"),
    "ror_12m": ("gross_margin_12m", "cost_to_serve_12m"),
    "margin_rate": ("gross_margin", "revenue"),
}


# Column types of the staging table, in the order of the SELECT of ``_ror_purchases_query``.
STAGE_COLUMNS = {
    "partner_id": "int4",
    **dict.fromkeys(
        (
            "revenue",
            "cost",
            "discount",
            "revenue_12m",
            "margin_12m",
            "margin_prev",
            "discount_12m",
            "discount_prev",
        ),
        "float8",
    ),
    "purchase_count": "int8",
    "first_date": "date",
    "last_date": "date",
    "day_count": "int8",
    "avg_gap": "float8",
    "median_gap": "float8",
    "repeat_mean": "float8",
    "first_order": "date",
}
# Staged figures that are undefined (NaN, then NULL) rather than 0 when missing: one-time buyers' gaps.
UNDEFINED_GAPS = ("avg_gap", "median_gap")
# PostgreSQL's epoch of dates: the recompute's arrays hold dates as days since it.
EPOCH = date(2000, 1, 1)
# Codes of the CLV note in the result table (see ``_ror_clv_messages``).
CLV_NO_PURCHASE, CLV_FIT_ERROR, CLV_NO_FINITE = 1, 2, 3
# The predicted CLV figures, undefined (NULL) without a model.
CLV_FIGURES = (
    "clv_predicted", "clv_expected_purchases", "clv_probability_alive", "clv_expected_spend",
    "clv_next_purchase_date", "churn_risk",
)  # fmt: skip
# The profile figures a run computes; the run's date, the historic CLV and the salesperson come from
# the switch's SQL.
VALUE_COLUMNS = (
    "average_order_value", "avg_days_between", "churn_risk", "clv_expected_purchases", "clv_expected_spend",
    "clv_message", "clv_next_purchase_date", "clv_predicted", "clv_probability_alive", "clv_status",
    "cost", "cost_activity", "cost_campaign", "cost_discount", "cost_other", "cost_to_serve",
    "cost_to_serve_12m", "customer_since", "customer_state", "days_since_last_purchase",
    "first_purchase_date", "frequency_score", "gross_margin", "gross_margin_12m", "has_ror",
    "has_ror_12m", "last_purchase_date", "margin_rate", "median_days_between", "monetary_score",
    "purchase_count", "recency_score", "revenue", "revenue_12m", "rfm_code", "ror", "ror_12m",
    "ror_prev_12m", "ror_trend", "segment_id",
)  # fmt: skip


class CrmRorCustomerProfile(models.Model):
    _name = "crm.ror.customer.profile"
    _description = "Customer Value Profile"
    _order = "company_id, revenue desc, id"
    _rec_name = "partner_id"
    # Written by the recompute's SQL only, which stamps computed_at: no creator or writer columns,
    # whose two foreign keys PostgreSQL would check row by row (0.4 s per 100k new profiles).
    _log_access = False

    # no index of its own: the unique (partner, company) key answers by partner
    partner_id = fields.Many2one("res.partner", "Customer", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one(related="partner_id.user_id", string="Salesperson", store=True, index=True)
    computed_at = fields.Datetime("Computed on", readonly=True)
    reference_date = fields.Date("As of", readonly=True, help="Date the figures were computed for.")

    # Purchase profile
    first_purchase_date = fields.Date(readonly=True)
    last_purchase_date = fields.Date(readonly=True)
    customer_since = fields.Date(
        readonly=True, help="First purchase, or the first confirmed sale order when that is earlier."
    )
    days_since_last_purchase = fields.Integer(readonly=True, aggregator="avg")
    purchase_count = fields.Integer("Purchases", readonly=True)
    revenue = fields.Monetary(readonly=True, help="Net of credit notes, untaxed, in the company's currency.")
    cost = fields.Monetary("Cost of goods", readonly=True, help="Quantities sold at the products' cost.")
    gross_margin = fields.Monetary(readonly=True)
    margin_rate = fields.Float("Margin (%)", readonly=True, aggregator="avg")
    average_order_value = fields.Monetary(readonly=True, aggregator="avg")
    avg_days_between = fields.Float("Average days between purchases", readonly=True, aggregator="avg")
    median_days_between = fields.Float("Median days between purchases", readonly=True, aggregator="avg")
    revenue_12m = fields.Monetary("Revenue (12 months)", readonly=True)
    gross_margin_12m = fields.Monetary("Gross margin (12 months)", readonly=True)

    # RFM
    customer_state = fields.Selection(
        [
            ("active", "Active"),
            ("lost", "Lost"),
            ("refund_only", "Credit notes only"),
        ],
        readonly=True,
        help="Active customers are scored; Lost ones bought nothing within the company's inactivity "
        "limit; customers with credit notes but no purchase are neither scored nor segmented.",
    )
    recency_score = fields.Integer("R", readonly=True, aggregator="avg")
    frequency_score = fields.Integer("F", readonly=True, aggregator="avg")
    monetary_score = fields.Integer("M", readonly=True, aggregator="avg")
    rfm_code = fields.Char("RFM", readonly=True)
    segment_id = fields.Many2one("crm.ror.segment", readonly=True, index=True, ondelete="set null")

    # Lifetime value
    clv_historic = fields.Monetary("Historic CLV", readonly=True, help="Gross margin to date.")
    clv_status = fields.Selection(
        [("ok", "Predicted"), ("not_enough_history", "Not enough history")],
        "Predictive CLV",
        readonly=True,
    )
    clv_message = fields.Char("CLV note", readonly=True)
    clv_predicted = fields.Monetary(
        "Predicted CLV",
        readonly=True,
        help="Discounted gross margin expected over the company's CLV horizon (MBG/NBD or BG/NBD x Gamma-Gamma).",
    )
    clv_expected_purchases = fields.Float("Expected purchases", readonly=True, digits=(16, 2))
    clv_probability_alive = fields.Float("Probability alive (%)", readonly=True, aggregator="avg")
    clv_expected_spend = fields.Monetary("Expected order value", readonly=True, aggregator="avg")
    clv_next_purchase_date = fields.Date(
        "Expected next purchase",
        readonly=True,
        help="Date by which the model expects one more purchase; empty when none is expected within ten years.",
    )
    churn_risk = fields.Selection(
        [("low", "Low"), ("medium", "Medium"), ("high", "High")],
        readonly=True,
        help="From the probability that the customer is still active, against the company's thresholds.",
    )

    # Return on relationship
    cost_campaign = fields.Monetary("Campaign contacts", readonly=True)
    cost_activity = fields.Monetary("Activities", readonly=True)
    cost_discount = fields.Monetary("Discounts granted", readonly=True)
    cost_other = fields.Monetary(
        "Other costs", readonly=True, help="Costs added by other addons (e.g. loyalty rewards)."
    )
    cost_to_serve = fields.Monetary(readonly=True)
    cost_to_serve_12m = fields.Monetary("Cost to serve (12 months)", readonly=True)
    ror = fields.Float(
        "ROR", readonly=True, aggregator="avg", help="(Gross margin - cost to serve) / cost to serve."
    )
    ror_12m = fields.Float("ROR (12 months)", readonly=True, aggregator="avg")
    ror_prev_12m = fields.Float("ROR (previous 12 months)", readonly=True, aggregator=None)
    has_ror = fields.Boolean("ROR defined", readonly=True, help="False when there is no cost to serve.")
    has_ror_12m = fields.Boolean("ROR (12 months) defined", readonly=True)
    ror_trend = fields.Selection(
        [("up", "Improving"), ("down", "Worsening"), ("stable", "Stable"), ("none", "Not comparable")],
        readonly=True,
        help="Last 12 months against the 12 months before.",
    )

    _sql_constraints = [
        (
            "partner_company_uniq",
            "unique(partner_id, company_id)",
            "A customer has one value profile per company.",
        ),
    ]

    # ------------------------------------------------------------------------------------------
    # Reporting: ratios of groups are ratios of sums
    # ------------------------------------------------------------------------------------------

    @api.model
    def read_group(self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):
        """A group's ROR is (sum of margins - sum of costs) / sum of costs, and its margin rate the sum
        of margins over the sum of revenues: never the average of the customers' ratios (pivot, graph)."""
        names = {spec.split(":")[0].strip() for spec in fields}
        wanted = {name: parts for name, parts in RATIO_MEASURES.items() if name in names}
        if not wanted:
            return super().read_group(domain, fields, groupby, offset, limit, orderby, lazy)
        sums = sorted({part for parts in wanted.values() for part in parts})
        extra = [f"__ror_{part}:sum({part})" for part in sums]
        rows = super().read_group(domain, list(fields) + extra, groupby, offset, limit, orderby, lazy)
        for row in rows:
            totals = {part: row.pop(f"__ror_{part}", None) or 0.0 for part in sums}
            for name, (numerator, denominator) in wanted.items():
                if name == "margin_rate":
                    value = (
                        100.0 * totals[numerator] / totals[denominator] if totals[denominator] > 0 else False
                    )
                else:
                    value = ror_engine.return_on_relationship(totals[numerator], totals[denominator])
                row[name] = False if value is None else value
        return rows

    # ------------------------------------------------------------------------------------------
    # Actions and cron
    # ------------------------------------------------------------------------------------------

    @api.model
    def action_recompute(self):
        """Button: schedule the recompute (the profile cron) and return at once.

        The recompute of every company runs in the cron worker, a company per transaction; an HTTP
        worker would be killed by ``limit_time_real`` long before 100k customers are done.
        """
        if not self.env.user.has_group("crm_ror.group_crm_ror_manager"):
            raise AccessError(
                self.env._("Only Return on Relationship administrators can recompute the value profiles.")
            )
        # sudo: triggering a scheduled action needs Settings rights; the manager group was checked above.
        self.env.ref("crm_ror.ir_cron_crm_ror_compute_profiles").sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._(
                    "The customer value profiles are being recomputed in the background; the suggestions "
                    "follow. Reload the page in a few minutes."
                ),
                "type": "info",
            },
        }

    @api.model
    def _cron_compute_profiles(self):
        """Scheduled action: the profiles, RFM, lifetime value, costs and snapshot of every company.

        One company per call, committed by the cron runner (Odoo's progress API), so a crash resumes
        with the companies not done yet and nobody sees a half-written company. The suggestion cron
        is triggered once the last company is done.

        Where the chunks run as queue jobs (``_ror_queue_jobs``), the call stages the company, enqueues
        a job per chunk and returns, the company still pending; the job that ends the run switches it
        and triggers this cron again for the next company.
        """
        process = functools.partial(
            self._compute_profiles, chunk_size=self._ror_profile_chunk, jobs=self._ror_queue_jobs()
        )
        done = self._ror_run_batch(RUN_PARAM_PROFILES, "ror_computed_at", process)
        if done:
            self.env.ref("crm_ror.ir_cron_crm_ror_suggestions")._trigger()

    @api.model
    def _ror_queue_jobs(self):
        """True when the chunks of the profile cron run as OCA queue_job jobs: queue_job is installed
        and the system parameter ``crm_ror.profile_queue_jobs`` is not False."""
        if "queue.job" not in self.env:
            return False
        # sudo: a system parameter, read on behalf of the cron's user.
        return str2bool(self.env["ir.config_parameter"].sudo().get_param(QUEUE_JOBS_PARAM, "True"), True)

    @api.model
    def _ror_run_batch(self, param, stamp_field, process):
        """Process the next company of a run of a value cron; return True when the run is complete.

        A run starts when its ``param`` (an ``ir.config_parameter``) is empty; a company is pending
        while its ``stamp_field`` is older than the run's start. The profile and suggestion crons
        share one lock, so they never run over each other: a call that finds it taken only
        reschedules itself.
        """
        cron = self.env["ir.cron"].browse(self.env.context.get("cron_id"))
        if not self.env.execute_query(LOCK_SQL)[0][0]:
            if cron:
                cron._trigger(fields.Datetime.now() + timedelta(minutes=LOCK_RETRY_MINUTES))
            _logger.info("Customer value: another recompute runs, %s waits", param)
            return False
        # sudo: cron bookkeeping (run parameter, company stamps) on behalf of the cron's user.
        params = self.env["ir.config_parameter"].sudo()
        start = params.get_param(param)
        if not start:
            start = fields.Datetime.to_string(fields.Datetime.now())
            params.set_param(param, start)
        start = fields.Datetime.to_datetime(start)
        pending = (
            self.env["res.company"]
            .sudo()
            .search([])
            .filtered(lambda company: not company[stamp_field] or company[stamp_field] < start)
        )
        # a process returning False gave the company up (lock lost between chunks) or left it to its
        # queue jobs: it stays pending
        if pending and process(pending[:1]) is False:
            return False
        remaining = max(len(pending) - 1, 0)
        if not remaining:
            params.set_param(param, False)
        self.env["ir.cron"]._notify_progress(done=min(len(pending), 1), remaining=remaining)
        return not remaining

    # ------------------------------------------------------------------------------------------
    # Data gathering (one set-wise query per figure family and company)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _ror_sales_lines_query(self, company, date_to):
        """SQL of the company's sales lines up to ``date_to``: one row per order line, or per invoice
        or credit note and the purchase its lines go to (their sums: every use adds them up per
        purchase).

        Columns: partner_id (commercial), doc_id, doc_date, is_purchase, amount (untaxed, company
        currency, negative for credit notes), cost, discount (list-price discount, company currency),
        user_id, team_id, single (the row is its purchase's only one: an invoice that no credit note
        or down payment goes to; never an order line).
        """
        if company.ror_source == "order":
            return SQL(
                """
                SELECT partner_id, order_id AS doc_id, day AS doc_date, TRUE AS is_purchase, amount,
                       cost, discount, user_id, team_id, FALSE AS single
                  FROM (%s) order_lines
                """,
                self._ror_order_lines_query(company, date_to),
            )
        return self._ror_invoice_lines_query(company, date_to)

    @api.model
    def _ror_order_lines_query(self, company, date_to=None):
        """Confirmed sale order lines of the company (no section, note or down-payment line): the one
        source of order figures for the profiles and the suggestions.

        Columns: order_id, product_id, partner_id (commercial), day (order date), qty (in the product's
        unit), ref_qty (in the reference unit of its UoM category), amount (untaxed, company currency),
        cost (at the product's cost), discount (list-price discount, company currency), user_id, team_id.
        """
        return SQL(
            """
            SELECT l.order_id, l.product_id, p.commercial_partner_id AS partner_id, o.date_order::date AS day,
                   l.product_uom_qty * COALESCE(pu.factor / NULLIF(lu.factor, 0), 1) AS qty,
                   l.product_uom_qty / COALESCE(NULLIF(lu.factor, 0), 1) AS ref_qty,
                   l.price_subtotal / COALESCE(NULLIF(o.currency_rate, 0), 1) AS amount,
                   l.product_uom_qty * COALESCE(pu.factor / NULLIF(lu.factor, 0), 1)
                       * COALESCE((pp.standard_price ->> o.company_id::text)::numeric, 0) AS cost,
                   l.price_unit * l.product_uom_qty * COALESCE(l.discount, 0) / 100
                       / COALESCE(NULLIF(o.currency_rate, 0), 1) AS discount,
                   o.user_id AS user_id, o.team_id AS team_id
              FROM sale_order_line l
              JOIN sale_order o ON o.id = l.order_id
              JOIN res_partner p ON p.id = o.partner_id
         LEFT JOIN product_product pp ON pp.id = l.product_id
         LEFT JOIN product_template pt ON pt.id = pp.product_tmpl_id
         LEFT JOIN uom_uom pu ON pu.id = pt.uom_id
         LEFT JOIN uom_uom lu ON lu.id = l.product_uom
             WHERE o.company_id = %(company)s AND o.state = 'sale'
               AND (%(date_to)s::date IS NULL OR o.date_order::date <= %(date_to)s)
               AND l.display_type IS NULL AND NOT COALESCE(l.is_downpayment, FALSE)
            """,
            company=company.id,
            date_to=date_to,
        )

    @api.model
    def _ror_invoice_lines_query(self, company, date_to):
        """Posted customer invoice and credit note lines, each on the purchase it belongs to, summed
        per move and purchase (a down-payment invoice's lines may go to another purchase).

        ``doc_id``/``doc_date`` are those of the purchase, not of the line's own move:

        * a credit note goes to the invoice it reverses: ``reversed_entry_id``, else the invoice its
          receivable is reconciled with, if that invoice is not later than the credit note (an old
          credit note used to pay a new invoice reverses nothing). It then counts in that invoice's
          period, and an invoice credited in full nets to zero: no purchase. Unmatched credit notes
          stay on their own, negative, and are no purchase;
        * a down-payment invoice goes to the final invoice that deducts it, so an order paid in
          two invoices is one purchase, on the final invoice's date.

        Whether a purchase remains is decided on the net amount (``docs`` in
        ``_ror_purchases_query``), never on ``payment_state``. The cost is the invoice's own
        cost-of-goods lines when stock valuation books them (Anglo-Saxon), the product's cost
        otherwise.
        """
        has_cogs, has_deposits = self._ror_line_kinds(company)
        # the moves taken into account (the aliases of the statement): the company's posted ones up to
        # date_to, read from the table (with its statistics) rather than from a CTE
        moves = {
            alias: SQL(
                "%(a)s.company_id = %(company)s AND %(a)s.state = 'posted' AND %(a)s.invoice_date <= %(date_to)s",
                a=SQL(alias),
                company=company.id,
                date_to=date_to,
            )
            for alias in ("direct", "inv", "r", "m", "dm", "fm", "cm")
        }
        # The cost-of-goods and down-payment machinery only where the company books such lines:
        # without it the product lines are summed per move in one hash pass (no sort of every line).
        deposit_final = SQL(
            """
            deposit_final AS (
                SELECT d.line_id, d.invoice_id, fm.invoice_date
                  FROM (
                        SELECT dl.id AS line_id, min(fl.move_id) AS invoice_id
                          FROM account_move_line dl
                          JOIN account_move dm ON dm.id = dl.move_id AND dm.move_type = 'out_invoice' AND %(dm)s
                          JOIN sale_order_line_invoice_rel drel ON drel.invoice_line_id = dl.id
                          JOIN sale_order_line_invoice_rel frel
                            ON frel.order_line_id = drel.order_line_id AND frel.invoice_line_id <> dl.id
                          JOIN account_move_line fl ON fl.id = frel.invoice_line_id AND fl.quantity < 0
                          JOIN account_move fm ON fm.id = fl.move_id AND fm.move_type = 'out_invoice' AND %(fm)s
                         WHERE dl.is_downpayment AND dl.quantity > 0
                      GROUP BY dl.id
                       ) d
                  JOIN account_move fm ON fm.id = d.invoice_id
            ),
            """,
            **moves,
        )
        cost_ctes = SQL(
            """
            cogs AS (
                SELECT c.move_id, c.product_id, sum(c.balance) AS cost
                  FROM account_move_line c
                  JOIN account_move cm
                    ON cm.id = c.move_id AND cm.move_type IN ('out_invoice', 'out_refund') AND %(cm)s
                  JOIN account_account a ON a.id = c.account_id
                 WHERE c.display_type = 'cogs' AND a.account_type IN ('expense', 'expense_direct_cost')
              GROUP BY c.move_id, c.product_id
            ),
            cost_lines AS (
                -- the product lines of a move that has cost-of-goods lines for their product
                SELECT l.id, l.move_id, l.product_id,
                       row_number() OVER (PARTITION BY l.move_id, l.product_id ORDER BY l.id) AS position
                  FROM account_move_line l
                  JOIN cogs ON cogs.move_id = l.move_id AND cogs.product_id = l.product_id
                 WHERE l.display_type = 'product'
            ),
            """,
            **moves,
        )
        product_cost = SQL(
            "l.quantity * COALESCE(pc.factor / NULLIF(lu.factor, 0), 1) * COALESCE(pc.cost, 0)"
        )
        if has_cogs:
            cost_columns = SQL(
                """
                CASE WHEN cl.id IS NULL THEN %(product_cost)s END AS product_cost,
                -- the move's booked cost, on one line of its product
                CASE WHEN cl.position = 1 THEN cogs.cost END AS booked_cost
                """,
                product_cost=product_cost,
            )
            cost_joins = SQL(
                """
                LEFT JOIN cost_lines cl ON cl.id = l.id
                LEFT JOIN cogs ON cogs.move_id = l.move_id AND cogs.product_id = l.product_id
                """
            )
        else:
            cost_columns = SQL("%s AS product_cost, NULL::numeric AS booked_cost", product_cost)
            cost_joins = SQL("")
        line_sums = SQL(
            """
                SELECT l.move_id, NULL::int4 AS deposit_of, NULL::date AS deposit_date, sum(l.amount) AS amount,
                       sum(l.product_cost) AS product_cost, sum(l.booked_cost) AS booked_cost,
                       sum(l.discount) AS discount
                  FROM sale_lines l
                 %(not_deposit)s
              GROUP BY l.move_id
            """,
            not_deposit=SQL("WHERE NOT EXISTS (SELECT 1 FROM deposit_final dp WHERE dp.line_id = l.id)")
            if has_deposits
            else SQL(""),
        )
        if has_deposits:
            # a down-payment line is summed apart, on its final invoice
            line_sums = SQL(
                """
                %s
             UNION ALL
                SELECT l.move_id, dp.invoice_id, dp.invoice_date, sum(l.amount), sum(l.product_cost),
                       sum(l.booked_cost), sum(l.discount)
                  FROM sale_lines l JOIN deposit_final dp ON dp.line_id = l.id
              GROUP BY l.move_id, dp.invoice_id, dp.invoice_date
                """,
                line_sums,
            )
        return SQL(
            """
            WITH refund_origin AS (
                SELECT r.id AS refund_id, COALESCE(direct.id, rec.invoice_id) AS invoice_id,
                       COALESCE(direct.invoice_date, rec.invoice_date) AS invoice_date
                  FROM account_move r
             LEFT JOIN account_move direct
                    ON direct.id = r.reversed_entry_id AND direct.move_type = 'out_invoice' AND %(direct)s
             LEFT JOIN LATERAL (
                    SELECT inv.id AS invoice_id, inv.invoice_date
                      FROM account_move_line rl
                      JOIN account_partial_reconcile apr ON apr.credit_move_id = rl.id
                      JOIN account_move_line il ON il.id = apr.debit_move_id
                      JOIN account_move inv ON inv.id = il.move_id AND inv.move_type = 'out_invoice' AND %(inv)s
                     WHERE rl.move_id = r.id AND rl.display_type = 'payment_term'
                       AND inv.invoice_date <= r.invoice_date
                  ORDER BY inv.invoice_date DESC, inv.id DESC
                     LIMIT 1
                ) rec ON direct.id IS NULL
                 WHERE r.move_type = 'out_refund' AND %(r)s
            ),
            move_doc AS (
                -- the purchase of each move, resolved once per move, not per line
                SELECT m.id, m.move_type, m.commercial_partner_id, m.invoice_currency_rate, m.invoice_user_id,
                       m.team_id, COALESCE(ro.invoice_id, m.id) AS doc_id,
                       COALESCE(ro.invoice_date, m.invoice_date) AS doc_date,
                       ro.invoice_id IS NOT NULL OR m.move_type = 'out_invoice' AS doc_is_invoice
                  FROM account_move m
             LEFT JOIN refund_origin ro ON ro.refund_id = m.id
                 WHERE m.move_type IN ('out_invoice', 'out_refund') AND %(m)s
            ),
            %(deposit_final)s
            %(cost_ctes)s
            product_cost AS (
                -- the cost of each product in its own unit, read once per product, not per line
                SELECT pp.id, pu.factor, COALESCE((pp.standard_price ->> %(company_key)s)::numeric, 0) AS cost
                  FROM product_product pp
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
             LEFT JOIN uom_uom pu ON pu.id = pt.uom_id
            ),
            sale_lines AS NOT MATERIALIZED (
                SELECT l.id, l.move_id, -l.balance AS amount, %(cost_columns)s,
                       l.price_unit * l.quantity * COALESCE(l.discount, 0) / 100 AS discount
                  FROM account_move_line l
                  %(cost_joins)s
             LEFT JOIN product_cost pc ON pc.id = l.product_id
             LEFT JOIN uom_uom lu ON lu.id = l.product_uom_id
                 WHERE l.display_type = 'product' AND l.company_id = %(company)s AND l.parent_state = 'posted'
            ),
            line_sums AS (
                -- one pass over the product lines, summed per move before any join to the moves (1M
                -- lines become about 300k rows)
                %(line_sums)s
            )
            SELECT m.commercial_partner_id AS partner_id, COALESCE(s.deposit_of, m.doc_id) AS doc_id,
                   COALESCE(s.deposit_date, m.doc_date) AS doc_date,
                   s.deposit_of IS NOT NULL OR m.doc_is_invoice AS is_purchase,
                   s.amount,
                   CASE WHEN m.move_type = 'out_refund' THEN -1 ELSE 1 END * COALESCE(s.product_cost, 0)
                       + COALESCE(s.booked_cost, 0) AS cost,
                   CASE WHEN m.move_type = 'out_refund' THEN -1 ELSE 1 END * s.discount
                       / COALESCE(NULLIF(m.invoice_currency_rate, 0), 1) AS discount,
                   m.invoice_user_id AS user_id, m.team_id AS team_id,
                   s.deposit_of IS NULL AND m.doc_id = m.id
                       AND NOT EXISTS (SELECT 1 FROM refund_origin ro WHERE ro.invoice_id = m.id)
                       %(no_deposit)s AS single
              FROM line_sums s
              JOIN move_doc m ON m.id = s.move_id
            """,
            company=company.id,
            company_key=str(company.id),
            deposit_final=deposit_final if has_deposits else SQL(""),
            cost_ctes=cost_ctes if has_cogs else SQL(""),
            cost_columns=cost_columns,
            cost_joins=cost_joins,
            line_sums=line_sums,
            no_deposit=SQL("AND NOT EXISTS (SELECT 1 FROM deposit_final dp WHERE dp.invoice_id = m.id)")
            if has_deposits
            else SQL(""),
            direct=moves["direct"],
            inv=moves["inv"],
            r=moves["r"],
            m=moves["m"],
        )

    @api.model
    def _ror_line_kinds(self, company):
        """(books cost-of-goods lines, has down-payment lines): whether the company has any such
        journal item, read from the partial indexes of ``init()``."""
        cogs, deposits = self.env.execute_query(
            SQL(
                """
                SELECT EXISTS (SELECT 1 FROM account_move_line WHERE display_type = 'cogs' AND company_id = %(company)s),
                       EXISTS (SELECT 1 FROM account_move_line WHERE is_downpayment AND company_id = %(company)s)
                """,
                company=company.id,
            )
        )[0]
        return cogs, deposits

    @api.model
    def _ror_windows(self, reference_date):
        """(start of the last 12 months, start of the 12 months before), both inclusive."""
        start_12m = reference_date - relativedelta(years=1) + timedelta(days=1)
        return start_12m, start_12m - relativedelta(years=1)

    @api.model
    def _ror_purchases_query(self, company, reference_date):
        """SQL of the company's purchase figures, one row per customer (the columns of STAGE_COLUMNS)."""
        start_12m, start_prev = self._ror_windows(reference_date)
        return SQL(
            """
            WITH lines AS (%(lines)s),
            docs AS (
                -- a purchase is a document that still sells something once its credit notes are
                -- netted; the sums of a document serve every figure below. Most invoices are their
                -- purchase's only row: they go through as they are, only the others are summed.
                SELECT partner_id, doc_id, doc_date, is_purchase AND amount > %(precision)s AS is_purchase,
                       amount, cost, discount
                  FROM lines
                 WHERE single AND partner_id IS NOT NULL
             UNION ALL
                SELECT partner_id, doc_id, doc_date, bool_or(is_purchase) AND sum(amount) > %(precision)s,
                       sum(amount), sum(cost), sum(discount)
                  FROM lines
                 WHERE NOT single AND partner_id IS NOT NULL
              GROUP BY partner_id, doc_id, doc_date
            ),
            days AS (
                SELECT partner_id, doc_date, sum(amount) AS amount
                  FROM docs WHERE is_purchase GROUP BY partner_id, doc_date
            ),
            ranked AS (
                SELECT partner_id, amount,
                       doc_date - lag(doc_date) OVER w AS gap, row_number() OVER w AS rank
                  FROM days WINDOW w AS (PARTITION BY partner_id ORDER BY doc_date)
            ),
            day_stats AS (
                SELECT partner_id, count(*) AS day_count, avg(gap) AS avg_gap,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) AS median_gap,
                       avg(amount) FILTER (WHERE rank > 1) AS repeat_mean
                  FROM ranked GROUP BY partner_id
            ),
            doc_stats AS (
                SELECT partner_id, count(*) FILTER (WHERE is_purchase) AS purchase_count,
                       min(doc_date) FILTER (WHERE is_purchase) AS first_date,
                       max(doc_date) FILTER (WHERE is_purchase) AS last_date,
                       sum(amount) AS revenue, sum(cost) AS cost, sum(discount) AS discount,
                       sum(amount) FILTER (WHERE doc_date >= %(start_12m)s) AS revenue_12m,
                       sum(amount - cost) FILTER (WHERE doc_date >= %(start_12m)s) AS margin_12m,
                       sum(amount - cost) FILTER (WHERE doc_date >= %(start_prev)s AND doc_date < %(start_12m)s) AS margin_prev,
                       sum(discount) FILTER (WHERE doc_date >= %(start_12m)s) AS discount_12m,
                       sum(discount) FILTER (WHERE doc_date >= %(start_prev)s AND doc_date < %(start_12m)s) AS discount_prev
                  FROM docs GROUP BY partner_id
            ),
            first_orders AS (
                SELECT p.commercial_partner_id AS partner_id, min(o.date_order::date) AS first_order
                  FROM sale_order o JOIN res_partner p ON p.id = o.partner_id
                 WHERE o.company_id = %(company)s AND o.state = 'sale' AND o.date_order::date <= %(date_to)s
              GROUP BY p.commercial_partner_id
            )
            -- float8, not numeric: Python floats, not Decimals (about 60 MB fewer at 100k customers)
            SELECT d.partner_id, d.revenue::float8, d.cost::float8, d.discount::float8,
                   d.revenue_12m::float8, d.margin_12m::float8, d.margin_prev::float8,
                   d.discount_12m::float8, d.discount_prev::float8, d.purchase_count, d.first_date,
                   d.last_date, ds.day_count, ds.avg_gap::float8, ds.median_gap, ds.repeat_mean::float8,
                   fo.first_order
              FROM doc_stats d
         LEFT JOIN day_stats ds ON ds.partner_id = d.partner_id
         LEFT JOIN first_orders fo ON fo.partner_id = d.partner_id
            """,
            lines=self._ror_sales_lines_query(company, reference_date),
            precision=company.currency_id.rounding / 2,
            start_12m=start_12m,
            start_prev=start_prev,
            company=company.id,
            date_to=reference_date,
        )

    @api.model
    def _ror_costs_to_serve(self, company, partner_ids, date_from, date_to):
        """{partner: {"campaign", "activity", "other"}} over a period (see ``crm.ror.cost.to.serve``)."""
        return self.env["crm.ror.cost.to.serve"]._costs(company, partner_ids, date_from, date_to)

    @api.model
    def _ror_cost_providers(self):
        """The provider models of other addons (kept here for the callers of the provider contract)."""
        return self.env["crm.ror.cost.to.serve"]._providers()

    @api.model
    def _ror_other_costs(self, company, partner_ids, date_from, date_to):
        return self.env["crm.ror.cost.to.serve"]._other_costs(company, partner_ids, date_from, date_to)

    # ------------------------------------------------------------------------------------------
    # Computation
    # ------------------------------------------------------------------------------------------

    def init(self):
        """(Re)create the tables of a staged run (see ``_compute_profiles``). UNLOGGED: written once
        and read once per run, no WAL; a crash of PostgreSQL empties them, and the run then starts
        over. An install or upgrade rebuilds them (their columns follow the fields), so a run
        interrupted by it starts over too."""
        result = super().init()
        cr = self.env.cr
        # Each run rewrites every profile: with room left on each page, the new version of a row goes
        # on the page of the old one and, when no indexed column changed, without new index entries
        # (PostgreSQL's HOT updates), instead of into all six indexes (half the switch's time).
        cr.execute(
            SQL("ALTER TABLE %s SET (fillfactor = %s)", SQL.identifier(self._table), PROFILE_FILLFACTOR)
        )
        # The partner's own index of earlier versions: the unique key serves its lookups, and a
        # profile's first fill (a new row version, in every index) paid for both (0.2 s per 100k).
        cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(f"{self._table}__partner_id_index")))
        # Whether a company books cost-of-goods or down-payment lines (``_ror_line_kinds``), answered
        # from an index of those lines only instead of a scan of every journal item.
        create_index(
            cr,
            "account_move_line_crm_ror_cogs_idx",
            "account_move_line",
            ["company_id"],
            where="display_type = 'cogs'",
        )
        create_index(
            cr,
            "account_move_line_crm_ror_downpayment_idx",
            "account_move_line",
            ["company_id"],
            where="is_downpayment",
        )
        cr.execute(
            SQL(
                "DROP TABLE IF EXISTS %s, %s, %s, %s, %s",
                RUN_TABLE,
                CHUNK_TABLE,
                STAGE_TABLE,
                RESULT_TABLE,
                COST_TABLE,
            )
        )
        cr.execute(
            SQL(
                "CREATE UNLOGGED TABLE %s (company_id int4 NOT NULL, partner_id int4 NOT NULL, %s)",
                COST_TABLE,
                SQL(", ").join(SQL("%s float8", SQL.identifier(name)) for name in COST_COLUMNS),
            )
        )
        cr.execute(
            SQL(
                """
                CREATE UNLOGGED TABLE %s (
                    company_id int4 PRIMARY KEY, reference_date date NOT NULL,
                    computed_at timestamp NOT NULL, fit jsonb NOT NULL
                )
                """,
                RUN_TABLE,
            )
        )
        cr.execute(
            SQL(
                """
                CREATE UNLOGGED TABLE %s (
                    company_id int4 NOT NULL, low int4 NOT NULL, high int4 NOT NULL,
                    done bool NOT NULL DEFAULT FALSE, PRIMARY KEY (company_id, low)
                )
                """,
                CHUNK_TABLE,
            )
        )
        cr.execute(
            SQL(
                "CREATE UNLOGGED TABLE %s (company_id int4 NOT NULL, %s, PRIMARY KEY (company_id, partner_id))",
                STAGE_TABLE,
                SQL(", ").join(
                    SQL("%s %s", SQL.identifier(name), SQL(kind)) for name, kind in STAGE_COLUMNS.items()
                ),
            )
        )
        cr.execute(
            SQL(
                """
                CREATE UNLOGGED TABLE %s (
                    company_id int4 NOT NULL, partner_id int4 NOT NULL, %s, PRIMARY KEY (company_id, partner_id)
                )
                """,
                RESULT_TABLE,
                # the codes of ``_ror_chunk_figures``; the switch gives them the profile's column types
                SQL(", ").join(SQL("%s float8", SQL.identifier(name)) for name in VALUE_COLUMNS),
            )
        )
        return result

    # Customers per chunk of the cron's runs; tests may lower it.
    _ror_profile_chunk = PROFILE_CHUNK

    @api.model
    def _compute_profiles(self, companies, reference_date=None, chunk_size=PROFILE_CHUNK, jobs=False):
        """Recompute the profiles of the companies, each as a staged run that resumes after a crash.

        1. the purchase figures of every customer of the company go into a staging table (one SQL
           statement), and the lifetime-value models are fitted on the whole population;
        2. the customers are done in chunks of ``chunk_size`` (a range of partner ids): their costs to
           serve, RFM scores (ranked against the whole population), lifetime values and ROR go into a
           result table;
        3. the switch applies the result to the profiles in one transaction (``UPDATE ... FROM``, one
           ``INSERT`` for new customers, one ``DELETE`` for those without documents any more), and
           stamps the company; the first run of a month first stores the profiles as the last
           month's snapshot.

        Outside tests each phase and each chunk is committed on its own: a run that crashes (or gives
        the lock up between chunks) resumes with the chunks not done yet, on the same date and with
        the same fit, and nobody sees a half-written run: the profiles keep the previous run until
        the switch. Returns False when it gave the lock up (the company stays pending), else True.

        With ``jobs``, phase 2 and the switch are queue jobs (``_ror_job_chunk``): the first company
        is staged, its chunks enqueued, and False returned (the company stays pending meanwhile).
        """
        reference_date = reference_date or fields.Date.context_today(self)
        # The figures are company-wide; record rules apply when they are read.
        profiles = self.sudo()
        for company in companies.sudo():
            if profiles._ror_compute_company(company, reference_date, chunk_size, jobs) is False:
                return False
        return True

    def _ror_set_local(self):
        # The planner cannot size the credit-note matching: it overestimates the lines by orders of
        # magnitude, which makes JIT compile for longer than the query runs (20 s at 1M lines) and the
        # hashes spill to disk with the default 4 MB. Both settings end with the transaction.
        self.env.cr.execute(SQL("SET LOCAL jit = off; SET LOCAL work_mem = %s", RECOMPUTE_WORK_MEM))
        # Floats as their shortest exact text (the switch reads numerics through it); 1 by default.
        self.env.cr.execute(SQL("SET LOCAL extra_float_digits = 3"))

    def _ror_commit(self):
        """Commit the work done (outside tests); False when the recompute lock went to another cron
        meanwhile: the caller stops, its run stays staged and resumes later."""
        if getattr(threading.current_thread(), "testing", False):
            return True
        self.env.cr.commit()  # pylint: disable=invalid-commit
        if not self.env.execute_query(LOCK_SQL)[0][0]:
            return False
        self._ror_set_local()
        return True

    def _ror_compute_company(self, company, reference_date, chunk_size, jobs=False):
        self.env.flush_all()  # the figures are read with SQL
        self._ror_set_local()
        started = time.perf_counter()
        run = self._ror_run(company)
        if run and self._ror_jobs_pending(company):
            return False  # its jobs switch the run, then trigger the cron again
        buyers = None
        if not run or run["reference_date"] != reference_date:  # none, or staged for another date
            run, buyers = self._ror_stage(company, reference_date, chunk_size)
            if not self._ror_commit():
                return False
        chunks = self._ror_undone_chunks(company)
        if jobs and chunks:
            self._ror_enqueue_chunks(company, chunks)
            return False
        if buyers is None:
            buyers = self._ror_buyers(company)
        population = self._ror_rfm_population(company, buyers, reference_date)
        del buyers
        staged = time.perf_counter()
        for low, high in chunks:
            self._ror_compute_chunk(company, run, population, low, high)
            if not self._ror_commit():
                return False
        chunked = time.perf_counter()
        count = self._ror_switch(company, run)
        _logger.info(
            "Customer value: %s profiles computed for %s (staging and fit %.1f s, chunks %.1f s, switch %.1f s)",
            count,
            company.name,
            staged - started,
            chunked - staged,
            time.perf_counter() - chunked,
        )
        return True

    # ------------------------------------------------------------------------------------------
    # Phase 1: the purchase figures of every customer staged, the models fitted
    # ------------------------------------------------------------------------------------------

    def _ror_run(self, company):
        """The company's staged run (dict of RUN_TABLE's columns), or None."""
        self.env.cr.execute(
            SQL(
                "SELECT reference_date, computed_at, fit FROM %s WHERE company_id = %s",
                RUN_TABLE,
                company.id,
            )
        )
        return self.env.cr.dictfetchone()

    def _ror_stage(self, company, reference_date, chunk_size):
        """Phase 1: stage the company's purchase figures and chunks, fit its models; return (run,
        buyers)."""
        cr = self.env.cr
        for table in (RUN_TABLE, CHUNK_TABLE, STAGE_TABLE, RESULT_TABLE, COST_TABLE):
            cr.execute(SQL("DELETE FROM %s WHERE company_id = %s", table, company.id))
        # CREATE TABLE AS, then INSERT: PostgreSQL runs the query of a CREATE TABLE AS with parallel
        # workers, never that of an INSERT ... SELECT (a fifth of the staging time at 1M lines).
        purchases = SQL.identifier("crm_ror_profile_purchases")
        # Sorted aggregates, not hashed, for this statement only: a hash aggregate keeps the numeric
        # sums of every customer in memory at once (1-2 kB each, 200 MB at 100k customers) and took
        # 3.3 s where sorting takes 2.6 s at 1M lines.
        hashagg = self.env.execute_query(SQL("SELECT current_setting('enable_hashagg')"))[0][0]
        cr.execute(SQL("SET LOCAL enable_hashagg = off"))
        cr.execute(
            SQL(
                "CREATE TEMP TABLE %s ON COMMIT DROP AS %s",
                purchases,
                self._ror_purchases_query(company, reference_date),
            )
        )
        cr.execute(SQL("SELECT set_config('enable_hashagg', %s, true)", hashagg))
        cr.execute(
            SQL(
                "INSERT INTO %s (company_id, %s) SELECT %s, * FROM %s",
                STAGE_TABLE,
                SQL(", ").join(map(SQL.identifier, STAGE_COLUMNS)),
                company.id,
                purchases,
            )
        )
        cr.execute(SQL("DROP TABLE %s", purchases))
        self._ror_stage_costs(company, reference_date)
        # The chunks join them: statistics of the tables as they are now, not as autovacuum last saw
        # them (often empty), or the planner loops over one for each row of the other. The sizes and
        # the keys the queries filter and join on are all it needs (a third of the time of all columns).
        cr.execute(
            SQL(
                "ANALYZE %s (company_id, partner_id, purchase_count), %s (company_id, partner_id)",
                STAGE_TABLE,
                COST_TABLE,
            )
        )
        buyers = self._ror_buyers(company)
        x, tx, T = self._ror_fit_inputs(buyers, _day_number(reference_date))
        fit = self._ror_clv_fit(company, x, tx, T, buyers["repeat_mean"], buyers["revenue"], buyers["margin"])
        run = {
            "reference_date": reference_date,
            "computed_at": fields.Datetime.now(),
            "fit": fit,
        }
        cr.execute(
            SQL(
                "INSERT INTO %s (company_id, reference_date, computed_at, fit) VALUES (%s, %s, %s, %s)",
                RUN_TABLE,
                company.id,
                reference_date,
                run["computed_at"],
                json.dumps(fit),
            )
        )
        chunks = self._ror_chunks(company, chunk_size)
        cr.execute(
            SQL(
                "INSERT INTO %s (company_id, low, high) SELECT %s, unnest(%s::int4[]), unnest(%s::int4[])",
                CHUNK_TABLE,
                company.id,
                [low for low, _high in chunks],
                [high for _low, high in chunks],
            )
        )
        return run, buyers

    def _ror_stage_costs(self, company, reference_date):
        """Stage the costs to serve of every staged customer (of the three periods): one query per
        family for the whole company, not one per chunk; only the customers with a cost get a row."""
        partner_ids = [
            partner_id
            for (partner_id,) in self.env.execute_query(
                SQL("SELECT partner_id FROM %s WHERE company_id = %s", STAGE_TABLE, company.id)
            )
        ]
        start_12m, start_prev = self._ror_windows(reference_date)
        periods = self.env["crm.ror.cost.to.serve"]._costs_by_period(
            company,
            partner_ids,
            [
                (None, reference_date),
                (start_12m, reference_date),
                (start_prev, start_12m - timedelta(days=1)),
            ],
        )
        amounts = dict(
            zip(COST_COLUMNS, (period[family] for period in periods for family in COST_FAMILIES), strict=True)
        )
        with_cost = sorted(set().union(*amounts.values()))
        self._ror_copy_in(
            COST_TABLE,
            COST_COLUMNS,
            {
                "company_id": np.full(len(with_cost), company.id),
                "partner_id": np.array(with_cost),
                **{
                    name: np.array([column.get(p, 0.0) for p in with_cost], dtype=float)
                    for name, column in amounts.items()
                },
            },
        )

    def _ror_copy_in(self, table, names, values):
        """Append rows to a staging table (company_id, partner_id, then ``names``, float8) with one
        binary COPY of aligned arrays (``values``: {column: array})."""
        columns = [("company_id", "int4"), ("partner_id", "int4"), *((name, "float8") for name in names)]
        self.env.cr.copy_expert(
            SQL(
                "COPY %s (%s) FROM STDIN (FORMAT binary)",
                table,
                SQL(", ").join(SQL.identifier(name) for name, _kind in columns),
            ).code,
            io.BytesIO(pgcopy.encode(columns, values)),
        )

    def _ror_copy_out(self, query, names):
        """{name: float64 array} of ``query``, whose columns are ``names``, all float8 and never NULL:
        one binary COPY that numpy reads whole (``engine.pgcopy``), not a Python tuple per row."""
        data = io.BytesIO()
        self.env.cr.copy_expert(
            self.env.cr.mogrify(SQL("COPY (%s) TO STDOUT (FORMAT binary)", query)).decode(), data
        )
        return pgcopy.decode(data.getvalue(), names)

    @api.model
    def _ror_stage_read(self, name):
        """SQL of a staged purchase figure (of the staging table aliased ``s``) as float8, never
        NULL: dates as day numbers (``EPOCH``), the gaps NaN when undefined, the others 0 when missing."""
        column = SQL("s.%s", SQL.identifier(name))
        if STAGE_COLUMNS[name] == "date":
            return SQL("coalesce((%s - %s)::float8, 'NaN')", column, EPOCH)
        return SQL("coalesce(%s::float8, %s)", column, "NaN" if name in UNDEFINED_GAPS else 0)

    def _ror_buyers(self, company):
        """{figure: array} of the staged customers with purchases: what the fit and the RFM ranks
        need, revenue and margin rounded as the profiles show them; dates as day numbers."""
        money = rounding_engine.money_rounder(company.currency_id.rounding)
        names = ["purchase_count", "first_date", "last_date", "day_count", "repeat_mean", "revenue", "cost"]
        buyers = self._ror_copy_out(
            SQL(
                # in the customers' order: the fit sums them, and the same history fits the same
                # model to the last bit whatever order the staging query wrote them in
                "SELECT %s FROM %s s WHERE company_id = %s AND purchase_count > 0 ORDER BY partner_id",
                SQL(", ").join(self._ror_stage_read(name) for name in names),
                STAGE_TABLE,
                company.id,
            ),
            names,
        )
        buyers["margin"] = money(buyers["revenue"] - buyers["cost"])
        buyers["revenue"] = money(buyers["revenue"])
        return buyers

    @api.model
    def _ror_fit_inputs(self, buyers, reference_day):
        """(repeat purchases, weeks to the last purchase, age in weeks) of buyers (as ``_ror_buyers``)."""
        return (
            np.maximum(buyers["day_count"] - 1, 0),
            (buyers["last_date"] - buyers["first_date"]) / DAYS_PER_WEEK,
            (reference_day - buyers["first_date"]) / DAYS_PER_WEEK,
        )

    def _ror_rfm_population(self, company, buyers, reference_date):
        """(recency days, purchase counts, revenues) of the active customers: the RFM scores of every
        chunk rank against them."""
        days = _day_number(reference_date) - buyers["last_date"]
        active = days <= company.ror_lost_days
        return days[active], buyers["purchase_count"][active], buyers["revenue"][active]

    # ------------------------------------------------------------------------------------------
    # Phase 2: chunks of customers
    # ------------------------------------------------------------------------------------------

    def _ror_chunks(self, company, chunk_size):
        """[(low, high)]: the ranges of partner ids (low excluded) of ``chunk_size`` staged customers."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT max(partner_id) FROM (
                    SELECT partner_id, (row_number() OVER (ORDER BY partner_id) - 1) / %(size)s AS chunk
                      FROM %(stage)s WHERE company_id = %(company)s
                ) numbered
              GROUP BY chunk ORDER BY 1
                """,
                stage=STAGE_TABLE,
                company=company.id,
                size=chunk_size,
            )
        )
        return list(itertools.pairwise([0, *(high for (high,) in rows)]))

    def _ror_undone_chunks(self, company):
        """[(low, high)] of the chunks of the company's run not done yet."""
        return self.env.execute_query(
            SQL(
                "SELECT low, high FROM %s WHERE company_id = %s AND NOT done ORDER BY low",
                CHUNK_TABLE,
                company.id,
            )
        )

    def _ror_compute_chunk(self, company, run, population, low, high):
        """The figures of the customers of ids in ]low, high] into the result table; the chunk is
        marked done. Read, computed and written as arrays: one binary COPY each way."""
        names = [*STAGE_COLUMNS, *COST_COLUMNS]
        inputs = self._ror_copy_out(
            SQL(
                """
                SELECT %(columns)s
                  FROM %(stage)s s LEFT JOIN %(costs)s c ON c.company_id = s.company_id AND c.partner_id = s.partner_id
                 WHERE s.company_id = %(company)s AND s.partner_id > %(low)s AND s.partner_id <= %(high)s
                """,
                columns=SQL(", ").join(
                    [
                        *(self._ror_stage_read(name) for name in STAGE_COLUMNS),
                        *(SQL("coalesce(c.%s, 0)", SQL.identifier(name)) for name in COST_COLUMNS),
                    ]
                ),
                stage=STAGE_TABLE,
                costs=COST_TABLE,
                company=company.id,
                low=low,
                high=high,
            ),
            names,
        )
        figures = self._ror_chunk_figures(company, run["reference_date"], inputs, population, run["fit"])
        figures["company_id"] = np.full(len(inputs["partner_id"]), company.id)
        figures["partner_id"] = inputs["partner_id"]
        self._ror_copy_in(RESULT_TABLE, VALUE_COLUMNS, figures)
        self.env.cr.execute(
            SQL("UPDATE %s SET done = TRUE WHERE company_id = %s AND low = %s", CHUNK_TABLE, company.id, low)
        )

    def _ror_codes(self, name):
        """{key: code} of a selection field of the profile: the codes of the result table."""
        return {key: code for code, (key, _label) in enumerate(self._fields[name].selection, start=1)}

    def _ror_chunk_figures(self, company, reference_date, inputs, population, fit):
        """{profile figure: array} of a chunk's customers (``inputs``: {staged column: array}), in the
        codes of the result table: NaN for NULL, dates as day numbers, selections as ``_ror_codes``.
        RFM ranked against ``population``, lifetime values predicted with ``fit``."""
        rounding = company.currency_id.rounding
        money = rounding_engine.money_rounder(rounding)
        today = _day_number(reference_date)
        revenue, cost, count = inputs["revenue"], inputs["cost"], inputs["purchase_count"]
        margin = revenue - cost
        discount = inputs["discount"]
        cost_to_serve = inputs["campaign_all"] + inputs["activity_all"] + discount + inputs["other_all"]
        cost_12m = (
            inputs["campaign_12m"] + inputs["activity_12m"] + inputs["other_12m"] + inputs["discount_12m"]
        )
        cost_prev = (
            inputs["campaign_prev"] + inputs["activity_prev"] + inputs["other_prev"] + inputs["discount_prev"]
        )
        # Without a cost to serve the ROR is undefined (NULL).
        ror = ror_engine.returns_on_relationship(margin, cost_to_serve, precision=rounding / 2)
        ror_12m = ror_engine.returns_on_relationship(inputs["margin_12m"], cost_12m, precision=rounding / 2)
        ror_prev = ror_engine.returns_on_relationship(
            inputs["margin_prev"], cost_prev, precision=rounding / 2
        )
        trend_codes = self._ror_codes("ror_trend")
        with np.errstate(divide="ignore", invalid="ignore"):
            figures = {
                "first_purchase_date": inputs["first_date"],
                "last_purchase_date": inputs["last_date"],
                # fmin: the earlier of the two that exist
                "customer_since": np.fmin(inputs["first_date"], inputs["first_order"]),
                "days_since_last_purchase": today - inputs["last_date"],
                "purchase_count": count,
                "revenue": money(revenue),
                "cost": money(cost),
                "gross_margin": money(margin),
                # Undefined figures stay NULL (one-time buyers have no gap, no revenue no margin rate),
                # so averages in the reports skip them instead of counting zeros.
                "margin_rate": np.where(revenue > 0, 100.0 * margin / revenue, np.nan),
                "average_order_value": np.where(count > 0, money(revenue / count), np.nan),
                "avg_days_between": inputs["avg_gap"],
                "median_days_between": inputs["median_gap"],
                "revenue_12m": money(inputs["revenue_12m"]),
                "gross_margin_12m": money(inputs["margin_12m"]),
                "cost_campaign": money(inputs["campaign_all"]),
                "cost_activity": money(inputs["activity_all"]),
                "cost_discount": money(discount),
                "cost_other": money(inputs["other_all"]),
                "cost_to_serve": money(cost_to_serve),
                "cost_to_serve_12m": money(cost_12m),
                "ror": ror,
                "has_ror": ~np.isnan(ror),
                "ror_12m": ror_12m,
                "has_ror_12m": ~np.isnan(ror_12m),
                "ror_prev_12m": ror_prev,
                "ror_trend": np.array([trend_codes[name] for name in ror_engine.TRENDS])[
                    ror_engine.trends(ror_12m, ror_prev)
                ],
            }
        figures.update(self._ror_rfm_figures(company, figures, population))
        buyers = {
            "day_count": inputs["day_count"],
            "first_date": inputs["first_date"],
            "last_date": inputs["last_date"],
            "repeat_mean": inputs["repeat_mean"],
            "revenue": figures["revenue"],
            "margin": figures["gross_margin"],
        }
        figures.update(self._ror_clv_figures(company, today, count > 0, buyers, fit))
        return figures

    def _ror_rfm_figures(self, company, figures, population):
        """Scores over the active customers; Lost and credit-note-only customers get none.

        ``population``: (recency days, purchase counts, revenues) of all the active customers of the
        company the scores rank against (the chunk holds a part of them)."""
        segments = self.env["crm.ror.segment"]._segments_for_company(company)
        lost_segment = segments.filtered("is_lost")[:1]
        grid = [
            {"id": s.id, "r_min": s.r_min, "r_max": s.r_max, "f_min": s.f_min, "f_max": s.f_max}
            for s in segments
            if not s.is_lost
        ]
        count, days = figures["purchase_count"], figures["days_since_last_purchase"]
        with np.errstate(invalid="ignore"):
            lost = (count > 0) & (days > company.ror_lost_days)
        active = (count > 0) & ~lost
        states = self._ror_codes("customer_state")
        result = {
            "customer_state": np.select(
                [active, lost], [states["active"], states["lost"]], states["refund_only"]
            ).astype(float),
            "segment_id": np.where(lost, lost_segment.id or np.nan, np.nan),
            **{
                name: np.full(len(count), np.nan)
                for name in ("recency_score", "frequency_score", "monetary_score")
            },
        }
        if active.any():
            r, f, m = rfm.rfm_scores(
                days[active],
                count[active],
                figures["revenue"][active],
                frequency_method=company.ror_rfm_frequency_method,
                population=population,
            )
            result["recency_score"][active] = r
            result["frequency_score"][active] = f
            result["monetary_score"][active] = m
            result["segment_id"][active] = rfm.map_segments(r, f, grid, missing=np.nan).astype(float)
        # the code's three digits, as a number (the result table holds numbers)
        result["rfm_code"] = (
            100 * result["recency_score"] + 10 * result["frequency_score"] + result["monetary_score"]
        )
        return result

    # Thresholds of the fit; tests may lower them to fit on a handful of customers.
    _ror_clv_min_customers = clv.MIN_CUSTOMERS
    _ror_clv_min_repeat = clv.MIN_REPEAT_CUSTOMERS

    def _ror_clv_fit(self, company, x, tx, T, spend, revenue, margin):
        """Fit the company's purchase model (MBG/NBD or BG/NBD) and Gamma-Gamma on its buyers (aligned
        arrays: repeat purchases, weeks to the last purchase, age in weeks, mean repeat spend, revenue,
        gross margin). Returns a JSON-able dict: ``info`` (the company's model note), ``error`` (the
        reason there is no model, or None), the parameters and the company's margin rate."""
        if not len(x):
            return {"info": self.env._("Not enough history: no purchase."), "error": None}
        # Python's sum, term by term in the buyers' order (numpy's adds by blocks, to another last bit)
        total_revenue, total_margin = sum(np.asarray(revenue).tolist()), sum(np.asarray(margin).tolist())
        company_rate = min(max(total_margin / total_revenue, 0.0), 1.0) if total_revenue > 0 else 0.0
        try:
            params, spend_params = clv.fit(
                x,
                tx,
                T,
                spend,
                model=company.ror_clv_model,
                min_customers=self._ror_clv_min_customers,
                min_repeat=self._ror_clv_min_repeat,
            )
        except clv.NotEnoughHistory as error:
            message = self.env._("Not enough history: %(reason)s.", reason=str(error))
            return {"info": message, "error": message}
        info = self.env._(
            "%(model)s (weeks): r=%(r).3f, alpha=%(alpha).3f, a=%(a).3f, b=%(b).3f; "
            "Gamma-Gamma: p=%(p).3f, q=%(q).3f, gamma=%(gamma).2f; %(count)s customers.",
            model="MBG/NBD" if company.ror_clv_model == clv.MBGNBD else "BG/NBD",
            r=params.r,
            alpha=params.alpha,
            a=params.a,
            b=params.b,
            p=spend_params.p,
            q=spend_params.q,
            gamma=spend_params.gamma,
            count=len(x),
        )
        return {
            "info": info,
            "error": None,
            "model": company.ror_clv_model,
            "purchase": [params.r, params.alpha, params.a, params.b],
            "spend": [spend_params.p, spend_params.q, spend_params.gamma],
            "company_rate": company_rate,
        }

    def _ror_clv_messages(self, fit):
        """The CLV notes of a run, in the order of the codes of ``_ror_clv_figures``."""
        return [
            self.env._("No purchase yet."),
            fit["error"] or "",
            # Numerical limits of the closed forms for a history: say so rather than store garbage.
            self.env._("Not enough history: the model gives no finite value."),
        ]

    def _ror_clv_figures(self, company, today, bought, buyers, fit):
        """{CLV figure: array} (codes as ``_ror_chunk_figures``) of customers of which ``bought`` (a
        mask) have purchases, predicted from the company's fit (``_ror_clv_fit``; ``buyers`` as
        ``_ror_buyers`` gives them); without a model the figures stay undefined (NULL)."""
        size = len(bought)
        statuses = self._ror_codes("clv_status")
        result = {
            "clv_status": np.full(size, statuses["not_enough_history"], dtype=float),
            "clv_message": np.full(size, CLV_NO_PURCHASE, dtype=float),
            **{name: np.full(size, np.nan) for name in CLV_FIGURES},
        }
        if not bought.any():
            return result
        if fit["error"]:
            result["clv_message"][bought] = CLV_FIT_ERROR
            return result
        buyers = {name: values[bought] for name, values in buyers.items()}
        x, tx, T = self._ror_fit_inputs(buyers, today)
        revenue, margin = buyers["revenue"], buyers["margin"]
        with np.errstate(divide="ignore", invalid="ignore"):
            margin_rate = np.where(revenue > 0, np.clip(margin / revenue, 0.0, 1.0), fit["company_rate"])
        prediction = clv.predict(
            x,
            tx,
            T,
            buyers["repeat_mean"],
            margin_rate,
            company.ror_clv_horizon_months,
            company.ror_clv_discount_rate / 100.0,
            model=fit["model"],
            params=(clv.BGNBDParams(*fit["purchase"]), clv.GammaGammaParams(*fit["spend"])),
        )
        money = rounding_engine.money_rounder(company.currency_id.rounding)
        alive = prediction.probability_alive
        churn = self._ror_codes("churn_risk")
        finite = prediction.finite
        ok = np.flatnonzero(bought)[finite]  # the customers (indexes of the chunk) with a prediction
        result["clv_status"][ok] = statuses["ok"]
        result["clv_message"][bought] = np.where(finite, np.nan, CLV_NO_FINITE)
        result["clv_predicted"][ok] = money(prediction.clv[finite])
        result["clv_expected_purchases"][ok] = prediction.expected_purchases[finite]
        result["clv_probability_alive"][ok] = 100.0 * alive[finite]
        result["clv_expected_spend"][ok] = money(prediction.expected_spend[finite])
        # NaN: no purchase expected within ten years.
        result["clv_next_purchase_date"][ok] = today + np.rint(
            prediction.next_purchase_weeks[finite] * DAYS_PER_WEEK
        )
        result["churn_risk"][ok] = np.select(
            [
                alive[finite] < company.ror_churn_high_below / 100.0,
                alive[finite] < company.ror_churn_medium_below / 100.0,
            ],
            [churn["high"], churn["medium"]],
            churn["low"],
        )
        return result

    # ------------------------------------------------------------------------------------------
    # Phase 2 and the switch as OCA queue_job jobs (``_ror_queue_jobs``)
    # ------------------------------------------------------------------------------------------

    def _ror_jobs_pending(self, company):
        """True when jobs of the company's run are still to run or running."""
        if "queue.job" not in self.env:
            return False
        # sudo: the cron's user need not read the job queue.
        return bool(
            self.env["queue.job"]
            .sudo()
            .search_count(
                [
                    ("model_name", "=", self._name),
                    ("method_name", "in", ("_ror_job_chunk", "_ror_job_switch")),
                    ("company_id", "=", company.id),
                    ("state", "in", LIVE_JOB_STATES),
                ],
                limit=1,
            )
        )

    def _ror_enqueue_chunks(self, company, chunks):
        """A job per chunk; the jobs carry the company, so that ``_ror_jobs_pending`` finds them."""
        for low, high in chunks:
            self.with_company(company).with_delay(
                description=self.env._(
                    "Customer value profiles of %(company)s: customers of ids %(low)s to %(high)s",
                    company=company.name,
                    low=low + 1,
                    high=high,
                )
            )._ror_job_chunk(company.id, low, high)

    def _ror_job_start(self, company_id):
        """The company of a job, once the job holds the recompute lock (shared with the other jobs);
        a job that finds a cron holding it runs again later."""
        from odoo.addons.queue_job.exception import RetryableJobError  # queue_job runs this job: installed

        if not self.env.execute_query(JOB_LOCK_SQL)[0][0]:
            raise RetryableJobError(
                self.env._("Another recompute of the customer value runs."),
                seconds=JOB_LOCK_RETRY_SECONDS,
                ignore_retry=True,
            )
        self.env.flush_all()  # the figures are read with SQL
        self._ror_set_local()
        # sudo: the figures are company-wide; record rules apply when they are read.
        return self.env["res.company"].sudo().browse(company_id)

    def _ror_job_chunk(self, company_id, low, high):
        """Queue job: the chunk ]low, high] of the company's run, unless it is done or another job
        does it; then the switch, when no chunk is left.

        Odoo's transactions are REPEATABLE READ: a chunk that another job did after this one started
        still looks undone here, so this job can only tell it ends the run when it sees every other
        chunk done. Otherwise it leaves the question to a job of its own (``_ror_job_switch``), which
        starts after this one is committed.
        """
        company = self._ror_job_start(company_id)
        # sudo: the figures are company-wide; record rules apply when they are read.
        profiles = self.sudo()
        cr = self.env.cr
        cr.execute(
            SQL(
                "SELECT 1 FROM %s WHERE company_id = %s AND low = %s AND high = %s AND NOT done "
                "FOR UPDATE SKIP LOCKED",
                CHUNK_TABLE,
                company.id,
                low,
                high,
            )
        )
        if not cr.fetchone():
            return
        run = profiles._ror_run(company)
        population = profiles._ror_rfm_population(
            company, profiles._ror_buyers(company), run["reference_date"]
        )
        profiles._ror_compute_chunk(company, run, population, low, high)
        if not profiles._ror_undone_chunks(company):
            profiles._ror_job_finish(company)
        else:
            profiles.with_company(company).with_delay(
                description=self.env._("Customer value profiles of %(company)s: switch", company=company.name)
            )._ror_job_switch(company.id)

    def _ror_job_switch(self, company_id):
        """Queue job: the switch of the company's run, when its chunks are all done."""
        company = self._ror_job_start(company_id)
        # sudo: the figures are company-wide; record rules apply when they are read.
        profiles = self.sudo()
        if not profiles._ror_undone_chunks(company):
            profiles._ror_job_finish(company)

    def _ror_job_finish(self, company):
        """The switch of the company's run by a job, once: the run's row is locked first, and a job
        that finds the run gone (switched by another) does nothing. The cron is then triggered for
        the next company, or the suggestions."""
        cr = self.env.cr
        cr.execute(SQL("SELECT 1 FROM %s WHERE company_id = %s FOR UPDATE", RUN_TABLE, company.id))
        if not cr.fetchone():
            return
        count = self._ror_switch(company, self._ror_run(company))
        _logger.info("Customer value: %s profiles computed for %s by queue jobs", count, company.name)
        # sudo: triggering a scheduled action needs Settings rights, which the jobs' user may lack.
        self.env.ref("crm_ror.ir_cron_crm_ror_compute_profiles").sudo()._trigger()

    # ------------------------------------------------------------------------------------------
    # Phase 3: the switch
    # ------------------------------------------------------------------------------------------

    def _ror_result_values(self, run):
        """{profile column: SQL of its value in the result table ``t``}: the codes of phase 2 (float8,
        NaN for NULL, see ``_ror_chunk_figures``) in the column's own type."""
        values = {}
        for name in VALUE_COLUMNS:
            field = self._fields[name]
            value = SQL("nullif(t.%s, 'NaN')", SQL.identifier(name))
            if field.type == "date":
                value = SQL("%s + %s::int4", EPOCH, value)
            elif field.type in ("integer", "many2one"):
                value = SQL("%s::int4", value)
            elif field.type == "boolean":
                value = SQL("%s <> 0", value)
            elif field.type == "selection":
                value = SQL("(%s::varchar[])[%s::int4]", list(self._ror_codes(name)), value)
            elif name == "clv_message":
                value = SQL("(%s::varchar[])[%s::int4]", self._ror_clv_messages(run["fit"]), value)
            elif name == "rfm_code":
                value = SQL("%s::int4::text", value)
            elif field.column_type[1] == "numeric":
                # through the shortest text that reads back as the float (extra_float_digits > 0), as
                # psycopg2 writes a float: a direct cast keeps 15 digits only
                value = SQL("%s::text::numeric", value)
            values[name] = value
        return values

    def _ror_switch(self, company, run):
        """Apply the run's result to the company's profiles set-wise, in the transaction that closes
        the month before (its snapshot) and stamps the company; return the number of profiles. The
        run's date, the historic CLV (the gross margin) and the salesperson are written by the SQL."""
        self.flush_model()
        cr = self.env.cr
        # The statistics of the result as it is now: autovacuum may last have seen it emptied by the
        # previous switch, and a plan for an empty table loops over it for each profile.
        cr.execute(SQL("ANALYZE %s (company_id, partner_id)", RESULT_TABLE))
        stamp = {
            "company": company.id,
            "now": run["computed_at"],
            "reference_date": run["reference_date"],
            "result": RESULT_TABLE,
        }
        values = self._ror_result_values(run)
        stamp["historic"] = values["gross_margin"]
        # before the profiles change: the first run of a month keeps the last state of the one before
        self.env["crm.ror.segment.snapshot"]._ror_close_month(company, run["reference_date"].replace(day=1))
        cr.execute(
            SQL(
                """
                UPDATE crm_ror_customer_profile p
                   SET %(assign)s, computed_at = %(now)s, reference_date = %(reference_date)s,
                       clv_historic = %(historic)s, user_id = rp.user_id
                  FROM %(result)s t JOIN res_partner rp ON rp.id = t.partner_id
                 WHERE t.company_id = %(company)s AND p.company_id = %(company)s
                   AND p.partner_id = t.partner_id
                """,
                assign=SQL(", ").join(
                    SQL("%s = %s", SQL.identifier(n), value) for n, value in values.items()
                ),
                **stamp,
            )
        )
        updated = cr.rowcount
        cr.execute(SQL("SELECT count(*) FROM %(result)s WHERE company_id = %(company)s", **stamp))
        # A daily run updates every profile: the insert would evaluate and discard each row.
        inserted = 0
        if cr.fetchone()[0] > updated:
            cr.execute(
                SQL(
                    """
                    INSERT INTO crm_ror_customer_profile
                           (partner_id, company_id, user_id, %(columns)s, computed_at, reference_date, clv_historic)
                    SELECT t.partner_id, %(company)s, rp.user_id, %(values)s, %(now)s, %(reference_date)s,
                           %(historic)s
                      FROM %(result)s t JOIN res_partner rp ON rp.id = t.partner_id
                     WHERE t.company_id = %(company)s
                    -- the profiles updated above: the unique index answers per row, whatever the planner
                    -- believes of the table (an anti-join planned for an empty one scanned it per row)
                    ON CONFLICT (partner_id, company_id) DO NOTHING
                    """,
                    columns=SQL(", ").join(map(SQL.identifier, VALUE_COLUMNS)),
                    values=SQL(", ").join(values.values()),
                    **stamp,
                )
            )
            inserted = cr.rowcount
        cr.execute(
            SQL(
                """
                DELETE FROM crm_ror_customer_profile p
                 WHERE p.company_id = %(company)s
                   AND NOT EXISTS (SELECT 1 FROM %(result)s t
                                    WHERE t.company_id = %(company)s AND t.partner_id = p.partner_id)
                """,
                **stamp,
            )
        )
        for table in (RUN_TABLE, CHUNK_TABLE, STAGE_TABLE, RESULT_TABLE, COST_TABLE):
            cr.execute(SQL("DELETE FROM %s WHERE company_id = %s", table, company.id))
        # The ORM's cache (profiles, the partners' profile figures) no longer holds.
        self.env.invalidate_all()
        company.ror_clv_model_info = run["fit"]["info"]
        company.ror_computed_at = run["computed_at"]
        return updated + inserted


def _day_number(day):
    """Days since PostgreSQL's epoch of dates (``EPOCH``): the day numbers of the recompute's arrays."""
    return (day - EPOCH).days
