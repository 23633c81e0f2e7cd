"""The profile recompute as a staged run: the same figures whatever the chunks, a fixed query budget
per chunk, and a run that crashes between chunks resumes with the chunks not done, while the profiles
keep the previous run until the switch."""

from unittest.mock import patch

from odoo.addons.crm_ror.models.crm_ror_customer_profile import VALUE_COLUMNS
from odoo.tools import SQL

from .value_common import CrmRorValueCase

# Queries of one chunk: the company's segments (two) and the chunk marked done. Its staged figures and
# costs come in, and its profile figures go out, by one binary COPY each, which the cursor's query
# count does not see (the purchases and costs themselves are queried once per run, not per chunk).
QUERIES_PER_CHUNK = 3


class TestProfileRun(CrmRorValueCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 40 customers of the lifetime-value story: a real fit, so that the lifetime values of every
        # chunk come from the fit on the whole population.
        cls.partners = cls._post_clv_story(40, "ROR run buyer")
        # campaign contacts (a cost to serve) for every third buyer, over the chunks: staged once per run
        medium = cls.env["utm.medium"].create({"name": "ROR run phone"})
        medium.with_company(cls.company_a).ror_contact_cost = 4.0
        campaign = cls.env["utm.campaign"].create({"name": "ROR run campaign"})
        cls.env["crm.lead"].with_company(cls.company_a).create(
            [
                {
                    "name": f"ROR run lead {partner.name}",
                    "partner_id": partner.id,
                    "company_id": cls.company_a.id,
                    "campaign_id": campaign.id,
                    "medium_id": medium.id,
                }
                for partner in cls.partners[::3]
            ]
        )
        # a credit note alone: a profile without purchase, in its own chunk
        cls._invoice(cls.company_a, cls.p3, 30, [(1, 40.0, 0.0)], move_type="out_refund")
        cls.Profile = cls.env["crm.ror.customer.profile"]
        cls.Profile._compute_profiles(cls.company_a)

    def _figures(self):
        return self._profile_figures(self.company_a, "computed_at")

    def _staged(self):
        return self.env.execute_query(
            SQL(
                "SELECT (SELECT count(*) FROM crm_ror_profile_run WHERE company_id = %(c)s), "
                "(SELECT count(*) FROM crm_ror_profile_stage WHERE company_id = %(c)s), "
                "(SELECT count(*) FROM crm_ror_profile_result WHERE company_id = %(c)s)",
                c=self.company_a.id,
            )
        )[0]

    def _without_stamp(self, figures):
        return [(row[0], *row[2:]) for row in figures]

    def test_same_figures_whatever_the_chunks(self):
        whole = self._without_stamp(self._figures())
        self.assertEqual(len(whole), 41)
        status = VALUE_COLUMNS.index("clv_status") + 1
        self.assertEqual(
            sorted({row[status] for row in whole}),
            ["not_enough_history", "ok"],
            "predicted for the buyers (only the credit-note customer has no model)",
        )
        campaign = VALUE_COLUMNS.index("cost_campaign") + 1
        self.assertEqual(sum(1 for row in whole if row[campaign] == 4.0), 14, "every third buyer's contact")
        for size in (1, 7, 40):
            self.Profile._compute_profiles(self.company_a, chunk_size=size)
            self.assertEqual(self._without_stamp(self._figures()), whole, f"chunks of {size} customers")
        self.assertEqual(self._staged(), (0, 0, 0), "the switch leaves nothing staged")

    def test_the_staging_leaves_the_planner_settings_as_they_were(self):
        """The purchases query is planned with sorted aggregates; the rest of the transaction keeps
        the server's setting, whichever it is."""

        def hashagg():
            return self.env.execute_query(SQL("SELECT current_setting('enable_hashagg')"))[0][0]

        for setting in ("on", "off"):
            self.env.cr.execute(SQL("SET LOCAL enable_hashagg = %s", SQL(setting)))
            self.Profile._compute_profiles(self.company_a)
            self.assertEqual(hashagg(), setting)
        self.env.cr.execute(SQL("SET LOCAL enable_hashagg = on"))

    def test_query_budget_per_chunk(self):
        def queries(chunk_size):
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.Profile._compute_profiles(self.company_a, chunk_size=chunk_size)
            return self.env.cr.sql_log_count - before

        queries(1000)  # the company's first run in this transaction warms the caches
        five = queries(9)  # 41 customers: 5 chunks
        each = queries(1)  # 41 chunks
        self.assertEqual(each - five, 36 * QUERIES_PER_CHUNK)

    def test_crash_between_chunks_resumes_and_profiles_stay_whole(self):
        before = self._figures()
        stamp = self.company_a.ror_computed_at
        # a new purchase, so that the new run differs from the one shown
        buyer = self.partners[0]
        self._invoice(self.company_a, buyer, 0, [(3, 100.0, 0.0)])
        Model = type(self.Profile)
        compute_chunk = Model._ror_compute_chunk
        chunks, crash = [], {"at": 3}

        def crash_at_third(profile, company, run, population, low, high):
            chunks.append((low, high))
            if len(chunks) == crash["at"]:
                raise RuntimeError("the worker was killed")
            return compute_chunk(profile, company, run, population, low, high)

        # not assertRaises: its savepoint would roll the staged chunks back, the commits outside tests
        # keep them
        with patch.object(Model, "_ror_compute_chunk", crash_at_third):
            try:
                self.Profile._compute_profiles(self.company_a, chunk_size=10)
            except RuntimeError as error:
                self.assertEqual(str(error), "the worker was killed")
            else:
                self.fail("the run did not crash")
        self.assertEqual(self._figures(), before, "the profiles still show the previous run, whole")
        self.assertEqual(self.company_a.ror_computed_at, stamp)
        self.assertEqual(self._staged(), (1, 41, 20), "two chunks of 10 customers are done")
        done_up_to = chunks[1][1]

        chunks.clear()
        crash["at"] = None
        with patch.object(Model, "_ror_compute_chunk", crash_at_third):
            # the call of the next cron batch: resumes after the done chunks
            self.Profile._compute_profiles(self.company_a, chunk_size=10)
        resumed = chunks
        self.assertEqual(resumed[0][0], done_up_to, "the done chunks are not computed again")
        self.assertEqual(len(resumed), 3, "the remaining 21 customers")
        self.assertEqual(self._staged(), (0, 0, 0))
        after = self._figures()
        self.assertNotEqual(after, before)
        # the same figures as a run that never crashed
        self.Profile._compute_profiles(self.company_a)
        self.assertEqual(self._without_stamp(self._figures()), self._without_stamp(after))
        profile = self.Profile.search([("partner_id", "=", buyer.id), ("company_id", "=", self.company_a.id)])
        self.assertEqual(profile.last_purchase_date, self.today)

    def test_tables_keep_the_recompute_plan_robust_and_cheap(self):
        """The result of a run is keyed by customer (the switch's anti-join probes it, whatever the
        statistics say of it), and the profiles keep room on each page for the next run's versions
        of their rows (HOT updates: no new index entries for a rewritten profile)."""
        options, keys = self.env.execute_query(
            SQL(
                """
                SELECT (SELECT reloptions FROM pg_class WHERE relname = 'crm_ror_customer_profile'),
                       (SELECT array_agg(a.attname::text ORDER BY a.attnum)
                          FROM pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ANY(x.indkey)
                         WHERE x.indrelid = 'crm_ror_profile_result'::regclass AND x.indisprimary)
                """
            )
        )[0]
        self.assertIn("fillfactor=50", options)
        self.assertEqual(keys, ["company_id", "partner_id"])
        # Each profile's first fill writes a new entry into every index: none is there twice (the
        # unique key, partner first, answers the lookups by partner).
        indexes = self.env.execute_query(
            SQL(
                """
                SELECT array_agg(array_to_string(x.indkey::int2[], ' ') ORDER BY x.indexrelid)
                  FROM pg_index x WHERE x.indrelid = 'crm_ror_customer_profile'::regclass
                """
            )
        )[0][0]
        leading = [key.split()[0] for key in indexes]
        partner = self.env.execute_query(
            SQL(
                "SELECT attnum::text FROM pg_attribute WHERE attrelid = 'crm_ror_customer_profile'::regclass"
                " AND attname = 'partner_id'"
            )
        )[0][0]
        self.assertEqual(leading.count(partner), 1, indexes)
