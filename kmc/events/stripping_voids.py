"""Stripping voids (MODEL.md 5.8): electrode contact lost where stripping outruns resupply.

An electrolyte site on an electrode face, in contact, detaches at nu_v (j / j_strip - 1) where
its local stripping current density j (its reservoir interface current over the face area h^2)
exceeds the creep-resupply limit j_strip(P_stack, T) (:func:`kmc.mechanics.stripping_limit`);
a detached site heals at k_h P_stack. A detached site carries no current and does not join Li
to its electrode (:mod:`kmc.clusters`).
"""
from __future__ import annotations

import numpy as np

from ..codes import CH_DETACH, CH_HEAL, FACE_NONE, TOP_CONTACT
from ..mechanics import stripping_limit
from ..microstructure import SE
from .base import Channels, Epoch, Event


class StrippingVoids(Event):
    """Detachment and healing of electrode contact."""

    name = "stripping_voids"

    @staticmethod
    def enabled(plating) -> bool:
        return plating.stripping_voids

    def channels(self, epoch: Epoch, out: Channels) -> None:
        sim, sol = self.sim, epoch.field
        cfg, cond = sim.plating, sim.conditions
        a_f = sim.cell.spacing ** 2
        j_strip = stripping_limit(cfg.strip_limit, cfg.strip_limit_per_pressure,
                                  cond.stack_pressure, sim.cell.li_metal, cond.temperature)
        res = sol.interface_metal < 0
        s, j = sol.interface_se[res], -sol.interface_current[res] / a_f
        over = j > j_strip
        out.add(CH_DETACH, cfg.void_attempt_frequency * (j[over] / j_strip - 1.0), s[over])
        lost = np.flatnonzero(~sim.contact & (sim.cell.face != FACE_NONE) & (epoch.phase == SE))
        heal = np.full(lost.size, cfg.heal_rate_per_pressure * cond.stack_pressure)
        if heal.any():
            out.add(CH_HEAL, heal, lost)

    def after_topology(self, kernel) -> None:
        if kernel.last_change == TOP_CONTACT:
            self.sim.contact[kernel.last_site] = self.sim.channel_kinds[kernel.last_channel] == CH_HEAL
