"""Microstructure statistics of a dataset written by ``kmc microstructure`` (``kmc analyze``)."""
from __future__ import annotations

import numpy as np

from ..errors import DatasetError


def microstructure_report(ds) -> list[str]:
    """Human-readable statistics of a microstructure dataset (``kmc microstructure``)."""
    missing = [v for v in ("grain", "grain_diameter", "misorientation") if v not in ds]
    if missing:
        raise DatasetError(f"{ds.encoding.get('source', 'dataset')}: not a kmc microstructure "
                           f"dataset (missing {', '.join(missing)})")
    nx, ny, nz = (ds.sizes[d] for d in ("x", "y", "z"))
    h = float(ds.attrs.get("spacing_m", float("nan")))
    d = ds["grain_diameter"].values
    d = d[np.isfinite(d)]
    mis = ds["misorientation"].values
    mis = mis[np.isfinite(mis)]
    lines = [
        f"cell: {nx} x {ny} x {nz} sites of {h * 1e6:.3g} um ({ds.attrs.get('material', '?')})",
        f"grains: {int(ds['n_grains'])} ({d.size} not cut by the electrode faces)",
    ]
    if d.size:
        q = np.percentile(d, [10, 50, 90]) * 1e6
        lines.append(f"equivalent grain diameter: mean {d.mean() * 1e6:.3g} um, sd "
                     f"{d.std(ddof=1) * 1e6 if d.size > 1 else 0:.3g} um, "
                     f"10/50/90% {q[0]:.3g}/{q[1]:.3g}/{q[2]:.3g} um")
    lines.append(f"GB sites {float(ds['gb_site_fraction']):.1%}, GB edges "
                 f"{float(ds['gb_edge_fraction']):.1%}, triple-junction sites "
                 f"{int(ds['triple_junction_count'])}, porosity {float(ds['porosity']):.2%}, "
                 f"Li sites {float(ds['li_site_fraction']):.2%}")
    if mis.size:
        lines.append(f"boundary misorientation: mean {mis.mean():.1f} deg over {mis.size} boundaries "
                     "(random cubic orientations: 40.7 deg)")
    return lines
