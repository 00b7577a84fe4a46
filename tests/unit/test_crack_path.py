"""Crack paths (MODEL.md 10.4, issue 11 acceptance 3): the Griffith length is the Li-filled
path, a kinked step is driven by K_I cos^3(theta/2), diagonal steps let a crack turn by 45
degrees, and a crack at a weak boundary turns into it at the kink factor's threshold and not
below. Deterministic: no random numbers, except the fixed-seed runs at the end."""
import math

import numpy as np
import pytest

import kmc
from kmc.cell import Cell
from kmc.codes import CH_FRACTURE, FACE_A, LI
from kmc.crack_path import crack_paths, diagonal_steps
from kmc.events.base import Channels
from kmc.graph import lattice_graph
from kmc.materials import load_material
from kmc.mechanics import kink_factor
from kmc.microstructure import gb_toughness_factors

H = 0.5e-6


def test_kink_factor_is_cos_cubed_of_half_the_angle():
    """K_theta / K_I = cos^3(theta/2) (maximum hoop stress, Erdogan & Sih 1963)."""
    theta = np.linspace(0.0, np.pi, 181)
    np.testing.assert_allclose(kink_factor(np.cos(theta)), np.cos(theta / 2) ** 3, atol=1e-15)
    assert kink_factor(1.0) == 1.0 and kink_factor(-1.0) == 0.0
    assert kink_factor(math.cos(math.pi / 4)) == pytest.approx(0.7886, abs=1e-4)
    assert kink_factor(0.0) == pytest.approx(2 ** -1.5)


@pytest.mark.parametrize("shape,periodic,per_site",
                         [((6, 1, 5), (True, True, False), 4), ((4, 3, 5), (True, True, False), 12)])
def test_diagonal_steps_join_sites_that_share_two_neighbours(shape, periodic, per_site):
    """Every interior site has 4 diagonal steps in 2D (x-z plane) and 12 in 3D; each corner
    is a nearest neighbour of both ends, and the vector has length sqrt(2) h."""
    g = lattice_graph(shape, H, periodic[:2] + (False,))
    d = diagonal_steps(g, periodic)
    nb = {s: set(g.indices[g.indptr[s]:g.indptr[s + 1]].tolist()) for s in range(g.n_sites)}
    for s, t, (c0, c1) in zip(d.source, d.target, d.corner):
        assert c0 in nb[s] and c1 in nb[s] and c0 in nb[t] and c1 in nb[t] and t not in nb[s]
    np.testing.assert_allclose(np.linalg.norm(d.vector, axis=1), math.sqrt(2) * H)
    z = np.rint(g.positions[d.source, 2] / H - 0.5)
    interior = np.bincount(d.source[(z > 0) & (z < shape[2] - 1)], minlength=g.n_sites)
    assert set(interior[interior > 0].tolist()) == {per_site}


def _paths(sites, shape=(9, 1, 9), length=1e-6):
    g = lattice_graph(shape, H, (True, True, False))
    grid = np.zeros(shape, bool)
    for x, z in sites:
        grid[x, 0, z] = True
    metal = g.from_grid(grid)
    face = g.from_grid(np.pad(np.zeros(shape[:2] + (shape[2] - 1,), np.int8), ((0, 0), (0, 0), (1, 0)),
                              constant_values=FACE_A))
    box = [shape[0] * H, np.inf, np.inf]
    lengths, direction = crack_paths(g, diagonal_steps(g, (True, True, False)), metal, face,
                                     np.ones(g.n_sites, bool), length, box)
    at = lambda x, z: int(np.flatnonzero(g.grid_index == np.ravel_multi_index((x, 0, z), shape))[0])
    return lengths, direction, at


def test_a_straight_flaw_has_the_length_of_its_li_and_points_into_the_cell():
    """A column of d Li sites from the face: a = d h at the tip (the extent rule's value),
    direction +z everywhere, and sites of floating Li are not reached."""
    lengths, direction, at = _paths([(4, z) for z in range(5)] + [(1, 7)])
    for z in range(5):
        assert lengths[at(4, z)] == pytest.approx((z + 1) * H)
        np.testing.assert_allclose(direction[at(4, z)], [0, 0, 1])
    assert np.isinf(lengths[at(1, 7)])


def test_a_kinked_crack_is_measured_along_its_li_with_diagonals_and_turns_its_direction():
    """Li up 3 sites, then a diagonal staircase (each diagonal step opened a corner): the path
    uses the diagonal links (sqrt(2) h each). Li up 3 sites then sideways: the corner is cut
    by a diagonal link, and 2 h along the sideways arm the direction is +x."""
    stair = [(4, 0), (4, 1), (4, 2), (5, 2), (5, 3), (6, 3), (6, 4)]
    lengths, _, at = _paths(stair)
    assert lengths[at(6, 4)] == pytest.approx(3 * H + 2 * math.sqrt(2) * H)
    turn = [(4, 0), (4, 1), (4, 2), (5, 2), (6, 2), (7, 2)]
    lengths, direction, at = _paths(turn, length=2 * H)
    assert lengths[at(7, 2)] == pytest.approx((4 + math.sqrt(2)) * H)
    np.testing.assert_allclose(direction[at(7, 2)], [1, 0, 0])
    np.testing.assert_allclose(direction[at(4, 1)], [0, 0, 1])


def test_periodic_paths_use_the_minimum_image():
    """A crack that runs across the periodic seam has the length and direction of its steps,
    not of the box."""
    lengths, direction, at = _paths([(0, 0), (0, 1), (8, 1)], length=H)
    assert lengths[at(8, 1)] == pytest.approx((1 + math.sqrt(2)) * H)  # diagonal over the seam
    np.testing.assert_allclose(direction[at(8, 1)], [-math.sqrt(0.5), 0, math.sqrt(0.5)])


DECK = """
model = "plating"
[cell]
thickness = "8 um"
width = "8 um"
[material]
name = "llzo"
li_metal = {{ creep_reference_stress = "95 MPa" }}
[protocol]
current_density = "1 mA/cm^2"
[plating]
crack_paths = {on}
crack_direction_length = "1 um"
[run]
duration = "1 s"
seed = 1
"""


def _kink_cell(ratio, k_ic=1.0):
    """16 x 16 sites, a 45-degree boundary (grain 1 where x - z > k) through the tip of a
    5-site Li flaw at x = 6; K_IC = k_ic MPa m^0.5 and K_IC,GB = ratio K_IC."""
    n, x0, d = 16, 6, 5
    x, z = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    grain = (x - z > x0 - (d - 1)).astype(np.int32)[:, None, :]
    phase = np.zeros((n, 1, n), np.uint8)
    phase[x0, 0, :d] = LI
    material = load_material("llzo", {"gb_fracture_toughness": f"{ratio * k_ic} MPa m^0.5",
                                      "fracture_toughness": f"{k_ic} MPa m^0.5"})
    return Cell.from_grains(grain, H, material, phase), (x0, d)


def _first_step(ratio, on="true", factor=1.0):
    """Target sites (x, z) of the fracture channels at ``factor`` times the lowest loaded-Li
    pressure that offers any (bisection on the run's own Fracture event, Griffith only)."""
    cell, (x0, d) = _kink_cell(ratio)
    sim = kmc.Simulation.from_deck(kmc.loads_deck(DECK.format(on=on)), cell=cell)
    assert sim._new_epoch(0.0)
    fracture, conf, epoch = sim.event("fracture"), sim.confinement, sim.epoch()
    loaded = conf.blocked | conf.relieved
    assert loaded.any()

    def channels(p):
        conf.pressure = np.where(loaded, p, 0.0)
        out = Channels()
        fracture.channels(epoch, out)
        kind, rate, a = out.arrays()[:3]
        return a[(kind == CH_FRACTURE) & (rate > 0)]

    lo, hi = 0.0, 1e10
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if channels(mid).size else (mid, hi)
    g = cell.graph
    coords = np.rint(g.positions[channels(factor * hi)] / H - 0.5).astype(int)
    return {(int(c[0]), int(c[2])) for c in coords}, (x0, d), hi


@pytest.mark.parametrize("margin", [0.97, 1.03])
def test_a_crack_at_a_weak_boundary_turns_into_it_at_the_kink_threshold(margin):
    """The tip of a flaw touches a 45-degree boundary. The straight step is transgranular
    (K_IC, kink factor 1); the diagonal step along the boundary is intergranular (K_IC,GB,
    kink factor cos^3(22.5 deg) = 0.7886). Below the threshold ratio K_IC,GB / K_IC = 0.7886
    the first step is the turn into the boundary, above it the straight one."""
    threshold = kink_factor(math.cos(math.pi / 4))
    first, (x0, d), _ = _first_step(margin * threshold)
    assert first == ({(x0 + 1, d)} if margin < 1 else {(x0, d)})


def test_only_the_tip_of_a_crack_carries_its_length():
    """K_I ~ sqrt(a) belongs to the crack's tip (MODEL.md 10.4: a is the path from the mouth
    to the tip); a site on the flank of the 5-site flaw starts a branch from a one-site wall
    flaw. At 4x the tip's threshold pressure every step on offer leaves the tip (x0, d - 1),
    sideways ones included (kink factor 2^-1.5: 2.8x); a flank site (z + 1) h deep would offer
    its sideways step at sqrt(d / (z + 1)) 2^1.5 times the threshold (3.2x for the site next to
    the tip) if it carried its own path length, and does at sqrt(d) 2^1.5 = 6.3x."""
    steps, (x0, d), _ = _first_step(1.0, factor=4.0)
    tip_neighbours = {(x0 + dx, d - 1 + dz) for dx in (-1, 0, 1) for dz in (0, 1)} - {(x0, d - 1)}
    assert steps and steps <= tip_neighbours, steps


def test_the_extent_rule_ignores_the_boundary_and_offers_no_diagonal():
    """With the switch off (the ideal model) the first step is straight ahead at any ratio,
    at the same Griffith pressure as the straight step with the switch on."""
    first, (x0, d), p_off = _first_step(0.5, on="false")
    assert first == {(x0, d)}
    straight, _, p_on = _first_step(1.03 * kink_factor(math.cos(math.pi / 4)))
    assert straight == {(x0, d)} and p_on == pytest.approx(p_off, rel=1e-9)


def test_a_diagonal_step_opens_its_corner_and_keeps_the_li_connected():
    """A run on the kink cell with the switch on (creep off, so the flaw's Li is loaded at
    once): the crack grows by diagonal steps too, and every fracture leaves the Li connected
    through nearest neighbours (one anchored cluster, no floating Li); both kernels give the
    same phases at the short."""
    text = (DECK.format(on="true").replace('"1 mA/cm^2"', '"100 mA/cm^2"')
            .replace('"1 s"', '"20 s"').replace("crack_paths = true", "crack_paths = true\ncreep = false"))
    runs = []
    for engine in ("cython", "reference"):
        cell, _ = _kink_cell(0.5)
        sim = kmc.Simulation.from_deck(kmc.loads_deck(text + f'engine = "{engine}"\n'), cell=cell)
        res = sim.run()
        assert res.stop_reason == "short"
        view = sim.tracker.view(sim.phase, sim.contact)
        assert view.n == 1 and view.anchored[view.metal].all()
        grid = cell.graph.to_grid(sim.phase == LI)[:, 0, :]
        fractures = int(sim.kernel.event_counts[CH_FRACTURE])
        assert grid.sum() - 5 > fractures  # more sites cracked than fracture events: corners
        runs.append((sim.phase.copy(), res.scalars["t_short"]))
    assert np.array_equal(runs[0][0], runs[1][0]) and runs[0][1] == runs[1][1]


def test_boundary_toughness_spread_is_log_normal_per_boundary():
    """Each boundary gets one factor exp(sigma Z); every edge along it carries
    K_IC,GB times that factor (geometric mean of its ends), the others keep K_IC."""
    factors = gb_toughness_factors(np.random.default_rng(3), 20000, 0.3)
    assert np.log(factors).std() == pytest.approx(0.3, rel=0.03)  # fixed seed; s.d. of it 0.5%
    deck = kmc.loads_deck(DECK.format(on="true")).replace("microstructure.gb_toughness_spread", 0.4)
    cell = Cell.from_deck(deck)
    micro, g = cell.microstructure, cell.graph
    assert micro.gb_toughness_factor.shape == (micro.gb_pairs()[0].shape[0],)
    k = g.from_grid(micro.gb_toughness(cell.resolved))
    along = g.edge_data["gb_relation"] == 2
    src, dst = g.sources[along], g.indices[along]
    np.testing.assert_allclose(g.edge_data["fracture_toughness"][along], np.sqrt(k[src] * k[dst]))
    assert (g.edge_data["fracture_toughness"][~along] == cell.resolved.fracture_toughness).all()
    assert len(set(np.round(k[g.site_data["gb"] == 1], 3).tolist())) > 1


def _short(sites, shape=(12, 1, 8)):
    """short_path's tortuosity with and without diagonal links for Li at (x, z) sites."""
    from kmc.clusters import short_path
    from kmc.codes import FACE_C
    g = lattice_graph(shape, H, (True, True, False))
    grid = np.zeros(shape, bool)
    for x, z in sites:
        grid[x, 0, z] = True
    face = np.zeros(shape, np.int8)
    face[:, :, 0], face[:, :, -1] = FACE_A, FACE_C
    args = (g, g.from_grid(grid), g.from_grid(face), np.zeros(g.indices.size, bool), shape[2] * H)
    return (short_path(*args).tortuosity,
            short_path(*args, diagonal=diagonal_steps(g, (True, True, False))).tortuosity)


def test_tortuosity_is_the_geometric_length_of_the_li_path():
    """A straight crack measures its length: along z, L (tortuosity 1 either way); at 45
    degrees, a staircase of nearest-neighbour Li (corner sites filled, as diagonal crack steps
    leave it) from the face site (1, 0) to (n - 1, n - 1) is one step up and n - 2 diagonal
    steps: (2 + (n - 2) sqrt(2)) h with diagonal links, 2 (n - 1) h through nearest
    neighbours alone (each diagonal counted as two steps)."""
    n = 8
    assert _short([(3, z) for z in range(n)]) == (1.0, 1.0)
    stairs = [(z, z) for z in range(n)] + [(z + 1, z) for z in range(n - 1)]
    manhattan, octile = _short(stairs)
    assert manhattan == pytest.approx(2 * (n - 1) / n, rel=1e-12)
    assert octile == pytest.approx((2 + (n - 2) * math.sqrt(2)) / n, rel=1e-12)
