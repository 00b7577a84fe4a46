"""Where ensemble tasks run: one :class:`concurrent.futures.Executor`, chosen at the edge.

In-process (:class:`SerialExecutor`), a process pool on one machine (``workers > 1``), or, when
the process was started by an MPI launcher (``mpiexec -n N kmc ensemble DECK``, detected from
the launcher's environment without importing mpi4py), :class:`mpi4py.futures.MPICommExecutor`
on ``COMM_WORLD``: rank 0 hands out the tasks, the others serve them. mpi4py is imported on
that path only (STYLE.md, after schwimmbad).
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import signal

from .errors import ConfigError

#: Environment variables by which MPI launchers announce the number of ranks (MPICH/Intel
#: MPI hydra and PMI-2 srun, Open MPI, PMIx, MVAPICH).
MPI_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE")


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


def mpi_size() -> int:
    """Ranks announced by an MPI launcher's environment (1 outside ``mpiexec``); mpi4py is not
    imported."""
    for name in MPI_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def _worker_init():
    """Process-pool workers: one BLAS thread; signals between tasks are ignored (the parent
    forwards SIGINT/SIGTERM, which a running simulation catches and stops on)."""
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


@contextlib.contextmanager
def executor(workers: int | None = None):
    """The executor for this process, chosen at the edge.

    Under an MPI launcher with more than one rank (:func:`mpi_size`): mpi4py's
    ``MPICommExecutor(COMM_WORLD, root=0)``, imported only here; rank 0 gets the executor, the
    other ranks serve tasks inside the ``with`` and then get None. Else a process pool of
    ``workers`` (> 1) processes (forkserver, or spawn where there is none), or a
    :class:`SerialExecutor`.
    """
    if mpi_size() > 1:
        if workers is not None and workers > 1:
            raise ConfigError(f"--workers {workers}: under mpiexec the ranks are the workers; "
                              "leave --workers out")
        from mpi4py import MPI
        from mpi4py.futures import MPICommExecutor

        with MPICommExecutor(MPI.COMM_WORLD, root=0) as ex:
            if ex is not None:
                ex.max_workers = MPI.COMM_WORLD.Get_size() - 1
            yield ex
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
            yield ex
    finally:
        if old is None:
            os.environ.pop("OPENBLAS_NUM_THREADS", None)
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = old


def forward_signal(ex, reason: str) -> None:
    """Pass a stop signal to the process-pool workers (a running simulation stops on it)."""
    signum = signal.SIGINT if reason == "interrupted" else signal.SIGTERM
    for proc in list((getattr(ex, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError, AttributeError):
            os.kill(proc.pid, signum)
