"""Temperature engine: weighted factors, continuous decay, thresholds and manual override (no database).

Every number below is computed by hand from the default weights (probability 40, priority 15,
engagement 30, closing date 15: they sum to 100, so each factor's points are weight % x factor)."""

from datetime import date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from odoo.addons.crm_ror.engine import temperature as t

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 12, 0)
PARAMS = t.TemperatureParams()


def test_idle_days_counts_whole_days():
    assert t.idle_days(datetime(2026, 3, 1, 13, 0), NOW) == 8
    assert t.idle_days(None, NOW) == 0
    assert t.idle_days(datetime(2026, 3, 11), NOW) == 0


def test_fresh_lead_of_average_probability_is_warm():
    # p 25 -> 10; no star 0; fresh 30; no closing date is neutral: 50 x .15 = 7.5 -> 47.5
    assert abs(t.score(25, 0, 0, None, TODAY) - 47.5) < 1e-9
    assert t.temperature(25, 0, 0, None, TODAY)[0] == t.WARM
    # even p 0 is warm when fresh (37.5); hot from p 55 on (59.5, stored as 60)
    assert t.temperature(0, 0, 0, None, TODAY) == (t.WARM, 38)
    assert t.temperature(55, 0, 0, None, TODAY) == (t.HOT, 60)
    assert t.temperature(54.9, 0, 0, None, TODAY) == (t.WARM, 59)


def test_missing_closing_date_is_neutral_and_overdue_is_not():
    assert t.deadline_score(None, TODAY) == 50.0
    assert t.deadline_score(date(2026, 3, 9), TODAY) == 0.0
    assert t.deadline_score(date(2026, 3, 17), TODAY) == 100.0  # 7 days
    # 48 days left: (90 - 48) / (90 - 7) x 100
    assert abs(t.deadline_score(date(2026, 4, 27), TODAY) - 100 * 42 / 83) < 1e-9
    assert t.deadline_score(date(2026, 6, 8), TODAY) == 0.0  # 90 days


def test_continuous_decay_by_hand():
    # p 40, no star, no date: 16 + 0 + 30 x 2^(-idle/14) + 7.5
    assert abs(t.score(40, 0, 0, None, TODAY) - 53.5) < 1e-9
    assert abs(t.score(40, 0, 7, None, TODAY) - (23.5 + 30 / 2**0.5)) < 1e-9  # 44.71
    assert abs(t.score(40, 0, 14, None, TODAY) - 38.5) < 1e-9  # one half-life: 15 points of engagement
    assert abs(t.score(40, 0, 28, None, TODAY) - 31.0) < 1e-9  # two: 7.5
    # so a lead that was WARM when fresh is still WARM idle 14 days (the nurture rule's example) ...
    assert [t.temperature(40, 0, idle, None, TODAY)[0] for idle in (0, 14, 28)] == [t.WARM, t.WARM, t.COLD]
    # ... and a hot deal due soon cools gradually, not by a step that ignores the closing date
    assert abs(t.score(90, 3, 0, date(2026, 3, 14), TODAY) - 96.0) < 1e-9  # 36 + 15 + 30 + 15
    assert t.temperature(90, 3, 14, date(2026, 3, 14), TODAY)[0] == t.HOT  # 81
    # half-life 0: no decay
    no_decay = t.TemperatureParams(half_life_days=0)
    assert t.score(40, 0, 365, None, TODAY, no_decay) == t.score(40, 0, 0, None, TODAY, no_decay)


def test_contributions_by_hand_and_team_weights():
    parts = t.contributions(50, 1, 14, date(2026, 4, 27), TODAY)
    assert abs(parts["probability"] - 20.0) < 1e-9
    assert abs(parts["priority"] - 5.0) < 1e-9
    assert abs(parts["engagement"] - 15.0) < 1e-9
    assert abs(parts["deadline"] - 15 * 42 / 83) < 1e-9
    # weights are relative: probability alone makes the score the probability
    only_p = t.TemperatureParams(
        weight_priority=0, weight_engagement=0, weight_deadline=0, weight_probability=3
    )
    assert abs(t.score(37, 3, 100, None, TODAY, only_p) - 37.0) < 1e-9


def test_thresholds():
    assert t.level_from_score(60, PARAMS) == t.HOT
    assert t.level_from_score(59.9, PARAMS) == t.WARM
    assert t.level_from_score(35, PARAMS) == t.WARM
    assert t.level_from_score(34.9, PARAMS) == t.COLD


def test_manual_override_until_inclusive():
    assert t.temperature(10, 0, 40, None, TODAY, PARAMS, manual=t.HOT, until=TODAY)[0] == t.HOT
    assert t.temperature(10, 0, 40, None, TODAY, PARAMS, manual=t.HOT, until=date(2026, 3, 9))[0] == t.COLD
    assert t.temperature(10, 0, 40, None, TODAY, PARAMS, manual=t.HOT, until=None)[0] == t.HOT


probabilities = st.floats(min_value=0, max_value=100)
stars = st.integers(min_value=0, max_value=3)
idles = st.integers(min_value=0, max_value=2000)
deadlines = st.one_of(
    st.none(), st.integers(min_value=-400, max_value=400).map(lambda d: TODAY + timedelta(days=d))
)
weights = st.floats(min_value=0, max_value=100)


@given(probabilities, stars, idles, deadlines, weights, weights, weights, weights, st.floats(0, 60))
def test_score_properties(p, prio, idle, deadline, wp, wr, we, wd, half_life):
    params = t.TemperatureParams(
        weight_probability=wp,
        weight_priority=wr,
        weight_engagement=we,
        weight_deadline=wd,
        half_life_days=half_life,
    )
    parts = t.contributions(p, prio, idle, deadline, TODAY, params)
    value = t.score(p, prio, idle, deadline, TODAY, params)
    assert abs(sum(parts.values()) - value) < 1e-9
    assert -1e-9 <= value <= 100 + 1e-9
    # idleness never warms a lead up, a higher probability never cools it
    assert t.score(p, prio, idle + 1, deadline, TODAY, params) <= value + 1e-9
    assert t.score(min(p + 10, 100), prio, idle, deadline, TODAY, params) >= value - 1e-9
