"""The site graph the kernels run on: CSR adjacency plus per-edge geometry.

Sites are voxels of edge ``h`` on a square (2D) or simple-cubic (3D) lattice. They are
numbered either in C order of ``shape`` (x slowest, the last axis fastest) or along a Morton
(Z-order) curve, which keeps lattice neighbours close in memory: on 10^6-site lattices the
kernels then miss the CPU cache less often (docs/performance.md). ``Graph.grid_index`` maps
each site to its C-order cell, and :meth:`Graph.to_grid` turns per-site values into maps.
The kernels accept any graph in this form, so an imported or non-lattice graph runs the same
way.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import networkx as nx
import numpy as np


@dataclass(frozen=True)
class Graph:
    """A directed, symmetric site graph in CSR form.

    Attributes
    ----------
    indptr : ndarray of intp, shape (n_sites + 1,)
        Row pointers: the neighbours of site ``s`` are ``indices[indptr[s]:indptr[s+1]]``.
    indices : ndarray of intp, shape (n_edges,)
        Neighbour site of each directed edge.
    edge_vectors : ndarray of float64, shape (n_edges, 3)
        Displacement [m] from a site to its neighbour, periodic images resolved.
    positions : ndarray of float64, shape (n_sites, 3)
        Site centres [m].
    shape : tuple of int
        Lattice shape (empty for a non-lattice graph).
    spacing : float
        Lattice spacing h [m].
    grid_index : ndarray of intp, shape (n_sites,)
        C-order index of each site's lattice cell.
    site_data : dict of str to ndarray, shape (n_sites,)
        Per-site properties (e.g. ``grain``, ``phase``, ``gb``), contiguous, in site order.
    edge_data : dict of str to ndarray, shape (n_edges,)
        Per-edge properties (e.g. ``type``: 0 intragranular, 1 grain boundary).
    """

    indptr: np.ndarray
    indices: np.ndarray
    edge_vectors: np.ndarray
    positions: np.ndarray
    shape: tuple
    spacing: float
    grid_index: np.ndarray
    site_data: dict = field(default_factory=dict)
    edge_data: dict = field(default_factory=dict)

    @property
    def n_sites(self) -> int:
        """Number of sites."""
        return self.indptr.size - 1

    @property
    def n_edges(self) -> int:
        """Number of directed edges (twice the number of bonds)."""
        return self.indices.size

    @property
    def sources(self) -> np.ndarray:
        """Source site of every directed edge."""
        return np.repeat(np.arange(self.n_sites, dtype=np.intp), np.diff(self.indptr))

    def with_data(self, site=None, edge=None) -> "Graph":
        """A copy with per-site and per-edge arrays added (given in site / edge order)."""
        def merged(old, new, kind, n):
            out = dict(old)
            for name, values in (new or {}).items():
                values = np.ascontiguousarray(values)
                if values.shape[:1] != (n,):
                    raise ValueError(f"{kind} data {name!r} needs {n} values, got {values.shape}")
                out[name] = values
            return out
        return replace(self, site_data=merged(self.site_data, site, "site", self.n_sites),
                       edge_data=merged(self.edge_data, edge, "edge", self.n_edges))

    def from_grid(self, grid) -> np.ndarray:
        """Lattice-shaped ``grid`` (C order) as a per-site array in site order."""
        grid = np.asarray(grid)
        return np.ascontiguousarray(grid.reshape((-1,) + grid.shape[len(self.shape):])[self.grid_index])

    def edge_index(self, sources, targets) -> np.ndarray:
        """Index of the directed edge from each of ``sources`` to the matching ``targets``
        (every pair must be an edge)."""
        key = self.sources.astype(np.int64) * self.n_sites + self.indices
        order = np.argsort(key)
        wanted = np.asarray(sources, np.int64) * self.n_sites + np.asarray(targets)
        return order[np.searchsorted(key[order], wanted)]

    def to_grid(self, values) -> np.ndarray:
        """Per-site ``values`` (leading axis n_sites) arranged on the lattice, shape ``shape``."""
        values = np.asarray(values)
        out = np.empty((self.n_sites,) + values.shape[1:], dtype=values.dtype)
        out[self.grid_index] = values
        return out.reshape(self.shape + values.shape[1:])

    def to_networkx(self) -> nx.Graph:
        """Undirected networkx graph: nodes carry ``pos`` [m] and every ``site_data`` entry,
        edges carry ``vector`` [m] (from the lower to the higher site id) and every
        ``edge_data`` entry."""
        g = nx.Graph()
        names = list(self.site_data)
        columns = [self.site_data[n].tolist() for n in names]
        g.add_nodes_from(
            (s, {"pos": tuple(p), **{n: c[s] for n, c in zip(names, columns)}})
            for s, p in enumerate(self.positions.tolist())
        )
        src = self.sources
        keep = np.flatnonzero(src < self.indices)
        enames = list(self.edge_data)
        ecolumns = [self.edge_data[n][keep].tolist() for n in enames]
        vectors = self.edge_vectors[keep].tolist()
        g.add_edges_from(
            (a, b, {"vector": tuple(vectors[k]), **{n: c[k] for n, c in zip(enames, ecolumns)}})
            for k, (a, b) in enumerate(zip(src[keep].tolist(), self.indices[keep].tolist()))
        )
        return g


def morton_order(shape) -> np.ndarray:
    """C-order cell indices sorted along the Morton (Z-order) curve of ``shape``."""
    coords = np.indices(shape).reshape(len(shape), -1).astype(np.uint64)
    key = np.zeros(coords.shape[1], dtype=np.uint64)
    bits = max(int(n - 1).bit_length() for n in shape)
    for b in range(bits):
        for ax in range(len(shape)):
            key |= ((coords[ax] >> np.uint64(b)) & np.uint64(1)) << np.uint64(b * len(shape) + ax)
    return np.argsort(key, kind="stable").astype(np.intp)


def minimum_image(d, period):
    """Displacements ``d`` [m] (..., 3) wrapped to their shortest image across the periodic
    axes (``period`` [m] per axis, inf where not periodic)."""
    d = np.array(d, float)
    period = np.asarray(period, float)
    wrap = np.isfinite(period)
    d[..., wrap] -= period[wrap] * np.rint(d[..., wrap] / period[wrap])
    return d


def lattice_graph(shape, spacing: float, periodic=True, order: str = "c") -> Graph:
    """Square (2D) or simple-cubic (3D) lattice graph, built without Python loops over sites.

    Parameters
    ----------
    shape : tuple of int
        Sites along each axis (2 or 3 axes).
    spacing : float
        Lattice spacing h [m].
    periodic : bool or sequence of bool
        Periodic boundary per axis. On an open axis the boundary sites have fewer neighbours.
    order : {"c", "morton"}
        Site numbering: C order of the grid, or the cache-friendly Morton curve.

    Returns
    -------
    Graph
        Rows list neighbours axis by axis, ``+`` before ``-``; each site has at most ``2d``.
    """
    shape = tuple(int(n) for n in shape)
    d = len(shape)
    if d not in (2, 3) or min(shape) < 1:
        raise ValueError(f"shape must have 2 or 3 positive entries, got {shape}")
    if order not in ("c", "morton"):
        raise ValueError(f"order must be 'c' or 'morton', got {order!r}")
    if np.isscalar(periodic):
        periodic = (bool(periodic),) * d
    periodic = tuple(bool(p) for p in periodic[:d])
    n = int(np.prod(shape))
    idx = np.arange(n, dtype=np.intp).reshape(shape)
    coords = np.indices(shape).reshape(d, n).T
    nbrs, vecs, valid = [], [], []
    for ax in range(d):
        for step in (1, -1):
            nb = np.roll(idx, -step, axis=ax).ravel()
            ok = np.ones(n, dtype=bool)
            if not periodic[ax]:
                c = coords[:, ax] + step
                ok = (c >= 0) & (c < shape[ax])
            if shape[ax] == 1:  # a one-site-thick axis has no neighbours along it
                ok[:] = False
            v = np.zeros(3)
            v[ax] = step * spacing
            nbrs.append(nb)
            vecs.append(np.broadcast_to(v, (n, 3)))
            valid.append(ok)
    grid_index = morton_order(shape) if order == "morton" else np.arange(n, dtype=np.intp)
    site_of_cell = np.empty(n, dtype=np.intp)
    site_of_cell[grid_index] = np.arange(n, dtype=np.intp)
    nbrs = site_of_cell[np.stack(nbrs, axis=1)[grid_index]]
    vecs = np.stack(vecs, axis=1)[grid_index]
    valid = np.stack(valid, axis=1)[grid_index]
    counts = valid.sum(axis=1)
    indptr = np.zeros(n + 1, dtype=np.intp)
    np.cumsum(counts, out=indptr[1:])
    positions = np.zeros((n, 3))
    positions[:, :d] = (coords[grid_index] + 0.5) * spacing  # site centres
    return Graph(
        indptr=indptr,
        indices=np.ascontiguousarray(nbrs[valid], dtype=np.intp),
        edge_vectors=np.ascontiguousarray(vecs[valid]),
        positions=positions,
        shape=shape,
        spacing=float(spacing),
        grid_index=grid_index,
    )
