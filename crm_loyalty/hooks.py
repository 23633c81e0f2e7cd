from odoo.tools import SQL


def uninstall_hook(env):
    """Drop the addon's indexes on stock tables (spend by customer, the KPIs')."""
    drop_stock_table_indexes(env.cr, "crm_loyalty")


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
