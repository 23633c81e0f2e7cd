from odoo import api, models
from odoo.tools import SQL
from odoo.tools.sql import create_index


class CrmScorecardCatalog(models.AbstractModel):
    """Collects the catalog KPIs of every addon, and provides crm_scorecard's own.

    Contract: any model class of the registry defining ``_crm_scorecard_kpi_catalog`` returns
    a list of dicts (code, name, perspective, unit, direction, description, method, and
    optionally ``department: True``); the value of a KPI is ``env[model].<method>(period)`` ->
    float, or None when undefined. ``period`` has company, team, dates, period_type and tz;
    for a department scorecard it also has ``user_ids`` (its members' users), and only entries
    declaring ``department`` are evaluated (they must count those users' records only).
    """

    _name = "crm.scorecard.catalog"
    _description = "CRM Scorecard KPI catalog"

    def init(self):
        res = super().init()
        # The leads closed in a period, by company and team (win rate, conversion, lead lifetime):
        # crm_lead has no index on date_closed, so they were read from every lead of the team.
        # On stock crm's table, as this model owns none.
        create_index(
            self.env.cr,
            "crm_lead_crm_scorecard_closed_idx",
            "crm_lead",
            ["company_id", "team_id", "date_closed"],
            where="date_closed IS NOT NULL",
        )
        return res

    @api.model
    def _collect_catalog(self):
        """``{code: dict(entry, model=model name)}`` of every provider in the registry."""
        catalog = {}
        for model_name, model_class in self.env.registry.items():
            if not callable(getattr(model_class, "_crm_scorecard_kpi_catalog", None)):
                continue
            for entry in self.env[model_name]._crm_scorecard_kpi_catalog():
                catalog.setdefault(entry["code"], dict(entry, model=model_name))
        return catalog

    @api.model
    def _compute_catalog_value(self, code, period):
        """Value of the catalog KPI ``code`` for ``period``; raises KeyError if unknown."""
        entry = self._collect_catalog()[code]
        return getattr(self.env[entry["model"]], entry["method"])(period)

    # ------------------------------------------------------------------------------------
    # Built-in KPIs (crm_scorecard's side of the contract)
    # ------------------------------------------------------------------------------------

    @api.model
    def _crm_scorecard_kpi_catalog(self):
        return [
            {
                "code": "crm_scorecard.conversion_rate",
                "name": self.env._("Conversion rate"),
                "perspective": "customer",
                "unit": "%",
                "direction": "max",
                "description": self.env._(
                    "Opportunities won in the period per lead or opportunity created in the period."
                ),
                "department": True,
                "method": "_kpi_conversion_rate",
            },
            {
                "code": "crm_scorecard.win_rate",
                # Won is a won stage whatever the probability; lost is archived at 0 % (crm 18).
                "name": self.env._("Opportunity win rate"),
                "perspective": "process",
                "unit": "%",
                "direction": "max",
                "description": self.env._(
                    "Opportunities closed in the period: won (in a won stage) among won or lost (archived "
                    "at 0 %); raw leads do not count."
                ),
                "department": True,
                "method": "_kpi_win_rate",
            },
            {
                "code": "crm_scorecard.new_customers",
                "name": self.env._("New customers"),
                "perspective": "customer",
                "unit": "customers",
                "direction": "max",
                "description": self.env._(
                    "Customers whose first confirmed sales order of the company falls in the period."
                ),
                "department": True,
                "method": "_kpi_new_customers",
            },
            {
                "code": "crm_scorecard.pipeline_value",
                "name": self.env._("Pipeline value"),
                "perspective": "financial",
                "unit": "currency",
                "direction": "max",
                "description": self.env._(
                    "Expected revenue of the opportunities open at the end of the period "
                    "(created before it, neither won nor lost by then)."
                ),
                "department": True,
                "method": "_kpi_pipeline_value",
            },
            {
                "code": "crm_scorecard.lead_lifetime",
                "name": self.env._("Average lead lifetime"),
                "perspective": "process",
                "unit": "days",
                "direction": "min",
                "description": self.env._(
                    "Average days from creation to closing of the opportunities won in the period."
                ),
                "department": True,
                "method": "_kpi_lead_lifetime",
            },
            {
                "code": "crm_scorecard.revenue_per_salesperson",
                "name": self.env._("Average revenue per salesperson"),
                "perspective": "financial",
                "unit": "currency",
                "direction": "max",
                "description": self.env._(
                    "Untaxed amount of the sales orders confirmed in the period, in company currency, "
                    "divided by the number of salespersons who sold."
                ),
                "department": True,
                "method": "_kpi_revenue_per_salesperson",
            },
        ]

    def _lead_filter(self, period, alias="lead"):
        """SQL condition on crm_lead (or sale_order) for the period's company, team and
        department's users."""
        condition = SQL("%s = %s", SQL.identifier(alias, "company_id"), period["company"].id)
        if period.get("team"):
            condition = SQL("%s AND %s = %s", condition, SQL.identifier(alias, "team_id"), period["team"].id)
        return SQL("%s %s", condition, self._users_filter(period, alias))

    def _users_filter(self, period, alias):
        """``AND alias.user_id IN (...)`` for a department scorecard, else nothing."""
        if "user_ids" not in period:
            return SQL("")
        return SQL("AND %s = ANY(%s)", SQL.identifier(alias, "user_id"), list(period["user_ids"]))

    def _fetch_one(self, query):
        # Raw SQL reads several tables (orders, partners, leads): flush every pending write.
        self.env.flush_all()
        self.env.cr.execute(query)
        return self.env.cr.fetchone()

    @api.model
    def _kpi_conversion_rate(self, period):
        created, won = self._fetch_one(
            SQL(
                """
                SELECT
                    (SELECT COUNT(*) FROM crm_lead lead
                      WHERE %(filter)s AND lead.create_date >= %(start)s AND lead.create_date < %(stop)s),
                    (SELECT COUNT(*) FROM crm_lead lead
                       JOIN crm_stage stage ON stage.id = lead.stage_id
                      WHERE %(filter)s AND lead.active AND stage.is_won
                        AND lead.date_closed >= %(start)s AND lead.date_closed < %(stop)s)
                """,
                filter=self._lead_filter(period),
                start=period["datetime_from"],
                stop=period["datetime_to"],
            )
        )
        return 100.0 * won / created if created else None

    @api.model
    def _kpi_win_rate(self, period):
        won, lost = self._fetch_one(
            SQL(
                """
                SELECT COUNT(*) FILTER (WHERE lead.active AND stage.is_won),
                       COUNT(*) FILTER (WHERE NOT lead.active AND lead.probability = 0)
                  FROM crm_lead lead
             LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                 WHERE %(filter)s AND lead.type = 'opportunity'
                   AND lead.date_closed >= %(start)s AND lead.date_closed < %(stop)s
                """,
                filter=self._lead_filter(period),
                start=period["datetime_from"],
                stop=period["datetime_to"],
            )
        )
        return 100.0 * won / (won + lost) if won + lost else None

    @api.model
    def _kpi_new_customers(self, period):
        # Orders of the period that are their customer's first confirmed order of the company:
        # the period's orders by date (index), each checked against the customer's earlier
        # orders (indexes on commercial_partner_id and partner_id), not every order ever.
        (count,) = self._fetch_one(
            SQL(
                """
                SELECT COUNT(DISTINCT partner.commercial_partner_id)
                  FROM sale_order so
                  JOIN res_partner partner ON partner.id = so.partner_id
                 WHERE so.state = 'sale' AND so.company_id = %(company)s
                   AND so.date_order >= %(start)s AND so.date_order < %(stop)s %(team)s %(users)s
                   AND NOT EXISTS (
                       SELECT 1
                         FROM res_partner contact
                         JOIN sale_order earlier ON earlier.partner_id = contact.id
                        WHERE contact.commercial_partner_id = partner.commercial_partner_id
                          AND earlier.state = 'sale' AND earlier.company_id = so.company_id
                          AND (earlier.date_order, earlier.id) < (so.date_order, so.id)
                   )
                """,
                company=period["company"].id,
                start=period["datetime_from"],
                stop=period["datetime_to"],
                team=SQL("AND so.team_id = %s", period["team"].id) if period.get("team") else SQL(""),
                users=self._users_filter(period, "so"),
            )
        )
        return float(count)

    @api.model
    def _kpi_pipeline_value(self, period):
        (total,) = self._fetch_one(
            SQL(
                """
                SELECT SUM(lead.expected_revenue)
                  FROM crm_lead lead
                 WHERE %(filter)s AND lead.type = 'opportunity'
                   AND lead.create_date < %(stop)s
                   AND (lead.date_closed >= %(stop)s OR (lead.active AND lead.date_closed IS NULL))
                """,
                filter=self._lead_filter(period),
                stop=period["datetime_to"],
            )
        )
        return float(total or 0.0)

    @api.model
    def _kpi_lead_lifetime(self, period):
        (days,) = self._fetch_one(
            SQL(
                """
                SELECT AVG(EXTRACT(EPOCH FROM (lead.date_closed - lead.create_date)) / 86400.0)
                  FROM crm_lead lead
                  JOIN crm_stage stage ON stage.id = lead.stage_id
                 WHERE %(filter)s AND lead.active AND stage.is_won
                   AND lead.date_closed >= %(start)s AND lead.date_closed < %(stop)s
                """,
                filter=self._lead_filter(period),
                start=period["datetime_from"],
                stop=period["datetime_to"],
            )
        )
        return None if days is None else float(days)

    @api.model
    def _kpi_revenue_per_salesperson(self, period):
        team = period.get("team")
        total, sellers = self._fetch_one(
            SQL(
                """
                SELECT SUM(so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1)),
                       COUNT(DISTINCT so.user_id)
                  FROM sale_order so
                 WHERE so.state = 'sale' AND so.company_id = %(company)s
                   AND so.date_order >= %(start)s AND so.date_order < %(stop)s %(team)s %(users)s
                """,
                company=period["company"].id,
                start=period["datetime_from"],
                stop=period["datetime_to"],
                team=SQL("AND so.team_id = %s", team.id) if team else SQL(""),
                users=self._users_filter(period, "so"),
            )
        )
        return float(total) / sellers if sellers else None
