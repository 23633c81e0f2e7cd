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
