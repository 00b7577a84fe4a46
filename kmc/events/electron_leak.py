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
from ..electrons import ElectronFluxes, ElectronLeak, ElectronParameters, injection_rate
from ..microstructure import LI, SE
from .base import Channels, Epoch, Event


class ElectronLeakEvents(Event):
    """Nucleation and electron-deposit channels from the quasi-static electron traffic."""

    name = "electron_leak"

    def __init__(self, sim):
        super().__init__(sim)
        cfg, cell = sim.plating, sim.cell
        self.leak = ElectronLeak(cell.graph, ElectronParameters.calibrated(
            sim.material, cell.thickness, trap_attempt_frequency=cfg.trap_attempt_frequency,
            nucleation_attempt_frequency=cfg.nucleation_attempt_frequency,
            nucleation_barrier=cfg.nucleation_barrier))
        self.band_gap = np.asarray(cell.graph.site_data["band_gap"], float)
        self.fluxes = None  # the last epoch's traffic (observed: trapped electrons, leakage)

    @staticmethod
    def enabled(plating) -> bool:
        return plating.electron_leak

    def channels(self, epoch: Epoch, out: Channels) -> None:
        """Nucleation and deposit channels; injection is exponential in the overpotential, so
        fast pulses add each phase's channels at its weight (the period-averaged rates)."""
        phase = epoch.phase
        metal = phase == LI
        averaged = []
        for weight, current, sol in epoch.phases:
            f = self._traffic(sol, phase, metal)
            res = RES_C if current >= 0 else RES_A  # the reservoir that supplies Li+
            nuc = np.flatnonzero((f.nucleation > 0) & (phase == SE))
            fl = np.flatnonzero((f.metal > 0) & metal)
            fl = fl[sol.clusters.kind[sol.clusters.label[fl]] == CLASS_FLOATING]
            out.add(CH_NUCLEATE, weight * f.nucleation[nuc], nuc, res)
            out.add(CH_ELECTRON, weight * f.metal[fl], res, fl)
            averaged.append((weight, f))
        self.fluxes = averaged[0][1] if len(averaged) == 1 else ElectronFluxes(**{
            k.name: sum(w * getattr(f, k.name) for w, f in averaged)
            for k in dataclasses.fields(ElectronFluxes)})

    def _traffic(self, sol, phase, metal) -> ElectronFluxes:
        """The quasi-static electron traffic in field ``sol``."""
        h = self.sim.cell.spacing
        s = sol.interface_se
        rate = injection_rate(self.band_gap[s], sol.overpotential, self.leak.params, h * h,
                              self.sim.quantum)
        potential = np.zeros(phase.size)
        potential[metal] = sol.cluster_potential[sol.clusters.label[metal]]
        return self.leak.solve(phase, sol.phi, potential, sol.voltage,
                               np.bincount(s, rate, phase.size))

    def state(self) -> dict:
        """The last epoch's electron traffic (observed until the next solve)."""
        return {} if self.fluxes is None else dataclasses.asdict(self.fluxes)

    def restore(self, state: dict) -> None:
        self.fluxes = ElectronFluxes(**state) if state else None
