"""The chunks of the profile recompute as OCA queue_job jobs: the cron stages and fits, enqueues one
job per chunk and returns; the jobs give the profiles the cron would give, the switch runs once
whatever the order the jobs end in, and the cron neither stages again while they are pending nor
loses the chunks a crashed job left."""

from unittest.mock import patch

from odoo import fields
from odoo.addons.crm_ror.models.crm_ror_customer_profile import QUEUE_JOBS_PARAM, RUN_PARAM_PROFILES
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.tests import common as odoo_tests_common
from odoo.tools import SQL

from .value_common import CrmRorValueCase

# queue_job's test helpers register their patcher in odoo.tests.common.SETATTR_SOURCES, which the
# Odoo 18.0 source in use predates.
odoo_tests_common.__dict__.setdefault("SETATTR_SOURCES", {})
from odoo.addons.queue_job.tests.common import trap_jobs  # noqa: E402

# 41 customers in chunks of 10: five chunks, five jobs.
CHUNK_SIZE = 10


class TestProfileJobs(CrmRorValueCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._post_clv_story(40, "ROR job buyer")
        cls._invoice(cls.company_a, cls.p3, 30, [(1, 40.0, 0.0)], move_type="out_refund")
        cls.Profile = cls.env["crm.ror.customer.profile"]
        cls.profile_cron = cls.env.ref("crm_ror.ir_cron_crm_ror_compute_profiles")
        cls.suggestion_cron = cls.env.ref("crm_ror.ir_cron_crm_ror_suggestions")
        # the profiles the cron computes in its own process, on the same chunks: the reference of
        # every test
        cls.env["ir.config_parameter"].set_param(QUEUE_JOBS_PARAM, "False")
        cls._only_pending(cls.company_a)
        with patch.object(type(cls.Profile), "_ror_profile_chunk", CHUNK_SIZE):
            cls._run_cron()
        cls.expected = cls._figures()

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].set_param(QUEUE_JOBS_PARAM, "True")
        self._only_pending(self.company_a)
        patcher = patch.object(type(self.Profile), "_ror_profile_chunk", CHUNK_SIZE)
        patcher.start()
        self.addCleanup(patcher.stop)

    @classmethod
    def _only_pending(cls, company):
        """A run of the profile cron in which only ``company`` is left to do."""
        cls.env["res.company"].search([]).ror_computed_at = fields.Datetime.now()
        company.ror_computed_at = fields.Datetime.now().replace(year=2000)
        cls.env["ir.config_parameter"].set_param(RUN_PARAM_PROFILES, "2010-01-01 00:00:00")

    @classmethod
    def _run_cron(cls):
        """One call of the profile cron as the runner makes it: with a progress record in context."""
        cron, progress = cls.profile_cron._add_progress()
        cls.env["crm.ror.customer.profile"].with_context(
            cron.env.context, cron_id=cron.id
        )._cron_compute_profiles()
        return progress

    @classmethod
    def _figures(cls):
        return cls._profile_figures(cls.company_a)

    def _counting_switches(self):
        """(patch of ``_ror_switch`` that records the company of each switch, the list it fills)."""
        Model = type(self.Profile)
        switch = Model._ror_switch
        switches = []

        def counted(profile, company, run):
            switches.append(company)
            return switch(profile, company, run)

        return patch.object(Model, "_ror_switch", counted), switches

    def _chunks(self):
        return self.env.execute_query(
            SQL(
                "SELECT low, high, done FROM crm_ror_profile_chunk WHERE company_id = %s ORDER BY low",
                self.company_a.id,
            )
        )

    def _triggers(self, cron):
        return self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])

    def _pending(self):
        return self.company_a.ror_computed_at.year == 2000

    def _enqueue(self):
        """The cron's call that stages the company and enqueues its chunks; returns the trapped jobs."""
        with trap_jobs() as trap:
            progress = self._run_cron()
        self.assertEqual((progress.done, progress.remaining), (0, 0), "the company is left to the jobs")
        return trap.enqueued_jobs

    def test_cron_enqueues_one_job_per_chunk_and_jobs_give_the_cron_profiles(self):
        # figures the jobs must overwrite
        self.env.execute_query(
            SQL("UPDATE crm_ror_customer_profile SET revenue = -1 WHERE company_id = %s", self.company_a.id)
        )
        shown = self._figures()
        self._triggers(self.suggestion_cron).unlink()
        with trap_jobs() as trap:
            self._run_cron()
            trap.assert_jobs_count(5, only=self.Profile._ror_job_chunk)
            chunks = self._chunks()
            self.assertEqual(len(chunks), 5)
            self.assertFalse(any(done for _low, _high, done in chunks))
            for low, high, _done in chunks:
                trap.assert_enqueued_job(self.Profile._ror_job_chunk, args=(self.company_a.id, low, high))
            self.assertEqual(self._figures(), shown, "nothing is switched before the jobs ran")
            self.assertTrue(self._pending(), "the company stays pending while its jobs run")
            self._triggers(self.profile_cron).unlink()
            trap.perform_enqueued_jobs()
            # the chunk jobs that were not the last one may have enqueued a finishing job each
            trap.perform_enqueued_jobs()
        self.assertEqual(self._figures(), self.expected, "the jobs give the profiles of the cron")
        self.assertFalse(self._pending(), "the last job stamped the company")
        self.assertFalse(self._chunks(), "the switch leaves nothing staged")
        self.assertTrue(self._triggers(self.profile_cron), "the last job hands over to the cron")
        self.assertFalse(self._triggers(self.suggestion_cron))
        progress = self._run_cron()
        self.assertEqual((progress.done, progress.remaining), (0, 0))
        self.assertTrue(self._triggers(self.suggestion_cron), "no company left: the suggestions follow")
        self.assertFalse(self.env["ir.config_parameter"].get_param(RUN_PARAM_PROFILES))

    def test_switch_runs_once_whatever_order_the_last_jobs_end_in(self):
        counting, switches = self._counting_switches()
        for order in ((-2, -1), (-1, -2)):
            with self.subTest(order=order):
                self._only_pending(self.company_a)
                jobs = self._enqueue()
                self.assertEqual(len(jobs), 5)
                switches.clear()
                with counting, trap_jobs() as trap:
                    for job in jobs[:3]:
                        job.perform()
                    for index in order:
                        self.assertFalse(switches)
                        jobs[index].perform()
                    self.assertEqual(switches, [self.company_a])
                    # a finishing job (of a chunk job that could not tell it was the last) finds
                    # the run switched, and so does a chunk job run again
                    trap.perform_enqueued_jobs()
                    for job in jobs:
                        job.perform()
                    self.assertEqual(switches, [self.company_a], "one switch")
                    trap.assert_jobs_count(0, only=self.Profile._ror_job_chunk)
                self.assertEqual(self._figures(), self.expected)
                self.assertFalse(self._pending())

    def test_last_job_with_an_older_snapshot_leaves_the_switch_to_a_job(self):
        """A last chunk job whose transaction began before another job committed still sees that
        job's chunk undone: the switch job it enqueues does the switch, once, after it."""
        jobs = self._enqueue()
        counting, switches = self._counting_switches()
        with counting, trap_jobs() as trap:
            for job in jobs[:-1]:
                job.perform()
            stale = self._chunks()[-2][:2]
            with patch.object(type(self.Profile), "_ror_undone_chunks", lambda profile, company: [stale]):
                jobs[-1].perform()
            self.assertFalse(switches, "no switch on an older snapshot")
            self.assertTrue(all(done for _low, _high, done in self._chunks()))
            trap.assert_jobs_count(len(jobs), only=self.Profile._ror_job_switch)
            trap.assert_enqueued_job(self.Profile._ror_job_switch, args=(self.company_a.id,))
            trap.perform_enqueued_jobs()
        self.assertEqual(switches, [self.company_a])
        self.assertFalse(self._pending())
        self.assertEqual(self._figures(), self.expected)

    def test_job_on_a_done_chunk_does_nothing(self):
        jobs = self._enqueue()
        jobs[0].perform()
        low, high, done = self._chunks()[0]
        self.assertTrue(done)

        def results():
            return self.env.execute_query(
                SQL("SELECT count(*) FROM crm_ror_profile_result WHERE company_id = %s", self.company_a.id)
            )[0][0]

        computed = results()
        self.assertTrue(computed)
        with patch.object(type(self.Profile), "_ror_compute_chunk", side_effect=AssertionError("computed")):
            self.Profile._ror_job_chunk(self.company_a.id, low, high)
        self.assertEqual(results(), computed, "the chunk's figures are not written twice")
        self.assertEqual(self._chunks()[0], (low, high, True))

    def test_parameter_off_runs_the_chunks_in_the_cron(self):
        self.env["ir.config_parameter"].set_param(QUEUE_JOBS_PARAM, "False")
        with trap_jobs() as trap:
            progress = self._run_cron()
            trap.assert_jobs_count(0)
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        self.assertFalse(self._pending())
        self.assertEqual(self._figures(), self.expected)

    def test_no_second_staging_while_jobs_are_pending(self):
        """With the jobs stored (not trapped): a cron call meanwhile leaves the run alone."""
        Job_ = self.env["queue.job"]
        before = Job_.search([])
        self._run_cron()
        jobs = Job_.search([]) - before
        self.assertEqual(len(jobs), 5)
        self.assertEqual(set(jobs.mapped("method_name")), {"_ror_job_chunk"})
        self.assertEqual(jobs.company_id, self.company_a, "the jobs are the company's")
        run = self.Profile._ror_run(self.company_a)
        progress = self._run_cron()
        self.assertEqual((progress.done, progress.remaining), (0, 0))
        self.assertEqual(Job_.search([]) - before, jobs, "no job enqueued twice")
        self.assertEqual(self.Profile._ror_run(self.company_a), run, "the run is not staged again")
        for job in jobs:
            Job.load(self.env, job.uuid).perform()
        self.assertEqual(self._figures(), self.expected)
        self.assertFalse(self._pending())

    def test_crashed_job_is_enqueued_again_by_the_cron(self):
        jobs = self._enqueue()
        Model = type(self.Profile)
        compute_chunk = Model._ror_compute_chunk
        crashed = self._chunks()[2][:2]

        def crash_on_third(profile, company, run, population, low, high):
            if (low, high) == crashed:
                raise RuntimeError("the worker was killed")
            return compute_chunk(profile, company, run, population, low, high)

        # not assertRaises: its savepoint would roll the other jobs' chunks back, their commits keep them
        with patch.object(Model, "_ror_compute_chunk", crash_on_third), trap_jobs():
            for job in jobs:
                try:
                    job.perform()
                except RuntimeError as error:
                    self.assertEqual(str(error), "the worker was killed")
        self.assertTrue(self._pending(), "no switch with a chunk not done")
        self.assertEqual([done for _low, _high, done in self._chunks()], [True, True, False, True, True])
        with trap_jobs() as trap:
            self._run_cron()
            trap.assert_jobs_count(1)
            trap.assert_enqueued_job(self.Profile._ror_job_chunk, args=(self.company_a.id, *crashed))
            trap.perform_enqueued_jobs()
        self.assertEqual(self._figures(), self.expected)
        self.assertFalse(self._pending())

    def test_job_waits_while_a_cron_holds_the_recompute_lock(self):
        self._enqueue()  # this transaction is the cron's: it holds the recompute lock
        low, high, _done = self._chunks()[0]
        self.env.flush_all()
        # a job started meanwhile, in its own transaction
        with self.env.registry.cursor() as other:
            profiles = self.Profile.with_env(self.Profile.env(cr=other))
            with self.assertRaises(RetryableJobError) as caught:
                profiles._ror_job_chunk(self.company_a.id, low, high)
            other.rollback()
        self.assertTrue(caught.exception.ignore_retry, "waiting for the lock is no failed try")
        self.assertFalse(self._chunks()[0][2])
