"""Crack paths on the site lattice (MODEL.md 10.4): diagonal crack steps, the length of the
Li-filled crack and its direction at every tip.

The Griffith length a of a crack is the length of the Li that fills it, from the mouth (the Li
in contact with an electrode) to the tip along the Li, whatever the direction of the next step,
and a step kinked by theta from the crack's direction is driven by K_I cos^3(theta/2)
(:func:`kmc.mechanics.kink_factor`). On a square or cubic lattice a crack can only turn by 90
degrees through nearest neighbours; the in-plane diagonal neighbours add 45-degree steps, so a
crack meeting a boundary inclined to it can turn into the boundary (:func:`diagonal_steps`). A
diagonal step opens the target site and one of the two sites at the corner it cuts, so the Li
that fills the crack stays connected through nearest neighbours (the field and the clusters
need no diagonal bonds).

:func:`crack_paths` measures both quantities on the Li of one topology: shortest paths through
Li (nearest-neighbour and diagonal links, each its length) from a virtual node joined to every
electrode-face Li site in contact at one site's depth h, so a straight flaw of d sites has
a = d h at its tip, as the extent rule of MODEL.md 5.2 gives for it; the direction at a site is
the chord back along its path over ``direction_length``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from .codes import FACE_C
from .graph import minimum_image


@dataclass(frozen=True)
class DiagonalSteps:
    """The in-plane diagonal neighbours of every lattice site.

    Attributes
    ----------
    source, target : ndarray of intp, shape (n_steps,)
        Site a step leaves and the diagonal site it opens.
    corner : ndarray of intp, shape (n_steps, 2)
        The two nearest neighbours of ``source`` that are also neighbours of ``target``.
    vector : ndarray, shape (n_steps, 3)
        Displacement [m] from source to target (periodic images resolved).
    axes : ndarray of intp, shape (n_steps, 2)
        The two lattice axes the step moves along (corner[:, i] is the move along axes[:, i]).
    """

    source: np.ndarray
    target: np.ndarray
    corner: np.ndarray
    vector: np.ndarray
    axes: np.ndarray


def diagonal_steps(graph, periodic) -> DiagonalSteps:
    """The diagonal steps of a lattice graph: (+-1, +-1) in every lattice plane with two
    axes of more than one site (the x-z plane of a 2D cell, all three planes in 3D).

    Parameters
    ----------
    graph : kmc.graph.Graph
        A lattice graph (``shape``, ``spacing``, ``positions`` and ``grid_index`` set).
    periodic : sequence of bool
        Periodicity of (x, y, z).
    """
    shape = tuple(graph.shape) + (1,) * (3 - len(graph.shape))
    h = graph.spacing
    n = graph.n_sites
    coords = np.rint(graph.positions / h - 0.5).astype(np.intp)
    site_of = np.empty(n, np.intp)
    site_of[graph.grid_index] = np.arange(n)
    live = [ax for ax in range(3) if shape[ax] > 1]
    parts = []
    for i, a in enumerate(live):
        for b in live[i + 1:]:
            for sa in (1, -1):
                for sb in (1, -1):
                    off = np.zeros(3, np.intp)
                    off[a], off[b] = sa, sb
                    ok = np.ones(n, bool)
                    moved = []
                    for step in (off, off * (np.arange(3) == a), off * (np.arange(3) == b)):
                        c = coords + step
                        for ax in (a, b):
                            if periodic[ax]:
                                c[:, ax] %= shape[ax]
                            else:
                                ok &= (c[:, ax] >= 0) & (c[:, ax] < shape[ax])
                        moved.append(c)
                    src = np.flatnonzero(ok)
                    sites = [site_of[np.ravel_multi_index(c[src].T, shape)] for c in moved]
                    parts.append((src, sites[0], np.stack(sites[1:], axis=1),
                                  np.broadcast_to(off * h, (src.size, 3)),
                                  np.broadcast_to([a, b], (src.size, 2))))
    if not parts:
        z = np.zeros(0, np.intp)
        return DiagonalSteps(z, z, np.zeros((0, 2), np.intp), np.zeros((0, 3)),
                             np.zeros((0, 2), np.intp))
    cols = [np.concatenate(c) for c in zip(*parts)]
    return DiagonalSteps(cols[0], cols[1], cols[2], cols[3].astype(float), cols[4])


def crack_paths(graph, diagonal: DiagonalSteps, metal, face, contact, direction_length: float,
                box):
    """Li-filled crack length and crack direction at every Li site (MODEL.md 10.4).

    Parameters
    ----------
    graph : kmc.graph.Graph
    diagonal : DiagonalSteps
    metal : ndarray of bool
        Li sites.
    face, contact : ndarray
        Electrode face of every site (FACE_*) and whether a face site is in contact.
    direction_length : float
        Length [m] of path over which the direction at a tip is taken (at least one step).
    box : sequence of float
        Period [m] of (x, y, z) for the minimum image (inf where not periodic).

    Returns
    -------
    length : ndarray, shape (n_sites,)
        Path length [m] through Li from the electrode to each site; inf where the site's Li
        does not reach an electrode in contact (a floating cluster) or off the metal.
    direction : ndarray, shape (n_sites, 3)
        Unit vector of the crack direction at each reachable Li site: the chord from the site
        ``direction_length`` back along its path, or the inward face normal at the mouth.
    """
    n = graph.n_sites
    h = graph.spacing
    src, dst = graph.sources, graph.indices
    keep = metal[src] & metal[dst]
    dkeep = metal[diagonal.source] & metal[diagonal.target]
    mouth = np.flatnonzero(metal & contact & (face != 0))
    rows = np.concatenate([src[keep], diagonal.source[dkeep], np.full(mouth.size, n)])
    cols = np.concatenate([dst[keep], diagonal.target[dkeep], mouth])
    weight = np.concatenate([np.linalg.norm(graph.edge_vectors[keep], axis=1),
                             np.linalg.norm(diagonal.vector[dkeep], axis=1),
                             np.full(mouth.size, h)])
    adj = sp.csr_matrix((weight, (rows, cols)), shape=(n + 1, n + 1))
    dist, pred = csgraph.dijkstra(adj, directed=True, indices=n, return_predecessors=True)
    length = dist[:n]
    pred = pred[:n]
    direction = np.zeros((n, 3))
    reach = np.flatnonzero(np.isfinite(length))
    if reach.size == 0:
        return length, direction
    chord = np.zeros((reach.size, 3))
    cur = reach.copy()
    reach_len = direction_length * (1.0 - 1e-9)  # a chord of exactly that length stops there
    for _ in range(int(np.ceil(direction_length / h)) + 1):
        p = pred[cur]
        go = (p >= 0) & (p < n) & (length[reach] - length[cur] < reach_len)
        if not go.any():
            break
        chord[go] += minimum_image(graph.positions[cur[go]] - graph.positions[p[go]], box)
        cur[go] = p[go]
    inward = np.where(face[reach] == FACE_C, -1.0, 1.0)
    at_mouth = ~np.any(chord, axis=1)
    chord[at_mouth] = 0.0
    chord[at_mouth, 2] = inward[at_mouth]
    direction[reach] = chord / np.linalg.norm(chord, axis=1)[:, None]
    return length, direction


def crack_tips(graph, diagonal: DiagonalSteps, metal, length) -> np.ndarray:
    """Tips of the Li-filled cracks: Li sites reached from an electrode (finite ``length``
    [m], :func:`crack_paths`) with no Li neighbour, nearest or diagonal, farther along the Li.

    Only a tip carries the stress intensity of its crack's length (MODEL.md 10.4: a is the
    path from the mouth to the tip); a site on a crack's flank has no crack of its own ahead
    of it, so a branch from it starts from a wall flaw of one site (MODEL.md 5.2).
    """
    tol = 1e-9 * graph.spacing
    reach = metal & np.isfinite(length)
    behind = np.zeros(metal.size, bool)
    for a, b in ((graph.sources, graph.indices), (diagonal.source, diagonal.target)):
        ahead = reach[a] & reach[b] & (length[b] > length[a] + tol)
        behind[a[ahead]] = True
    return reach & ~behind


__all__ = ["DiagonalSteps", "diagonal_steps", "crack_paths", "crack_tips"]
