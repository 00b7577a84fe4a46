"""Markdown reports of datasets with figures beside them (``kmc analyze``).

:func:`report` writes ``<dataset>.report.md`` and its PNG figures (``<dataset>.report.<name>.png``)
next to each other, so the markdown's relative image links work wherever the folder is copied.
What goes in depends on the kind of dataset (:func:`dataset_kind`):

==================  ===========================================================================
kind                contents
==================  ===========================================================================
``plating``         stop reason, t_short, charge at short [mAh/cm^2], short-path GB fraction
                    and tortuosity, final Li counts, Li morphology of the last snapshot
                    (:func:`kmc.analysis.morphology.morphology`); figures: voltage / Li counts /
                    depth profile over time, a grid of snapshot phase maps with a colour key
``ensemble``        Kaplan-Meier survival per sweep point (band, censoring marks), a table of
                    medians with intervals, t_short vs J on log axes with the power-law fit when
                    the sweep is over current density, the CCD per sweep point when the dataset
                    has ``ccd``, and the failed tasks
``microstructure``  :func:`kmc.analysis.microstructure_report` and the summary figure
``lattice_gas``     :func:`kmc.analysis.lattice_gas_transport` and the summary figure
==================  ===========================================================================

Maps and per-task variables are selected by dimension name (never by axis position). Every
random number (the bootstrap of the power-law interval) comes from
``numpy.random.default_rng(REPORT_SEED)``, so a report is reproducible.
"""
from __future__ import annotations

import datetime as _dt
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AnalysisError, DatasetError
from ..version import __version__
from .microstructure import microstructure_report
from .scaling import power_law_fit
from .survival import kaplan_meier
from .transport import lattice_gas_transport

#: Seed of the bootstrap resamples in a report (stated in the report).
REPORT_SEED = 0
#: Bootstrap replicates of the power-law exponent interval.
N_BOOT = 2000
#: 1 mAh/cm^2 in C/m^2.
MAH_PER_CM2 = 3.6 / 1e-4


@dataclass
class Report:
    """A written report: its path, the figures beside it and its key lines (what the CLI prints)."""

    path: Path
    kind: str
    key_lines: list[str] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)


def dataset_kind(ds) -> str:
    """``"ensemble"`` (a ``replica`` dimension), ``"plating"``, ``"microstructure"`` or
    ``"lattice_gas"`` (from the ``model`` attribute; anything else is treated as a lattice gas,
    whose reader then names what is missing)."""
    if "replica" in ds.dims:
        return "ensemble"
    model = ds.attrs.get("model")
    return model if model in ("plating", "microstructure") else "lattice_gas"


def default_path(ds) -> Path:
    """``<dataset>.report.md`` beside the dataset (``report.md`` if it has no source file)."""
    src = ds.encoding.get("source")
    return Path(src).with_suffix(".report.md") if src else Path("report.md")


def report(ds, path=None) -> Path:
    """Write the markdown report of ``ds`` and its figures; return the report's path.

    Parameters
    ----------
    ds : xarray.Dataset
        A dataset of ``kmc run`` (plating or lattice gas), ``kmc microstructure`` or
        ``kmc ensemble`` (:func:`kmc.open_dataset`).
    path : path-like, optional
        The markdown file (default :func:`default_path`); figures go beside it, named after it.

    Raises
    ------
    DatasetError
        A dataset that is none of these kinds (one line naming what is missing).
    """
    return write_report(ds, path).path


def write_report(ds, path=None) -> Report:
    """As :func:`report`, returning the :class:`Report` (path, figures, key lines)."""
    path = Path(path) if path is not None else default_path(ds)
    kind = dataset_kind(ds)
    rep = Report(path=path, kind=kind)
    body = {"ensemble": _ensemble, "plating": _plating, "microstructure": _microstructure,
            "lattice_gas": _lattice_gas}[kind](ds, rep)
    name = Path(ds.encoding.get("source", "dataset")).name
    head = [f"# {ds.attrs.get('title', 'kmc dataset')}: `{name}`", "",
            f"Report of `kmc analyze` (kmc {__version__}, "
            f"{_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')}). Dataset written "
            f"by kmc {ds.attrs.get('kmc_version', '?')}, seed {ds.attrs.get('seed', '?')}"
            + (f"; history: `{ds.attrs['history']}`" if "history" in ds.attrs else "") + ".", "",
            "## Key results", ""] + [f"- {line}" for line in rep.key_lines] + [""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(head + body) + "\n")
    return rep


def _figure(rep: Report, name: str) -> Path:
    """Path of the figure ``name`` beside the report."""
    p = rep.path.with_name(f"{rep.path.name.removesuffix('.md')}.{name}.png")
    rep.figures.append(p)
    return p


def _image(p: Path, alt: str) -> list[str]:
    return [f"![{alt}]({p.name})", ""]


def _num(x, fmt=".4g", unit="") -> str:
    x = float(x)
    return "n/a" if not math.isfinite(x) else f"{x:{fmt}}{' ' + unit if unit else ''}"


def _scalar(ds, name) -> float:
    return float(ds[name]) if name in ds else math.nan


# --- single runs ---------------------------------------------------------------------------

def _lattice_gas(ds, rep) -> list[str]:
    from ..plots import lattice_gas_summary

    lines = lattice_gas_transport(ds).report()
    rep.key_lines += lines
    fig = lattice_gas_summary(ds, _figure(rep, "summary"))
    return ["## Transport", "", "```", *lines, "```", "", "## Figures", "",
            "Spreading (MSD, drift-free variance, dilute-limit line), drift per axis with the "
            "applied field, and the final occupancy map.", "", *_image(fig, "lattice-gas summary")]


def _microstructure(ds, rep) -> list[str]:
    from ..plots import microstructure_summary

    lines = microstructure_report(ds)
    rep.key_lines += lines
    fig = microstructure_summary(ds, _figure(rep, "summary"))
    return ["## Microstructure statistics", "", "```", *lines, "```", "", "## Figures", "",
            "Grain map (colour key below it) with grain-size and misorientation histograms.", "",
            *_image(fig, "microstructure summary")]


def _plating(ds, rep) -> list[str]:
    from ..plots import plating_series, snapshot_grid

    missing = [v for v in ("t_short", "stop_reason", "voltage", "grain") if v not in ds]
    if missing:
        raise DatasetError(f"{ds.encoding.get('source', 'dataset')}: not a kmc plating run "
                           f"(missing {', '.join(missing)})")
    t = ds["time"].values
    reason = str(ds["stop_reason"].values)
    t_short = _scalar(ds, "t_short")
    area = _scalar(ds, "cell_area")
    q = _scalar(ds, "charge_at_short") / area / MAH_PER_CM2
    key = [f"stop reason: {reason} at t = {t[-1]:.4g} s"]
    if math.isfinite(t_short):
        key.append(f"t_short = {t_short:.4g} s; charge at short {q:.4g} mAh/cm^2")
        key.append(f"short path: GB edge fraction {_num(_scalar(ds, 'short_path_gb_fraction'), '.3f')} "
                   f"(cell: {_num(_scalar(ds, 'gb_edge_fraction'), '.3f')}), GB site fraction "
                   f"{_num(_scalar(ds, 'short_path_gb_site_fraction'), '.3f')} (cell: "
                   f"{_num(_scalar(ds, 'gb_site_fraction'), '.3f')}), tortuosity "
                   f"{_num(_scalar(ds, 'short_path_tortuosity'), '.3f')}, "
                   f"{int(_scalar(ds, 'short_path_length'))} sites")
    else:
        key.append(f"no short: censored at {t[-1]:.4g} s")
    if "ccd" in ds and ds["ccd"].ndim == 0 and np.isfinite(float(ds["ccd"])):
        key.append(f"critical current density {_ccd_text(ds['ccd'])}")
    rep.key_lines += key
    last = {n: ds[n].values[-1] for n in ("voltage", "li_sites_a", "li_sites_c", "li_sites_floating",
                                          "floating_clusters", "penetration_depth", "events",
                                          "field_solves", "empty_crack_sites") if n in ds}
    table = ["| quantity | value |", "|---|---|",
             f"| applied J at the stop | {_num(ds['current_density'].values[-1] * 0.1, '.4g', 'mA/cm²')} |",
             f"| cell voltage at the stop | {_num(last['voltage'] * 1e3, '.4g', 'mV')} |",
             f"| Li sites joined to z = 0 / z = L / floating | {int(last['li_sites_a'])} / "
             f"{int(last['li_sites_c'])} / {int(last['li_sites_floating'])} |",
             f"| floating clusters | {int(last['floating_clusters'])} |",
             f"| penetration depth | {_num(last['penetration_depth'] * 1e6, '.3g', 'µm')} |",
             f"| empty crack sites | {int(last.get('empty_crack_sites', 0))} |",
             f"| crack span time | {_num(_scalar(ds, 'crack_span_time'), '.4g', 's')} |",
             f"| events / field solves | {int(last['events']):,} / {int(last['field_solves']):,} |"]
    body = ["## Run", "", *table, "", *_morphology(ds), "## Figures", ""]
    fig = plating_series(ds, _figure(rep, "series"))
    body += ["Cell voltage and applied current density, Li sites by cluster class and empty "
             "cracks, and the Li depth profile over time.", "", *_image(fig, "time series")]
    if "snapshot" in ds.dims and "phase" in ds:
        fig = snapshot_grid(ds, _figure(rep, "snapshots"))
        body += ["Phase maps of the snapshots (colour key below; the dots on the last map are "
                 "the shortest Li path between the electrodes).", "", *_image(fig, "snapshots")]
    else:
        body += ["(The run kept no snapshots: no phase maps.)", ""]
    return body


def _morphology(ds) -> list[str]:
    """Morphology of the last snapshot (:mod:`kmc.analysis.morphology`), when the run kept one."""
    if "snapshot" not in ds.dims:
        return []
    from .morphology import morphology

    try:
        m = morphology(ds)
    except (AnalysisError, DatasetError) as exc:
        return ["## Li morphology", "", f"not computed: {exc}", ""]
    sizes = m.floating_sizes
    return ["## Li morphology (last snapshot)", "",
            f"At t = {m.time:.4g} s: {m.li_sites} Li sites, box-counting dimension "
            f"{_num(m.dimension, '.3f')}, GB fraction of the Li {_num(m.gb_fraction, '.3f')}, "
            f"penetration depth {_num(m.penetration_depth * 1e6, '.3g', 'µm')}, Li centroid depth "
            f"{_num(m.profile.centroid * 1e6, '.3g', 'µm')}, {sizes.size} floating clusters"
            + (f" (largest {int(sizes.max())} sites)" if sizes.size else "") + ".", ""]


def _ccd_text(da) -> str:
    v = float(da)
    units = da.attrs.get("units", "")
    if units in ("A m-2", "A/m^2", "A/m2"):
        return _num(v * 0.1, ".4g", "mA/cm²")
    return _num(v, ".4g", units)


# --- ensembles -----------------------------------------------------------------------------

#: SI units of a sweep coordinate -> (factor, display unit).
_DISPLAY = {"A/m^2": (0.1, "mA/cm²"), "A m-2": (0.1, "mA/cm²"), "Pa": (1e-6, "MPa")}


#: Symbols of common sweep dimensions in labels.
_SYMBOL = {"current_density": "J", "temperature": "T", "stack_pressure": "p"}


def _axis_format(ds, dim):
    """(label of one value, axis label with units, display factor) of the sweep dimension."""
    c = ds[dim]
    factor, unit = _DISPLAY.get(c.attrs.get("units", ""), (1.0, c.attrs.get("units", "")))
    name = _SYMBOL.get(dim, dim.replace("_", " "))
    if c.dtype.kind in "fiu":
        full = dim.replace("_", " ")
        return (lambda v: f"{name} = {float(v) * factor:.4g} {unit}".rstrip(),
                f"{full} {name} [{unit}]" if unit else full, factor)
    return (lambda v: f"{name} = {v}", name, None)


@dataclass(frozen=True)
class _Point:
    label: str
    index: dict
    t_stop: np.ndarray
    shorted: np.ndarray
    failed: int
    km: object


def _points(ds) -> tuple[list, list]:
    """The sweep dimensions and one :class:`_Point` per sweep point (finished tasks only)."""
    dims = [d for d in ds["t_short"].dims if d != "replica"]
    fmts = {d: _axis_format(ds, d)[0] for d in dims}
    out = []
    for idx in itertools.product(*(range(ds.sizes[d]) for d in dims)):
        sel = dict(zip(dims, idx))
        sub = ds.isel(sel)
        ok = sub["stop_reason"].values != "error"
        t_short = sub["t_short"].values[ok]
        shorted = np.isfinite(t_short)
        t_stop = np.where(shorted, t_short, sub["stop_time"].values[ok])
        km = kaplan_meier(t_stop, shorted) if shorted.any() else None
        label = ", ".join(fmts[d](ds[d].values[i]) for d, i in sel.items()) or "all runs"
        out.append(_Point(label, sel, t_stop, shorted, int((~ok).sum()), km))
    return dims, out


def _current_axis(ds, dims):
    """The sweep dimension that is a current density, if it is the only one with >1 value."""
    varying = [d for d in dims if ds.sizes[d] > 1]
    if len(varying) == 1:
        d = varying[0]
        if (d == "current_density" or str(ds[d].attrs.get("deck_key", "")).endswith(
                "current_density")) and ds[d].dtype.kind in "fiu":
            return d
    return None


def _ensemble(ds, rep) -> list[str]:
    from ..plots_ensemble import survival_curves, sweep_scalar, t_short_vs_current

    for v in ("t_short", "stop_time", "stop_reason"):
        if v not in ds:
            raise DatasetError(f"{ds.encoding.get('source', 'dataset')}: not a kmc ensemble "
                               f"dataset (missing {v})")
    dims, points = _points(ds)
    reasons = {}
    for r in ds["stop_reason"].values.ravel().tolist():
        reasons[r] = reasons.get(r, 0) + 1
    n_tasks = int(ds["stop_reason"].size)
    rep.key_lines.append(f"{ds.attrs.get('sweep', f'{n_tasks} tasks')}: "
                         + ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())))
    cl = 0.95
    rows = [f"| sweep point | runs | shorts | censored | failed | median t_short [s] | "
            f"{cl:.0%} interval [s] | median charge at short [mAh/cm²] |",
            "|---|---|---|---|---|---|---|---|"]
    for p in points:
        q = math.nan
        if "charge_at_short" in ds and "cell_area" in ds and p.shorted.any():
            sub = ds.isel(p.index)
            qq = (sub["charge_at_short"] / sub["cell_area"]).values / MAH_PER_CM2
            q = float(np.nanmedian(qq)) if np.isfinite(qq).any() else math.nan
        med, lo, hi = ((p.km.median, p.km.median_lower, p.km.median_upper) if p.km is not None
                       else (math.nan,) * 3)
        upper = _num(hi) if math.isfinite(hi) or not math.isfinite(med) else \
            f"> {p.t_stop.max():.4g}"
        rows.append(f"| {p.label} | {p.t_stop.size} | {int(p.shorted.sum())} | "
                    f"{int((~p.shorted).sum())} | {p.failed} | {_num(med)} | "
                    f"{_num(lo)} .. {upper} | {_num(q)} |")
        rep.key_lines.append(
            f"{p.label}: {int(p.shorted.sum())}/{p.t_stop.size} shorted, median t_short "
            + (f"{med:.4g} s ({cl:.0%}: {_num(lo)} .. {upper} s)" if math.isfinite(med)
               else "not reached"))
    body = ["## Time to short per sweep point", "",
            "Kaplan-Meier medians with their 95% intervals (log-log band inverted, Brookmeyer & "
            "Crowley 1982; '> t': the bound lies beyond the longest run t; n/a: not reached). "
            "Censored runs (no short before the stop) count as at risk up to their stop time; "
            "failed tasks are left out.", "", *rows, ""]
    fig = survival_curves([(p.label, p.km, p.t_stop, p.shorted) for p in points],
                          _figure(rep, "survival"),
                          title=f"{ds.attrs.get('title', 'ensemble')}: survival of t_short")
    body += ["### Survival curves", "", "S(t) per sweep point with its 95% pointwise band; '+' "
             "marks a censored run.", "", *_image(fig, "survival curves")]
    body += _power_law(ds, dims, points, rep, t_short_vs_current)
    body += _ccd(ds, dims, points, rep, sweep_scalar)
    body += _failed(ds, dims)
    return body


def _power_law(ds, dims, points, rep, plot) -> list[str]:
    d = _current_axis(ds, dims)
    if d is None:
        return []
    factor = 0.1 if ds[d].attrs.get("units", "A/m^2") in ("A/m^2", "A m-2") else 1.0
    J = np.concatenate([np.full(p.t_stop.size, float(ds[d].values[p.index[d]])) for p in points])
    t = np.concatenate([p.t_stop for p in points])
    s = np.concatenate([p.shorted for p in points])
    jv = np.array([float(ds[d].values[p.index[d]]) for p in points])
    med = np.array([p.km.median if p.km is not None else math.nan for p in points])
    lo = np.array([p.km.median_lower if p.km is not None else math.nan for p in points])
    hi = np.array([p.km.median_upper if p.km is not None else math.nan for p in points])
    reached = np.isfinite(med)
    body = ["### t_short against current density", ""]
    fit = None
    if reached.sum() >= 2:
        keep = np.isin(J, jv[reached])
        try:
            fit = power_law_fit(J[keep], t[keep], s[keep], rng=np.random.default_rng(REPORT_SEED),
                                n_boot=N_BOOT)
        except AnalysisError as exc:
            body += [f"Power law not fitted: {exc}.", ""]
    else:
        body += [f"Power law not fitted: the median t_short is reached at {int(reached.sum())} "
                 "current density(ies); 2 are needed.", ""]
    if fit is not None:
        a, b = fit.exponent_interval
        line = (f"power law t_short = A J^-n over {fit.current_density.size} current densities: "
                f"n = {fit.exponent:.3g} ({fit.confidence:.0%} bootstrap {a:.3g} .. {b:.3g})")
        rep.key_lines.append(line)
        skipped = jv[~reached]
        body += [f"Least squares of ln(median t_short) on ln J, {N_BOOT} stratified bootstrap "
                 f"replicates (seed {REPORT_SEED}; {fit.n_boot} reached every median): "
                 f"**n = {fit.exponent:.3g}** ({fit.confidence:.0%} interval {a:.3g} .. {b:.3g}), "
                 f"A = {fit.prefactor:.4g} s (A/m²)^n."
                 + (f" Left out (median not reached): {', '.join(f'{v * factor:.4g}' for v in skipped)} "
                    "mA/cm²." if skipped.size else ""), ""]
    fig = plot((J * factor, t, s), (jv * factor, med, lo, hi), fit, _figure(rep, "scaling"))
    return body + _image(fig, "t_short against current density")


def _ccd(ds, dims, points, rep, plot) -> list[str]:
    if "ccd" not in ds or not np.isfinite(ds["ccd"].values).any():
        return []  # no staircase protocol, or no failure within it: nothing to show
    da = ds["ccd"]
    units = da.attrs.get("units", "")
    factor, unit = _DISPLAY.get(units, (1.0, units))
    values = [np.atleast_1d(da.isel({k: v for k, v in p.index.items() if k in da.dims}).values)
              * factor for p in points]
    rows = [f"| sweep point | replicas with a CCD | median CCD [{unit}] | range [{unit}] |",
            "|---|---|---|---|"]
    for p, v in zip(points, values):
        f = v[np.isfinite(v)]
        rows.append(f"| {p.label} | {f.size}/{v.size} | {_num(np.median(f)) if f.size else 'n/a'} | "
                    + (f"{f.min():.4g} .. {f.max():.4g}" if f.size else "n/a") + " |")
        if f.size:
            rep.key_lines.append(f"{p.label}: median CCD {np.median(f):.4g} {unit} "
                                 f"(range {f.min():.4g} .. {f.max():.4g}, {f.size} replicas)")
    varying = [d for d in dims if ds.sizes[d] > 1]
    if len(varying) == 1 and ds[varying[0]].dtype.kind in "fiu":
        fmt, xlabel, xf = _axis_format(ds, varying[0])
        x = np.array([float(ds[varying[0]].values[p.index[varying[0]]]) * xf for p in points])
        labels = None
    else:
        x, labels, xlabel = np.arange(len(points)), [p.label for p in points], "sweep point"
    fig = plot(x, labels, values, _figure(rep, "ccd"), ylabel=f"critical current density [{unit}]",
               xlabel=xlabel, title="critical current density per sweep point")
    return ["### Critical current density", "", "Per sweep point: the median over replicas and "
            "the replica range (NaN: no failure within the protocol).", "", *rows, "",
            *_image(fig, "critical current density")]


def _failed(ds, dims) -> list[str]:
    if "error" not in ds:
        return []
    err = ds["error"]
    rows = []
    for idx in itertools.product(*(range(n) for n in err.shape)):
        msg = str(err.values[idx])
        if msg:
            at = dict(zip(err.dims, idx))
            where = ", ".join(f"{d} = {ds[d].values[i]}" for d, i in at.items())
            task = int(ds["task"].values[idx]) if "task" in ds else -1
            rows.append(f"| {task} | {where} | {msg.replace('|', '/')} |")
    if not rows:
        return ["### Failed tasks", "", "None.", ""]
    return ["### Failed tasks", "", f"{len(rows)} task(s) raised (left out of every estimate; "
            f"records in `{ds.attrs.get('tasks_directory', '?')}`):", "",
            "| task | where | error |", "|---|---|---|", *rows, ""]


__all__ = ["REPORT_SEED", "Report", "dataset_kind", "default_path", "report", "write_report"]
