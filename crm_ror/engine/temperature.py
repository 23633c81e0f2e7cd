"""Lead temperature: Odoo's predictive score and engagement signals to HOT / WARM / COLD.

Plain data in, plain data out: no ORM here. The score (0-100) is the weighted mean of four factors,
each 0-100, with weights set per sales team:

- probability: the predictive probability Odoo already computes for the lead (predictive lead scoring);
- priority: the stars, 0-3 (0, 33.3, 66.7, 100);
- engagement: 100 on the day of the last engagement, halving every ``half_life_days`` idle days
  (continuous decay; a half-life of 0 turns decay off);
- closing date: 100 when due within ``DEADLINE_NEAR_DAYS``, falling linearly to 0 at
  ``DEADLINE_FAR_DAYS``; 0 when overdue (the deal slipped); **50 (neutral) when not set**.

``contributions()`` gives each factor's share of the score (they add up to the score): it is what the
lead form and the kanban tooltip show. The score is stored as a whole number (``rounded``), which maps
to a level through the team's thresholds.
A manual override wins until its "until" date has passed (inclusive).

The default weights and thresholds make a fresh lead with no stars and no closing date WARM for any
probability below 56 %: 0.4 p + 30 (engagement) + 7.5 (neutral closing date) >= 35. Idle 14 days with
the default half-life, such a lead stays WARM from p = 32 %: so a rule "warm, idle 14 days" meets
leads that were WARM when fresh, not only those that were HOT.

``crm.lead._ror_temperature_sql`` computes the same thing set-wise in SQL; a database test holds the
two to the same results.
"""

import math
from dataclasses import dataclass

HOT = "hot"
WARM = "warm"
COLD = "cold"
LEVELS = (COLD, WARM, HOT)
FACTORS = ("probability", "priority", "engagement", "deadline")

DEADLINE_NEAR_DAYS = 7
DEADLINE_FAR_DAYS = 90
DEADLINE_NEUTRAL = 50.0


@dataclass(frozen=True)
class TemperatureParams:
    hot_threshold: float = 60.0
    warm_threshold: float = 35.0
    half_life_days: float = 14.0
    weight_probability: float = 40.0
    weight_priority: float = 15.0
    weight_engagement: float = 30.0
    weight_deadline: float = 15.0

    def weights(self):
        return {
            "probability": self.weight_probability,
            "priority": self.weight_priority,
            "engagement": self.weight_engagement,
            "deadline": self.weight_deadline,
        }


DEFAULT_PARAMS = TemperatureParams()


def idle_days(last_engagement, now):
    """Whole days between the last engagement (datetime) and ``now``; never negative."""
    if not last_engagement:
        return 0
    return max((now - last_engagement).days, 0)


def engagement_score(idle, half_life):
    if half_life <= 0:
        return 100.0
    return 100.0 * 2.0 ** (-max(idle, 0) / half_life)


def deadline_score(deadline, today, near=DEADLINE_NEAR_DAYS, far=DEADLINE_FAR_DAYS):
    if not deadline:
        return DEADLINE_NEUTRAL
    days_left = (deadline - today).days
    if days_left < 0:
        return 0.0
    if days_left <= near:
        return 100.0
    if days_left >= far:
        return 0.0
    return 100.0 * (far - days_left) / (far - near)


def factors(probability, priority, idle, deadline, today, params=DEFAULT_PARAMS):
    """Each factor on 0-100."""
    return {
        "probability": min(max(probability or 0.0, 0.0), 100.0),
        "priority": min(max(int(priority or 0), 0), 3) * 100.0 / 3.0,
        "engagement": engagement_score(idle, params.half_life_days),
        "deadline": deadline_score(deadline, today),
    }


def contributions(probability, priority, idle, deadline, today, params=DEFAULT_PARAMS):
    """Each factor's points in the score: weight share x factor; they add up to the score."""
    weights = params.weights()
    total = sum(weights.values())
    if total <= 0:
        return dict.fromkeys(FACTORS, 0.0)
    values = factors(probability, priority, idle, deadline, today, params)
    return {key: weights[key] * values[key] / total for key in FACTORS}


def score(probability, priority, idle, deadline, today, params=DEFAULT_PARAMS):
    """Weighted mean of the factors, 0-100 (probability in percent, priority 0-3)."""
    return sum(contributions(probability, priority, idle, deadline, today, params).values())


def rounded(value):
    """The stored score: a whole number (half up), so that a lead's row changes only when its score
    moves by a point, not every day by a fraction. The level is read from it."""
    return math.floor(value + 0.5)


def level_from_score(value, params=DEFAULT_PARAMS):
    if value >= params.hot_threshold:
        return HOT
    if value >= params.warm_threshold:
        return WARM
    return COLD


def manual_active(manual, until, today):
    return bool(manual) and (not until or until >= today)


def temperature(probability, priority, idle, deadline, today, params=DEFAULT_PARAMS, manual=None, until=None):
    """Return ``(temperature, score)`` for one lead; the score is the stored, whole one."""
    value = rounded(score(probability, priority, idle, deadline, today, params))
    if manual_active(manual, until, today):
        return manual, value
    return level_from_score(value, params), value
