"""Morphology of the Li in a plating run: box-counting dimension, grain-boundary fraction,
floating clusters and depth profiles.

Every function takes site maps either as numpy arrays or as :class:`xarray.DataArray` maps of a
``kmc run`` dataset. Arrays are indexed like :meth:`kmc.graph.Graph.to_grid`: ``(x, z)`` in 2D
or ``(x, y, z)`` in 3D, **z last** (z is the depth from the plating electrode at z = 0; index k
is the layer whose site centres lie at (k + 1/2) h). A DataArray is put in that order by its
dimension *names* (so the order a dataset stores its maps in does not matter), and a ``y`` of
one site (a 2D cell) is dropped; select one snapshot first (``ds.phase.isel(snapshot=-1)``).
:func:`morphology` does all of it for one dataset.

=============================  ==================================================================
function                       result
=============================  ==================================================================
:func:`box_counting_dimension` box-counting (Minkowski-Bouligand) dimension of a set of sites
:func:`gb_fraction_of_li`      fraction of Li sites that are grain-boundary sites
:func:`lateral_bond_fraction`  fraction of Li-Li bonds that run across the field (crack direction)
:func:`cluster_sizes`          sizes of the connected components of a mask (periodic axes joined)
:func:`floating_cluster_sizes` sizes of the floating (electronically isolated) Li clusters
:func:`depth_profile`          sites per layer, penetration depth, centroid
:func:`morphology`             all of the above for one snapshot of a dataset
=============================  ==================================================================
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from ..clusters import CLASS_A, CLASS_FLOATING, CLASS_SHORT
from ..codes import LI
from ..errors import AnalysisError, DatasetError
from .fractal import box_counting_dimension, unwrap_periodic
from .maps import _grid, _spacing_of


# --- grain boundaries ----------------------------------------------------------------------

def gb_fraction_of_li(phase, gb_site) -> float:
    """Fraction of the Li sites that are grain-boundary sites.

    Parameters
    ----------
    phase : array_like of int or xarray.DataArray
        Site phases (0 electrolyte, 1 Li metal, 2 void), one snapshot.
    gb_site : array_like of bool or xarray.DataArray
        1 where a site has a grain-boundary edge, same lattice.

    Returns
    -------
    float
        (Li sites on GB sites) / (Li sites), dimensionless; NaN without Li. Equals the time
        series ``gb_li_fraction`` of a run at the same time.

    Raises
    ------
    AnalysisError
        Maps of different shapes.
    """
    p, g = _grid(phase, "phase"), _grid(gb_site, "gb_site")
    if p.shape != g.shape:
        raise AnalysisError(f"phase has shape {p.shape} but gb_site has shape {g.shape}: the "
                            "maps must cover the same lattice")
    li = p == LI
    return float(np.asarray(g, bool)[li].mean()) if li.any() else math.nan


def _axis_periodicity(m: np.ndarray, periodic) -> tuple:
    """Periodicity of each axis of the site map ``m`` from the cell's (x, y, z) flags (a 2D
    map is (x, z)).

    Raises
    ------
    AnalysisError
        Flags that match neither the map's axes nor (x, y, z).
    """
    per = tuple(bool(p) for p in periodic)
    if len(per) == 3 and m.ndim == 2:
        per = (per[0], per[2])
    if len(per) != m.ndim:
        raise AnalysisError(f"periodic = {tuple(periodic)} does not match a mask with "
                            f"{m.ndim} axes")
    return per


def lateral_bond_fraction(mask, periodic=(True, True, False)) -> float:
    """Fraction of the nearest-neighbour bonds between True sites that run across the field
    (along x, or x and y in 3D) rather than along z: 0 for straight cracks along the field,
    ~1/2 (2D) or ~2/3 (3D) for isotropic growth, toward 1 for growth turned along the
    electrode (in-plane compression along x deflects cracks toward x, VALIDATION.md C9).

    Parameters
    ----------
    mask : array_like of bool or xarray.DataArray
        Sites to measure (e.g. Li grown by fracture: Li that was electrolyte at the start).
    periodic : tuple of bool
        Periodicity of (x, y, z); bonds across a periodic seam count.

    Returns
    -------
    float
        Lateral bonds / all bonds, dimensionless; NaN without bonds.
    """
    m = np.asarray(_grid(mask, "mask"), bool)
    per = _axis_periodicity(m, periodic)
    counts = []
    for ax in range(m.ndim):
        bond = m & np.roll(m, -1, axis=ax) if m.shape[ax] > 1 else np.zeros_like(m)
        if not per[ax]:
            edge = [slice(None)] * m.ndim
            edge[ax] = -1
            bond[tuple(edge)] = False
        counts.append(int(bond.sum()))
    total = sum(counts)
    return sum(counts[:-1]) / total if total else math.nan


# --- clusters ------------------------------------------------------------------------------

def cluster_sizes(mask, periodic=(True, True, False)) -> np.ndarray:
    """Sizes of the connected components of the True sites of ``mask`` (face neighbours: 4 in
    2D, 6 in 3D, as the site graph), largest first.

    Parameters
    ----------
    mask : array_like of bool or xarray.DataArray
        (x, z) or (x, y, z) (module docstring).
    periodic : sequence of bool, optional
        Periodicity of (x, y, z); for a 2D mask the entries of x and z are used. The default is
        the cell's: periodic in x and y, never in z (the electrodes).

    Returns
    -------
    ndarray of int64
        Sites per component [sites], decreasing; empty without True sites.
    """
    m = np.asarray(_grid(mask, "mask"), bool)
    per = _axis_periodicity(m, periodic)
    pts = np.argwhere(m)
    if pts.size == 0:
        return np.zeros(0, np.int64)
    index = np.full(m.shape, -1, np.int64)
    index[tuple(pts.T)] = np.arange(len(pts))
    rows, cols = [], []
    for ax, n in enumerate(m.shape):
        nb = pts.copy()
        nb[:, ax] += 1
        ok = nb[:, ax] < n
        if per[ax]:
            nb[:, ax] %= n
            ok[:] = True
        j = np.full(len(pts), -1, np.int64)
        j[ok] = index[tuple(nb[ok].T)]
        keep = j >= 0
        rows.append(np.flatnonzero(keep))
        cols.append(j[keep])
    r, c = np.concatenate(rows), np.concatenate(cols)
    adj = sp.coo_matrix((np.ones(r.size), (r, c)), shape=(len(pts), len(pts)))
    _, label = csgraph.connected_components(adj, directed=False)
    return np.sort(np.bincount(label).astype(np.int64))[::-1]


def floating_cluster_sizes(cluster_class, periodic=(True, True, False)) -> np.ndarray:
    """Sizes of the floating Li clusters (touching neither electrode) of one snapshot.

    Parameters
    ----------
    cluster_class : array_like of int or xarray.DataArray
        Class of every site's cluster (-1 no Li, 0 A-connected, 1 C-connected, 2 floating,
        3 short), as the dataset's ``cluster_class``.
    periodic : sequence of bool, optional
        Periodicity of (x, y, z) (:func:`cluster_sizes`).

    Returns
    -------
    ndarray of int64
        Sites per floating cluster [sites], largest first. Its length and first entry are the
        series ``floating_clusters`` and ``largest_floating_cluster`` of the run at the same time.

    Notes
    -----
    Two floating clusters are never face neighbours (they would be one cluster), so the
    connected components of the floating sites are the floating clusters.
    """
    return cluster_sizes(_grid(cluster_class, "cluster_class") == CLASS_FLOATING, periodic)


# --- depth profiles ------------------------------------------------------------------------

@dataclass(frozen=True)
class DepthProfile:
    """Li per layer of depth z and its summaries (:func:`depth_profile`).

    Attributes
    ----------
    z : ndarray
        Layer centres (k + 1/2) h [m] (in sites if no spacing was given).
    amount : ndarray
        Li per layer (sites, or the weights given), summed over x and y.
    penetration_depth : float
        (deepest occupied layer + 1) h [m]: from the electrode face at z = 0 to the far face
        of the deepest Li site; 0 without Li.
    centroid : float
        Mean depth sum(amount z) / sum(amount) [m]; NaN without Li.
    total : float
        Sum of ``amount``.
    """

    z: np.ndarray
    amount: np.ndarray
    penetration_depth: float
    centroid: float
    total: float


def depth_profile(li, spacing=None) -> DepthProfile:
    """Li per layer of depth z, the penetration depth and the centroid.

    Parameters
    ----------
    li : array_like of bool or float, or xarray.DataArray
        Li per site, (x[, y], z) with z last (module docstring): a mask (e.g. ``phase == 1``,
        or the sites of A-connected clusters) or weights (e.g. ``content / quanta_per_site``,
        Li in sites' worth).
    spacing : float, optional
        Lattice spacing h [m]; default: from the ``z`` coordinate of a DataArray, else 1
        (lengths in sites).

    Returns
    -------
    DepthProfile

    Notes
    -----
    With ``li`` the Li sites of clusters connected to the electrode at z = 0 (classes 0 and 3),
    ``penetration_depth`` is the run's series ``penetration_depth``; with ``li`` the content in
    sites' worth, ``amount`` is ``li_depth_profile``.
    """
    h = _spacing_of(li, spacing)
    w = np.asarray(_grid(li, "li"), float)
    if w.ndim < 1:
        raise AnalysisError("depth_profile: li must have a z axis")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise AnalysisError("depth_profile: li must be finite and >= 0 on every site")
    amount = w.reshape(-1, w.shape[-1]).sum(axis=0)
    z = (np.arange(amount.size) + 0.5) * h
    total = float(amount.sum())
    layers = np.flatnonzero(amount > 0)
    depth = float((layers[-1] + 1) * h) if layers.size else 0.0
    centroid = float(amount @ z / total) if total > 0 else math.nan
    return DepthProfile(z=z, amount=amount, penetration_depth=depth, centroid=centroid,
                        total=total)


# --- one dataset ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Morphology:
    """The Li of one snapshot of a plating run (:func:`morphology`).

    Attributes
    ----------
    time : float
        Snapshot time [s].
    li_sites : int
        Li sites in the lattice.
    dimension : float
        Box-counting dimension of the Li sites (:func:`box_counting_dimension`, unwrapped
        across periodic x and y); NaN if the Li is too small for the box sizes.
    gb_fraction : float
        :func:`gb_fraction_of_li` (dimensionless).
    floating_sizes : ndarray of int64
        :func:`floating_cluster_sizes` [sites].
    penetration_depth : float
        Deepest extent of Li connected to the electrode at z = 0 [m] (:func:`depth_profile`).
    profile : DepthProfile
        Li sites per layer of all Li; ``profile.centroid`` is their mean depth [m].
    """

    time: float
    li_sites: int
    dimension: float
    gb_fraction: float
    floating_sizes: np.ndarray
    penetration_depth: float
    profile: DepthProfile


def _periodic(ds) -> tuple:
    try:
        p = bool(json.loads(ds.attrs["config_json"])["cell"]["periodic"])
    except (KeyError, ValueError, TypeError):
        p = True
    return (p, p, False)


def morphology(ds, snapshot=-1) -> Morphology:
    """Morphology of the Li in one snapshot of a ``kmc run`` plating dataset.

    Parameters
    ----------
    ds : xarray.Dataset
        A single run's dataset (maps ``phase``, ``cluster_class`` per ``snapshot``, static
        ``gb_site``); maps are selected by dimension name.
    snapshot : int, optional
        Position along ``snapshot`` (default: the last, taken at the stop).

    Returns
    -------
    Morphology

    Raises
    ------
    DatasetError
        A dataset without these maps.
    """
    missing = [v for v in ("phase", "cluster_class", "gb_site", "snapshot_time") if v not in ds]
    if missing:
        raise DatasetError(f"{ds.encoding.get('source', 'dataset')}: not a single kmc plating "
                           f"run with snapshots (missing {', '.join(missing)})")
    phase = ds["phase"].isel(snapshot=snapshot)
    cls = ds["cluster_class"].isel(snapshot=snapshot)
    periodic = _periodic(ds)
    li = _grid(phase, "phase") == LI
    unwrapped = li
    for ax in range(li.ndim - 1):  # x (and y): the lateral axes
        if periodic[ax]:
            unwrapped = unwrap_periodic(unwrapped, axis=ax)
    try:
        dim = box_counting_dimension(unwrapped).dimension if li.any() else math.nan
    except AnalysisError:
        dim = math.nan
    h = _spacing_of(phase, ds.attrs.get("spacing_m"))
    a = np.isin(_grid(cls, "cluster_class"), (CLASS_A, CLASS_SHORT))
    return Morphology(time=float(ds["snapshot_time"].isel(snapshot=snapshot)),
                      li_sites=int(li.sum()), dimension=dim,
                      gb_fraction=gb_fraction_of_li(phase, ds["gb_site"]),
                      floating_sizes=floating_cluster_sizes(cls, periodic),
                      penetration_depth=depth_profile(a, h).penetration_depth,
                      profile=depth_profile(li, h))


__all__ = ["DepthProfile", "Morphology", "cluster_sizes", "depth_profile", "floating_cluster_sizes",
           "gb_fraction_of_li", "morphology"]
