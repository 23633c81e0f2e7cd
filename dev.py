#!/usr/bin/env python3
"""One entry point for the project's setup, run, test and lint commands.

    python3 dev.py setup        virtualenv with Odoo 18's and the project's dependencies (and Chromium)
    python3 dev.py run          database with demo data and the three addons, web client on :8069
    python3 dev.py test         the pytest-odoo suite against a throwaway database
    python3 dev.py stock-tests  Odoo's own crm, sale_crm, loyalty and sale_loyalty suites, our addons installed
    python3 dev.py lint         README.rst freshness, ruff and pylint-odoo
    python3 dev.py readme       each addon's README.rst from its readme/ fragments
    python3 dev.py pot          regenerate every addon's i18n/<addon>.pot
    python3 dev.py screenshots  the main screens of the demo database, into docs/screenshots/
    python3 dev.py stop         stop the project-local PostgreSQL cluster

Only the standard library is used here: `setup` runs before the virtualenv exists, and
the other commands re-execute themselves with the virtualenv's interpreter.
See README.md for the settings (environment variables) each command reads.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STATE = ROOT / ".local"  # cluster, configuration, filestore, logs: all ignored by git
PG_DATA = STATE / "pgdata"
ODOO_CONF = STATE / "odoo.conf"
ODOO_SRC_RECORD = VENV / "odoo-src"

ADDONS = ("crm_ror", "crm_scorecard", "crm_loyalty")
# Optional modules our addons detect at runtime: the test databases have them installed, so the
# code paths behind them run in CI (crm_ror's campaigns write mailing lists and read traces;
# crm_scorecard's department scorecards link hr.department softly; crm_ror's recompute runs its
# chunks as OCA queue_job jobs).
TEST_MODULES = ("mass_mailing", "hr", "queue_job")
MIN_PYTHON = (3, 11)
# `dev.py test` without pytest arguments runs the suite on this many pytest-xdist workers, each on
# its own copy of the test database, a test class (or module of functions) per worker at a time.
TEST_WORKERS = 2

# Where an Odoo 18.0 source folder is looked for, in this order, when ODOO_SRC is not set.
ODOO_SRC_CANDIDATES = (
    ROOT.parent / "odoo-18.0",
    ROOT.parent / "odoo",
    Path("/opt/odoo/18.0"),
    Path("/opt/odoo"),
    Path.home() / ".cache" / "odoo-src" / "18.0",
    Path("/usr/lib/python3/dist-packages"),  # Debian's odoo package
)
ODOO_ARCHIVE_URL = "https://nightly.odoo.com/18.0/nightly/src/odoo_18.0.latest.tar.gz"
ODOO_ARCHIVE_DEST = Path.home() / ".cache" / "odoo-src" / "18.0"

DEFAULT_PG_PORT = 5433  # the project-local cluster; 5432 stays free for a system server
DEFAULT_DB_USER = "odoo"


class DevError(Exception):
    """A failure with a message for the user; printed without a traceback."""


def say(msg):
    print(f"[dev] {msg}", flush=True)


def run_cmd(cmd, check=True, **kwargs):
    result = subprocess.run([str(c) for c in cmd], check=False, **kwargs)
    if check and result.returncode:
        raise DevError(f"command failed ({result.returncode}): {' '.join(map(str, cmd))}")
    return result


# --------------------------------------------------------------------------------------
# Odoo source
# --------------------------------------------------------------------------------------


def is_odoo18_source(path):
    release = Path(path) / "odoo" / "release.py"
    base = Path(path) / "odoo" / "addons" / "base" / "__manifest__.py"
    if not (release.is_file() and base.is_file()):
        return False
    return re.search(r"^version_info = \(18, 0,", release.read_text(), re.M) is not None


def odoo_addons_paths(src):
    """Odoo's git layout keeps most addons in addons/, its release archives in odoo/addons/."""
    paths = []
    if (src / "addons" / "crm" / "__manifest__.py").is_file():
        paths.append(src / "addons")
    paths.append(src / "odoo" / "addons")
    return paths


def download_odoo_source():
    say(f"no Odoo 18.0 source found; downloading the official archive {ODOO_ARCHIVE_URL}")
    ODOO_ARCHIVE_DEST.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ODOO_ARCHIVE_DEST.parent) as tmp:
        archive = Path(tmp) / "odoo.tar.gz"
        try:
            with urllib.request.urlopen(ODOO_ARCHIVE_URL, timeout=60) as resp, open(archive, "wb") as out:
                shutil.copyfileobj(resp, out)
        except OSError as exc:
            return None, str(exc)
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        tops = [p for p in Path(tmp).iterdir() if p.is_dir() and is_odoo18_source(p)]
        if not tops:
            return None, "the archive holds no Odoo 18.0 source"
        shutil.rmtree(ODOO_ARCHIVE_DEST, ignore_errors=True)
        tops[0].rename(ODOO_ARCHIVE_DEST)
    return ODOO_ARCHIVE_DEST, None


def find_odoo_source():
    env_src = os.environ.get("ODOO_SRC")
    if env_src:
        if is_odoo18_source(env_src):
            return Path(env_src).resolve()
        raise DevError(f"ODOO_SRC={env_src} is not an Odoo 18.0 source folder (no odoo/release.py of 18.0).")
    for candidate in ODOO_SRC_CANDIDATES:
        if is_odoo18_source(candidate):
            return candidate.resolve()
    src, why = download_odoo_source()
    if src:
        return src
    places = "\n  ".join(str(c) for c in ODOO_SRC_CANDIDATES)
    raise DevError(
        "Odoo 18.0 source not found, and the official archive could not be fetched "
        f"({why}).\nPut an Odoo 18.0 Community source folder (the one holding odoo-bin) at one of:\n"
        f"  {places}\nor set ODOO_SRC=/path/to/odoo-18.0, then run setup again."
    )


# --------------------------------------------------------------------------------------
# setup
# --------------------------------------------------------------------------------------


def python_version(exe):
    try:
        out = subprocess.run(
            [exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return tuple(int(x) for x in out.split("."))


def find_python():
    names = (
        [os.environ["PYTHON"]]
        if os.environ.get("PYTHON")
        else ["python3.12", "python3.11", "python3", sys.executable]
    )
    for name in names:
        exe = shutil.which(name) or (name if Path(name).is_file() else None)
        version = exe and python_version(exe)
        if version and version >= MIN_PYTHON:
            return exe, version
    raise DevError(
        "Python 3.11 or newer is needed: install python3.11 or python3.12, or set PYTHON=/path/to/python3."
    )


def ensure_libpq():
    """psycopg2 builds against libpq: install its headers on Debian when we may."""
    if shutil.which("pg_config"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing libpq-dev (psycopg2 builds against it)")
        run_cmd(["apt-get", "update", "-qq"])
        run_cmd(
            ["apt-get", "install", "-y", "-qq", "libpq-dev"],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        return
    raise DevError(
        "pg_config is missing: install libpq-dev (sudo apt-get install libpq-dev), then run setup again."
    )


# The executables Odoo's HttpCase looks for (odoo/tests/common.py, _find_executable on Linux).
BROWSERS = ("google-chrome", "chromium", "chromium-browser", "google-chrome-stable")


def ensure_debian_package(package, executables, purpose, without):
    """Install Debian's ``package`` when none of ``executables`` is on the PATH and we may (root,
    apt-get); otherwise say what is lost (``without``) and how to install it."""
    if any(shutil.which(name) for name in executables):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say(f"installing Debian's {package} ({purpose})")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run_cmd(["apt-get", "update", "-qq"], env=env)
        run_cmd(["apt-get", "install", "-y", "-qq", package], env=env)
        return
    say(f"{without}: install it (sudo apt-get install {package}), then run setup again.")


def browser_executable():
    """The path of the first browser of ``BROWSERS`` on the PATH, as Odoo's HttpCase picks it, or None."""
    return next(filter(None, map(shutil.which, BROWSERS)), None)


def ensure_chromium():
    """Odoo's tours need Chromium; without it they are skipped and a suite only looks green."""
    ensure_debian_package(
        "chromium",
        BROWSERS,
        "the browser tests run in it, headless",
        "Chromium is missing, so the browser tests cannot run",
    )


def ensure_wkhtmltopdf():
    """Odoo prints its PDF reports (the scorecard's among them) with wkhtmltopdf; without it the web
    client offers HTML only."""
    ensure_debian_package(
        "wkhtmltopdf",
        ("wkhtmltopdf",),
        "Odoo prints PDF reports with it",
        "wkhtmltopdf is missing, so Odoo prints reports as HTML only",
    )


def venv_python():
    return VENV / "bin" / "python"


def split_requirements(path):
    """(Python requirements, OCA addon wheels) of a requirements file: the ``odoo-addon-*`` wheels
    depend on an ``odoo`` distribution that a source checkout does not provide, so they are
    installed apart, without their dependencies."""
    python_lines, addon_lines = [], []
    for text in path.read_text().splitlines():
        line = text.split("#", 1)[0].strip()
        if line:
            (addon_lines if line.lower().startswith("odoo-addon-") else python_lines).append(line)
    return python_lines, addon_lines


def wheel_addons_path():
    """Where pip puts the OCA addons' wheels (site-packages/odoo/addons), when there are any."""
    found = sorted(VENV.glob("lib/python3*/site-packages/odoo/addons"))
    return [found[0]] if found else []


def cmd_setup(args):
    src = find_odoo_source()
    say(f"Odoo source: {src}")
    exe, version = find_python()
    if venv_python().exists() and python_version(str(venv_python())) is None:
        shutil.rmtree(VENV)
    if not venv_python().exists():
        say(f"creating {VENV} with Python {version[0]}.{version[1]} ({exe})")
        run_cmd([exe, "-m", "venv", VENV])
    ensure_libpq()
    ensure_chromium()
    ensure_wkhtmltopdf()
    pip = [venv_python(), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    run_cmd([*pip, "--upgrade", "pip", "setuptools", "wheel"])
    say("installing Odoo 18's and the project's Python dependencies (requirements.txt)")
    python_lines, addon_lines = split_requirements(ROOT / "requirements.txt")
    with tempfile.TemporaryDirectory() as tmp:
        python_reqs = Path(tmp) / "requirements.txt"
        python_reqs.write_text("\n".join(python_lines) + "\n")
        run_cmd([*pip, "-r", python_reqs])
    if addon_lines:
        run_cmd([*pip, "--no-deps", *addon_lines])
    # Odoo becomes importable through a .pth file: its source stays where it is, untouched.
    site = subprocess.run(
        [venv_python(), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "odoo18-source.pth").write_text(f"{src}\n")
    ODOO_SRC_RECORD.write_text(f"{src}\n")
    check = subprocess.run(
        [venv_python(), "-c", "import odoo.release as r; print(r.version)"],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode or not check.stdout.startswith("18.0"):
        raise DevError(f"Odoo is not importable from the virtualenv:\n{check.stderr.strip()}")
    say(f"ready: Odoo {check.stdout.strip()} in {VENV}")


# --------------------------------------------------------------------------------------
# PostgreSQL: a reachable server (ODOO_DB_HOST) or the project-local cluster
# --------------------------------------------------------------------------------------


def db_settings():
    if os.environ.get("ODOO_DB_HOST"):
        return {
            "host": os.environ["ODOO_DB_HOST"],
            "port": int(os.environ.get("ODOO_DB_PORT", "5432")),
            "user": os.environ.get("ODOO_DB_USER", DEFAULT_DB_USER),
            "password": os.environ.get("ODOO_DB_PASSWORD", ""),
            "local": False,
        }
    return {
        "host": "127.0.0.1",
        "port": int(os.environ.get("ODOO_DB_PORT", DEFAULT_PG_PORT)),
        "user": DEFAULT_DB_USER,
        "password": "",
        "local": True,
    }


def pg_bindir():
    dirs = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for d in reversed(dirs):
        if (d / "initdb").is_file():
            return d
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise DevError(
        "PostgreSQL's server programs (initdb, pg_ctl) are missing: install them "
        "(sudo apt-get install postgresql), or point ODOO_DB_HOST/ODOO_DB_PORT/ODOO_DB_USER at a server."
    )


def cluster_owner():
    """PostgreSQL refuses to run as root: as root, the cluster belongs to the 'postgres' user."""
    if os.geteuid() != 0:
        return None
    import pwd

    for owner in ("postgres", "nobody"):
        try:
            pwd.getpwnam(owner)
        except KeyError:
            continue
        return owner
    raise DevError("running as root with no 'postgres' user to own the project-local cluster.")


def as_cluster_owner(cmd):
    owner = cluster_owner()
    return [*(["runuser", "-u", owner, "--"] if owner else []), *map(str, cmd)]


def free_port():
    """A TCP port nothing listens on now, for a server of our own."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(host, port):
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def ensure_postgres():
    settings = db_settings()
    if not settings["local"]:
        if not port_open(settings["host"], settings["port"]):
            raise DevError(f"no PostgreSQL answers at {settings['host']}:{settings['port']} (ODOO_DB_HOST).")
        return settings
    bindir = pg_bindir()
    STATE.mkdir(exist_ok=True)
    if not (PG_DATA / "PG_VERSION").is_file():
        say(f"creating the project-local PostgreSQL cluster in {PG_DATA}")
        PG_DATA.mkdir(parents=True, exist_ok=True)
        if cluster_owner():
            shutil.chown(PG_DATA, user=cluster_owner())
        run_cmd(
            as_cluster_owner(
                [
                    bindir / "initdb",
                    "-D",
                    PG_DATA,
                    "-U",
                    settings["user"],
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            stdout=subprocess.DEVNULL,
        )
        # A development and test cluster: loopback only, no durability cost.
        with open(PG_DATA / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# crm-addons project-local cluster\n"
                "listen_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 200\n"
            )
    status = run_cmd(
        as_cluster_owner([bindir / "pg_ctl", "-D", PG_DATA, "status"]), check=False, stdout=subprocess.DEVNULL
    )
    if status.returncode != 0:
        if port_open(settings["host"], settings["port"]):
            raise DevError(
                f"port {settings['port']} is taken by another server: set ODOO_DB_PORT to a free port, "
                "or ODOO_DB_HOST to use that server."
            )
        say(f"starting the project-local PostgreSQL on {settings['host']}:{settings['port']}")
        run_cmd(
            as_cluster_owner(
                [
                    bindir / "pg_ctl",
                    "-D",
                    PG_DATA,
                    "-l",
                    PG_DATA / "server.log",
                    "-w",
                    "-o",
                    f"-p {settings['port']}",
                    "start",
                ]
            ),
            stdout=subprocess.DEVNULL,
        )
    return settings


def write_odoo_conf(settings, src, http_port=8069):
    STATE.mkdir(exist_ok=True)
    addons = [str(p) for p in (*odoo_addons_paths(src), *wheel_addons_path(), ROOT)]
    lines = [
        "[options]",
        f"addons_path = {','.join(addons)}",
        f"db_host = {settings['host']}",
        f"db_port = {settings['port']}",
        f"db_user = {settings['user']}",
        f"db_password = {settings['password']}",
        f"data_dir = {STATE / 'data'}",
        f"http_port = {http_port}",
        "admin_passwd = admin",
        "max_cron_threads = 1",
    ]
    ODOO_CONF.write_text("\n".join(lines) + "\n")
    return ODOO_CONF


def connect(settings, dbname="postgres"):
    import psycopg2

    return psycopg2.connect(
        host=settings["host"],
        port=settings["port"],
        user=settings["user"],
        password=settings["password"] or None,
        dbname=dbname,
    )


def database_exists(settings, name):
    with connect(settings) as conn, conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return cr.fetchone() is not None


def drop_database(settings, name):
    conn = connect(settings)
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        cr.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()


def installed_addons(settings, name, modules=ADDONS):
    with connect(settings, name) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT name FROM ir_module_module WHERE state = 'installed' AND name = ANY(%s)", (list(modules),)
        )
        return {row[0] for row in cr.fetchall()}


def odoo_cmd(*args):
    return [str(venv_python()), "-m", "odoo", "-c", str(ODOO_CONF), *map(str, args)]


# `python -m odoo` for a test run, with Odoo's wait for Chromium lengthened (tests/browser_wait.py).
# --test-tags puts Odoo in test mode anyway; saying so first spares the test framework's import warning.
ODOO_TESTS_BOOT = (
    "import sys; sys.path.insert(0, {root!r}); "
    "from odoo.tools import config; config['test_enable'] = True; "
    "from tests.browser_wait import lengthen; lengthen(); "
    "from odoo.cli.command import main; main()"
)


def odoo_tests_cmd(*args):
    boot = ODOO_TESTS_BOOT.format(root=str(ROOT))
    return [str(venv_python()), "-c", boot, "-c", str(ODOO_CONF), *map(str, args)]


# --------------------------------------------------------------------------------------
# run / test / lint / pot (inside the virtualenv)
# --------------------------------------------------------------------------------------


def require_venv():
    if not venv_python().exists() or not ODOO_SRC_RECORD.is_file():
        raise DevError("the virtualenv is missing: run `python3 dev.py setup` first.")
    if Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(venv_python()), [str(venv_python()), str(Path(__file__).resolve()), *sys.argv[1:]])
    return Path(ODOO_SRC_RECORD.read_text().strip())


def prepare(http_port=8069):
    src = require_venv()
    settings = ensure_postgres()
    write_odoo_conf(settings, src, http_port)
    return settings


def cmd_run(args):
    settings = prepare(args.port)
    db = args.db
    if not database_exists(settings, db):
        say(f"creating database {db} with demo data and {', '.join(ADDONS)} (a few minutes)")
        run_cmd(odoo_cmd("-d", db, "-i", ",".join(ADDONS), "--stop-after-init"))
    else:
        say(f"reusing database {db}")
        ensure_addons(settings, db, upgrade=args.update)
    say(
        f"Odoo serves http://localhost:{args.port}  (database {db}, login admin, password admin); Ctrl+C stops it"
    )
    os.execv(
        str(venv_python()), odoo_cmd("-d", db, "--db-filter", f"^{re.escape(db)}$", "--http-port", args.port)
    )


def ensure_addons(settings, db, upgrade, log_level="info", extra=()):
    """Install the addons (and `extra` modules) missing from an existing database; with `upgrade`,
    upgrade the addons already there."""
    installed = installed_addons(settings, db)
    missing = sorted(set(ADDONS) - installed) + sorted(set(extra) - installed_addons(settings, db, extra))
    quiet = f"--log-level={log_level}"
    if missing:
        say(f"installing {', '.join(missing)} in {db}")
        run_cmd(odoo_cmd("-d", db, "-i", ",".join(missing), "--stop-after-init", quiet))
    if upgrade and installed:
        say(f"upgrading {', '.join(sorted(installed))} in {db}")
        run_cmd(odoo_cmd("-d", db, "-u", ",".join(sorted(installed)), "--stop-after-init", quiet))


def install_without_demo(db, extra=()):
    modules = ",".join((*ADDONS, *extra))
    run_cmd(odoo_cmd("-d", db, "-i", modules, "--without-demo=all", "--stop-after-init", "--log-level=warn"))


def pg_environ(settings):
    """The environment with libpq's variables set to the server: pytest-odoo's workers copy the
    test database with ``createdb``."""
    env = dict(os.environ, PGHOST=settings["host"], PGPORT=str(settings["port"]), PGUSER=settings["user"])
    if settings["password"]:
        env["PGPASSWORD"] = settings["password"]
    return env


def pytest_cmd(db, *pytest_args):
    """The command running pytest-odoo on database ``db`` with ``pytest_args``.

    --odoo-http: pytest-odoo serves Odoo on a free port, so HttpCase tests and tours run (without
    it they are skipped)."""
    return [
        venv_python(),
        "-m",
        "pytest",
        "--odoo-config",
        ODOO_CONF,
        "--odoo-database",
        db,
        "--odoo-http",
        *pytest_args,
    ]


def cmd_test(args):
    settings = prepare()
    db = args.db or f"crm_test_{uuid.uuid4().hex[:8]}"
    keep = args.keep or bool(args.db)
    try:
        if database_exists(settings, db):
            say(f"reusing test database {db}")
            # a bench database is measured as loaded: it gets no module the bench did not install
            extra = () if db.startswith("bench") else TEST_MODULES
            ensure_addons(settings, db, upgrade=True, log_level="warn", extra=extra)
        else:
            say(f"creating test database {db} (without demo data) with {', '.join((*ADDONS, *TEST_MODULES))}")
            install_without_demo(db, extra=TEST_MODULES)
        if not args.pytest_args:
            check_browser_start()  # the whole suite runs the tours
        pytest_args = args.pytest_args or ["tests", "-n", str(TEST_WORKERS), "--dist", "loadscope"]
        if pytest_args and pytest_args[0] == "--":
            pytest_args = pytest_args[1:]
        result = run_cmd(pytest_cmd(db, *pytest_args), check=False, cwd=ROOT, env=pg_environ(settings))
    finally:
        if not keep:
            drop_database(settings, db)
    if result.returncode == 5:
        raise DevError("pytest collected no test")
    return result.returncode


STOCK_TEST_TAGS = "/crm,/sale_crm,/loyalty,/sale_loyalty"
FORCED_LEDGER_MODULES = ("loyalty", "sale_loyalty")
STOCK_MODULES = ("sale_management", "sale_crm", "sale_loyalty")
STOCK_RESULT = re.compile(r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests")


BROWSER_SKIP = re.compile(
    r"skipped (\S+) .*: (Chrome executable not found|websocket-client module is not installed"
    r"|Failed to detect chrome devtools port.*|Error during Chrome.*|Cannot connect to chrome dev tools)$",
    re.M,
)


def check_browser_start():
    """Start the browser Odoo's tours use, as they start it, and say how long it took to open its
    DevTools port: a CI log then shows what the host's Chromium does, and a Chromium that cannot start
    stops the run with its own error instead of skipping the tours."""
    import tempfile
    import time

    from tests.browser_wait import BROWSER_START_WAIT

    executable = browser_executable()
    if not executable:
        raise DevError("Chromium is missing, so the tours cannot run: `python3 dev.py setup` installs it.")
    with tempfile.TemporaryDirectory(suffix="_chrome_check") as profile:
        # Odoo's own switches for a headless tour browser (odoo/tests/common.py, _chrome_start)
        cmd = [executable, "--headless", "--disable-extensions", "--disable-background-networking",
               "--disable-breakpad", "--disable-crash-reporter", "--disable-dev-shm-usage",
               "--disable-namespace-sandbox", "--disable-translate", "--no-sandbox", "--disable-gpu",
               "--no-first-run", "--no-default-browser-check", "--remote-debugging-address=127.0.0.1",
               "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"]  # fmt: skip
        port_file = Path(profile, "DevToolsActivePort")
        with tempfile.TemporaryFile() as errors:
            start = time.monotonic()
            process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errors)
            try:
                while not (port_file.is_file() and port_file.stat().st_size > 5):
                    elapsed = time.monotonic() - start
                    if process.poll() is not None or elapsed > BROWSER_START_WAIT:
                        errors.seek(0)
                        tail = errors.read().decode(errors="replace")[-2000:]
                        state = (
                            f"exited with {process.returncode}"
                            if process.poll() is not None
                            else f"opened no DevTools port in {BROWSER_START_WAIT} s"
                        )
                        raise DevError(f"{executable} {state}, so the tours cannot run:\n{tail}")
                    time.sleep(0.05)
                say(f"{executable} opened its DevTools port in {time.monotonic() - start:.2f} s")
            finally:
                process.terminate()
                process.wait(timeout=15)


def browser_skips(log_text):
    """The browser tests of a log that were skipped because no browser could run them."""
    return [f"{name}: {why}" for name, why in BROWSER_SKIP.findall(log_text)]


def cmd_stock_tests(args):
    """Odoo's own suites of the modules we extend, with the three addons installed beside them."""
    if args.forced_ledger:
        return stock_tests_forced_ledger()
    settings = prepare()
    check_browser_start()
    db = f"crm_stock_{uuid.uuid4().hex[:8]}"
    log = STATE / "stock-tests.log"
    say(f"running Odoo's {STOCK_TEST_TAGS} suites with {', '.join(ADDONS)} installed (log: {log})")
    try:
        with open(log, "w") as out:
            result = run_cmd(
                odoo_tests_cmd(
                    "-d",
                    db,
                    "-i",
                    ",".join((*STOCK_MODULES, *ADDONS)),
                    "--test-tags",
                    STOCK_TEST_TAGS,
                    "--stop-after-init",
                    # the tours need Odoo's HTTP server (it opens even with --no-http when tests
                    # run): a free port, so that a server already on 8069 does not stop the run
                    "--http-port",
                    free_port(),
                ),
                check=False,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
    finally:
        drop_database(settings, db)
    text = log.read_text()
    for line in text.splitlines():
        if re.search(r" (ERROR|CRITICAL) .*(FAIL|ERROR):", line):
            print(line)
    totals = STOCK_RESULT.findall(text)
    if not totals:
        print(text[-4000:])
        raise DevError("Odoo's stock suites did not report a result")
    failed, errors, ran = (int(x) for x in totals[-1])
    print(f"stock-tests: {ran - failed - errors} passed, {failed + errors} failed")
    skips = browser_skips(text)
    if skips:
        # A tour that could not start is a test that did not run: CI must not call that green.
        print("stock-tests: browser tests were skipped:\n  " + "\n  ".join(skips))
        return 1
    return 1 if (failed or errors or result.returncode) else 0


def stock_tests_forced_ledger():
    """Odoo's loyalty and sale_loyalty suites with the points ledger forced on for every loyalty
    program (crm_loyalty's test-mode flag). The modules are installed first, then pytest-odoo runs
    the stock test modules against the complete registry: run by Odoo at install, a module's
    at_install tests would see only the modules loaded before it, without crm_loyalty."""
    settings = prepare()
    db = f"crm_forced_{uuid.uuid4().hex[:8]}"
    log = STATE / "stock-tests-forced-ledger.log"
    src = Path(ODOO_SRC_RECORD.read_text().strip())
    # the path Odoo imports the module from (odoo/addons links the addons of the source tree)
    suites = [
        next(path for path in (src / "odoo" / "addons" / module, src / "addons" / module) if path.exists())
        / "tests"
        for module in FORCED_LEDGER_MODULES
    ]
    say(f"Odoo's {', '.join(FORCED_LEDGER_MODULES)} suites with the ledger forced on (log: {log})")
    try:
        run_cmd(
            odoo_cmd(
                "-d", db, "-i", ",".join((*STOCK_MODULES, *ADDONS)), "--stop-after-init", "--log-level=warn"
            )
        )
        with open(log, "w") as out:
            result = run_cmd(
                pytest_cmd(db, "-p", "no:cacheprovider", "-q", "-rfE", *suites),
                check=False,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "CRM_LOYALTY_FORCE_LEDGER": "1"},
            )
    finally:
        drop_database(settings, db)
    text = log.read_text()
    print("\n".join(line for line in text.splitlines() if line.startswith(("FAILED", "ERROR"))))
    print(text.strip().splitlines()[-1] if text.strip() else "no pytest output")
    return result.returncode


def cmd_lint(args):
    require_venv()
    targets = [*ADDONS, "tests", "bench", "dev.py"]
    failed = 0
    try:
        cmd_readme(argparse.Namespace(check=True))
    except DevError as exc:
        say(str(exc))
        failed = 1
    failed |= run_cmd([venv_python(), "-m", "ruff", "check", *targets], check=False, cwd=ROOT).returncode
    failed |= run_cmd(
        [venv_python(), "-m", "ruff", "format", "--check", *targets], check=False, cwd=ROOT
    ).returncode
    failed |= run_cmd(
        [venv_python(), "-m", "pylint", "--rcfile", ROOT / "setup.cfg", *ADDONS], check=False, cwd=ROOT
    ).returncode
    return 1 if failed else 0


def cmd_pot(args):
    settings = prepare()
    db = f"crm_pot_{uuid.uuid4().hex[:8]}"
    try:
        install_without_demo(db)
        for addon in ADDONS:
            pot = ROOT / addon / "i18n" / f"{addon}.pot"
            run_cmd(
                odoo_cmd(
                    "-d",
                    db,
                    "--i18n-export",
                    pot,
                    "--modules",
                    addon,
                    "--stop-after-init",
                    "--log-level=warn",
                )
            )
            say(f"wrote {pot.relative_to(ROOT)}")
    finally:
        drop_database(settings, db)


def cmd_bench(args):
    """Time the addons' heavy figures on a database filled at scale (see bench/ and README.md)."""
    settings = prepare()
    sys.path.insert(0, str(ROOT))
    from bench import runner

    return runner.main(
        settings,
        ODOO_CONF,
        install_without_demo,
        connect,
        drop_database,
        database_exists,
        args.size,
        only=args.only,
        dbname=args.db,
        keep=args.keep,
        timeout=args.timeout,
        results=args.results,
    )


# --------------------------------------------------------------------------------------
# screenshots: the main screens of the demo database, in headless Chromium
# --------------------------------------------------------------------------------------

SCREENSHOTS_DIR = ROOT / "docs" / "screenshots"
SCREEN_SIZE = (1440, 900)
# name: (addon, web client path (action-<xml id> or a model), SQL of the record to open or None,
#        notebook page to click or None[, True to drop the action's default filters])
SHOTS = {
    "crm_ror_relationship": (
        "crm_ror",
        "action-base.action_partner_form",
        # a customer of the demo story with a predicted CLV and an ROR, among the best of the year
        "SELECT p.partner_id FROM crm_ror_customer_profile p"
        " JOIN res_partner_res_partner_category_rel r ON r.partner_id = p.partner_id"
        " JOIN ir_model_data d ON d.res_id = r.category_id AND d.model = 'res.partner.category'"
        " AND d.module = 'crm_ror' AND d.name = 'crm_ror_demo_story_tag'"
        " WHERE p.clv_status = 'ok' AND p.has_ror_12m ORDER BY p.revenue_12m DESC NULLS LAST, p.id LIMIT 1",
        "crm_ror_relationship",
    ),
    "crm_ror_customer_value": ("crm_ror", "action-crm_ror.crm_ror_customer_profile_action", None, None),
    "crm_ror_lead_kanban": ("crm_ror", "action-crm.crm_lead_action_pipeline", None, None, True),
    "crm_ror_campaign_economics": (
        "crm_ror",
        "action-crm_ror.crm_ror_campaign_action",
        "SELECT campaign_id FROM crm_ror_campaign_target GROUP BY campaign_id ORDER BY count(*) DESC LIMIT 1",
        "crm_ror_economics",
    ),
    "crm_scorecard_kanban": ("crm_scorecard", "action-crm_scorecard.crm_scorecard_action", None, None),
    "crm_scorecard_form": (
        "crm_scorecard",
        "action-crm_scorecard.crm_scorecard_action",
        "SELECT res_id FROM ir_model_data WHERE module = 'crm_scorecard' AND name = 'demo_scorecard_conversion'",
        None,
    ),
    "crm_loyalty_card_ledger": (
        "crm_loyalty",
        "loyalty.card",  # stock's card action needs a program in its context
        "SELECT h.card_id FROM loyalty_history h JOIN loyalty_card c ON c.id = h.card_id"
        " JOIN loyalty_program p ON p.id = c.program_id WHERE p.ledger_enabled"
        " GROUP BY h.card_id ORDER BY count(*) DESC, h.card_id LIMIT 1",
        "ledger",
    ),
}
# the web client has drawn the view and loads nothing more
READY_JS = (
    "!!document.querySelector('.o_action_manager .o_view_controller')"
    " && !document.querySelector('.o_loading_indicator, .o_view_sample_data')"
)


def shot_urls(settings, db, names):
    """{name: URL path} of the shots, with the records their SQL picks in ``db``."""
    urls = {}
    with connect(settings, db) as conn, conn.cursor() as cr:
        for name in names:
            _addon, path, query, *_rest = SHOTS[name]
            record = None
            if query:
                cr.execute(query)
                row = cr.fetchone()
                if not row:
                    raise DevError(
                        f"{name}: the database {db} has no record to show (is it the demo database?)"
                    )
                record = row[0]
            urls[name] = f"/odoo/{path}" + (f"/{record}" if record else "")
    return urls


class Browser:
    """Headless Chromium driven through its DevTools protocol (websocket-client, as Odoo's tours)."""

    def __init__(self, executable, profile_dir):
        import json
        import time

        import websocket

        self.port = free_port()
        cmd = [
            executable,
            "--headless=new",
            f"--remote-debugging-port={self.port}",
            f"--user-data-dir={profile_dir}",
            f"--window-size={SCREEN_SIZE[0]},{SCREEN_SIZE[1]}",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            *(["--no-sandbox"] if os.geteuid() == 0 else []),  # Chromium refuses root without it
            "about:blank",
        ]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=2) as resp:
                    pages = [t for t in json.load(resp) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                self.close()
                raise DevError(f"{executable} did not open its DevTools port")
            time.sleep(0.5)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60)
        self.ids = 0
        self.send("Emulation.setDeviceMetricsOverride", width=SCREEN_SIZE[0], height=SCREEN_SIZE[1],
                  deviceScaleFactor=1, mobile=False)  # fmt: skip

    def send(self, method, **params):
        import json

        self.ids += 1
        self.ws.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.ids:
                if "error" in message:
                    raise DevError(f"Chromium: {method}: {message['error'].get('message')}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression, timeout=60):
        import time

        deadline = time.time() + timeout
        while not self.evaluate(expression):
            if time.time() > deadline:
                return False
            time.sleep(0.3)
        return True

    def close(self):
        if getattr(self, "ws", None):
            self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=10)


def session_cookie(base_url, db):
    """The session id of admin/admin on ``db``, from Odoo's JSON-RPC authenticate route."""
    import http.cookiejar
    import json

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    body = {"jsonrpc": "2.0", "method": "call", "params": {"db": db, "login": "admin", "password": "admin"}}
    request = urllib.request.Request(
        f"{base_url}/web/session/authenticate",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with opener.open(request, timeout=60) as resp:
        answer = json.load(resp)
    if answer.get("error") or not answer.get("result", {}).get("uid"):
        raise DevError(f"cannot log in as admin/admin on {db}: {answer.get('error', {}).get('message')}")
    return next(cookie.value for cookie in jar if cookie.name == "session_id")


def shoot(browser, name, url):
    """The PNG of one shot: open ``url``, let the view settle, drop filters or open a page if asked."""
    import base64
    import time

    page = SHOTS[name][3]
    drop_filters = SHOTS[name][4:] == (True,)
    browser.send("Page.navigate", url=url)
    if not browser.wait_for(READY_JS, timeout=90):
        raise DevError(f"{name}: {url} did not finish loading")
    if drop_filters:
        # e.g. the pipeline's "My Pipeline": the whole team's leads are the story
        browser.evaluate(
            "document.querySelectorAll('.o_searchview_facet .o_facet_remove').forEach(b => b.click())"
        )
        time.sleep(1)
        browser.wait_for(READY_JS, timeout=90)
    if page:
        selector = f".o_notebook_headers a[name='{page}']"
        if not browser.evaluate(f'!!document.querySelector("{selector}")'):
            raise DevError(f"{name}: the form has no page {page!r} (is the user in its group?)")
        browser.evaluate(f'document.querySelector("{selector}").click()')
        browser.evaluate("document.querySelector('.o_notebook').scrollIntoView()")
    time.sleep(1.5)  # charts and progress bars animate in
    # notifications of the moment (e.g. "the page is out of date") are not the screen
    browser.evaluate("document.querySelectorAll('.o_notification_manager > *').forEach(n => n.remove())")
    return base64.b64decode(browser.send("Page.captureScreenshot", format="png")["data"])


def take_screenshots(settings, db, names, out_dir):
    """Serve ``db`` on a free port, log in, and save one PNG per shot into ``out_dir``."""
    import time

    browser_exe = browser_executable()
    if not browser_exe:
        raise DevError("Chromium is missing: install it (sudo apt-get install chromium), then run again.")
    urls = shot_urls(settings, db, names)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        odoo_cmd(
            "-d",
            db,
            "--db-filter",
            f"^{re.escape(db)}$",
            "--http-port",
            port,
            "--max-cron-threads",
            0,
            "--log-level",
            "warn",
        )  # fmt: skip
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    browser = None
    try:
        deadline = time.time() + 180
        while not port_open("127.0.0.1", port):
            if server.poll() is not None or time.time() > deadline:
                raise DevError(f"Odoo did not start on port {port} for {db}")
            time.sleep(1)
        cookie = session_cookie(base_url, db)
        with tempfile.TemporaryDirectory() as profile:
            browser = Browser(browser_exe, profile)
            browser.send("Network.enable")
            browser.send("Network.setCookie", name="session_id", value=cookie, url=base_url)
            for name in names:
                target = out_dir / f"{name}.png"
                target.write_bytes(shoot(browser, name, base_url + urls[name]))
                say(f"wrote {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
            browser.close()
            browser = None
    finally:
        if browser:
            browser.close()
        server.terminate()
        server.wait(timeout=30)


def copy_to_descriptions(out_dir, names):
    """Each addon's Apps page (static/description/) shows its own screenshots."""
    for name in names:
        addon = SHOTS[name][0]
        shutil.copyfile(out_dir / f"{name}.png", ROOT / addon / "static" / "description" / f"{name}.png")


def cmd_screenshots(args):
    names = args.only or list(SHOTS)
    unknown = sorted(set(names) - set(SHOTS))
    if unknown:
        raise DevError(f"unknown screenshot(s) {', '.join(unknown)}: choose among {', '.join(SHOTS)}")
    settings = prepare()
    if not database_exists(settings, args.db):
        raise DevError(
            f"database {args.db} does not exist: create the demo database first (`python3 dev.py run`), "
            "or name another one with --db."
        )
    out_dir = Path(args.out).resolve()
    take_screenshots(settings, args.db, names, out_dir)
    if out_dir == SCREENSHOTS_DIR:
        copy_to_descriptions(out_dir, names)


README_SECTIONS = (
    ("DESCRIPTION", None),
    ("INSTALL", "Installation"),
    ("CONFIGURE", "Configuration"),
    ("USAGE", "Usage"),
    ("ROADMAP", "Known issues / Roadmap"),
    ("HISTORY", "Changelog"),
    ("CONTRIBUTORS", "Contributors"),
)


def addon_readme(addon):
    """README.rst of an addon, made from its readme/ fragments (OCA style)."""
    import ast

    manifest = ast.literal_eval((ROOT / addon / "__manifest__.py").read_text())
    title = manifest["name"]
    parts = [f"{'=' * len(title)}\n{title}\n{'=' * len(title)}\n", f"{manifest['summary']}\n"]
    for fragment, heading in README_SECTIONS:
        path = ROOT / addon / "readme" / f"{fragment}.md"
        if not path.is_file():
            continue
        if heading:
            parts.append(f"{heading}\n{'=' * len(heading)}\n")
        parts.append(path.read_text().strip() + "\n")
    return "\n".join(parts)


def cmd_readme(args):
    stale = []
    for addon in ADDONS:
        target = ROOT / addon / "README.rst"
        text = addon_readme(addon)
        if args.check:
            if not target.is_file() or target.read_text() != text:
                stale.append(str(target.relative_to(ROOT)))
        else:
            target.write_text(text)
    if stale:
        raise DevError(f"out of date, run `python3 dev.py readme`: {', '.join(stale)}")


def cmd_stop(args):
    if (PG_DATA / "PG_VERSION").is_file():
        run_cmd(as_cluster_owner([pg_bindir() / "pg_ctl", "-D", PG_DATA, "-m", "fast", "stop"]), check=False)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="dev.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help="virtualenv with Odoo 18 and the project's dependencies")
    p_run = sub.add_parser("run", help="serve the web client with demo data and the three addons")
    p_run.add_argument(
        "--db", default=os.environ.get("ODOO_DB", "crm_demo"), help="database name (default crm_demo)"
    )
    p_run.add_argument("--port", type=int, default=8069, help="HTTP port (default 8069)")
    p_run.add_argument(
        "--update", action="store_true", help="upgrade the three addons first (after new code)"
    )
    p_test = sub.add_parser("test", help="run the pytest-odoo suite on a throwaway database")
    p_test.add_argument("--db", help="reuse (or create) and keep this database instead of a throwaway one")
    p_test.add_argument("--keep", action="store_true", help="keep the throwaway database")
    p_test.add_argument(
        "pytest_args",
        nargs=argparse.REMAINDER,
        help="arguments for pytest (default: tests, on TEST_WORKERS workers)",
    )
    sub.add_parser("lint", help="README.rst freshness, ruff and pylint-odoo")
    p_stock = sub.add_parser(
        "stock-tests", help="Odoo's own crm/sale_crm/loyalty/sale_loyalty suites with the addons installed"
    )
    p_stock.add_argument(
        "--forced-ledger",
        action="store_true",
        help="run the loyalty and sale_loyalty suites with the points ledger forced on for every loyalty program",
    )
    sub.add_parser("pot", help="regenerate i18n/<addon>.pot of every addon")
    p_readme = sub.add_parser("readme", help="write each addon's README.rst from its readme/ fragments")
    p_readme.add_argument("--check", action="store_true", help="fail if a README.rst is out of date")
    sub.add_parser("stop", help="stop the project-local PostgreSQL cluster")
    p_shots = sub.add_parser("screenshots", help="screenshots of the main screens of the demo database")
    p_shots.add_argument(
        "--db", default=os.environ.get("ODOO_DB", "crm_demo"), help="demo database (default crm_demo)"
    )
    p_shots.add_argument(
        "--out", default=str(SCREENSHOTS_DIR), help="folder of the PNG files (default docs/screenshots)"
    )
    p_shots.add_argument(
        "--only", action="append", metavar="NAME", help=f"one shot (repeatable): {', '.join(SHOTS)}"
    )
    p_bench = sub.add_parser("bench", help="time the heavy figures on a database filled at scale")
    p_bench.add_argument("--size", choices=("small", "medium", "large"), default="small")
    p_bench.add_argument("--only", help="one measure, by letter (a-g) or name (profiles, peer, leads...)")
    p_bench.add_argument("--db", help="reuse (or create) and keep this bench database")
    p_bench.add_argument("--keep", action="store_true", help="keep the throwaway database")
    p_bench.add_argument("--timeout", type=int, help="seconds per measure before it is a timeout row (600)")
    p_bench.add_argument("--results", help="folder of results-<size>.json and .md (default bench/)")
    args = parser.parse_args(argv)
    handler = {
        "setup": cmd_setup,
        "run": cmd_run,
        "test": cmd_test,
        "lint": cmd_lint,
        "pot": cmd_pot,
        "readme": cmd_readme,
        "stock-tests": cmd_stock_tests,
        "stop": cmd_stop,
        "bench": cmd_bench,
        "screenshots": cmd_screenshots,
    }[args.command]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return handler(args) or 0
    except DevError as exc:
        print(f"[dev] error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
