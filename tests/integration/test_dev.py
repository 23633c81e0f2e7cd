"""dev.py's Odoo source discovery: what setup does when no Odoo 18.0 source is at hand."""

import urllib.error

import pytest

from ..common import load_dev


@pytest.fixture
def dev():
    return load_dev()


def test_odoo_source_found_in_a_candidate_folder(dev, monkeypatch, tmp_path):
    src = tmp_path / "odoo-18.0"
    (src / "odoo" / "addons" / "base").mkdir(parents=True)
    (src / "odoo" / "addons" / "base" / "__manifest__.py").write_text("{}")
    (src / "odoo" / "release.py").write_text("version_info = (18, 0, 0, FINAL, 0, '')\n")
    monkeypatch.delenv("ODOO_SRC", raising=False)
    monkeypatch.setattr(dev, "ODOO_SRC_CANDIDATES", (tmp_path / "missing", src))
    assert dev.find_odoo_source() == src.resolve()


def test_other_odoo_versions_are_not_taken(dev, tmp_path):
    src = tmp_path / "odoo-17.0"
    (src / "odoo" / "addons" / "base").mkdir(parents=True)
    (src / "odoo" / "addons" / "base" / "__manifest__.py").write_text("{}")
    (src / "odoo" / "release.py").write_text("version_info = (17, 0, 0, FINAL, 0, '')\n")
    assert not dev.is_odoo18_source(src)


def test_setup_without_odoo_says_what_to_do(dev, monkeypatch, tmp_path, capsys):
    def unreachable(*args, **kwargs):
        raise urllib.error.URLError("network unreachable")

    monkeypatch.delenv("ODOO_SRC", raising=False)
    monkeypatch.setattr(dev, "ODOO_SRC_CANDIDATES", (tmp_path / "nothing",))
    monkeypatch.setattr(dev, "ODOO_ARCHIVE_DEST", tmp_path / "cache" / "18.0")
    monkeypatch.setattr(dev.urllib.request, "urlopen", unreachable)
    assert dev.main(["setup"]) == 2
    err = capsys.readouterr().err
    assert "Odoo 18.0 source not found" in err
    assert "ODOO_SRC" in err
    assert "Traceback" not in err


def test_odoo_src_pointing_elsewhere_is_refused(dev, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ODOO_SRC", str(tmp_path))
    assert dev.main(["setup"]) == 2
    assert "is not an Odoo 18.0 source folder" in capsys.readouterr().err


def test_browser_skips_are_failures(dev):
    """A stock run whose tours were skipped for want of a browser must not look green."""
    log = (
        "2026-12-01 21:00:00,000 1 INFO db odoo.addons.crm.tests.test_crm_ui: "
        "skipped TestUi.test_01_crm_tour : Chrome executable not found\n"
        "2026-12-01 INFO db odoo.tests.result: 0 failed, 0 error(s) of 230 tests\n"
    )
    assert dev.browser_skips(log) == ["TestUi.test_01_crm_tour: Chrome executable not found"]
    assert dev.browser_skips("odoo.tests.result: 0 failed, 0 error(s) of 230 tests\n") == []


def test_setup_installs_chromium_as_root_on_debian(dev, monkeypatch):
    calls = []
    monkeypatch.setattr(dev.shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None)
    monkeypatch.setattr(dev.os, "geteuid", lambda: 0)
    monkeypatch.setattr(dev, "run_cmd", lambda cmd, **kw: calls.append(cmd))
    dev.ensure_chromium()
    assert ["apt-get", "install", "-y", "-qq", "chromium"] in calls


def test_setup_says_how_to_get_chromium_without_root(dev, monkeypatch, capsys):
    monkeypatch.setattr(dev.shutil, "which", lambda name: None)
    monkeypatch.setattr(dev.os, "geteuid", lambda: 1000)
    dev.ensure_chromium()
    assert "apt-get install chromium" in capsys.readouterr().out


def test_setup_installs_wkhtmltopdf_as_root_on_debian(dev, monkeypatch):
    calls = []
    monkeypatch.setattr(dev.shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None)
    monkeypatch.setattr(dev.os, "geteuid", lambda: 0)
    monkeypatch.setattr(dev, "run_cmd", lambda cmd, **kw: calls.append(cmd))
    dev.ensure_wkhtmltopdf()
    assert ["apt-get", "install", "-y", "-qq", "wkhtmltopdf"] in calls


def test_setup_says_how_to_get_wkhtmltopdf_without_root(dev, monkeypatch, capsys):
    monkeypatch.setattr(dev.shutil, "which", lambda name: None)
    monkeypatch.setattr(dev.os, "geteuid", lambda: 1000)
    dev.ensure_wkhtmltopdf()
    assert "apt-get install wkhtmltopdf" in capsys.readouterr().out


def test_free_port_is_free(dev):
    port = dev.free_port()
    assert 1024 <= port <= 65535
    assert not dev.port_open("127.0.0.1", port)


def test_our_browser_tests_fail_rather_than_skip_without_a_browser():
    """The suite's hook turns Odoo's "no browser" skips into failures; other skips stay skips."""
    import unittest
    from types import SimpleNamespace

    from .. import conftest

    for reason in (
        "Chrome executable not found",
        "websocket-client module is not installed",
        "Failed to detect chrome devtools port after 10.0s.",
        "/usr/bin/chromium not found",
    ):
        assert conftest.browser_skip(unittest.SkipTest(reason)), reason
    assert not conftest.browser_skip(unittest.SkipTest("the test needs mass_mailing"))

    def report_of(reason):
        report = SimpleNamespace(skipped=True, outcome="skipped", longrepr=reason)
        call = SimpleNamespace(excinfo=SimpleNamespace(value=unittest.SkipTest(reason)))
        hook = conftest.pytest_runtest_makereport(SimpleNamespace(nodeid="tests/x.py::T::t"), call)
        next(hook)
        try:
            hook.send(SimpleNamespace(get_result=lambda: report))
        except StopIteration:
            pass
        return report

    assert report_of("Chrome executable not found").outcome == "failed"
    assert report_of("not on this database").outcome == "skipped"


def test_screenshots_refuses_unknown_names_before_starting_anything(dev, monkeypatch, capsys):
    started = []
    monkeypatch.setattr(dev, "prepare", lambda *a, **kw: started.append("prepare"))
    monkeypatch.setattr(dev, "take_screenshots", lambda *a, **kw: started.append("shots"))
    assert dev.main(["screenshots", "--only", "crm_ror_lead_kanban", "--only", "no_such_screen"]) == 2
    err = capsys.readouterr().err
    assert "no_such_screen" in err
    assert all(name in err for name in dev.SHOTS), "the error lists the shots to choose from"
    assert not started


def test_screenshots_needs_the_demo_database(dev, monkeypatch, capsys):
    monkeypatch.setattr(dev, "prepare", lambda *a, **kw: {})
    monkeypatch.setattr(dev, "database_exists", lambda settings, name: False)
    monkeypatch.setattr(dev, "take_screenshots", lambda *a, **kw: pytest.fail("no database, no browser"))
    assert dev.main(["screenshots", "--db", "missing_demo"]) == 2
    err = capsys.readouterr().err
    assert "missing_demo" in err and "dev.py run" in err


@pytest.mark.parametrize(
    ("argv", "names", "copied"),
    [
        ([], None, True),
        (
            ["--only", "crm_scorecard_form", "--only", "crm_loyalty_card_ledger"],
            ["crm_scorecard_form", "crm_loyalty_card_ledger"],
            True,
        ),
        (["--out", "{tmp}"], None, False),
    ],
)
def test_screenshots_arguments(dev, monkeypatch, tmp_path, argv, names, copied):
    """Every shot by default, in order; --only picks some; only docs/screenshots feeds the Apps pages."""
    calls = []
    monkeypatch.setenv("ODOO_DB", "story_db")
    monkeypatch.setattr(dev, "prepare", lambda *a, **kw: {"host": "h"})
    monkeypatch.setattr(dev, "database_exists", lambda settings, name: name == "story_db")
    monkeypatch.setattr(
        dev, "take_screenshots", lambda settings, db, names, out: calls.append((db, names, out))
    )
    monkeypatch.setattr(dev, "copy_to_descriptions", lambda out, names: calls.append(("copied", names)))
    assert dev.main(["screenshots", *(arg.format(tmp=tmp_path) for arg in argv)]) == 0
    db, taken, out = calls[0]
    assert db == "story_db"
    assert taken == (names or list(dev.SHOTS))
    assert out == (dev.SCREENSHOTS_DIR if copied else tmp_path.resolve())
    assert (("copied", taken) in calls) == copied


def test_every_addon_has_a_screenshot_and_its_apps_page_shows_it(dev):
    readme = (dev.ROOT / "README.md").read_text()
    for addon in dev.ADDONS:
        shots = [name for name, (owner, *_rest) in dev.SHOTS.items() if owner == addon]
        assert shots, f"{addon} has no screenshot"
        html = (dev.ROOT / addon / "static" / "description" / "index.html").read_text()
        for name in shots:
            assert f'src="{name}.png"' in html, f"{addon}'s Apps page does not show {name}"
            assert (dev.ROOT / addon / "static" / "description" / f"{name}.png").is_file()
            assert (dev.SCREENSHOTS_DIR / f"{name}.png").is_file()
        assert any(f"docs/screenshots/{name}.png" in readme for name in shots), (
            f"the README shows no {addon} screen"
        )
