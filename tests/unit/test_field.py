"""The quasi-static ionic field (MODEL.md section 4; VALIDATION.md B1-B3)."""
import math

import numpy as np
import pytest

from kmc.clusters import CLASS_A, CLASS_C, CLASS_FLOATING, label_clusters
from kmc.codes import RES_A
from kmc.field import FieldError, FieldParameters, FieldSolver, OpenCircuitError
from kmc.microstructure import LI, SE, VOID, Microstructure
from kmc.units import FARADAY, GAS_CONSTANT

T = 298.15
SIGMA = 0.05  # S/m
H = 1e-6


def cell(shape, grain=None, phase=None, order="c"):
    grain = np.zeros(shape, np.int32) if grain is None else grain.astype(np.int32)
    phase = np.zeros(shape, np.uint8) if phase is None else phase
    n = int(grain.max()) + 1
    m = Microstructure(shape, H, grain, phase, np.zeros((n, 4)), np.zeros((n, 3)))
    return m, m.graph(order=order)


def params(i0=100.0, i0_int=1e4, sigma_gb=1e-4, delta=1e-8, **kw):
    return FieldParameters(temperature=T, gb_conductivity=sigma_gb, gb_thickness=delta,
                           exchange_current_density=i0, internal_exchange_current_density=i0_int, **kw)


@pytest.mark.parametrize("shape,method", [((8, 1, 20), "direct"), ((6, 5, 12), "direct"),
                                          ((6, 5, 12), "iterative")])
def test_b1_uniform_slab(shape, method):
    """V = J L / sigma + 2 J R_ct, uniform current, total current = I (1e-9 relative)."""
    m, g = cell(shape)
    J = 10.0
    area = shape[0] * shape[1] * H * H
    sol = FieldSolver(g, params(), conductivity=SIGMA, method=method).solve(g.site_data["phase"],
                                                                             current=J * area)
    r_ct = GAS_CONSTANT * T / (FARADAY * 100.0 * 1.0)
    L = shape[2] * H
    assert sol.voltage == pytest.approx(J * L / SIGMA + 2 * J * r_ct, rel=1e-9)
    assert sol.current == pytest.approx(J * area, rel=1e-9)
    at_a = sol.interface_metal == RES_A
    np.testing.assert_allclose(sol.interface_current[at_a] / (H * H), J, rtol=1e-9)
    assert abs(np.sum(sol.interface_current)) < 1e-9 * J * area  # what enters A leaves C


def _sigma_eff(grain, shape):
    _, g = cell(shape, grain)
    J = 1.0
    area = shape[0] * shape[1] * H * H
    sol = FieldSolver(g, params(i0=math.inf, sigma_gb=2e-4, delta=5e-8), conductivity=SIGMA).solve(
        g.site_data["phase"], current=J * area)
    return J * shape[2] * H / sol.voltage


@pytest.mark.parametrize("layers", [1, 3, 5])
def test_b2_series_bicrystal(layers):
    """Boundaries across the current: sigma_eff = L / (L/sigma + n delta/sigma_GB) (1e-10)."""
    shape = (4, 1, 30)
    z = np.arange(shape[2])
    grain = np.broadcast_to((z * (layers + 1) // shape[2])[None, None, :], shape)
    L = shape[2] * H
    expected = L / (L / SIGMA + layers * 5e-8 / 2e-4)
    assert _sigma_eff(grain, shape) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("shape,grains", [((12, 1, 10), 2), ((12, 1, 10), 4), ((8, 6, 10), 2)])
def test_b2_parallel_bicrystal(shape, grains):
    """Boundaries along the current: sigma_eff = sigma + n sigma_GB delta / W (periodic x, so n
    = number of grains), to 1e-10."""
    x = np.arange(shape[0])
    grain = np.broadcast_to((x * grains // shape[0])[:, None, None], shape)
    W = shape[0] * H
    expected = SIGMA + grains * 2e-4 * 5e-8 / W
    assert _sigma_eff(grain, shape) == pytest.approx(expected, rel=1e-10)


def rod(shape, length, theta_deg):
    """A one-site-thick Li rod in the x-z plane: a face-connected staircase of ``length``
    sites' extent along its axis, at angle theta to the field (z)."""
    t = math.radians(theta_deg)
    cx, cy, cz = shape[0] // 2, shape[1] // 2, shape[2] // 2
    half = (length - 1) / 2
    a = np.array([cx - half * math.sin(t), cz - half * math.cos(t)])
    b = np.array([cx + half * math.sin(t), cz + half * math.cos(t)])
    phase = np.zeros(shape, np.uint8)
    p, end = np.round(a).astype(int), np.round(b).astype(int)
    phase[p[0], cy, p[1]] = LI
    u = (b - a) / np.linalg.norm(b - a)
    while not np.array_equal(p, end):  # step along the axis that stays closest to the segment
        steps = []
        for ax in (0, 1):
            if p[ax] != end[ax]:
                q = p.copy()
                q[ax] += np.sign(end[ax] - p[ax])
                d = q - a
                steps.append((abs(d[0] * u[1] - d[1] * u[0]), ax, q))
        p = min(steps, key=lambda x: (x[0], x[1]))[2]
        phase[p[0], cy, p[1]] = LI
    return phase


_SOLVED = {}


def _inclusion(length, theta, i0_int=1e-2, voltage_sign=1.0):
    """Field around a floating rod in a 3D cell (32 x 32 x 48 sites) at E = 1e4 V/m."""
    key = (length, theta, i0_int, voltage_sign)
    if key not in _SOLVED:
        shape = (32, 32, 48)
        m, g = cell(shape, phase=rod(shape, length, theta))
        solver = FieldSolver(g, params(i0_int=i0_int), conductivity=SIGMA, tol=1e-13)
        sol = solver.solve(g.site_data["phase"], voltage=voltage_sign * 1e4 * shape[2] * H)
        phi = g.to_grid(sol.phi)[2, 2, :]  # far from the rod
        e_bulk = abs(phi[-10] - phi[10]) / ((shape[2] - 20) * H)
        _SOLVED[key] = (m, g, sol, e_bulk)
    return _SOLVED[key]


@pytest.mark.parametrize("length,theta", [(12, 0), (24, 0), (24, 30), (24, 45), (24, 60), (24, 90)])
def test_b3_floating_inclusion_is_bipolar(length, theta):
    """Zero net current (1e-12 of the bipolar current), equal plating and dissolution, and,
    with slow interfacial kinetics (weak perturbation), a spread of the electrolyte potential
    along the rod of E (L cos(theta) + c h) with 0 <= c <= 4: the SE sites next to the tips lie
    half a site beyond each end, and the one-site-thick insulating rod adds a fixed ~1.5 h that
    does not grow with L (so the relative error falls as h/L)."""
    m, g, sol, e_bulk = _inclusion(length, theta)
    fl = np.flatnonzero(sol.clusters.kind == CLASS_FLOATING)
    assert fl.size == 1
    mine = sol.interface_metal >= 0
    i = sol.interface_current[mine]
    assert abs(i.sum()) < 1e-12 * np.abs(i).sum()
    assert sol.floating_current[fl[0]] == pytest.approx(-i[i < 0].sum(), rel=1e-12)
    phi_next = sol.phi[sol.interface_se[mine]]
    excess = (phi_next.max() - phi_next.min()) / (e_bulk * H) - length * abs(math.cos(math.radians(theta)))
    assert 0.0 <= excess <= 4.0


def test_b3_drop_and_current_grow_with_length_and_alignment():
    def drop(n, th):
        m, g, sol, e = _inclusion(n, th)
        phi = sol.phi[sol.interface_se[sol.interface_metal >= 0]]
        return phi.max() - phi.min()
    assert drop(12, 0) < drop(24, 0)
    assert drop(24, 0) > drop(24, 30) > drop(24, 45) > drop(24, 60) > drop(24, 90)
    assert _inclusion(12, 0)[2].floating_current.max() < _inclusion(24, 0)[2].floating_current.max()
    # same rod, same area: aligned carries more bipolar current than perpendicular
    assert _inclusion(24, 0)[2].floating_current.max() > 5 * _inclusion(24, 90)[2].floating_current.max()


def test_b3_weak_limit_bipolar_current_is_linear_in_i0():
    """With slow kinetics the rod's potential Phi is the conductance-weighted mean of the
    electrolyte potential next to it (Kirchhoff), each interface edge carries g (phi - Phi),
    and the bipolar current is proportional to i0 (within 1% between i0 and 2 i0)."""
    m, g, sol, _ = _inclusion(24, 0, i0_int=1e-3)
    mine = sol.interface_metal >= 0
    g_if = sol.interface_current[mine] / sol.overpotential[mine]
    phi_s = sol.phi[sol.interface_se[mine]]
    phi_c = np.sum(g_if * phi_s) / np.sum(g_if)
    assert sol.floating_current.max() == pytest.approx(np.sum(np.maximum(g_if * (phi_s - phi_c), 0)),
                                                       rel=0.01)
    doubled = _inclusion(24, 0, i0_int=2e-3)[2].floating_current.max()
    assert doubled == pytest.approx(2 * sol.floating_current.max(), rel=0.01)


def test_reversing_the_field_reverses_the_bipolar_ends():
    sol = _inclusion(24, 30)[2]
    rev = _inclusion(24, 30, voltage_sign=-1.0)[2]
    mine = sol.interface_metal >= 0
    np.testing.assert_allclose(rev.interface_current[mine], -sol.interface_current[mine],
                               rtol=1e-6, atol=1e-9 * np.abs(sol.interface_current[mine]).max())


def test_current_conservation_with_clusters_voids_and_pressure():
    """Sum of interface currents into the plating electrode (face + class-A metal) equals I to
    1e-9; Kirchhoff holds at every floating cluster; a pressurised metal site plates less."""
    rng = np.random.default_rng(2)
    shape = (30, 1, 30)
    phase = np.zeros(shape, np.uint8)
    phase[rng.random(shape) < 0.08] = VOID
    phase[10, 0, 0:8] = LI   # a Li-filled flaw from electrode A (class A)
    phase[20, 0, 12:18] = LI  # floating
    grain = (np.arange(30)[:, None, None] // 10 + 3 * (np.arange(30)[None, None, :] // 10)) * np.ones(shape, int)
    m, g = cell(shape, grain=grain, phase=phase)
    solver = FieldSolver(g, params(), conductivity=SIGMA)
    I = 3e-9
    sol = solver.solve(g.site_data["phase"], current=I)
    kinds = sol.clusters.kind[sol.clusters.label[np.maximum(sol.interface_metal, 0)]]
    into_a = (sol.interface_metal == RES_A) | ((sol.interface_metal >= 0) & (kinds == CLASS_A))
    assert sol.interface_current[into_a].sum() == pytest.approx(I, rel=1e-9)
    assert sol.current == pytest.approx(I, rel=1e-9)
    fl = (sol.interface_metal >= 0) & (kinds == CLASS_FLOATING)
    assert abs(sol.interface_current[fl].sum()) < 1e-9 * I
    # Li pressure on the flaw shifts its equilibrium potential up: less plating there
    flaw = (sol.interface_metal >= 0) & (kinds == CLASS_A)
    pressure = np.where(g.site_data["phase"] == LI, 50e6, 0.0)
    sol_p = solver.solve(g.site_data["phase"], current=I, pressure=pressure)
    assert sol_p.interface_current[flaw].sum() < sol.interface_current[flaw].sum()
    np.testing.assert_allclose(sol_p.overpotential[flaw],
                               sol_p.phi[sol_p.interface_se[flaw]] - 0.0 - 50e6 * 13.0e-6 / FARADAY)


def test_direct_and_iterative_agree():
    rng = np.random.default_rng(3)
    shape = (24, 1, 24)
    phase = np.zeros(shape, np.uint8)
    phase[rng.random(shape) < 0.05] = LI
    grain = rng.integers(0, 5, shape)
    _, g = cell(shape, grain=grain, phase=phase)
    a = FieldSolver(g, params(), conductivity=SIGMA, method="direct").solve(g.site_data["phase"], current=1e-9)
    b = FieldSolver(g, params(), conductivity=SIGMA, method="iterative").solve(g.site_data["phase"], current=1e-9)
    assert b.method == "amg-cg" and b.iterations > 0
    assert b.voltage == pytest.approx(a.voltage, rel=1e-8)
    np.testing.assert_allclose(b.interface_current, a.interface_current, rtol=1e-6,
                               atol=1e-8 * np.abs(a.interface_current).max())


def test_enclosed_electrolyte_is_left_out():
    shape = (12, 1, 12)
    phase = np.zeros(shape, np.uint8)
    phase[3:9, 0, 3:9] = VOID
    phase[5:7, 0, 5:7] = SE  # an electrolyte pocket inside a pore: no path to anything
    _, g = cell(shape, phase=phase)
    sol = FieldSolver(g, params(), conductivity=SIGMA).solve(g.site_data["phase"], current=1e-10)
    pocket = g.to_grid(sol.phi)[5:7, 0, 5:7]
    assert np.all(np.isnan(pocket)) and np.isfinite(sol.voltage)


def test_short_circuit_and_no_path_are_clear_errors():
    shape = (6, 1, 8)
    phase = np.zeros(shape, np.uint8)
    phase[2, 0, :] = LI
    _, g = cell(shape, phase=phase)
    with pytest.raises(FieldError) as info:
        FieldSolver(g, params(), conductivity=SIGMA).solve(g.site_data["phase"], current=1e-10)
    assert str(info.value) == "a Li cluster touches both electrodes (short circuit): no field to solve"
    phase = np.zeros(shape, np.uint8)
    phase[:, 0, 4] = VOID
    _, g = cell(shape, phase=phase)
    with pytest.raises(OpenCircuitError) as info:  # a FieldError the plating run stops on
        FieldSolver(g, params(), conductivity=SIGMA).solve(g.site_data["phase"], current=1e-10)
    assert str(info.value) == "no ionic path between the electrodes: the cell cannot carry current"


def test_non_convergence_reports_iterations_and_residual():
    _, g = cell((20, 1, 20), grain=np.random.default_rng(0).integers(0, 9, (20, 1, 20)))
    solver = FieldSolver(g, params(), conductivity=SIGMA, method="iterative", maxiter=1, tol=1e-14)
    with pytest.raises(FieldError) as info:
        solver.solve(g.site_data["phase"], current=1e-9)
    msg = str(info.value)
    assert msg.startswith("field solve did not converge: relative residual ")
    assert msg.endswith(" after 1 CG iterations (amg-cg)")


def test_cluster_labels_and_classes():
    shape = (8, 1, 8)
    phase = np.zeros(shape, np.uint8)
    phase[1, 0, 0:3] = LI   # touches A
    phase[5, 0, 5:8] = LI   # touches C
    phase[4, 0, 3] = LI     # floating
    phase[6, 0, 3] = LI     # floating, separate
    _, g = cell(shape, phase=phase)
    cl = label_clusters(g, g.site_data["phase"] == LI, g.site_data["face"])
    grid = g.to_grid(cl.label)
    assert sorted(cl.kind.tolist()) == sorted([CLASS_A, CLASS_C, CLASS_FLOATING, CLASS_FLOATING])
    assert cl.kind[grid[1, 0, 0]] == CLASS_A and cl.kind[grid[5, 0, 7]] == CLASS_C
    assert grid[4, 0, 3] != grid[6, 0, 3] and not cl.shorted
    contact = np.ones(g.n_sites, bool)
    contact[(g.site_data["face"] == 1)] = False  # electrode A lost contact everywhere
    cl2 = label_clusters(g, g.site_data["phase"] == LI, g.site_data["face"], contact)
    assert cl2.kind[g.to_grid(cl2.label)[1, 0, 0]] == CLASS_FLOATING


def _crest_share(per_period, H_over_S, L_over_S=1.0):
    """Share of the current collected by the crest (|x - S/2| < S/8) of a sinusoidal Li
    electrode (period S, peak height H) in the primary-current limit, 2D, S = per_period
    sites; also the x of the densest 1/8-period bin."""
    from kmc.features import add_contour

    S = per_period
    shape = (S, 1, int(round(L_over_S * S)) + int(round(H_over_S * S)))
    m, _ = cell(shape)
    add_contour(m, "sinusoid", H_over_S * S * H, S * H)
    g = m.graph(order="c")
    sol = FieldSolver(g, params(i0=math.inf, i0_int=math.inf), conductivity=SIGMA).solve(
        g.site_data["phase"], current=1e-9)
    into_a = sol.interface_current > 0
    x = g.positions[sol.interface_se, 0] / (S * H)  # in periods
    share = sol.interface_current[into_a & (np.abs(x - 0.5) < 0.125)].sum() / sol.current
    bins = np.bincount(np.minimum((x[into_a] * 8).astype(int), 7), sol.interface_current[into_a], 8)
    return share, (np.argmax(bins) + 0.5) / 8


def test_sinusoidal_interface_matches_perturbation_theory_on_the_fine_grid():
    """Primary-current limit on a small-amplitude sinusoidal electrode z = a(1 - cos kx),
    a = H/2, cell thickness L = S: to first order in ka the normal current density is
    j/j0 = 1 + k a coth(kL) cos(k(x - S/2)), so the crest (|x - S/2| < S/8) collects
    1/4 + (H/S)(sqrt2/2) coth(2 pi L/S) of the current. The 320-sites-per-period reference
    reproduces it to 1% at H/S = 0.05 (second-order terms are ~0.1%)."""
    share, _ = _crest_share(320, 0.05)
    theory = 0.25 + 0.05 * math.sqrt(2) / 2 / math.tanh(2 * math.pi)
    assert share == pytest.approx(theory, rel=0.01)


def test_sinusoidal_interface_coarse_grids_approach_the_fine_grid_reference():
    """At H/S = 0.2 (beyond linear theory) the 320-site grid is the reference; with the cut
    cells the 80- and 40-site grids are within 2% of it (measured 0.9%; on the staircase they
    needed 3% and 8%)."""
    ref, _ = _crest_share(320, 0.2)
    assert _crest_share(80, 0.2)[0] == pytest.approx(ref, rel=0.02)
    assert _crest_share(40, 0.2)[0] == pytest.approx(ref, rel=0.02)


def _column_peak(per_period, H_over_S, cut_cells=True):
    """Per-column j_max / j_mean on a sinusoidal Li electrode (primary current, L = S): the
    current through the surface within each column of sites, each interface edge counted in
    the column where the true surface crosses it (the lattice face on the staircase)."""
    from kmc.features import add_contour

    S = per_period
    m, _ = cell((S, 1, S + int(round(H_over_S * S))))
    add_contour(m, "sinusoid", H_over_S * S * H, S * H)
    if not cut_cells:
        m.contour = None
    g = m.graph(order="c")
    sol = FieldSolver(g, params(i0=math.inf, i0_int=math.inf), conductivity=SIGMA).solve(
        g.site_data["phase"], current=1e-9)
    lattice = sol.interface_metal >= 0
    edge = np.full(lattice.size, -1)
    edge[lattice] = g.edge_index(sol.interface_metal[lattice], sol.interface_se[lattice])
    cut = g.edge_data.get("interface_cut", np.full(g.n_edges, 0.5))
    x = g.positions[sol.interface_se, 0].copy()
    x[lattice] -= cut[edge[lattice]] * g.edge_vectors[edge[lattice], 0]
    column = np.mod(np.floor(x / H + 1e-9).astype(int), S)
    into = sol.interface_current > 0
    per_column = np.bincount(column[into], sol.interface_current[into], S)
    return per_column.max() / per_column.mean()


def test_the_peak_current_of_a_contoured_interface_converges_with_refinement():
    """Seed 004's contoured interfaces (H/S = 1/6, i0 -> inf): with the true surface placed
    on its interface edges (cut cells, :func:`kmc.features.contour_cuts`) the per-column
    j_max / j_mean agrees within 3% between S = 60 and 120 sites per period (measured 1.686 and
    1.687); on the staircase of site faces it grows with refinement, its corners sharper at
    every scale (2.43 and 2.55)."""
    fine, coarse = _column_peak(120, 1 / 6), _column_peak(60, 1 / 6)
    assert coarse == pytest.approx(fine, rel=0.03)
    assert _column_peak(120, 1 / 6, cut_cells=False) > 1.04 * _column_peak(60, 1 / 6, False)


def test_sinusoidal_crest_current_grows_with_amplitude_and_peaks_at_protrusions():
    results = [_crest_share(80, r) for r in (0.0, 0.05, 0.1, 0.2, 0.3)]
    shares = [r[0] for r in results]
    assert shares[0] == pytest.approx(0.25, rel=1e-9)  # flat: uniform
    assert all(a < b for a, b in zip(shares, shares[1:]))
    for _, densest in results[2:]:
        assert densest in (0.4375, 0.5625)  # one of the two bins at the crest x = S/2


@pytest.mark.parametrize("method", ["direct", "iterative"])
def test_cut_cell_is_an_error_also_after_warm_starts(method):
    shape = (16, 1, 16)
    _, g = cell(shape)
    solver = FieldSolver(g, params(), conductivity=SIGMA, method=method)
    phase = g.site_data["phase"].copy()
    solver.solve(phase, current=1e-9)
    phase[g.to_grid(np.arange(g.n_sites))[:, 0, 8]] = VOID
    with pytest.raises(FieldError) as info:
        solver.solve(phase, current=1e-9)
    assert str(info.value) == "no ionic path between the electrodes: the cell cannot carry current"


@pytest.mark.parametrize("method", ["direct", "iterative"])
def test_reused_solver_matches_a_fresh_one_under_stack_pressure(method):
    """Conversions one by one with a reused solver (LU-preconditioned CG or warm AMG-CG) give
    the same field as a fresh solver; a pressure equal everywhere (stack pressure on the
    reservoirs and on all Li) shifts every metal potential alike and changes nothing."""
    shape = (12, 1, 16)
    rng = np.random.default_rng(6)
    _, g = cell(shape, grain=rng.integers(0, 4, shape))
    p = params(stack_pressure=5e6)
    reused = FieldSolver(g, p, conductivity=SIGMA, method=method)
    phase = g.site_data["phase"].copy()
    column = g.to_grid(np.arange(g.n_sites))[6, 0, :]
    for k in range(5):
        phase[column[k]] = LI
        a = reused.solve(phase, current=2e-9, pressure=np.full(g.n_sites, 5e6))
        b = FieldSolver(g, p, conductivity=SIGMA, method=method).solve(
            phase, current=2e-9, pressure=np.full(g.n_sites, 5e6))
        assert a.voltage == pytest.approx(b.voltage, rel=1e-7)
        np.testing.assert_allclose(a.interface_current, b.interface_current, rtol=1e-6,
                                   atol=1e-7 * np.abs(b.interface_current).max())
    no_stack = FieldSolver(g, params(), conductivity=SIGMA, method=method).solve(phase, current=2e-9)
    assert a.voltage == pytest.approx(no_stack.voltage, rel=1e-7)


def test_grain_boundary_ahead_of_a_li_tip_resists_like_any_boundary():
    """The GB layer sits in series on a metal-SE edge that crosses it: a resistive boundary
    just ahead of a Li filament lowers the current into its tip."""
    shape = (9, 1, 20)
    phase = np.zeros(shape, np.uint8)
    phase[4, 0, :6] = LI
    def tip_current(gb_row):
        grain = (np.arange(20)[None, None, :] >= gb_row) * np.ones(shape, int)
        _, g = cell(shape, grain=grain, phase=phase)
        sol = FieldSolver(g, params(sigma_gb=1e-5, delta=1e-8), conductivity=SIGMA).solve(
            g.site_data["phase"], current=1e-9)
        tip = g.to_grid(np.arange(g.n_sites))[4, 0, 6]
        return sol.interface_current[(sol.interface_se == tip) & (sol.interface_metal >= 0)].sum()
    assert tip_current(6) < 0.8 * tip_current(14)


def test_contour_cuts_place_the_true_surface_on_the_interface_edges():
    """On a sinusoid (S = 24 sites, H/S = 1/6): a vertical interface edge is cut at
    (z_s - h(x_s)) / h from its electrolyte site, a horizontal one where h(x*) = z_s; every
    other edge at the lattice face (0.5)."""
    from kmc.features import FEATURE_CONTOUR, add_contour, contour_height

    S = 24
    m, _ = cell((S, 1, 30))
    add_contour(m, "sinusoid", 4 * H, S * H)
    g = m.graph(order="c")
    cut = g.edge_data["interface_cut"]
    src, dst = g.sources, g.indices
    phase, feat = g.site_data["phase"], g.site_data["feature"]
    surface = (feat[src] == FEATURE_CONTOUR) & (phase[dst] == SE)
    assert np.all(cut[~surface] == 0.5) and surface.sum() > S
    p = g.positions
    vertical = surface & (g.edge_vectors[:, 2] != 0)
    h = contour_height("sinusoid", p[dst[vertical], 0], 0.0, 4 * H, S * H, 2)
    np.testing.assert_allclose(cut[vertical], (p[dst[vertical], 2] - h) / H, atol=1e-10)
    lateral = surface & (g.edge_vectors[:, 0] != 0)
    x = p[dst[lateral], 0] - cut[lateral] * g.edge_vectors[lateral, 0]
    np.testing.assert_allclose(contour_height("sinusoid", x, 0.0, 4 * H, S * H, 2),
                               p[dst[lateral], 2], atol=1e-10 * H)


@pytest.mark.parametrize("kind,shape,rel", [("sinusoid", (60, 1, 24), 0.01),
                                            ("egg_box", (24, 24, 12), 0.01),
                                            ("pyramid", (48, 48, 24), 0.02)])
def test_cut_cells_carry_the_true_area_of_a_contoured_interface(kind, shape, rel):
    """The interface faces of a contoured electrode, each weighted by its area factor
    1 / (|n_x| + |n_y| + |n_z|), with the flat electrode face where a trough lies below the
    first site, add up to the surface's true area (per period, from a fine quadrature of
    sqrt(1 + |grad h|^2)) within 1% (smooth shapes) or 2% (pyramids, whose ridges and apexes
    leave an O(h) error: 3.4% at 24 sites per period, 1.7% at 48); the staircase of faces
    overestimates it by more than 5% (pyramids: 34% at any resolution). The charge transfer of the contoured electrode then runs at
    the electrode's exchange current density over that area (FieldSolver.metal_se_conductance)."""
    from kmc.features import FEATURE_CONTOUR, add_contour, contour_height

    S = shape[0]
    height = S * H / (6 if kind == "sinusoid" else 4)
    m, _ = cell(shape)
    add_contour(m, kind, height, S * H)
    g = m.graph(order="c")
    src, dst = g.sources, g.indices
    surface = (g.site_data["feature"][src] == FEATURE_CONTOUR) & (g.site_data["phase"][dst] == SE)
    depth = 1 if shape[1] == 1 else S
    bare = np.sum(m.phase[:, :, 0] == SE) * H * H  # troughs below the first site: the face
    faces = surface.sum() * H * H + bare
    weighted = g.edge_data["interface_area"][surface].sum() * H * H + bare
    u = (np.arange(4000) + 0.5) / 4000 * S * H
    x, y = (u, 0.0) if depth == 1 else np.meshgrid(u, u[::10], indexing="ij")
    z = contour_height(kind, x, y, height, S * H, 2 if depth == 1 else 3)
    if depth == 1:
        true = np.sum(np.sqrt(1 + np.gradient(z, u) ** 2)) * (u[1] - u[0]) * H
    else:
        gx, gy = np.gradient(z, u, u[::10])
        true = np.sum(np.sqrt(1 + gx ** 2 + gy ** 2)) * (u[1] - u[0]) * (u[10] - u[0])
    assert weighted == pytest.approx(true, rel=rel)
    assert faces > 1.05 * true
    solver = FieldSolver(g, params(i0=10.0, i0_int=1e4), conductivity=SIGMA)
    ms = np.flatnonzero(surface)
    g_ms = solver.metal_se_conductance(ms)
    g_ct = solver.params.charge_transfer_conductance(10.0, H * H * g.edge_data["interface_area"][ms])
    np.testing.assert_allclose(1 / g_ms, 1 / solver.g_half_ms[ms] + 1 / g_ct, rtol=1e-12)
