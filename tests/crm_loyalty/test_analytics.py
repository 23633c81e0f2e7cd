"""Analytics views and scorecard KPIs on a hand-counted fixture."""

from datetime import date, datetime, timedelta

from odoo import fields

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
            domain=[("period_date", "<", "2024-01-01")],
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
            domain=[("period_date", "=", "2023-04-01")],
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
