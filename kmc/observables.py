"""What a plating run observes (MODEL.md section 8), declared once for the run and the dataset.

Every time series is an :class:`Observable`: its name, CF units, long name and how it is
computed from the run at an observation time. :class:`Recorder` evaluates them on the
observation grid (and at the stop), keeps the snapshots of the site maps, and packs the arrays
of the result; :mod:`kmc.output` takes units and long names from :data:`SERIES` and
:data:`SCALARS`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .clusters import (CLASS_A, CLASS_C, CLASS_FLOATING, CLASS_SHORT, FACE_A, FACE_C,
                       check_union_find, label_clusters)
from .codes import CH_FRACTURE, CH_PLATE_A, CH_PLATE_C
from .microstructure import VOID


@dataclass(frozen=True)
class Observable:
    """A quantity observed during a run.

    Attributes
    ----------
    name, units, long_name : str
        Variable name, CF units and description in the dataset.
    compute : callable
        ``compute(o)`` with ``o`` an :class:`Observation`; returns a number (or an array for
        profiles).
    """

    name: str
    units: str
    long_name: str
    compute: Callable


class Observation:
    """The state of a run at one observation time, with what several observables share; the
    kernel's union-find is checked against networkx here (EngineConsistencyError if they
    disagree), which gives the short flag and the cluster count."""

    def __init__(self, sim, t: float):
        self.sim, self.t = sim, t
        self.nx_short, self.nx_clusters = check_union_find(sim.tracker, sim.phase, t)
        self.phase, self.content = sim.phase, sim.kernel.contents
        self.clusters = sim.tracker.view(sim.phase, sim.contact)
        self.metal = self.clusters.metal
        self.site_class = self.clusters.site_class
        self.floating = np.flatnonzero(self.clusters.kind == CLASS_FLOATING)
        self.a_sites = (self.site_class == CLASS_A) | (self.site_class == CLASS_SHORT)
        self.leak = sim.event("electron_leak")

    @property
    def fluxes(self):
        """The electron traffic of the last epoch (None without the electron leak)."""
        return self.leak.fluxes if self.leak is not None else None

    def floating_sizes(self) -> np.ndarray:
        """Sites of every floating cluster."""
        return np.bincount(self.clusters.label[self.metal], minlength=self.clusters.n)[self.floating]

    def empty_crack(self) -> np.ndarray:
        """Void sites left by Li: cracked electrolyte emptied again, and inclusion cracks."""
        return (self.phase == VOID) & (self.sim.converted | self.sim.initial_inclusion)


def plated_charge(sim) -> float:
    """Net charge moved by the external circuit toward the electrode at z = 0 [C]."""
    c = sim.kernel.event_counts
    return sim.quantum * float(c[CH_PLATE_A] - c[CH_PLATE_C])


def _depth(o) -> float:
    return float((o.sim.cell.layer[o.a_sites].max() + 1) * o.sim.cell.spacing) if o.a_sites.any() else 0.0


def _largest(o) -> int:
    sizes = o.floating_sizes()
    return int(sizes.max()) if sizes.size else 0


def _contact(o, face) -> float:
    """Fraction of an electrode face's area in contact (partial contact counted by area)."""
    return float(o.sim.face_contact()[o.sim.cell.face == face].mean())


#: Time series, in dataset order.
SERIES = (
    Observable("current_density", "A m-2", "applied current density J at the observation time "
               "(positive plates the electrode at z = 0)", lambda o: o.sim.protocol(o.t)),
    Observable("voltage", "V", "cell voltage V = Phi_C - Phi_A",
               lambda o: o.sim.field.voltage if o.sim.field is not None else math.nan),
    Observable("plated_charge", "C", "net charge moved by the external circuit toward the "
               "electrode at z = 0 (quanta x q)", lambda o: plated_charge(o.sim)),
    Observable("expected_charge", "C", "integral of the protocol current I(t) dt",
               lambda o: o.sim.cell.area * o.sim.protocol.integral(o.t)),
    Observable("li_sites_a", "1", "Li sites in clusters connected to the electrode at z = 0",
               lambda o: int(o.a_sites.sum())),
    Observable("li_sites_c", "1", "Li sites in clusters connected to the electrode at z = L",
               lambda o: int((o.site_class == CLASS_C).sum())),
    Observable("li_sites_floating", "1", "Li sites in floating (electronically isolated) clusters",
               lambda o: int((o.site_class == CLASS_FLOATING).sum())),
    Observable("floating_clusters", "1", "number of floating Li clusters", lambda o: int(o.floating.size)),
    Observable("largest_floating_cluster", "1", "sites in the largest floating Li cluster", _largest),
    Observable("penetration_depth", "m", "deepest extent of Li connected to the electrode at z = 0",
               _depth),
    Observable("li_depth_profile", "1", "Li per layer in sites' worth (synthetic neutron depth "
               "profile)", lambda o: np.bincount(o.sim.cell.layer, o.content, o.sim.cell.shape[2])
               / o.sim.plating.quanta_per_site),
    Observable("gb_li_fraction", "1", "fraction of Li sites that are grain-boundary sites",
               lambda o: float(o.sim.cell.gb_site[o.metal].mean()) if o.metal.any() else math.nan),
    Observable("li_quanta", "1", "Li quanta held in the lattice", lambda o: int(o.content.sum())),
    Observable("reservoir_a", "1", "net quanta gained by the electrode reservoir at z = 0",
               lambda o: int(o.sim.kernel.reservoir_a)),
    Observable("reservoir_c", "1", "net quanta gained by the electrode reservoir at z = L",
               lambda o: int(o.sim.kernel.reservoir_c)),
    Observable("blocked_sites", "1", "full confined Li sites that block ionic current",
               lambda o: int(o.sim.confinement.blocked.sum())),
    Observable("max_pressure", "Pa", "largest Li pressure",
               lambda o: float(o.sim.confinement.pressure.max(initial=0.0))),
    Observable("fractured_sites", "1", "cumulative number of electrolyte sites cracked",
               lambda o: int(o.sim.kernel.event_counts[CH_FRACTURE])),
    Observable("empty_crack_sites", "1", "empty (void) crack sites left by Li",
               lambda o: int(o.empty_crack().sum())),
    Observable("events", "1", "cumulative number of kMC events", lambda o: int(o.sim.kernel.n_events)),
    Observable("contact_fraction_a", "1", "fraction of the z = 0 electrode face in contact "
               "(stripping voids lost)", lambda o: _contact(o, FACE_A)),
    Observable("contact_fraction_c", "1", "fraction of the z = L electrode face in contact "
               "(stripping voids lost)", lambda o: _contact(o, FACE_C)),
    Observable("trapped_electrons", "1", "electrons trapped in the electrolyte (quasi-static at "
               "fast traps, held packets at explicit ones; packets of charge q)",
               lambda o: float(o.fluxes.trapped.sum()) if o.fluxes else 0.0),
    Observable("held_electron_packets", "1", "electron packets (charge q) held by explicit, slow "
               "traps (plating.explicit_trap_time)",
               lambda o: int(o.leak.trapped.sum()) if o.leak is not None else 0),
    Observable("leakage_current", "A", "net electronic current through the electrolyte into "
               "the electrode at z = L and its Li",
               lambda o: o.sim.quantum * o.fluxes.leakage if o.fluxes else 0.0),
    Observable("field_solves", "1", "cumulative number of ionic field solves",
               lambda o: int(o.sim.field_solves)),
    Observable("shorted", "1", "1 if networkx finds a Li path between the electrodes",
               lambda o: int(o.nx_short)),
    Observable("li_clusters", "1", "number of Li clusters (networkx connected components)",
               lambda o: int(o.nx_clusters)),
)

#: Derived series and scalars of the result: name -> (units, long_name).
SCALARS = {
    "mean_current_density": ("A m-2", "mean applied current density over the interval ending here"),
    "t_short": ("s", "time of the first short circuit (NaN: censored, no short)"),
    "charge_at_short": ("C", "net charge moved toward the electrode at z = 0 before the short (NaN if none)"),
    "ccd": ("A m-2", "critical current density: plating current density J_k of the staircase step "
                     "during which the cell shorted (NaN: no short, or not a staircase protocol)"),
    "short_path_gb_fraction": ("1", "fraction of the shortest Li path's edges that cross a grain boundary"),
    "short_path_gb_site_fraction": ("1", "fraction of the shortest Li path's sites that are grain-boundary sites"),
    "gb_site_fraction": ("1", "fraction of sites that are grain-boundary sites"),
    "short_path_tortuosity": ("1", "shortest Li path length over the electrolyte thickness"),
    "short_path_length": ("1", "sites on the shortest Li path"),
    "short_void_rim_distance": ("m", "lateral distance from the shorting path's mouth on the "
                                "plating electrode to the nearest face site lost to a stripping "
                                "void (NaN: no short, or no such void)"),
    "face_void_rim_distance": ("m", "mean lateral distance from a site of the plating "
                               "electrode's face to the nearest face site lost to a stripping "
                               "void, at the short (short_void_rim_distance for a mouth placed "
                               "at random; NaN: no short, or no such void)"),
    "gb_edge_fraction": ("1", "fraction of nearest-neighbour edges that cross a grain boundary"),
    "crack_span_time": ("s", "first observation at which Li or empty crack spans the cell (NaN if never)"),
    "ionic_hall_angle": ("rad", "Hall angle mu |B| of the Li+ current in this run (the deck's "
                         "plating.hall_angle if given: an exploratory override)"),
    "ionic_hall_angle_1T": ("rad", "Hall angle of the Li+ current at 1 T (its mobility x 1 T)"),
    "electron_hall_angle_1T": ("rad", "Hall angle of the leaking electrons at 1 T (the "
                               "calibrated electron mobility x 1 T; NaN without the leak)"),
    "quantum_charge": ("C", "charge quantum q = F h^3 / (n_q V_m)"),
    "cell_area": ("m2", "electrode area A_cell (2D: width x one site)"),
    "events_by_kind": ("1", "events fired per channel kind"),
}

#: Site maps of every snapshot.
SNAPSHOT_MAPS = ("phase", "content", "pressure", "cluster_class")


class Recorder:
    """Observations on the grid 0 .. ``run.duration`` (``run.observations`` times, the
    snapshots spread evenly over them) and at the stop.

    Parameters
    ----------
    run : RunConfig
        Observation and snapshot counts, duration [s].
    """

    def __init__(self, run):
        n = run.observations
        self.times = np.linspace(0.0, run.duration, n)
        picks = np.unique(np.rint(np.linspace(0, n - 1, run.snapshots)).astype(int)) if run.snapshots else ()
        self.snapshot_at = set(np.asarray(picks).tolist())
        self.next = 0
        self.records: list[dict] = []
        self.snaps: list[dict] = []
        self.crack_span_time = math.nan

    def next_time(self) -> float:
        """The next observation time [s] (inf after the last)."""
        return self.times[self.next] if self.next < self.times.size else math.inf

    def observe_due(self, sim, t: float) -> bool:
        """Observe if the next grid time has come; True if it did."""
        if self.next_time() > t:
            return False
        self.observe(sim, t, snapshot=self.next in self.snapshot_at)
        self.next += 1
        return True

    def observe(self, sim, t: float, snapshot=False) -> None:
        """Evaluate every :data:`SERIES` entry at time ``t`` [s] (and a snapshot)."""
        o = Observation(sim, t)
        if self.crack_span_time != self.crack_span_time and self._crack_spans(o):
            self.crack_span_time = t
        rec = {"time": t}
        rec.update((s.name, s.compute(o)) for s in SERIES)
        self.records.append(rec)
        if snapshot:
            self.snaps.append({"time": t, "phase": o.phase.copy(), "content": o.content.copy(),
                               "pressure": sim.confinement.pressure.copy(),
                               "cluster_class": o.site_class.copy()})

    def final(self, sim, t: float, shorted: bool) -> None:
        """The observation at the stop, with a snapshot (replacing a grid observation at the
        same time that has none)."""
        if self.records and self.records[-1]["time"] == t and not shorted:
            if self.snaps and self.snaps[-1]["time"] == t:
                return
            self.records.pop()
        self.observe(sim, t, snapshot=True)

    @staticmethod
    def _crack_spans(o) -> bool:
        """True if Li or empty crack spans the cell (joins both electrode faces)."""
        mask = o.metal | o.empty_crack()
        return label_clusters(o.sim.cell.graph, mask, o.sim.cell.face).shorted

    def series(self, area: float) -> dict:
        """Time series as arrays, plus the mean current density [A/m^2] over each interval."""
        obs = {k: np.array([r[k] for r in self.records]) for k in self.records[0]}
        dt = np.diff(obs["time"])
        dq = np.diff(obs["expected_charge"])
        mean = np.full(obs["time"].size, np.nan)
        mean[1:] = np.divide(dq, area * dt, out=np.full(dt.size, np.nan), where=dt > 0)
        obs["mean_current_density"] = mean
        return obs

    def snapshots(self) -> dict:
        """Snapshot times and maps as arrays (empty without snapshots)."""
        return {k: np.array([s[k] for s in self.snaps]) for k in self.snaps[0]} if self.snaps else {}

    def state(self) -> dict:
        """Plain data for checkpoints."""
        return {"next": self.next, "records": self.records, "snaps": self.snaps,
                "crack_span_time": self.crack_span_time}

    def restore(self, state: dict) -> None:
        """Inverse of :meth:`state`."""
        self.next = int(state["next"])
        self.records, self.snaps = list(state["records"]), list(state["snaps"])
        self.crack_span_time = float(state["crack_span_time"])
