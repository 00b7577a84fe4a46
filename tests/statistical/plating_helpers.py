"""Helpers of the plating validation tests (VALIDATION.md C5/C6, C10, C12).

The box-counting dimension and the other morphology measures live in the package
(:mod:`kmc.analysis.morphology`, verified on exact shapes by ``tests/unit/test_morphology.py``);
ensembles of seeds of a deck run with :class:`kmc.Ensemble` (:func:`run_ensemble`).

* :func:`laplacian_deck`, :func:`grow_laplacian_cluster` - the Laplacian-growth limit of the
  simulator (mechanics and kinetics off) grown from one surface flaw to a set height;
* :func:`reference_dbm_cluster` - an independent implementation of the same growth law (the
  dielectric-breakdown model with eta = 1 on the same lattice, same conductances), written
  against ``scipy.sparse`` only, sharing no code with :mod:`kmc`;
* :func:`run_ensemble` - replicas (and sweep points) of a deck with :class:`kmc.Ensemble` on
  :func:`kmc.executors.executor`, merged;
* :func:`run_parallel` - map a function over arguments on the same executors, for runs that
  are not plain deck runs (C10: stopped at a height by a progress callback, and a reference
  written without :mod:`kmc`).

Every statistical test using these states its acceptance band and the probability that a
correct code still fails it (at most 1e-4 per test) in its docstring.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from kmc.analysis.fractal import box_counting_dimension, unwrap_periodic

#: the source checkout (decks in ROOT / "inputs")
ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------------------
# the Laplacian-growth limit of the simulator
# --------------------------------------------------------------------------------------

def laplacian_deck(nx, nz, seed, spacing_um=0.5):
    """Plating deck of the Laplacian-growth limit (VALIDATION.md C10) as TOML text.

    Uniform conductivity (single crystal, no grain boundaries), no confinement (a full Li
    site grows into the electrolyte site it plates from), no fracture, no creep, no
    charge-transfer resistance (primary current distribution), one quantum per site (every
    deposit on lattice Li grows one site). One Li-filled surface flaw of one site at the
    centre of the plating face (x index nx // 2, z index 0) is the only lattice Li: the
    flat electrode face also plates, but that only moves Li into the reservoir."""
    h = spacing_um
    x0 = (nx // 2 + 0.5) * h  # a site centre: the flaw (width h) covers exactly one site
    return f'''
model = "plating"
[cell]
dimension = 2
thickness = "{nz * h:g} um"
width = "{nx * h:g} um"
spacing = "{h:g} um"
[microstructure]
kind = "single_crystal"
flaws = {{ depth = "{h:g} um", width = "{h:g} um", x_positions = ["{x0:g} um"] }}
[material]
name = "llzo_single_crystal"
[protocol]
kind = "constant"
current_density = "10 mA/cm^2"
[plating]
quanta_per_site = 1
confinement = false
fracture = false
creep = false
charge_transfer = "none"
[run]
duration = "1e9 s"
observations = 2
snapshots = 0
seed = {seed}
'''


class _Grown(Exception):
    """Raised from the progress callback: the cluster reached its target height."""


def li_grid(sim):
    """Li sites of a :class:`kmc.simulation.Simulation` as an (nx, nz) boolean grid."""
    from kmc.microstructure import LI

    return sim.cell.graph.to_grid(np.asarray(sim.phase) == LI)[:, 0, :]


def grow_laplacian_cluster(nx, nz, seed, height_fraction=0.75):
    """Grow the simulator's Laplacian cluster until it reaches ``height_fraction`` of the
    cell thickness (its top site in layer ceil(height_fraction * nz) - 1).

    The run is driven by :meth:`Simulation.run`; the progress callback (called after
    every kernel call, i.e. after every grown site) stops it at the target height.
    Returns a dict: ``grid`` (nx, nz) bool Li sites, ``height`` [sites], ``sites``,
    ``field_solves``, ``events``, ``wall`` [s], ``stop`` (why the run ended)."""
    import time

    from kmc.deck import loads_deck
    from kmc.simulation import Simulation

    target = math.ceil(height_fraction * nz)
    holder = {}

    def progress(t, info):
        rows = np.flatnonzero(li_grid(holder["sim"]).any(axis=0))
        if rows.size and rows.max() + 1 >= target:
            raise _Grown

    start = time.perf_counter()
    sim = Simulation.from_deck(loads_deck(laplacian_deck(nx, nz, seed)), progress=progress)
    holder["sim"] = sim
    try:
        sim.run()
        stop = sim.stop_reason
    except _Grown:
        stop = "height"
    grid = li_grid(sim)
    rows = np.flatnonzero(grid.any(axis=0))
    return {"grid": grid, "height": int(rows.max() + 1), "sites": int(grid.sum()),
            "field_solves": int(sim.field_solves), "events": int(sim.kernel.n_events),
            "wall": time.perf_counter() - start, "stop": stop}


# --------------------------------------------------------------------------------------
# independent reference: the dielectric-breakdown model, eta = 1
# --------------------------------------------------------------------------------------

def reference_dbm_cluster(nx, nz, seed, height_fraction=0.75, tol=1e-9, refactor_every=10):
    """Dielectric-breakdown model with eta = 1 (Niemeyer, Pietronero & Wiesmann 1984) on the
    simulator's lattice, written from the model equations alone (no :mod:`kmc` code).

    Geometry: nx x nz sites, periodic along x; electrode A (potential 0) below layer 0,
    electrode C (potential 1) above layer nz - 1; one metal site at (nx // 2, 0) touching A.
    Kirchhoff on the electrolyte sites with unit bond conductance between electrolyte sites
    and conductance 2 (a half bond: the metal is equipotential up to the shared face) from
    an electrolyte site to a metal neighbour or to an electrode face - the conductances of
    MODEL.md section 4 with i0 = infinity and uniform sigma (in units of sigma a_f / h).
    Metal sites are at potential 0. Each step one bond (m, s) from a metal site m to an
    electrolyte neighbour s is chosen with probability proportional to its current
    2 phi_s (eta = 1) and s becomes metal. Current into the flat face of electrode A grows
    nothing and so does not enter the choice. Stops when the cluster reaches
    ``height_fraction`` of nz (as :func:`grow_laplacian_cluster`).

    The potential is solved by conjugate gradients warm-started from the previous step and
    preconditioned by the sparse LU of a recent matrix (refactorised every
    ``refactor_every`` steps), to a relative residual ``tol``.
    Returns a dict like :func:`grow_laplacian_cluster`.
    """
    import time

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = nx * nz
    target = math.ceil(height_fraction * nz)
    ix, iz = np.divmod(np.arange(n), nz)  # site k = x * nz + z
    # the four neighbours of every site (-1 = electrode A below, -2 = electrode C above)
    nbr = np.empty((n, 4), np.int64)
    nbr[:, 0] = ((ix + 1) % nx) * nz + iz
    nbr[:, 1] = ((ix - 1) % nx) * nz + iz
    nbr[:, 2] = np.where(iz + 1 < nz, np.arange(n) + 1, -2)
    nbr[:, 3] = np.where(iz > 0, np.arange(n) - 1, -1)
    metal = np.zeros(n, bool)
    metal[(nx // 2) * nz + 0] = True
    rows_all = np.repeat(np.arange(n), 4)
    cols_all = nbr.ravel()
    lattice_bond = cols_all >= 0
    b = np.where(iz == nz - 1, 2.0, 0.0)  # face of electrode C at potential 1
    phi = np.zeros(n)
    lu, age, solves = None, refactor_every, 0
    height = 1
    while height < target:
        se = ~metal
        # matrix: electrolyte rows by Kirchhoff, metal rows identity (phi = 0)
        nb_metal = np.zeros(cols_all.size, bool)
        nb_metal[lattice_bond] = metal[cols_all[lattice_bond]]
        g = np.where(~lattice_bond | nb_metal, 2.0, 1.0)  # to electrode or metal: half bond
        keep_off = lattice_bond & ~nb_metal & se[rows_all]
        diag = np.where(se, np.bincount(rows_all, g, n), 1.0)
        A = sp.csr_matrix((np.concatenate([-np.ones(keep_off.sum()), diag]),
                           (np.concatenate([rows_all[keep_off], np.arange(n)]),
                            np.concatenate([cols_all[keep_off], np.arange(n)]))), shape=(n, n))
        rhs = np.where(se, b, 0.0)
        if lu is None or age >= refactor_every:
            lu = _splu(A)
            age = 0
            phi = lu.solve(rhs)
        else:
            M = spla.LinearOperator(A.shape, lu.solve)
            phi, info = spla.cg(A, rhs, x0=phi, rtol=tol, atol=0.0, maxiter=200, M=M)
            if info != 0:  # the old factors no longer precondition well: refactorise
                lu = _splu(A)
                age = 0
                phi = lu.solve(rhs)
        age += 1
        solves += 1
        resid = np.linalg.norm(A @ phi - rhs) / np.linalg.norm(rhs)
        if not resid <= 10 * tol:
            raise RuntimeError(f"reference solve: relative residual {resid:.3e}")
        # growth bonds: (metal m, electrolyte s), weight proportional to the bond current
        m_sites = np.flatnonzero(metal)
        cand = nbr[m_sites].ravel()
        cand = cand[cand >= 0]
        cand = cand[~metal[cand]]
        w = np.maximum(phi[cand], 0.0)
        cum = np.cumsum(w)
        pick = cand[min(int(np.searchsorted(cum, rng.random() * cum[-1], side="right")),
                        cand.size - 1)]
        metal[pick] = True
        height = max(height, int(iz[pick]) + 1)
    grid = metal.reshape(nx, nz)
    return {"grid": grid, "height": height, "sites": int(metal.sum()), "field_solves": solves,
            "events": int(metal.sum()) - 1, "wall": time.perf_counter() - start,
            "stop": "height"}


def _splu(A):
    """Sparse LU of the symmetric positive definite matrix A (minimum-degree ordering of
    A^T + A, diagonal pivots: less fill-in than the default column ordering)."""
    return spla.splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                     options={"SymmetricMode": True})


def eden_cluster(nx, nz, seed, height_fraction=0.75):
    """Eden growth (the dielectric-breakdown model with eta = 0: every metal-electrolyte
    bond equally likely, whatever the field) in the geometry of :func:`reference_dbm_cluster`,
    to the same height: the compact, non-Laplacian control. Returns the (nx, nz) grid."""
    rng = np.random.default_rng(seed)
    grid = np.zeros((nx, nz), bool)
    target = math.ceil(height_fraction * nz)
    bonds = []

    def push(x, z):
        for dx, dz in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            a, c = (x + dx) % nx, z + dz
            if 0 <= c < nz and not grid[a, c]:
                bonds.append((a, c))

    grid[nx // 2, 0] = True
    push(nx // 2, 0)
    height = 1
    while height < target:
        i = int(rng.integers(len(bonds)))
        a, c = bonds[i]
        bonds[i] = bonds[-1]
        bonds.pop()
        if grid[a, c]:
            continue  # a stale bond to a site grown since
        grid[a, c] = True
        height = max(height, c + 1)
        push(a, c)
    return grid


def c10_task(args):
    """One C10 ensemble member, for :func:`run_parallel`: ``(kind, nx, nz, seed)`` with kind
    "kmc" (the simulator) or "reference" (:func:`reference_dbm_cluster`). Returns the run's
    dict with its box-counting dimension ``dimension`` added (grid unwrapped across the
    periodic x boundary first)."""
    kind, nx, nz, seed = args
    run = grow_laplacian_cluster if kind == "kmc" else reference_dbm_cluster
    out = run(nx, nz, seed)
    out["dimension"] = box_counting_dimension(unwrap_periodic(out["grid"]))[0]
    out["kind"], out["seed"] = kind, seed
    return out


def run_ensemble(text, directory, workers=None, **ensemble):
    """Run a plating deck (TOML text) as a :class:`kmc.Ensemble` and merge it.

    ``ensemble`` are keys of ``[ensemble]`` (``replicas=100``, ``vary="microstructure"``,
    ``sweep={...}``); task seeds come from ``SeedSequence(run.seed, spawn_key=(task,))``.
    Tasks run on :func:`kmc.executors.executor` with ``workers`` processes (default: min(2,
    cpu count)); one dataset file per task in ``directory``. Every task must finish: a failed
    or interrupted task fails the test with its error. Returns ``(ensemble, run, merged)``:
    the :class:`kmc.Ensemble`, its :class:`kmc.ensemble.EnsembleRun` (``wall_time`` [s]) and
    :meth:`kmc.Ensemble.merge`'s dataset (dims: sweep axes, replica)."""
    from kmc.deck import loads_deck
    from kmc.ensemble import Ensemble
    from kmc.executors import executor

    ens = Ensemble(loads_deck(text), tasks=directory, **ensemble)
    with executor(workers or min(2, os.cpu_count() or 1)) as ex:
        run = ens.run(ex)
    assert not run.failed and not run.stopped, (run.failed, run.stopped)
    return ens, run, ens.merge("tests/statistical run_ensemble")


# --------------------------------------------------------------------------------------
# parallel map
# --------------------------------------------------------------------------------------

def run_parallel(fn, args, workers=None):
    """``[fn(a) for a in args]`` on :func:`kmc.executors.executor` with up to ``workers``
    (default: min(2, cpu count)) worker processes, one BLAS thread each (OpenBLAS threads
    fighting over two cores make the conjugate-gradient dot products of the field solves
    several times slower). Results come back in the order of ``args``; every run is
    deterministic given its arguments, so the result does not depend on the number of
    workers."""
    from kmc.executors import executor

    args = list(args)
    workers = min(workers or min(2, os.cpu_count() or 1), max(1, len(args)))
    with executor(workers) as ex:
        return list(ex.map(fn, args))
