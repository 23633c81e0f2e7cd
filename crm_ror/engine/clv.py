"""Customer lifetime value: BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma (Fader, Hardie & Lok 2005).

Input per customer, in one time unit (the addon uses weeks):

* ``x``: number of repeat purchases (purchase occasions after the first one);
* ``tx``: time of the last purchase, counted from the first one (0 when ``x == 0``);
* ``T``: age of the customer, time from the first purchase to the end of the observation.

Both models are fitted by maximum likelihood with ``scipy.optimize.minimize`` on the logarithm of
the parameters (so they stay positive). When the data cannot support a fit, :class:`NotEnoughHistory`
is raised with the reason; callers show it instead of a number.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

# Below these counts a maximum-likelihood fit is mostly noise.
MIN_CUSTOMERS = 30
MIN_REPEAT_CUSTOMERS = 10
WEEKS_PER_MONTH = 52.0 / 12.0


class NotEnoughHistory(ValueError):
    """The purchase history is too short or too small to fit the model."""


@dataclass(frozen=True)
class BGNBDParams:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float


def _as_arrays(*columns):
    arrays = [np.asarray(column, dtype=float) for column in columns]
    sizes = {array.shape for array in arrays}
    if len(sizes) != 1:
        raise ValueError("all inputs must have the same length")
    return arrays


# ---------------------------------------------------------------------------------------------
# BG/NBD
# ---------------------------------------------------------------------------------------------


def bgnbd_log_likelihood(params, x, tx, T):
    """Per-customer log-likelihood of the BG/NBD model (equation 6 of Fader, Hardie & Lee 2005)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, tx, T = _as_arrays(x, tx, T)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b) - special.gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    # The second term only exists for repeat buyers; b + x - 1 > 0 there.
    a4 = np.full_like(x, -np.inf)
    a4[repeat] = np.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + tx[repeat])
    return a1 + a2 + np.logaddexp(a3, a4)


def _check_bgnbd_data(x, tx, T, min_customers, min_repeat):
    if x.size < min_customers:
        raise NotEnoughHistory(f"{x.size} customers, at least {min_customers} needed")
    if (x < 0).any() or (tx < 0).any() or (T < tx).any():
        raise ValueError("expected 0 <= tx <= T and x >= 0")
    if ((x > 0) & (tx <= 0)).any():
        raise ValueError("a repeat buyer needs tx > 0")
    repeaters = int((x > 0).sum())
    if repeaters < min_repeat:
        raise NotEnoughHistory(f"{repeaters} repeat customers, at least {min_repeat} needed")
    if T.max() <= 0:
        raise NotEnoughHistory("no observation time after the first purchases")


def fit_bgnbd(x, tx, T, min_customers=MIN_CUSTOMERS, min_repeat=MIN_REPEAT_CUSTOMERS):
    """Fit (r, alpha, a, b) by maximum likelihood; raise NotEnoughHistory when it cannot be trusted."""
    x, tx, T = _as_arrays(x, tx, T)
    _check_bgnbd_data(x, tx, T, min_customers, min_repeat)
    # Customers with the same history share one likelihood term: fit on the distinct histories,
    # weighted by their counts (many fewer rows with purchase dates in days).
    histories, weights = np.unique(np.column_stack([x, tx, T]), axis=0, return_counts=True)
    ux, utx, uT = histories.T

    def negative_ll(log_params):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value = -(weights * bgnbd_log_likelihood(BGNBDParams(*np.exp(log_params)), ux, utx, uT)).sum()
        return value if np.isfinite(value) else 1e300

    # Start from a rate of one purchase per mean customer age and a moderate dropout.
    start = np.log([1.0, max(float(T.mean()), 1e-3), 1.0, 1.0])
    result = optimize.minimize(
        negative_ll, start, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-8}
    )
    result = optimize.minimize(negative_ll, result.x, method="L-BFGS-B")
    params = BGNBDParams(*np.exp(result.x))
    values = np.array([params.r, params.alpha, params.a, params.b])
    if not np.isfinite(result.fun) or not np.isfinite(values).all() or (values > 1e6).any():
        raise NotEnoughHistory("the purchase history does not identify the model (no stable fit)")
    return params


def bgnbd_probability_alive(params, x, tx, T):
    """P(customer still active at T | x, tx, T) (equation 11)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, tx, T = _as_arrays(x, tx, T)
    result = np.ones_like(x)
    repeat = x > 0
    xr, txr, Tr = x[repeat], tx[repeat], T[repeat]
    log_ratio = np.log(a) - np.log(b + xr - 1) + (r + xr) * (np.log(alpha + Tr) - np.log(alpha + txr))
    result[repeat] = 1.0 / (1.0 + np.exp(log_ratio))
    return result


def bgnbd_expected_purchases(params, t, x, tx, T):
    """Expected number of purchases in (T, T + t] for a customer with history (x, tx, T) (equation 10)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, tx, T = _as_arrays(x, tx, T)
    if t <= 0:
        return np.zeros_like(x)
    if abs(a - 1.0) < 1e-9:
        a = 1.0 + 1e-9  # the closed form has a removable singularity at a == 1
    z = t / (alpha + T + t)
    head = (a + b + x - 1) / (a - 1)
    # ((1 - z) ** (r + x)) * 2F1(r + x, b + x; a + b + x - 1; z) of the paper, rewritten with Euler's
    # transformation so that the hypergeometric parameters do not grow with x (no overflow for
    # customers with hundreds of purchases): (1 - z) ** (a - 1) * 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z).
    body = 1.0 - np.power(1.0 - z, a - 1) * special.hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
    repeat = x > 0
    denominator = np.ones_like(x)
    denominator[repeat] = 1.0 + (a / (b + x[repeat] - 1)) * np.power(
        (alpha + T[repeat]) / (alpha + tx[repeat]), r + x[repeat]
    )
    return head * body / denominator


# ---------------------------------------------------------------------------------------------
# Gamma-Gamma spend model
# ---------------------------------------------------------------------------------------------


def gamma_gamma_log_likelihood(params, x, m):
    """Per-customer log-likelihood of the Gamma-Gamma model for ``x`` > 0 transactions of mean value ``m``."""
    p, q, gamma = params.p, params.q, params.gamma
    x, m = _as_arrays(x, m)
    return (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + m * x)
    )


def fit_gamma_gamma(x, m, min_customers=MIN_REPEAT_CUSTOMERS):
    """Fit (p, q, gamma) on repeat customers (x > 0, m > 0); raise NotEnoughHistory otherwise."""
    x, m = _as_arrays(x, m)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    if x.size < min_customers:
        raise NotEnoughHistory(
            f"{x.size} repeat customers with a positive spend, at least {min_customers} needed"
        )
    scale = float(np.mean(m))
    ms = m / scale  # fit on a unit scale, then scale gamma back (the model is scale-equivariant)

    def negative_ll(log_params):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value = -gamma_gamma_log_likelihood(GammaGammaParams(*np.exp(log_params)), x, ms).sum()
        return value if np.isfinite(value) else 1e300

    result = optimize.minimize(
        negative_ll,
        np.log([1.0, 2.0, 1.0]),
        method="Nelder-Mead",
        options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-8},
    )
    result = optimize.minimize(negative_ll, result.x, method="L-BFGS-B")
    p, q, gamma = np.exp(result.x)
    params = GammaGammaParams(float(p), float(q), float(gamma * scale))
    # Spend that hardly varies between customers drives q and gamma up together (their ratio stays
    # finite): that limit is valid, the expected spend tends to the population mean.
    if not np.isfinite(result.fun) or not np.isfinite([p, q, gamma]).all() or params.q <= 1:
        raise NotEnoughHistory("the spend history does not identify the model (no stable fit)")
    return params


def gamma_gamma_expected_spend(params, x, m):
    """Expected average transaction value given ``x`` transactions of mean ``m`` (population mean when x == 0)."""
    p, q, gamma = params.p, params.q, params.gamma
    x, m = _as_arrays(x, m)
    m = np.where(x > 0, m, 0.0)
    return p * (gamma + x * m) / (p * x + q - 1)


# ---------------------------------------------------------------------------------------------
# Discounted lifetime value
# ---------------------------------------------------------------------------------------------


def discounted_clv(bgnbd, x, tx, T, expected_spend, horizon_months, annual_discount_rate, margin_rate=1.0):
    """Discounted value of the purchases expected over the next ``horizon_months`` (times are in weeks).

    Expected purchases are taken month by month, E[Y(k)] - E[Y(k-1)], each month's value discounted at
    ``(1 + annual_discount_rate) ** (k / 12)``, times the expected spend and the margin rate.
    """
    x, tx, T, expected_spend, margin_rate = _as_arrays(
        x, tx, T, expected_spend, np.broadcast_to(margin_rate, np.shape(x))
    )
    total = np.zeros_like(x)
    previous = np.zeros_like(x)
    for month in range(1, int(horizon_months) + 1):
        cumulative = bgnbd_expected_purchases(bgnbd, month * WEEKS_PER_MONTH, x, tx, T)
        total += (cumulative - previous) / math.pow(1.0 + annual_discount_rate, month / 12.0)
        previous = cumulative
    return total * expected_spend * margin_rate
