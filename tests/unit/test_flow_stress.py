"""Size-dependent Li flow stress (MODEL.md 10.6, issue 11: "the Li flow stress follows
sigma_ref(w)"): sigma_ref(w) = max(sigma_bulk, sigma_um (w / w_ref)^(-m_s)) per Li site from
its cluster's width, in the creep channels and the creep relief; off by default."""
import dataclasses

import numpy as np
import pytest

import kmc
from kmc.codes import RES_A
from kmc.events.base import Channels
from kmc.mechanics import creep_pressure, creep_rate, li_flow_stress

DECK = """
model = "plating"
[cell]
thickness = "10 um"
width = "10 um"
[microstructure]
kind = "single_crystal"
flaws = {{ depth = "2 um", width = "0.5 um", x_positions = ["5 um"] }}
[material]
name = "llzo_single_crystal"
[protocol]
current_density = "{j}"
[plating]
size_dependent_flow = {on}
flow_stress_exponent = {m}
[run]
duration = "1 s"
seed = 1
"""


def _sim(on="true", j="5 mA/cm^2", m=0.68):
    return kmc.Simulation.from_deck(kmc.loads_deck(DECK.format(on=on, j=j, m=m)))


def test_flow_stress_is_the_power_law_clipped_at_bulk():
    """Log-log slope -m_s exactly between the bounds, sigma_um at w_ref, bulk beyond the
    crossover w_ref (sigma_um/sigma_bulk)^(1/m_s) and for infinite width."""
    bulk, s_um, w_ref, m = 1e6, 95e6, 1e-6, 0.68
    w = np.logspace(-7, -2, 201)
    s = li_flow_stress(w, bulk, s_um, w_ref, m)
    cross = w_ref * (s_um / bulk) ** (1 / m)
    inside = w < cross
    np.testing.assert_allclose(s[inside], s_um * (w[inside] / w_ref) ** -m, rtol=1e-13)
    slope = np.diff(np.log(s[inside])) / np.diff(np.log(w[inside]))
    np.testing.assert_allclose(slope, -m, rtol=1e-9)
    assert (s[~inside] == bulk).all() and (~inside).any()
    assert li_flow_stress(w_ref, bulk, s_um, w_ref, m) == pytest.approx(s_um, rel=1e-15)
    assert li_flow_stress(np.inf, bulk, s_um, w_ref, m) == bulk
    assert li_flow_stress(0.5e-6, bulk, s_um, w_ref, m) == pytest.approx(95e6 * 2 ** 0.68)
    with pytest.raises(ValueError):
        li_flow_stress(0.0, bulk, s_um, w_ref, m)


def test_per_site_sigma0_equal_to_the_scalar_is_the_scalar_path():
    """An array sigma0 equal to creep_reference_stress reproduces the scalar path, and
    creep_pressure inverts creep_rate per site."""
    sim = _sim(on="false")
    li, T, n_q = sim.cell.li_metal, 298.15, 4
    dp = np.array([0.0, 1e5, 3e6, 2e8])
    ref = creep_rate(dp, li, T, n_q)
    np.testing.assert_allclose(creep_rate(dp, li, T, n_q, np.full(4, li.creep_reference_stress)),
                               ref, rtol=1e-15)
    sigma0 = np.array([1e6, 5e6, 95e6, 150e6])
    r = creep_rate(dp, li, T, n_q, sigma0)
    np.testing.assert_allclose(r, ref * (li.creep_reference_stress / sigma0) ** li.creep_exponent,
                               rtol=1e-12)
    np.testing.assert_allclose(creep_pressure(r[1:], 1, li, T, n_q, sigma0[1:]), dp[1:], rtol=1e-12)


def _creep_probe(sim):
    """The run's own Creep event with the flaw tip forced relieved at a fixed pressure and
    its flaw neighbour half empty: a function of the flaw cluster's width that returns the
    rates of the relieved site's channels."""
    assert sim._new_epoch(0.0)
    conf = sim.confinement
    view = sim.tracker.view(sim.phase, sim.contact)
    assert view.clusters.n == 1
    g, metal = sim.cell.graph, np.flatnonzero(sim.phase == 1)
    tip = metal[np.argmax(g.positions[metal, 2])]
    nb = [t for t in g.indices[g.indptr[tip]:g.indptr[tip + 1]] if sim.phase[t] == 1]
    content = sim.kernel.contents.copy()
    content[nb] = 2
    conf.relieved[:] = False
    conf.relieved[tip] = True
    conf.pressure = np.where(conf.relieved, 20e6, 0.0)
    conf.relief[tip] = RES_A
    epoch = dataclasses.replace(sim.epoch(), content=content)
    creep = sim.event("creep")

    def rates(width=None):
        if width is not None:
            view.__dict__["width"] = np.array([width])  # the cached property, overridden
        out = Channels()
        creep.channels(epoch, out)
        kind, r, frm, to = out.arrays()[:4]
        return r[frm == RES_A][np.isin(to[frm == RES_A], nb)], view

    return rates, sim


def test_creep_channel_of_a_relieved_site_scales_with_its_cluster_width():
    """At a fixed pressure difference the relieved site's creep rate is
    n_q eps0 A(T) (dp / sigma_ref(w))^m: it scales as w^(m_s m) below the crossover; the
    cluster width of the 2D cell is its x extent (one site, 0.5 um)."""
    rates, sim = _creep_probe(_sim(on="true"))
    li, cfg = sim.cell.li_metal, sim.plating
    r0, view = rates()
    assert view.width[0] == pytest.approx(sim.cell.graph.spacing) == pytest.approx(view.extent[0, 0])
    assert r0.size >= 1
    widths = np.array([0.5e-6, 1e-6, 2e-6, 8e-6, 32e-6])
    top = np.array([rates(w)[0].max() for w in widths])
    sigma = li_flow_stress(widths, li.creep_reference_stress, li.yield_strength_micropillar,
                           cfg.flow_stress_reference_width, cfg.flow_stress_exponent)
    expect = creep_rate(20e6, li, sim.conditions.temperature, cfg.quanta_per_site) \
        * (li.creep_reference_stress / sigma) ** li.creep_exponent
    np.testing.assert_allclose(top, expect, rtol=1e-12)
    slope = np.diff(np.log(top)) / np.diff(np.log(widths))
    np.testing.assert_allclose(slope, cfg.flow_stress_exponent * li.creep_exponent, rtol=1e-9)
    assert r0.max() == pytest.approx(top[0], rel=1e-12)


def test_switch_off_is_the_scalar_path():
    """Switch off: the channel rate is the bulk creep rate whatever the width; flow_stress is
    None; the deck default is off with w_ref = 1 um and m_s = 0.68."""
    rates, sim = _creep_probe(_sim(on="false"))
    assert sim.confinement.flow_stress(rates()[1]) is None
    bulk = creep_rate(20e6, sim.cell.li_metal, sim.conditions.temperature,
                      sim.plating.quanta_per_site)
    for w in (0.5e-6, 50e-6):
        assert rates(w)[0].max() == bulk
    from kmc.deck import PlatingConfig
    cfg = PlatingConfig()
    assert cfg.size_dependent_flow is False
    assert cfg.flow_stress_reference_width == 1e-6 and cfg.flow_stress_exponent == 0.68


def test_narrow_anchored_flaw_is_relieved_in_bulk_li_but_not_with_the_size_effect():
    """A 0.5 um wide electrode-connected flaw at 5 mA/cm^2: bulk creep (1 MPa) relieves it at a
    few MPa; at sigma_ref(0.5 um) ~ 150 MPa creep cannot, and it stays blocked
    (stack pressure pushes Li into wide cracks, not narrow ones)."""
    off = _sim(on="false")
    assert off._new_epoch(0.0)
    assert off.confinement.relieved.sum() == 4 and not off.confinement.blocked.any()
    on = _sim(on="true")
    assert on._new_epoch(0.0)
    assert not on.confinement.relieved.any() and on.confinement.blocked.sum() == 4


def test_a_cell_without_li_has_no_cluster_widths_and_runs():
    """A cell whose Poisson flaw placement drew no flaw (no Li at all) runs with the size
    effect on: the cluster extents and widths are empty arrays, not an error."""
    from kmc.clusters import ClusterView
    from kmc.graph import lattice_graph

    g = lattice_graph((4, 1, 4), 0.5e-6, (True, True, False))
    view = ClusterView(g, np.zeros(g.n_sites, np.uint8), np.zeros(g.n_sites, np.int8),
                       np.ones(g.n_sites, bool), (4, 1, 4), (True, True, False))
    assert view.extent.shape == (0, 3) and view.width.shape == (0,)
