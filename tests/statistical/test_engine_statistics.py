"""Statistical validation of the kMC event loop (VALIDATION.md A1, A2, A5, piecewise rates).

Every statistical assertion states its acceptance band and the probability that a correct
engine still fails it ("false-failure probability"); the sum over the assertions of one
test is at most 1e-4. Seeds are fixed so a run is exactly reproducible, but no band is tuned
to a seed: each band is derived from the exact sampling distribution of its statistic.
The Cython-versus-reference comparison at the end is exact (bitwise), not statistical.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import linalg, stats

from kmc._sumtree import SumTree
from kmc.codes import REACHED_EVENTS, REACHED_TIME
from kmc.engine import lattice_gas_kernel
from kmc.graph import lattice_graph
from kmc.lattice_gas import edge_rates, hop_rate
from kmc.units import BOLTZMANN_EV

from kmc_stat_helpers import (
    NO_EVENT_LIMIT,
    bitwise_equal,
    chi2_critical,
    disjoint_copies,
    event_log,
    independent_site_rates,
    pearson,
)

T_ROOM = 300.0  # K
A = 2.5e-10  # lattice spacing [m]




# --------------------------------------------------------------------------------------------
# A1: waiting times
# --------------------------------------------------------------------------------------------

def test_A1_waiting_times_exponential_constant_rate():
    """A1: one particle on a 16x16 torus with uniform hop rate k, so R = 4k at every step.

    2e5 waiting times (differences of the logged clock) must be Exp(mean 1/R):

    * KS test against Expon(scale=1/R): fail if p < 3e-5 (the p-value of a continuous null
      is uniform, so the false-failure probability is exactly 3e-5);
    * sample mean within 4 standard errors of 1/R, SE = (1/R)/sqrt(n) (the exponential SD
      equals its mean): two-sided normal false-failure probability 2*(1-Phi(4)) = 6.3e-5
      (the exact Gamma(n) tail is computed in the test and also below 6.4e-5).

    Total false-failure probability <= 3e-5 + 6.4e-5 < 1e-4.
    """
    g = lattice_graph((16, 16), A, True)
    rates = edge_rates(g, attempt_frequency=1e13, barrier=0.5, temperature=T_ROOM)
    occ = np.zeros(g.n_sites, np.uint8)
    occ[37] = 1
    kern = lattice_gas_kernel("cython", g.indptr, g.indices, rates, occ, np.random.PCG64(20240601))
    R = 4.0 * hop_rate(1e13, 0.5, T_ROOM)
    assert kern.total_rate == pytest.approx(R, rel=1e-14)

    n = 200_000
    log = event_log(n)
    status, fired = kern.run(np.inf, n, event_log=log)
    assert (status, fired) == (REACHED_EVENTS, n)
    waits = np.diff(log[2], prepend=0.0)
    assert np.all(waits >= 0.0)

    ks = stats.kstest(waits, "expon", args=(0.0, 1.0 / R))
    assert ks.pvalue > 3e-5, f"KS statistic {ks.statistic:.3g}, p = {ks.pvalue:.3g}"

    mean, se = waits.mean(), (1.0 / R) / math.sqrt(n)
    # design check: the exact (Gamma) probability of leaving the +-4 SE band
    gam = stats.gamma(a=n, scale=1.0 / (R * n))
    assert gam.cdf(1 / R - 4 * se) + gam.sf(1 / R + 4 * se) < 6.4e-5
    assert abs(mean - 1.0 / R) < 4.0 * se, f"mean wait {mean:.6g} vs 1/R = {1 / R:.6g} (SE {se:.3g})"


def test_A1_scaled_waiting_times_interacting_gas():
    """A1 with a state-dependent total rate: 12x12 torus at coverage 0.4, random site energies
    (sd 0.05 eV) and a field, so R changes after every hop.

    For each of 1e5 single-event steps the total rate R read before the step times the step
    length must be Exp(1) (i.i.d. by the strong Markov property). KS test vs Expon(1): fail if
    p < 3e-5 (false-failure probability 3e-5); mean of R*dt within 4 SE = 4/sqrt(n) of 1
    (6.3e-5 two-sided normal). Total false-failure probability 9.3e-5. R itself is checked
    against an independent recomputation from the occupancy every 5000 steps (rel 1e-12).
    """
    g = lattice_graph((12, 12), A, True)
    setup = np.random.Generator(np.random.PCG64(11))
    energy = setup.normal(0.0, 0.05, g.n_sites)
    rates = edge_rates(g, attempt_frequency=1e13, barrier=0.45, temperature=T_ROOM,
                       site_energy=energy, field=(3e7, -1e7, 0.0))
    occ = np.zeros(g.n_sites, np.uint8)
    occ[setup.choice(g.n_sites, int(0.4 * g.n_sites), replace=False)] = 1
    kern = lattice_gas_kernel("cython", g.indptr, g.indices, rates, occ, np.random.PCG64(12))

    n = 100_000
    x = np.empty(n)
    for k in range(n):
        R, t0 = kern.total_rate, kern.time
        if k % 5000 == 0:
            exact = independent_site_rates(g.indptr, g.indices, rates, kern.occupancy).sum()
            assert R == pytest.approx(exact, rel=1e-12)
        status, fired = kern.run(np.inf, 1)
        assert (status, fired) == (REACHED_EVENTS, 1)
        x[k] = R * (kern.time - t0)

    ks = stats.kstest(x, "expon")
    assert ks.pvalue > 3e-5, f"KS statistic {ks.statistic:.3g}, p = {ks.pvalue:.3g}"
    assert abs(x.mean() - 1.0) < 4.0 / math.sqrt(n), f"mean of R*dt = {x.mean():.6f}"


# --------------------------------------------------------------------------------------------
# A2: event selection k_i / R
# --------------------------------------------------------------------------------------------

def _twelve_decade_leaves():
    """40 leaves: two random values in each decade 1e-6..1e6 (26 positive) and 14 zeros,
    shuffled (fixed seed), so zero leaves sit at both ends and between positive ones."""
    rng = np.random.Generator(np.random.PCG64(7))
    pos = np.concatenate([10.0 ** e * rng.uniform(1.0, 10.0, 2) for e in range(-6, 7)])
    inner = np.concatenate([pos, np.zeros(12)])
    rng.shuffle(inner)
    return np.concatenate([[0.0], inner, [0.0]])  # zero leaves at both ends too


def test_A2_sumtree_select_chi_squared():
    """A2 (a): SumTree.select over 40 leaves spanning 12 decades (1e-6..1e7) with 14 zeros.

    1e6 draws u = 1 - U (U uniform in [0,1) from PCG64) are fed one by one to select(u).
    Zero leaves must be chosen exactly 0 times (deterministic). Pearson chi-squared of the
    counts against n*k_i/R, bins with expected count < 5 pooled into one bin (the leaves
    below ~1e2, whose expectations are < 5: 1e6 draws resolve only the top ~5 decades, the
    deterministic test below covers the rest), must stay below the chi-squared critical
    value at p = 1e-4 for its degrees of freedom (with this seed 12 pooled bins, dof 11:
    chi2_{0.9999}(11) = 37.4): false-failure probability 1e-4 (asymptotic; every bin
    expects >= 5 and most expect > 1e3).
    """
    vals = _twelve_decade_leaves()
    tree = SumTree(vals.size)
    tree.rebuild(vals)
    R = tree.total
    assert R == pytest.approx(math.fsum(vals), rel=1e-15)

    n = 1_000_000
    rng = np.random.Generator(np.random.PCG64(99))
    sel = tree.select
    picks = np.fromiter((sel(u) for u in (1.0 - rng.random(n)).tolist()), dtype=np.intp, count=n)
    counts = np.bincount(picks, minlength=vals.size)

    assert counts[vals == 0.0].sum() == 0, "a zero-rate leaf was selected"
    chi2, dof = pearson(counts, n * vals / R)
    crit = chi2_critical(dof, 1e-4)
    assert dof >= 6  # design: several decades resolved (11 with this seed)
    assert chi2 < crit, f"chi2 = {chi2:.2f} > {crit:.2f} (dof {dof})"


def test_A2_sumtree_interval_ownership_all_decades():
    """A2 (a), deterministic complement: leaf i owns exactly the u-interval (C_{i-1}, C_i]/R.

    Uniform u then selects leaf i with probability k_i/R exactly, including the leaves at
    1e-6 that 1e6 draws cannot resolve (k/R ~ 1e-13, still far above the u resolution of
    1e-16). For every positive leaf, select(u) at the middle of its interval returns it;
    u = 1 returns the last positive leaf and the smallest u > 0 the first one; zero leaves
    are never returned. The cumulative sums C_i are exact (math.fsum); the tree's rounding
    (node sums and the descent's subtractions, <= 1 ulp(R) per level, 6 levels, plus u*R)
    moves a boundary by < 10 ulp(R), and the margin k_i/2 is checked to exceed 64 ulp(R).
    """
    vals = _twelve_decade_leaves()
    tree = SumTree(vals.size)
    tree.rebuild(vals)
    R = tree.total
    positive = np.flatnonzero(vals > 0.0)
    assert vals[positive].min() / 2 > 64 * np.spacing(R)
    for i in positive:
        mid = (math.fsum(vals[:i]) + 0.5 * vals[i]) / R
        assert tree.select(mid) == i
    assert tree.select(1.0) == positive[-1]
    assert tree.select(5e-324) == positive[0]
    assert tree.select(np.nextafter(0.0, 1.0) * 2**60) == positive[0]


def _star_forest():
    """Disjoint stars: particle p starts at the centre of star p.

    Centre rows list hops to the star's leaves with rates spanning up to 12 decades and with
    zero-rate edges first, in the middle and last; each leaf has one edge back to its centre
    whose rate equals the centre's propensity S_p (summed in row order, as the kernel does),
    so every particle's propensity is S_p wherever it is and the total R is constant.
    """
    decades = 10.0 ** (6.0 - 0.5 * np.arange(25))  # 1e6 ... 1e-6
    base = [0.0, *decades[:4], 0.0, *decades[4:12], 0.0, 0.0, *decades[12:], 0.0]
    scales = [1.0, 0.1, 1e-2, 1e-3, 1e-12, 0.0]
    centre_rates = [[r * s for r in base] for s in scales]
    centre_rates[2] = [0.0, 3e3, 0.0, 1e4, 2e2, 5e1, 0.0]  # a short, different row
    indptr, indices, rates, centres, star_of, slot_of = [0], [], [], [], [], []
    site = 0
    for p, row in enumerate(centre_rates):
        c = site
        leaves = list(range(c + 1, c + 1 + len(row)))
        s_p = 0.0
        for r in row:
            s_p += r
        centres.append(c)
        indices += leaves
        rates += row
        indptr.append(len(indices))
        star_of.append(p)
        slot_of.append(-1)
        for j, leaf in enumerate(leaves):
            indices.append(c)
            rates.append(s_p)
            indptr.append(len(indices))
            star_of.append(p)
            slot_of.append(j)
        site += 1 + len(row)
    return (np.array(indptr, np.intp), np.array(indices, np.intp), np.array(rates),
            np.array(centres), np.array(star_of), np.array(slot_of), centre_rates)


def test_A2_kernel_two_level_selection():
    """A2 (b): the kernel's two-level selection (tree over particles, then scan over hops).

    Six disjoint stars, one particle each (see :func:`_star_forest`); particle propensities
    S_p = 1.4e6 * (1, 0.1, ~1e-2, 1e-3, 1e-12, 0), edge rates within star 0 from 1e6 down to
    1e-6. 2e6 events are logged (1e6 of them hops out of a centre).

    * Zero-rate hops and the zero-propensity particle are never chosen (exact 0 counts).
    * Level 1: events per particle vs n*S_p/R (every event picks particle p with probability
      S_p/R, i.i.d.); pooled Pearson chi-squared (bins expecting < 5 pooled) below
      chi2_{1-5e-5}(dof): false-failure probability 5e-5.
    * Level 2: hops out of each centre vs n_p*k_e/S_p, n_p = that centre's number of hops
      (given the particle choices these are i.i.d. multinomial draws); the per-star pooled
      Pearson statistics are summed with their dofs and compared with chi2_{1-5e-5}(dof):
      false-failure probability 5e-5.

    Total false-failure probability 1e-4.
    """
    indptr, indices, rates, centres, star_of, slot_of, centre_rates = _star_forest()
    occ = np.zeros(indptr.size - 1, np.uint8)
    occ[centres] = 1
    kern = lattice_gas_kernel("cython", indptr, indices, rates, occ, np.random.PCG64(314159))
    S = np.array([sum(row) for row in centre_rates])
    R0 = kern.total_rate
    n = 2_000_000
    log = event_log(n)
    assert kern.run(np.inf, n, event_log=log) == (REACHED_EVENTS, n)
    assert kern.total_rate == R0  # propensities are position independent by construction
    src, dst = log[0], log[1]

    # zero-rate hops never fire: every hop taken must have a positive rate
    edge_of = {}
    for s in range(indptr.size - 1):
        for e in range(indptr[s], indptr[s + 1]):
            edge_of[(s, indices[e])] = e
    keys = np.unique(np.stack([src, dst], axis=1), axis=0)
    assert all(rates[edge_of[(int(a), int(b))]] > 0.0 for a, b in keys)

    # level 1: particle choice
    per_star = np.bincount(star_of[src], minlength=len(S))
    assert per_star[S == 0.0].sum() == 0
    chi2, dof = pearson(per_star, n * S / S.sum())
    crit = chi2_critical(dof, 5e-5)
    assert chi2 < crit, f"level-1 chi2 = {chi2:.2f} > {crit:.2f} (dof {dof})"

    # level 2: hop choice within each centre
    from_centre = slot_of[src] == -1
    total_chi2, total_dof = 0.0, 0
    for p, row in enumerate(centre_rates):
        mask = from_centre & (star_of[src] == p)
        n_p = int(mask.sum())
        if n_p == 0:
            continue
        counts = np.bincount(slot_of[dst[mask]], minlength=len(row))
        row = np.array(row)
        assert counts[row == 0.0].sum() == 0
        if n_p * np.sort(row)[-2] / S[p] < 5.0:  # fewer than two poolable bins: no test
            continue
        c, d = pearson(counts, n_p * row / S[p])
        total_chi2 += c
        total_dof += d
    assert total_dof >= 20
    crit = chi2_critical(total_dof, 5e-5)
    assert total_chi2 < crit, f"level-2 chi2 = {total_chi2:.2f} > {crit:.2f} (dof {total_dof})"


# --------------------------------------------------------------------------------------------
# A5: stationary occupancies (detailed balance, and a driven steady state)
# --------------------------------------------------------------------------------------------

def _small_graph():
    """6 sites, 9 bonds, degree 3: a triangular prism (2 x 3 lattice, axis 1 periodic);
    not bipartite, so no parity structure hides in the stationary law."""
    return lattice_graph((2, 3), A, (False, True))


def _master_equation(graph, rates, n_particles):
    """Configurations (sorted site tuples), generator Q (rows = from), stationary vector."""
    states = list(itertools.combinations(range(graph.n_sites), n_particles))
    index = {s: k for k, s in enumerate(states)}
    Q = np.zeros((len(states), len(states)))
    for k, st in enumerate(states):
        occ = set(st)
        for i in st:
            for e in range(graph.indptr[i], graph.indptr[i + 1]):
                j = int(graph.indices[e])
                if j not in occ:
                    Q[k, index[tuple(sorted((occ - {i}) | {j}))]] += rates[e]
    Q -= np.diag(Q.sum(axis=1))
    ns = linalg.null_space(Q.T)
    assert ns.shape[1] == 1, "the configuration graph must be irreducible"
    pi = ns[:, 0] / ns[:, 0].sum()
    return states, Q, pi


def _a5_case(case):
    # bounded energies: every configuration keeps a Boltzmann weight >= 1/100 of the largest
    setup = np.random.Generator(np.random.PCG64(2718))
    energy = setup.uniform(-0.03, 0.03, 6)
    if case == "ring6-driven":
        g = lattice_graph((6, 1), A, True)  # a ring along x; the field drives a current
        b = 0.4
        field = (2 * BOLTZMANN_EV * T_ROOM * b / A, 0.0, 0.0)
        return g, energy, field, 2
    return _small_graph(), energy, (0.0, 0.0, 0.0), int(case[-1])


A5_SEEDS = {"graph6-n1": 501, "graph6-n2": 502, "ring6-driven": 503}


@pytest.mark.parametrize("case", ["graph6-n1", "graph6-n2", "ring6-driven"])
def test_A5_stationary_occupancy(case):
    """A5: occupancies relax to the exact stationary vector of the master equation.

    Cases: a 6-site graph with random site energies (uniform in +-0.03 eV) and 1 or 2 particles with
    exclusion (reversible rates: the stationary vector must be Boltzmann, checked exactly to
    1e-10), and a 6-site ring with a driving field and 2 particles (not reversible: the
    stationary vector is a current-carrying steady state that differs from Boltzmann, which
    is checked too, so the comparison can discriminate).

    Samples: 20000 disjoint copies of the graph (exactly independent), all started in the
    same configuration and run to t_end; t_end is chosen from the spectral gap so that the
    exact transient law p(t_end) = p0 exp(Q t_end) is within 1e-9 (total variation) of the
    stationary vector, i.e. any bias is < 1e-4 counts in total. Pearson chi-squared of the
    configuration counts against 20000*pi (every bin expects > 5) must stay below
    chi2_{1-1e-4}(n_states - 1) (20.5 for 6 states, 36.1 for 15): false-failure
    probability 1e-4 (asymptotic).
    """
    g, energy, field, n_part = _a5_case(case)
    rates = edge_rates(g, attempt_frequency=1.0, barrier=0.0, temperature=T_ROOM,
                       site_energy=energy, field=field)
    states, Q, pi = _master_equation(g, rates, n_part)
    boltz = np.array([math.exp(-sum(energy[list(s)]) / (BOLTZMANN_EV * T_ROOM)) for s in states])
    boltz /= boltz.sum()
    if case == "ring6-driven":
        assert 0.5 * np.abs(pi - boltz).sum() > 0.02
    else:
        np.testing.assert_allclose(pi, boltz, rtol=1e-10, atol=0)

    ev = np.sort(np.linalg.eigvals(Q).real)
    gap = -ev[-2]
    t_end = 30.0 / gap
    p0 = np.zeros(len(states))
    p0[0] = 1.0
    pt = p0 @ linalg.expm(Q * t_end)
    assert 0.5 * np.abs(pt - pi).sum() < 1e-9

    m = 20_000
    indptr, indices = disjoint_copies(g.indptr, g.indices, m)
    occ1 = np.zeros(g.n_sites, np.uint8)
    occ1[list(states[0])] = 1
    kern = lattice_gas_kernel("cython", indptr, indices, np.tile(rates, m), np.tile(occ1, m),
                              np.random.PCG64(A5_SEEDS[case]))
    status, _ = kern.run(t_end, NO_EVENT_LIMIT)
    assert status == REACHED_TIME and kern.time == t_end
    occ = kern.occupancy.reshape(m, g.n_sites)
    assert np.all(occ.sum(axis=1) == n_part)
    code = occ.astype(np.int64) @ (1 << np.arange(g.n_sites))
    lookup = {sum(1 << i for i in s): k for k, s in enumerate(states)}
    counts = np.bincount([lookup[c] for c in code], minlength=len(states))
    assert (m * pi).min() > 5.0
    chi2, dof = pearson(counts, m * pi)
    assert dof == len(states) - 1
    crit = chi2_critical(dof, 1e-4)
    assert chi2 < crit, f"chi2 = {chi2:.2f} > {crit:.2f} (dof {dof})"


# --------------------------------------------------------------------------------------------
# piecewise-constant rates
# --------------------------------------------------------------------------------------------

def test_piecewise_constant_rates_event_counts():
    """Exact handling of rate switches at t_stop (memorylessness): a switched protocol.

    One particle on a 4x4 torus (propensity 4k everywhere, so its hops form a Poisson
    process). Each of 20000 periods has three segments: rate k1 on [0, T1) with 4 k1 T1 =
    1.5, rate k2 on [T1, T2) with 4 k2 (T2-T1) = 4.0, and all rates 0 on [T2, T3). The kernel
    is stopped at every switch (status REACHED_TIME, clock exactly on the switch) and the
    rates are replaced with set_edge_rates. Segment counts are independent Poisson variates:

    * zero-rate segments fire exactly 0 events (deterministic);
    * counts in the k1 segments vs Poisson(1.5) and in the k2 segments vs Poisson(4.0):
      pooled Pearson chi-squared below chi2_{1-1.5e-5}(dof), each with false-failure
      probability 1.5e-5;
    * total events N within 4 SE of Lambda = 20000*5.5 (SE = sqrt(Lambda), Poisson):
      6.3e-5 (two-sided normal; the Poisson(1.1e5) skewness 0.003 is negligible).

    Total false-failure probability 9.3e-5. A kernel that fired the event crossing t_stop,
    or kept a waiting time drawn with the old rate, would add ~1 event per segment.
    """
    g = lattice_graph((4, 4), A, True)
    T1, T2, T3 = 0.5, 1.0, 1.25  # s
    k1, k2 = 1.5 / (4 * T1), 4.0 / (4 * (T2 - T1))
    ones = np.ones(g.n_edges)
    occ = np.zeros(g.n_sites, np.uint8)
    occ[5] = 1
    kern = lattice_gas_kernel("cython", g.indptr, g.indices, k1 * ones, occ, np.random.PCG64(77))
    n_per = 20_000
    c1 = np.empty(n_per, np.int64)
    c2 = np.empty(n_per, np.int64)
    for i in range(n_per):
        base = i * T3
        for t_stop, nxt, out in ((base + T1, k2, c1), (base + T2, 0.0, c2), (base + T3, k1, None)):
            before = kern.n_events
            status, fired = kern.run(t_stop, NO_EVENT_LIMIT)
            assert status == REACHED_TIME and kern.time == t_stop
            assert fired == kern.n_events - before
            if out is None:
                assert fired == 0, "an event fired while all rates were zero"
            else:
                out[i] = fired
            kern.set_edge_rates(nxt * ones)

    for counts, lam, alpha in ((c1, 4 * k1 * T1, 1.5e-5), (c2, 4 * k2 * (T2 - T1), 1.5e-5)):
        kmax = int(counts.max()) + 1
        p = stats.poisson.pmf(np.arange(kmax), lam)
        p = np.append(p, stats.poisson.sf(kmax - 1, lam))
        obs = np.append(np.bincount(counts, minlength=kmax), 0)
        chi2, dof = pearson(obs, n_per * p)
        crit = chi2_critical(dof, alpha)
        assert chi2 < crit, f"Poisson({lam}) chi2 = {chi2:.2f} > {crit:.2f} (dof {dof})"

    lam_total = n_per * (4 * k1 * T1 + 4 * k2 * (T2 - T1))
    total = int(c1.sum() + c2.sum())
    assert total == kern.n_events
    assert abs(total - lam_total) < 4.0 * math.sqrt(lam_total), f"{total} events vs {lam_total}"


# --------------------------------------------------------------------------------------------
# Cython kernel vs pure-Python reference: same stream, same events (exact)
# --------------------------------------------------------------------------------------------

def _engine_case(dims):
    setup = np.random.Generator(np.random.PCG64(4242 + len(dims)))
    if len(dims) == 2:
        g = lattice_graph(dims, A, True)
        field = (2e7, 1e7, 0.0)
    else:
        # an open axis (rows of unequal length) and Morton site numbering
        g = lattice_graph(dims, A, (True, False, True), order="morton")
        field = (1e7, 0.0, -3e7)
    energy = setup.normal(0.0, 0.05, g.n_sites)
    occ = np.zeros(g.n_sites, np.uint8)
    occ[setup.choice(g.n_sites, int(round(0.3 * g.n_sites)), replace=False)] = 1

    def rates(f):
        return edge_rates(g, attempt_frequency=1e13, barrier=0.4, temperature=T_ROOM,
                          site_energy=energy, field=f)
    return g, occ, rates, field


def _run_engine(engine, g, occ, rates, field, seed, schedule):
    bitgen = np.random.PCG64(seed)
    kern = lattice_gas_kernel(engine, g.indptr, g.indices, rates(field), occ, bitgen, g.edge_vectors)
    logs, statuses = [], []
    for t_stop, n_max, new_field in schedule:
        if callable(t_stop):  # a stop relative to the clock reached so far
            t_stop = t_stop(kern.time)
        log = event_log(n_max)
        status, fired = kern.run(t_stop, n_max, event_log=log)
        statuses.append((status, fired, kern.time, kern.n_events))
        logs.append(tuple(a[:fired] for a in log))
        if new_field is not None:
            kern.set_edge_rates(rates(new_field))
    return kern, bitgen, logs, statuses


@pytest.mark.parametrize("dims", [(8, 8), (4, 4, 4)])
def test_cython_matches_reference_event_by_event(dims):
    """Same seed => the Cython kernel and kmc.reference fire identical events (exact).

    8x8 periodic and 4x4x4 (one open axis, Morton order) lattices with coverage 0.3, random
    site energies and a field; the run is piecewise: up
    to a t_stop t1 (about 1500 events in), the field is reversed with set_edge_rates, then
    2500 more events, then a second t_stop (0.4 t1 later) after which the field changes
    again, then 1000 events. Source,
    target and clock of every event, the statuses, final occupancy, particle sites, unwrapped
    displacements, tree nodes and the PCG64 state must be bitwise equal. No tolerance: this is
    a deterministic test (it cannot pass by chance).
    """
    g, occ, rates, field = _engine_case(dims)
    probe = lattice_gas_kernel("cython", g.indptr, g.indices, rates(field), occ, np.random.PCG64(0))
    probe.run(np.inf, 1500)
    t1 = probe.time  # about 1500 events in (another stream, so not exactly)
    neg = tuple(-f for f in field)
    schedule = [(t1, 100_000, neg), (np.inf, 2500, None), (lambda t: t + 0.4 * t1, 100_000, (0.5 * field[0], 0, 0)),
                (np.inf, 1000, None)]
    seed = 8675309
    kc, bc, logs_c, st_c = _run_engine("cython", g, occ, rates, field, seed, schedule)
    kr, br, logs_r, st_r = _run_engine("reference", g, occ, rates, field, seed, schedule)

    assert st_c[0][0] == REACHED_TIME and st_c[0][1] > 500 and st_c[0][2] == t1
    assert st_c[1][0] == REACHED_EVENTS
    assert st_c[2][0] == REACHED_TIME and st_c[2][1] > 100
    assert st_c == st_r
    for lc, lr in zip(logs_c, logs_r):
        assert np.array_equal(lc[0], lr[0]) and np.array_equal(lc[1], lr[1])
        assert bitwise_equal(lc[2], lr[2])
    assert np.array_equal(kc.occupancy, kr.occupancy)
    assert np.array_equal(kc.particle_sites, kr.particle_sites)
    assert bitwise_equal(kc.displacement, kr.displacement)
    assert bitwise_equal(kc.tree_nodes, kr.tree_nodes)
    assert kc.time == kr.time and kc.n_events == kr.n_events
    assert bc.state == br.state
    assert kc.check() and kr.check()
    # the logged hops are real hops of the lattice and the clock never decreases
    times = np.concatenate([lc[2] for lc in logs_c])
    assert np.all(np.diff(times) >= 0.0)
    bonds = set(zip(g.sources.tolist(), g.indices.tolist()))
    for lc in logs_c:
        assert set(zip(lc[0].tolist(), lc[1].tolist())) <= bonds
