"""MHz pulses in their fast-switching limit (protocol.pulses = "averaged"; MODEL.md sections 6
and 9): the run sees the period-mean current, and rates nonlinear in the current are averaged
over the on and off phases. Fixed seeds: every run is exactly reproducible."""
import numpy as np
import pytest

import kmc
from kmc.codes import CH_DETACH, CH_NUCLEATE
from kmc.electrons import ElectronFluxes
from kmc.events.base import Channels
from kmc.mechanics import stripping_limit
from kmc.microstructure import LI, SE
from kmc.protocol import AveragedPulses, Constant, from_config

DECK = """
model = "plating"
[cell]
thickness = "10 um"
width = "10 um"
[microstructure]
kind = "voronoi"
flaws = {{ depth = "2 um", width = "0.5 um", x_positions = ["5 um"] }}
[material]
name = "llzo"
li_metal = {{ creep_reference_stress = "95 MPa" }}
[protocol]
{protocol}
[plating]
{plating}
[run]
duration = "200 s"
observations = 21
seed = 1
"""

PULSES = 'kind = "pulsed"\nperiod = "1 us"\nduty = {duty}\ncurrent_density = "{j}"\npulses = "averaged"'


def _deck(protocol, plating=""):
    return kmc.loads_deck(DECK.format(protocol=protocol, plating=plating))


def test_averaged_pulses_are_the_mean_drive_with_two_weighted_phases():
    p = AveragedPulses(2.0, 1e-6, 0.25, reverse=1.0)
    assert p(0.0) == p(123.4) == 0.25 * 2.0 - 0.75 * 1.0
    assert p.phases() == ((0.25, 2.0), (0.75, -1.0))
    assert p.integral(8.0) == pytest.approx(8.0 * p(0.0), rel=1e-15)
    assert p.next_change(5.0) == np.inf  # no switch for the loop to stop at
    assert AveragedPulses(2.0, 1e-6, 1.0).phases() == ((1.0, 2.0),)
    section = _deck(PULSES.format(duty=0.5, j="2 mA/cm^2")).protocol
    assert isinstance(from_config(section), AveragedPulses)
    assert type(from_config(section.__class__(**{**section.__dict__, "pulses": "resolved"}))) \
        is not AveragedPulses


def test_mhz_rest_pulses_plate_and_short_exactly_as_dc_at_the_mean_current():
    """With linearised Butler-Volmer kinetics the field, the transfer rates and the Li
    pressures are linear in the current, so 1 us pulses of 60 mA/cm^2 at duty 0.5 give the
    same run, event for event, as 30 mA/cm^2 DC (here to a short): MHz rest pulses change
    nothing unless a rate is nonlinear in the current (MODEL.md section 9). The electron leak
    is off: its injection is exponential in the bias, so its channels are phase averages that
    differ from DC (next test)."""
    off = "electron_leak = false"
    dc = kmc.Simulation.from_deck(_deck('current_density = "30 mA/cm^2"', off))
    assert isinstance(dc.protocol, Constant)
    a = dc.run()
    b = kmc.Simulation.from_deck(_deck(PULSES.format(duty=0.5, j="60 mA/cm^2"), off)).run()
    assert a.stop_reason == b.stop_reason == "short"
    for k in a.observations:
        np.testing.assert_array_equal(a.observations[k], b.observations[k], err_msg=k)


def _channel_rates(sim, kind):
    out = Channels()
    event = next(e for e in sim.events if e.name == {CH_DETACH: "stripping_voids",
                                                      CH_NUCLEATE: "electron_leak"}[kind])
    event.channels(sim.epoch(), out)
    kinds, rates, a = out.arrays()[:3]
    return a[kinds == kind], rates[kinds == kind]


def test_fast_pulses_average_the_void_detachment_rate_over_on_and_off():
    """Detachment at nu_v (j / j_strip - 1) where j > j_strip is convex in j: pulses of 2 J at
    duty 0.5 detach at the average of the on phase's rate and the rest's (zero), which differs
    from DC at J. Checked site by site against the field re-evaluated at 2 J, to 1e-12."""
    plating = 'stripping_voids = true\nvoid_growth = "rate"'
    sim = kmc.Simulation.from_deck(_deck(PULSES.format(duty=0.5, j="-60 mA/cm^2"), plating))
    assert sim._new_epoch(0.0)
    sites, rates = _channel_rates(sim, CH_DETACH)
    voids, epoch = sim.event("stripping_voids"), sim.epoch()
    (w_on, i_on, on), (w_off, i_off, _) = epoch.phases
    assert (w_on, w_off) == (0.5, 0.5) and i_on == 2 * epoch.current and i_off == 0.0
    res = on.interface_metal < 0
    j_on = -on.interface_current[res] / voids.face_area
    cfg = sim.plating
    j_strip = stripping_limit(cfg.strip_limit, cfg.strip_limit_per_pressure, 0.0,
                              sim.cell.li_metal, sim.conditions.temperature)
    expect = 0.5 * cfg.void_attempt_frequency * np.maximum(j_on / j_strip - 1.0, 0.0)
    over = expect > 0
    assert over.any()
    np.testing.assert_array_equal(sites, on.interface_se[res][over])
    np.testing.assert_allclose(rates, expect[over], rtol=1e-12)
    dc = kmc.Simulation.from_deck(_deck('current_density = "-30 mA/cm^2"', plating))
    assert dc._new_epoch(0.0)
    assert _channel_rates(dc, CH_DETACH)[1].sum() != pytest.approx(rates.sum(), rel=1e-3)


def test_fast_pulses_add_each_phases_electron_leak_at_its_weight():
    """Injection is exponential in the overpotential: the nucleation channels of pulses at
    duty 0.25 are the on phase's at weight 0.25 followed by the off phase's at 0.75 (walks
    that end in explicit traps are captures, not reductions)."""
    plating = "electron_leak = true"
    deck = _deck(PULSES.format(duty=0.25, j="40 mA/cm^2"), plating)
    sim = kmc.Simulation.from_deck(deck)
    assert sim._new_epoch(0.0)
    sites, rates = _channel_rates(sim, CH_NUCLEATE)
    leak, epoch = sim.event("electron_leak"), sim.epoch()
    metal = sim.phase == LI
    parts = []
    for w, _, sol in epoch.phases:
        f = ElectronFluxes.weighted_sum([(1.0, p) for p in leak._walk(sol, sim.phase, metal,
                                                                     True)])
        nuc = np.flatnonzero((f.nucleation > 0) & (sim.phase == SE))
        parts.append((nuc, w * f.nucleation[nuc]))
    assert parts[0][1].sum() != pytest.approx(parts[1][1].sum() / 3, rel=1e-3)  # nonlinear
    np.testing.assert_array_equal(sites, np.concatenate([p[0] for p in parts]))
    np.testing.assert_allclose(rates, np.concatenate([p[1] for p in parts]), rtol=1e-12)


def test_averaged_pulses_warn_once_when_the_period_is_not_short(caplog):
    """The limit needs period x total rate << 1: 1 us pulses warn at 1e5 events/s (0.1 per
    period), once, and not at 1e3 events/s."""
    p = AveragedPulses(2.0, 1e-6, 0.5)
    with caplog.at_level("WARNING", logger="kmc.protocol"):
        p.check_limit(1e3, 0.0)
        assert not caplog.records
        p.check_limit(1e5, 1.0)
        p.check_limit(1e5, 2.0)
    assert len(caplog.records) == 1 and "0.1 events per pulse period" in caplog.text
