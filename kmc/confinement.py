"""Confinement: blocked Li, electrodeposition pressure and creep relief (MODEL.md 5.1, 5.7).

A full Li site with no empty neighbour and at least one electrolyte neighbour is *confined*: it
cannot take more Li, so it blocks ionic current (the field is solved with it blocked) and sits
at the electrodeposition pressure p_ed = F max_s(phi_s - Phi_c) / V_m
(:func:`kmc.mechanics.electrodeposition_pressure`), which drives fracture. Every blocked site is
judged on the blocked field:

* p_ed <= 0: it would dissolve rather than plate, and is *released* (left active);
* anchored to an electrode reservoir, and creep can carry the current it would draw back to
  the reservoir below p_ed (P_stack + p_cr(r, l) < p_ed, r = sum_s g_ms (phi_s - Phi_c)^+ / q
  [1/s], l its Li distance to the reservoir, :func:`kmc.mechanics.creep_pressure`): it is
  *relieved*, stays active and sits at P_stack + p_cr; its deposits creep on to the reservoir.

With ``[plating] size_dependent_flow`` the creep reference stress of a Li site is the flow
stress sigma_ref(w) of its cluster's width w (:meth:`Confinement.flow_stress`, MODEL.md 10.6),
in the relief pressure here and in the creep channels (:mod:`kmc.events.creep`).

Released or relieved sites trigger one more solve. Both states last while the site stays full
and confined (and anchored) and are judged afresh at every protocol change. Full Li anchored
to a reservoir carries P_stack; non-full sites none (they have free volume). When blocked Li
walls off the electrolyte the confined Li yields (is released) rather than stopping the cell.
"""
from __future__ import annotations

import numpy as np

from .clusters import CLASS_A, CLASS_C
from .codes import RES_A, RES_C
from .errors import EngineConsistencyError
from .field import FieldError
from .mechanics import creep_pressure, electrodeposition_pressure, li_flow_stress
from .microstructure import LI, SE, VOID

#: Per-site state arrays (checkpointed).
STATE = ("blocked", "relieved", "released", "hold", "pressure", "p_field", "relief")


class Confinement:
    """Blocking states and Li pressures of a run.

    Parameters
    ----------
    sim : kmc.simulation.Simulation
        The run (cell, conditions, ``[plating]`` section, quantum, Li-metal set).
    """

    def __init__(self, sim):
        self.sim = sim
        n = sim.cell.graph.n_sites
        self.blocked = np.zeros(n, bool)
        self.relieved = np.zeros(n, bool)  # full, anchored, creep carries its deposits
        self.released = np.zeros(n, bool)  # full but would dissolve: left active
        self.hold = np.zeros(n, bool)  # released, then asked to plate: blocked without judging
        self.pressure = np.zeros(n)  # Li pressure of every site [Pa]
        self.p_field = np.zeros(n)  # the pressures the field was solved with [Pa]
        self.relief = np.zeros(n, np.int8)  # reservoir a relieved site creeps into (RES_*)

    def flow_stress(self, view):
        """Per-site creep reference stress [Pa] (MODEL.md 10.6), or None (the Li-metal set's
        scalar ``creep_reference_stress``) when ``[plating] size_dependent_flow`` is off.

        A Li site takes :func:`kmc.mechanics.li_flow_stress` of its cluster's width
        (:attr:`kmc.clusters.ClusterView.width`); every other site the bulk value."""
        cfg, li = self.sim.plating, self.sim.cell.li_metal
        if not cfg.size_dependent_flow:
            return None
        width = np.full(view.phase.size, np.inf)
        metal = np.flatnonzero(view.metal)
        width[metal] = view.width[view.label[metal]]
        return li_flow_stress(width, li.creep_reference_stress, li.yield_strength_micropillar,
                              cfg.flow_stress_reference_width, cfg.flow_stress_exponent)

    def confined(self, phase, content) -> np.ndarray:
        """Full Li sites with no empty (VOID) neighbour and at least one electrolyte one."""
        g = self.sim.cell.graph
        src, dst = g.sources, g.indices
        full = (phase == LI) & (content == self.sim.plating.quanta_per_site)
        void_nb = np.zeros(phase.size, bool)
        se_nb = np.zeros(phase.size, bool)
        void_nb[src[phase[dst] == VOID]] = True
        se_nb[src[phase[dst] == SE]] = True
        return full & ~void_nb & se_nb

    def prepare(self, phase, content, view) -> np.ndarray:
        """Update the blocked set for a new solve; returns the pressures [Pa] the field sees
        (P_stack on full Li anchored to a reservoir, 0 elsewhere)."""
        if self.sim.plating.confinement:
            confined = self.confined(phase, content)
            self.relieved &= confined & view.anchored
            self.released &= confined
            self.blocked = confined & ~self.relieved & ~self.released
            self.hold &= self.blocked
        p = np.zeros(phase.size)
        full = (phase == LI) & (content == self.sim.plating.quanta_per_site)
        p[full & view.anchored] = self.sim.conditions.stack_pressure
        return p

    def solve(self, solver, phase, p_field, current, contact, view):
        """Field solve with blocking: solve, judge the blocked sites, re-solve once if any was
        released or relieved. Returns (solution, number of solves)."""
        solves = 0
        for _ in range(2):
            kw = dict(current=current, pressure=p_field, contact=contact, clusters=view.clusters)
            try:
                sol = solver.solve(phase, blocked=self.blocked, **kw)
            except FieldError:
                if not self.blocked.any():
                    raise
                # blocked Li walls off the electrolyte: the confined Li yields (released)
                # rather than stopping the cell; with nothing blocked the cell is truly cut
                self.released |= self.blocked
                self.blocked[:] = False
                self.hold[:] = False
                sol = solver.solve(phase, blocked=self.blocked, **kw)
            solves += 1
            if not self._judge(sol, phase, view):
                break
        self.p_field = p_field
        return sol, solves

    def _judge(self, sol, phase, view) -> bool:
        """Release or relieve blocked sites (module docstring); True if any changed."""
        sim = self.sim
        judge = self.blocked & ~self.hold
        if not judge.any():
            return False
        eta, draw = self.drive(sol, judge, phase)
        release = judge & (eta <= 0.0)
        relieve = np.zeros_like(release)
        r = np.flatnonzero(judge & ~release & view.anchored)
        if sim.plating.creep and r.size:
            sigma0 = self.flow_stress(view)
            p_cr = sim.conditions.stack_pressure + creep_pressure(
                draw[r] / sim.quantum, view.reservoir_distance[r], sim.cell.li_metal,
                sim.conditions.temperature, sim.plating.quanta_per_site,
                None if sigma0 is None else sigma0[r])
            relieve[r] = p_cr < electrodeposition_pressure(eta[r], sim.cell.li_metal.molar_volume)
        if not (release.any() or relieve.any()):
            return False
        self.released |= release
        self.relieved |= relieve
        self.blocked &= ~(release | relieve)
        return True

    def drive(self, sol, mask, phase):
        """For masked (blocked) sites: max_s (phi_s - Phi_c) [V] over electrolyte neighbours,
        and the current sum_s g_ms (phi_s - Phi_c)^+ [A] they would draw if unblocked."""
        g = self.sim.cell.graph
        src, dst = g.sources, g.indices
        e = np.flatnonzero(mask[src] & (phase[dst] == SE))
        eta = np.full(phase.size, -np.inf)
        draw = np.zeros(phase.size)
        if e.size:
            m, s = src[e], dst[e]
            d = sol.phi[s] - sol.cluster_potential[sol.clusters.label[m]]
            ok = np.isfinite(d)
            np.maximum.at(eta, m[ok], d[ok])
            draw = np.bincount(m[ok], self.sim.solver.metal_se_conductance(e[ok]) * np.maximum(d[ok], 0.0),
                               phase.size)
        return eta, draw

    def set_pressures(self, sol, phase, view) -> None:
        """Li pressures [Pa] and relief targets of the current field: P_stack + p_cr on relieved
        sites, p_ed (at least the anchored P_stack) on blocked ones."""
        sim = self.sim
        pressure = self.p_field.copy()
        relief = np.zeros(phase.size, np.int8)
        if self.relieved.any():
            r = np.flatnonzero(self.relieved)
            lat = np.flatnonzero(sol.interface_metal >= 0)
            plating = np.bincount(sol.interface_metal[lat], np.maximum(sol.interface_current[lat], 0.0),
                                  phase.size)
            sigma0 = self.flow_stress(view)
            pressure[r] = sim.conditions.stack_pressure + creep_pressure(
                plating[r] / sim.quantum, view.reservoir_distance[r], sim.cell.li_metal,
                sim.conditions.temperature, sim.plating.quanta_per_site,
                None if sigma0 is None else sigma0[r])
            kr = sol.clusters.kind[sol.clusters.label[r]]  # relieved sites are anchored: A, C side
            if not np.all((kr == CLASS_A) | (kr == CLASS_C)):
                raise EngineConsistencyError("a creep-relieved Li site is not anchored to an electrode")
            relief[r] = np.where(kr == CLASS_A, RES_A, RES_C)
        if self.blocked.any():
            eta, _ = self.drive(sol, self.blocked, phase)
            p_ed = electrodeposition_pressure(np.maximum(eta, 0.0), sim.cell.li_metal.molar_volume)
            pressure[self.blocked] = np.maximum(p_ed[self.blocked], pressure[self.blocked])
        self.pressure, self.relief = pressure, relief

    def protocol_changed(self) -> bool:
        """The current changed: blocking, release and relief depend on it, so if any site is in
        one of those states they are judged afresh (True: a new solve is needed)."""
        if (self.blocked | self.relieved | self.released).any():
            self.relieved[:] = False
            self.released[:] = False
            self.hold[:] = False
            return True
        return False

    def released_site_plated(self, site: int) -> None:
        """The kernel asked a released site to plate after all: hold it blocked (not judged)."""
        self.released[site] = False
        self.hold[site] = True

    def state(self) -> dict:
        """The per-site arrays (checkpoints)."""
        return {name: getattr(self, name) for name in STATE}

    def restore(self, state: dict) -> None:
        """Inverse of :meth:`state`."""
        for name in STATE:
            setattr(self, name, np.array(state[name]))
