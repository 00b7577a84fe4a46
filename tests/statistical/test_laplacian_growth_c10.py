"""VALIDATION.md C10: with mechanics and kinetics off and a uniform conductivity, Li grows by
Laplacian growth (the dielectric-breakdown model with eta = 1, DLA-like): a fractal of
box-counting dimension about 1.71 in 2D.

Set-up (:func:`plating_helpers.laplacian_deck`): single-crystal LLZO (uniform conductivity, no
grain boundaries), ``confinement = false`` (a full Li site grows into the electrolyte site it
plates from), no fracture, no creep, ``charge_transfer = "none"`` (i0 = infinity: the primary
current distribution), one quantum per site, and a one-site Li-filled surface flaw at the
centre of the plating face. Every deposit on lattice Li then grows one site at the end of a
metal-electrolyte bond chosen with probability proportional to the bond current (MODEL.md
section 5, item 1: k = I_ms / q): the dielectric-breakdown model with eta = 1 (Niemeyer,
Pietronero & Wiesmann 1984), whose random-walk dual is DLA (Witten & Sander 1981). Deposits on
the flat electrode face only move Li into the reservoir (``_give`` in ``ext/_plating.pyx``,
``RES_A`` pool entries in ``kmc.events.transfer``), so the flaw is the single
point of growth.

Literature values of the dimension (asymptotic, large clusters): DLA 1.70 +- 0.02 (Witten &
Sander 1981), 1.715 (Tolman & Meakin 1989, off lattice); DBM eta = 1 on the square lattice
1.75 +- 0.02 (Niemeyer et al. 1984). They are approached from below: the effective dimension at
intermediate scales is ~1.66 even for 1e6-particle clusters (Mandelbrot, Kol & Aharony 2002,
PRL 88, 055501), and at the sizes a five-minute test can grow (~1e3 sites, height 96 sites)
the box-counting slope over boxes of 2 to ~25 sites lies lower still: the branches are one
site wide, so the local slope falls toward 1 at the lattice scale, and the largest boxes see
the cluster's finite envelope. The asymptotic 1.71 is therefore not a usable target for the
finite-size box-counting slope. The slow test instead (a) compares the simulator with an
independent implementation of the same growth law on the same lattice
(:func:`plating_helpers.reference_dbm_cluster`, scipy.sparse only) run in the same test, which
measures the finite-size value of *this* estimator in *this* geometry, and (b) requires both to
lie in a window [1.30, 1.80] that separates a DLA-like fractal from compact growth (film, Eden
growth = DBM eta = 0: >= 1.9 at this height with this estimator) and from a needle (1.0).
The estimator is :func:`kmc.analysis.box_counting_dimension`, verified on sets of known
dimension (exact counts, finite-size bias) in ``tests/unit/test_morphology.py``; the fast test
here checks that a uniform film, a needle and an Eden cluster fail the window.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from kmc.analysis import box_counting_dimension, cluster_sizes, unwrap_periodic
from plating_helpers import c10_task, eden_cluster, run_parallel

#: cell of the slow test [sites]: 128 x 128 sites of 0.5 um (64 um x 64 um), grown to 3/4 of it
NX = NZ = 128
HEIGHT_FRACTION = 0.75
#: ensemble size of each of the two samples (simulator, reference)
N_SEEDS = 8
#: window of the mean box-counting dimension: above a needle (1.0) and below compact growth (2.0)
D_LOW, D_HIGH = 1.30, 1.80
#: family-wise false-failure budget of the slow test, split over its four statistical checks
ALPHA_FAMILY = 1e-4
ALPHA_EACH = ALPHA_FAMILY / 4


def window_failure(values, low, high, alpha):
    """None if the two-sided (1 - alpha) Student-t confidence interval of the mean of
    ``values`` reaches the window [low, high]; else a message saying how it misses.

    If the true mean lies in the window, the interval misses the window only when it misses
    the true mean: probability <= alpha (normal data). The interval half-width t s / sqrt(n)
    is the seed-to-seed spread of the ensemble; a sample without spread (identical shapes)
    is judged by its mean alone."""
    v = np.asarray(values, float)
    n = v.size
    mean = float(v.mean())
    half = float(stats.t.isf(alpha / 2, n - 1) * v.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    if mean - half > high or mean + half < low:
        return (f"mean D = {mean:.3f} +- {half:.3f} ({100 * (1 - alpha):.4f}% t-interval, n = {n}) "
                f"misses the window [{low}, {high}]")
    return None


def _connected_to_seed(grid, seed_site):
    """True if the True sites of ``grid`` (periodic along x, 4-neighbour) form one cluster
    containing ``seed_site``."""
    return cluster_sizes(grid, periodic=(True, False)).size == 1 and bool(grid[seed_site])


# --------------------------------------------------------------------------------------
# fast: the window
# --------------------------------------------------------------------------------------

def _sierpinski_triangle(k):
    """Pascal's triangle mod 2 on 2^k x 2^k sites: D = log 3 / log 2 exactly."""
    i, j = np.indices((2 ** k, 2 ** k))
    return (i & j) == 0


def test_non_laplacian_shapes_fail_the_c10_window():
    """The window check of the slow test rejects what Laplacian growth must not produce, at
    the slow test's cell size and height (128 x 128 sites, grown to 96 layers), and accepts a
    genuine fractal:

    * a uniform film (the face plated evenly: full-width layers 89-96 sites thick, D ~ 2),
    * a needle (straight columns 89-96 sites high, D = 1),
    * an Eden ensemble (DBM eta = 0: every bond equally likely, no field), 8 clusters grown
      from the same one-site flaw to the same height (compact, D = 2),

    each treated as an 8-member ensemble exactly like the simulator's, all fail; Sierpinski
    triangles (D = 1.585) of sizes 2^7 and 2^8 pass. Deterministic (fixed seeds 0-7)."""
    height = math.ceil(HEIGHT_FRACTION * NZ)
    films, needles = [], []
    for k in range(8):
        g = np.zeros((NX, NZ), bool)
        g[:, :height - k] = True
        films.append(box_counting_dimension(unwrap_periodic(g))[0])
        g = np.zeros((NX, NZ), bool)
        g[NX // 2, :height - k] = True
        needles.append(box_counting_dimension(g)[0])
    eden = [box_counting_dimension(unwrap_periodic(eden_cluster(NX, NZ, seed, HEIGHT_FRACTION)))[0]
            for seed in range(8)]
    for label, dims in (("film", films), ("needle", needles), ("eden", eden)):
        assert window_failure(dims, D_LOW, D_HIGH, ALPHA_EACH) is not None, (label, dims)
    tri = [box_counting_dimension(_sierpinski_triangle(k))[0] for k in (7, 8)]
    assert window_failure(tri, D_LOW, D_HIGH, ALPHA_EACH) is None, tri


# --------------------------------------------------------------------------------------
# slow: the simulator's Laplacian growth
# --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_C10_laplacian_growth_is_a_dla_like_fractal():
    """C10: the simulator's Laplacian growth has the box-counting dimension of the
    dielectric-breakdown model (eta = 1), a DLA-like fractal.

    Ensembles: 8 simulator runs (kmc seeds 1-8) and 8 independent reference DBM runs (seeds
    1001-1008) on the same 128 x 128-site cell (h = 0.5 um, periodic in x), each grown from
    the one-site flaw until the cluster reaches 96 layers (3/4 of the thickness); box-counting
    dimension D of each final cluster over 8 box sizes from 2 sites to 1/4 of the cluster's
    size (its bounding box's longer side): :func:`kmc.analysis.box_counting_dimension`, whose
tests are in ``tests/unit/test_morphology.py``.

    Acceptance (all four; ALPHA_EACH = 2.5e-5 each):

    1. Welch's t-test, simulator vs reference D: two-sided p >= 2.5e-5;
    2. Welch's t-test, simulator vs reference log(number of Li sites at the target height)
       (the mass-height relation, N ~ H^D): p >= 2.5e-5;
    3. the (1 - 2.5e-5) t-interval of the simulator's mean D reaches [1.30, 1.80];
    4. the same for the reference (a guard on the reference itself).

    Plus deterministic checks: every run stopped at the target height and its Li is one
    cluster (periodic 4-neighbour connectivity) containing the flaw site.

    False-failure probability: if the simulator implements eta = 1 growth, checks 1 and 2
    compare two samples of the same distribution and each rejects with probability <= 2.5e-5
    (the per-seed D and log N are smooth functions of many counts, close to normal; Welch's
    test does not assume equal variances). Checks 3 and 4 fail only if a t-interval misses
    its true mean (<= 2.5e-5 each) as long as that mean lies in the window: the window's
    upper edge 1.80 lies above every reported DLA/DBM(eta = 1) dimension (<= 1.75 +- 0.02),
    and the finite-size error of this estimator is downward (unit tests: compact sets come
    out at 1.92-1.97, not 2); the lower edge 1.30 leaves 0.4 below the asymptotic 1.71 for
    the finite-size deficit (the effective dimension at intermediate scales is ~1.66 even for
    large clusters, lower for ~1e3-site lattice clusters; the reference ensemble in this same
    test measures it). Family-wise (Bonferroni): <= 1e-4.

    What makes it fail: growth that ignores or distorts the field (uniform, Eden-like growth:
    D >= 1.9 at this height, fast test), growth biased to the tips (DBM eta > 1: sparser,
    lower D and fewer sites at a given height), a wrong field (e.g. Li not equipotential),
    growth into the wrong site. With a seed-to-seed spread of D of a few hundredths (printed
    with ``-s``), Welch's test at 8 + 8 runs detects a shift of the mean D of ~0.1 (a quarter
    of the distance to compact growth) with probability >= 1/2.

    Runtime: about 2.5 minutes on 2 free cores (16 runs of 10-30 s in 2 worker processes).
    """
    target = math.ceil(HEIGHT_FRACTION * NZ)
    tasks = [("kmc", NX, NZ, s) for s in range(1, N_SEEDS + 1)]
    tasks += [("reference", NX, NZ, 1000 + s) for s in range(1, N_SEEDS + 1)]
    runs = run_parallel(c10_task, tasks)
    kmc = [r for r in runs if r["kind"] == "kmc"]
    ref = [r for r in runs if r["kind"] == "reference"]

    for r in runs:
        assert r["stop"] == "height" and r["height"] == target, (r["kind"], r["seed"], r["stop"])
        assert _connected_to_seed(r["grid"], (NX // 2, 0)), (r["kind"], r["seed"])
    d_kmc = np.array([r["dimension"] for r in kmc])
    d_ref = np.array([r["dimension"] for r in ref])
    n_kmc = np.log([r["sites"] for r in kmc])
    n_ref = np.log([r["sites"] for r in ref])
    summary = (f"D kmc {d_kmc.mean():.3f} +- {d_kmc.std(ddof=1):.3f} (sd), reference "
               f"{d_ref.mean():.3f} +- {d_ref.std(ddof=1):.3f}; sites kmc "
               f"{np.exp(n_kmc.mean()):.0f}, reference {np.exp(n_ref.mean()):.0f} "
               f"(geometric means); "
               f"wall kmc {np.mean([r['wall'] for r in kmc]):.1f} s/run, reference "
               f"{np.mean([r['wall'] for r in ref]):.1f} s/run")
    print("\nC10:", summary)
    print("C10 per run (kind, seed, sites, D):",
          [(r["kind"], r["seed"], r["sites"], round(r["dimension"], 3)) for r in runs])

    p_d = stats.ttest_ind(d_kmc, d_ref, equal_var=False).pvalue
    p_n = stats.ttest_ind(n_kmc, n_ref, equal_var=False).pvalue
    assert p_d >= ALPHA_EACH, \
        f"simulator and reference D differ: Welch p = {p_d:.2e}; {summary}"
    assert p_n >= ALPHA_EACH, \
        f"simulator and reference mass at the target height differ: Welch p = {p_n:.2e}; {summary}"
    for label, dims in (("simulator", d_kmc), ("reference", d_ref)):
        failure = window_failure(dims, D_LOW, D_HIGH, ALPHA_EACH)
        assert failure is None, f"{label}: {failure}; {summary}"
