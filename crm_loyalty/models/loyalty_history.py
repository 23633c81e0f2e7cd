import contextlib
import contextvars
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.modules import module as odoo_module
from odoo.tools import SQL
from odoo.tools.sql import create_index

from ..engine import ledger

# Server-side scopes of the ledger. A context key can be sent by any RPC client, so nothing is
# authorised by the context: these scopes live in a ContextVar (one per thread, i.e. per request)
# that only server code entering ``ledger_scope()`` sets, for the duration of that call.
# - POSTING: set by loyalty.card._ledger_post_line only; the one way ledger lines, lot
#   consumptions and ledger card balances are written.
# - STOCK_SKIP: set around sale_loyalty's own flows (confirm, cancel, reward lines, coupon
#   generation, partner merge); their direct point writes and history create/delete on ledger
#   cards are left out because the ledger posts (or reverses) the same movements itself after.
# - TIER: set by the tier evaluation and the manual tier change; the one way a card's tier moves.
POSTING = "posting"
STOCK_SKIP = "stock_skip"
TIER = "tier"
# the program's own issuance (coupon generation wizard): new cards open with their points
ISSUE = "issue"
_LEDGER_SCOPES = contextvars.ContextVar("crm_loyalty_ledger_scopes", default=frozenset())


@contextlib.contextmanager
def ledger_scope(*scopes):
    """Run the enclosed server code inside the given ledger scopes (POSTING, STOCK_SKIP, TIER)."""
    token = _LEDGER_SCOPES.set(_LEDGER_SCOPES.get() | frozenset(scopes))
    try:
        yield
    finally:
        _LEDGER_SCOPES.reset(token)


def in_ledger_scope(scope):
    return scope in _LEDGER_SCOPES.get()


# cards per batch of the expiry crons: one commit per batch, so a failure loses one batch, and
# the lots or marks already posted make a new run resume where it stopped
CRON_BATCH = 500
# at most one 'expiring soon' email per card within this many days
EXPIRY_NOTICE_INTERVAL = 7

# fields of loyalty.history only the ledger writes
LEDGER_FIELDS = {
    "move_type",
    "balance_after",
    "expiry_date",
    "earn_multiplier",
    "base_points",
    "idempotency_key",
    "source_key",
    "reversed_line_id",
    "reason",
    "expired_points",
    "shortfall_points",
    "sale_order_id",
    "invoice_id",
    "source_type",
}
MOVE_TYPES = [
    ("earn", "Earn"),
    ("redeem", "Redeem"),
    ("expire", "Expire"),
    ("adjust", "Adjust"),
    ("reverse", "Reverse"),
]
SOURCE_TYPES = [
    ("sale_order", "Sales Order"),
    ("invoice", "Invoice"),
    ("credit_note", "Credit Note"),
    ("manual", "Manual"),
    ("expiry", "Expiry"),
]


def moves_sql():
    """Every loyalty history line as issued / redeemed / expired / adjusted points, by date.

    Ledger lines count by type, a reversing line in the type of the line its chain of reversals
    started from (so an invoice cancelled after earning nets to zero issued points, and the
    reversal of a credit note's take-back counts as issued again); lines from before the ledger
    (no type) count their stock issued and used points.
    """
    return SQL(
        """
        WITH RECURSIVE chain AS (
            SELECT id, move_type AS root_type FROM loyalty_history
             WHERE move_type IS NOT NULL AND move_type != 'reverse'
             UNION ALL
            SELECT line.id, chain.root_type
              FROM loyalty_history line JOIN chain ON line.reversed_line_id = chain.id
             WHERE line.move_type = 'reverse'
        )
        SELECT line.id, line.card_id, COALESCE(line.date, line.create_date)::date AS date,
               CASE WHEN line.move_type IS NULL THEN line.issued
                    WHEN chain.root_type = 'earn' THEN line.points
                    ELSE 0 END AS issued,
               CASE WHEN line.move_type IS NULL THEN line.used
                    WHEN chain.root_type = 'redeem' THEN -line.points
                    ELSE 0 END AS redeemed,
               CASE WHEN chain.root_type = 'expire' THEN -line.points ELSE 0 END AS expired,
               CASE WHEN chain.root_type = 'adjust' THEN line.points ELSE 0 END AS adjusted
          FROM loyalty_history line
     LEFT JOIN chain ON chain.id = line.id
        """
    )


class LoyaltyHistory(models.Model):
    _inherit = "loyalty.history"

    card_id = fields.Many2one(index=True)
    move_type = fields.Selection(
        MOVE_TYPES,
        readonly=True,
        index=True,
        help="Empty on history lines posted before the ledger was enabled.",
    )
    # precomputed: written by the INSERT of a posting, not by a second UPDATE at the flush
    points = fields.Float(
        compute="_compute_points",
        store=True,
        precompute=True,
        help="Signed points of the movement: issued minus used.",
    )
    balance_after = fields.Float(readonly=True, help="Card balance right after this line was posted.")
    date = fields.Datetime(default=fields.Datetime.now, readonly=True, index=True)
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user, readonly=True)
    partner_id = fields.Many2one(
        related="card_id.partner_id", store=True, precompute=True, index=True, string="Customer"
    )
    program_id = fields.Many2one(related="card_id.program_id", store=True, precompute=True, index=True)
    # The source of a posted line is kept for good: users cannot delete it (the ondelete hooks of
    # sale.order and account.move), and stock's order_model/order_id keep naming it even when a
    # module uninstall removes its own documents, which a database-level restrict would block.
    sale_order_id = fields.Many2one("sale.order", readonly=True, index="btree_not_null", ondelete="set null")
    invoice_id = fields.Many2one(
        "account.move",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="Invoice or credit note of the movement.",
    )
    source_type = fields.Selection(SOURCE_TYPES, readonly=True)
    expiry_date = fields.Date(
        readonly=True, index="btree_not_null", help="Last day the earned points are usable."
    )
    remaining_points = fields.Float(
        compute="_compute_remaining_points",
        store=True,
        precompute=True,
        help="Points of this earned lot not yet redeemed, expired or reversed.",
    )
    expired_points = fields.Float(
        readonly=True,
        help="Reversals: points of the reversed lot that had already expired (taken once by the "
        "expiry), so not taken again. Signed like the points.",
    )
    shortfall_points = fields.Float(
        readonly=True,
        help="Reversals on a program recording shortfalls: points due but not taken back because "
        "the balance was short. Signed like the points.",
    )
    earn_multiplier = fields.Float(readonly=True, help="Multiplier applied to the base points (tiers).")
    base_points = fields.Float(readonly=True, help="Points before the earn multiplier.")
    idempotency_key = fields.Char(
        readonly=True, help="Posting key, unique per card: a source is never credited twice."
    )
    source_key = fields.Char(
        readonly=True, index="btree_not_null", help="Source line the posting belongs to."
    )
    reversed_line_id = fields.Many2one(
        "loyalty.history", readonly=True, index="btree_not_null", ondelete="restrict"
    )
    reversal_line_ids = fields.One2many("loyalty.history", "reversed_line_id", readonly=True)
    reason = fields.Text(readonly=True)
    consumption_ids = fields.One2many(
        "crm.loyalty.lot.consumption", "line_id", readonly=True, string="Lots Consumed"
    )
    lot_consumption_ids = fields.One2many(
        "crm.loyalty.lot.consumption", "lot_id", readonly=True, string="Consumed By"
    )

    _sql_constraints = [
        (
            "crm_loyalty_idempotency_key_unique",
            "UNIQUE(card_id, idempotency_key)",
            "This movement is already posted on the card (same idempotency key).",
        ),
    ]

    def init(self):
        res = super().init()
        # open lots of a card, by expiry: FIFO redemption and the nightly expiry cron
        create_index(
            self.env.cr,
            "loyalty_history_crm_open_lots_idx",
            self._table,
            ["card_id", "expiry_date"],
            where="remaining_points > 0",
        )
        # history written before this addon was installed: its date is when it was written
        self.env.cr.execute(
            SQL(
                "UPDATE loyalty_history SET date = create_date"
                " WHERE move_type IS NULL AND create_date IS NOT NULL AND date > create_date + interval '1 minute'"
            )
        )
        return res

    @api.depends("issued", "used")
    def _compute_points(self):
        for line in self:
            line.points = line.issued - line.used

    @api.depends("points", "move_type", "lot_consumption_ids.points", "consumption_ids.points")
    def _compute_remaining_points(self):
        # A lot is any line crediting points. A reversal giving points back first refills the
        # lots its reversed line consumed (releases: its negative consumptions); the rest, if any,
        # is a lot of its own.
        lots = self.filtered(lambda line: line.move_type in ("earn", "adjust", "reverse") and line.points > 0)
        (self - lots).remaining_points = 0.0
        for lot in lots:
            released = -sum(c.points for c in lot.consumption_ids if c.points < 0)
            lot.remaining_points = lot.points - released - sum(lot.lot_consumption_ids.mapped("points"))

    def _ledger_card_ids(self, card_ids):
        # sudo: which cards keep a ledger is a property of their program, whatever the user reads
        cards = self.env["loyalty.card"].sudo().browse(filter(None, card_ids)).exists()
        return set(cards.filtered("program_id.ledger_enabled").ids)

    @api.model_create_multi
    def create(self, vals_list):
        if not in_ledger_scope(POSTING):
            ledger_card_ids = self._ledger_card_ids({vals.get("card_id") for vals in vals_list})
            if in_ledger_scope(STOCK_SKIP):
                vals_list = [vals for vals in vals_list if vals.get("card_id") not in ledger_card_ids]
            elif any(
                vals.get("card_id") in ledger_card_ids or LEDGER_FIELDS.intersection(vals)
                for vals in vals_list
            ):
                raise UserError(
                    self.env._(
                        "Points of a ledger card move only through ledger postings: use the card's "
                        "'Adjust Points' action to correct a balance."
                    )
                )
        return super().create(vals_list)

    def write(self, vals):
        if not in_ledger_scope(POSTING) and (
            self.filtered("move_type")
            or LEDGER_FIELDS.intersection(vals)
            or self._ledger_card_ids(set(self.card_id.ids) | {vals.get("card_id")})
        ):
            raise UserError(
                self.env._(
                    "Posted ledger lines and the history of ledger cards cannot be changed; post a "
                    "reversing line or an adjustment instead."
                )
            )
        return super().write(vals)

    def unlink(self):
        if in_ledger_scope(STOCK_SKIP):
            # sale_loyalty deletes an order's history on cancel; ledger lines are reversed instead.
            self = self.filtered(lambda line: not line.move_type)  # noqa: PLW0642
        return super().unlink()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted(self):
        if self.filtered("move_type"):
            raise UserError(
                self.env._(
                    "Posted ledger lines cannot be deleted; post a reversing line or an adjustment instead."
                )
            )

    def _ledger_consume(self, movements):
        """Record this posting's lot movements: ``[(lot id, points taken (+) or given back (-))]``."""
        if movements:
            # sudo: consumptions are written by the ledger only (read-only for every group)
            self.env["crm.loyalty.lot.consumption"].sudo().create(
                [{"line_id": self.id, "lot_id": lot_id, "points": points} for lot_id, points in movements]
            )

    def _effective_points(self):
        """Points this line accounts for: moved, plus (reversals) the expired and shortfall parts
        that were due but not moved."""
        return self.points + self.expired_points + self.shortfall_points

    def _net_points(self):
        """Points of this line still in effect: its own plus what its reversals (net) moved back."""
        self.ensure_one()
        return self._effective_points() + sum(reversal._net_points() for reversal in self.reversal_line_ids)

    def _net_uncollected(self):
        """``(expired, shortfall)`` parts of this line net of the reversals undoing them (signed)."""
        expired, shortfall = self.expired_points, self.shortfall_points
        for reversal in self.reversal_line_ids:
            rev_expired, rev_shortfall = reversal._net_uncollected()
            expired, shortfall = expired + rev_expired, shortfall + rev_shortfall
        return expired, shortfall

    def _open_uncollected(self):
        """``(expired, shortfall)`` still open on this line, >= 0: for a lot, its points that
        expired and that no reversal (still in effect) accounted for yet; for a reversal, the
        expired and shortfall parts that no reversal of it undid yet."""
        self.ensure_one()
        if self.move_type == "reverse":
            expired, shortfall = self._net_uncollected()
            return max(-expired, 0.0), max(-shortfall, 0.0)
        consumed = sum(
            self.lot_consumption_ids.filtered(lambda c: c.line_id.move_type == "expire").mapped("points")
        )
        accounted = sum(reversal._net_uncollected()[0] for reversal in self.reversal_line_ids)
        return max(consumed + accounted, 0.0), 0.0

    # --- expiry crons ---------------------------------------------------------------------------

    def _cron_commit_batch(self, done, remaining, commit=False):
        """Report a cron batch and, when its ``_cron_*`` entry point says so (``commit``), commit it
        in a scheduled run (not in tests, whose transaction must stay open). The scheduler's
        context key alone, which any RPC client can send, never makes a request commit."""
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        if (
            commit
            and self.env.context.get("ir_cron_progress_id")
            and not odoo_module.current_test
            and not self.env.registry.in_test_mode()
        ):
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _cron_expire_points(self):
        """Post an expiry line for every lot past its expiry date that still holds points, set-wise
        in batches of ``CRON_BATCH`` cards, each its own commit in a scheduled run. A lot posted
        holds no points any more, so a run stopped midway resumes with the lots left."""
        today = fields.Date.context_today(self)
        self.env.flush_all()
        card_ids = [
            card_id
            for (card_id,) in self.env.execute_query(
                SQL(
                    """
                    SELECT DISTINCT lot.card_id
                      FROM loyalty_history lot
                      JOIN loyalty_card card ON card.id = lot.card_id
                      JOIN loyalty_program program ON program.id = card.program_id
                     WHERE lot.expiry_date < %s AND lot.remaining_points > 0 AND program.ledger_enabled
                  ORDER BY lot.card_id
                    """,
                    today,
                )
            )
        ]
        for start in range(0, len(card_ids), CRON_BATCH):
            batch = card_ids[start : start + CRON_BATCH]
            # sudo: the scheduled job runs for every card, whoever its user is
            self.sudo()._ledger_expire_cards(batch, today)
            self._cron_commit_batch(
                start + len(batch), max(len(card_ids) - start - len(batch), 0), commit=True
            )
            self.env.invalidate_all()

    def _ledger_expire_cards(self, card_ids, today):
        """Expire the lots of these cards past their date: one ledger line per lot, taking its
        remaining points from that lot only, as ``_ledger_post_line`` would post it.

        Set-wise: the cards are locked first (id order, as every posting does); then one INSERT
        writes the lines (with the columns the ORM would write) and their lot consumptions, one
        UPDATE empties the lots and one ``UPDATE … FROM`` moves the balances: a few statements
        per batch instead of about ten per lot. Only this server code posts them (no RPC reaches
        it); the lines are immutable like every other posting."""
        self.env.flush_all()
        cards = self.env["loyalty.card"].browse(card_ids)
        cards._ledger_lock()
        lots = self.env.execute_query(
            SQL(
                """
                SELECT id, card_id, ROUND(remaining_points::numeric, %s)::float8, date
                  FROM loyalty_history
                 WHERE card_id = ANY(%s) AND expiry_date < %s AND ROUND(remaining_points::numeric, %s) > 0
              ORDER BY card_id, expiry_date, id
                """,
                ledger.PRECISION,
                card_ids,
                today,
                ledger.PRECISION,
            )
        )
        if not lots:
            return 0
        # a lot refilled by a reversal after it expired expires again: its next key
        posted = dict(
            self._read_group(
                [
                    ("card_id", "in", card_ids),
                    ("source_key", "in", [f"expiry:{lot_id}" for lot_id, *_ in lots]),
                ],
                ["source_key"],
                ["__count"],
            )
        )
        balances = dict(
            self.env.execute_query(SQL("SELECT id, points FROM loyalty_card WHERE id = ANY(%s)", card_ids))
        )
        rows = defaultdict(list)
        for lot_id, card_id, remaining, earned_on in lots:
            balances[card_id] = ledger.round_points(balances[card_id] - remaining)
            source_key = f"expiry:{lot_id}"
            rows["lot_id"].append(lot_id)
            rows["card_id"].append(card_id)
            rows["points"].append(remaining)
            rows["balance"].append(balances[card_id])
            rows["source_key"].append(source_key)
            rows["key"].append(f"{source_key}#{posted.get(source_key, 0) + 1}")
            rows["description"].append(
                self.env._("Points earned on %s expired", earned_on and earned_on.date())
            )
        now, uid = fields.Datetime.now(), self.env.uid
        self.env.execute_query(
            SQL(
                """
                WITH expiring AS (
                    SELECT * FROM unnest(%(lot_id)s::int[], %(card_id)s::int[], %(points)s::float8[],
                                         %(balance)s::float8[], %(source_key)s::varchar[], %(key)s::varchar[],
                                         %(description)s::text[]) WITH ORDINALITY
                               AS lot(lot_id, card_id, points, balance, source_key, idem_key, description, n)
                ), line AS (
                    INSERT INTO loyalty_history (
                        card_id, partner_id, program_id, move_type, issued, used, points, balance_after,
                        date, user_id, source_type, source_key, idempotency_key, description,
                        remaining_points, expired_points, shortfall_points,
                        create_uid, create_date, write_uid, write_date)
                    SELECT lot.card_id, card.partner_id, card.program_id, 'expire', 0, lot.points, -lot.points,
                           lot.balance, %(now)s, %(uid)s, 'expiry', lot.source_key, lot.idem_key, lot.description,
                           0, 0, 0, %(uid)s, %(now)s, %(uid)s, %(now)s
                      FROM expiring lot JOIN loyalty_card card ON card.id = lot.card_id
                  ORDER BY lot.n
                 RETURNING id, source_key
                ), consumed AS (
                    INSERT INTO crm_loyalty_lot_consumption (
                        line_id, lot_id, card_id, points, create_uid, create_date, write_uid, write_date)
                    SELECT line.id, lot.lot_id, lot.card_id, lot.points, %(uid)s, %(now)s, %(uid)s, %(now)s
                      FROM line JOIN expiring lot ON lot.source_key = line.source_key
                )
                UPDATE loyalty_history emptied SET remaining_points = 0, write_uid = %(uid)s, write_date = %(now)s
                  FROM expiring lot WHERE emptied.id = lot.lot_id
                """,
                now=now,
                uid=uid,
                **rows,
            )
        )
        # The balances follow the posted lines. One statement for the batch; the ledger lines are
        # the cards' audit trail, so no tracking message per card repeats them.
        self.env.execute_query(
            SQL(
                """
                UPDATE loyalty_card card
                   SET points = balance.points, write_date = %s, write_uid = %s
                  FROM (SELECT unnest(%s::int[]) AS id, unnest(%s::float8[]) AS points) balance
                 WHERE card.id = balance.id
                """,
                now,
                uid,
                list(balances),
                list(balances.values()),
            )
        )
        # the ORM caches of lines, lots, consumptions and cards are stale
        self.env.invalidate_all()
        cards.modified(["points"])
        return len(lots)

    @api.model
    def _cron_notify_expiring_points(self):
        """Email customers whose points expire within their program's notice period: once per
        expiry date and at most once a week per card, only to partners who accept mails."""
        today = fields.Date.context_today(self)
        template = self.env.ref("crm_loyalty.mail_template_points_expiring", raise_if_not_found=False)
        # sudo: the scheduled job reads every program and lot
        programs = (
            self.env["loyalty.program"]
            .sudo()
            .search([("ledger_enabled", "=", True), ("expiry_notice_days", ">", 0)])
        )
        if not template or not programs:
            return
        due = {}  # card -> latest expiry date to announce
        for program in programs:
            limit = today + timedelta(days=program.expiry_notice_days)
            for card, last_expiry in self.sudo()._read_group(
                [
                    ("program_id", "=", program.id),
                    ("remaining_points", ">", 0),
                    ("expiry_date", ">=", today),
                    ("expiry_date", "<=", limit),
                    ("card_id.partner_id", "!=", False),
                ],
                ["card_id"],
                ["expiry_date:max"],
            ):
                if card.expiry_notified_until and card.expiry_notified_until >= last_expiry:
                    continue
                if card.expiry_notified_date and card.expiry_notified_date > today - timedelta(
                    days=EXPIRY_NOTICE_INTERVAL
                ):
                    continue
                due[card] = last_expiry
        cards = self.env["loyalty.card"].union(*due)
        contactable = cards.partner_id._crm_loyalty_contactable()
        cards = cards.filtered(lambda card: card.partner_id in contactable).sorted("id")
        for start in range(0, len(cards), CRON_BATCH):
            batch = cards[start : start + CRON_BATCH]
            template.send_mail_batch(batch.ids, email_layout_xmlid="mail.mail_notification_light")
            by_date = defaultdict(list)
            for card in batch:
                by_date[due[card]].append(card.id)
            for last_expiry, ids in by_date.items():
                # sudo: the scheduled job records the notice on every card it mailed
                self.env["loyalty.card"].sudo().browse(ids).write(
                    {"expiry_notified_until": last_expiry, "expiry_notified_date": today}
                )
            self._cron_commit_batch(start + len(batch), max(len(cards) - start - len(batch), 0), commit=True)

    def action_open_source(self):
        self.ensure_one()
        record = self.invoice_id or self.sale_order_id
        if not record:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "view_mode": "form",
        }
