"""Quasi-static ionic field with equipotential metal clusters (MODEL.md section 4).

Li+ transport in a single-ion conductor is migration only and fast compared with plating, so
the electrolyte potential phi solves Kirchhoff's current law on the site graph at every
topology change. Unknowns are the potential of every electrolyte (SE) site and one potential
per *floating* Li cluster (metal is equipotential: a cluster is contracted into one node).
Clusters touching the electrode at z = 0 (class A) are held at 0 V, clusters touching the
electrode at z = L (class C) and that electrode at the cell voltage V. A floating cluster has
zero net current, which alone makes it bipolar.

Conductances (per directed edge pair, face area a_f = h^2, bulk sigma per site):

* SE-SE: g = a_f sigma_ij / h with sigma_ij the harmonic mean of the two sites. An edge whose
  ends lie in different grains crosses a GB layer of thickness delta_GB and specific
  conductivity sigma_GB in series: 1/g = h/(a_f sigma_ij) + delta_GB/(a_f sigma_GB). An edge
  between two GB sites of one grain runs along the boundary and carries half of its sheet
  conductance sigma_GB delta_GB in parallel: g = a_f sigma_ij / h + sigma_GB delta_GB / 2 (the
  other half belongs to the row on the other side). Both forms make results independent of h
  (MODEL.md section 3; tested by B2).
* metal-SE and electrode-SE: the half-bond ionic conductance 2 a_f sigma_s / h (with the GB
  layer in series when metal and electrolyte sites lie in different grains) in series with
  the linearised Butler-Volmer conductance a_f i0 (alpha_a + alpha_c) F / (R T); i0 is the
  electrode value at the two electrode faces and the (faster) internal value at Li inside the
  slab (flaws, dendrites, nuclei). The driving force is phi_s - Phi_c - p V_m / F with p the
  Li pressure of the metal site (the stack pressure for an electrode face).

The system is linear in V: galvanostatic control solves with V = 1 and with the pressure
sources alone and scales so that the current into electrode A equals I(t) = J(t) A_cell;
potentiostatic control uses the given V. Positive currents plate Li: into metal on a
metal-SE edge, into electrode A for the total current.
"""
from __future__ import annotations

import copy
import math
import time as wallclock
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph

from .clusters import CLASS_A, CLASS_C, CLASS_FLOATING, Clusters, label_clusters, touching_faces
from .codes import FACE_A, FACE_C, RES_A, RES_C
from .errors import KmcError
from .graph import Graph
from .linear_solver import LinearSolver, LinearSolverError, relative_residual
from .magnetic import hall_fixed_point
from .features import FEATURE_CONTOUR
from .microstructure import GB_ALONG, GB_CROSSING, LI, SE, gb_edge_relation
from .units import FARADAY, GAS_CONSTANT


class FieldError(KmcError, RuntimeError):
    """The field solve failed: non-finite values or no convergence (numbers in the message)."""


class OpenCircuitError(FieldError):
    """No ionic path joins the electrodes (metal, voids and cracks sever the electrolyte)."""


@dataclass(frozen=True)
class FieldParameters:
    """Transport and kinetic parameters of the field solve (SI).

    Attributes
    ----------
    temperature : float
        T [K].
    gb_conductivity : float
        Specific Li+ conductivity sigma_GB of the GB layer [S/m].
    gb_thickness : float
        delta_GB [m].
    exchange_current_density : float
        i0 of the electrode faces [A/m^2] (``inf``: primary-current limit).
    internal_exchange_current_density : float
        i0 of Li inside the slab [A/m^2] (``inf`` allowed).
    molar_volume : float
        V_m of Li [m^3/mol].
    stack_pressure : float
        Pressure of the electrode reservoirs [Pa].
    alpha_a, alpha_c : float
        Transfer coefficients.
    """

    temperature: float
    gb_conductivity: float
    gb_thickness: float
    exchange_current_density: float
    internal_exchange_current_density: float
    molar_volume: float = 13.0e-6
    stack_pressure: float = 0.0
    alpha_a: float = 0.5
    alpha_c: float = 0.5

    @classmethod
    def from_material(cls, material, molar_volume: float = 13.0e-6, stack_pressure: float = 0.0):
        """From a :class:`kmc.materials.ResolvedMaterial` at the cell temperature."""
        return cls(temperature=material.temperature, gb_conductivity=material.gb_ionic_conductivity,
                   gb_thickness=material.gb_thickness,
                   exchange_current_density=material.exchange_current_density,
                   internal_exchange_current_density=material.internal_exchange_current_density,
                   molar_volume=molar_volume, stack_pressure=stack_pressure)

    def charge_transfer_conductance(self, i0: float, area: float) -> float:
        """Linearised Butler-Volmer conductance a_f i0 (alpha_a + alpha_c) F / (R T) [S]."""
        return area * i0 * (self.alpha_a + self.alpha_c) * FARADAY / (GAS_CONSTANT * self.temperature)


@dataclass
class FieldSolution:
    """Everything one field solve returns (SI).

    Attributes
    ----------
    phi : ndarray
        Electrolyte potential of every site [V] (NaN on metal, void and disconnected sites).
    cluster_potential : ndarray
        Potential of every Li cluster [V].
    voltage : float
        Cell voltage V = Phi_C - Phi_A [V].
    current : float
        Li+ current into electrode A (class-A clusters and the z = 0 face) [A]; > 0 plates A.
    interface_metal, interface_se : ndarray of intp
        The two ends of every metal-SE interface edge; ``interface_metal`` is RES_A or RES_C
        (:mod:`kmc.codes`) for the reservoir faces.
    interface_current : ndarray
        Signed Li+ current across each interface edge [A]; > 0 plates the metal.
    overpotential : ndarray
        phi_s - Phi_metal - p V_m / F on each interface edge [V].
    floating_current : ndarray
        Plating (= dissolving) current through each cluster [A]: the sum of its positive
        interface currents; 0 for non-floating clusters.
    clusters : Clusters
    residual : float
        Relative residual ||A x - b|| / ||b|| of the solve.
    iterations : int
        Iterations of the iterative solver (0 for the direct one).
    method : str
        "direct", "direct-pcg" (CG preconditioned by an earlier LU) or "amg-cg".
    seconds : float
        Wall time of assembly and solve [s].
    """

    phi: np.ndarray
    cluster_potential: np.ndarray
    voltage: float
    current: float
    interface_metal: np.ndarray
    interface_se: np.ndarray
    interface_current: np.ndarray
    overpotential: np.ndarray
    floating_current: np.ndarray
    clusters: Clusters
    residual: float
    iterations: int
    method: str
    seconds: float = 0.0
    parts: "_AffineParts | None" = None

    def set_voltage(self, voltage: float) -> None:
        """Re-evaluate every field quantity at cell voltage ``voltage`` [V] (same topology,
        pressures and blocking: the solution is affine in V, so no new solve is needed)."""
        q = self.parts
        self.voltage = float(voltage)
        self.phi = voltage * q.phi_v + q.phi_p
        self.cluster_potential = voltage * q.cp_v + q.cp_p
        self.overpotential = voltage * q.eta_v + q.eta_p
        fin = np.isfinite(self.overpotential)
        self.interface_current = np.where(fin, q.g_if * np.where(fin, self.overpotential, 0.0), 0.0)
        fl = q.kind_of == CLASS_FLOATING
        self.floating_current = np.bincount(q.cl_of[fl], np.maximum(self.interface_current[fl], 0.0),
                                            self.clusters.n).astype(float)
        self.current = float(np.sum(self.interface_current[q.kind_of == CLASS_A]))

    def set_current(self, current: float) -> None:
        """Galvanostatic re-evaluation: the voltage at which ``current`` [A] flows into A."""
        q = self.parts
        self.set_voltage((current - q.i_a_p) / q.i_a_v)

    def at_current(self, current: float) -> "FieldSolution":
        """A copy re-evaluated at ``current`` [A] (this solution is left as it is)."""
        other = copy.copy(self)
        other.set_current(current)
        return other

    def state(self) -> dict:
        """Plain data (arrays and numbers) from which :meth:`from_state` rebuilds this solution
        bit for bit (checkpoints)."""
        return {"parts": dict(vars(self.parts)), "label": self.clusters.label,
                "kind": self.clusters.kind, "voltage": self.voltage,
                "interface_metal": self.interface_metal, "interface_se": self.interface_se,
                "residual": self.residual, "iterations": self.iterations, "method": self.method}

    @classmethod
    def from_state(cls, state: dict) -> "FieldSolution":
        """Inverse of :meth:`state`."""
        sol = cls(phi=None, cluster_potential=None, voltage=math.nan, current=math.nan,
                  interface_metal=state["interface_metal"], interface_se=state["interface_se"],
                  interface_current=None, overpotential=None, floating_current=None,
                  clusters=Clusters(label=state["label"], kind=state["kind"]),
                  residual=state["residual"], iterations=state["iterations"],
                  method=state["method"], parts=_AffineParts(**state["parts"]))
        sol.set_voltage(state["voltage"])
        return sol


@dataclass
class _AffineParts:
    """Per-volt (``_v``) and pressure-source (``_p``, at V = 0) parts of a field solution."""

    phi_v: np.ndarray
    cp_v: np.ndarray
    eta_v: np.ndarray
    phi_p: np.ndarray
    cp_p: np.ndarray
    eta_p: np.ndarray
    i_a_v: float
    i_a_p: float
    g_if: np.ndarray
    kind_of: np.ndarray
    cl_of: np.ndarray


class FieldSolver:
    """Assemble and solve the ionic field on a graph.

    Parameters
    ----------
    graph : Graph
        Needs ``site_data``: ``grain`` and ``face`` (FACE_*); ``ionic_conductivity``
        [S/m] per site (or pass ``conductivity``).
    params : FieldParameters
    conductivity : float or ndarray, optional
        Bulk conductivity per site [S/m] if the graph has none.
    method : {"auto", "direct", "iterative"}
        Sparse LU (SuperLU; after a topology change the previous factors precondition CG and
        the matrix is refactorised every ``refactor_every`` solves or when that CG needs more
        than 25 iterations), or conjugate gradients with a smoothed-aggregation AMG
        preconditioner (pyamg) rebuilt every ``amg_rebuild`` solves (default 1: a hierarchy
        from the matrix before a site conversion needed 2.3x the CG iterations and was slower
        overall, docs/performance.md);
        "auto" picks direct up to ``direct_limit`` sites (default: 200,000 on graphs of
        degree <= 4, i.e. 2D, and 10,000 otherwise: LU fill-in grows fast in 3D).
    tol : float
        Relative residual ||A x - b|| / ||b|| every solve must reach (CG iterates to tol/10);
        a larger one raises :class:`FieldError`. The total current is exact whatever ``tol``
        (galvanostatic scaling); ``tol`` sets the accuracy of its distribution
        (docs/performance.md measures the error).
    hall : array of 3 float, optional
        Hall vector Theta = mu B of Li+ [rad]: the current density turns to J_0 + J_0 x Theta,
        the Hall currents being sources of further solves with the same matrix
        (:func:`kmc.magnetic.hall_fixed_point`).
    """

    def __init__(self, graph: Graph, params: FieldParameters, conductivity=None, method="auto",
                 tol=1e-8, direct_limit=None, amg_rebuild=1, refactor_every=50, maxiter=2000,
                 hall=None):
        if method not in ("auto", "direct", "iterative"):
            raise ValueError(f"method must be 'auto', 'direct' or 'iterative', got {method!r}")
        self.graph = graph
        self.params = params
        sigma = graph.site_data.get("ionic_conductivity") if conductivity is None else conductivity
        if sigma is None:
            raise ValueError("no ionic conductivity: give conductivity= or site_data['ionic_conductivity']")
        self.sigma = np.broadcast_to(np.asarray(sigma, float), (graph.n_sites,)).copy()
        if direct_limit is None:  # sparse LU fills in badly in 3D: AMG-CG is faster there
            direct_limit = 200_000 if np.diff(graph.indptr).max(initial=0) <= 4 else 10_000
        self.tol = tol
        #: the linear algebra: solves, warm starts and cached preconditioners
        self.linear_solver = LinearSolver(method, tol, direct_limit, amg_rebuild, refactor_every,
                                          maxiter)
        self.hall = None if hall is None or not np.any(hall) else np.asarray(hall, float)
        h = graph.spacing
        self.area = h * h
        self.src, self.dst = graph.sources, graph.indices
        self.face = np.asarray(graph.site_data["face"])
        grain = np.asarray(graph.site_data["grain"])
        s_i, s_j = self.sigma[self.src], self.sigma[self.dst]
        sigma_ij = 2.0 * s_i * s_j / (s_i + s_j)
        relation = gb_edge_relation(graph, grain)
        crossing, along = relation == GB_CROSSING, relation == GB_ALONG
        # sites beside a boundary plane that contains z (a boundary across x or y): their
        # half-bond toward an electrode runs along that boundary
        lateral = crossing & (np.abs(graph.edge_vectors[:, 2]) == 0)
        beside_z_boundary = np.zeros(graph.n_sites, bool)
        beside_z_boundary[self.src[lateral]] = True
        p = params
        sheet = p.gb_conductivity * p.gb_thickness  # GB sheet conductance [S]
        g = self.area * sigma_ij / h
        if p.gb_thickness > 0:
            g = np.where(crossing, self.area / (h / sigma_ij + p.gb_thickness / p.gb_conductivity), g)
            g = np.where(along, g + sheet / 2.0, g)
        #: SE-SE conductance of every directed edge [S]
        self.g_se = g
        #: half-bond ionic conductance of every site [S]; toward an electrode face (along z) it
        #: carries the sheet of a boundary that runs along z next to the site (half the layer
        #: over half the length: sigma_GB delta_GB)
        self.g_half = 2.0 * self.area * self.sigma / h
        self.g_half_z = self.g_half + np.where(beside_z_boundary, sheet, 0.0)
        #: ionic half-bond of every directed edge seen from a metal site at its source: the
        #: SE half-bond (from the SE site to the true surface of a contoured electrode,
        #: ``edge_data["interface_cut"]``), with the GB layer in series where the edge crosses
        #: a boundary
        g_half_dst = self.g_half[self.dst]
        cut = graph.edge_data.get("interface_cut")
        if cut is not None:  # a contoured electrode: the true surface lies cut h from the SE site
            g_half_dst = np.where(cut == 0.5, g_half_dst, self.area * self.sigma[self.dst] / (cut * h))
        if p.gb_thickness > 0:
            g_half_dst = np.where(crossing, 1.0 / (1.0 / g_half_dst + p.gb_thickness
                                                    / (self.area * p.gb_conductivity)), g_half_dst)
        self.g_half_ms = g_half_dst
        #: edges from a contoured electrode's Li: its surface is the electrode's interface
        #: (exchange current density i0 of the electrode, not of internal surfaces), of the
        #: true area (``edge_data["interface_area"]``, :func:`kmc.features.contour_cuts`)
        feature = graph.site_data.get("feature")
        self.contour_ms = (np.zeros(self.src.size, bool) if feature is None or cut is None
                           else np.asarray(feature)[self.src] == FEATURE_CONTOUR)
        self.area_ms = np.asarray(graph.edge_data.get("interface_area", np.ones(self.src.size)))

    # --- assembly -------------------------------------------------------------------------

    def _interface_conductance(self, g_half, i0, area=None):
        """The half-bond ``g_half`` [S] in series with the charge transfer at exchange current
        density ``i0`` [A/m^2] across faces of ``area`` [m^2] (default the site face)."""
        if math.isinf(i0):
            return g_half
        g_ct = self.params.charge_transfer_conductance(i0, self.area if area is None else area)
        return 1.0 / (1.0 / g_half + 1.0 / g_ct)

    def metal_se_conductance(self, edges) -> np.ndarray:
        """Interface conductance [S] of lattice metal-SE edges (metal at the source): the
        ionic half-bond in series with the charge transfer, at the internal exchange current
        density, or the electrode's over the true area on a contoured electrode."""
        p = self.params
        internal = self._interface_conductance(self.g_half_ms[edges],
                                               p.internal_exchange_current_density)
        contour = self.contour_ms[edges]
        if not contour.any():
            return internal
        electrode = self._interface_conductance(self.g_half_ms[edges], p.exchange_current_density,
                                                self.area * self.area_ms[edges])
        return np.where(contour, electrode, internal)

    def solve(self, phase, *, current=None, voltage=None, pressure=None, blocked=None,
              contact=None, clusters=None) -> FieldSolution:
        """Solve for the field of one configuration.

        Parameters
        ----------
        phase : ndarray of uint8
            SE, LI or VOID per site.
        current : float, optional
            Galvanostatic: Li+ current into electrode A [A] (I = J A_cell).
        voltage : float, optional
            Potentiostatic: cell voltage V [V]. Exactly one of ``current`` and ``voltage``.
        pressure : ndarray, optional
            Li pressure of every metal site [Pa] (default 0).
        blocked : ndarray of bool, optional
            Full, confined metal sites that block ionic current (MODEL.md section 5, item 1).
        contact : ndarray of bool or float, optional
            False (0) for electrode-face sites that lost contact; as floats, the fraction of
            each face site's area still touching (partial contact, MODEL.md 10.2), which
            scales its interface conductance.
        clusters : Clusters, optional
            The Li clusters of ``phase`` and ``contact`` if the caller has them
            (:class:`kmc.clusters.ClusterTracker` labels once per topology); else labelled here.
        """
        if (current is None) == (voltage is None):
            raise ValueError("give exactly one of current= (galvanostatic) or voltage= (potentiostatic)")
        start = wallclock.perf_counter()
        p = self.params
        n = self.graph.n_sites
        phase = np.asarray(phase)
        metal = phase == LI
        se = phase == SE
        if clusters is None:
            clusters = label_clusters(self.graph, metal, self.face, contact)
        if clusters.shorted:
            raise FieldError("a Li cluster touches both electrodes (short circuit): no field to solve")
        pressure = np.zeros(n) if pressure is None else np.asarray(pressure, float)
        active_metal = metal if blocked is None else metal & ~np.asarray(blocked, bool)
        e_shift = p.molar_volume / FARADAY  # V per Pa

        # interface edges: lattice metal-SE edges, then electrode faces of SE sites
        src, dst = self.src, self.dst
        ms = active_metal[src] & se[dst]
        m_site, s_site = src[ms], dst[ms]
        g_ms = self.metal_se_conductance(ms)
        touches = touching_faces(self.face, contact)
        fa = np.flatnonzero(se & (touches == FACE_A))
        fc = np.flatnonzero(se & (touches == FACE_C))
        g_fa = self._interface_conductance(self.g_half_z[fa], p.exchange_current_density)
        g_fc = self._interface_conductance(self.g_half_z[fc], p.exchange_current_density)
        if contact is not None and np.asarray(contact).dtype.kind == "f":  # partial contact
            g_fa, g_fc = g_fa * contact[fa], g_fc * contact[fc]
        metal_of = np.concatenate([m_site, np.full(fa.size, RES_A), np.full(fc.size, RES_C)])
        se_of = np.concatenate([s_site, fa, fc])
        g_if = np.concatenate([g_ms, g_fa, g_fc])
        shift = np.concatenate([pressure[m_site], np.full(fa.size + fc.size, p.stack_pressure)]) * e_shift
        kind_of = np.concatenate([clusters.kind[clusters.label[m_site]],
                                  np.full(fa.size, CLASS_A, np.int8), np.full(fc.size, CLASS_C, np.int8)])
        cl_of = np.concatenate([clusters.label[m_site], np.full(fa.size + fc.size, -1)])

        # One slot per site, so the matrix keeps its size and sparsity pattern as sites convert
        # and a factorisation or AMG hierarchy of an earlier matrix stays a good preconditioner:
        # SE sites hold phi_s, the lowest site of each floating cluster holds its potential,
        # every other slot is an identity row (x = 0).
        floating = np.flatnonzero(clusters.kind == CLASS_FLOATING)
        metal_sites = np.flatnonzero(metal)
        slot_of_cluster = np.full(clusters.n, -1, dtype=np.intp)
        first = np.full(clusters.n, n, dtype=np.intp)
        np.minimum.at(first, clusters.label[metal_sites], metal_sites)
        slot_of_cluster[floating] = first[floating]
        fl = kind_of == CLASS_FLOATING
        fu = slot_of_cluster[cl_of[fl]]
        ss = se[src] & se[dst]
        # coupling graph -> components anchored to an electrode (others carry no current)
        c_rows = np.concatenate([src[ss], se_of[fl], fu])
        c_cols = np.concatenate([dst[ss], fu, se_of[fl]])
        coupling = sp.csr_matrix((np.ones(c_rows.size, np.int8), (c_rows, c_cols)), shape=(n, n))
        _, comp = csgraph.connected_components(coupling, directed=False)
        joins_a = np.zeros(comp.max() + 1, bool)
        joins_a[comp[se_of[kind_of == CLASS_A]]] = True
        joins_c = np.zeros(comp.max() + 1, bool)
        joins_c[comp[se_of[kind_of == CLASS_C]]] = True
        if not np.any(joins_a & joins_c):
            raise OpenCircuitError("no ionic path between the electrodes: the cell cannot carry current")
        anchored_comp = joins_a | joins_c
        unknown = np.zeros(n, bool)
        unknown[se] = True
        unknown[slot_of_cluster[floating]] = True
        unknown &= anchored_comp[comp]

        keep_ss = ss & unknown[src]
        keep_if = unknown[se_of]
        keep_fl = fl & keep_if
        fu_k = slot_of_cluster[cl_of[keep_fl]]
        diag = (np.bincount(src[keep_ss], self.g_se[keep_ss], n)
                + np.bincount(se_of[keep_if], g_if[keep_if], n)
                + np.bincount(fu_k, g_if[keep_fl], n))
        diag[~unknown] = 1.0
        rows = np.concatenate([src[keep_ss], se_of[keep_fl], fu_k, np.arange(n)])
        cols = np.concatenate([dst[keep_ss], fu_k, se_of[keep_fl], np.arange(n)])
        vals = np.concatenate([-self.g_se[keep_ss], -g_if[keep_fl], -g_if[keep_fl], diag])
        A = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))

        # right-hand sides: b_V (per volt on the C side) and b_P (pressure shifts, V = 0)
        to_c = keep_if & (kind_of == CLASS_C)
        b_v = np.bincount(se_of[to_c], g_if[to_c], n)
        b_p = (np.bincount(se_of[keep_if], g_if[keep_if] * shift[keep_if], n)
               - np.bincount(fu_k, g_if[keep_fl] * shift[keep_fl], n))
        try:
            x_v, x_p, iters, method = self.linear_solver.solve_pair(A, b_v, b_p)
        except LinearSolverError as exc:
            raise FieldError(f"field solve did not converge: relative residual {exc.residual:.3e} "
                             f"after {exc.iterations} CG iterations ({exc.method})") from None

        if self.hall is not None:  # the Hall currents join the right-hand sides
            solved = hall_fixed_point(
                lambda r_v, r_p: self.linear_solver.solve_pair(A, r_v, r_p, keys=("h1", "h2")),
                x_v, x_p, self.src[keep_ss], self.dst[keep_ss],
                self.graph.edge_vectors[keep_ss] / self.graph.spacing, self.g_se[keep_ss],
                self.hall, self.tol)
            if solved is None:
                raise FieldError("Hall correction did not converge (|Theta| = "
                                 f"{np.linalg.norm(self.hall):.3g} rad)")
            x_v, x_p, it, h_v, h_p = solved
            iters += it
            b_v, b_p = b_v + h_v, b_p + h_p

        # currents into electrode A per volt and from the pressure shifts alone; pick V
        a_edges = keep_if & (kind_of == CLASS_A)
        i_a_v = float(np.sum(g_if[a_edges] * x_v[se_of[a_edges]]))
        i_a_p = float(np.sum(g_if[a_edges] * (x_p[se_of[a_edges]] - shift[a_edges])))
        if voltage is None:
            voltage = (current - i_a_p) / i_a_v
        if not (np.all(np.isfinite(x_v)) and np.all(np.isfinite(x_p)) and math.isfinite(voltage)):
            raise FieldError("the field solve returned non-finite potentials")
        residual = relative_residual(A, voltage * x_v + x_p, voltage * b_v + b_p)
        if residual > self.tol:
            raise FieldError(f"field solve did not converge: relative residual {residual:.3e} > "
                             f"{self.tol:.1e} after {iters} iterations ({method})")

        # the solution is affine in V: keep both parts so a new current needs no new solve
        def split(x, per_volt):
            phi = np.where(se & unknown, x, np.nan)
            cp = np.zeros(clusters.n)
            cp[clusters.kind == CLASS_C] = 1.0 if per_volt else 0.0
            cp[floating] = np.where(unknown[slot_of_cluster[floating]],
                                    x[slot_of_cluster[floating]], np.nan)
            mp = np.where(kind_of == CLASS_C, 1.0 if per_volt else 0.0, 0.0)
            mp[fl] = cp[cl_of[fl]]
            eta = phi[se_of] - mp - (0.0 if per_volt else shift)
            return phi, cp, eta

        parts = _AffineParts(*split(x_v, True), *split(x_p, False), i_a_v=i_a_v, i_a_p=i_a_p,
                             g_if=g_if, kind_of=kind_of, cl_of=cl_of)
        sol = FieldSolution(
            phi=None, cluster_potential=None, voltage=math.nan, current=math.nan,
            interface_metal=metal_of, interface_se=se_of, interface_current=None,
            overpotential=None, floating_current=None, clusters=clusters,
            residual=residual, iterations=iters, method=method, parts=parts)
        sol.set_voltage(float(voltage))
        sol.seconds = wallclock.perf_counter() - start
        return sol

    # --- checkpoints ----------------------------------------------------------------------

    def cache_state(self) -> dict:
        """What the next solve depends on besides its inputs (warm starts, the matrices of the
        cached preconditioners and their ages), as plain data: :meth:`LinearSolver.state`."""
        return self.linear_solver.state()

    def restore_cache(self, state: dict) -> None:
        """Restore :meth:`cache_state` (:meth:`LinearSolver.restore`): the next solve is
        bit-identical to the one without a checkpoint."""
        self.linear_solver.restore(state)
