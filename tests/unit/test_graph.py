"""The lattice site graph: neighbour counts, symmetry, periodic images, networkx export."""
import numpy as np
import pytest

from kmc.graph import lattice_graph


@pytest.mark.parametrize("shape,periodic,n_edges", [
    ((5, 4), True, 5 * 4 * 4),
    ((5, 4), False, 2 * (4 * 4 + 5 * 3)),
    ((3, 4, 5), True, 3 * 4 * 5 * 6),
    ((3, 4, 5), (True, False, True), 2 * (60 + 3 * 3 * 5 + 60)),
    ((6, 5, 1), (True, True, False), 6 * 5 * 4),
])
def test_edge_counts(shape, periodic, n_edges):
    g = lattice_graph(shape, 1e-9, periodic)
    assert g.n_sites == np.prod(shape)
    assert g.n_edges == n_edges


@pytest.mark.parametrize("order", ["c", "morton"])
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 5)])
def test_symmetric_with_opposite_vectors(shape, order):
    g = lattice_graph(shape, 2e-9, True, order)
    fwd = {(a, b): tuple(v) for a, b, v in zip(g.sources, g.indices, g.edge_vectors)}
    for (a, b), v in fwd.items():
        assert fwd[(b, a)] == tuple(-x for x in v)
        assert np.isclose(np.linalg.norm(v), 2e-9)


def test_periodic_image_vector_is_one_spacing():
    g = lattice_graph((4, 4), 1e-9, True, order="c")
    # site (3, 0) -> (0, 0) across the x boundary moves by +h along x
    src = 3 * 4
    row = slice(g.indptr[src], g.indptr[src + 1])
    k = list(g.indices[row]).index(0)
    assert np.array_equal(g.edge_vectors[row][k], [1e-9, 0.0, 0.0])


def test_networkx_export_matches_csr():
    g = lattice_graph((4, 3, 3), 1e-9, (True, True, False))
    nxg = g.to_networkx()
    assert nxg.number_of_nodes() == g.n_sites
    assert 2 * nxg.number_of_edges() == g.n_edges
    for s in range(g.n_sites):
        assert sorted(nxg.neighbors(s)) == sorted(g.indices[g.indptr[s]:g.indptr[s + 1]])


@pytest.mark.parametrize("shape", [(5, 7), (3, 4, 6), (8, 8)])
def test_morton_order_is_a_relabelling_of_the_c_graph(shape):
    c = lattice_graph(shape, 1e-9, (True, False, True)[: len(shape)], "c")
    m = lattice_graph(shape, 1e-9, (True, False, True)[: len(shape)], "morton")
    assert sorted(m.grid_index) == list(range(c.n_sites))
    # every Morton edge, mapped back to grid cells, is a C-order edge with the same vector
    c_edges = {(a, b): tuple(v) for a, b, v in zip(c.sources, c.indices, c.edge_vectors)}
    m_edges = {(m.grid_index[a], m.grid_index[b]): tuple(v)
               for a, b, v in zip(m.sources, m.indices, m.edge_vectors)}
    assert m_edges == c_edges
    np.testing.assert_array_equal(m.to_grid(m.positions), c.to_grid(c.positions))
    if shape == (8, 8):  # the first 2x2 block of the Z curve
        assert list(m.grid_index[:4]) == [0, 8, 1, 9]
