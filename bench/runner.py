"""``python3 dev.py bench``: build the bench database, run every measure in a fresh Odoo process,
print the table and write ``bench/results-<size>.json`` and ``.md``.

Rows of the addons' code come from ``steps.py`` (run by ``child.py``); the floor (``floor.py``)
and the peer (``peer.py``) are labelled as such. A measure that fails or runs out of time is an
error or timeout row: the run goes on.
"""

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEER_VENV = ROOT / ".local" / "bench-venv"
RESULT_MARK = "BENCH-RESULT "
DEFAULT_TIMEOUT = 600
# The whole run (database included) ends within 30 minutes: a measure gets at most what is
# left of this budget, and a measure that would start past it is a timeout row.
RUN_BUDGET = 29 * 60

# name -> (letter, title), in run order: the quick measures first, so that a slow one cannot
# starve them of the budget; c reads the profiles a writes.
MEASURES = {
    "profiles": ("a", "customer-value recompute"),
    "peer": ("b", "customer-value recompute vs pandas + lifetimes"),
    "scorecard": ("e", "25-KPI scorecard"),
    "documents": ("f", "order confirmation and invoice posting"),
    "loyalty": ("g", "loyalty crons"),
    "suggestions": ("c", "suggestion recompute"),
    "leads": ("d", "daily lead cron"),
}
TARGETS = {
    "a": "≤ 2x floor",
    "b": "< 1x peer",
    "d": "≤ 20 s (200k leads)",
    "e.form": "≤ 1 s",
    "e.history": "≤ 3 s",
    "f": "≤ 1.15x stock",
}


def say(msg):
    print(f"[bench] {msg}", flush=True)


class Bench:
    def __init__(self, settings, conf, dbname, size, timeout, connect):
        self.settings, self.conf, self.db, self.size = settings, conf, dbname, size
        self.timeout, self.connect = timeout, connect
        self.deadline = time.monotonic() + RUN_BUDGET
        self.rows = []
        self.setup = None

    # ------------------------------------------------------------------------------------
    # children
    # ------------------------------------------------------------------------------------

    def child(self, step, timeout=None, **arguments):
        """Figures of ``step`` run in a fresh Odoo process: dict, or {"error": ...}."""
        cmd = [sys.executable, str(BENCH / "child.py"), str(self.conf), self.db, step, json.dumps(arguments)]
        timeout = timeout or self.budget()
        if timeout <= 0:
            return {"error": "timeout (the 30-minute run budget is spent)"}
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            self.end_queries()
            return {"error": f"timeout after {timeout:.0f} s"}
        for line in reversed(proc.stdout.splitlines()):
            if line.startswith(RESULT_MARK):
                return json.loads(line[len(RESULT_MARK) :])
        return {"error": f"no result (exit {proc.returncode}): {(proc.stderr or proc.stdout)[-1500:]}"}

    def end_queries(self):
        """A killed child leaves its query running in PostgreSQL: end it before the next measure."""
        conn = self.connect(self.settings, "postgres")
        conn.autocommit = True
        try:
            with conn.cursor() as cr:
                cr.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (self.db,),
                )
        finally:
            conn.close()

    def budget(self):
        """Seconds the next measure may take: the per-measure timeout, within the run budget."""
        left = self.deadline - time.monotonic()
        return min(self.timeout, left) if left > 5 else 0

    def add(self, letter, figure, result=None, seconds=None, queries=None, rss=None, **extra):
        row = {
            "measure": letter,
            "figure": figure,
            "seconds": seconds,
            "queries": queries,
            "rss_growth_mb": rss,
        }
        if result is not None:
            if result.get("error"):
                row["error"] = result["error"].splitlines()[0][:300] if result["error"] else "error"
                row["detail"] = result["error"]
            else:
                row.update(
                    seconds=result.get("seconds"),
                    queries=result.get("queries"),
                    rss_growth_mb=result.get("rss_growth_mb"),
                )
        row.update(extra)
        self.rows.append(row)
        shown = "error: " + row["error"] if row.get("error") else f"{row['seconds'] or 0:.2f} s"
        say(f"{letter}. {figure}: {shown}")
        return row

    def parts(self, letter, title, result, labels):
        """Rows of a measure whose child returned one dict per part."""
        if result.get("error"):
            return [self.add(letter, title, result)]
        rows = []
        for part in result.get("extra") or []:
            label = labels.get(part["part"], part["part"])
            if part.get("error"):
                rows.append(self.add(letter, f"{title}: {label}", {"error": part["error"]}))
            else:
                rows.append(
                    self.add(
                        letter,
                        f"{title}: {label}",
                        seconds=part["seconds"],
                        queries=part["queries"],
                        rss=part.get("rss_growth_mb", result.get("rss_growth_mb")),
                        part=part["part"],
                        documents=part.get("documents"),
                    )
                )
        return rows

    # ------------------------------------------------------------------------------------
    # database
    # ------------------------------------------------------------------------------------

    def stored_setup(self):
        conn = self.connect(self.settings, self.db)
        try:
            with conn.cursor() as cr:
                cr.execute("SELECT to_regclass('bench_setup') IS NOT NULL")
                if not cr.fetchone()[0]:
                    return None
                cr.execute("SELECT size, data FROM bench_setup")
                row = cr.fetchone()
                return row and row[1] if row and row[0] == self.size else None
        finally:
            conn.close()

    def build(self, install):
        """Install the addons (no demo), create the configuration, load the bulk data."""
        from load import load

        start = time.perf_counter()
        say(f"creating database {self.db} with the three addons, without demo data")
        install(self.db)
        installed = time.perf_counter()
        result = self.child("setup_records", timeout=1800, size=self.size)
        if result.get("error"):
            raise RuntimeError(f"setup of the configuration records failed: {result['error']}")
        setup = result["extra"]
        conn = self.connect(self.settings, self.db)
        try:
            loaded = load(conn, self.size, setup, say)
            setup["load"] = loaded
            with conn.cursor() as cr:
                cr.execute("CREATE TABLE bench_setup (size varchar, data jsonb)")
                cr.execute("INSERT INTO bench_setup VALUES (%s, %s)", (self.size, json.dumps(setup)))
            conn.commit()
        finally:
            conn.close()
        setup["build_seconds"] = {
            "install": installed - start,
            "setup": result["seconds"],
            "load": sum(loaded["timings"].values()),
        }
        say(
            "database ready: install {install:.0f} s, setup {setup:.0f} s, load {load:.0f} s".format(
                **setup["build_seconds"]
            )
        )
        return setup

    # ------------------------------------------------------------------------------------
    # measures
    # ------------------------------------------------------------------------------------

    def run(self, only):
        for name, (letter, title) in MEASURES.items():
            if only and only not in (name, letter):
                continue
            say(f"measure {letter}: {title}")
            self.analyze()
            getattr(self, f"measure_{name}")(letter, title)

    def analyze(self):
        """Fresh planner statistics before each measure (untimed), as autovacuum keeps them in use:
        without it, a measure right after a bulk rewrite (c after a) runs on stale estimates."""
        conn = self.connect(self.settings, self.db)
        conn.autocommit = True
        try:
            with conn.cursor() as cr:
                cr.execute("ANALYZE")
        finally:
            conn.close()

    def measure_profiles(self, letter, title):
        addon = self.add(letter, "customer-value recompute (crm_ror cron)", self.child("measure_profiles"))
        from floor import run as floor_run

        conn = self.connect(self.settings, self.db)
        try:
            seconds, rows = floor_run(conn)
        except Exception as exc:  # the floor's own failure is a row too
            floor = self.add(
                letter, "FLOOR: one SQL UPDATE … FROM", {"error": f"{type(exc).__name__}: {exc}"}
            )
        else:
            floor = self.add(letter, "FLOOR: one SQL UPDATE … FROM", seconds=seconds, queries=1, rows=rows)
        finally:
            conn.close()
        if addon.get("seconds") and floor.get("seconds"):
            addon["ratio"] = addon["seconds"] / floor["seconds"]
        addon["target"] = TARGETS["a"]

    def export_lines(self, path):
        """The peer's input: the posted invoice and credit-note lines, one CSV row each."""
        conn = self.connect(self.settings, self.db)
        try:
            with conn.cursor() as cr, open(path, "w") as out:
                cr.copy_expert(
                    """
                    COPY (SELECT m.commercial_partner_id AS partner_id, m.invoice_date AS doc_date,
                                 -l.balance AS amount,
                                 (m.move_type = 'out_invoice'
                                  AND m.payment_state IS DISTINCT FROM 'reversed') AS is_purchase
                            FROM account_move_line l JOIN account_move m ON m.id = l.move_id
                           WHERE m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund')
                             AND l.display_type = 'product' AND m.invoice_date <= CURRENT_DATE)
                    TO STDOUT WITH (FORMAT csv, HEADER)
                    """,
                    out,
                )
        finally:
            conn.close()

    def measure_peer(self, letter, title):
        figure = "PEER: CSV export + pandas/lifetimes (BG/NBD, Gamma-Gamma, quintiles)"
        try:
            python = ensure_peer_venv()
        except RuntimeError as exc:
            self.add(letter, figure, {"error": str(exc)})
            return
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "lines.csv"
            start = time.perf_counter()
            self.export_lines(path)
            exported = time.perf_counter() - start
            try:
                proc = subprocess.run(
                    [str(python), str(BENCH / "peer.py"), str(path)],
                    capture_output=True,
                    text=True,
                    timeout=max(self.budget(), 1),
                    check=False,
                )
            except subprocess.TimeoutExpired:
                self.add(letter, figure, {"error": "timeout"})
                return
        if proc.returncode:
            self.add(letter, figure, {"error": f"peer failed: {proc.stderr[-1500:]}"})
            return
        peer = json.loads(proc.stdout.strip().splitlines()[-1])
        row = self.add(
            letter,
            figure,
            seconds=exported + peer["seconds"],
            queries=1,
            rss=peer["rss_growth_mb"],
            export_seconds=exported,
            compute_seconds=peer["seconds"],
            customers=peer["customers"],
        )
        addon = next(
            (r for r in self.rows if r["measure"] == "a" and r["figure"].startswith("customer")), None
        )
        if addon and addon.get("seconds") and row["seconds"]:
            row["ratio"] = addon["seconds"] / row["seconds"]
            row["ratio_of"] = "recompute (a) / peer"
        row["target"] = TARGETS["b"]

    def measure_suggestions(self, letter, title):
        self.add(letter, "suggestion recompute (crm_ror cron)", self.child("measure_suggestions"))

    def crons(self, letter, title, parts):
        """One row per scheduled action, each run in a process of its own."""
        return [
            self.add(letter, f"{title}: {label}", self.child("measure_cron", key=key), part=key)
            for key, label in parts
        ]

    def measure_leads(self, letter, title):
        # one scheduled action does it all: departed salespeople's leads, engagement dates,
        # temperatures in chunks, then the nurture rules
        (row,) = self.crons(
            letter, "daily lead cron", (("lead_daily", "temperature, idle days, nurture, reassignment"),)
        )
        row["target"] = TARGETS["d"]

    def measure_scorecard(self, letter, title):
        form = self.add(
            letter,
            "scorecard: form load (web_read of the form view)",
            self.child("measure_scorecard_form", scorecard_id=self.setup.get("scorecard_id", 0)),
        )
        form["target"] = TARGETS["e.form"]
        (history,) = self.crons(letter, "scorecard", (("scorecard_history", "history cron, one period"),))
        history["target"] = TARGETS["e.history"]

    def measure_documents(self, letter, title):
        result = self.child(
            "measure_documents",
            size=self.size,
            ledger_program_id=self.setup["ledger_program_id"],
            stock_program_id=self.setup["stock_program_id"],
            product_ids=self.setup["product_ids"],
        )
        labels = {
            "confirm_ledger": "action_confirm, ledger on (median/order)",
            "confirm_stock": "action_confirm, stock sale_loyalty (median/order)",
            "post_ledger": "invoice posting, ledger on (median/invoice)",
            "post_stock": "invoice posting, stock sale_loyalty (median/invoice)",
        }
        rows = {r.get("part"): r for r in self.parts(letter, "documents", result, labels)}
        for what in ("confirm", "post"):
            ledger, stock = rows.get(f"{what}_ledger"), rows.get(f"{what}_stock")
            if ledger and stock and ledger.get("seconds") and stock.get("seconds"):
                ledger["ratio"] = ledger["seconds"] / stock["seconds"]
                ledger["ratio_of"] = "ledger / stock"
            if ledger:
                ledger["target"] = TARGETS["f"]

    def measure_loyalty(self, letter, title):
        parts = (
            ("loyalty_expiry", "points expiry"),
            ("loyalty_tiers", "tier re-qualification"),
            ("loyalty_coupons", "coupon campaign"),
        )
        self.crons(letter, "loyalty cron", parts)


# ----------------------------------------------------------------------------------------
# the peer's virtualenv
# ----------------------------------------------------------------------------------------


def ensure_peer_venv():
    """.local/bench-venv with bench/requirements.txt (pandas, lifetimes): the peer's, not the users'."""
    python = PEER_VENV / "bin" / "python"
    stamp = PEER_VENV / "requirements.txt"
    wanted = (BENCH / "requirements.txt").read_text()
    if python.exists() and stamp.is_file() and stamp.read_text() == wanted:
        return python
    say(f"installing the peer's pandas + lifetimes into {PEER_VENV} (bench only)")
    base = os.environ.get("PYTHON") or "python3"
    steps = [
        [base, "-m", "venv", str(PEER_VENV)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "-r",
            str(BENCH / "requirements.txt"),
        ],
    ]
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            raise RuntimeError(
                f"could not build the peer's virtualenv: {' '.join(cmd)}\n{proc.stderr[-800:]}"
            )
    stamp.write_text(wanted)
    return python


# ----------------------------------------------------------------------------------------
# output
# ----------------------------------------------------------------------------------------


def machine(conn):
    with conn.cursor() as cr:
        cr.execute("SHOW server_version")
        pg_version = cr.fetchone()[0]
    ram = 0
    try:
        with open("/proc/meminfo") as info:
            ram = int(info.readline().split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "ram_gb": round(ram, 1),
        "postgresql": pg_version,
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def fmt(value, spec):
    return "" if value is None else format(value, spec)


def table(rows, medium=None):
    """Markdown table; with the medium results, the RSS growth from medium to large per figure."""
    head = ["", "figure", "time (s)", "queries", "RSS growth (MB)", "ratio", "target"]
    if medium is not None:
        head.insert(5, "RSS medium→large (MB)")
        before = {(r["measure"], r["figure"]): r.get("rss_growth_mb") for r in medium}
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        time_cell = f"**{row['error']}**" if row.get("error") else fmt(row.get("seconds"), ".3f")
        cells = [
            row["measure"],
            row["figure"],
            time_cell,
            fmt(row.get("queries"), ",.0f"),
            fmt(row.get("rss_growth_mb"), ".0f"),
            (fmt(row.get("ratio"), ".2f") + "x") if row.get("ratio") is not None else "",
            row.get("target", ""),
        ]
        if medium is not None:
            old = before.get((row["measure"], row["figure"]))
            delta = None if old is None or row.get("rss_growth_mb") is None else row["rss_growth_mb"] - old
            cells.insert(5, fmt(delta, "+.0f") + (" (target ≤ 150)" if delta is not None else ""))
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def write_results(size, rows, info, setup, folder):
    rows = sorted(rows, key=lambda row: row["measure"])  # stable: a to g, parts in run order
    medium = None
    if size.startswith("large") and (folder / "results-medium.json").is_file():
        medium = json.loads((folder / "results-medium.json").read_text()).get("rows")
    counts = setup.get("load", {})
    payload = {
        "size": size,
        "machine": info,
        "data": counts,
        "build_seconds": setup.get("build_seconds"),
        "rows": rows,
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"results-{size}.json").write_text(json.dumps(payload, indent=1, default=str) + "\n")
    text = table(rows, medium)
    header = (
        f"Bench `{size}` — {info['date']}, {info['cores']} cores, {info['ram_gb']} GB RAM, "
        f"PostgreSQL {info['postgresql']}, Python {info['python']}.\n"
        f"Data: {counts.get('invoices', 0):,} invoices, {counts.get('credit_notes', 0):,} credit notes, "
        f"{counts.get('one_time_share', 0):.0%} one-time buyers.\n"
    )
    (folder / f"results-{size}.md").write_text(header + "\n" + text + "\n")
    print()
    print(header)
    print(text)


def main(
    settings,
    conf,
    install,
    connect,
    drop,
    exists,
    size,
    only=None,
    dbname=None,
    keep=False,
    timeout=None,
    results=None,
):
    sys.path.insert(0, str(BENCH))
    db = dbname or f"bench_{size}_{uuid.uuid4().hex[:8]}"
    keep = keep or bool(dbname)
    bench = Bench(settings, conf, db, size, timeout or DEFAULT_TIMEOUT, connect)
    try:
        setup = bench.stored_setup() if exists(settings, db) else None
        if setup:
            say(f"reusing the {size} bench database {db}")
        else:
            if exists(settings, db):
                drop(settings, db)
            setup = bench.build(install)
        bench.setup = setup
        bench.run(only)
        conn = connect(settings, db)
        try:
            info = machine(conn)
        finally:
            conn.close()
        # a single measure on a kept database goes to results-<size>-<measure>.*
        label = f"{size}-{MEASURES.get(only, (only,))[0]}" if only else size
        write_results(label, bench.rows, info, setup, Path(results or BENCH))
    finally:
        if not keep:
            drop(settings, db)
    return 0 if bench.rows else 1
