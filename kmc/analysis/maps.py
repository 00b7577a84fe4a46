"""Site maps for the analysis functions: arrays or DataArrays put in (x, [y,] z) order by name.

Arrays are indexed like :meth:`kmc.graph.Graph.to_grid`: ``(x, z)`` in 2D or ``(x, y, z)`` in
3D, z last; a DataArray is transposed by its dimension names (the order a dataset stores its
maps in does not matter) and a ``y`` of one site is dropped.
"""
from __future__ import annotations

import numpy as np

from ..errors import AnalysisError

#: Lattice dimension names in the order of the arrays the analysis functions take.
_ORDER = ("x", "y", "z")


def _grid(a, name="map"):
    """``a`` as a numpy array in (x[, y], z) order: a DataArray is transposed by dimension name
    and a y of one site dropped; an array is taken as it is."""
    if not hasattr(a, "dims"):
        return np.asarray(a)
    extra = [d for d in a.dims if d not in _ORDER]
    if extra:
        raise AnalysisError(f"{name} has dimensions {a.dims}: select one {extra[0]} first "
                            f"(e.g. .isel({extra[0]}=-1)); a site map has only x, y, z")
    if "y" in a.dims and a.sizes["y"] == 1:
        a = a.isel(y=0)
    return np.asarray(a.transpose(*[d for d in _ORDER if d in a.dims]).values)


def _spacing_of(a, spacing):
    """The lattice spacing [m]: ``spacing`` if given, else from the z coordinate of a
    DataArray, else 1 (lengths in sites)."""
    if spacing is not None:
        return float(spacing)
    if hasattr(a, "coords") and "z" in a.coords and a.sizes["z"] > 1:
        return float(a["z"].values[1] - a["z"].values[0])
    if hasattr(a, "coords") and "z" in a.coords:
        return 2.0 * float(a["z"].values[0])  # one layer: its centre is at h / 2
    return 1.0
