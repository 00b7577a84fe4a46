"""Summary figures (matplotlib, headless Agg backend)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig, path) -> Path:
    """Write ``fig`` to ``path`` (folders created) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


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
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), constrained_layout=True)
    ax = axes[0]
    mean = ds["mean_displacement"].values
    ax.plot(t * 1e6, ds["msd"].values * 1e18, "0.6", label="MSD")
    ax.plot(t * 1e6, (ds["msd"].values - np.sum(mean * mean, axis=1)) * 1e18, "k-",
            label="variance (drift removed)")
    dilute = 2 * len(dims) * float(ds["hop_rate"]) * h**2 * t
    ax.plot(t * 1e6, dilute * 1e18, "r--", label=r"$2dDt$, $D=\nu' a^2$ (dilute, zero field)")
    ax.set(xlabel="time [µs]", ylabel="MSD [nm²]", title="spreading")
    ax.legend(fontsize=8)
    ax = axes[1]
    for i, name in enumerate(ds["axis"].values[: len(dims)]):
        ax.plot(t * 1e6, ds["mean_displacement"].values[:, i] * 1e9, label=str(name))
    ax2 = ax.twinx()
    ax2.step(t * 1e6, ds["field"].values, "0.6", where="pre", lw=0.8)
    ax2.set_ylabel("field [V/m]", color="0.5")
    ax.set(xlabel="time [µs]", ylabel="mean displacement [nm]", title="drift")
    ax.legend(fontsize=8)
    ax = axes[2]
    occ = ds["occupancy_final"].values
    if occ.ndim == 3:
        occ = occ[:, :, occ.shape[2] // 2]
    ax.imshow(occ.T, origin="lower", cmap="Greys", interpolation="nearest")
    ax.set(xlabel="x [site]", ylabel="y [site]", title="final occupancy" + (" (mid z slice)" if ds["occupancy_final"].ndim == 3 else ""))
    fig.suptitle(f"{ds.attrs.get('title', '')}  seed {ds.attrs.get('seed')}  "
                 f"{int(ds['n_particles'])} particles, {int(ds['events'].values[-1]):,} events")
    return _save(fig, path)


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
    img[phase == 1] = (0.15, 0.35, 0.85)
    img[phase == 2] = (1.0, 1.0, 1.0)
    return img


def microstructure_summary(ds, path) -> Path:
    """Grain map (2D) or three orthogonal mid-slices (3D), with grain-size and misorientation
    histograms. Li metal (flaws, contoured electrode) is blue, pores white, boundaries dark."""
    grain, phase = ds["grain"].values, ds["phase"].values
    h = float(ds.attrs.get("spacing_m", 1.0)) * 1e6
    nx, ny, nz = grain.shape
    if ny == 1:
        slices = [("x-z", (slice(None), 0, slice(None)), (nx, nz), ("x [µm]", "z [µm]"))]
    else:
        slices = [("x-z (mid y)", (slice(None), ny // 2, slice(None)), (nx, nz), ("x [µm]", "z [µm]")),
                  ("y-z (mid x)", (nx // 2, slice(None), slice(None)), (ny, nz), ("y [µm]", "z [µm]")),
                  ("x-y (mid z)", (slice(None), slice(None), nz // 2), (nx, ny), ("x [µm]", "y [µm]"))]
    fig, axes = plt.subplots(1, len(slices) + 2, figsize=(4.2 * (len(slices) + 2), 4.2),
                             constrained_layout=True)
    for ax, (title, sl, (a, b), (xl, yl)) in zip(axes, slices):
        img = _phase_image(grain[sl], phase[sl])
        ax.imshow(np.transpose(img, (1, 0, 2)), origin="lower", extent=(0, a * h, 0, b * h),
                  interpolation="nearest")
        ax.set(title=title, xlabel=xl, ylabel=yl)
    d = ds["grain_diameter"].values
    d = d[np.isfinite(d)] * 1e6
    ax = axes[-2]
    if d.size:
        ax.hist(d, bins=30, color="0.4")
        ax.axvline(float(np.mean(d)), color="r", label=f"mean {np.mean(d):.2f} µm")
        ax.legend(fontsize=8)
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


#: Li colours by cluster class (A-connected, C-connected, floating, short).
_CLASS_COLOURS = {0: (0.15, 0.35, 0.85), 1: (0.55, 0.2, 0.7), 2: (0.95, 0.55, 0.1), 3: (0.85, 0.1, 0.1)}


def plating_summary(ds, path) -> Path:
    """Final phase map (grains, Li coloured by cluster class, empty cracks white, the short
    path drawn), voltage and current traces, Li counts, and the Li depth profile over time.
    3D runs show the mid-y slice and, for the path, its projection."""
    h = float(ds.attrs.get("spacing_m", 1.0)) * 1e6
    grain = ds["grain"].values
    nx, ny, nz = grain.shape
    j = ny // 2
    phase = ds["phase"].values[-1][:, j, :]
    klass = ds["cluster_class"].values[-1][:, j, :]
    img = _phase_image(grain[:, j, :], np.where(phase == 1, 0, phase))
    for k, colour in _CLASS_COLOURS.items():
        img[(phase == 1) & (klass == k)] = colour
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.4), constrained_layout=True,
                             gridspec_kw={"width_ratios": [1.2, 1, 1, 1]})
    ax = axes[0]
    ax.imshow(np.transpose(img, (1, 0, 2)), origin="lower", extent=(0, nx * h, 0, nz * h),
              interpolation="nearest")
    path_map = ds["short_path"].values.max(axis=1)
    if path_map.any():
        xs, zs = np.nonzero(path_map)
        order = np.argsort(zs, kind="stable")
        ax.plot((xs[order] + 0.5) * h, (zs[order] + 0.5) * h, "k.", ms=2.5, label="shortest Li path")
        ax.legend(fontsize=7, loc="upper right")
    t_short = float(ds["t_short"])
    ax.set(xlabel="x [µm]", ylabel="z [µm] (plating electrode at 0)",
           title=f"final state ({ds['stop_reason'].item()})"
                 + (f": short at {t_short:.4g} s" if np.isfinite(t_short) else ""))
    t = ds["time"].values
    ax = axes[1]
    ax.plot(t, ds["voltage"].values * 1e3, "k-", label="cell voltage")
    ax.set(xlabel="time [s]", ylabel="voltage [mV]", title="voltage and current")
    ax2 = ax.twinx()
    j = ds["mean_current_density"].values * 0.1  # A/m^2 -> mA/cm^2
    ax2.step(t, j, "0.6", where="pre", lw=0.8)
    span = np.nanmax(np.abs(j)) if np.isfinite(j).any() else 1.0
    ax2.set_ylim(min(np.nanmin(j), 0.0) - 0.1 * span, max(np.nanmax(j), 0.0) + 0.1 * span)
    ax2.ticklabel_format(axis="y", useOffset=False)
    ax2.set_ylabel("mean J over each interval [mA/cm²]", color="0.5")
    ax = axes[2]
    for name, colour, label in (("li_sites_a", _CLASS_COLOURS[0], "A-connected"),
                                ("li_sites_c", _CLASS_COLOURS[1], "C-connected"),
                                ("li_sites_floating", _CLASS_COLOURS[2], "floating"),
                                ("empty_crack_sites", "0.5", "empty crack")):
        ax.plot(t, ds[name].values, color=colour, label=label)
    ax.set(xlabel="time [s]", ylabel="sites", title="Li and cracks")
    ax.legend(fontsize=7)
    ax = axes[3]
    prof = ds["li_depth_profile"].values
    z = ds["z"].values * 1e6
    for i in np.unique(np.linspace(0, t.size - 1, 5).round().astype(int)):
        ax.plot(prof[i], z, label=f"{t[i]:.3g} s")
    ax.set(xlabel="Li per layer [sites]", ylabel="z [µm]", title="Li depth profile")
    ax.legend(fontsize=7)
    fig.suptitle(f"{ds.attrs.get('material', '')} plating, seed {ds.attrs.get('seed')}: "
                 f"{int(ds['events'].values[-1]):,} events, {int(ds['field_solves'].values[-1]):,} "
                 f"field solves")
    return _save(fig, path)
