"""Scores end to end, history (idempotent), alerts (once), cron, templates, report and export."""

import datetime

from markupsafe import Markup

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, freeze_time

from .common import JAN, ScorecardCase

D = datetime.date
DT = datetime.datetime


class TestScorecardScores(ScorecardCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Kpi = cls.env["crm.scorecard.kpi"]
        cls.kpi_hours = Kpi.create(
            {"name": "Hours", "code": "test_hours", "source": "manual", "direction": "max"}
        )
        cls.kpi_csat = Kpi.create(
            {"name": "CSAT", "code": "test_csat", "source": "manual", "direction": "max"}
        )
        cls.kpi_per_lead = Kpi.create(
            {
                "name": "Hours per lead",
                "code": "test_hours_per_lead",
                "source": "formula",
                "formula": "test_hours / test_leads_created",
            }
        )
        cls.scorecard = cls._scorecard(
            cls.company_a,
            cls.team_a,
            lines=[
                # progress (6 - 0) / (8 - 0) = 75 %
                {"kind": "learning", "kpi_id": cls.kpi_hours.id, "baseline": 0, "target": 8, "weight": 1},
                # progress (9 - 5) / (10 - 5) = 80 %, weight 3
                {"kind": "customer", "kpi_id": cls.kpi_csat.id, "baseline": 5, "target": 10, "weight": 3},
                # undefined while no lead: left out of the averages
                {"kind": "customer", "kpi_id": cls.kpi_per_lead.id, "baseline": 0, "target": 1, "weight": 5},
            ],
        )
        for kpi, value in ((cls.kpi_hours, 6.0), (cls.kpi_csat, 9.0)):
            cls.env["crm.scorecard.manual.value"].create(
                {"scorecard_id": cls.scorecard.id, "kpi_id": kpi.id, "date": D(2025, 1, 20), "value": value}
            )

    def test_weighted_scores_skip_undefined(self):
        scorecard = self.scorecard.with_context(scorecard_date=JAN)
        lines = {line.kpi_id: line for line in scorecard.line_ids}
        self.assertAlmostEqual(lines[self.kpi_hours].score, 75.0)
        self.assertAlmostEqual(lines[self.kpi_csat].score, 80.0)
        self.assertFalse(lines[self.kpi_per_lead].value_defined)
        perspectives = {p.kind: p for p in scorecard.perspective_ids}
        self.assertAlmostEqual(perspectives["customer"].score, 80.0)
        self.assertAlmostEqual(perspectives["learning"].score, 75.0)
        self.assertFalse(perspectives["financial"].score_defined)
        # Perspectives of equal weight: (80 + 75) / 2; empty ones left out.
        self.assertAlmostEqual(scorecard.score, 77.5)
        self.assertEqual(scorecard.stoplight, "yellow")
        perspectives["customer"].weight = 3
        self.assertAlmostEqual(self.scorecard.with_context(scorecard_date=JAN).score, (80 * 3 + 75) / 4)

    def test_rollups_per_perspective_and_scorecard(self):
        scorecard = self.scorecard.with_context(scorecard_date=JAN)
        perspectives = {p.kind: p for p in scorecard.perspective_ids}
        # Customer: CSAT 80 % (weight 3), hours per lead undefined; learning: hours 75 %.
        perspectives["customer"].rollup = "minimum"
        self.assertAlmostEqual(perspectives["customer"].score, 80.0)
        self.scorecard.rollup = "maximum"
        self.assertAlmostEqual(self.scorecard.with_context(scorecard_date=JAN).score, 80.0)
        self.scorecard.rollup = "minimum"
        self.assertAlmostEqual(self.scorecard.with_context(scorecard_date=JAN).score, 75.0)
        self.scorecard.rollup = "sum"
        self.assertAlmostEqual(self.scorecard.with_context(scorecard_date=JAN).score, 100.0)

    def test_previous_period_score_and_trend(self):
        self.env["crm.scorecard.manual.value"].create(
            {
                "scorecard_id": self.scorecard.id,
                "kpi_id": self.kpi_hours.id,
                "date": D(2024, 12, 2),
                "value": 2.0,
            }
        )
        scorecard = self.scorecard.with_context(scorecard_date=JAN)
        # December: only the hours line is defined, 2 of 8 = 25 %.
        self.assertTrue(scorecard.score_previous_defined)
        self.assertAlmostEqual(scorecard.score_previous, 25.0)
        self.assertEqual(scorecard.score_trend, "up")
        hours = scorecard.line_ids.filtered(lambda rec: rec.kpi_id == self.kpi_hours)
        self.assertEqual((hours.value_previous, hours.trend, hours.trend_arrow), (2.0, "up", "↑"))
        self.assertTrue(hours.improved)

    def test_formula_after_its_inputs(self):
        for _ in range(3):
            self._lead(self.company_a, self.team_a, DT(2025, 1, 9))
        line = self.scorecard.line_ids.filtered(lambda rec: rec.kpi_id == self.kpi_per_lead)
        line = line.with_context(scorecard_date=JAN)
        self.assertTrue(line.value_defined)
        self.assertAlmostEqual(line.value, 2.0)

    def test_zero_total_weight_is_undefined(self):
        self.scorecard.perspective_ids.weight = 0
        self.assertFalse(self.scorecard.with_context(scorecard_date=JAN).score_defined)

    def test_history_idempotent_and_recompute(self):
        period = self.scorecard.with_context(scorecard_date=JAN)._current_period()
        self.scorecard._record_history({self.scorecard: [period]})
        values = self.scorecard.value_ids
        self.assertEqual(len(values), 3)
        hours = values.filtered(lambda v: v.kpi_id == self.kpi_hours)
        self.assertEqual((hours.date_from, hours.date_to), (D(2025, 1, 1), D(2025, 1, 31)))
        self.assertAlmostEqual(hours.value, 6.0)
        self.assertTrue(hours.is_closed)
        undefined = values.filtered(lambda v: v.kpi_id == self.kpi_per_lead)
        self.assertFalse(undefined.value_defined)
        # The same period again, after a correction: same rows, new figures.
        self.scorecard.manual_value_ids.filtered(lambda m: m.kpi_id == self.kpi_hours).value = 8.0
        self.scorecard._record_history({self.scorecard: [period]})
        self.assertEqual(self.scorecard.value_ids, values)
        self.assertAlmostEqual(hours.value, 8.0)
        self.assertAlmostEqual(hours.score, 100.0)
        self.assertIsNone(hours.previous_value)  # December has no value: undefined, not 0

    def test_history_wizard_range_and_last_year(self):
        self.env["crm.scorecard.manual.value"].create(
            {
                "scorecard_id": self.scorecard.id,
                "kpi_id": self.kpi_hours.id,
                "date": D(2024, 1, 3),
                "value": 2.0,
            }
        )
        wizard = self.env["crm.scorecard.period.wizard"].create(
            {"scorecard_id": self.scorecard.id, "date": D(2024, 1, 1), "date_until": D(2025, 1, 31)}
        )
        wizard.action_record_history()
        hours = self.scorecard.value_ids.filtered(lambda v: v.kpi_id == self.kpi_hours)
        self.assertEqual(len(hours), 13)
        january = hours.filtered(lambda v: v.date_from == D(2025, 1, 1))
        self.assertAlmostEqual(january.last_year_value, 2.0)

    def test_red_kpi_alerts_once_per_period(self):
        period = self.scorecard.with_context(scorecard_date=JAN)._current_period()
        line = self.scorecard.line_ids.filtered(lambda rec: rec.kpi_id == self.kpi_hours)
        line.write({"target": 100, "user_id": self.owner.id})  # 6 of 100: red
        Activity = self.env["mail.activity"]
        domain = [("res_model", "=", "crm.scorecard"), ("res_id", "=", self.scorecard.id)]
        self.scorecard._record_history({self.scorecard: [period]}, alert=True)
        self.scorecard._record_history({self.scorecard: [period]}, alert=True)
        activities = Activity.search(domain)
        self.assertEqual(len(activities), 1)
        self.assertEqual(activities.user_id, self.owner)
        self.assertIn("Hours", activities.summary)
        # Another period that is red too: its own alert.
        february = self.scorecard.with_context(scorecard_date=D(2025, 2, 3))._current_period()
        self.env["crm.scorecard.manual.value"].create(
            {
                "scorecard_id": self.scorecard.id,
                "kpi_id": self.kpi_hours.id,
                "date": D(2025, 2, 3),
                "value": 1.0,
            }
        )
        self.scorecard._record_history({self.scorecard: [february]}, alert=True)
        self.assertEqual(len(Activity.search(domain)), 2)

    def test_cron_records_ended_and_running_periods(self):
        with freeze_time("2025-02-10 12:00:00"):
            self.env["crm.scorecard"]._cron_record_history()
            values = self.scorecard.value_ids
            self.assertEqual(set(values.mapped("date_from")), {D(2025, 1, 1), D(2025, 2, 1)})
            self.assertTrue(all(values.filtered(lambda v: v.date_from == D(2025, 1, 1)).mapped("is_closed")))
            self.assertFalse(any(values.filtered(lambda v: v.date_from == D(2025, 2, 1)).mapped("is_closed")))
            count = len(values)
            self.env["crm.scorecard"]._cron_record_history()
            self.assertEqual(len(self.scorecard.value_ids), count)

    def test_cron_catches_up_on_the_periods_it_missed(self):
        """After days without the cron, every period ended since the last final one is recorded
        (up to a year back), not only the last one; the older ones raise no alert."""
        with freeze_time("2024-11-05 12:00:00"):
            self.env["crm.scorecard"]._cron_record_history()
        with freeze_time("2025-02-10 12:00:00"):
            self.env["crm.scorecard"]._cron_record_history()
        values = self.scorecard.value_ids
        closed = set(values.filtered("is_closed").mapped("date_from"))
        self.assertEqual(closed, {D(2024, 10, 1), D(2024, 11, 1), D(2024, 12, 1), D(2025, 1, 1)})
        self.assertEqual(set(values.filtered(lambda v: not v.is_closed).mapped("date_from")), {D(2025, 2, 1)})
        # One row per line and period, whatever the number of runs.
        self.assertEqual(len(values), 5 * len(self.scorecard.line_ids))
        late = values.filtered(lambda v: v.date_from in (D(2024, 11, 1), D(2024, 12, 1)))
        self.assertFalse(late.alert_activity_id)

    def test_cron_skips_a_broken_scorecard(self):
        broken_kpi = self.env["crm.scorecard.kpi"].create(
            {
                "name": "Broken at run time",
                "code": "test_broken_run",
                "source": "formula",
                "formula": "10 ** (test_leads_created + 10 ** 10)",  # used to hang the cron
            }
        )
        broken = self._scorecard(self.company_b, lines=[{"kpi_id": broken_kpi.id, "target": 1}])
        with freeze_time("2025-02-10 12:00:00"):
            self.env["crm.scorecard"]._cron_record_history()
        self.assertTrue(self.scorecard.value_ids)
        self.assertFalse(broken.value_ids)
        self.assertIn("Broken at run time", broken.message_ids[0].body)
        # The screens show the error instead of failing.
        broken = broken.with_context(scorecard_date=JAN)
        self.assertIn("Broken at run time", broken.evaluation_error)
        self.assertFalse(broken.score_defined)
        self.assertIn("Broken at run time", broken.line_ids.message)
        self.assertFalse(broken.perspective_ids.filtered("score_defined"))

    def test_report_and_xlsx(self):
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(
            "crm_scorecard.report_scorecard", self.scorecard.ids, data={"scorecard_date": "2025-01-15"}
        )
        self.assertIn(b"2025-01", html)
        self.assertIn(b"78 %", html)
        # The XLSX is built in memory (streamed by the controller: see test_outputs).
        period = self.scorecard.with_context(scorecard_date=JAN)._current_period()
        name, content = self.scorecard._export_xlsx(period)
        self.assertTrue(content.startswith(b"PK"))
        self.assertTrue(name.endswith(".xlsx"))

    def test_period_navigation(self):
        action = self.scorecard.with_context(scorecard_date=JAN).action_previous_period()
        self.assertEqual(action["context"]["scorecard_date"], "2024-12-01")
        action = self.scorecard.with_context(scorecard_date=JAN).action_next_period()
        self.assertEqual(action["context"]["scorecard_date"], "2025-02-01")


class TestTemplates(ScorecardCase):
    def test_customer_conversion_template(self):
        template = self.env.ref("crm_scorecard.template_customer_conversion")
        wizard = self.env["crm.scorecard.template.wizard"].create(
            {"template_id": template.id, "team_id": self.team_b.id, "company_id": self.company_b.id}
        )
        action = wizard.action_create()
        scorecard = self.env["crm.scorecard"].browse(action["res_id"])
        self.assertEqual(scorecard.team_id, self.team_b)
        self.assertEqual(scorecard.company_id, self.company_b)
        self.assertEqual(scorecard.period_type, "month")
        self.assertEqual(len(scorecard.perspective_ids), 4)
        self.assertEqual(
            {p.kind: p.weight for p in scorecard.perspective_ids},
            {"financial": 1, "customer": 2, "process": 2, "learning": 1},
        )
        self.assertEqual(len(scorecard.line_ids), len(template.line_ids))
        lifetime = scorecard.line_ids.filtered(lambda rec: rec.kpi_id.code == "lead_lifetime")
        self.assertEqual((lifetime.direction, lifetime.baseline, lifetime.target), ("min", 60, 20))
        # Live evaluation of every built-in KPI on an empty company: no crash, undefined or 0.
        scorecard.with_context(scorecard_date=JAN).line_ids.mapped("score")

    def test_retention_template_skips_missing_providers(self):
        template = self.env.ref("crm_scorecard.template_customer_retention")
        catalog = self.env["crm.scorecard.catalog"]._collect_catalog()
        expected = template.line_ids.filtered(lambda rec: rec.kpi_id or rec.catalog_code in catalog)
        scorecard = template._create_scorecard(team=self.team_a)
        self.assertEqual(len(scorecard.line_ids), len(expected))
        self.assertEqual(scorecard.company_id, self.company_a)
        if len(expected) < len(template.line_ids):
            self.assertIn("Left out", scorecard.message_ids[:1].body)
        # A second scorecard reuses the catalog KPI definitions created for the first one.
        kpis = self.env["crm.scorecard.kpi"].search_count([])
        template._create_scorecard(team=self.team_a2)
        self.assertEqual(self.env["crm.scorecard.kpi"].search_count([]), kpis)


class TestAccess(ScorecardCase):
    def test_salesman_reads_live_figures_of_his_company_only(self):
        other = self.env["res.users"].create(
            {
                "name": "Other seller",
                "login": "scorecard_other_seller",
                "company_id": self.company_a.id,
                "company_ids": [(6, 0, [self.company_a.id])],
            }
        )
        for _ in range(3):  # another salesperson's leads: hidden to him by the "own documents" rule
            self._lead(self.company_a, self.team_a, DT(2025, 1, 9), user_id=other.id)
        scorecard_a = self._scorecard(self.company_a, lines=[{"kpi_id": self.kpi_leads.id, "target": 2}])
        scorecard_b = self._scorecard(self.company_b, lines=[{"kpi_id": self.kpi_leads.id, "target": 2}])
        salesman = self.env["res.users"].create(
            {
                "name": "Scorecard Salesman",
                "login": "scorecard_salesman",
                "company_id": self.company_a.id,
                "company_ids": [(6, 0, [self.company_a.id])],
                "groups_id": [(6, 0, [self.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        as_salesman = self.env["crm.scorecard"].with_user(salesman).with_context(scorecard_date=JAN)
        visible = as_salesman.search([("id", "in", (scorecard_a | scorecard_b).ids)])
        self.assertEqual(visible, scorecard_a)
        # Figures count only the leads his own rules let him read (it counted all 4 before).
        self._lead(self.company_a, self.team_a, DT(2025, 1, 9), user_id=salesman.id)
        self.assertEqual(self.env["crm.lead"].with_user(salesman).search_count([]), 1)
        self.assertEqual(visible.line_ids.value, 1.0)
        self.assertAlmostEqual(visible.score, 50.0)
        # The same scorecard seen by the superuser counts the 4 leads.
        self.assertEqual(scorecard_a.with_context(scorecard_date=JAN).line_ids.value, 4.0)
        with self.assertRaises(AccessError):
            visible.line_ids.target = 1
        with self.assertRaises(AccessError):
            visible.action_record_history()


class TestUndefinedStaysUndefined(ScorecardCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Kpi = cls.env["crm.scorecard.kpi"]
        cls.kpi_hours = Kpi.create({"name": "Hours", "code": "test_u_hours", "source": "manual"})
        cls.scorecard = cls._scorecard(
            cls.company_a,
            lines=[{"kind": "learning", "kpi_id": cls.kpi_hours.id, "baseline": 0, "target": 10}],
        )

    def _period(self, day):
        return self.scorecard.with_context(scorecard_date=day)._current_period()

    def test_history_stores_null_and_averages_leave_it_out(self):
        self.env["crm.scorecard.manual.value"].create(
            {"scorecard_id": self.scorecard.id, "kpi_id": self.kpi_hours.id, "date": JAN, "value": 8}
        )
        february = D(2025, 2, 3)  # no value: undefined
        self.scorecard._record_history({self.scorecard: [self._period(JAN), self._period(february)]})
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT date_from, value, score, progress, previous_value FROM crm_scorecard_value "
            "WHERE scorecard_id = %s ORDER BY date_from",
            (self.scorecard.id,),
        )
        rows = self.env.cr.fetchall()
        self.assertEqual(
            rows, [(D(2025, 1, 1), 8.0, 80.0, 80.0, None), (D(2025, 2, 1), None, None, None, 8.0)]
        )
        values = self.scorecard.value_ids
        undefined = values.filtered(lambda v: v.date_from == D(2025, 2, 1))
        self.assertIsNone(undefined.value)
        self.assertFalse(undefined.score_defined)
        self.assertIsNone(undefined.last_year_value)
        # What the graph and pivot show: the average of the defined periods only.
        [(value, score)] = self.env["crm.scorecard.value"]._read_group(
            [("scorecard_id", "=", self.scorecard.id)], [], ["value:avg", "score:avg"]
        )
        self.assertEqual((value, score), (8.0, 80.0))

    def test_new_line_shows_no_score_bar(self):
        self.env["crm.scorecard.manual.value"].create(
            {"scorecard_id": self.scorecard.id, "kpi_id": self.kpi_hours.id, "date": JAN, "value": 8}
        )
        line = self.scorecard.line_ids.with_context(scorecard_date=JAN)
        line.target = 0  # baseline 0 = target 0, a new line's default: no progress
        self.assertTrue(line.value_defined)
        self.assertFalse(line.score_defined)
        self.assertFalse(line.progress_defined)
        self.assertTrue(line.performance_defined)

    def test_no_records_means_zero_for_revenue(self):
        revenue = self.env.ref("crm_scorecard.kpi_revenue")
        self.assertTrue(revenue.empty_is_zero)
        scorecard = self._scorecard(
            self.company_b, lines=[{"kind": "financial", "kpi_id": revenue.id, "target": 100}]
        )
        line = scorecard.line_ids.with_context(scorecard_date=JAN)
        self.assertTrue(line.value_defined)
        self.assertEqual((line.value, line.score), (0.0, 0.0))
        # Without the option, a sum over nothing is undefined, in both paths.
        revenue.empty_is_zero = False
        self.env.invalidate_all()  # a KPI definition is not a dependency of the live figures
        line = scorecard.line_ids.with_context(scorecard_date=JAN)
        self.assertFalse(line.value_defined)
        values = scorecard._record_history(
            {scorecard: [scorecard.with_context(scorecard_date=JAN)._current_period()]}
        )
        self.assertFalse(values.value_defined)


class TestAlerts(ScorecardCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kpi_hours = cls.env["crm.scorecard.kpi"].create(
            {"name": "Red hours", "code": "test_a_hours", "source": "manual"}
        )
        cls.scorecard = cls._scorecard(
            cls.company_a,
            lines=[
                {
                    "kind": "learning",
                    "kpi_id": cls.kpi_hours.id,
                    "baseline": 0,
                    "target": 100,
                    "user_id": cls.owner.id,
                }
            ],
        )
        cls.domain = [("res_model", "=", "crm.scorecard"), ("res_id", "=", cls.scorecard.id)]
        cls.env["crm.scorecard.manual.value"].create(
            [
                {
                    "scorecard_id": cls.scorecard.id,
                    "kpi_id": cls.kpi_hours.id,
                    "date": D(year, month, 5),
                    "value": 1,
                }
                for year, month in [(2024, m) for m in range(1, 13)] + [(2025, 1), (2025, 2), (2025, 3)]
            ]
        )

    def test_only_ended_periods_alert_once_ever(self):
        Activity = self.env["mail.activity"]
        with freeze_time("2025-02-10 12:00:00"):
            self.env["crm.scorecard"]._cron_record_history()  # January ended, February running
        self.assertEqual(
            Activity.search(self.domain).mapped("note"),
            [Markup("<p>Red hours scored 1 % for the period 2025-01-01 - 2025-01-31.</p>")],
        )
        self.assertEqual(set(self.scorecard.value_ids.mapped("stoplight")), {"red"})
        for day in ("2025-02-11 12:00:00", "2025-02-27 12:00:00"):
            with freeze_time(day):
                self.env["crm.scorecard"]._cron_record_history()
        self.assertEqual(len(Activity.search(self.domain)), 1)  # February is still running
        with freeze_time("2025-03-01 12:00:00"):
            self.env["crm.scorecard"]._cron_record_history()
            self.env["crm.scorecard"]._cron_record_history()
        self.assertEqual(len(Activity.search(self.domain)), 2)  # February, once
        # Recomputing January (done) by hand does not alert again.
        wizard = self.env["crm.scorecard.period.wizard"].create(
            {"scorecard_id": self.scorecard.id, "date": JAN}
        )
        wizard.action_record_history()
        self.assertEqual(len(Activity.search(self.domain)), 2)

    def test_backfill_never_alerts(self):
        wizard = self.env["crm.scorecard.period.wizard"].create(
            {"scorecard_id": self.scorecard.id, "date": D(2024, 1, 1), "date_until": D(2024, 12, 31)}
        )
        wizard.action_record_history()
        self.assertEqual(len(self.scorecard.value_ids), 12)
        self.assertEqual(set(self.scorecard.value_ids.mapped("stoplight")), {"red"})
        self.assertFalse(self.env["mail.activity"].search(self.domain))


class TestLineValidation(ScorecardCase):
    def test_goals_are_the_right_way_round(self):
        scorecard = self._scorecard(self.company_a, lines=[{"kpi_id": self.kpi_leads.id, "target": 10}])
        line = scorecard.line_ids
        cases = [
            ({"min_value": 100, "max_value": 0}, "min must be below its max"),
            ({"min_value": 5, "max_value": 5}, "min must be below its max"),
            ({"direction": "max", "baseline": 20, "target": 10}, "maximised"),
            ({"direction": "min", "baseline": 10, "target": 20}, "minimised"),
            ({"direction": "band", "target": 60, "target_high": 40}, "high end of the band"),
            (
                {"direction": "band", "target": 40, "target_high": 60, "min_value": 50},
                "between the min and the max",
            ),
        ]
        for values, message in cases:
            with (
                self.subTest(values=values),
                self.assertRaisesNamed(ValidationError, f"Test leads created.*{message}"),
            ):
                line.write(values)
        line.write({"direction": "min", "baseline": 60, "target": 20, "max_value": 120})
        line.write({"direction": "binary", "baseline": 0, "target": 1, "min_value": 0, "max_value": 0})
        line.write({"direction": "max", "baseline": 0, "target": 0, "max_value": 100})  # no goal yet


class TestManualValues(ScorecardCase):
    def _user(self, login, group):
        return self.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "company_id": self.company_a.id,
                "company_ids": [Command.set([self.company_a.id])],
                "groups_id": [Command.set([self.env.ref(group).id])],
            }
        )

    def test_line_owner_and_managers_enter_values(self):
        owner = self._user("scorecard_mv_owner", "sales_team.group_sale_salesman")
        other = self._user("scorecard_mv_other", "sales_team.group_sale_salesman")
        manager = self._user("scorecard_mv_manager", "sales_team.group_sale_manager")
        kpi = self.env["crm.scorecard.kpi"].create(
            {"name": "Calls", "code": "test_mv_calls", "source": "manual"}
        )
        scorecard = self._scorecard(
            self.company_a, lines=[{"kpi_id": kpi.id, "target": 10, "user_id": owner.id}]
        )
        Manual = self.env["crm.scorecard.manual.value"]
        # The owner enters his line's value in the list (the scorecard form is read-only for him).
        value = Manual.with_user(owner).create(
            {"scorecard_id": scorecard.id, "kpi_id": kpi.id, "date": JAN, "value": 4}
        )
        self.assertEqual(value.line_id, scorecard.line_ids)
        value.value = 5
        self.assertEqual(scorecard.with_context(scorecard_date=JAN).line_ids.value, 5.0)
        # Another salesperson reads it but may not change it, nor enter one.
        self.assertEqual(Manual.with_user(other).browse(value.id).value, 5.0)
        with self.assertRaises(AccessError):
            Manual.with_user(other).browse(value.id).value = 6
        with self.assertRaises(AccessError):
            Manual.with_user(other).create(
                {"scorecard_id": scorecard.id, "kpi_id": kpi.id, "date": D(2025, 2, 3), "value": 1}
            )
        # A sales manager enters any.
        Manual.with_user(manager).browse(value.id).value = 7
        Manual.with_user(manager).create(
            {"scorecard_id": scorecard.id, "kpi_id": kpi.id, "date": D(2025, 2, 3), "value": 1}
        )
        # The list imports CSV rows (load is what the import dialog calls).
        result = Manual.with_user(owner).load(
            ["scorecard_id/.id", "kpi_id/.id", "date", "value"],
            [[str(scorecard.id), str(kpi.id), "2025-03-10", "9"]],
        )
        self.assertFalse(result["messages"])
        self.assertEqual(Manual.browse(result["ids"]).value, 9.0)


class TestLifecycle(ScorecardCase):
    def test_duplicate_copies_perspectives_and_remaps_lines(self):
        kpi = self.env["crm.scorecard.kpi"].create(
            {"name": "Copied", "code": "test_copy_kpi", "source": "manual"}
        )
        scorecard = self._scorecard(
            self.company_a,
            lines=[
                {"kind": "learning", "kpi_id": kpi.id, "target": 5, "weight": 2},
                {"kind": "customer", "kpi_id": self.kpi_leads.id, "target": 10},
            ],
        )
        scorecard._record_history({scorecard: [scorecard.with_context(scorecard_date=JAN)._current_period()]})
        copy = scorecard.copy()
        self.assertEqual(copy.name, f"{scorecard.name} (copy)")
        self.assertEqual(len(copy.perspective_ids), 4)
        self.assertFalse(copy.perspective_ids & scorecard.perspective_ids)
        self.assertEqual(len(copy.line_ids), 2)
        self.assertEqual(copy.line_ids.perspective_id.scorecard_id, copy)
        self.assertEqual(
            sorted(
                (line.perspective_id.kind, line.kpi_id.code, line.target, line.weight)
                for line in copy.line_ids
            ),
            sorted(
                (line.perspective_id.kind, line.kpi_id.code, line.target, line.weight)
                for line in scorecard.line_ids
            ),
        )
        self.assertFalse(copy.value_ids)

    def test_period_type_change_refused_with_history(self):
        scorecard = self._scorecard(self.company_a, lines=[{"kpi_id": self.kpi_leads.id, "target": 10}])
        scorecard.period_type = "quarter"  # no history yet: allowed
        scorecard.period_type = "month"
        scorecard._record_history({scorecard: [scorecard.with_context(scorecard_date=JAN)._current_period()]})
        with self.assertRaisesNamed(UserError, f"{scorecard.name}.*Duplicate it"):
            scorecard.period_type = "quarter"
        scorecard.period_type = "month"  # unchanged: fine
        # History is keyed by period type too: a quarter never overwrites a month.
        copy = scorecard.copy({"period_type": "quarter"})
        self.assertEqual(copy.period_type, "quarter")
        copy._record_history({copy: [copy.with_context(scorecard_date=JAN)._current_period()]})
        self.assertEqual(copy.value_ids.date_to, D(2025, 3, 31))
        self.assertEqual(scorecard.value_ids.date_to, D(2025, 1, 31))

    def test_scope_change_refused_with_history(self):
        """The history (and the final figures read from it) belongs to what the scorecard
        measured: its team, department or company cannot change once it has history."""
        scorecard = self._scorecard(self.company_a, lines=[{"kpi_id": self.kpi_leads.id, "target": 10}])
        scorecard.team_id = self.team_a  # no history yet: allowed
        scorecard._record_history({scorecard: [scorecard.with_context(scorecard_date=JAN)._current_period()]})
        for vals in (
            {"team_id": self.team_a2.id},
            {"team_id": False},
            {"company_id": self.company_b.id, "team_id": False},
        ):
            with (
                self.subTest(vals=vals),
                self.assertRaisesNamed(UserError, f"{scorecard.name}.*Duplicate it"),
            ):
                scorecard.write(vals)
        scorecard.write({"team_id": self.team_a.id, "name": "Renamed"})  # unchanged scope: fine
        self.assertEqual(set(scorecard.value_ids.mapped("team_id")), {self.team_a})


class TestLiveFigures(ScorecardCase):
    def test_figures_follow_an_edited_target_before_saving(self):
        kpi = self.env["crm.scorecard.kpi"].create({"name": "Live", "code": "test_live", "source": "manual"})
        scorecard = self._scorecard(self.company_a, lines=[{"kpi_id": kpi.id, "baseline": 0, "target": 10}])
        self.env["crm.scorecard.manual.value"].create(
            {"scorecard_id": scorecard.id, "kpi_id": kpi.id, "date": JAN, "value": 4}
        )
        form = Form(scorecard.with_context(scorecard_date=JAN))
        self.assertAlmostEqual(form.score, 40.0)
        with form.line_ids.edit(0) as line:
            self.assertAlmostEqual(line.score, 40.0)
            line.target = 5
            self.assertAlmostEqual(line.score, 80.0)  # blank until saved before
        self.assertFalse(form.evaluation_error)
        self.assertAlmostEqual(form.score, 80.0)


class TestThresholdBands(ScorecardCase):
    def test_bands_replace_the_two_thresholds(self):
        kpi = self.env["crm.scorecard.kpi"].create(
            {"name": "Banded", "code": "test_banded", "source": "manual"}
        )
        scorecard = self._scorecard(self.company_a, lines=[{"kpi_id": kpi.id, "baseline": 0, "target": 10}])
        line = scorecard.line_ids
        manual = self.env["crm.scorecard.manual.value"].create(
            {"scorecard_id": scorecard.id, "kpi_id": kpi.id, "date": JAN, "value": 10}
        )
        self.assertEqual(line.with_context(scorecard_date=JAN).stoplight, "green")
        line.band_ids = [
            Command.create({"name": "Off track", "colour": "red", "score_from": 0}),
            Command.create({"name": "At risk", "colour": "yellow", "score_from": 60}),
            Command.create({"name": "On track", "colour": "green", "score_from": 90}),
            Command.create({"name": "Exceeds", "colour": "blue", "score_from": 100}),
        ]
        self.assertEqual(line.with_context(scorecard_date=JAN).stoplight, "blue")
        manual.value = 8.5
        self.assertEqual(
            line.with_context(scorecard_date=JAN).stoplight, "yellow"
        )  # 85 %: green by the two thresholds
        history = scorecard._record_history(
            {scorecard: [scorecard.with_context(scorecard_date=JAN)._current_period()]}
        )
        self.assertEqual(history.stoplight, "yellow")
        self.assertEqual(
            scorecard.copy().line_ids.band_ids.mapped("colour"), ["red", "yellow", "green", "blue"]
        )


class TestCompanyConsistency(ScorecardCase):
    def test_team_of_another_company_is_refused(self):
        with self.assertRaises(UserError):
            self._scorecard(self.company_a, self.team_b)
        scorecard = self._scorecard(self.company_a, self.team_a)
        with self.assertRaises(UserError):
            scorecard.team_id = self.team_b
