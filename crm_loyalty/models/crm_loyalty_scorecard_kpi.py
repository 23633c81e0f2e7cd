from odoo import api, models
from odoo.tools import SQL

from ..engine import coupons as coupon_engine
from .loyalty_history import moves_sql


class CrmLoyaltyScorecardKpi(models.AbstractModel):
    """Loyalty KPIs offered to crm_scorecard's catalog (contract 1, no dependency)."""

    _name = "crm.loyalty.scorecard.kpi"
    _description = "Loyalty KPIs for the CRM Scorecard"

    @api.model
    def _crm_scorecard_kpi_catalog(self):
        return [
            {
                "code": "crm_loyalty.redemption_rate",
                "name": self.env._("Points redemption rate"),
                "perspective": "customer",
                "unit": "%",
                "direction": "max",
                "description": self.env._(
                    "Loyalty points redeemed in the period as a share of the points issued in it."
                ),
                "method": "_kpi_redemption_rate",
            },
            {
                "code": "crm_loyalty.active_member_rate",
                "name": self.env._("Active member rate"),
                "perspective": "customer",
                "unit": "%",
                "direction": "max",
                "description": self.env._(
                    "Share of loyalty members (customers who joined by the end of the "
                    "period) with a confirmed order in the period."
                ),
                "method": "_kpi_active_member_rate",
            },
            {
                "code": "crm_loyalty.member_retention_rate",
                "name": self.env._("Member retention rate"),
                "perspective": "customer",
                "unit": "%",
                "direction": "max",
                "description": self.env._(
                    "Share of the loyalty members who ordered in the preceding period of the same "
                    "length and ordered again in the period."
                ),
                "method": "_kpi_member_retention_rate",
            },
            {
                "code": "crm_loyalty.coupon_response_rate",
                "name": self.env._("Coupon response rate"),
                "perspective": "process",
                "unit": "%",
                "direction": "max",
                "description": self.env._(
                    "Share of the personalised campaign coupons issued in the period that were used "
                    "on a confirmed order."
                ),
                "method": "_kpi_coupon_response_rate",
            },
        ]

    def _query_one(self, query):
        self.env.flush_all()
        self.env.cr.execute(query)
        return self.env.cr.fetchone()

    @api.model
    def _kpi_redemption_rate(self, period):
        issued, redeemed = self._query_one(
            SQL(
                """
                SELECT COALESCE(SUM(move.issued), 0), COALESCE(SUM(move.redeemed), 0)
                  FROM (%(moves)s) move
                  JOIN loyalty_card card ON card.id = move.card_id
                  JOIN loyalty_program program ON program.id = card.program_id
                 WHERE program.program_type = 'loyalty'
                   AND (program.company_id = %(company)s OR program.company_id IS NULL)
                   AND move.date BETWEEN %(date_from)s AND %(date_to)s
                """,
                moves=moves_sql(),
                company=period["company"].id,
                date_from=period["date_from"],
                date_to=period["date_to"],
            )
        )
        return 100.0 * redeemed / issued if issued else None

    def _members_sql(self, company, until):
        """Commercial partners holding a loyalty card (of the company) they joined by ``until``
        (a date, inclusive)."""
        return SQL(
            """
            SELECT DISTINCT partner.commercial_partner_id AS id
              FROM loyalty_card card
              JOIN loyalty_program program ON program.id = card.program_id
              JOIN res_partner partner ON partner.id = card.partner_id
             WHERE program.program_type = 'loyalty'
               AND (program.company_id = %(company)s OR program.company_id IS NULL)
               AND COALESCE(card.crm_tier_start_date, card.create_date::date) <= %(until)s
            """,
            company=company.id,
            until=until,
        )

    def _buyers_sql(self, period, start, stop):
        """Commercial partners with a confirmed order of the company (and team) in [start, stop)."""
        team = period.get("team")
        return SQL(
            """
            SELECT DISTINCT buyer.commercial_partner_id AS id
              FROM sale_order so
              JOIN res_partner buyer ON buyer.id = so.partner_id
             WHERE so.state = 'sale' AND so.company_id = %(company)s
               AND so.date_order >= %(start)s AND so.date_order < %(stop)s
               %(team_filter)s
            """,
            company=period["company"].id,
            start=start,
            stop=stop,
            team_filter=SQL("AND so.team_id = %s", team.id) if team else SQL(),
        )

    @api.model
    def _kpi_active_member_rate(self, period):
        start, stop = period["datetime_from"], period["datetime_to"]
        members, active = self._query_one(
            SQL(
                """
                SELECT COUNT(member.id), COUNT(buyer.id)
                  FROM (%(members)s) member
             LEFT JOIN (%(buyers)s) buyer ON buyer.id = member.id
                """,
                members=self._members_sql(period["company"], period["date_to"]),
                buyers=self._buyers_sql(period, start, stop),
            )
        )
        return 100.0 * active / members if members else None

    @api.model
    def _kpi_member_retention_rate(self, period):
        start, stop = period["datetime_from"], period["datetime_to"]
        previous_start = start - (stop - start)
        base, retained = self._query_one(
            SQL(
                """
                SELECT COUNT(before.id), COUNT(again.id)
                  FROM (%(members)s) member
                  JOIN (%(before)s) before ON before.id = member.id
             LEFT JOIN (%(again)s) again ON again.id = member.id
                """,
                members=self._members_sql(period["company"], period["date_to"]),
                before=self._buyers_sql(period, previous_start, start),
                again=self._buyers_sql(period, start, stop),
            )
        )
        return 100.0 * retained / base if base else None

    @api.model
    def _kpi_coupon_response_rate(self, period):
        issues = self.env["crm.loyalty.coupon.issue"].search(
            [
                ("company_id", "=", period["company"].id),
                ("period_date", ">=", period["date_from"]),
                ("period_date", "<=", period["date_to"]),
            ]
        )
        usage = issues._usage()
        used = sum(1 for row in usage.values() if row["order_ids"])
        return coupon_engine.response_rate(len(issues), used)
