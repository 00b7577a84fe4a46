"""Property tests (hypothesis) of the sum tree and of the kernel's tree bookkeeping (VALIDATION.md A8).

These are exact (bitwise) properties, not statistical ones: no false-failure probability.
Propensities are drawn from {0} and from 1e-12 .. 1e12 (uniform and log-uniform), so sums
mix 24 decades and any drift from incremental updates would show up in the last bits.
"""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmc import reference
from kmc._sumtree import SumTree, capacity
from kmc.codes import DEBUG_MISMATCH
from kmc.engine import lattice_gas_kernel
from kmc.graph import lattice_graph
from kmc.lattice_gas import edge_rates

from kmc_stat_helpers import bitwise_equal, event_log, independent_site_rates

#: A propensity [1/s]: exactly zero, uniform in [1e-12, 1e12], or log-uniform over 24 decades.
rates = st.one_of(
    st.just(0.0),
    st.floats(1e-12, 1e12, allow_nan=False, allow_infinity=False),
    st.builds(lambda e, m: m * 10.0 ** e, st.integers(-12, 11), st.floats(1.0, 9.999)),
)

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(st.integers(1, 70).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(rates, min_size=n, max_size=n),
    st.lists(st.tuples(st.integers(0, n - 1), rates), max_size=300),
)))
def test_A8_updates_equal_rebuild(case):
    """A8: after any sequence of set() calls the node array is bitwise equal to a rebuild.

    Start from rebuild(initial), apply the updates; compare the whole node array (root,
    every internal node, padding) with SumTree(n).rebuild(final leaves) and with the
    pure-Python twin kmc.reference.SumTree rebuilt from the intended leaves (an independent
    implementation); the leaves must be exactly the last values set.
    """
    n, initial, updates = case
    tree = SumTree(n)
    tree.rebuild(initial)
    model = list(initial)
    for i, v in updates:
        tree.set(i, v)
        model[i] = v
    assert tree.P == capacity(n) and tree.P >= n and tree.P < 2 * max(n, 1)
    assert bitwise_equal(tree.leaves, model)
    fresh = SumTree(n)
    fresh.rebuild(tree.leaves)
    assert bitwise_equal(tree.nodes, fresh.nodes)
    twin = reference.SumTree(n)
    twin.rebuild(model)
    assert bitwise_equal(tree.nodes[1:], twin.tree[1:])
    assert tree.total == twin.total


@SETTINGS
@given(st.integers(1, 70).flatmap(lambda n: st.tuples(
    st.lists(rates, min_size=n, max_size=n).filter(lambda v: sum(v) > 0.0),
    st.lists(st.floats(0.0, 1.0, exclude_min=True), min_size=1, max_size=50),
)))
def test_A8_select_returns_positive_leaf_and_matches_twin(case):
    """select(u) for any u in (0, 1] returns a leaf with a positive rate, the same leaf as the
    pure-Python twin, and the leaf whose cumulative interval contains u*R up to rounding
    (C_{i-1} - tol < u*R <= C_i + tol with tol = 1e-12 R + 64 ulp(R))."""
    values, us = case
    tree = SumTree(len(values))
    tree.rebuild(values)
    twin = reference.SumTree(len(values))
    twin.rebuild(values)
    R = tree.total
    cum = np.cumsum(values)
    tol = 1e-12 * R + 64 * np.spacing(R)
    for u in us + [1.0, 5e-324]:
        i = tree.select(u)
        assert values[i] > 0.0
        assert i == twin.select(u * R)
        lo = cum[i] - values[i]
        assert lo - tol < u * R <= cum[i] + tol




@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_A8_kernel_tree_consistent_after_random_runs(data):
    """A8 in the kernel: random small 2D/3D lattices (periodic or open axes, 0 to full
    coverage, every edge rate drawn independently from `rates`, so many hops are impossible)
    run with debug_every=1 (a bitwise rebuild check after every event) in two legs with new
    rates in between. Never status 2; check() stays True; the tree equals SumTree.rebuild of
    the site propensities recomputed here in Python from the occupancy; and the pure-Python
    reference engine fires the same events (bitwise) from the same seed.
    """
    dims = data.draw(st.sampled_from([2, 3]))
    shape = tuple(data.draw(st.lists(st.integers(1, 5), min_size=dims, max_size=dims)))
    periodic = tuple(data.draw(st.lists(st.booleans(), min_size=dims, max_size=dims)))
    g = lattice_graph(shape, 1e-9, periodic)
    occ = np.array(data.draw(st.lists(st.integers(0, 1), min_size=g.n_sites, max_size=g.n_sites)),
                   dtype=np.uint8)
    legs = [np.array(data.draw(st.lists(rates, min_size=g.n_edges, max_size=g.n_edges)))
            for _ in range(2)]
    n_events = data.draw(st.integers(1, 150))
    seed = data.draw(st.integers(0, 2**63))

    kernels = {eng: lattice_gas_kernel(eng, g.indptr, g.indices, legs[0], occ,
                                       np.random.PCG64(seed), g.edge_vectors)
               for eng in ("cython", "reference")}
    logs = {eng: [] for eng in kernels}
    for leg, k in enumerate(legs):
        for eng, kern in kernels.items():
            if leg:
                kern.set_edge_rates(k)
            log = event_log(n_events)
            status, fired = kern.run(np.inf, n_events, debug_every=1, event_log=log)
            assert status != DEBUG_MISMATCH
            assert kern.check()
            logs[eng].append((status, fired, kern.time, log))
            expected = independent_site_rates(g.indptr, g.indices, k, kern.occupancy)
            assert bitwise_equal(kern.site_rates, expected)
            fresh = SumTree(max(kern.n_particles, 1))
            fresh.rebuild(expected[kern.particle_sites] if kern.n_particles else [0.0])
            assert bitwise_equal(kern.tree_nodes, fresh.nodes)
            assert int(kern.occupancy.sum()) == int(occ.sum())
    for (sc, fc, tc, lc), (sr, fr, tr, lr) in zip(logs["cython"], logs["reference"]):
        assert (sc, fc, tc) == (sr, fr, tr)
        assert np.array_equal(lc[0][:fc], lr[0][:fr]) and np.array_equal(lc[1][:fc], lr[1][:fr])
        assert bitwise_equal(lc[2][:fc], lr[2][:fr])
    assert bitwise_equal(kernels["cython"].displacement, kernels["reference"].displacement)


def test_A8_debug_check_can_fail():
    """The consistency check is not vacuous. The Cython tree is not writable from Python, so
    this uses the reference engine (same contract): a leaf nudged by one ulp makes check()
    False and run(debug_every=1) return DEBUG_MISMATCH after one event, whereas an intact
    kernel passes both. For the Cython kernel, check() must follow set_edge_rates (tree
    changed, still consistent)."""
    g = lattice_graph((5, 5), 1e-9, True)
    occ = np.zeros(g.n_sites, np.uint8)
    occ[::3] = 1
    k = edge_rates(g, attempt_frequency=1e13, barrier=0.4, temperature=300.0)
    ref = lattice_gas_kernel("reference", g.indptr, g.indices, k, occ, np.random.PCG64(3))
    assert ref.check() and ref.run(1e300, 50, debug_every=1)[0] != DEBUG_MISMATCH
    leaf = ref.P + ref.n_particles - 1  # a particle far from the next hops' neighbourhoods
    ref.tree.tree[leaf] = np.nextafter(ref.tree.tree[leaf], np.inf)
    assert not ref.check()
    assert ref.run(1e300, 50, debug_every=1) == (DEBUG_MISMATCH, 1)

    kern = lattice_gas_kernel("cython", g.indptr, g.indices, k, occ, np.random.PCG64(3))
    old = kern.tree_nodes
    kern.set_edge_rates(2.0 * k)
    assert kern.check()
    assert not bitwise_equal(old, kern.tree_nodes)
