from odoo import api, fields, models


class ReportCrmScorecard(models.AbstractModel):
    """Values of the PDF report: the figures of each scorecard for the chosen period."""

    _name = "report.crm_scorecard.report_scorecard"
    _description = "CRM Scorecard PDF report"

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        day = data.get("scorecard_date") or self.env.context.get("scorecard_date")
        # From the wizard, the ids come in ``data`` (the URL then has none, so docids is None).
        docids = docids or data.get("scorecard_ids") or []
        scorecards = self.env["crm.scorecard"].browse(docids)
        if day:
            scorecards = scorecards.with_context(scorecard_date=fields.Date.to_date(day))
        evaluations = {scorecard.id: scorecard._evaluation() for scorecard in scorecards}
        return {
            "doc_ids": docids,
            "doc_model": "crm.scorecard",
            "docs": scorecards,
            "evaluations": evaluations,
            "percent": lambda ratio: "—" if ratio is None else f"{ratio * 100:.0f} %",
            "number": lambda value: "—" if value is None else f"{value:,.2f}",
        }
