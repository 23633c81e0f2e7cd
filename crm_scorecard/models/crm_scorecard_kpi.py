import keyword
import unicodedata

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL

from ..engine import domain as domain_engine
from ..engine import formula as formula_engine
from ..engine.batching import ADDITIVE, QueryPart, batch_key, bounds, grouped_reader

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
    empty_is_zero = fields.Boolean(
        string="No records means 0",
        help="A sum over no record is 0 (revenue of a period without sales), not undefined. "
        "A count is always 0 then; an average stays undefined.",
    )

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
        """A code is a name that formulas can reach: an identifier, not a keyword, constant or
        formula function, and already in the form Python reads names in (NFKC: a fullwidth letter is read as the plain one)."""
        for kpi in self:
            code = kpi.code
            if (
                not code.isidentifier()
                or keyword.iskeyword(code)
                or code in formula_engine.FUNCTION_NAMES
                or unicodedata.normalize("NFKC", code) != code
            ):
                raise ValidationError(
                    self.env._(
                        "KPI %(kpi)s: the code %(code)s cannot be named by a formula: use letters, digits "
                        "and underscores, not starting with a digit, and no Python keyword or formula "
                        "function (min, max, abs, round).",
                        kpi=kpi.name,
                        code=code,
                    )
                )

    @api.constrains(
        "source",
        "model_id",
        "domain",
        "date_field_id",
        "aggregate",
        "field_id",
        "is_ratio",
        "denominator_model_id",
        "denominator_domain",
        "denominator_date_field_id",
        "denominator_aggregate",
        "denominator_field_id",
    )
    def _check_query(self):
        """One method for both parts: stacked ``api.constrains`` would overwrite each other."""
        for kpi in self.filtered(lambda k: k.source == "query"):
            kpi._check_query_part(kpi.model_id, kpi.domain, kpi.date_field_id, kpi.aggregate, kpi.field_id)
            if kpi.is_ratio:
                kpi._check_query_part(
                    kpi.denominator_model_id,
                    kpi.denominator_domain,
                    kpi.denominator_date_field_id,
                    kpi.denominator_aggregate,
                    kpi.denominator_field_id,
                )

    def _check_query_part(self, model, domain, date_field, aggregate, field):
        if not model:
            raise ValidationError(self.env._("KPI %(kpi)s: choose the model to query.", kpi=self.name))
        if model.model not in self.env or model.transient:
            raise ValidationError(
                self.env._("KPI %(kpi)s: %(model)s cannot be queried.", kpi=self.name, model=model.model)
            )
        if not self._queryable(model):
            raise ValidationError(
                self.env._(
                    "KPI %(kpi)s: %(model)s is a technical model that only administrators may read; "
                    "a KPI cannot query it.",
                    kpi=self.name,
                    model=model.name,
                )
            )
        if aggregate != "count" and not field:
            raise ValidationError(
                self.env._(
                    "KPI %(kpi)s: choose the field to aggregate on %(model)s.",
                    kpi=self.name,
                    model=model.name,
                )
            )
        for checked in (field, date_field):
            if checked and checked.model_id != model:
                raise ValidationError(
                    self.env._(
                        "KPI %(kpi)s: the field %(field)s is not a field of %(model)s.",
                        kpi=self.name,
                        field=checked.name,
                        model=model.name,
                    )
                )
        if date_field and date_field.ttype not in ("date", "datetime"):
            raise ValidationError(
                self.env._(
                    "KPI %(kpi)s: the date field %(field)s is not a date.",
                    kpi=self.name,
                    field=date_field.name,
                )
            )
        if field and aggregate in ("sum", "avg") and field.ttype not in ("integer", "float", "monetary"):
            raise ValidationError(
                self.env._(
                    "KPI %(kpi)s: %(field)s is not a number: it cannot be summed or averaged.",
                    kpi=self.name,
                    field=field.name,
                )
            )
        # Validated with the author's rights: a domain on a field he may not read is refused.
        self._parse_domain(model.model, domain)

    def _queryable(self, model):
        """Whether ``model`` is readable by some group below the administrators.

        A query KPI's figures are shown to every reader of its scorecards and stored by the
        history cron as the scorecard's owner: models that only Settings administrators may
        read (parameters, crons, access rules...) are never queried.
        """
        admin_groups = self.env.ref("base.group_system") | self.env.ref("base.group_erp_manager")
        # ACL definitions are technical records the KPI's author cannot read; only counted here.
        return bool(
            self.env["ir.model.access"]
            .sudo()
            .search_count(
                [
                    ("model_id", "=", model.id),
                    ("perm_read", "=", True),
                    "|",
                    ("group_id", "=", False),
                    ("group_id", "not in", admin_groups.ids),
                ],
                limit=1,
            )
        )

    def _parse_domain(self, model_name, domain, period=None):
        """The domain as a list, validated on ``model_name`` with the current user's rights;
        errors name the KPI. It is evaluated with plain values only (see ``engine.domain``)."""
        company = period["company"] if period else self.env.company
        try:
            parsed = domain_engine.evaluate(
                domain,
                uid=self.env.uid,
                company_id=company.id,
                company_ids=[company.id] if period else self.env.companies.ids,
                today=fields.Date.context_today(self),
            )
            expression.expression(expression.normalize_domain(parsed), self.env[model_name])
        except Exception as exc:  # any refusal of the domain, shown with the KPI's name
            raise ValidationError(
                self.env._(
                    "KPI %(kpi)s: invalid domain %(domain)s: %(error)s",
                    kpi=self.name,
                    domain=domain,
                    error=exc,
                )
            ) from exc
        return parsed

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
                names = formula_engine.validate(kpi.formula, kpi.code)
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

    def _query_parts(self):
        """The :class:`QueryPart` of this query KPI: its numerator, and denominator if a ratio."""
        self.ensure_one()

        def part(model, domain, date_field, aggregate, field):
            return QueryPart(
                model=model.model,
                domain=domain or "[]",
                date_field=date_field.name or None,
                date_type=date_field.ttype or None,
                aggregate=aggregate or "count",
                field=field.name or None,
            )

        # The definition names models and fields (ir.model): technical records that readers
        # of the KPI cannot read; only their names are taken, the query runs with their rights.
        kpi = self.sudo()
        parts = [part(kpi.model_id, kpi.domain, kpi.date_field_id, kpi.aggregate, kpi.field_id)]
        if kpi.is_ratio:
            parts.append(
                part(
                    kpi.denominator_model_id,
                    kpi.denominator_domain,
                    kpi.denominator_date_field_id,
                    kpi.denominator_aggregate,
                    kpi.denominator_field_id,
                )
            )
        return parts

    def _compute_values(self, period, manual_values=None, prefetched=None):
        """``({code: value or None}, {code: message})`` of these KPIs and their dependencies.

        ``period`` follows the catalog contract (company, team, dates); ``manual_values`` maps
        a KPI id to its manual value for the period; ``prefetched`` holds query values already
        gathered by :meth:`_batch_query_values`. Query KPIs run with the current user's rights:
        a KPI on records he may not read is undefined, with a message.
        """
        prefetched = prefetched or {}
        manual_values = manual_values or {}
        kpis = self._with_dependencies()
        values, messages = {}, {}
        catalog = self.env["crm.scorecard.catalog"]._collect_catalog()
        providers = self.browse()  # catalog KPIs to compute
        for kpi in kpis:
            if kpi.source == "query":
                key = batch_key(kpi.id, period)
                if key in prefetched:
                    values[kpi.code] = prefetched[key]
                    continue
                try:
                    values[kpi.code] = kpi._query_value(period)
                except AccessError:
                    values[kpi.code] = None
                    messages[kpi.code] = self.env._(
                        "You may not read the records this KPI counts: ask a scorecard administrator."
                    )
            elif kpi.source == "catalog":
                key = batch_key(kpi.id, period)
                if key in prefetched:  # an ended period's final figure (history)
                    values[kpi.code] = prefetched[key]
                else:
                    providers |= kpi
            elif kpi.source == "manual":
                values[kpi.code] = manual_values.get(kpi.id)
        if providers:
            provided, provider_messages = providers._catalog_values(period, catalog)
            values.update(provided)
            messages.update(provider_messages)
        formulas = {kpi.code: kpi.formula or "" for kpi in kpis if kpi.source == "formula"}
        try:
            values = formula_engine.evaluate(formulas, values)
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

    def _catalog_values(self, period, catalog):
        """``({code: value or None}, {code: message})`` of these catalog KPIs for ``period``, each
        from its provider's method."""
        values, messages = {}, {}
        jit = None  # the server's JIT setting, while the providers run without it
        for kpi in self:
            entry = catalog.get(kpi.catalog_code)
            if not entry:
                values[kpi.code] = None
                messages[kpi.code] = self.env._(
                    "The catalog KPI %(code)s is not available: is the addon providing it installed?",
                    code=kpi.catalog_code,
                )
                continue
            if "user_ids" in period and not entry.get("department"):
                values[kpi.code] = None
                messages[kpi.code] = self.env._(
                    "The catalog KPI %(kpi)s counts sales teams, not departments: use it on team "
                    "or company scorecards.",
                    kpi=kpi.name,
                )
                continue
            if jit is None:
                jit = self._set_jit("off")
            # Catalog KPIs are the installed addons' fixed SQL, scoped to the period's company
            # and team (readme CONFIGURE): no user text reaches them, they return one aggregate
            # of the scorecard's company and team, and the record rules of crm.scorecard show
            # a team's scorecard only to the team and managers.
            value = getattr(self.env[entry["model"]].sudo(), entry["method"])(period)
            values[kpi.code] = None if value is None else float(value)
        if jit is not None:
            self._set_jit(jit)
        return values, messages

    def _set_jit(self, value):
        """Set PostgreSQL's JIT for the rest of the transaction; returns its former value.

        The catalog KPIs are short aggregates whose row estimates the planner overshoots (the
        chatter and ledger subqueries): past its cost threshold it JIT-compiles them, about 0.2 s a
        query, longer than they run. After a failing KPI the setting stays off until the
        transaction ends (``set_config`` with ``is_local``): the later queries only plan without
        JIT."""
        [(former, _new)] = self.env.execute_query(
            SQL("SELECT current_setting('jit'), set_config('jit', %s, true)", value)
        )
        return former

    def _batch_query_values(self, periods):
        """Values of these query KPIs for many period dicts (scorecards of several companies,
        teams and periods) with one ``_read_group`` per KPI, query part and company for all
        the periods of a type (see :meth:`_batch_query_part`). KPIs the current user may not
        read are left to :meth:`_query_value`, which reports them.
        Returns ``{batch_key(kpi id, period): value or None}``.
        """
        result = {}
        for kpi in self.filtered(lambda k: k.source == "query"):
            parts = kpi._query_parts()
            if any(part.model not in self.env for part in parts):
                continue
            try:
                gathered = [kpi._batch_query_part(periods, part) for part in parts]
            except AccessError:
                continue
            for period in periods:
                value = gathered[0][id(period)](period)
                if kpi.is_ratio:
                    denominator = gathered[1][id(period)](period)
                    value = (
                        None if value is None or not denominator else value / denominator * kpi.ratio_factor
                    )
                result[batch_key(kpi.id, period)] = value
        return result

    def _batch_query_part(self, periods, part):
        """``{id(period dict): function(period) -> value}`` with one grouped query per company
        (run ``with_company``, as the single path, so that currency-converting reports give its
        figures in its own currency), period type and timezone: the periods' date ranges are
        OR-ed (each uses the date field's index) and the rows grouped by the period's bucket
        in its timezone. Counts and sums are also grouped by team (restricted to the periods'
        teams unless one of them is company-wide); other aggregates, and
        department scorecards (``user_ids``), get a query per team or department."""
        has_team = "team_id" in self.env[part.model]._fields
        groups = {}
        for period in periods:
            # Period dicts of the catalog contract may lack the type: one query per period then.
            granular = bool(part.date_field and period.get("period_type"))
            key = [period["company"], period.get("user_ids")]
            key += [period["period_type"], period.get("tz") or "UTC"] if granular else [bounds(period)]
            if part.aggregate not in ADDITIVE:
                key.append(period.get("team") or None)
            groups.setdefault(tuple(key), []).append(period)
        readers = {}
        for group in groups.values():
            first = group[0]
            records = self.env[part.model].with_company(first["company"])
            filters = [self._parse_domain(part.model, part.domain, first)]
            if "company_id" in records._fields:
                filters.append([("company_id", "in", [first["company"].id, False])])
            filters += self._users_filter(records, first)
            groupby = []
            by_bucket = bool(part.date_field and first.get("period_type"))
            if by_bucket:
                records = records.with_context(tz=first.get("tz") or "UTC")
                groupby.append(f"{part.date_field}:{first['period_type']}")
                distinct = {bounds(p): p for p in group}
                filters.append(expression.OR([self._date_bounds_domain(part, p) for p in distinct.values()]))
            elif part.date_field:
                filters.append(self._date_bounds_domain(part, first))
            by_team = False
            if has_team and part.aggregate in ADDITIVE:
                by_team = any(p.get("team") for p in group)
                if by_team:
                    groupby.append("team_id")
                if all(p.get("team") for p in group):
                    # only these teams' rows are read, not the whole company's
                    filters.append([("team_id", "in", list({p["team"].id for p in group}))])
            elif has_team and first.get("team"):
                filters.append([("team_id", "=", first["team"].id)])
            rows = self._query_read_group(records, expression.AND(filters), groupby, part.spec)
            read = grouped_reader(rows, by_bucket, by_team, part.aggregate, self.empty_is_zero)
            for period in group:
                readers[id(period)] = read
        return readers

    def _users_filter(self, records, period):
        """``[domain]`` keeping a department scorecard's records: those of its members' users."""
        if "user_ids" not in period:
            return []
        if "user_id" not in records._fields:
            raise UserError(
                self.env._(
                    "KPI %(kpi)s: %(model)s has no salesperson (user_id), so it cannot be counted for a "
                    "department: use this KPI on team or company scorecards.",
                    kpi=self.name,
                    model=records._name,
                )
            )
        return [[("user_id", "in", list(period["user_ids"]))]]

    def _date_bounds_domain(self, part, period):
        if part.date_type == "date":
            return [(part.date_field, ">=", period["date_from"]), (part.date_field, "<=", period["date_to"])]
        return [
            (part.date_field, ">=", period["datetime_from"]),
            (part.date_field, "<", period["datetime_to"]),
        ]

    def _query_value(self, period):
        numerator, *denominator = (self._query_part(period, part) for part in self._query_parts())
        if not self.is_ratio:
            return numerator
        if numerator is None or not denominator[0]:
            return None
        return numerator / denominator[0] * self.ratio_factor

    def _query_part(self, period, part):
        """One aggregate of the part's model, with the current user's rights; the period's
        company, team and dates are added."""
        if part.model not in self.env:
            raise UserError(
                self.env._("KPI %(kpi)s: the model to query is not set or not installed.", kpi=self.name)
            )
        records = self.env[part.model].with_company(period["company"])
        parsed = self._parse_domain(part.model, part.domain, period)
        filters = []
        if "company_id" in records._fields:
            filters.append([("company_id", "in", [period["company"].id, False])])
        if period.get("team") and "team_id" in records._fields:
            filters.append([("team_id", "=", period["team"].id)])
        filters += self._users_filter(records, period)
        if part.date_field:
            filters.append(self._date_bounds_domain(part, period))
        full_domain = expression.AND([parsed, *filters])
        [(value,)] = self._query_read_group(records, full_domain, [], part.spec)
        if value is None or value is False:
            return 0.0 if self.empty_is_zero else None
        return float(value)

    def _query_read_group(self, records, domain, groupby, spec):
        """``records._read_group`` of a query KPI; a failure names the KPI and the model.
        An AccessError (the reader may not see these records) is left as it is."""
        try:
            return records._read_group(domain, groupby, [spec])
        except AccessError:
            raise
        except Exception as exc:
            raise UserError(
                self.env._(
                    "KPI %(kpi)s: the query on %(model)s failed: %(error)s",
                    kpi=self.name,
                    model=records._name,
                    error=exc,
                )
            ) from exc
