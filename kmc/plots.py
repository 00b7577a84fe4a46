"""Summary figures (matplotlib, headless Agg backend)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
