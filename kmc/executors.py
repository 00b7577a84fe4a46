"""Where ensemble tasks run: one executor, chosen at the edge.

In-process (:class:`SerialExecutor`), a process pool on one machine (``workers > 1``), or, when
the process was started by an MPI launcher (``mpiexec -n N kmc ensemble DECK``, ``srun``;
detected from the launcher's environment without importing mpi4py), :class:`MPIExecutor` on
``COMM_WORLD``, in which **every rank computes**. mpi4py is imported on that path only
(STYLE.md, after schwimmbad); without it, a launcher gives a one-line error naming the
``mpi`` extra.

Why not ``mpi4py.futures``
--------------------------
``MPICommExecutor(COMM_WORLD, root=0)`` makes rank 0 a manager that only hands out tasks:
``mpiexec -n 2`` computes on one rank (speed-up ~1), and ``-n N`` on ``N - 1``.
``MPIPoolExecutor`` spawns its workers (``MPI_Comm_spawn``), which batch launchers often
forbid and which would run more processes than the ``-n N`` asked for. Letting rank 0 also
compute inside mpi4py.futures means running tasks in a second thread next to the manager
thread: a simulation outside the main thread cannot catch SIGTERM (it would not stop when a
scheduler asks), and tasks queued on the manager side are no longer balanced against rank 0's.

The design: dynamic self-scheduling
-----------------------------------
Rank 0 sends the list of pending jobs to every rank; then each rank, in its main thread,
repeatedly takes the next job index from one shared counter (an ``MPI_Fetch_and_op`` on an
integer in rank 0's RMA window: atomic, one round trip, no manager), runs the job, writes its
file (the job does that) and sends the outcome to rank 0, until the counter passes the end.
A rank that finishes early just takes the next index, so uneven run times balance as with a
task queue; which rank runs a task changes nothing in its data (streams come from the task
index). Rank 0 reports outcomes (its own and the others', received between its tasks) as
they come and returns once every rank has said it is done. A stop (a signal, or an outcome
the caller marks as a stop) adds ``len(jobs)`` to the counter, so no rank starts another job;
running jobs finish or stop on the signal, as in the process pool.

The counter lives in rank 0's window while rank 0 computes, so the window is opened once
for the whole run (``Lock_all``; each fetch is completed by ``Flush``): with a lock and unlock
around every fetch, MPICH completed another rank's fetch only when rank 0 entered MPI between
its tasks (measured: rank 0 ran 6 of 8 tasks; docs/performance.md). When all ranks share a
node the window is a shared-memory one, whose atomics each rank performs itself. Across
nodes, on networks without hardware atomics, an MPI library may still need the target to
progress: correct, slower; enable asynchronous progress there (MPICH:
``MPIR_CVAR_ASYNC_PROGRESS=1``).

Idle ranks wait with a probe-and-sleep loop, not a blocking receive, so they use no CPU
while rank 0 merges (MPICH busy-polls in blocking calls) and signals stay responsive.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import signal
import time

from .errors import ConfigError, KmcError

#: Environment variables by which MPI launchers announce the number of ranks (MPICH/Intel
#: MPI hydra and PMI-2 srun, Open MPI, PMIx, MVAPICH).
MPI_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE")
#: ... and this process's rank.
MPI_RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "MV2_COMM_WORLD_RANK")

#: The MPI rank running tasks in this process (None outside :class:`MPIExecutor`); task files
#: carry it as a diagnostic attribute (``ensemble_rank``), never as data.
RANK: int | None = None

#: Message tags between ranks.
_JOBS, _RESULT, _DONE = 11, 12, 13
#: Seconds between probes of an idle rank.
_POLL = 0.005

NO_MPI4PY = ("started by an MPI launcher ({size} ranks) but mpi4py is not installed: install "
             "the mpi extra (pip install 'kmc-li-plating[mpi]', or make install in a checkout; "
             "against a cluster's own MPI: pip install --no-binary=mpi4py mpi4py), or run "
             "without mpiexec")


class SerialExecutor(cf.Executor):
    """The minimal in-process executor: ``submit`` runs the call at once and returns a
    finished future (the default of :meth:`Ensemble.run`)."""

    max_workers = 1

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - delivered through the future
            future.set_exception(exc)
        return future


def _from_environment(names) -> int | None:
    for name in names:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return None


def mpi_size() -> int:
    """Ranks announced by an MPI launcher's environment (1 outside ``mpiexec``); mpi4py is not
    imported."""
    return _from_environment(MPI_SIZE_VARIABLES) or 1


def _finished(index, value=None, error=None) -> cf.Future:
    future = cf.Future()
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
    future.index = index
    return future


def _call(fn, job):
    """``fn(job)`` as ``(value, error)``; an error that cannot be pickled becomes a
    RuntimeError with its text."""
    import pickle

    try:
        return fn(job), None
    except Exception as exc:  # noqa: BLE001 - delivered to rank 0 through a future
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001
            exc = RuntimeError(f"{exc.__class__.__name__}: {exc}")
        return None, exc


class _Counter:
    """The shared job counter: one int64 in rank 0's RMA window, 0 at the start; created and
    freed collectively."""

    def __init__(self, comm):
        import numpy as np
        from mpi4py import MPI

        self._np, self._mpi = np, MPI
        size = 8 if comm.Get_rank() == 0 else 0
        node = comm.Split_type(MPI.COMM_TYPE_SHARED)
        one_node = node.Get_size() == comm.Get_size()
        node.Free()
        # all ranks on one node: a shared-memory window, whose atomics every rank performs
        # itself (rank 0 need not reach an MPI call while it computes); else a plain window
        alloc = MPI.Win.Allocate_shared if one_node else MPI.Win.Allocate
        self.win = alloc(size, 8, comm=comm)
        if comm.Get_rank() == 0:
            self.win.Lock(0, MPI.LOCK_EXCLUSIVE)
            self.win.Put(np.zeros(1, np.int64), 0)
            self.win.Unlock(0)
        comm.Barrier()
        self.win.Lock_all()  # one passive epoch for the whole run: no lock round trips

    def fetch_add(self, k: int) -> int:
        """Add ``k`` atomically; the value before."""
        np, MPI = self._np, self._mpi
        got = np.empty(1, np.int64)
        self.win.Fetch_and_op(np.array([k], np.int64), got, 0, 0, MPI.SUM)
        self.win.Flush(0)
        return int(got[0])

    def free(self) -> None:
        self.win.Unlock_all()
        self.win.Free()


def _wait_for(comm, source, tag):
    """Receive the next message with ``tag`` from ``source``, probing every :data:`_POLL` s."""
    while not comm.Iprobe(source=source, tag=tag):
        time.sleep(_POLL)
    return comm.recv(source=source, tag=tag)


class MPIExecutor(cf.Executor):
    """Rank 0's handle on ``COMM_WORLD`` under an MPI launcher: every rank runs jobs, taken
    one at a time from a shared atomic counter (module docstring).

    :meth:`imap` is the parallel path (:meth:`kmc.Ensemble.run` uses it); :meth:`submit`
    runs a call on rank 0 at once, like :class:`SerialExecutor`, for code written against
    ``concurrent.futures``. Built by :func:`executor`, which keeps the other ranks in
    :meth:`serve` until rank 0 leaves the ``with`` block.
    """

    def __init__(self, comm):
        self.comm = comm
        self.rank = comm.Get_rank()
        self.max_workers = comm.Get_size()
        #: Stops (signals) that other ranks received between their jobs in the last :meth:`imap`.
        self.remote_stops: list[str] = []

    def submit(self, fn, /, *args, **kwargs):
        return SerialExecutor().submit(fn, *args, **kwargs)

    def imap(self, fn, jobs, stop=None, stopped=None):
        """Run ``fn(job)`` for every job on all ranks; yield one finished
        :class:`concurrent.futures.Future` per job (its position in ``jobs`` as ``.index``) as
        outcomes arrive: rank 0's after each of its jobs, the others' in between.

        Parameters
        ----------
        fn : callable
            A module-level function (pickled by reference to the other ranks).
        jobs : list
            Picklable jobs, sent once to every rank.
        stop : callable, optional
            ``stop(value) -> bool``, module-level: a value for which no rank starts another job
            (e.g. a run stopped by a signal).
        stopped : callable, optional
            ``stopped() -> bool``, checked on rank 0 between its jobs (e.g. a signal received).

        Notes
        -----
        After a stop, jobs not started are not yielded; running ones finish (or stop on their
        own signal). Closing the generator early stops the scheduling the same way.
        """
        global RANK
        comm, n = self.comm, len(jobs)
        stop = stop or _never
        stopped = stopped or _never_stopped
        for dest in range(1, self.max_workers):
            comm.send((fn, list(jobs), stop), dest=dest, tag=_JOBS)
        counter = _Counter(comm)
        self.remote_stops = []
        remaining = self.max_workers - 1  # ranks that have not said they are done
        halted = False

        def arrived():
            nonlocal remaining
            from mpi4py import MPI

            status, out = MPI.Status(), []
            while comm.Iprobe(source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG, status=status):
                source, tag = status.Get_source(), status.Get_tag()
                message = comm.recv(source=source, tag=tag)
                if tag == _RESULT:
                    out.append(_finished(*message))
                elif tag == _DONE:
                    remaining -= 1
                    self.remote_stops.extend(message)
            return out

        try:
            RANK = 0
            while not halted:
                if stopped():
                    break
                index = counter.fetch_add(1)
                if index >= n:
                    halted = True
                    break
                value, error = _call(fn, jobs[index])
                yield _finished(index, value, error)
                if error is None and stop(value):
                    break
                yield from arrived()
            RANK = None
            if not halted:
                counter.fetch_add(n)
                halted = True
            while remaining:
                if stopped() and not halted:
                    counter.fetch_add(n)
                    halted = True
                found = arrived()
                yield from found
                if not found:
                    time.sleep(_POLL)
        finally:
            RANK = None
            if remaining:  # closed early: stop the others, discard what they still send
                if not halted:
                    counter.fetch_add(n)
                while remaining:
                    if not arrived():
                        time.sleep(_POLL)
            for dest in range(1, self.max_workers):
                comm.send(None, dest=dest, tag=_DONE)  # the window may go
            counter.free()

    def serve(self) -> None:
        """Ranks other than 0: run the job lists rank 0 sends (:meth:`imap`) until it sends
        None. SIGINT/SIGTERM between jobs stop this rank's share and are reported to rank 0."""
        from mpi4py import MPI

        from .signals import stop_signals

        global RANK
        comm = self.comm
        while (message := _wait_for(comm, 0, _JOBS)) is not None:
            fn, jobs, stop = message
            n = len(jobs)
            counter = _Counter(comm)
            sends = []
            with stop_signals() as received:
                halted = False
                RANK = self.rank
                try:
                    while not received:
                        index = counter.fetch_add(1)
                        if index >= n:
                            halted = True
                            break
                        value, error = _call(fn, jobs[index])
                        sends.append(comm.isend((index, value, error), dest=0, tag=_RESULT))
                        if error is None and stop(value):
                            break
                finally:
                    RANK = None
                if not halted:
                    counter.fetch_add(n)
                sends.append(comm.isend(list(received), dest=0, tag=_DONE))
                MPI.Request.Waitall(sends)
                _wait_for(comm, 0, _DONE)
            counter.free()


def _never(_value) -> bool:
    return False


def _never_stopped() -> bool:
    return False


def _worker_init():
    """Process-pool workers: one BLAS thread; signals between tasks are ignored (the parent
    forwards SIGINT/SIGTERM, which a running simulation catches and stops on)."""
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _warm(_=None) -> int:
    """Import what a task needs (run once in each new pool worker, before any task)."""
    from . import output, simulation  # noqa: F401

    return os.getpid()


@contextlib.contextmanager
def executor(workers: int | None = None):
    """The executor for this process, chosen at the edge.

    Under an MPI launcher with more than one rank (:func:`mpi_size`): an :class:`MPIExecutor`
    on ``COMM_WORLD`` (mpi4py imported only here); rank 0 gets it, the other ranks run jobs
    inside the ``with`` until rank 0 leaves it and then get None. Else a process pool of
    ``workers`` (> 1) processes (forkserver, or spawn where there is none), started and
    warmed up (imports done) before it is yielded, so that a task phase timed inside the
    ``with`` excludes the start-up; or a :class:`SerialExecutor`.

    Raises
    ------
    ConfigError
        ``workers`` < 1, or > 1 under an MPI launcher.
    KmcError
        Under an MPI launcher without mpi4py (one line: how to install the ``mpi`` extra).
    """
    size = mpi_size()
    if size > 1:
        if workers is not None and workers > 1:
            raise ConfigError(f"--workers {workers}: under mpiexec the ranks are the workers; "
                              "leave --workers out")
        try:
            from mpi4py import MPI
        except ImportError:
            raise KmcError(NO_MPI4PY.format(size=size)) from None

        ex = MPIExecutor(MPI.COMM_WORLD)
        if ex.rank != 0:
            ex.serve()
            yield None
            return
        try:
            yield ex
        finally:
            for dest in range(1, ex.max_workers):
                ex.comm.send(None, dest=dest, tag=_JOBS)
        return
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers {workers}: must be >= 1")
    if not workers or workers == 1:
        yield SerialExecutor()
        return
    import multiprocessing as mp

    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    old = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # inherited by the workers before numpy loads
    try:
        with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context(method),
                                    initializer=_worker_init) as ex:
            ex.max_workers = workers
            # start every worker now (a pool starts them one per submit while none is idle)
            list(ex.map(_warm, range(workers)))
            yield ex
    finally:
        if old is None:
            os.environ.pop("OPENBLAS_NUM_THREADS", None)
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = old


def forward_signal(ex, reason: str) -> None:
    """Pass a stop to the process-pool workers: SIGINT or SIGTERM, on which a running
    simulation stops; SIGKILL when the pool is ``"broken"`` (a worker died), because a worker
    killed while it held the task queue's lock leaves the others blocked on that lock, where
    they ignore SIGTERM, and the pool's shutdown would wait for them forever."""
    signum = {"interrupted": signal.SIGINT, "broken": signal.SIGKILL}.get(reason, signal.SIGTERM)
    for proc in list((getattr(ex, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError, AttributeError, ValueError):
            if proc.exitcode is None:  # not yet reaped: its pid is still its own
                os.kill(proc.pid, signum)
