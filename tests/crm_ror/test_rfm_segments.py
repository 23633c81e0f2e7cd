"""RFM scores and segments on real records, Lost customers, monthly snapshots and transitions."""

from dateutil.relativedelta import relativedelta

from odoo.exceptions import ValidationError

from .value_common import CrmRorScenarioCase


class TestRfmSegments(CrmRorScenarioCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.ror.customer.profile"]._compute_profiles(cls.company_a | cls.company_b)

    def _segment(self, xmlid):
        return self.env.ref(f"crm_ror.crm_ror_segment_{xmlid}")

    def test_standard_segments_shipped(self):
        segments = self.env["crm.ror.segment"].search([("company_id", "=", False)])
        self.assertEqual(len(segments), 11)
        self.assertEqual(segments[0], self._segment("champions"))
        self.assertEqual(segments.filtered("is_lost"), self._segment("lost"))

    def test_scores_over_active_customers(self):
        # Active in A: Acme (112 days, 2 purchases, 285) and the newcomer (10 days, 1 purchase, 100).
        # Two customers: the better one of each figure scores 5, the other 1 (percent rank 1 and 0).
        acme, newcomer = self._profile(self.p1), self._profile(self.p6)
        self.assertEqual(acme.customer_state, "active")
        self.assertEqual((acme.recency_score, acme.frequency_score, acme.monetary_score), (1, 5, 5))
        self.assertEqual(acme.rfm_code, "155")
        self.assertEqual(acme.segment_id, self._segment("cant_lose"))
        # Bought once, 10 days ago: New (it was a "Potential loyalist" under the mid-rank rule).
        self.assertEqual(
            (newcomer.recency_score, newcomer.frequency_score, newcomer.monetary_score), (5, 1, 1)
        )
        self.assertEqual(newcomer.segment_id, self._segment("new"))
        # Company B is scored on its own: Acme (5 days, 1000) and p5 (20 days, 500), one purchase each.
        acme_b = self._profile(self.p1, self.company_b)
        self.assertEqual((acme_b.recency_score, acme_b.frequency_score, acme_b.monetary_score), (5, 1, 5))

    def test_fixed_frequency_bins_per_company(self):
        self.company_a.ror_rfm_frequency_method = "bins"
        self._compute(self.company_a)
        self.assertEqual(self._profile(self.p1).frequency_score, 2)  # 2 purchases
        self.assertEqual(self._profile(self.p6).frequency_score, 1)
        # Company B keeps its quintiles.
        self.assertEqual(self._profile(self.p1, self.company_b).frequency_score, 1)

    def test_lost_beyond_inactivity(self):
        sleeper = self._profile(self.p7)
        self.assertEqual(sleeper.customer_state, "lost")
        self.assertEqual(sleeper.segment_id, self._segment("lost"))
        self.assertEqual(sleeper.recency_score, 0)
        # With a longer inactivity limit the sleeper is scored again, as the least recent.
        self.company_a.ror_lost_days = 1000
        self._compute(self.company_a)
        self.assertEqual(sleeper.customer_state, "active")
        self.assertEqual(sleeper.recency_score, 1)
        self.assertEqual(sleeper.segment_id, self._segment("hibernating"))

    def test_company_segments_replace_shared_ones(self):
        own = self.env["crm.ror.segment"].create(
            {
                "name": "Everybody",
                "company_id": self.company_a.id,
                "r_min": 1,
                "r_max": 5,
                "f_min": 1,
                "f_max": 5,
            }
        )
        self._compute(self.company_a)
        self.assertEqual(self._profile(self.p1).segment_id, own)
        # No Lost segment of its own: the sleeper is lost, without segment.
        self.assertFalse(self._profile(self.p7).segment_id)
        self.assertEqual(
            self._profile(self.p1, self.company_b).segment_id.company_id, self.env["res.company"]
        )
        self.assertEqual(own.profile_count, 2)

    def test_segment_ranges_are_checked(self):
        with self.assertRaisesRegex(ValidationError, "Broken"):
            self.env["crm.ror.segment"].create({"name": "Broken", "r_min": 4, "r_max": 2})
        with self.assertRaises(ValidationError):
            self.env["crm.ror.segment"].create({"name": "Too high", "f_max": 6})

    def test_monthly_snapshot_and_transitions(self):
        Snapshot = self.env["crm.ror.segment.snapshot"]
        History = self.env["crm.ror.segment.history"]
        month = self.today.replace(day=1)
        snapshots = History.search([("company_id", "=", self.company_a.id), ("month", "=", month)])
        self.assertEqual(snapshots.partner_id, self.p1 | self.p2 | self.p3 | self.p6 | self.p7)
        # Recomputing in the same month refreshes, never duplicates.
        self._compute(self.company_a)
        self.assertEqual(
            History.search_count([("company_id", "=", self.company_a.id), ("month", "=", month)]), 5
        )
        # Last month Acme was a champion with 1000 of revenue.
        Snapshot.create(
            {
                "month": month - relativedelta(months=1),
                "company_id": self.company_a.id,
                "partner_id": self.p1.id,
                "segment_id": self._segment("champions").id,
                "revenue_12m": 1000.0,
            }
        )
        Report = self.env["crm.ror.segment.transition.report"]
        self.env.flush_all()
        move = Report.search([("partner_id", "=", self.p1.id), ("company_id", "=", self.company_a.id)])
        self.assertEqual(len(move), 2)  # last month (first snapshot) and this month
        current = move.filtered(lambda row: row.month == month)
        self.assertEqual(current.from_segment_id, self._segment("champions"))
        self.assertEqual(current.to_segment_id, self._segment("cant_lose"))
        self.assertTrue(current.is_move)
        self.assertFalse(current.is_new)
        self.assertAlmostEqual(current.revenue_12m, 285.0)
        self.assertAlmostEqual(current.revenue_change, -715.0)
        groups = Report._read_group(
            [("company_id", "=", self.company_a.id), ("month", "=", month), ("is_new", "=", False)],
            ["from_segment_id", "to_segment_id"],
            ["customer_count:sum", "revenue_12m:sum"],
        )
        self.assertEqual(groups, [(self._segment("champions"), self._segment("cant_lose"), 1, 285.0)])

    def test_a_new_month_keeps_the_last_state_of_the_month_before(self):
        """A month's history is the state of its last run: the run's own month is the profiles
        themselves, and the first run of another month stores the state it overwrites."""
        Snapshot = self.env["crm.ror.segment.snapshot"]
        History = self.env["crm.ror.segment.history"]
        month = self.today.replace(day=1)
        company = [("company_id", "=", self.company_a.id)]
        fields = ["partner_id", "segment_id", "customer_state", "recency_score", "frequency_score"]
        fields += ["monetary_score", "revenue", "revenue_12m", "gross_margin"]
        profiles = self.env["crm.ror.customer.profile"].search(company)
        last_state = sorted(tuple(row[f] for f in fields) for row in profiles.read(fields, load=None))
        self.assertFalse(Snapshot.search(company), "the month computed is not stored twice")

        next_month = month + relativedelta(months=1)
        self.env["crm.ror.customer.profile"]._compute_profiles(
            self.company_a, next_month + relativedelta(days=3)
        )
        stored = Snapshot.search(company)
        self.assertEqual(set(stored.mapped("month")), {month})
        self.assertEqual(
            sorted(tuple(row[f] for f in fields) for row in stored.read(fields, load=None)), last_state
        )
        # The history has each month once per customer: the stored one, then the live profiles.
        shown = History.search(company)
        self.assertEqual(len(shown), len(stored) + len(profiles.exists()))
        self.assertEqual(shown.filtered(lambda row: row.month == month).partner_id, stored.partner_id)
        self.assertEqual(
            shown.filtered(lambda row: row.month == next_month).partner_id, profiles.exists().partner_id
        )
        # Another run in the new month stores nothing more; company B kept its own month.
        self.env["crm.ror.customer.profile"]._compute_profiles(
            self.company_a, next_month + relativedelta(days=4)
        )
        self.assertEqual(Snapshot.search(company), stored)
        self.assertFalse(Snapshot.search([("company_id", "=", self.company_b.id)]))
        self.assertTrue(History.search([("company_id", "=", self.company_b.id), ("month", "=", month)]))
