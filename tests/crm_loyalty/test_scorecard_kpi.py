"""crm_loyalty's scorecard KPIs against their straightforward definitions, on a hand-built ledger and
member base: the figures of the cheap queries are those of the definitions, for many periods."""

import random
from datetime import date, datetime, timedelta

from odoo.addons.crm_loyalty.models.loyalty_history import POSTING, ledger_scope, moves_sql
from odoo.tools import SQL

from .tiers_common import LoyaltyCase


class TestScorecardKpi(LoyaltyCase):
    ledger = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Kpi = cls.env["crm.loyalty.scorecard.kpi"]
        rng = random.Random(13)
        other_company = cls.env["res.company"].create({"name": "Loyalty KPI elsewhere"})
        # copies without rewards: none is needed to hold points
        template = cls.program.with_context(loyalty_skip_reward_check=True)
        programs = [
            cls.program,
            # a program shared by the companies counts, another company's and a coupon program do not
            template.copy({"name": "Shared club", "company_id": False}),
            template.copy({"name": "Elsewhere club", "company_id": other_company.id}),
            cls.env["loyalty.program"]
            .with_context(loyalty_skip_reward_check=True)
            .create({"name": "Coupons", "program_type": "coupons"}),
        ]
        cls.partners = [cls._partner(f"Member {index}") for index in range(12)]
        # a contact of a member company: its card and orders are the company's
        company = cls.env["res.partner"].create({"name": "Member company", "is_company": True})
        cls.partners.append(
            cls.env["res.partner"].create({"name": "Member contact", "parent_id": company.id})
        )
        cls.partners.append(company)
        cards = cls.env["loyalty.card"]
        for index, partner in enumerate(cls.partners[:-1]):
            program = programs[index % len(programs)]
            start = None if index % 5 == 4 else date(2023, 1, 1) + timedelta(days=rng.randrange(500))
            cards |= cls._card(partner, program=program, start=start)
        # cards without a tier start date count from their creation
        cls.env.flush_all()
        cls.env.cr.execute(
            SQL(
                "UPDATE loyalty_card SET create_date = %s WHERE id = ANY(%s) AND crm_tier_start_date IS NULL",
                datetime(2023, 9, 12, 23, 30),
                cards.ids,
            )
        )
        # A ledger of random movements in 2023-2024, with chains of reversals (four deep at most),
        # lines from before the ledger (no type; one reversed), and lines without a date.
        History = cls.env["loyalty.history"]
        lines = History
        with ledger_scope(POSTING):
            for _index in range(160):
                card = rng.choice(cards)
                day = datetime(2023, 1, 1) + timedelta(days=rng.randrange(730), hours=rng.randrange(24))
                reversible = lines.filtered(lambda line, card=card: line.card_id == card)
                kind = rng.choice(["earn", "redeem", "expire", "adjust", "legacy", "reverse", "reverse"])
                if kind == "reverse" and reversible:
                    # the card's latest line half of the time: chains of reversals of reversals
                    target = reversible[-1] if rng.random() < 0.5 else rng.choice(reversible)
                    points = -(target.issued - target.used)
                    vals = {"move_type": "reverse", "reversed_line_id": target.id}
                elif kind == "legacy":
                    points = rng.choice([1, -1]) * rng.randrange(1, 200)
                    vals = {}
                else:
                    kind = "earn" if kind == "reverse" else kind
                    sign = {"earn": 1, "redeem": -1, "expire": -1}.get(kind) or rng.choice([1, -1])
                    points = sign * rng.randrange(1, 500)
                    vals = {"move_type": kind}
                lines |= History.create(
                    {
                        "card_id": card.id,
                        "description": kind,
                        "issued": max(points, 0),
                        "used": max(-points, 0),
                        "date": day,
                        **vals,
                    }
                )
            # a chain of four reversals (an invoice cancelled, reposted, credited, ...)
            for start in lines.filtered(lambda line: line.move_type in ("earn", "redeem"))[:6]:
                line = start
                for _depth in range(4):
                    line = History.create(
                        {
                            "card_id": line.card_id.id,
                            "description": "chain",
                            "move_type": "reverse",
                            "reversed_line_id": line.id,
                            "issued": line.used,
                            "used": line.issued,
                            "date": line.date + timedelta(days=rng.randrange(60)),
                        }
                    )
                    lines |= line
        undated = lines[::9]
        cls.env.flush_all()
        cls.env.cr.execute(
            SQL(
                "UPDATE loyalty_history SET date = NULL, create_date = create_date - interval '400 days'"
                " WHERE id = ANY(%s)",
                undated.ids,
            )
        )
        cls.depth = cls._depth(lines)
        # Orders: members and a non-member buying across the two years, some of a sales team.
        cls.team = cls.env["crm.team"].create({"name": "Loyalty KPI team"})
        buyers = [*cls.partners, cls._partner("Not a member")]
        for _index in range(40):
            partner = rng.choice(buyers)
            order = cls._order(
                partner,
                [(cls.product_a, 1)],
                (date(2023, 1, 1) + timedelta(days=rng.randrange(730))).isoformat(),
            )
            if rng.random() < 0.3:
                order.team_id = cls.team
        cls.env.invalidate_all()

    @staticmethod
    def _depth(lines):
        def depth(line):
            return 1 + depth(line.reversed_line_id) if line.reversed_line_id else 0

        return max(depth(line) for line in lines)

    def _periods(self):
        for start in (date(2023, 1, 1) + timedelta(days=days) for days in range(0, 730, 23)):
            for length in (1, 30, 91, 365):
                for team in (self.env["crm.team"], self.team):
                    date_to = start + timedelta(days=length - 1)
                    yield {
                        "company": self.company,
                        "team": team,
                        "date_from": start,
                        "date_to": date_to,
                        "datetime_from": datetime.combine(start, datetime.min.time()),
                        "datetime_to": datetime.combine(date_to + timedelta(days=1), datetime.min.time()),
                    }

    def _redemption_by_definition(self, period):
        """The former query: every line of the ledger through ``moves_sql``, then the period."""
        [(issued, redeemed)] = self.env.execute_query(
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

    def test_redemption_rate_matches_the_ledger_definition(self):
        self.assertGreaterEqual(self.depth, 3, "the fixture has chains of reversals of reversals")
        values = []
        for period in self._periods():
            if period["team"]:
                continue
            expected = self._redemption_by_definition(period)
            got = self.Kpi._kpi_redemption_rate(period)
            self.assertEqual(got is None, expected is None, period)
            if expected is not None:
                self.assertAlmostEqual(got, expected, msg=period)
            values.append(expected)
        self.assertGreater(len(set(values)), 10, "the comparison is not vacuous")

    def _members_by_definition(self, period):
        """The former member queries: every member, left-joined to the buyers of the periods."""

        def buyers(start, stop):
            team = period["team"]
            return SQL(
                """
                SELECT DISTINCT buyer.commercial_partner_id AS id
                  FROM sale_order so
                  JOIN res_partner buyer ON buyer.id = so.partner_id
                 WHERE so.state = 'sale' AND so.company_id = %s
                   AND so.date_order >= %s AND so.date_order < %s %s
                """,
                period["company"].id,
                start,
                stop,
                SQL("AND so.team_id = %s", team.id) if team else SQL(),
            )

        members = SQL(
            """
            SELECT DISTINCT partner.commercial_partner_id AS id
              FROM loyalty_card card
              JOIN loyalty_program program ON program.id = card.program_id
              JOIN res_partner partner ON partner.id = card.partner_id
             WHERE program.program_type = 'loyalty'
               AND (program.company_id = %s OR program.company_id IS NULL)
               AND COALESCE(card.crm_tier_start_date, card.create_date::date) <= %s
            """,
            period["company"].id,
            period["date_to"],
        )
        start, stop = period["datetime_from"], period["datetime_to"]
        [(count, active)] = self.env.execute_query(
            SQL(
                "SELECT COUNT(member.id), COUNT(buyer.id) FROM (%s) member LEFT JOIN (%s) buyer ON buyer.id = member.id",
                members,
                buyers(start, stop),
            )
        )
        [(base, retained)] = self.env.execute_query(
            SQL(
                """SELECT COUNT(before.id), COUNT(again.id) FROM (%s) member
                     JOIN (%s) before ON before.id = member.id
                LEFT JOIN (%s) again ON again.id = member.id""",
                members,
                buyers(start - (stop - start), start),
                buyers(start, stop),
            )
        )
        return (
            100.0 * active / count if count else None,
            100.0 * retained / base if base else None,
        )

    def test_member_rates_match_their_definition(self):
        seen = set()
        for period in self._periods():
            expected = self._members_by_definition(period)
            got = (self.Kpi._kpi_active_member_rate(period), self.Kpi._kpi_member_retention_rate(period))
            for value, reference in zip(got, expected, strict=True):
                self.assertEqual(value is None, reference is None, period)
                if reference is not None:
                    self.assertAlmostEqual(value, reference, msg=period)
            seen.add(expected)
        self.assertGreater(len({active for active, _retention in seen}), 5, "the comparison is not vacuous")
        self.assertGreater(
            len({retention for _active, retention in seen}), 3, "the comparison is not vacuous"
        )
