"""Slow (stress-corrosion) crack growth below K_IC (MODEL.md 10.5, issue 11 acceptance 3):
v = v0 (K_I/K_IC)^n above K_th, one site of length h at v / h; off by default. Above K_IC,
with a terminal crack speed c_R, Freund's dynamic law v = c_R (1 - (K_IC/K_I)^2). Fixed seeds:
every run is exactly reproducible."""
import math

import numpy as np
import pytest

import kmc
from kmc.errors import ConfigError
from kmc.events.base import Channels
from kmc.mechanics import dynamic_crack_velocity, fracture_rate, subcritical_crack_rate

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
li_metal = {{ creep_reference_stress = "95 MPa" }}
[protocol]
current_density = "{j}"
[plating]
subcritical_fracture = {on}
subcritical_velocity = "{v0}"
subcritical_exponent = {n}
subcritical_threshold = {kth}
terminal_crack_speed = "{cr}"
[run]
duration = "{duration}"
observations = 11
seed = 1
"""


def _deck(j="5 mA/cm^2", on="true", v0="1e-6 m/s", n=10, kth=0.2, duration="2000 s",
          cr="0 m/s"):
    return kmc.loads_deck(DECK.format(j=j, on=on, v0=v0, n=n, kth=kth, duration=duration,
                                      cr=cr))


def test_rate_is_the_power_law_over_h_above_the_threshold_and_zero_below():
    """v0 (K/K_IC)^n / h exactly on a grid of K, 0 below K_th; arrays and scalars alike."""
    k_ic, kth, v0, n, h = 1.2e6, 0.4, 3e-4, 27.0, 0.5e-6
    k = np.linspace(0.0, 1.5 * k_ic, 301)
    rate = subcritical_crack_rate(k, k_ic, kth, v0, n, h)
    ratio = k / k_ic
    expect = np.where(ratio >= kth, v0 * ratio ** n / h, 0.0)
    assert np.array_equal(rate, expect)
    assert (rate[ratio < kth] == 0).all() and (rate[ratio >= kth] > 0).all()
    assert subcritical_crack_rate(0.8 * k_ic, k_ic, kth, v0, n, h) == v0 * 0.8 ** n / h
    assert subcritical_crack_rate(0.3 * k_ic, k_ic, kth, v0, n, h) == 0.0
    # the two branches joined by max are continuous at K_IC: v0 / h on both sides
    below = subcritical_crack_rate(k_ic * (1 - 1e-12), k_ic, kth, v0, n, h)
    above = max(fracture_rate(k_ic, k_ic, 1e3), subcritical_crack_rate(k_ic, k_ic, kth, v0, n, h))
    assert below == pytest.approx(v0 / h, rel=1e-9) and above == pytest.approx(v0 / h, rel=1e-12)


def _probe(deck):
    """The run's own Fracture event: a function of the pressure on the blocked sites that
    returns the channel rates, and the lattice spacing."""
    sim = kmc.Simulation.from_deck(deck)
    assert sim._new_epoch(0.0)
    fracture = sim.event("fracture")
    conf = sim.confinement
    assert np.flatnonzero(conf.blocked).size
    epoch = sim.epoch()

    def rates(p):
        conf.pressure = np.where(conf.blocked, p, 0.0)
        out = Channels()
        fracture.channels(epoch, out)
        return out.arrays()[1]

    return rates, sim.cell.graph.spacing


def _griffith(rates):
    """Lowest blocked-site pressure [Pa] with a channel, by bisection (switch off)."""
    lo, hi = 0.0, 1e10
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if rates(mid).size else (mid, hi)
    return hi


def test_the_run_s_fracture_event_offers_slow_growth_below_griffith():
    """Below the Griffith pressure p_c the switched-on event's fastest channel (the flaw tip,
    K_I/K_IC = p / p_c) runs at v0 (p/p_c)^n / h: log-log slope n within 1e-9; it disappears
    below K_th; the switched-off event offers nothing below p_c."""
    v0, n, kth = 2e-5, 23.0, 0.45
    off_rates, h = _probe(_deck(on="false"))
    p_c = _griffith(off_rates)
    assert off_rates(0.99 * p_c).size == 0
    rates, h_on = _probe(_deck(v0=f"{v0} m/s", n=n, kth=kth))
    assert h_on == h
    fractions = np.array([0.5, 0.6, 0.7, 0.8, 0.9, 0.99])
    top = np.array([rates(f * p_c).max() for f in fractions])
    np.testing.assert_allclose(top, v0 * fractions ** n / h, rtol=1e-9)
    slope = np.diff(np.log(top)) / np.diff(np.log(fractions))
    np.testing.assert_allclose(slope, n, rtol=1e-9)
    assert rates(0.99 * kth * p_c).size == 0
    assert rates(1.01 * kth * p_c).size >= 1
    # above p_c: the Griffith channels take the larger branch, the power law just above K_IC
    assert rates(1.0001 * p_c).max() == pytest.approx(v0 * 1.0001 ** n / h, rel=1e-9)


def test_slow_growth_shorts_a_cell_below_griffith_and_faster_with_larger_v0():
    """At 5 mA/cm^2 the flaw's Li stays below the Griffith pressure: no short in 2000 s with
    the switch off; with it on the cell shorts, and a larger v0 shorts it sooner."""
    off = kmc.simulate(_deck(on="false"))
    assert off.stop_reason == "duration" and math.isnan(off.scalars["t_short"])
    t = []
    for v0 in ("1e-6 m/s", "1e-5 m/s", "1e-4 m/s"):
        res = kmc.simulate(_deck(v0=v0))
        assert res.stop_reason == "short"
        t.append(res.scalars["t_short"])
    assert all(math.isfinite(x) for x in t)
    assert t[0] > t[1] > t[2]


def test_the_switch_is_off_by_default_and_its_keys_are_checked():
    """Shipped decks stay Griffith-only unless they ask; K_th/K_IC must lie in (0, 1) and v0
    be positive."""
    cfg = kmc.loads_deck(DECK.format(j="5 mA/cm^2", on="false", v0="1 m/s", n=1, kth=0.5,
                                     duration="1 s", cr="0 m/s")).plating
    from kmc.deck import PlatingConfig
    assert PlatingConfig().subcritical_fracture is False
    assert PlatingConfig().terminal_crack_speed == 0.0  # Freund's law off: nu_f (K/K_IC - 1)
    assert isinstance(cfg, PlatingConfig)
    for key, bad in (("subcritical_threshold", "1.0"), ("subcritical_threshold", "0"),
                     ("subcritical_velocity", "0 m/s"), ("subcritical_exponent", "0.5")):
        with pytest.raises(ConfigError):
            _deck().replace(f"plating.{key}", bad)


def test_freund_speed_is_zero_below_k_ic_rises_to_c_r_and_equalises_the_steps():
    """v = c_R (1 - (K_IC/K)^2) above K_IC, 0 below; it tends to c_R, so two steps whose
    K/K_IC differ by a fixed factor (a 45-degree kink into a boundary of half the toughness:
    cos^3(22.5 deg) / 0.5 = 1.58) run at rates whose ratio falls to 1 as the load rises,
    where the stress-corrosion power law keeps 1.58^n at every load."""
    c_r, k_ic = 3.1e3, 1.0e6
    k = np.linspace(0.0, 20 * k_ic, 2001)
    v = dynamic_crack_velocity(k, k_ic, c_r)
    ratio = k / k_ic
    assert np.array_equal(v, np.where(ratio >= 1, c_r * (1 - np.maximum(ratio, 1) ** -2.0), 0.0))
    assert (v[ratio < 1] == 0).all() and (np.diff(v) >= 0).all() and v.max() < c_r
    assert dynamic_crack_velocity(1e3 * k_ic, k_ic, c_r) == pytest.approx(c_r, rel=1e-6)
    factor = ((1 + np.cos(np.pi / 4)) / 2) ** 1.5 / 0.5
    loads = np.array([1.0, 1.5, 2.0, 4.0, 10.0]) * k_ic  # K of the straight step
    freund = dynamic_crack_velocity(factor * loads, k_ic, c_r) / dynamic_crack_velocity(
        loads * (1 + 1e-12), k_ic, c_r)
    assert np.all(np.diff(freund) < 0) and freund[-1] < 1.05
    power = subcritical_crack_rate(factor * loads, k_ic, 0.3, 1e-3, 15.0, 1.0) / \
        subcritical_crack_rate(loads, k_ic, 0.3, 1e-3, 15.0, 1.0)
    np.testing.assert_allclose(power, factor ** 15, rtol=1e-12)


def test_the_run_s_fracture_event_follows_freund_above_griffith():
    """With ``terminal_crack_speed`` set, the flaw tip's channel above the Griffith pressure
    p_c runs at max(v0, c_R (1 - (p_c/p)^2)) / h (K_I/K_IC = p / p_c), within 1e-9; below p_c
    the stress-corrosion channels are the same as without it."""
    v0, n, kth, c_r = 2e-5, 23.0, 0.45, 3.1e3
    p_c = _griffith(_probe(_deck(on="false"))[0])
    rates, h = _probe(_deck(v0=f"{v0} m/s", n=n, kth=kth, cr=f"{c_r} m/s"))
    plain, _ = _probe(_deck(v0=f"{v0} m/s", n=n, kth=kth))
    for f in (0.5, 0.8, 0.99):
        np.testing.assert_array_equal(rates(f * p_c), plain(f * p_c))
    for f in (1.0001, 1.1, 2.0, 10.0):
        expect = max(v0, c_r * (1 - f ** -2.0)) / h
        assert rates(f * p_c).max() == pytest.approx(expect, rel=1e-9)
    assert rates(10 * p_c).max() < c_r / h < plain(10 * p_c).max()
