"""Engine throughput benchmark: lattice gas on large square and cubic lattices.

Used by ``kmc bench`` and ``benchmarks/bench_engine.py``; results go in docs/performance.md.
"""
from __future__ import annotations

import platform
import time

import numpy as np

from .engine import lattice_gas_kernel
from .graph import lattice_graph


def machine() -> str:
    """One line describing this machine (CPU model, cores, Python, numpy)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import os

    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {np.__version__}, {platform.system()} {platform.release()}")


def lattice_gas_throughput(shape, coverage: float, n_events: int, seed: int = 0,
                           warmup: int = 100_000, order: str = "morton") -> dict:
    """Events per second of the Cython lattice-gas kernel.

    Parameters
    ----------
    shape : tuple of int
        Lattice shape (periodic), e.g. (1000, 1000) or (100, 100, 100).
    coverage : float
        Fraction of sites holding a particle.
    n_events : int
        Events timed (after ``warmup`` untimed events).
    order : {"morton", "c"}
        Site numbering of the lattice (:func:`kmc.graph.lattice_graph`).

    Returns
    -------
    dict
        sites, particles, events, seconds, events_per_second, build_seconds.
    """
    t0 = time.perf_counter()
    graph = lattice_graph(shape, 1e-9, True, order)
    rng = np.random.default_rng(seed)
    occ = np.zeros(graph.n_sites, dtype=np.uint8)
    occ[rng.choice(graph.n_sites, size=int(round(coverage * graph.n_sites)), replace=False)] = 1
    kernel = lattice_gas_kernel("cython", graph.indptr, graph.indices, np.ones(graph.n_edges), occ,
                                np.random.PCG64(seed))
    build = time.perf_counter() - t0
    kernel.run(np.inf, warmup)
    t0 = time.perf_counter()
    _, fired = kernel.run(np.inf, n_events)
    seconds = time.perf_counter() - t0
    return {"shape": "x".join(map(str, shape)), "sites": graph.n_sites, "coverage": coverage, "order": order,
            "particles": int(occ.sum()), "events": fired, "seconds": seconds,
            "events_per_second": fired / seconds, "build_seconds": build}
