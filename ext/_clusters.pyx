# cython: language_level=3
"""Incremental cluster labelling of Li metal sites (union-find) with electrode flags.

Li sites form clusters (MODEL.md section 2); a cluster touching the electrode at z = 0 has flag
A, one touching z = L flag C, and a cluster with both is a short circuit (section 7). Growth
only merges clusters, so ``add`` is a union-find update (union by size, path halving: amortised
nearly O(1)) that reports at once the event that connects the electrodes. Dissolution can split
a cluster, which union-find cannot undo: ``remove`` relabels the pieces by a breadth-first
search from the removed site's neighbours (cost proportional to the cluster). networkx is the
authoritative check in the tests; :class:`kmc.reference.ReferenceClusters` is the pure-Python
twin.
"""
import numpy as np
cimport numpy as cnp
from libc.stdint cimport int8_t, int32_t, int64_t

from _codes cimport FACE_A, FACE_C, FLAG_A, FLAG_C

from kmc.codes import validate_csr

ctypedef cnp.intp_t intp_t


cdef class ClusterSet:
    """Clusters of active (metal) sites on a CSR graph.

    Parameters
    ----------
    indptr, indices : ndarray of int
        Symmetric CSR site graph.
    face : ndarray of int8, shape (n_sites,)
        1 for sites facing electrode A, 2 for electrode C, 0 elsewhere.
    """
    cdef:
        const intp_t[::1] indptr
        const int32_t[::1] indices
        const int8_t[::1] face
        intp_t[::1] parent
        intp_t[::1] size
        int8_t[::1] flags
        int8_t[::1] active
        int64_t[::1] stamp
        intp_t[::1] queue
        int64_t generation
        readonly Py_ssize_t n_sites, n_active

    def __cinit__(self, indptr, indices, face):
        validate_csr(indptr, indices)
        self.indptr = np.ascontiguousarray(indptr, dtype=np.intp)
        self.indices = np.ascontiguousarray(indices, dtype=np.int32)
        self.n_sites = self.indptr.shape[0] - 1
        f = np.ascontiguousarray(face, dtype=np.int8)
        if f.shape != (self.n_sites,) or f.min(initial=0) < 0 or f.max(initial=0) > 2:
            raise ValueError(f"face must hold {self.n_sites} values in 0, 1, 2")
        self.face = f
        self.parent = np.arange(self.n_sites, dtype=np.intp)
        self.size = np.ones(self.n_sites, dtype=np.intp)
        self.flags = np.zeros(self.n_sites, dtype=np.int8)
        self.active = np.zeros(self.n_sites, dtype=np.int8)
        self.stamp = np.zeros(self.n_sites, dtype=np.int64)
        self.queue = np.zeros(self.n_sites, dtype=np.intp)
        self.generation = 0
        self.n_active = 0

    cdef inline intp_t _find(self, intp_t s) noexcept nogil:
        while self.parent[s] != s:
            self.parent[s] = self.parent[self.parent[s]]  # path halving
            s = self.parent[s]
        return s

    cdef inline int8_t _face_flag(self, intp_t s) noexcept nogil:
        if self.face[s] == FACE_A:
            return FLAG_A
        if self.face[s] == FACE_C:
            return FLAG_C
        return 0

    def find(self, Py_ssize_t s):
        """Root (cluster id) of site ``s``; -1 if the site is not metal."""
        if not self.active[s]:
            return -1
        return self._find(s)

    def add(self, Py_ssize_t s):
        """Make site ``s`` metal and merge it with its metal neighbours.

        Returns
        -------
        bool
            True if the cluster of ``s`` now touches both electrodes (a short circuit).
        """
        cdef intp_t r, t, rt, e
        if self.active[s]:
            raise ValueError(f"site {s} is already metal")
        self.active[s] = 1
        self.n_active += 1
        self.parent[s] = s
        self.size[s] = 1
        self.flags[s] = self._face_flag(s)
        r = s
        for e in range(self.indptr[s], self.indptr[s + 1]):
            t = self.indices[e]
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

    def remove(self, Py_ssize_t s):
        """Make site ``s`` non-metal and relabel the pieces its cluster may split into.

        Returns
        -------
        int
            Number of clusters the old cluster leaves behind (0 if ``s`` was alone).
        """
        cdef intp_t e, t, u, v, f, head, tail, root
        cdef int pieces = 0
        if not self.active[s]:
            raise ValueError(f"site {s} is not metal")
        self.active[s] = 0
        self.n_active -= 1
        self.parent[s] = s
        self.size[s] = 1
        self.flags[s] = 0
        self.generation += 1
        for e in range(self.indptr[s], self.indptr[s + 1]):
            t = self.indices[e]
            if not self.active[t] or self.stamp[t] == self.generation:
                continue
            # breadth-first search of the piece containing t; t becomes its root
            pieces += 1
            root = t
            head, tail = 0, 1
            self.queue[0] = t
            self.stamp[t] = self.generation
            self.flags[root] = 0
            while head < tail:
                u = self.queue[head]
                head += 1
                self.parent[u] = root
                self.flags[root] |= self._face_flag(u)
                for f in range(self.indptr[u], self.indptr[u + 1]):
                    v = self.indices[f]
                    if self.active[v] and self.stamp[v] != self.generation:
                        self.stamp[v] = self.generation
                        self.queue[tail] = v
                        tail += 1
            self.size[root] = tail
        return pieces

    def labels(self):
        """Cluster root of every site (-1 for non-metal sites)."""
        out = np.full(self.n_sites, -1, dtype=np.intp)
        cdef Py_ssize_t s
        for s in range(self.n_sites):
            if self.active[s]:
                out[s] = self._find(s)
        return out

    def flags_of(self, Py_ssize_t s):
        """Electrode flags of the cluster of ``s``: 1 touches A, 2 touches C, 3 both."""
        if not self.active[s]:
            return 0
        return int(self.flags[self._find(s)])

    def shorted(self):
        """True if any cluster touches both electrodes."""
        cdef Py_ssize_t s
        for s in range(self.n_sites):
            if self.active[s] and self.parent[s] == s and self.flags[s] == FLAG_A | FLAG_C:
                return True
        return False
