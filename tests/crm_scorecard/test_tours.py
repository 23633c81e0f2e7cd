"""crm_scorecard's main flow walked in a real browser (tour in ``crm_scorecard/static/tests/tours``).

The test builds its own company, team and user, so the tour runs without demo data. The tour
drives the screens; the test checks on the server what they asked for: the scorecard made from
the template, and the PDF and the XLSX rendered for the period the user stepped back to.
"""

from unittest.mock import patch

from odoo import Command
from odoo.addons.crm_scorecard.engine import periods as period_engine
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("standard", "post_install", "-at_install")
class TestCrmScorecardTours(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create({"name": "Tour Scorecard Co"})
        # else the first print opens the document layout configurator instead of the report
        cls.company.external_report_layout_id = cls.env.ref("web.external_layout_standard")
        cls.manager = new_test_user(
            cls.env,
            login="tour_scorecard_manager",
            name="Sam Scorer",
            email="sam.scorer@example.com",
            tz="Europe/Brussels",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
            groups="sales_team.group_sale_manager,crm_scorecard.group_crm_scorecard_manager",
        )
        cls.team = cls.env["crm.team"].create(
            {"name": "Tour Team", "company_id": cls.company.id, "user_id": cls.manager.id}
        )
        cls.template = cls.env.ref("crm_scorecard.template_customer_conversion")

    def test_template_previous_period_print_export(self):
        Report = type(self.env["ir.actions.report"])
        Scorecard = type(self.env["crm.scorecard"])
        render_pdf, export_xlsx = Report._render_qweb_pdf, Scorecard._export_xlsx
        printed, exported = [], []

        def spy_pdf(report, report_ref, res_ids=None, data=None):
            content, kind = render_pdf(report, report_ref, res_ids=res_ids, data=data)
            printed.append((report_ref, data, content))
            return content, kind

        def spy_xlsx(scorecard, period):
            exported.append((scorecard, period))
            return export_xlsx(scorecard, period)

        with (
            patch.object(Report, "_render_qweb_pdf", spy_pdf),
            patch.object(Scorecard, "_export_xlsx", spy_xlsx),
        ):
            self.start_tour(
                "/odoo/action-crm_scorecard.crm_scorecard_action",
                "crm_scorecard_template_print_export",
                login=self.manager.login,
            )

        scorecard = self.env["crm.scorecard"].search([("name", "=", "Tour Scorecard")])
        self.assertEqual(len(scorecard), 1, "one scorecard made from the template")
        self.assertEqual((scorecard.team_id, scorecard.company_id), (self.team, self.company))
        self.assertEqual(scorecard.period_type, self.template.period_type)
        template_kpis = self.env["crm.scorecard.kpi"].union(
            *(t._resolve_kpi() for t in self.template.line_ids)
        )
        self.assertEqual(scorecard.line_ids.kpi_id, template_kpis, "the template's KPIs")
        self.assertEqual(len(scorecard.line_ids), len(self.template.line_ids))
        # the period the user stepped back to, in the user's timezone
        current = period_engine.period_of(
            scorecard.period_type, period_engine.local_today(self.manager.tz), self.manager.tz
        )
        previous = period_engine.previous_period(current)

        self.assertEqual(len(printed), 1, "the PDF was rendered once")
        report_ref, data, content = printed[0]
        self.assertEqual(report_ref, "crm_scorecard.report_scorecard")
        self.assertEqual(data["scorecard_ids"], scorecard.ids)
        self.assertEqual(data["scorecard_date"], str(previous.date_from))
        self.assertIn(b"Tour Scorecard", content)
        self.assertIn(previous.label.encode(), content)

        self.assertEqual(len(exported), 1, "the XLSX was exported once")
        self.assertEqual(exported[0][0], scorecard)
        self.assertEqual(exported[0][1], previous)
