"""Install, upgrade and uninstall the addons in databases of their own.

Each scenario runs Odoo in a subprocess against a new database on the suite's PostgreSQL,
the way an administrator would from the Apps menu or the command line.
"""

import re
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest

import odoo

from ..common import ADDONS

pytestmark = pytest.mark.integration

# Stock records that uninstalling one of our addons must leave as they were.
STOCK_TABLES = (
    "res_partner",
    "crm_lead",
    "crm_stage",
    "crm_team",
    "sale_order",
    "sale_order_line",
    "account_move",
    "product_template",
    "loyalty_program",
    "loyalty_card",
    "loyalty_history",
    "loyalty_rule",
    "loyalty_reward",
)
# Child tables whose rows go with a parent record: rows of our addons' own demo parents are ours.
PARENT_LINKS = {
    "sale_order_line": ("order_id", "sale.order"),
    "loyalty_rule": ("program_id", "loyalty.program"),
    "loyalty_reward": ("program_id", "loyalty.program"),
    "loyalty_history": ("card_id", "loyalty.card"),
    "loyalty_card": ("program_id", "loyalty.program"),
}
ERROR_LINE = re.compile(r"^\S+ \S+ \d+ (?:ERROR|CRITICAL) .*$", re.M)


def _connect(dbname):
    cfg = odoo.tools.config
    return psycopg2.connect(
        host=cfg["db_host"] or None,
        port=cfg["db_port"] or None,
        user=cfg["db_user"] or None,
        password=cfg["db_password"] or None,
        dbname=dbname,
    )


def _odoo(dbname, *args, command=None, stdin=None):
    cmd = [sys.executable, "-m", "odoo", *([command] if command else [])]
    cmd += ["-c", odoo.tools.config.rcfile, "-d", dbname, "--no-http", *args]
    result = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False, timeout=1800)
    output = result.stdout + result.stderr
    errors = ERROR_LINE.findall(output)
    assert result.returncode == 0 and not errors, f"{' '.join(cmd)} failed:\n{errors}\n{output[-6000:]}"
    return output


def _drop(dbname):
    conn = _connect("postgres")
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (dbname,))
        cr.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
    conn.close()


def _module_states(dbname):
    with _connect(dbname) as conn, conn.cursor() as cr:
        cr.execute("SELECT name, state FROM ir_module_module WHERE name = ANY(%s)", (list(ADDONS),))
        return dict(cr.fetchall())


def _fingerprint(dbname):
    """Row counts of the stock tables (less our addons' own demo records), and xml ids per
    module and model of our addons."""
    with _connect(dbname) as conn, conn.cursor() as cr:
        counts = {}
        for table in STOCK_TABLES:
            cr.execute("SELECT to_regclass(%s)", (table,))
            if cr.fetchone()[0]:
                # table names and links are the constants above; model names follow Odoo's rule
                own = "SELECT res_id FROM ir_model_data WHERE module = ANY(%(addons)s) AND model = %(model)s"
                query = f"SELECT count(*) FROM {table} WHERE id NOT IN ({own})"
                params = {"addons": list(ADDONS), "model": table.replace("_", ".")}
                if table in PARENT_LINKS:
                    column, params["parent"] = PARENT_LINKS[table]
                    parent_own = own.replace("%(model)s", "%(parent)s")
                    query += f" AND ({column} IS NULL OR {column} NOT IN ({parent_own}))"
                cr.execute(query, params)
                counts[table] = cr.fetchone()[0]
        cr.execute(
            "SELECT module, model, count(*) FROM ir_model_data WHERE module = ANY(%s) GROUP BY module, model",
            (list(ADDONS),),
        )
        xmlids = {(module, model): count for module, model, count in cr.fetchall()}
    return counts, xmlids


def _own_tables(db, addon):
    """The tables named after the addon that are still in the database."""
    with _connect(db) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE %s",
            (f"{addon}\\_%",),
        )
        return sorted(name for (name,) in cr.fetchall())


def _own_indexes(db, addon):
    """The indexes named after the addon that are still in the database: those its models make on
    stock tables in ``init()`` carry its name (its own tables go with their indexes)."""
    with _connect(db) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE %s",
            (f"%{addon}%",),
        )
        return sorted(name for (name,) in cr.fetchall())


@pytest.fixture
def new_db():
    names = []

    def make(label):
        name = f"crm_it_{label}_{uuid.uuid4().hex[:6]}"
        names.append(name)
        return name

    yield make
    for name in names:
        _drop(name)


def test_each_addon_installs_alone_with_demo_data(new_db):
    dbs = {addon: new_db(addon) for addon in ADDONS}

    def install(addon):
        return _odoo(dbs[addon], "-i", addon, "--stop-after-init")

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(install, ADDONS))
    for addon in ADDONS:
        states = _module_states(dbs[addon])
        assert states[addon] == "installed"
        others = {name for name, state in states.items() if state == "installed"} - {addon}
        assert not others, f"{addon} pulled in {others}: the addons must not depend on each other"


def test_all_addons_together_upgrade_and_uninstall(new_db):
    db = new_db("all")
    _odoo(db, "-i", ",".join(ADDONS), "--stop-after-init")
    assert set(_module_states(db).values()) == {"installed"}
    installed = _fingerprint(db)

    # `-u` of all three changes nothing: no record made twice, none lost.
    _odoo(db, "-u", ",".join(ADDONS), "--stop-after-init")
    assert _fingerprint(db) == installed

    # Uninstalling each addon in turn leaves stock crm/sale/loyalty records intact.
    stock_counts = installed[0]
    for addon in ADDONS:
        _odoo(
            db,
            command="shell",
            stdin=(
                f"env['ir.module.module'].search([('name', '=', {addon!r})]).button_immediate_uninstall()\n"
                "env.cr.commit()\n"
            ),
        )
        assert _module_states(db)[addon] == "uninstalled"
        counts, xmlids = _fingerprint(db)
        assert counts == stock_counts, f"uninstalling {addon} changed stock records"
        assert not [key for key in xmlids if key[0] == addon], f"{addon} left records behind"
        assert not _own_tables(db, addon), f"{addon} left tables behind: {_own_tables(db, addon)}"
        assert not _own_indexes(db, addon), f"{addon} left indexes behind: {_own_indexes(db, addon)}"
