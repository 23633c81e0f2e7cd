from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine.leads_needed import leads_needed


class CrmRorLeadsNeededWizard(models.TransientModel):
    _name = "crm.ror.leads.needed.wizard"
    _description = "Leads Needed for a Target"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    team_id = fields.Many2one("crm.team", "Sales Team", help="Leave empty for every team.")
    target_amount = fields.Monetary("Revenue Target", required=True)
    date_from = fields.Date(
        "Period Start", required=True, default=lambda self: fields.Date.context_today(self).replace(day=1)
    )
    date_to = fields.Date(
        "Period End",
        required=True,
        default=lambda self: fields.Date.context_today(self).replace(day=1)
        + relativedelta(months=3, days=-1),
    )
    history_months = fields.Integer(
        "History (Months)",
        default=12,
        required=True,
        help="Opportunities created in this many months before the period (their cohorts) give the rates.",
    )
    maturity_days = fields.Integer(
        "Maturity Lag (Days)",
        default=90,
        required=True,
        help="An opportunity still open this long after its creation counts as not converted; younger "
        "open ones are left out of the rates (they may still convert).",
    )
    include_sources_without_wins = fields.Boolean(
        "Keep Sources Without Wins",
        help="By default, sources that won nothing in the history get no leads.",
    )
    line_ids = fields.One2many("crm.ror.leads.needed.line", "wizard_id", "By Source")
    total_leads = fields.Integer("Qualified Leads Needed", readonly=True)
    leads_per_month = fields.Float(readonly=True, digits=(16, 1))
    conversion_rate = fields.Float("Conversion Rate (%)", readonly=True, digits=(16, 1))
    average_deal = fields.Monetary(readonly=True)
    computed = fields.Boolean(readonly=True)

    @api.constrains("date_from", "date_to", "history_months")
    def _check_period(self):
        for wizard in self:
            if wizard.date_to < wizard.date_from:
                raise ValidationError(self.env._("The period must end after it starts."))
            if wizard.history_months <= 0:
                raise ValidationError(self.env._("The history must cover at least one month."))
            if wizard.maturity_days < 0:
                raise ValidationError(self.env._("The maturity lag cannot be negative."))

    def _history(self):
        """``{source record: (counted, won, won revenue)}`` of the opportunity cohorts created in the
        history window: won and lost ones, and open ones past the maturity lag (not converted)."""
        self.ensure_one()
        start = self.date_from - relativedelta(months=self.history_months)
        matured = fields.Datetime.now() - relativedelta(days=self.maturity_days)
        domain = [
            ("company_id", "=", self.company_id.id),
            ("type", "=", "opportunity"),
            ("create_date", ">=", fields.Datetime.to_datetime(start)),
            ("create_date", "<", fields.Datetime.to_datetime(self.date_from)),
            "|",
            ("state", "in", ("won", "lost")),
            "&",
            ("state", "=", "open"),
            ("create_date", "<=", matured),
        ]
        if self.team_id:
            domain.append(("team_id", "=", self.team_id.id))
        groups = self.env["crm.ror.pipeline.report"]._read_group(
            domain, ["source_id"], ["nb_leads:sum", "nb_won:sum", "won_revenue:sum"]
        )
        return {source: (counted, won, revenue) for source, counted, won, revenue in groups}

    def action_compute(self):
        self.ensure_one()
        result = leads_needed(self._history(), self.target_amount, self.include_sources_without_wins)
        if result is None:
            raise ValidationError(
                self.env._(
                    "No opportunity was won in the %(months)s months before the period: nothing to base the rates on.",
                    months=self.history_months,
                )
            )
        months = (
            (self.date_to.year - self.date_from.year) * 12 + self.date_to.month - self.date_from.month + 1
        )
        self.line_ids.unlink()
        self.write(
            {
                "computed": True,
                "total_leads": result["total_leads"],
                "leads_per_month": result["total_leads"] / months,
                "conversion_rate": result["conversion_rate"] * 100.0,
                "average_deal": result["average_deal"],
                "line_ids": [
                    fields.Command.create(
                        {
                            "source_id": source.id,
                            "closed": line["closed"],
                            "won": line["won"],
                            "conversion_rate": line["conversion_rate"] * 100.0,
                            "average_deal": line["average_deal"],
                            "mix": line["mix"] * 100.0,
                            "leads_required": line["leads"],
                            "expected_revenue": line["expected_revenue"],
                        }
                    )
                    for source, line in sorted(result["lines"].items(), key=lambda item: -item[1]["mix"])
                ],
            }
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Leads Needed"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
