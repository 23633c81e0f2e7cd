"""The demo story tells what the screens promise: every segment, predicted CLV, sound margins,
costs to serve, suggestions resting on several buyers, leads of every temperature.

The crm_ror story is built once for the class, in a company of its own (the test database has no
demo data), as the demo data builds it at install."""

from collections import Counter
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, fields

from ..common import CrmTransactionCase


class TestDemoStory(CrmTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env["res.company"].create(
            {
                "name": "Demo Story Co",
                "currency_id": cls.env.ref("base.USD").id,
                "country_id": cls.env.ref("base.us").id,
            }
        )
        cls.env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
        cls.env.user.company_ids |= company
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=[company.id]))
        cls.company = company
        company.ror_source = "invoice"
        # the tag the demo data file defines
        cls.env["res.partner.category"]._load_records(
            [{"xml_id": "crm_ror.crm_ror_demo_story_tag", "values": {"name": "Demo story"}}]
        )
        # sold below cost, as some of Odoo's own demo products are
        cls.below_cost = cls.env["product.product"].create(
            {"name": "Large Cabinet (test)", "list_price": 320.0, "standard_price": 800.0, "sale_ok": True}
        )
        cls.env["crm.ror.demo"]._load_story()
        # the tables were near empty when last analysed: give the planner this transaction's rows
        cls.env.flush_all()
        cls.env.cr.execute(
            "ANALYZE account_move, account_move_line, sale_order, sale_order_line, res_partner"
        )
        cls.env["crm.ror.customer.profile"]._compute_profiles(company)
        cls.env["crm.ror.suggestion"]._compute_company_suggestions(company)
        cls.env["utm.campaign"]._cron_refresh_responses()
        cls.customers = cls.env["res.partner"].search(
            [("category_id", "in", cls.env.ref("crm_ror.crm_ror_demo_story_tag").ids)]
        )
        cls.profiles = cls.env["crm.ror.customer.profile"].search(
            [("company_id", "=", company.id), ("partner_id", "in", cls.customers.ids)]
        )
        cls.buyers = cls.profiles.filtered("purchase_count")

    def test_three_years_of_invoices_and_credit_notes(self):
        moves = self.env["account.move"].search(
            [("company_id", "=", self.company.id), ("partner_id", "in", self.customers.ids)]
        )
        self.assertEqual(set(moves.mapped("state")), {"posted"})
        counts = Counter(moves.mapped("move_type"))
        self.assertGreater(counts["out_invoice"], 1000)
        self.assertGreater(counts["out_refund"], 0.03 * counts["out_invoice"])
        dates = moves.mapped("invoice_date")
        today = fields.Date.context_today(self.env["res.partner"])
        self.assertGreater((today - min(dates)).days, 2.5 * 365)
        self.assertLessEqual(max(dates), today)
        # each invoice bills a confirmed order: the purchase process, not bare invoices
        invoices = moves.filtered(lambda m: m.move_type == "out_invoice")
        self.assertTrue(all(inv.invoice_line_ids.sale_line_ids for inv in invoices))

    def test_every_value_segment_is_populated(self):
        self.assertGreaterEqual(len(self.customers), 250)
        segments = self.env["crm.ror.segment"].search([])
        empty = segments - self.profiles.segment_id
        self.assertFalse(empty, f"segments without a demo customer: {empty.mapped('name')}")

    def test_clv_is_predicted_for_most_buyers(self):
        predicted = self.buyers.filtered(lambda p: p.clv_status == "ok")
        self.assertGreater(len(predicted), 0.7 * len(self.buyers))
        self.assertTrue(all(p.clv_predicted >= 0 for p in predicted))
        # a customer silent for years (P(alive) of a few in 100,000) is worth less than a cent: 0.00
        # once rounded; one still likely alive is worth something
        self.assertTrue(all(p.clv_predicted > 0 for p in predicted if p.clv_probability_alive >= 1.0))
        self.assertGreater(len(set(predicted.mapped("churn_risk"))), 1)

    def test_margins_are_realistic_and_costs_to_serve_set(self):
        selling = self.buyers.filtered(lambda p: p.revenue > 0)
        self.assertFalse(selling.filtered(lambda p: p.gross_margin < 0), "a demo customer sells at a loss")
        rate = sum(selling.mapped("gross_margin")) / sum(selling.mapped("revenue"))
        self.assertTrue(0.2 < rate < 0.5, rate)
        products = self.env["product.product"].search([("sale_ok", "=", True), ("list_price", ">", 0)])
        self.assertIn(self.below_cost, products)
        self.assertFalse(products.filtered(lambda p: p.standard_price > p.list_price), "sold below cost")
        served = self.buyers.filtered(lambda p: p.cost_to_serve > 0)
        self.assertGreater(len(served), 0.6 * len(self.buyers))
        self.assertTrue(self.buyers.filtered("has_ror"))

    def test_suggestions_rest_on_several_buyers(self):
        suggestions = self.env["crm.ror.suggestion"].search([("company_id", "=", self.company.id)])
        upsells = suggestions.filtered(lambda s: s.kind == "up_sell")
        self.assertTrue(upsells, "the story makes no up-sell suggestion")
        floor = max(self.company.crm_ror_upsell_min_buyers, 2)
        self.assertFalse(upsells.filtered(lambda s: s.purchase_count < floor))
        self.assertGreater(len(set(suggestions.mapped("kind"))), 1)

    def test_leads_of_every_temperature_a_black_hole_and_a_departed_salesperson(self):
        leads = self.env["crm.lead"].search([("partner_id", "in", self.customers.ids)])
        open_leads = leads.filtered(lambda lead: lead.active and not lead.stage_id.is_won)
        self.assertEqual(set(open_leads.mapped("temperature")), {"hot", "warm", "cold"})
        self.assertTrue(open_leads.filtered("is_neglected"))
        self.assertTrue(open_leads.filtered("ror_owner_departed"))
        # the lead cron hands them over to someone: none is left stranded with its departed owner
        moved, stranded = self.env["crm.lead"]._cron_reassign_departed_leads()
        self.assertTrue(moved)
        self.assertFalse(stranded)
        self.assertTrue(leads.filtered(lambda lead: lead.stage_id.is_won))
        lost = (
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search([("partner_id", "in", self.customers.ids), ("active", "=", False)])
        )
        self.assertTrue(lost)

    def test_campaigns_nps_and_grievances(self):
        targets = self.env["crm.ror.campaign.target"].search([("partner_id", "in", self.customers.ids)])
        self.assertGreater(len(targets.campaign_id), 1)
        self.assertTrue(targets.filtered("is_control"))
        self.assertTrue(targets.filtered("responded"), "no target bought after its campaign")
        self.assertTrue(all(targets.campaign_id.mapped("crm_ror_medium_id")))
        answers = self.env["crm.ror.nps.answer"].search([("partner_id", "in", self.customers.ids)])
        self.assertEqual(set(answers.mapped("category")), {"promoter", "passive", "detractor"})
        self.assertTrue(self.env["crm.ror.grievance"].search([("partner_id", "in", self.customers.ids)]))


class TestLoyaltyDemoStory(CrmTransactionCase):
    """The crm_loyalty story on programs, campaign and conversion made as its demo data makes them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        programs = cls.env["loyalty.program"]._load_records(
            [
                {
                    "xml_id": "crm_loyalty.loyalty_program_club_card_demo",
                    "values": {
                        "name": "Club Card",
                        "program_type": "loyalty",
                        "applies_on": "both",
                        "trigger": "auto",
                        "ledger_enabled": True,
                        "crm_point_value": 0.01,
                        "crm_tier_window_months": 12,
                        "rule_ids": [
                            Command.create({"reward_point_mode": "money", "reward_point_amount": 1})
                        ],
                    },
                },
                {
                    "xml_id": "crm_loyalty.loyalty_program_ledger_demo",
                    "values": {
                        "name": "Loyalty Points (audited ledger)",
                        "program_type": "loyalty",
                        "applies_on": "both",
                        "trigger": "auto",
                        "ledger_enabled": True,
                        "points_validity": 12,
                        "points_validity_unit": "month",
                        "points_expiry_rounding": "quarter",
                        "expiry_notice_days": 30,
                        "rule_ids": [
                            Command.create({"reward_point_mode": "money", "reward_point_amount": 1})
                        ],
                    },
                },
                {
                    "xml_id": "crm_loyalty.loyalty_program_favourites_demo",
                    "values": {"name": "Your Favourites", "program_type": "coupons"},
                },
                {
                    "xml_id": "crm_loyalty.loyalty_program_club_vouchers_demo",
                    "values": {"name": "Club Vouchers", "program_type": "coupons"},
                },
            ]
        )
        cls.club, cls.audited, cls.favourites, cls.voucher_program = programs
        today = fields.Date.context_today(cls.env["res.partner"])
        first_period = (today - relativedelta(months=3)).replace(day=1)
        cls.campaign = cls.env["crm.loyalty.coupon.campaign"]._load_records(
            [
                {
                    "xml_id": "crm_loyalty.crm_loyalty_coupon_campaign_demo",
                    "values": {
                        "name": "Monthly favourites",
                        "loyalty_program_id": cls.club.id,
                        "coupon_program_id": cls.favourites.id,
                        "date_start": first_period,
                        "lookback_months": 6,
                        "products_per_coupon": 3,
                    },
                }
            ]
        )
        cls.conversion = cls.env["crm.loyalty.voucher.conversion"]._load_records(
            [
                {
                    "xml_id": "crm_loyalty.crm_loyalty_voucher_conversion_demo",
                    "values": {
                        "name": "Quarterly vouchers",
                        "loyalty_program_id": cls.club.id,
                        "voucher_program_id": cls.voucher_program.id,
                        "date_start": first_period,
                        "interval_number": 3,
                        "min_points": 500,
                        "step_points": 500,
                        "step_value": 5,
                    },
                }
            ]
        )
        cls.env["loyalty.tier"].create(
            [
                {
                    "program_id": cls.club.id,
                    "name": name,
                    "sequence": seq,
                    "min_amount": amount,
                    "multiplier": mult,
                }
                for name, seq, amount, mult in (
                    ("Bronze", 1, 0, 1),
                    ("Silver", 2, 2000, 1.25),
                    ("Gold", 3, 10000, 1.5),
                )
            ]
        )
        # members with an address: loyalty mails (coupons, vouchers) reach them
        cls.env["res.partner"].create(
            [{"name": f"Member {index}", "email": f"member{index}@example.com"} for index in range(15)]
        )
        cls.env["crm.loyalty.demo"]._load_story()

    def test_members_across_tiers_earn_with_their_multiplier(self):
        cards = self.env["loyalty.card"].search([("program_id", "=", self.club.id)])
        self.assertGreaterEqual(len(cards), 10)
        self.assertEqual(set(cards.crm_tier_id.mapped("name")), {"Bronze", "Silver", "Gold"})
        earns = self.env["loyalty.history"].search([("card_id", "in", cards.ids), ("move_type", "=", "earn")])
        self.assertTrue(earns)
        self.assertTrue(earns.filtered("invoice_id"), "points are earned on invoices")
        for line in earns:
            self.assertTrue(
                line.invoice_id or line.sale_order_id.state == "sale",
                "points are earned on invoices and orders",
            )
            self.assertAlmostEqual(line.issued, line.base_points * line.earn_multiplier, delta=0.01)
        self.assertGreater(len(set(earns.mapped("earn_multiplier"))), 1)

    def test_every_demo_card_holds_the_sum_of_its_ledger(self):
        cards = self.env["loyalty.card"].search([("program_id", "in", (self.club | self.audited).ids)])
        self.assertTrue(cards.filtered(lambda card: card.program_id == self.audited))
        for card in cards:
            self.assertAlmostEqual(
                card.points,
                sum(self.env["loyalty.history"].search([("card_id", "=", card.id)]).mapped("points")),
                2,
                card.display_name,
            )

    def test_coupon_campaign_issued_and_used_on_later_orders(self):
        issues = self.campaign.issue_ids
        self.assertGreaterEqual(len(issues), 3, "the campaign issued coupons to the members")
        self.assertEqual(issues.card_id.program_id, self.favourites)
        self.assertTrue(all(issues.mapped("product_ids")), "each coupon offers the member's favourites")
        members = self.env["loyalty.card"].search([("program_id", "=", self.club.id)]).partner_id
        self.assertLessEqual(issues.partner_id, members)
        used = issues.filtered("is_used")
        self.assertTrue(used, "no coupon was used")
        self.assertLess(len(used), len(issues), "some coupons are still to be used")
        self.campaign.invalidate_recordset()
        self.assertEqual(self.campaign.used_count, len(used))
        for issue in used:
            order = issue.order_ids
            self.assertEqual(order.state, "sale")
            self.assertEqual(order.partner_id, issue.partner_id)
            reward_line = order.order_line.filtered(lambda line, issue=issue: line.coupon_id == issue.card_id)
            self.assertTrue(reward_line.reward_id, "the coupon's reward is a line of the order")
            self.assertIn(reward_line.reward_id.reward_product_id, issue.product_ids)
            self.assertEqual(issue.card_id.points, 0, "a used coupon is spent")
            # a later order: after the coupon was issued, before today
            today = fields.Date.context_today(self.env["res.partner"])
            self.assertTrue(issue.period_date <= order.date_order.date() < today)
            # the order's points are posted on the member's ledger cards
            earns = self.env["loyalty.history"].search(
                [("sale_order_id", "=", order.id), ("move_type", "=", "earn")]
            )
            self.assertIn(self.club, earns.card_id.program_id)

    def test_voucher_conversion_issued_vouchers_and_carried_the_rest(self):
        vouchers = self.conversion.voucher_ids
        self.assertTrue(vouchers, "the conversion issued no voucher")
        self.assertEqual(self.conversion.voucher_count, len(vouchers))
        for voucher in vouchers:
            self.assertEqual(voucher.card_id.program_id, self.club)
            self.assertEqual(voucher.voucher_card_id.program_id, self.voucher_program)
            self.assertEqual(voucher.points % 500, 0)
            self.assertAlmostEqual(voucher.amount, voucher.points / 500 * 5, 2)
            self.assertEqual(voucher.ledger_line_id.move_type, "redeem")
            self.assertAlmostEqual(voucher.ledger_line_id.points, -voucher.points, 2)
            # the remainder, less than a step, stays on the card
            self.assertTrue(0 <= voucher.card_id.points < 500, voucher.card_id.points)
        today = fields.Date.context_today(self.env["res.partner"])
        self.assertEqual(set(vouchers.mapped("state")), {"valid"})
        self.assertTrue(all(voucher.expiration_date > today + timedelta(days=365) for voucher in vouchers))

    def test_story_records_go_with_the_addon(self):
        """Uninstalling removes the demo programs only if every card of theirs, and every record
        holding one of their cards or rewards, is removed first: they carry xml ids of the addon."""
        programs = self.club | self.audited | self.favourites | self.voucher_program
        cards = self.env["loyalty.card"].search([("program_id", "in", programs.ids)])
        orders = self.env["sale.order"].search(
            [
                "|",
                ("order_line.coupon_id", "in", cards.ids),
                ("order_line.reward_id.program_id", "in", programs.ids),
            ]
        )
        self.assertTrue(orders)
        vouchers = self.conversion.voucher_ids
        xml_ids = {}
        for records in (cards, orders, vouchers):
            data = self.env["ir.model.data"].search(
                [("module", "=", "crm_loyalty"), ("model", "=", records._name), ("res_id", "in", records.ids)]
            )
            xml_ids.update({(records._name, row.res_id): row.id for row in data})
            self.assertFalse(
                records.filtered(lambda record: (record._name, record.id) not in xml_ids), records._name
            )

        def rank(records):
            return [xml_ids[records._name, record.id] for record in records]

        # the uninstall removes the newest xml ids first: what refers to a card goes before it
        self.assertLess(max(rank(cards)), min(rank(orders)), "an order goes before the cards it uses")
        self.assertLess(max(rank(vouchers.voucher_card_id)), min(rank(vouchers)))
        self.assertLess(max(rank(vouchers.card_id)), min(rank(vouchers)))

    def test_points_expired_and_expiring(self):
        lines = self.env["loyalty.history"].search([("card_id.program_id", "=", self.audited.id)])
        self.assertTrue(lines.filtered(lambda line: line.move_type == "expire"))
        cards = self.env["loyalty.card"].search([("program_id", "=", self.audited.id)])
        today = fields.Date.context_today(self.env["res.partner"])
        expiring = cards.filtered(lambda c: c.next_expiry_date and (c.next_expiry_date - today).days <= 30)
        self.assertTrue(expiring, "no points expire within the notice period")
        self.assertTrue(all(c.points_expiring_next > 0 for c in expiring))
