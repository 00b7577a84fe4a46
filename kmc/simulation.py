"""The plating run loop (MODEL.md sections 4, 5, 7, 8).

One *epoch* is a stretch of time with a fixed topology (site phases, contacts, blocked sites):

1. the field (:class:`kmc.field.FieldSolver`) is solved with the confinement rules
   (:mod:`kmc.confinement`) on the clusters of this topology (:mod:`kmc.clusters`, labelled
   once per topology change);
2. every enabled event kind (:mod:`kmc.events`) turns state and field into kernel channels;
3. the kernel (``ext/_plating.pyx``) fires events until the topology changes, the protocol
   changes (the field is affine in I: no new solve) or an observation is due
   (:mod:`kmc.observables`);
4. a topology change updates the union-find; the event that joins both electrodes is the short
   circuit, confirmed by networkx.

Stops: short, open circuit, end of a finite protocol, ``run.duration``, ``run.max_events``,
``run.wall_time_limit``, SIGINT/SIGTERM, a failed field solve. The resumable ones leave a
checkpoint (:mod:`kmc.checkpoint`) from which the run continues bit for bit.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import time as wallclock
from pathlib import Path

import numpy as np

from . import events as event_kinds
from .cell import Cell
from .checkpoint import load_checkpoint, restore_simulation, save_checkpoint, simulation_state
from .clusters import ClusterTracker, check_union_find, short_path
from .codes import FACE_A, FACE_C, FACE_NONE, LI, REACHED_EVENTS, SE, TOP_BLOCKED, TOPOLOGY_CHANGED, VOID
from .confinement import Confinement
from .crack_path import diagonal_steps
from .deck import PlatingConfig, as_dict, from_dict
from .engine import plating_kernel
from .errors import CheckpointError, ConfigError, EngineConsistencyError, KmcError
from .events import Channels, Epoch
from .features import FEATURE_INCLUSION
from .field import FieldError, FieldParameters, FieldSolver, OpenCircuitError
from .magnetic import hall_vector
from .observables import Recorder, plated_charge
from .protocol import AveragedPulses, Piecewise, Staircase, from_config
from .result import Result
from .signals import stop_signals
from .units import FARADAY

log = logging.getLogger(__name__)

#: Why a run stopped; the last five leave a checkpoint to resume from.
STOP_REASONS = ("short", "open_circuit", "duration", "protocol_end", "max_events", "wall_time",
                "interrupted", "terminated", "field_error")
RESUMABLE = ("max_events", "wall_time", "interrupted", "terminated", "field_error")


def quantum_charge(spacing: float, quanta_per_site: int, molar_volume: float) -> float:
    """Charge quantum q = F h^3 / (n_q V_m) [C] (MODEL.md section 5)."""
    return FARADAY * spacing ** 3 / (quanta_per_site * molar_volume)


class Simulation:
    """One plating run on a cell.

    Parameters
    ----------
    cell : Cell
        Built once, reusable (:meth:`Cell.from_deck`); re-resolved if ``conditions`` has
        another temperature.
    protocol : ProtocolConfig or kmc.protocol.Piecewise
        Current density J(t) [A/m^2]; positive plates the electrode at z = 0.
    conditions, run : ConditionsConfig, RunConfig
        Operating conditions; run control (seed, duration, limits).
    plating : PlatingConfig, optional
        Which events act and their kinetic parameters (default: the deck defaults).
    deck : PlatingDeck, optional
        The deck these came from (dataset attributes, checkpoints).
    progress : callable, optional
        ``progress(t, info)`` after every kernel call (t [s], info a short string).
    """

    def __init__(self, cell: Cell, protocol, conditions, run, plating=None, deck=None,
                 progress=None):
        plating = plating if plating is not None else PlatingConfig()
        if run.duration is None:
            raise ConfigError("run.duration: missing (the simulated time to run)")
        self.cell = cell = cell.at(conditions.temperature)
        self.deck, self.progress = deck, progress
        self.conditions, self.run_cfg, self.plating = conditions, run, plating
        self.protocol_config = None if isinstance(protocol, Piecewise) else protocol
        self.protocol = protocol if isinstance(protocol, Piecewise) else from_config(protocol)
        self.material = cell.resolved
        self.quantum = quantum_charge(cell.spacing, plating.quanta_per_site, cell.li_metal.molar_volume)
        params = FieldParameters.from_material(self.material, cell.li_metal.molar_volume,
                                               conditions.stack_pressure)
        if plating.charge_transfer == "none":
            params = FieldParameters(**{**params.__dict__, "exchange_current_density": math.inf,
                                        "internal_exchange_current_density": math.inf})
        self.hall = hall_vector(self.material.ionic_mobility, conditions.magnetic_field,
                                plating.hall_angle)  # Li+ Theta = mu B [rad], kmc.magnetic
        self.solver = FieldSolver(cell.graph, params, method=run.field_solver, hall=self.hall)
        self.phase = np.asarray(cell.graph.site_data["phase"]).astype(np.uint8)
        self.bitgen = np.random.PCG64(np.random.SeedSequence(run.seed).spawn(2)[1])  # [0]: the cell
        content = np.where(self.phase == LI, plating.quanta_per_site, 0).astype(np.int32)
        self.kernel = self._kernel(self.phase, content)
        self.initial_inclusion = ((np.asarray(cell.graph.site_data["feature"]) == FEATURE_INCLUSION)
                                  & (self.phase == VOID))
        self.converted = np.zeros(cell.graph.n_sites, bool)  # ever turned from electrolyte into Li
        self.held_li = self.phase == LI  # ever held Li (initial Li, or converted since)
        self.reopened = np.zeros(cell.graph.n_sites, bool)  # flaw mouths reopened to their electrode
        micro_contact = cell.microstructure.contact  # electrode-face sites touching their electrode
        self.contact = (np.ones(cell.graph.n_sites, bool) if micro_contact is None
                        else cell.graph.from_grid(micro_contact).astype(bool))
        self.tracker = ClusterTracker(cell.graph, cell.face, cell.shape, cell.periodic, run.engine)
        self.tracker.reset(self.phase)
        if self.tracker.shorted():
            raise ConfigError("the initial Li (flaws, contour, inclusion) already joins both "
                              "electrodes: nothing to simulate")
        self.confinement = Confinement(self)
        self.events = [kind(self) for kind in event_kinds.EVENTS if kind.enabled(plating)]
        self.recorder = Recorder(run)
        self.field, self._inputs, self.dirty = None, (), True
        self.channel_kinds = np.zeros(0, np.int8)
        self.short, self.t_short, self.charge_at_short = None, math.nan, math.nan
        self.stop_reason = ""
        self.field_solves = self.epochs = 0
        self.profile = {"field_s": 0.0, "channels_s": 0.0, "kernel_s": 0.0, "topology_s": 0.0,
                        "observe_s": 0.0}

    @classmethod
    def from_deck(cls, deck, cell: Cell | None = None, progress=None) -> "Simulation":
        """The simulation of a plating deck.

        ``cell``: a cell built earlier (:meth:`Cell.from_deck`) from a deck with the same
        ``cell``, ``microstructure`` and ``material`` sections (its seed may differ: the kinetic
        stream is this deck's ``run.seed``, the microstructure keeps the cell's; the dataset
        records both).
        """
        if getattr(deck, "model", None) != "plating":
            raise ConfigError(f"model = {getattr(deck, 'model', None)!r}: not a plating deck")
        if cell is not None and cell.deck is not None:
            for name in ("cell", "microstructure", "material"):
                if getattr(cell.deck, name) != getattr(deck, name):
                    raise ConfigError(f"[{name}]: the cell was built from another [{name}] section "
                                      "than this deck's; build it with kmc.Cell.from_deck(deck)")
        cell = cell or Cell.from_deck(deck)
        return cls(cell, deck.protocol, deck.conditions, deck.run, deck.plating, deck=deck,
                   progress=progress)

    def _kernel(self, phase, content):
        return plating_kernel(self.run_cfg.engine, self.cell.graph.indptr, self.cell.graph.indices,
                              phase, content, self.plating.quanta_per_site, self.bitgen,
                              self.plating.confinement)

    def config(self) -> dict:
        """The run's configuration as plain data in SI: the deck's, or the sections given."""
        if self.deck is not None:
            return as_dict(self.deck)
        protocol = self.protocol_config
        return {"model": "plating", "material": {"name": self.cell.material.name},
                "conditions": dataclasses.asdict(self.conditions), "run": dataclasses.asdict(self.run_cfg),
                "plating": dataclasses.asdict(self.plating),
                "protocol": dataclasses.asdict(protocol) if protocol is not None else repr(self.protocol)}

    def event(self, name: str):
        """The enabled event kind called ``name``, or None."""
        return next((e for e in self.events if e.name == name), None)

    def face_contact(self) -> np.ndarray:
        """Contact of the electrode-face sites as the field sees it: ``contact`` (bool), or with
        partial contact the fraction of each site still touching
        (:meth:`kmc.events.stripping_voids.StrippingVoids.contact_state`)."""
        voids = self.event("stripping_voids")
        return self.contact if voids is None else voids.contact_state(self.contact)

    def current(self, t: float) -> float:
        """Protocol current I(t) = J(t) A_cell [A] (positive plates the electrode at z = 0)."""
        return self.protocol(t) * self.cell.area

    # --- the loop --------------------------------------------------------------------------

    def run(self, checkpoint=None) -> Result:
        """Run until a stop condition (module docstring); returns a :class:`Result`.

        Parameters
        ----------
        checkpoint : path-like, optional
            Written every ``run.checkpoint_interval`` of wall time and when the run stops on a
            limit, a signal or a failed solve; removed after a run that finished.
        """
        run, k = self.run_cfg, self.kernel
        if checkpoint and self.deck is None:
            raise ConfigError("checkpoints need a simulation built from a deck "
                              "(Simulation.from_deck)")
        start = last_ckpt = wallclock.perf_counter()
        with stop_signals() as received:
            while not self.stop_reason:
                if received:
                    self.stop_reason = received[0]
                    break
                t = k.time
                if self.dirty and not self._new_epoch(t):
                    break
                if self._observe_due(t):
                    continue
                if t >= run.duration:
                    self.stop_reason = "duration"
                    break
                if self.protocol.label(t) == "end":
                    self.stop_reason = "protocol_end"
                    break
                deadline = min((e.deadline() for e in self.events), default=math.inf)
                t_stop = min(self.recorder.next_time(), self.protocol.next_change(t), run.duration,
                             deadline)
                t0 = wallclock.perf_counter()
                status, _ = k.run(t_stop, run.max_events - k.n_events)
                self.profile["kernel_s"] += wallclock.perf_counter() - t0
                if status == TOPOLOGY_CHANGED:
                    if self._topology():  # a short: no field to solve beyond it
                        self.stop_reason = "short"
                elif status == REACHED_EVENTS:
                    self.stop_reason = "max_events"
                elif not self.dirty:
                    changed = k.time == self.protocol.next_change(t)
                    if k.time == deadline and self._fire(k.time):
                        if changed:  # judged afresh in the new epoch
                            self.confinement.protocol_changed()
                    elif changed:
                        self._protocol_change()
                now = wallclock.perf_counter()
                if self.progress is not None:
                    self.progress(k.time, f"deepest Li {self._depth_um():.1f} um")
                if not self.stop_reason and now - start > run.wall_time_limit:
                    self.stop_reason = "wall_time"
                if (checkpoint and run.checkpoint_interval > 0 and not self.stop_reason
                        and now - last_ckpt > run.checkpoint_interval):
                    self.save_checkpoint(checkpoint)
                    last_ckpt = now
            if checkpoint:  # still shielded from a second signal while it is written
                if self.stop_reason in RESUMABLE:
                    self.save_checkpoint(checkpoint)
                else:
                    Path(checkpoint).unlink(missing_ok=True)
        t0 = wallclock.perf_counter()
        self.recorder.final(self, k.time, self.stop_reason == "short")
        self.profile["observe_s"] += wallclock.perf_counter() - t0
        log.info("stop at t = %.6g s: %s (%d events, %d epochs, %d field solves)", k.time,
                 self.stop_reason, k.n_events, self.epochs, self.field_solves)
        return self._result(wallclock.perf_counter() - start)

    def _new_epoch(self, t: float) -> bool:
        """Solve the field and install the channels; False if the run must stop."""
        self._flaw_mouths()
        if self.stop_reason:
            return False
        try:
            self._solve()
        except OpenCircuitError as exc:  # a physical end: the electrolyte is cut
            log.warning("t = %.6g s: %s", t, exc)
            self.stop_reason = "open_circuit"
            return False
        except FieldError as exc:
            log.warning("field solve failed at t = %.6g s: %s", t, exc)
            self.stop_reason = "field_error"
            return False
        self._install()
        self.dirty = False
        return True

    def _observe_due(self, t: float) -> bool:
        t0 = wallclock.perf_counter()
        done = self.recorder.observe_due(self, t)
        self.profile["observe_s"] += wallclock.perf_counter() - t0
        return done

    def _solve(self) -> None:
        """Field solve with blocking (:mod:`kmc.confinement`), skipped if nothing the field
        sees changed (a quantum moved within a site)."""
        start = wallclock.perf_counter()
        phase, content, conf = self.phase, self.kernel.contents, self.confinement
        view = self.tracker.view(phase, self.contact)
        p_field = conf.prepare(phase, content, view)
        current = self.current(self.kernel.time)
        contact = self.face_contact()
        inputs = (phase, conf.blocked, p_field, current, contact)
        if self.field is None or not all(np.array_equal(x, y) for x, y in zip(inputs, self._inputs)):
            self.field, solves = conf.solve(self.solver, phase, p_field, current, contact, view)
            self.field_solves += solves
            self._inputs = (phase.copy(), conf.blocked.copy(), p_field, current, contact.copy())
            log.info("epoch %d, t = %.6g s, %d events: field solve %d (%s, %d iterations), "
                     "V = %.6g V, %d blocked", self.epochs, self.kernel.time, self.kernel.n_events,
                     self.field_solves, self.field.method, self.field.iterations,
                     self.field.voltage, conf.blocked.sum())
        self.profile["field_s"] += wallclock.perf_counter() - start

    def _install(self) -> None:
        """Pressures and the channels of every enabled event kind, into the kernel."""
        start = wallclock.perf_counter()
        epoch = self.epoch()
        self.confinement.set_pressures(self.field, self.phase, epoch.clusters)
        self.kernel.set_relief(self.confinement.relief)
        out = Channels()
        for event in self.events:
            event.channels(epoch, out)
        arrays = out.arrays()
        self.channel_kinds = arrays[0]
        self.kernel.set_channels(*arrays)
        if isinstance(self.protocol, AveragedPulses):
            self.protocol.check_limit(self.kernel.total_rate, self.kernel.time)
        self.profile["channels_s"] += wallclock.perf_counter() - start

    def epoch(self) -> Epoch:
        """What the event kinds read now (:class:`kmc.events.base.Epoch`)."""
        t = self.kernel.time
        phases = ()
        if isinstance(self.protocol, AveragedPulses):
            phases = tuple((w, j * self.cell.area, self.field.at_current(j * self.cell.area))
                           for w, j in self.protocol.phases())
        return Epoch(time=t, current=self.current(t), phase=self.phase,
                     content=self.kernel.contents, field=self.field,
                     clusters=self.tracker.view(self.phase, self.contact),
                     confinement=self.confinement, phases=phases)

    def _protocol_change(self) -> None:
        """The current changed: re-judge confinement (a new solve), or re-evaluate the affine
        field at the new current."""
        self._flaw_mouths()
        if self.confinement.protocol_changed():
            self.dirty = True
        elif not self.dirty:
            self.field.set_current(self.current(self.kernel.time))
            self._install()

    def _fire(self, t: float) -> bool:
        """Deterministic changes due at t (:meth:`kmc.events.base.Event.fire`); True (and a new
        epoch due) if any changed the topology."""
        fired = False
        for event in self.events:
            fired |= event.fire(t)
        if fired:
            self.dirty = True
            self.epochs += 1
        return fired

    def _topology(self) -> bool:
        """Apply the kernel's topology change; True if it shorted the cell."""
        start = wallclock.perf_counter()
        k = self.kernel
        shorted = self._sync_phases()
        for event in self.events:
            event.after_topology(k)
        if k.last_change == TOP_BLOCKED:
            self.confinement.released_site_plated(k.last_site)
        self.dirty = True
        self.epochs += 1
        if self.run_cfg.debug_checks:
            check_union_find(self.tracker, self.phase, k.time)
        if shorted:
            self._record_short()
        self.profile["topology_s"] += wallclock.perf_counter() - start
        return shorted

    def _sync_phases(self) -> bool:
        """Take the kernel's phases: sites that became Li join the clusters (and are marked
        converted if they were electrolyte), sites that stopped being Li leave them. True if
        the cell shorted."""
        new = self.kernel.phases
        shorted = False
        for s in np.flatnonzero(new != self.phase).tolist():
            if new[s] == LI:
                self.converted[s] |= self.phase[s] == SE
                self.held_li[s] = True
                shorted |= self.tracker.add(s)
            elif self.phase[s] == LI:
                self.tracker.remove(s)
        self.phase = new
        return shorted

    def _record_short(self) -> None:
        """The union-find reports a short: its time, the charge plated and the networkx path."""
        if self.short is not None:
            return
        k, g = self.kernel, self.cell.graph
        self.t_short = k.time
        self.charge_at_short = plated_charge(self)
        self.short = short_path(g, self.phase == LI, self.cell.face, self.cell.gb_edge,
                                self.cell.thickness,
                                diagonal_steps(g, self.cell.periodic) if len(g.shape) else None)
        if self.short is None:
            raise EngineConsistencyError(f"t = {k.time:.6g} s: the union-find reports a short "
                                         "that networkx does not find")

    def _flaw_mouths(self) -> None:
        """Stripped flaw mouths follow their electrode (MODEL.md 10.2, 10.3).

        Li stripped out of a flaw leaves an empty crack (VOID) open to the electrode at its
        mouth. While that electrode plates, an emptied face site in contact is an empty metal
        site of the electrode (LI, content 0), which plating refills, and the crack behind it
        by overflow, so dendrites restart from flaws emptied by stripping; while the electrode
        strips (or rests) the mouth, if still empty, is an empty crack again. Sets ``dirty``
        if any site changed, and the stop reason if a reopened mouth joins the electrodes.
        """
        j = self.current(self.kernel.time)
        k, face = self.kernel, self.cell.face
        plating = FACE_A if j > 0 else FACE_C if j < 0 else FACE_NONE
        empty = (k.contents == 0) & (face != FACE_NONE)
        reopen = np.flatnonzero(empty & (face == plating) & self.contact & self.held_li
                                & (self.phase == VOID))
        close = np.flatnonzero(empty & (face != plating) & self.reopened & (self.phase == LI))
        if not (reopen.size or close.size):
            return
        for s in reopen.tolist():
            k.set_empty(s, LI)
        for s in close.tolist():
            k.set_empty(s, VOID)
        self.reopened[reopen], self.reopened[close] = True, False
        self.dirty = True
        if self._sync_phases():
            self._record_short()
            self.stop_reason = "short"

    def _depth_um(self) -> float:
        """Top of the highest Li site off the face at z = L [um] (the progress line)."""
        a = (self.phase == LI) & (self.cell.face != FACE_C)
        return 0.0 if not a.any() else float(self.cell.layer[a].max() + 1) * self.cell.spacing * 1e6

    def _result(self, wall: float) -> Result:
        short, cell = self.short, self.cell
        voids = self.event("stripping_voids")
        rim, rim_random = voids.rim_distances() if voids else (math.nan, math.nan)
        scalars = {
            "t_short": self.t_short,
            "charge_at_short": self.charge_at_short,
            "ccd": (self.protocol.plating_current(self.t_short) if isinstance(self.protocol, Staircase)
                    and math.isfinite(self.t_short) else math.nan),
            "short_path_gb_fraction": short.gb_fraction if short else math.nan,
            "short_path_gb_site_fraction": float(cell.gb_site[short.sites].mean()) if short else math.nan,
            "gb_site_fraction": float(cell.gb_site.mean()),
            "short_path_tortuosity": short.tortuosity if short else math.nan,
            "short_path_length": int(short.sites.size) if short else 0,
            "short_void_rim_distance": rim, "face_void_rim_distance": rim_random,
            "gb_edge_fraction": float(cell.gb_edge.mean()),
            "crack_span_time": self.recorder.crack_span_time,
            "ionic_hall_angle": float(np.linalg.norm(self.hall)),  # rad; per tesla: the mobility
            "ionic_hall_angle_1T": self.material.ionic_mobility,
            "electron_hall_angle_1T": (leak.leak.params.mobility if (leak := self.event(
                "electron_leak")) else math.nan),
            "quantum_charge": self.quantum,
            "cell_area": cell.area,
            "events_by_kind": self.kernel.event_counts,
        }
        if short is not None:
            path = np.zeros(cell.graph.n_sites, np.uint8)
            path[short.sites] = 1
            scalars["short_path"] = path
        profile = dict(self.profile, field_solves=self.field_solves, epochs=self.epochs,
                       cluster_labellings=self.tracker.labellings, events=int(self.kernel.n_events))
        return Result(deck=self.deck, config=self.config(), cell=cell, quantum=self.quantum,
                      observations=self.recorder.series(cell.area),
                      snapshots=self.recorder.snapshots(), scalars=scalars,
                      stop_reason=self.stop_reason, wall_time=wall, profile=profile)

    # --- checkpoints -------------------------------------------------------------------------

    def save_checkpoint(self, path) -> Path:
        """Write everything the next event depends on to ``path`` atomically, in a format that
        cannot run code (:func:`kmc.checkpoint.simulation_state`)."""
        if self.deck is None:
            raise ConfigError("checkpoints need a simulation built from a deck "
                              "(Simulation.from_deck)")
        return save_checkpoint(path, simulation_state(self), kind="plating")

    @classmethod
    def resume(cls, path, progress=None, run_overrides=None) -> "Simulation":
        """Rebuild a simulation from a checkpoint (``run_overrides``: new ``[run]`` limits).

        Raises
        ------
        CheckpointError
            On a missing, corrupt or foreign file (one line).
        """
        state = load_checkpoint(path, kind="plating")
        try:
            deck = from_dict(json.loads(state["deck"]))
            if run_overrides:
                deck = dataclasses.replace(deck, run=dataclasses.replace(deck.run, **run_overrides))
            cell = Cell.from_deck(deck.replace("run.seed", state["cell_seed"]))
            sim = cls.from_deck(deck, cell=cell, progress=progress)
            restore_simulation(sim, state)
        except KmcError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise CheckpointError(f"{path}: not a complete plating state "
                                  f"({exc.__class__.__name__}: {exc})") from None
        return sim


def simulate(deck, progress=None, checkpoint=None) -> Result:
    """Set up and run a plating deck (see :class:`Simulation`)."""
    return Simulation.from_deck(deck, progress=progress).run(checkpoint)
