from odoo import api, models

from ..engine import campaign as engine


class CrmRorServiceScorecardKpi(models.AbstractModel):
    """Catalog KPIs of satisfaction, grievances, repeat purchase and data quality for the scorecard
    (the registry-scan contract of ``crm.scorecard.catalog``: each method takes the period dict)."""

    _name = "crm.ror.service.scorecard.kpi"
    _description = "Return on Relationship Service and Data-Quality KPIs"

    @api.model
    def _crm_scorecard_kpi_catalog(self):
        kpis = [
            (
                "crm_ror.nps",
                self.env._("Net promoter score"),
                "customer",
                "points",
                "max",
                "_kpi_nps",
                self.env._("% promoters (9-10) - % detractors (0-6) among the answers dated in the period."),
            ),
            (
                "crm_ror.complaint_rate",
                self.env._("Complaint rate"),
                "customer",
                "%",
                "min",
                "_kpi_complaint_rate",
                self.env._("Customers who complained in the period per customer who bought in the period."),
            ),
            (
                "crm_ror.median_resolution_hours",
                self.env._("Median resolution time"),
                "process",
                "hours",
                "min",
                "_kpi_median_resolution_hours",
                self.env._(
                    "Median hours from opening to resolution of the complaints resolved in the period."
                ),
            ),
            (
                "crm_ror.repeat_purchase_rate",
                self.env._("Repeat-purchase rate"),
                "customer",
                "%",
                "max",
                "_kpi_repeat_purchase_rate",
                self.env._(
                    "Customers who bought in the period and had bought before, per customer who bought."
                ),
            ),
            (
                "crm_ror.data_complete_share",
                self.env._("Complete customer records"),
                "learning",
                "%",
                "max",
                "_kpi_data_complete_share",
                self.env._(
                    "Share of the customers whose weighted data (email, phone, address, tax ID, salesperson, segment) is complete."
                ),
            ),
            (
                "crm_ror.data_median_age",
                self.env._("Median data age"),
                "learning",
                "days",
                "min",
                "_kpi_data_median_age",
                self.env._("Median days since a customer's key data last changed or was verified."),
            ),
        ]
        return [
            {
                "code": code,
                "name": name,
                "perspective": perspective,
                "unit": unit,
                "direction": direction,
                "method": method,
                "description": description,
            }
            for code, name, perspective, unit, direction, method, description in kpis
        ]

    @api.model
    def _team_users(self, period):
        return period["team"].member_ids.ids if period["team"] else None

    @api.model
    def _kpi_nps(self, period):
        domain = [
            ("company_id", "=", period["company"].id),
            ("date", ">=", period["date_from"]),
            ("date", "<=", period["date_to"]),
        ]
        users = self._team_users(period)
        if users is not None:
            domain.append(("user_id", "in", users))
        # KPI values are company figures, shown to whoever may read the scorecard.
        return self.env["crm.ror.nps.answer"].sudo()._crm_ror_nps(domain)[0]

    @api.model
    def _grievances(self, period):
        # Company figures for the scorecard, whatever the reader's own rules.
        return (
            self.env["crm.ror.grievance"]
            .sudo()
            ._crm_ror_grievance_figures(
                period["company"], period["datetime_from"], period["datetime_to"], self._team_users(period)
            )
        )

    @api.model
    def _kpi_complaint_rate(self, period):
        buyers = self.env["crm.ror.scorecard.kpi"]._ror_buyers(period, period["date_from"], period["date_to"])
        if not buyers:
            return None
        return 100.0 * self._grievances(period)["customers"] / len(buyers)

    @api.model
    def _kpi_median_resolution_hours(self, period):
        return self._grievances(period)["median_hours"]

    @api.model
    def _kpi_repeat_purchase_rate(self, period):
        kpi = self.env["crm.ror.scorecard.kpi"]
        buyers = kpi._ror_buyers(period, period["date_from"], period["date_to"])
        if not buyers:
            return None
        return 100.0 * kpi._ror_repeat_customers(period)[0] / len(buyers)

    @api.model
    def _quality_domain(self, period):
        domain = [("company_id", "=", period["company"].id)]
        users = self._team_users(period)
        if users is not None:
            domain.append(("user_id", "in", users))
        return domain

    @api.model
    def _kpi_data_complete_share(self, period):
        # Company figures for the scorecard, whatever the reader's own rules.
        rows = self.env["crm.ror.data.quality"].sudo()
        total = rows.search_count(self._quality_domain(period))
        if not total:
            return None
        return 100.0 * rows.search_count([*self._quality_domain(period), ("is_complete", "=", True)]) / total

    @api.model
    def _kpi_data_median_age(self, period):
        rows = (
            self.env["crm.ror.data.quality"].sudo().search_fetch(self._quality_domain(period), ["age_days"])
        )
        return engine.median(rows.mapped("age_days"))
