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
temperature (Arrhenius laws) plus a few derived quantities. The tables and :func:`resolve` live
in :mod:`kmc.material_properties` and are importable from here too.

The files are looked for in, in this order: the ``directory`` argument, the directory named by
the environment variable ``KMC_MATERIALS_DIR``, and the sets bundled with the package (package
data ``kmc.inputs``, ``inputs/materials`` of the source tree, read with
:mod:`importlib.resources`, so they are found after any install).
"""
from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from .config import build, param
from .errors import ConfigError
from .material_properties import (  # re-exported (see __all__)
    LI_METAL_PROPERTIES,
    PROPERTIES,
    PropertySpec,
    ResolvedMaterial,
    arrhenius,
    arrhenius_conductivity,
    resolve,
)
from .units import to_si

__all__ = [
    "CRYSTAL_SYMMETRIES", "DEFAULT_MATERIALS_DIR", "ENTRY_KEYS", "LI_METAL", "LI_METAL_PROPERTIES",
    "MATERIALS_DIR_ENV", "PROPERTIES", "STRUCTURES", "TAGS", "Material", "MaterialValue",
    "PropertySpec", "ResolvedMaterial", "arrhenius", "arrhenius_conductivity",
    "available_materials", "load_li_metal", "load_material", "materials_dir", "resolve",
]

#: Environment variable naming a directory of material files.
MATERIALS_DIR_ENV = "KMC_MATERIALS_DIR"


def _bundled_materials_dir() -> Path | Traversable:
    """``materials`` of the package data ``kmc.inputs``; if that package is missing (an install
    that predates it), the path it would have, which :func:`materials_dir` reports as not found."""
    try:
        return resources.files("kmc.inputs") / "materials"
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent / "inputs" / "materials"


#: The material sets bundled with the package (``inputs/materials`` of the source tree, package
#: data ``kmc.inputs``), used when neither argument nor environment names a directory.
DEFAULT_MATERIALS_DIR = _bundled_materials_dir()
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


# ---------------------------------------------------------------------------------------
# Finding and reading material files
# ---------------------------------------------------------------------------------------

def materials_dir(directory=None) -> Path | Traversable:
    """The directory that holds the material files.

    Parameters
    ----------
    directory : str or path-like, optional
        Use this directory. Otherwise the environment variable ``KMC_MATERIALS_DIR`` if set,
        else :data:`DEFAULT_MATERIALS_DIR`, the sets bundled with the package.

    Returns
    -------
    pathlib.Path or importlib.resources.abc.Traversable
        A :class:`~pathlib.Path` for a given directory and for an installed package on disk
        (always the case with pip installs; a zipped package would give a Traversable).

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
    stems = (p.name.removesuffix(".toml") for p in materials_dir(directory).iterdir()
             if p.name.endswith(".toml") and p.is_file())
    return sorted(stem for stem in stems if stem != LI_METAL)


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


def _material_path(name_or_path, key, directory) -> Path | Traversable:
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


def _read_toml(path: Path | Traversable) -> dict:
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


def _load(path: Path | Traversable, table: dict[str, PropertySpec], overrides, key) -> Material:
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
