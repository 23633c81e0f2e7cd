"""pytest hooks of the project's suite."""

import re

import pytest

from .browser_wait import lengthen


@pytest.fixture(scope="session", autouse=True)
def browser_start_wait():
    """Odoo's harness waits longer for Chromium (see browser_wait). Applied in the processes that run
    tests, once their test modules have imported Odoo's test framework: imported here at load time,
    before pytest-odoo's test mode, it logged Odoo's "Importing test framework" error."""
    lengthen()


# What Odoo's HttpCase says when it cannot start a browser (odoo/tests/common.py). A tour that could
# not start is a test that did not run: the suite reports it as a failure, never as a skip.
BROWSER_SKIP = re.compile(
    r"Chrome executable not found|websocket-client module is not installed"
    r"|Failed to detect chrome devtools port|Error during Chrome|Cannot connect to chrome dev tools"
    r"|^\S*(chrome|chromium)\S* not found$"
)


def browser_skip(reason):
    """True when a skip reason says that no browser could run the test."""
    return bool(BROWSER_SKIP.search(str(reason)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and call.excinfo is not None and browser_skip(call.excinfo.value):
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid}: no browser could run this test ({call.excinfo.value}); "
            "`python3 dev.py setup` installs Chromium on Debian and Ubuntu"
        )
