"""Pure-Python reference implementation of the kMC engine (sum tree + lattice-gas loop).

A line-by-line twin of ``ext/_core.pxd`` and ``ext/_lattice_gas.pyx`` for tests at small
sizes: same tree layout, same selection rule, same order of random draws, same floating-point
operations, so that for a fixed seed both pick the same events at the same times (bitwise).
It is slow (~1e5 events/s) and exists only to be read and compared against.
Of the package it imports only :mod:`kmc.codes`, the codes and input checks the kernels share.
"""
from __future__ import annotations

import math

import numpy as np

from .codes import (CH_CREEP, CH_DETACH, CH_DETRAP, CH_DETRAP_ELECTRON, CH_DETRAP_NUCLEATE,
                    CH_ELECTRON, CH_FRACTURE, CH_HEAL, CH_NUCLEATE, CH_TRAP, DEBUG_MISMATCH,
                    FLAG_A, FLAG_C, LI, N_CHANNEL_KINDS, REACHED_EVENTS, REACHED_TIME, RES_A,
                    RES_C, SE, TOP_BLOCKED, TOP_CONTACT, TOP_CREPT, TOP_EMPTIED, TOP_FIRST,
                    TOP_FULL, TOP_GROWN, TOP_NONE, TOP_TRAP, TOPOLOGY_CHANGED, VOID,
                    check_channels, initial_displacement, initial_particle_sites, validate_csr)


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
        return {1: FLAG_A, 2: FLAG_C}.get(self.face[s], 0)

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
        return self.flags[r] == FLAG_A | FLAG_C

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
        return any(self.active[s] and self.parent[s] == s and self.flags[s] == FLAG_A | FLAG_C
                   for s in range(self.n_sites))


class ReferencePlating:
    """Pure-Python twin of :class:`kmc._plating.PlatingKernel` (same arguments, same draws)."""

    def __init__(self, indptr, indices, phase, content, n_quanta, bit_generator, confined=True):
        validate_csr(indptr, indices)
        self.indptr = [int(x) for x in indptr]
        self.indices = [int(x) for x in indices]
        self.n_sites = len(self.indptr) - 1
        self.phase = [int(x) for x in np.asarray(phase, dtype=np.uint8)]
        self.content = [int(x) for x in np.asarray(content, dtype=np.int32)]
        if len(self.phase) != self.n_sites or len(self.content) != self.n_sites:
            raise ValueError(f"phase and content must have shape ({self.n_sites},)")
        if n_quanta < 1:
            raise ValueError(f"n_quanta must be >= 1, got {n_quanta}")
        ph, ct = np.asarray(self.phase), np.asarray(self.content)
        if ct.min(initial=0) < 0 or ct.max(initial=0) > n_quanta or np.any(ct[ph != LI] != 0):
            raise ValueError(f"content must lie in 0..{n_quanta} on metal sites and be 0 elsewhere")
        self.n_quanta, self.confined = int(n_quanta), bool(confined)
        self.relief = [0] * self.n_sites
        self.gen = np.random.Generator(bit_generator)
        self.time, self.n_events = 0.0, 0
        self.reservoir_a = self.reservoir_c = 0
        self.counts = [0] * N_CHANNEL_KINDS
        self.last_change, self.last_site, self.last_channel = TOP_NONE, -1, -1
        self.set_channels([], [], [], [], [], [], [], [], [], [], [])

    def set_channels(self, kind, rate, a, b, src_lo, src_hi, snk_lo, snk_hi, pool_metal, pool_se, pool_cum):
        r = np.asarray(rate, dtype=float)
        check_channels(self.n_sites, kind, r, a, b, src_lo, src_hi, snk_lo, snk_hi, pool_metal,
                       pool_se, pool_cum)
        self.kind = [int(x) for x in kind]
        self.a, self.b = [int(x) for x in a], [int(x) for x in b]
        self.src_lo, self.src_hi = [int(x) for x in src_lo], [int(x) for x in src_hi]
        self.snk_lo, self.snk_hi = [int(x) for x in snk_lo], [int(x) for x in snk_hi]
        self.pool_metal = [int(x) for x in pool_metal]
        self.pool_se = [int(x) for x in pool_se]
        self.pool_cum = [float(x) for x in pool_cum]
        self.n_channels = len(self.kind)
        self.tree = SumTree(self.n_channels)
        self.P = self.tree.P
        self.tree.rebuild(r.tolist())

    def set_empty(self, site, phase):
        if not 0 <= site < self.n_sites or self.content[site] != 0 or self.phase[site] == SE:
            raise ValueError(f"site {site} is not an empty Li or VOID site")
        if phase not in (LI, VOID):
            raise ValueError(f"phase {phase} must be LI ({LI}) or VOID ({VOID})")
        self.phase[site] = int(phase)

    def set_relief(self, relief):
        r = [int(x) for x in np.asarray(relief, dtype=np.int8)]
        if len(r) != self.n_sites or any(x not in (0, RES_A, RES_C) for x in r):
            raise ValueError(f"relief must hold {self.n_sites} values in 0, -1, -2")
        self.relief = r

    def _u(self):
        return 1.0 - self.gen.random()

    def _pick(self, lo, hi):
        target = self._u() * self.pool_cum[hi - 1]
        while lo < hi - 1:
            mid = (lo + hi - 1) // 2
            if self.pool_cum[mid] >= target:
                hi = mid + 1
            else:
                lo = mid + 1
        return lo

    def _take(self, m):
        if m == RES_A:
            self.reservoir_a -= 1
            return TOP_NONE
        if m == RES_C:
            self.reservoir_c -= 1
            return TOP_NONE
        self.content[m] -= 1
        if self.content[m] == 0:
            self.phase[m] = VOID
            self.last_site = m
            return TOP_EMPTIED
        return TOP_NONE

    def _give(self, m, s):
        if m == RES_A:
            self.reservoir_a += 1
            return TOP_NONE
        if m == RES_C:
            self.reservoir_c += 1
            return TOP_NONE
        if self.content[m] < self.n_quanta:
            self.content[m] += 1
            if self.content[m] == self.n_quanta:
                self.last_site = m
                return TOP_FULL
            if self.content[m] == 1:
                self.last_site = m
                return TOP_FIRST
            return TOP_NONE
        if self.relief[m] != 0:
            return self._give(self.relief[m], -1)
        if not self.confined and s >= 0 and self.phase[s] == SE:
            self.phase[s], self.content[s], self.last_site = LI, 1, s
            return TOP_GROWN
        voids = [t for t in self.indices[self.indptr[m]:self.indptr[m + 1]] if self.phase[t] == VOID]
        if not voids:
            self.last_site = m
            return TOP_BLOCKED
        k = min(int(self._u() * len(voids)), len(voids) - 1)
        t = voids[k]
        self.phase[t], self.content[t], self.last_site = LI, 1, t
        return TOP_GROWN

    def _move(self, src, snk, s):
        if src == snk:
            return TOP_NONE
        given = self._give(snk, s)
        if given == TOP_BLOCKED:
            return given
        site = self.last_site
        taken = self._take(src)
        if given != TOP_NONE:
            self.last_site = site
            return given
        return taken

    def set_content(self, site, value):
        if not 0 <= site < self.n_sites or self.phase[site] != LI:
            raise ValueError(f"site {site} is not a Li metal site")
        if not 0 <= value <= self.n_quanta:
            raise ValueError(f"content {value} must lie in 0..{self.n_quanta}")
        self.content[site] = int(value)

    def run(self, t_stop, max_events):
        if not t_stop >= self.time:
            raise ValueError(f"t_stop = {t_stop!r} s lies before the clock ({self.time!r} s)")
        n, status = 0, REACHED_TIME
        self.last_change, self.last_site, self.last_channel = TOP_NONE, -1, -1
        while True:
            if n >= max_events:
                status = REACHED_EVENTS
                break
            R = self.tree.total
            if R <= 0.0:
                self.time = t_stop
                break
            dt = -math.log(self._u()) / R
            if self.time + dt > t_stop:
                self.time = t_stop
                break
            c = self.tree.select(self._u() * R)
            self.time += dt
            n += 1
            self.n_events += 1
            k = self.kind[c]
            self.counts[k] += 1
            if k == CH_FRACTURE:
                self.phase[self.a[c]] = LI
                if self.b[c] >= 0 and self.phase[self.b[c]] == SE:  # a diagonal step's corner
                    self.phase[self.b[c]] = LI
                self.last_site = self.a[c]
                change = TOP_GROWN
            elif k == CH_CREEP:
                change = self._move(self.a[c], self.b[c], -1)
                if change == TOP_NONE:
                    change = TOP_CREPT
            elif k in (CH_NUCLEATE, CH_DETRAP_NUCLEATE):
                self._take(self.b[c])
                self.phase[self.a[c]] = LI
                self.content[self.a[c]] = 1
                self.last_site = self.a[c]
                change = TOP_GROWN
            elif k in (CH_ELECTRON, CH_DETRAP_ELECTRON):
                change = self._move(self.a[c], self.b[c], -1)
                if k == CH_DETRAP_ELECTRON and change == TOP_NONE:
                    self.last_site, change = self.b[c], TOP_TRAP
            elif k in (CH_DETACH, CH_HEAL):
                self.last_site = self.a[c]
                change = TOP_CONTACT
            elif k in (CH_TRAP, CH_DETRAP):
                self.last_site = self.a[c]
                change = TOP_TRAP
            else:
                src = self._pick(self.src_lo[c], self.src_hi[c])
                snk = self._pick(self.snk_lo[c], self.snk_hi[c])
                change = self._move(self.pool_metal[src], self.pool_metal[snk], self.pool_se[snk])
            if change == TOP_BLOCKED:
                self.counts[k] -= 1
            if change != TOP_NONE:
                self.last_change, self.last_channel = change, c
                status = TOPOLOGY_CHANGED
                break
        return status, n

    @property
    def phases(self):
        return np.array(self.phase, dtype=np.uint8)

    @property
    def contents(self):
        return np.array(self.content, dtype=np.int32)

    @property
    def event_counts(self):
        return np.array(self.counts, dtype=np.int64)

    @event_counts.setter
    def event_counts(self, values):
        self.counts = [int(x) for x in values]

    @property
    def total_rate(self):
        return self.tree.total
