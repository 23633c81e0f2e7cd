from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression
from odoo.tools import SQL, float_compare

from ..engine import coupons as coupon_engine
from .loyalty_history import CRON_BATCH


def run_button(records, run, message):
    """The run button of campaigns and point conversions: ``run()`` writes set-wise behind the
    ORM's access checks, so only those who may edit ``records`` run it; then a notification of
    ``message(count)``, the count of what the run issued."""
    records.check_access("write")
    issued = run()
    return {
        "type": "ir.actions.client",
        "tag": "display_notification",
        "params": {
            "type": "success" if issued else "info",
            "message": message(len(issued)),
            "next": {"type": "ir.actions.act_window_close"},
        },
    }


class CrmLoyaltyCouponCampaign(models.Model):
    _name = "crm.loyalty.coupon.campaign"
    _description = "Personalised Coupon Campaign"
    _inherit = ["mail.thread"]
    _order = "name, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    loyalty_program_id = fields.Many2one(
        "loyalty.program",
        string="Members of",
        required=True,
        domain="[('program_type', '=', 'loyalty'), ('company_id', 'in', [company_id, False])]",
        help="Every customer holding a card of this loyalty program receives the campaign's coupons.",
    )
    coupon_program_id = fields.Many2one(
        "loyalty.program",
        string="Coupon Program",
        required=True,
        domain="[('program_type', '=', 'coupons'), ('company_id', 'in', [company_id, False])]",
        help="Coupons are cards of this program; one reward per picked product (of the campaign's "
        "kind) is added to it when missing, claimable only through the coupons personalised with it.",
    )
    date_start = fields.Date(
        string="First Period", required=True, default=fields.Date.context_today, tracking=True
    )
    interval_number = fields.Integer(string="Every", default=1, required=True, tracking=True)
    interval_type = fields.Selection(
        [("weeks", "Weeks"), ("months", "Months")], default="months", required=True, tracking=True
    )
    lookback_months = fields.Integer(
        string="Bought in the Last (months)",
        default=6,
        required=True,
        help="Products are picked among those the member bought on confirmed orders over these months.",
    )
    products_per_coupon = fields.Integer(
        default=3,
        required=True,
        help="Number of the member's most bought products offered on each coupon (one to choose).",
    )
    validity_days = fields.Integer(string="Valid for (days)", default=30, required=True)
    # exclusions: what a coupon never offers, whatever the member bought
    excluded_product_ids = fields.Many2many(
        "product.product",
        "crm_loyalty_campaign_excluded_product_rel",
        string="Excluded Products",
        help="Never offered on a coupon (e.g. tobacco, infant formula, gift cards).",
    )
    excluded_categ_ids = fields.Many2many(
        "product.category",
        "crm_loyalty_campaign_excluded_categ_rel",
        string="Excluded Categories",
        help="Products of these categories and of their sub-categories are never offered.",
    )
    max_list_price = fields.Float(
        string="Price Cap",
        help="Products whose sales price (company currency) is above this are never offered; 0 for no cap.",
    )
    # the reward each picked product gets, as a stock loyalty.reward of the coupon program
    reward_kind = fields.Selection(
        [("product", "Free Unit"), ("percent", "Percentage Off"), ("fixed", "Fixed Amount Off")],
        string="Reward",
        default="product",
        required=True,
        tracking=True,
        help="Free Unit: one unit of the product free. Percentage Off: a discount on that "
        "product's lines. Fixed Amount Off: an amount (coupon program's currency) off that "
        "product's lines, never more than their price.",
    )
    reward_percent = fields.Float(string="Discount (%)", default=10.0)
    reward_amount = fields.Float(string="Amount Off", default=1.0)
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email",
        domain=[("model", "=", "loyalty.card")],
        default=lambda self: self.env.ref("crm_loyalty.mail_template_campaign_coupon", False),
    )
    issue_ids = fields.One2many("crm.loyalty.coupon.issue", "campaign_id", string="Issued Coupons")
    last_period = fields.Date(readonly=True, copy=False)
    issued_count = fields.Integer(compute="_compute_stats", string="Coupons Issued")
    used_count = fields.Integer(compute="_compute_stats", string="Coupons Used")
    response_rate = fields.Float(compute="_compute_stats", string="Response Rate (%)")
    revenue = fields.Monetary(compute="_compute_stats", currency_field="currency_id")

    _sql_constraints = [
        ("interval_positive", "CHECK (interval_number > 0)", "The campaign interval must be positive."),
        ("lookback_positive", "CHECK (lookback_months > 0)", "The look-back must be at least one month."),
        (
            "products_positive",
            "CHECK (products_per_coupon > 0)",
            "A coupon must offer at least one product.",
        ),
        ("validity_positive", "CHECK (validity_days > 0)", "A coupon must be valid at least one day."),
    ]

    @api.constrains("loyalty_program_id", "coupon_program_id", "company_id")
    def _check_programs(self):
        for campaign in self:
            if campaign.loyalty_program_id.program_type != "loyalty":
                raise ValidationError(
                    self.env._(
                        "Campaign %s: the members' program must be a loyalty card program.", campaign.name
                    )
                )
            if campaign.coupon_program_id.program_type != "coupons":
                raise ValidationError(
                    self.env._("Campaign %s: the coupon program must be of type Coupons.", campaign.name)
                )
            for program in campaign.loyalty_program_id | campaign.coupon_program_id:
                if program.company_id and program.company_id != campaign.company_id:
                    raise ValidationError(
                        self.env._(
                            "Campaign %(campaign)s: program %(program)s belongs to another company.",
                            campaign=campaign.name,
                            program=program.name,
                        )
                    )

    @api.constrains("reward_kind", "reward_percent", "reward_amount", "max_list_price")
    def _check_reward(self):
        for campaign in self:
            if campaign.reward_kind == "percent" and not 0 < campaign.reward_percent <= 100:
                raise ValidationError(
                    self.env._(
                        "Campaign %s: the discount percentage must be above 0 and at most 100.",
                        campaign.name,
                    )
                )
            if campaign.reward_kind == "fixed" and campaign.reward_amount <= 0:
                raise ValidationError(
                    self.env._("Campaign %s: the amount off must be positive.", campaign.name)
                )
            if campaign.max_list_price < 0:
                raise ValidationError(
                    self.env._("Campaign %s: the price cap must be positive (or 0 for none).", campaign.name)
                )

    @api.depends("issue_ids")
    def _compute_stats(self):
        usage = self.issue_ids._usage()
        for campaign in self:
            issues = campaign.issue_ids
            used = [usage[issue.id] for issue in issues if usage[issue.id]["order_ids"]]
            campaign.issued_count = len(issues)
            campaign.used_count = len(used)
            campaign.response_rate = coupon_engine.response_rate(len(issues), len(used)) or 0.0
            campaign.revenue = sum(row["revenue"] for row in used)

    def _current_period(self, today):
        self.ensure_one()
        return coupon_engine.period_start(self.date_start, self.interval_number, self.interval_type, today)

    def action_issue_coupons(self):
        return run_button(self, self._issue_coupons, lambda count: self.env._("%s coupons issued.", count))

    def action_view_issues(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_loyalty.crm_loyalty_coupon_issue_action")
        action["domain"] = [("campaign_id", "=", self.id)]
        action["context"] = {"default_campaign_id": self.id}
        return action

    @api.model
    def _cron_issue_coupons(self):
        # issuing is set-wise and quick; rendering one mail per member is not: the coupons'
        # mails go out in the mail step's own batches, right after
        if self.search([])._issue_coupons(commit=True, mail=False):
            self.env.ref("crm_loyalty.ir_cron_mail_coupons")._trigger()

    @api.model
    def _cron_mail_coupons(self):
        self.env["crm.loyalty.coupon.issue"].search([("mail_pending", "=", True)])._send_pending_mails(
            commit=True
        )

    def _issue_coupons(self, today=None, commit=False, mail=True):
        """Issue this period's coupons to the members who have none yet for it; mail them
        (``mail``), else leave their mails to the mail step (``_cron_mail_coupons``).

        Idempotent within a period: a member gets at most one coupon per campaign and period.
        """
        today = today or fields.Date.context_today(self)
        issues = self.env["crm.loyalty.coupon.issue"]
        for campaign in self:
            period = campaign._current_period(today)
            if period:
                issues |= campaign._issue_period(period, today, commit=commit)
        self.coupon_program_id._crm_archive_unused_campaign_rewards(today)
        if mail and issues:
            issues._send_pending_mails(commit=commit)
        return issues

    def _issue_period(self, period, today, commit=False):
        self.ensure_one()
        purchases = self._member_purchases(today)
        already = set(
            self.env["crm.loyalty.coupon.issue"]
            .search([("campaign_id", "=", self.id), ("period_date", "=", period)])
            .mapped("partner_id")
            .ids
        )
        # a coupon is issued to be mailed: members who do not want mails get none
        contactable = set(self.env["res.partner"].browse(purchases)._crm_loyalty_contactable().ids)
        purchases = {
            partner: rows
            for partner, rows in purchases.items()
            if partner not in already and partner in contactable
        }
        excluded = self._excluded_products({row[0] for rows in purchases.values() for row in rows})
        picked = coupon_engine.pick_products(purchases, self.products_per_coupon, excluded=set(excluded.ids))
        self.last_period = period
        if not picked:
            return self.env["crm.loyalty.coupon.issue"]
        rewards = self._product_rewards({pid for pids in picked.values() for pid in pids})
        expiration = today + timedelta(days=self.validity_days)
        issues = self.env["crm.loyalty.coupon.issue"]
        partner_ids = sorted(picked)
        # one batch of members at a time, each its own commit in a scheduled run: a crash loses
        # one batch, and the next run skips the members already issued this period
        for start in range(0, len(partner_ids), CRON_BATCH):
            batch = partner_ids[start : start + CRON_BATCH]
            issues |= self._issue_batch(batch, picked, rewards, period, expiration)
            self.env["loyalty.history"]._cron_commit_batch(
                start + len(batch), max(len(partner_ids) - start - len(batch), 0), commit=commit
            )
        return issues

    def _issue_batch(self, partner_ids, picked, rewards, period, expiration):
        cards = (
            self.env["loyalty.card"]
            # a new coupon is neither a chatter event nor stock's coupon mail: the campaign mails it
            .with_context(
                loyalty_no_mail=True,
                tracking_disable=True,
                mail_create_nolog=True,
                mail_create_nosubscribe=True,
            )
            .create(
                [
                    {
                        "program_id": self.coupon_program_id.id,
                        "partner_id": partner_id,
                        "code": coupon_engine.new_code(),
                        "points": 1,
                        "expiration_date": expiration,
                        "crm_coupon_reward_ids": [
                            fields.Command.set([rewards[p].id for p in picked[partner_id]])
                        ],
                    }
                    for partner_id in partner_ids
                ]
            )
        )
        self.env["loyalty.history"].create(
            [
                {"card_id": card.id, "description": self.env._("Coupon campaign %s", self.name), "issued": 1}
                for card in cards
            ]
        )
        # the campaign's own bookkeeping, written set-wise: one INSERT for the batch's issues,
        # one for their products (the ORM's create costs about a third of a batch at retail scale)
        self.env.flush_all()
        issue_ids = [
            row[0]
            for row in self.env.execute_query(
                SQL(
                    """
                    INSERT INTO crm_loyalty_coupon_issue
                           (campaign_id, company_id, partner_id, card_id, period_date, mail_pending,
                            create_uid, create_date, write_uid, write_date)
                    SELECT %(campaign_id)s, %(company_id)s, card.partner_id, card.id, %(period)s,
                           %(mail_pending)s, %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
                      FROM loyalty_card card
                     WHERE card.id = ANY(%(card_ids)s)
                  ORDER BY card.id
                 RETURNING id
                    """,
                    campaign_id=self.id,
                    company_id=self.company_id.id,
                    period=period,
                    mail_pending=bool(self.mail_template_id),
                    uid=self.env.uid,
                    card_ids=cards.ids,
                )
            )
        ]
        issues = self.env["crm.loyalty.coupon.issue"].browse(issue_ids)
        # written behind the ORM's back: what it cached of the campaign's issues is stale
        self.invalidate_recordset()
        self.env.execute_query(
            SQL(
                """
                INSERT INTO crm_loyalty_coupon_issue_product_product_rel
                       (crm_loyalty_coupon_issue_id, product_product_id)
                SELECT issue.id, picked.product_id
                  FROM crm_loyalty_coupon_issue issue
                  JOIN loyalty_card card ON card.id = issue.card_id
                  JOIN unnest(%(partner_ids)s, %(product_ids)s) AS picked(partner_id, product_id)
                    ON picked.partner_id = card.partner_id
                 WHERE issue.id = ANY(%(issue_ids)s)
                """,
                partner_ids=[card.partner_id.id for card in cards for _product in picked[card.partner_id.id]],
                product_ids=[product for card in cards for product in picked[card.partner_id.id]],
                issue_ids=issue_ids,
            )
        )
        return issues

    def _member_purchases(self, today):
        """``{member partner id: [(product id, order count, amount, last order date), ...]}``:
        what each member of the loyalty program (and its company) bought on confirmed orders of
        the campaign's company over the look-back, reward lines excluded, amounts in company
        currency."""
        self.ensure_one()
        date_from = today - relativedelta(months=self.lookback_months)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH member AS (
                    SELECT DISTINCT card.partner_id, partner.commercial_partner_id
                      FROM loyalty_card card
                      JOIN res_partner partner ON partner.id = card.partner_id
                     WHERE card.program_id = %(program_id)s AND card.active
                )
                SELECT member.partner_id, line.product_id, COUNT(DISTINCT so.id),
                       SUM(line.price_subtotal / COALESCE(NULLIF(so.currency_rate, 0), 1)),
                       MAX(so.date_order)::date
                  FROM member
                  JOIN res_partner buyer ON buyer.commercial_partner_id = member.commercial_partner_id
                  JOIN sale_order so ON so.partner_id = buyer.id
                  JOIN sale_order_line line ON line.order_id = so.id
                  JOIN product_product product ON product.id = line.product_id
                  JOIN product_template template ON template.id = product.product_tmpl_id
                 WHERE so.state = 'sale'
                   AND so.company_id = %(company_id)s
                   AND so.date_order >= %(date_from)s
                   AND so.date_order < %(date_to)s
                   AND line.reward_id IS NULL
                   AND line.display_type IS NULL
                   AND product.active AND template.active AND template.sale_ok
              GROUP BY member.partner_id, line.product_id
                """,
                program_id=self.loyalty_program_id.id,
                company_id=self.company_id.id,
                date_from=date_from,
                date_to=today + timedelta(days=1),
            )
        )
        purchases = {}
        for partner_id, product_id, orders, amount, last_date in self.env.cr.fetchall():
            purchases.setdefault(partner_id, []).append((product_id, orders, amount or 0.0, last_date))
        return purchases

    def _excluded_products(self, product_ids=None):
        """The products (among ``product_ids``, else all) this campaign never offers: excluded
        ones, those of an excluded category or below it, and those priced above the cap."""
        self.ensure_one()
        domain = [("id", "in", self.excluded_product_ids.ids)]
        if self.excluded_categ_ids:
            domain = expression.OR([domain, [("categ_id", "child_of", self.excluded_categ_ids.ids)]])
        if self.max_list_price:
            domain = expression.OR([domain, [("list_price", ">", self.max_list_price)]])
        if product_ids is not None:
            domain = expression.AND([domain, [("id", "in", list(product_ids))]])
        return self.env["product.product"].with_context(active_test=False).search(domain)

    def _reward_values(self, product_id):
        """Values of the stock loyalty.reward offering ``product_id`` the campaign's way."""
        values = {"program_id": self.coupon_program_id.id, "required_points": 1, "crm_campaign_reward": True}
        if self.reward_kind == "product":
            return {
                **values,
                "reward_type": "product",
                "reward_product_id": product_id,
                "reward_product_qty": 1,
            }
        # stock's discount on specific products: only that product's lines are discounted, and a
        # fixed amount ('per_order') never exceeds them
        return {
            **values,
            "reward_type": "discount",
            "discount_mode": "percent" if self.reward_kind == "percent" else "per_order",
            "discount": self.reward_percent if self.reward_kind == "percent" else self.reward_amount,
            "discount_applicability": "specific",
            "discount_product_ids": [fields.Command.set([product_id])],
        }

    def _reward_matches(self, reward):
        if not reward.crm_campaign_reward or reward.required_points > 1:
            return None
        if self.reward_kind == "product":
            if reward.reward_type == "product" and reward.reward_product_qty == 1:
                return reward.reward_product_id.id
            return None
        mode, value = (
            ("percent", self.reward_percent)
            if self.reward_kind == "percent"
            else ("per_order", self.reward_amount)
        )
        if (
            reward.reward_type == "discount"
            and reward.discount_mode == mode
            and reward.discount_applicability == "specific"
            and float_compare(reward.discount, value, precision_digits=6) == 0
            and len(reward.discount_product_ids) == 1
            and not reward.discount_product_category_id
            and not reward.discount_product_tag_id
            and reward.discount_product_domain in (False, "[]")
        ):
            return reward.discount_product_ids.id
        return None

    def _product_rewards(self, product_ids):
        """``{product id: reward of the coupon program offering it the campaign's way}``, reusing
        the program's campaign rewards of the same kind and value (archived ones brought back),
        creating the missing ones: one reward per product and reward setting, ever."""
        self.ensure_one()
        rewards = {}
        for reward in self.coupon_program_id.with_context(active_test=False).reward_ids.sorted(
            lambda r: (not r.active, r.id)
        ):
            product_id = self._reward_matches(reward)
            if product_id in product_ids:
                rewards.setdefault(product_id, reward)
        self.env["loyalty.reward"].union(*rewards.values()).filtered(
            lambda r: not r.active
        ).action_unarchive()
        missing = sorted(set(product_ids) - set(rewards))
        created = self.env["loyalty.reward"].create(
            [self._reward_values(product_id) for product_id in missing]
        )
        rewards.update(dict(zip(missing, created, strict=True)))
        return rewards
