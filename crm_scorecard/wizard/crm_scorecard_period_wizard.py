from odoo import fields, models
from odoo.exceptions import UserError

from ..engine import periods as period_engine


class CrmScorecardPeriodWizard(models.TransientModel):
    """A chosen period of a scorecard: PDF report, XLSX export, history (re)computation."""

    _name = "crm.scorecard.period.wizard"
    _description = "Scorecard period: report, export, history"

    scorecard_id = fields.Many2one("crm.scorecard", required=True)
    date = fields.Date(string="Period of", required=True, default=fields.Date.context_today)
    date_until = fields.Date(
        string="Recompute until", help="For the history: every period from the first date to this one."
    )

    def action_print(self):
        """The PDF of the chosen period. The options go in ``data``, and so do the ids: with a
        non-empty ``data`` the web client leaves the ids out of the report's URL."""
        self.ensure_one()
        return self.env.ref("crm_scorecard.action_report_crm_scorecard").report_action(
            self.scorecard_id,
            data={
                "scorecard_date": fields.Date.to_string(self.date),
                "scorecard_ids": self.scorecard_id.ids,
            },
        )

    def action_record_history(self):
        self.ensure_one()
        scorecard = self.scorecard_id
        scorecard._check_history_rights()
        until = self.date_until or self.date
        if until < self.date:
            raise UserError(self.env._("The last date of the recomputation is before its first date."))
        periods = period_engine.periods_between(scorecard.period_type, self.date, until, scorecard._tz())
        # By hand: the caller's figures, never the owner's rights.
        scorecard._record_history({scorecard: periods}, user=self.env.user)
        return scorecard.action_open_history()

    def action_export_xlsx(self):
        """Download the XLSX through the controller: streamed, no attachment left behind."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/crm_scorecard/xlsx/{self.scorecard_id.id}/{fields.Date.to_string(self.date)}",
            "target": "self",
        }
