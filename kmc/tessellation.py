"""Grains of a polycrystalline electrolyte: Voronoi tessellation, seeds, orientations.

Grains are a Voronoi tessellation of seed points, computed by nearest-seed queries of a
``scipy.spatial.cKDTree`` whose ``boxsize`` makes x and y periodic (no Python loop over sites).
Seeds fill z in [-2 d_g, L + 2 d_g], so the slab is a window through a stationary tessellation
and the grains at the electrode faces are cut, not enlarged. Seeds are Poisson points or, with a
hard-core distance, random sequential addition (narrower size distribution).

The mean grain diameter is the number average of the equivalent diameters of the grains that
do not touch the electrode faces: d = (6 V / pi)^(1/3) in 3D, (4 A / pi)^(1/2) in 2D (the
EBSD convention, :func:`grain_diameters`). For Poisson seeds the seed density giving a target
mean follows from the gamma law of Poisson-Voronoi cell sizes (shape k = 5.586 in 3D, 3.575 in
2D; Ferenc & Neda, Physica A 385, 518 (2007)): E[d] = (6/(pi lambda))^(1/3) Gamma(k + 1/3) /
(Gamma(k) k^(1/3)). For hard-core seeds no closed form exists; the density is corrected once
from a pilot tessellation.

Grain orientations are uniform on SO(3); boundaries are characterised by their disorientation
under cubic symmetry. The grain map of a cell, its phases and classification are in
:mod:`kmc.microstructure`.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation
from scipy.special import gamma as gamma_fn

from .errors import ConfigError

#: Gamma shape of Poisson-Voronoi cell volume (3D) and area (2D) distributions.
PV_GAMMA_SHAPE = {3: 5.586, 2: 3.575}
#: Boundary measure per unit volume (3D, S_V) or area (2D, L_A) of a Poisson-Voronoi
#: tessellation of intensity lambda: S_V = 2.9105 lambda^(1/3), L_A = 2 lambda^(1/2)
#: (Okabe et al., Spatial Tessellations, 2nd ed., Table 5.5.1).
PV_BOUNDARY_DENSITY = {3: 2.9105, 2: 2.0}


def grain_diameters(grain: np.ndarray, spacing: float, n_grains: int,
                    exclude_faces: bool = True) -> np.ndarray:
    """Equivalent diameter [m] of every grain of a grain map.

    Parameters
    ----------
    grain : ndarray of int, shape (nx, ny, nz)
        Grain id per site; ny = 1 for a 2D cell.
    spacing : float
        Site edge h [m].
    n_grains : int
        Number of grains (ids 0 .. n_grains-1).
    exclude_faces : bool
        NaN for the grains touching the z faces (cut by the electrodes), if there is more than
        one grain.

    Returns
    -------
    ndarray, shape (n_grains,)
        (6 n h^3 / pi)^(1/3) in 3D, (4 n h^2 / pi)^(1/2) in 2D for a grain of n sites; NaN for
        grains without sites.
    """
    counts = np.bincount(grain.ravel(), minlength=n_grains).astype(float)
    h = spacing
    if grain.shape[1] != 1:
        d = (6.0 * counts * h**3 / math.pi) ** (1.0 / 3.0)
    else:
        d = (4.0 * counts * h**2 / math.pi) ** 0.5
    if exclude_faces and n_grains > 1:
        faces = np.unique(np.concatenate([grain[:, :, 0].ravel(), grain[:, :, -1].ravel()]))
        d[faces] = np.nan
    d[counts == 0] = np.nan
    return d


def poisson_diameter_factor(dimension: int) -> float:
    """E[d_eq] / d(<V>) for Poisson-Voronoi cells under the gamma law (module docstring)."""
    k = PV_GAMMA_SHAPE[dimension]
    return float(gamma_fn(k + 1.0 / dimension) / (gamma_fn(k) * k ** (1.0 / dimension)))


def seed_density(grain_size: float, dimension: int, factor: float = 1.0) -> float:
    """Seeds per volume [m^-3] (area [m^-2] in 2D) whose cells have mean equivalent diameter
    ``grain_size`` [m] when E[d_eq] = factor * d(<V>)."""
    d_mean_volume = grain_size / factor
    if dimension == 3:
        return 6.0 / (math.pi * d_mean_volume**3)
    return 4.0 / (math.pi * d_mean_volume**2)


def _box(low, high, periodic):
    """cKDTree box sizes for points in [low, high) shifted to start at 0: the real size on
    periodic axes, twice the extent elsewhere (a wrapped distance then never wins)."""
    extent = np.asarray(high, float) - np.asarray(low, float)
    return np.array([e if p else 2.0 * e + 1.0 for e, p in zip(extent, periodic)])


def draw_seeds(rng, n: int, low, high, periodic, min_distance: float = 0.0,
               max_rounds: int = 200) -> np.ndarray:
    """``n`` seed points in the box [low, high), Poisson or hard-core.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Number of seeds.
    low, high : array_like
        Box corners [m] (one entry per active axis).
    periodic : sequence of bool
        Periodicity per axis (distances wrap there).
    min_distance : float
        Hard-core distance [m]; 0 gives Poisson points. Random sequential addition in
        batches: candidates closer than ``min_distance`` to an accepted seed, or to an earlier
        candidate of the same batch, are rejected.

    Raises
    ------
    ConfigError
        If the hard-core packing jams before ``n`` seeds are placed.
    """
    low, high = np.asarray(low, float), np.asarray(high, float)
    if min_distance <= 0.0:
        return low + rng.random((n, low.size)) * (high - low)
    extent = high - low
    box = _box(low, high, periodic)
    accepted = np.zeros((0, low.size))
    for _ in range(max_rounds):
        need = n - accepted.shape[0]
        if need <= 0:
            break
        cand = rng.random((max(2 * need, 64), low.size)) * extent
        if accepted.shape[0]:
            dist, _ = cKDTree(accepted, boxsize=box).query(cand, k=1, distance_upper_bound=min_distance)
            cand = cand[dist >= min_distance]
        if cand.shape[0] == 0:
            continue
        keep = np.ones(cand.shape[0], dtype=bool)
        pairs = cKDTree(cand, boxsize=box).query_pairs(min_distance, output_type="ndarray")
        if pairs.size:
            pairs = np.sort(pairs, axis=1)
            pairs = pairs[np.argsort(pairs[:, 1], kind="stable")]
            for i, j in pairs.tolist():  # sequential greedy: earlier candidates win
                if keep[i] and keep[j]:
                    keep[j] = False
        accepted = np.concatenate([accepted, cand[keep][:need]])
    if accepted.shape[0] < n:
        raise ConfigError(
            f"microstructure.hardcore_fraction: hard-core seeds jammed at {accepted.shape[0]} of {n} "
            "seeds; lower the fraction (random sequential addition jams near 0.7)")
    return low + accepted


def nearest_seed(shape, spacing: float, seeds: np.ndarray, low, high, periodic,
                 chunk_sites: int = 1 << 21) -> np.ndarray:
    """Index of the nearest seed for every site centre, shape ``shape``.

    Parameters
    ----------
    seeds : ndarray, shape (n, d)
        Seeds [m] in the coordinates of the active axes (x, z in 2D; x, y, z in 3D), inside
        the box [low, high) which contains the slab.
    periodic : sequence of bool
        Periodicity per active axis.

    Notes
    -----
    Sites are processed in z-slabs of about ``chunk_sites`` so memory stays bounded on 256^3
    grids; the queries run on all cores (``workers=-1``).
    """
    low = np.asarray(low, float)
    active = [0, 2] if shape[1] == 1 else [0, 1, 2]
    box = _box(low, high, periodic)
    tree = cKDTree(np.mod(seeds - low, box), boxsize=box)
    out = np.empty(shape, dtype=np.int32)
    planes = max(1, chunk_sites // (shape[0] * shape[1]))
    axes = [(np.arange(n) + 0.5) * spacing for n in shape]
    for z0 in range(0, shape[2], planes):
        z1 = min(shape[2], z0 + planes)
        grids = np.meshgrid(axes[0], axes[1], axes[2][z0:z1], indexing="ij")
        q = np.stack([grids[ax].ravel() for ax in active], axis=1) - low
        _, idx = tree.query(np.mod(q, box), k=1, workers=-1)
        out[:, :, z0:z1] = idx.reshape(shape[0], shape[1], z1 - z0)
    return out


def voronoi_grains(rng, shape, spacing: float, grain_size: float, periodic=(True, True, False),
                   min_distance_fraction: float = 0.0):
    """Voronoi grain map with a target mean equivalent grain diameter.

    Parameters
    ----------
    rng : numpy.random.Generator
    shape : tuple of int
        (nx, ny, nz) sites; ny = 1 gives a 2D tessellation in the x-z plane.
    spacing : float
        h [m].
    grain_size : float
        Target mean equivalent grain diameter d_g [m].
    periodic : tuple of bool
        Periodicity of (x, y, z).
    min_distance_fraction : float
        Hard-core distance as a fraction of d_g (0 = Poisson seeds).

    Returns
    -------
    grain : ndarray of int32
        Grain ids 0..n-1 of the grains present in the slab.
    seeds : ndarray, shape (n, 3)
        Their seed positions [m] (y = 0 in 2D).
    """
    dim = 2 if shape[1] == 1 else 3
    factor = poisson_diameter_factor(dim)
    if min_distance_fraction > 0:
        # no closed form for hard-core seeds: calibrate the factor on a pilot box of at most
        # 12 grain diameters per axis (one correction step; a fraction of a 256^3 build)
        cap = int(math.ceil(12 * grain_size / spacing))
        pilot_shape = tuple(min(n, cap) for n in shape)
        grain, seeds = _tessellate(rng, pilot_shape, spacing, grain_size, periodic,
                                   min_distance_fraction, factor)
        d = grain_diameters(grain, spacing, seeds.shape[0])
        d = d[np.isfinite(d)]
        if d.size >= 20:
            factor *= float(d.mean()) / grain_size
    return _tessellate(rng, shape, spacing, grain_size, periodic, min_distance_fraction, factor)


def _tessellate(rng, shape, spacing, grain_size, periodic, min_distance_fraction, factor):
    """Seeds at the density for ``factor`` (see :func:`seed_density`) in the slab extended by
    2 d_g beyond both faces: the grain map and the seeds of the grains present (3D coords)."""
    dim = 2 if shape[1] == 1 else 3
    active = [0, 2] if dim == 2 else [0, 1, 2]
    extent = np.array([shape[ax] * spacing for ax in active])
    margin = 2.0 * grain_size
    low = np.array([0.0] * (dim - 1) + [-margin])
    high = extent + np.array([0.0] * (dim - 1) + [margin])
    per = [periodic[ax] for ax in active]
    n = max(1, int(round(seed_density(grain_size, dim, factor) * np.prod(high - low))))
    seeds = draw_seeds(rng, n, low, high, per, min_distance_fraction * grain_size)
    return _relabel(nearest_seed(shape, spacing, seeds, low, high, per), seeds, dim)


def _relabel(grain, seeds, dim):
    """Renumber the grains present as 0..n-1 (in seed order) and lift their seeds to 3D."""
    present, inverse = np.unique(grain, return_inverse=True)
    s = seeds[present]
    seeds3 = np.zeros((present.size, 3))
    if dim == 2:
        seeds3[:, 0], seeds3[:, 2] = s[:, 0], s[:, 1]
    else:
        seeds3[:] = s
    return inverse.reshape(grain.shape).astype(np.int32), seeds3


def random_orientations(rng, n: int) -> np.ndarray:
    """``n`` orientations uniform on SO(3), as unit quaternions (x, y, z, w)."""
    return Rotation.random(n, random_state=rng).as_quat()


def disorientation(qa: np.ndarray, qb: np.ndarray, symmetry: str = "cubic") -> np.ndarray:
    """Disorientation angle [rad] between orientations ``qa`` and ``qb`` (quaternions x,y,z,w).

    Notes
    -----
    With q = conj(a) b and a >= b >= c >= d the sorted absolute values of its components, the
    largest scalar part over the 24 proper rotations of the cube is
    max(a, (a + b)/sqrt(2), (a + b + c + d)/2), and the disorientation is 2 arccos of it
    (Grimmer, Acta Cryst. A30, 685 (1974)); LLZO and Li6PS5Cl are cubic. Without symmetry it is
    2 arccos |q_w|. NaN where either orientation is NaN (amorphous).
    """
    qa, qb = np.atleast_2d(qa), np.atleast_2d(qb)
    x1, y1, z1, w1 = -qa[:, 0], -qa[:, 1], -qa[:, 2], qa[:, 3]  # conj(a)
    x2, y2, z2, w2 = qb[:, 0], qb[:, 1], qb[:, 2], qb[:, 3]
    q = np.stack([
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
    ], axis=1)
    if symmetry == "cubic":
        s = -np.sort(-np.abs(q), axis=1)
        w = np.maximum(np.maximum(s[:, 0], (s[:, 0] + s[:, 1]) / math.sqrt(2.0)), s.sum(axis=1) / 2.0)
    else:
        w = np.abs(q[:, 3])
    return 2.0 * np.arccos(np.clip(w, -1.0, 1.0))
