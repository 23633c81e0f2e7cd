from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.sql import create_index

from ..engine import ledger
from .loyalty_card import HELD_FIELDS
from .loyalty_program import INVOICE_TYPES


class AccountMove(models.Model):
    _inherit = "account.move"

    crm_loyalty_points_settled = fields.Boolean(
        string="Loyalty Points Settled",
        copy=False,
        readonly=True,
        help="Technical: this posted credit note already took its loyalty points back (possibly "
        "fewer than due, when the customer's balance was short); it does not take more later.",
    )

    def init(self):
        res = super().init()
        # the real-time tier check sums a customer's posted invoices over the window
        create_index(
            self.env.cr,
            "account_move_crm_loyalty_spend_idx",
            self._table,
            ["commercial_partner_id", "invoice_date"],
            where="move_type IN ('out_invoice', 'out_refund') AND state = 'posted'",
        )
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_loyalty_ledger(self):
        # sudo: the ledger lines may be on cards the user does not read; only their existence matters
        lines = self.env["loyalty.history"].sudo().search([("invoice_id", "in", self.ids)], limit=1)
        if lines:
            raise UserError(
                self.env._(
                    "%s is the source of loyalty ledger lines: it cannot be deleted; cancel it instead.",
                    lines.invoice_id.display_name,
                )
            )

    def _crm_loyalty_line_amounts(self):
        """{sale.order: {sale.order.line: untaxed amount of this move's lines billing it}}, signed
        as in the move; an invoice line billing several order lines is split evenly between them."""
        amounts = defaultdict(lambda: defaultdict(float))
        for line in self.invoice_line_ids:
            sale_lines = line.sale_line_ids
            for sale_line in sale_lines:
                amounts[sale_line.order_id][sale_line] += line.price_subtotal / len(sale_lines)
        return amounts

    def _crm_loyalty_sync_ledger(self):
        """Earn on posted customer invoices (programs earning on invoices), take points back on
        posted credit notes line by line, and undo both when the move leaves the posted state.

        Points are weighted by the order lines that earned them (``sale.order._crm_loyalty_earning_lines``):
        an invoice earns, and a credit note takes back, the share of the points of the earning
        lines it bills or refunds; lines that earned nothing move nothing."""
        # sudo: the ledger is posted by the server for the invoice, whoever posts it (no RPC reaches it)
        history = self.env["loyalty.history"].sudo()
        for move in self.filtered(lambda m: m.move_type in ("out_invoice", "out_refund")):
            posted = move.state == "posted"
            orders = move._crm_loyalty_line_amounts()
            # the cards the move posted on matter only to undo what it no longer posts
            posted_cards = (
                []
                if posted
                else history._read_group(
                    [("invoice_id", "=", move.id), ("move_type", "!=", False)], ["card_id"]
                )
            )
            if not orders and not posted_cards:
                continue
            vals = {"invoice_id": move.id, "description": move.display_name}
            if move.move_type == "out_invoice":
                move._crm_loyalty_sync_invoice(orders, posted, posted_cards, vals)
            elif not (posted and move.crm_loyalty_points_settled):
                move._crm_loyalty_sync_credit_note(orders, posted, posted_cards, vals)
                if move.crm_loyalty_points_settled != posted:
                    # sudo: a technical flag of the ledger sync, not a field the user edits
                    move.sudo().crm_loyalty_points_settled = posted

    def _crm_loyalty_sync_invoice(self, orders, posted, posted_cards, vals):
        cards_done = self.env["loyalty.card"]
        for order, line_amounts in orders.items():
            earned = defaultdict(float)
            for coupon_point in order.coupon_point_ids:
                card = coupon_point.coupon_id
                if card.program_id.ledger_enabled and card.program_id.earn_trigger == "invoice":
                    earned[card] += coupon_point.points
            if not earned:
                continue
            key = f"account.move:{self.id}:earn:{order.id}"
            line_vals = {**vals, "sale_order_id": order.id, "source_type": "invoice"}
            cards = self.env["loyalty.card"].union(*earned).sorted("id")
            with cards._ledger_hold([key]):
                for card in cards:
                    if posted:
                        # the invoice earns the share of the order's points of the earning lines it bills
                        earning = order._crm_loyalty_earning_lines(card.program_id)
                        invoiced = sum(line_amounts.get(line, 0.0) for line in earning)
                        share = ledger.earned_share(
                            earned[card], sum(earning.mapped("price_subtotal")), invoiced
                        )
                        card._ledger_earn(key, share, **line_vals)
                    else:
                        card._ledger_sync(key, 0.0, "earn", **line_vals)
                    cards_done |= card
        self._crm_loyalty_undo_rest(posted_cards, cards_done, vals)

    def _crm_loyalty_sync_credit_note(self, orders, posted, posted_cards, vals):
        # sudo: the credit note reads and posts the lines of its orders, whoever may read them
        history = self.env["loyalty.history"].sudo()
        cards_done = self.env["loyalty.card"]
        for order, refunded_lines in orders.items():
            key = f"account.move:{self.id}:refund:{order.id}"
            # the order's earn lines and its credit notes' lines, in one query
            lines = history.search_fetch(
                [
                    ("sale_order_id", "=", order.id),
                    "|",
                    ("move_type", "=", "earn"),
                    ("source_type", "=", "credit_note"),
                ],
                HELD_FIELDS,
                order="card_id, id",
            )
            earn_lines = lines.filtered(lambda line: line.move_type == "earn")
            cards = earn_lines.card_id.sorted("id")
            if not cards:
                continue
            refunds = lines.filtered(lambda line: line.source_type == "credit_note")
            line_vals = {**vals, "sale_order_id": order.id, "source_type": "credit_note"}
            with cards._ledger_hold(
                [key], lines=refunds.filtered(lambda line, key=key: line.source_key == key)
            ):
                for card in cards:
                    card_earns = earn_lines.filtered(lambda line, card=card: line.card_id == card)
                    target = 0.0
                    if posted:
                        other_refunds = refunds.filtered(
                            lambda line, card=card, key=key: line.card_id == card and line.source_key != key
                        )
                        # points earned on the order, net of cancellations and resets (not of credit notes)
                        earned = sum(
                            line.points
                            + sum(
                                reversal._net_points()
                                for reversal in line.reversal_line_ids
                                if reversal.source_type != "credit_note"
                            )
                            for line in card_earns
                        )
                        base, refunded = self._crm_loyalty_refund_base(
                            order, card.program_id, card_earns, refunded_lines
                        )
                        target = -ledger.proportional_reversal(
                            earned,
                            base,
                            refunded,
                            already_reversed=-sum(line._effective_points() for line in other_refunds),
                        )
                    card._ledger_sync(key, target, "reverse", reverse_of=card_earns, once=True, **line_vals)
                    cards_done |= card
        self._crm_loyalty_undo_rest(posted_cards, cards_done, vals)

    def _crm_loyalty_refund_base(self, order, program, card_earns, refunded_lines):
        """``(base, refunded)`` amounts of the order's earning lines for a credit note: the base is
        what the points were earned on, per earning line (the order line's amount, or, earning on
        invoices, what the invoices still earning billed of it); the refunded amount is what this
        credit note refunds of each earning line, at most that line's base."""
        earning = order._crm_loyalty_earning_lines(program)
        base_of = {line: line.price_subtotal for line in earning}
        invoice_earns = card_earns.filtered(
            lambda line: line.invoice_id and ledger.round_points(line._net_points())
        )
        if invoice_earns:
            base_of = dict.fromkeys(earning, 0.0)
            for invoice in invoice_earns.invoice_id:
                for line, amount in invoice._crm_loyalty_line_amounts().get(order, {}).items():
                    if line in base_of:
                        base_of[line] += amount
        refunded = sum(
            max(0.0, min(abs(refunded_lines.get(line, 0.0)), line_base))
            for line, line_base in base_of.items()
        )
        return sum(base_of.values()), refunded

    def _crm_loyalty_undo_rest(self, posted_cards, cards_done, vals):
        """Reverse what a move no longer posted (reset to draft, cancelled) put on cards it no
        longer links to (e.g. its order was cancelled since). A posted move keeps its points:
        only a credit note takes them back."""
        if self.state == "posted":
            return
        # sudo: undoing a move reverses its own lines, whoever may read them
        history = self.env["loyalty.history"].sudo()
        for (card,) in posted_cards:
            if card in cards_done:
                continue
            keys = set(
                history.search([("card_id", "=", card.id), ("invoice_id", "=", self.id)]).mapped("source_key")
            )
            for key in sorted(filter(None, keys)):
                card._ledger_sync(key, 0.0, "earn", invoice_id=self.id, description=self.display_name)

    def _post(self, soft=True):
        posted = super()._post(soft)
        posted._crm_loyalty_sync_ledger()
        posted._crm_tier_requalify()
        return posted

    def button_draft(self):
        moves = self.filtered(lambda move: move.state == "posted")
        res = super().button_draft()
        moves._crm_loyalty_sync_ledger()
        moves._crm_tier_requalify()
        return res

    def button_cancel(self):
        moves = self.filtered(lambda move: move.state == "posted")
        res = super().button_cancel()
        moves._crm_loyalty_sync_ledger()
        return res

    def _crm_tier_requalify(self):
        """Real-time re-qualification of the tiers of the customers whose spend changed: only
        upgrades for those whose spend only rose (invoices posted, credit notes withdrawn)."""
        moves = self.filtered(lambda m: m.move_type in INVOICE_TYPES)
        lowered = moves.filtered(
            lambda m: (m.move_type == "out_invoice") != (m.state == "posted")
        ).commercial_partner_id
        raised = moves.commercial_partner_id - lowered
        # sudo: re-qualification follows the invoice, whoever posted it; it hands nothing back to the user
        cards = self.env["loyalty.card"].sudo()
        if raised:
            cards._crm_tier_evaluate_partners(set(raised.ids), "spend", raised=True)
        if lowered:
            cards._crm_tier_evaluate_partners(set(lowered.ids), "spend")
