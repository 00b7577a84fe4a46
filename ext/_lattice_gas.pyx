# cython: language_level=3
"""Lattice-gas kMC kernel: particles hop to empty neighbours on a CSR graph.

Two-level rejection-free selection (BKL / Gillespie direct method):

1. the sum tree holds the total propensity of every *occupied site*,
   ``k_s = sum_{e in row s, site j(e) empty} k_e`` (an empty site has none and needs no leaf:
   leaf ``p`` belongs to particle ``p``, so the tree scales with the number of mobile
   particles, not with the lattice, and stays in cache at low coverage); ``u1*R`` picks the
   site;
2. a fresh ``u2`` picks the hop within the site by a linear scan over its edges;
3. ``dt = -ln(u0)/R``. If ``t + dt`` would pass ``t_stop`` (a protocol change or an
   observation time) the clock is set to ``t_stop`` and no event fires: by memorylessness
   the caller may change rates and draw again, which is exact for piecewise-constant rates.

After a hop i -> j only the sites whose propensity can change are recomputed: i, j and
their neighbours. The per-edge rates ``k_e`` [1/s] carry all the physics (Arrhenius
barrier, site-energy difference, field bias) and are computed in Python
(:mod:`kmc.lattice_gas`); the kernel only sees floats and index lists (SPPARKS' split of
"app" and "solver"). :mod:`kmc.reference` is the pure-Python twin of this file.
"""
import numpy as np
cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.math cimport log
from libc.stdint cimport int32_t, int64_t, uint8_t
from numpy.random cimport bitgen_t
from _core cimport uniform_pos, tree_set, tree_select, tree_rebuild_parents

from _codes cimport REACHED_TIME, REACHED_EVENTS, DEBUG_MISMATCH

from kmc.codes import initial_displacement, initial_particle_sites, validate_csr

ctypedef cnp.intp_t intp_t


cdef class LatticeGasKernel:
    """State and event loop of the lattice gas.

    Parameters
    ----------
    indptr, indices : ndarray of int
        CSR adjacency of a symmetric site graph (row ``s`` lists the neighbours of site ``s``);
        checked by :func:`kmc.codes.validate_csr`. Site ids are stored as int32 (half the
        memory traffic of intp; graphs up to 2**31 sites).
    edge_rate : ndarray of float64, shape (n_edges,)
        Hop rate [1/s] of a particle along each directed edge when the target is empty.
    occupancy : ndarray of uint8, shape (n_sites,)
        1 where a particle sits. Copied.
    bit_generator : numpy.random.BitGenerator
        Source of uniforms (its C ``next_double`` is called under ``nogil``).
    edge_vectors : ndarray of float64, shape (n_edges, 3), optional
        Displacement [m] of each directed edge (periodic images resolved). When given, the
        kernel accumulates the unwrapped displacement of every particle.
    particle_sites : ndarray of intp, optional
        Site of each particle id (default: occupied sites in increasing order). Passing the
        ``particle_sites`` and ``displacement`` of a saved kernel, with its bit generator's
        ``state``, ``time`` and ``n_events``, resumes it bit for bit.
    displacement : ndarray of float64, shape (n_particles, 3), optional
        Initial unwrapped displacements [m] (default 0).
    """
    cdef:
        const intp_t[::1] indptr
        const int32_t[::1] indices
        double[::1] edge_rate
        uint8_t[::1] occ
        int32_t[::1] pid
        int32_t[::1] psite
        const double[:, ::1] edge_vec
        double[:, ::1] disp
        double[::1] tree
        double[::1] scratch
        bint track
        bitgen_t* rng
        object bitgen
        readonly Py_ssize_t n_sites, n_edges, n_particles, P
        public double time
        public int64_t n_events

    def __cinit__(self, indptr, indices, edge_rate, occupancy, bit_generator, edge_vectors=None,
                  particle_sites=None, displacement=None):
        validate_csr(indptr, indices)
        self.indptr = np.ascontiguousarray(indptr, dtype=np.intp)
        if len(indptr) - 1 >= 2**31:
            raise ValueError("graphs of 2**31 sites or more are not supported (int32 site ids)")
        self.indices = np.ascontiguousarray(indices, dtype=np.int32)
        self.n_sites = self.indptr.shape[0] - 1
        self.n_edges = self.indices.shape[0]
        occ = np.ascontiguousarray(occupancy, dtype=np.uint8).copy()
        if occ.shape != (self.n_sites,):
            raise ValueError(f"occupancy must have shape ({self.n_sites},), got {occ.shape}")
        self.occ = occ
        pid = np.full(self.n_sites, -1, dtype=np.int32)
        sites = initial_particle_sites(occ, particle_sites)
        pid[sites] = np.arange(sites.size, dtype=np.int32)
        self.pid = pid
        self.psite = sites.astype(np.int32)
        self.n_particles = sites.size
        self.track = edge_vectors is not None
        if self.track:
            ev = np.ascontiguousarray(edge_vectors, dtype=np.float64)
            if ev.shape != (self.n_edges, 3):
                raise ValueError(f"edge_vectors must have shape ({self.n_edges}, 3), got {ev.shape}")
            self.edge_vec = ev
        else:
            self.edge_vec = np.zeros((1, 3))
        self.disp = np.zeros((max(self.n_particles, 1), 3))
        if displacement is not None:
            np.asarray(self.disp)[:self.n_particles] = initial_displacement(displacement, self.n_particles)
        self.P = 1
        while self.P < self.n_particles:
            self.P <<= 1
        self.tree = np.zeros(2 * self.P)
        self.scratch = np.zeros(2 * self.P)
        self.bitgen = bit_generator
        self.rng = <bitgen_t*> PyCapsule_GetPointer(bit_generator.capsule, "BitGenerator")
        self.time = 0.0
        self.n_events = 0
        self.edge_rate = np.zeros(self.n_edges)
        self.set_edge_rates(edge_rate)

    def set_edge_rates(self, edge_rate):
        """Replace all hop rates [1/s] (e.g. at a protocol change) and rebuild the tree."""
        r = np.ascontiguousarray(edge_rate, dtype=np.float64)
        if r.shape != (self.n_edges,):
            raise ValueError(f"edge_rate must have shape ({self.n_edges},), got {r.shape}")
        if not np.all(np.isfinite(r) & (r >= 0.0)):
            raise ValueError("edge rates must be finite and >= 0")
        np.asarray(self.edge_rate)[:] = r
        self._fill(self.tree)

    cdef inline double site_rate(self, Py_ssize_t s) noexcept nogil:
        """Propensity [1/s] of site s: sum of its hop rates to empty neighbours."""
        cdef double r = 0.0
        cdef Py_ssize_t e
        if not self.occ[s]:
            return 0.0
        for e in range(self.indptr[s], self.indptr[s + 1]):
            if not self.occ[self.indices[e]]:
                r += self.edge_rate[e]
        return r

    cdef void _fill(self, double[::1] tree) noexcept nogil:
        """Compute every leaf from scratch and rebuild the parents."""
        cdef Py_ssize_t p
        for p in range(self.n_particles):
            tree[self.P + p] = self.site_rate(self.psite[p])
        for p in range(self.n_particles, self.P):
            tree[self.P + p] = 0.0
        tree_rebuild_parents(&tree[0], self.P)

    cdef bint _consistent(self) noexcept nogil:
        """Rebuild into scratch space and compare bitwise with the live tree."""
        cdef Py_ssize_t k
        self._fill(self.scratch)
        for k in range(1, 2 * self.P):
            if self.scratch[k] != self.tree[k]:
                return False
        return True

    def check(self):
        """True if the live tree equals a from-scratch rebuild (bitwise)."""
        return bool(self._consistent())

    def run(self, double t_stop, int64_t max_events, int64_t debug_every=0, event_log=None):
        """Advance the clock to ``t_stop`` [s] or by ``max_events`` events, whichever is first.

        Parameters
        ----------
        t_stop : float
            Next protocol change or observation time [s]; the clock lands on it exactly.
        max_events : int
            Upper bound on events fired in this call.
        debug_every : int
            If > 0, rebuild all propensities from scratch every ``debug_every`` events (counted
            over the whole run) and compare bitwise with the tree.
        event_log : tuple of (intp[:], intp[:], float64[:]), optional
            Arrays of length >= ``max_events`` receiving source site, target site and the
            clock after each event.

        Returns
        -------
        status : int
            ``REACHED_TIME``, ``REACHED_EVENTS`` or ``DEBUG_MISMATCH`` (see :mod:`kmc.codes`;
            the last also when a hop scan finds no event, which only a stale tree can cause).
        n_fired : int
            Events fired in this call.
        """
        cdef intp_t[::1] log_src, log_dst
        cdef double[::1] log_t
        cdef bint logging = event_log is not None
        if not t_stop >= self.time:
            raise ValueError(f"t_stop = {t_stop!r} s lies before the clock ({self.time!r} s)")
        if logging:
            log_src, log_dst, log_t = event_log
            if log_src.shape[0] < max_events or log_dst.shape[0] < max_events or log_t.shape[0] < max_events:
                raise ValueError("log arrays are shorter than max_events")
        cdef double* tree = &self.tree[0]
        cdef Py_ssize_t P = self.P
        cdef double R, dt, target, acc
        cdef Py_ssize_t i, j, e, chosen, s, p
        cdef int64_t n = 0
        cdef int status = REACHED_TIME
        with self.bitgen.lock, nogil:
            while True:
                if n >= max_events:
                    status = REACHED_EVENTS
                    break
                R = tree[1]
                if R <= 0.0:
                    self.time = t_stop
                    break
                dt = -log(uniform_pos(self.rng)) / R
                if self.time + dt > t_stop:
                    self.time = t_stop
                    break
                p = tree_select(tree, P, uniform_pos(self.rng) * R)
                i = self.psite[p]
                target = uniform_pos(self.rng) * tree[P + p]
                acc = 0.0
                chosen = -1
                for e in range(self.indptr[i], self.indptr[i + 1]):
                    if not self.occ[self.indices[e]] and self.edge_rate[e] > 0.0:
                        acc += self.edge_rate[e]
                        chosen = e
                        if target <= acc:
                            break
                if chosen < 0:  # impossible unless the tree is stale: report, never index -1
                    status = DEBUG_MISMATCH
                    break
                j = self.indices[chosen]
                # move the particle
                self.occ[i] = 0
                self.occ[j] = 1
                self.pid[j] = p
                self.pid[i] = -1
                self.psite[p] = j
                if self.track:
                    self.disp[p, 0] += self.edge_vec[chosen, 0]
                    self.disp[p, 1] += self.edge_vec[chosen, 1]
                    self.disp[p, 2] += self.edge_vec[chosen, 2]
                self.time += dt
                # only the particle that moved and the occupied neighbours of i and j
                # can change propensity (j itself is a neighbour of i)
                for e in range(self.indptr[i], self.indptr[i + 1]):
                    s = self.indices[e]
                    if self.occ[s]:
                        tree_set(tree, P, self.pid[s], self.site_rate(s))
                for e in range(self.indptr[j], self.indptr[j + 1]):
                    s = self.indices[e]
                    if self.occ[s]:
                        tree_set(tree, P, self.pid[s], self.site_rate(s))
                if logging:
                    log_src[n] = i
                    log_dst[n] = j
                    log_t[n] = self.time
                n += 1
                self.n_events += 1
                if debug_every > 0 and self.n_events % debug_every == 0:
                    if not self._consistent():
                        status = DEBUG_MISMATCH
                        break
        return status, n

    @property
    def occupancy(self):
        """Copy of the site occupancy (uint8, 1 = particle)."""
        return np.array(self.occ)

    @property
    def particle_sites(self):
        """Site of each particle, indexed by particle id (ids fixed at construction)."""
        return np.array(self.psite, dtype=np.intp)

    @property
    def displacement(self):
        """Copy of the unwrapped displacement [m] of every particle, shape (n_particles, 3)."""
        if not self.track:
            raise ValueError("displacements are tracked only when edge_vectors are given")
        return np.array(self.disp[:self.n_particles])

    @property
    def total_rate(self):
        """Total propensity R [1/s]."""
        return self.tree[1]

    @property
    def site_rates(self):
        """Per-site propensities [1/s] as held in the tree leaves (0 on empty sites)."""
        out = np.zeros(self.n_sites)
        out[np.asarray(self.psite)] = np.asarray(self.tree)[self.P:self.P + self.n_particles]
        return out

    @property
    def tree_nodes(self):
        """Copy of the whole sum-tree node array."""
        return np.array(self.tree)
