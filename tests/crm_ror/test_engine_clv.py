"""BG/NBD and Gamma-Gamma engines: likelihoods by hand, published values, parameter recovery."""

import math

import numpy as np
import pytest

from odoo.addons.crm_ror.engine import clv


def _simulate_bgnbd(params, n, T, seed):
    """Simulate (x, tx, T) from the BG/NBD story: Poisson purchases, dropout after each repeat purchase."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(params.r, 1.0 / params.alpha, n)
    drop = rng.beta(params.a, params.b, n)
    xs, txs = np.zeros(n), np.zeros(n)
    for i in range(n):
        t, x, tx = 0.0, 0, 0.0
        while True:
            t += rng.exponential(1.0 / lam[i])
            if t > T:
                break
            x, tx = x + 1, t
            if rng.random() < drop[i]:
                break
        xs[i], txs[i] = x, tx
    return xs, txs, np.full(n, float(T))


def test_bgnbd_log_likelihood_by_hand():
    params = clv.BGNBDParams(r=1.0, alpha=1.0, a=1.0, b=1.0)
    # x=1, tx=2, T=4: B(1,2)/B(1,1) * 1/5^2 + B(2,1)/B(1,1) * 1/3^2 = 0.5/25 + 0.5/9
    expected_repeat = math.log(0.5 / 25 + 0.5 / 9)
    # x=0: only the first term, (alpha / (alpha + T)) ** r
    params_0 = clv.BGNBDParams(r=0.5, alpha=2.0, a=0.8, b=2.5)
    expected_zero = 0.5 * math.log(2.0 / 12.0)
    assert clv.bgnbd_log_likelihood(params, [1], [2], [4])[0] == pytest.approx(expected_repeat, rel=1e-12)
    assert clv.bgnbd_log_likelihood(params_0, [0], [0], [10])[0] == pytest.approx(expected_zero, rel=1e-12)


def test_bgnbd_log_likelihood_general_formula():
    r, alpha, a, b, x, tx, T = 0.24, 4.41, 0.79, 2.43, 3, 20.0, 30.0

    def beta(u, v):
        return math.gamma(u) * math.gamma(v) / math.gamma(u + v)

    common = math.gamma(r + x) * alpha**r / math.gamma(r)
    likelihood = beta(a, b + x) / beta(a, b) * common / (alpha + T) ** (r + x) + beta(
        a + 1, b + x - 1
    ) / beta(a, b) * common / (alpha + tx) ** (r + x)
    value = clv.bgnbd_log_likelihood(clv.BGNBDParams(r, alpha, a, b), [x], [tx], [T])[0]
    assert value == pytest.approx(math.log(likelihood), rel=1e-10)


def test_bgnbd_probability_alive_and_expectation():
    params = clv.BGNBDParams(r=1.0, alpha=1.0, a=1.0, b=1.0)
    alive = clv.bgnbd_probability_alive(params, [0, 1], [0, 2], [4, 4])
    assert alive[0] == 1.0  # no repeat purchase: the model cannot have lost the customer yet
    assert alive[1] == pytest.approx(9 / 34)  # 1 / (1 + (5/3) ** 2)
    # Published example (Fader, Hardie & Lee 2005, CDNOW): x=2, tx=30.43, T=38.86 -> 1.226 in 39 weeks.
    cdnow = clv.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    expected = clv.bgnbd_expected_purchases(cdnow, 39, [2], [30.43], [38.86])[0]
    assert expected == pytest.approx(1.226, abs=0.002)
    assert clv.bgnbd_expected_purchases(cdnow, 0, [2], [30.43], [38.86])[0] == 0
    # More history of recent purchases means more expected purchases.
    low, high = clv.bgnbd_expected_purchases(cdnow, 52, [1, 5], [30, 38], [39, 39])
    assert 0 < low < high


def test_bgnbd_recovers_known_parameters():
    truth = clv.BGNBDParams(r=0.5, alpha=6.0, a=0.8, b=2.5)
    x, tx, T = _simulate_bgnbd(truth, 4000, 52.0, seed=3)
    fitted = clv.fit_bgnbd(x, tx, T)
    assert fitted.r == pytest.approx(truth.r, rel=0.15)
    assert fitted.alpha == pytest.approx(truth.alpha, rel=0.2)
    assert fitted.a == pytest.approx(truth.a, rel=0.35)
    assert fitted.b == pytest.approx(truth.b, rel=0.45)
    # The fit is a maximum: the likelihood at the truth is not higher.
    assert clv.bgnbd_log_likelihood(fitted, x, tx, T).sum() >= clv.bgnbd_log_likelihood(truth, x, tx, T).sum()


def test_bgnbd_refuses_too_little_history():
    with pytest.raises(clv.NotEnoughHistory):
        clv.fit_bgnbd([1, 0, 2], [3, 0, 5], [10, 10, 10])
    # Enough customers, but nobody came back: purchase rates and dropout cannot be told apart.
    with pytest.raises(clv.NotEnoughHistory):
        clv.fit_bgnbd([0] * 50, [0] * 50, [20] * 50)
    with pytest.raises(ValueError):
        clv.fit_bgnbd([1] * 40, [5] * 40, [3] * 40, min_customers=1, min_repeat=1)


def test_gamma_gamma_log_likelihood_by_hand():
    # One transaction of value 1 with p=1, q=2, gamma=1: 2 * 1 / (1 + 1) ** 3 = 1/4.
    params = clv.GammaGammaParams(p=1.0, q=2.0, gamma=1.0)
    assert clv.gamma_gamma_log_likelihood(params, [1], [1.0])[0] == pytest.approx(math.log(0.25))


def test_gamma_gamma_expected_spend():
    params = clv.GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
    population_mean = params.p * params.gamma / (params.q - 1)
    spend = clv.gamma_gamma_expected_spend(params, [0, 1, 50], [0.0, 100.0, 100.0])
    assert spend[0] == pytest.approx(population_mean)
    # Shrinkage: between the population mean and the customer's own mean, closer with more purchases.
    assert population_mean < spend[1] < spend[2] < 100.0


def test_gamma_gamma_recovers_known_parameters():
    truth = clv.GammaGammaParams(p=6.0, q=4.0, gamma=15.0)
    x, m = _simulate_gamma_gamma(truth, 4000, seed=11)
    fitted = clv.fit_gamma_gamma(x, m)
    assert fitted.p == pytest.approx(truth.p, rel=0.15)
    assert fitted.q == pytest.approx(truth.q, rel=0.15)
    assert fitted.gamma == pytest.approx(truth.gamma, rel=0.25)


def _simulate_gamma_gamma(truth, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 8, n).astype(float)
    nu = rng.gamma(truth.q, 1.0 / truth.gamma, n)
    return x, np.array([rng.gamma(truth.p, 1.0 / nu[i], int(x[i])).mean() for i in range(n)])


def test_gamma_gamma_analytic_gradient_matches_finite_differences():
    x, m = _simulate_gamma_gamma(clv.GammaGammaParams(p=6.0, q=4.0, gamma=15.0), 300, seed=4)
    m = m / m.mean()
    for log_params in (np.log([1.0, 2.0, 1.0]), np.log([6.0, 4.0, 0.5]), np.log([0.3, 9.0, 3.0])):
        _value, jac = clv.gamma_gamma_negative_log_likelihood_and_gradient(log_params, x, m)
        numeric = np.zeros(3)
        for k in range(3):
            step = np.zeros(3)
            step[k] = 1e-6
            up = clv.gamma_gamma_negative_log_likelihood_and_gradient(log_params + step, x, m)[0]
            down = clv.gamma_gamma_negative_log_likelihood_and_gradient(log_params - step, x, m)[0]
            numeric[k] = (up - down) / 2e-6
        assert jac == pytest.approx(numeric, rel=1e-5, abs=1e-4)


def test_gamma_gamma_fit_is_the_maximum_likelihood():
    # The gradient fit ends where a long gradient-free search ends, at a point no neighbour beats.
    from scipy import optimize

    x, m = _simulate_gamma_gamma(clv.GammaGammaParams(p=2.0, q=3.0, gamma=40.0), 3000, seed=8)
    fitted = clv.fit_gamma_gamma(x, m)
    scale = m.mean()
    log_fitted = np.log([fitted.p, fitted.q, fitted.gamma / scale])
    objective = clv.gamma_gamma_negative_log_likelihood_and_gradient
    best = objective(log_fitted, x, m / scale)[0]
    search = optimize.minimize(
        lambda log_params: objective(log_params, x, m / scale)[0],
        np.log([1.0, 2.0, 1.0]),
        method="Nelder-Mead",
        options={"maxiter": 20000, "xatol": 1e-10, "fatol": 1e-12},
    )
    assert best <= search.fun + 1e-6
    for k in range(3):
        for sign in (1, -1):
            step = np.zeros(3)
            step[k] = sign * 1e-3
            assert objective(log_fitted + step, x, m / scale)[0] >= best


def test_gamma_gamma_without_heterogeneity_tends_to_the_population_mean():
    rng = np.random.default_rng(3)
    x = rng.integers(1, 6, 500).astype(float)
    m = np.array([rng.gamma(6.0, 25.0, int(k)).mean() for k in x])  # same spend law for everybody
    params = clv.fit_gamma_gamma(x, m)
    spend = clv.gamma_gamma_expected_spend(params, [0, 1, 5], [0.0, 300.0, 300.0])
    assert np.isfinite(spend).all()
    assert spend[0] == pytest.approx(150.0, rel=0.05)  # the population mean, 6 x 25
    assert spend[1] == pytest.approx(spend[0], rel=0.1)  # a customer's own mean hardly counts


def test_gamma_gamma_refuses_too_little_history():
    with pytest.raises(clv.NotEnoughHistory):
        clv.fit_gamma_gamma([1, 2, 0], [10.0, 20.0, 0.0])


def test_discounted_clv():
    params = clv.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    args = ([2], [30.43], [38.86])
    undiscounted = clv.discounted_clv(
        params, *args, expected_spend=[10.0], horizon_months=12, annual_discount_rate=0.0
    )
    direct = clv.bgnbd_expected_purchases(params, 52.0, *args) * 10.0
    assert undiscounted[0] == pytest.approx(direct[0])
    discounted = clv.discounted_clv(
        params, *args, expected_spend=[10.0], horizon_months=12, annual_discount_rate=0.1
    )
    assert direct[0] / 1.1 < discounted[0] < undiscounted[0]
    half_margin = clv.discounted_clv(
        params, *args, expected_spend=[10.0], horizon_months=12, annual_discount_rate=0.1, margin_rate=0.5
    )
    assert half_margin[0] == pytest.approx(discounted[0] / 2)
    assert (
        clv.discounted_clv(params, *args, expected_spend=[10.0], horizon_months=0, annual_discount_rate=0.1)[
            0
        ]
        == 0
    )


def test_expected_purchases_matches_the_paper_form_and_stays_finite():
    from scipy import special

    p = clv.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    x, tx, T, t = 5.0, 20.0, 30.0, 26.0
    # Equation 10 of the paper, as printed.
    paper = (
        (p.a + p.b + x - 1)
        / (p.a - 1)
        * (
            1
            - ((p.alpha + T) / (p.alpha + T + t)) ** (p.r + x)
            * special.hyp2f1(p.r + x, p.b + x, p.a + p.b + x - 1, t / (p.alpha + T + t))
        )
        / (1 + p.a / (p.b + x - 1) * ((p.alpha + T) / (p.alpha + tx)) ** (p.r + x))
    )
    assert clv.bgnbd_expected_purchases(p, t, [x], [tx], [T])[0] == pytest.approx(paper, rel=1e-9)
    # 2000 purchases in 100 weeks: the printed form overflows, the engine does not.
    heavy = clv.bgnbd_expected_purchases(p, 52, [2000], [100], [100])[0]
    assert np.isfinite(heavy) and 0 < heavy


# ---------------------------------------------------------------------------------------------
# Modified BG/NBD (Batislam, Denizel & Filiztekin 2007), gradient, speed, next purchase
# ---------------------------------------------------------------------------------------------

CDNOW = clv.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def _simulate_mbgnbd(params, n, T, seed):
    """Simulate (x, tx, T) from the MBG/NBD story: a customer may drop out after any purchase,
    the first one included (modelled as a coin flipped at time 0 and after each repeat purchase).
    ``T`` is one age for all, or ``None`` for ages spread over three years."""
    rng = np.random.default_rng(seed)
    ages = rng.uniform(4.0, 156.0, n) if T is None else np.full(n, float(T))
    lam = rng.gamma(params.r, 1.0 / params.alpha, n)
    drop = rng.beta(params.a, params.b, n)
    xs, txs = np.zeros(n), np.zeros(n)
    for i in range(n):
        if rng.random() < drop[i]:
            continue
        t, x, tx = 0.0, 0, 0.0
        while True:
            t += rng.exponential(1.0 / lam[i])
            if t > ages[i]:
                break
            x, tx = x + 1, t
            if rng.random() < drop[i]:
                break
        xs[i], txs[i] = x, tx
    return xs, txs, ages


def test_mbgnbd_log_likelihood_general_formula():
    r, alpha, a, b = 0.24, 4.41, 0.79, 2.43

    def beta(u, v):
        return math.gamma(u) * math.gamma(v) / math.gamma(u + v)

    for x, tx, T in ((3, 20.0, 30.0), (0, 0.0, 30.0)):
        common = math.gamma(r + x) * alpha**r / math.gamma(r)
        # Batislam et al. (2007), eq. 4: both terms for every customer, b + x + 1 in the first.
        likelihood = beta(a, b + x + 1) / beta(a, b) * common / (alpha + T) ** (r + x) + beta(
            a + 1, b + x
        ) / beta(a, b) * common / (alpha + tx) ** (r + x)
        value = clv.mbgnbd_log_likelihood(clv.BGNBDParams(r, alpha, a, b), [x], [tx], [T])[0]
        assert value == pytest.approx(math.log(likelihood), rel=1e-10), (x, tx, T)


@pytest.mark.parametrize("model", [clv.BGNBD, clv.MBGNBD])
def test_analytic_gradient_matches_finite_differences(model):
    x, tx, T = _simulate_bgnbd(CDNOW, 300, 39.0, seed=5)
    weights = np.ones_like(x)
    for log_params in (np.log([0.243, 4.414, 0.793, 2.426]), np.log([1.5, 0.7, 2.0, 0.4])):
        _value, jac = clv.negative_log_likelihood_and_gradient(log_params, x, tx, T, weights, model)
        numeric = np.zeros(4)
        for k in range(4):
            step = np.zeros(4)
            step[k] = 1e-6
            up = clv.negative_log_likelihood_and_gradient(log_params + step, x, tx, T, weights, model)[0]
            down = clv.negative_log_likelihood_and_gradient(log_params - step, x, tx, T, weights, model)[0]
            numeric[k] = (up - down) / 2e-6
        assert jac == pytest.approx(numeric, rel=1e-5, abs=1e-4)


def test_mbgnbd_one_time_buyers_age_out():
    # BG/NBD: 100 % alive forever; MBG/NBD: less and less likely alive as the first purchase ages.
    ages = [1.0, 26.0, 52.0, 156.0]
    zeros = [0.0] * len(ages)
    assert list(clv.bgnbd_probability_alive(CDNOW, zeros, zeros, ages)) == [1.0] * len(ages)
    alive = clv.bgnbd_probability_alive(CDNOW, zeros, zeros, ages, model=clv.MBGNBD)
    assert all(0.0 < p < 1.0 for p in alive)
    assert list(alive) == sorted(alive, reverse=True)
    assert alive[-1] < alive[0] - 0.15  # bought once three years ago: not "100 % alive"
    # Hand-computed: 1 / (1 + (a / b) * ((alpha + T) / alpha) ** r)
    assert alive[-1] == pytest.approx(1 / (1 + (0.793 / 2.426) * ((4.414 + 156) / 4.414) ** 0.243))


def test_mbgnbd_expected_purchases_matches_the_paper_form():
    from scipy import special

    p = CDNOW
    for x, tx, T, t in ((0, 0.0, 30.0, 39.0), (2, 30.43, 38.86, 39.0), (7, 35.0, 38.0, 52.0)):
        z = t / (p.alpha + T + t)
        direct = (
            (p.a + p.b + x)
            / (p.a - 1)
            * (
                1
                - ((p.alpha + T) / (p.alpha + T + t)) ** (p.r + x)
                * special.hyp2f1(p.r + x, p.b + x + 1, p.a + p.b + x, z)
            )
            / (1 + p.a / (p.b + x) * ((p.alpha + T) / (p.alpha + tx)) ** (p.r + x))
        )
        value = clv.bgnbd_expected_purchases(p, t, [x], [tx], [T], model=clv.MBGNBD)[0]
        assert value == pytest.approx(direct, rel=1e-9)


def test_mbgnbd_recovers_known_parameters():
    true = clv.BGNBDParams(r=0.5, alpha=5.0, a=0.6, b=3.0)
    x, tx, T = _simulate_mbgnbd(true, 20000, None, seed=21)
    fitted = clv.fit_bgnbd(x, tx, T, model=clv.MBGNBD)
    assert fitted.r == pytest.approx(true.r, rel=0.2)
    assert fitted.alpha == pytest.approx(true.alpha, rel=0.25)
    assert fitted.a == pytest.approx(true.a, rel=0.35)
    assert fitted.b == pytest.approx(true.b, rel=0.45)


def test_fit_of_100k_distinct_histories_is_fast():
    import time

    n = 100_000
    x, tx, T = _simulate_mbgnbd(clv.BGNBDParams(r=0.5, alpha=5.0, a=0.6, b=3.0), n, None, seed=9)
    assert len(np.unique(np.column_stack([x, tx, T]), axis=0)) == n
    for model in (clv.MBGNBD, clv.BGNBD):
        start = time.process_time()
        params = clv.fit_bgnbd(x, tx, T, model=model)
        elapsed = time.process_time() - start
        assert np.isfinite([params.r, params.alpha, params.a, params.b]).all()
        assert elapsed < 2.0, f"{model}: {elapsed:.2f} s of CPU"


def test_expected_next_purchase():
    x, tx, T = np.array([0.0, 2.0, 10.0, 1.0]), np.array([0.0, 30.0, 37.0, 2.0]), np.full(4, 39.0)
    weeks = clv.expected_next_purchase(CDNOW, x, tx, T, model=clv.MBGNBD)
    found = np.isfinite(weeks)
    # Where found, one purchase is expected by then, and not much earlier.
    reached = clv.bgnbd_expected_purchases(CDNOW, np.where(found, weeks, 1.0), x, tx, T, clv.MBGNBD)
    assert reached[found] == pytest.approx(np.ones(found.sum()), abs=1e-6)
    # The frequent, recent buyer is expected back first; an old one-time buyer maybe never (NaN).
    assert found[2] and weeks[2] == np.nanmin(weeks)
    assert not found[3] or weeks[3] > weeks[2]


def test_calibration_predicts_the_holdout_of_model_data():
    """On data following the model, predicted and actual holdout purchases agree per frequency."""
    true = clv.BGNBDParams(r=0.5, alpha=5.0, a=0.6, b=3.0)
    # Simulate 78 weeks, cut at 52: the holdout is what each customer did in the last 26 weeks.
    rng = np.random.default_rng(4)
    n, cut, end = 8000, 52.0, 78.0
    lam, drop = rng.gamma(true.r, 1.0 / true.alpha, n), rng.beta(true.a, true.b, n)
    x, tx, actual = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        t, alive = 0.0, rng.random() >= drop[i]
        while alive:
            t += rng.exponential(1.0 / lam[i])
            if t > end:
                break
            if t <= cut:
                x[i], tx[i] = x[i] + 1, t
            else:
                actual[i] += 1
            alive = rng.random() >= drop[i]
    params, rows, mae = clv.calibration(x, tx, np.full(n, cut), actual, end - cut, model=clv.MBGNBD)
    assert [row.frequency for row in rows] == list(range(len(rows)))
    assert sum(row.customers for row in rows) == n
    for row in rows:
        if row.customers >= 200:
            assert row.predicted == pytest.approx(row.actual, abs=0.15 + 0.15 * row.actual), row
    assert 0 < mae < 1.5
    assert np.isfinite([params.r, params.alpha, params.a, params.b]).all()


@pytest.mark.parametrize("model", [clv.BGNBD, clv.MBGNBD])
def test_expected_next_purchase_is_the_root_a_bisection_finds(model):
    """On customers of every kind, the time found is where a plain bisection (to the last bit) puts
    E[Y(t)] = 1, within 1e-9 weeks, and NaN exactly where one purchase is not expected in ten years."""
    rng = np.random.default_rng(8)
    n = 5000
    x = rng.integers(0, 30, n).astype(float)
    T = rng.uniform(1, 300, n)
    tx = np.where(x > 0, rng.uniform(0, 1, n) * T, 0.0)
    low, high = np.zeros(n), np.full(n, clv.NEXT_PURCHASE_MAX_WEEKS)
    reachable = clv.bgnbd_expected_purchases(CDNOW, high, x, tx, T, model) >= 1.0
    for _step in range(60):
        middle = (low + high) / 2
        above = clv.bgnbd_expected_purchases(CDNOW, middle, x, tx, T, model) >= 1.0
        high, low = np.where(above, middle, high), np.where(above, low, middle)
    weeks = clv.expected_next_purchase(CDNOW, x, tx, T, model=model)
    assert (np.isnan(weeks) == ~reachable).all()
    assert reachable.any() and (~reachable).any()
    assert np.abs(weeks[reachable] - high[reachable]).max() < 1e-9
