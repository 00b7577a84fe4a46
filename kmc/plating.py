"""Li plating runs: the epoch loop around the plating kernel (MODEL.md sections 4, 5, 7, 8).

One *epoch* is a stretch of time with a fixed topology (site phases, blocked sites). Per epoch:

1. **Field** (:class:`kmc.field.FieldSolver`): interface currents I_ms with full, confined Li
   sites blocked (MODEL.md 5.1). A blocked site whose electrolyte neighbours all lie below its
   cluster potential would dissolve rather than plate and is released (one more solve).
2. **Pressures**: a blocked site sits at the electrodeposition pressure
   p_m = F max_s(phi_s - Phi_c) / V_m, at least the stack pressure if its cluster touches an
   electrode reservoir; every other full site anchored to a reservoir carries P_stack, non-full
   sites none (they have free volume).
3. **Channels** for the Cython kernel (``ext/_plating.pyx``): Faradaic transfers (each
   interface edge plates or dissolves at |I_ms| / q, paired through the electrolyte so Li is
   conserved to the quantum, see the kernel docstring), Griffith fracture of the electrolyte
   ahead of blocked sites, and power-law creep.
4. The kernel fires events until the topology changes, a protocol change or an observation is
   due; a protocol change re-evaluates the affine field (no new solve).
5. Topology changes update the incremental union-find (:class:`kmc._clusters.ClusterSet`); the
   event that joins both electrodes is the short circuit, confirmed by networkx.

Charge quantum: q = F v_site / (n_q V_m) with v_site = h^3 (MODEL.md section 5).

Rates (SI, each traceable to MODEL.md section 5):

* transfer: |I_ms| / q per interface edge [1/s] (items 1, 3);
* fracture of SE site s ahead of blocked site m: nu_f (K_I / K_IC - 1) for K_I >= K_IC with
  K_I = Y (p_m - sigma_nn) sqrt(pi a), a = the extent of m's cluster along m -> s (at least
  ``min_crack_length``, default one site), K_IC intergranular along a boundary and
  transgranular otherwise, sigma_nn the applied compression on the crack faces (item 2);
* creep of one quantum across a face under a pressure difference dp:
  n_q eps0 (dp / sigma0)^m exp(-Q/R (1/T - 1/T_ref)) [1/s] - the power-law strain rate of
  the site's Li, expressed as quanta of its volume per second (item 7).

Stop conditions: short, end of a finite protocol, ``run.duration``,
``run.max_events``, ``run.wall_time_limit``. A checkpoint holds everything the next event
depends on, so a resumed run continues bit for bit.
"""
from __future__ import annotations

import logging
import math
import os
import pickle
import signal
import tempfile
import threading
import time as wallclock
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph

from .config import PlatingDeck
from .engine import (CH_CREEP, CH_DETACH, CH_ELECTRON, CH_FRACTURE, CH_HEAL, CH_LOOP, CH_NUCLEATE,
                     CH_PLATE_A, CH_PLATE_C, REACHED_EVENTS, TOP_BLOCKED, TOP_CONTACT,
                     TOPOLOGY_CHANGED, compiled, plating_kernel)
from .errors import ConfigError, EngineConsistencyError, KmcError
from .electrons import ElectronLeak, ElectronParameters, injection_rate
from .field import (CLASS_A, CLASS_C, CLASS_FLOATING, CLASS_SHORT, ELECTRODE_A, ELECTRODE_C, FACE_A, FACE_C,
                    FieldError, FieldParameters, FieldSolver, OpenCircuitError, label_clusters)
from .microstructure import EDGE_GB, FEATURE_INCLUSION, LI, SE, VOID, build
from .protocol import Constant, Cycling, Pulsed, Staircase
from .units import FARADAY, GAS_CONSTANT

log = logging.getLogger(__name__)

#: Why a run stopped.
STOP_REASONS = ("short", "open_circuit", "duration", "protocol_end", "max_events", "wall_time",
                "interrupted", "field_error")
CHECKPOINT_VERSION = 1


def quantum_charge(spacing: float, quanta_per_site: int, molar_volume: float) -> float:
    """Charge quantum q = F h^3 / (n_q V_m) [C] (MODEL.md section 5)."""
    return FARADAY * spacing ** 3 / (quanta_per_site * molar_volume)


def creep_rate(pressure_difference, li, temperature: float, quanta_per_site: int):
    """Quanta per second [1/s] creeping across a site face under ``pressure_difference`` [Pa].

    The power-law creep strain rate eps_dot = eps0 (dp / sigma0)^m exp(-Q/R (1/T - 1/T_ref))
    moves a site's volume per 1/eps_dot seconds, i.e. n_q eps_dot quanta per second; zero for
    dp <= 0 (MODEL.md section 5, item 7; parameters from ``li_metal.toml``).
    """
    dp = np.maximum(np.asarray(pressure_difference, float), 0.0)
    arrhenius = math.exp(-li.creep_activation_energy / GAS_CONSTANT
                         * (1.0 / temperature - 1.0 / li.reference_temperature))
    return quanta_per_site * li.creep_rate_prefactor * arrhenius * (dp / li.creep_reference_stress) ** li.creep_exponent


def creep_pressure(rate, length_sites, li, temperature: float, quanta_per_site: int):
    """Pressure [Pa] that drives ``rate`` quanta per second by creep through a Li column of
    ``length_sites`` faces in series (each taking dp / length): the inverse of
    :func:`creep_rate`, dp = length sigma0 (rate / (n_q eps0 A(T)))^(1/m)."""
    unit = float(creep_rate(li.creep_reference_stress, li, temperature, quanta_per_site))
    r = np.maximum(np.asarray(rate, float), 0.0)
    return np.asarray(length_sites, float) * li.creep_reference_stress * (r / unit) ** (1.0 / li.creep_exponent)


def make_protocol(cfg):
    """The :mod:`kmc.protocol` object of a ``[protocol]`` section (current densities in A/m^2)."""
    cycles = cfg.cycles or None
    strip = cfg.strip_current_density or cfg.current_density
    if cfg.kind == "constant":
        return Constant(cfg.current_density)
    if cfg.kind == "pulsed":
        return Pulsed(cfg.current_density, cfg.period, cfg.duty, cfg.reverse)
    if cfg.kind == "cycling":
        return Cycling(cfg.current_density, cfg.capacity, strip, cycles)
    return Staircase(cfg.current_density, cfg.step, strip, cfg.capacity, cycles)


@dataclass
class ShortPath:
    """The networkx shortest Li path between the electrodes (MODEL.md section 7): its site
    ids, the fraction of its edges that cross a grain boundary [-] and its length over the
    electrolyte thickness [-]."""

    sites: np.ndarray
    gb_fraction: float
    tortuosity: float


@dataclass
class PlatingResult:
    """What a plating run returns (everything the dataset needs): the deck, graph,
    microstructure and resolved material; the charge quantum q [C] and electrode area [m^2];
    observation time series, snapshots and scalars (SI units, see
    :data:`kmc.output.VARIABLES`); the stop reason; the wall time [s] and its profile (seconds
    per part, field solves, epochs, events)."""

    deck: PlatingDeck
    graph: object
    micro: object
    material: object
    quantum: float
    area: float
    observations: dict
    snapshots: dict
    scalars: dict
    stop_reason: str
    wall_time: float
    profile: dict = field(default_factory=dict)


class PlatingSimulation:
    """Set up and run one plating deck.

    Parameters
    ----------
    deck : PlatingDeck
    progress : callable, optional
        Called as ``progress(t, info)`` after every kernel call (t [s], info a short string).
    """

    def __init__(self, deck: PlatingDeck, progress=None):
        from .materials import load_li_metal, load_material, resolve

        if not isinstance(deck, PlatingDeck):
            raise ConfigError(f"model = {deck.model!r}: not a plating deck")
        self.deck = deck
        self.progress = progress
        cfg = deck.plating
        raw = load_material(deck.material.name, deck.material.overrides)
        self.material = resolve(raw, deck.conditions.temperature)
        self.li = load_li_metal(deck.material.li_metal, key="material.li_metal")
        self.micro = build(deck, material=raw)
        self.graph = self.micro.graph(order="c", material=self.material)
        g = self.graph
        self.h = g.spacing
        self.n_q = cfg.quanta_per_site
        self.V_m = self.li.molar_volume
        self.quantum = quantum_charge(self.h, self.n_q, self.V_m)
        nx_, ny_, nz_ = self.micro.shape
        self.area = nx_ * self.h * (ny_ * self.h)  # 2D: a slab one site thick
        self.thickness = nz_ * self.h
        self.protocol = make_protocol(deck.protocol)
        params = FieldParameters.from_material(self.material, self.V_m, deck.conditions.stack_pressure)
        if cfg.charge_transfer == "none":
            params = FieldParameters(**{**params.__dict__, "exchange_current_density": math.inf,
                                        "internal_exchange_current_density": math.inf})
        self.solver = FieldSolver(g, params, method=deck.run.field_solver)
        self.electrons = None
        if cfg.electron_leak:
            self.electrons = ElectronLeak(g, ElectronParameters.calibrated(
                self.material, self.thickness, trap_attempt_frequency=cfg.trap_attempt_frequency,
                nucleation_attempt_frequency=cfg.nucleation_attempt_frequency,
                nucleation_barrier=cfg.nucleation_barrier))
        self.fluxes = None
        self.src, self.dst = g.sources, g.indices
        self.face = np.asarray(g.site_data["face"])
        self.axis = np.argmax(np.abs(g.edge_vectors), axis=1)
        self.toughness = np.asarray(g.edge_data["fracture_toughness"], float)
        self.gb_edge = np.asarray(g.edge_data["type"]) == EDGE_GB
        self.gb_site = np.asarray(g.site_data["gb"]).astype(bool)
        self.layer = np.rint(g.positions[:, 2] / self.h - 0.5).astype(np.intp)
        self.normal_stress = self._normal_stress()
        phase = np.asarray(g.site_data["phase"]).astype(np.uint8)
        content = np.where(phase == LI, self.n_q, 0).astype(np.int32)
        seq = np.random.SeedSequence(deck.run.seed).spawn(2)[1]  # [0] built the microstructure
        self.bitgen = np.random.PCG64(seq)
        self.kernel = plating_kernel(deck.run.engine, g.indptr, g.indices, phase, content, self.n_q,
                                     self.bitgen, cfg.confinement)
        self.phase = phase.copy()
        self.initial_inclusion = (np.asarray(g.site_data["feature"]) == FEATURE_INCLUSION) & (phase == VOID)
        self.converted = np.zeros(g.n_sites, bool)  # ever turned from electrolyte into Li
        self.blocked = np.zeros(g.n_sites, bool)
        self.relieved = np.zeros(g.n_sites, bool)  # full, anchored, creep carries its deposits
        self.released = np.zeros(g.n_sites, bool)  # full but would dissolve: left active
        self.hold = np.zeros(g.n_sites, bool)
        self.contact = np.ones(g.n_sites, bool)  # electrode-face sites touching their electrode
        self.pressure = np.zeros(g.n_sites)
        self.clusters = self._new_clusters(phase)
        if self.clusters.shorted():
            raise ConfigError("the initial Li (flaws, contour, inclusion) already joins both "
                              "electrodes: nothing to simulate")
        self.sol = None
        self._inputs = ()
        self.dirty = True
        n_obs = deck.run.observations
        self.obs_times = np.linspace(0.0, deck.run.duration, n_obs)
        snaps = deck.run.snapshots
        self.snapshot_at = set(np.unique(np.rint(np.linspace(0, n_obs - 1, snaps)).astype(int)).tolist()) if snaps else set()
        self.next_obs = 0
        self.records: list[dict] = []
        self.snaps: list[dict] = []
        self.short = None
        self.t_short = math.nan
        self.charge_at_short = math.nan
        self.crack_span_time = math.nan
        self.stop_reason = ""
        self.field_solves = 0
        self.profile = {"field_s": 0.0, "channels_s": 0.0, "kernel_s": 0.0, "topology_s": 0.0,
                        "observe_s": 0.0}
        self.epochs = 0

    # --- set-up helpers --------------------------------------------------------------------

    def _new_clusters(self, phase):
        if self.deck.run.engine == "cython":
            cs = compiled("_clusters").ClusterSet(self.graph.indptr, self.graph.indices, self.face)
        else:
            from .reference import ReferenceClusters
            cs = ReferenceClusters(self.graph.indptr, self.graph.indices, self.face)
        for s in np.flatnonzero(phase == LI):
            cs.add(int(s))
        return cs

    def _normal_stress(self):
        """sigma_nn [Pa] on the faces of a crack advancing along each edge: the least applied
        compression across the advance direction (in 2D the in-plane one), so in-plane
        compression resists growth along z (MODEL.md section 5, item 2; seed 000)."""
        s = np.asarray(self.deck.conditions.applied_stress, float)
        across = []
        for ax in range(3):
            others = [o for o in range(3) if o != ax and not (self.micro.dimension == 2 and o == 1)]
            across.append(min(s[o] for o in others))
        return np.asarray(across)[self.axis]

    def _confined(self, phase, content):
        """Full Li sites with no empty (VOID) neighbour and at least one electrolyte one."""
        full = (phase == LI) & (content == self.n_q)
        void_nb = np.zeros(phase.size, bool)
        se_nb = np.zeros(phase.size, bool)
        void_nb[self.src[phase[self.dst] == VOID]] = True
        se_nb[self.src[phase[self.dst] == SE]] = True
        return full & ~void_nb & se_nb

    # --- field, pressures, channels ---------------------------------------------------------

    def current(self, t: float) -> float:
        """Protocol current I(t) = J(t) A_cell [A] (positive plates the electrode at z = 0)."""
        return self.protocol(t) * self.area

    def _anchored_pressure(self, phase, content, clusters):
        """P_stack on full Li sites whose cluster touches a reservoir, 0 elsewhere [Pa]."""
        p = np.zeros(phase.size)
        full = (phase == LI) & (content == self.n_q)
        lab = clusters.label
        anchored = np.zeros(phase.size, bool)
        anchored[full] = clusters.kind[lab[full]] != CLASS_FLOATING
        p[anchored] = self.deck.conditions.stack_pressure
        return p

    def _solve(self):
        """Field solve with blocking (MODEL.md 5.1 and 5.7).

        Full, confined Li sites are blocked, and every blocked site is judged on the blocked
        field: it gets its electrodeposition pressure p_ed = F max_s(phi_s - Phi_c) / V_m; a
        site with p_ed <= 0 would dissolve, not plate, and is *released* (active). A site
        anchored to an electrode reservoir is *relieved* instead if creep can carry the current
        it would draw back to the reservoir below p_ed: P_stack + p_cr(r, l) < p_ed, with
        r = sum_s g_ms (phi_s - Phi_c)^+ / q [1/s] and l its Li distance to the reservoir
        (:func:`creep_pressure`); it stays active (its further deposits creep on into the
        reservoir) at the pressure P_stack + p_cr. Released or relieved sites trigger one more
        solve. Both states last while the site stays full and confined (and anchored), and are
        judged afresh at every protocol change (:meth:`_protocol_change`).
        """
        start = wallclock.perf_counter()
        phase, content = self.phase, self.kernel.contents
        clusters = label_clusters(self.graph, phase == LI, self.face)
        anchored = np.zeros(phase.size, bool)
        metal = phase == LI
        anchored[metal] = clusters.kind[clusters.label[metal]] != CLASS_FLOATING
        if self.deck.plating.confinement:
            confined = self._confined(phase, content)
            self.relieved &= confined & anchored
            self.released &= confined
            self.blocked = confined & ~self.relieved & ~self.released
            self.hold &= self.blocked
        p_field = self._anchored_pressure(phase, content, clusters)
        I = self.current(self.kernel.time)
        inputs = (phase, self.blocked, p_field, I, self.contact)
        if self.sol is not None and all(np.array_equal(x, y) for x, y in zip(inputs, self._inputs)):
            self.profile["field_s"] += wallclock.perf_counter() - start
            return  # a quantum moved but nothing the field sees changed: same solution
        for _ in range(2):
            try:
                sol = self.solver.solve(phase, current=I, pressure=p_field, blocked=self.blocked,
                                        contact=self.contact)
            except FieldError:
                if not self.blocked.any():
                    raise
                # blocked Li walls off the electrolyte: the confined Li yields (released)
                # rather than stopping the cell; with nothing blocked the cell is truly cut
                self.released |= self.blocked
                self.blocked[:] = False
                self.hold[:] = False
                sol = self.solver.solve(phase, current=I, pressure=p_field, blocked=self.blocked,
                                        contact=self.contact)
            self.field_solves += 1
            judge = self.blocked & ~self.hold
            if not judge.any():
                break
            eta, draw = self._blocked_drive(sol, judge)
            release = judge & (eta <= 0.0)
            relieve = np.zeros_like(release)
            r = np.flatnonzero(judge & ~release & anchored)
            if self.deck.plating.creep and r.size:
                p_cr = self.deck.conditions.stack_pressure + creep_pressure(
                    draw[r] / self.quantum, self._reservoir_distance(phase)[r], self.li,
                    self.deck.conditions.temperature, self.n_q)
                relieve[r] = p_cr < FARADAY * eta[r] / self.V_m
            if not (release.any() or relieve.any()):
                break
            self.released |= release
            self.relieved |= relieve
            self.blocked &= ~(release | relieve)
        self.sol, self.p_field = sol, p_field
        self._inputs = (phase.copy(), self.blocked.copy(), p_field, I, self.contact.copy())
        self.profile["field_s"] += wallclock.perf_counter() - start

    def _protocol_change(self):
        """The current changed: re-evaluate the affine field; blocking, release and relief
        depend on it, so if any site is in one of those states they are judged afresh by a new
        solve (a reversal lets blocked Li dissolve, a higher current may end a relief)."""
        t = self.kernel.time
        if (self.blocked | self.relieved | self.released).any():
            self.relieved[:] = False
            self.released[:] = False
            self.hold[:] = False
            self.dirty = True
        else:
            self.sol.set_current(self.current(t))  # affine in I: no new solve
            self._install()

    def _blocked_drive(self, sol, mask):
        """For masked (blocked) sites: max_s (phi_s - Phi_c) [V] over electrolyte neighbours,
        and the current sum_s g_ms (phi_s - Phi_c)^+ [A] they would draw if unblocked."""
        e = np.flatnonzero(mask[self.src] & (self.phase[self.dst] == SE))
        eta = np.full(self.phase.size, -np.inf)
        draw = np.zeros(self.phase.size)
        if e.size:
            m, s = self.src[e], self.dst[e]
            d = sol.phi[s] - sol.cluster_potential[sol.clusters.label[m]]
            ok = np.isfinite(d)
            np.maximum.at(eta, m[ok], d[ok])
            draw = np.bincount(m[ok], self.solver.metal_se_conductance(e[ok]) * np.maximum(d[ok], 0.0),
                               self.phase.size)
        return eta, draw

    def _relax_free_volume(self):
        """Quasi-static creep inside a cluster (MODEL.md 5.7): Li at pressure flows into free
        volume far faster than it plates (power-law creep at tens of MPa moves a site's worth
        in microseconds), so a non-full Li site (a fresh crack included) next to pressurised
        full Li (blocked sites; creep-relieved ones are fed from their reservoir by creep
        events instead) fills at once from the most pressurised full site of that connected
        pressurised Li (ties: the lowest site id), which takes over its deficit. Li is
        conserved exactly; the free volume ends where the pressure was highest, which then
        plates. Returns True if any content moved."""
        phase, n_q = self.phase, self.n_q
        content = self.kernel.contents
        metal = phase == LI
        loaded = metal & (content == n_q) & (self.pressure > 0) & ~self.relieved
        near = np.zeros(phase.size, bool)
        near[self.src[loaded[self.dst]]] = True
        holes = np.flatnonzero(metal & (content < n_q) & near)
        if not holes.size:
            return False
        keep = loaded[self.src] & loaded[self.dst]
        adj = sp.csr_matrix((np.ones(int(keep.sum()), np.int8), (self.src[keep], self.dst[keep])),
                            shape=(phase.size, phase.size))
        _, comp = csgraph.connected_components(adj, directed=False)
        members = np.flatnonzero(loaded)
        order = members[np.lexsort((members, -self.pressure[members]))]  # best first
        queue = {}
        for v in order.tolist():
            queue.setdefault(int(comp[v]), []).append(v)
        for c in queue.values():
            c.reverse()  # pop() takes the best
        for h in holes.tolist():
            row = self.dst[self.graph.indptr[h]:self.graph.indptr[h + 1]]
            comps = {int(comp[t]) for t in row.tolist() if loaded[t]}
            best = None
            for c in sorted(comps):
                q = queue[c]
                while q and not loaded[q[-1]]:
                    q.pop()
                if q and (best is None or (-self.pressure[q[-1]], q[-1]) < (-self.pressure[best], best)):
                    best = q[-1]
            if best is None:
                continue
            self.kernel.set_content(h, n_q)
            self.kernel.set_content(best, int(content[h]))  # 0: an empty metal site, as a crack
            loaded[best] = False
            content[best], content[h] = content[h], n_q
        return True

    def _reservoir_distance(self, phase):
        """Number of Li sites from each Li site to its electrode reservoir, through Li (1 on
        the face sites; -1 if not anchored): unweighted shortest paths from one virtual node
        joined to every Li face site. Kept until the phases change (_solve and _install of an
        epoch both ask)."""
        cached = getattr(self, "_distance", None)
        if cached is not None and np.array_equal(cached[0], phase):
            return cached[1]
        n = phase.size
        metal = phase == LI
        keep = metal[self.src] & metal[self.dst]
        face = np.flatnonzero(metal & (self.face != 0))
        rows = np.concatenate([self.src[keep], np.full(face.size, n)])
        cols = np.concatenate([self.dst[keep], face])
        adj = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n + 1, n + 1))
        d = csgraph.shortest_path(adj, directed=False, unweighted=True, indices=n)[:n]
        dist = np.where(np.isfinite(d), d, -1).astype(np.intp)
        self._distance = (phase.copy(), dist)
        return dist

    def _install(self):
        """Pressures and channels of the current field; install them in the kernel."""
        start = wallclock.perf_counter()
        sol, phase, content = self.sol, self.phase, self.kernel.contents
        cfg, q = self.deck.plating, self.quantum
        label, kind = sol.clusters.label, sol.clusters.kind
        # pressures
        pressure = self.p_field.copy()
        relief = np.zeros(phase.size, np.int8)
        if self.relieved.any():
            r = np.flatnonzero(self.relieved)
            lat = np.flatnonzero(sol.interface_metal >= 0)
            plating = np.bincount(sol.interface_metal[lat], np.maximum(sol.interface_current[lat], 0.0),
                                  phase.size)
            ell = self._reservoir_distance(phase)[r]
            pressure[r] = self.deck.conditions.stack_pressure + creep_pressure(
                plating[r] / q, ell, self.li, self.deck.conditions.temperature, self.n_q)
            kr = kind[label[r]]  # relieved sites are anchored (_solve): A, C (or short) side
            relief[r] = np.select([kr == CLASS_A, kr == CLASS_C], [ELECTRODE_A, ELECTRODE_C], 0)
        self.kernel.set_relief(relief)
        if self.blocked.any():
            eta, _ = self._blocked_drive(sol, self.blocked)
            p_ed = FARADAY * np.maximum(eta, 0.0) / self.V_m
            pressure[self.blocked] = np.maximum(p_ed[self.blocked], pressure[self.blocked])
        self.pressure = pressure

        blocks = []  # (kind, rate, a, b, src_lo, src_hi, snk_lo, snk_hi) arrays, in channel order

        def add(ch, rate, a=-1, b=-1, segments=(0, 0, 0, 0)):
            rate = np.atleast_1d(np.asarray(rate, float))
            ids = [np.broadcast_to(np.asarray(x, np.intp), rate.shape) for x in (a, b, *segments)]
            blocks.append((np.full(rate.size, ch, np.int8), rate, *ids))

        pool_m, pool_s, pool_c = [], [], []

        # Faradaic transfers: conductor 0 = A side, 1 = C side, 2 + k = floating cluster k
        I_if, m_if, s_if = sol.interface_current, sol.interface_metal, sol.interface_se
        lattice = m_if >= 0
        cond = np.where(m_if == ELECTRODE_A, 0, 1)
        kl = kind[label[m_if[lattice]]]
        cond[lattice] = np.where(kl == CLASS_A, 0, np.where(kl == CLASS_C, 1, 2 + label[m_if[lattice]]))
        has_li = np.ones(m_if.size, bool)
        has_li[lattice] = content[m_if[lattice]] > 0  # a freshly cracked empty site cannot dissolve
        source = (I_if < 0) & has_li
        sink = I_if > 0
        segments = {}  # (conductor, is_sink) -> (lo, hi, total weight)
        lo = 0
        for flag, mask in ((False, source), (True, sink)):
            idx = np.flatnonzero(mask)
            idx = idx[np.argsort(cond[idx], kind="stable")]
            if not idx.size:
                continue
            c_sorted = cond[idx]
            cuts = np.flatnonzero(np.diff(c_sorted)) + 1
            for part in np.split(idx, cuts):
                cum = np.cumsum(np.abs(I_if[part]))
                pool_m.append(m_if[part])
                pool_s.append(s_if[part])
                pool_c.append(cum)
                segments[(int(cond[part[0]]), flag)] = (lo, lo + part.size, float(cum[-1]))
                lo += part.size

        def transfer(ch, src_cond, snk_cond, rate):
            so, sk = segments.get((src_cond, False)), segments.get((snk_cond, True))
            if so is not None and sk is not None and rate > 0:
                add(ch, rate, segments=(so[0], so[1], sk[0], sk[1]))

        # net plating current of conductor c [A]: I into A's side, -I into C's, 0 if floating
        I_a = sol.current
        net = {0: I_a, 1: -I_a}
        for c in sorted({c for c, _ in segments}):
            so, sk = segments.get((c, False)), segments.get((c, True))
            if so and sk:  # what the external channel does not take loops inside c
                plate = sk[2] - max(net.get(c, 0.0), 0.0)
                dissolve = so[2] - max(-net.get(c, 0.0), 0.0)
                transfer(CH_LOOP, c, c, max(min(plate, dissolve), 0.0) / q)
        # the external circuit carries exactly I(t) (galvanostatic); the loops carry the rest,
        # less the current of empty (cracked) sites, which cannot dissolve
        I = self.current(self.kernel.time)
        if I > 0:
            transfer(CH_PLATE_A, 1, 0, I / q)
        elif I < 0:
            transfer(CH_PLATE_C, 0, 1, -I / q)

        # Griffith fracture ahead of pressurised full sites (blocked or creep-relieved)
        loaded = self.blocked | self.relieved
        if cfg.fracture and cfg.confinement and loaded.any():
            e = np.flatnonzero(loaded[self.src] & (phase[self.dst] == SE))
            m, s = self.src[e], self.dst[e]
            ax = self.axis[e]
            extent = self._cluster_extent(label, phase)
            a = np.maximum(extent[label[m], ax], cfg.min_crack_length or self.h)
            k_i = cfg.geometry_factor * (pressure[m] - self.normal_stress[e]) * np.sqrt(np.pi * a)
            ratio = k_i / self.toughness[e]
            go = ratio >= 1.0
            add(CH_FRACTURE, cfg.fracture_attempt_frequency * (ratio[go] - 1.0), s[go], m[go])

        # creep: full pressurised sites -> non-full Li neighbours; reservoirs -> face sites
        # (creep from anchored full Li into the reservoirs is the quasi-static relief above)
        if cfg.creep:
            T = self.deck.conditions.temperature
            P = self.deck.conditions.stack_pressure
            metal = phase == LI
            # from relieved sites only: elsewhere free volume moves quasi-statically
            # (_relax_free_volume); a relieved donor is refilled from its reservoir at once
            e = np.flatnonzero(self.relieved[self.src] & (pressure[self.src] > 0) & metal[self.dst]
                               & (content[self.dst] < self.n_q))
            pairs = [(relief[self.src[e]], self.dst[e], pressure[self.src[e]])]
            for face, res in ((FACE_A, ELECTRODE_A), (FACE_C, ELECTRODE_C)):
                on = metal & (self.face == face)
                inflow = np.flatnonzero(on & (content < self.n_q)) if P > 0 else np.zeros(0, np.intp)
                pairs.append((np.full(inflow.size, res), inflow, np.full(inflow.size, P)))
            for frm, to, dp in pairs:
                r = creep_rate(dp, self.li, T, self.n_q)
                ok = r > 0
                add(CH_CREEP, r[ok], np.asarray(frm)[ok], np.asarray(to)[ok])

        # electron leak: reduction of Li+ by trapped electrons, and at floating Li
        if self.electrons is not None:
            f = self._electron_fluxes()
            res = ELECTRODE_C if self.current(self.kernel.time) >= 0 else ELECTRODE_A  # Li+ source
            nuc = np.flatnonzero((f.nucleation > 0) & (phase == SE))
            fl = np.flatnonzero((f.metal > 0) & (phase == LI))
            fl = fl[kind[label[fl]] == CLASS_FLOATING]
            add(CH_NUCLEATE, f.nucleation[nuc], nuc, res)
            add(CH_ELECTRON, f.metal[fl], res, fl)

        # stripping voids (MODEL.md 5.8) on electrolyte face sites
        if cfg.stripping_voids:
            for ch, sites, r in self._contact_channels(sol, phase):
                add(ch, r, sites)

        cols = [np.concatenate(c) for c in zip(*blocks)] if blocks else (
            [np.zeros(0, np.int8), np.zeros(0)] + [np.zeros(0, np.intp)] * 6)
        cat = (lambda x, dt: np.concatenate(x).astype(dt) if x else np.zeros(0, dt))
        self._kinds = cols[0]
        self.kernel.set_channels(*cols, cat(pool_m, np.intp), cat(pool_s, np.intp), cat(pool_c, float))
        self.profile["channels_s"] += wallclock.perf_counter() - start

    def _contact_channels(self, sol, phase):
        """Detachment and healing of electrolyte face sites (MODEL.md 5.8): a site in contact
        detaches at nu_v (j / j_strip - 1) where its local stripping current density j
        (reservoir interface current over the face area) exceeds the resupply limit
        j_strip = (j0 + dj/dP P_stack) exp(-Q/R (1/T - 1/T_ref)) (creep resupplies the
        interface: Li creep's activation energy Q); a detached site heals at k_h P_stack."""
        cfg, cond = self.deck.plating, self.deck.conditions
        a_f = self.h * self.h
        arr = math.exp(-self.li.creep_activation_energy / GAS_CONSTANT
                       * (1.0 / cond.temperature - 1.0 / self.li.reference_temperature))
        j_strip = (cfg.strip_limit + cfg.strip_limit_per_pressure * cond.stack_pressure) * arr
        res = sol.interface_metal < 0
        s, j = sol.interface_se[res], -sol.interface_current[res] / a_f
        over = j > j_strip
        detach = (s[over], cfg.void_attempt_frequency * (j[over] / j_strip - 1.0))
        lost = np.flatnonzero(~self.contact & (self.face != 0) & (phase == SE))
        heal = (lost, np.full(lost.size, cfg.heal_rate_per_pressure * cond.stack_pressure))
        return [(CH_DETACH, *detach), (CH_HEAL, *heal)] if heal[1].any() else [(CH_DETACH, *detach)]

    def _electron_fluxes(self):
        """Quasi-static electron traffic of the current field (:mod:`kmc.electrons`)."""
        sol, phase = self.sol, self.phase
        s = sol.interface_se
        band_gap = np.asarray(self.graph.site_data["band_gap"], float)
        rate = injection_rate(band_gap[s], sol.overpotential, self.electrons.params,
                              self.h * self.h, self.quantum)
        metal = phase == LI
        potential = np.zeros(phase.size)
        potential[metal] = sol.cluster_potential[sol.clusters.label[metal]]
        self.fluxes = self.electrons.solve(phase, sol.phi, potential, sol.voltage,
                                           np.bincount(s, rate, phase.size))
        return self.fluxes

    def _cluster_extent(self, label, phase):
        """Extent [m] of every Li cluster along x, y, z in sites' worth (the crack length a of
        the Griffith criterion, MODEL.md 5.2). Along a periodic axis the extent is the axis
        length less the largest empty gap (so a cluster across the seam is measured whole)."""
        metal = np.flatnonzero(phase == LI)
        n = int(label.max()) + 1 if metal.size else 0
        out = np.zeros((n, 3))
        idx = np.rint(self.graph.positions[metal] / self.h - 0.5).astype(np.intp)
        lab = label[metal]
        for ax in range(3):
            size = self.micro.shape[ax]
            occ = np.zeros((n, size), bool)
            occ[lab, idx[:, ax]] = True
            rows, cols = np.nonzero(occ)  # sorted by row, then column
            first = np.r_[True, rows[1:] != rows[:-1]]
            last = np.r_[rows[1:] != rows[:-1], True]
            gap = np.zeros(rows.size, np.intp)
            gap[~first] = cols[~first] - cols[:-1][~first[1:]] - 1
            if self.micro.periodic[ax]:  # wrap-around gap, stored on each row's first entry
                gap[first] = cols[first] + size - cols[last] - 1
                largest = np.zeros(n, np.intp)
                np.maximum.at(largest, rows, gap)
                out[:, ax] = size - largest
            else:
                lo = np.full(n, size)
                hi = np.zeros(n, np.intp)
                np.minimum.at(lo, rows, cols)
                np.maximum.at(hi, rows, cols)
                out[:, ax] = hi - lo + 1
        return out * self.h

    # --- topology changes, short circuit ----------------------------------------------------

    def _topology(self):
        """Apply the kernel's topology change to clusters and blocking; detect a short."""
        start = wallclock.perf_counter()
        k = self.kernel
        new = k.phases
        changed = np.flatnonzero(new != self.phase)
        shorted = False
        for s in changed.tolist():
            old = self.phase[s]
            if new[s] == LI:
                if old == SE:
                    self.converted[s] = True
                shorted |= bool(self.clusters.add(s))
            elif old == LI:
                self.clusters.remove(s)
        self.phase = new
        if self.deck.plating.creep and self.deck.plating.confinement:
            self._relax_free_volume()
        if k.last_change == TOP_CONTACT:
            self.contact[k.last_site] = self._kinds[k.last_channel] == CH_HEAL
        if k.last_change == TOP_BLOCKED:  # a released site was asked to plate after all
            self.released[k.last_site] = False
            self.hold[k.last_site] = True
        self.dirty = True
        self.epochs += 1
        if self.deck.run.debug_checks:
            self._check_clusters()
        if shorted and self.short is None:
            self.t_short = k.time
            self.charge_at_short = self._plated_charge()
            self.short = self._short_path()
            if self.short is None:
                raise EngineConsistencyError(f"t = {k.time:.6g} s: the union-find reports a short "
                                             "that networkx does not find")
        self.profile["topology_s"] += wallclock.perf_counter() - start
        return shorted

    def li_graph(self, sites_mask=None) -> nx.Graph:
        """networkx graph of Li sites (or ``sites_mask``) with electrode nodes "A" and "C"
        joined to the Li sites on the electrode faces."""
        mask = (self.phase == LI) if sites_mask is None else sites_mask
        G = nx.Graph()
        G.add_nodes_from(np.flatnonzero(mask).tolist())
        keep = mask[self.src] & mask[self.dst] & (self.src < self.dst)
        G.add_edges_from(zip(self.src[keep].tolist(), self.dst[keep].tolist()))
        for name, face in (("A", FACE_A), ("C", FACE_C)):
            on = np.flatnonzero(mask & (self.face == face))
            if on.size:
                G.add_edges_from((name, int(s)) for s in on)
        return G

    def _check_clusters(self):
        """networkx and the kernel's union-find must agree on the Li clusters and the short."""
        G = self.li_graph()
        nx_short = G.has_node("A") and G.has_node("C") and nx.has_path(G, "A", "C")
        H = G.copy()
        H.remove_nodes_from([n for n in ("A", "C") if H.has_node(n)])
        labels = self.clusters.labels()
        comps = list(nx.connected_components(H))
        roots = [{int(labels[s]) for s in comp} for comp in comps]
        same = all(len(r) == 1 for r in roots) and len({next(iter(r)) for r in roots}) == len(comps)
        if not same or nx_short != bool(self.clusters.shorted()):
            raise EngineConsistencyError(
                f"t = {self.kernel.time:.6g} s: union-find and networkx disagree "
                f"({len(comps)} networkx clusters, short {nx_short} vs {bool(self.clusters.shorted())})")
        return nx_short, len(comps)

    def _short_path(self):
        """networkx shortest Li path A -> C, its GB-edge fraction and tortuosity, or None."""
        G = self.li_graph()
        if not (G.has_node("A") and G.has_node("C") and nx.has_path(G, "A", "C")):
            return None
        path = np.asarray(nx.shortest_path(G, "A", "C")[1:-1], dtype=np.intp)
        gb = [self._edge_is_gb(u, v) for u, v in zip(path[:-1], path[1:])]
        return ShortPath(sites=path, gb_fraction=float(np.mean(gb)) if gb else 0.0,
                         tortuosity=path.size * self.h / self.thickness)

    def _edge_is_gb(self, u, v) -> bool:
        g = self.graph
        row = slice(g.indptr[u], g.indptr[u + 1])
        return bool(self.gb_edge[row][g.indices[row] == v][0])

    def _crack_spans(self) -> bool:
        """True if Li or empty crack (Li-made voids, inclusion cracks) spans the cell."""
        mask = (self.phase == LI) | ((self.phase == VOID) & (self.converted | self.initial_inclusion))
        G = self.li_graph(mask)
        return G.has_node("A") and G.has_node("C") and nx.has_path(G, "A", "C")

    # --- observations ------------------------------------------------------------------------

    def _plated_charge(self) -> float:
        """Net charge moved by the external circuit into electrode A's side [C]."""
        c = self.kernel.event_counts
        return self.quantum * float(c[CH_PLATE_A] - c[CH_PLATE_C])

    def _observe(self, t, snapshot=False):
        start = wallclock.perf_counter()
        phase, content = self.phase, self.kernel.contents
        nx_short, n_nx = self._check_clusters()
        metal = phase == LI
        cl = label_clusters(self.graph, metal, self.face)
        site_kind = np.full(phase.size, -1, np.int8)
        site_kind[metal] = cl.kind[cl.label[metal]]
        floating = np.flatnonzero(cl.kind == CLASS_FLOATING)
        sizes = np.bincount(cl.label[metal], minlength=cl.n)[floating]
        a_sites = (site_kind == CLASS_A) | (site_kind == CLASS_SHORT)
        depth = float((self.layer[a_sites].max() + 1) * self.h) if a_sites.any() else 0.0
        nz = self.micro.shape[2]
        profile = np.bincount(self.layer, content, nz) / self.n_q
        if self.crack_span_time != self.crack_span_time and self._crack_spans():
            self.crack_span_time = t
        sol = self.sol
        rec = {
            "time": t,
            "current_density": self.protocol(t),
            "voltage": sol.voltage if sol is not None else math.nan,
            "plated_charge": self._plated_charge(),
            "expected_charge": self.area * self.protocol.integral(t),
            "li_sites_a": int(a_sites.sum()),
            "li_sites_c": int((site_kind == CLASS_C).sum()),
            "li_sites_floating": int((site_kind == CLASS_FLOATING).sum()),
            "floating_clusters": int(floating.size),
            "largest_floating_cluster": int(sizes.max()) if sizes.size else 0,
            "penetration_depth": depth,
            "li_depth_profile": profile,
            "gb_li_fraction": float(self.gb_site[metal].mean()) if metal.any() else math.nan,
            "li_quanta": int(content.sum()),
            "reservoir_a": int(self.kernel.reservoir_a),
            "reservoir_c": int(self.kernel.reservoir_c),
            "blocked_sites": int(self.blocked.sum()),
            "max_pressure": float(self.pressure.max(initial=0.0)),
            "fractured_sites": int(self.kernel.event_counts[CH_FRACTURE]),
            "empty_crack_sites": int(((phase == VOID) & (self.converted | self.initial_inclusion)).sum()),
            "events": int(self.kernel.n_events),
            "contact_fraction_a": float(self.contact[self.face == FACE_A].mean()),
            "contact_fraction_c": float(self.contact[self.face == FACE_C].mean()),
            "trapped_electrons": float(self.fluxes.trapped.sum()) if self.fluxes else 0.0,
            "leakage_current": self.quantum * self.fluxes.exit_c if self.fluxes else 0.0,
            "field_solves": int(self.field_solves),
            "shorted": int(nx_short),
            "li_clusters": int(n_nx),
        }
        self.records.append(rec)
        if snapshot:
            self.snaps.append({
                "time": t, "phase": phase.copy(), "content": content.copy(),
                "pressure": self.pressure.copy(), "cluster_class": np.where(
                    metal & (site_kind >= 0), site_kind, -1).astype(np.int8)})
        self.profile["observe_s"] += wallclock.perf_counter() - start

    # --- the loop ------------------------------------------------------------------------------

    def run(self, checkpoint_path=None) -> PlatingResult:
        """Run until a stop condition; returns a :class:`PlatingResult`.

        Parameters
        ----------
        checkpoint_path : path-like, optional
            Where to write checkpoints (every ``run.checkpoint_interval`` of wall time, and when
            the run stops on a limit or an interrupt); removed after a run that finished.
        """
        run = self.deck.run
        start = wallclock.perf_counter()
        last_ckpt = start
        k = self.kernel
        interrupted = []
        # Ctrl-C only raises a flag, checked between kernel calls, so the state is consistent
        # whenever the run stops (and the checkpoint it writes can be resumed)
        restore = None
        if threading.current_thread() is threading.main_thread():
            restore = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
        try:
            while not self.stop_reason:
                if interrupted:
                    self.stop_reason = "interrupted"
                    break
                t = k.time
                if self.dirty:
                    try:
                        self._solve()
                    except OpenCircuitError as exc:  # a physical end: the electrolyte is cut
                        log.warning("t = %.6g s: %s", t, exc)
                        self.stop_reason = "open_circuit"
                        break
                    except FieldError as exc:
                        log.warning("field solve failed at t = %.6g s: %s", t, exc)
                        self.stop_reason = "field_error"
                        break
                    self._install()
                    self.dirty = False
                if self.next_obs < self.obs_times.size and self.obs_times[self.next_obs] <= t:
                    self._observe(t, snapshot=self.next_obs in self.snapshot_at)
                    self.next_obs += 1
                    continue
                if t >= run.duration:
                    self.stop_reason = "duration"
                    break
                if self.protocol.label(t) == "end":
                    self.stop_reason = "protocol_end"
                    break
                t_stop = min(self.obs_times[self.next_obs], self.protocol.next_change(t), run.duration)
                t0 = wallclock.perf_counter()
                status, _ = k.run(t_stop, run.max_events - k.n_events)
                self.profile["kernel_s"] += wallclock.perf_counter() - t0
                if status == TOPOLOGY_CHANGED:
                    if self._topology():  # a short: no field to solve beyond it
                        self.stop_reason = "short"
                elif status == REACHED_EVENTS:
                    self.stop_reason = "max_events"
                elif k.time == self.protocol.next_change(t) and not self.dirty:
                    self._protocol_change()
                now = wallclock.perf_counter()
                if self.progress is not None:
                    self.progress(k.time, f"deepest Li {self._depth_um():.1f} um")
                if not self.stop_reason and now - start > run.wall_time_limit:
                    self.stop_reason = "wall_time"
                if (checkpoint_path and run.checkpoint_interval > 0 and not self.stop_reason
                        and now - last_ckpt > run.checkpoint_interval):
                    self.save_checkpoint(checkpoint_path)
                    last_ckpt = now
        finally:
            if restore is not None:
                signal.signal(signal.SIGINT, restore)
        if checkpoint_path:
            if self.stop_reason in ("max_events", "wall_time", "interrupted", "field_error"):
                self.save_checkpoint(checkpoint_path)
            else:
                Path(checkpoint_path).unlink(missing_ok=True)
        if self.records and self.records[-1]["time"] == k.time and self.stop_reason != "short":
            if not self.snaps or self.snaps[-1]["time"] != k.time:
                self.records.pop()
                self._observe(k.time, snapshot=True)
        else:
            self._observe(k.time, snapshot=True)
        return self._result(wallclock.perf_counter() - start)

    def _depth_um(self) -> float:
        """Top of the highest Li site off the face at z = L [um] (the progress line)."""
        a = (self.phase == LI) & (self.face != FACE_C)
        return 0.0 if not a.any() else float(self.layer[a].max() + 1) * self.h * 1e6

    def _result(self, wall) -> PlatingResult:
        keys = [k for k in self.records[0] if k != "li_depth_profile"]
        obs = {k: np.array([r[k] for r in self.records]) for k in keys}
        obs["li_depth_profile"] = np.array([r["li_depth_profile"] for r in self.records])
        dt = np.diff(obs["time"])
        dq = np.diff(obs["expected_charge"])
        mean = np.full(obs["time"].size, np.nan)
        mean[1:] = np.divide(dq, self.area * dt, out=np.full(dt.size, np.nan), where=dt > 0)
        obs["mean_current_density"] = mean
        snaps = {}
        if self.snaps:
            snaps = {k: np.array([s[k] for s in self.snaps]) for k in self.snaps[0]}
        short = self.short
        scalars = {
            "t_short": self.t_short,
            "charge_at_short": self.charge_at_short,
            "short_path_gb_fraction": short.gb_fraction if short else math.nan,
            "short_path_gb_site_fraction": float(self.gb_site[short.sites].mean()) if short else math.nan,
            "gb_site_fraction": float(self.gb_site.mean()),
            "short_path_tortuosity": short.tortuosity if short else math.nan,
            "short_path_length": int(short.sites.size) if short else 0,
            "gb_edge_fraction": float(self.gb_edge.mean()),
            "crack_span_time": self.crack_span_time,
            "quantum_charge": self.quantum,
            "cell_area": self.area,
            "events_by_kind": self.kernel.event_counts,
        }
        if short is not None:
            path = np.zeros(self.graph.n_sites, np.uint8)
            path[short.sites] = 1
            scalars["short_path"] = path
        return PlatingResult(deck=self.deck, graph=self.graph, micro=self.micro,
                             material=self.material, quantum=self.quantum, area=self.area,
                             observations=obs, snapshots=snaps, scalars=scalars,
                             stop_reason=self.stop_reason, wall_time=wall,
                             profile=dict(self.profile, field_solves=self.field_solves,
                                          epochs=self.epochs, events=int(self.kernel.n_events)))

    # --- checkpoints ---------------------------------------------------------------------------

    _STATE = ("phase", "converted", "blocked", "relieved", "released", "hold", "contact", "pressure", "sol", "p_field",
              "_inputs", "dirty",
              "next_obs", "records", "snaps", "short", "t_short",
              "charge_at_short", "crack_span_time", "field_solves", "epochs")

    def save_checkpoint(self, path) -> Path:
        """Write everything the next event depends on, atomically (temporary file + rename)."""
        k = self.kernel
        state = {name: getattr(self, name) for name in self._STATE}
        state.update(
            version=CHECKPOINT_VERSION, deck=self.deck,
            kernel={"phases": k.phases, "contents": k.contents, "time": k.time,
                    "n_events": k.n_events, "reservoir_a": k.reservoir_a,
                    "reservoir_c": k.reservoir_c, "event_counts": k.event_counts},
            rng=self.bitgen.state, solver=self.solver.cache_state())
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def resume(cls, path, progress=None, run_overrides=None) -> "PlatingSimulation":
        """Rebuild a simulation from a checkpoint (``run_overrides``: new ``[run]`` limits)."""
        import dataclasses

        path = Path(path)
        try:
            with open(path, "rb") as f:
                state = pickle.load(f)
        except FileNotFoundError:
            raise KmcError(f"{path}: checkpoint not found") from None
        except Exception as exc:
            raise KmcError(f"{path}: not a readable checkpoint ({exc.__class__.__name__})") from None
        if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
            raise KmcError(f"{path}: not a checkpoint of this kmc version")
        deck = state["deck"]
        if run_overrides:
            deck = dataclasses.replace(deck, run=dataclasses.replace(deck.run, **run_overrides))
        sim = cls(deck, progress=progress)
        for name in cls._STATE:
            setattr(sim, name, state[name])
        ks = state["kernel"]
        sim.bitgen.state = state["rng"]
        sim.kernel = plating_kernel(deck.run.engine, sim.graph.indptr, sim.graph.indices,
                                    ks["phases"], ks["contents"], sim.n_q, sim.bitgen,
                                    deck.plating.confinement)
        k = sim.kernel
        k.time, k.n_events = ks["time"], ks["n_events"]
        k.reservoir_a, k.reservoir_c = ks["reservoir_a"], ks["reservoir_c"]
        k.event_counts = ks["event_counts"]
        sim.clusters = sim._new_clusters(sim.phase)
        sim.solver.restore_cache(state["solver"])
        if not sim.dirty:
            sim._install()
        return sim


def simulate(deck: PlatingDeck, progress=None, checkpoint_path=None) -> PlatingResult:
    """Set up and run a plating deck (see :class:`PlatingSimulation`)."""
    return PlatingSimulation(deck, progress=progress).run(checkpoint_path)
