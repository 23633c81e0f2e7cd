from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..engine import tiers as tier_engine

# Customer invoices and credit notes; refunds carry negative signed amounts.
INVOICE_TYPES = ("out_invoice", "out_refund")


def _tier_key(tier):
    """Order of tiers within a program; no tier comes first."""
    return (tier.min_amount, tier.sequence, tier.id) if tier else (float("-inf"), 0, 0)


class LoyaltyCard(models.Model):
    _inherit = "loyalty.card"  # pylint: disable=consider-merging-classes-inherited

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

    def _compute_crm_qualifying_amount(self):
        self.crm_qualifying_amount = 0.0
        today = fields.Date.context_today(self)
        for program, cards in self.filtered("partner_id").grouped("program_id").items():
            if program.program_type != "loyalty":
                continue
            amounts = cards._crm_qualifying_amounts(program, today)
            for card in cards:
                card.crm_qualifying_amount = amounts.get(card.id, 0.0)

    def _crm_qualifying_amounts(self, program, today):
        """``{card id: qualifying amount}`` over the program's window ending ``today``, set-wise."""
        if not self.ids:
            return {}
        date_from = tier_engine.window_start(today, program.crm_tier_window_months)
        if program.crm_tier_basis == "points":
            query = self._crm_qualifying_points_query(program, date_from, today)
        elif program.crm_tier_basis == "orders":
            query = self._crm_qualifying_orders_query(program, date_from, today)
        else:
            query = self._crm_qualifying_spend_query(program, date_from, today)
        self.env.flush_all()
        self.env.cr.execute(query)
        return dict(self.env.cr.fetchall())

    def _crm_qualifying_spend_query(self, program, date_from, date_to):
        company_filter = (
            SQL("AND move.company_id = %s", program.company_id.id) if program.company_id else SQL()
        )
        return SQL(
            """
            SELECT card.id, SUM(move.amount_untaxed_signed)
              FROM loyalty_card card
              JOIN res_partner partner ON partner.id = card.partner_id
              JOIN account_move move ON move.commercial_partner_id = partner.commercial_partner_id
             WHERE card.id = ANY(%(card_ids)s)
               AND move.move_type IN %(types)s
               AND move.state = 'posted'
               AND move.invoice_date BETWEEN %(date_from)s AND %(date_to)s
               %(company_filter)s
          GROUP BY card.id
            """,
            card_ids=self.ids,
            types=INVOICE_TYPES,
            date_from=date_from,
            date_to=date_to,
            company_filter=company_filter,
        )

    def _crm_qualifying_orders_query(self, program, date_from, date_to):
        company_filter = SQL("AND so.company_id = %s", program.company_id.id) if program.company_id else SQL()
        return SQL(
            """
            SELECT card.id, SUM(so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1))
              FROM loyalty_card card
              JOIN res_partner partner ON partner.id = card.partner_id
              JOIN res_partner buyer ON buyer.commercial_partner_id = partner.commercial_partner_id
              JOIN sale_order so ON so.partner_id = buyer.id
             WHERE card.id = ANY(%(card_ids)s)
               AND so.state = 'sale'
               AND so.date_order >= %(date_from)s AND so.date_order < %(date_to)s
               %(company_filter)s
          GROUP BY card.id
            """,
            card_ids=self.ids,
            date_from=date_from,
            date_to=date_to + timedelta(days=1),
            company_filter=company_filter,
        )

    def _crm_qualifying_points_query(self, program, date_from, date_to):
        """Points earned over the window, before tier multipliers (so that a tier does not feed
        its own qualification). On a ledger program: earn lines net of their reversals, by ledger
        date; otherwise the stock history's issued points, by creation date."""
        if program.ledger_enabled:
            return SQL(
                """
                SELECT line.card_id,
                       SUM(line.points / COALESCE(NULLIF(earn.earn_multiplier, 0), 1))
                  FROM loyalty_history line
                  JOIN loyalty_history earn
                    ON earn.id = CASE WHEN line.move_type = 'earn' THEN line.id
                                      ELSE line.reversed_line_id END
                 WHERE line.card_id = ANY(%(card_ids)s)
                   AND line.move_type IN ('earn', 'reverse')
                   AND earn.move_type = 'earn'
                   AND line.date >= %(date_from)s AND line.date < %(date_to)s
              GROUP BY line.card_id
                """,
                card_ids=self.ids,
                date_from=date_from,
                date_to=date_to + timedelta(days=1),
            )
        return SQL(
            """
            SELECT history.card_id, SUM(history.issued)
              FROM loyalty_history history
             WHERE history.card_id = ANY(%(card_ids)s)
               AND history.issued > 0
               AND history.create_date::date BETWEEN %(date_from)s AND %(date_to)s
          GROUP BY history.card_id
            """,
            card_ids=self.ids,
            date_from=date_from,
            date_to=date_to,
        )

    def _get_earn_multiplier(self):
        """The tier's earning multiplier on top of any other multiplier."""
        return super()._get_earn_multiplier() * (self.crm_tier_id.multiplier or 1.0)

    def _ledger_post(self, move_type, points, consume_from=None, **vals):
        line = super()._ledger_post(move_type, points, consume_from=consume_from, **vals)
        # Real-time qualification on points: earned points (or their reversal) move the tier.
        program = self.program_id
        if (
            move_type in ("earn", "reverse")
            and program.crm_tier_basis == "points"
            and program.crm_tier_ids
            and not self.env.context.get("crm_loyalty_tier_evaluating")
        ):
            self.sudo().with_context(crm_loyalty_tier_evaluating=True)._crm_tier_evaluate()
        return line

    def _crm_tier_evaluate(self, today=None):
        """Re-qualify these cards' tiers on ``today``: upgrade, downgrade per policy, record the
        change in the tier history and mail the member. Returns the created history lines."""
        today = today or fields.Date.context_today(self)
        histories = self.env["loyalty.tier.history"]
        cards = self.filtered(lambda c: c.partner_id and c.active and c.program_id.crm_tier_ids)
        for program, program_cards in cards.grouped("program_id").items():
            histories |= program_cards._crm_tier_evaluate_program(program, today)
        return histories

    def _crm_tier_evaluate_program(self, program, today):
        tiers = program.crm_tier_ids.sorted(lambda t: (t.min_amount, t.sequence, t.id))
        rank_of = {tier.id: rank for rank, tier in enumerate(tiers, start=1)}
        amounts = self._crm_qualifying_amounts(program, today)
        members = [
            {
                "key": card.id,
                "amount": amounts.get(card.id, 0.0),
                "rank": rank_of.get(card.crm_tier_id.id, 0),
                "start": card.crm_tier_start_date or card.create_date.date(),
                "last_review": card.crm_tier_review_date,
            }
            for card in self
        ]
        decisions = tier_engine.evaluate(
            members,
            tiers.mapped("min_amount"),
            program.crm_tier_downgrade_policy,
            program.crm_tier_requalification,
            today,
        )
        reviewed_ids = [card_id for card_id, (_rank, reviewed) in decisions.items() if reviewed]
        if reviewed_ids:
            self.browse(reviewed_ids).write({"crm_tier_review_date": today})
        changed = {}  # new rank -> card ids
        history_vals = []
        for card in self:
            rank, reviewed = decisions[card.id]
            old_rank = rank_of.get(card.crm_tier_id.id, 0)
            if rank == old_rank:
                continue
            changed.setdefault(rank, []).append(card.id)
            history_vals.append(
                {
                    "card_id": card.id,
                    "date": today,
                    "old_tier_id": card.crm_tier_id.id,
                    "new_tier_id": tiers[rank - 1].id if rank else False,
                    "change": "upgrade" if rank > old_rank else "downgrade",
                    "qualifying_amount": amounts.get(card.id, 0.0),
                    "trigger": "anniversary" if reviewed else "realtime",
                }
            )
        for rank, card_ids in changed.items():
            self.browse(card_ids).with_context(crm_loyalty_tier_evaluating=True).write(
                {"crm_tier_id": tiers[rank - 1].id if rank else False, "crm_tier_date": today}
            )
        histories = self.env["loyalty.tier.history"].create(history_vals)
        histories._send_tier_mails()
        return histories

    def write(self, vals):
        if "crm_tier_id" not in vals or self.env.context.get("crm_loyalty_tier_evaluating"):
            return super().write(vals)
        # A tier set by hand is recorded (and mailed) like an automatic change.
        old_tiers = {card.id: card.crm_tier_id for card in self}
        res = super().write(vals)
        changed = self.filtered(lambda card: card.crm_tier_id != old_tiers[card.id])
        if changed:
            if "crm_tier_date" not in vals:
                changed.with_context(crm_loyalty_tier_evaluating=True).write(
                    {"crm_tier_date": fields.Date.context_today(self)}
                )
            self.env["loyalty.tier.history"].create(
                [
                    {
                        "card_id": card.id,
                        "date": fields.Date.context_today(self),
                        "old_tier_id": old_tiers[card.id].id,
                        "new_tier_id": card.crm_tier_id.id,
                        "change": "upgrade"
                        if _tier_key(card.crm_tier_id) > _tier_key(old_tiers[card.id])
                        else "downgrade",
                        "qualifying_amount": card.crm_qualifying_amount,
                        "trigger": "manual",
                    }
                    for card in changed
                ]
            )._send_tier_mails()
        return res

    @api.model
    def _cron_tier_requalify(self):
        """Daily: re-qualify every member of every tiered program (anniversary reviews included)."""
        programs = self.env["loyalty.program"]._crm_tiered_programs()
        cards = self.search([("program_id", "in", programs.ids), ("partner_id", "!=", False)])
        cards._crm_tier_evaluate()

    @api.model
    def _crm_tier_evaluate_partners(self, commercial_partner_ids, basis):
        """Real-time hook: re-qualify the tiered cards of these commercial partners whose program
        qualifies on ``basis``."""
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
        cards._crm_tier_evaluate()
