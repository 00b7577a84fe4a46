"""Input decks: TOML files loaded into frozen, validated dataclasses in SI units.

Each field's metadata (:func:`param`) carries its SI unit, allowed range and description;
the same table drives validation, error messages and the attributes of the output dataset.
Unknown keys are answered with the closest valid names (difflib).

Deck layout (see ``inputs/lattice_gas_2d.toml``)::

    model = "lattice_gas"
    [lattice]       shape, spacing, periodic
    [lattice_gas]   coverage, attempt_frequency, barrier, site_energy_spread, charge_number
    [field]         kind, amplitude, direction, period, duty
    [conditions]    temperature
    [run]           seed, duration, observations, max_events, wall_time_limit,
                    debug_rebuild_every, engine
    [output]        dataset, figure
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
import typing
from dataclasses import MISSING, dataclass, field
from pathlib import Path

from .errors import ConfigError
from .units import to_si


def check_figure_path(path: str, key: str) -> None:
    """A figure path must be empty (no figure) or end in a format matplotlib writes."""
    if path and Path(path).suffix.lower() not in (".png", ".pdf", ".svg"):
        raise ConfigError(f"{key} = {path!r}: must end in .png, .pdf or .svg (or be empty for none)")


def param(doc, *, unit=None, default=MISSING, default_factory=MISSING, lo=None, hi=None,
          lo_open=False, hi_open=False, choices=None, length=None):
    """A deck field with its documentation, SI unit, range and choices.

    Parameters
    ----------
    doc : str
        One-line description (becomes the ``long_name`` of output attributes).
    unit : str, optional
        SI unit the value is converted to; ``""`` for dimensionless quantities, ``None``
        for plain numbers, strings and lists.
    lo, hi : float, optional
        Inclusive bounds (exclusive if ``lo_open``/``hi_open``).
    choices : tuple of str, optional
        Allowed strings.
    length : tuple of int, optional
        Allowed list lengths.
    """
    meta = dict(doc=doc, unit=unit, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open,
                choices=choices, length=length)
    return field(default=default, default_factory=default_factory, metadata=meta)


def _range_text(meta):
    unit = f" {meta['unit']}" if meta["unit"] else ""
    lo, hi = meta["lo"], meta["hi"]
    if lo is not None and hi is not None:
        left = "(" if meta["lo_open"] else "["
        right = ")" if meta["hi_open"] else "]"
        return f"in {left}{lo:g}, {hi:g}{right}{unit}"
    if lo is not None:
        return f"{'>' if meta['lo_open'] else '>='} {lo:g}{unit}"
    return f"{'<' if meta['hi_open'] else '<='} {hi:g}{unit}"


def _check_range(key, raw, number, meta):
    lo, hi = meta["lo"], meta["hi"]
    bad = (lo is not None and (number < lo or (meta["lo_open"] and number == lo))) or (
        hi is not None and (number > hi or (meta["hi_open"] and number == hi)))
    if bad:
        si = f"{number:g} {meta['unit']}".strip()
        shown = f"{raw!r} (= {si})" if isinstance(raw, str) and raw.strip() != si else repr(raw)
        raise ConfigError(f"{key} = {shown}: out of range, must be {_range_text(meta)}")


_PLURAL = {int: "integers", float: "numbers", str: "strings", bool: "true/false values"}


def _convert_scalar(key, raw, tp, meta):
    if meta["unit"] is not None:
        number = to_si(key, raw, meta["unit"])
        _check_range(key, raw, number, meta)
        return number
    if tp is bool:
        if not isinstance(raw, bool):
            raise ConfigError(f"{key} = {raw!r}: expected true or false")
        return raw
    if tp is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ConfigError(f"{key} = {raw!r}: expected an integer")
        _check_range(key, raw, raw, meta)
        return raw
    if tp is float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
            raise ConfigError(f"{key} = {raw!r}: expected a finite number")
        _check_range(key, raw, float(raw), meta)
        return float(raw)
    if tp is str:
        if not isinstance(raw, str):
            raise ConfigError(f"{key} = {raw!r}: expected a string")
        if meta["choices"] and raw not in meta["choices"]:
            close = difflib.get_close_matches(raw, meta["choices"], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{key} = {raw!r}: must be one of {', '.join(meta['choices'])}{hint}")
        return raw
    raise TypeError(f"unsupported field type {tp}")  # programming error, not user error


def _convert(key, raw, tp, meta):
    origin = typing.get_origin(tp)
    if tp is dict or origin is dict:
        if not isinstance(raw, dict):
            raise ConfigError(f"{key} = {raw!r}: expected a table [{key}]")
        return dict(raw)  # validated by its consumer (e.g. kmc.materials)
    if origin is tuple:
        (item_tp, _) = typing.get_args(tp)
        if not isinstance(raw, list):
            raise ConfigError(f"{key} = {raw!r}: expected a list of {_PLURAL[item_tp]}")
        if meta["length"] and len(raw) not in meta["length"]:
            allowed = " or ".join(str(n) for n in meta["length"])
            raise ConfigError(f"{key} = {raw!r}: expected a list of {allowed} items, got {len(raw)}")
        return tuple(_convert(f"{key}[{i}]", r, item_tp, meta) for i, r in enumerate(raw))
    return _convert_scalar(key, raw, tp, meta)


def build(cls, data, prefix=""):
    """Build dataclass ``cls`` from a TOML table, validating every key.

    Raises
    ------
    ConfigError
        One line naming the key path, the value and what is allowed.
    """
    where = prefix.rstrip(".") or "the deck"
    if not isinstance(data, dict):
        raise ConfigError(f"{where} = {data!r}: expected a table [{where}]")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{prefix}{key}: unknown key{hint} (allowed in {where}: {', '.join(fields)})"
            )
    kwargs = {}
    for name, f in fields.items():
        key = prefix + name
        tp = hints[name]
        if name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ConfigError(f"{key}: missing required key ({f.metadata.get('doc', '')})")
            continue
        if dataclasses.is_dataclass(tp):
            kwargs[name] = build(tp, data[name], key + ".")
        else:
            kwargs[name] = _convert(key, data[name], tp, f.metadata)
    obj = cls(**kwargs)
    check = getattr(obj, "check", None)
    if check is not None:
        check(prefix)
    return obj


# ---------------------------------------------------------------------------------------
# The lattice-gas deck
# ---------------------------------------------------------------------------------------

#: Largest lattice accepted (memory: ~100 bytes per site for the graph and fields).
MAX_SITES = 200_000_000


@dataclass(frozen=True)
class LatticeConfig:
    """Square (2D) or simple-cubic (3D) site lattice."""

    shape: tuple[int, ...] = param("number of sites along x, y (and z)", length=(2, 3), lo=1, hi=100_000)
    spacing: float = param("lattice spacing h", unit="m", default=0.5e-9, lo=0.0, lo_open=True)
    periodic: tuple[bool, ...] = param("periodic boundary along each axis", default=(True, True, True),
                                       length=(2, 3))
    order: str = param("site numbering in memory: 'morton' (cache-friendly) or 'c' (grid order)",
                       default="morton", choices=("morton", "c"))

    def check(self, prefix):
        if len(self.periodic) < len(self.shape):
            raise ConfigError(
                f"{prefix}periodic = {list(self.periodic)}: needs one entry per axis of shape {list(self.shape)}"
            )
        for n, per in zip(self.shape, self.periodic):
            if per and n < 3:
                raise ConfigError(
                    f"{prefix}shape = {list(self.shape)}: a periodic axis needs at least 3 sites")
        if math.prod(self.shape) > MAX_SITES:
            raise ConfigError(f"{prefix}shape = {list(self.shape)}: {math.prod(self.shape):.3g} sites, "
                              f"at most {MAX_SITES:.0e}")


@dataclass(frozen=True)
class LatticeGasConfig:
    """Particles hopping to empty neighbours with Arrhenius rates (Metropolis-symmetric split)."""

    coverage: float = param("fraction of sites occupied at t = 0", default=0.05, lo=0.0, hi=1.0,
                            hi_open=True)
    attempt_frequency: float = param("attempt frequency nu", unit="1/s", default=1e13, lo=0.0, lo_open=True)
    barrier: float = param("hop barrier E_a", unit="eV", default=0.45, lo=0.0, hi=5.0)
    site_energy_spread: float = param("standard deviation of Gaussian site energies", unit="eV",
                                      default=0.0, lo=0.0, hi=1.0)
    charge_number: int = param("charge number z of the hopping particle", default=1, lo=-3, hi=3)


@dataclass(frozen=True)
class FieldConfig:
    """Uniform external electric field, constant or pulsed (piecewise constant)."""

    kind: str = param("field protocol", default="constant", choices=("constant", "pulsed"))
    amplitude: float = param("field strength E", unit="V/m", default=0.0, lo=-1e10, hi=1e10)
    direction: tuple[float, ...] = param("field direction (normalised on load)", default=(1.0, 0.0, 0.0),
                                         length=(3,), lo=-1e6, hi=1e6)
    period: float = param("pulse period (pulsed only)", unit="s", default=1e-6, lo=0.0, lo_open=True)
    duty: float = param("fraction of each period the field is on (pulsed only)", default=0.5,
                        lo=0.0, hi=1.0)

    def check(self, prefix):
        if not any(self.direction):
            raise ConfigError(f"{prefix}direction = {list(self.direction)}: must not be the zero vector")


@dataclass(frozen=True)
class ConditionsConfig:
    """Operating conditions."""

    temperature: float = param("cell temperature T", unit="K", default=298.15, lo=0.0, hi=2000.0,
                               lo_open=True)


@dataclass(frozen=True)
class RunConfig:
    """Run control."""

    duration: float = param("simulated time to run", unit="s", lo=0.0, lo_open=True)
    seed: int = param("master random seed (same deck + seed => bit-identical data)", default=0, lo=0)
    observations: int = param("number of observation times (including t = 0)", default=101, lo=2,
                              hi=1_000_000)
    max_events: int = param("stop after this many events", default=10**12, lo=1)
    wall_time_limit: float = param("stop after this much wall-clock time", unit="s", default=86400.0,
                                   lo=0.0, lo_open=True)
    debug_rebuild_every: int = param("rebuild all propensities every K events and assert equality "
                                     "(0 = off)", default=0, lo=0)
    engine: str = param("event loop implementation", default="cython", choices=("cython", "reference"))


@dataclass(frozen=True)
class OutputConfig:
    """Where results go (relative paths are relative to the working directory)."""

    dataset: str = param("netCDF dataset path", default="results/lattice_gas.nc")
    figure: str = param("summary figure path (PNG); empty for none", default="results/lattice_gas.png")

    def check(self, prefix):
        check_figure_path(self.figure, f"{prefix}figure")


@dataclass(frozen=True)
class LatticeGasDeck:
    """A complete lattice-gas input deck."""

    model: str = param("model to run", choices=("lattice_gas",))
    lattice: LatticeConfig = param("site lattice")
    run: RunConfig = param("run control")
    lattice_gas: LatticeGasConfig = param("lattice-gas physics", default=LatticeGasConfig())
    field: FieldConfig = param("external electric field", default=FieldConfig())
    conditions: ConditionsConfig = param("operating conditions", default=ConditionsConfig())
    output: OutputConfig = param("output paths", default=OutputConfig())

    def check(self, prefix):
        if self.field.kind == "pulsed" and self.run.duration / self.field.period > 1e8:
            raise ConfigError(f"field.period = {self.field.period:g} s: more than 1e8 pulses in "
                              f"run.duration = {self.run.duration:g} s")
        if len(self.lattice.shape) == 2 and self.field.direction[2] != 0.0:
            raise ConfigError(
                f"field.direction = {list(self.field.direction)}: a 2D lattice has no z component")


# ---------------------------------------------------------------------------------------
# The cell and its microstructure (MODEL.md section 1)
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CellConfig:
    """Electrolyte slab between two Li electrodes at z = 0 and z = L, periodic laterally."""

    thickness: float = param("electrolyte thickness L (along z, between the electrodes)", unit="m",
                             lo=0.0, lo_open=True)
    width: float = param("lateral size W along x", unit="m", lo=0.0, lo_open=True)
    dimension: int = param("2 (a slab one site thick) or 3", default=2, lo=2, hi=3)
    depth: float = param("lateral size along y (3D only; 0 = same as width)", unit="m", default=0.0,
                         lo=0.0)
    spacing: float = param("site edge h", unit="m", default=0.5e-6, lo=0.0, lo_open=True)
    periodic: bool = param("periodic boundaries along x and y", default=True)

    def sites(self, prefix="cell."):
        """Lattice shape (nx, ny, nz); ny = 1 in 2D."""
        def count(name, length):
            n = int(round(length / self.spacing))
            if n < 1 or abs(n * self.spacing - length) > 1e-6 * self.spacing:
                raise ConfigError(f"{prefix}{name} = {length:g} m: must be a whole number of sites of "
                                  f"spacing {self.spacing:g} m")
            if n > 4096:
                raise ConfigError(f"{prefix}{name} = {length:g} m: {n} sites, at most 4096 per axis")
            return n
        nx = count("width", self.width)
        ny = 1 if self.dimension == 2 else count("depth", self.depth or self.width)
        return nx, ny, count("thickness", self.thickness)

    def check(self, prefix):
        nx, ny, nz = self.sites(prefix)
        if self.dimension == 2 and self.depth:
            raise ConfigError(f"{prefix}depth = {self.depth:g} m: a 2D cell has no depth; remove the key")
        if nz < 2:
            raise ConfigError(f"{prefix}thickness = {self.thickness:g} m: needs at least 2 sites "
                              f"of spacing {self.spacing:g} m between the electrodes")
        if self.periodic and min(nx, ny if self.dimension == 3 else nx) < 3:
            raise ConfigError(f"{prefix}width = {self.width:g} m: a periodic axis needs at least 3 sites")
        if nx * ny * nz > MAX_SITES:
            raise ConfigError(f"{prefix}spacing = {self.spacing:g} m: the cell has {nx * ny * nz:.3g} "
                              f"sites, at most {MAX_SITES:.0e}")


@dataclass(frozen=True)
class PoresConfig:
    """Pores carved into the electrolyte (VOID sites)."""

    fraction: float = param("pore volume fraction", default=0.0, lo=0.0, hi=0.5)
    radius: float = param("pore radius", unit="m", default=0.5e-6, lo=0.0, lo_open=True)
    gb_preference: float = param("probability that a pore is centred on a GB site", default=0.8,
                                 lo=0.0, hi=1.0)


@dataclass(frozen=True)
class FlawsConfig:
    """Li-filled surface flaws at the plating interface (z = 0), connected to the electrode."""

    depth: float = param("flaw depth a (0 = no flaws)", unit="m", default=0.0, lo=0.0)
    width: float = param("flaw width", unit="m", default=0.5e-6, lo=0.0, lo_open=True)
    mean_spacing: float = param("mean lateral distance between Poisson-placed flaws (0 = none)",
                                unit="m", default=0.0, lo=0.0)
    x_positions: tuple[float, ...] = param("listed flaw positions along x", unit="m", default=(),
                                           lo=0.0)
    y_positions: tuple[float, ...] = param("listed flaw positions along y (3D)", unit="m",
                                           default=(), lo=0.0)

    def check(self, prefix):
        if self.y_positions and len(self.y_positions) != len(self.x_positions):
            raise ConfigError(f"{prefix}y_positions = {list(self.y_positions)}: needs one entry per "
                              f"x position ({len(self.x_positions)})")


@dataclass(frozen=True)
class ContourConfig:
    """Contoured plating interface (seed 004): Li fills z < h(x, y)."""

    kind: str = param("interface shape", default="flat",
                      choices=("flat", "sinusoid", "egg_box", "pyramid"))
    height: float = param("peak height H", unit="m", default=0.0, lo=0.0)
    period: float = param("peak separation S", unit="m", default=10e-6, lo=0.0, lo_open=True)


@dataclass(frozen=True)
class InclusionConfig:
    """An electronically isolated Li-filled crack inside the electrolyte (seed 001)."""

    length: float = param("inclusion length (0 = none)", unit="m", default=0.0, lo=0.0)
    angle: float = param("angle between the long axis and the field (z) axis", unit="degree",
                         default=0.0, lo=0.0, hi=90.0)
    width: float = param("inclusion width", unit="m", default=0.5e-6, lo=0.0, lo_open=True)
    centre: tuple[float, ...] = param("centre (x, z) or (x, y, z); empty = cell centre", unit="m",
                                      default=(), length=(0, 2, 3), lo=0.0)
    crack: float = param("empty crack (VOID) added beyond each end of the Li", unit="m",
                         default=0.0, lo=0.0)


@dataclass(frozen=True)
class MicrostructureConfig:
    """How the electrolyte's grains are made."""

    kind: str = param("grain structure", default="voronoi",
                      choices=("voronoi", "single_crystal", "amorphous", "import"))
    grain_size: float = param("target mean equivalent grain diameter d_g (0 = the material's)",
                              unit="m", default=0.0, lo=0.0)
    seeds: str = param("Voronoi seed process", default="poisson", choices=("poisson", "hardcore"))
    hardcore_fraction: float = param("hard-core seed distance as a fraction of d_g", default=0.5,
                                     lo=0.0, hi=0.65)
    import_path: str = param("grain-id array to import (.npy or .nc)", default="")
    import_variable: str = param("netCDF variable holding the grain ids", default="grain")
    pores: PoresConfig = param("pores", default=PoresConfig())
    flaws: FlawsConfig = param("surface flaws", default=FlawsConfig())
    contour: ContourConfig = param("contoured plating interface", default=ContourConfig())
    inclusion: InclusionConfig = param("isolated Li inclusion", default=InclusionConfig())

    def check(self, prefix):
        if self.kind == "import" and not self.import_path:
            raise ConfigError(f"{prefix}import_path: required when {prefix}kind = 'import'")


@dataclass(frozen=True)
class MaterialConfig:
    """Electrolyte material set from inputs/materials, with optional overrides."""

    name: str = param("material set (file stem in inputs/materials, or a path)", default="llzo")
    overrides: dict = param("property = 'value unit' entries replacing the set's values",
                            default_factory=dict)
    li_metal: dict = param("property = 'value unit' entries replacing Li metal values "
                           "(inputs/materials/li_metal.toml)", default_factory=dict)


@dataclass(frozen=True)
class SeedConfig:
    """Randomness."""

    seed: int = param("master random seed (same deck + seed => bit-identical data)", default=0, lo=0)


def _check_cell_features(cell: CellConfig, micro: MicrostructureConfig) -> None:
    """Features that would not fit the cell, or silently carve nothing."""
    W = cell.width
    D = (cell.depth or cell.width) if cell.dimension == 3 else 0.0
    f, c = micro.flaws, micro.contour
    if f.depth >= cell.thickness:
        raise ConfigError(f"microstructure.flaws.depth = {f.depth:g} m: must be less than the "
                          f"thickness {cell.thickness:g} m (the flaw would short the cell)")
    if f.depth > 0 and f.width < cell.spacing:
        raise ConfigError(f"microstructure.flaws.width = {f.width:g} m: narrower than one site "
                          f"({cell.spacing:g} m), the flaw would carve nothing")
    if any(not 0 <= x < W for x in f.x_positions):
        raise ConfigError(f"microstructure.flaws.x_positions = {list(f.x_positions)}: must lie in "
                          f"[0, {W:g}) m")
    if cell.dimension == 3 and f.x_positions and len(f.y_positions) != len(f.x_positions):
        raise ConfigError(f"microstructure.flaws.y_positions = {list(f.y_positions)}: a 3D cell needs "
                          f"one y per x position ({len(f.x_positions)})")
    if cell.dimension == 2 and f.y_positions:
        raise ConfigError(f"microstructure.flaws.y_positions = {list(f.y_positions)}: a 2D cell has "
                          "no y; remove the key")
    if any(not 0 <= y < D for y in f.y_positions):
        raise ConfigError(f"microstructure.flaws.y_positions = {list(f.y_positions)}: must lie in "
                          f"[0, {D:g}) m")
    if c.kind != "flat" and c.height >= cell.thickness:
        raise ConfigError(f"microstructure.contour.height = {c.height:g} m: must be less than the "
                          f"thickness {cell.thickness:g} m")
    if c.kind != "flat" and cell.periodic:
        for name, length in (("width", W), ("depth", D)):
            if length and abs(length / c.period - round(length / c.period)) > 1e-6:
                raise ConfigError(f"microstructure.contour.period = {c.period:g} m: must divide the "
                                  f"{name} {length:g} m of a periodic cell (else a step at the seam)")


@dataclass(frozen=True)
class MicrostructureDeck:
    """A deck that builds (and inspects) a polycrystalline cell: ``kmc microstructure``."""

    model: str = param("model", choices=("microstructure",))
    cell: CellConfig = param("cell geometry")
    microstructure: MicrostructureConfig = param("grains and features", default=MicrostructureConfig())
    material: MaterialConfig = param("electrolyte material", default=MaterialConfig())
    conditions: ConditionsConfig = param("operating conditions", default=ConditionsConfig())
    run: SeedConfig = param("randomness", default=SeedConfig())
    output: OutputConfig = param("output paths", default=OutputConfig(
        dataset="results/microstructure.nc", figure="results/microstructure.png"))

    def check(self, prefix):
        _check_cell_features(self.cell, self.microstructure)


# ---------------------------------------------------------------------------------------
# The plating deck (MODEL.md sections 5-8)
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlatingConditionsConfig:
    """Operating conditions of a plating run (MODEL.md section 6)."""

    temperature: float = param("cell temperature T", unit="K", default=298.15, lo=150.0, hi=600.0)
    stack_pressure: float = param("stack pressure P_stack on the electrode reservoirs", unit="Pa",
                                  default=0.0, lo=0.0, hi=1e9)
    applied_stress: tuple[float, ...] = param(
        "applied normal stresses (sigma_xx, sigma_yy, sigma_zz), compression positive", unit="Pa",
        default=(0.0, 0.0, 0.0), length=(3,), lo=-1e10, hi=1e10)


@dataclass(frozen=True)
class ProtocolConfig:
    """Current protocol J(t) (MODEL.md section 6); positive J plates the electrode at z = 0."""

    kind: str = param("protocol", default="constant",
                      choices=("constant", "pulsed", "cycling", "staircase"))
    current_density: float = param("J (constant, pulse amplitude, plating current, first CCD step)",
                                   unit="A/m^2", default=10.0, lo=-1e5, hi=1e5)
    period: float = param("pulse period (pulsed)", unit="s", default=1.0, lo=0.0, lo_open=True)
    duty: float = param("fraction of each period at J (pulsed)", default=0.5, lo=0.0, hi=1.0)
    reverse: float = param("reverse-pulse current density (pulsed; 0 = rest)", unit="A/m^2",
                           default=0.0, lo=0.0, hi=1e5)
    capacity: float = param("areal capacity per half-cycle (cycling, staircase)", unit="C/m^2",
                            default=7.2, lo=0.0, lo_open=True)
    strip_current_density: float = param("stripping current density (cycling, staircase; 0 = J)",
                                         unit="A/m^2", default=0.0, lo=0.0, hi=1e5)
    step: float = param("CCD step dJ (staircase)", unit="A/m^2", default=5.0, lo=0.0, hi=1e5)
    cycles: int = param("number of cycles or steps (0 = until the run stops)", default=0, lo=0)

    def check(self, prefix):
        if self.kind in ("cycling", "staircase") and not self.current_density > 0:
            raise ConfigError(f"{prefix}current_density = {self.current_density:g} A/m^2: must be "
                              f"> 0 for kind = {self.kind!r}")


@dataclass(frozen=True)
class PlatingConfig:
    """Which events act and their kinetic parameters (MODEL.md section 5)."""

    quanta_per_site: int = param("charge quanta per site n_q (results converge as it grows)",
                                 default=4, lo=1, hi=1024)
    confinement: bool = param("full confined Li sites block current and carry the "
                              "electrodeposition pressure (false: Li grows freely, the "
                              "Laplacian limit)", default=True)
    fracture: bool = param("Griffith fracture of the electrolyte ahead of pressurised Li",
                           default=True)
    fracture_attempt_frequency: float = param(
        "nu_f in the crack-advance rate nu_f (K_I/K_IC - 1)", unit="1/s", default=1e3, lo=0.0,
        lo_open=True)
    geometry_factor: float = param("Griffith geometry factor Y", default=1.0, lo=0.0, lo_open=True)
    min_crack_length: float = param("smallest crack length a in the Griffith criterion "
                                    "(0 = one site)", unit="m", default=0.0, lo=0.0)
    creep: bool = param("Li creep toward lower pressure and to/from the reservoirs", default=True)
    charge_transfer: str = param("interface kinetics: linearised Butler-Volmer, or none (i0 = inf)",
                                 default="butler_volmer", choices=("butler_volmer", "none"))
    electron_leak: bool = param("electron injection, walk, trapping and Li+ reduction in the "
                                "electrolyte (MODEL.md 5.4-5.6; off by default until the GB band "
                                "gap is settled, see docs/design-plating.md)", default=False)
    trap_attempt_frequency: float = param("detrapping attempt frequency nu_t", unit="1/s",
                                          default=1e13, lo=0.0, lo_open=True)
    nucleation_attempt_frequency: float = param("Li+ reduction attempt frequency nu_n", unit="1/s",
                                                default=1e13, lo=0.0, lo_open=True)
    nucleation_barrier: float = param("nucleation barrier dG* at the bulk modulus (scaled by the "
                                      "local modulus)", unit="eV", default=1.0, lo=0.0, hi=10.0)
    stripping_voids: bool = param("electrode-face sites detach where the stripping current "
                                  "exceeds the resupply limit and heal under stack pressure "
                                  "(MODEL.md 5.8)", default=False)
    strip_limit: float = param("resupply-limited stripping current density at zero stack "
                               "pressure, 298 K", unit="A/m^2", default=1.0, lo=0.0, lo_open=True)
    strip_limit_per_pressure: float = param("rise of that limit with stack pressure",
                                            unit="A/m^2/Pa", default=1.5e-6, lo=0.0)
    void_attempt_frequency: float = param("nu_v in the detachment rate nu_v (j/j_strip - 1)",
                                          unit="1/s", default=1.0, lo=0.0, lo_open=True)
    heal_rate_per_pressure: float = param("healing rate of a detached site per unit stack "
                                          "pressure", unit="1/(s*Pa)", default=1e-7, lo=0.0)


@dataclass(frozen=True)
class PlatingRunConfig:
    """Run control of a plating run."""

    duration: float = param("simulated time limit", unit="s", lo=0.0, lo_open=True)
    seed: int = param("master random seed (same deck + seed => bit-identical data)", default=0, lo=0)
    observations: int = param("observation times from 0 to duration (plus the stop)", default=101,
                              lo=2, hi=1_000_000)
    snapshots: int = param("site-map snapshots (evenly over the observations, plus the stop)",
                           default=5, lo=0, hi=1000)
    max_events: int = param("stop after this many events", default=10**12, lo=1)
    wall_time_limit: float = param("stop after this much wall-clock time", unit="s", default=86400.0,
                                   lo=0.0, lo_open=True)
    checkpoint: str = param("checkpoint file (empty: the dataset path with .ckpt)", default="")
    checkpoint_interval: float = param("wall-clock time between checkpoints (0 = never)", unit="s",
                                       default=600.0, lo=0.0)
    engine: str = param("event loop implementation", default="cython", choices=("cython", "reference"))
    field_solver: str = param("field solver", default="auto", choices=("auto", "direct", "iterative"))
    debug_checks: bool = param("check the kernel's clusters against networkx after every event "
                               "epoch (slow)", default=False)


@dataclass(frozen=True)
class PlatingDeck:
    """A Li plating run through a (polycrystalline) electrolyte: ``kmc run``."""

    model: str = param("model", choices=("plating",))
    cell: CellConfig = param("cell geometry")
    run: PlatingRunConfig = param("run control")
    microstructure: MicrostructureConfig = param("grains and features", default=MicrostructureConfig())
    material: MaterialConfig = param("electrolyte material", default=MaterialConfig())
    conditions: PlatingConditionsConfig = param("operating conditions",
                                                default=PlatingConditionsConfig())
    protocol: ProtocolConfig = param("current protocol", default=ProtocolConfig())
    plating: PlatingConfig = param("plating events", default=PlatingConfig())
    output: OutputConfig = param("output paths", default=OutputConfig(
        dataset="results/plating.nc", figure="results/plating.png"))

    def check(self, prefix):
        _check_cell_features(self.cell, self.microstructure)
        inc = self.microstructure.inclusion
        if inc.centre and len(inc.centre) != (2 if self.cell.dimension == 2 else 3):
            raise ConfigError(f"microstructure.inclusion.centre = {list(inc.centre)}: needs "
                              f"{'(x, z)' if self.cell.dimension == 2 else '(x, y, z)'}")
        if self.protocol.kind == "pulsed" and self.run.duration / self.protocol.period > 1e9:
            raise ConfigError(f"protocol.period = {self.protocol.period:g} s: more than 1e9 pulses "
                              f"in run.duration = {self.run.duration:g} s")


#: model name -> deck class
DECKS = {"lattice_gas": LatticeGasDeck, "microstructure": MicrostructureDeck, "plating": PlatingDeck}


def load_deck(path):
    """Read and validate a TOML deck.

    Raises
    ------
    ConfigError
        On a missing file, a TOML syntax error, or any invalid entry (one line).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: deck not found") from None
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
