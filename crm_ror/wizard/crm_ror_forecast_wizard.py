from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

from ..engine import forecast as forecast_engine


class CrmRorForecastWizard(models.TransientModel):
    _name = "crm.ror.forecast.wizard"
    _description = "Pipeline Forecast"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    team_ids = fields.Many2many("crm.team", string="Sales Teams", help="Leave empty for every team.")
    months = fields.Integer("Months Ahead", default=6, required=True)
    history_months = fields.Integer(
        "Run-Rate Months",
        default=12,
        required=True,
        help="Full months before this one averaged for the run-rate.",
    )
    line_ids = fields.One2many("crm.ror.forecast.line", "wizard_id", "Forecast")
    band_ids = fields.One2many("crm.ror.forecast.band", "wizard_id", "Band")
    undated_count = fields.Integer("Open Opportunities Without Expected Closing", readonly=True)
    undated_amount = fields.Monetary("Their Expected Revenue", readonly=True)

    _sql_constraints = [
        ("months_positive", "CHECK(months > 0 AND history_months > 0)", "Months must be at least 1."),
    ]

    def _report_domain(self):
        # leads without a company count in every company's forecast, as stock's pipeline shows them to all
        domain = [("company_id", "in", (self.company_id.id, False)), ("type", "=", "opportunity")]
        if self.team_ids:
            domain.append(("team_id", "in", self.team_ids.ids))
        return domain

    def _compute_lines(self, today):
        """Line values: one per month and team with open deals, plus an 'All teams' line per month."""
        self.ensure_one()
        report = self.env["crm.ror.pipeline.report"]
        open_deals = report.search_fetch(
            [*self._report_domain(), ("state", "=", "open")],
            ["team_id", "date_deadline", "expected_revenue", "probability"],
        )
        undated = open_deals.filtered(lambda deal: not deal.date_deadline)
        self.undated_count = len(undated)
        self.undated_amount = sum(undated.mapped("expected_revenue"))
        cells = forecast_engine.weighted_pipeline(
            (
                (deal.team_id.id, deal.date_deadline, deal.expected_revenue, deal.probability)
                for deal in open_deals - undated
            ),
            today,
            self.months,
        )
        # run-rate: won revenue of the last full months, per team
        first = forecast_engine.month_start(today)
        start = first - relativedelta(months=self.history_months)
        won = report._read_group(
            [
                *self._report_domain(),
                ("state", "=", "won"),
                ("date_closed", ">=", fields.Datetime.to_datetime(start)),
                ("date_closed", "<", fields.Datetime.to_datetime(first)),
            ],
            ["team_id"],
            ["won_revenue:sum"],
        )
        run_rates = {team.id: forecast_engine.run_rate([amount], self.history_months) for team, amount in won}
        team_ids = sorted({key for _month, key in cells} | set(run_rates), key=lambda tid: tid or 0)
        values = []
        for month in [forecast_engine.OVERDUE, *forecast_engine.horizon(today, self.months)]:
            total = {"weighted": 0.0, "variance": 0.0, "count": 0}
            # the run-rate is a monthly figure: the overdue bucket has none
            rates = run_rates if month != forecast_engine.OVERDUE else {}
            for team_id in team_ids:
                cell = cells.get((month, team_id), {"weighted": 0.0, "variance": 0.0, "count": 0})
                for key in total:
                    total[key] += cell[key]
                values.append(self._line_values(month, team_id, cell, rates.get(team_id, 0.0), False))
            values.append(self._line_values(month, False, total, sum(rates.values()), True))
        return values

    def _line_values(self, month, team_id, cell, run_rate, is_total):
        lower, upper, sigma = forecast_engine.band(cell["weighted"], cell["variance"])
        overdue = month == forecast_engine.OVERDUE
        return {
            "month": False if overdue else month,
            "is_overdue": overdue,
            "bucket": self.env._("Overdue") if overdue else month.strftime("%Y-%m"),
            "team_id": team_id,
            "is_total": is_total,
            "nb_deals": cell["count"],
            "weighted": cell["weighted"],
            "sigma": sigma,
            "lower": lower,
            "upper": upper,
            "run_rate": run_rate,
        }

    def _band_values(self, line_values):
        """The all-teams lines as points of four series, for the line graph."""
        return [
            {"bucket": line["bucket"], "series": series, "amount": line[series]}
            for line in line_values
            if line["is_total"]
            for series in ("lower", "weighted", "upper", "run_rate")
            if not (line["is_overdue"] and series == "run_rate")
        ]

    def action_compute(self):
        self.ensure_one()
        self.line_ids.unlink()
        self.band_ids.unlink()
        line_values = self._compute_lines(fields.Date.context_today(self))
        self.line_ids = [fields.Command.create(vals) for vals in line_values]
        self.band_ids = [fields.Command.create(vals) for vals in self._band_values(line_values)]
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Pipeline Forecast"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
        }

    def action_open_lines(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Pipeline Forecast"),
            "res_model": "crm.ror.forecast.line",
            "view_mode": "graph,pivot,list",
            "domain": [("wizard_id", "=", self.id), ("is_total", "=", False)],
        }

    def action_open_band(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Forecast Band"),
            "res_model": "crm.ror.forecast.band",
            "view_mode": "graph,list",
            "domain": [("wizard_id", "=", self.id)],
        }

    @api.model
    def action_open(self):
        """Menu entry: a fresh forecast for the current company."""
        wizard = self.create({})
        return wizard.action_compute()
