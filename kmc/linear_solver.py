"""Sparse SPD solves for a sequence of slowly changing matrices (the field's linear algebra).

The field (:mod:`kmc.field`) solves K phi = b after every topology change; consecutive
matrices differ in a few rows (sites that convert), so what one solve leaves behind makes the
next one cheap: the last solutions are warm starts, and the last sparse LU factors or AMG
hierarchy precondition conjugate gradients on the next matrix. :class:`LinearSolver` keeps that
cache behind four calls:

* ``LinearSolver(method, tol, direct_limit, amg_rebuild, refactor_every, maxiter)``;
* ``solve_pair(A, b1, b2) -> (x1, x2, iterations, method)``: A x = b for two right-hand sides
  of one matrix (the factors or hierarchy made for ``b1`` serve ``b2``), each warm-started
  from the last solution of its own slot;
* ``state() -> dict`` and ``restore(state)``: the cache as plain data (str keys; numpy arrays,
  scipy sparse matrices, ints, None), so a checkpoint needs no pickle; factors and hierarchies
  are rebuilt from their matrices on restore (both builds are deterministic), so the solve
  after a restore is bit-identical to the one without.

Another backend (a GPU or distributed solver) is a class with the same four calls
(:class:`PairSolver`). Solves that fail to converge raise :class:`LinearSolverError`.
"""
from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import scipy.sparse.linalg as spla

from .errors import KmcError

#: Values of ``method``: sparse LU up to ``direct_limit`` unknowns ("auto"), or always one kind.
METHODS = ("auto", "direct", "iterative")


class LinearSolverError(KmcError, RuntimeError):
    """An iterative solve did not converge.

    Attributes
    ----------
    residual : float
        Relative residual ||A x - b|| / ||b|| of the last iterate.
    iterations : int
        Iterations of the last attempt.
    method : str
        The solver that failed ("amg-cg").
    """

    def __init__(self, residual: float, iterations: int, method: str):
        super().__init__(f"linear solve did not converge: relative residual {residual:.3e} "
                         f"after {iterations} CG iterations ({method})")
        self.residual, self.iterations, self.method = residual, iterations, method


class PairSolver(Protocol):
    """What the field needs from a linear solver backend (see the module docstring)."""

    def solve_pair(self, A, b1: np.ndarray, b2: np.ndarray) -> tuple:
        ...

    def state(self) -> dict:
        ...

    def restore(self, state: dict) -> None:
        ...


class LinearSolver:
    """Warm-started, preconditioner-reusing solves of A x = b for SPD A (two right-hand sides).

    Parameters
    ----------
    method : {"auto", "direct", "iterative"}
        Sparse LU (SuperLU; after the matrix changes, the previous factors precondition CG, and
        the matrix is refactorised every ``refactor_every`` solves or when that CG needs more
        than 25 iterations), or conjugate gradients with a smoothed-aggregation AMG
        preconditioner (pyamg) rebuilt every ``amg_rebuild`` solves; "auto" picks direct up to
        ``direct_limit`` unknowns.
    tol : float
        Relative residual ||A x - b|| / ||b|| the caller requires; CG iterates to ``tol``/10.
    direct_limit : int
        Largest system "auto" solves by LU.
    amg_rebuild : int
        Solves an AMG hierarchy serves before it is rebuilt from the current matrix.
    refactor_every : int
        Solves the LU factors of an earlier matrix precondition before a refactorisation.
    maxiter : int
        CG iterations per AMG-preconditioned attempt.
    """

    def __init__(self, method: str = "auto", tol: float = 1e-8, direct_limit: int = 200_000,
                 amg_rebuild: int = 1, refactor_every: int = 50, maxiter: int = 2000):
        if method not in METHODS:
            raise ValueError(f"method must be 'auto', 'direct' or 'iterative', got {method!r}")
        self.method, self.tol, self.direct_limit = method, tol, direct_limit
        self.amg_rebuild, self.refactor_every, self.maxiter = amg_rebuild, refactor_every, maxiter
        self._last_residual = math.nan
        self._x = {}  # last solution of each right-hand-side slot ("x1", "x2"): warm starts
        self._factors = self._lu_matrix = None  # SuperLU factors and the matrix they factorise
        self._lu_age = 0  # solves they preconditioned since
        self._hierarchy = self._amg_matrix = None  # AMG hierarchy and the matrix it was built from
        self._amg_age = 0

    def solve_pair(self, A, b1: np.ndarray, b2: np.ndarray, keys=("x1", "x2")):
        """Solve A x1 = b1 and A x2 = b2, reusing what the last solves left.

        Parameters
        ----------
        A : scipy.sparse.csr_matrix
            Symmetric positive definite, shape (n, n). A new matrix must be a new object: the
            cache recognises the matrix it factorised by identity.
        b1, b2 : ndarray, shape (n,)
            Right-hand sides; an all-zero ``b2`` is answered with zeros at no cost.
        keys : (str, str)
            Names of the warm starts of the two solves (another pair for another kind of
            right-hand side, e.g. the Hall corrections of :class:`kmc.field.FieldSolver`).

        Returns
        -------
        x1, x2 : ndarray
        iterations : int
            CG iterations of both solves (0 for direct ones).
        method : str
            How ``b1`` was solved: "direct", "direct-pcg" (CG preconditioned by an earlier LU)
            or "amg-cg".

        Raises
        ------
        LinearSolverError
            If AMG-preconditioned CG does not converge, even with a fresh hierarchy.
        """
        method = self.method
        if method == "auto":
            method = "direct" if A.shape[0] <= self.direct_limit else "iterative"
        solve = self._direct if method == "direct" else self._amg
        x1, it1, used = solve(A, b1, keys[0])
        if np.any(b2):
            x2, it2, _ = solve(A, b2, keys[1])  # same matrix: the factors/hierarchy just made serve
        else:
            x2, it2 = np.zeros_like(b2), 0
        if used == "direct-pcg":
            self._lu_age += 1
        self._amg_age += used == "amg-cg"
        return x1, x2, it1 + it2, used

    # --- checkpoints ----------------------------------------------------------------------

    def state(self) -> dict:
        """What the next solve depends on besides its inputs, as plain data: the warm starts
        ``x1``, ``x2`` (and ``h1``, ``h2`` of the Hall corrections; ndarray or None), the matrices of the LU factors and of the AMG
        hierarchy (scipy sparse or None) and their ages (int)."""
        return {**{k: self._x.get(k) for k in ("x1", "x2", "h1", "h2")},
                "lu_matrix": self._lu_matrix, "lu_age": int(self._lu_age),
                "amg_matrix": self._amg_matrix, "amg_age": int(self._amg_age)}

    def restore(self, state: dict) -> None:
        """Restore :meth:`state`; factors and hierarchies are rebuilt from their matrices
        (both builds are deterministic), so the next solve is bit-identical."""
        self._x = {k: state[k] for k in ("x1", "x2", "h1", "h2") if state.get(k) is not None}
        self._lu_matrix, self._lu_age = state["lu_matrix"], state["lu_age"]
        self._factors = None if self._lu_matrix is None else _splu(self._lu_matrix)
        self._amg_matrix, self._amg_age = state["amg_matrix"], state["amg_age"]
        self._hierarchy = None if self._amg_matrix is None else deterministic_amg(self._amg_matrix)

    # --- backends -------------------------------------------------------------------------

    def _direct(self, A, b, key):
        """Sparse LU (symmetric minimum-degree ordering, no pivoting: A is SPD). After a
        topology change the previous factors precondition CG (a few iterations); the matrix is
        refactorised when that fails or every ``refactor_every`` solves."""
        if (self._factors is not None and self._lu_matrix is not A
                and self._lu_age < self.refactor_every):
            M = spla.LinearOperator(A.shape, self._factors.solve)
            x, iters = self._pcg(A, b, key, M, maxiter=25)
            if x is not None:
                return x, iters, "direct-pcg"
        if self._lu_matrix is not A:
            self._factors = _splu(A)
            self._lu_matrix, self._lu_age = A, 0
        x = self._factors.solve(b)
        self._x[key] = x
        return x, 0, "direct"

    def _amg(self, A, b, key):
        """CG preconditioned by a smoothed-aggregation AMG hierarchy (pyamg), built from an
        earlier matrix and rebuilt every ``amg_rebuild`` solves or when CG stalls."""
        for attempt in range(2):
            stale = self._amg_matrix is not A and (self._amg_age >= self.amg_rebuild
                                                   or attempt == 1)
            if self._hierarchy is None or stale:
                self._hierarchy = deterministic_amg(A)
                self._amg_matrix, self._amg_age = A, 0
            M = self._hierarchy.aspreconditioner(cycle="V")
            x, iters = self._pcg(A, b, key, M, self.maxiter)
            if x is not None:
                return x, iters, "amg-cg"
        raise LinearSolverError(self._last_residual, iters, "amg-cg")

    def _pcg(self, A, b, key, M, maxiter):
        """Warm-started preconditioned CG to ``tol``/10; (x, iterations), or (None, iterations)."""
        if not np.any(b):
            self._x[key] = np.zeros_like(b)
            return self._x[key], 0
        x0 = self._x.get(key)
        count = [0]

        def tick(_):
            count[0] += 1
        x, info = spla.cg(A, b, x0=x0, rtol=self.tol * 0.1, atol=0.0, maxiter=maxiter, M=M,
                          callback=tick)
        if info != 0:
            self._last_residual = relative_residual(A, x, b)
            return None, count[0]
        self._x[key] = x
        return x, count[0]


def relative_residual(A, x, b) -> float:
    """||A x - b|| / ||b|| (||A x|| when b = 0)."""
    nb = np.linalg.norm(b)
    return float(np.linalg.norm(A @ x - b) / nb) if nb > 0 else float(np.linalg.norm(A @ x))


def _splu(A):
    """Sparse LU of the SPD matrix A (symmetric minimum-degree ordering, no pivoting)."""
    return spla.splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                     options={"SymmetricMode": True})


def deterministic_amg(A):
    """Smoothed-aggregation hierarchy of A, independent of the global numpy random state.

    pyamg estimates spectral radii from ``np.random.rand`` start vectors; the global state is
    seeded for the build and restored afterwards, so the same matrix always gives the same
    hierarchy and the same CG iterates (bit-identical runs and resumes).
    """
    import pyamg

    state = np.random.get_state()
    try:
        np.random.seed(0)
        return pyamg.smoothed_aggregation_solver(A, symmetry="symmetric", max_coarse=500)
    finally:
        np.random.set_state(state)
