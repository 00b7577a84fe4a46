"""The quasi-static electron walk (kmc.electrons): exact answers of absorbing random walks,
flux conservation, detailed balance of injection, the Ohmic leakage of a slab, the
nucleation law and the calibration of Delta_F and the mobility (MODEL.md 5.4-5.6, 10.7)."""
import math

import numpy as np
import pytest

from kmc.clusters import CLASS_A, CLASS_FLOATING
from kmc.codes import FACE_A, FACE_C, LI, SE
from kmc.electrons import (ElectronLeak, ElectronParameters, conduction_band_density,
                           injection_rate, slab_conductivity)
from kmc.field import FieldParameters, FieldSolver
from kmc.graph import lattice_graph
from kmc.materials import load_material, resolve
from kmc.microstructure import Microstructure
from kmc.tessellation import random_orientations, voronoi_grains
from kmc.units import BOLTZMANN_EV, ELEMENTARY_CHARGE

T = 298.15
VT = BOLTZMANN_EV * T
H = 0.5e-6
NONE = np.array([], np.intp)


def column(n, trap=0.0, metal=(0,)):
    """A column of n sites along z (site 0 on face A, site n-1 on face C); ``metal`` sites are
    Li."""
    g = lattice_graph((1, 1, n), H, periodic=(False, False, False), order="c")
    face = np.zeros(n, np.int8)
    face[0], face[-1] = FACE_A, FACE_C
    g = g.with_data(site={"band_gap": np.full(n, 6.0), "trap_depth": np.full(n, trap),
                          "youngs_modulus": np.full(n, 150e9), "face": face})
    phase = np.full(n, SE, np.uint8)
    phase[list(metal)] = LI
    return g, phase


def phi_of(phase, values=0.0):
    return np.where(phase == SE, values, np.nan)


@pytest.mark.parametrize("n", [2, 5, 17])
def test_unbiased_walk_is_the_gamblers_ruin(n):
    """No field, uniform gap: a packet injected next to the metal leaves through electrode C
    with probability 1/n and is re-absorbed by the metal otherwise (gambler's ruin on
    0..n with absorbing ends)."""
    g, phase = column(n)
    leak = ElectronLeak(g, ElectronParameters(temperature=T, delta_f=0.0))
    b = np.zeros(n)
    b[1] = 1.0
    (f,) = leak.walk(phase, phi_of(phase), np.zeros(n), 0.0, NONE, np.array([n - 1]),
                     [(b, None)])
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
    leak = ElectronLeak(g, ElectronParameters(temperature=T, delta_f=0.0))
    b = np.zeros(n)
    b[1] = 1.0
    (f,) = leak.walk(phase, phi_of(phase, np.arange(n) * dphi), np.zeros(n), n * dphi, NONE,
                     np.array([n - 1]), [(b, None)])
    r = math.exp(-2 * beta)
    assert f.exit_c == pytest.approx((1 - r) / (1 - r ** n), rel=1e-10)


def test_traps_end_walks_in_nucleation_with_the_branching_ratio():
    """A single trap site next to the injection site, electrons with a driving force
    (eta_n = 0: the barrier dG* for any eta > 0): per visit the walk ends in nucleation with
    probability p_c k_n / (k_n + k_d); fluxes add up to the injection rate; electrons from a
    metal at the electrolyte's potential or above reduce nothing."""
    n = 6
    g, phase = column(n)
    trap = np.zeros(n)
    trap[2] = 0.6
    g = g.with_data(site={"trap_depth": trap})
    params = ElectronParameters(temperature=T, delta_f=0.0, nucleation_barrier=0.6)
    leak = ElectronLeak(g, params)
    k_d = params.trap_attempt_frequency * math.exp(-0.6 / VT)
    k_n = params.nucleation_attempt_frequency * math.exp(-0.6 / VT)
    phi = phi_of(phase, 0.01)
    absorb, _ = leak.branching(phi, 0.0)
    assert absorb[2] == pytest.approx((1 - math.exp(-0.6 / VT)) * k_n / (k_n + k_d))
    assert not leak.branching(phi, 0.01)[0].any() and not leak.branching(phi, None)[0].any()
    b = np.zeros(n)
    b[1] = 2.0
    (f,) = leak.walk(phase, phi, np.zeros(n), 0.0, NONE, np.array([n - 1]), [(b, 0.0)])
    assert f.nucleation[2] > 0 and f.nucleation.sum() == pytest.approx(f.nucleation[2])
    total = f.nucleation.sum() + f.metal.sum() + f.exit_a + f.exit_c
    assert total == pytest.approx(f.injected, rel=1e-12)


def test_nucleation_barrier_falls_as_the_inverse_square_of_the_driving_force():
    """Classical nucleation: k_n = nu_n exp(-dG* (eta_n/eta)^2 / kT), so ln k_n(eta1) -
    ln k_n(eta2) = dG* eta_n^2 (1/eta2^2 - 1/eta1^2) / kT; the branching a = p_c k_n/(k_n + k_d)
    is inverted for k_n at two driving forces."""
    n = 4
    g, phase = column(n, trap=0.7)
    params = ElectronParameters(temperature=T, delta_f=0.0, nucleation_barrier=0.4,
                                nucleation_overpotential=0.1)
    leak = ElectronLeak(g, params)
    k_d = params.trap_attempt_frequency * math.exp(-0.7 / VT)
    p_c = -math.expm1(-0.7 / VT)

    def k_n(eta):
        a = leak.branching(phi_of(phase, eta), 0.0)[0][1]
        return a * k_d / (p_c - a)

    expected = 0.4 * 0.1 ** 2 * (1 / 0.12 ** 2 - 1 / 0.09 ** 2) / VT
    assert math.log(k_n(0.12) / k_n(0.09)) == pytest.approx(-expected, rel=1e-6)


def test_injection_obeys_detailed_balance_with_the_walk():
    """One Li cluster (both ends of a column, at 0 V) in an electrolyte whose potential rises
    from 0 to 40 mV: the electrons are in equilibrium with one Fermi level, so each metal site
    absorbs exactly what it injects (to 1e-10). The injection law of MODEL.md 5.4, barrier
    lowered by the full bias and only for eta > 0, gives the two ends a net electron current
    through the electrolyte at equilibrium (a perpetual current): here 3.9% of the injection."""
    n = 9
    g, phase = column(n, metal=(0, n - 1))
    params = ElectronParameters(temperature=T, delta_f=2.5, mobility=1e-8)
    leak = ElectronLeak(g, params)
    phi = phi_of(phase, np.linspace(0.0, 4e-2, n))
    q = 1e-12
    sites = np.array([1, n - 2])
    eta = phi[sites] - 0.0
    net = {}
    for law, rate in (("symmetric", injection_rate(np.full(2, 6.0), eta, params, H, q)),
                      ("one-sided", injection_rate(np.full(2, 6.0), 2 * np.maximum(eta, 0.0),
                                                   params, H, q))):
        b = np.bincount(sites, rate, n)
        (f,) = leak.walk(phase, phi, np.zeros(n), 0.0, NONE, NONE, [(b, None)])
        net[law] = (rate - f.metal[[0, n - 1]]) / rate.sum()
    assert np.abs(net["symmetric"]).max() < 1e-10
    assert np.abs(net["one-sided"]).max() > 0.03


def test_a_homogeneous_slab_leaks_ohmically_with_the_conduction_band_conductivity():
    """A slab of one gap between two electrodes in contact, a uniform field (0.1 mV): the net
    electron current equals sigma V A / L_eff with sigma = e mu N_c exp(-Phi_B/kT)
    (:func:`slab_conductivity`) and L_eff = (n + 1) h (n sites, n + 1 hops from electrode to
    electrode), to 1e-3 (linear response); and it is linear in V."""
    n = 40
    g, phase = column(n, metal=())
    params = ElectronParameters(temperature=T, delta_f=2.3, mobility=1e-7)
    leak = ElectronLeak(g, params)
    q = 2.3e-10

    def current(v):
        phi = phi_of(phase, v * (np.arange(n) + 1) / (n + 1))
        f = leak.solve(phase, phi, np.zeros(n), np.full(n, -1), v, np.array([0]),
                       np.array([n - 1]), q)
        return q * f.leakage

    sigma = slab_conductivity(params, 3.0 - 2.3)
    v = 1e-4
    assert current(v) == pytest.approx(sigma * v * H * H / ((n + 1) * H), rel=1e-3)
    assert current(2 * v) == pytest.approx(2 * current(v), rel=1e-3)


def test_calibration_sets_the_gb_barrier_from_the_activation_energy_and_mu_from_sigma():
    """Delta_F = Eg_GB/2 - (E_a - 2.5 kT_ref); f e mu N_c exp(-Phi_GB/kT_ref) = sigma_e(T_ref),
    from a material resolved at any temperature; N_c = 2.5e25 m^-3 at 300 K (m = m_e)."""
    assert conduction_band_density(300.0) == pytest.approx(2.51e25, rel=2e-3)
    raw = load_material("llzo")
    for temperature in (298.15, 340.0):
        mat = resolve(raw, temperature)
        p = ElectronParameters.calibrated(mat)
        kt_ref = BOLTZMANN_EV * raw.reference_temperature
        phi_gb = mat.electronic_activation_energy - 2.5 * kt_ref
        assert p.delta_f == pytest.approx(mat.gb_band_gap / 2 - phi_gb, rel=1e-12)
        at_ref = ElectronParameters(temperature=raw.reference_temperature, delta_f=p.delta_f,
                                    mobility=p.mobility)
        sigma = mat.electron_leak_path_factor * slab_conductivity(at_ref, phi_gb)
        assert sigma == pytest.approx(raw.values["electronic_conductivity"].value, rel=1e-12)
        assert 1e-8 < p.mobility < 1e-4  # m^2/(V s): polaron hopping, < 1 cm^2/(V s)


def test_injection_is_capped_at_the_barrier_free_rate():
    """A bias larger than twice the barrier injects at the barrier-free rate
    e N_c v_eff a_f / q, and v_eff -> mu kT/(e h) for a small mobility."""
    p = ElectronParameters(temperature=T, delta_f=2.0, mobility=1e-7)
    q = 2.3e-10
    free = ELEMENTARY_CHARGE * conduction_band_density(T) * p.velocity(H) * H * H / q
    r = injection_rate(np.array([4.0, 4.0, 6.0]), np.array([0.0, 10.0, 0.0]), p, H, q)
    assert r[1] == pytest.approx(free, rel=1e-12)
    assert r[0] == pytest.approx(free * math.exp(-0.0 / VT), rel=1e-12)  # Eg/2 = Delta_F
    assert r[2] == pytest.approx(free * math.exp(-1.0 / VT), rel=1e-12)
    assert p.velocity(H) == pytest.approx(1e-7 * VT / H, rel=1e-6)


def polycrystal():
    rng = np.random.default_rng(3)
    shape = (24, 1, 24)
    grain, seeds = voronoi_grains(rng, shape, H, 2.8e-6)
    phase = np.zeros(shape, np.uint8)
    phase[10:14, 0, :6] = LI  # a flaw
    m = Microstructure(shape, H, grain, phase, random_orientations(rng, seeds.shape[0]), seeds)
    mat = resolve(load_material("llzo"), T)
    return m.graph(order="c", material=mat), mat


def test_fluxes_are_conserved_and_nucleation_happens_only_on_traps():
    """On a polycrystal with a Li flaw on electrode A under 20 mA/cm^2 (eta up to ~0.3 V):
    every injected packet ends in nucleation, metal or an electrode (sum equal to the
    injection rate to 1e-9), nucleation happens only on trap sites (grain boundaries, triple
    junctions), and at rest (no current) nothing nucleates."""
    g, mat = polycrystal()
    phase = np.asarray(g.site_data["phase"])
    params = ElectronParameters.calibrated(mat, nucleation_overpotential=0.1)
    leak = ElectronLeak(g, params)
    face = np.asarray(g.site_data["face"])
    face_a, face_c = (np.flatnonzero((face == f) & (phase == SE)) for f in (FACE_A, FACE_C))
    side = np.where(phase == LI, CLASS_A, -1)
    trap = np.asarray(g.site_data["trap_depth"]) > 0
    solver = FieldSolver(g, FieldParameters.from_material(mat))
    for current, nucleates in ((200.0, True), (0.0, False)):
        sol = solver.solve(phase, current=current * 12e-6 * H)
        f = leak.solve(phase, sol.phi, np.zeros(g.n_sites), side, sol.voltage, face_a, face_c,
                       1e-10)
        total = f.nucleation.sum() + f.metal.sum() + f.exit_a + f.exit_c
        assert total == pytest.approx(f.injected, rel=1e-9)
        assert (f.nucleation.sum() > 0) == nucleates and not f.nucleation[~trap].any()
    assert CLASS_FLOATING != CLASS_A


def test_large_walks_by_the_reversible_symmetrisation_equal_the_direct_solve():
    """Above ``direct_limit`` live sites the walk is solved as the symmetric I - K,
    K = pi^(1/2) Q pi^(-1/2) (a reversible chain), by AMG-preconditioned CG: on the polycrystal
    with a flaw under current, every flux equals the sparse-LU answer to 1e-9."""
    g, mat = polycrystal()
    phase = np.asarray(g.site_data["phase"])
    params = ElectronParameters.calibrated(mat, nucleation_overpotential=0.0)
    face = np.asarray(g.site_data["face"])
    face_a, face_c = (np.flatnonzero((face == f) & (phase == SE)) for f in (FACE_A, FACE_C))
    side = np.where(phase == LI, CLASS_A, -1)
    sol = FieldSolver(g, FieldParameters.from_material(mat)).solve(phase, current=200 * 12e-6 * H)
    out = []
    for limit in (10**9, 0):
        leak = ElectronLeak(g, params)
        leak.direct_limit = limit
        out.append(leak.solve(phase, sol.phi, np.zeros(g.n_sites), side, sol.voltage, face_a,
                              face_c, 1e-10))
    lu, cg = out
    assert lu.nucleation.sum() > 0
    for name in ("nucleation", "metal", "trapped"):
        a, b = getattr(lu, name), getattr(cg, name)
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-9 * np.abs(a).max())
    assert cg.leakage == pytest.approx(lu.leakage, rel=1e-9)


def test_a_packet_escaping_an_explicit_trap_walks_on_from_its_neighbours():
    """Exact (release_fates): a column with metal at site 0, electrode C beyond site n-1 and
    an explicit trap (capture p_c = 0.54 per visit) at site k. A walk that visits k ends in
    its capture with p_c and otherwise leaves as an escaped packet does, so the outcome of a
    visit is p_c (captured at k) + (1 - p_c) (fate of an escape); the escape's outcomes add
    up to one and include recapture at k."""
    n, k = 9, 4
    g, phase = column(n, metal=(0,))
    depth = np.zeros(n)
    depth[k] = 0.02
    g = g.with_data(site={**g.site_data, "trap_depth": depth})
    params = ElectronParameters(temperature=T, delta_f=0.0, explicit_trap_time=1e-30)
    leak = ElectronLeak(g, params)
    assert np.flatnonzero(leak.explicit).tolist() == [k]
    p_c = leak.capture[k]
    assert 0.5 < p_c < 0.6
    args = (phase, phi_of(phase), np.zeros(n), 0.0, NONE, np.array([n - 1]))
    (fate,) = leak.release_fates(*args, [(k, 0.0)])
    b = np.zeros(n)
    b[k] = 1.0
    (visit,) = leak.walk(*args, [(b, 0.0)], explicit=True)
    total = fate.exit_c + fate.metal.sum() + fate.captured.sum() + fate.nucleation.sum()
    assert total == pytest.approx(1.0, rel=1e-12)
    assert 0.0 < fate.captured[k] < 1.0
    expected_capture = p_c + (1 - p_c) * fate.captured[k]
    assert visit.captured[k] == pytest.approx(expected_capture, rel=1e-12)
    assert visit.exit_c == pytest.approx((1 - p_c) * fate.exit_c, rel=1e-12)
    assert visit.metal[0] == pytest.approx((1 - p_c) * fate.metal[0], rel=1e-12)
    assert not leak.walk(*args, [(b, 0.0)])[0].captured.any()  # quasi-static: no capture
