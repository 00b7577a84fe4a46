# cython: language_level=3
"""Python-visible wrapper of the C sum tree in ``_core.pxd``, for tests and tools.

The kernels use the inline C functions directly; this class exists so that the exact same
code can be property-tested (VALIDATION.md A8) and compared with :mod:`kmc.reference`.
"""
import numpy as np
cimport numpy as cnp
from _core cimport tree_set, tree_select, tree_rebuild_parents


def capacity(Py_ssize_t n):
    """Smallest power of two >= max(n, 1): the leaf capacity P of a tree over n leaves."""
    cdef Py_ssize_t p = 1
    while p < n:
        p <<= 1
    return p


cdef class SumTree:
    """Binary sum tree over ``n`` non-negative propensities [1/s].

    Parameters
    ----------
    n : int
        Number of leaves (sites or events).
    """
    cdef readonly Py_ssize_t n, P
    cdef double[::1] tree

    def __cinit__(self, Py_ssize_t n):
        if n < 1:
            raise ValueError(f"SumTree needs at least one leaf, got n = {n}")
        self.n = n
        self.P = capacity(n)
        self.tree = np.zeros(2 * self.P, dtype=np.float64)

    def set(self, Py_ssize_t i, double value):
        """Set leaf ``i`` to ``value`` (>= 0, finite) and update its ancestors."""
        if not 0 <= i < self.n:
            raise IndexError(f"leaf {i} out of range 0..{self.n - 1}")
        if not (value >= 0.0 and value < float("inf")):
            raise ValueError(f"propensity must be finite and >= 0, got {value}")
        value += 0.0  # -0.0 -> +0.0
        tree_set(&self.tree[0], self.P, i, value)

    def rebuild(self, values):
        """Set all leaves from ``values`` and recompute every parent from scratch."""
        v = np.ascontiguousarray(values, dtype=np.float64)
        if v.shape != (self.n,):
            raise ValueError(f"expected {self.n} values, got shape {v.shape}")
        if not np.all(np.isfinite(v) & (v >= 0.0)):
            raise ValueError("propensities must be finite and >= 0")
        arr = np.asarray(self.tree)
        arr[self.P:self.P + self.n] = v + 0.0  # -0.0 -> +0.0
        arr[self.P + self.n:] = 0.0
        tree_rebuild_parents(&self.tree[0], self.P)

    def select(self, double u):
        """Leaf chosen by ``u`` in (0, 1]: leaf i with probability k_i / R."""
        if not (0.0 < u <= 1.0):
            raise ValueError(f"u must lie in (0, 1], got {u}")
        if self.tree[1] <= 0.0:
            raise ValueError("total propensity is zero: nothing to select")
        return tree_select(&self.tree[0], self.P, u * self.tree[1])

    @property
    def total(self):
        """Total propensity R [1/s] (the root)."""
        return self.tree[1]

    @property
    def leaves(self):
        """Copy of the leaf values."""
        return np.array(self.tree[self.P:self.P + self.n])

    @property
    def nodes(self):
        """Copy of the whole node array (index 0 unused, root at 1)."""
        return np.array(self.tree)
