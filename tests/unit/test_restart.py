"""Restart: a kernel rebuilt from saved state (incl. the generator state) continues bit for bit."""
import math

import numpy as np
import pytest

from kmc.engine import lattice_gas_kernel
from kmc.graph import lattice_graph


@pytest.mark.parametrize("engine", ["cython", "reference"])
def test_resume_from_saved_state_is_bit_identical(engine):
    g = lattice_graph((8, 6), 1e-9, True, "morton")
    rates = np.random.default_rng(5).uniform(0.5, 2.0, g.n_edges)
    occ = np.zeros(g.n_sites, np.uint8)
    occ[np.random.default_rng(6).choice(g.n_sites, 15, replace=False)] = 1
    bitgen = np.random.PCG64(7)
    k = lattice_gas_kernel(engine, g.indptr, g.indices, rates, occ, bitgen, g.edge_vectors)
    k.run(math.inf, 400)
    saved = dict(occ=k.occupancy, sites=k.particle_sites, disp=k.displacement, time=k.time,
                 n=k.n_events, state=bitgen.state)
    log_a = (np.zeros(300, np.intp), np.zeros(300, np.intp), np.zeros(300))
    k.run(math.inf, 300, event_log=log_a)

    resumed_gen = np.random.PCG64()
    resumed_gen.state = saved["state"]
    r = lattice_gas_kernel(engine, g.indptr, g.indices, rates, saved["occ"], resumed_gen,
                           g.edge_vectors, particle_sites=saved["sites"], displacement=saved["disp"])
    r.time, r.n_events = saved["time"], saved["n"]
    log_b = (np.zeros(300, np.intp), np.zeros(300, np.intp), np.zeros(300))
    r.run(math.inf, 300, event_log=log_b)
    for a, b in zip(log_a, log_b):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(k.displacement, r.displacement)
    np.testing.assert_array_equal(k.tree_nodes, r.tree_nodes)
    assert (k.time, k.n_events) == (r.time, r.n_events)


def test_particle_sites_must_match_occupancy():
    g = lattice_graph((4, 4), 1e-9, True)
    occ = np.zeros(g.n_sites, np.uint8)
    occ[[1, 5]] = 1
    with pytest.raises(ValueError, match="particle_sites must list each occupied site exactly once"):
        lattice_gas_kernel("cython", g.indptr, g.indices, np.ones(g.n_edges), occ,
                           np.random.PCG64(0), particle_sites=[1, 6])
