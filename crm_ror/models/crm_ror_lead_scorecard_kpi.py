from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .crm_lead import DEFAULT_BLACK_HOLE_DAYS


class CrmRorLeadScorecardKpi(models.AbstractModel):
    """Lead KPIs for crm_scorecard's catalog (contract 1).

    Lead snapshots (black-hole rate, hot share, idle days) look at the leads open at the period end (or
    now, if earlier) as they were then: engagement and temperature from the stored dates, the chatter
    and the temperature's tracking up to then, not today's values."""

    _name = "crm.ror.lead.scorecard.kpi"
    _description = "Return on Relationship: Lead Scorecard KPIs"

    @api.model
    def _crm_scorecard_kpi_catalog(self):
        return [
            {
                "code": "crm_ror.lead_black_hole_rate",
                "name": self.env._("Black-hole rate"),
                "perspective": "process",
                "unit": "%",
                "direction": "min",
                "description": self.env._(
                    "Share of open leads idle at least their sales team's 'Neglected After' days."
                ),
                "method": "_kpi_lead_black_hole_rate",
            },
            {
                "code": "crm_ror.lead_hot_share",
                "name": self.env._("Hot-lead share"),
                "perspective": "customer",
                "unit": "%",
                "direction": "max",
                "description": self.env._("Share of open leads whose temperature is HOT."),
                "method": "_kpi_lead_hot_share",
            },
            {
                "code": "crm_ror.lead_avg_idle_days",
                "name": self.env._("Average idle days of open leads"),
                "perspective": "process",
                "unit": "days",
                "direction": "min",
                "description": self.env._("Days since the last engagement, averaged over open leads."),
                "method": "_kpi_lead_avg_idle_days",
            },
            {
                # crm_scorecard's "Opportunity win rate" counts deals; this one weighs them by value
                "code": "crm_ror.lead_won_revenue_rate",
                "name": self.env._("Won revenue rate"),
                "perspective": "financial",
                "unit": "%",
                "direction": "max",
                "description": self.env._(
                    "Expected revenue of the opportunities won in the period, out of the expected revenue "
                    "of those closed (won or lost) in it; disqualified leads do not count."
                ),
                "method": "_kpi_lead_won_revenue_rate",
            },
        ]

    def _open_leads_sql(self, period, select):
        """Aggregate ``select`` over the leads open at the period's end (or now, if earlier), of its
        company and team, as they were then: leads closed since count as open, ``idle_at`` counts from
        the last engagement up to then, and ``level_at`` is the temperature tracked then."""
        now = fields.Datetime.now()
        at = min(period["datetime_to"], now)
        conditions = [
            SQL("lead.company_id = %s", period["company"].id),
            SQL("lead.create_date < %s", at),
            SQL(
                """((lead.active AND NOT COALESCE(stage.is_won, FALSE))
                    OR ((COALESCE(stage.is_won, FALSE) OR (NOT lead.active AND lead.probability = 0))
                        AND lead.date_closed >= %s))""",
                at,
            ),
        ]
        if period.get("team"):
            conditions.append(SQL("lead.team_id IN %s", tuple(period["team"].ids)))
        Lead = self.env["crm.lead"]
        Lead.flush_model()
        self.env["mail.message"].flush_model(["model", "res_id", "date"])
        self.env["mail.tracking.value"].flush_model()
        # the latest stored date is the last engagement unless it came after ``at``: then the chatter says
        latest = SQL(
            "GREATEST(lead.create_date, lead.date_last_stage_update, lead.date_last_activity_done,"
            " lead.date_last_customer_message)"
        )
        engaged = SQL(
            "CASE WHEN %(latest)s <= %(at)s THEN %(latest)s ELSE %(then)s END",
            latest=latest,
            at=at,
            then=Lead._ror_engaged_at_sql(SQL("%s::timestamp", at)),
        )
        level = SQL("lead.temperature")
        if at < now - timedelta(days=1):
            level = SQL(
                "COALESCE(%s, CASE WHEN lead.active AND NOT COALESCE(stage.is_won, FALSE) THEN lead.temperature"
                " ELSE lead.temperature_at_close END)",
                Lead._ror_temperature_at_sql(SQL("%s::timestamp", at)),
            )
        self.env.cr.execute(
            SQL(
                """
                SELECT %s
                  FROM (SELECT lead.*, GREATEST(DATE_PART('day', %s::timestamp - %s), 0) AS idle_at,
                               %s AS level_at,
                               COALESCE(team.black_hole_idle_days, %s) AS idle_limit
                          FROM crm_lead lead
                     LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                     LEFT JOIN crm_team team ON team.id = lead.team_id
                         WHERE %s) AS lead
                """,
                select,
                at,
                engaged,
                level,
                DEFAULT_BLACK_HOLE_DAYS,
                SQL(" AND ").join(conditions),
            )
        )
        return self.env.cr.fetchone()

    def _ratio(self, part, total):
        return None if not total else 100.0 * part / total

    @api.model
    def _kpi_lead_black_hole_rate(self, period):
        total, neglected = self._open_leads_sql(
            period,
            SQL("COUNT(*), COUNT(*) FILTER (WHERE lead.idle_limit > 0 AND lead.idle_at >= lead.idle_limit)"),
        )
        return self._ratio(neglected, total)

    @api.model
    def _kpi_lead_hot_share(self, period):
        total, hot = self._open_leads_sql(
            period, SQL("COUNT(*), COUNT(*) FILTER (WHERE lead.level_at = 'hot')")
        )
        return self._ratio(hot, total)

    @api.model
    def _kpi_lead_avg_idle_days(self, period):
        (value,) = self._open_leads_sql(period, SQL("AVG(lead.idle_at)"))
        return None if value is None else float(value)

    @api.model
    def _kpi_lead_won_revenue_rate(self, period):
        domain = [
            ("company_id", "=", period["company"].id),
            ("type", "=", "opportunity"),
            ("state", "in", ("won", "lost")),
            ("date_closed", ">=", period["datetime_from"]),
            ("date_closed", "<", period["datetime_to"]),
        ]
        if period.get("team"):
            domain.append(("team_id", "in", period["team"].ids))
        # sudo: a company-wide count, as the provider's other KPIs read in SQL; no lead row is returned
        [(won, closed)] = (
            self.env["crm.ror.pipeline.report"]
            .sudo()
            ._read_group(domain, [], ["won_revenue:sum", "expected_revenue:sum"])
        )
        return self._ratio(won or 0, closed or 0)
