"""Ensembles of plating runs: sweeps over deck keys, replicas, executors, restart, merge.

An ensemble is a plating deck with an ``[ensemble]`` section (:class:`kmc.deck.EnsembleConfig`)::

    [ensemble]
    replicas = 4
    vary = "kinetics"              # or "microstructure"
    combine = "product"            # or "zip"
    [ensemble.sweep]
    "protocol.current_density" = ["20 mA/cm^2", "40 mA/cm^2"]

**Tasks.** The sweep points are the product of the lists (the last key varies fastest) or
the lists zipped; every point runs ``replicas`` times. Task ``i`` is replica ``r`` of point
``p`` with ``i = p * replicas + r``. It runs the deck with the point's overrides and
``run.seed = task_seed(master, i)``, an integer drawn from
``np.random.SeedSequence(master, spawn_key=(i,))`` (the ``i``-th child of
``SeedSequence(master).spawn``), where ``master`` is the deck's ``run.seed``. Streams depend on
the master seed and the task index only, never on the rank, worker or order of completion, so
an ensemble gives the same data with any executor and any number of workers.
``vary = "kinetics"``: the replicas of a point share the cell built from the point's deck at the
master seed (built once per worker and reused); ``vary = "microstructure"``: each task builds
its cell from its own seed.

**Executors.** :meth:`Ensemble.run` takes any :class:`concurrent.futures.Executor` and submits
the tasks one by one as workers free up (dynamic scheduling: uneven run times balance).
:func:`kmc.executors.executor` picks one at the edge: in-process (:class:`SerialExecutor`), a process pool
(``workers > 1``; forkserver or spawn, one BLAS thread per worker), or, when the process was
started by an MPI launcher (``mpiexec -n N``, detected from its environment variables without
importing mpi4py), :class:`kmc.executors.MPIExecutor` on ``COMM_WORLD``: every rank, rank 0
included, takes the next task index from one atomic counter and runs it (dynamic
self-scheduling; :meth:`Ensemble.run` uses its ``imap``); rank 0 reports and merges, the other
ranks get None from :func:`~kmc.executors.executor`.

**Files.** Each finished task is written at once, atomically, to ``TASKS/task-000012.nc`` (the
run's dataset, :func:`kmc.output.plating_dataset`); a task that raises leaves
``TASKS/task-000012.error.json`` (exception class, one-line message, overrides, seed) and the
others go on. ``TASKS/ensemble.json`` records the deck: a second run of the same ensemble skips
every task whose ``.nc`` exists (failed tasks are tried again) and refuses a directory written
by another deck. :meth:`Ensemble.merge` reads the task files into one dataset
(:func:`kmc.merge.ensemble_dataset`).
"""
from __future__ import annotations

import concurrent.futures as cf
from concurrent.futures.process import BrokenProcessPool
import dataclasses
import itertools
import json
import logging
import os
import time as wallclock
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import executors
from .deck import EnsembleConfig, PlatingDeck, as_dict
from .errors import ConfigError, KmcError
from .materials import load_li_metal, load_material
from .executors import SerialExecutor, forward_signal
from .output import write_json
from .signals import stop_signals

log = logging.getLogger(__name__)

#: Stop reasons of a task stopped by a signal: nothing is written, the task runs again.
_SIGNALLED = ("interrupted", "terminated")


# --- sweep points and seeds --------------------------------------------------------------

def task_seed(master: int, index: int) -> int:
    """``run.seed`` of task ``index``: 63 bits drawn from ``SeedSequence(master,
    spawn_key=(index,))``, the ``index``-th child of ``SeedSequence(master).spawn``."""
    state = np.random.SeedSequence(int(master), spawn_key=(int(index),)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def field_of(deck, key: str):
    """The dataclass field that the dotted ``key`` names in ``deck`` and its value."""
    obj, parts = deck, key.split(".")
    for i, part in enumerate(parts):
        f = {f.name: f for f in dataclasses.fields(obj)}[part]
        value = getattr(obj, part)
        if i < len(parts) - 1:
            obj = value
    return f, value


def sweep_points(deck) -> list[dict]:
    """The sweep points of a plating deck's ``[ensemble]``: one dict (key -> value as written)
    per point, in task order. Every point is applied with ``deck.replace``, so a bad key, value
    or combination is a one-line :class:`ConfigError` here, before any compute.
    """
    ens = deck.ensemble
    keys = list(ens.sweep)
    if not keys:
        return [{}]
    base = dataclasses.replace(deck, ensemble=EnsembleConfig())
    for key in keys:
        seen = {}
        for raw in ens.sweep[key]:
            try:
                changed = base.replace(key, raw)
            except ConfigError as exc:
                raise ConfigError(f"ensemble.sweep: {exc}") from None
            _, value = field_of(changed, key)
            if dataclasses.is_dataclass(value):
                raise ConfigError(f"ensemble.sweep.{key}: names a table; sweep one of its keys")
            shown = json.dumps(value, sort_keys=True)
            # an axis's values must differ; zipped, only the first key's (it names the
            # dimension) and the combinations
            if shown in seen and (ens.combine == "product" or key == keys[0]):
                raise ConfigError(f"ensemble.sweep.{key}: {raw!r} gives the same value as "
                                  f"{seen[shown]!r}; every value of an axis must differ")
            seen[shown] = raw
    lists = [ens.sweep[k] for k in keys]
    rows = itertools.product(*lists) if ens.combine == "product" else zip(*lists)
    points = [dict(zip(keys, row)) for row in rows]
    materials = set()
    for point in points:  # cross checks between the swept keys; material sets that exist
        try:
            deck_at = base.replace(point) if point else base
            key = json.dumps(as_dict(deck_at)["material"], sort_keys=True)
            if key not in materials:
                materials.add(key)
                load_material(deck_at.material.name, deck_at.material.overrides)
                load_li_metal(deck_at.material.li_metal, key="material.li_metal")
        except ConfigError as exc:
            raise ConfigError(f"ensemble.sweep: at {_describe(point)}: {exc}") from None
    return points


def _describe(point: dict) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in point.items()) or "(no sweep)"


@dataclass(frozen=True)
class Task:
    """One run of an ensemble: replica ``replica`` of sweep point ``point``, task ``index``
    (``point * replicas + replica``), its overrides (as written in the deck) and seed."""

    index: int
    point: int
    replica: int
    overrides: dict
    seed: int

    @property
    def name(self) -> str:
        """File stem in the tasks directory: ``task-000012``."""
        return f"task-{self.index:06d}"


@dataclass(frozen=True)
class _Job:
    """What a worker needs for one task (pickled to process-pool and MPI workers)."""

    task: Task
    deck: PlatingDeck
    cell_deck: PlatingDeck | None  # vary = "kinetics": the deck whose cell the point shares
    directory: str


# --- the task, run by a worker -------------------------------------------------------------

#: Cells built by this process for vary = "kinetics", by their defining sections (a few).
_CELLS: dict = {}
_CELL_CACHE_SIZE = 4


def _cell(deck):
    """The cell of ``deck``, built once per process for equal cell-defining sections, seed and
    temperature (what :meth:`kmc.cell.Cell.from_deck` reads)."""
    from .cell import Cell

    key = json.dumps([as_dict(deck)[k] for k in ("cell", "microstructure", "material")]
                     + [deck.run.seed, deck.conditions.temperature], sort_keys=True)
    if key not in _CELLS:
        while len(_CELLS) >= _CELL_CACHE_SIZE:
            _CELLS.pop(next(iter(_CELLS)))
        _CELLS[key] = Cell.from_deck(deck)
    return _CELLS[key]


def one_line(exc: BaseException) -> str:
    """An exception as one line: its message's first line (or its class name)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def run_task(job: _Job) -> dict:
    """Run one task and write its file; the outcome as plain data.

    Returns ``{"index", "status", ...}`` with status ``"done"`` (``stop_reason``, ``t_short``
    [s], ``wall`` [s]), ``"failed"`` (``error``; an ``.error.json`` record is written) or
    ``"interrupted"``/``"terminated"`` (a signal stopped the run: nothing is written).
    """
    from .output import write_dataset
    from .simulation import Simulation

    task, directory = job.task, Path(job.directory)
    start = wallclock.perf_counter()
    try:
        cell = _cell(job.cell_deck) if job.cell_deck is not None else None
        result = Simulation.from_deck(job.deck, cell=cell).run()
        if result.stop_reason in _SIGNALLED:
            return {"index": task.index, "status": result.stop_reason}
        ds = result.to_dataset()
        ds.attrs.update({"ensemble_task": task.index, "ensemble_point": task.point,
                         "ensemble_replica": task.replica,
                         "ensemble_overrides": json.dumps(task.overrides, sort_keys=True)})
        if executors.RANK is not None:  # which MPI rank ran it: a diagnostic, not data
            ds.attrs["ensemble_rank"] = executors.RANK
        write_dataset(ds, directory / f"{task.name}.nc")
        (directory / f"{task.name}.error.json").unlink(missing_ok=True)
        return {"index": task.index, "status": "done", "stop_reason": result.stop_reason,
                "t_short": float(result.scalars["t_short"]),
                "wall": wallclock.perf_counter() - start}
    except Exception as exc:  # noqa: BLE001 - any failure is recorded; the others go on
        message = f"{exc.__class__.__name__}: {one_line(exc)}"
        record = {"index": task.index, "error_class": exc.__class__.__name__,
                  "message": one_line(exc), "overrides": task.overrides, "seed": task.seed}
        write_json(directory / f"{task.name}.error.json", record)
        return {"index": task.index, "status": "failed", "error": message,
                "wall": wallclock.perf_counter() - start}


# --- the ensemble ------------------------------------------------------------------------

@dataclass
class EnsembleRun:
    """What :meth:`Ensemble.run` did: tasks in total, computed now, reused from an earlier run,
    failed (index -> one-line error), the stop (``""``, ``"interrupted"`` or
    ``"terminated"``) and the wall time [s]."""

    total: int
    computed: int = 0
    reused: int = 0
    failed: dict = field(default_factory=dict)
    stopped: str = ""
    wall_time: float = 0.0
    broken: bool = False  #: a pool worker died: the tasks not finished run again next time


class Ensemble:
    """Runs of one plating deck over sweep points and replicas (module docstring).

    Parameters
    ----------
    deck : PlatingDeck or str or path
        A plating deck (or a deck file or bundled deck name); its ``[ensemble]`` section gives
        the sweep and replicas.
    tasks : path-like, optional
        Directory of the per-task files (default: ``ensemble.tasks``, else the deck's
        ``output.dataset`` with the suffix ``.tasks``).
    **ensemble
        Keys of ``[ensemble]`` replacing the deck's (``replicas=4``, ``vary="microstructure"``,
        ``sweep={"protocol.current_density": ["5 mA/cm^2", "10 mA/cm^2"]}``), validated.

    Examples
    --------
    >>> deck = kmc.load_deck("llzo_ensemble_2d")                               # doctest: +SKIP
    >>> ens = kmc.Ensemble(deck, replicas=2, tasks="results/ens.tasks")        # doctest: +SKIP
    >>> with ProcessPoolExecutor(2) as pool:                                   # doctest: +SKIP
    ...     ens.run(pool)
    >>> ds = ens.merge()                                                       # doctest: +SKIP
    """

    def __init__(self, deck, tasks=None, **ensemble):
        if not isinstance(deck, PlatingDeck):
            if isinstance(deck, (str, os.PathLike)):
                from .deck import load_deck

                deck = load_deck(deck)
            if not isinstance(deck, PlatingDeck):
                raise ConfigError(f"model = {getattr(deck, 'model', None)!r}: ensembles run "
                                  "plating decks")
        if ensemble:
            deck = deck.replace({f"ensemble.{k}": v for k, v in ensemble.items()})
        self.deck = deck
        self.config = deck.ensemble
        self.points = sweep_points(deck)
        replicas, master = self.config.replicas, deck.run.seed
        self.tasks = [Task(p * replicas + r, p, r, point, task_seed(master, p * replicas + r))
                      for p, point in enumerate(self.points) for r in range(replicas)]
        self.directory = Path(tasks or self.config.tasks
                              or Path(deck.output.dataset).with_suffix(".tasks"))
        self._base = dataclasses.replace(deck, ensemble=EnsembleConfig())

    def __repr__(self):
        return (f"Ensemble({len(self.points)} sweep points x {self.config.replicas} replicas, "
                f"vary={self.config.vary!r}, tasks={str(self.directory)!r})")

    @property
    def axes(self) -> dict:
        """Sweep axis (dimension) name -> the deck keys along it: one axis per key for
        ``product``, one axis named after the first key for ``zip``. A name is the key's last
        part (``current_density``), or the whole key with underscores where two would clash."""
        keys = list(self.config.sweep)
        last = [k.rsplit(".", 1)[-1] for k in keys]
        names = [n if last.count(n) == 1 else k.replace(".", "_") for k, n in zip(keys, last)]
        if self.config.combine == "zip" and keys:
            return {names[0]: keys}
        return {n: [k] for n, k in zip(names, keys)}

    def description(self) -> str:
        """The sweep in one line (dataset attribute, command-line summary)."""
        c = self.config
        sweep = (" x ".join(f"{k} = {v}" for k, v in c.sweep.items()) if c.combine == "product"
                 else "zip(" + ", ".join(f"{k} = {v}" for k, v in c.sweep.items()) + ")")
        return (f"{len(self.points)} sweep point(s) [{sweep or 'no sweep'}] x {c.replicas} "
                f"replica(s), vary = {c.vary}, seeds from SeedSequence({self.deck.run.seed}, "
                f"spawn_key=(task,)): {len(self.tasks)} tasks")

    def task_deck(self, task: Task) -> PlatingDeck:
        """The deck task ``task`` runs: the point's overrides and the task's seed."""
        return self._base.replace({**task.overrides, "run.seed": task.seed})

    def _job(self, task: Task) -> _Job:
        cell_deck = None
        if self.config.vary == "kinetics":
            cell_deck = self._base.replace(task.overrides) if task.overrides else self._base
        return _Job(task, self.task_deck(task), cell_deck, str(self.directory))

    def path(self, task: Task) -> Path:
        """The dataset file of a task."""
        return self.directory / f"{task.name}.nc"

    def error_path(self, task: Task) -> Path:
        """The error record of a task that raised."""
        return self.directory / f"{task.name}.error.json"

    def _manifest(self) -> dict:
        deck = dataclasses.replace(self.deck, output=PlatingDeck.__dataclass_fields__["output"].default,
                                   ensemble=dataclasses.replace(self.config, tasks=""))
        return {"deck": as_dict(deck), "tasks": len(self.tasks)}

    def prepare(self) -> None:
        """Create the tasks directory and its ``ensemble.json``, or check that an existing one
        belongs to this ensemble (same deck, [output] and the tasks path aside).

        Raises
        ------
        KmcError
            The directory cannot be written, or holds another ensemble's tasks (one line).
        """
        manifest, path = self._manifest(), self.directory / "ensemble.json"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KmcError(f"{self.directory}: cannot create the tasks directory "
                           f"({exc.strerror})") from None
        if path.exists():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                old = None
            if old != json.loads(json.dumps(manifest)):
                raise KmcError(f"{self.directory}: holds the tasks of another ensemble (its "
                               "ensemble.json differs from this deck); delete it to start "
                               "afresh, or set ensemble.tasks elsewhere")
        else:
            write_json(path, manifest)

    def pending(self) -> list[Task]:
        """Tasks without a dataset file (failed tasks included: they run again)."""
        return [t for t in self.tasks if not self.path(t).exists()]

    def run(self, executor: cf.Executor | None = None, progress=None) -> EnsembleRun:
        """Run every task without a file, submitting them one by one as workers free up.

        Parameters
        ----------
        executor : concurrent.futures.Executor, optional
            Where tasks run (default: :class:`SerialExecutor`; see :func:`executor`). At most
            twice its ``max_workers`` tasks are queued at a time.
        progress : callable, optional
            ``progress(done, total, task, outcome)`` after every task (``outcome``: the dict of
            :func:`run_task`); ``done`` counts reused tasks.

        Returns
        -------
        EnsembleRun
            SIGINT or SIGTERM stop the submission, stop the running tasks (not written: they
            run again on the next call) and set ``stopped``; finished tasks are kept.
        """
        start = wallclock.perf_counter()
        self.prepare()
        ex = executor if executor is not None else SerialExecutor()
        todo = self.pending()
        out = EnsembleRun(total=len(self.tasks), reused=len(self.tasks) - len(todo))
        done = out.reused

        def record(task, outcome, received):
            nonlocal done
            status = outcome["status"]
            if status in _SIGNALLED:
                received.append(status)
                return
            if status == "broken":  # a worker died: stop, and kill the other workers
                received.append(status)
                return
            done += 1
            if status == "failed":
                out.failed[task.index] = outcome["error"]
            else:
                out.computed += 1
            if progress is not None:
                progress(done, out.total, task, outcome)

        with stop_signals() as received:
            if hasattr(ex, "imap"):  # MPIExecutor: every rank takes tasks from one counter
                jobs = [self._job(task) for task in todo]
                for fut in ex.imap(run_task, jobs, stop=_stops, stopped=lambda: bool(received)):
                    task = todo[fut.index]
                    record(task, self._outcome(fut, task, received), received)
                received.extend(ex.remote_stops)
            else:
                self._submit(ex, todo, record, received)
        out.stopped = next((r for r in received if r in _SIGNALLED), "")
        out.broken = "broken" in received
        out.wall_time = wallclock.perf_counter() - start
        return out

    def _submit(self, ex, todo, record, received) -> None:
        """Submit ``todo`` to a ``concurrent.futures`` executor, at most twice its workers
        queued at a time; on a stop, cancel the queued tasks and forward the signal."""
        window = max(1, 2 * int(getattr(ex, "max_workers", None) or getattr(ex, "_max_workers", 1)))
        queue, running, forwarded = iter(todo), {}, set()
        while True:
            while not received and len(running) < window:
                task = next(queue, None)
                if task is None:
                    break
                try:
                    running[ex.submit(run_task, self._job(task))] = task
                except BrokenProcessPool:  # a worker died: submit nothing more
                    received.append("broken")
                    break
            if not running:
                break
            finished, _ = cf.wait(running, timeout=0.25, return_when=cf.FIRST_COMPLETED)
            for fut in sorted(finished, key=lambda f: running[f].index):
                task = running.pop(fut)
                record(task, self._outcome(fut, task, received), received)
            if received and not forwarded:
                for fut in list(running):
                    if fut.cancel():
                        running.pop(fut)
            for reason in [r for r in dict.fromkeys(received) if r not in forwarded]:
                forwarded.add(reason)
                forward_signal(ex, reason)

    def _outcome(self, fut, task: Task, received) -> dict:
        """A future's outcome; a worker that died is a failed task (unless we were stopping)."""
        try:
            return fut.result()
        except cf.CancelledError:
            return {"index": task.index, "status": "interrupted"}
        except BrokenProcessPool:  # a worker died (out of memory, a crash): which task killed
            return {"index": task.index, "status": "broken"}  # it is unknown, so none is blamed
        except Exception as exc:  # noqa: BLE001
            if received:
                return {"index": task.index, "status": received[0]}
            message = f"{exc.__class__.__name__}: {one_line(exc)}"
            write_json(self.error_path(task), {
                "index": task.index, "error_class": exc.__class__.__name__,
                "message": one_line(exc), "overrides": task.overrides, "seed": task.seed})
            return {"index": task.index, "status": "failed", "error": message}

    def errors(self) -> dict:
        """Task index -> its error record, for every task whose last attempt failed."""
        out = {}
        for t in self.tasks:
            p = self.error_path(t)
            if p.exists() and not self.path(t).exists():
                out[t.index] = json.loads(p.read_text(encoding="utf-8"))
        return out

    def merge(self, command: str = "kmc.Ensemble.merge"):
        """The ensemble as one :class:`xarray.Dataset` (:func:`kmc.merge.ensemble_dataset`).

        Raises
        ------
        KmcError
            Some task has neither a dataset nor an error record (run the ensemble again).
        """
        from .merge import ensemble_dataset

        return ensemble_dataset(self, command)


def _stops(outcome: dict) -> bool:
    """A task outcome after which no new task starts (a signal stopped it)."""
    return outcome["status"] in _SIGNALLED


__all__ = ["Ensemble", "EnsembleRun", "Task", "run_task", "sweep_points",
           "task_seed"]
