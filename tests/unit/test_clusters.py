"""Incremental Li cluster labelling: union-find on growth, relabelling on dissolution."""
import networkx as nx
import numpy as np
import pytest

from kmc._clusters import ClusterSet
from kmc.graph import lattice_graph
from kmc.reference import ReferenceClusters


def _cell(shape, periodic=(True, True, False)):
    g = lattice_graph(shape, 1.0, periodic, "morton")
    z = np.rint(g.positions[:, 2] - 0.5).astype(int)
    face = np.zeros(g.n_sites, np.int8)
    face[z == 0], face[z == shape[2] - 1] = 1, 2
    return g, face


def _networkx_truth(g, face, active):
    """Components of the metal subgraph and whether one touches both electrode faces."""
    sub = g.to_networkx().subgraph(np.flatnonzero(active).tolist())
    comps = [frozenset(c) for c in nx.connected_components(sub)]
    short = any({face[s] for s in c} >= {1, 2} for c in comps)
    return set(comps), short


def _partition(labels):
    groups = {}
    for s, r in enumerate(labels):
        if r >= 0:
            groups.setdefault(r, set()).add(s)
    return {frozenset(v) for v in groups.values()}


@pytest.mark.parametrize("shape", [(6, 1, 7), (4, 4, 5)])
@pytest.mark.parametrize("seed", range(4))
def test_random_growth_and_dissolution_match_networkx(shape, seed):
    """After every step of a random add/remove sequence, the Cython and Python union-finds give
    the same partition and flags as networkx's connected components of the Li subgraph."""
    g, face = _cell(shape)
    cy, py = ClusterSet(g.indptr, g.indices, face), ReferenceClusters(g.indptr, g.indices, face)
    rng = np.random.default_rng(seed)
    active = np.zeros(g.n_sites, bool)
    for step in range(250):
        if active.sum() and (rng.random() < 0.35 or active.all()):
            s = int(rng.choice(np.flatnonzero(active)))
            assert cy.remove(s) == py.remove(s)
            active[s] = False
        else:
            s = int(rng.choice(np.flatnonzero(~active)))
            assert cy.add(s) == py.add(s)
            active[s] = True
        comps, short = _networkx_truth(g, face, active)
        assert _partition(cy.labels()) == comps == _partition(py.labels())
        assert cy.shorted() == short == py.shorted()
        for c in comps:
            s = next(iter(c))
            faces = {face[t] for t in c}
            assert cy.flags_of(s) == (1 in faces) + 2 * (2 in faces) == py.flags_of(s)


def test_add_reports_the_event_that_shorts_and_remove_counts_pieces():
    g, face = _cell((5, 1, 6), periodic=(False, True, False))
    c = ClusterSet(g.indptr, g.indices, face)
    column = sorted((s for s in range(g.n_sites) if round(g.positions[s, 0] - 0.5) == 2),
                    key=lambda s: g.positions[s, 2])
    assert [c.add(s) for s in column] == [False] * 5 + [True]
    assert c.remove(column[3]) == 2 and not c.shorted()
    assert c.flags_of(column[0]) == 1 and c.flags_of(column[-1]) == 2
    assert c.remove(column[0]) == 1 and c.find(column[0]) == -1
    with pytest.raises(ValueError, match="is not metal"):
        c.remove(column[0])
    with pytest.raises(ValueError, match="is already metal"):
        c.add(column[1])
