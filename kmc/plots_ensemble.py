"""Ensemble figures (matplotlib, headless Agg backend): survival curves per sweep point, t_short
against current density with the power-law fit, a per-task scalar against the sweep parameter.

The functions draw data prepared by :mod:`kmc.analysis.report`; legends sit beside the axes,
outside the data.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import ticker

from .plots import _save, plt


def _colours(n):
    return plt.get_cmap("viridis")(np.linspace(0.0, 0.85, max(n, 1)))


def survival_curves(points, path, title="") -> Path:
    """Kaplan-Meier S(t) per sweep point: step curve, pointwise band (shaded), censored runs
    as '+' marks on the curve, the median as a dotted drop line.

    Parameters
    ----------
    points : sequence of (label, KaplanMeier or None, t_stop, shorted)
        One entry per sweep point; without a short (``None``) the curve stays at 1 up to the
        longest stop time [s].
    path : path-like
        PNG file to write.
    """
    fig, ax = plt.subplots(figsize=(7.8, 4.2), constrained_layout=True)
    for (label, km, t, s), c in zip(points, _colours(len(points))):
        if km is None:
            end = float(np.max(t)) if np.size(t) else 0.0
            ax.step([0.0, end], [1.0, 1.0], where="post", color=c,
                    label=f"{label}: no short in {np.size(t)} runs")
            ax.plot(t, np.ones(np.size(t)), "+", color=c, ms=9, mew=1.5)
            continue
        x = np.concatenate(([0.0], km.times))
        ax.step(x, np.concatenate(([1.0], km.survival)), where="post", color=c, lw=1.8,
                label=f"{label} ({km.n_events}/{km.n} shorted)")
        lo = np.concatenate(([1.0], km.lower))
        hi = np.concatenate(([1.0], np.where(np.isfinite(km.upper), km.upper, km.survival)))
        ax.fill_between(x, lo, hi, step="post", color=c, alpha=0.18, lw=0)
        cens = np.asarray(t)[~np.asarray(s)]
        if cens.size:
            ax.plot(cens, km.evaluate(cens)[0], "+", color=c, ms=10, mew=1.5)
        if np.isfinite(km.median):
            ax.plot([km.median, km.median], [0.0, 0.5], ":", color=c, lw=1)
    ax.axhline(0.5, color="0.7", lw=0.8, zorder=0)
    if any((~np.asarray(s)).any() for _, _, _, s in points):
        ax.plot([], [], "k+", ms=9, mew=1.5, ls="", label="censored run (no short)")
    ax.fill_between([], [], [], color="0.5", alpha=0.25, label="95% pointwise band")
    ax.plot([], [], "k:", lw=1, label="median t_short")
    ax.set(xlabel="time [s]", ylabel="survival S(t) = P(no short by t) [1]", ylim=(-0.02, 1.04),
           xlim=(0.0, None), title=title or "time to short circuit (Kaplan-Meier)")
    ax.legend(fontsize=8, loc="upper left",
              bbox_to_anchor=(1.02, 1.0), frameon=False)
    return _save(fig, path)


def t_short_vs_current(runs, table, fit, path, title="") -> Path:
    """t_short against J on log axes: every short (dots), every censored run at its stop time
    (open triangles: t_short lies above), the median per J with its interval, and the power-law
    fit with its bootstrap interval of n as a band pivoting at the data's centroid.

    Parameters
    ----------
    runs : tuple of arrays (J [mA/cm^2], t_stop [s], shorted)
    table : tuple of arrays (J [mA/cm^2], median, lower, upper [s])
    fit : PowerLawFit or None
        Fitted in SI (J in A/m^2).
    """
    J, t, s = (np.asarray(a) for a in runs)
    fig, ax = plt.subplots(figsize=(7.4, 4.2), constrained_layout=True)
    ax.plot(J[s], t[s], "o", color="0.45", ms=4, zorder=4, label="short (one run)")
    if (~s).any():
        ax.plot(J[~s], t[~s], "^", mfc="none", color="0.35", ms=6,
                label="censored run at its stop time")
    jm, med, lo, hi = (np.asarray(a, float) for a in table)
    ok = np.isfinite(med)
    yerr = np.vstack([med[ok] - np.where(np.isfinite(lo[ok]), lo[ok], med[ok]),
                      np.where(np.isfinite(hi[ok]), hi[ok], med[ok]) - med[ok]])
    ax.errorbar(jm[ok], med[ok], yerr=yerr, fmt="s", color="C3", ms=7, capsize=4,
                label="Kaplan-Meier median, 95% interval")
    open_top = ok & ~np.isfinite(hi)
    for j in np.flatnonzero(open_top):  # the upper bound lies beyond the longest run at this J
        top = t[np.isclose(J, jm[j])].max()
        ax.plot([jm[j], jm[j]], [med[j], top], ":", color="C3", lw=1.2)
        ax.plot([jm[j]], [top], "^", color="C3", ms=5,
                label="interval open above the longest run" if j == np.flatnonzero(open_top)[0]
                else None)
    if fit is not None:
        js = fit.current_density  # A/m^2
        grid = np.geomspace(js.min() / 1.15, js.max() * 1.15, 50)
        x0, y0 = np.mean(np.log(js)), np.mean(np.log(fit.median))
        def line(n):
            return np.exp(y0 - n * (np.log(grid) - x0))
        ax.plot(grid * 0.1, line(fit.exponent), "C3-", lw=1.5,
                label=f"fit t = A J$^{{-n}}$, n = {fit.exponent:.2f}")
        a, b = fit.exponent_interval
        ax.fill_between(grid * 0.1, line(a), line(b), color="C3", alpha=0.15,
                        label=f"n {fit.confidence:.0%} bootstrap {a:.2f} .. {b:.2f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):  # plain numbers on the decade and the in-between ticks
        axis.set_major_formatter(ticker.LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 1)))
        axis.set_minor_formatter(ticker.LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 1)))
    ax.set(xlabel="current density J [mA/cm²]", ylabel="time to short t_short [s]",
           title=title or "time to short against current density")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    return _save(fig, path)


def sweep_scalar(x, labels, values, path, *, ylabel, xlabel, title="", log_x=False) -> Path:
    """A per-task scalar against the sweep parameter: every replica (dots), the median and the
    replica range (bar) per sweep point.

    Parameters
    ----------
    x : array_like, shape (points,)
        Position of each sweep point (its value, or its index with ``labels`` as tick labels).
    labels : sequence of str or None
        Tick labels (None: numeric axis).
    values : sequence of arrays
        The replicas' values per point (NaN: not reached).
    """
    fig, ax = plt.subplots(figsize=(7.0, 4.0), constrained_layout=True)
    x = np.asarray(x, float)
    for i, v in enumerate(values):
        v = np.asarray(v, float)
        v = v[np.isfinite(v)]
        ax.plot(np.full(v.size, x[i]), v, "o", color="0.6", ms=4,
                label="replica" if i == 0 else None)
        if v.size:
            m = np.median(v)
            ax.errorbar([x[i]], [m], yerr=[[m - v.min()], [v.max() - m]], fmt="s", color="C0",
                        ms=7, capsize=4, label="median, replica range" if i == 0 else None)
    if labels is not None:
        ax.set_xticks(x, labels, rotation=20 if len(x) > 4 else 0)
    if log_x:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    return _save(fig, path)
