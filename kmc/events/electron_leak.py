"""Electron leakage (MODEL.md sections 5.4-5.6): injection, walk, trapping, reduction of Li+.

Solved quasi-statically per epoch (:class:`kmc.electrons.ElectronLeak`): Schottky injection
from Li into the electrolyte at Eg/2 - Delta_F, a walk on the conduction-band landscape biased
by the field, capture at traps, escape and reduction of Li+. Its slow outcomes are kMC
channels: a reduction in the electrolyte nucleates a new floating Li site (its Li+ comes from
the reservoir that supplies the plating current), and electrons reaching floating Li grow it.

Slow traps (mean holding time 1/k_d above ``plating.explicit_trap_time``: triple junctions and
pores) hold whole packets as state (MODEL.md 5.5): a walk that reaches one ends in its capture
(``CH_TRAP``); each held packet reduces a Li+ there at k_n or escapes at k_d, and an escaped
packet walks on to where :meth:`kmc.electrons.ElectronLeak.release_fates` says: a reduction
(``CH_DETRAP_NUCLEATE``), floating Li (``CH_DETRAP_ELECTRON``), another explicit trap or an
electrode (``CH_DETRAP``). Each of these events ends the epoch, since the rates depend on the
packets held, so that trapped charge fills during current and relaxes in the rest periods of
pulses at its own rate, instead of following the current at once.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..clusters import CLASS_FLOATING
from ..codes import (CH_DETRAP, CH_DETRAP_ELECTRON, CH_DETRAP_NUCLEATE, CH_ELECTRON, CH_NUCLEATE,
                     CH_TRAP, RES_A, RES_C, TOP_BLOCKED)
from ..electrons import ElectronFluxes, ElectronLeak, ElectronParameters
from ..magnetic import hall_vector
from ..microstructure import LI, SE
from .base import Channels, Epoch, Event

#: Sources of trapped packets (rows of ``ElectronLeakEvents.trapped``): the side of electrode A,
#: of electrode C, floating Li; the order of the patterns of ElectronLeak.injection.
SOURCES = 3


class ElectronLeakEvents(Event):
    """Nucleation and electron-deposit channels from the quasi-static electron traffic, and the
    packets held by explicit traps."""

    name = "electron_leak"

    def __init__(self, sim):
        super().__init__(sim)
        cfg, cell = sim.plating, sim.cell
        params = ElectronParameters.calibrated(
            sim.material, trap_attempt_frequency=cfg.trap_attempt_frequency,
            nucleation_attempt_frequency=cfg.nucleation_attempt_frequency,
            nucleation_barrier=cfg.nucleation_barrier,
            nucleation_overpotential=cfg.nucleation_overpotential,
            explicit_trap_time=cfg.explicit_trap_time or math.inf)
        self.leak = ElectronLeak(cell.graph, params, hall=hall_vector(
            params.mobility, sim.conditions.magnetic_field))
        self._explicit = bool(self.leak.explicit.any())  # any trap followed as kMC state
        #: packets held by each explicit trap, per source (SOURCES x sites)
        self.trapped = np.zeros((SOURCES, cell.graph.n_sites), np.int64)
        self._fluxes = None  # the last epoch's traffic (observed: trapped electrons, leakage)
        self._pending, self._phase = (), None  # phases (weight, field) still to be solved for
        self._table = None  # this epoch's channels and the traps they change (_Table)

    @staticmethod
    def enabled(plating) -> bool:
        return plating.electron_leak

    #: a reduction probability per visit below which no walk is solved for channels
    QUIET = 1e-30

    def channels(self, epoch: Epoch, out: Channels) -> None:
        """Nucleation, deposit and trap channels; injection is exponential in the
        overpotential, so fast pulses add each phase's channels at its weight (the
        period-averaged rates).

        A phase without floating Li in which no electron could reduce a Li+ (reduction
        probability per visit below :attr:`QUIET` everywhere: below ~1e-20 events over any
        run) has no walk channels (no captures either: a captured packet could reduce
        nothing), and its walk is solved only if the traffic is observed; packets already
        held still escape.
        """
        phase = epoch.phase
        metal = phase == LI
        explicit = self._explicit
        self._fluxes, pending, averaged = None, [], []
        table = _Table(len(out))
        for weight, current, sol in epoch.phases:
            pending.append((weight, sol))
            res = RES_C if current >= 0 else RES_A  # the reservoir that supplies Li+
            if self.trapped.any():
                self._held(weight, sol, phase, metal, res, out, table)
            if self._quiet(sol, metal):
                continue
            parts = self._walk(sol, phase, metal, explicit)
            f = ElectronFluxes.weighted_sum([(1.0, p) for p in parts])
            nuc = np.flatnonzero((f.nucleation > 0) & (phase == SE))
            fl = self._floating(f.metal, sol, metal)
            table.add(out, CH_NUCLEATE, weight * f.nucleation[nuc], nuc, res)
            table.add(out, CH_ELECTRON, weight * f.metal[fl], res, fl)
            for source, part in enumerate(parts):
                traps = np.flatnonzero(part.captured > 0)
                table.add(out, CH_TRAP, weight * part.captured[traps], traps, -1, traps, source)
            averaged.append((weight, f))
        if not explicit and len(averaged) == len(pending):
            self._fluxes = averaged[0][1] if len(averaged) == 1 else (
                ElectronFluxes.weighted_sum(averaged))
        self._phase, self._pending, self._table = phase, tuple(pending), table

    def _held(self, weight, sol, phase, metal, res, out, table) -> None:
        """Channels of the packets held by explicit traps in phase ``sol``: reduction in
        place at k_n per packet, escape at k_d per packet to the fates of
        :meth:`kmc.electrons.ElectronLeak.release_fates`."""
        held = [(source, site) for source in range(SOURCES)
                for site in np.flatnonzero(self.trapped[source]).tolist()]
        potentials = (0.0, float(sol.voltage), None)
        potential, _ = self._metal(sol, phase, metal)
        fates = self.leak.release_fates(phase, sol.phi, potential, sol.voltage, *self._faces(sol),
                                        [(site, potentials[source]) for source, site in held])
        k_n = [self.leak.nucleation_rate(sol.phi, pot) for pot in potentials]
        for (source, site), fate in zip(held, fates):
            n = float(self.trapped[source, site])
            table.add(out, CH_DETRAP_NUCLEATE, weight * n * k_n[source][site], site, res, site,
                      source)
            escape = weight * n * self.leak.k_d[site]
            nuc = np.flatnonzero((fate.nucleation > 0) & (phase == SE))
            table.add(out, CH_DETRAP_NUCLEATE, escape * fate.nucleation[nuc], nuc, res, site,
                      source)
            fl = self._floating(fate.metal, sol, metal)
            table.add(out, CH_DETRAP_ELECTRON, escape * fate.metal[fl], res, fl, site, source)
            caught = np.flatnonzero(fate.captured > 0)
            table.add(out, CH_DETRAP, escape * fate.captured[caught], site, caught, site, source)
            rest = fate.metal.copy()
            rest[fl] = 0.0  # electrode-connected Li: like an electrode, nothing changes here
            gone = fate.exit_a + fate.exit_c + float(rest.sum())
            table.add(out, CH_DETRAP, escape * gone, site, -1, site, source)

    def after_topology(self, kernel) -> None:
        """Count the packet an explicit trap took or gave (this epoch's trap channels), and
        hand the packets of traps that stopped being electrolyte to the metal there."""
        entry = self._table.entry(kernel.last_channel) if self._table is not None else None
        if entry is not None and kernel.last_change != TOP_BLOCKED:
            kind, trap, source, target = entry
            if kind == CH_TRAP:
                self.trapped[source, trap] += 1
            else:
                self.trapped[source, trap] -= 1
                if kind == CH_DETRAP and target >= 0:
                    self.trapped[source, target] += 1
        if self.trapped.any():
            self.trapped[:, self.sim.phase != SE] = 0

    @property
    def fluxes(self) -> ElectronFluxes | None:
        """The epoch's electron traffic, averaged over its phases (solved when first asked),
        every trap quasi-static except that explicit traps hold the packets they hold."""
        if self._fluxes is None and self._pending:
            metal = self._phase == LI
            self._fluxes = ElectronFluxes.weighted_sum(
                [(w, self._traffic(sol, self._phase, metal)) for w, sol in self._pending])
            if self._explicit:
                self._fluxes.trapped = np.where(self.leak.explicit, self.trapped.sum(axis=0),
                                                self._fluxes.trapped)
        return self._fluxes

    def _quiet(self, sol, metal) -> bool:
        """No floating Li, and no reduction possible for electrons from either electrode."""
        if np.any(sol.clusters.kind[sol.clusters.label[metal]] == CLASS_FLOATING):
            return False
        return all(self.leak.branching(sol.phi, pot)[0].max(initial=0.0) < self.QUIET
                   for pot in (0.0, sol.voltage))

    @staticmethod
    def _floating(flux, sol, metal) -> np.ndarray:
        """Metal sites of floating clusters that receive ``flux``."""
        fl = np.flatnonzero((flux > 0) & metal)
        return fl[sol.clusters.kind[sol.clusters.label[fl]] == CLASS_FLOATING]

    @staticmethod
    def _metal(sol, phase, metal):
        """Per site: the potential [V] and class (kmc.clusters.CLASS_*) of its Li cluster."""
        label = sol.clusters.label
        potential = np.zeros(phase.size)
        potential[metal] = sol.cluster_potential[label[metal]]
        side = np.full(phase.size, -1, np.int64)
        side[metal] = sol.clusters.kind[label[metal]]
        return potential, side

    @staticmethod
    def _faces(sol):
        """Electrolyte sites in contact with electrode A and C."""
        m, s = sol.interface_metal, sol.interface_se
        return np.unique(s[m == RES_A]), np.unique(s[m == RES_C])

    def _walk(self, sol, phase, metal, explicit: bool) -> list:
        """Where the packets from the A side, the C side and floating Li end (three
        :class:`ElectronFluxes`; explicit traps capture)."""
        potential, side = self._metal(sol, phase, metal)
        face_a, face_c = self._faces(sol)
        patterns = self.leak.injection(phase, sol.phi, potential, side, sol.voltage, face_a,
                                       face_c, self.sim.quantum)
        return self.leak.walk(phase, sol.phi, potential, sol.voltage, face_a, face_c, patterns,
                              explicit=explicit)

    def _traffic(self, sol, phase, metal) -> ElectronFluxes:
        """The quasi-static electron traffic in field ``sol`` (:meth:`ElectronLeak.solve`)."""
        potential, side = self._metal(sol, phase, metal)
        return self.leak.solve(phase, sol.phi, potential, side, sol.voltage, *self._faces(sol),
                               self.sim.quantum)

    def state(self) -> dict:
        """The last epoch's electron traffic (observed until the next solve) and the packets
        held by explicit traps."""
        return {"fluxes": {} if self.fluxes is None else dataclasses.asdict(self.fluxes),
                "trapped": self.trapped.copy()}

    def restore(self, state: dict) -> None:
        fluxes = state.get("fluxes", {})
        self._fluxes = ElectronFluxes(**fluxes) if fluxes else None
        self._pending = ()
        if "trapped" in state:
            self.trapped = np.asarray(state["trapped"], np.int64).copy()


class _Table:
    """The channels this event kind added in one epoch, in channel order from index ``first``
    (they are contiguous: one :meth:`ElectronLeakEvents.channels` call adds them all): per
    channel its kind, the explicit trap whose packet count it changes (-1: none), the
    packets' source and the explicit trap that recaptures an escaped packet (-1: none)."""

    def __init__(self, first: int):
        self.first = first
        self.rows = []

    def add(self, out: Channels, kind: int, rate, a, b, trap=-1, source: int = -1) -> None:
        """Append channels of ``kind`` to ``out`` and their rows here."""
        rate = np.atleast_1d(np.asarray(rate, float))
        out.add(kind, rate, a, b)
        target = np.broadcast_to(np.asarray(b if kind == CH_DETRAP else -1, np.intp), rate.shape)
        self.rows.append((np.full(rate.size, kind, np.int8),
                          np.broadcast_to(np.asarray(trap, np.intp), rate.shape),
                          np.full(rate.size, source, np.int8), target))

    def entry(self, channel: int):
        """(kind, trap, source, target) of ``channel``, or None if it changes no trap."""
        k = channel - self.first
        for kinds, traps, sources, targets in self.rows:
            if 0 <= k < kinds.size:
                if traps[k] < 0:
                    return None
                return int(kinds[k]), int(traps[k]), int(sources[k]), int(targets[k])
            k -= kinds.size
        return None
