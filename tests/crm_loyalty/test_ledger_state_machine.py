"""A hypothesis state machine over the ledger's flows, against an independent model.

Rules: confirm, cancel, re-confirm, partial and full invoicing, partial and full credit notes,
credit notes reset to draft and posted again, redeem, adjust, expire (the clock jumps past every
lot's validity), manual tier changes (multiplier 1 or 2) and earn-trigger changes. The model keeps
the expected balance with its own lots (oldest-expiring first, expired points never taken twice,
debts repaid first) and predicts which operations are refused. After every step: card = Σ
ledger = model, Σ open lots = max(balance, 0), no posted line changed, and no operation that stock
Odoo allows was refused.

Runs ``max_examples`` examples (200 by default; ``--hypothesis-profile=thorough`` for 1000).
"""

import datetime as dt
from itertools import count

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import freeze_time

from .common import LedgerCase

settings.register_profile("thorough", max_examples=1000, stateful_step_count=30)
RATE = 100.0  # points per unit ordered (product at 100, 1 point per currency unit)
VALIDITY_DAYS = 30


class Model:
    """Expected ledger of one card: lots by epoch (expiry order), earns per order, debts."""

    def __init__(self):
        self.balance = 0.0
        self.lots = {}  # id -> {"epoch", "rem", "expired"}
        self.ids = count()
        self.epoch = 0

    def _fifo(self, first=None):
        return sorted(
            (lot_id for lot_id, lot in self.lots.items() if lot["rem"] > 0.001),
            key=lambda lot_id: (lot_id != first, self.lots[lot_id]["epoch"], lot_id),
        )

    def take(self, amount, first=None):
        """Consume ``amount`` oldest-expiring first; what the lots lack is a debt."""
        taken = []
        for lot_id in self._fifo(first):
            if amount <= 0.001:
                break
            part = min(self.lots[lot_id]["rem"], amount)
            self.lots[lot_id]["rem"] -= part
            taken.append((lot_id, part))
            amount -= part
        return taken

    def credit(self, points, released=()):
        """Credit points: ``released`` [(lot, points)] back to old lots, the rest a new lot; a
        debt is repaid first."""
        before = self.balance
        lot_id = None
        rest = points
        for old, part in released:
            self.lots[old]["rem"] += part
            rest -= part
        if rest > 0.001:
            lot_id = next(self.ids)
            self.lots[lot_id] = {"epoch": self.epoch, "rem": rest, "expired": 0.0}
        self.balance += points
        if before < 0:
            self.take(min(points, -before))
        return lot_id

    def expire_all(self):
        self.epoch += 1
        for lot in self.lots.values():
            lot["expired"] += lot["rem"]
            self.balance -= lot["rem"]
            lot["rem"] = 0.0

    def reverse_earn(self, earn, amount, kind, key=None):
        """Take back ``amount`` of an earn: its expired part is not taken again."""
        lot = self.lots[earn["lot"]] if earn["lot"] is not None else {"expired": 0.0}
        expired = min(amount, max(lot["expired"] - earn["accounted"], 0.0))
        earn["accounted"] += expired
        taken = amount - expired
        consumed = self.take(taken, first=earn["lot"])
        self.balance -= taken
        earn["net"] -= amount
        reversal = {
            "earn": earn,
            "net": amount,
            "expired": expired,
            "consumed": consumed,
            "kind": kind,
            "key": key,
        }
        earn["reversals"].append(reversal)
        return reversal

    def undo_reversal(self, reversal):
        """Undo a credit note's take-back: what it did not take (expired) moves nothing back."""
        amount = reversal["net"]
        expired = reversal["expired"]
        reversal["earn"]["accounted"] -= expired
        give = amount - expired
        released, left = [], give
        for lot_id, part in sorted(
            reversal["consumed"], key=lambda c: (self.lots[c[0]]["epoch"], c[0]), reverse=True
        ):
            back = min(part, left)
            if back > 0.001:
                released.append((lot_id, back))
                left -= back
        if give > 0.001:
            self.credit(give, released)
        reversal["earn"]["net"] += amount
        reversal["net"] = 0.0
        reversal["expired"] = 0.0


class LedgerMachine(RuleBasedStateMachine):
    case = None  # the TestCase running the machine

    def __init__(self):
        super().__init__()
        case = self.case
        case.env.invalidate_all()
        self.savepoint = case.env.cr.savepoint()
        self.clock = dt.datetime(2026, 1, 1, 12)
        self.freezer = freeze_time(self.clock)
        self.frozen = self.freezer.__enter__()
        self.model = Model()
        self.multiplier = 1.0
        self.orders = []  # {"record", "qty", "earns": [...], "invoices": [...]}
        self.refunds = []  # {"record", "order", "amount", "reversals": [...] or None}
        self.snapshot = {}

    def teardown(self):
        self.freezer.__exit__(None, None, None)
        self.savepoint.close(rollback=True)  # every example starts from the fixture
        self.case.env.invalidate_all()

    # --- helpers -------------------------------------------------------------------------------

    @property
    def card(self):
        return self.case.card

    def _earned_by_cancels(self, order):
        return sum(
            earn["points"] - sum(r["net"] for r in earn["reversals"] if r["kind"] == "cancel")
            for earn in order["earns"]
        )

    def _earn(self, order):
        """Model of ``_ledger_earn``: earn once while an earlier credit is in effect."""
        if any(earn["net"] > 0.001 for earn in order["earns"]):
            return
        taken_back = sum(r["net"] for earn in order["earns"] for r in earn["reversals"] if r["kind"] == "cn")
        points = round(order["qty"] * RATE * self.multiplier - taken_back, 2)
        if points > 0.001:
            lot = self.model.credit(points)
            order["earns"].append(
                {"points": points, "net": points, "lot": lot, "accounted": 0.0, "reversals": []}
            )

    def _take_back(self, order, amount, kind, key=None):
        """Model of ``_ledger_sync`` taking ``amount`` back from an order's earns, latest first."""
        reversals = []
        for earn in reversed(order["earns"]):
            if amount <= 0.001:
                break
            part = min(earn["net"], amount)
            if part > 0.001:
                reversals.append(self.model.reverse_earn(earn, part, kind, key))
                amount -= part
        return reversals

    def _post_refund(self, refund):
        order = refund["order"]
        earned = self._earned_by_cancels(order)
        already = sum(
            r["net"]
            for other in self.refunds
            if other is not refund and other["order"] is order
            for r in other["reversals"] or []
        )
        base = order["qty"] * 100.0  # the order's untaxed amount
        take = round(max(0.0, min(earned * min(refund["amount"] / base, 1.0), earned - already)), 2)
        refund["reversals"] = self._take_back(order, take, "cn", key=id(refund))

    # --- rules ---------------------------------------------------------------------------------

    @rule(qty=st.sampled_from([1, 2, 3]))
    def confirm(self, qty):
        order = self.case._order(qty=qty)
        order.action_confirm()
        entry = {"record": order, "qty": qty, "earns": [], "invoices": []}
        self.orders.append(entry)
        self._earn(entry)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def cancel_or_reconfirm(self, data):
        entry = data.draw(st.sampled_from(self.orders))
        order = entry["record"]
        if order.state == "sale":
            order._action_cancel()
            slot = self._earned_by_cancels(entry)
            self._take_back(entry, slot, "cancel")
        elif order.state == "cancel":
            order.action_draft()
            order.action_confirm()
            self._earn(entry)

    @precondition(lambda self: any(o["record"].state == "sale" for o in self.orders))
    @rule(data=st.data(), part=st.sampled_from([0.5, 1.0]))
    def invoice(self, data, part):
        entry = data.draw(st.sampled_from([o for o in self.orders if o["record"].state == "sale"]))
        line = entry["record"].order_line.filtered(lambda line: not line.reward_id)
        left = line.product_uom_qty - line.qty_invoiced
        if left <= 0:
            return
        invoice = entry["record"]._create_invoices()
        invoice.invoice_line_ids.quantity = left * part
        invoice.action_post()
        entry["invoices"].append(invoice)

    @precondition(lambda self: any(o["invoices"] for o in self.orders))
    @rule(data=st.data(), ratio=st.sampled_from([0.5, 1.0]))
    def credit_note(self, data, ratio):
        entry = data.draw(st.sampled_from([o for o in self.orders if o["invoices"]]))
        invoice = data.draw(st.sampled_from(entry["invoices"]))
        record = self.case._refund(invoice, ratio=ratio)
        refund = {
            "record": record,
            "order": entry,
            "amount": -record.amount_untaxed_signed,
            "reversals": None,
        }
        self.refunds.append(refund)
        self._post_refund(refund)

    @precondition(lambda self: self.refunds)
    @rule(data=st.data())
    def toggle_credit_note(self, data):
        refund = data.draw(st.sampled_from(self.refunds))
        record = refund["record"]
        if record.state == "cancel":
            # a draft credit note is cancelled with its order (stock sale); stock lets it be
            # reset to draft and posted again
            record.button_draft()
        if record.state == "posted":
            record.button_draft()
            for reversal in reversed(refund["reversals"]):
                self.model.undo_reversal(reversal)
            refund["reversals"] = []
        else:
            record.action_post()
            self._post_refund(refund)

    @rule(points=st.sampled_from([10, 50, 120]))
    def redeem(self, points):
        refused = points > self.model.balance + 0.001
        try:
            self.card._ledger_post("redeem", -points)
        except UserError:
            assert refused, f"a redemption of {points} on {self.model.balance} points was refused"
            return
        assert not refused, "a redemption beyond the balance went through"
        self.model.take(points)
        self.model.balance -= points

    @rule(points=st.sampled_from([-40, 25, 70]))
    def adjust(self, points):
        refused = points < 0 and -points > self.model.balance + 0.001
        try:
            self.card._ledger_post("adjust", points, reason="state machine")
        except UserError:
            assert refused, f"an adjustment of {points} on {self.model.balance} points was refused"
            return
        assert not refused, "a negative adjustment beyond the balance went through"
        if points > 0:
            self.model.credit(points)
        else:
            self.model.take(-points)
            self.model.balance += points

    @rule()
    def expire(self):
        self.clock += dt.timedelta(days=2 * VALIDITY_DAYS)
        self.frozen.move_to(self.clock)
        self.case.env["loyalty.history"]._cron_expire_points()
        self.model.expire_all()

    @rule(gold=st.booleans())
    def change_tier(self, gold):
        self.card._crm_tier_set_manual(
            self.case.gold if gold else self.case.env["loyalty.tier"], "state machine"
        )
        self.multiplier = 2.0 if gold else 1.0

    @rule()
    def change_earn_trigger(self):
        refused = bool(
            self.case._ledger().filtered(lambda line: line.move_type in ("earn", "reverse"))
        ) or any(o["record"].state == "sale" for o in self.orders)
        try:
            self.case.program.earn_trigger = "invoice"
            self.case.program.earn_trigger = "order"
        except ValidationError:
            assert refused, "the earn trigger change was refused with nothing credited"
            return
        assert not refused, "the earn trigger changed on a program that credited points"

    # --- checks --------------------------------------------------------------------------------

    @invariant()
    def ledger_matches_the_model(self):
        case = self.case
        case.env.invalidate_all()
        card = self.card
        lines = case._ledger()
        total = round(sum(lines.mapped("points")), 2)
        assert round(card.points, 2) == total, f"card {card.points} != ledger {total}"
        assert abs(card.points - self.model.balance) < 0.01, (
            f"card {card.points} != model {self.model.balance}"
        )
        remaining = round(sum(lines.mapped("remaining_points")), 2)
        assert abs(remaining - max(total, 0.0)) < 0.01, f"open lots {remaining} != balance {total}"
        now = {
            line.id: (line.points, line.balance_after, line.expired_points, line.shortfall_points)
            for line in lines
        }
        for line_id, values in self.snapshot.items():
            assert now.get(line_id) == values, "a posted line changed or disappeared"
        self.snapshot = now


class TestLedgerStateMachine(LedgerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write(
            {
                "points_validity": VALIDITY_DAYS,
                "points_validity_unit": "day",
                "crm_tier_downgrade_policy": "never",
                # a tier no one qualifies for: set by hand only, so the multiplier is the model's
                "crm_tier_ids": [Command.create({"name": "Gold", "min_amount": 1e12, "multiplier": 2.0})],
            }
        )
        cls.gold = cls.program.crm_tier_ids

    def test_state_machine(self):
        LedgerMachine.case = self
        profile = settings.get_profile(settings._current_profile)
        # 200 examples of 12 steps by default and under Hypothesis' own "ci" profile (chosen when CI
        # is set; its 50 steps made this one test run for over 20 minutes); the profile's own
        # figures, if larger, with --hypothesis-profile=thorough.
        chosen = settings._current_profile not in ("default", "ci")
        run_state_machine_as_test(
            LedgerMachine,
            settings=settings(
                max_examples=max(profile.max_examples, 200) if chosen else 200,
                stateful_step_count=profile.stateful_step_count if chosen else 12,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
