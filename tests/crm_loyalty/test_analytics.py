"""Analytics views and scorecard KPIs on a hand-counted fixture."""

from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import freeze_time

from .tiers_common import LoyaltyCase


class TestAnalytics(LoyaltyCase):
    ledger = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ann, cls.bob, cls.cid, cls.dan = (cls._partner(n) for n in ("Ann", "Bob", "Cid", "Dan"))
        cls.card_ann = cls._card(cls.ann, crm_tier_id=cls.gold.id)
        cls.card_bob = cls._card(cls.bob, crm_tier_id=cls.silver.id)
        cls.card_cid = cls._card(cls.cid)
        # Tier history: the tiers held since January 2023.
        cls.env["loyalty.tier.history"].create(
            [
                {
                    "card_id": cls.card_ann.id,
                    "date": "2023-01-01",
                    "new_tier_id": cls.gold.id,
                    "change": "upgrade",
                },
                {
                    "card_id": cls.card_bob.id,
                    "date": "2023-01-01",
                    "new_tier_id": cls.silver.id,
                    "change": "upgrade",
                },
            ]
        )
        # Points: Ann earns 1000 and redeems 300; Bob earns 500 that expire.
        cls.card_ann._ledger_post("earn", 1000.0, date="2024-01-10", description="Earn")
        cls.card_ann._ledger_post("redeem", -300.0, date="2024-02-10", description="Redeem")
        lot = cls.card_bob._ledger_post(
            "earn", 500.0, date="2024-01-20", expiry_date="2024-03-31", description="Earn"
        )
        cls.card_bob._ledger_post("expire", -500.0, consume_from=lot, date="2024-04-05", description="Expire")
        # Orders: Ann in Q1 and Q2 2023 and today; Bob in Q1 2023; Cid in Q2 2023; Dan is no member.
        cls._order(cls.ann, [(cls.product_b, 1)], "2023-02-01")
        cls._order(cls.ann, [(cls.product_a, 2)], "2023-05-01")
        cls._order(cls.ann, [(cls.product_c, 1)], fields.Date.today().isoformat())
        cls._order(cls.bob, [(cls.product_a, 20)], "2023-03-01")
        cls._order(cls.cid, [(cls.product_c, 3)], "2023-04-15")
        cls._order(cls.dan, [(cls.product_a, 1)], "2023-04-15")
        cls.env.flush_all()

    def _group(self, model, groupby, aggregates, domain=None):
        domain = (domain or []) + [("program_id", "=", self.program.id)]
        size = len(groupby)
        return {
            (row[:size] if size > 1 else row[0]): row[size:]
            for row in self.env[model]._read_group(domain, groupby, aggregates)
        }

    def test_points_report(self):
        rows = self._group(
            "crm.loyalty.points.report",
            ["date:month"],
            ["points_issued:sum", "points_redeemed:sum", "points_expired:sum"],
        )
        self.assertEqual(
            {str(month): values for month, values in rows.items()},
            {
                "2024-01-01": (1500.0, 0.0, 0.0),
                "2024-02-01": (0.0, 300.0, 0.0),
                "2024-04-01": (0.0, 0.0, 500.0),
            },
        )

    def test_points_report_of_a_shared_program_shows_to_the_orders_company(self):
        # main: the company came from the program, empty on a shared program, so every
        # company's users saw the points earned in another company
        self.program.company_id = False
        other = self.env["res.company"].create({"name": "Other Shop"})
        order = self._order(self.ann, [(self.product_b, 1)], "2024-05-01")
        self.card_ann._ledger_post(
            "earn", 50.0, date="2024-05-01", description="Earn", sale_order_id=order.id
        )
        self.env.flush_all()
        rows = self.env["crm.loyalty.points.report"].search(
            [("program_id", "=", self.program.id), ("date", "=", "2024-05-01")]
        )
        self.assertEqual(rows.company_id, self.company)
        user = self.env["res.users"].create(
            {
                "name": "Other Shop Manager",
                "login": "other_shop_manager",
                "company_id": other.id,
                "company_ids": [(6, 0, other.ids)],
                "groups_id": [(6, 0, [self.env.ref("crm_loyalty.group_crm_loyalty_manager").id])],
            }
        )
        seen = (
            self.env["crm.loyalty.points.report"]
            .with_user(user)
            .search([("program_id", "=", self.program.id)])
        )
        self.assertFalse(seen.filtered(lambda row: row.date == fields.Date.to_date("2024-05-01")))

    def test_member_report(self):
        [(members, active, points, liability, breakage, issued, redeemed, expired)] = self.env[
            "crm.loyalty.member.report"
        ]._read_group(
            [("program_id", "=", self.program.id)],
            [],
            [
                "member_count:sum",
                "active_count:sum",
                "points:sum",
                "liability:sum",
                "breakage:sum",
                "points_issued:sum",
                "points_redeemed:sum",
                "points_expired:sum",
            ],
        )
        self.assertEqual((members, active), (3, 1))
        self.assertEqual((points, issued, redeemed, expired), (700.0, 1500.0, 300.0, 500.0))
        self.assertAlmostEqual(liability, 7.0)
        self.assertAlmostEqual(breakage, 5.0)
        by_tier = self._group("crm.loyalty.member.report", ["tier_id"], ["member_count:sum"])
        self.assertEqual(
            {tier.name or "none": count for tier, (count,) in by_tier.items()},
            {"Gold": 1, "Silver": 1, "none": 1},
        )

    def test_retention_report(self):
        rows = self._group(
            "crm.loyalty.retention.report",
            ["period_date:quarter", "tier_id"],
            ["member_count:sum", "retained_count:sum", "retention_rate:avg"],
            domain=[("period_date", "<", "2024-01-01"), ("period_type", "=", "quarter")],
        )
        self.assertEqual(
            {(str(period), tier.name or "none"): values for (period, tier), values in rows.items()},
            {
                ("2023-04-01", "Gold"): (1, 1, 100.0),
                ("2023-04-01", "Silver"): (1, 0, 0.0),
                ("2023-07-01", "Gold"): (1, 0, 0.0),
                ("2023-07-01", "none"): (1, 0, 0.0),
            },
        )
        bands = self._group(
            "crm.loyalty.retention.report",
            ["spend_band"],
            ["member_count:sum", "retention_rate:avg"],
            domain=[("period_date", "=", "2023-04-01"), ("period_type", "=", "quarter")],
        )
        # Ann spent 50 in Q1 (band 10-99) and came back; Bob spent 200 (band 100-999) and did not.
        self.assertEqual(bands, {"1": (1, 100.0), "2": (1, 0.0)})

    def _period(self, date_from, date_to):
        return {
            "company": self.company,
            "team": self.env["crm.team"],
            "date_from": date_from,
            "date_to": date_to,
            "datetime_from": datetime.combine(date_from, datetime.min.time()),
            "datetime_to": datetime.combine(date_to + timedelta(days=1), datetime.min.time()),
        }

    def test_scorecard_kpis(self):
        kpi = self.env["crm.loyalty.scorecard.kpi"]
        codes = {row["code"] for row in kpi._crm_scorecard_kpi_catalog()}
        self.assertEqual(
            codes,
            {
                "crm_loyalty.redemption_rate",
                "crm_loyalty.active_member_rate",
                "crm_loyalty.member_retention_rate",
                "crm_loyalty.coupon_response_rate",
            },
        )
        for row in kpi._crm_scorecard_kpi_catalog():
            self.assertTrue(hasattr(kpi, row["method"]))
        # The fixture's program is the company's only one with moves in 2024: 300 / 1500.
        self.assertAlmostEqual(
            kpi._kpi_redemption_rate(self._period(date(2024, 1, 1), date(2024, 2, 29))), 20.0
        )
        q2 = self._period(date(2023, 4, 1), date(2023, 6, 30))
        # Ann and Cid of the 3 members bought in Q2 2023.
        self.assertAlmostEqual(kpi._kpi_active_member_rate(q2), 200.0 / 3)
        # Ann and Bob bought in the 91 days before; Ann came back.
        self.assertAlmostEqual(kpi._kpi_member_retention_rate(q2), 50.0)
        self.assertIsNone(kpi._kpi_coupon_response_rate(q2))
        # A sales team filters the orders: none of the fixture's orders belong to a new team.
        team = self.env["crm.team"].create({"name": "Elsewhere"})
        self.assertEqual(kpi._kpi_active_member_rate({**q2, "team": team}), 0.0)
        self.assertIsNone(kpi._kpi_member_retention_rate({**q2, "team": team}))
        self.assertIsNone(kpi._kpi_redemption_rate(self._period(date(2020, 1, 1), date(2020, 1, 31))))

    def test_retention_per_month_quarter_and_year(self):
        # main: quarters only
        self._order(self.cid, [(self.product_a, 1)], "2023-05-20")
        self._order(self.bob, [(self.product_a, 1)], "2024-07-01")
        self.env.flush_all()
        expected = {
            # month bought -> the next month: Cid bought in April and May 2023
            "month": {
                "2023-03-01": (1, 0),  # Ann (February)
                "2023-04-01": (1, 0),  # Bob (March)
                "2023-05-01": (1, 1),  # Cid (April), back in May
                "2023-06-01": (2, 0),  # Ann and Cid (May)
                "2024-08-01": (1, 0),  # Bob (July 2024)
            },
            "quarter": {
                "2023-04-01": (2, 1),
                "2023-07-01": (2, 0),
                "2024-10-01": (1, 0),
            },
            # 2023's three members: only Bob bought in 2024
            "year": {"2024-01-01": (3, 1), "2025-01-01": (1, 0)},
        }
        today = fields.Date.today()
        for period_type, periods in expected.items():
            rows = self._group(
                "crm.loyalty.retention.report",
                ["period_date:day"],
                ["member_count:sum", "retained_count:sum"],
                domain=[("period_type", "=", period_type), ("period_date", "<", "2026-01-01")],
            )
            self.assertEqual({str(day): values for day, values in rows.items()}, periods, period_type)
            # only completed periods: the one in progress (Ann's order today) is left out
            step = {
                "month": relativedelta(months=1),
                "quarter": relativedelta(months=3),
                "year": relativedelta(years=1),
            }
            every = self.env["crm.loyalty.retention.report"].search(
                [("program_id", "=", self.program.id), ("period_type", "=", period_type)]
            )
            self.assertTrue(every)
            for row in every:
                self.assertLessEqual(row.period_date + step[period_type], today, period_type)
        ids = self.env["crm.loyalty.retention.report"].search([]).ids
        self.assertEqual(len(ids), len(set(ids)), "one id per row")
        self.env.invalidate_all()
        self.assertEqual(self.env["crm.loyalty.retention.report"].search([]).ids, ids, "stable ids")


class TestAnalyticsCompanies(LoyaltyCase):
    """Two companies in two currencies: the reports convert and split by the member's company."""

    ledger = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.usd = cls.env.ref("base.USD")
        cls.eur = cls.env.ref("base.EUR")
        (cls.usd | cls.eur).active = True
        cls.home_currency = cls.company.currency_id
        cls.other = cls.env["res.company"].create({"name": "Euro Shop", "currency_id": cls.eur.id})
        foreign = cls.usd if cls.eur == cls.home_currency else cls.eur
        cls.foreign = foreign
        today = fields.Date.today()
        # The rates of the euro shop (its currency is EUR): 1 EUR = 1.25 USD today; the older
        # and the future rates must not be used.
        cls.env["res.currency.rate"].create(
            [
                {"currency_id": cls.eur.id, "company_id": cls.other.id, "name": "2020-01-01", "rate": 1.0},
                {"currency_id": cls.usd.id, "company_id": cls.other.id, "name": "2020-01-01", "rate": 3.0},
                {
                    "currency_id": cls.usd.id,
                    "company_id": cls.other.id,
                    "name": today - timedelta(days=30),
                    "rate": 1.25,
                },
                {
                    "currency_id": cls.usd.id,
                    "company_id": cls.other.id,
                    "name": today + timedelta(days=30),
                    "rate": 9.0,
                },
            ]
        )
        # A program of the euro shop counted in US dollars: 1 point = 0.01 USD
        cls.usd_program = cls.env["loyalty.program"].create(
            {
                "name": "Dollar Club",
                "program_type": "loyalty",
                "company_id": cls.other.id,
                "currency_id": cls.usd.id,
                "ledger_enabled": True,
                "crm_point_value": 0.01,
                "rule_ids": [Command.create({"reward_point_amount": 1, "reward_point_mode": "money"})],
            }
        )
        cls.eve, cls.fay, cls.gus = (cls._partner(n) for n in ("Eve", "Fay", "Gus"))
        cls.card_eve = cls._card(cls.eve, program=cls.usd_program)
        cls.card_fay = cls._card(cls.fay, program=cls.usd_program)
        # Over the last 12 months: 1000 issued, 200 of them expired (20 %); before: 1000 more.
        lot = cls.card_eve._ledger_post(
            "earn", 600.0, date=today - timedelta(days=200), expiry_date=today - timedelta(days=20)
        )
        cls.card_eve._ledger_post("expire", -200.0, consume_from=lot, date=today - timedelta(days=10))
        cls.card_fay._ledger_post("earn", 400.0, date=today - timedelta(days=100))
        cls.card_fay._ledger_post("earn", 1000.0, date=today - timedelta(days=500))
        cls.env.flush_all()

    def _member_rows(self, program):
        return {
            row.card_id: row
            for row in self.env["crm.loyalty.member.report"].search([("program_id", "=", program.id)])
        }

    def test_liability_in_the_company_currency_at_the_report_date(self):
        # main: balance x point value, in the program's currency whatever the company's
        rows = self._member_rows(self.usd_program)
        self.assertEqual({row.company_id for row in rows.values()}, {self.other})
        for card, points in ((self.card_eve, 400.0), (self.card_fay, 1400.0)):
            row = rows[card]
            self.assertEqual(row.points, points)
            # USD to EUR at today's rate of the euro shop: / 1.25
            self.assertAlmostEqual(row.liability, points * 0.01 / 1.25)
            expected = self.usd._convert(
                points * 0.01, self.eur, self.other, fields.Date.today(), round=False
            )
            self.assertAlmostEqual(row.liability, expected)
            self.assertEqual(row.currency_id, self.eur)

    def test_breakage_rate_and_estimate(self):
        # main: breakage was the realised value only
        rows = self._member_rows(self.usd_program)
        for card, outstanding in ((self.card_eve, 400.0), (self.card_fay, 1400.0)):
            row = rows[card]
            # expired / issued over the last 12 months: 200 / 1000 (the older 1000 are out)
            self.assertAlmostEqual(row.breakage_rate, 20.0)
            self.assertAlmostEqual(row.breakage_estimate, outstanding * 0.2)
            self.assertAlmostEqual(row.breakage_estimate_value, outstanding * 0.2 * 0.01 / 1.25)
        self.assertAlmostEqual(rows[self.card_eve].breakage, 200 * 0.01 / 1.25, msg="realised breakage")
        [(rate, estimate)] = self.env["crm.loyalty.member.report"]._read_group(
            [("program_id", "=", self.usd_program.id)], [], ["breakage_rate:avg", "breakage_estimate:sum"]
        )
        self.assertAlmostEqual(rate, 20.0)
        self.assertAlmostEqual(estimate, 1800 * 0.2)
        # a program with nothing issued in the window has no rate (not 0 %, not a division error)
        quiet = self._card(self._partner("Quiet"))
        quiet_row = self._member_rows(self.program)[quiet]
        self.assertEqual((quiet_row.breakage_rate, quiet_row.breakage_estimate), (0.0, 0.0))

    def test_member_and_retention_reports_take_the_members_company(self):
        # main: the company came from the program, empty on a shared program
        shared = self.env["loyalty.program"].create(
            {
                "name": "Shared Club",
                "program_type": "loyalty",
                "company_id": False,
                "currency_id": self.home_currency.id,
                "ledger_enabled": True,
            }
        )
        self.gus.company_id = self.other
        card_gus = self._card(self.gus, program=shared)
        card_hal = self._card(self._partner("Hal"), program=shared)
        card_gus._ledger_post("earn", 500.0)
        rows = self._member_rows(shared)
        self.assertEqual(rows[card_gus].company_id, self.other)
        self.assertFalse(rows[card_hal].company_id)
        # Hal (no company) bought in both companies: one retention row per company and period
        other_env = self.env(context=dict(self.env.context, allowed_company_ids=[self.other.id]))

        def other_order(partner, day):
            with freeze_time(day):
                order = other_env["sale.order"].create(
                    {
                        "partner_id": partner.id,
                        "company_id": self.other.id,
                        "order_line": [Command.create({"product_id": self.product_a.id})],
                    }
                )
                order.action_confirm()

        self._order(card_hal.partner_id, [(self.product_a, 1)], "2023-02-01")
        other_order(card_hal.partner_id, "2023-05-01")
        other_order(self.gus, "2023-02-01")
        self.env.flush_all()
        rows = self.env["crm.loyalty.retention.report"].search(
            [("program_id", "=", shared.id), ("period_type", "=", "quarter")]
        )
        self.assertEqual(
            {(row.card_id, row.company_id, str(row.period_date)) for row in rows},
            {
                (card_hal, self.company, "2023-04-01"),
                (card_hal, self.other, "2023-07-01"),
                (card_gus, self.other, "2023-04-01"),
            },
        )
        user = self.env["res.users"].create(
            {
                "name": "Euro Shop Manager",
                "login": "euro_shop_manager",
                "company_id": self.other.id,
                "company_ids": [(6, 0, self.other.ids)],
                "groups_id": [(6, 0, [self.env.ref("crm_loyalty.group_crm_loyalty_manager").id])],
            }
        )
        seen = self.env["crm.loyalty.member.report"].with_user(user).search([("program_id", "=", shared.id)])
        self.assertEqual(seen.card_id, card_gus | card_hal)
        home_user = user.copy(
            {
                "login": "home_manager",
                "company_id": self.company.id,
                "company_ids": [(6, 0, self.company.ids)],
            }
        )
        seen = (
            self.env["crm.loyalty.member.report"]
            .with_user(home_user)
            .search([("program_id", "=", shared.id)])
        )
        self.assertEqual(seen.card_id, card_hal)

    def test_reports_are_table_queries(self):
        # main: SQL views created in init(), so a report date or a currency rate could not move
        for model in (
            "crm.loyalty.member.report",
            "crm.loyalty.points.report",
            "crm.loyalty.retention.report",
            "crm.loyalty.coupon.report",
        ):
            Report = self.env[model]
            self.assertTrue(Report._table_query, model)
            self.assertTrue(Report._depends, model)
            self.assertNotIn("init", type(Report).__dict__, model)
