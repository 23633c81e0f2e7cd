"""Shared bases for the root-level test suite.

Odoo's metaclass gives ``test_tags`` only to test classes under ``odoo.addons.*``; these
classes live in the project's ``tests/`` package, so the tags are set here, once.
"""

import importlib.util
from pathlib import Path

from odoo.tests import TransactionCase, tagged

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ("crm_ror", "crm_scorecard", "crm_loyalty")


def load_dev():
    """The project's ``dev.py`` as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("crm_dev_script", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
