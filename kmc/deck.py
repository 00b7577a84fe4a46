"""Input decks: the three deck kinds, loading a TOML deck, and validated overrides.

A deck is a frozen dataclass of sections (:mod:`kmc.sections` and
:mod:`kmc.sections_plating`, re-exported here); like every
section it checks itself on construction (:class:`kmc.config.Validated`), so a deck loaded by
:func:`load_deck`, built directly, copied with :func:`dataclasses.replace` or changed with
``deck.replace("conditions.temperature", "60 degC")`` obeys the same rules, cross checks
between sections included. ``parse_override("run.seed=3")`` reads the command line's ``--set``.

Deck layouts (``model`` picks the kind; see ``inputs/*.toml``)::

    model = "lattice_gas"     [lattice] [lattice_gas] [field] [conditions] [run] [output]
    model = "microstructure"  [cell] [microstructure] [material] [conditions] [run] [output]
    model = "plating"         [cell] [microstructure] [material] [conditions] [protocol]
                              [plating] [run] [output] [ensemble]

``[run]`` and ``[conditions]`` are one section each for every kind; a key that a kind does
not use (the deck's ``UNUSED``) is an error when given a value other than its default, and a
key it needs (``REQUIRED``: ``run.duration`` of the decks that run) an error when missing.
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from .config import Validated, build, from_si, param, parse_override, show
from .errors import ConfigError
from .sections import (MAX_SITES, CellConfig, ConditionsConfig, ContactConfig, ContourConfig,
                       FieldConfig, FlawsConfig, InclusionConfig, LatticeConfig, LatticeGasConfig,
                       MaterialConfig, MicrostructureConfig, OutputConfig, PlatingConditionsConfig,
                       PlatingRunConfig, PoresConfig, RunConfig, SeedConfig, check_cell_features,
                       check_figure_path)
from .sections_plating import EnsembleConfig, PlatingConfig, ProtocolConfig

__all__ = ["DECKS", "MAX_SITES", "CellConfig", "ConditionsConfig", "ContactConfig", "ContourConfig",
           "EnsembleConfig", "FieldConfig",
           "FlawsConfig", "InclusionConfig", "LatticeConfig", "LatticeGasConfig", "LatticeGasDeck",
           "MaterialConfig", "MicrostructureConfig", "MicrostructureDeck", "OutputConfig",
           "PlatingConditionsConfig", "PlatingConfig", "PlatingDeck", "PlatingRunConfig",
           "PoresConfig", "ProtocolConfig", "RunConfig", "SeedConfig", "as_dict",
           "check_figure_path", "from_dict", "load_deck", "loads_deck", "parse_override"]


class _Deck(Validated):
    """A whole deck: checks ``REQUIRED`` and ``UNUSED`` keys, then the kind's cross checks."""

    #: dotted keys that must be given (their fields default to None)
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    #: section -> keys this kind of deck does not use (a value other than the default is an error)
    UNUSED: ClassVar[dict[str, tuple[str, ...]]] = {}

    def check(self, prefix):
        for key in self.REQUIRED:
            section, name = key.split(".")
            if getattr(getattr(self, section), name) is None:
                doc = type(getattr(self, section)).__dataclass_fields__[name].metadata["doc"]
                raise ConfigError(f"{key}: missing required key ({doc})")
        for section, names in self.UNUSED.items():
            obj = getattr(self, section)
            for f in dataclasses.fields(obj):
                value = getattr(obj, f.name)
                if f.name in names and value != f.default:
                    raise ConfigError(f"{section}.{f.name} = {show(value, f.metadata)}: not used by "
                                      f"{self.model} decks; remove the key")
        self.cross_check()

    def cross_check(self):
        """Checks between sections (none by default)."""


# ---------------------------------------------------------------------------------------
# The three kinds
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LatticeGasDeck(_Deck):
    """A complete lattice-gas input deck."""

    REQUIRED = ("run.duration",)
    UNUSED = {"run": ("snapshots", "checkpoint", "checkpoint_interval", "field_solver", "debug_checks"),
              "conditions": ("stack_pressure", "applied_stress", "magnetic_field")}
    model: str = param("model to run", choices=("lattice_gas",))
    lattice: LatticeConfig = param("site lattice")
    run: RunConfig = param("run control")
    lattice_gas: LatticeGasConfig = param("lattice-gas physics", default=LatticeGasConfig())
    field: FieldConfig = param("external electric field", default=FieldConfig())
    conditions: ConditionsConfig = param("operating conditions", default=ConditionsConfig())
    output: OutputConfig = param("output paths", default=OutputConfig())

    def cross_check(self):
        if self.field.kind == "pulsed" and self.run.duration / self.field.period > 1e8:
            raise ConfigError(f"field.period = {self.field.period:g} s: more than 1e8 pulses in "
                              f"run.duration = {self.run.duration:g} s")
        if len(self.lattice.shape) == 2 and self.field.direction[2] != 0.0:
            raise ConfigError(
                f"field.direction = {list(self.field.direction)}: a 2D lattice has no z component")


_RUN_ONLY_SEED = tuple(f.name for f in dataclasses.fields(RunConfig) if f.name != "seed")


@dataclass(frozen=True)
class MicrostructureDeck(_Deck):
    """A deck that builds (and inspects) a polycrystalline cell: ``kmc microstructure``."""

    UNUSED = {"run": _RUN_ONLY_SEED, "conditions": ("stack_pressure", "applied_stress", "magnetic_field")}
    model: str = param("model", choices=("microstructure",))
    cell: CellConfig = param("cell geometry")
    microstructure: MicrostructureConfig = param("grains and features", default=MicrostructureConfig())
    material: MaterialConfig = param("electrolyte material", default=MaterialConfig())
    conditions: ConditionsConfig = param("operating conditions", default=ConditionsConfig())
    run: RunConfig = param("randomness (only the seed)", default=RunConfig())
    output: OutputConfig = param("output paths", default=OutputConfig(
        dataset="results/microstructure.nc", figure="results/microstructure.png"))

    def cross_check(self):
        check_cell_features(self.cell, self.microstructure)


@dataclass(frozen=True)
class PlatingDeck(_Deck):
    """A Li plating run through a (polycrystalline) electrolyte: ``kmc run``."""

    REQUIRED = ("run.duration",)
    UNUSED = {"run": ("debug_rebuild_every",)}
    model: str = param("model", choices=("plating",))
    cell: CellConfig = param("cell geometry")
    run: RunConfig = param("run control")
    microstructure: MicrostructureConfig = param("grains and features", default=MicrostructureConfig())
    material: MaterialConfig = param("electrolyte material", default=MaterialConfig())
    conditions: ConditionsConfig = param("operating conditions", default=ConditionsConfig())
    protocol: ProtocolConfig = param("current protocol", default=ProtocolConfig())
    plating: PlatingConfig = param("plating events", default=PlatingConfig())
    output: OutputConfig = param("output paths", default=OutputConfig(
        dataset="results/plating.nc", figure="results/plating.png"))
    ensemble: EnsembleConfig = param("sweep and replicas of `kmc ensemble` (ignored by `kmc run`)",
                                     default=EnsembleConfig())

    def cross_check(self):
        check_cell_features(self.cell, self.microstructure)
        if self.ensemble.sweep:
            from .ensemble import sweep_points  # every point through replace: fails at load

            sweep_points(self)
        inc = self.microstructure.inclusion
        if inc.centre and len(inc.centre) != (2 if self.cell.dimension == 2 else 3):
            raise ConfigError(f"microstructure.inclusion.centre = {list(inc.centre)}: needs "
                              f"{'(x, z)' if self.cell.dimension == 2 else '(x, y, z)'}")
        pro = self.protocol
        if (pro.kind == "pulsed" and pro.pulses == "resolved"
                and self.run.duration / pro.period > 1e9):
            raise ConfigError(f"protocol.period = {pro.period:g} s: more than 1e9 pulses in "
                              f"run.duration = {self.run.duration:g} s; for pulses much shorter "
                              f"than the time between events set protocol.pulses = \"averaged\"")


#: model name -> deck class
DECKS = {"lattice_gas": LatticeGasDeck, "microstructure": MicrostructureDeck, "plating": PlatingDeck}


def load_deck(path):
    """Read and validate a TOML deck: a file, or the name of a bundled deck (``kmc decks``),
    e.g. ``"llzo_polycrystal_2d"``.

    Raises
    ------
    ConfigError
        On a missing file, a TOML syntax error, or any invalid entry (one line).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        from .decks import DECK_FOLDERS, find_deck  # a bundled deck's name

        if path.suffix or len(path.parts) > 2 or (len(path.parts) == 2
                                                  and path.parts[0] not in DECK_FOLDERS):
            raise ConfigError(f"{path}: deck not found") from None

        text = find_deck(str(path)).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read deck ({exc.__class__.__name__}: {exc})") from None
    return loads_deck(text, source=str(path))


def loads_deck(text: str, source: str = "<deck>"):
    """Validate a deck given as TOML text (see :func:`load_deck`); ``model`` picks the kind."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: TOML syntax error: {exc}") from None
    model = data.get("model")
    if model not in DECKS:
        shown = "missing" if model is None else repr(model)
        raise ConfigError(f"{source}: model = {shown}: must be one of {', '.join(DECKS)}")
    try:
        return build(DECKS[model], data)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def as_dict(deck) -> dict:
    """The resolved deck as nested plain Python data in SI units (for dataset attributes)."""
    return dataclasses.asdict(deck)


def from_dict(data: dict):
    """The deck that :func:`as_dict` gave ``data`` for (e.g. a dataset's ``config_json`` or a
    checkpoint), validated; ``model`` picks the kind and missing keys take their defaults."""
    model = data.get("model") if isinstance(data, dict) else None
    if model not in DECKS:
        raise ConfigError(f"model = {model!r}: must be one of {', '.join(DECKS)}")
    return from_si(DECKS[model], data)
