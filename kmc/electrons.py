"""Electron leakage into the electrolyte, solved quasi-statically (MODEL.md 5.4-5.6).

Electrons injected from Li metal into the electrolyte's conduction band walk, get trapped,
escape again and reduce Li+ far faster than Li plates (transit in ns-us against plating in
ms-s; 0.4 eV boundary traps release an electron ~2e6 times per second). So, like the ionic
field, the electron traffic is solved per topology epoch, and only its slow outcomes become
kMC events (:mod:`kmc.events.electron_leak`):

* **Injection** (MODEL 5.4) from a metal site, or an electrode face in contact, into an
  electrolyte neighbour s, in packets of charge q per second, by thermionic-diffusion theory
  (Crowell & Sze 1966, Solid-State Electron. 9, 1035; Sze & Ng, Physics of Semiconductor
  Devices, 3rd ed., 3.4): r = e N_c v_eff a_f exp(-(Phi_B(s) - e eta/2) / kT) / q, with the
  barrier Phi_B(s) = Eg(s)/2 - Delta_F (at least 0), the bias eta = phi_s - Phi_m and the
  effective velocity v_eff = v_R v_D / (v_R + v_D) of the emission velocity
  v_R = A_R T^2 / (e N_c) (thermionic emission, MODEL.md's Richardson form, is the limit
  v_D -> infinity) and the diffusion velocity v_D = mu kT / (e h) across one site of
  electron mobility mu. In a wide-gap electrolyte mu is small (< 1 cm^2/(V s), Squires et al.
  2022, Phys. Rev. Mater. 6, 085401), v_D << v_R, and injection is transport-limited: a
  homogeneous slab then leaks with the conductivity e mu N_c exp(-Phi_B/kT) of its
  conduction-band electrons (:func:`slab_conductivity`; a test). Delta_F and mu are
  calibrated on the measured conductivity of the polycrystal
  (:meth:`ElectronParameters.calibrated`).
  The bias lowers the barrier by e eta/2, for either sign, where MODEL.md 5.4 writes
  e max(0, -eta) (electrochemical sign): the walk leaves s into the metal with weight
  exp(-eta/2V_T), so only the symmetric split obeys detailed balance (the equilibrium
  electron density at s, N exp(-(Phi_B - e eta)/kT), injects as many as return). With the
  one-sided form a cell at rest leaks a net current, and Li that protrudes from an electrode
  (a filled flaw) absorbs more electrons than it injects (a test).
* **Walk** (MODEL 5.4): from SE site s to neighbour t with weight
  exp(-(Ec_t - Ec_s)/2kT + (phi_t - phi_s)/2V_T), Ec = Eg/2 the conduction-band landscape
  and V_T = kT/e (electrons drift toward higher potential); into a metal neighbour with weight
  exp((Phi_t - phi_s)/2V_T) (absorbed by that cluster); out through a face in contact into
  the electrode (A at 0 V, C at the cell voltage) likewise.
* **Traps, detrapping, reduction** (MODEL 5.5-5.6): at a site with trap depth E_t an electron
  is captured with probability p_c = 1 - exp(-E_t/kT) per visit; a captured electron either
  reduces a Li+ (nucleation) at k_n or escapes at k_d = nu_t exp(-E_t/kT) and walks on;
  k_n is classical nucleation at the driving force eta of electrons from their source metal,
  with a barrier scaled by the local Young's modulus (:meth:`ElectronLeak.branching`). Per
  visit the walk ends in nucleation with probability a_s = p_c k_n / (k_n + k_d); the
  trapped population is v_s p_c / (k_n + k_d) for a visit rate v_s.
* **Explicit (slow) traps** (MODEL 5.5): a trap that holds an electron longer than
  ``explicit_trap_time`` on average (1/k_d; triple junctions and pores, ms to s, against
  ~1 us at a GB) is not quasi-static: a walk that reaches it ends there (``captured``), the
  packet stays until it reduces a Li+ (k_n per packet) or escapes (k_d per packet) and walks
  on (:meth:`ElectronLeak.release_fates`), each a kMC event
  (:mod:`kmc.events.electron_leak`). Trapped charge then relaxes in time: in the rest of a
  pulse it escapes at k_d instead of vanishing at once.

The expected visit rates v solve (I - Q^T) v = b, with b the injection rate per site and Q the
sub-stochastic transition matrix among electrolyte sites (walks that end in nucleation, metal
or an electrode leave it). Every packet injected ends somewhere: the fluxes into nucleation,
metal sites and the two electrodes add up to the injection rate (a test). The leakage current
is the net flux of electrons out of the side of electrode A (its face and its Li).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

from .graph import Graph
from .linear_solver import deterministic_amg
from .magnetic import electron_shift
from .microstructure import LI, SE
from .material_properties import arrhenius_conductivity
from .units import BOLTZMANN, BOLTZMANN_EV, ELEMENTARY_CHARGE

#: Richardson constant A_R = 4 pi m e k^2 / h^3 [A m^-2 K^-2].
RICHARDSON = 1.20173e6
#: Planck constant [J s] and electron mass [kg] (CODATA 2018).
PLANCK, ELECTRON_MASS = 6.62607015e-34, 9.1093837015e-31


def conduction_band_density(temperature: float) -> float:
    """Effective density of states N_c = 2 (2 pi m kT / h^2)^(3/2) [1/m^3] of a conduction band
    with the free-electron mass (2.5e25 m^-3 at 298 K; an effective mass other than m_e is
    absorbed by the calibrated mobility, since only mu N_c enters)."""
    kt = BOLTZMANN * temperature
    return 2.0 * (2.0 * math.pi * ELECTRON_MASS * kt / PLANCK ** 2) ** 1.5


@dataclass(frozen=True)
class ElectronParameters:
    """Parameters of electron injection, trapping and reduction (SI, energies in eV).

    Attributes
    ----------
    temperature : float
        T [K].
    delta_f : float
        Delta_F [eV] in the barrier Phi_B = Eg/2 - Delta_F.
    mobility : float
        Electron mobility mu [m^2/(V s)] in the diffusion velocity v_D = mu kT/(e h).
    trap_attempt_frequency : float
        nu_t [1/s] of detrapping.
    nucleation_attempt_frequency : float
        nu_n [1/s] of the reduction of Li+ by a trapped electron.
    nucleation_barrier : float
        dG* [eV] at the bulk Young's modulus (scaled by E(s)/E_bulk per site) at the driving
        force ``nucleation_overpotential``.
    nucleation_overpotential : float
        eta_n [V]: the barrier scales as (eta_n / eta)^2 with the driving force eta
        (classical nucleation); 0 keeps it at dG* for every eta > 0.
    bulk_modulus : float
        E_bulk [Pa], the reference of that scaling.
    explicit_trap_time : float
        Traps whose mean holding time 1/k_d exceeds this [s] are explicit (module docstring);
        inf: every trap quasi-static.
    """

    temperature: float
    delta_f: float
    mobility: float = 1e-4
    trap_attempt_frequency: float = 1e13
    nucleation_attempt_frequency: float = 1e13
    nucleation_barrier: float = 1.0
    nucleation_overpotential: float = 0.0
    bulk_modulus: float = 150e9
    explicit_trap_time: float = math.inf

    @classmethod
    def calibrated(cls, material, **kwargs) -> "ElectronParameters":
        """Delta_F and mu from a :class:`kmc.materials.ResolvedMaterial`'s measured electronic
        conductivity sigma_e at T_ref, its activation energy E_a and its leak path factor f.

        A polycrystal leaks through its grain boundaries (gap Eg_GB; the bulk barrier is
        (Eg - Eg_GB)/2 higher), so: the GB barrier Phi_GB = Eg_GB/2 - Delta_F sets the
        activation energy (sigma T of a slab, e mu N_c T exp(-Phi/kT), rises with
        E_a = Phi + 2.5 kT), and mu sets the magnitude, sigma_e = f e mu N_c exp(-Phi_GB/kT)
        at T_ref, where f (``electron_leak_path_factor``, computed by
        ``analysis/calibrate_leak.py``) is the whole reference polycrystal's leakage over that
        of a slab of GB material. Delta_F and mu are properties of the material, not of a
        cell: a finer microstructure leaks more, a single crystal (no GBs) far less.
        """
        t_ref = material.reference_temperature
        kt_ref = BOLTZMANN_EV * t_ref
        phi_gb = material.electronic_activation_energy - 2.5 * kt_ref
        sigma_ref = material.electronic_conductivity * arrhenius_conductivity(
            1.0, material.electronic_activation_energy, t_ref, material.temperature)
        mobility = sigma_ref / (material.electron_leak_path_factor * ELEMENTARY_CHARGE
                                * conduction_band_density(t_ref) * math.exp(-phi_gb / kt_ref))
        return cls(temperature=material.temperature, delta_f=material.gb_band_gap / 2 - phi_gb,
                   mobility=mobility, bulk_modulus=material.youngs_modulus, **kwargs)

    def velocity(self, spacing: float) -> float:
        """v_eff = v_R v_D / (v_R + v_D) [m/s] for sites of edge ``spacing`` [m] (module
        docstring)."""
        kt = BOLTZMANN_EV * self.temperature
        v_r = RICHARDSON * self.temperature ** 2 / (ELEMENTARY_CHARGE
                                                    * conduction_band_density(self.temperature))
        v_d = self.mobility * kt / spacing
        return v_r * v_d / (v_r + v_d)


def slab_conductivity(params: ElectronParameters, barrier: float) -> float:
    """sigma = e mu N_c exp(-Phi_B/kT) [S/m]: the electronic conductivity of a homogeneous slab
    of barrier ``barrier`` [eV] in this model (transport-limited injection, module
    docstring)."""
    kt = BOLTZMANN_EV * params.temperature
    return (ELEMENTARY_CHARGE * params.mobility * conduction_band_density(params.temperature)
            * math.exp(-barrier / kt))


def injection_rate(band_gap, bias, params: ElectronParameters, spacing: float,
                   quantum: float) -> np.ndarray:
    """Injection rate [packets of charge ``quantum`` per second] across metal-electrolyte
    edges of face area ``spacing``^2 into electrolyte sites of gap ``band_gap`` [eV] at
    ``bias`` eta = phi_s - Phi_metal [V]: r = e N_c v_eff a_f exp(-(Phi_B - e eta/2)/kT) / q,
    at most the barrier-free rate (module docstring)."""
    kt = BOLTZMANN_EV * params.temperature
    barrier = np.maximum(np.asarray(band_gap, float) / 2 - params.delta_f, 0.0)
    eta = np.nan_to_num(np.asarray(bias, float), nan=0.0)
    exponent = np.minimum(-(barrier - eta / 2) / kt, 0.0)
    flux0 = (ELEMENTARY_CHARGE * conduction_band_density(params.temperature)
             * params.velocity(spacing) * spacing ** 2)  # A, barrier-free
    return flux0 * np.exp(exponent) / quantum


@dataclass
class ElectronFluxes:
    """Where injected electrons end, per second (packets of charge q).

    Attributes
    ----------
    nucleation : ndarray
        Rate of Li+ reduction at each site [1/s] (nonzero on trap sites).
    metal : ndarray
        Rate of absorption by each metal site [1/s].
    exit_a, exit_c : float
        Rates of leaving through the electrode at z = 0 and z = L [1/s].
    injected : float
        Total injection rate [1/s] (= the sum of all the above).
    trapped : ndarray
        Quasi-static number of trapped electrons per site.
    captured : ndarray
        Rate of capture by each explicit trap [1/s] (walks end there; zero without them).
    leakage : float
        Net rate [1/s] at which electrons leave the side of electrode A (its face and the Li
        connected to it) through the electrolyte: those injected there that do not return,
        whether they reach electrode C, floating Li or reduce Li+ inside, less those from
        elsewhere that arrive there. Times q, the cell's electronic (leakage) current
        (set by :meth:`ElectronLeak.solve`; 0 for one pattern of :meth:`ElectronLeak.walk`).
    """

    nucleation: np.ndarray
    metal: np.ndarray
    exit_a: float
    exit_c: float
    injected: float
    trapped: np.ndarray
    captured: np.ndarray
    leakage: float = 0.0

    @classmethod
    def weighted_sum(cls, parts) -> "ElectronFluxes":
        """The sum of ``(weight, fluxes)`` pairs, field by field."""
        return cls(**{k.name: sum(w * getattr(f, k.name) for w, f in parts)
                      for k in dataclasses.fields(cls)})


class ElectronLeak:
    """The absorbing-chain solve of the electron walk on a site graph.

    Parameters
    ----------
    graph : Graph
        Needs ``site_data``: ``band_gap`` [eV], ``trap_depth`` [eV], ``youngs_modulus`` [Pa],
        ``face`` (FACE_A / FACE_C).
    params : ElectronParameters
    """

    def __init__(self, graph: Graph, params: ElectronParameters, hall=None):
        self.graph, self.params = graph, params
        #: Hall vector mu_e B of the electrons [rad] (v x B on the walk; kmc.magnetic)
        self.hall = None if hall is None or not np.any(hall) else np.asarray(hall, float)
        sd = graph.site_data
        self.band_gap = np.asarray(sd["band_gap"], float)
        self.ec = self.band_gap / 2.0
        self.face = np.asarray(sd["face"])
        kt = BOLTZMANN_EV * params.temperature
        self.kt = kt
        trap = np.asarray(sd["trap_depth"], float)
        #: capture probability per visit and detrapping rate [1/s] per site
        self.capture = np.where(trap > 0, -np.expm1(-trap / kt), 0.0)
        self.k_d = params.trap_attempt_frequency * np.exp(-trap / kt)
        #: traps followed as kMC state (mean holding time 1/k_d > explicit_trap_time)
        self.explicit = (trap > 0) & (self.k_d * params.explicit_trap_time < 1.0)
        #: nucleation barrier dG*(s) [eV] at the driving force eta_n
        self.barrier = params.nucleation_barrier * np.asarray(sd["youngs_modulus"], float) / (
            params.bulk_modulus)
        self.src, self.dst = graph.sources, graph.indices
        self.reverse = graph.edge_index(self.dst, self.src)  #: each directed edge's reverse
        #: walks on more live sites are solved by AMG-preconditioned CG (2D: LU is fast)
        self.direct_limit = 200_000 if np.diff(graph.indptr).max(initial=0) <= 4 else 10_000
        self._prepared = None  # the last configuration's weights and chains (_prepare)

    def nucleation_rate(self, phi, source_potential) -> np.ndarray:
        """k_n [1/s] per site: the rate at which a trapped electron from a metal at
        ``source_potential`` [V] (None: no reduction) reduces a Li+ (:meth:`branching`)."""
        k_n = np.zeros_like(self.k_d)
        if source_potential is not None:
            eta = np.nan_to_num(np.asarray(phi, float) - source_potential, nan=0.0)
            pos = eta > 0
            scale = np.ones(pos.sum())
            if self.params.nucleation_overpotential > 0:
                with np.errstate(over="ignore"):  # eta -> 0: an infinite barrier, capped below
                    scale = (self.params.nucleation_overpotential / eta[pos]) ** 2
            k_n[pos] = self.params.nucleation_attempt_frequency * np.exp(
                -np.minimum(self.barrier[pos] * scale, 700 * self.kt) / self.kt)
        return k_n

    def branching(self, phi, source_potential, explicit: bool = False):
        """Per site: the probability per visit that a walk ends in the reduction of a Li+ (with
        ``explicit``, at an explicit trap: in its capture), and the trapped electrons per unit
        visit rate [s] (0 at explicit traps), for electrons whose Fermi level is that of a
        metal at ``source_potential`` [V] (None: no reduction).

        A trapped electron reduces Li+ (a new Li nucleus, a quantum of it) only with a driving
        force eta = phi_s - Phi_source > 0 (electrons from a metal at the local electrolyte
        potential or above reduce nothing: a cell at rest grows no Li inside, and electrons
        from the stripping electrode do not), at the rate of classical nucleation,
        k_n = nu_n exp(-dG*(s) (eta_n/eta)^2 / kT): the barrier of a critical nucleus falls as
        1/eta^2 (16 pi gamma^3 V_m^2 / (3 F^2 eta^2); Pei et al. 2017, Nano Lett. 17, 1132),
        and dG*(s) = dG* E(s)/E_bulk is lower in soft GBs (MODEL.md 5.6).
        """
        k_n = self.nucleation_rate(phi, source_potential)
        out = self.k_d + k_n
        with np.errstate(invalid="ignore", divide="ignore"):
            absorb = np.where(out > 0, self.capture * k_n / out, 0.0)
            dwell = np.where(out > 0, self.capture / out, 0.0)
        if explicit:
            absorb = np.where(self.explicit, self.capture, absorb)
            dwell = np.where(self.explicit, 0.0, dwell)
        return absorb, dwell

    def injection(self, phase, phi, metal_potential, metal_side, voltage: float, face_a,
                  face_c, quantum: float) -> list:
        """The three injection patterns of :meth:`walk` [packets/s per site]: electrons from
        the side of electrode A (its face and the Li connected to it, source potential 0),
        of electrode C (``voltage``) and from floating Li (None: they reduce nothing), each
        from every metal site into each electrolyte neighbour and from each electrode into
        the face sites it touches (:func:`injection_rate` at the bias phi_s - Phi_metal).
        Arguments as for :meth:`solve`."""
        from .clusters import CLASS_A, CLASS_C

        n = phase.size
        se = (phase == SE) & np.isfinite(phi)
        sm = se[self.src] & (phase[self.dst] == LI)
        sites = np.concatenate([face_a, face_c, self.src[sm]])
        source = np.concatenate([np.zeros(face_a.size), np.full(face_c.size, float(voltage)),
                                 metal_potential[self.dst[sm]]])
        side = np.concatenate([np.full(face_a.size, CLASS_A), np.full(face_c.size, CLASS_C),
                               metal_side[self.dst[sm]]])
        rate = injection_rate(self.band_gap[sites], phi[sites] - source, self.params,
                              self.graph.spacing, quantum)
        on_a, on_c = side == CLASS_A, side == CLASS_C
        return [(np.bincount(sites, np.where(mask, rate, 0.0), n), pot) for mask, pot in
                ((on_a, 0.0), (on_c, float(voltage)), (~on_a & ~on_c, None))]

    def solve(self, phase, phi, metal_potential, metal_side, voltage: float, face_a, face_c,
              quantum: float) -> ElectronFluxes:
        """The electron traffic of one configuration, with its net leakage current, every trap
        quasi-static (:meth:`injection`, :meth:`walk`).

        Parameters
        ----------
        phase, phi, metal_potential, voltage
            As for :meth:`walk`.
        metal_side : ndarray of int
            Per site: the class of its Li cluster (``kmc.clusters.CLASS_*``; ignored off metal).
        face_a, face_c : ndarray of intp
            Electrolyte sites in contact with electrode A (at 0 V) and C (at ``voltage``).
        quantum : float
            Charge q of a packet [C].
        """
        from .clusters import CLASS_A

        patterns = self.injection(phase, phi, metal_potential, metal_side, voltage, face_a,
                                  face_c, quantum)
        fa, fc, fo = self.walk(phase, phi, metal_potential, voltage, face_a, face_c, patterns)
        total = ElectronFluxes.weighted_sum(((1.0, fa), (1.0, fc), (1.0, fo)))
        into_a = (phase == LI) & (metal_side == CLASS_A)
        total.leakage = (fa.injected - fa.exit_a - float(fa.metal[into_a].sum())
                         - sum(f.exit_a + float(f.metal[into_a].sum()) for f in (fc, fo)))
        return total

    def _weights(self, phase, phi, metal_potential, voltage: float, face_a, face_c) -> dict:
        """Hop weights of the walk (module docstring) in one configuration: ``se`` (walkable
        sites), electrolyte-electrolyte edges ``ss`` with ``w_ss``, electrolyte-metal edges
        ``sm`` with ``w_sm``, the face sites ``fa``/``fc`` with ``w_fa``/``w_fc``, and each
        site's ``total`` weight."""
        n = phase.size
        vt = self.kt  # thermal voltage kT/e [V] equals kT [eV] numerically
        se = (phase == SE) & np.isfinite(phi)
        src, dst = self.src, self.dst
        ss = se[src] & se[dst]
        rise = phi[dst[ss]] - phi[src[ss]]
        if self.hall is not None:  # v x B: the drift of the electrons turns by mu_e B
            unit = self.graph.edge_vectors[ss] / self.graph.spacing
            rise = rise + electron_shift(src[ss], dst[ss], unit, self.graph.spacing, phi,
                                         self.hall)
        w_ss = np.exp(-(self.ec[dst[ss]] - self.ec[src[ss]]) / (2 * self.kt) + rise / (2 * vt))
        sm = se[src] & (phase[dst] == LI)
        # a cluster the field gives no potential (floating Li whose faces all block) takes
        # electrons without bias
        metal_phi = np.where(np.isnan(metal_potential[dst[sm]]), phi[src[sm]],
                             metal_potential[dst[sm]])
        w_sm = np.exp((metal_phi - phi[src[sm]]) / (2 * vt))
        fa = np.asarray(face_a, np.intp)[se[face_a]]
        fc = np.asarray(face_c, np.intp)[se[face_c]]
        w_fa = np.exp((0.0 - phi[fa]) / (2 * vt))
        w_fc = np.exp((voltage - phi[fc]) / (2 * vt))
        total = (np.bincount(src[ss], w_ss, n) + np.bincount(src[sm], w_sm, n)
                 + np.bincount(fa, w_fa, n) + np.bincount(fc, w_fc, n))
        return dict(se=se, ss=ss, w_ss=w_ss, sm=sm, w_sm=w_sm, fa=fa, w_fa=w_fa, fc=fc,
                    w_fc=w_fc, total=total)

    def walk(self, phase, phi, metal_potential, voltage: float, face_a, face_c,
             patterns, explicit: bool = False) -> list:
        """Where injected electrons end, one :class:`ElectronFluxes` per injection pattern.

        Parameters
        ----------
        phase : ndarray of uint8
            SE / LI / VOID per site.
        phi : ndarray
            Electrolyte potential [V] (NaN off the electrolyte).
        metal_potential : ndarray
            Potential of the cluster of each metal site [V] (ignored elsewhere).
        voltage : float
            Cell voltage [V] (electrode C; electrode A is at 0).
        face_a, face_c : ndarray of intp
            Electrolyte sites in contact with electrode A and C (walks leave there).
        patterns : sequence of (ndarray, float or None)
            Injection rates into each electrolyte site [1/s] and the potential of the metal
            the electrons come from (:meth:`branching`), one pair per pattern; patterns from
            metals at one potential share one factorisation.
        explicit : bool
            Walks end in the capture by an explicit trap (``captured``) instead of passing it
            quasi-statically.
        """
        n = phase.size
        prep = self._prepare(phase, phi, metal_potential, voltage, face_a, face_c)
        w = prep["weights"]
        out = [None] * len(patterns)
        for potential in dict.fromkeys(pot for _, pot in patterns):
            which = [k for k, (_, pot) in enumerate(patterns) if pot == potential]
            absorb, dwell, live, p, solve = self._chain(prep, phi, potential, explicit)
            b = np.where(live[:, None], np.column_stack(
                [np.asarray(patterns[k][0], float) for k in which]), 0.0)
            v = solve(b) if b.any() else np.zeros_like(b)
            v = np.where(live[:, None], v, 0.0)
            for col, k in enumerate(which):
                out[k] = self._fluxes(v[:, col], b[:, col], p, absorb, dwell, w,
                                      self.explicit if explicit else None)
        return out

    def _prepare(self, phase, phi, metal_potential, voltage: float, face_a, face_c) -> dict:
        """The weights (:meth:`_weights`) and the electrolyte components of a configuration,
        kept with the factorised chains of :meth:`_chain` until the configuration changes
        (explicit-trap events change no configuration: their walks reuse them)."""
        key = (phase, phi, metal_potential, np.float64(voltage), face_a, face_c)
        cached = self._prepared
        if cached is not None and all(np.array_equal(x, y, equal_nan=x.dtype.kind == "f")
                                      for x, y in zip(cached["key"], key)):
            return cached
        n = phase.size
        w = self._weights(phase, phi, metal_potential, voltage, face_a, face_c)
        ss, sm, src, dst = w["ss"], w["sm"], self.src, self.dst
        # sites connected to metal, a face or a trap through electrolyte: walks there end
        adj = sp.csr_matrix((np.ones(int(ss.sum()), np.int8), (src[ss], dst[ss])), shape=(n, n))
        _, comp = csgraph.connected_components(adj, directed=False)
        ends = np.zeros(n, bool)
        ends[src[sm]] = True
        ends[w["fa"]] = ends[w["fc"]] = True
        self._prepared = {"key": tuple(np.array(x) for x in key), "weights": w, "comp": comp,
                          "ends": ends, "chains": {}}
        return self._prepared

    def _chain(self, prep, phi, potential, explicit: bool):
        """The absorbing chain of walks from a metal at ``potential``: per site the absorption
        and dwell of :meth:`branching`, the live sites, the continuing probability per weight
        p, and a solver of (I - Q^T) v = b (kept in ``prep``)."""
        key = (potential, explicit)
        if key in prep["chains"]:
            return prep["chains"][key]
        w, comp, n = prep["weights"], prep["comp"], phi.size
        se, ss, w_ss, total = w["se"], w["ss"], w["w_ss"], w["total"]
        src, dst = self.src, self.dst
        absorb, dwell = self.branching(phi, potential, explicit)
        live_comp = np.zeros(comp.max() + 1, bool)
        live_comp[comp[prep["ends"] | (se & (absorb > 1e-12))]] = True
        live = se & live_comp[comp] & (total > 0)
        keep = ss & live[src]
        p = np.zeros(n)
        p[live] = (1.0 - absorb[live]) / total[live]  # continuing probability per weight
        q = p[src[keep]] * w_ss[keep[ss]]  # Q[s, t] = p_s w_st on the kept edges
        if self.hall is None and int(live.sum()) > self.direct_limit:
            def solve(b):
                return self._reversible_solve(keep, q, live, absorb, total, phi, b)
        else:  # (I - Q^T) v = b, an M-matrix: no pivoting, symmetric ordering
            A = sp.csc_matrix((np.concatenate([-q, np.ones(n)]),
                               (np.concatenate([dst[keep], np.arange(n)]),
                                np.concatenate([src[keep], np.arange(n)]))), shape=(n, n))
            solve = spla.splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                              options={"SymmetricMode": True}).solve
        prep["chains"][key] = (absorb, dwell, live, p, solve)
        return prep["chains"][key]

    def release_fates(self, phase, phi, metal_potential, voltage: float, face_a, face_c,
                      releases) -> list:
        """Where one packet escaping an explicit trap ends: an :class:`ElectronFluxes` of
        probabilities per ``(site, source_potential)`` of ``releases`` (:meth:`walk` with
        ``explicit``; the other arguments as there).

        The packet leaves its site s with the walk's first-step weights (w_st / T_s into
        an electrolyte neighbour, a metal or a face): those into the electrolyte walk on,
        and may be captured again, by s too; the others end at once.
        """
        w = self._prepare(phase, phi, metal_potential, voltage, face_a, face_c)["weights"]
        n, src, dst = phase.size, self.src, self.dst
        patterns, direct = [], []
        for site, potential in releases:
            t_s = w["total"][site]
            first = np.zeros(n)
            if t_s > 0:
                out_ss = src[w["ss"]] == site
                np.add.at(first, dst[w["ss"]][out_ss], w["w_ss"][out_ss] / t_s)
            patterns.append((first, potential))
            metal = np.zeros(n)
            if t_s > 0:
                out_sm = src[w["sm"]] == site
                np.add.at(metal, dst[w["sm"]][out_sm], w["w_sm"][out_sm] / t_s)
            exits = [float(np.sum(w[f"w_{f}"][w[f] == site])) / t_s if t_s > 0 else 0.0
                     for f in ("fa", "fc")]
            direct.append((metal, exits))
        fates = self.walk(phase, phi, metal_potential, voltage, face_a, face_c, patterns,
                          explicit=True)
        for f, (metal, (exit_a, exit_c)) in zip(fates, direct):
            f.metal = f.metal + metal
            f.exit_a += exit_a
            f.exit_c += exit_c
            f.injected = 1.0
        return fates

    def _reversible_solve(self, keep, q, live, absorb, total, phi, b) -> np.ndarray:
        """(I - Q^T) v = b for a large walk by conjugate gradients with an AMG preconditioner.

        Without a magnetic field the walk is reversible, pi_s Q_st = pi_t Q_ts with
        pi_s = T_s exp(-U_s) / (1 - a_s) (T_s its total weight, U = (Ec - e phi)/kT), so
        K = pi^(1/2) Q pi^(-1/2), with K_st = sqrt(Q_st Q_ts), is symmetric and I - K is
        positive definite (the walk is absorbed); v = pi^(1/2) (I - K)^-1 pi^(-1/2) b.
        Sparse LU of the walk fills in badly in 3D (8.6 s a factorisation at 49,152 sites).
        """
        n, src, dst = live.size, self.src[keep], self.dst[keep]
        reverse = self.reverse[keep]
        q_full = np.zeros(self.src.size)
        q_full[np.flatnonzero(keep)] = q
        k = np.sqrt(q * q_full[reverse])
        S = sp.csr_matrix((np.concatenate([-k, np.ones(n)]),
                           (np.concatenate([src, np.arange(n)]),
                            np.concatenate([dst, np.arange(n)]))), shape=(n, n))
        log_pi = np.zeros(n)
        u = (self.ec - np.nan_to_num(phi)) / self.kt
        log_pi[live] = (np.log(total[live]) - u[live] - np.log1p(-absorb[live]))
        log_pi[live] -= log_pi[live].max()
        half = np.exp(0.5 * log_pi)
        M = deterministic_amg(S).aspreconditioner()
        out = np.zeros_like(b)
        for col in range(b.shape[1]):
            rhs = np.where(live, b[:, col] / np.where(live, half, 1.0), 0.0)
            y, info = spla.cg(S, rhs, M=M, rtol=1e-12, maxiter=1000)
            if info != 0:
                raise RuntimeError(f"electron walk: CG did not converge ({info})")
            out[:, col] = half * y
        return out

    def _fluxes(self, v, b, p, absorb, dwell, w, explicit=None) -> ElectronFluxes:
        """Where the walks of visit rates ``v`` (injection ``b``) end (``w``: the weights of
        :meth:`_weights`; ``explicit``: the explicit traps, whose absorption is a capture)."""
        src, dst, n = self.src, self.dst, v.size
        sm = w["sm"]
        metal = np.bincount(dst[sm], v[src[sm]] * p[src[sm]] * w["w_sm"], n)
        exit_a = float(np.sum(v[w["fa"]] * p[w["fa"]] * w["w_fa"]))
        exit_c = float(np.sum(v[w["fc"]] * p[w["fc"]] * w["w_fc"]))
        ends = v * absorb
        captured = np.zeros(n)
        if explicit is not None:
            captured = np.where(explicit, ends, 0.0)
            ends = np.where(explicit, 0.0, ends)
        return ElectronFluxes(nucleation=ends, metal=metal, exit_a=exit_a, exit_c=exit_c,
                              injected=float(b.sum()), trapped=v * dwell, captured=captured)
