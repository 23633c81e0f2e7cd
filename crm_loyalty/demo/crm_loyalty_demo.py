"""The crm_loyalty demo story: members across tiers, a year of earned points, expiring lots, a
coupon campaign with uses on later orders, and a points-to-vouchers conversion."""

import random
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models

SEED = 20261202
STORY_CONTEXT = {"tracking_disable": True, "mail_create_nosubscribe": True, "mail_notrack": True}
MEMBERS = 15
# yearly spend of a member, by share of the members: Gold, Silver, Bronze (tiers at 10,000 and 2,000)
SPEND_BANDS = ((0.2, 11000, 18000), (0.4, 2500, 8000), (1.0, 300, 1800))
# the coupon campaign ran this many days ago; about this share of its coupons were used since
CAMPAIGN_DAYS_AGO = 20
COUPON_USE_SHARE = 0.5
# products the members buy on orders (name, list price, cost): the campaign offers among them
ORDER_PRODUCTS = (
    ("Desk lamp (demo)", 45.0, 27.0),
    ("Ergonomic chair (demo)", 320.0, 190.0),
    ("Monitor arm (demo)", 110.0, 64.0),
    ("Notebook set (demo)", 18.0, 9.0),
)


def story_lots(rng, today):
    """[(points, day)] of the lots of a card of the audited-ledger program: 14 months ago, expired
    (12 months, to the end of that month); 12 months ago to the day, expiring at the end of this
    month, within the 30 days' notice whatever today is; 6 and 2 months ago."""
    lots = []
    for months in (14, 12, 6, 2):
        points, days = rng.choice((40, 80, 120, 200)), rng.randint(0, 10)
        lots.append(
            (points, today - relativedelta(months=months) - timedelta(days=days if months != 12 else 0))
        )
    return lots


class CrmLoyaltyDemo(models.AbstractModel):
    """Builds the demo story of crm_loyalty on install with demo data: Club Card members whose
    invoiced spend of the last twelve months puts them in every tier, points earned on those
    invoices (with the tier's multiplier) and redeemed; on the audited-ledger program, lots earned
    over the last fourteen months, so that some have expired and some expire within the notice
    (the program's lots expire at the end of the month: some do within 30 days, whatever the day).
    Members of both programs also buy on confirmed sales orders: the "Monthly favourites" coupon
    campaign ran on them (coupons issued to the members), and some coupons were claimed on later
    confirmed orders (reward lines; the orders' points posted on the ledger). The quarterly
    conversion then turned the Club Card balances into vouchers, the remainder staying on the cards.
    Deterministic (seeded), with dates relative to today.

    Every record that holds a demo program's card, reward or ledger line (coupons, vouchers, the
    orders claiming rewards) gets an xml id of this addon, made after what it refers to: uninstalling
    removes them first, so that the demo programs can go too."""

    _name = "crm.loyalty.demo"
    _description = "Loyalty demo story"

    @api.model
    def _load_story(self):
        """Called once, by the demo data at install (demo <function>s do not run again on `-u`)."""
        # no followers, chatter or tracking messages for the story's records
        self.with_context(**STORY_CONTEXT)._make_story()

    def _make_story(self):
        rng = random.Random(SEED)
        today = fields.Date.context_today(self)
        club = self.env.ref("crm_loyalty.loyalty_program_club_card_demo")
        audited = self.env.ref("crm_loyalty.loyalty_program_ledger_demo")
        taken = self.env["loyalty.card"].search([("program_id", "in", (club | audited).ids)]).partner_id
        partners = self.env["res.partner"].search(
            [
                ("parent_id", "=", False),
                ("user_ids", "=", False),
                ("id", "not in", (taken | self.env["res.company"].search([]).partner_id).ids),
            ],
            order="id",
            limit=MEMBERS,
        )
        club_cards = self._story_cards(club, partners, "club")
        invoices = self._story_invoices(rng, today, club_cards.partner_id)
        club_cards._crm_tier_evaluate(today)
        for card in club_cards:
            for invoice in invoices.filtered(lambda move, card=card: move.partner_id == card.partner_id):
                card._ledger_earn(
                    f"demo:{invoice.id}",
                    invoice.amount_untaxed,
                    invoice_id=invoice.id,
                    source_type="invoice",
                    description=invoice.name,
                    date=datetime.combine(invoice.invoice_date, time(12)),
                )
            if card.points > 600 and rng.random() < 0.6:
                card._ledger_post("redeem", -500, description=self.env._("5 % off an order (demo)"))
        audited_cards = self._story_cards(audited, partners[: MEMBERS // 2], "audited")
        for card in audited_cards:
            for points, day in story_lots(rng, today):
                card._ledger_post(
                    "adjust",
                    points,
                    reason=self.env._("Points of the previous loyalty scheme (demo)"),
                    date=datetime.combine(day, time(12)),
                )
        self.env["loyalty.history"]._cron_expire_points()
        # members of both programs: their orders earn on cards they hold (an order of a member
        # without a card of the audited program would open one, without this addon's xml id)
        buyers = club_cards.partner_id & audited_cards.partner_id
        orders = self._story_orders(rng, today, buyers)
        orders |= self._story_coupon_campaign(rng, today)
        self._story_vouchers(today)
        # last: the orders hold the coupons and the campaign's rewards
        self._story_xml_ids(orders, "order")

    def _story_cards(self, program, partners, label):
        """Cards with xml ids of this addon: they go with the demo program when it is uninstalled
        (a program with cards cannot be deleted)."""
        return self.env["loyalty.card"]._load_records(
            [
                {
                    "xml_id": f"crm_loyalty.loyalty_card_{label}_{partner.id}_demo",
                    "values": {"program_id": program.id, "partner_id": partner.id, "points": 0},
                    "noupdate": True,
                }
                for partner in partners
            ]
        )

    def _story_invoices(self, rng, today, partners):
        """Posted invoices of the last twelve months, made in one batch."""
        product = self.env["product.product"].create(
            {"name": "Club furniture (demo)", "type": "consu", "list_price": 250.0, "standard_price": 160.0}
        )
        vals = []
        for index, partner in enumerate(partners):
            share = (index + 0.5) / len(partners)
            low, high = next((low, high) for limit, low, high in SPEND_BANDS if share <= limit)
            spend = rng.uniform(low, high)
            count = rng.randint(2, 5)
            for day in sorted(rng.sample(range(5, 360), count), reverse=True):
                date = today - timedelta(days=day)
                vals.append(
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "invoice_date": date,
                        "date": date,
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "product_id": product.id,
                                    "quantity": 1,
                                    "price_unit": round(spend / count, 2),
                                    "tax_ids": [Command.clear()],
                                }
                            )
                        ],
                    }
                )
        vals.sort(key=lambda move: move["invoice_date"])
        invoices = self.env["account.move"].create(vals)
        invoices.action_post()
        return invoices

    def _story_xml_ids(self, records, label):
        """Give ``records`` xml ids of this addon, so that they go with it (see the class)."""
        self.env["ir.model.data"].create(
            [
                {
                    "module": "crm_loyalty",
                    "name": f"{records._table}_{label}_{record.id}_demo",
                    "model": records._name,
                    "res_id": record.id,
                    "noupdate": True,
                }
                for record in records
            ]
        )

    def _story_confirm(self, orders, dates):
        """Confirm ``orders`` and date them back to ``dates`` (confirming dates an order today)."""
        orders.action_confirm()
        for order, day in zip(orders, dates, strict=True):
            order.date_order = datetime.combine(day, time(10))

    def _story_orders(self, rng, today, partners):
        """Two or three confirmed orders per member over the campaign's look-back: what the
        campaign picks each member's favourites from."""
        products = self.env["product.product"].create(
            [
                {"name": name, "type": "consu", "list_price": price, "standard_price": cost}
                for name, price, cost in ORDER_PRODUCTS
            ]
        )
        vals, dates = [], []
        for partner in partners:
            favourites = rng.sample(products.ids, 2)
            for day in sorted(
                rng.sample(range(CAMPAIGN_DAYS_AGO + 10, 160), rng.randint(2, 3)), reverse=True
            ):
                lines = [(favourites[0], rng.randint(1, 3))]
                if rng.random() < 0.6:
                    lines.append((rng.choice(favourites[1:] + products.ids), 1))
                vals.append(
                    {
                        "partner_id": partner.id,
                        "order_line": [
                            Command.create(
                                {"product_id": product_id, "product_uom_qty": qty, "tax_id": False}
                            )
                            for product_id, qty in lines
                        ],
                    }
                )
                dates.append(today - timedelta(days=day))
        orders = self.env["sale.order"].create(vals)
        self._story_confirm(orders, dates)
        return orders

    def _story_coupon_campaign(self, rng, today):
        """Run the coupon campaign as it ran ``CAMPAIGN_DAYS_AGO`` days ago, then claim some of
        its coupons on later confirmed orders; return those orders."""
        campaign = self.env.ref("crm_loyalty.crm_loyalty_coupon_campaign_demo")
        issue_day = today - timedelta(days=CAMPAIGN_DAYS_AGO)
        issues = campaign._issue_coupons(today=issue_day)
        self._story_xml_ids(issues.card_id, "coupon")
        orders, dates = self.env["sale.order"], []
        for issue in issues.sorted("id"):
            if rng.random() >= COUPON_USE_SHARE:
                continue
            product = self.env["product.product"].browse(rng.choice(issue.product_ids.ids))
            order = self.env["sale.order"].create(
                {
                    "partner_id": issue.partner_id.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_uom_qty": 2, "tax_id": False})
                    ],
                }
            )
            coupon = issue.card_id
            order._try_apply_code(coupon.code)
            reward = coupon.crm_coupon_reward_ids.filtered(
                lambda r, product=product: r.reward_product_id == product
            )
            order._apply_program_reward(reward, coupon)
            orders |= order
            dates.append(issue_day + timedelta(days=rng.randint(2, CAMPAIGN_DAYS_AGO - 1)))
        self._story_confirm(orders, dates)
        return orders

    def _story_vouchers(self, today):
        """Run this period's points-to-vouchers conversion of the Club Card."""
        conversion = self.env.ref("crm_loyalty.crm_loyalty_voucher_conversion_demo")
        vouchers = conversion._convert_points(today=today)
        # the voucher before its coupon: a voucher refers to the coupon holding its value
        self._story_xml_ids(vouchers.voucher_card_id, "voucher")
        self._story_xml_ids(vouchers, "voucher")
