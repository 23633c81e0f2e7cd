from odoo import api, models
from odoo.tools import SQL
from odoo.tools.sql import create_index

from ..engine import coupons as coupon_engine


class CrmLoyaltyScorecardKpi(models.AbstractModel):
    """Loyalty KPIs offered to crm_scorecard's catalog (contract 1, no dependency)."""

    _name = "crm.loyalty.scorecard.kpi"
    _description = "Loyalty KPIs for the CRM Scorecard"

    def init(self):
        res = super().init()
        # The KPIs' own indexes, on tables of stock modules (this model owns no table): the
        # confirmed orders of a date range with their customer and team, read from the index alone
        # (buyers of a period) ...
        create_index(
            self.env.cr,
            "sale_order_crm_loyalty_kpi_buyers_idx",
            "sale_order",
            ["company_id", "date_order", "partner_id", "team_id"],
            where="state = 'sale'",
        )
        # ... and a partner's commercial partner, without reading the partners' rows (members)
        create_index(
            self.env.cr,
            "res_partner_crm_loyalty_kpi_commercial_idx",
            "res_partner",
            ["id", "commercial_partner_id"],
        )
        return res

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
        """Redeemed over issued points of the period, counted as ``moves_sql`` counts them (a
        reversing line in the type of the line its chain of reversals started from), but only for
        the lines of the period: their chains are walked up from them, not down from every line of
        the ledger."""
        date_from, date_to = period["date_from"], period["date_to"]
        issued, redeemed = self._query_one(
            SQL(
                """
                WITH RECURSIVE period_lines AS (
                    -- the lines whose date (creation date when unset) is a day of the period, with
                    -- the program of their card (stored on the line: no join to every card)
                    SELECT line.id, line.move_type, line.issued, line.used, line.points, line.reversed_line_id
                      FROM loyalty_history line
                      JOIN loyalty_program program ON program.id = line.program_id
                     WHERE program.program_type = 'loyalty'
                       AND (program.company_id = %(company)s OR program.company_id IS NULL)
                       AND (line.date >= %(date_from)s AND line.date < %(date_to)s::date + 1
                            OR line.date IS NULL
                               AND line.create_date >= %(date_from)s AND line.create_date < %(date_to)s::date + 1)
                ),
                ancestry AS (
                    -- each reversing line of the period with every line up its chain of reversals
                    -- (UNION: a malformed cycle ends the walk)
                    SELECT line.id, line.reversed_line_id AS ancestor_id
                      FROM period_lines line
                     WHERE line.move_type = 'reverse'
                     UNION
                    SELECT ancestry.id, up.reversed_line_id
                      FROM ancestry JOIN loyalty_history up ON up.id = ancestry.ancestor_id
                     WHERE up.move_type = 'reverse'
                ),
                root AS (
                    SELECT ancestry.id, start.move_type AS root_type
                      FROM ancestry JOIN loyalty_history start ON start.id = ancestry.ancestor_id
                     WHERE start.move_type IS NOT NULL AND start.move_type != 'reverse'
                )
                SELECT COALESCE(SUM(CASE WHEN line.move_type IS NULL THEN line.issued
                                         WHEN COALESCE(root.root_type, line.move_type) = 'earn' THEN line.points
                                         ELSE 0 END), 0),
                       COALESCE(SUM(CASE WHEN line.move_type IS NULL THEN line.used
                                         WHEN COALESCE(root.root_type, line.move_type) = 'redeem' THEN -line.points
                                         ELSE 0 END), 0)
                  FROM period_lines line
             LEFT JOIN root ON root.id = line.id
                """,
                company=period["company"].id,
                date_from=date_from,
                date_to=date_to,
            )
        )
        return 100.0 * redeemed / issued if issued else None

    def _member_filter_sql(self, company, until):
        """The card ``card`` of ``program`` is a membership of ``company`` joined by ``until`` (a
        date, inclusive)."""
        return SQL(
            """program.program_type = 'loyalty'
               AND (program.company_id = %(company)s OR program.company_id IS NULL)
               AND COALESCE(card.crm_tier_start_date, card.create_date::date) <= %(until)s""",
            company=company.id,
            until=until,
        )

    def _members_count_sql(self, company, until):
        """Number of commercial partners holding a loyalty card (of the company) they joined by
        ``until``."""
        return SQL(
            """
            SELECT count(DISTINCT partner.commercial_partner_id)
              FROM loyalty_card card
              JOIN loyalty_program program ON program.id = card.program_id
              JOIN res_partner partner ON partner.id = card.partner_id
             WHERE %s
            """,
            self._member_filter_sql(company, until),
        )

    def _membership_sql(self, company, until, commercial):
        """A lateral subquery giving one row when the commercial partner ``commercial`` (an SQL
        expression) is a member by ``until``: one of its contacts holds a card. The ``LIMIT``
        keeps it a lookup per buyer by the partners' and cards' indexes, which the planner would
        otherwise turn into a join with every member."""
        return SQL(
            """LATERAL (SELECT 1 FROM res_partner partner
                          JOIN loyalty_card card ON card.partner_id = partner.id
                          JOIN loyalty_program program ON program.id = card.program_id
                         WHERE partner.commercial_partner_id = %s AND %s
                         LIMIT 1)""",
            commercial,
            self._member_filter_sql(company, until),
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
        """Members who bought in the period over the members: the members are counted once, the
        buyers of the period checked against the cards one by one (not every member against the
        orders)."""
        company, start, stop = period["company"], period["datetime_from"], period["datetime_to"]
        members, active = self._query_one(
            SQL(
                """
                SELECT (%(members)s),
                       (SELECT count(*) FROM (%(buyers)s) buyer CROSS JOIN %(membership)s member)
                """,
                members=self._members_count_sql(company, period["date_to"]),
                buyers=self._buyers_sql(period, start, stop),
                membership=self._membership_sql(company, period["date_to"], SQL("buyer.id")),
            )
        )
        return 100.0 * active / members if members else None

    @api.model
    def _kpi_member_retention_rate(self, period):
        """Members who bought in the preceding period of the same length and again in the period,
        over the members who bought in the preceding one: from the buyers, not every member."""
        company, start, stop = period["company"], period["datetime_from"], period["datetime_to"]
        previous_start = start - (stop - start)
        base, retained = self._query_one(
            SQL(
                """
                SELECT COUNT(before.id), COUNT(again.id)
                  FROM (%(before)s) before
            CROSS JOIN %(membership)s member
             LEFT JOIN (%(again)s) again ON again.id = before.id
                """,
                before=self._buyers_sql(period, previous_start, start),
                again=self._buyers_sql(period, start, stop),
                membership=self._membership_sql(company, period["date_to"], SQL("before.id")),
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
