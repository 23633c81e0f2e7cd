from odoo.tools import SQL

from .models.crm_ror_customer_profile import CHUNK_TABLE, COST_TABLE, RESULT_TABLE, RUN_TABLE, STAGE_TABLE


def uninstall_hook(env):
    """Drop the recompute's staging tables: they are made by ``init()`` of the profile model, not
    by a model of their own, so Odoo's uninstall would leave them behind; and the KPIs' indexes on
    stock tables."""
    for table in (COST_TABLE, RESULT_TABLE, STAGE_TABLE, CHUNK_TABLE, RUN_TABLE):
        env.cr.execute(SQL("DROP TABLE IF EXISTS %s CASCADE", table))
    drop_stock_table_indexes(env.cr, "crm_ror")


def drop_stock_table_indexes(cr, addon):
    """Drop the indexes the addon's ``init()`` made on tables of other modules (named after the
    addon): Odoo drops an addon's tables and columns at uninstall, not such indexes, which would
    slow every write to those tables for good. Indexes backing a constraint are left to Odoo."""
    cr.execute(
        SQL(
            """
            SELECT i.relname FROM pg_index x
              JOIN pg_class i ON i.oid = x.indexrelid
              JOIN pg_class t ON t.oid = x.indrelid
             WHERE i.relname LIKE %(name)s AND t.relname NOT LIKE %(own)s
               AND t.relnamespace = current_schema()::regnamespace
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            """,
            name=f"%{addon}%",
            own=f"{addon}\\_%",
        )
    )
    for (name,) in cr.fetchall():
        cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))
