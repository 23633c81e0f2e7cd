"""KPI definitions cannot raise anyone's rights, and query KPIs count only readable records."""

import time

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import freeze_time

from .common import JAN, ScorecardCase
from .test_engine_formula import HOSTILE as HOSTILE_FORMULAS

# Not a speed target: unguarded, these inputs run for minutes or exhaust memory (10**9 items,
# 9**9**9); refused before any evaluation they take milliseconds. The bound tells the two apart
# with room for a loaded CI machine.
GUARD_SECONDS = 5.0

ESCALATION = "[('id', '=', user.env.ref('base.group_system').write({'users': [(4, uid)]}) and 0)]"


class TestKpiDefinitionSecurity(ScorecardCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env["res.users"].create(
            {
                "name": "Scorecard Administrator",
                "login": "scorecard_admin_not_settings",
                "company_id": cls.company_a.id,
                "company_ids": [Command.set([cls.company_a.id])],
                "groups_id": [
                    Command.set(
                        [
                            cls.env.ref("sales_team.group_sale_salesman").id,
                            cls.env.ref("crm_scorecard.group_crm_scorecard_manager").id,
                        ]
                    )
                ],
            }
        )
        cls.Kpi = cls.env["crm.scorecard.kpi"].with_user(cls.admin)

    def _groups(self):
        return self.admin.sudo().groups_id

    def _query_vals(self, **values):
        return dict(
            {
                "name": "Admin query KPI",
                "code": "test_admin_query",
                "source": "query",
                "model_id": self.env.ref("crm.model_crm_lead").id,
                "date_field_id": self.env.ref("crm.field_crm_lead__create_date").id,
                "aggregate": "count",
            },
            **values,
        )

    def test_scorecard_admin_is_not_settings_admin(self):
        self.assertFalse(self.admin.has_group("base.group_system"))
        self.assertFalse(self.admin.has_group("base.group_erp_manager"))

    def test_scorecard_admin_creates_query_and_ratio_kpis(self):
        # The model and field pickers of the KPI form work for him.
        models = self.env["ir.model"].with_user(self.admin).name_search("Lead")
        self.assertIn(self.env.ref("crm.model_crm_lead").id, [m[0] for m in models])
        fields = (
            self.env["ir.model.fields"]
            .with_user(self.admin)
            .search([("model_id.model", "=", "crm.lead"), ("ttype", "in", ("date", "datetime"))])
        )
        self.assertIn(self.env.ref("crm.field_crm_lead__create_date"), fields)
        query = self.Kpi.create(self._query_vals(domain="[('type', '=', 'opportunity')]"))
        ratio = self.Kpi.create(
            self._query_vals(
                name="Admin ratio KPI",
                code="test_admin_ratio",
                domain="[('create_date', '>=', (context_today() - relativedelta(years=5)).strftime('%Y-%m-%d'))]",
                is_ratio=True,
                denominator_model_id=self.env.ref("crm.model_crm_lead").id,
                denominator_domain="['|', ('user_id', '=', uid), ('company_id', 'in', company_ids)]",
                denominator_aggregate="count",
            )
        )
        ratio.denominator_domain = "[('company_id', '=', company_id)]"
        query.write({"aggregate": "sum", "field_id": self.env.ref("crm.field_crm_lead__expected_revenue").id})
        formula = self.Kpi.create(
            {
                "name": "Admin formula",
                "code": "test_admin_formula",
                "source": "formula",
                "formula": "test_admin_query / 2",
            }
        )
        catalog = self.Kpi.create(
            {
                "name": "Admin catalog",
                "code": "test_admin_catalog",
                "source": "catalog",
                "catalog_code": "crm_scorecard.win_rate",
            }
        )
        self.assertEqual(len(query | ratio | formula | catalog), 4)

    def test_escalation_domain_is_refused(self):
        groups = self._groups()
        admins = self.env.ref("base.group_system").users
        for field, values in (
            ("domain", {"domain": ESCALATION}),
            (
                "denominator_domain",
                {
                    "is_ratio": True,
                    "denominator_model_id": self.env.ref("crm.model_crm_lead").id,
                    "denominator_domain": ESCALATION,
                },
            ),
        ):
            with self.subTest(field=field), self.assertRaisesNamed(ValidationError, "Escalating KPI.*domain"):
                self.Kpi.create(self._query_vals(name="Escalating KPI", code="test_escalating", **values))
        kpi = self.Kpi.create(self._query_vals())
        with self.assertRaisesNamed(ValidationError, "Admin query KPI.*domain"):
            kpi.domain = ESCALATION
        # Written straight into the database (as an older version allowed), it is refused at evaluation.
        self.env.cr.execute("UPDATE crm_scorecard_kpi SET domain = %s WHERE id = %s", (ESCALATION, kpi.id))
        kpi.invalidate_recordset()
        scorecard = self._scorecard(self.company_a, lines=[{"kpi_id": kpi.id, "target": 1}], owner=self.admin)
        self.assertIn(
            "Admin query KPI",
            scorecard.with_user(self.admin).with_context(scorecard_date=JAN).evaluation_error,
        )
        with freeze_time("2025-02-10 12:00:00"):
            self.env["crm.scorecard"]._cron_record_history()
        self.assertEqual(self._groups(), groups)
        self.assertFalse(self.admin.has_group("base.group_system"))
        self.assertEqual(self.env.ref("base.group_system").users, admins)

    def test_hostile_formulas_are_refused_fast(self):
        groups = self._groups()
        kpi = self.Kpi.create(
            {"name": "Safe formula", "code": "test_safe_formula", "source": "formula", "formula": "1"}
        )
        runtime = {"inf_by_growth": "(test_leads_created + 1) * 1e14 * 1e14"}  # needs a value
        for name, expression in {**HOSTILE_FORMULAS, **runtime}.items():
            started = time.perf_counter()
            if name in runtime:
                kpi.formula = expression
                scorecard = self._scorecard(self.company_a, lines=[{"kpi_id": kpi.id}], owner=self.admin)
                scorecard = scorecard.with_user(self.admin).with_context(scorecard_date=JAN)
                self.assertIn("Safe formula", scorecard.evaluation_error)
                self.assertIn("out of bounds", scorecard.evaluation_error)
            else:
                with self.subTest(formula=name), self.assertRaisesNamed(ValidationError, "Hostile KPI"):
                    self.Kpi.create(
                        {
                            "name": "Hostile KPI",
                            "code": f"test_hostile_{name}",
                            "source": "formula",
                            "formula": expression,
                        }
                    )
                with self.subTest(formula=name), self.assertRaisesNamed(ValidationError, "Safe formula"):
                    kpi.formula = expression
            self.assertLess(time.perf_counter() - started, GUARD_SECONDS, name)
        self.assertEqual(self._groups(), groups)

    def test_admin_only_models_cannot_be_queried(self):
        with self.assertRaisesNamed(ValidationError, "Secret KPI.*technical model"):
            self.Kpi.create(
                self._query_vals(
                    name="Secret KPI",
                    model_id=self.env.ref("base.model_ir_config_parameter").id,
                    date_field_id=False,
                    domain="[('value', 'like', 'a%')]",
                )
            )

    def test_sales_managers_use_kpis_but_do_not_define_them(self):
        manager = self.env["res.users"].create(
            {
                "name": "Sales manager",
                "login": "scorecard_sales_manager",
                "company_id": self.company_a.id,
                "company_ids": [Command.set([self.company_a.id])],
                "groups_id": [Command.set([self.env.ref("sales_team.group_sale_manager").id])],
            }
        )
        self.assertFalse(manager.has_group("crm_scorecard.group_crm_scorecard_manager"))
        kpi = self.env["crm.scorecard.kpi"].with_user(manager).browse(self.kpi_leads.id)
        self.assertEqual(kpi.name, "Test leads created")
        with self.assertRaises(AccessError):
            kpi.domain = "[('id', '>', 0)]"
        with self.assertRaises(AccessError):
            self.env["crm.scorecard.kpi"].with_user(manager).create(self._query_vals())
        # He manages scorecards built from the KPIs.
        scorecard = (
            self.env["crm.scorecard"]
            .with_user(manager)
            .create({"name": "Manager's", "company_id": self.company_a.id})
        )
        self.env["crm.scorecard.line"].with_user(manager).create(
            {
                "scorecard_id": scorecard.id,
                "perspective_id": scorecard.perspective_ids[0].id,
                "kpi_id": self.kpi_leads.id,
            }
        )


class TestQueryKpiRights(ScorecardCase):
    def test_history_counts_what_its_owner_may_read(self):
        seller = self.env["res.users"].create(
            {
                "name": "Owner seller",
                "login": "scorecard_owner_seller",
                "company_id": self.company_a.id,
                "company_ids": [Command.set([self.company_a.id])],
                "groups_id": [Command.set([self.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        other = self.env["res.users"].create(
            {
                "name": "Other",
                "login": "scorecard_other",
                "company_id": self.company_a.id,
                "company_ids": [Command.set([self.company_a.id])],
            }
        )
        self._lead(self.company_a, self.team_a, DT(2025, 1, 9), user_id=seller.id)
        for _ in range(2):
            self._lead(self.company_a, self.team_a, DT(2025, 1, 9), user_id=other.id)
        scorecard = self._scorecard(
            self.company_a, lines=[{"kpi_id": self.kpi_leads.id, "target": 2}], owner=seller
        )
        with freeze_time("2025-02-10 12:00:00"):
            self.env["crm.scorecard"]._cron_record_history()
        january = scorecard.value_ids.filtered(lambda v: v.date_from == JAN.replace(day=1))
        self.assertEqual(january.value, 1.0)  # the superuser cron counted 3 before

    def test_history_needs_an_owner_allowed_in_the_company(self):
        outsider = self.env["res.users"].create(
            {
                "name": "Outsider",
                "login": "scorecard_outsider",
                "company_id": self.company_a.id,
                "company_ids": [Command.set([self.company_a.id])],
                "groups_id": [Command.set([self.env.ref("sales_team.group_sale_manager").id])],
            }
        )
        self._lead(self.company_b, self.team_b, DT(2025, 1, 9))
        scorecard = self._scorecard(
            self.company_b, lines=[{"kpi_id": self.kpi_leads.id, "target": 2}], owner=outsider
        )
        ownerless = self._scorecard(self.company_b, lines=[{"kpi_id": self.kpi_leads.id, "target": 2}])
        ownerless.user_id = False
        with freeze_time("2025-02-10 12:00:00"):
            self.env["crm.scorecard"]._cron_record_history()
        self.assertFalse(scorecard.value_ids)
        self.assertIn("may not work in Scorecard Co B", scorecard.message_ids[0].body)
        self.assertFalse(ownerless.value_ids)
        self.assertIn("has no owner", ownerless.message_ids[0].body)

    def test_kpi_on_a_model_the_viewer_cannot_read_is_undefined(self):
        kpi = self.env["crm.scorecard.kpi"].create(
            {
                "name": "Invoices",
                "code": "test_invoices",
                "source": "query",
                "model_id": self.env.ref("account.model_account_move").id,
                "aggregate": "count",
            }
        )
        portalish = self.env["res.users"].create(
            {
                "name": "Plain user",
                "login": "scorecard_plain_user",
                "company_id": self.company_a.id,
                "company_ids": [Command.set([self.company_a.id])],
                "groups_id": [Command.set([self.env.ref("crm_scorecard.group_crm_scorecard_user").id])],
            }
        )
        scorecard = self._scorecard(self.company_a, lines=[{"kpi_id": kpi.id, "target": 2}])
        line = scorecard.line_ids.with_user(portalish).with_context(scorecard_date=JAN)
        self.assertFalse(line.value_defined)
        self.assertIn("may not read", line.message)


DT = __import__("datetime").datetime


class TestOwnerCannotLendRights(ScorecardCase):
    """The owner's rights compute the cron's history: nobody below Settings admin picks them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.settings_admin = cls.env.ref("base.user_admin")
        cls.settings_admin.company_ids = [Command.link(cls.company_a.id)]
        cls.scorecard_admin = cls.env["res.users"].create(
            {
                "name": "Scorecard admin seller",
                "login": "scorecard_admin_seller",
                "company_id": cls.company_a.id,
                "company_ids": [Command.set([cls.company_a.id])],
                "groups_id": [
                    Command.set(
                        [
                            cls.env.ref("sales_team.group_sale_salesman").id,
                            cls.env.ref("crm_scorecard.group_crm_scorecard_manager").id,
                        ]
                    )
                ],
            }
        )

    def test_only_settings_admin_sets_another_owner(self):
        for user in (self.owner, self.scorecard_admin):  # a sales manager, a scorecard admin
            Scorecard = self.env["crm.scorecard"].with_user(user)
            for target in (self.settings_admin, (self.owner | self.scorecard_admin) - user):
                with self.assertRaisesNamed(AccessError, "Scorecard Lent: only a Settings administrator"):
                    Scorecard.create({"name": "Lent", "company_id": self.company_a.id, "user_id": target.id})
            own = Scorecard.create({"name": "Own", "company_id": self.company_a.id})
            self.assertEqual(own.user_id, user)
            with self.assertRaisesNamed(AccessError, "Scorecard Own: only a Settings administrator"):
                own.write({"user_id": self.settings_admin.id})
            own.write({"user_id": user.id, "name": "Own"})  # himself: allowed
        # The Settings admin may choose any owner.
        lent = (
            self.env["crm.scorecard"]
            .with_user(self.settings_admin)
            .create({"name": "Lent", "company_id": self.company_a.id, "user_id": self.owner.id})
        )
        self.assertEqual(lent.user_id, self.owner)

    def test_template_wizard_makes_the_caller_the_owner(self):
        self.assertNotIn("user_id", self.env["crm.scorecard.template.wizard"]._fields)
        wizard = (
            self.env["crm.scorecard.template.wizard"]
            .with_user(self.scorecard_admin)
            .create({"template_id": self.env.ref("crm_scorecard.template_customer_conversion").id})
        )
        scorecard = self.env["crm.scorecard"].browse(wizard.action_create()["res_id"])
        self.assertEqual(scorecard.user_id, self.scorecard_admin)

    def test_history_by_hand_counts_what_the_caller_may_read(self):
        other = self.env["res.users"].create(
            {
                "name": "Other",
                "login": "scorecard_lend_other",
                "company_ids": [Command.set([self.company_a.id])],
                "company_id": self.company_a.id,
            }
        )
        self._lead(self.company_a, self.team_a, DT(2025, 1, 9), user_id=self.scorecard_admin.id)
        for _ in range(2):
            self._lead(self.company_a, self.team_a, DT(2025, 1, 9), user_id=other.id)
        # Owned by the Settings admin, who reads the 3 leads.
        scorecard = self._scorecard(
            self.company_a, lines=[{"kpi_id": self.kpi_leads.id, "target": 2}], owner=self.settings_admin
        )
        mine = scorecard.with_user(self.scorecard_admin).with_context(scorecard_date=JAN)
        mine.action_record_history()
        january = scorecard.value_ids.filtered(lambda v: v.date_from == JAN.replace(day=1))
        self.assertEqual(january.value, 1.0)  # the owner's rights counted 3
        wizard = (
            self.env["crm.scorecard.period.wizard"]
            .with_user(self.scorecard_admin)
            .create({"scorecard_id": scorecard.id, "date": JAN})
        )
        self._lead(self.company_a, self.team_a, DT(2025, 1, 10), user_id=other.id)
        wizard.action_record_history()
        self.assertEqual(january.value, 1.0)  # the owner's rights count 4


class TestTeamScorecardsStayInTheTeam(ScorecardCase):
    """Catalog KPIs are team aggregates computed as the system: a team's scorecard, and all that
    hangs on it, is read by the team (leader and active members) and by managers only."""

    FAMILY = {
        "crm.scorecard": "id",
        "crm.scorecard.perspective": "scorecard_id",
        "crm.scorecard.line": "scorecard_id",
        "crm.scorecard.line.band": "line_id.scorecard_id",
        "crm.scorecard.value": "scorecard_id",
        "crm.scorecard.manual.value": "scorecard_id",
    }

    def _user(self, login, group="sales_team.group_sale_salesman"):
        return self.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "company_id": self.company_a.id,
                "company_ids": [Command.set([self.company_a.id])],
                "groups_id": [Command.set([self.env.ref(group).id])],
            }
        )

    def _readable(self, user, scorecards):
        """{model: scorecards whose records of that model ``user`` may read}"""
        return {
            model: self.env[model].with_user(user).search([(path, "in", scorecards.ids)]).mapped(path)
            if path != "id"
            else self.env[model].with_user(user).search([("id", "in", scorecards.ids)])
            for model, path in self.FAMILY.items()
        }

    def test_team_scorecards_are_read_by_the_team_and_managers(self):
        member, outsider, leader, archived = (self._user(f"sc_team_{n}") for n in ("m", "o", "l", "x"))
        manager = self._user("sc_team_manager", "sales_team.group_sale_manager")
        self.team_a.write({"user_id": leader.id, "member_ids": [Command.set([member.id])]})
        self.env["crm.team.member"].create(
            {"crm_team_id": self.team_a.id, "user_id": archived.id, "active": False}
        )
        self.team_a2.member_ids = [Command.set([outsider.id])]
        manual = self.env["crm.scorecard.kpi"].create(
            {"name": "Hours", "code": "test_hours", "source": "manual"}
        )
        scorecards = self.env["crm.scorecard"]
        for team in (self.team_a, self.env["crm.team"]):
            scorecard = self._scorecard(
                self.company_a,
                team=team or None,
                lines=[{"kpi_id": self.kpi_leads.id, "target": 2}, {"kpi_id": manual.id, "target": 2}],
            )
            self.env["crm.scorecard.line.band"].create(
                {"line_id": scorecard.line_ids[0].id, "name": "Top", "score_from": 90}
            )
            self.env["crm.scorecard.manual.value"].create(
                {"scorecard_id": scorecard.id, "kpi_id": manual.id, "date": JAN, "value": 3}
            )
            scorecard._record_history(
                {scorecard: [scorecard.with_context(scorecard_date=JAN)._current_period()]}
            )
            scorecards |= scorecard
        team_card, company_card = scorecards
        for user, expected in (
            (member, scorecards),
            (leader, scorecards),
            (manager, scorecards),
            (outsider, company_card),
            (archived, company_card),
        ):
            readable = self._readable(user, scorecards)
            for model in self.FAMILY:
                self.assertEqual(readable[model], expected, f"{model} as {user.login}")
        with self.assertRaises(AccessError):
            team_card.with_user(outsider).with_context(scorecard_date=JAN).line_ids.mapped("value")
        # A new member reads his team's scorecard at once (no cached membership).
        self.team_a.member_ids = [Command.link(outsider.id)]
        self.assertEqual(self._readable(outsider, scorecards)["crm.scorecard.value"], scorecards)


class TestQueryLinesNeedTheOwner(ScorecardCase):
    """A query KPI on a scorecard is stored in its history with the owner's rights: only the
    owner (or a Settings administrator) may put one on it, directly or through a formula."""

    def test_a_sales_manager_cannot_add_a_query_kpi_to_someone_elses_scorecard(self):
        manager = self.env["res.users"].create(
            {
                "name": "Other manager",
                "login": "sc_other_manager",
                "company_id": self.company_a.id,
                "company_ids": [Command.set([self.company_a.id])],
                "groups_id": [Command.set([self.env.ref("sales_team.group_sale_manager").id])],
            }
        )
        Kpi = self.env["crm.scorecard.kpi"]
        formula = Kpi.create(
            {
                "name": "Twice the leads",
                "code": "test_twice",
                "source": "formula",
                "formula": "2 * test_leads_created",
            }
        )
        manual = Kpi.create({"name": "Hours trained", "code": "test_trained", "source": "manual"})
        admins = self._scorecard(self.company_a, name="Admin's card")  # owned by the administrator
        self.assertNotEqual(admins.user_id, manager)
        perspective = admins.perspective_ids[0]
        Line = self.env["crm.scorecard.line"].with_user(manager)
        for kpi in (self.kpi_leads, formula):
            with self.subTest(kpi=kpi.name), self.assertRaisesNamed(AccessError, "Admin's card.*owner"):
                Line.create({"scorecard_id": admins.id, "perspective_id": perspective.id, "kpi_id": kpi.id})
        with self.assertRaisesNamed(AccessError, "Admin's card"):
            admins.with_user(manager).write(
                {
                    "line_ids": [
                        Command.create({"perspective_id": perspective.id, "kpi_id": self.kpi_leads.id})
                    ]
                }
            )
        # A KPI that queries nothing is his to add, but not to turn into a query.
        line = Line.create({"scorecard_id": admins.id, "perspective_id": perspective.id, "kpi_id": manual.id})
        with self.assertRaisesNamed(AccessError, "Admin's card"):
            line.write({"kpi_id": self.kpi_leads.id})
        self.assertEqual(admins.line_ids.kpi_id, manual)
        # On his own scorecard, and for the administrator on any, query KPIs are fine.
        own = (
            self.env["crm.scorecard"]
            .with_user(manager)
            .create({"name": "Mine", "company_id": self.company_a.id})
        )
        Line.create(
            {"scorecard_id": own.id, "perspective_id": own.perspective_ids[0].id, "kpi_id": self.kpi_leads.id}
        )
        self.env["crm.scorecard.line"].create(
            {"scorecard_id": admins.id, "perspective_id": perspective.id, "kpi_id": formula.id}
        )
        self.assertEqual(own.line_ids.kpi_id, self.kpi_leads)
