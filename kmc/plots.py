"""Summary figures (matplotlib, headless Agg backend).

Maps are read by dimension name (``x``, ``y``, ``z``, ``snapshot``), never by axis position, so
any storage order of a dataset's maps gives the same figure. Every phase map carries a colour
key (:func:`phase_key`), and legends sit outside the data (beside or below the axes).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.figure  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

#: Li colours by cluster class (A-connected, C-connected, floating, short).
_CLASS_COLOURS = {0: (0.15, 0.35, 0.85), 1: (0.55, 0.2, 0.7), 2: (0.95, 0.55, 0.1), 3: (0.85, 0.1, 0.1)}
_CLASS_LABELS = {0: "Li joined to z = 0", 1: "Li joined to z = L", 2: "floating Li",
                 3: "Li of the short"}
_LI = (0.15, 0.35, 0.85)
_PORE = (1.0, 1.0, 1.0)
_CRACK = (0.0, 0.75, 0.75)
_FEATURE_PORE = 1


def _save(fig, path) -> Path:
    """Write ``fig`` to ``path`` (folders created) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def grid_values(da, dims=("x", "y", "z")):
    """Values of a map in the order ``dims`` (those present), whatever the storage order."""
    return da.transpose(*[d for d in dims if d in da.dims]).values


def xz_slice(da):
    """(x, z) values of a map at the mid-y plane (2D cells have one y)."""
    if "y" in da.dims:
        da = da.isel(y=da.sizes["y"] // 2)
    return da.transpose("x", "z").values


def phase_key(ax_or_fig, *, li_classes=False, crack=False, path=False, ncols=None, **kw):
    """A legend of the phase-map colours: electrolyte grains and their boundaries, Li (by cluster
    class when ``li_classes``), pores, empty cracks and the shortest Li path (when asked).
    Placed outside the data: below the axes (or the figure) unless ``loc`` is given."""
    h = [Patch(facecolor=(0.75, 0.85, 0.7), edgecolor="0.25", label="electrolyte (one tint per grain)"),
         Line2D([], [], color=(0.22, 0.25, 0.21), lw=2, label="grain boundary")]
    if li_classes:
        h += [Patch(facecolor=_CLASS_COLOURS[k], label=_CLASS_LABELS[k]) for k in _CLASS_COLOURS]
    else:
        h.append(Patch(facecolor=_LI, label="Li metal"))
    h.append(Patch(facecolor=_PORE, edgecolor="0.25", label="void (pore)"))
    if crack:
        h.append(Patch(facecolor=_CRACK, label="empty crack"))
    if path:
        h.append(Line2D([], [], color="k", marker=".", ls="", label="shortest Li path"))
    if isinstance(ax_or_fig, matplotlib.figure.Figure):
        kw.setdefault("loc", "outside lower center")
    else:
        kw.setdefault("loc", "upper center")
        kw.setdefault("bbox_to_anchor", (0.5, -0.2))
    return ax_or_fig.legend(handles=h, fontsize=7, ncols=ncols or min(len(h), 4), frameon=False,
                            **kw)


def _phase_image(grain, phase):
    """RGB image of a 2D slice: grains in random pastel colours, boundaries as one-pixel dark
    lines (a pixel whose + neighbour in the slice is another grain), Li blue, voids white."""
    n = int(grain.max()) + 1 if grain.size else 1
    rng = np.random.default_rng(12345)  # fixed palette, independent of the run
    palette = 0.45 + 0.5 * rng.random((n, 3))
    img = palette[grain]
    line = np.zeros(grain.shape, dtype=bool)
    line[:-1, :] |= grain[:-1, :] != grain[1:, :]
    line[:, :-1] |= grain[:, :-1] != grain[:, 1:]
    img[line] *= 0.3
    img[phase == 1] = _LI
    img[phase == 2] = _PORE
    return img


def plating_map(ds, snapshot=-1):
    """RGB (x, z) image of a plating snapshot at mid y: grains, Li by cluster class, pores
    white, empty cracks (voids that were not pores at the start) cyan."""
    grain = xz_slice(ds["grain"])
    phase = xz_slice(ds["phase"].isel(snapshot=snapshot))
    klass = xz_slice(ds["cluster_class"].isel(snapshot=snapshot))
    img = _phase_image(grain, np.where(phase == 1, 0, phase))
    for k, colour in _CLASS_COLOURS.items():
        img[(phase == 1) & (klass == k)] = colour
    if "feature" in ds:
        img[(phase == 2) & (xz_slice(ds["feature"]) != _FEATURE_PORE)] = _CRACK
    return img


def _draw_map(ax, img, h):
    nx, nz = img.shape[:2]
    ax.imshow(np.transpose(img, (1, 0, 2)), origin="lower", extent=(0, nx * h, 0, nz * h),
              interpolation="nearest")
    ax.set(xlabel="x [µm]", ylabel="z [µm] (plating electrode at 0)")


def _draw_path(ax, ds, h) -> bool:
    """Dots on the shortest Li path (3D: projected on x-z); True if there is one."""
    path = ds["short_path"]
    path_map = (path.max("y") if "y" in path.dims else path).transpose("x", "z").values
    if not path_map.any():
        return False
    xs, zs = np.nonzero(path_map)
    ax.plot((xs + 0.5) * h, (zs + 0.5) * h, "k.", ms=2.5)
    return True


def lattice_gas_summary(ds, path) -> Path:
    """Three panels: MSD and variance vs the dilute-limit line 2dDt, drift, final occupancy map.

    Parameters
    ----------
    ds : xarray.Dataset
        A lattice-gas dataset (:func:`kmc.output.lattice_gas_dataset`).
    path : path-like
        PNG file to write.
    """
    t = ds["time"].values
    dims = [d for d in ("x", "y", "z") if d in ds.dims]
    h = float(ds[dims[0]].values[1] - ds[dims[0]].values[0]) if ds.sizes[dims[0]] > 1 else np.nan
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.6), constrained_layout=True)
    ax = axes[0]
    mean = ds["mean_displacement"].transpose("time", "axis").values
    ax.plot(t * 1e6, ds["msd"].values * 1e18, "0.6", label="MSD")
    ax.plot(t * 1e6, (ds["msd"].values - np.sum(mean * mean, axis=1)) * 1e18, "k-",
            label="variance (drift removed)")
    dilute = 2 * len(dims) * float(ds["hop_rate"]) * h**2 * t
    ax.plot(t * 1e6, dilute * 1e18, "r--", label=r"$2dDt$, $D=\nu' a^2$ (dilute, zero field)")
    ax.set(xlabel="time [µs]", ylabel="MSD [nm²]", title="spreading")
    ax.legend(fontsize=8, loc="upper left")  # the curves start at the origin and rise
    ax = axes[1]
    for i, name in enumerate(ds["axis_label" if "axis_label" in ds else "axis"].values[: len(dims)]):
        ax.plot(t * 1e6, mean[:, i] * 1e9, label=f"along {name}")
    ax2 = ax.twinx()
    ax2.step(t * 1e6, ds["field"].values, "0.6", where="pre", lw=0.8, label="field")
    ax2.set_ylabel("field [V/m]", color="0.5")
    ax.set(xlabel="time [µs]", ylabel="mean displacement [nm]", title="drift")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="upper center",
              bbox_to_anchor=(0.5, -0.2), ncols=4, frameon=False)
    ax = axes[2]
    occ = grid_values(ds["occupancy_final"])
    if occ.ndim == 3:
        occ = occ[:, :, occ.shape[2] // 2]
    ext = (0, occ.shape[0] * h * 1e9, 0, occ.shape[1] * h * 1e9)
    im = ax.imshow(occ.T, origin="lower", cmap=matplotlib.colors.ListedColormap(["white", "black"]),
                   vmin=-0.5, vmax=1.5, interpolation="nearest", extent=ext)
    bar = fig.colorbar(im, ax=ax, ticks=[0, 1], shrink=0.6)
    bar.ax.set_yticklabels(["empty", "particle"])
    ax.set(xlabel="x [nm]", ylabel="y [nm]", title="final occupancy" +
           (" (mid z slice)" if ds["occupancy_final"].ndim == 3 else ""))
    fig.suptitle(f"{ds.attrs.get('title', '')}  seed {ds.attrs.get('seed')}  "
                 f"{int(ds['n_particles'])} particles, {int(ds['events'].values[-1]):,} events")
    return _save(fig, path)


def microstructure_summary(ds, path) -> Path:
    """Grain map (2D) or three orthogonal mid-slices (3D), with grain-size and misorientation
    histograms. Li metal (flaws, contoured electrode) is blue, pores white, boundaries dark;
    a colour key below the maps."""
    grain, phase = grid_values(ds["grain"]), grid_values(ds["phase"])
    h = float(ds.attrs.get("spacing_m", 1.0)) * 1e6
    nx, ny, nz = grain.shape
    if ny == 1:
        slices = [("x-z", (slice(None), 0, slice(None)), (nx, nz), ("x [µm]", "z [µm]"))]
    else:
        slices = [("x-z (mid y)", (slice(None), ny // 2, slice(None)), (nx, nz), ("x [µm]", "z [µm]")),
                  ("y-z (mid x)", (nx // 2, slice(None), slice(None)), (ny, nz), ("y [µm]", "z [µm]")),
                  ("x-y (mid z)", (slice(None), slice(None), nz // 2), (nx, ny), ("x [µm]", "y [µm]"))]
    fig, axes = plt.subplots(1, len(slices) + 2, figsize=(4.2 * (len(slices) + 2), 4.8),
                             constrained_layout=True)
    for ax, (title, sl, (a, b), (xl, yl)) in zip(axes, slices):
        img = _phase_image(grain[sl], phase[sl])
        ax.imshow(np.transpose(img, (1, 0, 2)), origin="lower", extent=(0, a * h, 0, b * h),
                  interpolation="nearest")
        ax.set(title=title, xlabel=xl, ylabel=yl)
    phase_key(fig, ncols=4)
    d = ds["grain_diameter"].values
    d = d[np.isfinite(d)] * 1e6
    ax = axes[-2]
    if d.size:
        ax.hist(d, bins=30, color="0.4")
        ax.axvline(float(np.mean(d)), color="r", label=f"mean {np.mean(d):.2f} µm")
        ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.08), frameon=False)
    ax.set(title="grain size", xlabel="equivalent diameter [µm]", ylabel="grains")
    ax = axes[-1]
    mis = ds["misorientation"].values
    if mis.size and np.isfinite(mis).any():
        ax.hist(mis[np.isfinite(mis)], bins=30, range=(0, 62.8), color="0.4")
    ax.set(title="boundary misorientation", xlabel="disorientation [°]", ylabel="boundaries")
    stats = (f"{int(ds['n_grains'])} grains, GB sites {float(ds['gb_site_fraction']):.1%}, "
             f"triple junctions {int(ds['triple_junction_count'])}, porosity {float(ds['porosity']):.1%}")
    fig.suptitle(f"{ds.attrs.get('material', '')} microstructure, seed {ds.attrs.get('seed')}: {stats}")
    return _save(fig, path)


def _series_panels(ds, axes):
    """Voltage and current, Li counts and the Li depth profile on three axes."""
    t = ds["time"].values
    ax = axes[0]
    ax.plot(t, ds["voltage"].values * 1e3, "k-", label="cell voltage (left)")
    ax.set(xlabel="time [s]", ylabel="voltage [mV]", title="voltage and current")
    ax2 = ax.twinx()
    j = ds["mean_current_density"].values * 0.1  # A/m^2 -> mA/cm^2
    ax2.step(t, j, "0.6", where="pre", lw=0.8, label="mean J over each interval (right)")
    span = np.nanmax(np.abs(j)) if np.isfinite(j).any() else 1.0
    if np.isfinite(j).any():
        ax2.set_ylim(min(np.nanmin(j), 0.0) - 0.1 * span, max(np.nanmax(j), 0.0) + 0.1 * span)
    ax2.ticklabel_format(axis="y", useOffset=False)
    ax2.set_ylabel("current density [mA/cm²]", color="0.5")
    (h1, l1), (h2, l2) = ax.get_legend_handles_labels(), ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2),
              frameon=False)
    ax = axes[1]
    for name, colour, label in (("li_sites_a", _CLASS_COLOURS[0], _CLASS_LABELS[0]),
                                ("li_sites_c", _CLASS_COLOURS[1], _CLASS_LABELS[1]),
                                ("li_sites_floating", _CLASS_COLOURS[2], _CLASS_LABELS[2]),
                                ("empty_crack_sites", _CRACK, "empty crack")):
        ax.plot(t, ds[name].values, color=colour, label=label, marker="." if t.size < 30 else None)
    ax.set(xlabel="time [s]", ylabel="sites", title="Li and cracks")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, frameon=False)
    ax = axes[2]
    prof = ds["li_depth_profile"].transpose("time", "z").values
    z = ds["z"].values * 1e6
    for i in np.unique(np.linspace(0, t.size - 1, 5).round().astype(int)):
        ax.plot(prof[i], z, label=f"t = {t[i]:.3g} s")
    ax.set(xlabel="Li per layer [sites]", ylabel="z [µm]", title="Li depth profile")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3, frameon=False)


def plating_summary(ds, path) -> Path:
    """Final phase map (grains, Li coloured by cluster class, pores white, empty cracks cyan, the
    short path drawn, a colour key below), voltage and current traces, Li counts, and the Li
    depth profile over time. 3D runs show the mid-y slice and, for the path, its projection."""
    h = float(ds.attrs.get("spacing_m", 1.0)) * 1e6
    fig, axes = plt.subplots(1, 4, figsize=(18, 5.2), constrained_layout=True,
                             gridspec_kw={"width_ratios": [1.2, 1, 1, 1]})
    ax = axes[0]
    has_snap = "snapshot" in ds.dims and "phase" in ds
    if has_snap:
        _draw_map(ax, plating_map(ds), h)
    drawn = _draw_path(ax, ds, h)
    phase_key(ax, li_classes=True, crack=True, path=drawn, ncols=2)
    t_short = float(ds["t_short"])
    ax.set_title(f"final state ({ds['stop_reason'].item()})"
                 + (f": short at {t_short:.4g} s" if np.isfinite(t_short) else ""))
    _series_panels(ds, axes[1:])
    fig.suptitle(f"{ds.attrs.get('material', '')} plating, seed {ds.attrs.get('seed')}: "
                 f"{int(ds['events'].values[-1]):,} events, {int(ds['field_solves'].values[-1]):,} "
                 f"field solves")
    return _save(fig, path)


def plating_series(ds, path) -> Path:
    """The three time-series panels of :func:`plating_summary` alone."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.6), constrained_layout=True)
    _series_panels(ds, axes)
    return _save(fig, path)


def snapshot_grid(ds, path, max_panels: int = 8) -> Path:
    """Phase maps of up to ``max_panels`` snapshots (evenly chosen, the last always in) side by
    side at mid y, Li by cluster class, the short path on the last one, one colour key below."""
    h = float(ds.attrs.get("spacing_m", 1.0)) * 1e6
    n = ds.sizes["snapshot"]
    picks = np.unique(np.linspace(0, n - 1, min(n, max_panels)).round().astype(int))
    cols = min(picks.size, 4)
    rows = -(-picks.size // cols)
    nx, nz = ds.sizes["x"], ds.sizes["z"]
    panel = 3.2 if cols > 1 else 4.0  # inches per map width
    fig, axes = plt.subplots(rows, cols, figsize=(panel * cols, rows * (panel * nz / nx + 0.6) + 1.3),
                             constrained_layout=True, squeeze=False)
    times = ds["snapshot_time"].values
    drawn = False
    for ax, i in zip(axes.ravel(), picks):
        _draw_map(ax, plating_map(ds, int(i)), h)
        ax.set_title(f"t = {times[i]:.4g} s", fontsize=9)
        if i == n - 1:
            drawn = _draw_path(ax, ds, h)
    for ax in axes.ravel()[picks.size:]:
        ax.set_axis_off()
    phase_key(fig, li_classes=True, crack=True, path=drawn, ncols=4)
    fig.suptitle(f"{ds.attrs.get('material', '')} plating, seed {ds.attrs.get('seed')}: "
                 "phase maps" + (" (mid-y slice)" if ds.sizes.get("y", 1) > 1 else ""))
    return _save(fig, path)
