"""Temperature engine: score blend, thresholds, decay and manual override (no database)."""

from datetime import date, datetime

from odoo.addons.crm_ror.engine import temperature as t

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 12, 0)
PARAMS = t.TemperatureParams(hot_threshold=60, warm_threshold=35, decay_days=14)


def test_idle_days_counts_whole_days():
    assert t.idle_days(datetime(2026, 3, 1, 13, 0), NOW) == 8
    assert t.idle_days(None, NOW) == 0
    assert t.idle_days(datetime(2026, 3, 11), NOW) == 0


def test_score_blend_by_hand():
    # probability 80 -> 40; priority 3 -> 15; idle 3 of 30 -> 90 * .2 = 18; due in 5 days -> 15.
    assert abs(t.score(80, 3, 3, date(2026, 3, 15), TODAY) - 88.0) < 1e-9
    # probability 50 -> 25; priority 1 -> 5; idle 15 -> 50 * .2 = 10; due in 48 days
    deadline = date(2026, 4, 27)  # 48 days left: (90 - 48) / (90 - 7) * 100 * .15
    expected = 25 + 5 + 10 + 15 * 42 / 83
    assert abs(t.score(50, 1, 15, deadline, TODAY) - expected) < 1e-9
    # overdue and missing deadlines score nothing
    assert t.deadline_score(date(2026, 3, 9), TODAY, 7, 90) == 0
    assert t.deadline_score(False, TODAY, 7, 90) == 0


def test_thresholds():
    assert t.level_from_score(60, PARAMS) == t.HOT
    assert t.level_from_score(59.9, PARAMS) == t.WARM
    assert t.level_from_score(35, PARAMS) == t.WARM
    assert t.level_from_score(34.9, PARAMS) == t.COLD


def test_decay_one_level_per_period():
    assert t.decay(t.HOT, 13, 14) == t.HOT
    assert t.decay(t.HOT, 14, 14) == t.WARM
    assert t.decay(t.HOT, 28, 14) == t.COLD
    assert t.decay(t.WARM, 100, 14) == t.COLD
    assert t.decay(t.HOT, 100, 0) == t.HOT


def test_temperature_with_decay_and_override():
    # a hot lead idle 14 days: the score is still hot (recency .2 * 53.3) but decay cools it
    level, value = t.temperature(100, 3, 14, date(2026, 3, 12), TODAY, PARAMS)
    assert value >= 60
    assert level == t.WARM
    # manual override holds until its date (inclusive), then the rules take over again
    assert t.temperature(10, 0, 40, None, TODAY, PARAMS, manual=t.HOT, until=TODAY)[0] == t.HOT
    assert t.temperature(10, 0, 40, None, TODAY, PARAMS, manual=t.HOT, until=date(2026, 3, 9))[0] == t.COLD
    assert t.temperature(10, 0, 40, None, TODAY, PARAMS, manual=t.HOT, until=None)[0] == t.HOT
