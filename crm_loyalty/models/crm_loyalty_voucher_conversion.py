from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..engine import coupons as coupon_engine
from ..engine import vouchers as voucher_engine
from .crm_loyalty_coupon_campaign import run_button
from .loyalty_history import CRON_BATCH, ISSUE, ledger_scope

# member cards per batch of a conversion run: one commit per batch in a scheduled run
VOUCHER_BATCH = CRON_BATCH


class CrmLoyaltyVoucherConversion(models.Model):
    """Points to vouchers, each period (the Clubcard way).

    At every period start, each member card of the loyalty program holding at least
    ``min_points`` converts its points in whole steps (``step_points`` points are worth
    ``step_value`` in the program's currency) into one voucher: a single-use coupon of the voucher
    program, valid ``validity_months``; the remainder stays on the card. The points leave the card
    through the ledger: one posted redemption line per voucher, whose idempotency key (the
    conversion and the period) makes a run resumable after a crash without converting twice.
    Members who refuse loyalty mail keep their points on the card: a voucher they would never
    hear of would lapse unused. A reminder mail goes out ``reminder_days`` before a voucher lapses.
    """

    _name = "crm.loyalty.voucher.conversion"
    _description = "Points to Vouchers"
    _inherit = ["mail.thread"]
    _order = "name, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    loyalty_program_id = fields.Many2one(
        "loyalty.program",
        string="Points of",
        required=True,
        domain="[('program_type', '=', 'loyalty'), ('ledger_enabled', '=', True),"
        " ('company_id', 'in', [company_id, False])]",
        help="The ledger loyalty program whose points convert.",
    )
    voucher_program_id = fields.Many2one(
        "loyalty.program",
        string="Voucher Program",
        required=True,
        domain="[('program_type', '=', 'coupons'), ('company_id', 'in', [company_id, False])]",
        help="Vouchers are single-use coupons of this program, worth their value off an order.",
    )
    currency_id = fields.Many2one(related="loyalty_program_id.currency_id", string="Currency")
    date_start = fields.Date(
        string="First Period", required=True, default=fields.Date.context_today, tracking=True
    )
    interval_number = fields.Integer(string="Every", default=3, required=True, tracking=True)
    interval_type = fields.Selection(
        [("weeks", "Weeks"), ("months", "Months")], default="months", required=True, tracking=True
    )
    min_points = fields.Float(
        string="Minimum Balance", default=150.0, required=True, help="Cards holding fewer points wait."
    )
    step_points = fields.Float(string="Points per Step", default=150.0, required=True, tracking=True)
    step_value = fields.Monetary(
        default=1.5,
        required=True,
        tracking=True,
        help="What one step of points is worth, in the program's currency.",
    )
    validity_months = fields.Integer(string="Valid for (months)", default=24, required=True)
    reminder_days = fields.Integer(
        string="Reminder (days before)", default=30, help="0: no reminder before a voucher lapses."
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Voucher Email",
        domain=[("model", "=", "crm.loyalty.voucher")],
        default=lambda self: self.env.ref("crm_loyalty.mail_template_voucher_issued", False),
    )
    reminder_template_id = fields.Many2one(
        "mail.template",
        string="Reminder Email",
        domain=[("model", "=", "crm.loyalty.voucher")],
        default=lambda self: self.env.ref("crm_loyalty.mail_template_voucher_reminder", False),
    )
    voucher_ids = fields.One2many("crm.loyalty.voucher", "conversion_id", string="Vouchers")
    voucher_count = fields.Integer(compute="_compute_voucher_count", string="Vouchers Issued")
    last_period = fields.Date(readonly=True, copy=False)

    _sql_constraints = [
        ("interval_positive", "CHECK (interval_number > 0)", "The conversion interval must be positive."),
        (
            "step_points_positive",
            "CHECK (step_points > 0)",
            "A conversion step needs a positive number of points.",
        ),
        (
            "step_value_positive",
            "CHECK (step_value > 0)",
            "A conversion step must be worth a positive amount.",
        ),
        ("min_points_positive", "CHECK (min_points >= 0)", "The minimum balance cannot be negative."),
        ("validity_positive", "CHECK (validity_months > 0)", "A voucher must be valid at least one month."),
        (
            "reminder_positive",
            "CHECK (reminder_days >= 0)",
            "The reminder cannot come after the voucher lapses.",
        ),
    ]

    @api.constrains("loyalty_program_id", "voucher_program_id", "company_id")
    def _check_programs(self):
        for conversion in self:
            points, vouchers = conversion.loyalty_program_id, conversion.voucher_program_id
            if points.program_type != "loyalty" or not points.ledger_enabled:
                raise ValidationError(
                    self.env._(
                        "Conversion %(name)s: program %(program)s must be a loyalty program keeping "
                        "the points ledger (the points leave the cards through it).",
                        name=conversion.name,
                        program=points.name,
                    )
                )
            if vouchers.program_type != "coupons":
                raise ValidationError(
                    self.env._("Conversion %s: the voucher program must be of type Coupons.", conversion.name)
                )
            if vouchers.currency_id != points.currency_id:
                raise ValidationError(
                    self.env._(
                        "Conversion %(name)s: the voucher program %(vouchers)s must count in %(currency)s, "
                        "the currency of %(program)s.",
                        name=conversion.name,
                        vouchers=vouchers.name,
                        currency=points.currency_id.name,
                        program=points.name,
                    )
                )
            for program in points | vouchers:
                if program.company_id and program.company_id != conversion.company_id:
                    raise ValidationError(
                        self.env._(
                            "Conversion %(name)s: program %(program)s belongs to another company.",
                            name=conversion.name,
                            program=program.name,
                        )
                    )

    @api.depends("voucher_ids")
    def _compute_voucher_count(self):
        counts = dict(
            self.env["crm.loyalty.voucher"]._read_group(
                [("conversion_id", "in", self.ids)], ["conversion_id"], ["__count"]
            )
        )
        for conversion in self:
            conversion.voucher_count = counts.get(conversion, 0)

    def action_convert_points(self):
        # converting posts ledger redemptions and issues vouchers as the server
        return run_button(self, self._convert_points, lambda count: self.env._("%s vouchers issued.", count))

    def action_view_vouchers(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_loyalty.crm_loyalty_voucher_action")
        action["domain"] = [("conversion_id", "=", self.id)]
        return action

    # --- conversion ------------------------------------------------------------------------------

    @api.model
    def _cron_convert_points(self):
        self.search([])._convert_points(commit=True)

    def _convert_points(self, today=None, commit=False):
        """Convert this period's points of every eligible card; return the vouchers issued."""
        today = today or fields.Date.context_today(self)
        vouchers = self.env["crm.loyalty.voucher"]
        for conversion in self:
            period = coupon_engine.period_start(
                conversion.date_start, conversion.interval_number, conversion.interval_type, today
            )
            if period:
                vouchers |= conversion._convert_period(period, today, commit=commit)
        return vouchers

    def _idempotency_key(self, period):
        return f"crm_loyalty.voucher:{self.id}:{period}"

    def _convert_period(self, period, today, commit=False):
        self.ensure_one()
        self.last_period = period
        self.env.flush_all()
        # cards holding enough points and without a voucher of this period yet: a resumed run
        # starts where the last committed batch stopped
        rows = self.env.execute_query(
            SQL(
                """
                SELECT card.id, card.partner_id
                  FROM loyalty_card card
                 WHERE card.program_id = %(program_id)s
                   AND card.active
                   AND card.partner_id IS NOT NULL
                   AND (card.points >= %(threshold)s
                        -- a redemption already posted under the period's key and no voucher yet
                        OR EXISTS (SELECT 1 FROM loyalty_history line
                                    WHERE line.card_id = card.id AND line.idempotency_key = %(key)s))
                   AND NOT EXISTS (
                       SELECT 1 FROM crm_loyalty_voucher voucher
                        WHERE voucher.conversion_id = %(conversion_id)s
                          AND voucher.card_id = card.id
                          AND voucher.period_date = %(period)s)
              ORDER BY card.id
                """,
                program_id=self.loyalty_program_id.id,
                threshold=max(self.min_points, self.step_points),
                conversion_id=self.id,
                period=period,
                key=self._idempotency_key(period),
            )
        )
        contactable = set(
            self.env["res.partner"]
            .browse({partner_id for _card, partner_id in rows})
            ._crm_loyalty_contactable()
            .ids
        )
        card_ids = [card_id for card_id, partner_id in rows if partner_id in contactable]
        vouchers = self.env["crm.loyalty.voucher"]
        for start in range(0, len(card_ids), VOUCHER_BATCH):
            batch = self.env["loyalty.card"].browse(card_ids[start : start + VOUCHER_BATCH])
            vouchers |= self._convert_batch(batch, period, today)
            self.env["loyalty.history"]._cron_commit_batch(
                start + len(batch), max(len(card_ids) - start - len(batch), 0), commit=commit
            )
        return vouchers

    def _convert_batch(self, cards, period, today):
        """Post one redemption per card and issue its voucher, then mail the vouchers."""
        currency = self.currency_id
        key = self._idempotency_key(period)
        # sudo: whether the period's redemption is posted does not depend on what the user reads
        posted = {
            line.card_id: line
            for line in self.env["loyalty.history"]
            .sudo()
            .search([("card_id", "in", cards.ids), ("idempotency_key", "=", key)])
        }
        converted = []
        for card in cards:
            line = posted.get(card)
            if not line:
                steps, points, _value, _rest = voucher_engine.convert(
                    card.points, self.min_points, self.step_points, self.step_value
                )
                if not steps:
                    continue
                line = card._ledger_post(
                    "redeem",
                    -points,
                    idempotency_key=key,
                    description=self.env._(
                        "Converted to a voucher (%(name)s, %(period)s)", name=self.name, period=period
                    ),
                )
            # the voucher is worth what its redemption took (the posted line, on a resumed run)
            steps = round(-line.points / self.step_points)
            converted.append((card, line.sudo(False), currency.round(steps * self.step_value)))
        if not converted:
            return self.env["crm.loyalty.voucher"]
        expiration = today + relativedelta(months=self.validity_months)
        reward = self._voucher_reward()
        program = self.voucher_program_id
        # the program's own issuance: a ledger voucher program opens each card with its value
        with ledger_scope(ISSUE):
            voucher_cards = (
                self.env["loyalty.card"]
                .with_context(loyalty_no_mail=True)
                .create(
                    [
                        {
                            "program_id": program.id,
                            "partner_id": card.partner_id.id,
                            "code": coupon_engine.new_code(),
                            # one point per smallest unit of the currency (see _voucher_reward)
                            "points": round(amount / currency.rounding),
                            "expiration_date": expiration,
                            "crm_coupon_reward_ids": [fields.Command.set(reward.ids)],
                        }
                        for card, _line, amount in converted
                    ]
                )
            )
        if not program.ledger_enabled:
            self.env["loyalty.history"].create(
                [
                    {
                        "card_id": voucher.id,
                        "description": self.env._("Voucher of %s", self.name),
                        "issued": voucher.points,
                    }
                    for voucher in voucher_cards
                ]
            )
        # sudo: vouchers are written by the conversion only (read-only for every group)
        vouchers = (
            self.env["crm.loyalty.voucher"]
            .sudo()
            .create(
                [
                    {
                        "conversion_id": self.id,
                        "card_id": card.id,
                        "period_date": period,
                        "points": -line.points,
                        "amount": amount,
                        "voucher_card_id": voucher.id,
                        "ledger_line_id": line.id,
                        "expiration_date": expiration,
                    }
                    for (card, line, amount), voucher in zip(converted, voucher_cards, strict=True)
                ]
            )
            .sudo(False)
        )
        if self.mail_template_id:
            self.mail_template_id.send_mail_batch(
                vouchers.ids, email_layout_xmlid="mail.mail_notification_light"
            )
        return vouchers

    def _voucher_reward(self):
        """The voucher program's reward claimed by the vouchers: their whole value off the order.

        A voucher card holds one point per smallest unit of the currency (150 for 1.50), each
        worth that unit (stock's discount per point), and is used up at once (clear wallet).
        """
        self.ensure_one()
        rounding = self.currency_id.rounding
        program = self.voucher_program_id
        for reward in program.reward_ids:
            if (
                reward.crm_campaign_reward
                and reward.reward_type == "discount"
                and reward.discount_mode == "per_point"
                and reward.discount_applicability == "order"
                and reward.clear_wallet
                and reward.required_points == 1
                and abs(reward.discount - rounding) < rounding / 100
            ):
                return reward
        return self.env["loyalty.reward"].create(
            {
                "program_id": program.id,
                "reward_type": "discount",
                "discount_mode": "per_point",
                "discount": rounding,
                "discount_applicability": "order",
                "required_points": 1,
                "clear_wallet": True,
                "crm_campaign_reward": True,
                "description": self.env._("Voucher"),
            }
        )

    # --- reminders ---------------------------------------------------------------------------------

    @api.model
    def _cron_remind_vouchers(self):
        self.search([])._remind_vouchers(commit=True)

    def _remind_vouchers(self, today=None, commit=False):
        """Mail once, ``reminder_days`` before it lapses, each voucher still unused."""
        today = today or fields.Date.context_today(self)
        reminded = self.env["crm.loyalty.voucher"]
        for conversion in self.filtered(lambda c: c.reminder_days and c.reminder_template_id):
            vouchers = self.env["crm.loyalty.voucher"].search(
                [
                    ("conversion_id", "=", conversion.id),
                    ("reminder_date", "=", False),
                    ("expiration_date", ">=", today),
                    ("expiration_date", "<=", today + relativedelta(days=conversion.reminder_days)),
                    ("voucher_card_id.points", ">", 0),
                ],
                order="id",
            )
            contactable = vouchers.partner_id._crm_loyalty_contactable()
            vouchers = vouchers.filtered_domain([("partner_id", "in", contactable.ids)])
            for start in range(0, len(vouchers), VOUCHER_BATCH):
                batch = vouchers[start : start + VOUCHER_BATCH]
                conversion.reminder_template_id.send_mail_batch(
                    batch.ids, email_layout_xmlid="mail.mail_notification_light"
                )
                # sudo: the reminder mark is the cron's (vouchers are read-only for every group)
                batch.sudo().reminder_date = today
                reminded |= batch
                self.env["loyalty.history"]._cron_commit_batch(
                    start + len(batch), max(len(vouchers) - start - len(batch), 0), commit=commit
                )
        return reminded
