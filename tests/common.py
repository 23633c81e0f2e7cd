"""Shared bases for the root-level test suite.

Odoo's metaclass gives ``test_tags`` only to test classes under ``odoo.addons.*``; these
classes live in the project's ``tests/`` package, so the tags are set here, once.
"""

from pathlib import Path

from odoo.tests import TransactionCase, tagged

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ("crm_ror", "crm_scorecard", "crm_loyalty")


@tagged("standard", "at_install")
class CrmTransactionCase(TransactionCase):
    """TransactionCase for the project's tests: each test rolls back."""
