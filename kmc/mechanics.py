"""Li pressure, Griffith fracture, slow crack growth and tip kinetics (MODEL.md 5.1-5.2, 10.5).

Plain functions in SI units; the plating kernels evaluate the same formulas per site.

* Electrodeposition pressure: Li plated at an overpotential eta into a confined volume sits at
  p = F eta / V_m (7.4 MPa per mV with V_m = 13.0 cm^3/mol; seeds 000, 001), and conversely a
  Li pressure p shifts the metal's equilibrium potential by p V_m / F (135 mV per GPa, seed 002).
* Griffith: a Li-filled crack of length a advances when the stress intensity
  K_I = Y (p - sigma_nn) sqrt(pi a) reaches the fracture toughness K_IC, i.e. when
  p >= K_IC / (Y sqrt(pi a)) + sigma_nn (seed 001 uses Y = 1). sigma_nn is the applied
  compressive stress normal to the crack faces, counted positive (a pressure): it must be
  overcome in addition, which is how in-plane compression deflects growth (seed 000).
* Crack path (MODEL.md 10.4): a step kinked by theta from the crack direction is driven by
  K_I cos^3(theta/2) (maximum hoop stress, :func:`kink_factor`).
* Slow crack growth (stress corrosion, MODEL.md 10.5): below K_IC a Li-wetted tip advances at
  v = v0 (K_I/K_IC)^n above the fatigue limit K_th (Charles/Wiederhorn power law), one site of
  length h at the rate v / h (:func:`subcritical_crack_rate`).
* Tip kinetics: a Li-filled crack advancing at dx/dt carries j_tip = z F / V_m dx/dt (seed 001,
  eq. 1).
* Li creep: power law eps_dot = eps0 (sigma / sigma0)^m exp(-Q/R (1/T - 1/T_ref)) (MODEL.md
  section 5, item 7; Li-metal set ``li_metal.toml``), used for the creep channels, the creep
  relief of anchored Li and the creep-limited stripping current of stripping voids.
* Size-dependent Li flow stress (MODEL.md 10.6): sigma0 may be per site, the power law
  sigma_ref(w) of the width w of the site's Li (:func:`li_flow_stress`; Xu et al. 2017).

The functions take numbers or numpy arrays alike; the plating events call them on arrays.
"""
from __future__ import annotations

import math

import numpy as np

from .materials import arrhenius
from .units import FARADAY

#: Geometry factor of the Griffith criterion used by seed 001 (p_c = K_IC / sqrt(pi a)).
Y_DEFAULT = 1.0


def electrodeposition_pressure(overpotential: float, molar_volume: float) -> float:
    """Pressure [Pa] of Li plated at ``overpotential`` [V] into a confined volume: F eta / V_m."""
    return FARADAY * overpotential / molar_volume


def pressure_overpotential(pressure: float, molar_volume: float) -> float:
    """Shift [V] of the Li equilibrium potential under ``pressure`` [Pa]: p V_m / F."""
    return pressure * molar_volume / FARADAY


def griffith_pressure(toughness: float, crack_length: float, y: float = Y_DEFAULT,
                      normal_stress: float = 0.0) -> float:
    """Li pressure [Pa] at which a crack of length ``crack_length`` [m] advances.

    Parameters
    ----------
    toughness : float
        K_IC [Pa m^0.5].
    crack_length : float
        a [m] (> 0).
    y : float
        Geometry factor Y.
    normal_stress : float
        sigma_nn [Pa], the applied compressive stress on the crack faces counted positive: it
        must be overcome in addition (MODEL.md section 5, item 2).
    """
    return toughness / (y * math.sqrt(math.pi * crack_length)) + normal_stress


def stress_intensity(pressure: float, crack_length: float, y: float = Y_DEFAULT,
                     normal_stress: float = 0.0) -> float:
    """Mode-I stress intensity K_I = Y (p - sigma_nn) sqrt(pi a) [Pa m^0.5]."""
    return y * (pressure - normal_stress) * np.sqrt(np.pi * crack_length)


def crack_threshold_overpotential(toughness: float, crack_length: float, molar_volume: float,
                                  y: float = Y_DEFAULT) -> float:
    """Overpotential [V] whose electrodeposition pressure opens a crack of length a:
    V_m K_IC / (F Y sqrt(pi a)) (VALIDATION.md C2: 46 mV at a = 1 um, K_IC = 0.6 MPa m^0.5)."""
    return pressure_overpotential(griffith_pressure(toughness, crack_length, y), molar_volume)


def fracture_rate(k_i: float, toughness: float, attempt_rate: float) -> float:
    """Crack-advance rate [1/s]: nu_f (K_I / K_IC - 1) above threshold, 0 below (MODEL.md 5.2)."""
    ratio = np.asarray(k_i, float) / toughness
    rate = np.where(ratio >= 1.0, attempt_rate * (ratio - 1.0), 0.0)
    return float(rate) if rate.ndim == 0 else rate


def kink_factor(cos_theta):
    """Fraction of K_I that drives a crack step kinked by theta from the crack's direction
    (MODEL.md 10.4): the maximum hoop (tangential) stress criterion of Erdogan & Sih (1963,
    J. Basic Eng. 85, 519) for a pure mode-I crack, K_theta / K_I = cos^3(theta / 2)
    = ((1 + cos theta) / 2)^(3/2): 1 straight ahead, 0.79 at 45 degrees, 0.35 at 90 degrees,
    0 straight back.

    Parameters
    ----------
    cos_theta : float or ndarray
        Cosine of the kink angle theta between the crack direction and the step.
    """
    c = np.clip(np.asarray(cos_theta, float), -1.0, 1.0)
    out = np.power(0.5 * (1.0 + c), 1.5)
    return float(out) if out.ndim == 0 else out


def subcritical_crack_rate(k_i, toughness, threshold_ratio: float, velocity_prefactor: float,
                           exponent: float, step):
    """Rate [1/s] of one lattice step of slow (stress-corrosion) crack growth (MODEL.md 10.5).

    A Li-wetted crack tip advances below K_IC at the power-law velocity of stress corrosion
    (Charles 1958; Wiederhorn 1967; review Freiman 1984, J. Geophys. Res. 89 B6, 4072):

        v = v0 (K_I / K_IC)^n  for  K_I >= K_th,   v = 0 below,

    and a step of length h happens at the rate v / h. The power law has no upper cut-off here:
    at and above K_IC the fracture event takes max(nu_f (K_I/K_IC - 1), v / h) (see
    :mod:`kmc.events.fracture`), so the advance rate is continuous and non-decreasing in K_I.

    Parameters
    ----------
    k_i : float or ndarray
        Stress intensity K_I [Pa m^0.5].
    toughness : float or ndarray
        Fracture toughness K_IC [Pa m^0.5].
    threshold_ratio : float
        K_th / K_IC, in (0, 1): the fatigue limit.
    velocity_prefactor : float
        v0 [m/s], the velocity extrapolated to K_I = K_IC.
    exponent : float
        n, the stress-corrosion exponent (11 for glasses to > 100 for polycrystalline ceramics,
        Freiman 1984).
    step : float or ndarray
        Length h [m] of the step (the edge length).

    Returns
    -------
    float or ndarray
        v0 (K_I/K_IC)^n / h where K_I/K_IC >= K_th/K_IC, else 0.
    """
    ratio = np.asarray(k_i, float) / toughness
    with np.errstate(under="ignore"):
        velocity = velocity_prefactor * np.power(np.maximum(ratio, 0.0), exponent)
    rate = np.where(ratio >= threshold_ratio, velocity / step, 0.0)
    return float(rate) if rate.ndim == 0 else rate


def dynamic_crack_velocity(k_i, toughness, terminal_speed: float):
    """Speed [m/s] of a crack driven above its toughness (MODEL.md 10.5): Freund's equation of
    motion for a running crack, v = c_R (1 - (K_IC/K_I)^2) = c_R (1 - G_c/G) (L. B. Freund,
    Dynamic Fracture Mechanics, Cambridge University Press 1990; J. Mech. Phys. Solids 20, 129
    (1972)), 0 below K_IC. The speed is bounded by the Rayleigh wave speed c_R: far above K_IC every open step
    runs at nearly c_R, so the toughness of a step matters less the harder the crack is driven.

    Parameters
    ----------
    k_i : float or ndarray
        Stress intensity K_I [Pa m^0.5] driving the step (kink factor included).
    toughness : float or ndarray
        Fracture toughness K_IC [Pa m^0.5] of the step.
    terminal_speed : float
        c_R [m/s], the Rayleigh wave speed of the electrolyte.
    """
    ratio = np.asarray(k_i, float) / toughness
    v = np.where(ratio >= 1.0, terminal_speed * (1.0 - np.maximum(ratio, 1.0) ** -2.0), 0.0)
    return float(v) if v.ndim == 0 else v


def tip_current_density(velocity: float, molar_volume: float, charge_number: int = 1) -> float:
    """Current density [A/m^2] that advances a Li-filled crack at ``velocity`` [m/s]:
    j = z F v / V_m (seed 001, eq. 1)."""
    return charge_number * FARADAY * velocity / molar_volume


def tip_velocity(current_density: float, molar_volume: float, charge_number: int = 1) -> float:
    """Advance velocity [m/s] of a Li-filled crack fed by ``current_density`` [A/m^2]."""
    return current_density * molar_volume / (charge_number * FARADAY)


def creep_arrhenius(li, temperature: float) -> float:
    """Arrhenius factor exp(-Q/R (1/T - 1/T_ref)) of Li creep [-] (``li``: the Li-metal set)."""
    return arrhenius(1.0, li.creep_activation_energy, temperature, li.reference_temperature,
                     molar=True)


def li_flow_stress(width, bulk: float, reference_stress: float, reference_width: float,
                   exponent: float):
    """Flow (creep reference) stress [Pa] of Li confined to a width ``width`` [m] (MODEL.md 10.6).

    Small Li volumes are much stronger than bulk Li: single-crystalline Li micropillars follow
    a power-law size effect sigma_y ~ D^(-0.68) at 298 K (D^(-1.00) at 363 K) and reach
    ~95-105 MPa at D ~ 1 um, against ~1 MPa in bulk (Xu, Ahmad, Sun, Greer, Cui et al.,
    PNAS 114, 57 (2017), https://www.osti.gov/biblio/1336848; Yao et al. 2023, seed 000,
    ref [41]). The Li in a crack of width w therefore flows at

        sigma_ref(w) = max(sigma_bulk, sigma_um (w / w_ref)^(-m_s)),

    the power law through (w_ref, sigma_um), clipped below at the bulk value (reached at
    w = w_ref (sigma_um / sigma_bulk)^(1/m_s), ~0.8 mm with the defaults). It has no upper
    cap: below w_ref it keeps rising as measured on sub-micrometre pillars.

    Parameters
    ----------
    width : float or ndarray
        w [m]; ``inf`` (or any width past the bulk crossover) gives the bulk value, w <= 0 is
        not allowed.
    bulk : float
        sigma_bulk [Pa], the bulk creep reference stress (``creep_reference_stress``).
    reference_stress : float
        sigma_um [Pa], the flow stress at ``reference_width`` (``yield_strength_micropillar``).
    reference_width : float
        w_ref [m] (1 um: the pillar size of ``reference_stress``).
    exponent : float
        m_s [-], the size-effect exponent (0.68 at 298 K, Xu 2017).

    Returns
    -------
    float or ndarray
        sigma_ref(w) [Pa], the same shape as ``width``.
    """
    w = np.asarray(width, float)
    if np.any(w <= 0):
        raise ValueError("li_flow_stress: widths must be > 0")
    sigma = np.maximum(bulk, reference_stress * (w / reference_width) ** (-exponent))
    return float(sigma) if sigma.ndim == 0 else sigma


def creep_rate(pressure_difference, li, temperature: float, quanta_per_site: int,
               reference_stress=None):
    """Quanta per second [1/s] creeping across a site face under ``pressure_difference`` [Pa].

    The power-law creep strain rate eps_dot = eps0 (dp / sigma0)^m exp(-Q/R (1/T - 1/T_ref))
    moves a site's volume per 1/eps_dot seconds, i.e. n_q eps_dot quanta per second; zero for
    dp <= 0 (MODEL.md section 5, item 7; parameters from ``li_metal.toml``). sigma0 is the
    Li-metal set's ``creep_reference_stress`` unless ``reference_stress`` [Pa] (a number or a
    per-value array, e.g. :func:`li_flow_stress` of each site's Li width) is given.
    """
    dp = np.maximum(np.asarray(pressure_difference, float), 0.0)
    if reference_stress is None:
        return (quanta_per_site * li.creep_rate_prefactor * creep_arrhenius(li, temperature)
                * (dp / li.creep_reference_stress) ** li.creep_exponent)
    return (quanta_per_site * li.creep_rate_prefactor * creep_arrhenius(li, temperature)
            * (dp / np.asarray(reference_stress, float)) ** li.creep_exponent)


def creep_pressure(rate, length_sites, li, temperature: float, quanta_per_site: int,
                   reference_stress=None):
    """Pressure [Pa] that drives ``rate`` quanta per second by creep through a Li column of
    ``length_sites`` faces in series (each taking dp / length): the inverse of
    :func:`creep_rate`, dp = length sigma0 (rate / (n_q eps0 A(T)))^(1/m), with sigma0 as in
    :func:`creep_rate` (``reference_stress``: per-value sigma0 [Pa], default the set's)."""
    unit = float(creep_rate(li.creep_reference_stress, li, temperature, quanta_per_site))
    r = np.maximum(np.asarray(rate, float), 0.0)
    sigma0 = li.creep_reference_stress if reference_stress is None else np.asarray(reference_stress, float)
    return np.asarray(length_sites, float) * sigma0 * (r / unit) ** (1.0 / li.creep_exponent)


def stripping_limit(limit: float, limit_per_pressure: float, stack_pressure: float, li,
                    temperature: float) -> float:
    """Creep-resupply-limited stripping current density j_strip [A/m^2] (MODEL.md 5.8):
    (j0 + dj/dP P_stack) exp(-Q/R (1/T - 1/T_ref)) with Li creep's activation energy Q."""
    return (limit + limit_per_pressure * stack_pressure) * creep_arrhenius(li, temperature)
