def uninstall_hook(env):
    """Remove the scorecards before the module's data: their lines hold the KPI definitions with a
    restricting foreign key (a KPI in use cannot be deleted by hand), so Odoo's removal of the
    shipped KPIs would fail on every scorecard made by users or by the demo story. The lines,
    values, bands and manual values go with their scorecard (cascading foreign keys)."""
    env.cr.execute("DELETE FROM crm_scorecard")
