"""The demo story's audited-ledger lots hold what the story promises on any install day: some points
expired, some expiring within the program's notice (the integration test checks one day, the day it
runs; this checks every day of a year, against the demo program's own expiry settings)."""

import datetime
import random
from pathlib import Path

from lxml import etree

from odoo.addons.crm_loyalty.demo.crm_loyalty_demo import SEED, story_lots
from odoo.addons.crm_loyalty.engine import ledger

PROGRAM_XML = Path(__file__).resolve().parents[2] / "crm_loyalty" / "demo" / "loyalty_ledger_demo.xml"


def _program():
    record = etree.parse(str(PROGRAM_XML)).find(".//record[@id='loyalty_program_ledger_demo']")
    return {field.get("name"): field.text for field in record.iter("field")}


def test_demo_lots_expired_and_expiring_on_every_day():
    program = _program()
    validity, unit = int(program["points_validity"]), program["points_validity_unit"]
    rounding, notice = program["points_expiry_rounding"], int(program["expiry_notice_days"])
    for offset in range(366):
        today = datetime.date(2027, 1, 1) + datetime.timedelta(days=offset)
        rng = random.Random(SEED)
        expiries = [
            ledger.expiry_date(day, validity, unit, rounding)
            for _card in range(5)
            for _points, day in story_lots(rng, today)
        ]
        assert any(expiry < today for expiry in expiries), f"{today}: no lot expired"
        assert any(0 <= (expiry - today).days <= notice for expiry in expiries), f"{today}: none expiring"
