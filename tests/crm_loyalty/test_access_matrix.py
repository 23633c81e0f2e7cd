"""Who may read, write, create and delete each model of crm_loyalty; who sees whose figures.

The matrix enumerates every model the addon defines from the registry, so a new model fails this
test until its access is decided here.
"""

from datetime import datetime, time, timedelta

from odoo import Command, fields

from ..common import CrmTransactionCase
from .common import LedgerCase

NONE, R, RW_CU = "", "r", "rwcu"
# group columns, in this order
GROUPS = (
    "base.group_portal",
    "sales_team.group_sale_salesman",
    "sales_team.group_sale_salesman_all_leads",
    "sales_team.group_sale_manager",
    "crm_loyalty.group_crm_loyalty_manager",
    "crm_scorecard.group_crm_scorecard_manager",
)
# computed or posted records: read-only for everyone (the server writes them)
READ_ONLY = (NONE, R, R, R, R, NONE)
MATRIX = {
    "loyalty.tier": (NONE, R, R, RW_CU, RW_CU, NONE),
    "loyalty.tier.history": READ_ONLY,
    "crm.loyalty.lot.consumption": READ_ONLY,
    "crm.loyalty.coupon.campaign": (NONE, R, R, RW_CU, RW_CU, NONE),
    # issued by the campaign (managers run it, and may delete an issue), never edited
    "crm.loyalty.coupon.issue": (NONE, R, R, "rcu", "rcu", NONE),
    "crm.loyalty.voucher.conversion": (NONE, R, R, RW_CU, RW_CU, NONE),
    # issued by the conversion (the server), with their ledger redemption: never edited
    "crm.loyalty.voucher": READ_ONLY,
    "crm.loyalty.member.report": READ_ONLY,
    "crm.loyalty.points.report": READ_ONLY,
    "crm.loyalty.retention.report": READ_ONLY,
    "crm.loyalty.coupon.report": READ_ONLY,
    "crm.loyalty.adjust.wizard": (NONE, NONE, NONE, RW_CU, RW_CU, NONE),
    "crm.loyalty.tier.wizard": (NONE, NONE, NONE, RW_CU, RW_CU, NONE),
    # providers called by server code only (no records)
    "crm.loyalty.cost.to.serve": (NONE,) * 6,
    "crm.loyalty.scorecard.kpi": (NONE,) * 6,
    "crm.loyalty.demo": (NONE,) * 6,  # the demo story's builder, called at install only
}
MODES = {"r": "read", "w": "write", "c": "create", "u": "unlink"}


class TestAccessMatrix(CrmTransactionCase):
    def _user(self, xmlid):
        group = self.env.ref(xmlid)
        groups = [group.id]
        if xmlid == "crm_loyalty.group_crm_loyalty_manager":
            groups.append(self.env.ref("base.group_user").id)
        return self.env["res.users"].create(
            {"name": xmlid, "login": f"matrix_{xmlid}", "groups_id": [Command.set(groups)]}
        )

    def test_every_model_of_the_addon_is_in_the_matrix(self):
        ours = {
            name
            for name, model in self.env.registry.items()
            if getattr(model, "_original_module", None) == "crm_loyalty"
        }
        self.assertEqual(set(MATRIX), ours, "decide the access of every new model in MATRIX")

    def test_acl_outcomes_per_group(self):
        for column, xmlid in enumerate(GROUPS):
            if not self.env.ref(xmlid, raise_if_not_found=False):
                continue  # crm_scorecard not installed: its group does not exist
            access = self.env["ir.model.access"].with_user(self._user(xmlid))
            for model, expected in MATRIX.items():
                for letter, mode in MODES.items():
                    with self.subTest(group=xmlid, model=model, mode=mode):
                        self.assertEqual(
                            access.check(model, mode, raise_exception=False),
                            letter in expected[column],
                        )


class TestOwnCustomers(LedgerCase):
    """A salesperson reads the loyalty figures of his own customers (and of his team's when he
    leads it); salespeople seeing all documents and managers read everyone's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        salesman = cls.env.ref("sales_team.group_sale_salesman")

        def user(login, group=salesman):
            return cls.env["res.users"].create(
                {"name": login, "login": login, "groups_id": [Command.set([group.id])]}
            )

        cls.ann, cls.bob, cls.leader = user("own_ann"), user("own_bob"), user("own_leader")
        cls.all_docs = user("own_all", cls.env.ref("sales_team.group_sale_salesman_all_leads"))
        cls.env["crm.team"].create(
            {"name": "Leader's team", "user_id": cls.leader.id, "member_ids": [Command.set(cls.bob.ids)]}
        )
        cls.partner.user_id = cls.ann
        cls.bob_partner = cls.env["res.partner"].create({"name": "Bob's customer", "user_id": cls.bob.id})
        cls.bob_card = cls.env["loyalty.card"].create(
            {"program_id": cls.program.id, "partner_id": cls.bob_partner.id}
        )
        cls.card._ledger_post("adjust", 10, reason="x")
        cls.bob_card._ledger_post("adjust", 20, reason="x")
        cls.program.crm_tier_ids = [Command.create({"name": "Base", "min_amount": 0})]
        (cls.card | cls.bob_card)._crm_tier_evaluate()
        cls.env.flush_all()

    def _seen(self, user, model):
        records = (
            self.env[model]
            .with_user(user)
            .search([("partner_id", "in", (self.partner | self.bob_partner).ids)])
        )
        return set(records.sudo().mapped("partner_id").ids)

    def test_visibility(self):
        mine, bobs = {self.partner.id}, {self.bob_partner.id}
        expected = {
            self.ann: mine,
            self.bob: bobs,
            self.leader: bobs,  # leads Bob's team
            self.all_docs: mine | bobs,
            self.env.ref("base.user_admin"): mine | bobs,
        }
        models = (
            "loyalty.history",
            "loyalty.tier.history",
            "crm.loyalty.member.report",
            "crm.loyalty.points.report",
        )
        for user, partners in expected.items():
            for model in models:
                with self.subTest(user=user.login, model=model):
                    self.assertEqual(self._seen(user, model), partners)
        consumptions = self.env["crm.loyalty.lot.consumption"]
        self.card._ledger_post("redeem", -1)
        self.bob_card._ledger_post("redeem", -1)
        self.assertEqual(
            set(consumptions.with_user(self.ann).search([]).sudo().mapped("card_id").ids), {self.card.id}
        )

    def test_partner_form_figures_follow_ownership(self):
        self.program.points_validity = 12
        self.card._ledger_post(
            "adjust", 5, reason="x", expiry_date=fields.Date.add(fields.Date.today(), days=3)
        )
        self.bob_card._ledger_post(
            "adjust", 5, reason="x", expiry_date=fields.Date.add(fields.Date.today(), days=3)
        )
        partners = (self.partner | self.bob_partner).with_user(self.ann)
        self.assertEqual(
            partners.mapped("crm_loyalty_expiring_points"), [5.0, 0.0], "main: Bob's lots shown to Ann"
        )

    def test_salesman_cannot_write_computed_records(self):
        history = self.env["loyalty.tier.history"].search([("card_id", "=", self.card.id)])
        self.assertTrue(history)
        with self.assertRaises(Exception):  # noqa: B017 - AccessError (ACL) or UserError (guard)
            history.with_user(self.ann).write({"qualifying_amount": 1e9})


class TestTwoCompanies(CrmTransactionCase):
    """Company A and B, in two currencies, each with customers, orders, invoices and a loyalty
    program: no loyalty figure of one includes the other's records."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, loyalty_no_mail=True))
        cls.company_a = cls.env.company
        other_currency = cls.env.ref("base.USD" if cls.company_a.currency_id.name != "USD" else "base.EUR")
        other_currency.active = True
        cls.company_b = cls.env["res.company"].create(
            {"name": "Loyalty B", "currency_id": other_currency.id, "country_id": cls.env.ref("base.us").id}
        )
        cls.env["account.chart.template"].try_loading(
            "generic_coa", company=cls.company_b, install_demo=False
        )
        cls.company_b.currency_id = other_currency
        cls.env.user.company_ids |= cls.company_b
        cls.product = cls.env["product.product"].create(
            {
                "name": "Goods",
                "type": "service",
                "list_price": 100.0,
                "invoice_policy": "order",
                "taxes_id": [],
            }
        )
        cls.figures = {}
        for company in (cls.company_a, cls.company_b):
            env = cls.env(context=dict(cls.env.context, allowed_company_ids=[company.id]))
            program = env["loyalty.program"].create(
                {
                    "name": f"Club {company.name}",
                    "program_type": "loyalty",
                    "company_id": company.id,
                    "applies_on": "both",
                    "trigger": "auto",
                    "ledger_enabled": True,
                    "crm_point_value": 0.01,
                    "rule_ids": [Command.create({"reward_point_mode": "money", "reward_point_amount": 1})],
                    "reward_ids": [
                        Command.create(
                            {
                                "reward_type": "discount",
                                "discount": 10,
                                "discount_mode": "per_order",
                                "discount_applicability": "order",
                                "required_points": 50,
                            }
                        )
                    ],
                }
            )
            partner = env["res.partner"].create(
                {"name": f"Customer {company.name}", "company_id": company.id}
            )
            card = env["loyalty.card"].create({"program_id": program.id, "partner_id": partner.id})
            order = env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "order_line": [
                        Command.create({"product_id": cls.product.id, "product_uom_qty": 3, "tax_id": False})
                    ],
                }
            )
            order._update_programs_and_rewards()
            order.action_confirm()
            order._create_invoices().action_post()
            redeem = env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "order_line": [
                        Command.create({"product_id": cls.product.id, "product_uom_qty": 1, "tax_id": False})
                    ],
                }
            )
            redeem._update_programs_and_rewards()
            redeem._apply_program_reward(program.reward_ids, card)
            redeem.action_confirm()
            cls.figures[company] = {"partner": partner, "card": card, "program": program}
        cls.env.flush_all()

    def _period(self, company):
        today = fields.Date.context_today(self.env.user)
        start, stop = today - timedelta(days=30), today + timedelta(days=1)
        return {
            "company": company,
            "date_from": start,
            "date_to": today,
            "datetime_from": datetime.combine(start, time.min),
            "datetime_to": datetime.combine(stop, time.min),
            "team": None,
        }

    def test_figures_stay_in_their_company(self):
        a, b = self.figures[self.company_a], self.figures[self.company_b]
        self.assertEqual(a["card"].points, 400 - 50)
        self.assertEqual(b["card"].points, 400 - 50)
        reports = self.env["crm.loyalty.points.report"]
        for company, mine in ((self.company_a, a), (self.company_b, b)):
            rows = reports.search([("company_id", "=", company.id)])
            self.assertEqual(set(rows.mapped("card_id").ids), {mine["card"].id})
            self.assertEqual(sum(rows.mapped("points_issued")), 400)
            members = self.env["crm.loyalty.member.report"].search([("company_id", "=", company.id)])
            self.assertEqual(members.card_id, mine["card"])
            kpi = self.env["crm.loyalty.scorecard.kpi"]
            self.assertAlmostEqual(kpi._kpi_redemption_rate(self._period(company)), 100.0 * 50 / 400)
            self.assertEqual(kpi._kpi_active_member_rate(self._period(company)), 100.0)
            cost = self.env["crm.loyalty.cost.to.serve"]._crm_ror_cost_to_serve(
                company, [a["partner"].id, b["partner"].id], None, None
            )
            self.assertEqual(set(cost), {mine["partner"].id})

    def test_a_user_of_company_a_sees_nothing_of_b(self):
        user = self.env["res.users"].create(
            {
                "name": "Only A",
                "login": "loyalty_only_a",
                "company_id": self.company_a.id,
                "company_ids": [Command.set(self.company_a.ids)],
                "groups_id": [Command.set([self.env.ref("sales_team.group_sale_manager").id])],
            }
        )
        b = self.figures[self.company_b]
        for model, field in (
            ("loyalty.history", "card_id"),
            ("crm.loyalty.lot.consumption", "card_id"),
            ("crm.loyalty.member.report", "card_id"),
            ("crm.loyalty.points.report", "card_id"),
            ("crm.loyalty.retention.report", "card_id"),
            ("loyalty.tier.history", "card_id"),
        ):
            with self.subTest(model=model):
                self.assertFalse(self.env[model].with_user(user).search([(field, "=", b["card"].id)]))
