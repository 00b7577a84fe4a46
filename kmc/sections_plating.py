"""The sections of plating decks: ``[protocol]``, ``[plating]`` and ``[ensemble]``.

Split from :mod:`kmc.sections` (the cell, lattice-gas and shared sections) to keep each module
short; :mod:`kmc.deck` re-exports every name of both, so ``from kmc.deck import PlatingConfig``
is the public spelling.
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import Validated, param
from .errors import ConfigError


# ---------------------------------------------------------------------------------------
# Plating (MODEL.md sections 5-8)
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProtocolConfig(Validated):
    """Current protocol J(t) (MODEL.md section 6); positive J plates the electrode at z = 0.

    Built by :func:`kmc.protocol.from_config`; ``[field]`` of lattice-gas decks is the same
    family for a field strength.
    """

    KEY = "protocol"
    kind: str = param("protocol", default="constant",
                      choices=("constant", "pulsed", "cycling", "staircase", "steps"))
    current_density: float = param("J (constant, pulse amplitude, plating current, first CCD step)",
                                   unit="A/m^2", default=10.0, lo=-1e5, hi=1e5)
    period: float = param("pulse period (pulsed)", unit="s", default=1.0, lo=0.0, lo_open=True)
    duty: float = param("fraction of each period at J (pulsed)", default=0.5, lo=0.0, hi=1.0)
    reverse: float = param("reverse-pulse current density (pulsed; 0 = rest)", unit="A/m^2",
                           default=0.0, lo=0.0, hi=1e5)
    pulses: str = param("pulsed: step through every switch (resolved), or the fast-switching "
                        "limit for pulses much shorter than the time between events, e.g. MHz "
                        "(averaged: the mean current, nonlinear rates averaged over on and off)",
                        default="resolved", choices=("resolved", "averaged"))
    capacity: float = param("areal capacity per half-cycle (cycling, staircase) or step (steps)",
                            unit="C/m^2", default=7.2, lo=0.0, lo_open=True)
    strip_current_density: float = param("stripping current density (cycling, staircase; 0 = J)",
                                         unit="A/m^2", default=0.0, lo=0.0, hi=1e5)
    step: float = param("CCD step dJ (staircase, steps)", unit="A/m^2", default=5.0, lo=0.0,
                        hi=1e5)
    cycles: int = param("number of cycles or steps (0 = until the run stops)", default=0, lo=0)

    def check(self, prefix):
        if self.kind in ("cycling", "staircase", "steps") and not self.current_density > 0:
            raise ConfigError(f"{prefix}current_density = {self.current_density:g} A/m^2: must be "
                              f"> 0 for kind = {self.kind!r}")


@dataclass(frozen=True)
class PlatingConfig(Validated):
    """Which events act and their kinetic parameters (MODEL.md section 5)."""

    KEY = "plating"
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
    crack_paths: bool = param(
        "crack paths (MODEL.md 10.4): the Griffith length a is the Li-filled path from the "
        "electrode to the tip, a step kinked by theta from the crack direction is driven by "
        "K_I cos^3(theta/2), and diagonal (45 degree) steps are crack steps (kmc.crack_path); "
        "false: a is the cluster's extent along the step, no kinks", default=False)
    crack_direction_length: float = param(
        "length of crack behind a tip over which its direction is taken (crack_paths; "
        "estimate, tag E: a third of a 2.8 um grain)", unit="m", default=1e-6,
        lo=0.0, lo_open=True)
    terminal_crack_speed: float = param(
        "c_R, the Rayleigh wave speed of the electrolyte (0: off): a crack step at and above "
        "K_IC runs at Freund's v = c_R (1 - (K_IC/K_I)^2) instead of nu_f (K_I/K_IC - 1), and "
        "slow crack growth ends at K_IC (MODEL.md 10.5; kmc.mechanics.dynamic_crack_velocity); "
        "LLZO 3.1 km/s = 0.92 sqrt(G/rho)", unit="m/s", default=0.0, lo=0.0, hi=2e4)
    subcritical_fracture: bool = param(
        "slow (stress-corrosion) crack growth below K_IC: v = v0 (K_I/K_IC)^n for K_I >= K_th, "
        "one site per h / v (MODEL.md 10.5; kmc.mechanics.subcritical_crack_rate)", default=False)
    subcritical_velocity: float = param(
        "v0, the slow-crack velocity extrapolated to K_I = K_IC (estimate, tag E; oxides and "
        "glasses 1e-6 to 1 m/s)", unit="m/s", default=1e-3, lo=0.0, lo_open=True, hi=1e3)
    subcritical_exponent: float = param(
        "n, the stress-corrosion exponent (estimate, tag E; 11 for glasses to > 100 for "
        "polycrystalline ceramics, Freiman 1984)", default=30.0, lo=1.0, hi=500.0)
    subcritical_threshold: float = param(
        "K_th / K_IC, the fatigue limit below which no slow growth occurs (estimate, tag E)",
        default=0.5, lo=0.0, lo_open=True, hi=1.0, hi_open=True)
    creep: bool = param("Li creep toward lower pressure and to/from the reservoirs", default=True)
    size_dependent_flow: bool = param(
        "size-dependent Li flow stress: per site, the creep reference stress is sigma_ref(w) = "
        "max(sigma_bulk, sigma_um (w / w_ref)^(-m_s)) of the width w of its Li (MODEL.md 10.6; "
        "kmc.mechanics.li_flow_stress; sigma_bulk = creep_reference_stress, sigma_um = "
        "yield_strength_micropillar of the Li-metal set)", default=False)
    flow_stress_reference_width: float = param(
        "w_ref, the Li width at which the flow stress is yield_strength_micropillar (Xu 2017: "
        "~1 um pillars)", unit="m", default=1e-6, lo=0.0, lo_open=True, hi=1e-2)
    flow_stress_exponent: float = param(
        "m_s, the size-effect exponent of the Li flow stress (0.68 at 298 K, 1.00 at 363 K; Xu "
        "et al. 2017, PNAS 114, 57)", default=0.68, lo=0.0, hi=3.0)
    charge_transfer: str = param("interface kinetics: linearised Butler-Volmer, or none (i0 = inf)",
                                 default="butler_volmer", choices=("butler_volmer", "none"))
    electron_leak: bool = param("electron injection, walk, trapping and Li+ reduction in the "
                                "electrolyte (MODEL.md 5.4-5.6), calibrated on the material's "
                                "measured electronic conductivity", default=True)
    trap_attempt_frequency: float = param("detrapping attempt frequency nu_t", unit="1/s",
                                          default=1e13, lo=0.0, lo_open=True)
    explicit_trap_time: float = param(
        "traps that hold an electron longer than this on average (1/k_d; LLZO triple junctions "
        "~1 ms, pores ~3 s, grain boundaries ~1 us) are kMC state: capture, escape and "
        "reduction are events, so trapped charge relaxes in time (MODEL.md 5.5); 0: every "
        "trap quasi-static", unit="s", default=1e-4, lo=0.0)
    nucleation_attempt_frequency: float = param("Li+ reduction attempt frequency nu_n", unit="1/s",
                                                default=1e13, lo=0.0, lo_open=True)
    nucleation_barrier: float = param("nucleation barrier dG* at the bulk modulus (scaled by the "
                                      "local modulus) at the driving force "
                                      "nucleation_overpotential", unit="eV", default=1.0, lo=0.0,
                                      hi=10.0)
    nucleation_overpotential: float = param(
        "eta_n: the nucleation barrier scales as (eta_n/eta)^2 with the driving force eta of "
        "the electrons (classical nucleation, Pei et al. 2017: Li nucleation overpotentials of "
        "tens to hundreds of mV); 0: dG* for any eta > 0", unit="V", default=0.1, lo=0.0, hi=10.0)
    hall_angle: float | None = param(
        "EXPLORATORY override of the Li+ Hall angle |Theta| = mu |B| (tan theta_H, along B; "
        "physical: 5e-11 rad at 1 T in LLZO); recorded in the dataset as an override",
        unit="", default=None, lo=-1.0, hi=1.0)
    stripping_voids: bool = param("electrode-face sites detach where the stripping current "
                                  "exceeds the resupply limit and heal under stack pressure "
                                  "(MODEL.md 5.8)", default=False)
    strip_limit: float = param("resupply-limited stripping current density at zero stack "
                               "pressure, 298 K", unit="A/m^2", default=1.0, lo=0.0, lo_open=True)
    strip_limit_per_pressure: float = param("rise of that limit with stack pressure",
                                            unit="A/m^2/Pa", default=1.5e-6, lo=0.0)
    void_growth: str = param(
        "how a stripping void opens: 'volume' (MODEL.md 10.2: a face site detaches once the "
        "Li stripped beyond resupply, integral of a_f (j - j_strip) dt, reaches one site's "
        "worth, deterministically; creep refills voids at up to a_f j_strip, plating does not, "
        "and a site out of contact touches again when its void is empty) or 'rate' (at nu_v "
        "(j/j_strip - 1) per unit time, MODEL.md 5.8)", default="rate", choices=("rate", "volume"))
    partial_contact: bool = param(
        "'volume' voids: a face site's contact shrinks as its void grows, its interface "
        "conductance times the fraction still touching, 1 - Q_v/Q_site, in steps of "
        "1/quanta_per_site (the field is re-solved at each step), and resupply reaches the void "
        "through that fraction (MODEL.md 10.2; false: contact is lost a whole site at a time)",
        default=False)
    void_attempt_frequency: float = param("nu_v in the detachment rate nu_v (j/j_strip - 1)",
                                          unit="1/s", default=1.0, lo=0.0, lo_open=True)
    heal_rate_per_pressure: float = param("healing rate of a detached site per unit stack "
                                          "pressure ('rate' voids; 'volume' voids refill by "
                                          "resupply)", unit="1/(s*Pa)", default=1e-7, lo=0.0)

    def check(self, prefix):
        if self.partial_contact and not (self.stripping_voids and self.void_growth == "volume"):
            raise ConfigError(f"{prefix}partial_contact = true: needs stripping_voids = true and "
                              f"void_growth = \"volume\"")


# ---------------------------------------------------------------------------------------
# Ensembles of plating runs (kmc.ensemble)
# ---------------------------------------------------------------------------------------

#: Deck keys an ensemble may not sweep, and why (one line each).
NOT_SWEPT = {
    "model": "the deck kind is fixed",
    "run.seed": "each task's seed is drawn from the master run.seed; use ensemble.replicas",
    "ensemble": "the ensemble does not sweep itself",
    "output": "an ensemble writes one dataset",
}


def _flatten(table: dict, prefix: str = "") -> dict:
    """``{"protocol": {"current_density": [...]}}`` -> ``{"protocol.current_density": [...]}``
    (TOML turns an unquoted dotted key into nested tables)."""
    flat = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


@dataclass(frozen=True)
class EnsembleConfig(Validated):
    """An ensemble of plating runs (``kmc ensemble``, :class:`kmc.ensemble.Ensemble`).

    ``sweep`` maps dotted deck keys to lists of values written as in a deck
    (``"protocol.current_density" = ["5 mA/cm^2", "10 mA/cm^2"]``); ``combine`` makes the
    sweep points the Cartesian product of the lists (the last key varies fastest) or zips them
    (lists of one length). Every sweep point runs ``replicas`` times with seeds drawn from the
    master ``run.seed`` (:func:`kmc.ensemble.task_seed`). Here only the section's own shape is
    checked; the deck (:class:`kmc.deck.PlatingDeck`) applies every sweep point with
    ``deck.replace`` at load, so a bad key or value fails before any compute. The defaults (no
    sweep, one replica) leave a deck's ``kmc run`` unchanged.
    """

    KEY = "ensemble"
    replicas: int = param("runs per sweep point, each with its own seed", default=1, lo=1,
                          hi=1_000_000)
    vary: str = param("what a replica varies: 'kinetics' (the kinetic seed only; the replicas "
                      "of a sweep point share the cell built from run.seed) or 'microstructure' "
                      "(the cell too)", default="kinetics", choices=("kinetics", "microstructure"))
    combine: str = param("sweep points: 'product' of the lists or 'zip' of lists of one length",
                         default="product", choices=("product", "zip"))
    sweep: dict = param("dotted deck key -> list of values as a deck writes them",
                        default_factory=dict)
    tasks: str = param("directory of the per-task files (empty: the dataset path with .tasks)",
                       default="")

    def check(self, prefix):
        flat = _flatten(self.sweep)
        if flat != self.sweep:
            object.__setattr__(self, "sweep", flat)
        for key, values in flat.items():
            name = f"{prefix}sweep.{key}"
            if not isinstance(values, (list, tuple)) or not values:
                raise ConfigError(f"{name} = {values!r}: expected a non-empty list of values")
            for bad, why in NOT_SWEPT.items():
                if key == bad or key.startswith(bad + "."):
                    raise ConfigError(f"{name}: not a sweep axis ({why})")
        if self.combine == "zip" and len({len(v) for v in flat.values()}) > 1:
            lengths = ", ".join(f"{k}: {len(v)}" for k, v in flat.items())
            raise ConfigError(f"{prefix}combine = 'zip': the sweep lists must have one length, "
                              f"got {lengths}")
