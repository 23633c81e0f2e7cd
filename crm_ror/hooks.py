from odoo.tools import SQL

from .models.crm_ror_customer_profile import COST_TABLE, RESULT_TABLE, RUN_TABLE, STAGE_TABLE


def uninstall_hook(env):
    """Drop the recompute's staging tables: they are made by ``init()`` of the profile model, not
    by a model of their own, so Odoo's uninstall would leave them behind."""
    for table in (COST_TABLE, RESULT_TABLE, STAGE_TABLE, RUN_TABLE):
        env.cr.execute(SQL("DROP TABLE IF EXISTS %s CASCADE", table))
