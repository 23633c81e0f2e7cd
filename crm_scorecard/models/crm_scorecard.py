import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression

from ..engine import periods as period_engine
from ..engine import scoring
from ..engine.batching import batch_key
from ..report.crm_scorecard_xlsx import scorecard_xlsx
from .crm_scorecard_kpi import PERSPECTIVES

STOPLIGHTS = [("red", "Red"), ("yellow", "Yellow"), ("green", "Green"), ("blue", "Blue (exceeds)")]
ROLLUPS = [
    ("weighted_average", "Weighted average"),
    ("average", "Average"),
    ("minimum", "Minimum"),
    ("maximum", "Maximum"),
    ("sum", "Sum (weighted, up to 100 %)"),
]
TRENDS = [("up", "Up"), ("down", "Down"), ("flat", "Flat")]
SCOPES = [("company", "Whole company"), ("team", "Sales team"), ("department", "Department")]
DEPARTMENT_MODEL = "hr.department"
_logger = logging.getLogger(__name__)
CATCH_UP_PERIODS = 12  # ended periods the history cron records after a gap, at most

# What a scorecard's evaluation reads, for the dependencies of the computed figures.
EVALUATION_DEPENDS = (
    "period_type",
    "department_id",
    "date_reference",
    "user_id.tz",
    "company_id",
    "team_id",
    "score_basis",
    "rollup",
    "perspective_ids.rollup",
    "threshold_yellow",
    "threshold_green",
    "perspective_ids.weight",
    "line_ids.perspective_id",
    "line_ids.kpi_id",
    "line_ids.weight",
    "line_ids.direction",
    "line_ids.baseline",
    "line_ids.target",
    "line_ids.target_high",
    "line_ids.min_value",
    "line_ids.max_value",
    "line_ids.threshold_yellow",
    "line_ids.threshold_green",
    "line_ids.band_ids.score_from",
    "line_ids.band_ids.colour",
    "manual_value_ids.value",
    "manual_value_ids.date_from",
    "manual_value_ids.kpi_id",
)


class EvaluationField(fields.Json):
    """A computed Python value kept in the ORM cache as it is (an evaluation, with dates and
    periods): never stored, never sent to the web client."""

    def convert_to_cache(self, value, record, validate=True):
        return value

    def convert_to_record(self, value, record):
        return value

    def convert_to_read(self, value, record, use_display_name=True):
        return None


class CrmScorecard(models.Model):
    """A balanced scorecard of one company (optionally one sales team), for periods of a type.

    How it works: ``evaluation_data`` holds the one evaluation of the period shown and of the
    previous one (``_evaluate``), computed once per request and shared by the header,
    perspective and line figures; query KPIs run with the viewer's rights, in the scorecard's
    company. ``_record_history`` stores the figures of chosen periods as the owner sees them
    (``_evaluator``; by hand, as the caller), one savepoint per scorecard; the daily cron ``_cron_record_history``
    stores the last ended and the running period, and alerts on red KPIs of ended periods.
    """

    _name = "crm.scorecard"
    _description = "CRM Balanced Scorecard"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, name, id"
    _check_company_auto = True  # the team must belong to the scorecard's company

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    team_id = fields.Many2one(
        "crm.team",
        string="Sales team",
        check_company=True,
        help="The department measured. Empty: every team of the company.",
    )
    # Department scorecards: hr.department is linked softly (crm_scorecard does not depend on
    # hr, and a Many2one needs its comodel): an integer id, resolved when hr is installed.
    department_id = fields.Integer(
        string="Department ID",
        help="The hr.department measured: its members' users' records are counted.",
    )
    department_ref = fields.Reference(
        selection="_selection_department_model",
        string="Department",
        compute="_compute_department_ref",
        inverse="_inverse_department_ref",
        help="The department measured (Employees app): its members' records are counted.",
    )
    scope = fields.Selection(
        SCOPES,
        string="Measures",
        compute="_compute_scope",
        store=True,
        help="What the figures count: the whole company, a sales team, or a department's members.",
    )
    is_department_reader = fields.Boolean(
        compute="_compute_is_department_reader",
        search="_search_is_department_reader",
        help="Whether the current user manages or belongs to the scorecard's department.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Owner",
        default=lambda self: self.env.user,
        help="Responsible of the scorecard; periods follow the owner's timezone.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    period_type = fields.Selection(
        [("month", "Month"), ("quarter", "Quarter"), ("year", "Year")], required=True, default="month"
    )
    score_basis = fields.Selection(
        [("progress", "Progress (baseline to target)"), ("performance", "Performance (min to max)")],
        required=True,
        default="progress",
        help="Which ratio of each KPI is its score, averaged into perspectives and scorecard.",
    )
    rollup = fields.Selection(
        ROLLUPS,
        string="Rollup of perspectives",
        required=True,
        default="weighted_average",
        help="How the perspectives' scores make the scorecard's score.",
    )
    threshold_yellow = fields.Float(
        string="Yellow from (%)", default=50.0, help="Perspective and scorecard scores below it are red."
    )
    threshold_green = fields.Float(string="Green from (%)", default=80.0)
    date_reference = fields.Date(
        string="Showing period of", help="Any day of the period shown. Empty: the current period."
    )
    description = fields.Html()
    perspective_ids = fields.One2many(
        "crm.scorecard.perspective", "scorecard_id", string="Perspectives", copy=True
    )
    # Copied by copy(), which points each line to the copy of its perspective.
    line_ids = fields.One2many("crm.scorecard.line", "scorecard_id", string="KPIs")
    value_ids = fields.One2many("crm.scorecard.value", "scorecard_id", string="History")
    manual_value_ids = fields.One2many("crm.scorecard.manual.value", "scorecard_id", string="Manual values")

    period_label = fields.Char(compute="_compute_period")
    period_date_from = fields.Date(compute="_compute_period")
    period_date_to = fields.Date(compute="_compute_period")
    score = fields.Float(compute="_compute_scores", string="Score (%)")
    score_defined = fields.Boolean(compute="_compute_scores")
    stoplight = fields.Selection(STOPLIGHTS, compute="_compute_scores")
    red_count = fields.Integer(compute="_compute_scores", string="Red KPIs")
    score_previous = fields.Float(compute="_compute_scores", string="Previous score (%)")
    score_previous_defined = fields.Boolean(compute="_compute_scores")
    score_trend = fields.Selection(TRENDS, compute="_compute_scores", string="Score trend")
    evaluation_error = fields.Char(compute="_compute_scores")
    evaluation_data = EvaluationField(compute="_compute_evaluation_data")
    show_last_year = fields.Boolean(
        string="Compare with last year",
        help="Show the same period last year beside each KPI (computed only then).",
    )

    _sql_constraints = [
        (
            "thresholds",
            "CHECK(threshold_yellow <= threshold_green)",
            "The yellow threshold must not be above the green one.",
        ),
    ]

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "perspective_ids" in fields_list and not values.get("perspective_ids"):
            values["perspective_ids"] = [
                fields.Command.create({"name": label, "kind": kind, "sequence": index * 10})
                for index, (kind, label) in enumerate(PERSPECTIVES, start=1)
            ]
        return values

    def copy_data(self, default=None):
        vals_list = super().copy_data(default)
        for scorecard, vals in zip(self, vals_list, strict=True):
            if "name" not in (default or {}):
                vals["name"] = self.env._("%(name)s (copy)", name=scorecard.name)
        return vals_list

    def copy(self, default=None):
        """Duplicate with the perspectives, and the lines moved to the copied perspectives."""
        copies = super().copy(default)
        line_vals = []
        for scorecard, new in zip(self, copies, strict=True):
            perspectives = dict(zip(scorecard.perspective_ids, new.perspective_ids, strict=True))
            for line in scorecard.line_ids:
                [vals] = line.copy_data(
                    {"scorecard_id": new.id, "perspective_id": perspectives[line.perspective_id].id}
                )
                line_vals.append(vals)
        self.env["crm.scorecard.line"].create(line_vals)
        return copies

    @api.model_create_multi
    def create(self, vals_list):
        scorecards = super().create(vals_list)
        scorecards._check_owner_rights()
        return scorecards

    def _check_owner_rights(self):
        """The owner's rights compute the cron's history, read by every scorecard user: only a
        Settings administrator may make someone else the owner."""
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        others = self.filtered(lambda s: s.user_id and s.user_id != self.env.user)
        if others:
            raise AccessError(
                self.env._(
                    "Scorecard %(names)s: only a Settings administrator may make another user its "
                    "owner. Leave yourself as the owner, or ask a Settings administrator.",
                    names=", ".join(others.mapped("name")),
                )
            )

    def write(self, vals):
        # The history is the figures of a period type and of what was measured (company, team
        # or department): none of them changes once there is history.
        keyed = {"period_type", "company_id", "team_id", "department_id"}.intersection(vals)
        if keyed:
            changed = self.filtered(
                lambda s: any(s._fields[f].convert_to_write(s[f], s) != (vals[f] or False) for f in keyed)
            )
            # Whether history exists, whoever may read it: a count, nothing else is read.
            stored = (
                self.env["crm.scorecard.value"]
                .sudo()
                .search_count([("scorecard_id", "in", changed.ids)], limit=1)
            )
            manual = (
                self.env["crm.scorecard.manual.value"]
                .sudo()
                .search_count([("scorecard_id", "in", changed.ids)], limit=1)
            )
            if stored or manual:
                raise UserError(
                    self.env._(
                        "Scorecard %(names)s has history or manual values for its periods: its period type, "
                        "company, team or department cannot change. Duplicate it and change the copy.",
                        names=", ".join(changed.mapped("name")),
                    )
                )
        result = super().write(vals)
        if vals.get("user_id"):
            self._check_owner_rights()
        return result

    # ------------------------------------------------------------------------------------
    # Scope: company, sales team or department
    # ------------------------------------------------------------------------------------

    @api.depends("team_id", "department_id")
    def _compute_scope(self):
        for scorecard in self:
            if scorecard.department_id:
                scorecard.scope = "department"
            else:
                scorecard.scope = "team" if scorecard.team_id else "company"

    @api.model
    def _crm_scorecard_has_departments(self):
        """Whether hr is installed: the one place the soft link to hr.department is detected."""
        return DEPARTMENT_MODEL in self.env

    @api.model
    def _selection_department_model(self):
        if not self._crm_scorecard_has_departments():
            return []
        return [(DEPARTMENT_MODEL, self.env["ir.model"]._get(DEPARTMENT_MODEL).name)]

    @api.depends("department_id")
    def _compute_department_ref(self):
        has_hr = self._crm_scorecard_has_departments()
        for scorecard in self:
            ok = has_hr and scorecard.department_id
            scorecard.department_ref = f"{DEPARTMENT_MODEL},{scorecard.department_id}" if ok else False

    def _inverse_department_ref(self):
        for scorecard in self:
            scorecard.department_id = scorecard.department_ref.id if scorecard.department_ref else 0

    @api.constrains("team_id", "department_id", "company_id")
    def _check_scope(self):
        for scorecard in self.filtered("department_id"):
            if scorecard.team_id:
                raise ValidationError(
                    self.env._(
                        "Scorecard %(name)s measures a sales team and a department: choose one of them.",
                        name=scorecard.name,
                    )
                )
            department = scorecard._department()
            if department.company_id and department.company_id != scorecard.company_id:
                raise ValidationError(
                    self.env._(
                        "Scorecard %(name)s: the department %(department)s belongs to another company.",
                        name=scorecard.name,
                        department=department.display_name,
                    )
                )

    def _department(self):
        """The scorecard's hr.department (as the system: only its members and company are
        read, to scope figures); raises when hr is not installed or the department is gone."""
        self.ensure_one()
        department = (
            self.env[DEPARTMENT_MODEL].sudo().browse(self.department_id).exists()
            if self._crm_scorecard_has_departments()
            else None
        )
        if not department:
            raise UserError(
                self.env._(
                    "Scorecard %(name)s measures a department that does not exist (is the Employees "
                    "app installed?): choose a department or a sales team.",
                    name=self.name,
                )
            )
        return department

    def _department_user_ids(self):
        """Sorted tuple of the users of the department's employees, whose records its figures
        count. Employees are HR records that sales users may not read: only the user ids are
        taken, as the system."""
        department = self._department()
        employees = self.env["hr.employee"].sudo().search([("department_id", "=", department.id)])
        return tuple(sorted(employees.user_id.ids))

    @api.model
    def _reader_department_ids(self):
        """Departments whose scorecards the current user reads: those he belongs to, and those
        he manages with their sub-departments (as the system: hr records are not sales data)."""
        if not self._crm_scorecard_has_departments():
            return []
        # env.uid is the real user also under the sudo of record rules.
        Department = self.env[DEPARTMENT_MODEL].sudo().with_context(active_test=False)
        employees = self.env["hr.employee"].sudo().search([("user_id", "=", self.env.uid)])
        managed = Department.search([("manager_id", "in", employees.ids)]) if employees else Department
        children = Department.search([("id", "child_of", managed.ids)]) if managed else Department
        return (employees.department_id | children).ids

    def _compute_is_department_reader(self):
        departments = set(self._reader_department_ids())
        for scorecard in self:
            scorecard.is_department_reader = scorecard.department_id in departments

    def _search_is_department_reader(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Search the department readers with = True or = False only."))
        # department_id is 0 on team and company scorecards: never match it.
        departments = self._reader_department_ids()
        if (operator == "=") == value:
            return [("department_id", "in", departments)] if departments else expression.FALSE_DOMAIN
        return [("department_id", "not in", departments)] if departments else expression.TRUE_DOMAIN

    # ------------------------------------------------------------------------------------
    # Periods
    # ------------------------------------------------------------------------------------

    def _tz(self):
        self.ensure_one()
        return self.user_id.tz or self.env.user.tz or "UTC"

    def _current_period(self):
        """The period shown: the one of ``scorecard_date`` in context, else of date_reference/today."""
        self.ensure_one()
        day = self.env.context.get("scorecard_date") or self.date_reference
        if day:
            day = fields.Date.to_date(day)
        else:
            day = period_engine.local_today(self._tz())
        return period_engine.period_of(self.period_type, day, self._tz())

    def _period_dict(self, period):
        """The period as the catalog contract gives it to providers."""
        self.ensure_one()
        result = {
            "company": self.company_id,
            "team": self.team_id,
            "date_from": period.date_from,
            "date_to": period.date_to,
            "datetime_from": period.datetime_from,
            "datetime_to": period.datetime_to,
            # the bucket of grouped queries: one query serves every period of a type
            "period_type": period.period_type,
            "tz": period.tz,
        }
        if self.scope == "department":
            result["user_ids"] = self._department_user_ids()
        return result

    @api.depends("period_type", "date_reference", "user_id.tz")
    @api.depends_context("scorecard_date")
    def _compute_period(self):
        for scorecard in self:
            period = scorecard._current_period()
            scorecard.period_label = period.label
            scorecard.period_date_from = period.date_from
            scorecard.period_date_to = period.date_to

    # ------------------------------------------------------------------------------------
    # Evaluation
    # ------------------------------------------------------------------------------------

    def _kpi_values(self, period, prefetched=None):
        """``({kpi id: value or None}, {kpi id: message})`` of the scorecard's KPIs for ``period``."""
        self.ensure_one()
        manual = {
            mv.kpi_id.id: mv.value
            for mv in self.manual_value_ids
            if mv.date_from == period.date_from and mv.period_type == self.period_type
        }
        kpis = self.line_ids.kpi_id
        values, messages = kpis._compute_values(self._period_dict(period), manual, prefetched)
        by_code = {kpi.code: kpi.id for kpi in kpis}
        return (
            {kpi_id: values.get(code) for code, kpi_id in by_code.items()},
            {kpi_id: messages.get(code) for code, kpi_id in by_code.items()},
        )

    def _evaluate(self, period, previous_values=None, last_year_values=None, prefetched=None, values=None):
        """Every figure of the scorecard for ``period``.

        ``values`` (``_kpi_values(period)``) and ``previous_values`` (its first dict, for the
        previous period) are computed when not given. Returns ``{"lines": {line id: figures},
        "perspectives": {id: (score, stoplight)}, "score": float or None, "stoplight": ...}``;
        scores are fractions 0-1.
        """
        self.ensure_one()
        values, messages = values or self._kpi_values(period, prefetched)
        if previous_values is None:
            previous_values = self._kpi_values(period_engine.previous_period(period), prefetched)[0]
        last_year_values = last_year_values or {}
        lines = {}
        for line in self.line_ids:
            figures = scoring.score_kpi(
                values.get(line.kpi_id.id),
                direction=line.direction,
                baseline=line.baseline,
                target=line.target,
                target_high=line.target_high,
                minimum=line.min_value,
                maximum=line.max_value,
                yellow_from=line.threshold_yellow / 100.0,
                green_from=line.threshold_green / 100.0,
                basis=self.score_basis,
                previous=previous_values.get(line.kpi_id.id),
            )
            if line.band_ids:
                figures["stoplight"] = scoring.band_of(
                    figures["score"], [(band.score_from / 100.0, band.colour) for band in line.band_ids]
                )
            figures["previous"] = previous_values.get(line.kpi_id.id)
            figures["last_year"] = last_year_values.get(line.kpi_id.id)
            figures["message"] = messages.get(line.kpi_id.id) if figures["value"] is None else False
            lines[line.id] = figures
        yellow, green = self.threshold_yellow / 100.0, self.threshold_green / 100.0
        perspectives = {}
        for perspective in self.perspective_ids:
            score = scoring.rollup(
                [
                    (lines[line.id]["score"], line.weight)
                    for line in self.line_ids
                    if _same_record(line.perspective_id, perspective)
                ],
                perspective.rollup,
            )
            perspectives[perspective.id] = (score, scoring.stoplight(score, yellow, green))
        total = scoring.rollup(
            [(perspectives[perspective.id][0], perspective.weight) for perspective in self.perspective_ids],
            self.rollup,
        )
        return {
            "period": period,
            "lines": lines,
            "perspectives": perspectives,
            "score": total,
            "stoplight": scoring.stoplight(total, yellow, green),
        }

    def _evaluation(self, period=None):
        """Evaluation of ``period`` (default: the one shown), with the same period last year."""
        self.ensure_one()
        period = period or self._current_period()
        previous, last_year = (
            period_engine.previous_period(period),
            period_engine.same_period_last_year(period),
        )
        prefetched = self._prefetch_query_values({self: [period, previous, last_year]})
        return self._evaluate(
            period,
            previous_values=self._kpi_values(previous, prefetched)[0],
            last_year_values=self._kpi_values(last_year, prefetched)[0],
            prefetched=prefetched,
        )

    def _periods_shown(self, period):
        """The periods the form shows around ``period``: previous (trend), last year if asked."""
        self.ensure_one()
        shown = [period, period_engine.previous_period(period)]
        if self.show_last_year:
            shown.append(period_engine.same_period_last_year(period))
        return shown

    @api.depends(*EVALUATION_DEPENDS, "show_last_year")
    # Figures depend on the viewer: query KPIs count only the records he may read.
    @api.depends_context("scorecard_date", "uid")
    def _compute_evaluation_data(self):
        """The one evaluation of the period shown, of the previous one and (when shown) of the
        same period last year, shared by the header, perspective and line figures (the ORM
        keeps it until a dependency changes): one grouped query per query KPI part for all
        these periods and all the scorecards read together. Unsaved scorecards (form being
        edited) are evaluated too, so that the figures follow the edits."""
        shown = {s: s._periods_shown(s._current_period()) for s in self}
        prefetched, _error = self._evaluation_or_error(lambda: self._prefetch_query_values(shown))
        for scorecard in self:
            period, previous_period, *last_year = shown[scorecard]

            def evaluate(s=scorecard, p=period, pp=previous_period, ly=last_year):
                previous_values = s._kpi_values(pp, prefetched)
                last_year_values = s._kpi_values(ly[0], prefetched)[0] if ly else {}
                return {
                    "current": s._evaluate(
                        p,
                        previous_values=previous_values[0],
                        last_year_values=last_year_values,
                        prefetched=prefetched,
                    ),
                    "previous": s._evaluate(pp, previous_values={}, values=previous_values),
                }

            data, error = scorecard._evaluation_or_error(evaluate)
            scorecard.evaluation_data = data or {"error": error}

    @api.depends("evaluation_data")
    @api.depends_context("scorecard_date", "uid")
    def _compute_scores(self):
        for scorecard in self:
            data = scorecard.evaluation_data
            if "error" in data:
                scorecard.update(
                    {
                        "score": 0.0,
                        "score_defined": False,
                        "stoplight": False,
                        "red_count": 0,
                        "score_previous": 0.0,
                        "score_previous_defined": False,
                        "score_trend": False,
                        "evaluation_error": data["error"],
                    }
                )
                continue
            evaluation, previous = data["current"], data["previous"]
            scorecard.evaluation_error = False
            scorecard.score = (evaluation["score"] or 0.0) * 100.0
            scorecard.score_defined = evaluation["score"] is not None
            scorecard.stoplight = evaluation["stoplight"]
            scorecard.red_count = sum(1 for fig in evaluation["lines"].values() if fig["stoplight"] == "red")
            scorecard.score_previous = (previous["score"] or 0.0) * 100.0
            scorecard.score_previous_defined = previous["score"] is not None
            scorecard.score_trend = scoring.trend(evaluation["score"], previous["score"])[0] or False

    def _evaluation_or_error(self, evaluate):
        """``(evaluate(), False)``, or ``(None, message)`` when a KPI cannot be evaluated, so
        that the screens show the message instead of failing as a whole."""
        # Nothing is written while evaluating: flush before, and keep the cache on rollback
        # (a flushing savepoint would drop the figures other records already computed).
        self.env.flush_all()
        try:
            with self.env.cr.savepoint(flush=False):
                return evaluate(), False
        except Exception as exc:  # any KPI failure is shown, not raised, on screens
            return None, str(exc)

    def _prefetch_query_values(self, periods_by_scorecard, final_sources=("catalog",)):
        """``{batch_key(kpi id, period dict): value}`` of the scorecards' query KPIs for the given
        periods (one grouped query per KPI part, see ``crm.scorecard.kpi._batch_query_values``),
        and of their KPIs of ``final_sources`` for the periods already stored as ended
        (:meth:`_final_values`): those are not computed again."""
        requests = [
            scorecard._period_dict(period)
            for scorecard, periods in periods_by_scorecard.items()
            for period in periods
        ]
        kpis = self.env["crm.scorecard.kpi"].union(*(s.line_ids.kpi_id for s in periods_by_scorecard))
        values = kpis._with_dependencies()._batch_query_values(requests)
        if final_sources:
            values.update(self._final_values(periods_by_scorecard, final_sources))
        return values

    def _final_values(self, periods_by_scorecard, sources):
        """Stored values of ended periods recorded as final (``is_closed``), for the lines' KPIs
        of ``sources``, keyed as :meth:`_prefetch_query_values`. Catalog KPIs are the same for
        every reader of the scorecard (they are the system's aggregates of its company and team),
        so their final figures serve every viewer; query KPIs count what their viewer may read,
        so only the history's own user (the owner) may reuse theirs."""
        wanted = {
            (scorecard.id, period.period_type, period.date_from): (scorecard, period)
            for scorecard, periods in periods_by_scorecard.items()
            for period in periods
            if scorecard.id
        }
        if not wanted:
            return {}
        # Which of these periods are final, read as the system: the values are the
        # scorecards' own, returned only for the KPIs of the lines the caller reads.
        rows = (
            self.env["crm.scorecard.value"]
            .sudo()
            .search_fetch(
                [
                    ("scorecard_id", "in", list({key[0] for key in wanted})),
                    ("date_from", "in", list({key[2] for key in wanted})),
                    ("is_closed", "=", True),
                    ("kpi_id.source", "in", list(sources)),
                ],
                ["scorecard_id", "kpi_id", "period_type", "date_from", "value", "value_defined"],
            )
        )
        result, dicts = {}, {}
        for row in rows:
            found = wanted.get((row.scorecard_id.id, row.period_type, row.date_from))
            if not found:
                continue
            if found not in dicts:
                dicts[found] = found[0]._period_dict(found[1])
            result[batch_key(row.kpi_id.id, dicts[found])] = row.value if row.value_defined else None
        return result

    # ------------------------------------------------------------------------------------
    # History and alerts
    # ------------------------------------------------------------------------------------

    def _evaluator(self, user=None):
        """The scorecard as ``user`` (default: its owner) sees it in its company: the cron's
        history is the owner's figures (the cron runs as the superuser)."""
        self.ensure_one()
        user = user or self.user_id
        if not user:
            raise UserError(
                self.env._("Scorecard %(name)s has no owner: set one to record its history.", name=self.name)
            )
        # The owner's allowed companies: a field of res.users that other users may not read.
        if self.company_id not in user.sudo().company_ids:
            raise UserError(
                self.env._(
                    "Scorecard %(name)s: its owner %(owner)s may not work in %(company)s: "
                    "choose another owner.",
                    name=self.name,
                    owner=user.name,
                    company=self.company_id.name,
                )
            )
        return self.with_user(user).with_company(self.company_id)

    def _record_history(self, periods_by_scorecard, raise_errors=True, alert=False, user=None):
        """Store the figures of the given periods (``{scorecard: [Period]}``); idempotent.

        Each scorecard is evaluated as ``user`` (default: its owner, :meth:`_evaluator`), in its
        own savepoint.
        Existing rows (line x period type x period start) are updated, missing ones created in
        one batch. With ``alert``, red KPIs of ended periods schedule their owner's activity,
        once per line and period. With ``raise_errors`` off (cron), a scorecard whose KPIs
        cannot be evaluated is logged, noted in its chatter and skipped; the others are recorded.
        """
        # History rows are the scorecards' stored figures: written here for every reader of
        # the scorecard, who reads them through the record rules of crm.scorecard.value.
        Value = self.env["crm.scorecard.value"].sudo()
        all_periods = {p.date_from for periods in periods_by_scorecard.values() for p in periods}
        existing = Value.search(
            [
                ("scorecard_id", "in", [s.id for s in periods_by_scorecard]),
                ("date_from", "in", list(all_periods)),
            ]
        )
        existing_map = {(v.line_id.id, v.period_type, v.date_from): v for v in existing}
        to_create = []
        touched = Value.browse()
        for scorecard, periods in periods_by_scorecard.items():
            try:
                with self.env.cr.savepoint():
                    evaluator = scorecard._evaluator(user)
                    # Every period and the previous ones (trend), each evaluated once: one
                    # grouped query per query KPI part for all of them.
                    wanted = list(
                        dict.fromkeys(
                            p for period in periods for p in (period, period_engine.previous_period(period))
                        )
                    )
                    # The periods recorded are computed; the ones before them, read only for
                    # the trend, are taken from the history when it holds them as final (as
                    # the owner: his history; as a caller: catalog KPIs only).
                    prefetched = evaluator._prefetch_query_values({evaluator: wanted}, final_sources=())
                    trend_only = [p for p in wanted if p not in periods]
                    prefetched.update(
                        evaluator._final_values(
                            {evaluator: trend_only},
                            ("catalog",) if user else ("catalog", "query"),
                        )
                    )
                    values = {p: evaluator._kpi_values(p, prefetched) for p in wanted}
                    evaluations = [
                        evaluator._evaluate(
                            period,
                            previous_values=values[period_engine.previous_period(period)][0],
                            values=values[period],
                        )
                        for period in periods
                    ]
            except Exception as exc:  # any failure of one scorecard is reported on it
                if raise_errors:
                    raise
                _logger.warning("Scorecard %s: history not recorded: %s", scorecard.id, exc)
                # The cron's user may not post on every scorecard: the note is the system's.
                scorecard.sudo().message_post(
                    body=self.env._(
                        "The history of %(periods)s could not be recorded: %(error)s",
                        periods=", ".join(p.label for p in periods),
                        error=str(exc),
                    )
                )
                continue
            today = period_engine.local_today(scorecard._tz())
            for period, evaluation in zip(periods, evaluations, strict=True):
                closed = period.date_to < today
                for line in scorecard.line_ids:
                    figures = evaluation["lines"][line.id]
                    vals = {
                        "value": _none_to_null(figures["value"]),
                        "value_defined": figures["value"] is not None,
                        "previous_value": _none_to_null(figures["previous"]),
                        "performance": _percent(figures["performance"]),
                        "progress": _percent(figures["progress"]),
                        "score": _percent(figures["score"]),
                        "stoplight": figures["stoplight"] or False,
                        "trend": figures["trend"] or False,
                        "is_closed": closed,
                        "date_to": period.date_to,
                        "date_computed": fields.Datetime.now(),
                        "message": figures["message"] or False,
                    }
                    value = existing_map.get((line.id, period.period_type, period.date_from))
                    if value:
                        value.write(vals)
                        touched |= value
                    else:
                        vals.update(
                            line_id=line.id, period_type=period.period_type, date_from=period.date_from
                        )
                        to_create.append(vals)
        touched |= Value.create(to_create)
        if alert:
            touched._send_alerts(fields.Date.context_today(self))
        return touched

    def _check_history_rights(self):
        if not (self.env.su or self.env.user.has_group("crm_scorecard.group_crm_scorecard_manager")):
            raise AccessError(
                self.env._("Only scorecard administrators can record or recompute the history.")
            )

    def action_record_history(self):
        """Store the figures of the period shown (on demand), as the caller sees them: a
        button never borrows the owner's rights."""
        self._check_history_rights()
        self._record_history(
            {scorecard: [scorecard._current_period()] for scorecard in self}, user=self.env.user
        )
        return True

    @api.model
    def _cron_record_history(self):
        """Daily: store the running period and the last ended one (final figures) of every
        scorecard, and the ended periods missed since its last final one (the cron did not run:
        up to ``CATCH_UP_PERIODS`` back, without alerts: only the last ended period alerts)."""
        scorecards = self.search([])
        # Ended periods already stored as closed are final. (Run by hand, the cron's user may
        # not read every scorecard's history: only which periods are done is read.)
        closed = (
            self.env["crm.scorecard.value"]
            .sudo()
            ._read_group(
                [("scorecard_id", "in", scorecards.ids), ("is_closed", "=", True)],
                ["scorecard_id", "period_type", "date_from:day"],
            )
        )
        done = set(closed)
        last_done = {}
        for scorecard, period_type, day in closed:
            if period_type == scorecard.period_type:
                last_done[scorecard] = max(day, last_done.get(scorecard, day))
        plan, catch_up = {}, {}
        for scorecard in scorecards:
            tz = scorecard._tz()
            current = period_engine.period_of(scorecard.period_type, period_engine.local_today(tz), tz)
            last_ended = period_engine.previous_period(current)
            missed, period = [], period_engine.previous_period(last_ended)
            while (
                scorecard in last_done
                and period.date_from > last_done[scorecard]
                and len(missed) < CATCH_UP_PERIODS
            ):
                missed.append(period)
                period = period_engine.previous_period(period)
            todo = [p for p in (last_ended, current) if (scorecard, p.period_type, p.date_from) not in done]
            if todo:
                plan[scorecard] = todo
            if missed:
                catch_up[scorecard] = missed[::-1]
        if catch_up:
            self._record_history(catch_up, raise_errors=False)
        self._record_history(plan, raise_errors=False, alert=True)

    # ------------------------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------------------------

    def _open_period(self, period):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.scorecard",
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": dict(self.env.context, scorecard_date=fields.Date.to_string(period.date_from)),
        }

    def action_previous_period(self):
        """Show the previous period (through the context: no write, so any user may browse)."""
        return self._open_period(period_engine.previous_period(self._current_period()))

    def action_next_period(self):
        return self._open_period(period_engine.next_period(self._current_period()))

    def action_current_period(self):
        self.ensure_one()
        day = period_engine.local_today(self._tz())
        return self._open_period(period_engine.period_of(self.period_type, day, self._tz()))

    def action_open_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_scorecard.crm_scorecard_value_action")
        action["domain"] = [("scorecard_id", "=", self.id)]
        action["context"] = {"search_default_group_line": 1}
        return action

    def action_open_period_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Report and history"),
            "res_model": "crm.scorecard.period.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_scorecard_id": self.id, "default_date": self._current_period().date_from},
        }

    def _export_xlsx(self, period):
        """``(file name, XLSX bytes)`` of the scorecard's figures for ``period``, as the
        current user sees them (nothing is stored: the controller streams the file)."""
        self.ensure_one()
        self.check_access("read")
        content = scorecard_xlsx(self, self._evaluation(period))
        return f"{self.name} {period.label}.xlsx", content


def _same_record(one, other):
    """Record equality that also holds between a record and its copy being edited in a form
    (a new record whose origin it is): lines may point to either while the form is open."""
    return (one._origin.id or one.id) == (other._origin.id or other.id)


def _percent(ratio):
    return None if ratio is None else ratio * 100.0


def _none_to_null(value):
    """None stays None: written as SQL NULL by ``crm.scorecard.value.create``/``write``."""
    return value
