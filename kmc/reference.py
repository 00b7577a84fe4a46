"""Pure-Python reference implementation of the kMC engine (sum tree + lattice-gas loop).

A line-by-line twin of ``ext/_core.pxd`` and ``ext/_lattice_gas.pyx`` for tests at small
sizes: same tree layout, same selection rule, same order of random draws, same floating-point
operations, so that for a fixed seed both pick the same events at the same times (bitwise).
It is slow (~1e5 events/s) and exists only to be read and compared against.
"""
from __future__ import annotations

import math

import numpy as np

from .engine import (DEBUG_MISMATCH, REACHED_EVENTS, REACHED_TIME, initial_displacement,
                     initial_particle_sites, validate_csr)


class SumTree:
    """Binary sum tree in a flat list: root at 1, children of k at 2k and 2k+1, leaf i at P+i."""

    def __init__(self, n: int):
        self.n = n
        self.P = 1
        while self.P < n:
            self.P <<= 1
        self.tree = [0.0] * (2 * self.P)

    def set(self, i: int, value: float) -> None:
        """Set leaf ``i``; recompute its ancestors from their children (no drift)."""
        k = self.P + i
        if self.tree[k] == value:
            return
        self.tree[k] = value
        k >>= 1
        while k >= 1:
            self.tree[k] = self.tree[2 * k] + self.tree[2 * k + 1]
            k >>= 1

    def rebuild(self, values) -> None:
        """Set all leaves and recompute every parent bottom-up."""
        t = self.tree
        for i in range(self.P):
            t[self.P + i] = float(values[i]) if i < self.n else 0.0
        for k in range(self.P - 1, 0, -1):
            t[k] = t[2 * k] + t[2 * k + 1]

    def select(self, target: float) -> int:
        """Leaf whose cumulative interval (C_{i-1}, C_i] holds ``target`` in (0, R]."""
        t, k = self.tree, 1
        while k < self.P:
            left, right = t[2 * k], t[2 * k + 1]
            if (target <= left and left > 0.0) or right <= 0.0:
                k = 2 * k
            else:
                target -= left
                k = 2 * k + 1
        return k - self.P

    @property
    def total(self) -> float:
        """Total propensity R [1/s]."""
        return self.tree[1]


class ReferenceLatticeGas:
    """Pure-Python twin of :class:`kmc._lattice_gas.LatticeGasKernel` (same signature)."""

    def __init__(self, indptr, indices, edge_rate, occupancy, bit_generator, edge_vectors=None,
                 particle_sites=None, displacement=None):
        validate_csr(indptr, indices)
        self.indptr = [int(x) for x in indptr]
        self.indices = [int(x) for x in indices]
        self.n_sites = len(self.indptr) - 1
        self.n_edges = len(self.indices)
        self.occ = [int(x) for x in np.asarray(occupancy, dtype=np.uint8)]
        self.psite = [int(s) for s in initial_particle_sites(np.array(self.occ), particle_sites)]
        self.pid = [-1] * self.n_sites
        for p, s in enumerate(self.psite):
            self.pid[s] = p
        self.n_particles = len(self.psite)
        self.track = edge_vectors is not None
        self.edge_vec = np.asarray(edge_vectors, dtype=float).tolist() if self.track else None
        self.disp = [[0.0, 0.0, 0.0] for _ in range(self.n_particles)]
        if displacement is not None:
            self.disp = initial_displacement(displacement, self.n_particles).tolist()
        self.gen = np.random.Generator(bit_generator)  # Generator.random() is the C next_double
        self.time = 0.0
        self.n_events = 0
        self.tree = SumTree(self.n_particles)
        self.P = self.tree.P
        self.set_edge_rates(edge_rate)

    def set_edge_rates(self, edge_rate) -> None:
        """Replace all hop rates [1/s] and rebuild the tree."""
        r = np.asarray(edge_rate, dtype=float)
        if r.shape != (self.n_edges,):
            raise ValueError(f"edge_rate must have shape ({self.n_edges},), got {r.shape}")
        if not np.all(np.isfinite(r) & (r >= 0.0)):
            raise ValueError("edge rates must be finite and >= 0")
        self.edge_rate = r.tolist()
        self.tree.rebuild(self._leaves())

    def _u(self) -> float:
        return 1.0 - self.gen.random()

    def site_rate(self, s: int) -> float:
        """Propensity of site s [1/s]: sum of its hop rates to empty neighbours."""
        if not self.occ[s]:
            return 0.0
        r = 0.0
        for e in range(self.indptr[s], self.indptr[s + 1]):
            if not self.occ[self.indices[e]]:
                r += self.edge_rate[e]
        return r

    def _leaves(self):
        return [self.site_rate(s) for s in self.psite]

    def check(self) -> bool:
        """True if the tree equals a from-scratch rebuild (bitwise)."""
        fresh = SumTree(self.n_particles)
        fresh.rebuild(self._leaves())
        return fresh.tree[1:] == self.tree.tree[1:]

    def run(self, t_stop, max_events, debug_every=0, event_log=None):
        """Same contract as ``LatticeGasKernel.run``."""
        if not t_stop >= self.time:
            raise ValueError(f"t_stop = {t_stop!r} s lies before the clock ({self.time!r} s)")
        tree = self.tree
        n = 0
        while True:
            if n >= max_events:
                return REACHED_EVENTS, n
            R = tree.total
            if R <= 0.0:
                self.time = t_stop
                return REACHED_TIME, n
            dt = -math.log(self._u()) / R
            if self.time + dt > t_stop:
                self.time = t_stop
                return REACHED_TIME, n
            p = tree.select(self._u() * R)
            i = self.psite[p]
            target = self._u() * tree.tree[self.P + p]
            acc, chosen = 0.0, -1
            for e in range(self.indptr[i], self.indptr[i + 1]):
                if not self.occ[self.indices[e]] and self.edge_rate[e] > 0.0:
                    acc += self.edge_rate[e]
                    chosen = e
                    if target <= acc:
                        break
            if chosen < 0:
                return DEBUG_MISMATCH, n
            j = self.indices[chosen]
            self.occ[i], self.occ[j] = 0, 1
            self.pid[j], self.pid[i] = p, -1
            self.psite[p] = j
            if self.track:
                for a in range(3):
                    self.disp[p][a] += self.edge_vec[chosen][a]
            self.time += dt
            for site in (i, j):
                for e in range(self.indptr[site], self.indptr[site + 1]):
                    s = self.indices[e]
                    if self.occ[s]:
                        tree.set(self.pid[s], self.site_rate(s))
            if event_log is not None:
                event_log[0][n], event_log[1][n], event_log[2][n] = i, j, self.time
            n += 1
            self.n_events += 1
            if debug_every > 0 and self.n_events % debug_every == 0 and not self.check():
                return DEBUG_MISMATCH, n

    @property
    def occupancy(self):
        return np.array(self.occ, dtype=np.uint8)

    @property
    def particle_sites(self):
        return np.array(self.psite, dtype=np.intp)

    @property
    def displacement(self):
        if not self.track:
            raise ValueError("displacements are tracked only when edge_vectors are given")
        return np.array(self.disp, dtype=float).reshape(self.n_particles, 3)

    @property
    def total_rate(self):
        return self.tree.total

    @property
    def site_rates(self):
        out = np.zeros(self.n_sites)
        out[self.psite] = self.tree.tree[self.P:self.P + self.n_particles]
        return out

    @property
    def tree_nodes(self):
        return np.array(self.tree.tree)


class ReferenceClusters:
    """Pure-Python twin of :class:`kmc._clusters.ClusterSet` (same contract)."""

    def __init__(self, indptr, indices, face):
        validate_csr(indptr, indices)
        self.indptr = [int(x) for x in indptr]
        self.indices = [int(x) for x in indices]
        self.n_sites = len(self.indptr) - 1
        self.face = [int(x) for x in face]
        self.parent = list(range(self.n_sites))
        self.size = [1] * self.n_sites
        self.flags = [0] * self.n_sites
        self.active = [False] * self.n_sites
        self.n_active = 0

    def _find(self, s):
        while self.parent[s] != s:
            self.parent[s] = self.parent[self.parent[s]]
            s = self.parent[s]
        return s

    def _flag(self, s):
        return {1: 1, 2: 2}.get(self.face[s], 0)

    def _neighbours(self, s):
        return self.indices[self.indptr[s]:self.indptr[s + 1]]

    def find(self, s):
        return self._find(s) if self.active[s] else -1

    def add(self, s):
        if self.active[s]:
            raise ValueError(f"site {s} is already metal")
        self.active[s] = True
        self.n_active += 1
        self.parent[s], self.size[s], self.flags[s] = s, 1, self._flag(s)
        r = s
        for t in self._neighbours(s):
            if not self.active[t]:
                continue
            rt = self._find(t)
            if rt == r:
                continue
            if self.size[rt] > self.size[r]:
                r, rt = rt, r
            self.parent[rt] = r
            self.size[r] += self.size[rt]
            self.flags[r] |= self.flags[rt]
        return self.flags[r] == 3

    def remove(self, s):
        if not self.active[s]:
            raise ValueError(f"site {s} is not metal")
        self.active[s] = False
        self.n_active -= 1
        self.parent[s], self.size[s], self.flags[s] = s, 1, 0
        seen, pieces = set(), 0
        for t in self._neighbours(s):
            if not self.active[t] or t in seen:
                continue
            pieces += 1
            queue, head = [t], 0
            seen.add(t)
            self.flags[t] = 0
            while head < len(queue):
                u = queue[head]
                head += 1
                self.parent[u] = t
                self.flags[t] |= self._flag(u)
                for v in self._neighbours(u):
                    if self.active[v] and v not in seen:
                        seen.add(v)
                        queue.append(v)
            self.size[t] = len(queue)
        return pieces

    def labels(self):
        return np.array([self._find(s) if self.active[s] else -1 for s in range(self.n_sites)],
                        dtype=np.intp)

    def flags_of(self, s):
        return self.flags[self._find(s)] if self.active[s] else 0

    def shorted(self):
        return any(self.active[s] and self.parent[s] == s and self.flags[s] == 3
                   for s in range(self.n_sites))
