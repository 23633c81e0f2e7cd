"""How long Odoo's test harness waits for Chromium to open its DevTools port.

Odoo's ``ChromeBrowser`` gives Chromium 10 s (``odoo/tests/common.py``, CHECK_BROWSER_ITERATIONS) and then
*skips* the tour. On a loaded two-core CI host Chromium once took longer than that, and CI lost the run
(stock crm's ``TestUi.test_01_crm_tour``). Waiting longer for the browser to start changes no assertion of
any test; both runners (pytest's conftest and ``dev.py stock-tests``) call :func:`lengthen`.
"""

BROWSER_START_WAIT = 60  # seconds


def lengthen(seconds=BROWSER_START_WAIT):
    """Let Odoo's harness wait ``seconds`` for Chromium's DevTools port instead of 10 s."""
    from odoo.tests import common  # callers run it once the test framework is loaded

    common.CHECK_BROWSER_ITERATIONS = round(seconds / common.CHECK_BROWSER_SLEEP)
    # the skip message reads this one
    common.BROWSER_WAIT = common.CHECK_BROWSER_SLEEP * common.CHECK_BROWSER_ITERATIONS
