"""Lead temperature: Odoo's predictive score and engagement signals to HOT / WARM / COLD.

Plain data in, plain data out: no ORM here. The score is a weighted blend (0-100) of

- the predictive probability Odoo already computes for the lead (predictive lead scoring),
- the priority (0-3 stars),
- engagement recency: 100 on the day of the last engagement, falling linearly to 0 after
  ``recency_horizon_days`` idle days,
- closeness of the expected closing date: 100 when due within ``deadline_near_days``,
  falling linearly to 0 at ``deadline_far_days``; 0 when overdue or not set.

The score maps to a temperature through the team's thresholds; then decay cools the lead one
level per ``decay_days`` idle days (HOT -> WARM after N days, -> COLD after 2N days).
A manual override wins until its "until" date has passed (inclusive).
"""

from dataclasses import dataclass

HOT = "hot"
WARM = "warm"
COLD = "cold"
LEVELS = (COLD, WARM, HOT)

# Weights of the blend; they sum to 1 so the score stays in 0-100.
WEIGHTS = {"probability": 0.5, "priority": 0.15, "recency": 0.2, "deadline": 0.15}


@dataclass(frozen=True)
class TemperatureParams:
    hot_threshold: float = 60.0
    warm_threshold: float = 35.0
    decay_days: int = 14
    recency_horizon_days: int = 30
    deadline_near_days: int = 7
    deadline_far_days: int = 90


DEFAULT_PARAMS = TemperatureParams()


def idle_days(last_engagement, now):
    """Whole days between the last engagement (datetime) and ``now``; never negative."""
    if not last_engagement:
        return 0
    return max((now - last_engagement).days, 0)


def recency_score(idle, horizon):
    if horizon <= 0:
        return 0.0
    return max(0.0, 100.0 * (1.0 - idle / horizon))


def deadline_score(deadline, today, near, far):
    if not deadline:
        return 0.0
    days_left = (deadline - today).days
    if days_left < 0:
        return 0.0
    if days_left <= near:
        return 100.0
    if days_left >= far:
        return 0.0
    return 100.0 * (far - days_left) / (far - near)


def score(probability, priority, idle, deadline, today, params=DEFAULT_PARAMS):
    """Blend of the signals, 0-100 (probability in percent, priority 0-3)."""
    parts = {
        "probability": min(max(probability or 0.0, 0.0), 100.0),
        "priority": min(max(int(priority or 0), 0), 3) * 100.0 / 3.0,
        "recency": recency_score(idle, params.recency_horizon_days),
        "deadline": deadline_score(deadline, today, params.deadline_near_days, params.deadline_far_days),
    }
    return sum(WEIGHTS[key] * value for key, value in parts.items())


def level_from_score(value, params=DEFAULT_PARAMS):
    if value >= params.hot_threshold:
        return HOT
    if value >= params.warm_threshold:
        return WARM
    return COLD


def decay(level, idle, decay_days):
    """Cool ``level`` by one step per full ``decay_days`` of idleness."""
    if decay_days <= 0:
        return level
    steps = idle // decay_days
    return LEVELS[max(LEVELS.index(level) - steps, 0)]


def manual_active(manual, until, today):
    return bool(manual) and (not until or until >= today)


def temperature(probability, priority, idle, deadline, today, params=DEFAULT_PARAMS, manual=None, until=None):
    """Return ``(temperature, score)`` for one lead."""
    value = score(probability, priority, idle, deadline, today, params)
    if manual_active(manual, until, today):
        return manual, value
    return decay(level_from_score(value, params), idle, params.decay_days), value
