"""Points to vouchers without the ORM: how much of a balance converts, and into what value."""

import math

from .ledger import round_points


def convert(balance, min_points, step_points, step_value):
    """``(steps, points converted, voucher value, remainder)`` of a card's ``balance``.

    A balance of at least ``min_points`` (and at least one step) converts in whole steps of
    ``step_points`` points, each worth ``step_value`` (e.g. 150 points = 1.50); the remainder,
    less than one step, stays on the card. Below the minimum nothing converts. The value is not
    rounded: the caller rounds it to its currency.
    """
    if step_points <= 0:
        raise ValueError("the conversion step must be a positive number of points")
    if step_value <= 0:
        raise ValueError("a conversion step must be worth a positive amount")
    balance = round_points(balance)
    if balance < max(min_points, step_points):
        return 0, 0.0, 0.0, balance
    steps = math.floor(balance / step_points)
    # a step that divides the balance exactly must count, whatever the float error (0.3 / 0.1)
    if round_points((steps + 1) * step_points) <= balance:
        steps += 1
    points = round_points(steps * step_points)
    return steps, points, steps * step_value, round_points(balance - points)
