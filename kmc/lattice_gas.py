"""Generic lattice gas: particles hop to empty neighbours with Arrhenius, field-biased rates.

It exercises the engine on physics with exact answers (VALIDATION.md A3-A6) and is what
``kmc run`` executes for a ``model = "lattice_gas"`` deck.

Rate of a hop i -> j along edge vector d (target empty), at temperature T::

    k_ij = nu * exp(-E_a / kT) * exp(-(E_j - E_i - z e E.d) / (2 kT))

The symmetric split of the energy change gives detailed balance,
k_ij / k_ji = exp(-(dE - z e E.d) / kT), so site occupancies relax to Boltzmann (A5); for a
uniform field along a lattice axis it is the bias b = z e E a / (2 kT) of A4, with drift
velocity v = nu' a (e^b - e^-b) and diffusion coefficient D = nu' a^2 (e^b + e^-b) / 2 per
axis, where nu' = nu exp(-E_a / kT) (Einstein: D / mu = kT / (z e) as b -> 0).
"""
from __future__ import annotations

import logging
import math
import time as wallclock
from dataclasses import dataclass

import numpy as np

from .deck import LatticeGasDeck
from .codes import REACHED_EVENTS
from .engine import check_status, lattice_gas_kernel
from .errors import ConfigError
from .graph import Graph, lattice_graph
from .protocol import from_config
from .units import BOLTZMANN_EV

log = logging.getLogger(__name__)


def hop_rate(attempt_frequency: float, barrier: float, temperature: float) -> float:
    """Arrhenius hop rate nu' = nu exp(-E_a / kT) [1/s] (E_a in eV, T in K)."""
    return attempt_frequency * math.exp(-barrier / (BOLTZMANN_EV * temperature))


def edge_rates(graph: Graph, *, attempt_frequency: float, barrier: float, temperature: float,
               site_energy=None, charge_number: int = 1, field=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Hop rate [1/s] along every directed edge of ``graph`` (module docstring formula).

    Parameters
    ----------
    attempt_frequency : float
        nu [1/s].
    barrier : float
        E_a [eV].
    temperature : float
        T [K].
    site_energy : ndarray, optional
        E_i [eV] per site (default 0).
    charge_number : int
        z of the hopping particle.
    field : array_like, shape (3,)
        Uniform electric field vector E [V/m].
    """
    kT = BOLTZMANN_EV * temperature
    src, dst = graph.sources, graph.indices
    d_energy = np.zeros(graph.n_edges)
    if site_energy is not None:
        d_energy = site_energy[dst] - site_energy[src]
    work = charge_number * (graph.edge_vectors @ np.asarray(field, dtype=float))  # eV
    return hop_rate(attempt_frequency, barrier, temperature) * np.exp(-(d_energy - work) / (2.0 * kT))


@dataclass
class LatticeGasResult:
    """Everything a lattice-gas run produced (turned into a dataset by :mod:`kmc.output`)."""

    deck: LatticeGasDeck
    graph: Graph
    times: np.ndarray
    events: np.ndarray
    field: np.ndarray
    total_rate: np.ndarray
    mean_displacement: np.ndarray
    msd: np.ndarray
    initial_occupancy: np.ndarray
    final_occupancy: np.ndarray
    site_energy: np.ndarray
    n_particles: int
    stop_reason: str
    stop_time: float
    stop_events: int
    wall_time: float


def _streams(seed: int):
    """Independent random streams for the set-up and the event loop, from one seed."""
    setup, events = np.random.SeedSequence(seed).spawn(2)
    return np.random.Generator(np.random.PCG64(setup)), np.random.PCG64(events)


def simulate(deck: LatticeGasDeck, progress=None) -> LatticeGasResult:
    """Run a lattice-gas deck on the observation grid of ``deck.run``.

    Parameters
    ----------
    deck : LatticeGasDeck
        Validated deck (SI units).
    progress : callable(float), optional
        Called with the simulated time [s] reached, for progress bars.

    Notes
    -----
    Stops at the end of ``run.duration``, at ``run.max_events`` or at ``run.wall_time_limit``;
    observations after an early stop are NaN (``events`` -1), and ``stop_time`` and
    ``stop_events`` record where the run stopped. The field protocol is piecewise constant:
    the kernel lands exactly on every change and every observation time (MODEL.md section 5).
    """
    start = wallclock.perf_counter()
    lat, gas, run, fld = deck.lattice, deck.lattice_gas, deck.run, deck.field
    graph = lattice_graph(lat.shape, lat.spacing, lat.periodic, lat.order)
    setup_rng, event_bitgen = _streams(run.seed)
    n_part = int(round(gas.coverage * graph.n_sites))
    occ = np.zeros(graph.n_sites, dtype=np.uint8)
    occ[setup_rng.choice(graph.n_sites, size=n_part, replace=False)] = 1
    energy = (setup_rng.normal(0.0, gas.site_energy_spread, graph.n_sites)
              if gas.site_energy_spread > 0 else np.zeros(graph.n_sites))
    direction = np.asarray(fld.direction) / np.linalg.norm(fld.direction)
    protocol = from_config(fld)

    def rates_for(strength):
        with np.errstate(over="ignore", invalid="ignore"):
            rates = edge_rates(graph, attempt_frequency=gas.attempt_frequency, barrier=gas.barrier,
                               temperature=deck.conditions.temperature, site_energy=energy,
                               charge_number=gas.charge_number, field=strength * direction)
        if not np.all(np.isfinite(rates)):
            raise ConfigError(
                f"field.amplitude = {strength:g} V/m: hop rates overflow at temperature = "
                f"{deck.conditions.temperature:g} K (bias z e E a / 2kT too large); lower the field "
                "or raise the temperature")
        return rates

    strength = protocol(0.0)
    kernel = lattice_gas_kernel(run.engine, graph.indptr, graph.indices, rates_for(strength), occ,
                                event_bitgen, graph.edge_vectors)
    times = np.linspace(0.0, run.duration, run.observations)
    n_obs = times.size
    events = np.zeros(n_obs, dtype=np.int64)
    fields = np.full(n_obs, np.nan)
    total_rate = np.full(n_obs, np.nan)
    mean_disp = np.full((n_obs, 3), np.nan)
    msd = np.full(n_obs, np.nan)
    chunk = 1_000_000 if run.engine == "cython" else 20_000
    stop_reason = "duration"

    def observe(k):
        events[k] = kernel.n_events
        fields[k] = strength
        total_rate[k] = kernel.total_rate
        d = kernel.displacement
        if d.shape[0]:
            mean_disp[k] = d.mean(axis=0)
            msd[k] = np.mean(np.sum(d * d, axis=1))

    observe(0)
    stopped = False
    for k in range(1, n_obs):
        while kernel.time < times[k] and not stopped:
            change = protocol.next_change(kernel.time)
            t_stop = min(times[k], change)
            budget = min(chunk, run.max_events - kernel.n_events)
            status, _ = kernel.run(t_stop, budget, run.debug_rebuild_every)
            check_status(status, kernel)
            if status != REACHED_EVENTS and t_stop == change:
                strength = protocol(kernel.time)
                kernel.set_edge_rates(rates_for(strength))
            if progress is not None:
                progress(kernel.time)
            if kernel.n_events >= run.max_events:
                stop_reason, stopped = "max_events", True
            elif wallclock.perf_counter() - start > run.wall_time_limit:
                stop_reason, stopped = "wall_time_limit", True
        if stopped:
            log.warning("run stopped early at t = %.6g s (%s)", kernel.time, stop_reason)
            events[k:] = -1
            break
        observe(k)
    return LatticeGasResult(
        deck=deck, graph=graph, times=times, events=events, field=fields, total_rate=total_rate,
        mean_displacement=mean_disp, msd=msd, initial_occupancy=occ,
        final_occupancy=kernel.occupancy, site_energy=energy, n_particles=n_part,
        stop_reason=stop_reason, stop_time=kernel.time, stop_events=kernel.n_events,
        wall_time=wallclock.perf_counter() - start)
