"""Stripping voids (MODEL.md 5.8, 10.2): electrode contact lost where stripping outruns resupply.

An electrolyte site on an electrode face, in contact, loses contact where its local stripping
current density j (its reservoir interface current over the face area a_f = h^2) exceeds the
creep-resupply limit j_strip(P_stack, T) (:func:`kmc.mechanics.stripping_limit`). How, by
``plating.void_growth``:

* ``rate`` (MODEL.md 5.8): the site detaches at nu_v (j / j_strip - 1), a Poisson channel;
* ``volume`` (MODEL.md 10.2, Kasemchainan 2019): the void under the site grows by the Li
  stripped that resupply does not replace, dQ_v/dt = a_f (j - j_strip) (as charge; volume
  Q_v V_m / F), and creep refills it at a_f (j_strip - j) where 0 <= j < j_strip, at a_f j_strip
  where the site plates (plated Li deposits at the contact, not into the void: voids accumulate
  over cycles above 2 j_strip), never below empty. The site detaches when Q_v reaches one
  site's worth of Li (n_q quanta); a detached site (or a gap of the initial contact pattern,
  one site deep) carries no current and is refilled only by creep under the stack pressure,
  at a_f (j_strip(P_stack) - j_strip(0)) (MODEL.md 10.2: "healing under stack pressure by Li
  creep"; the zero-pressure part of j_strip, vacancy diffusion in the Li, replaces stripped
  Li only where the Li touches), and touches again when its void is empty: never at 0 MPa,
  after ~20 min per site at 2 MPa. Between field solves Q_v is linear in time, so both times
  are exact: the run stops the kernel there (:meth:`StrippingVoids.deadline`).

With ``plating.partial_contact`` (volume voids) contact shrinks in n_q steps instead of a whole
site at a time: a site whose void holds k quarters (for n_q = 4) of a site's Li touches over
1 - k/n_q of its face, its interface conductance is scaled by that fraction (current crowds
into what still touches, and the voltage rises as contact shrinks; Kasemchainan 2019), the
resupply reaches its void only through it, dQ_v/dt = a_f (j - (1 - k/n_q) j_strip), and the
field is solved again at every step, up or back (:meth:`StrippingVoids.fire`).

With ``rate`` a detached site heals at k_h P_stack (creep under stack pressure). A site out of
contact does not join Li to its electrode (:mod:`kmc.clusters`).
"""
from __future__ import annotations

import math

import numpy as np

from ..codes import CH_DETACH, CH_HEAL, FACE_A, FACE_C, FACE_NONE, TOP_CONTACT
from ..graph import minimum_image
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
        # partial contact: a site in contact has lost ``level`` of its ``steps`` parts
        self.steps = sim.plating.quanta_per_site if sim.plating.partial_contact else 1
        self.level = np.zeros(n, np.int64)
        if self.volume:  # a gap of the initial contact pattern is a one-site void
            self.void[self._out_of_contact(sim.phase)] = self.site_charge
        self.growth = np.zeros(n)    # dQ_v/dt [C/s] since t0
        self.t0 = 0.0
        self.stripped = np.zeros(n, bool)  # out of contact by a stripping void (not a gap)

    @staticmethod
    def enabled(plating) -> bool:
        return plating.stripping_voids

    def _out_of_contact(self, phase) -> np.ndarray:
        """Electrolyte sites of an electrode face that do not touch their electrode."""
        sim = self.sim
        return ~sim.contact & (sim.cell.face != FACE_NONE) & (phase == SE)

    def _stripping(self, epoch, law):
        """Electrode-face sites with a reservoir edge and ``law`` of their stripping current
        density j [A/m^2] (positive: Li leaves the electrode through the site), averaged over
        the epoch's phases (fast pulses; one phase otherwise)."""
        res = epoch.field.interface_metal < 0
        law_j = sum(w * law(-sol.interface_current[res] / self.face_area)
                    for w, _, sol in epoch.phases)
        return epoch.field.interface_se[res], law_j

    def channels(self, epoch: Epoch, out: Channels) -> None:
        sim = self.sim
        cfg, cond = sim.plating, sim.conditions
        j_strip = stripping_limit(cfg.strip_limit, cfg.strip_limit_per_pressure,
                                  cond.stack_pressure, sim.cell.li_metal, cond.temperature)
        lost = np.flatnonzero(self._out_of_contact(epoch.phase))
        if self.volume:
            growth = np.zeros_like(self.growth)
            # plating through the site (j < 0) deposits at its contact, not into its void
            s, j_plus = self._stripping(epoch, lambda j: np.maximum(j, 0.0))
            growth[s] = (j_plus - self.touching()[s] * j_strip) * self.face_area
            creep = stripping_limit(0.0, cfg.strip_limit_per_pressure, cond.stack_pressure,
                                    sim.cell.li_metal, cond.temperature)
            growth[lost] = -creep * self.face_area  # out of contact: stack-pressure creep refills
            if not np.array_equal(growth, self.growth):  # rebase only when the rates change
                self.void = self.voids_at(epoch.time)
                self.growth, self.t0 = growth, epoch.time
            return
        s, excess = self._stripping(epoch, lambda j: np.maximum(j / j_strip - 1.0, 0.0))
        over = excess > 0
        out.add(CH_DETACH, cfg.void_attempt_frequency * excess[over], s[over])
        heal = np.full(lost.size, cfg.heal_rate_per_pressure * cond.stack_pressure)
        if heal.any():
            out.add(CH_HEAL, heal, lost)

    def voids_at(self, t: float) -> np.ndarray:
        """Q_v [C] of every site at time t >= t0 (one site's worth detaches the site)."""
        return np.clip(self.void + self.growth * (t - self.t0), 0.0, self.site_charge)

    def touching(self) -> np.ndarray:
        """Fraction of each face site's area in contact with its electrode, 1 - level/steps
        (1 without ``plating.partial_contact``; a site out of contact is not counted here)."""
        return 1.0 - self.level / self.steps

    def contact_state(self, contact: np.ndarray) -> np.ndarray:
        """What the field solve takes as contact: ``contact`` itself, or with partial contact
        the fraction still touching (0 where out of contact)."""
        return np.where(contact, self.touching(), 0.0) if self.steps > 1 else contact

    def _due(self):
        """Sites whose void reaches its next step (in contact: one site's worth detaches the
        site; without partial contact that is the only step) or empties (out of contact), or
        falls back a step (partial contact, refilling), at the present rates, and the time [s]
        after t0 at which each does."""
        contact, step = self.sim.contact, self.site_charge / self.steps
        fill = np.flatnonzero((self.growth > 0) & contact)
        back = np.flatnonzero((self.growth < 0) & contact & (self.level > 0))
        empty = np.flatnonzero((self.growth < 0) & ~contact)
        # 0 <= Q_v <= Q_site always (voids_at clips), so every time is >= 0
        need = np.concatenate([((self.level[fill] + 1) * step - self.void[fill]) / self.growth[fill],
                               (self.void[back] - self.level[back] * step) / -self.growth[back],
                               self.void[empty] / -self.growth[empty]])
        return np.concatenate([fill, back, empty]), need

    def deadline(self) -> float:
        """Time [s] at which the next site detaches, touches again or changes its contact
        step at the present currents (inf: none)."""
        if not self.volume:
            return math.inf
        due, need = self._due()
        return self.t0 + float(np.min(need)) if due.size else math.inf

    def fire(self, t: float) -> bool:
        """Move the sites due at the deadline t a contact step (detaching those whose void is
        full) and let those whose void has refilled touch again (True if any changed: the field
        must be solved again)."""
        due, need = self._due()
        if due.size == 0:
            return False
        now = due[self.t0 + need <= t]
        self.void = self.voids_at(t)
        self.t0 = t
        contact, step = self.sim.contact, self.site_charge / self.steps
        up = now[contact[now] & (self.growth[now] > 0)]
        down = now[contact[now] & (self.growth[now] < 0)]
        self.level[up] += 1
        self.void[down] = self.level[down] * step  # exact at the step
        self.level[down] -= 1
        self.void[up] = self.level[up] * step
        full = up[self.level[up] == self.steps]
        empty = now[~contact[now]]
        self.void[empty] = 0.0
        self.level[full] = 0  # counted as out of contact from here
        self.level[empty] = 0
        self.growth[now] = 0.0  # until the next epoch's rates
        flip = np.concatenate([full, empty])
        contact[flip] = ~contact[flip]
        self.stripped[flip] = ~contact[flip]
        return now.size > 0

    def rim_distances(self) -> tuple[float, float]:
        """Lateral distances [m] to the nearest site of the plating electrode's face lost,
        wholly or (partial contact) in part, to a stripping void (MODEL.md 10.2: dendrites
        start at void rims): from the shorting path's mouth on that face, and the mean from
        every site of the face (what a mouth placed at random would give). NaN without a short
        or such a void."""
        sim = self.sim
        if sim.short is None:
            return math.nan, math.nan
        face = FACE_A if sim.current(sim.t_short) >= 0 else FACE_C
        on_face = sim.cell.face == face
        lost = np.flatnonzero((self.stripped | (self.level > 0)) & on_face)
        if lost.size == 0:
            return math.nan, math.nan
        pos = sim.cell.graph.positions
        mouth = sim.short.sites[0 if face == FACE_A else -1]

        def nearest(site) -> float:
            d = minimum_image(pos[lost] - pos[site], sim.cell.period)
            return float(np.hypot(d[:, 0], d[:, 1]).min())

        return nearest(mouth), float(np.mean([nearest(s) for s in np.flatnonzero(on_face)]))

    def after_topology(self, kernel) -> None:
        if kernel.last_change == TOP_CONTACT:
            site = kernel.last_site
            self.sim.contact[site] = self.sim.channel_kinds[kernel.last_channel] == CH_HEAL
            self.stripped[site] = not self.sim.contact[site]

    def state(self) -> dict:
        out = {"stripped": self.stripped}
        if self.volume:
            out.update(void=self.void, growth=self.growth, t0=self.t0, level=self.level)
        return out

    def restore(self, state: dict) -> None:
        self.stripped = np.array(state.get("stripped", self.stripped), bool)
        if self.volume:
            self.void, self.growth = np.array(state["void"]), np.array(state["growth"])
            self.t0 = float(state["t0"])
            self.level = np.array(state.get("level", self.level), np.int64)
