"""The crm_ror demo story, made in Python because its XML would run to thousands of records."""

import random
from datetime import datetime, time, timedelta

from odoo import Command, api, fields, models
from odoo.tools import SQL

SEED = 20261202
STORY_CONTEXT = {"tracking_disable": True, "mail_create_nosubscribe": True, "mail_notrack": True}
CUSTOMERS = 300
HISTORY_DAYS = 3 * 365
MOVE_BATCH = 200  # orders, invoices or credit notes created (and posted) per ORM call
# BG/NBD-like buying: a purchase rate per customer (gamma) and a drop-out chance after each purchase (beta)
RATE_SHAPE, RATE_SCALE = 1.4, 1 / 70.0
DROPOUT_A, DROPOUT_B = 1.0, 6.0
CREDIT_NOTE_SHARE = 0.07
DEMO_COST_SHARE = 0.6  # cost of a product sold below cost by Odoo's demo data, as a share of its price
# sale price, cost (realistic furniture margins of 25-45 %), category
CATALOGUE = (
    ("Oak Desk", 640.0, 395.0, "Desks"),
    ("Standing Desk", 890.0, 560.0, "Desks"),
    ("Corner Desk", 720.0, 470.0, "Desks"),
    ("Ergonomic Chair", 340.0, 205.0, "Seating"),
    ("Visitor Chair", 120.0, 70.0, "Seating"),
    ("Lounge Sofa", 1450.0, 930.0, "Seating"),
    ("Filing Cabinet", 260.0, 150.0, "Storage"),
    ("Bookshelf", 210.0, 125.0, "Storage"),
    ("Mobile Pedestal", 180.0, 110.0, "Storage"),
    ("Desk Lamp", 65.0, 34.0, "Lighting"),
    ("Floor Lamp", 150.0, 88.0, "Lighting"),
    ("Acoustic Panel", 95.0, 52.0, "Accessories"),
    ("Monitor Arm", 110.0, 61.0, "Accessories"),
    ("Cable Tray", 35.0, 17.0, "Accessories"),
)
NAME_FIRST = (
    "Alder", "Birch", "Cedar", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper",
    "Kestrel", "Linden", "Maple", "Nordic", "Onyx", "Pine", "Quartz", "Raven", "Spruce", "Tundra",
)  # fmt: skip
NAME_SECOND = (
    "Interiors", "Offices", "Studio", "Workspace", "Design", "Architects", "Consulting", "Logistics",
    "Dental", "Legal", "Labs", "Hotels", "Academy", "Partners", "Clinic",
)  # fmt: skip
CITIES = (
    ("Brussels", "base.be"), ("Antwerp", "base.be"), ("Lyon", "base.fr"), ("Lille", "base.fr"),
    ("Rotterdam", "base.nl"), ("Utrecht", "base.nl"), ("Chicago", "base.us"), ("Denver", "base.us"),
)  # fmt: skip
# the last one leaves the company with open leads on him
SALESPEOPLE = (
    ("Sofia Berg", "sofia.berg.demo"),
    ("Liam Chen", "liam.chen.demo"),
    ("Nora Haddad", "nora.haddad.demo"),
    ("Tom Vance", "tom.vance.demo"),
)
LOST_REASONS = ("crm.lost_reason_1", "crm.lost_reason_2", "crm.lost_reason_3")


class CrmRorDemo(models.AbstractModel):
    """Builds the demo story of crm_ror on install with demo data: customers with three years of
    invoices and credit notes, costs to serve, leads of every temperature and age, campaigns, NPS
    answers and grievances. Deterministic (seeded) and with dates relative to today."""

    _name = "crm.ror.demo"
    _description = "Return on Relationship demo story"

    @api.model
    def _load_story(self):
        """Called once, by the demo data at install (demo <function>s do not run again on `-u`)."""
        # thousands of records made at once: no followers, chatter or tracking messages for them
        self.with_context(**STORY_CONTEXT)._make_story()

    def _make_story(self):
        tag = self.env.ref("crm_ror.crm_ror_demo_story_tag")
        rng = random.Random(SEED)
        today = fields.Date.context_today(self)
        products = self._story_products()
        users = self._story_salespeople()
        customers = self._story_customers(rng, tag, users)
        self._story_sales(rng, today, customers, products, users["team"])
        self._story_activities(rng, today, customers)
        self._story_leads(rng, today, customers, users)
        # the queries that follow (responses, profiles) in this transaction plan on statistics of near-empty tables
        self.env.flush_all()
        self.env.cr.execute(
            SQL("ANALYZE account_move, account_move_line, sale_order, sale_order_line, res_partner, crm_lead")
        )
        self._story_campaigns(rng, today, customers)
        self._story_nps(rng, today, customers)
        # the salesperson who left: archived with open leads still on him
        users["departed"].action_archive()

    # ------------------------------------------------------------------------------------------

    def _story_products(self):
        """The story's catalogue, and sound costs on the products already there: Odoo's own demo
        sells some below cost (a Large Cabinet at 320 costing 800), which would show its buyers as
        loss makers (a negative margin and ROR on every customer who bought one)."""
        for product in self.env["product.product"].search([("sale_ok", "=", True), ("list_price", ">", 0)]):
            if product.standard_price > product.list_price:
                product.standard_price = product.currency_id.round(product.list_price * DEMO_COST_SHARE)
        categories = {}
        for name in sorted({row[3] for row in CATALOGUE}):
            categories[name] = self.env["product.category"].create({"name": f"Office / {name}"})
        templates = self.env["product.template"].create(
            [
                {
                    "name": name,
                    "type": "consu",
                    "list_price": price,
                    "standard_price": cost,
                    "categ_id": categories[category].id,
                    "taxes_id": [Command.clear()],
                }
                for name, price, cost, category in CATALOGUE
            ]
        )
        return templates.product_variant_ids

    def _story_salespeople(self):
        team = self.env.ref("sales_team.team_sales_department")
        group = self.env.ref("sales_team.group_sale_salesman")
        created = self.env["res.users"].create(
            [
                {
                    "name": name,
                    "login": login,
                    "email": f"{login}@example.com",
                    "groups_id": [Command.link(group.id)],
                    "company_id": self.env.company.id,
                    "company_ids": [Command.link(self.env.company.id)],
                    "crm_team_member_ids": [Command.create({"crm_team_id": team.id})],
                }
                for name, login in SALESPEOPLE
            ]
        )
        # the team's leader takes the open leads of the salesperson who left (the lead cron's
        # handover); Odoo's demo "Sales" team has none, which would leave them stranded
        if not team.user_id:
            team.user_id = self.env.ref("base.user_admin")
        return {"team": team, "sellers": created[:-1], "departed": created[-1]}

    def _story_customers(self, rng, tag, users):
        names = [f"{first} {second}" for first in NAME_FIRST for second in NAME_SECOND]
        rng.shuffle(names)
        vals = []
        for index in range(CUSTOMERS):
            city, country = CITIES[index % len(CITIES)]
            slug = names[index].lower().replace(" ", "-")
            vals.append(
                {
                    "name": names[index],
                    "is_company": True,
                    "city": city,
                    "country_id": self.env.ref(country).id,
                    "email": f"info@{slug}.example.com",
                    "phone": f"+32 2 555 {index:04d}" if index % 5 else False,
                    "user_id": users["sellers"][index % len(users["sellers"])].id,
                    "category_id": [Command.link(tag.id)],
                }
            )
        return self.env["res.partner"].create(vals)

    def _story_sales(self, rng, today, customers, products, team):
        """Simulate each customer's purchases (birth, rate, drop-out); each is a confirmed order,
        invoiced within days; some invoices are then credited in part or in full. Orders, invoices
        and credit notes are created (and posted) in batches."""
        by_category = {}
        for product in products:
            by_category.setdefault(product.categ_id.id, []).append(product)
        categories = list(by_category)
        purchases = []
        for index, customer in enumerate(customers):
            # a tenth of the customers are new: their first purchase falls in the last two months
            day = rng.randrange(1, 60) if index % 10 == 0 else rng.randrange(30, HISTORY_DAYS)
            rate = rng.gammavariate(RATE_SHAPE, RATE_SCALE)
            dropout = rng.betavariate(DROPOUT_A, DROPOUT_B)
            favourite = categories[index % len(categories)]
            size = 0.5 + rng.random() * 2  # big and small accounts
            while day > 0:
                purchases.append((today - timedelta(days=day), customer, favourite, size))
                if rng.random() < dropout:
                    break
                day -= max(1, int(rng.expovariate(rate)))
        purchases.sort(key=lambda purchase: purchase[0])
        order_vals = []
        for date, customer, favourite, size in purchases:
            lines = []
            for _line in range(rng.choice((1, 1, 2, 2, 3))):
                pool = by_category[favourite] if rng.random() < 0.7 else products
                product = rng.choice(pool)
                lines.append(
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": max(1, round(rng.randint(1, 6) * size)),
                            "discount": rng.choice((0, 0, 0, 5, 10)),
                            "tax_id": [Command.clear()],
                        }
                    )
                )
            order_vals.append(
                {
                    "partner_id": customer.id,
                    "user_id": customer.user_id.id,
                    "team_id": team.id,
                    "date_order": datetime.combine(date, time(9)),
                    # created confirmed, not through action_confirm: sale_loyalty's confirmation
                    # would give every order a card of each automatic loyalty program, order by order
                    "state": "sale",
                    "order_line": lines,
                }
            )
        orders = self.env["sale.order"]
        for start in range(0, len(order_vals), MOVE_BATCH):
            orders |= self.env["sale.order"].create(order_vals[start : start + MOVE_BATCH])
        invoice_vals = []
        for order in orders:
            date = min(order.date_order.date() + timedelta(days=rng.randint(0, 3)), today)
            invoice_vals.append(
                {
                    "move_type": "out_invoice",
                    "partner_id": order.partner_id.id,
                    "invoice_user_id": order.user_id.id,
                    "team_id": order.team_id.id,
                    "invoice_origin": order.name,
                    "invoice_date": date,
                    "date": date,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": line.product_id.id,
                                "quantity": line.product_uom_qty,
                                "price_unit": line.price_unit,
                                "discount": line.discount,
                                "tax_ids": [Command.clear()],
                                "sale_line_ids": [Command.set(line.ids)],
                            }
                        )
                        for line in order.order_line
                    ],
                }
            )
        invoices = self.env["account.move"]
        for start in range(0, len(invoice_vals), MOVE_BATCH):
            batch = self.env["account.move"].create(invoice_vals[start : start + MOVE_BATCH])
            batch.action_post()
            invoices |= batch
            self._story_analyze_moves()
        refund_vals = []
        for invoice in invoices:
            if rng.random() >= CREDIT_NOTE_SHARE:
                continue
            date = min(invoice.invoice_date + timedelta(days=rng.randint(3, 20)), today)
            full = rng.random() < 0.3
            refund_vals.append(
                {
                    "move_type": "out_refund",
                    "partner_id": invoice.partner_id.id,
                    "invoice_user_id": invoice.invoice_user_id.id,
                    "team_id": invoice.team_id.id,
                    "invoice_date": date,
                    "date": date,
                    "reversed_entry_id": invoice.id,
                    "ref": f"Order returned, {invoice.name}" if full else f"Damaged goods, {invoice.name}",
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": line.product_id.id,
                                "quantity": line.quantity if full else 1,
                                "price_unit": line.price_unit,
                                "discount": line.discount,
                                "tax_ids": [Command.clear()],
                                "sale_line_ids": [Command.set(line.sale_line_ids.ids)],
                            }
                        )
                        for line in (invoice.invoice_line_ids if full else invoice.invoice_line_ids[:1])
                    ],
                }
            )
        refund_vals.sort(key=lambda vals: vals["invoice_date"])
        for start in range(0, len(refund_vals), MOVE_BATCH):
            self.env["account.move"].create(refund_vals[start : start + MOVE_BATCH]).action_post()
            self._story_analyze_moves()

    def _story_analyze_moves(self):
        """ANALYZE the journal tables after a batch of moves (ANALYZE sees this transaction's rows).
        Stock account's payment-state query, run for every batch posted, joins the journal items
        twice; planned on the statistics of the near-empty tables of a new test database, one such
        query ran for over ten minutes (seen in two of three two-worker runs of the suite)."""
        self.env.flush_all()
        self.env.cr.execute(SQL("ANALYZE account_move, account_move_line, account_partial_reconcile"))

    def _story_activities(self, rng, today, customers):
        """Done calls and meetings (their chatter messages): the activity part of the cost to serve."""
        kinds = (
            (self.env.ref("mail.mail_activity_data_call"), "Call done"),
            (self.env.ref("mail.mail_activity_data_meeting"), "Meeting done"),
            (self.env.ref("mail.mail_activity_data_email"), "E-mail sent"),
        )
        vals = []
        for customer in customers:
            # key accounts cost more to serve
            for _activity in range(rng.choice((0, 1, 2, 3, 5, 8))):
                kind, body = rng.choice(kinds)
                vals.append(
                    {
                        "model": "res.partner",
                        "res_id": customer.id,
                        "message_type": "notification",
                        "subtype_id": self.env.ref("mail.mt_activities").id,
                        "mail_activity_type_id": kind.id,
                        "record_company_id": self.env.company.id,
                        "body": body,
                        "author_id": customer.user_id.partner_id.id,
                        "date": datetime.combine(today - timedelta(days=rng.randint(1, 700)), time(10)),
                    }
                )
        self.env["mail.message"].create(vals)

    def _story_leads(self, rng, today, customers, users):
        """Open leads of every temperature and age, a black hole of long-idle leads in one team, won
        and lost ones for the calibration, and open leads of the salesperson who left."""
        stages = self.env["crm.stage"].search([])
        open_stages = stages.filtered(lambda stage: not stage.is_won)
        won_stage = stages.filtered("is_won")[:1]
        medium = self.env.ref("utm.utm_medium_email")
        campaign = self.env["utm.campaign"].create({"title": "Trade fair 2026 (demo)"})
        topics = ("new office", "meeting rooms", "refit", "home office kits", "reception", "canteen")
        vals, ages = [], []
        for index in range(90):
            customer = customers[rng.randrange(len(customers))]
            age = rng.choice((1, 3, 7, 15, 25, 40, 60, 90, 150))
            idle = min(age, rng.choice((0, 1, 4, 10, 20, 35, 50, 80)))
            seller = users["departed"] if index % 15 == 0 else customer.user_id
            kind = "won" if index % 9 == 0 else "lost" if index % 9 == 1 else "open"
            vals.append(
                {
                    "name": f"{customer.name}: {topics[index % len(topics)]}",
                    "type": "opportunity",
                    "partner_id": customer.id,
                    "user_id": seller.id,
                    "team_id": users["team"].id,
                    "stage_id": (won_stage if kind == "won" else rng.choice(open_stages)).id,
                    "expected_revenue": rng.choice((1500, 4000, 8000, 15000, 30000)),
                    "probability": rng.choice((10, 20, 35, 50, 70, 90)),
                    "priority": rng.choice(("0", "0", "1", "2", "3")),
                    "date_deadline": today + timedelta(days=rng.choice((-10, 5, 12, 30, 60, 120)))
                    if rng.random() < 0.7
                    else False,
                    "campaign_id": campaign.id if index % 3 == 0 else False,
                    "medium_id": medium.id if index % 3 == 0 else False,
                }
            )
            ages.append((age, idle, kind))
        leads = self.env["crm.lead"].create(vals)
        lost = [lead for lead, (_age, _idle, kind) in zip(leads, ages, strict=True) if kind == "lost"]
        for index, xmlid in enumerate(LOST_REASONS):
            reason = self.env.ref(xmlid, raise_if_not_found=False)
            group = leads.browse([lead.id for lead in lost[index :: len(LOST_REASONS)]])
            group.action_set_lost(lost_reason_id=reason.id if reason else False)
        # dates in the past are what makes a lead age: set them in one statement
        now = fields.Datetime.now()
        rows = [
            (lead.id, now - timedelta(days=age), now - timedelta(days=idle))
            for lead, (age, idle, _kind) in zip(leads, ages, strict=True)
        ]
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead l SET create_date = v.created, date_open = v.created,
                       date_last_stage_update = v.touched
                  FROM (VALUES %s) AS v(id, created, touched)
                 WHERE l.id = v.id
                """,
                SQL(", ").join(SQL("(%s, %s::timestamp, %s::timestamp)", *row) for row in rows),
            )
        )
        self.env.invalidate_all()
        # every open lead, Odoo's demo ones too: what the first night of the lead cron would do
        self.env["crm.lead"]._ror_recompute_temperature(SQL("lead.active"))

    def _story_campaigns(self, rng, today, customers):
        """An e-mail campaign with a control group and a catalogue mailing: targets, channel costs;
        their responses are read from the invoices by the campaign cron."""
        campaigns = self.env["utm.campaign"].create(
            [
                {
                    "title": "Spring catalogue (demo)",
                    "crm_ror_medium_id": self.env.ref("utm.utm_medium_email").id,
                    "crm_ror_fixed_cost": 400.0,
                    "crm_ror_response_days": 45,
                    "crm_ror_control_share": 15.0,
                },
                {
                    "title": "Key account visits (demo)",
                    "crm_ror_medium_id": self.env.ref("utm.utm_medium_phone").id,
                    "crm_ror_fixed_cost": 150.0,
                    "crm_ror_response_days": 60,
                },
            ]
        )
        vals = []
        for campaign, days_ago, count in ((campaigns[0], 120, 120), (campaigns[1], 75, 40)):
            for customer in rng.sample(list(customers), count):
                is_control = bool(campaign.crm_ror_control_share) and rng.random() < 0.15
                vals.append(
                    {
                        "campaign_id": campaign.id,
                        "partner_id": customer.id,
                        "date_targeted": today - timedelta(days=days_ago + rng.randint(0, 6)),
                        "touches": 0 if is_control else rng.randint(1, 3),
                        "is_control": is_control,
                    }
                )
        self.env["crm.ror.campaign.target"].create(vals)
        # their response windows have closed: the daily cron (last week's windows only) would skip them
        campaigns._crm_ror_refresh_responses()

    def _story_nps(self, rng, today, customers):
        comments = {
            "promoter": ("Great advice and fast delivery.", "The new chairs are perfect.", False),
            "passive": ("Good products, slow replies.", False),
            "detractor": ("Delivery came two weeks late.", "The desk arrived damaged.", False),
        }
        vals = []
        for customer in rng.sample(list(customers), 110):
            score = rng.choice((10, 10, 9, 9, 9, 8, 8, 7, 6, 5, 3))
            kind = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
            vals.append(
                {
                    "partner_id": customer.id,
                    "score": score,
                    "channel": rng.choice(("phone", "email", "visit")),
                    "comment": rng.choice(comments[kind]),
                    "date": today - timedelta(days=rng.randint(1, 330)),
                }
            )
        self.env["crm.ror.nps.answer"].create(vals)
        detractors = [v["partner_id"] for v in vals if v["score"] <= 6][:6]
        self.env["crm.ror.grievance"].create(
            [
                {
                    "name": title,
                    "partner_id": partner_id,
                    "category": category,
                    "date_opened": fields.Datetime.now() - timedelta(days=days),
                }
                for partner_id, (title, category, days) in zip(
                    detractors,
                    (
                        ("Desk delivered with a broken leg", "product", 20),
                        ("Invoice shows the wrong discount", "invoice", 12),
                        ("Nobody called back about the quote", "service", 9),
                        ("Delivery two weeks late", "delivery", 6),
                        ("Chair mechanism squeaks", "product", 3),
                        ("Credit note still not received", "invoice", 1),
                    ),
                    strict=False,
                )
            ]
        )
