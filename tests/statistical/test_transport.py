"""Transport of the lattice gas: diffusion, drift, Einstein relation, Arrhenius (VALIDATION.md A3, A4, A6).

Walkers are exactly independent: the kernel runs on ``m`` disjoint copies of a small periodic
lattice with one particle per copy (:func:`kmc_stat_helpers.disjoint_copies`), and the
unwrapped displacement accumulated from the edge vectors is what is measured. A periodic
copy is as good as an infinite lattice for a single walker, since nothing but the
displacement is observed. For a continuous-time walk with per-direction rates k_+, k_- along
an axis, the axis displacement is a*(N_+ - N_-) with independent N_+- ~ Poisson(k_+- t), so

    E[x] = a (k_+ - k_-) t,    Var[x] = a^2 (k_+ + k_-) t     (exactly, for every t),

which gives MSD = 2 d D t with D = nu' a^2 (A3) and v = nu' a (e^b - e^-b) (A4). Standard
errors are estimated from the ensemble (sample standard deviation over 2e4 - 4e4 walkers).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from kmc.codes import REACHED_TIME
from kmc.engine import lattice_gas_kernel
from kmc.graph import lattice_graph
from kmc.lattice_gas import edge_rates, hop_rate
from kmc.units import BOLTZMANN_EV

from kmc_stat_helpers import NO_EVENT_LIMIT, disjoint_copies

T = 300.0  # K
A = 2.5e-10  # lattice spacing [m]
NU = 1e13  # attempt frequency [1/s]
EA = 0.40  # barrier [eV]


def _walkers(shape, m, field=(0.0, 0.0, 0.0), charge_number=1, seed=0, order="c"):
    """Kernel over ``m`` disjoint periodic ``shape`` lattices, one particle at site 0 of each."""
    g = lattice_graph(shape, A, True, order=order)
    rates = edge_rates(g, attempt_frequency=NU, barrier=EA, temperature=T,
                       charge_number=charge_number, field=field)
    indptr, indices, vectors = disjoint_copies(g.indptr, g.indices, m, g.edge_vectors)
    occ = np.zeros(m * g.n_sites, np.uint8)
    occ[::g.n_sites] = 1
    kern = lattice_gas_kernel("cython", indptr, indices, np.tile(rates, m), occ,
                              np.random.PCG64(seed), vectors)
    return g, kern


def _advance(kern, t):
    status, _ = kern.run(t, NO_EVENT_LIMIT)
    assert status == REACHED_TIME and kern.time == t
    return kern.displacement


@pytest.mark.parametrize("shape", [(4, 4), (3, 3, 3)], ids=["square-2d", "cubic-3d"])
def test_A3_msd_slope(shape):
    """A3: unbiased walk, MSD(t) = 2 d D t with D = nu' a^2, nu' = nu exp(-Ea/kT).

    20000 independent walkers observed at t_k = k*tau, k = 1..5 (30 hops per walker on
    average at t_5). The slope of MSD(t) fitted by least squares through the origin,
    s = sum_k t_k MSD(t_k) / sum_k t_k^2, is linear in the data, so it is the ensemble mean
    of the per-walker slopes s_w = sum_k t_k |r_w(t_k)|^2 / sum_k t_k^2, which are i.i.d.;
    its standard error is SD(s_w)/sqrt(m), which accounts exactly for the correlation of
    MSD(t_k) between times. Acceptance: |s - 2 d D| < 4 SE; false-failure probability
    2*(1-Phi(4)) = 6.3e-5 (normal limit; the skewness of s, ~0.02, moves it by < 2e-5, and
    the SE's own sampling error with m = 2e4 is negligible), i.e. < 1e-4.

    Also exact: every unwrapped displacement equals the difference of the site positions
    modulo the box (displacement bookkeeping along periodic edges; the 3D case uses the
    Morton site numbering).
    """
    d = len(shape)
    m = 20_000
    nu_eff = hop_rate(NU, EA, T)
    D = nu_eff * A**2
    tau = 30.0 / (2 * d * nu_eff) / 5
    g, kern = _walkers(shape, m, seed=31 + d, order="morton" if d == 3 else "c")
    times = tau * np.arange(1, 6)
    r2 = np.empty((m, times.size))
    for k, t in enumerate(times):
        disp = _advance(kern, t)
        r2[:, k] = np.sum(disp**2, axis=1)
    slopes = r2 @ times / np.sum(times**2)
    s, se = slopes.mean(), slopes.std(ddof=1) / math.sqrt(m)
    assert abs(s - 2 * d * D) < 4.0 * se, (
        f"MSD slope {s:.5g} vs 2dD = {2 * d * D:.5g} (SE {se:.3g}, {(s - 2 * d * D) / se:+.2f} SE)")

    # exact bookkeeping: site positions and unwrapped displacements agree modulo the box
    local = kern.particle_sites % g.n_sites
    box = np.array(list(shape) + [1] * (3 - d)) * A
    wrapped = (g.positions[local] - g.positions[0] - disp) / box  # particles start at site 0
    np.testing.assert_allclose(wrapped, np.round(wrapped), atol=1e-9)


@pytest.mark.parametrize("shape,axis,z", [((4, 4), 0, 1), ((3, 3, 3), 2, 2)],
                         ids=["2d-x-z1", "3d-z-z2"])
def test_A4_drift_velocity(shape, axis, z):
    """A4: biased walk, drift v = nu' a (e^b - e^-b) with b = z e E a / (2 kT) = 0.5.

    The field (E = 2 kT b / (z a) along one lattice axis; charge number 1 in 2D, 2 in 3D)
    enters only through kmc.lattice_gas.edge_rates. 20000 walkers run to t with nu' t = 25;
    the drift estimate is mean(x)/t along the field and its SE is SD(x)/(sqrt(m) t) from the
    ensemble. Acceptance: |v_hat - v| < 4 SE; false-failure probability 6.3e-5 (normal
    limit; x is a difference of Poisson variables with means ~40 and ~15, so the mean of 2e4
    of them is normal to far better than this). The drift across the field must vanish
    too; that is not asserted separately (it would add false-failure probability), but the
    per-axis drift is printed on failure.
    """
    d = len(shape)
    m = 20_000
    b = 0.5
    E = 2.0 * BOLTZMANN_EV * T * b / (z * A)
    field = np.zeros(3)
    field[axis] = E
    nu_eff = hop_rate(NU, EA, T)
    t = 25.0 / nu_eff
    _, kern = _walkers(shape, m, field=field, charge_number=z, seed=41 + d)
    disp = _advance(kern, t)
    v_hat = disp.mean(axis=0) / t
    se = disp[:, axis].std(ddof=1) / (math.sqrt(m) * t)
    v = nu_eff * A * (math.exp(b) - math.exp(-b))
    assert abs(v_hat[axis] - v) < 4.0 * se, (
        f"drift {v_hat} m/s vs v = {v:.5g} along axis {axis} (SE {se:.3g})")


def test_A4_einstein_relation_small_bias():
    """A4: Einstein relation D / mu = kT / (z e) in the small-bias limit (b = 0.05).

    40000 walkers on a square lattice, field along x, run to nu' t = 45. Mobility from the
    drift, mu_hat = mean(x) / (t E); diffusion coefficient from the transverse axis, which
    the field does not touch (D_y = nu' a^2 exactly), D_hat = mean(y^2) / (2 t). The ratio
    r = D_hat / mu_hat is a ratio of ensemble means; its SE is the delta-method (ratio
    estimator) value SD(L_w)/sqrt(m) with L_w = (A_w - r B_w) / mean(B), A_w = y_w^2/(2t),
    B_w = x_w/(t E) (about 1.5 %). Acceptance: |r - kT/e| < 4 SE.

    Systematics: E[mu_hat] = mu * sinh(b)/b, a relative shift of b^2/6 = 4e-4 ~ 0.03 SE, and
    the ratio-estimator bias is O(1/m); the false-failure probability is therefore
    2*(1-Phi(4)) = 6.3e-5 up to < 5e-6, i.e. < 1e-4.
    """
    m = 40_000
    b = 0.05
    E = 2.0 * BOLTZMANN_EV * T * b / A
    nu_eff = hop_rate(NU, EA, T)
    t = 45.0 / nu_eff
    _, kern = _walkers((4, 4), m, field=(E, 0.0, 0.0), seed=51)
    disp = _advance(kern, t)
    A_w = disp[:, 1] ** 2 / (2.0 * t)
    B_w = disp[:, 0] / (t * E)
    r = A_w.mean() / B_w.mean()
    se = (A_w - r * B_w).std(ddof=1) / (abs(B_w.mean()) * math.sqrt(m))
    kT_over_q = BOLTZMANN_EV * T  # volts, z = 1
    assert se / kT_over_q < 0.03  # design: the test has power at the few-% level
    assert abs(r - kT_over_q) < 4.0 * se, f"D/mu = {r:.5g} V vs kT/e = {kT_over_q:.5g} V (SE {se:.3g})"


def test_A6_arrhenius_fit_recovers_barrier():
    """A6 (deterministic): rates at 5 temperatures, least-squares fit of ln k against 1/T.

    ln k = ln nu - Ea / (k_B T): the fitted barrier -slope * k_B and prefactor exp(intercept)
    must equal the inputs to relative error < 1e-6, both for hop_rate and for the rates that
    edge_rates puts on every edge of a field-free, energy-free lattice. k_B [eV/K] itself is
    checked against CODATA 2018 (exact SI definitions: 1.380649e-23 / 1.602176634e-19).
    """
    assert BOLTZMANN_EV == pytest.approx(8.617333262e-5, rel=1e-9)
    temps = np.array([250.0, 300.0, 350.0, 400.0, 450.0])
    nu, ea = 7.3e12, 0.537
    g = lattice_graph((3, 3, 3), A, True)
    k_hop = np.array([hop_rate(nu, ea, t) for t in temps])
    k_edges = np.array([edge_rates(g, attempt_frequency=nu, barrier=ea, temperature=t)
                        for t in temps])
    for t_idx in range(temps.size):
        np.testing.assert_allclose(k_edges[t_idx], k_hop[t_idx], rtol=1e-14)
    for k in (k_hop, k_edges[:, 0], k_edges[:, -1]):
        slope, intercept = np.polyfit(1.0 / temps, np.log(k), 1)
        assert abs(-slope * BOLTZMANN_EV / ea - 1.0) < 1e-6
        assert abs(math.exp(intercept) / nu - 1.0) < 1e-6


def test_rates_detailed_balance_and_bias_exact():
    """Deterministic: edge_rates obeys k_ij / k_ji = exp(-(E_j - E_i - z e E.d) / kT) for every
    bond of a 3D lattice with random site energies and an oblique field, the product
    k_ij k_ji = nu'^2 (symmetric split), and along an axis-parallel field with no energies
    the +/- rates are nu' e^{+-b} with b = z e E a / (2 kT) (relative error < 1e-12)."""
    g = lattice_graph((4, 3, 5), A, (True, False, True))
    rng = np.random.Generator(np.random.PCG64(5))
    energy = rng.normal(0.0, 0.08, g.n_sites)
    field = np.array([1.5e7, -4e7, 2.5e7])
    z = 2
    k = edge_rates(g, attempt_frequency=NU, barrier=EA, temperature=T, site_energy=energy,
                   charge_number=z, field=field)
    kT = BOLTZMANN_EV * T
    src, dst = g.sources, g.indices
    lookup = {(int(a), int(c)): e for e, (a, c) in enumerate(zip(src, dst))}
    rev = np.array([lookup[(int(c), int(a))] for a, c in zip(src, dst)])
    assert np.all(rev[rev] == np.arange(g.n_edges))
    expected_ratio = np.exp(-(energy[dst] - energy[src] - z * g.edge_vectors @ field) / kT)
    np.testing.assert_allclose(k / k[rev], expected_ratio, rtol=1e-12)
    np.testing.assert_allclose(k * k[rev], hop_rate(NU, EA, T) ** 2, rtol=1e-12)

    b = 0.3
    g2 = lattice_graph((5, 5), A, True)
    k2 = edge_rates(g2, attempt_frequency=NU, barrier=EA, temperature=T, charge_number=1,
                    field=(2 * kT * b / A, 0.0, 0.0))
    along = np.sign(g2.edge_vectors[:, 0])
    np.testing.assert_allclose(k2, hop_rate(NU, EA, T) * np.exp(b * along), rtol=1e-12)
