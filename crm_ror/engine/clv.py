"""Customer lifetime value: BG/NBD (Fader, Hardie & Lee 2005), the modified BG/NBD (Batislam, Denizel
& Filiztekin 2007) and Gamma-Gamma (Fader, Hardie & Lok 2005).

In BG/NBD a customer can only drop out right after a *repeat* purchase, so a one-time buyer is 100 %
alive whatever his age. MBG/NBD lets a customer drop out after any purchase, the first included (the
drop-out terms use ``b + x`` where BG/NBD uses ``b + x - 1``): a one-time buyer of three years ago is
then rightly given a low probability of being alive. MBG/NBD is the addon's default.

Input per customer, in one time unit (the addon uses weeks):

* ``x``: number of repeat purchases (purchase occasions after the first one);
* ``tx``: time of the last purchase, counted from the first one (0 when ``x == 0``);
* ``T``: age of the customer, time from the first purchase to the end of the observation.

The models are fitted by maximum likelihood with ``scipy.optimize.minimize`` (L-BFGS-B with the
analytic gradient) on the logarithm of the parameters (so they stay positive), on the distinct
histories weighted by their counts. When the data cannot support a fit, :class:`NotEnoughHistory`
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
BGNBD = "bgnbd"
MBGNBD = "mbgnbd"
# The expected next purchase is looked for within this many weeks (ten years).
NEXT_PURCHASE_MAX_WEEKS = 520.0
# Relative width of the bracket of the next purchase's time when found, and the steps allowed.
NEXT_PURCHASE_PRECISION = 1e-12
NEXT_PURCHASE_MAX_STEPS = 200
# Bounds of the logarithms of the BG/NBD parameters during the fit.
LOG_PARAM_MIN, LOG_PARAM_MAX = math.log(1e-8), math.log(1e6)


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


def _shift(model):
    """0 for BG/NBD, 1 for MBG/NBD: MBG/NBD's drop-out terms read ``b + x`` where BG/NBD reads ``b + x - 1``."""
    if model not in (BGNBD, MBGNBD):
        raise ValueError(f"unknown purchase model {model!r}")
    return 1.0 if model == MBGNBD else 0.0


def _log_likelihood_terms(params, x, tx, T, model, gradient=False):
    """Per-customer log-likelihood (BG/NBD eq. 6, or its MBG/NBD form), and optionally its gradient
    with respect to the logarithms of (r, alpha, a, b), one row per customer."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    c = _shift(model)
    # BG/NBD: no drop-out term for one-time buyers; MBG/NBD: for everybody.
    drop = x > 0 if model == BGNBD else np.ones_like(x, dtype=bool)
    bx = np.where(drop, b + x - 1 + c, 1.0)  # b + x - 1 + c > 0 where the term exists
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x + c)
        - special.gammaln(b)
        - special.gammaln(a + b + x + c)
    )
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(drop, np.log(a) - np.log(bx) - (r + x) * np.log(alpha + tx), -np.inf)
    tail = np.logaddexp(a3, a4)
    ll = a1 + a2 + tail
    if not gradient:
        return ll
    w3 = np.exp(a3 - tail)
    w4 = np.where(drop, np.exp(a4 - tail), 0.0)
    psi = special.digamma
    d_r = psi(r + x) - psi(r) + np.log(alpha) - w3 * np.log(alpha + T) - w4 * np.log(alpha + tx)
    d_alpha = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + tx)
    d_a = psi(a + b) - psi(a + b + x + c) + w4 / a
    d_b = psi(a + b) + psi(b + x + c) - psi(b) - psi(a + b + x + c) - w4 / bx
    # d/d(log p) = p * d/dp
    grad = np.column_stack([r * d_r, alpha * d_alpha, a * d_a, b * d_b])
    return ll, grad


def bgnbd_log_likelihood(params, x, tx, T):
    """Per-customer log-likelihood of the BG/NBD model (equation 6 of Fader, Hardie & Lee 2005)."""
    x, tx, T = _as_arrays(x, tx, T)
    return _log_likelihood_terms(params, x, tx, T, BGNBD)


def mbgnbd_log_likelihood(params, x, tx, T):
    """Per-customer log-likelihood of the modified BG/NBD model (Batislam et al. 2007)."""
    x, tx, T = _as_arrays(x, tx, T)
    return _log_likelihood_terms(params, x, tx, T, MBGNBD)


def negative_log_likelihood_and_gradient(log_params, x, tx, T, weights, model=BGNBD):
    """The objective of the fit and its analytic gradient, both in the logarithms of the parameters."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ll, grad = _log_likelihood_terms(BGNBDParams(*np.exp(log_params)), x, tx, T, model, gradient=True)
        value = -(weights * ll).sum()
        jac = -(weights[:, None] * grad).sum(axis=0)
    if not np.isfinite(value) or not np.isfinite(jac).all():
        return 1e300, np.zeros(4)
    return value, jac


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


def fit_bgnbd(x, tx, T, min_customers=MIN_CUSTOMERS, min_repeat=MIN_REPEAT_CUSTOMERS, model=BGNBD):
    """Fit (r, alpha, a, b) of BG/NBD (or MBG/NBD with ``model="mbgnbd"``) by maximum likelihood;
    raise NotEnoughHistory when it cannot be trusted."""
    x, tx, T = _as_arrays(x, tx, T)
    _shift(model)
    _check_bgnbd_data(x, tx, T, min_customers, min_repeat)
    # Customers with the same history share one likelihood term: fit on the distinct histories,
    # weighted by their counts (many fewer rows with purchase dates in days).
    histories, weights = np.unique(np.column_stack([x, tx, T]), axis=0, return_counts=True)
    ux, utx, uT = histories.T
    weights = weights.astype(float)
    args = (ux, utx, uT, weights, model)
    # Start from a rate of one purchase per mean customer age and a moderate dropout.
    start = np.log([1.0, max(float(T.mean()), 1e-3), 1.0, 1.0])
    # Bounded, so that a history that does not identify the model ends at a bound instead of
    # overflowing; such a fit is refused below.
    bounds = [(LOG_PARAM_MIN, LOG_PARAM_MAX)] * 4
    result = optimize.minimize(
        negative_log_likelihood_and_gradient, start, args=args, jac=True, method="L-BFGS-B", bounds=bounds
    )
    if not result.success:
        # A rough start far from the optimum: a gradient-free pass, then the gradient again.
        rough = optimize.minimize(
            lambda p: negative_log_likelihood_and_gradient(p, *args)[0],
            start,
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-8},
        )
        result = optimize.minimize(
            negative_log_likelihood_and_gradient,
            np.clip(rough.x, LOG_PARAM_MIN, LOG_PARAM_MAX),
            args=args,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
        )
    params = BGNBDParams(*np.exp(result.x))
    at_bound = np.isclose(result.x, LOG_PARAM_MIN).any() or np.isclose(result.x, LOG_PARAM_MAX).any()
    if not np.isfinite(result.fun) or result.fun >= 1e300 or at_bound:
        raise NotEnoughHistory("the purchase history does not identify the model (no stable fit)")
    return params


def _drop_out_odds(params, x, tx, T, model):
    """The odds of having dropped out, ``P(dead) / P(alive)`` (0 for BG/NBD one-time buyers)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    c = _shift(model)
    drop = x > 0 if model == BGNBD else np.ones_like(x, dtype=bool)
    bx = np.where(drop, b + x - 1 + c, 1.0)
    log_odds = np.log(a) - np.log(bx) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
    return np.where(drop, np.exp(log_odds), 0.0)


def bgnbd_probability_alive(params, x, tx, T, model=BGNBD):
    """P(customer still active at T | x, tx, T) (equation 11; MBG/NBD with ``model="mbgnbd"``)."""
    x, tx, T = _as_arrays(x, tx, T)
    return 1.0 / (1.0 + _drop_out_odds(params, x, tx, T, model))


def bgnbd_expected_purchases(params, t, x, tx, T, model=BGNBD):
    """Expected number of purchases in (T, T + t] for a customer with history (x, tx, T) (equation 10;
    MBG/NBD with ``model="mbgnbd"``). ``t`` is a number or an array aligned with ``x``."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, tx, T = _as_arrays(x, tx, T)
    t = np.broadcast_to(np.asarray(t, dtype=float), x.shape)
    c = _shift(model)
    if abs(a - 1.0) < 1e-9:
        a = 1.0 + 1e-9  # the closed form has a removable singularity at a == 1
    z = t / (alpha + T + t)
    head = (a + b + x - 1 + c) / (a - 1)
    # ((1 - z) ** (r + x)) * 2F1(r + x, b + x + c; a + b + x - 1 + c; z) of the papers, rewritten with
    # Euler's transformation so that the hypergeometric parameters do not grow with x (no overflow for
    # customers with hundreds of purchases): (1 - z) ** (a - 1) * 2F1(a + b - 1 + c - r, a - 1; a + b + x - 1 + c; z).
    body = 1.0 - np.power(1.0 - z, a - 1) * special.hyp2f1(a + b - 1 + c - r, a - 1, a + b + x - 1 + c, z)
    result = head * body / (1.0 + _drop_out_odds(params, x, tx, T, model))
    return np.where(t > 0, result, 0.0)


def expected_next_purchase(params, x, tx, T, model=BGNBD, max_weeks=NEXT_PURCHASE_MAX_WEEKS):
    """Time after T by which one purchase is expected (E[Y(t)] = 1), NaN when not within ``max_weeks``.

    E[Y(t)] grows with t from 0: a root search bracketed in [0, max_weeks] on all customers at once,
    by regula falsi with the Illinois modification (the root stays bracketed as in a bisection, in
    about a third of its steps), to a relative precision of NEXT_PURCHASE_PRECISION; the upper end
    of the bracket is returned (one purchase expected by then).
    """
    x, tx, T = _as_arrays(x, tx, T)
    low, high = np.zeros_like(x), np.full_like(x, max_weeks)
    below = np.full_like(x, -1.0)  # E[Y(t)] - 1 at low (E[Y(0)] = 0) and at high
    above = bgnbd_expected_purchases(params, high, x, tx, T, model) - 1.0
    reachable = above >= 0.0
    side = np.zeros(x.shape, dtype=int)  # the end moved by the last step: -1 low, 1 high
    for _step in range(NEXT_PURCHASE_MAX_STEPS):
        # a customer is done when the bracket is narrow, or the upper end is the root
        open_ = np.flatnonzero(reachable & (high - low > NEXT_PURCHASE_PRECISION * high) & (above > 0.0))
        if not open_.size:
            break
        lo, hi, f_lo, f_hi = low[open_], high[open_], below[open_], above[open_]
        middle = np.clip(hi - f_hi * (hi - lo) / (f_hi - f_lo), lo, hi)
        value = bgnbd_expected_purchases(params, middle, x[open_], tx[open_], T[open_], model) - 1.0
        up = value >= 0.0
        last = side[open_]
        # Illinois: an end kept twice in a row has its value halved, so that it moves next time
        below[open_] = np.where(up, np.where(last == 1, f_lo / 2, f_lo), value)
        above[open_] = np.where(up, value, np.where(last == -1, f_hi / 2, f_hi))
        low[open_] = np.where(up, lo, middle)
        high[open_] = np.where(up, middle, hi)
        side[open_] = np.where(up, 1, -1)
    return np.where(reachable, high, np.nan)


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


def gamma_gamma_negative_log_likelihood_and_gradient(log_params, x, m):
    """The objective of the Gamma-Gamma fit and its analytic gradient, in the logarithms of (p, q, gamma)."""
    p, q, gamma = np.exp(log_params)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        value = -gamma_gamma_log_likelihood(GammaGammaParams(p, q, gamma), x, m).sum()
        px = p * x
        digamma_all = special.digamma(px + q)
        log_total = np.log(gamma + m * x)
        # d ll / d log(theta) = theta * d ll / d theta
        jac = -np.array(
            [
                p * (x * (digamma_all - special.digamma(px) + np.log(m) + np.log(x) - log_total)).sum(),
                q * (digamma_all - special.digamma(q) + np.log(gamma) - log_total).sum(),
                gamma * (q / gamma - (px + q) / (gamma + m * x)).sum(),
            ]
        )
    if not np.isfinite(value) or not np.isfinite(jac).all():
        return 1e300, np.zeros(3)
    return value, jac


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
    objective = gamma_gamma_negative_log_likelihood_and_gradient
    start = np.log([1.0, 2.0, 1.0])
    result = optimize.minimize(objective, start, args=(x, ms), jac=True, method="L-BFGS-B")
    if not result.success:
        # A start far from the optimum: a gradient-free pass, then the gradient again.
        rough = optimize.minimize(
            lambda log_params: objective(log_params, x, ms)[0],
            start,
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-8},
        )
        result = optimize.minimize(objective, rough.x, args=(x, ms), jac=True, method="L-BFGS-B")
    p, q, gamma = np.exp(result.x)
    params = GammaGammaParams(float(p), float(q), float(gamma * scale))
    # Spend that hardly varies between customers drives q and gamma up together (their ratio stays
    # finite): that limit is valid, the expected spend tends to the population mean.
    if (
        not np.isfinite(result.fun)
        or result.fun >= 1e300
        or not np.isfinite([p, q, gamma]).all()
        or params.q <= 1
    ):
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


def discounted_clv(
    bgnbd, x, tx, T, expected_spend, horizon_months, annual_discount_rate, margin_rate=1.0, model=BGNBD
):
    """Discounted value of the purchases expected over the next ``horizon_months`` (times are in weeks).

    Expected purchases are taken month by month, E[Y(k)] - E[Y(k-1)], each month's value discounted at
    ``(1 + annual_discount_rate) ** (k / 12)``, times the expected spend and the margin rate.
    """
    x, tx, T, expected_spend, margin_rate = _as_arrays(
        x, tx, T, expected_spend, np.broadcast_to(margin_rate, np.shape(x))
    )
    return _discounted_purchases(bgnbd, x, tx, T, horizon_months, annual_discount_rate, model) * (
        expected_spend * margin_rate
    )


def _discounted_purchases(bgnbd, x, tx, T, horizon_months, annual_discount_rate, model):
    """Sum over the months of the horizon of the purchases expected in each month, discounted."""
    total = np.zeros_like(x)
    previous = np.zeros_like(x)
    for month in range(1, int(horizon_months) + 1):
        cumulative = bgnbd_expected_purchases(bgnbd, month * WEEKS_PER_MONTH, x, tx, T, model)
        total += (cumulative - previous) / math.pow(1.0 + annual_discount_rate, month / 12.0)
        previous = cumulative
    return total


# ---------------------------------------------------------------------------------------------
# Everything a customer profile shows
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    """Per-customer arrays (aligned with the inputs) and the fitted parameters."""

    purchase_params: BGNBDParams
    spend_params: GammaGammaParams
    expected_purchases: np.ndarray
    probability_alive: np.ndarray
    expected_spend: np.ndarray
    clv: np.ndarray
    next_purchase_weeks: np.ndarray  # NaN: no purchase expected within NEXT_PURCHASE_MAX_WEEKS
    finite: np.ndarray  # False where the closed forms give no finite value for the history


def fit(x, tx, T, spend, model=MBGNBD, min_customers=MIN_CUSTOMERS, min_repeat=MIN_REPEAT_CUSTOMERS):
    """``(purchase params, spend params)``: the purchase model and Gamma-Gamma fitted on the customers."""
    x, tx, T, spend = _as_arrays(x, tx, T, spend)
    tx = np.where(x > 0, tx, 0.0)
    return fit_bgnbd(x, tx, T, min_customers, min_repeat, model=model), fit_gamma_gamma(x, spend, min_repeat)


def predict(
    x,
    tx,
    T,
    spend,
    margin_rate,
    horizon_months,
    annual_discount_rate,
    model=MBGNBD,
    min_customers=MIN_CUSTOMERS,
    min_repeat=MIN_REPEAT_CUSTOMERS,
    params=None,
):
    """Fit the purchase model and Gamma-Gamma, then predict each customer's figures over the horizon.

    ``x``, ``tx``, ``T`` in weeks as above, ``spend`` the mean value of the repeat purchases,
    ``margin_rate`` per customer (or one number). Raises NotEnoughHistory as the fits do.
    ``params``: the ``(purchase, spend)`` parameters of :func:`fit` on the whole population, to
    predict a part of it (a chunk of customers) without fitting again.
    """
    x, tx, T, spend = _as_arrays(x, tx, T, spend)
    tx = np.where(x > 0, tx, 0.0)
    if params is None:
        params = fit(x, tx, T, spend, model, min_customers, min_repeat)
    purchase_params, spend_params = params
    margin_rate = np.broadcast_to(np.asarray(margin_rate, dtype=float), x.shape)
    # The purchase figures depend on the history (x, tx, T) only: compute them once per distinct
    # history (about half the customers at 100k), then spread them back.
    histories, inverse = np.unique(np.column_stack([x, tx, T]), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    ux, utx, uT = histories.T
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        expected_spend = gamma_gamma_expected_spend(spend_params, x, spend)
        purchases = bgnbd_expected_purchases(
            purchase_params, horizon_months * WEEKS_PER_MONTH, ux, utx, uT, model
        )[inverse]
        alive = bgnbd_probability_alive(purchase_params, ux, utx, uT, model)[inverse]
        discounted = _discounted_purchases(
            purchase_params, ux, utx, uT, horizon_months, annual_discount_rate, model
        )[inverse]
        clv = discounted * expected_spend * margin_rate
        next_purchase = expected_next_purchase(purchase_params, ux, utx, uT, model)[inverse]
    finite = np.isfinite(clv) & np.isfinite(purchases) & np.isfinite(alive) & np.isfinite(expected_spend)
    return Prediction(
        purchase_params, spend_params, purchases, alive, expected_spend, clv, next_purchase, finite
    )


# ---------------------------------------------------------------------------------------------
# Calibration against a holdout period
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationRow:
    frequency: int  # repeat purchases in the calibration period (the last row: this many or more)
    customers: int
    predicted: float  # mean purchases predicted in the holdout period
    actual: float  # mean purchases made in it


def calibration(x, tx, T, actual, holdout, model=MBGNBD, max_frequency=6, **fit_options):
    """Fit on the calibration period, predict the holdout purchases, compare with the actual ones.

    ``x``, ``tx``, ``T`` describe each customer up to the cut-off, ``actual`` his purchases in the
    ``holdout`` time after it. Returns ``(params, rows, mae)``: the rows group the customers by
    calibration frequency (the table behind lifetimes' ``plot_calibration_purchases_vs_holdout_
    purchases``), ``mae`` is the mean absolute error per customer.
    """
    x, tx, T, actual = _as_arrays(x, tx, T, actual)
    tx = np.where(x > 0, tx, 0.0)
    params = fit_bgnbd(x, tx, T, model=model, **fit_options)
    predicted = bgnbd_expected_purchases(params, holdout, x, tx, T, model)
    groups = np.minimum(x, max_frequency).astype(int)
    rows = [
        CalibrationRow(
            frequency=int(group),
            customers=int((groups == group).sum()),
            predicted=float(predicted[groups == group].mean()),
            actual=float(actual[groups == group].mean()),
        )
        for group in np.unique(groups)
    ]
    return params, rows, float(np.abs(predicted - actual).mean())
