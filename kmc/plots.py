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
