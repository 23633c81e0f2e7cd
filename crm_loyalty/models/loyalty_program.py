import os
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

from ..engine import ledger
from ..engine import tiers as tier_engine
from .loyalty_history import CRON_BATCH, TIER, ledger_scope

INVOICE_TYPES = ("out_invoice", "out_refund")
# Test runs only (``dev.py stock-tests --forced-ledger``): every loyalty program keeps the ledger,
# so that Odoo's own suites exercise it. An environment variable of the server process, read only
# when tests are enabled: no client can set it.
FORCE_LEDGER_ENV = "CRM_LOYALTY_FORCE_LEDGER"


class LoyaltyProgram(models.Model):
    _inherit = "loyalty.program"

    _sql_constraints = [
        (
            "crm_tier_window_positive",
            "CHECK (crm_tier_window_months > 0)",
            "The tier qualification window must be at least one month.",
        ),
        (
            "crm_point_value_positive",
            "CHECK (crm_point_value >= 0)",
            "The point value cannot be negative.",
        ),
    ]

    ledger_enabled = fields.Boolean(
        string="Auditable Points Ledger",
        help="Every point movement of this program's cards is posted as an immutable ledger line "
        "(earn, redeem, expire, adjust, reverse); corrections are reversing lines.",
    )
    earn_trigger = fields.Selection(
        [("order", "On sales order confirmation"), ("invoice", "On customer invoice posting")],
        string="Earn Points",
        default="order",
        required=True,
        help="When the points of an order are credited: at order confirmation (Odoo's standard) "
        "or when its customer invoices are posted, in proportion to the invoiced amount.",
    )
    crm_reversal_policy = fields.Selection(
        [
            ("debt", "The card goes negative (a debt)"),
            ("shortfall", "Take at most the balance; record the shortfall"),
        ],
        string="Points Already Spent",
        default="debt",
        required=True,
        help="When a cancellation, a reset to draft or a credit note takes back points the customer "
        "already spent: either the card goes negative, a debt that the next points earned pay "
        "back first, or the reversal takes what is left and records the shortfall on its line. "
        "The sale or accounting operation itself is never refused.",
    )
    points_validity = fields.Integer(
        help="How long earned points stay usable; 0 means they never expire.",
    )
    points_validity_unit = fields.Selection(
        [("day", "Days"), ("week", "Weeks"), ("month", "Months"), ("year", "Years")],
        string="Validity Unit",
        default="month",
        required=True,
    )
    points_expiry_rounding = fields.Selection(
        [
            ("none", "Exact date"),
            ("month", "End of month"),
            ("quarter", "End of quarter"),
            ("year", "End of year"),
        ],
        string="Expiry Rounding",
        default="none",
        required=True,
        help="Push each expiry date to the end of its month, quarter or year.",
    )
    expiry_notice_days = fields.Integer(
        string="Expiry Notice (days)",
        default=30,
        help="Customers get an 'expiring soon' email this many days before their points expire; 0 disables it.",
    )
    crm_tier_ids = fields.One2many("loyalty.tier", "program_id", string="Tiers", copy=True)
    crm_tier_basis = fields.Selection(
        [("spend", "Invoiced spend"), ("orders", "Ordered spend"), ("points", "Points earned")],
        string="Qualification Basis",
        default="spend",
        required=True,
        help="Invoiced spend: posted customer invoices net of credit notes, untaxed, in company "
        "currency. Ordered spend: confirmed sales orders, untaxed, in company currency. "
        "Points earned: points the member earned on this program, before tier multipliers.",
    )
    crm_tier_window_months = fields.Integer(
        string="Qualification Window (months)",
        default=12,
        required=True,
        help="The qualifying amount is summed over this many months up to the review day.",
    )
    crm_tier_requalification = fields.Selection(
        [("realtime", "Real time"), ("anniversary", "At the membership anniversary")],
        string="Re-qualification",
        default="realtime",
        required=True,
        help="Upgrades are always granted as soon as a member qualifies. Downgrades are applied at "
        "any evaluation in real time, only on the membership anniversary otherwise.",
    )
    crm_tier_downgrade_policy = fields.Selection(
        [
            ("never", "Never downgrade"),
            ("one_level", "One level at a time"),
            ("qualify", "To the qualifying tier"),
        ],
        string="Downgrade Policy",
        default="one_level",
        required=True,
    )
    crm_tier_upgrade_template_id = fields.Many2one(
        "mail.template",
        string="Upgrade Email",
        domain=[("model", "=", "loyalty.card")],
        default=lambda self: self.env.ref("crm_loyalty.mail_template_tier_upgrade", False),
    )
    crm_tier_downgrade_template_id = fields.Many2one(
        "mail.template",
        string="Downgrade Email",
        domain=[("model", "=", "loyalty.card")],
        default=lambda self: self.env.ref("crm_loyalty.mail_template_tier_downgrade", False),
    )
    crm_point_value = fields.Float(
        string="Point Value",
        digits="Product Price",
        help="Value of one point in the program's currency, used for the outstanding liability.",
    )

    @api.constrains(
        "ledger_enabled",
        "program_type",
        "earn_trigger",
        "points_validity",
        "expiry_notice_days",
        "crm_tier_ids",
    )
    def _check_ledger_settings(self):
        for program in self:
            if program.ledger_enabled and program.program_type != "loyalty":
                raise ValidationError(
                    self.env._(
                        "Program %s: the points ledger is only available for loyalty card programs.",
                        program.name,
                    )
                )
            if not program.ledger_enabled and (program.earn_trigger == "invoice" or program.points_validity):
                raise ValidationError(
                    self.env._(
                        "Program %s: earning on invoices and point expiry need the auditable points ledger; enable it first.",
                        program.name,
                    )
                )
            if not program.ledger_enabled and any(tier.multiplier != 1 for tier in program.crm_tier_ids):
                raise ValidationError(
                    self.env._(
                        "Program %s: tier earning multipliers apply to ledger postings only; enable the "
                        "auditable points ledger, or set the multipliers to 1.",
                        program.name,
                    )
                )
            # pos_loyalty (not a dependency) writes card points and history directly
            if program.ledger_enabled and program._fields.get("pos_ok") and program.pos_ok:
                raise ValidationError(
                    self.env._(
                        "Program %s keeps an auditable points ledger, which the Point of Sale cannot post "
                        "to yet: untick 'Point of Sale' on the program, or keep a program without ledger "
                        "for the shop.",
                        program.name,
                    )
                )
            if program.points_validity < 0 or program.expiry_notice_days < 0:
                raise ValidationError(
                    self.env._("Program %s: validity and notice days cannot be negative.", program.name)
                )

    @api.model
    def _crm_loyalty_ledger_forced(self):
        return bool(tools.config["test_enable"] and os.environ.get(FORCE_LEDGER_ENV))

    @api.model_create_multi
    def create(self, vals_list):
        if self._crm_loyalty_ledger_forced():
            default_type = self.default_get(["program_type"]).get("program_type")
            for vals in vals_list:
                if vals.get("program_type", default_type) == "loyalty" and not vals.get("pos_ok"):
                    vals["ledger_enabled"] = True
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("program_type") == "loyalty" and self._crm_loyalty_ledger_forced():
            vals = {**vals, "ledger_enabled": True}
        if "ledger_enabled" in vals:
            # sudo: whether the program has ledger lines does not depend on what the user may read
            history = self.env["loyalty.history"].sudo()
            if not vals["ledger_enabled"] and history.search_count(
                [
                    ("card_id.program_id", "in", self.filtered("ledger_enabled").ids),
                    ("move_type", "!=", False),
                ],
                limit=1,
            ):
                raise ValidationError(
                    self.env._(
                        "The points ledger cannot be switched off once lines are posted: it is the audit trail."
                    )
                )
            opening = (
                self.filtered(lambda p: not p.ledger_enabled) if vals["ledger_enabled"] else self.browse()
            )
        else:
            opening = self.browse()
        if "earn_trigger" in vals:
            self._crm_check_earn_trigger_change(vals["earn_trigger"])
        res = super().write(vals)
        if "pos_ok" in vals:  # pos_loyalty's field: no constraint can name it without the dependency
            self._check_ledger_settings()
        if opening:
            # archived cards too: their balance is part of the program's liability
            cards = (
                self.env["loyalty.card"]
                .with_context(active_test=False)
                .search([("program_id", "in", opening.ids)])
            )
            cards._ledger_open(self.env._("Opening balance: points held when the ledger was enabled"))
        return res

    def _crm_check_earn_trigger_change(self, trigger):
        """Refuse moving the earn trigger of a program that already credited points: orders
        earned on confirmation would earn again on their invoices, or invoiced ones never."""
        changed = self.filtered(lambda program: program.earn_trigger != trigger)
        if not changed:
            return
        # sudo: whether points were posted does not depend on what the user may read
        posted = (
            self.env["loyalty.history"]
            .sudo()
            .search([("program_id", "in", changed.ids), ("move_type", "in", ("earn", "reverse"))], limit=1)
        )
        confirmed = (
            self.env["sale.order.coupon.points"]
            .sudo()
            .search([("coupon_id.program_id", "in", changed.ids), ("order_id.state", "=", "sale")], limit=1)
        )
        if posted or confirmed:
            program = (posted.program_id or confirmed.coupon_id.program_id)[:1]
            raise ValidationError(
                self.env._(
                    "Program %s already credited points on orders or invoices: its earn trigger cannot change "
                    "any more. Archive it and start a new program with the other trigger.",
                    program.name,
                )
            )

    def _program_type_default_values(self):
        # The web client's program action asks for the ledger on new loyalty programs (a default,
        # so a context key is enough: the ledger is the stricter mode); ORM creations and stock
        # tests keep stock behaviour.
        values = super()._program_type_default_values()
        if self.env.context.get("crm_loyalty_ledger_default"):
            for program_type, defaults in values.items():
                defaults["ledger_enabled"] = program_type == "loyalty"
        return values

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if (
            self.env.context.get("crm_loyalty_ledger_default")
            and "ledger_enabled" in fields_list
            and values.get("program_type") == "loyalty"
        ):
            values["ledger_enabled"] = True
        return values

    def _ledger_expiry_date(self, day):
        """Expiry date of points earned on ``day`` under this program (None: never)."""
        self.ensure_one()
        return ledger.expiry_date(
            day, self.points_validity, self.points_validity_unit, self.points_expiry_rounding
        )

    # --- tier qualification and evaluation: the program is their subject ----------------------

    def _crm_tier_qualifying_amounts(self, cards, today):
        """``{card id: qualifying amount}`` of these cards of the program over its window ending
        ``today``, set-wise."""
        self.ensure_one()
        if not cards.ids:
            return {}
        date_from = tier_engine.window_start(today, self.crm_tier_window_months)
        if self.crm_tier_basis == "points":
            query = self._crm_tier_points_query(cards, date_from, today)
        elif self.crm_tier_basis == "orders":
            query = self._crm_tier_orders_query(cards, date_from, today)
        else:
            query = self._crm_tier_spend_query(cards, date_from, today)
        self.env.flush_all()
        return dict(self.env.execute_query(query))

    def _crm_tier_spend_query(self, cards, date_from, date_to):
        # amounts of one company only (they are in its currency): the card's, else its customer's,
        # else the current one (a card of a program shared by companies)
        company_filter = SQL(
            "AND move.company_id = COALESCE(card.company_id, partner.company_id, %s)", self.env.company.id
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
            card_ids=cards.ids,
            types=INVOICE_TYPES,
            date_from=date_from,
            date_to=date_to,
            company_filter=company_filter,
        )

    def _crm_tier_orders_query(self, cards, date_from, date_to):
        # one company's orders only, as for the spend basis
        company_filter = SQL(
            "AND so.company_id = COALESCE(card.company_id, partner.company_id, %s)", self.env.company.id
        )
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
            card_ids=cards.ids,
            date_from=date_from,
            date_to=date_to + timedelta(days=1),
            company_filter=company_filter,
        )

    def _crm_tier_points_query(self, cards, date_from, date_to):
        """Points earned over the window, before tier multipliers (so that a tier does not feed
        its own qualification). On a ledger program: earn lines net of their chains of reversals
        (a credit note's take-back reversed in turn counts again), by ledger date; otherwise the
        stock history's issued points, by creation date."""
        if self.ledger_enabled:
            return SQL(
                """
                WITH RECURSIVE chain AS (
                    SELECT line.id, line.id AS earn_id
                      FROM loyalty_history line
                     WHERE line.card_id = ANY(%(card_ids)s) AND line.move_type = 'earn'
                     UNION ALL
                    SELECT line.id, chain.earn_id
                      FROM loyalty_history line
                      JOIN chain ON line.reversed_line_id = chain.id
                     WHERE line.move_type = 'reverse'
                )
                SELECT line.card_id,
                       SUM(line.points / COALESCE(NULLIF(earn.earn_multiplier, 0), 1))
                  FROM chain
                  JOIN loyalty_history line ON line.id = chain.id
                  JOIN loyalty_history earn ON earn.id = chain.earn_id
                 WHERE line.date >= %(date_from)s AND line.date < %(date_to)s
              GROUP BY line.card_id
                """,
                card_ids=cards.ids,
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
            card_ids=cards.ids,
            date_from=date_from,
            date_to=date_to,
        )

    def _crm_tier_sorted(self):
        """The program's tiers, lowest first (rank 1 is the first tier, 0 no tier)."""
        return self.crm_tier_ids.sorted(lambda t: (t.min_amount, t.sequence, t.id))

    def _crm_tier_decisions(self, members, tiers, today):
        """``{card id: (new rank, reviewed)}`` of these members (``{card id: {"key": card id,
        "amount", "rank", "start", "last_review"}}``) on ``today``, by the program's policy: the
        nightly run and the real-time check decide the same way."""
        self.ensure_one()

        def evaluate(keys):
            return tier_engine.evaluate(
                [members[key] for key in keys],
                tiers.mapped("min_amount"),
                self.crm_tier_downgrade_policy,
                self.crm_tier_requalification,
                today,
                window_months=self.crm_tier_window_months,
            )

        decisions = evaluate(members)
        # members moving down may be held by "one level" (a downgrade within the window): one
        # read of the last downgrades of those members only (an invoice posting re-qualifies
        # its customer and usually moves nobody down)
        down = [key for key, (rank, _reviewed) in decisions.items() if rank < members[key]["rank"]]
        if down:
            # sudo: tier history is the server's record of the evaluation
            for card, last in (
                self.env["loyalty.tier.history"]
                .sudo()
                ._read_group(
                    [("card_id", "in", down), ("change", "=", "downgrade")], ["card_id"], ["date:max"]
                )
            ):
                members[card.id]["last_downgrade"] = last
            decisions.update(evaluate(down))
        return decisions

    def _crm_tier_moving_cards(self, today):
        """Ids of this program's members whose tier would move, or whose anniversary review is
        due, on ``today``: every member decided at once, from one aggregate query of their
        qualifying amounts (the nightly run then writes only these)."""
        self.ensure_one()
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT id, crm_tier_id, COALESCE(crm_tier_start_date, create_date::date), crm_tier_review_date
                  FROM loyalty_card
                 WHERE program_id = %s AND partner_id IS NOT NULL AND active
              ORDER BY id
                """,
                self.id,
            )
        )
        if not rows:
            return []
        tiers = self._crm_tier_sorted()
        rank_of = {tier.id: rank for rank, tier in enumerate(tiers, start=1)}
        amounts = self._crm_tier_qualifying_amounts(
            self.env["loyalty.card"].browse([row[0] for row in rows]), today
        )
        members = {
            card_id: {
                "key": card_id,
                "amount": amounts.get(card_id, 0.0),
                "rank": rank_of.get(tier_id, 0),
                "start": start,
                "last_review": last_review,
            }
            for card_id, tier_id, start, last_review in rows
        }
        decisions = self._crm_tier_decisions(members, tiers, today)
        return [
            card_id
            for card_id, (rank, reviewed) in decisions.items()
            if reviewed or rank != members[card_id]["rank"]
        ]

    def _crm_tier_evaluate_cards(self, cards, today, queue_mails=False):
        """Re-qualify these cards of the program on ``today``: write the moves set-wise (one
        write per new tier, one tier history insert) and mail the members who move.

        ``queue_mails`` (the nightly run): the moves' mails are left pending for the mail step
        (``loyalty.tier.history._cron_send_tier_mails``), and the chatter does not track each
        member's tier (the tier history is the record): a run's cost does not grow with mails."""
        self.ensure_one()
        tiers = self._crm_tier_sorted()
        rank_of = {tier.id: rank for rank, tier in enumerate(tiers, start=1)}
        amounts = self._crm_tier_qualifying_amounts(cards, today)
        members = {
            card.id: {
                "key": card.id,
                "amount": amounts.get(card.id, 0.0),
                "rank": rank_of.get(card.crm_tier_id.id, 0),
                "start": card.crm_tier_start_date or card.create_date.date(),
                "last_review": card.crm_tier_review_date,
            }
            for card in cards
        }
        decisions = self._crm_tier_decisions(members, tiers, today)
        if queue_mails:
            cards = cards.with_context(tracking_disable=True)
        changed = {}  # new rank -> card ids
        history_vals = []
        for card in cards:
            rank, reviewed = decisions[card.id]
            old_rank = members[card.id]["rank"]
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
        reviewed_ids = [card_id for card_id, (_rank, reviewed) in decisions.items() if reviewed]
        with ledger_scope(TIER):
            if reviewed_ids:
                cards.browse(reviewed_ids).write({"crm_tier_review_date": today})
            for rank, card_ids in changed.items():
                cards.browse(card_ids).write(
                    {"crm_tier_id": tiers[rank - 1].id if rank else False, "crm_tier_date": today}
                )
        History = self.env["loyalty.tier.history"]
        if not history_vals:
            return History
        # a member's first, entry tier is assigned silently (no "welcome to Bronze" to every
        # member); sudo: whether a card has a tier history does not depend on what the user may read
        known = {
            card.id
            for [card] in History.sudo()._read_group(
                [("card_id", "in", [vals["card_id"] for vals in history_vals])], ["card_id"]
            )
        }
        mail = not self.env.context.get("loyalty_no_mail")
        for vals in history_vals:
            vals["mail_pending"] = mail and bool(
                vals["old_tier_id"] or vals["card_id"] in known or vals["new_tier_id"] != tiers[:1].id
            )
        History._supersede_pending_mails([vals["card_id"] for vals in history_vals])
        # sudo: tier history is written by the server only (read-only for every group)
        histories = History.sudo().create(history_vals)
        if not queue_mails:
            histories._send_tier_mails()
        return histories

    def _crm_archive_unused_campaign_rewards(self, today):
        """Archive the coupon campaigns' product rewards of these programs that no live coupon
        (active, unused, not expired on ``today``) offers any more, so that what stock's
        ``_get_claimable_rewards`` reads on every order does not grow with the campaign's age.
        A campaign that picks the product again brings its reward back (``_product_rewards``).
        The vouchers' whole-order reward is not a per-product one: it stays."""
        if not self.ids:
            return
        self.env.flush_all()
        unused = [
            reward_id
            for (reward_id,) in self.env.execute_query(
                SQL(
                    """
                    SELECT reward.id
                      FROM loyalty_reward reward
                     WHERE reward.program_id = ANY(%(program_ids)s)
                       AND reward.crm_campaign_reward AND reward.active
                       AND (reward.reward_type = 'product' OR reward.discount_applicability = 'specific')
                       AND NOT EXISTS (
                               SELECT 1
                                 FROM crm_loyalty_card_reward_rel rel
                                 JOIN loyalty_card card ON card.id = rel.card_id
                                WHERE rel.reward_id = reward.id
                                  AND card.active AND card.points > 0
                                  AND (card.expiration_date IS NULL OR card.expiration_date >= %(today)s))
                    """,
                    program_ids=self.ids,
                    today=today,
                )
            )
        ]
        # sudo: the campaign's own rewards, archived by the server whoever runs the campaign
        self.env["loyalty.reward"].sudo().browse(unused).action_archive()

    @api.model
    def _crm_tiered_programs(self):
        return self.search([("program_type", "=", "loyalty"), ("crm_tier_ids", "!=", False)])

    @api.model
    def _cron_tier_requalify(self):
        """Daily: re-qualify every member of every tiered program (anniversary reviews included).

        Each program decides for all its members at once (one aggregate query,
        ``_crm_tier_moving_cards``); only the members whose tier moves or whose review falls due
        are then evaluated and written, in batches of ``CRON_BATCH``, each its own commit in a
        scheduled run. An evaluation is idempotent, so a stopped run resumes. The mails of the
        moves are left to the mail step, triggered at the end, which sends each once."""
        today = fields.Date.context_today(self)
        queued = False
        for program in self._crm_tiered_programs():
            card_ids = program._crm_tier_moving_cards(today)
            for start in range(0, len(card_ids), CRON_BATCH):
                batch = card_ids[start : start + CRON_BATCH]
                histories = program._crm_tier_evaluate_cards(
                    self.env["loyalty.card"].browse(batch), today, queue_mails=True
                )
                queued = queued or any(histories.mapped("mail_pending"))
                self.env["loyalty.history"]._cron_commit_batch(
                    start + len(batch), max(len(card_ids) - start - len(batch), 0), commit=True
                )
                self.env.invalidate_all()
        if queued:
            self.env.ref("crm_loyalty.ir_cron_tier_mails")._trigger()

    def action_crm_tier_requalify(self):
        """Queue the re-qualification of every tiered program's members (loyalty managers): the
        daily scheduled action runs now, in its own batched transactions, not in this request."""
        if not self.env.user.has_group("crm_loyalty.group_crm_loyalty_manager"):
            raise AccessError(self.env._("Only loyalty managers re-qualify the members of a program."))
        self.env.ref("crm_loyalty.ir_cron_tier_requalify")._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._(
                    "Re-qualification of the members queued: the scheduled action runs in a moment."
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
