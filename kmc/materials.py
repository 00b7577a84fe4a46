"""Material property sets: solid electrolytes and Li metal, with the source of every value.

Each set is a TOML file, one per material (``llzo.toml``, ``li6ps5cl.toml``, ...; the metal is
``li_metal.toml``). Besides a header (``name``, ``description``, ``structure``,
``crystal_symmetry``, ``reference_temperature``) every entry is an inline table::

    ionic_conductivity = { value = "0.46 mS/cm", tag = "R2", source = "Eckhardt et al. 2023, ..." }

with optional ``estimate = true`` (required exactly when ``tag = "E"``) and ``note``. The tags are
those of ``PARAMETERS.md``: S stated in a seed paper, R read in the cited primary source, R2 read
in a paper citing it, D derived (formula in the source line), E an estimate chosen for the model.
Values are converted to SI once, on load, and checked against one table of units and physical
ranges, :data:`PROPERTIES` for electrolytes and :data:`LI_METAL_PROPERTIES` for the metal; the
same tables document the properties. :func:`resolve` gives the values at an operating
temperature (Arrhenius laws) plus a few derived quantities.

The files are looked for in, in this order: the ``directory`` argument, the directory named by
the environment variable ``KMC_MATERIALS_DIR``, and ``inputs/materials`` of the source tree that
holds the package.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .config import build, param
from .errors import ConfigError
from .units import BOLTZMANN_EV, to_si

#: Environment variable naming a directory of material files.
MATERIALS_DIR_ENV = "KMC_MATERIALS_DIR"
#: The material files of the source tree (used when neither argument nor environment says).
DEFAULT_MATERIALS_DIR = Path(__file__).resolve().parents[1] / "inputs" / "materials"
#: File stem of the Li metal set (loaded by :func:`load_li_metal`, not an electrolyte).
LI_METAL = "li_metal"
#: Provenance tags allowed in a material file (``PARAMETERS.md``); a deck override gets "override".
TAGS = ("S", "R", "R2", "D", "E")
#: Keys of one value's inline table.
ENTRY_KEYS = ("value", "tag", "source", "estimate", "note")
#: Microstructure classes; only "polycrystalline" has grain boundaries.
STRUCTURES = ("polycrystalline", "single_crystal", "amorphous")
#: Crystal systems; "none" for an amorphous material.
CRYSTAL_SYMMETRIES = ("cubic", "tetragonal", "orthorhombic", "hexagonal", "trigonal",
                      "monoclinic", "triclinic", "none")


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
    "gb_thickness": PropertySpec(
        "m", "thickness delta_GB of the grain-boundary layer (incl. space charge)", 1e-10, 1e-6),
    "electronic_conductivity": PropertySpec(
        "S/m", "bulk electronic conductivity (calibrates the electron-leak barrier)", 1e-20, 1.0),
    "electronic_activation_energy": PropertySpec(
        "eV", "activation energy of the electronic conductivity (sigma*T form)", 0.0, 3.0),
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
class MaterialValue:
    """One property value with its provenance.

    Attributes
    ----------
    value : float
        The value in ``unit``.
    unit : str
        Its SI unit (``""`` for a ratio).
    tag : str
        One of :data:`TAGS`, or ``"override"`` for a value replaced by a deck.
    source : str
        Where the value comes from (for tag E: why it was chosen).
    estimate : bool
        True for a model estimate (tag E): a value to sweep, not a measurement.
    note : str
        Ranges, conflicting values, applicability.
    """

    value: float
    unit: str
    tag: str
    source: str
    estimate: bool = False
    note: str = ""


@dataclass(frozen=True)
class Material:
    """A material set: header and values in SI, each with its provenance.

    Property values read as attributes in SI (``material.band_gap`` -> 6.0 [eV]); the
    provenance of one value is :meth:`value_info`; ``values`` maps every property to its
    :class:`MaterialValue`.
    """

    name: str = param("material name (the file stem for the sets in inputs/materials)")
    description: str = param("one-line description of the material")
    structure: str = param("microstructure class; only polycrystalline has grain boundaries",
                           choices=STRUCTURES)
    crystal_symmetry: str = param("crystal system ('none' if amorphous)",
                                  choices=CRYSTAL_SYMMETRIES)
    reference_temperature: float = param("temperature T_ref at which the values are given",
                                         unit="K", lo=0.0, hi=2000.0, lo_open=True)
    values: dict[str, MaterialValue] = field(default_factory=dict, repr=False)

    def __getattr__(self, name):
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name].value
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def value_info(self, name: str) -> MaterialValue:
        """The value of property ``name`` with its unit, tag, source, estimate flag and note."""
        try:
            return self.values[name]
        except KeyError:
            raise KeyError(f"{self.name}: no property {name!r}") from None


@dataclass(frozen=True)
class ResolvedMaterial:
    """An electrolyte's properties at one temperature, as plain floats in SI.

    The fields are ``temperature`` [K], every name of :data:`PROPERTIES` in its unit (the
    conductivities and exchange current densities at ``temperature``, everything else as in
    the material set), and the derived quantities ``gb_youngs_modulus`` [Pa],
    ``gb_ionic_conductance_ratio`` [-] and ``thermal_voltage`` [V]; see :func:`resolve`.
    """

    temperature: float  # K
    ionic_conductivity: float  # S/m, at temperature
    ionic_activation_energy: float  # eV
    gb_ionic_conductivity: float  # S/m, at temperature
    gb_ionic_activation_energy: float  # eV
    gb_thickness: float  # m
    electronic_conductivity: float  # S/m, at temperature
    electronic_activation_energy: float  # eV
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
# Finding and reading material files
# ---------------------------------------------------------------------------------------

def materials_dir(directory=None) -> Path:
    """The directory that holds the material files.

    Parameters
    ----------
    directory : str or path-like, optional
        Use this directory. Otherwise the environment variable ``KMC_MATERIALS_DIR`` if set,
        else :data:`DEFAULT_MATERIALS_DIR` (``inputs/materials`` next to the package).

    Raises
    ------
    ConfigError
        If the directory does not exist; the message says where it looked and why there.
    """
    if directory is not None:
        path, origin = Path(directory), "given as directory"
    elif os.environ.get(MATERIALS_DIR_ENV):
        path, origin = Path(os.environ[MATERIALS_DIR_ENV]), f"from {MATERIALS_DIR_ENV}"
    else:
        path = DEFAULT_MATERIALS_DIR
        origin = f"the default next to the package; set {MATERIALS_DIR_ENV} or pass a directory"
    if not path.is_dir():
        raise ConfigError(f"{path}: materials directory not found ({origin})")
    return path


def available_materials(directory=None) -> list[str]:
    """Names of the electrolyte sets (file stems, sorted; the Li metal set is not listed).

    Parameters
    ----------
    directory : str or path-like, optional
        Materials directory; see :func:`materials_dir`.
    """
    return sorted(p.stem for p in materials_dir(directory).glob("*.toml") if p.stem != LI_METAL)


def load_material(name_or_path, overrides: dict | None = None, key: str = "material",
                  directory=None) -> Material:
    """Load an electrolyte set by name or from a TOML file, in SI, with deck overrides.

    Parameters
    ----------
    name_or_path : str or path-like
        A name from :func:`available_materials` (case-insensitive: ``"LLZO"``) or the path of a
        ``.toml`` file (anything ending in ``.toml`` or containing a path separator).
    overrides : dict, optional
        ``{property: "value with unit"}`` from a deck; each replaces the file's value and is
        recorded with tag ``"override"``, source ``"deck override"``, estimate False, and a note
        naming the value it replaces.
    key : str
        Key path of the material table in the deck, used in error messages
        (``material.name``, ``material.overrides.<property>``).
    directory : str or path-like, optional
        Materials directory for names; see :func:`materials_dir`.

    Raises
    ------
    ConfigError
        One line naming the key path (or file and entry), the value and what is allowed: an
        unknown material, file, property or entry key (with the closest valid name); a missing
        property, source or tag; a tag E without ``estimate = true`` or the reverse; a wrong
        unit; a value outside the range of :data:`PROPERTIES`.
    """
    return _load(_material_path(name_or_path, key, directory), PROPERTIES, overrides, key)


def load_li_metal(overrides: dict | None = None, key: str = "li_metal",
                  directory=None) -> Material:
    """Load the Li metal set (``li_metal.toml``) in SI, checked against :data:`LI_METAL_PROPERTIES`.

    Parameters
    ----------
    overrides : dict, optional
        ``{property: "value with unit"}`` from a deck, as in :func:`load_material`.
    key : str
        Key path of the Li metal table in the deck, used in error messages.
    directory : str or path-like, optional
        Materials directory; see :func:`materials_dir`.

    Raises
    ------
    ConfigError
        As :func:`load_material`.
    """
    return _load(materials_dir(directory) / f"{LI_METAL}.toml", LI_METAL_PROPERTIES, overrides,
                 key)


def _material_path(name_or_path, key, directory) -> Path:
    if isinstance(name_or_path, str) and not (
            name_or_path.endswith(".toml") or "/" in name_or_path or os.sep in name_or_path):
        names = available_materials(directory)
        name = name_or_path.lower()
        if name not in names:
            raise ConfigError(f"{key}.name = {name_or_path!r}: unknown material"
                              f"{_did_you_mean(name, names)} (available: {', '.join(names)})")
        return materials_dir(directory) / f"{name}.toml"
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise ConfigError(f"{key}.name = {name_or_path!r}: expected a material name or the path "
                          "of a .toml file")
    path = Path(name_or_path)
    if not path.is_file():
        raise ConfigError(f"{key}.name = {str(path)!r}: material file not found")
    return path


def _read_toml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: material file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read material file ({exc.__class__.__name__}: {exc})"
                          ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML syntax error: {exc}") from None


_HEADER = tuple(f.name for f in dataclasses.fields(Material) if f.name != "values")


def _load(path: Path, table: dict[str, PropertySpec], overrides, key) -> Material:
    data = _read_toml(path)
    try:
        for name in data:
            if name not in _HEADER and name not in table:
                raise ConfigError(_unknown_property(name, name, [*_HEADER, *table]))
        material = build(Material, {k: v for k, v in data.items() if k in _HEADER})
        values = {}
        for name, spec in table.items():
            if name not in data:
                raise ConfigError(f"{name}: missing property ({spec.description})")
            values[name] = _entry(name, data[name], spec)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if overrides is not None:
        values = _apply_overrides(values, overrides, table, f"{key}.overrides")
    return dataclasses.replace(material, values=values)


def _entry(name: str, raw, spec: PropertySpec) -> MaterialValue:
    """Check one inline table ``{ value, tag, source, estimate, note }`` of a material file."""
    if not isinstance(raw, dict):
        raise ConfigError(f'{name} = {raw!r}: expected an inline table '
                          '{ value = "...", tag = "...", source = "..." }')
    for entry_key in raw:
        if entry_key not in ENTRY_KEYS:
            hint = _did_you_mean(entry_key, ENTRY_KEYS)
            raise ConfigError(f"{name}.{entry_key}: unknown key{hint} "
                              f"(allowed: {', '.join(ENTRY_KEYS)})")
    if "value" not in raw:
        raise ConfigError(f"{name}: missing value")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(f"{name}: every value needs a source")
    if "tag" not in raw:
        raise ConfigError(f"{name}: every value needs a tag ({', '.join(TAGS)})")
    tag = raw["tag"]
    if tag not in TAGS:
        raise ConfigError(f"{name}.tag = {tag!r}: must be one of {', '.join(TAGS)}")
    estimate = raw.get("estimate", False)
    if not isinstance(estimate, bool):
        raise ConfigError(f"{name}.estimate = {estimate!r}: expected true or false")
    if estimate != (tag == "E"):
        raise ConfigError(f"{name}: tag 'E' needs estimate = true" if tag == "E"
                          else f"{name}: estimate = true needs tag 'E'")
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise ConfigError(f"{name}.note = {note!r}: expected a string")
    return MaterialValue(_to_si(f"{name}.value", raw["value"], spec), spec.unit, tag, source,
                         estimate, note)


def _apply_overrides(values, overrides, table, prefix) -> dict[str, MaterialValue]:
    if not isinstance(overrides, dict):
        raise ConfigError(f'{prefix} = {overrides!r}: expected a table of property = "value unit"')
    out = dict(values)
    for name, raw in overrides.items():
        key = f"{prefix}.{name}"
        if name not in table:
            raise ConfigError(_unknown_property(key, name, list(table)))
        spec, old = table[name], values[name]
        out[name] = MaterialValue(
            _to_si(key, raw, spec), spec.unit, "override", "deck override", False,
            f"replaces {f'{old.value:g} {spec.unit}'.strip()} (tag {old.tag})")
    return out


def _to_si(key: str, raw, spec: PropertySpec) -> float:
    """Convert with :func:`kmc.units.to_si` and check the inclusive range of ``spec``."""
    number = to_si(key, raw, spec.unit)
    if not spec.lo <= number <= spec.hi:
        si = f"{number:g} {spec.unit}".strip()
        shown = f"{raw!r} (= {si})" if isinstance(raw, str) and raw.strip() != si else repr(raw)
        unit = f" {spec.unit}" if spec.unit else ""
        raise ConfigError(f"{key} = {shown}: out of range, must be in "
                          f"[{spec.lo:g}, {spec.hi:g}]{unit}")
    return number


def _did_you_mean(name: str, allowed) -> str:
    close = difflib.get_close_matches(name, allowed, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _unknown_property(key: str, name: str, allowed: list[str]) -> str:
    """The message for an unknown property: the closest name, or all names if none is close."""
    hint = _did_you_mean(name, allowed)
    return f"{key}: unknown property{hint}" if hint else (
        f"{key}: unknown property (allowed: {', '.join(allowed)})")


# ---------------------------------------------------------------------------------------
# Temperature dependence
# ---------------------------------------------------------------------------------------

def arrhenius(value_ref: float, activation_energy: float, temperature: float,
              reference_temperature: float) -> float:
    """Scale a rate constant from ``reference_temperature`` to ``temperature``.

    Parameters
    ----------
    value_ref : float
        Value at the reference temperature (any unit; the result has the same).
    activation_energy : float
        Activation energy E_a [eV].
    temperature, reference_temperature : float
        T and T_ref [K].

    Notes
    -----
    k(T) = k_ref * exp(-(E_a/k_B) * (1/T - 1/T_ref)).
    """
    return value_ref * math.exp(
        -activation_energy / BOLTZMANN_EV * (1.0 / temperature - 1.0 / reference_temperature))


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
        An electrolyte set from :func:`load_material`.
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
      with its own activation energy, follow the sigma*T Arrhenius law of
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
                          ("gb_ionic_conductivity", "gb_ionic_activation_energy"),
                          ("electronic_conductivity", "electronic_activation_energy")):
        v[sigma] = arrhenius_conductivity(v[sigma], v[energy], temperature, t_ref)
    for i0 in ("exchange_current_density", "internal_exchange_current_density"):
        v[i0] = arrhenius(v[i0], v["exchange_current_activation_energy"], temperature, t_ref)
    return ResolvedMaterial(
        temperature=float(temperature),
        **v,
        gb_youngs_modulus=v["gb_modulus_ratio"] * v["youngs_modulus"],
        gb_ionic_conductance_ratio=(v["gb_ionic_conductivity"] * v["grain_size"])
        / (v["ionic_conductivity"] * v["gb_thickness"]),
        thermal_voltage=BOLTZMANN_EV * temperature,
    )
