"""Material properties: what each one means, its SI unit and physical range, and its value at
an operating temperature.

:data:`PROPERTIES` (electrolytes) and :data:`LI_METAL_PROPERTIES` (Li metal) are the one table of
units and ranges that :mod:`kmc.materials` checks every material file against, and that documents
the properties. :func:`resolve` gives an electrolyte's values at a temperature (Arrhenius laws)
plus a few derived quantities, as a :class:`ResolvedMaterial` of plain floats in SI.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from .errors import ConfigError
from .units import BOLTZMANN_EV, GAS_CONSTANT

if TYPE_CHECKING:
    from .materials import Material


class PropertySpec(NamedTuple):
    """One row of a property table.

    Attributes
    ----------
    unit : str
        SI unit the value is converted to (pint syntax; ``""`` for a ratio).
    description : str
        One-line meaning of the property.
    lo, hi : float
        Inclusive physical range in ``unit``; values outside are rejected on load.
    """

    unit: str
    description: str
    lo: float
    hi: float


#: Every property of an electrolyte set: SI unit, description and allowed range.
PROPERTIES: dict[str, PropertySpec] = {
    "ionic_conductivity": PropertySpec(
        "S/m", "bulk (grain-interior) Li+ conductivity sigma", 1e-12, 1e2),
    "ionic_activation_energy": PropertySpec(
        "eV", "activation energy of the bulk Li+ conductivity (sigma*T form)", 0.0, 2.0),
    "gb_ionic_conductivity": PropertySpec(
        "S/m", "specific Li+ conductivity sigma_GB of the grain-boundary layer", 1e-12, 1e2),
    "gb_ionic_activation_energy": PropertySpec(
        "eV", "activation energy of the GB-layer Li+ conductivity (sigma*T form)", 0.0, 2.0),
    "ionic_mobility": PropertySpec(
        "m^2/(V*s)", "Li+ mobility mu = e D / kT (the Hall angle mu B; MODEL.md section 6)",
        1e-16, 1e-6),
    "gb_thickness": PropertySpec(
        "m", "thickness delta_GB of the grain-boundary layer (incl. space charge)", 1e-10, 1e-6),
    "electronic_conductivity": PropertySpec(
        "S/m", "electronic conductivity of the polycrystal (calibrates the electron leak)",
        1e-20, 1.0),
    "electronic_activation_energy": PropertySpec(
        "eV", "activation energy of the electronic conductivity (sigma*T form)", 0.0, 3.0),
    "electron_leak_path_factor": PropertySpec(
        "", "leakage of the reference polycrystal over sigma V / L of a slab of GB material "
        "(calibration constant, analysis/calibrate_leak.py)", 1e-6, 1e4),
    "band_gap": PropertySpec("eV", "band gap Eg of the bulk", 0.0, 15.0),
    "gb_band_gap": PropertySpec("eV", "band gap at grain boundaries", 0.0, 15.0),
    "crack_band_gap": PropertySpec("eV", "band gap at crack and fracture surfaces", 0.0, 15.0),
    "youngs_modulus": PropertySpec("Pa", "Young's modulus E of the bulk", 1e8, 1e12),
    "shear_modulus": PropertySpec("Pa", "shear modulus G of the bulk", 1e8, 1e12),
    "poisson_ratio": PropertySpec("", "Poisson ratio nu of the bulk", -1.0, 0.5),
    "gb_modulus_ratio": PropertySpec(
        "", "ratio r_E of the grain-boundary to the bulk Young's modulus", 0.01, 2.0),
    "fracture_toughness": PropertySpec(
        "Pa*m^0.5", "transgranular fracture toughness K_IC", 1e4, 1e8),
    "gb_fracture_toughness": PropertySpec(
        "Pa*m^0.5", "intergranular fracture toughness K_IC (crack along a GB)", 1e4, 1e8),
    "trap_depth_gb": PropertySpec(
        "eV", "electron trap depth E_trap at grain-boundary sites (0 = no trap)", 0.0, 3.0),
    "trap_depth_triple_junction": PropertySpec(
        "eV", "electron trap depth E_trap at triple junctions (0 = no trap)", 0.0, 3.0),
    "trap_depth_pore": PropertySpec(
        "eV", "electron trap depth E_trap at pore surfaces (0 = no trap)", 0.0, 3.0),
    "exchange_current_density": PropertySpec(
        "A/m^2", "exchange current density i0 of the Li|SE electrode interface", 1e-6, 1e6),
    "exchange_current_activation_energy": PropertySpec(
        "eV", "activation energy of both exchange current densities", 0.0, 2.0),
    "internal_exchange_current_density": PropertySpec(
        "A/m^2", "exchange current density of fresh internal Li|SE surfaces (cracks, nuclei)",
        1e-6, 1e6),
    "grain_size": PropertySpec("m", "mean grain diameter d_g", 1e-9, 0.1),
}

#: Every property of the Li metal set: SI unit, description and allowed range.
LI_METAL_PROPERTIES: dict[str, PropertySpec] = {
    "molar_volume": PropertySpec("m^3/mol", "molar volume V_m of Li metal", 1e-6, 1e-4),
    "youngs_modulus": PropertySpec("Pa", "Young's modulus of Li", 1e8, 1e11),
    "shear_modulus": PropertySpec("Pa", "shear modulus of Li", 1e8, 1e11),
    "yield_strength": PropertySpec("Pa", "yield strength of bulk Li", 1e3, 1e9),
    "yield_strength_micropillar": PropertySpec(
        "Pa", "yield strength of ~1 um Li (micropillars)", 1e3, 1e9),
    "creep_rate_prefactor": PropertySpec(
        "1/s", "eps0 in the power-law creep law eps_dot = eps0*(sigma/sigma0)^m", 1e-12, 1e6),
    "creep_reference_stress": PropertySpec(
        "Pa", "sigma0 in the power-law creep law", 1.0, 1e9),
    "creep_exponent": PropertySpec("", "stress exponent m of the power-law creep law", 1.0, 20.0),
    "creep_activation_energy": PropertySpec("J/mol", "activation energy Q of creep", 0.0, 2e5),
    "self_diffusion_coefficient": PropertySpec(
        "m^2/s", "Li self-diffusion coefficient", 1e-25, 1e-5),
}


@dataclass(frozen=True)
class ResolvedMaterial:
    """An electrolyte's properties at one temperature, as plain floats in SI.

    The fields are ``temperature`` [K], every name of :data:`PROPERTIES` in its unit (the
    conductivities and exchange current densities at ``temperature``, everything else as in
    the material set), and the derived quantities ``gb_youngs_modulus`` [Pa],
    ``gb_ionic_conductance_ratio`` [-] and ``thermal_voltage`` [V]; see :func:`resolve`.
    """

    temperature: float  # K
    reference_temperature: float  # K, of the set's values
    ionic_conductivity: float  # S/m, at temperature
    ionic_activation_energy: float  # eV
    gb_ionic_conductivity: float  # S/m, at temperature
    gb_ionic_activation_energy: float  # eV
    ionic_mobility: float  # m^2/(V s), at temperature
    gb_thickness: float  # m
    electronic_conductivity: float  # S/m, at temperature
    electronic_activation_energy: float  # eV
    electron_leak_path_factor: float  # -
    band_gap: float  # eV
    gb_band_gap: float  # eV
    crack_band_gap: float  # eV
    youngs_modulus: float  # Pa
    shear_modulus: float  # Pa
    poisson_ratio: float  # -
    gb_modulus_ratio: float  # -
    fracture_toughness: float  # Pa m^0.5
    gb_fracture_toughness: float  # Pa m^0.5
    trap_depth_gb: float  # eV
    trap_depth_triple_junction: float  # eV
    trap_depth_pore: float  # eV
    exchange_current_density: float  # A/m^2, at temperature
    exchange_current_activation_energy: float  # eV
    internal_exchange_current_density: float  # A/m^2, at temperature
    grain_size: float  # m
    gb_youngs_modulus: float  # Pa, r_E * E
    gb_ionic_conductance_ratio: float  # -, (sigma_GB/delta_GB) / (sigma/d_g)
    thermal_voltage: float  # V, k_B T / e


# ---------------------------------------------------------------------------------------
# Temperature dependence
# ---------------------------------------------------------------------------------------

def arrhenius(value_ref: float, activation_energy: float, temperature: float,
              reference_temperature: float, *, molar: bool = False) -> float:
    """Scale a rate constant from ``reference_temperature`` to ``temperature``.

    Parameters
    ----------
    value_ref : float
        Value at the reference temperature (any unit; the result has the same).
    activation_energy : float
        Activation energy E_a [eV], or [J/mol] with ``molar``.
    temperature, reference_temperature : float
        T and T_ref [K].
    molar : bool
        E_a per mole (divided by R instead of k_B), as Li creep's Q is given.

    Notes
    -----
    k(T) = k_ref * exp(-(E_a/k_B) * (1/T - 1/T_ref)), or exp(-(Q/R) (...)) per mole.
    """
    scale = GAS_CONSTANT if molar else BOLTZMANN_EV
    return value_ref * math.exp(
        -activation_energy / scale * (1.0 / temperature - 1.0 / reference_temperature))


def arrhenius_conductivity(sigma_ref: float, activation_energy: float, temperature: float,
                           reference_temperature: float) -> float:
    """Scale a conductivity from ``reference_temperature`` to ``temperature`` (sigma*T form).

    Parameters
    ----------
    sigma_ref : float
        Conductivity at the reference temperature [S/m].
    activation_energy : float
        Activation energy E_a of sigma*T [eV].
    temperature, reference_temperature : float
        T and T_ref [K].

    Returns
    -------
    float
        sigma(T) [S/m].

    Notes
    -----
    sigma(T) = sigma_ref * (T_ref/T) * exp(-(E_a/k_B) * (1/T - 1/T_ref)), i.e.
    sigma*T = A*exp(-E_a/(k_B*T)): hopping conduction, from the Nernst-Einstein relation
    sigma = n*q^2*D/(k_B*T) with an Arrhenius diffusion coefficient D (Bachman et al. 2016,
    Chem. Rev. 116, 140). An E_a fitted to ln(sigma) instead of ln(sigma*T) is larger by
    about k_B*T (~0.026 eV at 298 K); the sets do not distinguish the two.
    """
    return arrhenius(sigma_ref, activation_energy, temperature, reference_temperature) * (
        reference_temperature / temperature)


def resolve(material: Material, temperature: float) -> ResolvedMaterial:
    """An electrolyte's properties at ``temperature``, as plain floats in SI.

    Parameters
    ----------
    material : Material
        An electrolyte set from :func:`kmc.materials.load_material`.
    temperature : float
        Cell temperature T [K].

    Returns
    -------
    ResolvedMaterial
        Every property of :data:`PROPERTIES`, the temperature-dependent ones at T, plus
        ``gb_youngs_modulus`` [Pa], ``gb_ionic_conductance_ratio`` [-] and
        ``thermal_voltage`` [V].

    Raises
    ------
    ConfigError
        If the temperature is not a finite number > 0 K.

    Notes
    -----
    With T_ref the set's reference temperature and k_B the Boltzmann constant:

    * ``ionic_conductivity``, ``gb_ionic_conductivity`` and ``electronic_conductivity``, each
      with its own activation energy, and ``ionic_mobility`` (with the bulk ionic one: the
      carrier density is fixed) follow the sigma*T Arrhenius law of
      :func:`arrhenius_conductivity`: sigma(T) = sigma_ref (T_ref/T) exp(-(E_a/k_B)(1/T - 1/T_ref)).
    * ``exchange_current_density`` and ``internal_exchange_current_density`` follow
      i0(T) = i0_ref exp(-(E_a/k_B)(1/T - 1/T_ref)) (:func:`arrhenius`) with
      ``exchange_current_activation_energy``.
    * ``gb_youngs_modulus`` = r_E * E (MODEL.md section 3).
    * ``gb_ionic_conductance_ratio`` = (sigma_GB/delta_GB) / (sigma/d_g): the areal Li+
      conductance of one GB layer over that of one grain crossed in series (brick-layer
      picture). Below 1 the GBs dominate the resistance of the polycrystal; it is for
      information only (the field solve uses sigma, sigma_GB and delta_GB themselves).
    * ``thermal_voltage`` = k_B T / e.

    All other values (moduli, toughness, band gaps, trap depths, sizes) are taken as
    temperature-independent.
    """
    if not (math.isfinite(temperature) and temperature > 0.0):
        raise ConfigError(f"temperature = {temperature!r}: must be a finite number > 0 K")
    t_ref = material.reference_temperature
    v = {name: material.values[name].value for name in PROPERTIES}
    for sigma, energy in (("ionic_conductivity", "ionic_activation_energy"),
                          ("ionic_mobility", "ionic_activation_energy"),
                          ("gb_ionic_conductivity", "gb_ionic_activation_energy"),
                          ("electronic_conductivity", "electronic_activation_energy")):
        v[sigma] = arrhenius_conductivity(v[sigma], v[energy], temperature, t_ref)
    for i0 in ("exchange_current_density", "internal_exchange_current_density"):
        v[i0] = arrhenius(v[i0], v["exchange_current_activation_energy"], temperature, t_ref)
    return ResolvedMaterial(
        temperature=float(temperature),
        reference_temperature=float(t_ref),
        **v,
        gb_youngs_modulus=v["gb_modulus_ratio"] * v["youngs_modulus"],
        gb_ionic_conductance_ratio=(v["gb_ionic_conductivity"] * v["grain_size"])
        / (v["ionic_conductivity"] * v["gb_thickness"]),
        thermal_voltage=BOLTZMANN_EV * temperature,
    )
