"""Outputs through the actions the buttons return: the PDF of a chosen period, the XLSX."""

import io
import json
from unittest import mock

import openpyxl

from odoo import Command
from odoo.addons.crm_scorecard.controllers.main import CrmScorecardController
from odoo.exceptions import AccessError
from odoo.tools import mute_logger
from odoo.tools.pdf import PdfFileReader

from .common import JAN, ScorecardCase


class TestPdf(ScorecardCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.external_report_layout_id = cls.env.ref("web.external_layout_standard")
        cls.kpi_hours = cls.env["crm.scorecard.kpi"].create(
            {"name": "Coaching hours", "code": "test_pdf_hours", "source": "manual"}
        )
        cls.scorecard = cls._scorecard(
            cls.company_a,
            name="Printed scorecard",
            lines=[{"kind": "learning", "kpi_id": cls.kpi_hours.id, "baseline": 0, "target": 8}],
        )
        cls.env["crm.scorecard.manual.value"].create(
            {"scorecard_id": cls.scorecard.id, "kpi_id": cls.kpi_hours.id, "date": JAN, "value": 6}
        )

    def _through_the_client(self, action, converter):
        """What the web client and /report/<converter> do with a report action
        (web/static/src/webclient/actions/reports/utils.js, web/controllers/report.py)."""
        self.assertEqual(action["type"], "ir.actions.report")
        data = action.get("data") or {}
        context = dict(action.get("context") or {})
        docids = None if data else context.get("active_ids")
        if data:
            data = json.loads(json.dumps(dict(data, context=context)))  # through the URL
        report = self.env["ir.actions.report"].with_context(context, force_report_rendering=True)
        render = report._render_qweb_pdf if converter == "pdf" else report._render_qweb_html
        return render(action["report_name"], docids, data=data)[0]

    def test_wizard_prints_the_chosen_period(self):
        wizard = self.env["crm.scorecard.period.wizard"].create(
            {"scorecard_id": self.scorecard.id, "date": JAN}
        )
        html = self._through_the_client(wizard.action_print(), "html")
        self.assertTrue(b"Printed scorecard" in html)
        self.assertTrue(b"2025-01-31" in html)
        self.assertTrue(b"75 %" in html)  # 6 hours of 8
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() != "ok":
            return  # no wkhtmltopdf on this machine: the HTML above is what it would print
        # No web server in tests: the assets' URL is refused at once (else wkhtmltopdf waits
        # minutes for each), and the PDF is rendered without the stylesheets.
        self.env["ir.config_parameter"].set_param("report.url", "http://127.0.0.1:9")
        with mute_logger("odoo.addons.base.models.ir_actions_report"):
            pdf = self._through_the_client(wizard.action_print(), "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        text = " ".join(
            " ".join(page.extract_text().split()) for page in PdfFileReader(io.BytesIO(pdf)).pages
        )
        self.assertIn("Printed scorecard", text)
        self.assertIn("Overall score: 75 %", text)

    def test_print_menu_prints_the_period_shown(self):
        action = (
            self.env.ref("crm_scorecard.action_report_crm_scorecard")
            .with_context(scorecard_date="2025-01-20")
            .report_action(self.scorecard)
        )
        html = self._through_the_client(action, "html")
        self.assertTrue(b"Printed scorecard" in html)
        self.assertTrue(b"2025-01-31" in html)


class TestXlsx(ScorecardCase):
    def test_salesperson_downloads_the_xlsx_and_nothing_is_stored(self):
        kpi = self.env["crm.scorecard.kpi"].create(
            {"name": "Visits", "code": "test_xlsx_visits", "source": "manual"}
        )
        scorecard = self._scorecard(
            self.company_a, name="Exported", lines=[{"kpi_id": kpi.id, "baseline": 0, "target": 10}]
        )
        self.env["crm.scorecard.manual.value"].create(
            {"scorecard_id": scorecard.id, "kpi_id": kpi.id, "date": JAN, "value": 4}
        )
        salesman = self.env["res.users"].create(
            {
                "name": "XLSX salesman",
                "login": "scorecard_xlsx_salesman",
                "company_id": self.company_a.id,
                "company_ids": [Command.set([self.company_a.id])],
                "groups_id": [Command.set([self.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        attachments = self.env["ir.attachment"].search_count([])
        wizard = (
            self.env["crm.scorecard.period.wizard"]
            .with_user(salesman)
            .create({"scorecard_id": scorecard.id, "date": JAN})
        )
        action = wizard.action_export_xlsx()
        self.assertEqual(action["url"], f"/crm_scorecard/xlsx/{scorecard.id}/2025-01-15")
        # What the route does for him (its request replaced by his environment).
        fake = mock.Mock(
            env=self.env(user=salesman), make_response=lambda content, headers: (content, dict(headers))
        )
        with mock.patch("odoo.addons.crm_scorecard.controllers.main.request", fake):
            content, headers = CrmScorecardController().export_xlsx.__wrapped__(
                CrmScorecardController(), scorecard.id, "2025-01-15"
            )
        self.assertIn("Exported%202025-01.xlsx", headers["Content-Disposition"])
        self.assertEqual(self.env["ir.attachment"].search_count([]), attachments)
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
        self.assertEqual(rows[0][0], "Exported")
        visits = next(row for row in rows if row[1] == "Visits")
        self.assertEqual(visits[6], 4)  # value
        self.assertEqual(visits[7], "no data")  # previous period: undefined, not 0
        self.assertEqual(visits[11], 40)  # score (%)
        self.assertEqual(visits[12], "Red")
        # Another company's scorecard: refused by its rules.
        other = self._scorecard(self.company_b, lines=[{"kpi_id": kpi.id, "target": 10}])
        with (
            mock.patch("odoo.addons.crm_scorecard.controllers.main.request", fake),
            self.assertRaises(AccessError),
        ):
            CrmScorecardController().export_xlsx.__wrapped__(CrmScorecardController(), other.id, "2025-01-15")
