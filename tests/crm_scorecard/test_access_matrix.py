"""Who may read, write, create and delete each model of crm_scorecard, and what rules hide.

The table lists every model whose ``_original_module`` is crm_scorecard: a new model that is
not in it fails the test, so no model escapes the review of its access rights.
"""

import datetime

from odoo import Command

from .common import JAN, ScorecardCase

NONE = ""
READ = "r"
ALL = "rwcu"

GROUPS = {
    "portal": ["base.group_portal"],
    "salesman_own": ["sales_team.group_sale_salesman"],
    "salesman_all": ["sales_team.group_sale_salesman_all_leads"],
    "sales_manager": ["sales_team.group_sale_manager"],
    "loyalty_manager": ["crm_loyalty.group_crm_loyalty_manager", "base.group_user"],
    "scorecard_admin": ["crm_scorecard.group_crm_scorecard_manager"],
}
ROLES = tuple(GROUPS)

# model: (portal, salesman own, salesman all, sales manager, loyalty manager, scorecard admin)
MATRIX = {
    "crm.scorecard": (NONE, READ, READ, ALL, NONE, ALL),
    "crm.scorecard.perspective": (NONE, READ, READ, ALL, NONE, ALL),
    "crm.scorecard.line": (NONE, READ, READ, ALL, NONE, ALL),
    "crm.scorecard.line.band": (NONE, READ, READ, ALL, NONE, ALL),
    # KPI definitions (domains, formulas): scorecard administrators only.
    "crm.scorecard.kpi": (NONE, READ, READ, READ, NONE, ALL),
    # History: written by the cron and by scorecard administrators.
    "crm.scorecard.value": (NONE, READ, READ, READ, NONE, ALL),
    "crm.scorecard.manual.value": (NONE, "rwc", "rwc", ALL, NONE, ALL),
    "crm.scorecard.template": (NONE, READ, READ, READ, NONE, ALL),
    "crm.scorecard.template.line": (NONE, READ, READ, READ, NONE, ALL),
    "crm.scorecard.template.wizard": (NONE, NONE, NONE, NONE, NONE, ALL),
    "crm.scorecard.period.wizard": (NONE, ALL, ALL, ALL, NONE, ALL),
    # Abstract: no table, no ACL; reached only through the models above.
    "crm.scorecard.catalog": (NONE, NONE, NONE, NONE, NONE, NONE),
    "crm.scorecard.demo": (NONE,) * 6,  # the demo story's builder, called at install only
    "report.crm_scorecard.report_scorecard": (NONE, NONE, NONE, NONE, NONE, NONE),
}
MODES = {"r": "read", "w": "write", "c": "create", "u": "unlink"}


class TestAccessMatrix(ScorecardCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.users = {
            role: cls.env["res.users"].create(
                {
                    "name": f"Matrix {role}",
                    "login": f"scorecard_matrix_{role}",
                    "company_id": cls.company_a.id,
                    "company_ids": [Command.set([cls.company_a.id])],
                    "groups_id": [Command.set([cls.env.ref(xmlid).id for xmlid in xmlids])],
                }
            )
            for role, xmlids in GROUPS.items()
        }

    def test_every_model_is_in_the_table(self):
        ours = {
            name for name, model in self.env.registry.items() if model._original_module == "crm_scorecard"
        }
        self.assertEqual(set(MATRIX), ours)

    def test_acl_outcomes(self):
        for model, rights in MATRIX.items():
            for role, expected in zip(ROLES, rights, strict=True):
                access = self.env["ir.model.access"].with_user(self.users[role])
                for letter, mode in MODES.items():
                    with self.subTest(model=model, role=role, mode=mode):
                        self.assertEqual(access.check(model, mode, raise_exception=False), letter in expected)

    def test_portal_reads_nothing_of_ours(self):
        self._scorecard(self.company_a, lines=[{"kpi_id": self.kpi_leads.id, "target": 1}])
        portal = self.users["portal"]
        for model in MATRIX:
            if self.env[model]._abstract:
                continue
            with self.subTest(model=model):
                self.assertFalse(self.env["ir.model.access"].with_user(portal).check(model, "read", False))

    def test_company_a_user_sees_nothing_of_company_b(self):
        scorecard_b = self._scorecard(self.company_b, lines=[{"kpi_id": self.kpi_leads.id, "target": 1}])
        kpi_manual = self.env["crm.scorecard.kpi"].create(
            {"name": "B hours", "code": "test_b_hours", "source": "manual"}
        )
        self.env["crm.scorecard.line"].create(
            {
                "scorecard_id": scorecard_b.id,
                "perspective_id": scorecard_b.perspective_ids[0].id,
                "kpi_id": kpi_manual.id,
            }
        )
        self.env["crm.scorecard.manual.value"].create(
            {"scorecard_id": scorecard_b.id, "kpi_id": kpi_manual.id, "date": JAN, "value": 3}
        )
        scorecard_b._record_history(
            {scorecard_b: [scorecard_b.with_context(scorecard_date=JAN)._current_period()]}
        )
        self.assertTrue(scorecard_b.value_ids)
        for role in ("salesman_own", "salesman_all", "sales_manager", "scorecard_admin"):
            user = self.users[role]
            for model in (
                "crm.scorecard",
                "crm.scorecard.perspective",
                "crm.scorecard.line",
                "crm.scorecard.value",
                "crm.scorecard.manual.value",
            ):
                with self.subTest(role=role, model=model):
                    self.assertFalse(
                        self.env[model].with_user(user).search([("company_id", "=", self.company_b.id)])
                    )


class TestTwoCurrencies(ScorecardCase):
    """Two companies in EUR and USD: each scorecard's revenue is its own company's, in its
    own currency, in the live figures and in the (batched) history alike."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        eur, usd = cls.env.ref("base.EUR"), cls.env.ref("base.USD")
        (eur | usd).active = True
        cls.env["res.currency.rate"].search([("currency_id", "in", (eur | usd).ids)]).unlink()
        cls.env["res.currency.rate"].create(
            [
                {"currency_id": eur.id, "rate": 0.5, "name": "2020-01-01"},
                {"currency_id": usd.id, "rate": 1.0, "name": "2020-01-01"},
            ]
        )
        cls.company_eur = cls.env["res.company"].create({"name": "EUR Co", "currency_id": eur.id})
        cls.company_usd = cls.env["res.company"].create({"name": "USD Co", "currency_id": usd.id})
        cls.env.user.company_ids = [Command.link(cls.company_eur.id), Command.link(cls.company_usd.id)]
        cls.kpi_revenue = cls.env.ref("crm_scorecard.kpi_revenue")
        product = cls.env["product.product"].create({"name": "Widget", "list_price": 10.0})
        partner = cls.env["res.partner"].create({"name": "Buyer"})
        for company, amount in ((cls.company_eur, 100.0), (cls.company_usd, 70.0)):
            order = (
                cls.env["sale.order"]
                .with_company(company)
                .create(
                    {
                        "partner_id": partner.id,
                        "company_id": company.id,
                        "order_line": [
                            Command.create(
                                {
                                    "product_id": product.id,
                                    "product_uom_qty": 1,
                                    "price_unit": amount,
                                    "tax_id": False,
                                }
                            )
                        ],
                    }
                )
            )
            order.action_confirm()
            order.date_order = datetime.datetime(2025, 1, 10, 12)

    def test_revenue_in_each_company_currency(self):
        scorecards = {
            company: self._scorecard(company, lines=[{"kpi_id": self.kpi_revenue.id, "target": 1000}])
            for company in (self.company_eur, self.company_usd)
        }
        expected = {self.company_eur: 100.0, self.company_usd: 70.0}
        for company, scorecard in scorecards.items():
            with self.subTest(company=company.name):
                self.assertEqual(scorecard.with_context(scorecard_date=JAN).line_ids.value, expected[company])
        # The batched path (history, dashboard) gives the same figures.
        periods = {s: [s.with_context(scorecard_date=JAN)._current_period()] for s in scorecards.values()}
        values = self.env["crm.scorecard"]._record_history(periods)
        self.assertEqual(
            {v.company_id: v.value for v in values},
            expected,
        )
        dashboard = (
            self.env["crm.scorecard"]
            .browse([s.id for s in scorecards.values()])
            .with_context(scorecard_date=JAN)
        )
        for scorecard in dashboard:
            self.assertAlmostEqual(scorecard.score, expected[scorecard.company_id] / 10)
