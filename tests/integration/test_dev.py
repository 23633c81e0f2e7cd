"""dev.py's Odoo source discovery: what setup does when no Odoo 18.0 source is at hand."""

import importlib.util
import urllib.error

import pytest

from ..common import ROOT


@pytest.fixture
def dev():
    spec = importlib.util.spec_from_file_location("crm_dev_script", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
