"""Department scorecards: a soft link to hr.department (crm_scorecard does not depend on hr).

The figures count the records of the department members' users; the department's members and
managers read the scorecard. The test database of ``dev.py test`` has hr installed (its
``TEST_MODULES``); a database without it is played by turning the soft link's detection off.
"""

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError

from .common import JAN, ScorecardCase


class TestDepartmentScorecards(ScorecardCase):
    def _user(self, login):
        return self.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "company_id": self.company_a.id,
                "company_ids": [Command.set([self.company_a.id])],
                "groups_id": [Command.set([self.env.ref("sales_team.group_sale_salesman").id])],
            }
        )

    def test_without_hr_a_department_scorecard_is_refused(self):
        Scorecard = type(self.env["crm.scorecard"])
        self.patch(Scorecard, "_crm_scorecard_has_departments", lambda self: False)
        self.assertEqual(self.env["crm.scorecard"]._selection_department_model(), [])
        with self.assertRaisesNamed(UserError, "Scorecard Lost department.*Employees app"):
            self._scorecard(self.company_a, name="Lost department", department_id=7)
        # Company-wide and team scorecards stay as they were.
        self.assertEqual(self._scorecard(self.company_a).scope, "company")
        self.assertEqual(self._scorecard(self.company_a, team=self.team_a).scope, "team")
        salesman = self._user("sc_dep_nohr")
        self.assertFalse(
            self.env["crm.scorecard"].with_user(salesman).search([("is_department_reader", "=", True)])
        )

    def test_department_members_figures_and_readers(self):
        self.assertIn("hr.department", self.env, "`python3 dev.py test` installs hr in the test database")
        Employee = self.env["hr.employee"]
        member, other_member, manager, outsider = (self._user(f"sc_dep_{n}") for n in ("m", "m2", "l", "o"))
        sales = self.env["hr.department"].create({"name": "Field sales", "company_id": self.company_a.id})
        support = self.env["hr.department"].create({"name": "Support", "company_id": self.company_a.id})
        boss = Employee.create({"name": "Boss", "user_id": manager.id, "company_id": self.company_a.id})
        sales.manager_id = boss
        for user, department in ((member, sales), (other_member, sales), (outsider, support)):
            Employee.create(
                {
                    "name": user.name,
                    "user_id": user.id,
                    "department_id": department.id,
                    "company_id": self.company_a.id,
                }
            )
        for user, count in ((member, 2), (other_member, 1), (outsider, 4), (manager, 3)):
            for _index in range(count):
                self._lead(self.company_a, self.team_a, JAN, user_id=user.id)
        self._lead(self.company_a, self.team_a, JAN)  # nobody's
        pipeline = self.env["crm.scorecard.kpi"].create(
            {
                "name": "Pipeline",
                "code": "test_dep_pipeline",
                "source": "catalog",
                "catalog_code": "crm_scorecard.pipeline_value",
            }
        )
        scorecard = self._scorecard(
            self.company_a,
            name="Field sales card",
            department_id=sales.id,
            lines=[{"kpi_id": self.kpi_leads.id, "target": 5}, {"kpi_id": pipeline.id, "target": 5}],
        )
        self.assertEqual(scorecard.scope, "department")
        self.assertEqual(scorecard.department_ref, sales)
        # The members' users' records only (the manager is no member of his department here).
        users = Employee.search([("department_id", "=", sales.id)]).user_id
        expected = self.env["crm.lead"].search_count(
            [("user_id", "in", users.ids), ("company_id", "=", self.company_a.id)]
        )
        self.assertEqual(expected, 3)
        shown = scorecard.with_context(scorecard_date=JAN)
        lines = {line.kpi_id: line for line in shown.line_ids}
        self.assertEqual(lines[self.kpi_leads].value, expected)
        self.assertEqual(lines[pipeline].value, 0.0)  # none of them has expected revenue
        # The history holds the same figure.
        stored = scorecard._record_history({scorecard: [shown._current_period()]})
        self.assertEqual(stored.filtered(lambda v: v.kpi_id == self.kpi_leads).value, expected)
        # Members and the manager read it; a member of another department does not.
        company_card = self._scorecard(self.company_a)
        for user, readable in ((member, True), (other_member, True), (manager, True), (outsider, False)):
            with self.subTest(user=user.login):
                found = (
                    self.env["crm.scorecard"]
                    .with_user(user)
                    .search([("id", "in", (scorecard | company_card).ids)])
                )
                self.assertEqual(found, (scorecard | company_card) if readable else company_card)
                lines_found = (
                    self.env["crm.scorecard.line"]
                    .with_user(user)
                    .search([("scorecard_id", "=", scorecard.id)])
                )
                self.assertEqual(bool(lines_found), readable)
        with self.assertRaises(AccessError):
            scorecard.with_user(outsider).read(["name"])
        # One scope at a time.
        with self.assertRaisesNamed(ValidationError, "Both card.*choose one"):
            self._scorecard(self.company_a, team=self.team_a, name="Both card", department_id=sales.id)
