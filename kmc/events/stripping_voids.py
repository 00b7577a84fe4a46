"""Stripping voids (MODEL.md 5.8, 10.2): electrode contact lost where stripping outruns resupply.

An electrolyte site on an electrode face, in contact, loses contact where its local stripping
current density j (its reservoir interface current over the face area a_f = h^2) exceeds the
creep-resupply limit j_strip(P_stack, T) (:func:`kmc.mechanics.stripping_limit`). How, by
``plating.void_growth``:

* ``rate`` (MODEL.md 5.8): the site detaches at nu_v (j / j_strip - 1), a Poisson channel;
* ``volume`` (MODEL.md 10.2, Kasemchainan 2019): the void under the site grows by the Li
  stripped that resupply does not replace, dQ_v/dt = a_f (j - j_strip) (as charge; volume
  Q_v V_m / F), and shrinks as creep refills it where j < j_strip (never below empty); the site
  detaches, deterministically, when Q_v reaches one site's worth of Li, n_q quanta. Between
  field solves the currents are fixed, so Q_v is linear in time and the detachment time exact:
  the run stops the kernel there (:meth:`StrippingVoids.deadline`).

A detached site heals at k_h P_stack (creep under stack pressure); it carries no current and
does not join Li to its electrode (:mod:`kmc.clusters`).
"""
from __future__ import annotations

import math

import numpy as np

from ..codes import CH_DETACH, CH_HEAL, FACE_NONE, TOP_CONTACT
from ..mechanics import stripping_limit
from ..microstructure import SE
from .base import Channels, Epoch, Event


class StrippingVoids(Event):
    """Detachment and healing of electrode contact."""

    name = "stripping_voids"

    def __init__(self, sim):
        super().__init__(sim)
        n = sim.cell.graph.n_sites
        self.volume = sim.plating.void_growth == "volume"
        self.site_charge = sim.quantum * sim.plating.quanta_per_site  # C of Li in one site
        self.face_area = sim.cell.spacing ** 2  # a_f [m^2]
        self.void = np.zeros(n)      # Q_v [C] at time t0
        self.growth = np.zeros(n)    # dQ_v/dt [C/s] since t0
        self.t0 = 0.0

    @staticmethod
    def enabled(plating) -> bool:
        return plating.stripping_voids

    def _stripping(self, epoch):
        """Electrode-face sites with a reservoir edge and their stripping current density
        [A/m^2] (positive: Li leaves the electrode through the site)."""
        sol = epoch.field
        res = sol.interface_metal < 0
        return sol.interface_se[res], -sol.interface_current[res] / self.face_area

    def channels(self, epoch: Epoch, out: Channels) -> None:
        sim = self.sim
        cfg, cond = sim.plating, sim.conditions
        j_strip = stripping_limit(cfg.strip_limit, cfg.strip_limit_per_pressure,
                                  cond.stack_pressure, sim.cell.li_metal, cond.temperature)
        s, j = self._stripping(epoch)
        if self.volume:
            growth = np.zeros_like(self.growth)
            growth[s] = (j - j_strip) * self.face_area
            if not np.array_equal(growth, self.growth):  # rebase only when the rates change
                self.void = self.voids_at(epoch.time)
                self.growth, self.t0 = growth, epoch.time
        else:
            over = j > j_strip
            out.add(CH_DETACH, cfg.void_attempt_frequency * (j[over] / j_strip - 1.0), s[over])
        lost = np.flatnonzero(~sim.contact & (sim.cell.face != FACE_NONE) & (epoch.phase == SE))
        heal = np.full(lost.size, cfg.heal_rate_per_pressure * cond.stack_pressure)
        if heal.any():
            out.add(CH_HEAL, heal, lost)

    def voids_at(self, t: float) -> np.ndarray:
        """Q_v [C] of every site at time t >= t0 (one site's worth detaches the site)."""
        return np.maximum(self.void + self.growth * (t - self.t0), 0.0)

    def _growing(self):
        """Sites in contact whose void grows, and the time [s] after t0 at which each is full."""
        grow = np.flatnonzero((self.growth > 0) & self.sim.contact)
        return grow, np.maximum(self.site_charge - self.void[grow], 0.0) / self.growth[grow]

    def deadline(self) -> float:
        """Time [s] at which the next site detaches at the present currents (inf: none)."""
        if not self.volume:
            return math.inf
        grow, need = self._growing()
        return self.t0 + float(np.min(need)) if grow.size else math.inf

    def fire(self, t: float) -> bool:
        """Detach the sites whose void is full at the deadline t (True if any did)."""
        grow, need = self._growing()
        if grow.size == 0:
            return False
        full = grow[self.t0 + need <= t]
        self.void = self.voids_at(t)
        self.t0 = t
        self.void[full] = 0.0  # the void is now the site: it carries no current
        self.growth[full] = 0.0
        self.sim.contact[full] = False
        return full.size > 0

    def after_topology(self, kernel) -> None:
        if kernel.last_change == TOP_CONTACT:
            self.sim.contact[kernel.last_site] = self.sim.channel_kinds[kernel.last_channel] == CH_HEAL

    def state(self) -> dict:
        return {"void": self.void, "growth": self.growth, "t0": self.t0} if self.volume else {}

    def restore(self, state: dict) -> None:
        if self.volume:
            self.void, self.growth = np.array(state["void"]), np.array(state["growth"])
            self.t0 = float(state["t0"])
