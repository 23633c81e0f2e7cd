"""Smoke test of `python3 dev.py bench --size small`: every measure gives a row with figures.

It runs the bench end to end in a subprocess, with its own throwaway database on the suite's
PostgreSQL, and writes its results to a temporary folder (not bench/). Not a timed test: the
figures only have to exist and be positive.
"""

import json
import os
import subprocess
import sys

import pytest

import odoo

from ..common import ROOT, load_dev

pytestmark = pytest.mark.integration

LETTERS = set("abcdefg")


def test_bench_small_gives_every_measure_a_row_with_positive_figures(tmp_path):
    cfg = odoo.tools.config
    env = dict(
        os.environ,
        ODOO_DB_HOST=cfg["db_host"] or "127.0.0.1",
        ODOO_DB_PORT=str(cfg["db_port"] or 5432),
        ODOO_DB_USER=cfg["db_user"] or "odoo",
        ODOO_DB_PASSWORD=cfg["db_password"] or "",
    )
    dbname = f"bench_smoke_{os.getpid()}"
    cmd = [sys.executable, str(ROOT / "dev.py"), "bench", "--size", "small", "--results", str(tmp_path)]
    cmd += ["--db", dbname]  # kept for the layout check below, then dropped
    dev = load_dev()
    settings = {name: env[f"ODOO_DB_{name.upper()}"] for name in ("host", "port", "user", "password")}
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800, check=False)
        layout = _backward_rows(dev.connect(settings, dbname)) if result.returncode == 0 else None
    finally:
        dev.drop_database(settings, dbname)  # ends a timed-out bench's connections first
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    payload = json.loads((tmp_path / "results-small.json").read_text())
    rows = payload["rows"]

    assert {row["measure"] for row in rows} == LETTERS, output[-3000:]
    errors = [
        f"{row['measure']}. {row['figure']}: {row.get('detail') or row['error']}"
        for row in rows
        if row.get("error")
    ]
    assert not errors, "\n".join(errors)
    for row in rows:
        assert row["seconds"] > 0, row
        assert row["queries"] > 0, row
        # peak RSS growth: none for the floor (it runs in PostgreSQL), never negative elsewhere
        assert row["rss_growth_mb"] is None or row["rss_growth_mb"] >= 0, row
    figures = [row["figure"] for row in rows]
    assert any(f.startswith("FLOOR") for f in figures) and any(f.startswith("PEER") for f in figures)
    # the ratios the targets are read against
    assert next(r for r in rows if r["measure"] == "a" and not r["figure"].startswith("FLOOR"))["ratio"] > 0
    assert next(r for r in rows if r["measure"] == "b")["ratio"] > 0
    assert all(r["ratio"] > 0 for r in rows if r["measure"] == "f" and "ledger" in r["figure"])

    data = payload["data"]
    assert data["invoices"] > 0 and data["credit_notes"] > 0
    # the purchase process makes about half of the customers one-time buyers
    assert 0.3 < data["one_time_share"] < 0.7
    table = (tmp_path / "results-small.md").read_text()
    assert f"{payload['machine']['cores']} cores" in table and "PostgreSQL" in table
    # The history's ids follow its dates, as in a database that grew day by day.
    assert layout == {"account_move": 0, "sale_order": 0, "crm_lead": 0}, layout


# Per table, the loaded history's rows and the date that grows with their ids in a real database.
HISTORY = {
    "account_move": ("invoice_date", "name LIKE 'BHIS/%' OR name LIKE 'RBHIS/%'"),
    "sale_order": ("date_order", "name LIKE 'BS%'"),
    "crm_lead": ("create_date", "name LIKE 'Bench lead %'"),
}


def _backward_rows(conn):
    """{table: loaded rows dated before the row of the next lower id}, read on ``conn`` (closed after)."""
    try:
        with conn.cursor() as cr:
            counts = {}
            for table, (column, loaded) in HISTORY.items():
                cr.execute(
                    f"""
                    SELECT count(*) FILTER (WHERE day < previous_day)
                      FROM (SELECT {column} AS day, lag({column}) OVER (ORDER BY id) AS previous_day
                              FROM {table} WHERE {loaded}) history
                    """
                )
                counts[table] = cr.fetchone()[0]
            return counts
    finally:
        conn.close()
