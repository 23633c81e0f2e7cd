"""Programs: the ledger by default from the web client, multipliers only with the ledger."""

import os
from unittest.mock import patch

from odoo import Command, tools
from odoo.addons.crm_loyalty.models.loyalty_program import FORCE_LEDGER_ENV
from odoo.exceptions import ValidationError
from odoo.tests import Form

from ..common import CrmTransactionCase


class TestProgramDefaults(CrmTransactionCase):
    def test_web_client_programs_keep_the_ledger(self):
        action = self.env.ref("loyalty.loyalty_program_discount_loyalty_action")
        context = dict(self.env.context, **eval(action.context))
        form = Form(self.env["loyalty.program"].with_context(context))
        form.name = "Shop points"
        form.program_type = "loyalty"
        program = form.save()
        self.assertTrue(program.ledger_enabled, "main: off by default")
        # other program types stay without (the ledger is for loyalty cards only)
        form = Form(self.env["loyalty.program"].with_context(context))
        form.name = "Promo"
        form.program_type = "promotion"
        self.assertFalse(form.save().ledger_enabled)
        # templates of the web client too
        template = self.env["loyalty.program"].with_context(context).create_from_template("loyalty")
        self.assertTrue(self.env["loyalty.program"].browse(template["res_id"]).ledger_enabled)
        # the ORM default stays off: stock flows and tests keep stock behaviour
        self.assertFalse(
            self.env["loyalty.program"].create({"name": "ORM", "program_type": "loyalty"}).ledger_enabled
        )

    def test_tier_multipliers_need_the_ledger(self):
        program = self.env["loyalty.program"].create({"name": "No ledger", "program_type": "loyalty"})
        with self.assertRaises(ValidationError):
            program.crm_tier_ids = [Command.create({"name": "Gold", "min_amount": 10, "multiplier": 2})]
        program.crm_tier_ids = [Command.create({"name": "Gold", "min_amount": 10, "multiplier": 1})]
        with self.assertRaises(ValidationError):
            program.crm_tier_ids.multiplier = 1.5
        program.ledger_enabled = True
        program.crm_tier_ids.multiplier = 1.5
        with self.assertRaises(ValidationError):
            program.ledger_enabled = False  # (refused anyway once lines are posted)

    def test_the_forced_ledger_flag_of_test_runs(self):
        # dev.py stock-tests --forced-ledger: the server's environment, read in test mode only
        Program = self.env["loyalty.program"]
        with patch.dict(os.environ, {FORCE_LEDGER_ENV: "1"}):
            forced = Program.create(
                [
                    {"name": "Forced", "program_type": "loyalty"},
                    {"name": "Promo", "program_type": "promotion"},
                    {"name": "Opted out", "program_type": "loyalty", "ledger_enabled": False},
                ]
            )
            self.assertEqual(forced.mapped("ledger_enabled"), [True, False, True])
            forced[1].program_type = "loyalty"
            self.assertTrue(forced[1].ledger_enabled, "a program turned into loyalty cards gets it too")
            with patch.dict(tools.config.options, {"test_enable": False}):
                self.assertFalse(Program.create({"name": "Live", "program_type": "loyalty"}).ledger_enabled)
        with patch.dict(os.environ, {FORCE_LEDGER_ENV: ""}):
            self.assertFalse(Program.create({"name": "Not forced", "program_type": "loyalty"}).ledger_enabled)
