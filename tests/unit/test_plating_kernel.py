"""The plating event kernel ``ext/_plating.pyx`` against its pure-Python twin.

:class:`kmc._plating.PlatingKernel` (``plating_kernel("cython", ...)``) and
:class:`kmc.reference.ReferencePlating` (``plating_kernel("reference", ...)``) promise the same
events at the same times for the same random stream. This module checks

* event-by-event, bitwise agreement of the two on random states and random channel sets that
  mix every channel kind, creep relief and both confinement settings (every status and every
  ``last_change`` code is required to occur, as are overflow into an empty crack, growth into
  the electrolyte, fracture and relief into a reservoir);
* conservation of Li quanta over sequences of epochs, with and without fracture;
* the exact stop of the clock at ``t_stop`` and the refusal of a ``t_stop`` in the past;
* the event statistics of the Cython kernel: channel choice proportional to the rate, pool
  entry choice proportional to the weight, exponential waiting times (false-failure probability
  at most 1e-4, stated in the test);
* input validation by both implementations.

Three defects found while writing these tests are pinned by regression tests: a blocked
deposit must not lose the quantum, a transfer within one site changes nothing, and creep
reports a consistent change.

Seeds are fixed so every run is exactly reproducible; no expected number comes from running the
code: the comparisons are between the two implementations, against conservation laws, or
against bands derived from exact sampling distributions.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from kmc.codes import (CH_CREEP, CH_FRACTURE, CH_LOOP, CH_PLATE_A, CH_PLATE_C, LI, REACHED_EVENTS,
                       REACHED_TIME, RES_A, RES_C, SE, TOP_BLOCKED, TOP_CREPT, TOP_EMPTIED,
                       TOP_FIRST, TOP_FULL, TOP_GROWN, TOPOLOGY_CHANGED, VOID)
from kmc.engine import plating_kernel
from kmc.graph import lattice_graph
from kmc.reference import ReferencePlating

ENGINES = ("cython", "reference")
LATTICES = {"6x1x6": (6, 1, 6), "4x4x4": (4, 4, 4)}
ALL_CHANGES = (TOP_FULL, TOP_EMPTIED, TOP_GROWN, TOP_CREPT, TOP_BLOCKED)
CHANNEL_ARGS = ("kind", "rate", "a", "b", "src_lo", "src_hi", "snk_lo", "snk_hi",
                "pool_metal", "pool_se", "pool_cum")


def _graph(shape):
    """Lattice graph periodic in x and y, open along z (the electrode axis)."""
    return lattice_graph(shape, 1e-9, periodic=(True, True, False))


def _neighbours(g, m):
    return g.indices[g.indptr[m]:g.indptr[m + 1]]


def _random_state(rng, n_sites, n_q):
    """Random phases; 1..n_q quanta on Li sites, none elsewhere."""
    phase = rng.choice(np.array([SE, LI, VOID], np.uint8), size=n_sites, p=[0.4, 0.45, 0.15])
    content = np.where(phase == LI, rng.integers(1, n_q + 1, n_sites), 0).astype(np.int32)
    return phase, content


def _random_channels(rng, g, phase, content, n_q, confined, *, fracture=True, safe=False):
    """A random channel set and relief map for the current state, as ``kmc.events`` build them.

    Like the caller, transfer sources hold Li (content > 0, or a reservoir), fracture cracks an
    SE site next to a Li site, creep moves a quantum from Li holding some (or a reservoir) to
    another Li site (or a reservoir), and no transfer channel has the same site in its source
    and its sink segment. Sink segments and creep targets may include *full* sites, with or
    without relief, so that deposits overflow into empty cracks, grow into the electrolyte
    (``confined = False``), pass into a reservoir by relief, or block.

    With ``safe=True`` a full site is a sink only where its next quantum has somewhere to go
    (relief, an empty-crack neighbour, or electrolyte across the edge when unconfined), so no
    event can block. Within an epoch that stays true: any change of those conditions is itself
    a topology change that ends the epoch.

    Returns
    -------
    channels : dict
        The 11 arguments of ``set_channels`` by name.
    relief : ndarray of int8
    """
    n = phase.size
    li = np.flatnonzero(phase == LI)
    se = np.flatnonzero(phase == SE)
    void = phase == VOID
    relief = np.zeros(n, np.int8)
    marked = li[rng.random(li.size) < 0.3]
    relief[marked] = rng.choice(np.array([RES_A, RES_C], np.int8), marked.size)

    def partner(m):
        """Electrolyte site across a plating edge of m (an SE neighbour if there is one)."""
        if m >= 0:
            near = [int(s) for s in _neighbours(g, m) if phase[s] == SE]
            if near and rng.random() < 0.9:
                return int(rng.choice(near))
        return int(rng.choice(se)) if se.size and rng.random() < 0.8 else -1

    def can_take(m, s):
        if m < 0 or content[m] < n_q or relief[m] != 0:
            return True
        if not confined and s >= 0 and phase[s] == SE:
            return True
        return bool(void[_neighbours(g, m)].any())

    # disjoint would-be source and sink sites: a transfer never takes from and gives to one site
    perm = rng.permutation(li)
    cut = int(rng.integers(0, li.size + 1))
    src_cand = [int(m) for m in perm[:cut] if content[m] > 0] + [RES_A, RES_C]
    snk_cand = [int(m) for m in perm[cut:]] + [RES_A, RES_C]

    pool_m, pool_s, pool_c, segments = [], [], [], {True: [], False: []}

    def segment(is_sink):
        if segments[is_sink] and rng.random() < 0.3:  # segments may be shared
            return segments[is_sink][int(rng.integers(len(segments[is_sink])))]
        lo = len(pool_m)
        entries = []
        for _ in range(int(rng.integers(1, 5))):
            for _attempt in range(10):
                m = int(rng.choice(snk_cand if is_sink else src_cand))
                s = partner(m)
                if not (safe and is_sink) or can_take(m, s):
                    break
            else:
                m, s = RES_A, partner(RES_A)
            entries.append((m, s))
        w = rng.uniform(0.1, 2.0, len(entries))
        pool_m.extend(m for m, _ in entries)
        pool_s.extend(s for _, s in entries)
        pool_c.extend(np.cumsum(w).tolist())
        segments[is_sink].append((lo, len(pool_m)))
        return segments[is_sink][-1]

    def rate():
        return float(rng.exponential(1.0) * 10.0 ** rng.uniform(-1.0, 1.0))

    chans = []  # (kind, rate, a, b, src_lo, src_hi, snk_lo, snk_hi)
    for _ in range(int(rng.integers(0, 5))):
        kind = int(rng.choice([CH_PLATE_A, CH_PLATE_C, CH_LOOP]))
        if rng.random() < 0.1:  # a switched-off transfer needs no pool
            chans.append((kind, 0.0, -1, -1, 0, 0, 0, 0))
            continue
        src, snk = segment(False), segment(True)
        chans.append((kind, rate(), -1, -1, *src, *snk))
    if fracture:
        pairs = [(int(s), int(m)) for m in li for s in _neighbours(g, m) if phase[s] == SE]
        for i in rng.permutation(len(pairs))[:int(rng.integers(0, 3))]:
            chans.append((CH_FRACTURE, rate(), *pairs[i], 0, 0, 0, 0))
    creep_from = [int(m) for m in li if content[m] > 0] + [RES_A, RES_C]
    creep_to = [int(m) for m in li if not safe or can_take(int(m), -1)] + [RES_A, RES_C]
    for _ in range(int(rng.integers(0, 4))):
        a, b = int(rng.choice(creep_from)), int(rng.choice(creep_to))
        if a != b:
            chans.append((CH_CREEP, rate(), a, b, 0, 0, 0, 0))
    chans = [chans[i] for i in rng.permutation(len(chans))]
    cols = list(zip(*chans)) if chans else [()] * 8
    channels = {
        "kind": np.array(cols[0], np.int8),
        "rate": np.array(cols[1], float),
        **{name: np.array(col, np.intp) for name, col in zip(CHANNEL_ARGS[2:8], cols[2:])},
        "pool_metal": np.array(pool_m, np.intp),
        "pool_se": np.array(pool_s, np.intp),
        "pool_cum": np.array(pool_c, float),
    }
    return channels, relief


class _ReliefCounter(ReferencePlating):
    """The reference kernel, also counting quanta passed on into a reservoir by creep relief.

    Only observes (no draw, no state change), so its stream and events are the reference's.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.relieved = 0

    def _give(self, m, s):
        if m >= 0 and self.content[m] == self.n_quanta and self.relief[m] != 0:
            self.relieved += 1
        return super()._give(m, s)


def _assert_same(cy, ref, bg_cy, bg_ref, out_cy, out_ref, where):
    """Everything either kernel exposes, and both random streams, are bitwise equal."""
    assert out_cy == out_ref, where
    assert cy.time == ref.time, where
    assert cy.n_events == ref.n_events, where
    assert cy.total_rate == ref.total_rate, where
    np.testing.assert_array_equal(cy.phases, ref.phases, err_msg=where)
    np.testing.assert_array_equal(cy.contents, ref.contents, err_msg=where)
    np.testing.assert_array_equal(cy.event_counts, ref.event_counts, err_msg=where)
    assert (cy.reservoir_a, cy.reservoir_c) == (ref.reservoir_a, ref.reservoir_c), where
    assert ((cy.last_change, cy.last_site, cy.last_channel)
            == (ref.last_change, ref.last_site, ref.last_channel)), where
    assert bg_cy.state == bg_ref.state, where


def _bitwise_episodes(seed, shape, n_episodes=8, n_runs=40):
    """Run Cython and reference side by side; return what the runs exercised.

    Each episode starts from a random state (n_q in 1..3, confined alternating) and makes
    ``n_runs`` calls of ``run`` with random ``t_stop`` and ``max_events``; after every
    topology change (and at random other times, like a protocol change) a fresh random channel
    set and relief map for the new state are installed in both kernels.
    """
    rng = np.random.default_rng(seed)
    g = _graph(shape)
    seen = Counter()
    for episode in range(n_episodes):
        n_q = int(rng.integers(1, 4))
        confined = episode % 2 == 0
        phase, content = _random_state(rng, g.n_sites, n_q)
        kseed = int(rng.integers(2**63))
        bg_cy, bg_ref = np.random.PCG64(kseed), np.random.PCG64(kseed)
        cy = plating_kernel("cython", g.indptr, g.indices, phase, content, n_q, bg_cy, confined)
        ref = _ReliefCounter(g.indptr, g.indices, phase, content, n_q, bg_ref, confined)
        fresh = True
        for run in range(n_runs):
            where = f"seed {seed}, episode {episode}, run {run}"
            before = cy.phases
            if fresh:
                channels, relief = _random_channels(rng, g, before, cy.contents, n_q, confined)
                for k in (cy, ref):
                    k.set_channels(**channels)
                    k.set_relief(relief)
            t_stop = cy.time + float(rng.exponential(2.0))
            max_events = int(rng.choice([1, 3, 20, 1000]))
            relieved = ref.relieved
            out_cy, out_ref = cy.run(t_stop, max_events), ref.run(t_stop, max_events)
            _assert_same(cy, ref, bg_cy, bg_ref, out_cy, out_ref, where)
            status = out_cy[0]
            seen[f"status {status}"] += 1
            seen["relief"] += ref.relieved - relieved
            if status == TOPOLOGY_CHANGED:
                seen[cy.last_change] += 1
                if cy.last_change == TOP_GROWN:
                    if channels["kind"][cy.last_channel] == CH_FRACTURE:
                        seen["fracture"] += 1
                    elif before[cy.last_site] == VOID:
                        seen["overflow into VOID"] += 1
                    elif before[cy.last_site] == SE:
                        seen["growth into SE"] += 1
            fresh = status == TOPOLOGY_CHANGED or rng.random() < 0.2
    return seen


@pytest.mark.parametrize("shape", LATTICES.values(), ids=LATTICES.keys())
@pytest.mark.parametrize("seed", [11, 23, 37])
def test_cython_matches_reference_event_by_event(seed, shape):
    """Cython and reference kernels agree bitwise, run by run, on random plating epochs.

    After every ``run`` call the status and number of fired events, the clock (``==``), the
    phases, contents, reservoir counters, per-kind event counts, ``last_change`` /
    ``last_site`` / ``last_channel``, the total rate and the state of both bit generators
    (constructed from the same seed) must be identical.

    The random cases must reach every status (0, 1, 3), every ``last_change`` code (full,
    emptied, grown, crept, blocked), and within "grown" overflow into an empty crack, growth
    into the electrolyte (``confined = False``) and fracture, plus at least one quantum passed
    on into a reservoir by relief; otherwise the agreement would be untested for that path.
    """
    seen = _bitwise_episodes(seed, shape)
    required = [f"status {s}" for s in (REACHED_TIME, REACHED_EVENTS, TOPOLOGY_CHANGED)]
    required += list(ALL_CHANGES) + ["overflow into VOID", "growth into SE", "fracture", "relief"]
    missing = [r for r in required if seen[r] == 0]
    assert not missing, f"paths never exercised: {missing} (seen: {dict(seen)})"


def _total_quanta(k):
    return int(k.contents.sum()) + k.reservoir_a + k.reservoir_c


@pytest.mark.parametrize("fracture", [False, True], ids=["no fracture", "fracture"])
@pytest.mark.parametrize("engine", ENGINES)
def test_quanta_are_conserved_over_epochs(engine, fracture):
    """Li quanta on sites plus both reservoir counters stay constant over many epochs.

    Channel sets are random (transfers, creep, relief, overflow, growth, and fracture when
    enabled) but built as ``safe``: no event can block (blocking loses a quantum, see
    :func:`test_blocked_transfer_conserves_quanta`). After every ``run`` call the total
    ``sum(content) + reservoir_a + reservoir_c`` equals its initial value exactly, contents lie
    in 0..n_q with none off Li sites, and a site made by fracture is Li holding no quanta. The
    runs must include fills, emptyings, growth, creep (and fracture when enabled), so that
    conservation is checked across every topology change that can keep it.
    """
    rng = np.random.default_rng(5)
    g = _graph((4, 4, 4))
    seen = Counter()
    for episode in range(6):
        n_q = int(rng.integers(1, 4))
        confined = episode % 2 == 0
        phase, content = _random_state(rng, g.n_sites, n_q)
        k = plating_kernel(engine, g.indptr, g.indices, phase, content, n_q,
                           np.random.PCG64(int(rng.integers(2**63))), confined)
        total = _total_quanta(k)
        fresh = True
        for run in range(40):
            if fresh:
                channels, relief = _random_channels(rng, g, k.phases, k.contents, n_q, confined,
                                                    fracture=fracture, safe=True)
                k.set_channels(**channels)
                k.set_relief(relief)
            status, _ = k.run(k.time + float(rng.exponential(2.0)), int(rng.choice([1, 20, 1000])))
            where = f"episode {episode}, run {run}, last_change {k.last_change}"
            assert _total_quanta(k) == total, where
            ph, ct = k.phases, k.contents
            assert ct.min() >= 0 and ct.max() <= n_q, where
            assert not ct[ph != LI].any(), where
            if status == TOPOLOGY_CHANGED:
                seen[k.last_change] += 1
                if channels["kind"][k.last_channel] == CH_FRACTURE:
                    seen["fracture"] += 1
                    assert ph[k.last_site] == LI and ct[k.last_site] == 0, where
            fresh = status == TOPOLOGY_CHANGED or rng.random() < 0.2
    assert seen[TOP_BLOCKED] == 0
    required = [TOP_FULL, TOP_EMPTIED, TOP_GROWN, TOP_CREPT] + (["fracture"] if fracture else [])
    assert all(seen[r] > 0 for r in required), dict(seen)
    assert fracture or seen["fracture"] == 0


def _reservoir_loop(engine, rate=3.7, seed=2):
    """One-site kernel whose only channel moves quanta from reservoir A to reservoir C."""
    g = lattice_graph((1, 1), 1e-9, periodic=False)
    k = plating_kernel(engine, g.indptr, g.indices, [SE], [0], 1, np.random.PCG64(seed))
    k.set_channels([CH_LOOP], [rate], [-1], [-1], [0], [1], [1], [2], [RES_A, RES_C], [-1, -1],
                   [1.0, 1.0])
    return k


@pytest.mark.parametrize("engine", ENGINES)
def test_clock_stops_exactly_at_t_stop(engine):
    """Without topology changes ``run(t, big)`` ends with status 0 and ``time == t`` exactly.

    A loop channel between the two reservoirs can never change the topology. Each call must
    fire events (about rate * interval of them), land the clock bitwise on ``t_stop``, and move
    one quantum from reservoir A to C per event. A ``t_stop`` before the clock (or NaN) raises
    ``ValueError`` and leaves the kernel untouched. With no channel at all the clock jumps to
    ``t_stop`` without events.
    """
    k = _reservoir_loop(engine)
    fired = 0
    for t in (0.1, 1.0 / 3.0, 2.5, 2.5, 7.0 + 1e-9, 100.0):
        status, n = k.run(t, 10**9)
        fired += n
        assert status == REACHED_TIME and k.time == t
        assert k.n_events == fired and k.reservoir_c == fired and k.reservoir_a == -fired
    assert fired > 100  # the channel did fire (about 370 events expected)
    state = k.event_counts
    for bad in (99.0, -1.0, math.nan):
        with pytest.raises(ValueError):
            k.run(bad, 10)
    assert k.time == 100.0 and np.array_equal(k.event_counts, state)
    assert k.run(100.0, 10) == (REACHED_TIME, 0)
    assert k.run(math.inf, 25) == (REACHED_EVENTS, 25)

    g = lattice_graph((2, 2), 1e-9, periodic=False)
    idle = plating_kernel(engine, g.indptr, g.indices, [SE] * 4, [0] * 4, 2, np.random.PCG64(0))
    assert idle.run(5.5, 10) == (REACHED_TIME, 0) and idle.time == 5.5 and idle.total_rate == 0.0


def test_event_statistics_of_the_cython_kernel():
    """Channel, pool-entry and waiting-time statistics of the Cython kernel over 2e5 events.

    Four channels that cannot fill, empty or grow a site (plate_a, plate_c, loop between Li
    sites of 2**29 quanta each with n_q = 2**30, and creep between two such sites, which ends a
    ``run`` with TOP_CREPT after which the next ``run`` continues) with rates r_c, and
    pool segments of several entries with weights w (one sink segment shared by plate_c and
    loop). Every pool entry is a distinct site or reservoir, so its count is read exactly off
    that site's content (or the reservoir counter) after ``run(inf, N)``.

    Each count is marginally Binomial(N, p) with p = r_c / R for the per-kind event counts and
    p = sum over the channels using the segment of (r_c / R) * w / W_segment for a pool entry;
    the total time T of N events is Gamma(N, 1/R), i.e. the mean waiting time is 1/R. Each of
    the K checks uses the exact two-sided central interval of its distribution at level
    alpha = 1e-4 / K (K = 19: 4 kinds + 14 pool entries + 1 time; alpha ~ 5.3e-6, i.e. about
    4.55 standard errors), so by Bonferroni the false-failure probability of the test is at
    most 1e-4.
    """
    n_q, full_half, N = 2**30, 2**29, 200_000
    rates = {CH_PLATE_A: 1.3, CH_PLATE_C: 0.4, CH_LOOP: 2.2, CH_CREEP: 0.7}
    # segment -> list of (entry, weight); entries are sites 0.. or reservoirs
    seg_src_a = [(0, 1.0), (RES_A, 2.5), (1, 0.3)]
    seg_snk_a = [(2, 1.0), (3, 4.0), (4, 2.0), (5, 0.25)]
    seg_src_c = [(6, 5.0), (RES_C, 1.0)]
    seg_src_loop = [(7, 0.7), (8, 0.7), (9, 1.6)]
    seg_snk_shared = [(10, 3.0), (11, 1.0)]
    creep_a, creep_b = 12, 13
    n_sites = 14
    g = lattice_graph((n_sites, 1), 1e-9, periodic=False)
    content = np.full(n_sites, full_half, np.int32)
    k = plating_kernel("cython", g.indptr, g.indices, np.full(n_sites, LI, np.uint8), content,
                       n_q, np.random.PCG64(20240611))
    pool_m, pool_s, pool_c, bounds = [], [], [], []
    for seg in (seg_src_a, seg_snk_a, seg_src_c, seg_src_loop, seg_snk_shared):
        bounds.append((len(pool_m), len(pool_m) + len(seg)))
        pool_m += [m for m, _ in seg]
        pool_s += [-1] * len(seg)
        pool_c += np.cumsum([w for _, w in seg]).tolist()
    b_src_a, b_snk_a, b_src_c, b_src_loop, b_snk_sh = bounds
    k.set_channels(
        [CH_PLATE_A, CH_PLATE_C, CH_LOOP, CH_CREEP],
        [rates[CH_PLATE_A], rates[CH_PLATE_C], rates[CH_LOOP], rates[CH_CREEP]],
        [-1, -1, -1, creep_a], [-1, -1, -1, creep_b],
        [b_src_a[0], b_src_c[0], b_src_loop[0], 0], [b_src_a[1], b_src_c[1], b_src_loop[1], 0],
        [b_snk_a[0], b_snk_sh[0], b_snk_sh[0], 0], [b_snk_a[1], b_snk_sh[1], b_snk_sh[1], 0],
        pool_m, pool_s, pool_c)
    R = math.fsum(rates.values())
    assert k.total_rate == pytest.approx(R, rel=1e-14)

    fired = crept = 0
    while fired < N:  # a creep event ends the run (TOP_CREPT); the caller would just go on
        status, n = k.run(math.inf, N - fired)
        fired += n
        assert status == REACHED_EVENTS or (status, k.last_change) == (TOPOLOGY_CHANGED, TOP_CREPT)
        crept += status == TOPOLOGY_CHANGED
    assert fired == N and k.n_events == N and crept == k.event_counts[CH_CREEP]

    moved = k.contents.astype(np.int64) - full_half  # + picks as sink, - picks as source
    creep_n = int(k.event_counts[CH_CREEP])
    moved[creep_a] += creep_n
    moved[creep_b] -= creep_n
    assert moved[creep_a] == 0 and moved[creep_b] == 0

    def picks(entry, sign):  # sign: -1 for a source entry, +1 for a sink entry
        if entry == RES_A:
            return sign * k.reservoir_a
        if entry == RES_C:
            return sign * k.reservoir_c
        return sign * int(moved[entry])

    checks = []  # (label, observed count, probability)
    for kind, r in rates.items():
        checks.append((f"kind {kind}", int(k.event_counts[kind]), r / R))
    for seg, sign, share in ((seg_src_a, -1, rates[CH_PLATE_A]), (seg_snk_a, 1, rates[CH_PLATE_A]),
                             (seg_src_c, -1, rates[CH_PLATE_C]), (seg_src_loop, -1, rates[CH_LOOP]),
                             (seg_snk_shared, 1, rates[CH_PLATE_C] + rates[CH_LOOP])):
        W = math.fsum(w for _, w in seg)
        for entry, w in seg:
            checks.append((f"entry {entry}", picks(entry, sign), share / R * w / W))
    assert k.event_counts[CH_FRACTURE] == 0 and sum(c[1] for c in checks[:4]) == N
    K = len(checks) + 1
    alpha = 1e-4 / K
    for label, observed, p in checks:
        lo, hi = stats.binom.ppf(alpha / 2, N, p), stats.binom.isf(alpha / 2, N, p)
        assert lo <= observed <= hi, f"{label}: {observed} outside [{lo}, {hi}] (p = {p:.4g})"
    lo, hi = stats.gamma.ppf(alpha / 2, N, scale=1 / R), stats.gamma.isf(alpha / 2, N, scale=1 / R)
    assert lo <= k.time <= hi, f"total time {k.time} of {N} events outside [{lo}, {hi}]"


# --- input validation ---------------------------------------------------------------------

def _chain(engine, phase=(LI, LI, SE), content=(1, 2, 0), n_q=2):
    g = lattice_graph((3, 1), 1e-9, periodic=False)
    return plating_kernel(engine, g.indptr, g.indices, np.array(phase, np.uint8),
                          np.array(content, np.int32), n_q, np.random.PCG64(1))


def _valid_channels():
    """One loop channel (reservoir A -> Li site 0) and one creep channel (site 1 -> C)."""
    return dict(kind=[CH_LOOP, CH_CREEP], rate=[1.0, 0.5], a=[-1, 1], b=[-1, RES_C],
                src_lo=[0, 0], src_hi=[1, 0], snk_lo=[1, 0], snk_hi=[2, 0],
                pool_metal=[RES_A, 0], pool_se=[-1, 2], pool_cum=[1.0, 2.0])


CONSTRUCTOR_CASES = {
    "n_quanta 0": dict(n_q=0, content=(0, 0, 0)),
    "phase length": dict(phase=(LI, LI)),
    "content length": dict(content=(1, 2)),
    "content above n_q": dict(content=(1, 3, 0)),
    "negative content": dict(content=(1, -1, 0)),
    "Li on an SE site": dict(content=(1, 2, 1)),
    "Li on a VOID site": dict(phase=(LI, VOID, SE), content=(1, 1, 0)),
}

CHANNEL_CASES = {
    "negative rate": dict(rate=[-1.0, 0.5]),
    "NaN rate": dict(rate=[math.nan, 0.5]),
    "infinite rate": dict(rate=[1.0, math.inf]),
    "rate length": dict(rate=[1.0, 0.5, 0.5]),
    "a length": dict(a=[-1]),
    "snk_hi length": dict(snk_hi=[2, 0, 0]),
    "pool_se length": dict(pool_se=[-1]),
    "pool_metal length": dict(pool_metal=[RES_A, 0, 1]),
    "empty source segment": dict(src_hi=[0, 0]),
    "empty sink segment": dict(snk_lo=[2, 0]),
    "segment beyond the pool": dict(snk_hi=[3, 0]),
    "negative segment start": dict(src_lo=[-1, 0]),
}

RELIEF_CASES = {"value 1": [0, 1, 0], "value -3": [0, -3, 0], "length": [0, -1]}


def _params(cases):
    return [(engine, name) for engine in ENGINES for name in cases]


@pytest.mark.parametrize("engine", ENGINES)
def test_valid_inputs_are_accepted(engine):
    """The base inputs of the validation tests are accepted (so each rejection below is due to
    the one argument it changes), and a zero-rate transfer may have empty pool segments."""
    k = _chain(engine)
    k.set_channels(**_valid_channels())
    k.set_relief([0, RES_A, 0])
    k.set_channels(**{**_valid_channels(), "rate": [0.0, 0.5], "src_hi": [0, 0]})
    k.set_relief(np.zeros(3, np.int8))
    assert k.run(1.0, 10)[0] in (REACHED_TIME, REACHED_EVENTS, TOPOLOGY_CHANGED)


@pytest.mark.parametrize("case", _params(CONSTRUCTOR_CASES),
                         ids=lambda c: f"{c[0]}-{c[1]}")
def test_constructor_rejects_bad_state(case):
    """Both kernels raise ValueError on n_quanta < 1, phase/content of the wrong length,
    content outside 0..n_q, or content on a site that is not Li."""
    engine, name = case
    with pytest.raises(ValueError):
        _chain(engine, **CONSTRUCTOR_CASES[name])


@pytest.mark.parametrize("case", _params(CHANNEL_CASES),
                         ids=lambda c: f"{c[0]}-{c[1]}")
def test_set_channels_rejects_bad_channels(case):
    """Both kernels raise ValueError on a negative, NaN or infinite rate, per-channel or pool
    arrays of mismatched lengths, and an empty or out-of-pool segment of a positive-rate
    transfer channel."""
    engine, name = case
    k = _chain(engine)
    with pytest.raises(ValueError):
        k.set_channels(**{**_valid_channels(), **CHANNEL_CASES[name]})


@pytest.mark.parametrize("name", RELIEF_CASES)
@pytest.mark.parametrize("engine", ENGINES)
def test_set_relief_rejects_bad_values(engine, name):
    """Both kernels raise ValueError on a relief value other than 0, -1, -2 or a relief array
    of the wrong length."""
    k = _chain(engine)
    with pytest.raises(ValueError):
        k.set_relief(np.array(RELIEF_CASES[name]))


# --- regression tests of fixed kernel defects ----------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
def test_blocked_transfer_conserves_quanta(engine):
    """A transfer whose sink is a full, confined site without an empty neighbour blocks
    (TOP_BLOCKED); Li on sites plus reservoirs must still be conserved."""
    k = _chain(engine, phase=(SE, LI, SE), content=(0, 2, 0))
    k.set_channels([CH_LOOP], [1.0], [-1], [-1], [0], [1], [1], [2], [RES_A, 1], [-1, 0],
                   [1.0, 1.0])
    before = _total_quanta(k)
    assert k.run(math.inf, 1) == (TOPOLOGY_CHANGED, 1) and k.last_change == TOP_BLOCKED
    assert _total_quanta(k) == before


@pytest.mark.parametrize("engine", ENGINES)
def test_transfer_within_one_site_keeps_it_metal(engine):
    """A loop channel whose source and sink entries are edges of the same Li site (a bipolar
    single-site cluster) moves the quantum from the site to itself: the site must stay Li with
    its quantum, and no Li may sit on a non-Li site."""
    k = _chain(engine, phase=(SE, LI, SE), content=(0, 1, 0), n_q=2)
    k.set_channels([CH_LOOP], [1.0], [-1], [-1], [0], [1], [1], [2], [1, 1], [0, 2], [1.0, 1.0])
    k.run(math.inf, 1)
    ph, ct = k.phases, k.contents
    assert not ct[ph != LI].any()
    assert ph[1] == LI and ct[1] == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_creep_reports_a_consistent_change(engine):
    """Creep from a one-quantum site to a full, confined site with no empty neighbour both
    empties the source and blocks at the target. The report must be self-consistent: either
    (BLOCKED, target), which the caller needs to hold the site, or (EMPTIED, source)."""
    g = lattice_graph((3, 1), 1e-9, periodic=False)  # chain 0 - 1 - 2
    k = plating_kernel(engine, g.indptr, g.indices, np.array([LI, LI, LI], np.uint8),
                       np.array([1, 1, 2], np.int32), 2, np.random.PCG64(1))
    k.set_channels([CH_CREEP], [1.0], [0], [2], [0], [0], [0], [0], [], [], [])
    assert k.run(math.inf, 1) == (TOPOLOGY_CHANGED, 1)
    assert (k.last_change, k.last_site) in {(TOP_BLOCKED, 2), (TOP_EMPTIED, 0)}


@pytest.mark.parametrize("engine", ENGINES)
def test_set_empty_reopens_an_emptied_site_which_plating_refills(engine):
    """A site stripped empty becomes an empty crack (VOID); set_empty makes it an empty metal
    site (LI, content 0) again, which a transfer refills (TOP_FIRST), and back to VOID. Sites
    that hold Li or are electrolyte are refused."""
    k = _chain(engine, phase=(LI, SE, SE), content=(1, 0, 0), n_q=2)
    k.set_channels([CH_LOOP], [1.0], [-1], [-1], [0], [1], [1], [2], [0, RES_C], [1, 1],
                   [1.0, 1.0])
    assert k.run(math.inf, 1) == (TOPOLOGY_CHANGED, 1) and k.last_change == TOP_EMPTIED
    assert k.phases[0] == VOID
    k.set_empty(0, LI)
    assert k.phases[0] == LI and k.contents[0] == 0
    k.set_channels([CH_LOOP], [1.0], [-1], [-1], [0], [1], [1], [2], [RES_A, 0], [1, 1],
                   [1.0, 1.0])
    assert k.run(math.inf, 1) == (TOPOLOGY_CHANGED, 1) and k.last_change == TOP_FIRST
    assert k.phases[0] == LI and k.contents[0] == 1
    with pytest.raises(ValueError, match="not an empty Li or VOID site"):
        k.set_empty(0, VOID)  # holds Li
    with pytest.raises(ValueError, match="not an empty Li or VOID site"):
        k.set_empty(1, LI)  # electrolyte
    k2 = _chain(engine, phase=(LI, SE, SE), content=(0, 0, 0), n_q=2)
    with pytest.raises(ValueError, match="must be LI"):
        k2.set_empty(0, SE)
    k2.set_empty(0, VOID)
    assert k2.phases[0] == VOID
