"""The suite's tours wait for Chromium as long as ``tests/browser_wait.py`` says, not Odoo's 10 s."""

import pytest

from odoo.tests import common

from .browser_wait import BROWSER_START_WAIT


def test_the_harness_waits_browser_start_wait_for_chromium():
    assert common.CHECK_BROWSER_ITERATIONS * common.CHECK_BROWSER_SLEEP == pytest.approx(BROWSER_START_WAIT)
    # the skip message of a browser that did not start reads this one
    assert common.BROWSER_WAIT == pytest.approx(BROWSER_START_WAIT)
