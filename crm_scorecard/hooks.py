from odoo.tools import SQL


def uninstall_hook(env):
    """Remove the scorecards before the module's data: their lines hold the KPI definitions with a
    restricting foreign key (a KPI in use cannot be deleted by hand), so Odoo's removal of the
    shipped KPIs would fail on every scorecard made by users or by the demo story. The lines,
    values, bands and manual values go with their scorecard (cascading foreign keys). Then the
    catalog's indexes on stock tables."""
    env.cr.execute("DELETE FROM crm_scorecard")
    drop_stock_table_indexes(env.cr, "crm_scorecard")


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
