"""Li clusters: connected metal sites and the electrodes they touch (MODEL.md sections 4, 5, 7).

Metal is equipotential, so the field contracts every connected set of Li sites into one node,
and the class of a cluster decides how it is held: touching the electrode at z = 0 (class A,
0 V), at z = L (class C, the cell voltage), both (a short circuit, MODEL.md section 7) or
neither (floating: bipolar, zero net current). An electrode-face site that lost contact with
its electrode (a stripping void, MODEL.md 5.8) does not join its cluster to that electrode.

Two structures answer cluster questions during a run:

* the kernel's incremental union-find (:class:`kmc._clusters.ClusterSet`, twin
  :class:`kmc.reference.ReferenceClusters`), updated site by site as Li appears: it detects
  the event that joins the electrodes;
* :class:`ClusterView`, the labelled clusters of one topology (phases and contacts), computed
  once per topology change by :class:`ClusterTracker` and handed to the field, the
  confinement rules, the event channels and the observers, with the quantities derived from
  it (anchoring, extents, reservoir distances) computed on first use.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import networkx as nx
import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph

from .codes import FACE_A, FACE_C, FACE_NONE
from .engine import compiled
from .errors import EngineConsistencyError
from .microstructure import LI

#: Cluster classes.
CLASS_A, CLASS_C, CLASS_FLOATING, CLASS_SHORT = 0, 1, 2, 3


@dataclass
class Clusters:
    """Connected components of Li metal sites and the electrodes they touch.

    Attributes
    ----------
    label : ndarray of intp
        Cluster id of every site (-1 for non-metal sites).
    kind : ndarray of int8
        CLASS_A, CLASS_C, CLASS_FLOATING or CLASS_SHORT per cluster.
    """

    label: np.ndarray
    kind: np.ndarray

    @property
    def n(self) -> int:
        """Number of clusters."""
        return self.kind.size

    @property
    def shorted(self) -> bool:
        """True if one cluster touches both electrodes (a short circuit, MODEL.md section 7)."""
        return bool(np.any(self.kind == CLASS_SHORT))


def touching_faces(face: np.ndarray, contact=None) -> np.ndarray:
    """FACE_A / FACE_C of the sites that touch an electrode: ``face`` where in ``contact``."""
    return face if contact is None else np.where(contact, face, FACE_NONE)


def label_clusters(graph, metal: np.ndarray, face: np.ndarray, contact=None) -> Clusters:
    """Label Li clusters (connected metal sites) and classify them by the electrodes they touch.

    Parameters
    ----------
    graph : kmc.graph.Graph
    metal : ndarray of bool
        Metal sites (phase LI).
    face : ndarray of int
        FACE_A / FACE_C for sites on an electrode face, FACE_NONE elsewhere.
    contact : ndarray of bool, optional
        False where an electrode-face site has lost contact (a void at the interface).
    """
    n = graph.n_sites
    src, dst = graph.sources, graph.indices
    keep = metal[src] & metal[dst]
    adj = sp.csr_matrix((np.ones(int(keep.sum()), np.int8), (src[keep], dst[keep])), shape=(n, n))
    _, comp = csgraph.connected_components(adj, directed=False)
    label = np.full(n, -1, dtype=np.intp)
    ids, inverse = np.unique(comp[metal], return_inverse=True)
    label[metal] = inverse
    touches = touching_faces(face, contact)
    in_a = np.zeros(ids.size, bool)
    in_c = np.zeros(ids.size, bool)
    in_a[label[metal & (touches == FACE_A)]] = True
    in_c[label[metal & (touches == FACE_C)]] = True
    kind = np.full(ids.size, CLASS_FLOATING, dtype=np.int8)
    kind[in_a] = CLASS_A
    kind[in_c] = CLASS_C
    kind[in_a & in_c] = CLASS_SHORT
    return Clusters(label=label, kind=kind)


class ClusterView:
    """The Li clusters of one topology and what follows from them.

    Parameters
    ----------
    graph : kmc.graph.Graph
    phase : ndarray of uint8
        Site phases (copied).
    face : ndarray of int8
        Electrode face of every site (FACE_*).
    contact : ndarray of bool
        Electrode-face sites in contact with their electrode (copied).
    shape, periodic : tuple
        Lattice shape (nx, ny, nz) and periodicity per axis (for cluster extents).
    """

    def __init__(self, graph, phase, face, contact, shape, periodic):
        self.graph, self.face, self.shape, self.periodic = graph, face, shape, periodic
        self.phase = phase.copy()
        self.contact = contact.copy()
        self.metal = self.phase == LI
        self.clusters = label_clusters(graph, self.metal, face, self.contact)

    @property
    def label(self) -> np.ndarray:
        """Cluster id of every site (-1 off metal)."""
        return self.clusters.label

    @property
    def kind(self) -> np.ndarray:
        """Class of every cluster (CLASS_*)."""
        return self.clusters.kind

    @property
    def n(self) -> int:
        """Number of clusters."""
        return self.clusters.n

    @cached_property
    def site_class(self) -> np.ndarray:
        """Class of every site's cluster (int8; -1 off metal)."""
        out = np.full(self.phase.size, -1, np.int8)
        out[self.metal] = self.kind[self.label[self.metal]]
        return out

    @cached_property
    def anchored(self) -> np.ndarray:
        """Metal sites whose cluster touches an electrode (bool)."""
        return self.metal & (self.site_class != CLASS_FLOATING)

    @cached_property
    def extent(self) -> np.ndarray:
        """Extent [m] of every cluster along x, y, z in sites' worth (the crack length a of the
        Griffith criterion, MODEL.md 5.2), shape (n_clusters, 3). Along a periodic axis the
        extent is the axis length less the largest empty gap (a cluster across the seam is
        measured whole)."""
        h = self.graph.spacing
        metal = np.flatnonzero(self.metal)
        n = self.clusters.n
        out = np.zeros((n, 3))
        if metal.size == 0:
            return out
        idx = np.rint(self.graph.positions[metal] / h - 0.5).astype(np.intp)
        lab = self.label[metal]
        for ax in range(3):
            size = self.shape[ax]
            occ = np.zeros((n, size), bool)
            occ[lab, idx[:, ax]] = True
            rows, cols = np.nonzero(occ)  # sorted by row, then column
            first = np.r_[True, rows[1:] != rows[:-1]]
            last = np.r_[rows[1:] != rows[:-1], True]
            gap = np.zeros(rows.size, np.intp)
            gap[~first] = cols[~first] - cols[:-1][~first[1:]] - 1
            if self.periodic[ax]:  # wrap-around gap, stored on each row's first entry
                gap[first] = cols[first] + size - cols[last] - 1
                largest = np.zeros(n, np.intp)
                np.maximum.at(largest, rows, gap)
                out[:, ax] = size - largest
            else:
                lo = np.full(n, size)
                hi = np.zeros(n, np.intp)
                np.minimum.at(lo, rows, cols)
                np.maximum.at(hi, rows, cols)
                out[:, ax] = hi - lo + 1
        return out * h

    @cached_property
    def width(self) -> np.ndarray:
        """Width [m] of every cluster, its smallest extent across its long axis (MODEL.md 10.6):
        the second largest of its (x, y, z) extents in 3D, the extent along x in a 2D cell
        (ny = 1, growth along z). Shape (n_clusters,)."""
        if self.shape[1] == 1:
            return self.extent[:, 0].copy()
        return np.sort(self.extent, axis=1)[:, 1]

    @cached_property
    def reservoir_distance(self) -> np.ndarray:
        """Li sites from each Li site to its electrode reservoir through Li (1 on a face site in
        contact; -1 if not anchored): unweighted shortest paths from one virtual node joined
        to every Li face site in contact."""
        g, n = self.graph, self.phase.size
        src, dst = g.sources, g.indices
        keep = self.metal[src] & self.metal[dst]
        face = np.flatnonzero(self.metal & (touching_faces(self.face, self.contact) != FACE_NONE))
        rows = np.concatenate([src[keep], np.full(face.size, n)])
        cols = np.concatenate([dst[keep], face])
        adj = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n + 1, n + 1))
        d = csgraph.shortest_path(adj, directed=False, unweighted=True, indices=n)[:n]
        return np.where(np.isfinite(d), d, -1).astype(np.intp)


class ClusterTracker:
    """The clusters of a run: the incremental union-find and one :class:`ClusterView` per
    topology (phases and contacts), labelled on first use after each change.

    Parameters
    ----------
    graph : kmc.graph.Graph
    face : ndarray of int8
    shape, periodic : tuple
        Lattice shape and periodicity (for extents).
    engine : {"cython", "reference"}
        The union-find implementation.
    """

    def __init__(self, graph, face, shape, periodic, engine="cython"):
        self.graph, self.face, self.shape, self.periodic = graph, face, shape, periodic
        self.engine = engine
        self.labellings = 0  # views computed (the profile reports it: once per topology)
        self._view = None
        self.union_find = None

    def reset(self, phase) -> None:
        """Start the union-find afresh from the Li sites of ``phase``."""
        if self.engine == "cython":
            cs = compiled("_clusters").ClusterSet(self.graph.indptr, self.graph.indices, self.face)
        else:
            from .reference import ReferenceClusters
            cs = ReferenceClusters(self.graph.indptr, self.graph.indices, self.face)
        for s in np.flatnonzero(phase == LI):
            cs.add(int(s))
        self.union_find = cs
        self._view = None

    def add(self, site: int) -> bool:
        """``site`` became Li; True if that joined the electrodes (a short)."""
        return bool(self.union_find.add(site))

    def remove(self, site: int) -> None:
        """``site`` stopped being Li."""
        self.union_find.remove(site)

    def shorted(self) -> bool:
        """True if the union-find joins both electrodes."""
        return bool(self.union_find.shorted())

    def view(self, phase, contact) -> ClusterView:
        """The labelled clusters of ``phase`` and ``contact``, computed once per topology."""
        v = self._view
        if v is None or not (np.array_equal(v.phase, phase) and np.array_equal(v.contact, contact)):
            v = self._view = ClusterView(self.graph, phase, self.face, contact, self.shape,
                                         self.periodic)
            self.labellings += 1
        return v


# --- short circuit: networkx percolation of Li between the electrodes (MODEL.md section 7) ---

@dataclass
class ShortPath:
    """The networkx shortest Li path between the electrodes: its site ids, the fraction of its
    edges that cross a grain boundary [-] and its tortuosity [-]: the geometric length of the
    shortest Li path over the electrolyte thickness (:func:`short_path`)."""

    sites: np.ndarray
    gb_fraction: float
    tortuosity: float


def li_graph(graph, mask, face) -> nx.Graph:
    """networkx graph of the ``mask`` sites with electrode nodes "A" and "C" joined to the
    masked sites on the electrode faces."""
    src, dst = graph.sources, graph.indices
    G = nx.Graph()
    G.add_nodes_from(np.flatnonzero(mask).tolist())
    keep = mask[src] & mask[dst] & (src < dst)
    G.add_edges_from(zip(src[keep].tolist(), dst[keep].tolist()))
    for name, f in (("A", FACE_A), ("C", FACE_C)):
        on = np.flatnonzero(mask & (face == f))
        if on.size:
            G.add_edges_from((name, int(s)) for s in on)
    return G


def short_path(graph, metal, face, gb_edge, thickness: float, diagonal=None):
    """networkx shortest Li path A -> C (:class:`ShortPath`), or None if Li does not join the
    electrodes. ``gb_edge``: edges that cross a grain boundary; ``thickness`` L [m].

    The tortuosity is the length of the shortest Li path over L. Through nearest neighbours
    only, a straight crack inclined at 45 degrees would measure sqrt(2) too long (a staircase);
    with ``diagonal`` (:func:`kmc.crack_path.diagonal_steps` of the lattice) a step to a
    diagonal Li neighbour that shares a Li corner with it counts sqrt(2) h, as the crack it
    approximates, so the length is the Li's geometric (octile) length: exact for straight
    paths along the axes and at 45 degrees, at most 8% long between."""
    G = li_graph(graph, metal, face)
    if not (G.has_node("A") and G.has_node("C") and nx.has_path(G, "A", "C")):
        return None
    path = np.asarray(nx.shortest_path(G, "A", "C")[1:-1], dtype=np.intp)
    gb = []
    for u, v in zip(path[:-1], path[1:]):
        row = slice(graph.indptr[u], graph.indptr[u + 1])
        gb.append(bool(gb_edge[row][graph.indices[row] == v][0]))
    steps = path.size - 1.0
    if diagonal is not None:
        nx.set_edge_attributes(G, 1.0, "w")
        for electrode in ("A", "C"):  # the electrodes' links add no length
            nx.set_edge_attributes(G, {(electrode, v): 0.0 for v in G[electrode]}, "w")
        d = diagonal
        ok = metal[d.source] & metal[d.target] & metal[d.corner].any(axis=1) & (d.source < d.target)
        G.add_weighted_edges_from(zip(d.source[ok].tolist(), d.target[ok].tolist(),
                                      [math.sqrt(2.0)] * int(ok.sum())), weight="w")
        steps = nx.shortest_path_length(G, "A", "C", weight="w")
    return ShortPath(sites=path, gb_fraction=float(np.mean(gb)) if gb else 0.0,
                     tortuosity=(steps + 1.0) * graph.spacing / thickness)


def check_union_find(tracker: ClusterTracker, phase, t: float):
    """networkx and the union-find must agree on the Li clusters and the short; returns
    (networkx short, number of clusters).

    Raises
    ------
    EngineConsistencyError
        If they disagree.
    """
    G = li_graph(tracker.graph, phase == LI, tracker.face)
    nx_short = G.has_node("A") and G.has_node("C") and nx.has_path(G, "A", "C")
    G.remove_nodes_from([n for n in ("A", "C") if G.has_node(n)])
    labels = tracker.union_find.labels()
    comps = list(nx.connected_components(G))
    roots = [{int(labels[s]) for s in comp} for comp in comps]
    same = all(len(r) == 1 for r in roots) and len({next(iter(r)) for r in roots}) == len(comps)
    if not same or nx_short != tracker.shorted():
        raise EngineConsistencyError(
            f"t = {t:.6g} s: union-find and networkx disagree ({len(comps)} networkx clusters, "
            f"short {nx_short} vs {tracker.shorted()})")
    return nx_short, len(comps)
