from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools import safe_eval as safe_eval_module
from odoo.tools.safe_eval import safe_eval

from ..engine import formula as formula_engine

PERSPECTIVES = [
    ("financial", "Financial"),
    ("customer", "Customer"),
    ("process", "Internal process"),
    ("learning", "Learning and growth"),
]
DIRECTIONS = [
    ("max", "Maximise"),
    ("min", "Minimise"),
    ("binary", "Binary (yes/no)"),
    ("band", "Best within a band"),
]
AGGREGATES = [
    ("count", "Count"),
    ("count_distinct", "Count distinct"),
    ("sum", "Sum"),
    ("avg", "Average"),
]


class CrmScorecardKpi(models.Model):
    """Definition of a KPI: where its value comes from (query, catalog, formula, manual)."""

    _name = "crm.scorecard.kpi"
    _description = "CRM Scorecard KPI definition"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        help="Identifier used by formulas to refer to this KPI (letters, digits and underscores).",
    )
    description = fields.Text(translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", help="Leave empty to share the definition between companies.")
    source = fields.Selection(
        [
            ("query", "Odoo query"),
            ("catalog", "Catalog"),
            ("formula", "Formula"),
            ("manual", "Manual"),
        ],
        required=True,
        default="query",
    )
    unit = fields.Char(help="Free text; 'currency' shows the company's currency.")
    direction = fields.Selection(DIRECTIONS, required=True, default="max")
    perspective = fields.Selection(PERSPECTIVES, default="customer", help="Suggested perspective.")

    # Odoo query (numerator; the denominator when a ratio)
    model_id = fields.Many2one("ir.model", string="Model", ondelete="cascade")
    model_name = fields.Char(related="model_id.model", string="Model name")
    domain = fields.Char(default="[]")
    date_field_id = fields.Many2one(
        "ir.model.fields",
        string="Date field",
        ondelete="cascade",
        domain="[('model_id', '=', model_id), ('ttype', 'in', ('date', 'datetime')), ('store', '=', True)]",
        help="Records are taken when this date falls in the period. Empty: all records.",
    )
    aggregate = fields.Selection(AGGREGATES, default="count")
    field_id = fields.Many2one(
        "ir.model.fields",
        string="Field",
        ondelete="cascade",
        domain="[('model_id', '=', model_id), ('store', '=', True)]",
        help="Field summed, averaged or counted distinctly.",
    )
    is_ratio = fields.Boolean(string="Ratio of two queries")
    denominator_model_id = fields.Many2one("ir.model", string="Denominator model", ondelete="cascade")
    denominator_model_name = fields.Char(
        related="denominator_model_id.model", string="Denominator model name"
    )
    denominator_domain = fields.Char(default="[]")
    denominator_date_field_id = fields.Many2one(
        "ir.model.fields",
        string="Denominator date field",
        ondelete="cascade",
        domain="[('model_id', '=', denominator_model_id), ('ttype', 'in', ('date', 'datetime')), "
        "('store', '=', True)]",
    )
    denominator_aggregate = fields.Selection(AGGREGATES, default="count")
    denominator_field_id = fields.Many2one(
        "ir.model.fields",
        string="Denominator field",
        ondelete="cascade",
        domain="[('model_id', '=', denominator_model_id), ('store', '=', True)]",
    )
    ratio_factor = fields.Float(default=100.0, help="The ratio is multiplied by it: 100 gives a percentage.")

    catalog_code = fields.Char(help="Code of a KPI of the catalog registered by the installed addons.")
    catalog_code_selection = fields.Selection(
        selection="_selection_catalog_code",
        string="Catalog KPI",
        compute="_compute_catalog_code_selection",
        inverse="_inverse_catalog_code_selection",
    )
    catalog_description = fields.Text(compute="_compute_catalog_code_selection")
    formula = fields.Char(help="Python expression over other KPIs' codes, e.g. revenue / new_customers")

    _sql_constraints = [
        ("code_unique", "unique(code)", "Another KPI definition already uses this code: choose another one."),
        ("ratio_factor_nonzero", "CHECK(ratio_factor <> 0)", "The ratio factor cannot be zero."),
    ]

    # ------------------------------------------------------------------------------------
    # Catalog
    # ------------------------------------------------------------------------------------

    @api.model
    def _selection_catalog_code(self):
        catalog = self.env["crm.scorecard.catalog"]._collect_catalog()
        return sorted(((code, entry["name"]) for code, entry in catalog.items()), key=lambda item: item[1])

    @api.depends("catalog_code")
    def _compute_catalog_code_selection(self):
        catalog = self.env["crm.scorecard.catalog"]._collect_catalog()
        for kpi in self:
            entry = catalog.get(kpi.catalog_code)
            kpi.catalog_code_selection = kpi.catalog_code if entry else False
            kpi.catalog_description = entry and entry.get("description")

    def _inverse_catalog_code_selection(self):
        for kpi in self:
            kpi.catalog_code = kpi.catalog_code_selection

    @api.onchange("catalog_code_selection")
    def _onchange_catalog_code_selection(self):
        entry = self.env["crm.scorecard.catalog"]._collect_catalog().get(self.catalog_code_selection)
        if entry:
            self.name = self.name or entry["name"]
            self.unit = entry.get("unit")
            self.direction = entry.get("direction") or "max"
            self.perspective = entry.get("perspective") or self.perspective

    # ------------------------------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------------------------------

    @api.constrains("code")
    def _check_code(self):
        for kpi in self:
            if not kpi.code.isidentifier():
                raise ValidationError(
                    self.env._(
                        "KPI %(kpi)s: the code %(code)s must be an identifier (letters, digits, underscores).",
                        kpi=kpi.name,
                        code=kpi.code,
                    )
                )

    @api.constrains(
        "source", "model_id", "domain", "aggregate", "field_id", "is_ratio", "denominator_model_id"
    )
    @api.constrains("denominator_domain", "denominator_aggregate", "denominator_field_id")
    def _check_query(self):
        for kpi in self.filtered(lambda k: k.source == "query"):
            kpi._check_query_part(kpi.model_id, kpi.domain, kpi.aggregate, kpi.field_id)
            if kpi.is_ratio:
                kpi._check_query_part(
                    kpi.denominator_model_id,
                    kpi.denominator_domain,
                    kpi.denominator_aggregate,
                    kpi.denominator_field_id,
                )

    def _check_query_part(self, model, domain, aggregate, field):
        if not model:
            raise ValidationError(self.env._("KPI %(kpi)s: choose the model to query.", kpi=self.name))
        if aggregate != "count" and not field:
            raise ValidationError(
                self.env._(
                    "KPI %(kpi)s: choose the field to aggregate on %(model)s.",
                    kpi=self.name,
                    model=model.name,
                )
            )
        if field and field.model_id != model:
            raise ValidationError(
                self.env._(
                    "KPI %(kpi)s: the field %(field)s is not a field of %(model)s.",
                    kpi=self.name,
                    field=field.name,
                    model=model.name,
                )
            )
        self._parse_domain(model.model, domain)

    def _parse_domain(self, model_name, domain):
        """The domain as a list, validated on ``model_name``; errors name the KPI."""
        try:
            parsed = safe_eval(domain or "[]", self._domain_context())
            expression.expression(expression.normalize_domain(parsed), self.env[model_name].sudo())
        except Exception as exc:
            raise ValidationError(
                self.env._(
                    "KPI %(kpi)s: invalid domain %(domain)s: %(error)s",
                    kpi=self.name,
                    domain=domain,
                    error=exc,
                )
            ) from exc
        return parsed

    def _domain_context(self):
        return {
            "uid": self.env.uid,
            "user": self.env.user,
            "datetime": safe_eval_module.datetime,
            "relativedelta": relativedelta,
            "context_today": fields.Date.context_today,
        }

    @api.constrains("source", "catalog_code")
    def _check_catalog_code(self):
        catalog = self.env["crm.scorecard.catalog"]._collect_catalog()
        for kpi in self.filtered(lambda k: k.source == "catalog"):
            if kpi.catalog_code not in catalog:
                raise ValidationError(
                    self.env._(
                        "KPI %(kpi)s: %(code)s is not a KPI of the catalog of the installed addons.",
                        kpi=kpi.name,
                        code=kpi.catalog_code or "",
                    )
                )

    @api.constrains("source", "formula", "code")
    def _check_formula(self):
        if not self.filtered(lambda k: k.source == "formula"):
            return
        all_kpis = self.with_context(active_test=False).search([])
        codes = set(all_kpis.mapped("code"))
        formulas = {}
        for other in all_kpis.filtered(lambda k: k.source == "formula"):
            try:
                formula_engine.names_in(other.formula, other.code)
            except formula_engine.FormulaError:
                continue  # reported on its own record; it cannot take part in a cycle check
            formulas[other.code] = other.formula or ""
        by_code = {k.code: k for k in all_kpis}
        for kpi in self.filtered(lambda k: k.source == "formula"):
            try:
                names = formula_engine.names_in(kpi.formula, kpi.code)
            except formula_engine.FormulaError as exc:
                raise ValidationError(
                    self.env._("KPI %(kpi)s: invalid formula: %(error)s", kpi=kpi.name, error=exc.message)
                ) from exc
            unknown = sorted(names - codes)
            if unknown:
                raise ValidationError(
                    self.env._(
                        "KPI %(kpi)s: the formula names unknown KPI code(s): %(codes)s",
                        kpi=kpi.name,
                        codes=", ".join(unknown),
                    )
                )
        try:
            formula_engine.evaluation_order(formulas, codes)
        except formula_engine.FormulaCycleError as exc:
            names = [by_code[code].name for code in exc.cycle]
            raise ValidationError(
                self.env._("Circular reference between formula KPIs: %(cycle)s", cycle=" -> ".join(names))
            ) from exc

    def _formulas_naming(self, codes):
        """Formula KPIs (other than these) whose expression names one of ``codes``."""
        codes = set(codes)
        formulas = self.with_context(active_test=False).search([("source", "=", "formula")]) - self

        def names(kpi):
            try:
                return formula_engine.names_in(kpi.formula, kpi.code)
            except formula_engine.FormulaError:
                return set()

        return formulas.filtered(lambda kpi: names(kpi) & codes)

    def write(self, vals):
        if "code" in vals:
            renamed = self.filtered(lambda kpi: kpi.code != vals["code"])
            users = renamed._formulas_naming(renamed.mapped("code"))
            if users:
                raise UserError(
                    self.env._(
                        "KPI %(kpi)s: its code is used by the formula of %(users)s; change those first.",
                        kpi=", ".join(renamed.mapped("name")),
                        users=", ".join(users.mapped("name")),
                    )
                )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used_in_formula(self):
        users = self._formulas_naming(self.mapped("code"))
        if users:
            raise UserError(
                self.env._(
                    "KPI %(kpi)s is used by the formula of %(users)s: it cannot be deleted.",
                    kpi=", ".join(self.mapped("name")),
                    users=", ".join(users.mapped("name")),
                )
            )

    # ------------------------------------------------------------------------------------
    # Values
    # ------------------------------------------------------------------------------------

    def _with_dependencies(self):
        """These KPIs and, transitively, every KPI their formulas name."""
        kpis = self
        pending = self
        while pending:
            names = set()
            for kpi in pending.filtered(lambda k: k.source == "formula"):
                try:
                    names |= formula_engine.names_in(kpi.formula, kpi.code)
                except formula_engine.FormulaError:
                    continue
            found = (
                self.with_context(active_test=False).search([("code", "in", list(names))]) if names else self
            )
            pending = found - kpis
            kpis |= pending
        return kpis

    def _compute_values(self, period, manual_values=None, prefetched=None):
        """``({code: value or None}, {code: message})`` of these KPIs and their dependencies.

        ``period`` follows the catalog contract (company, team, dates); ``manual_values`` maps
        a KPI id to its manual value for the period; ``prefetched`` holds query values already
        gathered by :meth:`_batch_query_values`.
        """
        prefetched = prefetched or {}
        manual_values = manual_values or {}
        # Definitions read models and fields (ir.model): technical records users cannot read.
        kpis = self.sudo()._with_dependencies()
        values, messages = {}, {}
        catalog = self.env["crm.scorecard.catalog"]._collect_catalog()
        for kpi in kpis:
            if kpi.source == "query":
                key = _batch_key(kpi, period)
                values[kpi.code] = prefetched[key] if key in prefetched else kpi._query_value(period)
            elif kpi.source == "catalog":
                entry = catalog.get(kpi.catalog_code)
                if not entry:
                    values[kpi.code] = None
                    messages[kpi.code] = self.env._(
                        "The catalog KPI %(code)s is not available: is the addon providing it installed?",
                        code=kpi.catalog_code,
                    )
                    continue
                value = getattr(self.env[entry["model"]].sudo(), entry["method"])(period)
                values[kpi.code] = None if value is None else float(value)
            elif kpi.source == "manual":
                values[kpi.code] = manual_values.get(kpi.id)
        formulas = {kpi.code: kpi.formula or "" for kpi in kpis if kpi.source == "formula"}
        try:
            values = formula_engine.evaluate(formulas, values, safe_eval=self._safe_eval_formula)
        except formula_engine.FormulaError as exc:
            culprit_codes = getattr(exc, "cycle", None) or [exc.code]
            culprit = kpis.filtered(lambda k: k.code in culprit_codes)
            raise UserError(
                self.env._(
                    "KPI %(kpi)s: the formula cannot be evaluated: %(error)s",
                    kpi=", ".join(culprit.mapped("name")) or exc.code,
                    error=exc.message,
                )
            ) from exc
        for code, value in values.items():
            if value is None and code not in messages:
                messages[code] = self.env._("No data for the period, or a zero denominator.")
        return values, messages

    @api.model
    def _safe_eval_formula(self, expr, context):
        return safe_eval(expr, context)

    def _batch_query_values(self, periods):
        """Values of these query KPIs for many period dicts (scorecards of several companies
        and teams) with one ``_read_group`` per KPI, query part and period, grouped by company
        and team. Only additive aggregates (count, sum) are gathered this way; the others are
        left to :meth:`_query_value`. Returns ``{_batch_key(kpi, period): value or None}``.
        """
        result = {}
        for kpi in self.sudo().filtered(lambda k: k.source == "query"):
            parts = [(kpi.model_id, kpi.domain, kpi.date_field_id, kpi.aggregate, kpi.field_id)]
            if kpi.is_ratio:
                parts.append(
                    (
                        kpi.denominator_model_id,
                        kpi.denominator_domain,
                        kpi.denominator_date_field_id,
                        kpi.denominator_aggregate,
                        kpi.denominator_field_id,
                    )
                )
            if any(part[3] not in ("count", "sum") or part[0].model not in self.env for part in parts):
                continue
            gathered = [kpi._batch_query_part(periods, *part) for part in parts]
            for period in periods:
                value = gathered[0][_bounds(period)](period)
                if kpi.is_ratio:
                    denominator = gathered[1][_bounds(period)](period)
                    value = (
                        None if value is None or not denominator else value / denominator * kpi.ratio_factor
                    )
                result[_batch_key(kpi, period)] = value
        return result

    def _batch_query_part(self, periods, model, domain, date_field, aggregate, field):
        """``{period bounds: function(period) -> value}``: one grouped query per distinct period."""
        records = self.env[model.model].sudo()
        parsed = self._parse_domain(model.model, domain)
        has_company = "company_id" in records._fields
        has_team = "team_id" in records._fields
        spec = "__count" if aggregate == "count" else f"{field.name}:{aggregate}"
        by_bounds = {}
        for period in periods:
            by_bounds.setdefault(_bounds(period), []).append(period)
        readers = {}
        for bounds, group in by_bounds.items():
            filters = [parsed]
            groupby = []
            if has_company:
                filters.append([("company_id", "in", [*{p["company"].id for p in group}, False])])
                groupby.append("company_id")
            if has_team and any(p.get("team") for p in group):
                groupby.append("team_id")
            if date_field:
                filters.append(self._date_bounds_domain(date_field, group[0]))
            rows = self._query_read_group(records, expression.AND(filters), groupby, spec)
            readers[bounds] = _additive_reader(rows, has_company, "team_id" in groupby, aggregate)
        return readers

    def _date_bounds_domain(self, date_field, period):
        if date_field.ttype == "date":
            return [(date_field.name, ">=", period["date_from"]), (date_field.name, "<=", period["date_to"])]
        return [
            (date_field.name, ">=", period["datetime_from"]),
            (date_field.name, "<", period["datetime_to"]),
        ]

    def _query_value(self, period):
        numerator = self._query_part(
            period, self.model_id, self.domain, self.date_field_id, self.aggregate, self.field_id
        )
        if not self.is_ratio:
            return numerator
        denominator = self._query_part(
            period,
            self.denominator_model_id,
            self.denominator_domain,
            self.denominator_date_field_id,
            self.denominator_aggregate,
            self.denominator_field_id,
        )
        if numerator is None or not denominator:
            return None
        return numerator / denominator * self.ratio_factor

    def _query_part(self, period, model, domain, date_field, aggregate, field):
        """One aggregate of ``model``; the period's company, team and dates are added."""
        if not model or model.model not in self.env:
            raise UserError(
                self.env._("KPI %(kpi)s: the model to query is not set or not installed.", kpi=self.name)
            )
        records = self.env[model.model].sudo().with_company(period["company"])
        parsed = self._parse_domain(model.model, domain)
        filters = []
        if "company_id" in records._fields:
            filters.append([("company_id", "in", [period["company"].id, False])])
        if period.get("team") and "team_id" in records._fields:
            filters.append([("team_id", "=", period["team"].id)])
        if date_field:
            filters.append(self._date_bounds_domain(date_field, period))
        full_domain = expression.AND([parsed, *filters])
        spec = "__count" if aggregate == "count" else f"{field.name}:{aggregate}"
        [(value,)] = self._query_read_group(records, full_domain, [], spec)
        if value is None or value is False:
            return None
        return float(value)

    def _query_read_group(self, records, domain, groupby, spec):
        """``records._read_group`` of a query KPI; a failure names the KPI and the model."""
        try:
            return records._read_group(domain, groupby, [spec])
        except Exception as exc:
            raise UserError(
                self.env._(
                    "KPI %(kpi)s: the query on %(model)s failed: %(error)s",
                    kpi=self.name,
                    model=records._name,
                    error=exc,
                )
            ) from exc


def _bounds(period):
    return (period["date_from"], period["date_to"], period["datetime_from"], period["datetime_to"])


def _batch_key(kpi, period):
    team = period.get("team")
    return (kpi.id, period["company"].id, team.id if team else 0, *_bounds(period))


def _additive_reader(rows, by_company, by_team, aggregate):
    """A function giving a period's value from rows grouped by company (records without a
    company count for every company) and team (no team asked: every team)."""

    def read(period):
        total, found = 0.0, False
        team = period.get("team")
        for row in rows:
            index = 0
            if by_company:
                company = row[index]
                index += 1
                if company and company.id != period["company"].id:
                    continue
            if by_team:
                row_team = row[index]
                index += 1
                if team and row_team != team:
                    continue
            if row[index] is not None and row[index] is not False:
                total += row[index]
                found = True
        if aggregate == "count":
            return total
        return total if found else None

    return read
