"""The suggestion recompute in chunks of customers: the same suggestions whatever the chunk size, a
fixed query budget per chunk, and the 'new' suggestions of customers without lines any more removed."""

import threading
from unittest.mock import patch

import psycopg2

from odoo.addons.crm_ror.models import crm_ror_product_affinity, crm_ror_suggestion
from odoo.tools import SQL, mute_logger

from .touch_common import TouchCase

# Queries of one chunk: its DELETE, the cross-sell INSERT, the reorder SELECT and INSERT, the up-sell
# INSERT.
QUERIES_PER_CHUNK = 5
FIELDS = ("partner_id", "product_id", "kind", "expected_value", "source_product_id", "usual_qty")


class TestSuggestionChunks(TouchCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Segment = cls.env["crm.ror.segment"]
        gold, bronze = (
            Segment.create({"name": name, "sequence": sequence, "company_id": cls.company.id})
            for name, sequence in (("Chunk Gold", 1), ("Chunk Bronze", 2))
        )
        cls.pro = cls.env["product.product"].create(
            {"name": "Chunk Desk Pro", "list_price": 300.0, "categ_id": cls.category.id, "type": "consu"}
        )
        cls.products["E"] = cls.pro
        Profile = cls.env["crm.ror.customer.profile"]
        cls.customers = cls.env["res.partner"]
        # 12 customers: every kind of suggestion shows up, spread over the chunks.
        for index in range(12):
            customer = cls._customer(f"Chunk {index}", cls.salesman_1 if index % 2 else cls.salesman_2)
            if index < 5:  # gold buyers of the dearer desk: up-sell evidence
                cls._order(customer, "E", days_ago=20 + index)
                cls._order(customer, "AB", days_ago=15)
            else:
                for days in (90, 60, 30 + index):  # a reorder cycle, due for some
                    cls._order(customer, "A" if index % 3 else "AC", days_ago=days)
            Profile.create(
                {
                    "partner_id": customer.id,
                    "company_id": cls.company.id,
                    "segment_id": (gold if index < 5 else bronze).id,
                    "customer_state": "active",
                }
            )
            cls.customers |= customer
        cls.company.crm_ror_affinity_min_support = 0.05
        cls.company.crm_ror_affinity_min_lift = 0.1

    def _run(self, chunk_size):
        Suggestion = self.env["crm.ror.suggestion"]
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        Suggestion._compute_company_suggestions(self.company, chunk_size=chunk_size)
        queries = self.env.cr.sql_log_count - before
        found = Suggestion.search([("company_id", "=", self.company.id), ("state", "=", "new")])
        rows = sorted(
            tuple(value.id if hasattr(value, "_name") else value for value in (s[f] for f in FIELDS))
            for s in found
        )
        return rows, queries

    def test_same_suggestions_whatever_the_chunks(self):
        whole, _queries = self._run(chunk_size=1000)
        self.assertEqual(
            {row[2] for row in whole}, {"cross_sell", "reorder", "up_sell"}, "the fixture shows every kind"
        )
        for size in (1, 2, 5):
            rows, _queries = self._run(chunk_size=size)
            self.assertEqual(rows, whole, f"chunks of {size} customers")

    def test_query_budget_per_chunk(self):
        # 12 customers: 1 chunk, then 3 (chunks of 5), then 12 (chunks of 1).
        _rows, one = self._run(chunk_size=1000)
        _rows, three = self._run(chunk_size=5)
        _rows, twelve = self._run(chunk_size=1)
        self.assertLessEqual(three - one, 2 * QUERIES_PER_CHUNK)
        self.assertLessEqual(twelve - one, 11 * QUERIES_PER_CHUNK)
        # each further chunk costs at least its DELETE, cross-sell, reorder read and up-sell: the
        # setup (affinity, temporary tables) is paid once, not per chunk
        self.assertGreaterEqual(twelve - one, 11 * (QUERIES_PER_CHUNK - 1))

    def test_customers_without_lines_lose_their_new_suggestions(self):
        self._run(chunk_size=2)
        # a customer whose orders are gone keeps no 'new' suggestion, converted ones stay
        leaver = self.customers[-1]
        Suggestion = self.env["crm.ror.suggestion"]
        mine = Suggestion.search([("partner_id", "=", leaver.id)])
        self.assertTrue(mine)
        kept = mine[0]
        kept.sudo().state = "dismissed"
        self.env["sale.order"].search([("partner_id", "=", leaver.id)]).write({"state": "cancel"})
        self._run(chunk_size=2)
        self.assertEqual(Suggestion.search([("partner_id", "=", leaver.id)]), kept)

    def test_affinity_counted_in_small_batches_is_the_same(self):
        Affinity = self.env["crm.ror.product.affinity"]

        def pairs():
            Affinity._compute_company_affinity(self.company)
            found = Affinity.search([("company_id", "=", self.company.id)])
            return sorted(
                (p.product_a_id.id, p.product_b_id.id, p.pair_count, round(p.support, 6), round(p.lift, 6))
                for p in found
            )

        whole = pairs()
        self.assertTrue(whole)
        # a few rows per batch: orders are cut between batches, never inside one
        with patch.object(crm_ror_product_affinity, "BASKET_BATCH_BYTES", 16):
            self.assertEqual(pairs(), whole)

    def _run_committing(self, chunk_size, lock_held):
        """The run as in a cron worker: commits (made no-ops) and the lock re-checked after them."""
        Suggestion = self.env["crm.ror.suggestion"]
        self.company.crm_ror_suggestion_date = False
        self.env.flush_all()
        lock = SQL("SELECT TRUE") if lock_held else SQL("SELECT FALSE")
        with (
            patch.object(threading.current_thread(), "testing", False),
            patch.object(self.env.cr, "commit", lambda: None),
            patch.object(crm_ror_suggestion, "LOCK_SQL", lock),
        ):
            result = Suggestion._compute_company_suggestions(self.company, chunk_size=chunk_size)
        return result

    def test_lock_lost_after_the_last_chunk_still_stamps_the_company(self):
        # one chunk: nothing remains after its commit, so the lost lock does not matter
        result = self._run_committing(chunk_size=1000, lock_held=False)
        self.assertTrue(self.company.crm_ror_suggestion_date, "the finished company is stamped")
        self.assertIs(result, True)
        self.assertTrue(self.env["crm.ror.suggestion"].search([("company_id", "=", self.company.id)]))

    def test_lock_lost_between_chunks_leaves_the_company_pending(self):
        self.assertIs(self._run_committing(chunk_size=5, lock_held=False), False)
        self.assertFalse(self.company.crm_ror_suggestion_date, "a company given up is not stamped")
        self.env.cr.execute("SELECT to_regclass('crm_ror_sugg_line')")
        self.assertIsNone(self.env.cr.fetchone()[0], "the temporary tables are dropped on bail-out")
        # the batch does not count it done: the run stays open and the company pending
        Profile = self.env["crm.ror.customer.profile"]
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("crm_ror.test_run", False)
        done = Profile._ror_run_batch("crm_ror.test_run", "crm_ror_suggestion_date", lambda companies: False)
        self.assertFalse(done)
        self.assertTrue(params.get_param("crm_ror.test_run"), "the run is not closed")
        # with the lock kept every chunk is written and the company stamped
        self.assertIs(self._run_committing(chunk_size=5, lock_held=True), True)
        self.assertTrue(self.company.crm_ror_suggestion_date)

    def test_an_error_is_not_hidden_by_the_table_drop(self):
        Suggestion = type(self.env["crm.ror.suggestion"])
        self.env.flush_all()

        def failing_statement(*args):
            self.env.cr.execute(SQL("SELECT 1 / 0"))  # aborts the transaction, as a failed INSERT would

        with (
            self.assertRaises(psycopg2.errors.DivisionByZero),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
            patch.object(Suggestion, "_insert_up_sell", failing_statement),
        ):
            self.env["crm.ror.suggestion"]._compute_company_suggestions(self.company, chunk_size=1000)

    def test_affinity_ignores_rows_with_a_null(self):
        Affinity = self.env["crm.ror.product.affinity"]

        def pairs(baskets=None):
            Affinity._compute_company_affinity(self.company, baskets=baskets)
            found = Affinity.search([("company_id", "=", self.company.id)])
            return sorted(
                (p.product_a_id.id, p.product_b_id.id, p.pair_count, round(p.lift, 6)) for p in found
            )

        whole = pairs()
        self.assertTrue(whole)
        stock = Affinity._baskets_sql(self.company)
        # a NULL sorted first would stop the parse there and count nothing after it
        with_nulls = SQL(
            "SELECT order_id, product_id FROM (%s) b UNION ALL SELECT 0, NULL UNION ALL SELECT NULL, 1", stock
        )
        self.assertEqual(pairs(with_nulls), whole)

    def test_settings_hold_in_every_chunk(self):
        """SET LOCAL ends with the transaction: each chunk after a commit runs with the settings again."""
        Suggestion = type(self.env["crm.ror.suggestion"])
        cr = self.env.cr
        seen = []
        compute_chunk = Suggestion._compute_chunk

        def recording_chunk(model, *args):
            seen.append(
                model.env.execute_query(SQL("SELECT current_setting('work_mem'), current_setting('jit')"))
            )
            return compute_chunk(model, *args)

        def commit():
            # what a commit does to the SET LOCAL settings
            cr.execute(SQL("SET LOCAL work_mem TO DEFAULT; SET LOCAL jit TO DEFAULT"))

        self.env.flush_all()
        with (
            patch.object(threading.current_thread(), "testing", False),
            patch.object(cr, "commit", commit),
            patch.object(crm_ror_suggestion, "LOCK_SQL", SQL("SELECT TRUE")),
            patch.object(Suggestion, "_compute_chunk", recording_chunk),
        ):
            self.env["crm.ror.suggestion"]._compute_company_suggestions(self.company, chunk_size=5)
        self.assertEqual(len(seen), 3)
        self.assertEqual(seen[0], [(crm_ror_suggestion.WORK_MEM, "off")])
        self.assertEqual(seen, seen[:1] * 3)
