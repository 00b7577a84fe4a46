"""Griffith fracture of the electrolyte ahead of pressurised Li (MODEL.md section 5, item 2).

An electrolyte site s ahead of a pressurised full Li site m (blocked, or creep-relieved) cracks
at nu_f (K_I / K_IC - 1) once K_I = Y (p_m - sigma_nn) sqrt(pi a) reaches K_IC
(:mod:`kmc.mechanics`): a is the extent of m's cluster along m -> s (at least
``plating.min_crack_length``, default one site), K_IC the intergranular toughness on edges that
run along a grain boundary and the transgranular one elsewhere (from the material set, on the
graph's ``fracture_toughness`` edge data), sigma_nn the applied compression on the crack faces.

Crack paths (MODEL.md 10.4, ``plating.crack_paths``, off by default): for Li anchored to an
electrode, a is the length of the Li-filled crack from its mouth to m if m is the crack's tip
(:func:`kmc.crack_path.crack_tips`: no Li farther along), else one site (a branch from the
crack's flank starts from a wall flaw: a pressurised crack is singular only at its tip), and
the driving force of a step kinked by theta from the crack direction at m is K_I cos^3(theta/2)
(:func:`kmc.mechanics.kink_factor`, :mod:`kmc.crack_path`); the in-plane diagonal neighbours
are crack steps too (45-degree kinks), each opening its target and the corner site it cuts that
is on m's boundary (else the first), intergranular when m and the target lie on one grain's
boundary. A crack meeting a weak boundary at 45 degrees turns into it when
cos^3(22.5 deg) K_IC / K_IC,GB > 1, i.e. K_IC,GB < 0.79 K_IC. Floating Li keeps the extent rule.

Slow crack growth (MODEL.md 10.5, ``plating.subcritical_fracture``, off by default): the same
(s, m) pairs with K_th <= K_I < K_IC advance by stress corrosion at v / h with
v = v0 (K_I/K_IC)^n and h the step length (:func:`kmc.mechanics.subcritical_crack_rate`); these
channels are appended after the Griffith ones, in the same order. The branches join at K_IC by
taking the larger rate there and above, max(nu_f (K_I/K_IC - 1), v0 (K_I/K_IC)^n / h): the
advance rate is then continuous (v0 / h on both sides of K_IC) and never falls as K_I rises,
where keeping the fast branch alone would make a tip just above K_IC (nu_f (K_I/K_IC - 1) -> 0)
slower than one just below it. Far above K_IC the fast branch dominates, so Griffith runs are
unchanged there. With the switch off the channels are exactly the Griffith ones.

Dynamic fracture (``plating.terminal_crack_speed`` c_R > 0, off by default): at and above K_IC
a step runs at Freund's speed v = c_R (1 - (K_IC/K_I)^2) (:func:`kmc.mechanics.
dynamic_crack_velocity`), at least v0 if slow crack growth is on (whose power law then ends at
K_IC: v0 (K_I/K_IC)^n would pass the Rayleigh wave speed at K_I ~ 2.5 K_IC for n = 15). The
speed of every open step tends to c_R as K_I rises, so a crack driven far above its toughness no
longer prefers a weak grain boundary to the straight step: with the power law the rate ratio of
two steps is (K_1 K_IC,2 / K_2 K_IC,1)^n at any load, with Freund's law it tends to 1.

The kernel turns the target site ``a`` of a fracture channel into an empty Li site, and also
its ``b`` if that is electrolyte (the corner of a diagonal step; ``b`` = m otherwise).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..codes import CH_FRACTURE
from ..crack_path import crack_paths, crack_tips, diagonal_steps
from ..mechanics import (dynamic_crack_velocity, fracture_rate, kink_factor, stress_intensity,
                         subcritical_crack_rate)
from ..microstructure import SE
from .base import Channels, Epoch, Event


@dataclass
class Steps:
    """Candidate crack steps of one epoch: target s, the site b the kernel also opens (m for a
    step to a nearest neighbour), the loaded site m, K_I [Pa m^0.5] driving the step, K_IC of
    the step [Pa m^0.5] and its length [m]."""

    s: np.ndarray
    b: np.ndarray
    m: np.ndarray
    k_i: np.ndarray
    toughness: np.ndarray
    length: np.ndarray


class Fracture(Event):
    """Crack advance into the electrolyte next to pressurised Li."""

    name = "fracture"

    def __init__(self, sim):
        super().__init__(sim)
        g = sim.cell.graph
        self.axis = np.argmax(np.abs(g.edge_vectors), axis=1)
        self.toughness = np.asarray(g.edge_data["fracture_toughness"], float)
        applied = np.asarray(sim.conditions.applied_stress, float)
        self.normal_stress = self._normal_stress(applied, sim.cell.dimension)[self.axis]
        self.step = np.linalg.norm(g.edge_vectors, axis=1)
        self.min_length = sim.plating.min_crack_length or g.spacing  # a of a one-site flaw [m]
        if sim.plating.crack_paths:
            cell = sim.cell
            self.diagonal = diagonal_steps(g, cell.periodic)
            micro = cell.microstructure
            self.site_gb_toughness = g.from_grid(micro.gb_toughness(cell.resolved))
            self.grain = np.asarray(g.site_data["grain"])
            self.gb = np.asarray(g.site_data["gb"], bool)
            ax = self.diagonal.axes
            half = 0.5 * (applied[ax[:, 0]] + applied[ax[:, 1]])
            third = 3 - ax.sum(axis=1)
            if cell.dimension == 3:  # the other face normal: the third axis
                half = np.minimum(half, applied[third])
            self.diagonal_normal_stress = half
            self._paths_of = self._crack = None  # the ClusterView the crack paths are of

    @staticmethod
    def enabled(plating) -> bool:
        return plating.fracture and plating.confinement

    @staticmethod
    def _normal_stress(applied, dimension):
        """sigma_nn [Pa] on the faces of a crack advancing along each lattice axis: the least
        applied compression across the advance direction (in 2D the in-plane one), so in-plane
        compression resists growth along z (seed 000)."""
        across = []
        for ax in range(3):
            others = [o for o in range(3) if o != ax and not (dimension == 2 and o == 1)]
            across.append(min(applied[o] for o in others))
        return np.asarray(across)

    def channels(self, epoch: Epoch, out: Channels) -> None:
        conf, cfg = epoch.confinement, self.sim.plating
        loaded = conf.blocked | conf.relieved
        if not loaded.any():
            return
        steps = self._paths(epoch, loaded) if cfg.crack_paths else self._extents(epoch, loaded)
        go = steps.k_i / steps.toughness >= 1.0
        dynamic = cfg.terminal_crack_speed > 0.0
        if dynamic:
            fast = dynamic_crack_velocity(steps.k_i[go], steps.toughness[go],
                                          cfg.terminal_crack_speed) / steps.length[go]
        else:
            fast = fracture_rate(steps.k_i[go], steps.toughness[go],
                                 cfg.fracture_attempt_frequency)
        if not cfg.subcritical_fracture:
            out.add(CH_FRACTURE, fast, steps.s[go], steps.b[go])
            return
        slow = subcritical_crack_rate(steps.k_i, steps.toughness, cfg.subcritical_threshold,
                                      cfg.subcritical_velocity, cfg.subcritical_exponent,
                                      steps.length)
        if dynamic:  # the stress-corrosion law ends at K_IC, where it reaches v0
            slow = np.where(go, cfg.subcritical_velocity / steps.length, slow)
        out.add(CH_FRACTURE, np.maximum(fast, slow[go]), steps.s[go], steps.b[go])
        sub = ~go & (slow > 0.0)
        out.add(CH_FRACTURE, slow[sub], steps.s[sub], steps.b[sub])

    def _edges(self, epoch, loaded):
        """Edges from a loaded Li site to electrolyte, and their crack length by the extent
        rule (the extent of m's cluster along the edge's axis, at least min_crack_length)."""
        g = self.sim.cell.graph
        e = np.flatnonzero(loaded[g.sources] & (epoch.phase[g.indices] == SE))
        m = g.sources[e]
        label = epoch.field.clusters.label
        return e, m, np.maximum(epoch.clusters.extent[label[m], self.axis[e]], self.min_length)

    def _extents(self, epoch, loaded) -> Steps:
        """Nearest-neighbour steps with the extent rule (MODEL.md 5.2)."""
        g = self.sim.cell.graph
        e, m, a = self._edges(epoch, loaded)
        k_i = stress_intensity(epoch.confinement.pressure[m], a, self.sim.plating.geometry_factor,
                               self.normal_stress[e])
        return Steps(g.indices[e], m, m, k_i, self.toughness[e], self.step[e])

    def _paths(self, epoch, loaded) -> Steps:
        """Nearest-neighbour and diagonal steps with the Li-filled crack length and the kink
        factor (MODEL.md 10.4); Li not anchored to an electrode keeps the extent rule."""
        g, cfg, view = self.sim.cell.graph, self.sim.plating, epoch.clusters
        pressure = epoch.confinement.pressure
        if self._paths_of is not view:  # once per topology (protocol changes keep the view)
            self._paths_of = view
            length, direction = crack_paths(g, self.diagonal, view.metal, view.face,
                                            view.contact, cfg.crack_direction_length,
                                            self.sim.cell.period)
            tip = crack_tips(g, self.diagonal, view.metal, length)
            # a at every Li site: its crack's length at a tip, a one-site wall flaw on a flank
            floor = self.min_length
            self._crack = length, direction, np.where(tip, np.maximum(length, floor), floor)
        length, direction, crack_a = self._crack
        e, m, a = self._edges(epoch, loaded)
        path = np.isfinite(length[m])
        a = np.where(path, crack_a[m], a)
        cos = np.where(path, np.einsum("ij,ij->i", direction[m], g.edge_vectors[e]) / self.step[e],
                       1.0)
        k_i = stress_intensity(pressure[m], a, cfg.geometry_factor, self.normal_stress[e])
        k_i = k_i * kink_factor(cos)
        d = self.diagonal
        phase = epoch.phase
        j = np.flatnonzero(loaded[d.source] & np.isfinite(length[d.source])
                           & (phase[d.target] == SE) & (phase[d.corner[:, 0]] == SE)
                           & (phase[d.corner[:, 1]] == SE))
        dm, ds = d.source[j], d.target[j]
        grain, gb = self.grain, self.gb
        along = gb[dm] & gb[ds] & (grain[dm] == grain[ds])
        on_boundary = gb[d.corner[j]] & (grain[d.corner[j]] == grain[dm][:, None])
        corner = np.where(on_boundary[:, 1] & ~on_boundary[:, 0], d.corner[j, 1], d.corner[j, 0])
        step = np.linalg.norm(d.vector[j], axis=1)
        dk = stress_intensity(pressure[dm], crack_a[dm], cfg.geometry_factor,
                              self.diagonal_normal_stress[j])
        dk = dk * kink_factor(np.einsum("ij,ij->i", direction[dm], d.vector[j]) / step)
        tough = np.where(along, self.site_gb_toughness[ds], self.sim.cell.resolved.fracture_toughness)
        return Steps(np.concatenate([g.indices[e], ds]), np.concatenate([m, corner]),
                     np.concatenate([m, dm]), np.concatenate([k_i, dk]),
                     np.concatenate([self.toughness[e], tough]), np.concatenate([self.step[e], step]))
