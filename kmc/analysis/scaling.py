"""How the time to short circuit scales across a sweep: medians per sweep point, t_short ~ J^-n
and Arrhenius fits of the medians with bootstrap intervals, and censored times from datasets.

Inputs as in :mod:`kmc.analysis.survival`: one ``t_stop`` [s] and one ``shorted`` flag per run.

=====================  ==========================================================================
function               estimate
=====================  ==========================================================================
:func:`sweep_medians`  Kaplan-Meier median and its interval at each point of a sweep
:func:`power_law_fit`  t_short = A J^-n on the medians per current density, bootstrap interval
:func:`arrhenius_fit`  activation energy [eV] of the medians per temperature, bootstrap interval
=====================  ==========================================================================

Random numbers (the bootstraps) come only from a ``numpy.random.Generator`` passed by the caller.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import AnalysisError, DatasetError
from ..units import BOLTZMANN_EV
from .survival import _censored_input, _confidence, _generator, _km_median_rows, kaplan_meier


# --- sweeps ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepMedians:
    """Kaplan-Meier median t_short at each point of a sweep.

    Attributes
    ----------
    values : ndarray
        Distinct sweep values, increasing (the unit of the swept parameter).
    median, lower, upper : ndarray
        Median t_short [s] and its ``confidence`` interval per value; NaN where not reached
        (including points without any short).
    n, n_events : ndarray of int
        Runs and shorts per value.
    confidence : float
    """

    values: np.ndarray
    median: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n: np.ndarray
    n_events: np.ndarray
    confidence: float


def _sweep_groups(x, t, name):
    x = np.asarray(x, dtype=float)
    if x.shape != t.shape:
        raise AnalysisError(f"{name} has shape {x.shape} but t_stop has shape {t.shape}: "
                            "one value per run expected")
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise AnalysisError(f"{name}[{int(bad[0])}] = {x[bad[0]]}: must be finite")
    return np.unique(x, return_inverse=True)


def sweep_medians(values, t_stop, shorted, confidence: float = 0.95) -> SweepMedians:
    """Median t_short and its interval (:func:`kaplan_meier`) at each value of a swept parameter.

    Parameters
    ----------
    values : array_like of float, shape (n,)
        The swept parameter of each run (e.g. current density [A/m^2]).
    t_stop, shorted : array_like, shape (n,)
        As in :func:`kaplan_meier`; points without any short give NaN medians instead of an error.
    confidence : float, optional
        Confidence level of the median intervals.

    Returns
    -------
    SweepMedians
    """
    c = _confidence(confidence)
    t, s = _censored_input(t_stop, shorted, need_short=False)
    levels, inv = _sweep_groups(values, t, "values")
    out = np.full((3, levels.size), np.nan)
    n = np.bincount(inv, minlength=levels.size)
    n_events = np.bincount(inv, weights=s, minlength=levels.size).astype(int)
    for g in np.flatnonzero(n_events):
        km = kaplan_meier(t[inv == g], s[inv == g], c)
        out[:, g] = km.median, km.median_lower, km.median_upper
    return SweepMedians(values=levels, median=out[0], lower=out[1], upper=out[2], n=n,
                        n_events=n_events, confidence=c)


def _median_regression(u_of_level, levels, inv, t, s, *, n_boot, confidence, rng, name, unit):
    """Least-squares line of ln(median per level) on u(level), with a stratified bootstrap.

    Returns (slope, intercept, slope interval, medians, usable bootstrap replicates).
    """
    if levels.size < 2:
        raise AnalysisError(f"{name}: at least 2 distinct values needed for a fit, got "
                            f"{levels.size}")
    n_boot = int(n_boot)
    if n_boot < 1:
        raise AnalysisError(f"n_boot = {n_boot}: must be >= 1 (1000 or more for a 95% interval)")
    groups = [np.flatnonzero(inv == g) for g in range(levels.size)]
    med = np.array([_km_median_rows(t[i], s[i]) for i in groups])
    missing = np.flatnonzero(~np.isfinite(med))
    if missing.size:
        g = int(missing[0])
        raise AnalysisError(f"{name} = {levels[g]:.6g} {unit}: the median t_short is not reached "
                            f"({int(s[groups[g]].sum())} shorts among {groups[g].size} runs)")
    u = u_of_level(levels)
    uc = u - u.mean()
    v = np.log(med)
    slope = float(uc @ (v - v.mean()) / (uc @ uc))
    intercept = float(v.mean() - slope * u.mean())
    boot = np.empty((n_boot, levels.size))
    for g, i in enumerate(groups):  # resample runs within each level (the design is fixed)
        pick = i[rng.integers(0, i.size, size=(n_boot, i.size))]
        boot[:, g] = _km_median_rows(t[pick], s[pick])
    ok = np.isfinite(boot).all(axis=1)
    vb = np.log(boot[ok])
    slopes = (vb - vb.mean(axis=1, keepdims=True)) @ uc / (uc @ uc)
    if slopes.size == 0:
        raise AnalysisError(f"{name}: no bootstrap replicate reached the median at every value")
    q = np.quantile(slopes, [0.5 - confidence / 2.0, 0.5 + confidence / 2.0])
    return slope, intercept, (float(q[0]), float(q[1])), med, int(ok.sum())


@dataclass(frozen=True)
class PowerLawFit:
    """t_short = prefactor * J^-exponent fitted to the median t_short per current density.

    Attributes
    ----------
    exponent : float
        n [1].
    exponent_interval : tuple of float
        Bootstrap percentile ``confidence`` interval of n [1].
    prefactor : float
        A [s (A/m^2)^n], in the units of ``t`` and ``J`` passed.
    current_density, median : ndarray
        Distinct J [A/m^2] and the Kaplan-Meier median t_short at each [s].
    n_boot : int
        Bootstrap replicates that reached the median at every J (the others are dropped).
    confidence : float
    """

    exponent: float
    exponent_interval: tuple[float, float]
    prefactor: float
    current_density: np.ndarray
    median: np.ndarray
    n_boot: int
    confidence: float

    def report(self) -> list[str]:
        """Human-readable lines."""
        return [f"power law t_short = A J^-n over {self.current_density.size} current densities: "
                f"n = {self.exponent:.4g} ({self.confidence:.0%} bootstrap: "
                f"{self.exponent_interval[0]:.4g} .. {self.exponent_interval[1]:.4g}), "
                f"A = {self.prefactor:.4g}"]


def power_law_fit(J, t_stop, shorted=None, *, rng, n_boot: int = 2000,
                  confidence: float = 0.95) -> PowerLawFit:
    """Fit t_short = A J^-n to the median t_short per current density.

    Parameters
    ----------
    J : array_like of float, shape (n,)
        Current density of each run [A/m^2], > 0; runs with equal J form one sweep point.
    t_stop : array_like of float, shape (n,)
        Time of the short or of a censored run's stop [s], as in :func:`kaplan_meier`.
    shorted : array_like of bool, shape (n,), optional
        Short flags; None means every run shorted.
    rng : numpy.random.Generator
        Source of the bootstrap resamples (required: no hidden global state).
    n_boot : int, optional
        Bootstrap replicates.
    confidence : float, optional
        Level of the percentile interval of n.

    Returns
    -------
    PowerLawFit

    Raises
    ------
    AnalysisError
        Bad lengths or values, fewer than 2 distinct J, or a J whose median is not reached.

    Notes
    -----
    Ordinary least squares of ln(median_J) on ln J, median_J the Kaplan-Meier median (censored
    runs count; the median must be reached at every J). The median rather than every short is
    fitted because censoring removes the longest times preferentially; the median of a
    scale family t = A J^-n * eps (any distribution of eps) is exactly A' J^-n. The interval is
    the percentile interval of the slopes of ``n_boot`` stratified bootstrap replicates (runs
    resampled with replacement within each J, Efron & Tibshirani 1993, ch. 13).
    """
    c = _confidence(confidence)
    rng = _generator(rng)
    t, s = _censored_input(t_stop, np.ones(np.shape(t_stop), bool) if shorted is None else shorted)
    levels, inv = _sweep_groups(J, t, "J")
    if levels[0] <= 0.0:
        raise AnalysisError(f"J = {levels[0]:.6g} A/m^2: current densities must be > 0")
    slope, intercept, (lo, hi), med, used = _median_regression(
        np.log, levels, inv, t, s, n_boot=n_boot, confidence=c, rng=rng, name="J", unit="A/m^2")
    return PowerLawFit(exponent=-slope, exponent_interval=(-hi, -lo), prefactor=math.exp(intercept),
                       current_density=levels, median=med, n_boot=used, confidence=c)


@dataclass(frozen=True)
class ArrheniusFit:
    """Arrhenius law of the median per temperature: time = prefactor exp(+Ea / kT), or
    rate = prefactor exp(-Ea / kT).

    Attributes
    ----------
    activation_energy : float
        Ea [eV].
    activation_energy_interval : tuple of float
        Bootstrap percentile ``confidence`` interval of Ea [eV].
    prefactor : float
        tau_0 [s] (kind "time") or nu_0 (kind "rate", in the unit of the rates passed).
    temperature, median : ndarray
        Distinct T [K] and the median at each (Kaplan-Meier for times).
    kind : str
        "time" or "rate".
    n_boot : int
        Bootstrap replicates that reached the median at every T.
    confidence : float
    """

    activation_energy: float
    activation_energy_interval: tuple[float, float]
    prefactor: float
    temperature: np.ndarray
    median: np.ndarray
    kind: str
    n_boot: int
    confidence: float

    def report(self) -> list[str]:
        """Human-readable lines."""
        lo, hi = self.activation_energy_interval
        return [f"Arrhenius fit of the median {self.kind} over {self.temperature.size} "
                f"temperatures: Ea = {self.activation_energy:.4g} eV ({self.confidence:.0%} "
                f"bootstrap: {lo:.4g} .. {hi:.4g} eV), prefactor {self.prefactor:.4g}"]


def arrhenius_fit(T, values, shorted=None, *, rng, kind: str = "time", n_boot: int = 2000,
                  confidence: float = 0.95) -> ArrheniusFit:
    """Activation energy of the median time (or rate) per temperature.

    Parameters
    ----------
    T : array_like of float, shape (n,)
        Temperature of each run [K], > 0; runs with equal T form one point.
    values : array_like of float, shape (n,)
        kind "time": t_stop per run [s] (as in :func:`kaplan_meier`); kind "rate": a rate per
        run (any unit, > 0).
    shorted : array_like of bool, shape (n,), optional
        Short flags for kind "time" (None: every run shorted); must be None for rates.
    rng : numpy.random.Generator
        Source of the bootstrap resamples.
    kind : {"time", "rate"}, optional
        Whether ``values`` grow (times) or shrink (rates) as exp(+-Ea / kT).
    n_boot : int, optional
        Bootstrap replicates.
    confidence : float, optional
        Level of the percentile interval of Ea.

    Returns
    -------
    ArrheniusFit

    Raises
    ------
    AnalysisError
        Bad lengths or values, fewer than 2 distinct T, or a T whose median is not reached.

    Notes
    -----
    Least squares of ln(median_T) on 1 / (k_B T), k_B = 8.617e-5 eV/K: the slope is +Ea for
    times and -Ea for rates. Interval: percentile interval of the slopes of a bootstrap that
    resamples runs within each temperature, as in :func:`power_law_fit`.
    """
    c = _confidence(confidence)
    rng = _generator(rng)
    if kind not in ("time", "rate"):
        raise AnalysisError(f"kind = {kind!r}: must be 'time' or 'rate'")
    if kind == "rate" and shorted is not None:
        raise AnalysisError("shorted: rates are not censored; pass shorted=None with kind='rate'")
    flags = np.ones(np.shape(values), bool) if shorted is None else shorted
    t, s = _censored_input(values, flags, positive=True)
    levels, inv = _sweep_groups(T, t, "T")
    if levels[0] <= 0.0:
        raise AnalysisError(f"T = {levels[0]:.6g} K: temperatures must be > 0 K")
    slope, intercept, (lo, hi), med, used = _median_regression(
        lambda temp: 1.0 / (BOLTZMANN_EV * temp), levels, inv, t, s, n_boot=n_boot,
        confidence=c, rng=rng, name="T", unit="K")
    sign = 1.0 if kind == "time" else -1.0
    interval = (lo, hi) if kind == "time" else (-hi, -lo)
    return ArrheniusFit(activation_energy=sign * slope, activation_energy_interval=interval,
                        prefactor=math.exp(intercept), temperature=levels, median=med, kind=kind,
                        n_boot=used, confidence=c)


# --- datasets --------------------------------------------------------------------------------

def censored_times(datasets):
    """``(t_stop, shorted)`` of kmc plating datasets, one entry per run.

    Parameters
    ----------
    datasets : xarray.Dataset or sequence of xarray.Dataset
        Datasets of ``kmc run`` (scalar ``t_short`` [s], NaN when the run did not short), or
        merged ensembles (``kmc ensemble``: ``t_short`` and ``stop_time`` [s] per task; failed
        tasks, ``stop_reason = "error"``, are left out). Another dataset holding several runs
        must carry their stop times in a variable ``t_stop`` [s] of the shape of ``t_short``.

    Returns
    -------
    t_stop : ndarray of float
        Time of the short, or the stop time of a censored run (the last observation time) [s].
    shorted : ndarray of bool

    Raises
    ------
    DatasetError
        A dataset without ``t_short``, or with several runs and no ``t_stop``.
    """
    if hasattr(datasets, "data_vars"):
        datasets = [datasets]
    t_out, s_out = [], []
    for ds in datasets:
        src = ds.encoding.get("source", "dataset")
        if "t_short" not in ds:
            raise DatasetError(f"{src}: not a kmc plating dataset (missing t_short)")
        t_short = np.asarray(ds["t_short"].values, dtype=float)
        name = "t_stop" if "t_stop" in ds else "stop_time" if "stop_time" in ds else None
        if name is not None:
            stop = np.broadcast_to(np.asarray(ds[name].values, dtype=float), t_short.shape)
            if "stop_reason" in ds and ds["stop_reason"].shape == t_short.shape:
                ran = np.asarray(ds["stop_reason"].values).astype(str) != "error"
                t_short, stop = t_short[ran], stop[ran]
        elif t_short.ndim == 0 and "time" in ds.coords:
            stop = np.asarray(float(ds["time"].max()))  # the last observation is at the stop
        else:
            raise DatasetError(f"{src}: t_short has dimensions {ds['t_short'].dims} but there is "
                               "no variable t_stop or stop_time with each run's stop time [s]")
        shorted = np.isfinite(t_short)
        t_out.append(np.where(shorted, t_short, stop).ravel())
        s_out.append(shorted.ravel())
    return np.concatenate(t_out), np.concatenate(s_out)
