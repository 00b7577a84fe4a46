"""Electron leakage (MODEL.md sections 5.4-5.6): injection, walk, trapping, reduction of Li+.

Solved quasi-statically per epoch (:class:`kmc.electrons.ElectronLeak`): Schottky injection
from Li into the electrolyte at Eg/2 - Delta_F, a walk on the conduction-band landscape biased
by the field, capture at traps, escape and reduction of Li+. Two outcomes become kMC channels:
a reduction in the electrolyte nucleates a new floating Li site (its Li+ comes from the
reservoir that supplies the plating current), and electrons reaching floating Li grow it.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..clusters import CLASS_FLOATING
from ..codes import CH_ELECTRON, CH_NUCLEATE, RES_A, RES_C
from ..electrons import ElectronFluxes, ElectronLeak, ElectronParameters
from ..magnetic import hall_vector
from ..microstructure import LI, SE
from .base import Channels, Epoch, Event


class ElectronLeakEvents(Event):
    """Nucleation and electron-deposit channels from the quasi-static electron traffic."""

    name = "electron_leak"

    def __init__(self, sim):
        super().__init__(sim)
        cfg, cell = sim.plating, sim.cell
        params = ElectronParameters.calibrated(
            sim.material, trap_attempt_frequency=cfg.trap_attempt_frequency,
            nucleation_attempt_frequency=cfg.nucleation_attempt_frequency,
            nucleation_barrier=cfg.nucleation_barrier,
            nucleation_overpotential=cfg.nucleation_overpotential)
        self.leak = ElectronLeak(cell.graph, params, hall=hall_vector(
            params.mobility, sim.conditions.magnetic_field))
        self._fluxes = None  # the last epoch's traffic (observed: trapped electrons, leakage)
        self._pending, self._phase = (), None  # phases (weight, field) still to be solved for

    @staticmethod
    def enabled(plating) -> bool:
        return plating.electron_leak

    #: a reduction probability per visit below which no walk is solved for channels
    QUIET = 1e-30

    def channels(self, epoch: Epoch, out: Channels) -> None:
        """Nucleation and deposit channels; injection is exponential in the overpotential, so
        fast pulses add each phase's channels at its weight (the period-averaged rates).

        A phase without floating Li in which no electron could reduce a Li+ (reduction
        probability per visit below :attr:`QUIET` everywhere: below ~1e-20 events over any
        run) has no channels, and its walk is solved only if the traffic is observed.
        """
        phase = epoch.phase
        metal = phase == LI
        self._fluxes, pending, averaged = None, [], []
        for weight, current, sol in epoch.phases:
            pending.append((weight, sol))
            if self._quiet(sol, metal):
                continue
            f = self._traffic(sol, phase, metal)
            res = RES_C if current >= 0 else RES_A  # the reservoir that supplies Li+
            nuc = np.flatnonzero((f.nucleation > 0) & (phase == SE))
            fl = np.flatnonzero((f.metal > 0) & metal)
            fl = fl[sol.clusters.kind[sol.clusters.label[fl]] == CLASS_FLOATING]
            out.add(CH_NUCLEATE, weight * f.nucleation[nuc], nuc, res)
            out.add(CH_ELECTRON, weight * f.metal[fl], res, fl)
            averaged.append((weight, f))
        if len(averaged) == len(pending):
            self._fluxes = averaged[0][1] if len(averaged) == 1 else (
                ElectronFluxes.weighted_sum(averaged))
        self._phase, self._pending = phase, tuple(pending)

    @property
    def fluxes(self) -> ElectronFluxes | None:
        """The epoch's electron traffic, averaged over its phases (solved when first asked)."""
        if self._fluxes is None and self._pending:
            metal = self._phase == LI
            self._fluxes = ElectronFluxes.weighted_sum(
                [(w, self._traffic(sol, self._phase, metal)) for w, sol in self._pending])
        return self._fluxes

    def _quiet(self, sol, metal) -> bool:
        """No floating Li, and no reduction possible for electrons from either electrode."""
        if np.any(sol.clusters.kind[sol.clusters.label[metal]] == CLASS_FLOATING):
            return False
        return all(self.leak.branching(sol.phi, pot)[0].max(initial=0.0) < self.QUIET
                   for pot in (0.0, sol.voltage))

    def _traffic(self, sol, phase, metal) -> ElectronFluxes:
        """The quasi-static electron traffic in field ``sol`` (:meth:`ElectronLeak.solve`)."""
        label = sol.clusters.label
        potential = np.zeros(phase.size)
        potential[metal] = sol.cluster_potential[label[metal]]
        side = np.full(phase.size, -1, np.int64)
        side[metal] = sol.clusters.kind[label[metal]]
        m, s = sol.interface_metal, sol.interface_se
        return self.leak.solve(phase, sol.phi, potential, side, sol.voltage,
                               np.unique(s[m == RES_A]), np.unique(s[m == RES_C]),
                               self.sim.quantum)

    def state(self) -> dict:
        """The last epoch's electron traffic (observed until the next solve)."""
        return {} if self.fluxes is None else dataclasses.asdict(self.fluxes)

    def restore(self, state: dict) -> None:
        self._fluxes = ElectronFluxes(**state) if state else None
        self._pending = ()
