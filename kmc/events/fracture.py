"""Griffith fracture of the electrolyte ahead of pressurised Li (MODEL.md section 5, item 2).

An electrolyte site s ahead of a pressurised full Li site m (blocked, or creep-relieved) cracks
at nu_f (K_I / K_IC - 1) once K_I = Y (p_m - sigma_nn) sqrt(pi a) reaches K_IC
(:mod:`kmc.mechanics`): a is the extent of m's cluster along m -> s (at least
``plating.min_crack_length``, default one site), K_IC the intergranular toughness on edges that
run along a grain boundary and the transgranular one elsewhere (from the material set, on the
graph's ``fracture_toughness`` edge data), sigma_nn the applied compression on the crack faces.

Slow crack growth (MODEL.md 10.5, ``plating.subcritical_fracture``, off by default): the same
(s, m) pairs with K_th <= K_I < K_IC advance by stress corrosion at v / h with
v = v0 (K_I/K_IC)^n and h the edge length (:func:`kmc.mechanics.subcritical_crack_rate`); these
channels are appended after the Griffith ones, in the same edge order. The branches join at K_IC
by taking the larger rate there and above, max(nu_f (K_I/K_IC - 1), v0 (K_I/K_IC)^n / h): the
advance rate is then continuous (v0 / h on both sides of K_IC) and never falls as K_I rises,
where keeping the fast branch alone would make a tip just above K_IC (nu_f (K_I/K_IC - 1) -> 0)
slower than one just below it. Far above K_IC the fast branch dominates, so Griffith runs are
unchanged there. With the switch off the channels are exactly the Griffith ones.
"""
from __future__ import annotations

import numpy as np

from ..codes import CH_FRACTURE
from ..mechanics import fracture_rate, stress_intensity, subcritical_crack_rate
from ..microstructure import SE
from .base import Channels, Epoch, Event


class Fracture(Event):
    """Crack advance into the electrolyte next to pressurised Li."""

    name = "fracture"

    def __init__(self, sim):
        super().__init__(sim)
        g = sim.cell.graph
        self.axis = np.argmax(np.abs(g.edge_vectors), axis=1)
        self.toughness = np.asarray(g.edge_data["fracture_toughness"], float)
        self.normal_stress = self._normal_stress(sim.conditions.applied_stress, sim.cell.dimension)
        self.step = np.linalg.norm(g.edge_vectors, axis=1)

    @staticmethod
    def enabled(plating) -> bool:
        return plating.fracture and plating.confinement

    def _normal_stress(self, applied, dimension):
        """sigma_nn [Pa] on the faces of a crack advancing along each edge: the least applied
        compression across the advance direction (in 2D the in-plane one), so in-plane
        compression resists growth along z (seed 000)."""
        s = np.asarray(applied, float)
        across = []
        for ax in range(3):
            others = [o for o in range(3) if o != ax and not (dimension == 2 and o == 1)]
            across.append(min(s[o] for o in others))
        return np.asarray(across)[self.axis]

    def channels(self, epoch: Epoch, out: Channels) -> None:
        conf, cfg = epoch.confinement, self.sim.plating
        loaded = conf.blocked | conf.relieved
        if not loaded.any():
            return
        g = self.sim.cell.graph
        e = np.flatnonzero(loaded[g.sources] & (epoch.phase[g.indices] == SE))
        m, s = g.sources[e], g.indices[e]
        label = epoch.field.clusters.label
        a = np.maximum(epoch.clusters.extent[label[m], self.axis[e]], cfg.min_crack_length or g.spacing)
        k_i = stress_intensity(conf.pressure[m], a, cfg.geometry_factor, self.normal_stress[e])
        toughness = self.toughness[e]
        go = k_i / toughness >= 1.0
        fast = fracture_rate(k_i[go], toughness[go], cfg.fracture_attempt_frequency)
        if not cfg.subcritical_fracture:
            out.add(CH_FRACTURE, fast, s[go], m[go])
            return
        slow = subcritical_crack_rate(k_i, toughness, cfg.subcritical_threshold,
                                      cfg.subcritical_velocity, cfg.subcritical_exponent,
                                      self.step[e])
        out.add(CH_FRACTURE, np.maximum(fast, slow[go]), s[go], m[go])
        sub = ~go & (slow > 0.0)
        out.add(CH_FRACTURE, slow[sub], s[sub], m[sub])
