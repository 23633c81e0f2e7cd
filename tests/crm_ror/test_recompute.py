"""The recompute at scale: set-wise writes, a company per cron batch, the button, no overlap."""

from unittest.mock import patch

from odoo import fields
from odoo.tools import SQL

from .value_common import CrmRorScenarioCase


class TestRecompute(CrmRorScenarioCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Profile = cls.env["crm.ror.customer.profile"]
        cls.profile_cron = cls.env.ref("crm_ror.ir_cron_crm_ror_compute_profiles")
        cls.suggestion_cron = cls.env.ref("crm_ror.ir_cron_crm_ror_suggestions")
        cls.manager = cls.env["res.users"].create(
            {
                "name": "ROR recompute manager",
                "login": "ror_recompute_manager",
                "groups_id": [(6, 0, [cls.env.ref("sales_team.group_sale_manager").id])],
            }
        )

    def _triggers(self, cron):
        return self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])

    def _run_cron_batch(self, cron, method):
        """One call of the cron's code as the runner makes it: with a progress record in context."""
        cron, progress = cron._add_progress()
        method(self.env[cron.model_id.model].with_context(cron.env.context, cron_id=cron.id))
        return progress

    def test_profiles_are_written_without_orm_writes(self):
        Model = type(self.Profile)
        with (
            patch.object(Model, "write", side_effect=AssertionError("ORM write")),
            patch.object(Model, "create", side_effect=AssertionError("ORM create")),
        ):
            self.Profile._compute_profiles(self.company_a | self.company_b)
        profile = self._profile(self.p1)
        self.assertAlmostEqual(profile.revenue, 285.0)
        self.assertEqual(profile.user_id, self.p1.user_id)
        self.assertTrue(profile.has_ror)
        self.assertFalse(self._profile(self.p2).has_ror_12m)
        # A customer without any document any more loses its profile; a new one gets one.
        newcomer = self.env["res.partner"].create({"name": "ROR Late Buyer", "user_id": self.env.uid})
        self._invoice(self.company_a, newcomer, 3, [(1, 10.0, 0.0)])
        self.env["account.move"].search([("partner_id", "=", self.p6.id)]).button_draft()
        self.Profile._compute_profiles(self.company_a)
        self.assertFalse(self._profile(self.p6))
        self.assertEqual(self._profile(newcomer).user_id, self.env.user)
        self.assertEqual(self._profile(newcomer).purchase_count, 1)

    def test_button_schedules_the_cron_and_returns(self):
        before = self._profile(self.p1).computed_at
        self._triggers(self.profile_cron).unlink()
        action = self.Profile.with_user(self.manager).with_company(self.company_a).action_recompute()
        self.assertEqual(action["tag"], "display_notification")
        self.assertTrue(self._triggers(self.profile_cron))
        self.assertEqual(self._profile(self.p1).computed_at, before, "nothing computed in the request")
        self._triggers(self.suggestion_cron).unlink()
        action = self.env["crm.ror.suggestion"].with_user(self.manager).action_recompute()
        self.assertEqual(action["tag"], "display_notification")
        self.assertTrue(self._triggers(self.suggestion_cron))

    def test_cron_computes_one_company_per_batch_then_triggers_suggestions(self):
        companies = self.env["res.company"].search([])
        companies.ror_computed_at = fields.Datetime.now().replace(year=2000)
        self.env["ir.config_parameter"].set_param("crm_ror.profile_run_start", False)
        self._triggers(self.suggestion_cron).unlink()
        batches = []
        for _index in range(len(companies) + 1):
            progress = self._run_cron_batch(self.profile_cron, lambda model: model._cron_compute_profiles())
            batches.append((progress.done, progress.remaining))
            stale = companies.filtered(lambda c: c.ror_computed_at.year == 2000)
            if not progress.remaining:
                break
            self.assertEqual(len(stale), progress.remaining)
            self.assertFalse(self._triggers(self.suggestion_cron))
        self.assertEqual(batches[0], (1, len(companies) - 1))
        self.assertEqual(batches[-1], (1, 0))
        self.assertEqual(len(batches), len(companies))
        self.assertFalse(companies.filtered(lambda c: c.ror_computed_at.year == 2000))
        self.assertFalse(self.env["ir.config_parameter"].get_param("crm_ror.profile_run_start"))
        self.assertTrue(self._triggers(self.suggestion_cron), "the suggestions follow the profiles")

    def test_crons_never_run_over_each_other(self):
        self.company_a.ror_computed_at = fields.Datetime.now().replace(year=2000)
        before = self._profile(self.p1).computed_at
        self.env.flush_all()
        # Another worker holds the recompute lock (in its own transaction).
        with self.env.registry.cursor() as other:
            other.execute(SQL("SELECT pg_advisory_xact_lock(hashtext('crm_ror.value_recompute'))"))
            for cron, method in (
                (self.profile_cron, lambda model: model._cron_compute_profiles()),
                (self.suggestion_cron, lambda model: model._cron_compute_suggestions()),
            ):
                self._triggers(cron).unlink()
                progress = self._run_cron_batch(cron, method)
                self.assertEqual((progress.done, progress.remaining), (0, 0))
                self.assertTrue(self._triggers(cron), "it tries again later")
            other.rollback()
        self.assertEqual(self._profile(self.p1).computed_at, before)
        self.assertEqual(self.company_a.ror_computed_at.year, 2000)
