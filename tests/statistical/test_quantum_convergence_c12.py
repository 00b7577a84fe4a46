"""VALIDATION.md C12: refining the charge quantum (n_q = 4, 8, 16 quanta per site) leaves the
ensemble statistics of a run unchanged within their confidence intervals.

Deck: ``inputs/llzo_ideal_2d.toml`` (polycrystalline Al-LLZO, two Li-filled surface
flaws 5 um deep, Griffith fracture, creep with the micropillar creep law, 10 mA/cm^2) with
the cell shrunk from 40 um x 40 um to 20 um x 20 um and the two flaws moved from x = 10, 30 um
to x = 5, 15 um (the same spacing relative to the width); everything else, physics included,
as shipped. Such a run shorts through cracks in well under a second of wall time.

The quantum q = F h^3 / (n_q V_m) sets how finely charge and time are resolved (MODEL.md
section 5): a converged model gives the same time to short and the same charge passed before
the short whatever n_q. The runs are :class:`kmc.Ensemble` tasks with ``vary =
"microstructure"``: every task has its own seed, SeedSequence(master, spawn_key=(task,)), and
so its own microstructure and event stream; the groups are independent samples.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from kmc.deck import loads_deck
from plating_helpers import run_ensemble

ROOT = Path(__file__).resolve().parents[2]
QUANTA = (4, 8, 16)
#: runs per ensemble
N_RUNS = 100
#: family-wise false-failure probability of the convergence test, and its Bonferroni share
#: over 3 pairs of n_q x 2 statistics
ALPHA_FAMILY = 1e-4
N_COMPARISONS = 3 * 2
ALPHA_EACH = ALPHA_FAMILY / N_COMPARISONS


def small_deck(quanta_per_site, seed, current_density="10 mA/cm^2"):
    """The shipped 2D polycrystal deck, shrunk to 20 um x 20 um (see the module docstring),
    as TOML text. Every replacement must hit, so a change of the shipped deck is noticed."""
    text = (ROOT / "inputs" / "llzo_ideal_2d.toml").read_text()
    edits = [
        ('thickness = "40 um"', 'thickness = "20 um"'),
        ('width = "40 um"', 'width = "20 um"'),
        ('x_positions = ["10 um", "30 um"]', 'x_positions = ["5 um", "15 um"]'),
        ("quanta_per_site = 4", f"quanta_per_site = {quanta_per_site}"),
        ('current_density = "10 mA/cm^2"', f'current_density = "{current_density}"'),
        ("seed = 1", f"seed = {seed}"),
        ("observations = 101", "observations = 2"),   # scalars only: no time series needed
        ("snapshots = 5", "snapshots = 0"),
    ]
    for old, new in edits:
        assert text.count(old) == 1, f"llzo_ideal_2d.toml changed: {old!r} not found once"
        text = text.replace(old, new)
    return text


def _groups(merged, wall, current_density):
    """Per-group arrays of a merged ensemble: t_short [s], charge_at_short [C], current [A],
    one group per value of the sweep axis ``quanta_per_site`` (or one group without it)."""
    stop = merged["stop_reason"].values  # a censored run would bias the comparison
    assert np.all(stop == "short"), \
        f"runs that did not short (task: stop reason): " \
        f"{dict(zip(merged['task'].values[stop != 'short'].tolist(), stop[stop != 'short']))}"
    sub = ([merged.sel(quanta_per_site=nq) for nq in merged["quanta_per_site"].values]
           if "quanta_per_site" in merged.dims else [merged])
    out = []
    for ds in sub:
        t, q = ds["t_short"].values, ds["charge_at_short"].values
        assert np.all(np.isfinite(t)) and np.all(q > 0), (t, q)
        out.append({"t_short": t, "charge_at_short": q,
                    "current": current_density * ds["cell_area"].values,
                    "wall": wall * t.size / merged["t_short"].size})
    return out


def _ensemble(directory, first_seed, current_density="10 mA/cm^2", quanta=(4,)):
    """N_RUNS runs per n_q in ``quanta`` with :class:`kmc.Ensemble` (master seed
    ``first_seed``, task seeds SeedSequence(first_seed, spawn_key=(task,)), each task its own
    microstructure): a dict n_q -> group (:func:`_groups`)."""
    text = small_deck(quanta[0], first_seed, current_density)
    sweep = {"plating.quanta_per_site": list(quanta)} if len(quanta) > 1 else {}
    _, run, merged = run_ensemble(text, directory, replicas=N_RUNS, vary="microstructure",
                                  sweep=sweep)
    j = float(loads_deck(text).protocol.current_density)
    return dict(zip(quanta, _groups(merged, run.wall_time, j)))


def _describe(label, e):
    t, q = e["t_short"], e["charge_at_short"]
    half = stats.t.isf(0.025, t.size - 1) * t.std(ddof=1) / math.sqrt(t.size)
    return (f"{label}: t_short mean {t.mean():.2f} +- {half:.2f} s (95% CI), median "
            f"{np.median(t):.2f} s, sd {t.std(ddof=1):.2f} s, geometric mean "
            f"{math.exp(np.log(t).mean()):.2f} s; charge_at_short mean {q.mean():.4e} C, "
            f"<Q>/(I <t>) = {q.mean() / (e['current'].mean() * t.mean()):.4f}; "
            f"wall {e['wall']:.1f} s for {t.size} runs (share of the ensemble's wall time)")


@pytest.fixture(scope="module")
def quantum_ensembles(tmp_path_factory):
    """100 runs for each n_q = 4, 8, 16: one :class:`kmc.Ensemble` sweeping
    ``plating.quanta_per_site`` with 100 replicas (master seed 1; 300 independent task seeds)."""
    return _ensemble(tmp_path_factory.mktemp("c12") / "quanta.tasks", 1, quanta=QUANTA)


@pytest.mark.slow
def test_C12_refining_the_quantum_leaves_short_statistics_unchanged(quantum_ensembles):
    """C12: t_short and charge_at_short have the same (geometric) mean for n_q = 4, 8, 16.

    For every pair of n_q (3 pairs) and each statistic (log t_short, log charge_at_short):
    Welch's two-sample t-test on the logarithms, 100 independent runs per n_q. Acceptance:
    every two-sided p >= 1e-4 / 6 = 1.67e-5 (Bonferroni over the 6 comparisons), i.e. the
    difference of the mean logs is within ~4.3 of its standard errors (~4.3 x 2% of t_short
    at the measured spread). The logarithm makes the time-to-failure data nearly symmetric
    and turns a multiplicative change (a rate off by a factor) into a shift; Welch's test
    compares means without assuming equal spreads (the spread of t_short may shrink as the
    quantum shot noise does, see the report printed with ``-s``).

    False-failure probability: if the model converges in n_q, each comparison rejects with
    probability <= 1.67e-5 (means of 100 logs are close to normal by the central limit
    theorem); by Bonferroni at most 1e-4 in total. Every run must short (deterministic
    given the seeds; a censored run would bias the comparison and fails the test with the
    run named).
    """
    report = [_describe(f"n_q = {nq}", e) for nq, e in quantum_ensembles.items()]
    failures = []
    for stat in ("t_short", "charge_at_short"):
        for i, a in enumerate(QUANTA):
            for b in QUANTA[i + 1:]:
                x = np.log(quantum_ensembles[a][stat])
                y = np.log(quantum_ensembles[b][stat])
                p = stats.ttest_ind(x, y, equal_var=False).pvalue
                report.append(f"{stat} n_q {a} vs {b}: mean log difference "
                              f"{x.mean() - y.mean():+.4f}, Welch p = {p:.3g}")
                if p < ALPHA_EACH:
                    failures.append(report[-1])
    print("\nC12:\n  " + "\n  ".join(report))
    assert not failures, "; ".join(failures) + " | " + " | ".join(report)


@pytest.mark.slow
def test_C12_the_comparison_detects_a_doubled_current(quantum_ensembles, tmp_path):
    """The C12 comparison can fail: at n_q = 4, doubling the current density (10 -> 20
    mA/cm^2; an ensemble of 100 runs with master seed 301) must shorten t_short significantly at the same per-comparison
    threshold as the convergence test (Welch on log t_short, p < 1.67e-5), and in the right
    direction (more current, earlier short: seed 000, VALIDATION.md C7). A factor 2 in the
    current is what a quantum charge wrongly scaled with n_q (q off by 2 between n_q = 4 and
    8) would do to the Faradaic rates k = I_ms / q.

    False-failure probability (failing to detect): with t_short roughly proportional to 1/J
    the mean log shifts by ~log 2 = 0.69; at 100 runs per group the test misses it only if the
    seed-to-seed standard deviation of log t_short exceeded ~0.69 / (4.3 sqrt(2/100)) = 1.1,
    a spread of a factor 3 between typical runs, far above the spread the convergence test
    reports (printed with ``-s``). The probability is far below 1e-4.
    """
    base = quantum_ensembles[4]
    doubled = _ensemble(tmp_path / "doubled.tasks", 301, current_density="20 mA/cm^2")[4]
    x, y = np.log(base["t_short"]), np.log(doubled["t_short"])
    p = stats.ttest_ind(x, y, equal_var=False).pvalue
    print("\nC12 power check:\n  " + _describe("n_q = 4, 10 mA/cm^2", base) + "\n  "
          + _describe("n_q = 4, 20 mA/cm^2", doubled)
          + f"\n  log t_short difference {x.mean() - y.mean():+.4f}, Welch p = {p:.3g}")
    assert y.mean() < x.mean() and p < ALPHA_EACH, (x.mean(), y.mean(), p)
