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

    def _queries(self, function, *args, **kwargs):
        """The number of queries ``function(*args, **kwargs)`` makes, the pending writes flushed
        before and after (the ORM would send them later, to somebody else's count)."""
        self.env.flush_all()
        start = self.env.cr.sql_log_count
        function(*args, **kwargs)
        self.env.flush_all()
        return self.env.cr.sql_log_count - start
