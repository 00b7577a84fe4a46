"""Features carved into the grain structure: a contoured interface, surface flaws, an isolated
inclusion and pores (MODEL.md section 1).

Each ``add_*`` function changes the phases of a :class:`kmc.microstructure.Microstructure` in
place and records in its ``feature`` map what set each changed site (``FEATURE_*``). The
pipeline (:func:`kmc.microstructure.build`) applies them in the order contour -> flaws -> pores
-> inclusion; pores and the inclusion replace only electrolyte.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .codes import LI, SE, VOID
from .errors import ConfigError

if TYPE_CHECKING:
    from .graph import Graph
    from .microstructure import Microstructure

#: What set a site's phase (``Microstructure.feature``): the tessellation, a pore, a surface
#: flaw, the contoured electrode, an isolated inclusion.
FEATURE_NONE, FEATURE_PORE, FEATURE_FLAW, FEATURE_CONTOUR, FEATURE_INCLUSION = 0, 1, 2, 3, 4


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
    m.contour = (kind, height, period)


def contour_cuts(graph: Graph, feature: np.ndarray, phase: np.ndarray,
                 contour) -> tuple[np.ndarray, np.ndarray]:
    """Where a contoured electrode's true surface crosses its interface edges (cut cells), and
    the share of the true surface each of them carries.

    For every directed edge from a Li site of the contour (FEATURE_CONTOUR) to an electrolyte
    site, the fraction t of the edge, measured from the electrolyte site's centre, at which
    the surface z = h(x, y) (:func:`kmc.features.contour_height`) lies (bisection to 1e-12);
    0.5 (the lattice face) on every other edge. The ionic field then places the Dirichlet
    surface where it is (Shortley & Weller 1938, J. Appl. Phys. 9, 334) instead of on the
    staircase of site faces, whose corners concentrate current more the finer the grid.

    The area factor 1 / (|n_x| + |n_y| + |n_z|), n the unit normal of the surface at the cut
    (1 on other edges): the staircase's faces normal to axis i add up to the projection
    int |n_i| dA of the surface, so with this factor the interface faces add up to its true
    area (per column sqrt(1 + |grad h|^2) dx dy instead of (1 + |h_x| + |h_y|) dx dy), which
    the charge transfer of a finite exchange current density sees (a test).
    """
    kind, height, period = contour
    src, dst = graph.sources, graph.indices
    feat, ph = graph.from_grid(feature), graph.from_grid(phase)
    cut, area = np.full(src.size, 0.5), np.ones(src.size)
    edges = np.flatnonzero((feat[src] == FEATURE_CONTOUR) & (ph[src] == LI) & (ph[dst] == SE))
    if edges.size == 0:
        return cut, area
    start = graph.positions[dst[edges]]
    step = -graph.edge_vectors[edges]  # from the electrolyte site toward the Li site
    dimension = 3 if np.any(graph.edge_vectors[:, 1]) else 2

    def above(t):  # > 0 where the point t along the edge lies in the electrolyte
        p = start + t[:, None] * step
        return p[:, 2] - contour_height(kind, p[:, 0], p[:, 1], height, period, dimension)

    lo, hi = np.zeros(edges.size), np.ones(edges.size)
    for _ in range(45):  # bisection: above(lo) > 0 >= above(hi)
        mid = 0.5 * (lo + hi)
        inside = above(mid) > 0
        lo, hi = np.where(inside, mid, lo), np.where(inside, hi, mid)
    t = 0.5 * (lo + hi)
    cut[edges] = np.clip(t, 1e-3, 1.0)
    p = start + t[:, None] * step  # the cut points; central differences of h there
    eps = 1e-6 * period
    slope = [(contour_height(kind, p[:, 0] + eps * (ax == 0), p[:, 1] + eps * (ax == 1), height,
                             period, dimension)
              - contour_height(kind, p[:, 0] - eps * (ax == 0), p[:, 1] - eps * (ax == 1),
                               height, period, dimension)) / (2 * eps) for ax in (0, 1)]
    area[edges] = np.sqrt(1.0 + slope[0] ** 2 + slope[1] ** 2) / (
        1.0 + np.abs(slope[0]) + np.abs(slope[1]))
    return cut, area


#: Flaw-depth distributions of ``[microstructure.flaws] depth_distribution`` (MODEL.md 10.3).
FLAW_DEPTH_DISTRIBUTIONS = ("fixed", "lognormal", "weibull")


def sample_flaw_depths(rng, n: int, kind: str, median: float, spread: float) -> np.ndarray:
    """``n`` continuous flaw depths [m] of median ``median`` (before clipping and rounding).

    * ``lognormal``: ln a ~ Normal(ln median, spread^2) (``spread`` = sigma of ln a);
    * ``weibull``: a = lambda W, W ~ Weibull(modulus ``spread``), lambda = median / (ln 2)^(1/spread)
      so that the median is ``median``.

    Draws ``n`` variates from ``rng`` (``standard_normal`` or ``weibull``).
    """
    if kind == "lognormal":
        return median * np.exp(spread * rng.standard_normal(n))
    if kind == "weibull":
        return median / math.log(2.0) ** (1.0 / spread) * rng.weibull(spread, n)
    raise ValueError(f"unknown flaw depth distribution {kind!r}")


def groove_slope(toughness: float, gb_toughness: float, gb_modulus_ratio: float) -> float:
    """Slope m = gamma_GB / (2 gamma_s) = cos(psi/2) of a grain boundary's thermal groove
    (dihedral angle psi) from its toughness: m = max(0, 1 - G_c,GB / G_c).

    A boundary's work of separation is 2 gamma_s - gamma_GB (Rice & Wang 1989, Mater. Sci.
    Eng. A 107, 23) against 2 gamma_s across a grain, so G_c,GB / G_c = (K_GB / K_IC)^2 / r_E
    with G = K^2 / E' (transgranular toughness ``toughness`` and intergranular
    ``gb_toughness`` [Pa m^0.5], GB modulus ratio r_E). LLZO (0.5 and 1.0 MPa m^0.5,
    r_E = 0.5): m = 0.5, psi = 120 deg; a boundary as strong as the grains (m = 0) has no
    groove. At one sintering history a groove's depth is proportional to m (Mullins 1957,
    J. Appl. Phys. 28, 333: d = 0.973 m (B t)^(1/4)).
    """
    ratio = (gb_toughness / toughness) ** 2 / gb_modulus_ratio
    return max(0.0, 1.0 - ratio)


def flaw_depths(rng, n: int, kind: str, median: float, spread: float, max_depth: float,
                spacing: float, scale: float = 1.0) -> np.ndarray:
    """``n`` flaw depths [m] from :func:`sample_flaw_depths` times ``scale``, rounded to whole
    sites of ``spacing``, at least one site and at most ``floor(max_depth / spacing)`` sites
    (``scale`` 0: all zero, no flaws)."""
    a = scale * sample_flaw_depths(rng, n, kind, median, spread)
    if scale == 0.0:
        return a
    top = max(1, int(math.floor(max_depth / spacing * (1 + 1e-9))))
    return np.clip(np.rint(a / spacing), 1, top) * spacing


def add_flaws(m: Microstructure, rng, depth: float, width: float, mean_spacing: float = 0.0,
              x_positions=(), y_positions=(), distribution: str = "fixed", spread: float = 0.0,
              max_depth: float = 0.0, far_face: bool = False, depth_scale: float = 1.0) -> int:
    """Li-filled surface flaws at the plating interface (z = 0; below a contoured electrode's
    surface, :func:`add_contour`, depths count from that surface, so a flaw under a peak is
    as deep as one in a trough), or with ``far_face`` at the counter electrode (z = L, depth
    measured down from it), connected to the electrode. Only electrolyte sites change.

    Each flaw is a slot of depth ``depth`` [m] (= the crack length a of the Griffith
    criterion) and lateral width ``width`` [m] (a square of side ``width`` in 3D), centred at
    listed positions ``x_positions`` (and ``y_positions`` in 3D) [m] and at Poisson-placed ones
    (mean lateral spacing ``mean_spacing`` [m]: intensity 1/mean_spacing^(d-1)). Distances wrap
    only across periodic boundaries. Returns the number of flaws.

    With ``distribution`` other than ``"fixed"`` each flaw has its own depth from
    :func:`flaw_depths` (``depth`` the median, ``spread`` the log-normal sigma or the Weibull
    modulus, clipped at ``max_depth``, 0 = one site less than the thickness), drawn from ``rng``
    after the positions, one per flaw in position order (listed, then Poisson-placed). The
    fixed distribution draws nothing more.

    ``depth_scale`` multiplies every depth before rounding (flaws that are grain-boundary
    grooves: :func:`groove_slope`); 0 leaves no flaw, after the same draws, so the stream
    of later features does not change. Returns the number of flaws carved.
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

    if distribution == "fixed":
        depths = [depth * depth_scale] * len(xs)
    else:
        clip = max_depth or (m.shape[2] - 1) * m.spacing
        depths = flaw_depths(rng, len(xs), distribution, depth, spread, clip, m.spacing,
                             depth_scale)
    if depth_scale == 0.0:
        return 0
    surface = np.zeros((x.size, y.size, 1))  # depths count from the electrode's surface
    if m.contour is not None and not far_face:
        kind, height, period = m.contour
        surface = contour_height(kind, x[:, None], y[None, :], height, period,
                                 m.dimension)[:, :, None]
    for x0, y0, a in zip(xs, ys, depths):
        if far_face:
            depth_mask = (z > m.shape[2] * m.spacing - a)[None, None, :]
        else:
            depth_mask = z[None, None, :] < surface + a
        in_x = within(x, x0, W, m.periodic[0])
        if m.dimension == 3:
            in_y = within(y, y0, D, m.periodic[1])
        else:
            in_y = np.ones(1, dtype=bool)
        mask = in_x[:, None, None] & in_y[None, :, None] & depth_mask & (m.phase == SE)
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



def contact_patches(rng, n_lateral, fraction: float, patch_size: float, spacing: float,
                    periodic: bool) -> np.ndarray:
    """Which sites of one electrode face touch the electrode (MODEL.md 10.1).

    Real interfaces touch in patches (contact fraction f_c < 1 after pressing or sintering;
    Raj et al. 2020, arXiv 2001.06276; Kasemchainan 2019): a Gaussian random field with
    correlation length ``patch_size`` (Gaussian filter of white noise, periodic if the cell
    is) thresholded at its (1 - f_c) quantile, so exactly round(f_c N) of the N face sites are
    in contact and the patches and gaps are ~``patch_size`` across.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_lateral : tuple of int
        Face sites along x (and y in 3D).
    fraction : float
        f_c in (0, 1].
    patch_size, spacing : float
        Correlation length of the patches and site edge h [m].
    periodic : bool
        Lateral periodicity of the cell.
    """
    from scipy.ndimage import gaussian_filter

    shape = tuple(int(n) for n in n_lateral)
    if fraction >= 1.0:
        return np.ones(shape, bool)
    field = gaussian_filter(rng.standard_normal(shape), sigma=patch_size / spacing / 2.0,
                            mode="wrap" if periodic else "reflect")
    n_on = int(round(fraction * field.size))
    order = np.argsort(-field, axis=None, kind="stable")
    out = np.zeros(field.size, bool)
    out[order[:n_on]] = True
    return out.reshape(shape)


def pressed_contact_fraction(fraction: float, pressure: float, hardness: float) -> float:
    """Contact fraction [-] of Li pressed on an electrolyte face at ``pressure`` [Pa].

    Asperities in plastic contact carry the load at the indentation hardness H of the softer
    body, so the real contact area grows as A_r / A = P / H (F. P. Bowden and D. Tabor, The
    Friction and Lubrication of Solids, Oxford 1950); for a metal H = c sigma_y with c ~ 3
    (D. Tabor, The Hardness of Metals, Oxford 1951). Here the gaps left at zero pressure
    (1 - f_c) close in that proportion: f_c(P) = f_c + (1 - f_c) min(1, P / H). For Li
    (sigma_y = 0.73 MPa) H = 2.2 MPa: pressed at 2 MPa a face with f_c = 0.3 touches over 94%.

    Parameters
    ----------
    fraction : float
        f_c at zero stack pressure, in (0, 1].
    pressure : float
        Stack pressure P [Pa], >= 0.
    hardness : float
        H [Pa]; 0 or less: the contact does not depend on pressure.
    """
    if hardness <= 0.0:
        return fraction
    return fraction + (1.0 - fraction) * min(1.0, max(pressure, 0.0) / hardness)


def add_contact(m: Microstructure, rng, fraction: float, patch_size: float) -> None:
    """Set ``m.contact``: the electrode-face sites (z = 0 and z = L) that touch their
    electrode, each face drawn with :func:`contact_patches`; Li on a face (flaws, a contoured
    electrode) always touches its electrode."""
    if fraction >= 1.0:
        return
    contact = np.ones(m.shape, bool)
    lateral = m.shape[:2]
    for z in (0, m.shape[2] - 1):
        patch = contact_patches(rng, lateral, fraction, patch_size, m.spacing, m.periodic[0])
        contact[:, :, z] = patch | (m.phase[:, :, z] == LI)
    m.contact = contact
