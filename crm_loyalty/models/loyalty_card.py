import contextlib
import contextvars
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..engine import ledger
from ..engine import tiers as tier_engine
from .loyalty_history import (
    ISSUE,
    MOVE_TYPES,
    POSTING,
    STOCK_SKIP,
    TIER,
    in_ledger_scope,
    ledger_scope,
)

# how long a posting waits for a card's row lock before failing (then the request is retried)
LOCK_TIMEOUT = "10s"
# Cards locked, and their lines of some sources read, by the enclosing ``_ledger_hold`` of this
# thread (request): {"cr": cursor, "cards": {card id}, "slots": {(card id, source key): [line id]}}.
# It lives for one server call, within which no savepoint is rolled back, so the locks it
# records are held.
_LEDGER_HOLD = contextvars.ContextVar("crm_loyalty_ledger_hold", default=None)
# fields of ledger lines the postings read
HELD_FIELDS = [
    "card_id",
    "source_key",
    "move_type",
    "points",
    "expired_points",
    "shortfall_points",
    "reversed_line_id",
    "invoice_id",
    "source_type",
]


def _held(cr):
    """The enclosing ``_ledger_hold`` state for this cursor, or None."""
    state = _LEDGER_HOLD.get()
    return state if state and state["cr"] is cr else None


# written by the tier evaluation (or the manual tier change) only
TIER_FIELDS = {"crm_tier_id", "crm_tier_date", "crm_tier_review_date"}


def _tier_key(tier):
    """Order of tiers within a program; no tier comes first."""
    return (tier.min_amount, tier.sequence, tier.id) if tier else (float("-inf"), 0, 0)


class LoyaltyCard(models.Model):
    _inherit = "loyalty.card"

    ledger_enabled = fields.Boolean(related="program_id.ledger_enabled")
    ledger_line_ids = fields.One2many(
        "loyalty.history",
        "card_id",
        domain=[("move_type", "!=", False)],
        readonly=True,
        string="Ledger",
    )
    next_expiry_date = fields.Date(compute="_compute_expiring_points", string="Next Expiry")
    points_expiring_next = fields.Float(
        compute="_compute_expiring_points",
        help="Points that expire on the next expiry date.",
    )
    expiry_notified_until = fields.Date(
        readonly=True,
        copy=False,
        help="Latest expiry date already announced to the customer by the 'expiring soon' email.",
    )
    expiry_notified_date = fields.Date(
        readonly=True, copy=False, help="Day the last 'expiring soon' email went out (at most one a week)."
    )
    crm_coupon_reward_ids = fields.Many2many(
        "loyalty.reward",
        "crm_loyalty_card_reward_rel",
        "card_id",
        "reward_id",
        string="Personalised Rewards",
        copy=False,
        help="When set, this coupon can only claim these rewards of its program (personalised "
        "coupons of a campaign).",
    )
    crm_tier_id = fields.Many2one(
        "loyalty.tier", string="Tier", tracking=True, index=True, ondelete="set null", copy=False
    )
    crm_tier_date = fields.Date(string="Tier Since", copy=False)
    crm_tier_start_date = fields.Date(
        string="Member Since",
        default=fields.Date.context_today,
        copy=False,
        help="Anniversary reviews of the tier take place on this date's anniversaries.",
    )
    crm_tier_review_date = fields.Date(string="Last Anniversary Review", copy=False, readonly=True)
    crm_tier_history_ids = fields.One2many("loyalty.tier.history", "card_id", string="Tier History")
    crm_qualifying_amount = fields.Float(
        string="Qualifying Amount",
        compute="_compute_crm_qualifying_amount",
        help="Qualifying spend or points over the program's rolling window, up to today.",
    )
    crm_tier_multiplier = fields.Float(related="crm_tier_id.multiplier", string="Tier Multiplier")

    def _compute_expiring_points(self):
        self.next_expiry_date = False
        self.points_expiring_next = 0.0
        cards = self.filtered("id")
        if not cards:
            return
        today = fields.Date.context_today(self)
        # the user's rights: salespeople see the lots of their own customers' cards
        groups = self.env["loyalty.history"]._read_group(
            [("card_id", "in", cards.ids), ("remaining_points", ">", 0), ("expiry_date", ">=", today)],
            ["card_id", "expiry_date:day"],
            ["remaining_points:sum"],
        )
        first = {}
        for card, day, points in groups:
            if card not in first or day < first[card][0]:
                first[card] = (day, points)
        for card, (day, points) in first.items():
            card.next_expiry_date = day
            card.points_expiring_next = points

    # --- guards: a ledger card's balance moves only through _ledger_post ------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if not in_ledger_scope(TIER) and any(TIER_FIELDS.intersection(vals) for vals in vals_list):
            raise UserError(
                self.env._(
                    "A new card gets its tier by qualification; a loyalty manager sets one by hand "
                    "afterwards with the card's 'Change Tier' action."
                )
            )
        cards = super().create(vals_list)
        opening = cards.filtered(lambda card: card.program_id.ledger_enabled and card.points)
        if opening and not in_ledger_scope(POSTING):
            if in_ledger_scope(ISSUE):
                opening._ledger_open(
                    self.env._("Issued by %s", self.env["loyalty.generate.wizard"]._description)
                )
            # (superuser mode: data files and server code, never an RPC call)
            elif self.env.su:
                opening._ledger_open(self.env._("Initial balance"))
            else:
                raise UserError(
                    self.env._(
                        "Card %s keeps a points ledger: create it with 0 points, then give it its "
                        "balance with the card's 'Adjust Points' action.",
                        opening[0].display_name,
                    )
                )
        return cards

    @api.ondelete(at_uninstall=False)
    def _unlink_except_ledger_lines(self):
        # sudo: whether a card has ledger lines does not depend on what the user may read
        if (
            self.env["loyalty.history"]
            .sudo()
            .search_count([("card_id", "in", self.ids), ("move_type", "!=", False)], limit=1)
        ):
            raise UserError(
                self.env._("A card with posted ledger lines cannot be deleted; archive it instead.")
            )

    def action_loyalty_update_balance(self):
        if self.program_id.ledger_enabled:
            return self.action_ledger_adjust()
        return super().action_loyalty_update_balance()

    def action_ledger_adjust(self):
        self.ensure_one()
        return {
            "name": self.env._("Adjust Points"),
            "type": "ir.actions.act_window",
            "view_mode": "form",
            "res_model": "crm.loyalty.adjust.wizard",
            "target": "new",
            "context": {"default_card_id": self.id},
        }

    def action_view_ledger(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id("crm_loyalty.loyalty_history_action")
        action["domain"] = [("card_id", "=", self.id), ("move_type", "!=", False)]
        action["context"] = {}
        return action

    # --- the posting API ----------------------------------------------------------------------

    def _ledger_lock(self):
        """Serialise balance changes: lock the cards' rows, in id order, and read their balance.

        ``FOR NO KEY UPDATE`` does not conflict with the ``FOR KEY SHARE`` locks of foreign-key
        checks, so quotations and reward lines referencing the card are not blocked; the lock
        waits at most ``LOCK_TIMEOUT`` (or the session's own shorter timeout), then the request
        fails and is retried. Under Odoo's
        REPEATABLE READ, a second transaction waiting on the lock gets a serialisation error
        when the first commits, and the request is retried with fresh balances.
        Cards already locked by an enclosing ``_ledger_hold`` are not locked again.
        """
        held = _held(self.env.cr)
        cards = self.filtered(lambda card: card.id not in held["cards"]) if held else self
        if not cards:
            return
        cards.flush_recordset(["points"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT set_config('crm_loyalty.lock_timeout', current_setting('lock_timeout'), true),
                       set_config('lock_timeout', CASE current_setting('lock_timeout') WHEN '0' THEN %(timeout)s
                                                   ELSE current_setting('lock_timeout') END, true);
                SELECT id FROM loyalty_card WHERE id IN %(ids)s ORDER BY id FOR NO KEY UPDATE;
                SELECT set_config('lock_timeout', current_setting('crm_loyalty.lock_timeout'), true);
                SELECT id, points FROM loyalty_card WHERE id IN %(ids)s;
                """,
                timeout=LOCK_TIMEOUT,
                ids=tuple(sorted(cards.ids)),
            )
        )
        # the balances as locked, read in the same round trip (the cache may hold them from
        # before the lock, or from an earlier transaction of the same environment)
        field = self._fields["points"]
        points = dict(rows)
        cards.invalidate_recordset(["points"])
        self.env.cache.update(cards, field, [field.convert_to_cache(points[card.id], card) for card in cards])

    @contextlib.contextmanager
    def _ledger_hold(self, source_keys, lines=None):
        """Lock these cards once, and read their ledger lines of ``source_keys`` once, for all
        the postings of the enclosed block: the postings inside neither lock again nor search
        these sources' lines (``_ledger_slot``), and the lines they post join them.

        :param lines: when the caller already read them, every ledger line of ``source_keys``
            on these cards (else they are read here, in one query)
        """
        source_keys = set(source_keys)
        if lines is None:
            lines = self._ledger_history().search_fetch(
                [("card_id", "in", self.ids), ("source_key", "in", list(source_keys))],
                HELD_FIELDS,
                order="id",
            )
        outer = _held(self.env.cr)
        self.sorted("id")._ledger_lock()
        slots = outer["slots"] if outer else {}
        for card in self:
            for key in source_keys:
                slots[card.id, key] = []
        for line in lines.sorted("id"):
            if (line.card_id.id, line.source_key) in slots and line.card_id in self:
                slots[line.card_id.id, line.source_key].append(line.id)
        state = {
            "cr": self.env.cr,
            "cards": (outer["cards"] if outer else set()) | set(self.ids),
            "slots": slots,
        }
        token = _LEDGER_HOLD.set(state)
        try:
            yield
        finally:
            _LEDGER_HOLD.reset(token)

    def _ledger_history(self):
        # sudo: postings are authorised by the calling server code (source state, groups), not by
        # the user's ACLs on history lines, which salespeople only read
        return self.env["loyalty.history"].sudo()

    def _ledger_post_line(self, move_type, points, consume_from=None, **vals):
        """Post one immutable ledger line on this card and move its balance.

        Every point movement of a ledger card goes through here: it locks the card row, sets
        ``balance_after``, opens a lot for credited points (with its expiry date) or consumes
        lots oldest-expiring first, and updates ``card.points``.

        Redemptions, expiries and negative adjustments never take the balance below zero. A
        reversal always posts (a cancel, a reset to draft or a credit note is never refused): it
        takes back only the unexpired part of what it reverses (``expired_points``), and on a
        program recording shortfalls at most the balance (``shortfall_points``); otherwise the
        card goes negative, a debt that the next credited points pay back first.

        :param str move_type: ``earn`` | ``redeem`` | ``expire`` | ``adjust`` | ``reverse``
        :param float points: signed points: earn > 0; redeem and expire < 0; adjust either way;
            reverse has the opposite sign of the line it reverses (``reversed_line_id``)
        :param consume_from: loyalty.history lot a negative movement consumes first ('expire': only it)
        :param vals: further loyalty.history values: ``description``, ``reason`` (required for
            adjust), ``source_type``, ``sale_order_id``, ``invoice_id``, ``date``, ``expiry_date``
            (default: the program's validity from the date), ``idempotency_key`` (when already
            posted on the card, that line is returned and nothing moves), ``source_key`` (the key
            is then ``<source_key>#<n>``), ``reversed_line_id``, ``base_points``, ``earn_multiplier``
        :return: the posted (or already posted) loyalty.history line
        """
        self.ensure_one()
        if move_type not in dict(MOVE_TYPES):
            raise ValueError(f"unknown ledger move type {move_type!r}")
        program = self.program_id
        if not program.ledger_enabled:
            raise UserError(self.env._("Program %s does not keep a points ledger.", program.name))
        points = ledger.round_points(points)
        if not points:
            raise UserError(self.env._("A ledger line needs a non-zero number of points."))
        self._ledger_lock()
        history = self._ledger_history()
        key = vals.pop("idempotency_key", None)
        if key:
            existing = history.search([("card_id", "=", self.id), ("idempotency_key", "=", key)], limit=1)
            if existing:
                return existing
        elif vals.get("source_key"):
            # the source's n-th line on the card; (card, key) is unique in the table, so a key
            # taken meanwhile fails the insert rather than post twice
            key = f"{vals['source_key']}#{len(self._ledger_slot(vals['source_key'])) + 1}"
        reversed_line = history.browse(vals.get("reversed_line_id"))
        self._ledger_check_sign(move_type, points, reversed_line, vals)
        # opening a live card on the ledger: its (negative) balance is carried as it is
        allow_negative = vals.pop("allow_negative", False) or move_type == "reverse"
        old_balance = self.points
        if move_type == "reverse":
            points, vals["expired_points"], vals["shortfall_points"] = self._ledger_split_reversal(
                points, reversed_line
            )
        balance = ledger.round_points(old_balance + points)
        if balance < 0 and points < 0 and not allow_negative:
            raise UserError(
                self.env._(
                    "Card %(card)s holds %(balance)s points: it cannot give %(points)s.",
                    card=self.display_name,
                    balance=old_balance,
                    points=-points,
                )
            )
        date = fields.Datetime.to_datetime(vals.pop("date", None)) or fields.Datetime.now()
        line_vals = {
            "card_id": self.id,
            "move_type": move_type,
            "issued": max(points, 0.0),
            "used": max(-points, 0.0),
            "balance_after": balance,
            "date": date,
            "user_id": self.env.uid,
            "idempotency_key": key,
            "source_type": "manual",
            "description": dict(MOVE_TYPES)[move_type],
            **vals,
        }
        if line_vals.get("invoice_id"):
            line_vals.update(order_model="account.move", order_id=line_vals["invoice_id"])
        elif line_vals.get("sale_order_id"):
            line_vals.update(order_model="sale.order", order_id=line_vals["sale_order_id"])
        if move_type in ("earn", "adjust", "reverse") and points > 0 and "expiry_date" not in vals:
            line_vals["expiry_date"] = program._ledger_expiry_date(fields.Date.context_today(self, date))
        consumptions = (
            self._ledger_allocate(move_type, points, reversed_line, consume_from, strict=not allow_negative)
            if points
            else []
        )
        # credited points pay the card's debt back first
        repay = ledger.round_points(min(points, -old_balance)) if old_balance < 0 < points else 0.0
        return self._ledger_record(line_vals, consumptions, repay)

    def _ledger_record(self, line_vals, consumptions, repay):
        """Write a posting: its line, its lot consumptions, its debt repayment, the balance."""
        with ledger_scope(POSTING):
            line = self._ledger_history().create(line_vals)
            line._ledger_consume(consumptions)
            if repay:
                # taken once the posting's own lot movements are written
                line._ledger_consume(self._ledger_take(repay, strict=False))
            # sudo: the balance follows the posted line, whatever the user's rights on the card
            self.sudo().points = line_vals["balance_after"]
        held = _held(self.env.cr)
        if held and (self.id, line.source_key) in held["slots"]:
            held["slots"][self.id, line.source_key].append(line.id)
        return line

    def _ledger_split_reversal(self, points, reversed_line):
        """``(points moved, expired part, shortfall part)`` of a reversal of ``points``, signed."""
        expired_open, shortfall_open = reversed_line._open_uncollected()
        if points > 0:
            # undoing a take-back: what it did not take (shortfall, expired) moves nothing back
            undo_shortfall = ledger.round_points(min(points, shortfall_open))
            undo_expired = ledger.round_points(min(points - undo_shortfall, expired_open))
            return ledger.round_points(points - undo_shortfall - undo_expired), undo_expired, undo_shortfall
        taken, expired, shortfall = ledger.split_reversal(
            -points, expired_open, self.points, self.program_id.crm_reversal_policy
        )
        return -taken, -expired, -shortfall

    def _ledger_take(self, amount, first_lot=None, strict=True):
        """Lots to consume for ``amount`` points, oldest-expiring first: [(lot id, points)]."""
        history = self._ledger_history()
        # the lots as stored, not as cached (the expiry cron writes them in SQL); one query
        history.invalidate_model(["remaining_points"])
        lots = history.search_fetch(
            [("card_id", "=", self.id), ("remaining_points", ">", 0)], ["expiry_date", "remaining_points"]
        )
        available = [(lot.id, lot.expiry_date, lot.remaining_points) for lot in lots]
        if not strict:
            amount = min(amount, ledger.round_points(sum(lot[2] for lot in available)))
        try:
            return ledger.allocate_fifo(available, amount, first_lot_id=first_lot.id if first_lot else None)
        except ledger.InsufficientPoints as error:
            raise UserError(
                self.env._(
                    "Card %(card)s: only %(available)s points are available in its lots, %(requested)s asked.",
                    card=self.display_name,
                    available=error.available,
                    requested=error.requested,
                )
            ) from error

    def _ledger_check_sign(self, move_type, points, reversed_line, vals):
        if move_type == "earn" and points < 0:
            raise UserError(self.env._("Earned points must be positive."))
        if move_type in ("redeem", "expire") and points > 0:
            raise UserError(self.env._("Redeemed and expired points must be negative."))
        if move_type == "adjust" and not (vals.get("reason") or "").strip():
            raise UserError(self.env._("A points adjustment needs a reason."))
        if move_type == "reverse":
            if not reversed_line or reversed_line.card_id != self:
                raise UserError(self.env._("A reversing line must name a line of the same card it reverses."))
            net = reversed_line._net_points()
            if points * net >= 0 or abs(points) > abs(net) + 0.005:
                raise UserError(
                    self.env._(
                        "Line %(line)s has %(net)s points left to reverse, not %(points)s.",
                        line=reversed_line.display_name,
                        net=net,
                        points=points,
                    )
                )
        elif reversed_line:
            raise UserError(self.env._("Only reversing lines name a reversed line."))

    def _ledger_allocate(self, move_type, points, reversed_line, consume_from, strict=True):
        """Lot movements of a posting: [(lot id, points taken (+) or given back (-))]."""
        if points < 0:
            if move_type == "expire":
                consume_from.invalidate_recordset(["remaining_points"])
                return ledger.allocate_fifo(
                    [(lot.id, lot.expiry_date, lot.remaining_points) for lot in consume_from], -points
                )
            if not consume_from and reversed_line.remaining_points:
                consume_from = reversed_line
            # a reversal takes what the lots hold; the rest is the card's debt
            return self._ledger_take(-points, first_lot=consume_from, strict=strict)
        if move_type == "reverse":
            # Giving back what the reversed line consumed: the same lots get their points again.
            consumed = defaultdict(float)
            for consumption in (
                reversed_line.consumption_ids | reversed_line.reversal_line_ids.consumption_ids
            ):
                consumed[consumption.lot_id] += consumption.points
            lots = [(lot.id, lot.expiry_date, amount) for lot, amount in consumed.items()]
            amount = min(points, ledger.round_points(sum(max(lot[2], 0.0) for lot in lots)))
            return [(lot_id, -taken) for lot_id, taken in ledger.release_lifo(lots, amount)]
        return []

    def _ledger_open(self, reason):
        """Open the ledger of cards (archived ones too) holding points or confirmed orders.

        The points each confirmed order earned and redeemed are posted against the order (so
        that a later cancel or credit note reverses them), and one adjustment carries the rest of
        the balance. A negative balance opens negative (a debt), with a note on the card.
        """
        # sudo: the orders' point entries are read whatever the user may see of the orders
        entries = (
            self.env["sale.order.coupon.points"]
            .sudo()
            .search([("coupon_id", "in", self.ids), ("order_id.state", "=", "sale")])
        )
        reward_lines = (
            self.env["sale.order.line"]
            .sudo()
            .search(
                [("coupon_id", "in", self.ids), ("order_id.state", "=", "sale"), ("points_cost", "!=", 0)]
            )
        )
        for card in self:
            card._ledger_lock()
            balance = card.points
            orders = {}
            for entry in entries.filtered(lambda e, card=card: e.coupon_id == card):
                orders.setdefault(entry.order_id, [0.0, 0.0])[0] += entry.points
            for line in reward_lines.filtered(lambda line, card=card: line.coupon_id == card):
                orders.setdefault(line.order_id, [0.0, 0.0])[1] += line.points_cost
            if not ledger.round_points(balance) and not orders:
                continue
            with ledger_scope(POSTING):
                # sudo: the balance is moved to the opening lines posted right after
                card.sudo().points = 0.0
            rest = balance
            for order, (earned, cost) in sorted(orders.items(), key=lambda item: item[0].id):
                vals = {
                    "sale_order_id": order.id,
                    "source_type": "sale_order",
                    "description": order.display_name,
                }
                if ledger.round_points(earned) > 0:
                    card._ledger_post(
                        "earn",
                        earned,
                        source_key=f"sale.order:{order.id}:earn",
                        base_points=earned,
                        earn_multiplier=1.0,
                        date=order.date_order,
                        **vals,
                    )
                    rest -= earned
                if ledger.round_points(cost) > 0:
                    card._ledger_post(
                        "redeem",
                        -cost,
                        source_key=f"sale.order:{order.id}:redeem",
                        allow_negative=True,
                        **vals,
                    )
                    rest += cost
            if ledger.round_points(rest):
                card._ledger_post(
                    "adjust",
                    rest,
                    reason=reason,
                    description=reason,
                    source_type="manual",
                    allow_negative=True,
                )
            if ledger.round_points(balance) < 0:
                # sudo: the ledger notes the debt on the card, whoever opened it
                card.sudo().message_post(
                    body=self.env._(
                        "The points ledger opened this card with a negative balance of %s points: a debt "
                        "that the next points earned pay back first.",
                        balance,
                    )
                )

    def _ledger_transfer_to(self, target):
        """Move this card's whole balance to ``target`` (contact merge): its open lots move with
        their expiry dates; a debt moves as a debt."""
        self.ensure_one()
        (self | target)._ledger_lock()
        reason = self.env._("Contact merge: card %(card)s into %(kept)s", card=self.code, kept=target.code)
        vals = {"reason": reason, "description": reason, "source_type": "manual", "allow_negative": True}
        lots = [
            (lot.expiry_date, lot.remaining_points)
            for lot in self._ledger_history().search(
                [("card_id", "=", self.id), ("remaining_points", ">", 0)], order="id"
            )
        ]
        balance = self.points
        self._ledger_post("adjust", -balance, **vals)
        moved = 0.0
        for expiry_date, points in lots:
            target._ledger_post("adjust", points, expiry_date=expiry_date, **vals)
            moved += points
        if ledger.round_points(balance - moved):
            target._ledger_post("adjust", balance - moved, **vals)

    def _ledger_slot(self, source_key):
        """This card's lines of ``source_key``, in posting order (read once in a ``_ledger_hold``)."""
        held = _held(self.env.cr)
        if held and (self.id, source_key) in held["slots"]:
            return self._ledger_history().browse(held["slots"][self.id, source_key])
        return self._ledger_history().search(
            [("card_id", "=", self.id), ("source_key", "=", source_key)], order="id"
        )

    def _ledger_earn(self, source_key, base_points, **vals):
        """Credit ``base_points`` x the card's multiplier once for ``source_key``.

        Nothing is posted while an earlier credit of the source is in effect (not fully
        reversed): this is what makes re-confirming or re-posting harmless. Earning again after
        an undo (cancel, reset to draft) credits the points less what credit notes already took
        back from the earlier credits of the source, so a credit note is never undone silently.
        """
        self.ensure_one()
        base_points = ledger.round_points(base_points)
        self._ledger_lock()
        earns = self._ledger_slot(source_key).filtered(lambda line: line.move_type == "earn")
        active = earns.filtered(lambda line: ledger.round_points(line._net_points()))
        if active or base_points <= 0:
            return active[-1:]
        taken_back = -sum(
            reversal._net_points()
            for line in earns
            for reversal in line.reversal_line_ids
            if reversal.source_key != source_key
        )
        multiplier = self._get_earn_multiplier()
        points = ledger.round_points(base_points * multiplier - taken_back)
        if points <= 0:
            return active
        return self._ledger_post(
            "earn",
            points,
            source_key=source_key,
            base_points=base_points,
            earn_multiplier=multiplier,
            **vals,
        )

    def _ledger_sync(self, source_key, target, move_type, reverse_of=None, once=False, **vals):
        """Bring the net points posted for ``source_key`` to ``target``.

        Moving towards ``move_type``'s sign posts a ``move_type`` line (or, for ``reverse``,
        reversing lines against ``reverse_of``, latest first); moving back (always when ``target``
        is 0) reverses the source's own lines, latest first (see ``_ledger_post_line`` for what a
        reversal takes when the points are spent or expired). With ``once``, a source that already posted keeps its lines until ``target``
        is 0 (credit notes: the take-back is computed when posted, not again on later changes).
        """
        self.ensure_one()
        self._ledger_lock()
        slot = self._ledger_slot(source_key)
        net = ledger.round_points(sum(line._effective_points() for line in slot))
        diff = ledger.round_points(target - net)
        if not diff or (once and net and ledger.round_points(target)):
            return
        sign = 1 if move_type == "earn" else -1
        forward = bool(ledger.round_points(target)) and diff * sign > 0
        if forward and move_type != "reverse":
            self._ledger_post(move_type, diff, source_key=source_key, **vals)
            return
        if forward:
            targets = reverse_of.sorted("id", reverse=True)
        else:
            # undo this source's own postings (not the lines that reverse one of them)
            targets = slot.filtered(lambda line: line.reversed_line_id not in slot).sorted("id", reverse=True)
        left = abs(diff)
        for line in targets:
            net = line._net_points()
            if left <= 0:
                break
            if not ledger.round_points(net) or (diff * net > 0):
                continue
            amount = ledger.round_points(min(abs(net), left))
            self._ledger_post(
                "reverse",
                -amount if net > 0 else amount,
                source_key=source_key,
                reversed_line_id=line.id,
                **vals,
            )
            left = ledger.round_points(left - amount)

    def _compute_crm_qualifying_amount(self):
        self.crm_qualifying_amount = 0.0
        today = fields.Date.context_today(self)
        # the spend is summed in SQL past the users' rules on orders and invoices: a salesperson
        # sees it for his own customers and his team's only (as their loyalty history)
        shown = self.filtered("partner_id")
        user = self.env.user
        if not self.env.su and not (
            user.has_group("sales_team.group_sale_salesman_all_leads")
            or user.has_group("crm_loyalty.group_crm_loyalty_manager")
        ):
            # sudo: only to walk the owner's team membership; the cards kept are the user's own
            own = shown.sudo().filtered_domain(
                [
                    "|",
                    ("partner_id.user_id", "=", self.env.uid),
                    ("partner_id.user_id.crm_team_member_ids.crm_team_id.user_id", "=", self.env.uid),
                ]
            )
            shown = shown.browse(own.ids)
        for program, cards in shown.grouped("program_id").items():
            if program.program_type != "loyalty":
                continue
            amounts = program._crm_tier_qualifying_amounts(cards, today)
            for card in cards:
                card.crm_qualifying_amount = amounts.get(card.id, 0.0)

    def _get_earn_multiplier(self):
        """Multiplier applied to the base points this card earns: its tier's (1.0 without tier).

        The value used is stored on each earn line (``earn_multiplier``).
        """
        self.ensure_one()
        return self.crm_tier_id.multiplier or 1.0

    def _ledger_post(self, move_type, points, consume_from=None, **vals):
        """Post one ledger line (``_ledger_post_line``), then re-qualify a points-based tier."""
        line = self._ledger_post_line(move_type, points, consume_from=consume_from, **vals)
        # Real-time qualification on points: earned points (or their reversal) move the tier.
        program = self.program_id
        if (
            move_type in ("earn", "reverse")
            and program.crm_tier_basis == "points"
            and program.crm_tier_ids
            and not in_ledger_scope(TIER)
        ):
            # sudo: re-qualification follows the posting, whoever posted it
            self.sudo()._crm_tier_evaluate()
        return line

    def _crm_tier_evaluate(self, today=None):
        """Re-qualify these cards' tiers on ``today``: upgrade, downgrade per policy, record the
        change in the tier history and mail the member. Returns the created history lines."""
        today = today or fields.Date.context_today(self)
        histories = self.env["loyalty.tier.history"]
        cards = self.filtered(lambda c: c.partner_id and c.active and c.program_id.crm_tier_ids)
        with ledger_scope(TIER):
            for program, program_cards in cards.grouped("program_id").items():
                histories |= program._crm_tier_evaluate_cards(program_cards, today)
        return histories

    def write(self, vals):
        tier_fields = TIER_FIELDS.intersection(vals)
        if tier_fields and not in_ledger_scope(TIER):
            raise UserError(
                self.env._(
                    "The tier of card %s changes by qualification, or by hand through its 'Change Tier' "
                    "action (loyalty managers, with a reason).",
                    self[:1].display_name,
                )
            )
        if "program_id" in vals and not in_ledger_scope(POSTING):
            moved = self.filtered(lambda card: card.program_id.id != vals["program_id"])
            # sudo: whether a card has ledger lines does not depend on what the user may read
            if moved and self.env["loyalty.history"].sudo().search_count(
                [("card_id", "in", moved.ids), ("move_type", "!=", False)], limit=1
            ):
                raise UserError(
                    self.env._(
                        "Card %s has posted ledger lines: it cannot move to another program.",
                        moved[0].display_name,
                    )
                )
        if not in_ledger_scope(POSTING):
            self._check_ledger_move(vals)
        ledger_cards = self.browse()
        if "points" in vals and not in_ledger_scope(POSTING):
            # a ledger card is one whose old or new program keeps a ledger
            new_program = self.env["loyalty.program"].browse(vals.get("program_id"))
            ledger_cards = self if new_program.ledger_enabled else self.filtered("program_id.ledger_enabled")
        if not ledger_cards:
            return super().write(vals)
        # The points of a ledger card move only by posting.
        if not in_ledger_scope(STOCK_SKIP):
            raise UserError(
                self.env._(
                    "The points of card %s are kept by the ledger: post an adjustment instead of editing them.",
                    ledger_cards[0].display_name,
                )
            )
        # sale_loyalty's own point arithmetic on a ledger card: the ledger posts it instead.
        other_vals = {key: value for key, value in vals.items() if key != "points"}
        res = super(LoyaltyCard, self - ledger_cards).write(vals)
        if other_vals:
            super(LoyaltyCard, ledger_cards).write(other_vals)
        return res

    def _check_ledger_move(self, vals):
        """Refuse the writes that would carry a balance past the ledger: a card with points moved
        onto a ledger program, a ledger card with posted lines moved to another customer."""
        if vals.get("program_id"):
            program = self.env["loyalty.program"].browse(vals["program_id"])
            # an empty card may join a ledger program: it opens there at 0
            arriving = self.filtered(
                lambda card: program.ledger_enabled
                and card.program_id != program
                and (card.points or vals.get("points"))
            )
            if arriving:
                raise UserError(
                    self.env._(
                        "Card %(card)s holds points: it cannot move onto program %(program)s, which keeps "
                        "a points ledger; issue a card of that program and post an adjustment instead.",
                        card=arriving[0].display_name,
                        program=program.display_name,
                    )
                )
        # (the contact merge moves cards in the STOCK_SKIP scope, after posting their balances;
        # superuser mode: data files and server code, never an RPC call)
        if "partner_id" in vals and not in_ledger_scope(STOCK_SKIP) and not self.env.su:
            # stock sale_loyalty hands a public user's card to the customer who logs in
            moved = self.filtered(
                lambda card: card.program_id.ledger_enabled
                and card.partner_id.id != vals["partner_id"]
                and not card.partner_id.is_public
            )
            # sudo: whether a card has ledger lines does not depend on what the user may read
            if moved and self.env["loyalty.history"].sudo().search_count(
                [("card_id", "in", moved.ids), ("move_type", "!=", False)], limit=1
            ):
                raise UserError(
                    self.env._(
                        "Card %s has posted ledger lines: its balance cannot move to another customer; "
                        "merge the two contacts instead.",
                        moved[0].display_name,
                    )
                )

    def action_crm_tier_change(self):
        self.ensure_one()
        return {
            "name": self.env._("Change Tier"),
            "type": "ir.actions.act_window",
            "view_mode": "form",
            "res_model": "crm.loyalty.tier.wizard",
            "target": "new",
            "context": {"default_card_id": self.id},
        }

    def _crm_tier_set_manual(self, tier, reason):
        """Set this card's tier by hand: loyalty managers only, with a reason, recorded in the
        tier history (and mailed like an automatic change)."""
        self.ensure_one()
        if not self.env.user.has_group("crm_loyalty.group_crm_loyalty_manager"):
            raise AccessError(self.env._("Only loyalty managers change a card's tier by hand."))
        if not (reason or "").strip():
            raise UserError(self.env._("Card %s: give the reason of the tier change.", self.display_name))
        if tier and tier.program_id != self.program_id:
            raise UserError(
                self.env._(
                    "Tier %(tier)s belongs to another program than card %(card)s.",
                    tier=tier.display_name,
                    card=self.display_name,
                )
            )
        old_tier = self.crm_tier_id
        if tier == old_tier:
            return self.env["loyalty.tier.history"]
        today = fields.Date.context_today(self)
        with ledger_scope(TIER):
            # sudo: the group was checked above; salespeople's card ACL does not decide this
            self.sudo().write({"crm_tier_id": tier.id, "crm_tier_date": today})
        self.env["loyalty.tier.history"]._supersede_pending_mails(self.ids)
        # sudo: tier history is written by the server only (read-only for every group)
        history = (
            self.env["loyalty.tier.history"]
            .sudo()
            .create(
                {
                    "card_id": self.id,
                    "date": today,
                    "old_tier_id": old_tier.id,
                    "new_tier_id": tier.id,
                    "change": "upgrade" if _tier_key(tier) > _tier_key(old_tier) else "downgrade",
                    "qualifying_amount": self.crm_qualifying_amount,
                    "trigger": "manual",
                    "reason": reason.strip(),
                    "user_id": self.env.uid,
                    "mail_pending": not self.env.context.get("loyalty_no_mail"),
                }
            )
        )
        history._send_tier_mails()
        return history

    @api.model
    def _cron_tier_requalify(self):
        # the scheduled action of databases installed before it moved to loyalty.program (a
        # noupdate record) and the demo data call it here
        self.env["loyalty.program"]._cron_tier_requalify()

    @api.model
    def _crm_tier_evaluate_partners(self, commercial_partner_ids, basis, raised=False):
        """Real-time hook: re-qualify the tiered cards of these commercial partners whose program
        qualifies on ``basis``.

        :param raised: the documents only raised the partners' qualifying amounts (an invoice
            posted, an order confirmed): they can move a member up, never down, so only the
            members they lift to a higher tier are evaluated (one amount query); a downgrade
            or review already due is the daily run's, not the purchase's.
        """
        if not commercial_partner_ids:
            return
        cards = self.search(
            [
                ("partner_id.commercial_partner_id", "in", list(commercial_partner_ids)),
                ("program_id.program_type", "=", "loyalty"),
                ("program_id.crm_tier_ids", "!=", False),
                ("program_id.crm_tier_basis", "=", basis),
            ]
        )
        if raised:
            cards = cards._crm_tier_lifted()
        cards._crm_tier_evaluate()

    def _crm_tier_lifted(self):
        """The cards whose qualifying amount today reaches a higher tier than theirs."""
        today = fields.Date.context_today(self)
        lifted = self.browse()
        for program, cards in self.grouped("program_id").items():
            tiers = program.crm_tier_ids.sorted(_tier_key)
            rank_of = {tier.id: rank for rank, tier in enumerate(tiers, start=1)}
            amounts = program._crm_tier_qualifying_amounts(cards, today)
            lifted |= cards.filtered(
                lambda card, tiers=tiers, rank_of=rank_of, amounts=amounts: tier_engine.qualified_rank(
                    amounts.get(card.id, 0.0), tiers.mapped("min_amount")
                )
                > rank_of.get(card.crm_tier_id.id, 0)
            )
        return lifted
