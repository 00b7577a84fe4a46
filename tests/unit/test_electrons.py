"""The quasi-static electron walk (kmc.electrons): exact answers of absorbing random walks,
flux conservation, the bulk calibration of Delta_F and the injection law (MODEL.md 5.4-5.6)."""
import math

import numpy as np
import pytest

from kmc.codes import LI, SE
from kmc.electrons import (RICHARDSON, ElectronLeak, ElectronParameters, injection_rate)
from kmc.codes import FACE_A, FACE_C
from kmc.field import FieldParameters, FieldSolver
from kmc.graph import lattice_graph
from kmc.materials import load_material, resolve
from kmc.microstructure import Microstructure
from kmc.tessellation import random_orientations, voronoi_grains
from kmc.units import BOLTZMANN_EV

T = 298.15
VT = BOLTZMANN_EV * T


def column(n, trap=0.0):
    """A column of n sites along z: site 0 is Li metal on face A, the top site faces C."""
    g = lattice_graph((1, 1, n), 0.5e-6, periodic=(False, False, False), order="c")
    face = np.zeros(n, np.int8)
    face[0], face[-1] = FACE_A, FACE_C
    g = g.with_data(site={"band_gap": np.full(n, 6.0), "trap_depth": np.full(n, trap),
                          "youngs_modulus": np.full(n, 150e9), "face": face})
    phase = np.full(n, SE, np.uint8)
    phase[0] = LI
    return g, phase


@pytest.mark.parametrize("n", [2, 5, 17])
def test_unbiased_walk_is_the_gamblers_ruin(n):
    """No field, uniform gap: a packet injected next to the metal leaves through electrode C
    with probability 1/n and is re-absorbed by the metal otherwise (gambler's ruin on
    0..n with absorbing ends)."""
    g, phase = column(n)
    leak = ElectronLeak(g, ElectronParameters(temperature=T, delta_f=0.0))
    b = np.zeros(n)
    b[1] = 1.0
    f = leak.solve(phase, np.where(phase == SE, 0.0, np.nan), np.zeros(n), 0.0, b)
    assert f.exit_c == pytest.approx(1.0 / n, rel=1e-12)
    assert f.metal[0] == pytest.approx(1.0 - 1.0 / n, rel=1e-12)
    assert f.exit_a == 0.0 and not f.nucleation.any()


@pytest.mark.parametrize("beta", [-0.7, 0.3, 1.1])
def test_biased_walk_drifts_toward_higher_potential(beta):
    """A uniform field (phi rising by 2 beta kT/e per site, the electrode C at the matching
    potential) biases every hop by exp(+-beta): the exit probability is the biased gambler's
    ruin (1 - r) / (1 - r^n) with r = exp(-2 beta)."""
    n = 12
    g, phase = column(n)
    dphi = 2 * beta * VT
    phi = np.where(phase == SE, np.arange(n) * dphi, np.nan)
    leak = ElectronLeak(g, ElectronParameters(temperature=T, delta_f=0.0))
    b = np.zeros(n)
    b[1] = 1.0
    f = leak.solve(phase, phi, np.zeros(n), n * dphi, b)
    r = math.exp(-2 * beta)
    assert f.exit_c == pytest.approx((1 - r) / (1 - r ** n), rel=1e-10)


def test_traps_end_walks_in_nucleation_with_the_branching_ratio():
    """A single trap site next to the injection site: per visit the walk ends in nucleation
    with probability p_c k_n / (k_n + k_d); fluxes add up to the injection rate."""
    n = 6
    g, phase = column(n)
    trap = np.zeros(n)
    trap[2] = 0.6
    g = g.with_data(site={"trap_depth": trap})
    params = ElectronParameters(temperature=T, delta_f=0.0, nucleation_barrier=0.6)
    leak = ElectronLeak(g, params)
    kt = BOLTZMANN_EV * T
    k_d = params.trap_attempt_frequency * math.exp(-0.6 / kt)
    k_n = params.nucleation_attempt_frequency * math.exp(-0.6 / kt)
    assert leak.absorb[2] == pytest.approx((1 - math.exp(-0.6 / kt)) * k_n / (k_n + k_d))
    b = np.zeros(n)
    b[1] = 2.0
    f = leak.solve(phase, np.where(phase == SE, 0.0, np.nan), np.zeros(n), 0.0, b)
    assert f.nucleation[2] > 0 and f.nucleation.sum() == pytest.approx(f.nucleation[2])
    total = f.nucleation.sum() + f.metal.sum() + f.exit_a + f.exit_c
    assert total == pytest.approx(f.injected, rel=1e-12)


def polycrystal(gb_band_gap):
    rng = np.random.default_rng(3)
    shape = (24, 1, 24)
    grain, seeds = voronoi_grains(rng, shape, 0.5e-6, 2.8e-6)
    phase = np.zeros(shape, np.uint8)
    phase[10:14, 0, :6] = LI  # a flaw
    m = Microstructure(shape, 0.5e-6, grain, phase, random_orientations(rng, seeds.shape[0]), seeds)
    mat = resolve(load_material("llzo", {"gb_band_gap": f"{gb_band_gap} eV"}), T)
    return m.graph(order="c", material=mat), mat


def fluxes(gb_band_gap):
    g, mat = polycrystal(gb_band_gap)
    phase = np.asarray(g.site_data["phase"])
    sol = FieldSolver(g, FieldParameters.from_material(mat)).solve(phase, current=100.0 * 12e-6 * 0.5e-6)
    params = ElectronParameters.calibrated(mat, thickness=12e-6)
    h = g.spacing
    quantum = 96485.33212 * h ** 3 / (4 * 13e-6)
    lat = sol.interface_metal >= 0
    s = sol.interface_se
    rate = injection_rate(np.asarray(g.site_data["band_gap"])[s], sol.overpotential, params, h * h, quantum)
    b = np.bincount(s, rate, g.n_sites)
    metal_pot = np.zeros(g.n_sites)
    metal = phase == LI
    metal_pot[metal] = sol.cluster_potential[sol.clusters.label[metal]]
    leak = ElectronLeak(g, params)
    return g, leak.solve(phase, sol.phi, metal_pot, sol.voltage, b), lat


def test_fluxes_are_conserved_and_nucleation_needs_the_reduced_gap():
    """On a polycrystal with a Li flaw under current: every injected packet ends in
    nucleation, metal or an electrode (sum equal to the injection rate to 1e-9); nucleation
    happens only on trap sites (grain boundaries, triple junctions); and with the leak off
    (GB gap = bulk gap) the nucleation rate falls by more than ten orders of magnitude."""
    g, on, _ = fluxes(3.0)
    total = on.nucleation.sum() + on.metal.sum() + on.exit_a + on.exit_c
    assert total == pytest.approx(on.injected, rel=1e-9)
    trap = np.asarray(g.site_data["trap_depth"]) > 0
    assert on.nucleation.sum() > 0 and not on.nucleation[~trap].any()
    _, off, _ = fluxes(6.0)
    assert off.nucleation.sum() < 1e-10 * on.nucleation.sum()


def test_bulk_calibration_reproduces_the_electronic_conductivity():
    """Delta_F makes the zero-bias bulk contact conductance e A_R T^2 exp(-Phi_B/kT)/kT equal
    to sigma_e / L, and injection never exceeds the Richardson limit A_R T^2 a_f / q."""
    mat = resolve(load_material("llzo"), T)
    L = 40e-6
    p = ElectronParameters.calibrated(mat, thickness=L)
    kt = BOLTZMANN_EV * T
    phi_b = mat.band_gap / 2 - p.delta_f
    g0 = RICHARDSON * T ** 2 * math.exp(-phi_b / kt) / kt
    assert g0 == pytest.approx(mat.electronic_conductivity / L, rel=1e-12)
    area, q = 0.25e-12, 2.3e-10
    bulk = injection_rate(np.array([mat.band_gap]), np.array([0.0]), p, area, q)[0]
    assert bulk == pytest.approx(RICHARDSON * T ** 2 * area * math.exp(-phi_b / kt) / q, rel=1e-12)
    limit = RICHARDSON * T ** 2 * area / q
    r = injection_rate(np.array([3.0, 6.0, 6.0]), np.array([0.0, 0.05, 10.0]), p, area, q)
    assert r[0] == pytest.approx(limit) and r[2] == pytest.approx(limit)
    assert bulk < r[1] < limit  # a plating overpotential lowers the barrier
