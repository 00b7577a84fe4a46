# cython: language_level=3
"""Shared C-level building blocks of the kMC kernels (header-only, all ``inline``).

* A binary sum tree of propensities in one flat ``double`` array of length ``2*P``
  (``P`` = leaf capacity, a power of two). Node ``k`` has children ``2k`` and ``2k+1``;
  the root (total rate R) is ``tree[1]``; leaf ``i`` is ``tree[P + i]``. Parents are always
  *recomputed* from their children (``tree[k] = tree[2k] + tree[2k+1]``), never incremented,
  so the tree cannot drift: after any sequence of updates it is bitwise equal to a
  from-scratch rebuild (VALIDATION.md A8).
* Uniform random numbers in (0, 1] from a numpy ``bitgen_t`` (PCG64 or Philox), without any
  Python call per draw.

The selection rule is mirrored line by line in :mod:`kmc.reference` (pure Python), so the
Cython and Python engines pick the same events for the same random stream.
"""
from numpy.random cimport bitgen_t

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define KMC_PREFETCH(p) __builtin_prefetch((const void*)(p))
    #else
    #define KMC_PREFETCH(p) ((void)0)
    #endif
    """
    void KMC_PREFETCH(const void* p) noexcept nogil


cdef inline double uniform_pos(bitgen_t* rng) noexcept nogil:
    """Uniform draw in (0, 1]: ``1 - U`` with ``U`` in [0, 1) from ``next_double``.

    u = 1 is allowed (dt = 0 has probability 2**-53); u = 0 is impossible, so the waiting
    time ``-ln(u)/R`` is always finite and ``u*R`` never selects a zero-rate leaf.
    """
    return 1.0 - rng.next_double(rng.state)


cdef inline void tree_set(double* tree, Py_ssize_t P, Py_ssize_t leaf, double value) noexcept nogil:
    """Set leaf ``leaf`` to ``value`` [1/s] and recompute its ancestors from their children.

    Returns at once if the value is unchanged (its ancestors are then already consistent).
    """
    cdef Py_ssize_t k = P + leaf
    if tree[k] == value:
        return
    tree[k] = value
    k >>= 1
    # Touch every ancestor first so their cache misses overlap instead of queueing.
    cdef Py_ssize_t a = k >> 3
    while a >= 1:
        KMC_PREFETCH(&tree[a])
        a >>= 3
    while k >= 1:
        tree[k] = tree[2 * k] + tree[2 * k + 1]
        k >>= 1


cdef inline void tree_rebuild_parents(double* tree, Py_ssize_t P) noexcept nogil:
    """Recompute every internal node from the leaves (bottom-up)."""
    cdef Py_ssize_t k
    for k in range(P - 1, 0, -1):
        tree[k] = tree[2 * k] + tree[2 * k + 1]


cdef inline Py_ssize_t tree_select(const double* tree, Py_ssize_t P, double target) noexcept nogil:
    """Leaf whose cumulative-rate interval contains ``target`` in (0, R].

    Leaf ``i`` owns the half-open interval (C_{i-1}, C_i] of length k_i, so a zero-rate leaf
    owns nothing. Rounding can leave ``target`` a hair above a subtree's sum; the descent then
    never enters a zero-sum child, so the returned leaf always has a positive rate
    (requires R = tree[1] > 0).
    """
    cdef Py_ssize_t k = 1
    cdef double left, right
    while k < P:
        # Eytzinger-layout lookahead: the 16 great-great-grandchildren of k are contiguous.
        if 16 * k < 2 * P:
            KMC_PREFETCH(&tree[16 * k])
            KMC_PREFETCH(&tree[16 * k + 8])
        left = tree[2 * k]
        right = tree[2 * k + 1]
        if (target <= left and left > 0.0) or right <= 0.0:
            k = 2 * k
        else:
            target -= left
            k = 2 * k + 1
    return k - P
