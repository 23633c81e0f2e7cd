from odoo import api, fields, models

from .crm_scorecard import STOPLIGHTS, TRENDS


class NullableFloat(fields.Float):
    """A float that stays None when undefined: stored as SQL NULL, so that the pivot's and
    graph's SQL aggregates (avg) leave it out, and shown empty, never as 0."""

    def convert_to_cache(self, value, record, validate=True):
        if value is None or value is False:
            return None
        return super().convert_to_cache(value, record, validate)

    def convert_to_record(self, value, record):
        return value

    def convert_to_column(self, value, record, values=None, validate=True):
        if value is None or value is False:
            return None
        return super().convert_to_column(value, record, values, validate)


class CrmScorecardValue(models.Model):
    """Stored figures of a KPI line for one period (history); one row per line and period."""

    _name = "crm.scorecard.value"
    _description = "CRM Scorecard KPI history"
    _order = "date_from desc, scorecard_id, line_id"
    _rec_name = "line_id"

    line_id = fields.Many2one(
        "crm.scorecard.line", string="KPI line", required=True, ondelete="cascade", index=True
    )
    scorecard_id = fields.Many2one(related="line_id.scorecard_id", store=True, index=True)
    perspective_id = fields.Many2one(related="line_id.perspective_id", store=True)
    kpi_id = fields.Many2one(related="line_id.kpi_id", store=True)
    company_id = fields.Many2one(related="line_id.scorecard_id.company_id", store=True)
    team_id = fields.Many2one(related="line_id.scorecard_id.team_id", store=True)
    user_id = fields.Many2one(related="line_id.user_id", string="Owner")
    period_type = fields.Selection(
        [("month", "Month"), ("quarter", "Quarter"), ("year", "Year")], required=True
    )
    date_from = fields.Date(string="Period start", required=True)
    date_to = fields.Date(string="Period end", required=True)
    value = NullableFloat(aggregator="avg", digits=(16, 2), help="Empty when undefined.")
    value_defined = fields.Boolean()
    previous_value = NullableFloat(aggregator="avg", digits=(16, 2))
    last_year_value = NullableFloat(compute="_compute_last_year_value", digits=(16, 2))
    performance = NullableFloat(string="Performance (%)", aggregator="avg")
    progress = NullableFloat(string="Progress (%)", aggregator="avg")
    score = NullableFloat(string="Score (%)", aggregator="avg")
    progress_defined = fields.Boolean(compute="_compute_defined")
    score_defined = fields.Boolean(compute="_compute_defined")
    stoplight = fields.Selection(STOPLIGHTS)
    trend = fields.Selection(TRENDS)
    message = fields.Char()
    is_closed = fields.Boolean(string="Period ended", help="Computed after the end of the period: final.")
    date_computed = fields.Datetime(string="Computed on")
    alert_activity_id = fields.Many2one("mail.activity", string="Alert", ondelete="set null")
    alert_sent = fields.Boolean(help="The owner was alerted of the red KPI for this period.")

    _sql_constraints = [
        (
            "line_period_unique",
            "unique(line_id, period_type, date_from)",
            "A KPI line has one stored value per period.",
        ),
    ]

    @api.depends("progress", "score")
    def _compute_defined(self):
        for record in self:
            record.progress_defined = record.progress is not None
            record.score_defined = record.score is not None

    @api.depends("line_id", "period_type", "date_from")
    def _compute_last_year_value(self):
        def key(value, years_back=0):
            return (
                value.line_id.id,
                value.period_type,
                value.date_from.replace(year=value.date_from.year - years_back),
            )

        dated = self.filtered("date_from")
        found = self.search(
            [
                ("line_id", "in", dated.line_id.ids),
                ("date_from", "in", list({key(v, 1)[2] for v in dated})),
                ("value_defined", "=", True),
            ]
        )
        by_key = {key(v): v.value for v in found}
        for record in self:
            record.last_year_value = by_key.get(key(record, 1)) if record.date_from else None

    def _send_alerts(self, deadline):
        """Schedule one activity per red KPI and ended period for its owner (line owner, else
        scorecard's), once ever per line and period: a running period is not judged yet."""
        for value in self.filtered(lambda v: v.stoplight == "red" and v.is_closed and not v.alert_sent):
            line = value.line_id
            owner = line.user_id or line.scorecard_id.user_id
            if not owner:
                continue
            # The cron's or recording user may not write on the scorecard: the alert is the system's.
            activity = line.scorecard_id.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=deadline,
                user_id=owner.id,
                summary=self.env._("KPI %(kpi)s is red", kpi=line.kpi_id.name),
                note=self.env._(
                    "%(kpi)s scored %(score).0f %% for the period %(start)s - %(end)s.",
                    kpi=line.kpi_id.name,
                    score=value.score,
                    start=value.date_from,
                    end=value.date_to,
                ),
            )
            value.write({"alert_sent": True, "alert_activity_id": activity.id})
