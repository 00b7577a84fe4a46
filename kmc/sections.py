"""The sections of input decks: frozen dataclasses in SI units that validate themselves.

Each section subclasses :class:`kmc.config.Validated`: its fields carry SI unit, range and
description (:func:`kmc.config.param`), ``__post_init__`` checks them and runs the section's
``check``, and ``KEY`` is its path in a deck. The decks that assemble them, and loading, are in
:mod:`kmc.deck` (which re-exports every name here).

* shared by every deck kind: ``[conditions]`` :class:`ConditionsConfig`, ``[run]``
  :class:`RunConfig`, ``[output]`` :class:`OutputConfig`;
* lattice gas: ``[lattice]``, ``[lattice_gas]``, ``[field]``;
* the cell (MODEL.md section 1): ``[cell]``, ``[microstructure]`` (with ``pores``, ``flaws``,
  ``contour``, ``inclusion``), ``[material]``;
* plating (MODEL.md sections 5-8) ``[protocol]``, ``[plating]`` and ensembles of plating runs
  (:mod:`kmc.ensemble`) ``[ensemble]``: in :mod:`kmc.sections_plating`.

The drive is one protocol family built by :func:`kmc.protocol.from_config`: ``[protocol]``
(current density) of plating decks and ``[field]`` (field strength) of lattice-gas decks share
kinds and keys.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .config import Validated, param
from .errors import ConfigError

#: Largest lattice accepted (memory: ~100 bytes per site for the graph and fields).
MAX_SITES = 200_000_000


def check_figure_path(path: str, key: str) -> None:
    """A figure path must be empty (no figure) or end in a format matplotlib writes."""
    if path and Path(path).suffix.lower() not in (".png", ".pdf", ".svg"):
        raise ConfigError(f"{key} = {path!r}: must end in .png, .pdf or .svg (or be empty for none)")


# ---------------------------------------------------------------------------------------
# Sections shared by every deck kind
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConditionsConfig(Validated):
    """Operating conditions (MODEL.md section 6), one section for every deck kind.

    Notes
    -----
    The temperature range, [150, 600] K, is that of the material Arrhenius laws
    (``inputs/materials``), for plating and microstructure decks alike; the lattice gas, a test
    model, needs no wider one (its overflow guard still protects strong fields). Li metal melts
    at 453.65 K: above it the plating model's solid-Li creep law no longer applies. The
    lattice-gas deck rejects ``stack_pressure``, ``applied_stress`` and ``magnetic_field``.
    """

    KEY = "conditions"
    temperature: float = param("cell temperature T", unit="K", default=298.15, lo=150.0, hi=600.0)
    stack_pressure: float = param("stack pressure P_stack on the electrode reservoirs", unit="Pa",
                                  default=0.0, lo=0.0, hi=1e9)
    applied_stress: tuple[float, ...] = param(
        "applied normal stresses (sigma_xx, sigma_yy, sigma_zz), compression positive", unit="Pa",
        default=(0.0, 0.0, 0.0), length=(3,), lo=-1e10, hi=1e10)
    magnetic_field: tuple[float, ...] = param(
        "magnetic flux density (B_x, B_y, B_z): the Hall term of the Li+ current and v x B on "
        "electron walks (MODEL.md section 6)", unit="T", default=(0.0, 0.0, 0.0), length=(3,),
        lo=-100.0, hi=100.0)


@dataclass(frozen=True)
class RunConfig(Validated):
    """Run control, one section for every deck kind.

    ``duration`` is required by the decks that run (lattice gas, plating); each deck kind
    rejects the keys it does not use (its ``UNUSED``): a microstructure deck only takes
    ``seed``, a lattice-gas deck no checkpoint, snapshot, field-solver or ``debug_checks`` keys,
    a plating deck no ``debug_rebuild_every``.
    """

    KEY = "run"
    duration: float | None = param("simulated time to run", unit="s", default=None, lo=0.0,
                                   lo_open=True)
    seed: int = param("master random seed (same deck + seed => bit-identical data)", default=0, lo=0)
    observations: int = param("observation times from 0 to duration (plating: plus the stop)",
                              default=101, lo=2, hi=1_000_000)
    snapshots: int = param("site-map snapshots (evenly over the observations, plus the stop)",
                           default=5, lo=0, hi=1000)
    max_events: int = param("stop after this many events", default=10**12, lo=1)
    wall_time_limit: float = param("stop after this much wall-clock time", unit="s", default=86400.0,
                                   lo=0.0, lo_open=True)
    checkpoint: str = param("checkpoint file (empty: the dataset path with .ckpt)", default="")
    checkpoint_interval: float = param("wall-clock time between checkpoints (0 = never)", unit="s",
                                       default=120.0, lo=0.0)
    engine: str = param("event loop implementation", default="cython", choices=("cython", "reference"))
    field_solver: str = param("field solver", default="auto", choices=("auto", "direct", "iterative"))
    debug_checks: bool = param("check the kernel's clusters against networkx after every event "
                               "epoch (slow)", default=False)
    debug_rebuild_every: int = param("rebuild all propensities every K events and assert equality "
                                     "(0 = off)", default=0, lo=0)


@dataclass(frozen=True)
class OutputConfig(Validated):
    """Where results go (relative paths are relative to the working directory)."""

    KEY = "output"
    dataset: str = param("netCDF dataset path", default="results/lattice_gas.nc")
    figure: str = param("summary figure path (PNG); empty for none", default="results/lattice_gas.png")

    def check(self, prefix):
        check_figure_path(self.figure, f"{prefix}figure")


#: Former names of the shared sections (one class each since the merge).
PlatingRunConfig = SeedConfig = RunConfig
PlatingConditionsConfig = ConditionsConfig


# ---------------------------------------------------------------------------------------
# Lattice gas
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LatticeConfig(Validated):
    """Square (2D) or simple-cubic (3D) site lattice."""

    KEY = "lattice"
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
class LatticeGasConfig(Validated):
    """Particles hopping to empty neighbours with Arrhenius rates (Metropolis-symmetric split)."""

    KEY = "lattice_gas"
    coverage: float = param("fraction of sites occupied at t = 0", default=0.05, lo=0.0, hi=1.0,
                            hi_open=True)
    attempt_frequency: float = param("attempt frequency nu", unit="1/s", default=1e13, lo=0.0, lo_open=True)
    barrier: float = param("hop barrier E_a", unit="eV", default=0.45, lo=0.0, hi=5.0)
    site_energy_spread: float = param("standard deviation of Gaussian site energies", unit="eV",
                                      default=0.0, lo=0.0, hi=1.0)
    charge_number: int = param("charge number z of the hopping particle", default=1, lo=-3, hi=3)


@dataclass(frozen=True)
class FieldConfig(Validated):
    """Uniform external electric field E(t) along ``direction``: the lattice gas's drive.

    A protocol of :func:`kmc.protocol.from_config` like ``[protocol]``, with the same keys and
    meaning (``kind``, ``period``, ``duty``); ``amplitude`` [V/m] plays the part of
    ``current_density``. Only the kinds whose analysis exists (``kmc analyze``: drift x duty)
    are offered.
    """

    KEY = "field"
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


# ---------------------------------------------------------------------------------------
# The cell and its microstructure (MODEL.md section 1)
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CellConfig(Validated):
    """Electrolyte slab between two Li electrodes at z = 0 and z = L, periodic laterally."""

    KEY = "cell"
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
class PoresConfig(Validated):
    """Pores carved into the electrolyte (VOID sites)."""

    KEY = "microstructure.pores"
    fraction: float = param("pore volume fraction", default=0.0, lo=0.0, hi=0.5)
    radius: float = param("pore radius", unit="m", default=0.5e-6, lo=0.0, lo_open=True)
    gb_preference: float = param("probability that a pore is centred on a GB site", default=0.8,
                                 lo=0.0, hi=1.0)


@dataclass(frozen=True)
class FlawsConfig(Validated):
    """Li-filled surface flaws at the plating interface (z = 0), connected to the electrode, or
    at both electrode faces (``faces = "both"``: the z = L face draws its own flaws, after the
    z = 0 face's, so a symmetric cell cycles with flaws on each side).

    ``depth_distribution`` other than ``fixed`` gives each flaw its own depth (MODEL.md 10.3;
    LLZO surface flaws 1-10 um, seed 001): ``depth`` is then the median, ``depth_spread`` the
    sigma of ln a (log-normal) or the Weibull modulus, and draws are clipped at ``max_depth``
    and rounded to whole sites (:func:`kmc.features.flaw_depths`).

    ``origin = "grain_boundary_grooves"``: the flaws of a sintered polycrystal are its open
    grain-boundary grooves (MODEL.md 10.3), whose depth is proportional to the groove slope
    m (:func:`kmc.features.groove_slope`) of the boundaries. The depths given are those of the
    material set's boundaries; a deck that changes the boundaries' toughness or modulus
    (``material.overrides``) scales them by m_deck / m_set, and boundaries as strong as the
    grains (m = 0) leave no flaws.
    """

    KEY = "microstructure.flaws"
    depth: float = param("flaw depth a, the median if drawn (0 = no flaws)", unit="m", default=0.0,
                         lo=0.0)
    depth_distribution: str = param("flaw depths: all equal to depth, or drawn per flaw",
                                    default="fixed", choices=("fixed", "lognormal", "weibull"))
    depth_spread: float = param("sigma of ln a (lognormal) or Weibull modulus (weibull)",
                                default=0.0, lo=0.0, hi=100.0)
    max_depth: float = param("largest drawn depth (0 = one site less than the thickness)", unit="m",
                             default=0.0, lo=0.0)
    width: float = param("flaw width", unit="m", default=0.5e-6, lo=0.0, lo_open=True)
    mean_spacing: float = param("mean lateral distance between Poisson-placed flaws (0 = none)",
                                unit="m", default=0.0, lo=0.0)
    x_positions: tuple[float, ...] = param("listed flaw positions along x", unit="m", default=(),
                                           lo=0.0)
    y_positions: tuple[float, ...] = param("listed flaw positions along y (3D)", unit="m",
                                           default=(), lo=0.0)
    faces: str = param("electrode faces with flaws: the plating one (z = 0) or both",
                       default="plating", choices=("plating", "both"))
    origin: str = param("what the flaws are: surface damage of any origin (depths as given), "
                        "or open grain-boundary grooves (depths as given for the material "
                        "set's own boundaries, scaled by the groove slope of the deck's)",
                        default="surface", choices=("surface", "grain_boundary_grooves"))

    def check(self, prefix):
        drawn = self.depth_distribution != "fixed"
        if drawn and self.depth_spread <= 0:
            raise ConfigError(f"{prefix}depth_spread = {self.depth_spread:g}: must be > 0 when "
                              f"{prefix}depth_distribution = '{self.depth_distribution}'")
        if not drawn and (self.depth_spread or self.max_depth):
            key = "depth_spread" if self.depth_spread else "max_depth"
            raise ConfigError(f"{prefix}{key}: only used when {prefix}depth_distribution is "
                              "'lognormal' or 'weibull'; remove the key")
        if self.max_depth and self.max_depth < self.depth:
            raise ConfigError(f"{prefix}max_depth = {self.max_depth:g} m: must be at least the "
                              f"median depth {self.depth:g} m")
        if self.y_positions and len(self.y_positions) != len(self.x_positions):
            raise ConfigError(f"{prefix}y_positions = {list(self.y_positions)}: needs one entry per "
                              f"x position ({len(self.x_positions)})")


@dataclass(frozen=True)
class ContactConfig(Validated):
    """Interface contact (MODEL.md 10.1): each electrode touches the electrolyte in patches;
    face sites out of contact carry no current until they heal (stripping voids on).
    ``fraction`` is the contact at zero stack pressure; with ``hardness_factor`` the stack
    pressure presses the Li into more of the face."""

    KEY = "microstructure.contact"
    fraction: float = param("contact fraction f_c of each electrode face (1 = full contact)",
                            default=1.0, lo=0.0, lo_open=True, hi=1.0)
    patch_size: float = param("correlation length of the contact patches", unit="m",
                              default=5e-6, lo=0.0, lo_open=True)
    hardness_factor: float = param(
        "Tabor's constraint factor c (0: off): Li pressed on at the stack pressure P closes "
        "the gaps in proportion to P/H, H = c sigma_y(Li), f_c(P) = f_c + (1 - f_c) "
        "min(1, P/H) (kmc.features.pressed_contact_fraction; c ~ 3, Tabor 1951)",
        default=0.0, lo=0.0, hi=10.0)


@dataclass(frozen=True)
class ContourConfig(Validated):
    """Contoured plating interface (seed 004): Li fills z < h(x, y)."""

    KEY = "microstructure.contour"
    kind: str = param("interface shape", default="flat",
                      choices=("flat", "sinusoid", "egg_box", "pyramid"))
    height: float = param("peak height H", unit="m", default=0.0, lo=0.0)
    period: float = param("peak separation S", unit="m", default=10e-6, lo=0.0, lo_open=True)


@dataclass(frozen=True)
class InclusionConfig(Validated):
    """An electronically isolated Li-filled crack inside the electrolyte (seed 001)."""

    KEY = "microstructure.inclusion"
    length: float = param("inclusion length (0 = none)", unit="m", default=0.0, lo=0.0)
    angle: float = param("angle between the long axis and the field (z) axis", unit="degree",
                         default=0.0, lo=0.0, hi=90.0)
    width: float = param("inclusion width", unit="m", default=0.5e-6, lo=0.0, lo_open=True)
    centre: tuple[float, ...] = param("centre (x, z) or (x, y, z); empty = cell centre", unit="m",
                                      default=(), length=(0, 2, 3), lo=0.0)
    crack: float = param("empty crack (VOID) added beyond each end of the Li", unit="m",
                         default=0.0, lo=0.0)


@dataclass(frozen=True)
class MicrostructureConfig(Validated):
    """How the electrolyte's grains are made."""

    KEY = "microstructure"
    kind: str = param("grain structure", default="voronoi",
                      choices=("voronoi", "single_crystal", "amorphous", "import"))
    grain_size: float = param("target mean equivalent grain diameter d_g (0 = the material's)",
                              unit="m", default=0.0, lo=0.0)
    seeds: str = param("Voronoi seed process", default="poisson", choices=("poisson", "hardcore"))
    hardcore_fraction: float = param("hard-core seed distance as a fraction of d_g", default=0.5,
                                     lo=0.0, hi=0.65)
    import_path: str = param("grain-id array to import (.npy or .nc)", default="")
    import_variable: str = param("netCDF variable holding the grain ids", default="grain")
    gb_toughness_spread: float = param(
        "spread between boundaries of the intergranular toughness: sigma of ln K_IC,GB around "
        "the material's value (0 = one value; MODEL.md 10.4, estimate, tag E)", default=0.0,
        lo=0.0, hi=1.0)
    pores: PoresConfig = param("pores", default=PoresConfig())
    flaws: FlawsConfig = param("surface flaws", default=FlawsConfig())
    contour: ContourConfig = param("contoured plating interface", default=ContourConfig())
    contact: ContactConfig = param("interface contact patches", default=ContactConfig())
    inclusion: InclusionConfig = param("isolated Li inclusion", default=InclusionConfig())

    def check(self, prefix):
        if self.kind == "import" and not self.import_path:
            raise ConfigError(f"{prefix}import_path: required when {prefix}kind = 'import'")


@dataclass(frozen=True)
class MaterialConfig(Validated):
    """Electrolyte material set from inputs/materials, with optional overrides."""

    KEY = "material"
    name: str = param("material set (file stem in inputs/materials, or a path)", default="llzo")
    overrides: dict = param("property = 'value unit' entries replacing the set's values",
                            default_factory=dict)
    li_metal: dict = param("property = 'value unit' entries replacing Li metal values "
                           "(inputs/materials/li_metal.toml)", default_factory=dict)


def check_cell_features(cell: CellConfig, micro: MicrostructureConfig) -> None:
    """Features that would not fit the cell, or silently carve nothing."""
    W = cell.width
    D = (cell.depth or cell.width) if cell.dimension == 3 else 0.0
    f, c = micro.flaws, micro.contour
    if f.depth >= cell.thickness:
        raise ConfigError(f"microstructure.flaws.depth = {f.depth:g} m: must be less than the "
                          f"thickness {cell.thickness:g} m (the flaw would short the cell)")
    if f.max_depth >= cell.thickness:
        raise ConfigError(f"microstructure.flaws.max_depth = {f.max_depth:g} m: must be less than "
                          f"the thickness {cell.thickness:g} m (a flaw would short the cell)")
    deepest = f.depth if f.depth_distribution == "fixed" else f.max_depth
    if f.faces == "both" and f.depth > 0 and not 0 < 2 * deepest < cell.thickness:
        key = "depth" if f.depth_distribution == "fixed" else "max_depth"
        raise ConfigError(f"microstructure.flaws.{key} = {deepest:g} m: with faces = 'both' it "
                          f"must be set below half the thickness {cell.thickness / 2:g} m (flaws "
                          "facing each other would short the cell)")
    if f.max_depth and f.max_depth < cell.spacing:
        raise ConfigError(f"microstructure.flaws.max_depth = {f.max_depth:g} m: less than one site "
                          f"({cell.spacing:g} m)")
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

