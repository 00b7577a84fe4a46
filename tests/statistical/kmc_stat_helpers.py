"""Helpers of the statistical tests: disjoint graph copies, pooled chi-squared, bitwise compare.

Every statistical test in this directory states its acceptance band and the probability
that a correct engine still fails it (at most 1e-4 per test) in its docstring.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

#: A max_events bound that is never reached.
NO_EVENT_LIMIT = 2**62


def disjoint_copies(indptr, indices, m, edge_vectors=None):
    """CSR graph made of ``m`` disconnected copies of one graph (block diagonal adjacency).

    A particle in copy ``c`` only ever sees sites of copy ``c``, so one particle (or a fixed
    number of particles) per copy gives ``m`` exactly independent, identically distributed
    walkers in one kernel run: no collisions, no approximation of "dilute" coverage. Site
    ``s`` of copy ``c`` is ``c * n_sites + s``; edge order inside each copy is kept.
    """
    indptr = np.asarray(indptr, dtype=np.intp)
    indices = np.asarray(indices, dtype=np.intp)
    n_sites, n_edges = indptr.size - 1, indices.size
    copy = np.arange(m, dtype=np.intp)[:, None]
    big_indptr = np.empty(m * n_sites + 1, dtype=np.intp)
    big_indptr[:-1] = (indptr[:-1][None, :] + copy * n_edges).ravel()
    big_indptr[-1] = m * n_edges
    big_indices = (indices[None, :] + copy * n_sites).ravel()
    out = [big_indptr, np.ascontiguousarray(big_indices)]
    if edge_vectors is not None:
        out.append(np.ascontiguousarray(np.tile(np.asarray(edge_vectors, dtype=float), (m, 1))))
    return tuple(out)


def pool_bins(observed, expected, min_expected=5.0):
    """Merge the bins with expected count < ``min_expected`` into one pooled bin.

    Bins are pooled from the smallest expectation upward until every bin left, the pooled one
    included, expects at least ``min_expected`` counts (the usual validity rule of Pearson's
    test). Returns the pooled ``(observed, expected)`` arrays.
    """
    observed = np.asarray(observed, dtype=float)
    expected = np.asarray(expected, dtype=float)
    order = np.argsort(expected, kind="stable")
    obs, exp = observed[order], expected[order]
    m = int(np.count_nonzero(exp < min_expected))
    if m == 0:
        return obs, exp
    while m < exp.size and exp[:m].sum() < min_expected:
        m += 1
    pooled_o = np.concatenate([[obs[:m].sum()], obs[m:]])
    pooled_e = np.concatenate([[exp[:m].sum()], exp[m:]])
    return pooled_o, pooled_e


def pearson(observed, expected, min_expected=5.0):
    """Pearson chi-squared statistic and degrees of freedom of one multinomial sample.

    ``expected`` must sum to the number of draws (probabilities times n); bins are pooled
    by :func:`pool_bins` first; dof = (number of pooled bins) - 1.
    """
    o, e = pool_bins(observed, expected, min_expected)
    assert o.size >= 2, "need at least two bins after pooling"
    return float(np.sum((o - e) ** 2 / e)), o.size - 1


def chi2_critical(dof, alpha):
    """Upper critical value of chi-squared(dof) at tail probability ``alpha``."""
    return float(stats.chi2.isf(alpha, dof))


def bitwise_equal(a, b):
    """True if two float64 arrays are identical bit for bit (distinguishes -0.0 and NaNs)."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))


def event_log(n):
    """Fresh (src, dst, time) arrays for ``run(..., event_log=...)`` of capacity ``n``."""
    return (np.full(n, -1, dtype=np.intp), np.full(n, -1, dtype=np.intp), np.full(n, np.nan))


def independent_site_rates(indptr, indices, rates, occ):
    """Propensity of every site recomputed from scratch in plain Python (same summation order
    as the kernels, so the result must agree bitwise)."""
    out = np.zeros(len(indptr) - 1)
    for s in np.flatnonzero(occ):
        r = 0.0
        for e in range(indptr[s], indptr[s + 1]):
            if not occ[indices[e]]:
                r += float(rates[e])
        out[s] = r
    return out
