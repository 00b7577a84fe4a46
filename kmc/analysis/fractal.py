"""Box-counting (Minkowski-Bouligand) dimension of a set of lattice sites, e.g. a Li deposit
(VALIDATION.md C10: Laplacian growth, D ~ 1.71 in the large-cluster limit)."""
from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from ..errors import AnalysisError
from .maps import _grid


class BoxCounting(NamedTuple):
    """Result of :func:`box_counting_dimension` (a tuple: ``D, sizes, counts = ...``).

    Attributes
    ----------
    dimension : float
        Box-counting dimension D (dimensionless).
    sizes : ndarray of int
        Box sides eps [sites].
    counts : ndarray of int
        Occupied boxes N(eps).
    """

    dimension: float
    sizes: np.ndarray
    counts: np.ndarray


def unwrap_periodic(mask, axis=0):
    """Roll a periodic ``axis`` of a boolean ``mask`` so that its widest run of empty slices
    lies at the seam: a cluster that crosses the periodic boundary becomes one piece in the
    plane. A mask that fills every slice is returned unchanged.

    Parameters
    ----------
    mask : array_like of bool or xarray.DataArray
        Sites of the set, (x[, y], z) (module docstring).
    axis : int, optional
        The periodic axis (default 0: x).

    Returns
    -------
    ndarray of bool
    """
    mask = np.asarray(_grid(mask, "mask"), bool)
    other = tuple(a for a in range(mask.ndim) if a != axis % mask.ndim)
    occupied = mask.any(axis=other)
    if occupied.all() or not occupied.any():
        return mask
    n = occupied.size
    empty = ~occupied
    # longest circular run of empty slices: its end is where the cluster starts
    best_len, best_end, run = 0, 0, 0
    for k in range(2 * n):
        if empty[k % n]:
            run += 1
            if run > best_len and run <= n:
                best_len, best_end = run, k % n
        else:
            run = 0
    return np.roll(mask, -(best_end + 1), axis=axis)


def box_counts(mask, sizes):
    """Number of occupied boxes N(eps) of side ``eps`` (in sites) covering the True sites of
    ``mask``, for each eps in ``sizes``.

    The box grid starts at the lower corner of the set's bounding box; for eps > 1 the count
    is minimised over grid offsets in steps of max(1, eps // 4) along each axis (the
    box-counting dimension is defined with the smallest cover; the minimum removes most of the
    dependence on where the grid happens to start).

    Parameters
    ----------
    mask : array_like of bool or xarray.DataArray
        Sites of the set, any number of axes (2D: every offset pair; 3D: every offset triple,
        up to eps^3 of them for eps < 8).
    sizes : sequence of int
        Box sides eps [sites].

    Returns
    -------
    ndarray of int64
        N(eps) per size.

    Raises
    ------
    AnalysisError
        An empty set.
    """
    pts = np.argwhere(np.asarray(_grid(mask, "mask"), bool))
    if pts.size == 0:
        raise AnalysisError("box counting: the set is empty (no True site)")
    pts = pts - pts.min(axis=0)
    span = int(pts.max()) + 2
    out = []
    for eps in sizes:
        eps = int(eps)
        step = max(1, eps // 4)
        base = span + eps  # > every box index: keys are unique per box
        best = None
        for offset in itertools.product(range(0, eps, step), repeat=pts.shape[1]):
            b = (pts + offset) // eps
            key = b[:, 0]
            for ax in range(1, b.shape[1]):
                key = key * base + b[:, ax]
            n = np.unique(key).size
            best = n if best is None else min(best, n)
        out.append(best)
    return np.asarray(out, dtype=np.int64)


def box_sizes(mask, smallest=2, fraction=0.25, n=8):
    """Box sizes for :func:`box_counting_dimension`: ``n`` geometrically spaced integers from
    ``smallest`` sites to ``fraction`` of the set's size (the longer side of its bounding box),
    duplicates removed.

    Parameters
    ----------
    mask : array_like of bool or xarray.DataArray
        Sites of the set.
    smallest : int, optional
        Smallest box side [sites].
    fraction : float, optional
        Largest box side as a fraction of the set's size.
    n : int, optional
        Number of sizes before duplicates are removed.

    Returns
    -------
    ndarray of int
        Box sides [sites], increasing.

    Raises
    ------
    AnalysisError
        An empty set, or one smaller than ``2 * smallest / fraction`` sites.
    """
    pts = np.argwhere(np.asarray(_grid(mask, "mask"), bool))
    if pts.size == 0:
        raise AnalysisError("box counting: the set is empty (no True site)")
    size = int((pts.max(axis=0) - pts.min(axis=0) + 1).max())
    largest = fraction * size
    if largest < 2 * smallest:
        raise AnalysisError(f"box counting: set of size {size} sites too small for boxes from "
                            f"{smallest} sites to {fraction:g} of its size")
    return np.unique(np.rint(np.geomspace(smallest, largest, n)).astype(int))


def box_counting_dimension(mask, smallest=2, fraction=0.25, n=8) -> BoxCounting:
    """Box-counting dimension D of the True sites of ``mask``: minus the least-squares slope
    of log N(eps) against log eps over the box sizes of :func:`box_sizes` (from ``smallest``
    sites to ``fraction`` of the set's size).

    Parameters
    ----------
    mask : array_like of bool or xarray.DataArray
        Sites of the set: (x, z) or (x, y, z) (module docstring; any axis order gives the same
        D). Along a periodic axis, unwrap a set that crosses the seam first
        (:func:`unwrap_periodic`), or it counts as two pieces.
    smallest : int, optional
        Smallest box side [sites].
    fraction : float, optional
        Largest box side as a fraction of the set's size (longer side of its bounding box).
    n : int, optional
        Number of box sizes (geometric spacing, duplicates removed).

    Returns
    -------
    BoxCounting
        ``(dimension, sizes, counts)``: D (dimensionless), box sides [sites], N(eps).

    Raises
    ------
    AnalysisError
        An empty set, or one too small for the box sizes (:func:`box_sizes`).

    Notes
    -----
    Lengths are in sites: D does not depend on the lattice spacing. Assumptions and bias:
    N(eps) counts boxes of the smallest cover found over the grid offsets of
    :func:`box_counts`. A box straddling the set's edge counts whole, which at the largest
    boxes (1/4 of the set) adds boundary boxes of order perimeter / eps and flattens the slope:
    compact sets come out below their dimension (a disk by ~0.08 in 2D at 256 sites, straight
    edges and exactly self-similar sets within a few hundredths; ``tests/unit/test_morphology.py``).
    Sets whose branches are one site wide have a local slope that falls toward 1 at the
    lattice scale, so finite fractals are also estimated low; compare with a reference
    measured by the same estimator at the same size rather than with asymptotic values
    (``tests/statistical/test_laplacian_growth_c10.py``).
    """
    sizes = box_sizes(mask, smallest, fraction, n)
    counts = box_counts(mask, sizes)
    slope = np.polyfit(np.log(sizes), np.log(counts), 1)[0]
    return BoxCounting(float(-slope), sizes, counts)
