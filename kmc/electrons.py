"""Electron leakage into the electrolyte, solved quasi-statically (MODEL.md 5.4-5.6).

Electrons injected from Li metal into the electrolyte's conduction band walk, get trapped,
escape again and reduce Li+ far faster than Li plates (transit in ns-us against plating in
ms-s), and with the default LLZO data they are far too many to follow one by one: with Delta_F
calibrated on the bulk, the 3 eV grain-boundary gap gives a barrier-free contact that injects
~1e8 packets per second per boundary edge, and 0.4 eV boundary traps release them ~2e6 times
per second. So, like the ionic field, the electron traffic is solved per topology epoch, and
only its slow outcomes become kMC events (:mod:`kmc.events.electron_leak`):

* **Injection** (MODEL 5.4) from metal site m into electrolyte site s, per interface edge, in
  packets of charge q per second:
  r = A_R T^2 a_f exp(-(Phi_B(s) - e max(0, eta)) / kT) / q with Phi_B(s) = max(Eg(s)/2 -
  Delta_F, 0), capped at the Richardson limit A_R T^2 a_f / q. eta is the plating
  overpotential phi_s - Phi_m (positive when plating; MODEL.md writes max(0, -eta) in the
  electrochemical convention, where plating overpotentials are negative). Delta_F calibrates
  the bulk (:meth:`ElectronParameters.calibrated`).
* **Walk** (MODEL 5.4): from SE site s to neighbour t with weight
  exp(-(Ec_t - Ec_s)/2kT + (phi_t - phi_s)/2V_T), Ec = Eg/2 the conduction-band landscape
  and V_T = kT/e (electrons drift toward higher potential); into a metal neighbour with weight
  exp((Phi_t - phi_s)/2V_T) (absorbed by that cluster); out through an electrode face into
  the electrode (A at 0 V, C at the cell voltage) likewise: leakage current.
* **Traps, detrapping, reduction** (MODEL 5.5-5.6): at a site with trap depth E_t an electron
  is captured with probability p_c = 1 - exp(-E_t/kT) per visit; a captured electron either
  reduces a Li+ (nucleation) at k_n = nu_n exp(-dG* E(s)/E_bulk / kT) (barrier scaled by the
  local Young's modulus) or escapes at k_d = nu_t exp(-E_t/kT) and walks on. Per visit the walk
  therefore ends in nucleation with probability a_s = p_c k_n / (k_n + k_d); the trapped
  population is v_s p_c / (k_n + k_d) for a visit rate v_s. (Quasi-static: the relaxation of
  trapped charge in rest periods of pulsed current is instantaneous here; that part of MODEL
  5.5 needs explicit trap events.)

The expected visit rates v solve (I - Q^T) v = b, with b the injection rate per site and Q the
sub-stochastic transition matrix among electrolyte sites (walks that end in nucleation, metal
or an electrode leave it). Every packet injected ends somewhere: the fluxes into nucleation,
metal sites and the two electrodes add up to the injection rate (a test).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

from .codes import FACE_A, FACE_C
from .graph import Graph
from .microstructure import LI, SE
from .units import BOLTZMANN_EV

#: Richardson constant A_R = 4 pi m e k^2 / h^3 [A m^-2 K^-2].
RICHARDSON = 1.20173e6


@dataclass(frozen=True)
class ElectronParameters:
    """Parameters of electron injection, trapping and reduction (SI, energies in eV).

    Attributes
    ----------
    temperature : float
        T [K].
    delta_f : float
        Delta_F [eV] in the barrier Phi_B = Eg/2 - Delta_F.
    trap_attempt_frequency : float
        nu_t [1/s] of detrapping.
    nucleation_attempt_frequency : float
        nu_n [1/s] of the reduction of Li+ by a trapped electron.
    nucleation_barrier : float
        dG* [eV] at the bulk Young's modulus (scaled by E(s)/E_bulk per site).
    bulk_modulus : float
        E_bulk [Pa], the reference of that scaling.
    """

    temperature: float
    delta_f: float
    trap_attempt_frequency: float = 1e13
    nucleation_attempt_frequency: float = 1e13
    nucleation_barrier: float = 1.0
    bulk_modulus: float = 150e9

    @staticmethod
    def bulk_barrier(temperature: float, electronic_conductivity: float, thickness: float) -> float:
        """Phi_B [eV] of a bulk contact whose zero-bias conductance per area,
        e A_R T^2 exp(-Phi_B/kT) / kT, equals that of the electrolyte slab, sigma_e / L: the
        injection-limited leakage of a bulk cell then matches the measured electronic
        conductivity (MODEL.md 5.4: "Delta_F calibrates the bulk leakage")."""
        kt = BOLTZMANN_EV * temperature
        g_contact0 = RICHARDSON * temperature ** 2 / kt  # S/m^2 at Phi_B = 0
        return kt * math.log(g_contact0 * thickness / electronic_conductivity)

    @classmethod
    def calibrated(cls, material, thickness: float, **kwargs) -> "ElectronParameters":
        """Delta_F = Eg_bulk/2 - Phi_B(bulk) from a :class:`kmc.materials.ResolvedMaterial`
        (band gap, electronic conductivity at T, Young's modulus) and the slab thickness [m]."""
        phi_b = cls.bulk_barrier(material.temperature, material.electronic_conductivity, thickness)
        return cls(temperature=material.temperature, delta_f=material.band_gap / 2 - phi_b,
                   bulk_modulus=material.youngs_modulus, **kwargs)


def injection_rate(band_gap, overpotential, params: ElectronParameters, area: float,
                   quantum: float) -> np.ndarray:
    """Injection rate [packets of charge ``quantum`` per second] across interface edges into
    electrolyte sites of gap ``band_gap`` [eV] at plating overpotential ``overpotential`` [V]
    (module docstring); ``area`` [m^2] is the face area a_f."""
    kt = BOLTZMANN_EV * params.temperature
    barrier = np.maximum(np.asarray(band_gap, float) / 2 - params.delta_f, 0.0)
    eta = np.nan_to_num(np.asarray(overpotential, float), nan=0.0)
    exponent = np.minimum(-(barrier - np.maximum(eta, 0.0)) / kt, 0.0)  # Richardson limit
    return RICHARDSON * params.temperature ** 2 * area * np.exp(exponent) / quantum


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
    """

    nucleation: np.ndarray
    metal: np.ndarray
    exit_a: float
    exit_c: float
    injected: float
    trapped: np.ndarray


class ElectronLeak:
    """The absorbing-chain solve of the electron walk on a site graph.

    Parameters
    ----------
    graph : Graph
        Needs ``site_data``: ``band_gap`` [eV], ``trap_depth`` [eV], ``youngs_modulus`` [Pa],
        ``face`` (FACE_A / FACE_C).
    params : ElectronParameters
    """

    def __init__(self, graph: Graph, params: ElectronParameters):
        self.graph, self.params = graph, params
        sd = graph.site_data
        self.ec = np.asarray(sd["band_gap"], float) / 2.0
        self.face = np.asarray(sd["face"])
        kt = BOLTZMANN_EV * params.temperature
        self.kt = kt
        trap = np.asarray(sd["trap_depth"], float)
        capture = np.where(trap > 0, -np.expm1(-trap / kt), 0.0)
        k_d = params.trap_attempt_frequency * np.exp(-trap / kt)
        rel = np.asarray(sd["youngs_modulus"], float) / params.bulk_modulus
        k_n = params.nucleation_attempt_frequency * np.exp(-params.nucleation_barrier * rel / kt)
        #: probability per visit that the walk ends in the reduction of a Li+ at the site
        self.absorb = np.where(trap > 0, capture * k_n / (k_n + k_d), 0.0)
        #: trapped electrons per unit visit rate [s]
        self.dwell = np.where(trap > 0, capture / (k_n + k_d), 0.0)
        self.src, self.dst = graph.sources, graph.indices

    def solve(self, phase, phi, metal_potential, voltage: float, injection) -> ElectronFluxes:
        """Fluxes of one configuration.

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
        injection : ndarray
            Injection rate into each electrolyte site [1/s] (sum over its interface edges).
        """
        n = phase.size
        vt = self.kt  # thermal voltage kT/e [V] equals kT [eV] numerically
        se = (phase == SE) & np.isfinite(phi)
        src, dst = self.src, self.dst
        ss = se[src] & se[dst]
        w_ss = np.exp(-(self.ec[dst[ss]] - self.ec[src[ss]]) / (2 * self.kt)
                      + (phi[dst[ss]] - phi[src[ss]]) / (2 * vt))
        sm = se[src] & (phase[dst] == LI)
        w_sm = np.exp((metal_potential[dst[sm]] - phi[src[sm]]) / (2 * vt))
        fa = np.flatnonzero(se & (self.face == FACE_A))
        fc = np.flatnonzero(se & (self.face == FACE_C))
        w_fa = np.exp((0.0 - phi[fa]) / (2 * vt))
        w_fc = np.exp((voltage - phi[fc]) / (2 * vt))
        total = (np.bincount(src[ss], w_ss, n) + np.bincount(src[sm], w_sm, n)
                 + np.bincount(fa, w_fa, n) + np.bincount(fc, w_fc, n))
        # only sites from which a walk can end (connected to metal, a face or a trap)
        ends = np.zeros(n, bool)
        ends[src[sm]] = True
        ends[fa] = ends[fc] = True
        ends |= se & (self.absorb > 1e-12)  # a trap that (practically) never ends a walk is no exit
        adj = sp.csr_matrix((np.ones(int(ss.sum()), np.int8), (src[ss], dst[ss])), shape=(n, n))
        _, comp = csgraph.connected_components(adj, directed=False)
        live_comp = np.zeros(comp.max() + 1, bool)
        live_comp[comp[ends]] = True
        live = se & live_comp[comp] & (total > 0)
        keep = ss & live[src]
        stay = 1.0 - self.absorb
        p = np.zeros(n)
        p[live] = stay[live] / total[live]  # continuing probability per unit weight at s
        # (I - Q^T) v = b with Q[s, t] = p_s w_st
        rows = np.concatenate([dst[keep], np.arange(n)])
        cols = np.concatenate([src[keep], np.arange(n)])
        vals = np.concatenate([-p[src[keep]] * w_ss[keep[ss]], np.ones(n)])
        A = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
        b = np.where(live, np.asarray(injection, float), 0.0)
        v = spla.spsolve(A.tocsc(), b) if b.any() else np.zeros(n)
        v = np.where(live, v, 0.0)
        nucleation = v * self.absorb
        metal = np.bincount(dst[sm], v[src[sm]] * p[src[sm]] * w_sm, n)
        exit_a = float(np.sum(v[fa] * p[fa] * w_fa))
        exit_c = float(np.sum(v[fc] * p[fc] * w_fc))
        return ElectronFluxes(nucleation=nucleation, metal=metal, exit_a=exit_a, exit_c=exit_c,
                              injected=float(b.sum()), trapped=v * self.dwell)

