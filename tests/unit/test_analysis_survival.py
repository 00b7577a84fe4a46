"""kmc.analysis.survival: Kaplan-Meier, censored Weibull fits, sweep medians, power-law and
Arrhenius fits.

Deterministic tests compare with hand-computed values. Statistical tests draw synthetic
censored samples with known parameters from a fixed top-level seed (one spawned generator per
repetition), count how often the stated 95% interval contains the truth, and assert that count
lies in a binomial band. Each band is computed here with ``scipy.stats.binom`` so that, for any
true coverage p in the stated range [P_LOW, P_HIGH], P(count outside the band) <= 1e-4 (5e-5 per
tail: the lower tail at P_LOW, the upper tail at P_HIGH; binomial tails are monotone in p). The
range brackets the coverage measured off-line with 20,000 repetitions (quoted per test), so the
tests pass for any seed with probability >= 1 - 1e-4 each, and fail for a wrong interval.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from kmc.analysis import (
    arrhenius_fit,
    censored_times,
    kaplan_meier,
    lattice_gas_transport,
    microstructure_report,
    power_law_fit,
    sweep_medians,
    weibull_fit,
)
from kmc.analysis.survival import _km_median_rows, _weibull_information, _weibull_loglik
from kmc.errors import AnalysisError, DatasetError, KmcError
from kmc.units import BOLTZMANN_EV

SEED = 20240611
TAIL = 5e-5  # per tail: two tails <= 1e-4


def binomial_band(m, p_low, p_high, tail=TAIL):
    """[lo, hi] with P(X < lo | p_low) <= tail and P(X > hi | p_high) <= tail, X ~ Bin(m, p)."""
    lo = int(stats.binom.ppf(tail, m, p_low))
    if stats.binom.cdf(lo - 1, m, p_low) > tail:  # ppf is the smallest x with cdf >= tail
        lo -= 1
    hi = int(stats.binom.isf(tail, m, p_high))
    if stats.binom.sf(hi, m, p_high) > tail:
        hi += 1
    assert stats.binom.cdf(lo - 1, m, p_low) <= tail and stats.binom.sf(hi, m, p_high) <= tail
    return lo, hi


def generators(n):
    """Independent per-repetition generators spawned from the fixed top-level seed."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(SEED).spawn(n)]


# --- package layout --------------------------------------------------------------------------

def test_the_old_module_names_still_import():
    """kmc.analysis became a package; its former functions are re-exported unchanged."""
    from kmc.analysis.microstructure import microstructure_report as m
    from kmc.analysis.transport import lattice_gas_transport as t
    assert (lattice_gas_transport, microstructure_report) == (t, m)


# --- Kaplan-Meier: exact -----------------------------------------------------------------------

T_SMALL = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0, 6.0]
S_SMALL = [True, True, False, False, True, True, False, True]


def test_kaplan_meier_equals_the_hand_computed_product_limit_estimate():
    """8 runs with ties (a short and a censoring at t = 2, two shorts at t = 4), censored at
    2, 3, 5. At risk n = 8, 7, 5, 4, 2, 1 and shorts d = 1, 1, 0, 2, 0, 1 at t = 1..6 s:
    S = 7/8, 7/8 * 6/7 = 3/4, 3/4, 3/4 * 2/4 = 3/8, 3/8, 0. Median: first S <= 1/2, t = 4 s.
    Band: S^exp(+-z se), se^2 = sum d/(n (n - d)) / ln(S)^2 (exponential Greenwood), z = 1.95996;
    the median interval starts where the lower band first reaches 1/2 (t = 1 s: 0.387) and has
    no end because the upper band is undefined at S = 0 (t = 6 s) and > 1/2 before.
    """
    km = kaplan_meier(T_SMALL, S_SMALL)
    np.testing.assert_array_equal(km.times, [1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(km.at_risk, [8, 7, 5, 4, 2, 1])
    np.testing.assert_array_equal(km.events, [1, 1, 0, 2, 0, 1])
    np.testing.assert_allclose(km.survival, [7 / 8, 3 / 4, 3 / 4, 3 / 8, 3 / 8, 0.0],
                               rtol=0, atol=1e-15)
    s = np.array([7 / 8, 3 / 4, 3 / 4, 3 / 8, 3 / 8])
    greenwood = np.cumsum([1 / (8 * 7), 1 / (7 * 6), 0.0, 2 / (4 * 2), 0.0])
    se = np.sqrt(greenwood) / np.abs(np.log(s))
    z = 1.959963984540054
    np.testing.assert_allclose(km.lower[:5], s ** np.exp(z * se), rtol=1e-12)
    np.testing.assert_allclose(km.upper[:5], s ** np.exp(-z * se), rtol=1e-12)
    assert km.lower[5] == 0.0 and np.isnan(km.upper[5])
    assert (km.median, km.median_lower) == (4.0, 1.0) and np.isnan(km.median_upper)
    assert (km.n, km.n_events, km.confidence) == (8, 5, 0.95)
    surv, lo, hi = km.evaluate([0.5, 1.0, 3.99, 4.0, 7.0])
    np.testing.assert_allclose(surv, [1.0, 7 / 8, 3 / 4, 3 / 8, 0.0], atol=1e-15)
    assert lo[0] == hi[0] == 1.0


def test_kaplan_meier_band_is_one_before_the_first_short_and_median_unreached():
    """Censorings before the first short leave S = 1 with the band [1, 1] (zero variance; the
    log-log formula is 0/0 there). When S stays above 1/2 the median is NaN, while the lower
    end of its interval exists as soon as the lower band reaches 1/2."""
    km = kaplan_meier([1.0, 2.0, 3.0, 4.0], [False, False, True, False])
    np.testing.assert_array_equal(km.survival, [1.0, 1.0, 0.5, 0.5])
    np.testing.assert_array_equal(km.lower[:2], [1.0, 1.0])
    np.testing.assert_array_equal(km.upper[:2], [1.0, 1.0])
    assert km.median == 3.0
    km = kaplan_meier([1.0, 2.0, 3.0], [True, False, False])  # S = 2/3, lower band 0.054
    assert np.isnan(km.median) and km.median_lower == 1.0 and np.isnan(km.median_upper)
    assert km.report()[1] == "  median t_short not reached (S = 0.667 at 3 s)"


def test_vectorised_median_equals_kaplan_meier_with_ties():
    """The bootstrap's row-wise median equals kaplan_meier().median exactly, ties included
    (times rounded to 0.1 s, so shorts and censorings share times)."""
    rng = np.random.default_rng(SEED)
    t = np.round(rng.exponential(1.0, (200, 15)), 1) + 0.1
    e = rng.random((200, 15)) < 0.6
    e[:, 0] = True
    fast = _km_median_rows(t, e)
    slow = np.array([kaplan_meier(a, b).median for a, b in zip(t, e)])
    np.testing.assert_array_equal(fast, slow)
    assert np.isnan(fast).any() and np.isfinite(fast).any()


# --- Weibull: exact ----------------------------------------------------------------------------

def weibull_sample(rng, n, shape=1.5, scale=2.0, c_max=6.0):
    """Weibull(shape, scale [s]) times censored by independent uniform(0, c_max [s]) stops:
    30% censored for the defaults."""
    t = scale * rng.weibull(shape, n)
    c = rng.uniform(0.0, c_max, n)
    return np.minimum(t, c), t <= c


def test_weibull_information_equals_the_numerical_hessian():
    """The analytic observed information equals minus the central-difference Hessian (step
    1e-4 in ln k and ln lambda) of the censored log-likelihood written with scipy's
    weibull_min.logpdf / logsf, at the estimate and away from it (relative 1e-5)."""
    t, s = weibull_sample(np.random.default_rng(SEED), 60)
    x = np.log(t)

    def loglik(a, b):
        d = stats.weibull_min(math.exp(a), scale=math.exp(b))
        return d.logpdf(t[s]).sum() + d.logsf(t[~s]).sum()

    fit = weibull_fit(t, s)
    for a, b in [(math.log(fit.shape), math.log(fit.scale)), (0.1, 0.9)]:
        assert _weibull_loglik(math.exp(a), b, x, s) == pytest.approx(loglik(a, b), rel=1e-12)
        h = 1e-4
        f = lambda da, db: loglik(a + da, b + db)  # noqa: E731
        num = -np.array([
            [(f(h, 0) - 2 * f(0, 0) + f(-h, 0)) / h**2,
             (f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4 * h * h)],
            [0.0, (f(0, h) - 2 * f(0, 0) + f(0, -h)) / h**2]])
        num[1, 0] = num[0, 1]
        np.testing.assert_allclose(_weibull_information(math.exp(a), b, x, s), num, rtol=1e-5)


def test_weibull_profile_estimate_agrees_with_scipy_fit():
    """The profile-score root and scipy.stats.weibull_min.fit(CensoredData, floc=0) maximise the
    same likelihood: estimates agree to scipy's simplex tolerance (relative 1e-3) and the
    profile root's likelihood is not lower."""
    t, s = weibull_sample(np.random.default_rng(SEED + 1), 120)
    a, b = weibull_fit(t, s), weibull_fit(t, s, method="scipy")
    assert a.shape == pytest.approx(b.shape, rel=1e-3)
    assert a.scale == pytest.approx(b.scale, rel=1e-3)
    assert a.log_likelihood >= b.log_likelihood - 1e-9
    assert a.median == pytest.approx(a.scale * math.log(2) ** (1 / a.shape), rel=1e-14)
    assert a.survival(a.scale) == pytest.approx(math.exp(-1.0), rel=1e-14)
    # uncensored: the score equation of the ordinary Weibull MLE holds
    u = weibull_fit(t, np.ones_like(s))
    w = t ** u.shape
    assert (w @ np.log(t)) / w.sum() - 1 / u.shape - np.log(t).mean() == pytest.approx(0, abs=1e-12)


# --- statistical: Weibull and Kaplan-Meier coverage ----------------------------------------

def test_weibull_and_kaplan_meier_intervals_reach_their_coverage():
    """Coverage of the 95% intervals on M = 1000 censored samples, n = 200 runs each
    (Weibull k = 1.5, lambda = 2 s, uniform(0, 6 s) censoring: 30% censored).

    Measured off-line (20,000 repetitions, standard error 0.0016): Weibull k 0.947, lambda 0.949,
    median 0.948; Kaplan-Meier band at the true median 0.951 and at S = 0.7 0.951 (the Wald
    shape interval covers ~0.3% less than nominal at n = 200; the bias of k-hat is ~ +0.7%).
    Band: every count must lie in binomial_band(1000, 0.94, 0.96) = [909, 982]: for any true
    coverage in [0.94, 0.96], which brackets all measured values by >= 4 standard errors,
    P(outside) <= 1e-4 per count (5e-5 per tail, computed with scipy.stats.binom).

    Point estimate: mean k-hat over the M samples must lie in [k - 4.5 se, k + 0.02 + 4.5 se]
    (se = sample sd / sqrt(M), ~0.0032; 0.02 allows twice the measured bias 0.011): false
    failure <= 2 Phi(-4.5) = 6.8e-6.
    """
    m, n, k, lam = 1000, 200, 1.5, 2.0
    median = lam * math.log(2) ** (1 / k)
    t07 = lam * (-math.log(0.7)) ** (1 / k)
    hits = dict.fromkeys(["k", "lambda", "median", "KM at median", "KM at S=0.7"], 0)
    k_hat = np.empty(m)
    for i, rng in enumerate(generators(m)):
        t, s = weibull_sample(rng, n, k, lam)
        fit, km = weibull_fit(t, s), kaplan_meier(t, s)
        k_hat[i] = fit.shape
        hits["k"] += fit.shape_interval[0] <= k <= fit.shape_interval[1]
        hits["lambda"] += fit.scale_interval[0] <= lam <= fit.scale_interval[1]
        hits["median"] += fit.median_interval[0] <= median <= fit.median_interval[1]
        _, lo, hi = km.evaluate([median, t07])
        hits["KM at median"] += lo[0] <= 0.5 <= hi[0]
        hits["KM at S=0.7"] += lo[1] <= 0.7 <= hi[1]
    lo, hi = binomial_band(m, 0.94, 0.96)
    assert (lo, hi) == (909, 982)
    for name, count in hits.items():
        assert lo <= count <= hi, f"{name}: {count} of {m} intervals cover (band {lo}..{hi})"
    se = k_hat.std(ddof=1) / math.sqrt(m)
    assert k - 4.5 * se <= k_hat.mean() <= k + 0.02 + 4.5 * se


def test_kaplan_meier_median_interval_reaches_its_coverage():
    """The median interval (inversion of the log-log band) on M = 1000 samples of n = 50 runs
    (same law as above): measured coverage 0.954 +- 0.0015 at n = 50 (20,000 repetitions; it
    equals the coverage of the band at the true median, as the interval inverts that band).
    Band binomial_band(1000, 0.94, 0.965) = [909, 985]: P(outside) <= 1e-4 for any coverage in
    [0.94, 0.965]."""
    m, k, lam = 1000, 1.5, 2.0
    median = lam * math.log(2) ** (1 / k)
    count = 0
    for rng in generators(m):
        km = kaplan_meier(*weibull_sample(rng, 50, k, lam))
        count += km.median_lower <= median <= km.median_upper
    lo, hi = binomial_band(m, 0.94, 0.965)
    assert (lo, hi) == (909, 985)
    assert lo <= count <= hi, f"{count} of {m} median intervals cover (band {lo}..{hi})"


# --- statistical: power law and Arrhenius --------------------------------------------------

def test_power_law_and_arrhenius_fits_recover_known_parameters():
    """t_short = A J^-n eps and t = tau0 exp(Ea / kT) eps with Weibull(2) noise eps; 5 sweep
    points x 40 runs; power law with per-J censoring at 1.4 A J^-n (14% censored); n = 1.7,
    Ea = 0.4 eV; M = 200 repetitions, 400 bootstrap replicates each.

    The stratified percentile bootstrap of medians over-covers (measured off-line, 6000
    repetitions, standard error 0.0024: power law 0.966, Arrhenius 0.969; the bootstrap
    distribution of a median is discrete). Band binomial_band(200, 0.95, 0.985) = [176, 200]:
    P(outside) <= 1e-4 for any coverage in [0.95, 0.985] (the measured values +- 4 se lie
    inside); the test thus checks that the intervals do not under-cover. Point estimates: the
    mean over M within 4.5 se (sample sd / sqrt(M)) of the truth; the measured biases (-0.0007
    in n, +0.0001 eV in Ea, 6000 repetitions) are < 0.3 se of the mean, so the false-failure
    probability is <= Phi(-4.2) + Phi(-4.8) = 1.4e-5 each.
    """
    m, n_exp, ea = 200, 1.7, 0.4
    J = np.repeat([1.0, 2.0, 4.0, 8.0, 16.0], 40)
    T = np.repeat([300.0, 325.0, 350.0, 375.0, 400.0], 40)
    cover, est = np.zeros(2, int), np.empty((m, 2))
    for i, rng in enumerate(generators(m)):
        t = 5.0 * J ** -n_exp * rng.weibull(2.0, J.size)
        stop = 1.4 * 5.0 * J ** -n_exp
        p = power_law_fit(J, np.minimum(t, stop), t <= stop, rng=rng, n_boot=400)
        tt = 1e-3 * np.exp(ea / (BOLTZMANN_EV * T)) * rng.weibull(2.0, T.size)
        a = arrhenius_fit(T, tt, rng=rng, n_boot=400)
        est[i] = p.exponent, a.activation_energy
        cover += [p.exponent_interval[0] <= n_exp <= p.exponent_interval[1],
                  a.activation_energy_interval[0] <= ea <= a.activation_energy_interval[1]]
        assert p.n_boot <= 400 and a.n_boot == 400  # uncensored: every replicate usable
    lo, hi = binomial_band(m, 0.95, 0.985)
    assert (lo, hi) == (176, 200)
    assert lo <= cover[0] <= hi and lo <= cover[1] <= hi, (cover, lo, hi)
    se = est.std(axis=0, ddof=1) / math.sqrt(m)
    assert np.all(np.abs(est.mean(axis=0) - [n_exp, ea]) <= 4.5 * se)


def test_power_law_and_arrhenius_are_exact_on_noise_free_medians():
    """Every run at a point equal (no noise): the fits return the generating parameters to
    round-off and degenerate bootstrap intervals; rates give the same Ea as times."""
    rng = np.random.default_rng(SEED)
    J = np.repeat([0.5, 1.0, 3.0], 3)
    p = power_law_fit(J, 7.0 * J ** -2.25, rng=rng, n_boot=50)
    assert p.exponent == pytest.approx(2.25, rel=1e-12)
    assert p.prefactor == pytest.approx(7.0, rel=1e-12)
    assert p.exponent_interval == pytest.approx((2.25, 2.25), rel=1e-12)
    T = np.repeat([280.0, 320.0, 390.0], 2)
    tau = 2e-4 * np.exp(0.55 / (BOLTZMANN_EV * T))
    a = arrhenius_fit(T, tau, rng=rng, n_boot=50)
    r = arrhenius_fit(T, 1 / tau, rng=rng, n_boot=50, kind="rate")
    assert a.activation_energy == pytest.approx(0.55, rel=1e-12)
    assert r.activation_energy == pytest.approx(0.55, rel=1e-12)
    assert a.prefactor == pytest.approx(2e-4, rel=1e-10)
    assert r.activation_energy_interval == pytest.approx((0.55, 0.55), rel=1e-12)


def test_sweep_medians_per_point():
    """Medians per sweep value equal kaplan_meier on that value's runs; a point without a
    short gives NaN rather than an error."""
    J = np.array([1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0])
    t = np.array([1.0, 2.0, 3.0, 0.5, 0.6, 0.7, 5.0, 5.0])
    s = np.array([True, True, False, True, True, True, False, False])
    sm = sweep_medians(J, t, s)
    np.testing.assert_array_equal(sm.values, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(sm.n, [3, 3, 2])
    np.testing.assert_array_equal(sm.n_events, [2, 3, 0])
    np.testing.assert_array_equal(sm.median[:2], [2.0, 0.6])
    for g, sel in enumerate([slice(0, 3), slice(3, 6)]):
        km = kaplan_meier(t[sel], s[sel])
        np.testing.assert_array_equal([sm.median[g], sm.lower[g], sm.upper[g]],
                                      [km.median, km.median_lower, km.median_upper])
    assert np.isnan(sm.median[2])


# --- datasets --------------------------------------------------------------------------------

def test_censored_times_from_datasets():
    """A censored run's time is its last observation; a multi-run dataset needs t_stop."""
    shorted = xr.Dataset({"t_short": ((), 3.5)}, coords={"time": [0.0, 2.0, 3.5]})
    censored = xr.Dataset({"t_short": ((), np.nan)}, coords={"time": [0.0, 5.0, 10.0]})
    t, s = censored_times([shorted, censored])
    np.testing.assert_array_equal(t, [3.5, 10.0])
    np.testing.assert_array_equal(s, [True, False])
    many = xr.Dataset({"t_short": (("replica",), [1.0, np.nan]),
                       "t_stop": (("replica",), [1.0, 9.0])})
    t, s = censored_times(many)
    np.testing.assert_array_equal(t, [1.0, 9.0])
    with pytest.raises(DatasetError) as err:
        censored_times(many.drop_vars("t_stop"))
    assert str(err.value) == ("dataset: t_short has dimensions ('replica',) but there is no "
                              "variable t_stop or stop_time with each run's stop time [s]")
    with pytest.raises(DatasetError) as err:
        censored_times(xr.Dataset())
    assert str(err.value) == "dataset: not a kmc plating dataset (missing t_short)"


# --- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: kaplan_meier([1.0, 2.0], [True]),
     "shorted has shape (1,) but t_stop has shape (2,): one flag per run expected"),
    (lambda: kaplan_meier([1.0, np.nan], [True, False]),
     "t_stop[1] = nan: every run needs a finite time [s] (the stop time of a censored run, not "
     "NaN; see kmc.analysis.censored_times)"),
    (lambda: kaplan_meier([1.0, -2.0], [True, False]),
     "t_stop[1] = -2 s: times must be >= 0 s"),
    (lambda: weibull_fit([1.0, 0.0], [True, False]),
     "t_stop[1] = 0 s: times must be > 0 s"),
    (lambda: kaplan_meier([1.0, 2.0], [False, False]),
     "no shorts among 2 runs: nothing to estimate (the survival is 1 up to t = 2 s)"),
    (lambda: kaplan_meier([], []), "t_stop is empty: no runs to analyse"),
    (lambda: kaplan_meier([1.0], [2]),
     "shorted: booleans expected (True = the run shorted at t_stop), got dtype int64"),
    (lambda: kaplan_meier([1.0], [True], confidence=95),
     "confidence = 95: must lie in (0, 1), e.g. 0.95"),
    (lambda: weibull_fit([1.0, 2.0, 2.0], [False, True, True]),
     "Weibull fit: every short happened at the longest time of all runs; the maximum-likelihood "
     "shape is infinite"),
    (lambda: weibull_fit([1.0, 2.0], [True, True], method="lsq"),
     "method = 'lsq': must be 'profile' or 'scipy'"),
    (lambda: power_law_fit([1.0, 2.0], [1.0, 2.0], rng=None),
     "rng: a numpy.random.Generator is required (np.random.default_rng(seed)), got NoneType"),
    (lambda: power_law_fit([1.0, 1.0], [1.0, 2.0], rng=np.random.default_rng(0)),
     "J: at least 2 distinct values needed for a fit, got 1"),
    (lambda: power_law_fit([1.0, 2.0, 3.0], [1.0, 2.0], rng=np.random.default_rng(0)),
     "J has shape (3,) but t_stop has shape (2,): one value per run expected"),
    (lambda: power_law_fit([0.0, 2.0], [1.0, 2.0], rng=np.random.default_rng(0)),
     "J = 0 A/m^2: current densities must be > 0"),
    (lambda: power_law_fit([1.0, 1.0, 1.0, 2.0], [1.0, 2.0, 3.0, 1.0], [True, False, False, True],
                           rng=np.random.default_rng(0)),
     "J = 1 A/m^2: the median t_short is not reached (1 shorts among 3 runs)"),
    (lambda: arrhenius_fit([300.0, 350.0], [1.0, 2.0], [True, True], kind="rate",
                           rng=np.random.default_rng(0)),
     "shorted: rates are not censored; pass shorted=None with kind='rate'"),
    (lambda: arrhenius_fit([300.0, 350.0], [1.0, 2.0], kind="energy",
                           rng=np.random.default_rng(0)),
     "kind = 'energy': must be 'time' or 'rate'"),
])
def test_bad_input_gives_one_line_errors(call, message):
    """Whole messages: one line, the offending value and what is allowed."""
    with pytest.raises(AnalysisError) as err:
        call()
    assert str(err.value) == message
    assert isinstance(err.value, KmcError) and isinstance(err.value, ValueError)


def test_censored_times_of_a_merged_ensemble_leave_out_failed_tasks():
    """A merged ensemble (t_short and stop_time per task) gives one entry per task that ran:
    the short time, or the stop time of a censored run; failed tasks are left out; a sweep
    without any short gives NaN medians rather than an error."""
    import xarray as xr

    ds = xr.Dataset({"t_short": (("j", "replica"), [[1.0, np.nan], [np.nan, 2.0]]),
                     "stop_time": (("j", "replica"), [[1.0, 5.0], [np.nan, 2.0]]),
                     "stop_reason": (("j", "replica"), [["short", "duration"], ["error", "short"]])})
    t, s = censored_times(ds)
    assert t.tolist() == [1.0, 5.0, 2.0] and s.tolist() == [True, False, True]
    none = sweep_medians([1.0, 1.0, 2.0], [5.0, 5.0, 5.0], [False, False, False])
    assert np.isnan(none.median).all() and none.n_events.tolist() == [0, 0]
