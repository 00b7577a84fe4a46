"""The field's linear algebra (kmc.linear_solver): warm starts, cached preconditioners,
checkpoint state as plain data, bit-identical solves after a restore."""
import numpy as np
import pytest
import scipy.sparse as sp

from kmc.linear_solver import LinearSolver, LinearSolverError, relative_residual


def laplacian(n, k):
    """SPD 2D Dirichlet Laplacian on an n x n grid, with site ``k`` made stiffer (a new
    matrix object each call, as after a site conversion)."""
    t = sp.diags([-np.ones(n - 1), 2.0 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])
    A = (sp.kron(sp.identity(n), t) + sp.kron(t, sp.identity(n))).tocsr()
    A = A + sp.csr_matrix(([0.5 * (1 + k)], ([k], [k])), shape=A.shape)
    return sp.csr_matrix(A)


def rhs(n, k):
    b1 = np.zeros(n * n)
    b1[-n:] = 1.0
    b2 = np.zeros(n * n)
    b2[k] = 1e-3
    return b1, b2


PLAIN = (np.ndarray, int, type(None))


@pytest.mark.parametrize("method", ["direct", "iterative"])
def test_restored_state_gives_bit_identical_solves(method):
    n = 12
    run = LinearSolver(method, tol=1e-10, refactor_every=3)
    for k in range(4):
        run.solve_pair(laplacian(n, k), *rhs(n, k))
    state = run.state()
    assert set(state) == {"x1", "x2", "h1", "h2", "lu_matrix", "lu_age", "amg_matrix", "amg_age"}
    assert all(isinstance(v, PLAIN) or sp.issparse(v) for v in state.values())
    resumed = LinearSolver(method, tol=1e-10, refactor_every=3)
    resumed.restore(state)
    for k in range(4, 8):
        A, (b1, b2) = laplacian(n, k), rhs(n, k)
        x1, x2, iters, used = run.solve_pair(A, b1, b2)
        y1, y2, iters_r, used_r = resumed.solve_pair(A, b1, b2)
        assert (iters_r, used_r) == (iters, used)
        assert np.array_equal(x1, y1) and np.array_equal(x2, y2)
        assert relative_residual(A, x1, b1) < 1e-10


def test_direct_reuses_old_factors_then_refactorises():
    n = 10
    solver = LinearSolver("direct", tol=1e-10, refactor_every=2)
    methods = [solver.solve_pair(laplacian(n, k), *rhs(n, k))[3] for k in range(5)]
    assert methods == ["direct", "direct-pcg", "direct-pcg", "direct", "direct-pcg"]


def test_zero_second_right_hand_side_is_free():
    n = 8
    x1, x2, iters, used = LinearSolver("auto").solve_pair(laplacian(n, 0), rhs(n, 0)[0],
                                                          np.zeros(n * n))
    assert (iters, used) == (0, "direct") and not np.any(x2)


def test_non_convergence_is_a_linear_solver_error():
    n = 12
    with pytest.raises(LinearSolverError) as info:
        LinearSolver("iterative", tol=1e-14, maxiter=1).solve_pair(laplacian(n, 0), *rhs(n, 0))
    e = info.value
    assert (e.iterations, e.method) == (1, "amg-cg")
    assert str(e) == (f"linear solve did not converge: relative residual {e.residual:.3e} after 1 "
                      "CG iterations (amg-cg)")


def test_unknown_method_is_rejected():
    with pytest.raises(ValueError) as info:
        LinearSolver("cholesky")
    assert str(info.value) == "method must be 'auto', 'direct' or 'iterative', got 'cholesky'"
