"""Polycrystalline electrolyte on a site lattice (MODEL.md section 1).

The cell is a slab of thickness L (z, between the electrodes at z = 0 and z = L) and lateral
size W (x; and D along y in 3D), discretised into sites of edge h. A 2D cell is a slab one site
thick (ny = 1), so every array is 3D with axes (x, y, z) and the same code serves both.

Grains are a Voronoi tessellation of seed points, computed by nearest-seed queries of a
``scipy.spatial.cKDTree`` whose ``boxsize`` makes x and y periodic (no Python loop over sites).
Seeds fill z in [-2 d_g, L + 2 d_g], so the slab is a window through a stationary tessellation
and the grains at the electrode faces are cut, not enlarged. Seeds are Poisson points or, with a
hard-core distance, random sequential addition (narrower size distribution).

The mean grain diameter is the number average of the equivalent diameters of the grains that
do not touch the electrode faces: d = (6 V / pi)^(1/3) in 3D, (4 A / pi)^(1/2) in 2D (the
EBSD convention). For Poisson seeds the seed density giving a target mean follows from the
gamma law of Poisson-Voronoi cell sizes (shape k = 5.586 in 3D, 3.575 in 2D; Ferenc & Neda,
Physica A 385, 518 (2007)): E[d] = (6/(pi lambda))^(1/3) Gamma(k + 1/3) / (Gamma(k) k^(1/3)). For
hard-core seeds no closed form exists; the density is corrected once from a pilot tessellation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation
from scipy.special import gamma as gamma_fn

from .errors import ConfigError
from .graph import Graph, lattice_graph

#: Site phases (MODEL.md section 2).
SE, LI, VOID = 0, 1, 2
#: Edge types of the graph.
EDGE_BULK, EDGE_GB = 0, 1
#: How an edge meets the grain boundaries (``edge_data["gb_relation"]``).
GB_NONE, GB_CROSSING, GB_ALONG = 0, 1, 2
#: Gamma shape of Poisson-Voronoi cell volume (3D) and area (2D) distributions.
PV_GAMMA_SHAPE = {3: 5.586, 2: 3.575}
#: Boundary measure per unit volume (3D, S_V) or area (2D, L_A) of a Poisson-Voronoi
#: tessellation of intensity lambda: S_V = 2.9105 lambda^(1/3), L_A = 2 lambda^(1/2)
#: (Okabe et al., Spatial Tessellations, 2nd ed., Table 5.5.1).
PV_BOUNDARY_DENSITY = {3: 2.9105, 2: 2.0}


@dataclass
class Microstructure:
    """A discretised electrolyte slab with its grains, phases and classification.

    Attributes
    ----------
    shape : tuple of int
        Sites (nx, ny, nz); ny = 1 for a 2D cell.
    spacing : float
        Site edge h [m].
    grain : ndarray of int32, shape ``shape``
        Grain id of every site (0 .. n_grains-1); all 0 for a single crystal or amorphous SE.
    phase : ndarray of uint8, shape ``shape``
        SE, LI (flaw fillings, contoured electrode) or VOID (pores).
    orientation : ndarray, shape (n_grains, 4)
        Grain orientations as unit quaternions (x, y, z, w); NaN for an amorphous SE.
    seeds : ndarray, shape (n_grains, 3)
        Voronoi seed of each grain [m] (NaN when the grains were imported).
    amorphous : bool
        True for a glass without grains (LiPON).
    periodic : tuple of bool
        Periodicity of (x, y, z); z is never periodic (electrodes).
    feature : ndarray of uint8, shape ``shape``
        What set a site's phase: 0 tessellation, 1 pore, 2 flaw, 3 contoured electrode.
    """

    shape: tuple
    spacing: float
    grain: np.ndarray
    phase: np.ndarray
    orientation: np.ndarray
    seeds: np.ndarray
    amorphous: bool = False
    periodic: tuple = (True, True, False)
    feature: np.ndarray = field(default=None)
    _scan_cache: tuple = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.feature is None:
            self.feature = np.zeros(self.shape, dtype=np.uint8)

    @property
    def dimension(self) -> int:
        """2 for a one-site-thick slab, else 3."""
        return 2 if self.shape[1] == 1 else 3

    @property
    def n_grains(self) -> int:
        """Number of grains."""
        return int(self.orientation.shape[0])

    def _neighbours(self, z0: int, z1: int):
        """Grain ids of the z-planes z0..z1-1 and of their + and - neighbours along each axis.

        A missing neighbour (the outer face of a non-periodic axis) repeats the site's own
        grain, so it never counts as a boundary.
        """
        g = self.grain
        core = g[:, :, z0:z1]
        plus, minus = [], []
        for ax in (0, 1):
            if self.shape[ax] == 1:
                continue
            p, m = np.roll(core, -1, axis=ax), np.roll(core, 1, axis=ax)
            if not self.periodic[ax]:
                last, first = [slice(None)] * 3, [slice(None)] * 3
                last[ax], first[ax] = -1, 0
                p[tuple(last)], m[tuple(first)] = core[tuple(last)], core[tuple(first)]
            plus.append(p)
            minus.append(m)
        up = g[:, :, z0 + 1:z1 + 1]
        if up.shape[2] < z1 - z0:
            up = np.concatenate([up, core[:, :, -1:]], axis=2)
        down = g[:, :, max(z0 - 1, 0):z1 - 1]
        if down.shape[2] < z1 - z0:
            down = np.concatenate([core[:, :, :1], down], axis=2)
        return core, plus + [up], minus + [down]

    def _scan(self, planes: int = 32):
        """One chunked pass over the grid: GB sites, triple junctions, GB edge count and the
        keys ``a * n + b`` (a < b) of grain pairs sharing a boundary. Memory stays at a few
        copies of ``planes`` z-planes, so 256^3 grids classify in well under 2 GB."""
        if self._scan_cache is not None:  # the grain map never changes after construction
            return self._scan_cache
        gb = np.zeros(self.shape, dtype=bool)
        tj = np.zeros(self.shape, dtype=bool)
        n_gb_edges = 0
        keys = []
        n = np.int64(max(self.n_grains, 1))
        for z0 in range(0, self.shape[2], planes):
            z1 = min(self.shape[2], z0 + planes)
            core, plus, minus = self._neighbours(z0, z1)
            site_gb = np.zeros(core.shape, dtype=bool)
            for nb in plus:
                edge = nb != core
                n_gb_edges += int(edge.sum())
                site_gb |= edge
                a, b = core[edge].astype(np.int64), nb[edge].astype(np.int64)
                keys.append(np.unique(np.minimum(a, b) * n + np.maximum(a, b)))
            for nb in minus:
                site_gb |= nb != core
            gb[:, :, z0:z1] = site_gb
            ids = np.sort(np.stack([core] + plus + minus)[:, site_gb], axis=0)
            distinct = 1 + np.count_nonzero(np.diff(ids, axis=0), axis=0)
            tj_chunk = np.zeros(core.shape, dtype=bool)
            tj_chunk[site_gb] = distinct >= 3
            tj[:, :, z0:z1] = tj_chunk
        keys = np.unique(np.concatenate(keys)) if keys else np.zeros(0, np.int64)
        self._scan_cache = (gb, tj, n_gb_edges, keys)
        return self._scan_cache

    def classify(self):
        """GB sites and triple junctions (MODEL.md section 1).

        Returns
        -------
        gb_site : ndarray of bool
            Sites with at least one GB edge (an edge to a site of another grain).
        triple_junction : ndarray of bool
            Sites whose own grain and neighbours' grains number at least three.
        """
        gb, tj, _, _ = self._scan()
        return gb, tj

    def gb_pairs(self):
        """Distinct pairs of grains that share a boundary and their misorientation angles.

        Returns
        -------
        pairs : ndarray of int32, shape (n_pairs, 2)
            Grain ids (lower first).
        misorientation : ndarray, shape (n_pairs,)
            Disorientation angle [rad] under cubic symmetry (NaN if amorphous).
        """
        keys = self._scan()[3]
        n = np.int64(max(self.n_grains, 1))
        pairs = np.stack([keys // n, keys % n], axis=1).astype(np.int32)
        angle = disorientation(self.orientation[pairs[:, 0]], self.orientation[pairs[:, 1]])
        return pairs, angle

    def n_edges(self) -> int:
        """Number of undirected nearest-neighbour edges of the lattice."""
        total = int(np.prod(self.shape))
        return sum((n if p else n - 1) * (total // n)
                   for n, p in zip(self.shape, self.periodic) if n > 1)

    def grain_diameters(self, exclude_faces: bool = True) -> np.ndarray:
        """Equivalent diameter [m] of every grain (NaN for grains touching the z faces if
        ``exclude_faces``): (6 n h^3 / pi)^(1/3) in 3D, (4 n h^2 / pi)^(1/2) in 2D."""
        counts = np.bincount(self.grain.ravel(), minlength=self.n_grains).astype(float)
        h = self.spacing
        if self.dimension == 3:
            d = (6.0 * counts * h**3 / math.pi) ** (1.0 / 3.0)
        else:
            d = (4.0 * counts * h**2 / math.pi) ** 0.5
        if exclude_faces and self.n_grains > 1:
            faces = np.unique(np.concatenate([self.grain[:, :, 0].ravel(), self.grain[:, :, -1].ravel()]))
            d[faces] = np.nan
        d[counts == 0] = np.nan
        return d

    def statistics(self) -> dict:
        """Grain size, GB fractions, triple junctions, porosity (scalars, SI)."""
        gb, tj, n_gb_edges, keys = self._scan()
        d = self.grain_diameters()
        inner = d[np.isfinite(d)]
        return {
            "n_grains": self.n_grains,
            "n_interior_grains": int(inner.size),
            "mean_grain_diameter": float(inner.mean()) if inner.size else math.nan,
            "std_grain_diameter": float(inner.std(ddof=1)) if inner.size > 1 else math.nan,
            "gb_site_fraction": float(gb.mean()),
            "gb_edge_fraction": n_gb_edges / max(self.n_edges(), 1),
            "triple_junction_count": int(tj.sum()),
            "n_gb_pairs": int(keys.size),
            "porosity": float(np.mean(self.phase == VOID)),
            "li_site_fraction": float(np.mean(self.phase == LI)),
        }

    def pore_surface(self) -> np.ndarray:
        """Electrolyte sites with a pore (VOID) neighbour."""
        return adjacent(self.phase == VOID, self.periodic) & (self.phase == SE)

    def site_properties(self, material) -> dict:
        """Per-site material maps (lattice-shaped, SI) from a resolved material set.

        Parameters
        ----------
        material : kmc.materials.ResolvedMaterial
            The electrolyte at the cell temperature.

        Returns
        -------
        dict
            ``band_gap`` [eV]: GB value on GB sites, bulk elsewhere; ``youngs_modulus`` [Pa]:
            r_E E on GB sites (MODEL.md section 3); ``trap_depth`` [eV] of an electron trap:
            triple junction > pore surface > GB, 0 (no trap) in the bulk;
            ``ionic_conductivity`` [S/m]: the bulk value (the GB layer enters per edge, in
            series or parallel, in the field solve).
        """
        gb, tj = self.classify()
        pore = self.pore_surface()
        trap = np.zeros(self.shape)
        trap[gb] = material.trap_depth_gb
        trap[pore] = material.trap_depth_pore
        trap[tj] = material.trap_depth_triple_junction
        return {
            "band_gap": np.where(gb, material.gb_band_gap, material.band_gap),
            "youngs_modulus": np.where(gb, material.gb_youngs_modulus, material.youngs_modulus),
            "trap_depth": trap,
            "ionic_conductivity": np.full(self.shape, material.ionic_conductivity),
        }

    def graph(self, order: str = "morton", material=None) -> Graph:
        """The site graph for the kernels and networkx.

        ``site_data``: grain, phase, gb, face (1 on the z = 0 layer facing electrode A, 2 on
        the z = L layer facing electrode C), triple_junction, feature, and with a ``material``
        (:class:`kmc.materials.ResolvedMaterial`) the maps of :meth:`site_properties`.
        ``edge_data``: ``type`` (EDGE_BULK or EDGE_GB: the ends lie in different grains),
        ``gb_relation`` (:func:`gb_edge_relation`) and, with a material,
        ``fracture_toughness`` [Pa m^0.5]: intergranular on edges that run along a boundary (a
        crack advancing there opens the boundary), transgranular on the others, including
        those that cross a boundary (the crack then enters the next grain).
        """
        g = lattice_graph(self.shape, self.spacing, self.periodic, order)
        gb, tj = self.classify()
        grain = g.from_grid(self.grain).astype(np.int32)
        src, dst = g.sources, g.indices
        edge_type = np.where(grain[src] != grain[dst], EDGE_GB, EDGE_BULK).astype(np.uint8)
        gb_site = g.from_grid(gb).astype(np.uint8)
        face = np.zeros(self.shape, dtype=np.int8)  # electrode faces (kmc.field.FACE_A / FACE_C)
        face[:, :, 0], face[:, :, -1] = 1, 2
        site = {"grain": grain, "phase": g.from_grid(self.phase), "gb": gb_site,
                "face": g.from_grid(face),
                "triple_junction": g.from_grid(tj).astype(np.uint8), "feature": g.from_grid(self.feature)}
        relation = gb_edge_relation(g, grain)
        edge = {"type": edge_type, "gb_relation": relation}
        if material is not None:
            site.update({k: g.from_grid(v) for k, v in self.site_properties(material).items()})
            edge["fracture_toughness"] = np.where(relation == GB_ALONG, material.gb_fracture_toughness,
                                                  material.fracture_toughness)
        return g.with_data(site=site, edge=edge)


def adjacent(mask: np.ndarray, periodic) -> np.ndarray:
    """Sites of the lattice-shaped ``mask``'s grid that have a face neighbour in ``mask``
    (across periodic boundaries only where ``periodic``; axes of one site have none)."""
    near = np.zeros(mask.shape, dtype=bool)
    for ax in range(mask.ndim):
        if mask.shape[ax] == 1:
            continue
        for step in (1, -1):
            shifted = np.roll(mask, step, axis=ax)
            if not periodic[ax]:
                edge = [slice(None)] * mask.ndim
                edge[ax] = 0 if step == 1 else -1
                shifted[tuple(edge)] = False
            near |= shifted
    return near


def gb_edge_relation(graph: Graph, grain: np.ndarray) -> np.ndarray:
    """GB_CROSSING where an edge joins two grains, GB_ALONG where it joins two sites of one
    grain that both have a boundary across another axis (the edge runs beside a boundary
    plane), GB_NONE elsewhere.

    Parameters
    ----------
    graph : Graph
        Lattice graph (edge axes from ``edge_vectors``).
    grain : ndarray
        Grain id per site, in site order.
    """
    src, dst = graph.sources, graph.indices
    crossing = grain[src] != grain[dst]
    bit = (1 << np.argmax(np.abs(graph.edge_vectors), axis=1)).astype(np.int8)
    gb_axes = np.zeros(graph.n_sites, np.int8)
    np.bitwise_or.at(gb_axes, src[crossing], bit[crossing])
    other = ~bit
    along = ~crossing & ((gb_axes[src] & other) != 0) & ((gb_axes[dst] & other) != 0)
    return np.where(crossing, GB_CROSSING, np.where(along, GB_ALONG, GB_NONE)).astype(np.uint8)


# ---------------------------------------------------------------------------------------
# Seeds and tessellation
# ---------------------------------------------------------------------------------------

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
        pilot = Microstructure(pilot_shape, spacing, grain, np.zeros(pilot_shape, np.uint8),
                               np.zeros((seeds.shape[0], 4)), seeds)
        d = pilot.grain_diameters()
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


# ---------------------------------------------------------------------------------------
# Features carved into the tessellation
# ---------------------------------------------------------------------------------------

FEATURE_NONE, FEATURE_PORE, FEATURE_FLAW, FEATURE_CONTOUR, FEATURE_INCLUSION = 0, 1, 2, 3, 4


def _site_axes(m: Microstructure):
    """Site-centre coordinates [m] along x, y, z."""
    return [(np.arange(n) + 0.5) * m.spacing for n in m.shape]


def contour_height(kind: str, x, y, height: float, period: float, dimension: int):
    """Height [m] of a contoured Li|SE interface above z = 0 at lateral position (x, y).

    Li fills z < h(x, y) (it protrudes into the electrolyte where h is large). Shapes of
    seed 004 (Zhang et al. 2024), peak height H and peak separation S:

    * ``sinusoid``: h = H/2 (1 - cos(2 pi x / S)) (ridges along y);
    * ``egg_box``: h = H/2 (1 - cos(2 pi x / S) cos(2 pi y / S)) (bisinusoidal; cosine waves
      in the axial cross-sections; in 2D it reduces to the sinusoid);
    * ``pyramid``: square pyramids on an S x S base, h = H (1 - 2 max(|u|, |v|) / S) with
      (u, v) the offset from the nearest apex (triangle waves in cross-section).
    """
    k = 2.0 * math.pi / period
    if kind == "flat":
        return np.zeros(np.broadcast(x, y).shape)
    if kind == "sinusoid" or (kind == "egg_box" and dimension == 2):
        return 0.5 * height * (1.0 - np.cos(k * x)) + 0.0 * y
    if kind == "egg_box":
        return 0.5 * height * (1.0 - np.cos(k * x) * np.cos(k * y))
    if kind == "pyramid":
        u = np.abs(np.mod(x, period) - 0.5 * period)
        v = np.abs(np.mod(y, period) - 0.5 * period) if dimension == 3 else 0.0 * u
        return height * (1.0 - 2.0 * np.maximum(u, v) / period)
    raise ValueError(f"unknown contour kind {kind!r}")


def add_contour(m: Microstructure, kind: str, height: float, period: float) -> None:
    """Turn the sites below the contoured interface (peak height ``height`` [m], peak
    separation ``period`` [m], :func:`contour_height`) into Li of the z = 0 electrode."""
    x, y, z = _site_axes(m)
    h = contour_height(kind, x[:, None], y[None, :], height, period, m.dimension)
    below = z[None, None, :] < h[:, :, None]
    m.phase[below] = LI
    m.feature[below] = FEATURE_CONTOUR


def add_flaws(m: Microstructure, rng, depth: float, width: float, mean_spacing: float = 0.0,
              x_positions=(), y_positions=()) -> int:
    """Li-filled surface flaws at the plating interface (z = 0), connected to the electrode.

    Each flaw is a slot of depth ``depth`` [m] (= the crack length a of the Griffith
    criterion) and lateral width ``width`` [m] (a square of side ``width`` in 3D), centred at
    listed positions ``x_positions`` (and ``y_positions`` in 3D) [m] and at Poisson-placed ones
    (mean lateral spacing ``mean_spacing`` [m]: intensity 1/mean_spacing^(d-1)). Distances wrap
    only across periodic boundaries. Returns the number of flaws.
    """
    if depth <= 0.0:
        return 0
    x, y, z = _site_axes(m)
    W, D = m.shape[0] * m.spacing, m.shape[1] * m.spacing
    xs = list(x_positions)
    ys = list(y_positions) if m.dimension == 3 else [0.0] * len(xs)
    if len(ys) != len(xs):
        raise ConfigError(f"microstructure.flaws.y_positions = {list(y_positions)}: a 3D cell needs "
                          f"one y per x position ({len(xs)})")
    if mean_spacing > 0.0:
        area = W if m.dimension == 2 else W * D
        count = rng.poisson(area / mean_spacing ** (m.dimension - 1))
        for _ in range(count):  # (x, y) pairs, drawn in this order
            xs.append(rng.random() * W)
            ys.append(rng.random() * D if m.dimension == 3 else 0.0)

    eps = 1e-9 * m.spacing

    def within(u, u0, length, periodic):
        """Sites whose centre lies in (u0 - width/2, u0 + width/2]: half-open, so a flaw of
        width n h centred anywhere covers exactly n sites (rounding-safe)."""
        d = u - u0
        if periodic:
            d = (d + 0.5 * length) % length - 0.5 * length
        return (d > -0.5 * width + eps) & (d <= 0.5 * width + eps)

    depth_mask = z < depth
    for x0, y0 in zip(xs, ys):
        in_x = within(x, x0, W, m.periodic[0])
        if m.dimension == 3:
            in_y = within(y, y0, D, m.periodic[1])
        else:
            in_y = np.ones(1, dtype=bool)
        mask = in_x[:, None, None] & in_y[None, :, None] & depth_mask[None, None, :]
        m.phase[mask] = LI
        m.feature[mask] = FEATURE_FLAW
    return len(xs)


def add_inclusion(m: Microstructure, length: float, angle_deg: float, width: float, centre=(),
                  crack: float = 0.0) -> int:
    """An electronically isolated Li-filled crack (seed 001): a straight slot of ``length`` [m]
    and ``width`` [m] whose long axis makes ``angle_deg`` with the field (z) axis, tilted in
    the x-z plane, centred at ``centre`` [m] ((x, z) in 2D, (x, y, z) in 3D; default the cell
    centre). ``crack`` [m] of empty crack (VOID) continues the slot beyond each end. Only
    electrolyte sites change. Returns the number of Li sites.
    """
    if length <= 0.0:
        return 0
    x, y, z = _site_axes(m)
    h = m.spacing
    W, D, L = (n * h for n in m.shape)
    if not centre:
        centre = (W / 2, L / 2) if m.dimension == 2 else (W / 2, D / 2, L / 2)
    x0, z0 = centre[0], centre[-1]
    y0 = centre[1] if m.dimension == 3 else 0.0
    dx = x[:, None, None] - x0
    if m.periodic[0]:
        dx = (dx + W / 2) % W - W / 2
    dy = (y[None, :, None] - y0) if m.dimension == 3 else np.zeros((1, 1, 1))
    dz = z[None, None, :] - z0
    th = math.radians(angle_deg)
    along = dx * math.sin(th) + dz * math.cos(th)
    across = dx * math.cos(th) - dz * math.sin(th)
    eps = 1e-9 * h
    # half-open bands (as for flaws), at least h (|cos| + |sin|) wide so a tilted slot one
    # site wide stays face-connected
    w = max(width, h * (abs(math.cos(th)) + abs(math.sin(th))))
    slot = (across > -0.5 * w + eps) & (across <= 0.5 * w + eps)
    if m.dimension == 3:
        slot = slot & (dy > -0.5 * max(width, h) + eps) & (dy <= 0.5 * max(width, h) + eps)
    li = slot & (np.abs(along) <= 0.5 * length + eps) & (m.phase == SE)
    void = slot & (np.abs(along) > 0.5 * length + eps) & (np.abs(along) <= 0.5 * length + crack + eps) & (m.phase == SE)
    where = f"microstructure.inclusion (length {length:g} m, angle {angle_deg:g} deg)"
    if np.any(li & ((z[None, None, :] < h) | (z[None, None, :] > L - h))):
        raise ConfigError(f"{where}: touches an electrode; it must be isolated")
    if np.any(adjacent(li, m.periodic) & (m.phase == LI)):
        raise ConfigError(f"{where}: touches Li already in the cell (a flaw or contour); it "
                          "must be isolated")
    m.phase[li] = LI
    m.feature[li] = FEATURE_INCLUSION
    m.phase[void] = VOID
    m.feature[void] = FEATURE_INCLUSION
    return int(li.sum())


def add_pores(m: Microstructure, rng, fraction: float, radius: float, gb_preference: float) -> int:
    """Carve spherical (3D) or circular (2D) pores of ``radius`` [m] until the VOID fraction
    reaches ``fraction``.

    Each pore centre is, with probability ``gb_preference``, a random GB site, else a random
    site; pores overlap freely. Returns the number of pores.
    """
    if fraction <= 0.0:
        return 0
    gb, _ = m.classify()
    gb_sites = np.flatnonzero(gb)
    n_sites = m.phase.size
    target = int(math.ceil(fraction * n_sites))
    room = int(np.count_nonzero(m.phase != LI))
    if target > room:
        raise ConfigError(f"microstructure.pores.fraction = {fraction:g}: only {room / n_sites:.3g} of "
                          "the cell is electrolyte after flaws and contours")
    r_sites = radius / m.spacing
    reach = int(math.ceil(r_sites))
    offsets = np.arange(-reach, reach + 1)
    count = 0
    n_void = int(np.count_nonzero(m.phase == VOID))
    while n_void < target:
        if gb_sites.size and rng.random() < gb_preference:
            centre = gb_sites[rng.integers(gb_sites.size)]
        else:
            centre = rng.integers(n_sites)
        c = np.unravel_index(centre, m.shape)
        idx, dist2 = [], 0.0
        for ax in range(3):
            if m.shape[ax] == 1:
                idx.append(np.array([c[ax]]))
                off = np.zeros(1)
            else:
                off = offsets.astype(float)
                pos = c[ax] + offsets
                if m.periodic[ax]:
                    pos = pos % m.shape[ax]
                else:
                    keep = (pos >= 0) & (pos < m.shape[ax])
                    pos, off = pos[keep], off[keep]
                idx.append(pos)
            shape = [1, 1, 1]
            shape[ax] = off.size
            dist2 = dist2 + (off**2).reshape(shape)
        block = np.ix_(*idx)
        inside = dist2 <= r_sites**2
        newly = inside & (m.phase[block] == SE)
        n_void += int(newly.sum())
        phase, feature = m.phase[block], m.feature[block]
        phase[newly], feature[newly] = VOID, FEATURE_PORE
        m.phase[block], m.feature[block] = phase, feature
        count += 1
    return count


# ---------------------------------------------------------------------------------------
# Import and the whole pipeline
# ---------------------------------------------------------------------------------------

def import_grains(path, shape, variable: str = "grain", key: str = "microstructure.import_path"):
    """Read an external grain-id array (``.npy``, or a variable of a netCDF file).

    Parameters
    ----------
    path : path-like
        ``.npy`` file with an integer array of shape (nx, nz) or (nx, ny, nz), or a netCDF
        file whose ``variable`` has dims (x, z) or (x, y, z).
    shape : tuple of int
        The cell's (nx, ny, nz); the array must match it.

    Returns
    -------
    grain : ndarray of int32
        Grain ids renumbered 0..n-1 in increasing order of the input ids.
    orientation : ndarray or None
        The file's ``orientation`` variable (grain, quaternion) if a netCDF file has one.

    Raises
    ------
    ConfigError
        Missing or unreadable file, wrong variable, shape, dtype or negative ids.
    """
    from pathlib import Path

    path = Path(path)
    shown = f"{key} = '{path}'"
    if not path.is_file():
        raise ConfigError(f"{shown}: file not found")
    orientation = None
    try:
        if path.suffix == ".npy":
            arr = np.load(path, allow_pickle=False)
        elif path.suffix in (".nc", ".nc4", ".netcdf"):
            import xarray as xr

            with xr.open_dataset(path) as ds:
                if variable not in ds:
                    raise ConfigError(f"{shown}: no variable {variable!r} (has: {', '.join(map(str, ds.data_vars))})")
                dims = ds[variable].dims
                if set(dims) not in ({"x", "z"}, {"x", "y", "z"}):
                    raise ConfigError(f"{shown}: variable {variable!r} has dims {dims}, expected "
                                      "(x, z) or (x, y, z)")
                arr = ds[variable].transpose(*[d for d in ("x", "y", "z") if d in dims]).values
                if "orientation" in ds:
                    orientation = ds["orientation"].values
        else:
            raise ConfigError(f"{shown}: unknown file type, expected .npy or .nc")
    except ConfigError:
        raise
    except Exception as exc:  # numpy/netCDF raise many types for corrupt files
        raise ConfigError(f"{shown}: cannot read grain map ({exc.__class__.__name__})") from None
    if arr.ndim == 2:
        arr = arr[:, None, :]
    if tuple(arr.shape) != tuple(shape):
        raise ConfigError(f"{shown}: grain map has shape {tuple(arr.shape)} but the cell has "
                          f"{tuple(shape)} sites (x, y, z)")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ConfigError(f"{shown}: grain ids must be integers, got {arr.dtype}")
    if arr.size and arr.min() < 0:
        raise ConfigError(f"{shown}: grain ids must be >= 0, found {int(arr.min())}")
    present, inverse = np.unique(arr, return_inverse=True)
    if orientation is not None and orientation.shape != (present.size, 4):
        orientation = None
    return inverse.reshape(arr.shape).astype(np.int32), orientation


def build(deck, rng=None, material=None) -> Microstructure:
    """Build the microstructure of a deck (its ``cell`` and ``microstructure`` sections).

    The set-up stream is ``SeedSequence(run.seed).spawn(2)[0]``: the same deck and seed give
    the same microstructure, and it does not depend on what is simulated on it afterwards.
    Order: grains -> contoured interface -> surface flaws -> pores (pores only replace
    electrolyte). ``material`` (a :class:`kmc.materials.Material`, loaded from the deck if not
    given) supplies the grain size when the deck leaves it at 0, and must agree with the
    grain structure: an amorphous material (LiPON) cannot have Voronoi grains, a
    single-crystal one neither.

    Raises
    ------
    ConfigError
        If the material contradicts ``microstructure.kind`` or pores cannot reach their
        fraction in the electrolyte left by flaws and contours.
    """
    from .materials import load_material

    cfg = deck.microstructure
    cell = deck.cell
    if material is None:
        material = load_material(deck.material.name, deck.material.overrides)
    if cfg.kind == "voronoi" and material.structure != "polycrystalline":
        raise ConfigError(f"microstructure.kind = 'voronoi': material {material.name!r} is "
                          f"{material.structure.replace('_', ' ')}; use kind = "
                          f"'{material.structure}'")
    grain_size = cfg.grain_size or material.grain_size
    shape = cell.sites()
    if rng is None:
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(deck.run.seed).spawn(2)[0]))
    periodic = (cell.periodic, cell.periodic, False)
    amorphous = cfg.kind == "amorphous"
    if cfg.kind == "voronoi":
        frac = cfg.hardcore_fraction if cfg.seeds == "hardcore" else 0.0
        grain, seeds = voronoi_grains(rng, shape, cell.spacing, grain_size, periodic, frac)
        orientation = random_orientations(rng, seeds.shape[0])
    elif cfg.kind == "import":
        grain, orientation = import_grains(cfg.import_path, shape, cfg.import_variable)
        n = int(grain.max()) + 1 if grain.size else 0
        seeds = np.full((n, 3), np.nan)
        if orientation is None:
            orientation = random_orientations(rng, n)
    else:
        grain = np.zeros(shape, dtype=np.int32)
        seeds = np.full((1, 3), np.nan)
        orientation = np.full((1, 4), np.nan) if amorphous else random_orientations(rng, 1)
    m = Microstructure(tuple(shape), cell.spacing, grain, np.zeros(shape, dtype=np.uint8),
                       orientation, seeds, amorphous=amorphous, periodic=periodic)
    if cfg.contour.kind != "flat" and cfg.contour.height > 0:
        add_contour(m, cfg.contour.kind, cfg.contour.height, cfg.contour.period)
    f = cfg.flaws
    add_flaws(m, rng, f.depth, f.width, f.mean_spacing, f.x_positions, f.y_positions)
    add_pores(m, rng, cfg.pores.fraction, cfg.pores.radius, cfg.pores.gb_preference)
    inc = getattr(cfg, "inclusion", None)
    if inc is not None and inc.length > 0:
        add_inclusion(m, inc.length, inc.angle, inc.width, inc.centre, inc.crack)
    return m
