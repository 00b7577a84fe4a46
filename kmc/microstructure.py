"""Polycrystalline electrolyte on a site lattice (MODEL.md sections 1-3).

The cell is a slab of thickness L (z, between the electrodes at z = 0 and z = L) and lateral
size W (x; and D along y in 3D), discretised into sites of edge h. A 2D cell is a slab one site
thick (ny = 1), so every array is 3D with axes (x, y, z) and the same code serves both.

A :class:`Microstructure` holds the grain map, the site phases and the features that set them;
it classifies grain-boundary sites, triple junctions and edges, and gives the per-site material
maps and the site graph. Its parts come from sibling modules: the grains from a Voronoi
tessellation (:mod:`kmc.tessellation`) or an imported map (:func:`import_grains`), the pores,
flaws, contoured interface and inclusion from :mod:`kmc.features`; :func:`build` runs the whole
pipeline for a deck.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .codes import LI, SE, VOID  # site phases (MODEL.md section 2), shared with the kernels
from .errors import ConfigError
from .features import (add_contact, add_contour, add_flaws, add_inclusion, add_pores, adjacent,
                       contour_cuts, groove_slope, pressed_contact_fraction)
from .graph import Graph, lattice_graph
from .tessellation import disorientation, grain_diameters, random_orientations, voronoi_grains

#: Edge types of the graph.
EDGE_BULK, EDGE_GB = 0, 1
#: How an edge meets the grain boundaries (``edge_data["gb_relation"]``).
GB_NONE, GB_CROSSING, GB_ALONG = 0, 1, 2


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
        What set a site's phase (FEATURE_* of :mod:`kmc.features`): 0 tessellation, 1 pore,
        2 flaw, 3 contoured electrode, 4 inclusion.
    contact : ndarray of bool or None, shape ``shape``
        False on electrode-face sites that start out of contact with their electrode (contact
        patches, MODEL.md 10.1); None for full contact.
    contour : tuple or None
        (kind, peak height [m], peak separation [m]) of a contoured electrode
        (:func:`kmc.features.add_contour`), whose true surface the graph's ``interface_cut``
        locates between the sites; None for a flat one.
    gb_toughness_factor : ndarray or None, shape (n_gb_pairs,)
        Intergranular toughness of each boundary (in :meth:`gb_pairs` order) relative to the
        material's (MODEL.md 10.4: boundaries differ); None for one value everywhere.
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
    gb_toughness_factor: np.ndarray = field(default=None)
    contact: np.ndarray = field(default=None)
    contour: tuple = field(default=None)
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

    def boundary_of_site(self) -> np.ndarray:
        """Index into :meth:`gb_pairs` of the boundary each site lies on (the lowest pair
        among its neighbours of other grains), -1 off the boundaries; shape ``shape``."""
        keys = self._scan()[3]
        n = np.int64(max(self.n_grains, 1))
        core, plus, minus = self._neighbours(0, self.shape[2])
        core = core.astype(np.int64)
        best = np.full(self.shape, np.iinfo(np.int64).max)
        for nb in plus + minus:
            nb = nb.astype(np.int64)
            key = np.where(nb != core, np.minimum(core, nb) * n + np.maximum(core, nb), best)
            best = np.minimum(best, key)
        found = best != np.iinfo(np.int64).max
        out = np.full(self.shape, -1, np.intp)
        out[found] = np.searchsorted(keys, best[found])
        return out

    def gb_toughness(self, material) -> np.ndarray:
        """Intergranular fracture toughness K_IC,GB [Pa m^0.5] of the boundary at each site
        (the material's value off the boundaries and without a spread), shape ``shape``."""
        out = np.full(self.shape, material.gb_fracture_toughness)
        if self.gb_toughness_factor is not None:
            b = self.boundary_of_site()
            out[b >= 0] *= self.gb_toughness_factor[b[b >= 0]]
        return out

    def n_edges(self) -> int:
        """Number of undirected nearest-neighbour edges of the lattice."""
        total = int(np.prod(self.shape))
        return sum((n if p else n - 1) * (total // n)
                   for n, p in zip(self.shape, self.periodic) if n > 1)

    def grain_diameters(self, exclude_faces: bool = True) -> np.ndarray:
        """Equivalent diameter [m] of every grain (NaN for grains touching the z faces if
        ``exclude_faces``): (6 n h^3 / pi)^(1/3) in 3D, (4 n h^2 / pi)^(1/2) in 2D
        (:func:`kmc.tessellation.grain_diameters`)."""
        return grain_diameters(self.grain, self.spacing, self.n_grains, exclude_faces)

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
        crack advancing there opens the boundary; with a spread between boundaries, the
        geometric mean of its ends' :meth:`gb_toughness`), transgranular on the others,
        including those that cross a boundary (the crack then enters the next grain).
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
        if self.contour is not None:
            edge["interface_cut"], edge["interface_area"] = contour_cuts(
                g, self.feature, self.phase, self.contour)
        if material is not None:
            site.update({k: g.from_grid(v) for k, v in self.site_properties(material).items()})
            k_gb = material.gb_fracture_toughness
            if self.gb_toughness_factor is not None:
                site_k = g.from_grid(self.gb_toughness(material))
                k_gb = np.sqrt(site_k[src] * site_k[dst])
            edge["fracture_toughness"] = np.where(relation == GB_ALONG, k_gb,
                                                  material.fracture_toughness)
        return g.with_data(site=site, edge=edge)


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
    electrolyte) -> inclusion -> boundary toughness spread -> contact patches. ``material`` (a
    :class:`kmc.materials.Material`, loaded from the deck if not given) supplies the grain
    size when the deck leaves it at 0, and must agree with the grain structure: an amorphous
    material (LiPON) cannot have Voronoi grains, a single-crystal one neither.

    Raises
    ------
    ConfigError
        If the material contradicts ``microstructure.kind`` or pores cannot reach their
        fraction in the electrolyte left by flaws and contours.
    """
    from .materials import load_li_metal, load_material

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
    scale = groove_depth_scale(deck, material) if f.origin == "grain_boundary_grooves" else 1.0
    for far_face in (False, True) if f.faces == "both" else (False,):
        add_flaws(m, rng, f.depth, f.width, f.mean_spacing, f.x_positions, f.y_positions,
                  f.depth_distribution, f.depth_spread, f.max_depth, far_face, scale)
    add_pores(m, rng, cfg.pores.fraction, cfg.pores.radius, cfg.pores.gb_preference)
    inc = getattr(cfg, "inclusion", None)
    if inc is not None and inc.length > 0:
        add_inclusion(m, inc.length, inc.angle, inc.width, inc.centre, inc.crack)
    if cfg.gb_toughness_spread > 0:
        m.gb_toughness_factor = gb_toughness_factors(rng, m.gb_pairs()[0].shape[0],
                                                     cfg.gb_toughness_spread)
    contact = getattr(cfg, "contact", None)
    if contact is not None:
        fraction = contact.fraction
        conditions = getattr(deck, "conditions", None)
        if contact.hardness_factor > 0.0 and conditions is not None:
            li = load_li_metal(deck.material.li_metal, key="material.li_metal")
            fraction = pressed_contact_fraction(fraction, conditions.stack_pressure,
                                                contact.hardness_factor * li.yield_strength)
        add_contact(m, rng, fraction, contact.patch_size)
    return m


def groove_depth_scale(deck, material) -> float:
    """m_deck / m_set: the groove slope of the deck's grain boundaries (``material``, with
    its overrides) over that of the material set's own (:func:`kmc.features.groove_slope`),
    which scales flaws that are grain-boundary grooves (``microstructure.flaws.origin``).

    Raises
    ------
    ConfigError
        If the cell has no grain boundaries (not Voronoi or imported grains), or the set's
        boundaries have no groove.
    """
    from .materials import load_material

    key = "microstructure.flaws.origin = 'grain_boundary_grooves'"
    if deck.microstructure.kind not in ("voronoi", "import"):
        raise ConfigError(f"{key}: a {deck.microstructure.kind.replace('_', ' ')} cell has no "
                          "grain boundaries; use origin = 'surface'")
    base = load_material(deck.material.name)
    m_set, m_deck = (groove_slope(x.fracture_toughness, x.gb_fracture_toughness,
                                  x.gb_modulus_ratio) for x in (base, material))
    if m_set <= 0.0:
        raise ConfigError(f"{key}: the grain boundaries of {base.name!r} are as tough as its "
                          "grains (groove slope 0), so the flaw depths cannot be theirs; use "
                          "origin = 'surface'")
    return m_deck / m_set


def gb_toughness_factors(rng, n: int, spread: float) -> np.ndarray:
    """Toughness of n boundaries relative to the median (MODEL.md 10.4): log-normal,
    ln f ~ N(0, spread^2), so K_IC,GB = sqrt(G_c,GB E_GB) differs between boundaries as their
    energies and moduli do; drawn from the microstructure stream after every feature."""
    return np.exp(spread * rng.standard_normal(n))
