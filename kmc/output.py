"""Datasets: the table of output variables, the xarray builder, atomic netCDF writing.

One table (:data:`VARIABLES`) holds every output variable's canonical units and long name;
the builder attaches them as CF attributes and the tests read the same table (xclim's habit).
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from .version import __version__
from .deck import as_dict
from .errors import DatasetError, KmcError
from .observables import SCALARS, SERIES

#: name -> (units, long_name) for every variable a dataset may hold; the plating observables
#: are declared (with how they are computed) in :mod:`kmc.observables`.
VARIABLES = {
    **{o.name: (o.units, o.long_name) for o in SERIES},
    **SCALARS,
    "time": ("s", "simulated time"),
    "axis": ("1", "Cartesian axis"),
    "x": ("m", "site centre along x"),
    "y": ("m", "site centre along y"),
    "z": ("m", "site centre along z (from the electrode at z = 0)"),
    "events": ("1", "cumulative number of kMC events (lattice gas: -1 where the run had stopped)"),
    "field": ("V/m", "electric field strength in force during the interval ending here"),
    "total_rate": ("s-1", "total propensity R of all events"),
    "mean_displacement": ("m", "mean unwrapped particle displacement"),
    "msd": ("m2", "mean squared unwrapped particle displacement"),
    "occupancy_initial": ("1", "site occupancy at t = 0 (1 = particle)"),
    "occupancy_final": ("1", "site occupancy at the end of the run (1 = particle)"),
    "site_energy": ("eV", "site energy E_i"),
    "n_particles": ("1", "number of particles"),
    "hop_rate": ("s-1", "Arrhenius hop rate nu exp(-E_a/kT) in zero field"),
    # microstructure
    "grain": ("1", "grain id of each site"),
    "phase": ("1", "site phase: 0 electrolyte, 1 Li metal, 2 void"),
    "gb_site": ("1", "1 where the site has a grain-boundary edge"),
    "triple_junction": ("1", "1 where the site touches three or more grains"),
    "feature": ("1", "what set the phase: 0 tessellation, 1 pore, 2 flaw, 3 contoured electrode, 4 inclusion"),
    "orientation": ("1", "grain orientation as a unit quaternion (x, y, z, w)"),
    "seed_position": ("m", "Voronoi seed of the grain"),
    "grain_diameter": ("m", "equivalent grain diameter (NaN for grains cut by the electrode faces)"),
    "gb_pair": ("1", "grain ids of the two grains sharing a boundary"),
    "misorientation": ("degree", "disorientation angle of the boundary (cubic symmetry)"),
    "n_grains": ("1", "number of grains"),
    "n_interior_grains": ("1", "number of grains not cut by the electrode faces"),
    "n_gb_pairs": ("1", "number of distinct grain boundaries (pairs of touching grains)"),
    "mean_grain_diameter": ("m", "mean equivalent diameter of the grains not cut by the faces"),
    "std_grain_diameter": ("m", "standard deviation of the equivalent grain diameter"),
    "gb_site_fraction": ("1", "fraction of sites that are grain-boundary sites"),
    "gb_edge_fraction": ("1", "fraction of nearest-neighbour edges that cross a grain boundary"),
    "triple_junction_count": ("1", "number of triple-junction sites"),
    "porosity": ("1", "fraction of sites that are pores"),
    "li_site_fraction": ("1", "fraction of sites that are Li metal (flaws, contoured electrode)"),
    "band_gap": ("eV", "electronic band gap of the site (GB value on GB sites)"),
    "youngs_modulus": ("Pa", "Young's modulus of the site (r_E E on GB sites)"),
    "trap_depth": ("eV", "electron trap depth (0 = no trap)"),
    "quaternion": ("1", "quaternion component"),
    # plating runs (MODEL.md section 8)
    "snapshot": ("1", "snapshot index"),
    "snapshot_time": ("s", "simulated time of the snapshot"),
    "channel": ("1", "event channel"),
    "content": ("1", "Li content of the site in quanta (n_q = full)"),
    "pressure": ("Pa", "Li pressure of the site"),
    "strain_proxy": ("1", "Li pressure over the local Young's modulus (compare micro-Laue strain maps)"),
    "cluster_class": ("1", "Li cluster class: -1 none, 0 A-connected, 1 C-connected, 2 floating, 3 short"),
    "short_path": ("1", "1 on the sites of the networkx shortest Li path at the short"),
    "stop_reason": ("1", "why the run stopped: short, open_circuit, duration, protocol_end, max_events, "
                         "wall_time, interrupted, terminated, field_error"),
    "seed": ("1", "master random seed of the run"),
    "end": ("1", "end of a grain pair"),
}

#: CF flag attributes of categorical maps.
FLAGS = {
    "phase": {"flag_values": np.array([0, 1, 2], np.uint8), "flag_meanings": "electrolyte li_metal void"},
    "feature": {"flag_values": np.array([0, 1, 2, 3, 4], np.uint8),
                "flag_meanings": "tessellation pore flaw contoured_electrode inclusion"},
    "cluster_class": {"flag_values": np.array([-1, 0, 1, 2, 3], np.int8),
                      "flag_meanings": "none a_connected c_connected floating short"},
}


def _attrs(name: str) -> dict:
    units, long_name = VARIABLES[name]
    return {"units": units, "long_name": long_name, **FLAGS.get(name, {})}


def _common_attrs(deck, title: str, command: str, config=None) -> dict:
    """CF and provenance attributes; ``config`` (a dict) stands in for a deck (None)."""
    return {
        "title": title,
        "Conventions": "CF-1.10",
        "model": deck.model if deck is not None else config["model"],
        "seed": deck.run.seed if deck is not None else config["run"]["seed"],
        "kmc_version": __version__,
        "config_json": json.dumps(as_dict(deck) if deck is not None else config, sort_keys=True),
        "history": f"{_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')} "
                   f"kmc {__version__}: {command}",
    }


def _map_dims(shape) -> tuple:
    return ("x", "y", "z")[: len(shape)]


def lattice_gas_dataset(result) -> xr.Dataset:
    """Build the dataset of a :class:`kmc.lattice_gas.LatticeGasResult`.

    Data variables depend only on the deck and seed (bit-identical across runs); wall-clock
    facts go to the attributes.
    """
    from .lattice_gas import hop_rate

    deck, graph = result.deck, result.graph
    dims = _map_dims(graph.shape)
    h = graph.spacing
    coords = {"time": ("time", result.times, _attrs("time")),
              "axis": ("axis", np.array(["x", "y", "z"]), _attrs("axis"))}
    for d, n in zip(dims, graph.shape):
        coords[d] = (d, (np.arange(n) + 0.5) * h, _attrs(d))  # site centres, as in every map
    gas = deck.lattice_gas
    data = {
        "events": (("time",), result.events),
        "field": (("time",), result.field),
        "total_rate": (("time",), result.total_rate),
        "mean_displacement": (("time", "axis"), result.mean_displacement),
        "msd": (("time",), result.msd),
        "occupancy_initial": (dims, graph.to_grid(result.initial_occupancy)),
        "occupancy_final": (dims, graph.to_grid(result.final_occupancy)),
        "site_energy": (dims, graph.to_grid(result.site_energy)),
        "n_particles": ((), np.int64(result.n_particles)),
        "hop_rate": ((), hop_rate(gas.attempt_frequency, gas.barrier, deck.conditions.temperature)),
    }
    ds = xr.Dataset({k: (dims_, np.asarray(v), _attrs(k)) for k, (dims_, v) in data.items()},
                    coords=coords)
    ds.attrs.update(_common_attrs(deck, "kMC lattice-gas run", "kmc run"))
    ds.attrs.update({"stop_reason": result.stop_reason, "stop_time_s": result.stop_time,
                     "stop_events": result.stop_events, "wall_time_s": result.wall_time})
    return ds


def microstructure_dataset(micro, deck, material=None) -> xr.Dataset:
    """Grain, phase and boundary maps, per-grain and per-boundary tables, statistics and, with
    a resolved ``material``, the per-site property maps of ``Microstructure.site_properties``."""
    h = micro.spacing
    coords = {d: (d, (np.arange(n) + 0.5) * h, _attrs(d)) for d, n in zip("xyz", micro.shape)}
    coords["axis"] = ("axis", np.array(["x", "y", "z"]), _attrs("axis"))
    coords["quaternion"] = ("quaternion", np.array(["x", "y", "z", "w"]), _attrs("quaternion"))
    coords["end"] = ("end", np.array([0, 1], np.int8), _attrs("end"))
    gb, tj = micro.classify()
    pairs, angle = micro.gb_pairs()
    stats = micro.statistics()
    grid = ("x", "y", "z")
    data = {
        "grain": (grid, micro.grain),
        "phase": (grid, micro.phase),
        "gb_site": (grid, gb.astype(np.uint8)),
        "triple_junction": (grid, tj.astype(np.uint8)),
        "feature": (grid, micro.feature),
        "orientation": (("grain_id", "quaternion"), micro.orientation),
        "seed_position": (("grain_id", "axis"), micro.seeds),
        "grain_diameter": (("grain_id",), micro.grain_diameters()),
        "gb_pair": (("pair", "end"), pairs),
        "misorientation": (("pair",), np.degrees(angle)),
    }
    data.update({k: ((), v) for k, v in stats.items() if k in VARIABLES})
    if material is not None:
        data.update({k: (grid, v) for k, v in micro.site_properties(material).items()
                     if k != "ionic_conductivity"})
    ds = xr.Dataset({k: (dims, np.asarray(v), _attrs(k)) for k, (dims, v) in data.items()},
                    coords=coords)
    ds.attrs.update(_common_attrs(deck, "kMC microstructure", "kmc microstructure"))
    ds.attrs.update({"material": deck.material.name, "amorphous": int(micro.amorphous),
                     "spacing_m": h})
    if material is not None:
        ds.attrs["material_json"] = json.dumps(dataclasses.asdict(material), sort_keys=True)
    return ds


def plating_dataset(result) -> xr.Dataset:
    """Dataset of a :class:`kmc.simulation.Result`: time series, depth profile,
    snapshots, static maps and scalars (MODEL.md section 8), CF units on every variable and the
    resolved deck and material in the attributes. Data variables depend only on deck and seed."""
    from .codes import CHANNELS

    g, micro, obs = result.graph, result.micro, result.observations
    h = micro.spacing
    grid = ("x", "y", "z")
    coords = {d: (d, (np.arange(n) + 0.5) * h, _attrs(d)) for d, n in zip("xyz", micro.shape)}
    coords["time"] = ("time", obs["time"], _attrs("time"))
    coords["channel"] = ("channel", np.array(CHANNELS), _attrs("channel"))
    data = {k: (("time",), v) for k, v in obs.items() if k not in ("time", "li_depth_profile")}
    data["li_depth_profile"] = (("time", "z"), obs["li_depth_profile"])
    data["grain"] = (grid, micro.grain)
    data["gb_site"] = (grid, g.to_grid(g.site_data["gb"]))
    data["feature"] = (grid, micro.feature)
    snaps = result.snapshots
    if snaps:
        coords["snapshot"] = ("snapshot", np.arange(len(snaps["time"])), _attrs("snapshot"))
        data["snapshot_time"] = (("snapshot",), snaps["time"])
        modulus = np.asarray(g.site_data["youngs_modulus"], float)
        for name in ("phase", "content", "pressure", "cluster_class"):
            data[name] = (("snapshot",) + grid, np.array([g.to_grid(v) for v in snaps[name]]))
        data["strain_proxy"] = (("snapshot",) + grid,
                                np.array([g.to_grid(p / modulus) for p in snaps["pressure"]]))
    sc = dict(result.scalars)
    path = sc.pop("short_path", None)
    data["short_path"] = (grid, g.to_grid(path if path is not None else np.zeros(g.n_sites, np.uint8)))
    data["events_by_kind"] = (("channel",), sc.pop("events_by_kind"))
    data.update({k: ((), v) for k, v in sc.items()})
    data["stop_reason"] = ((), np.array(result.stop_reason))
    data["seed"] = ((), np.int64(result.config["run"]["seed"]))
    ds = xr.Dataset({k: (dims, np.asarray(v), _attrs(k)) for k, (dims, v) in data.items()},
                    coords=coords)
    ds.attrs.update(_common_attrs(result.deck, "kMC Li plating run", "kmc run", result.config))
    if result.cell.deck is not None:  # the seed that built the microstructure
        ds.attrs["microstructure_seed"] = result.cell.deck.run.seed
    ds.attrs.update({"material": result.cell.material.name, "spacing_m": h,
                     "material_json": json.dumps(dataclasses.asdict(result.material), sort_keys=True),
                     "stop_reason": result.stop_reason, "wall_time_s": result.wall_time,
                     "profile_json": json.dumps(result.profile, sort_keys=True)})
    return ds


# --- ensembles (kmc.ensemble) ----------------------------------------------------------------

#: Time-series variables of a task renamed in the merge when a sweep axis takes their name
#: (``current_density`` the axis, ``current_density_observed`` the series).
OBSERVED_SUFFIX = "_observed"

#: Scalars of a task kept per task in the merge (dims: sweep axes, replica).
MERGED_SCALARS = ("t_short", "charge_at_short", "short_path_gb_fraction",
                  "short_path_gb_site_fraction", "short_path_tortuosity", "short_path_length",
                  "gb_site_fraction", "gb_edge_fraction", "crack_span_time", "quantum_charge",
                  "cell_area")


def _coordinate(values: list, meta: dict):
    """A sweep axis's values as a coordinate array: numbers in SI, else strings."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, np.int64 if all(isinstance(v, int) for v in values) else float)
    if all(isinstance(v, str) for v in values):
        return np.asarray(values, object)
    return np.asarray([json.dumps(v) for v in values], object)


def ensemble_dataset(ens, command: str = "kmc.Ensemble.merge") -> xr.Dataset:
    """One dataset of all tasks of the :class:`kmc.ensemble.Ensemble` ``ens``.

    Dimensions: the sweep axes (:attr:`Ensemble.axes`; coordinates in SI with ``units`` and
    ``deck_key``), ``replica``, and ``time``, the union of the points' observation grids
    0 .. ``run.duration``: each run's series is put on it (NaN after the run stopped; its stop
    time is the scalar ``stop_time``). Scalars per task: :data:`MERGED_SCALARS` (``t_short``
    NaN for a censored run), ``stop_time``, ``stop_reason`` (``"error"`` for a failed task),
    ``seed``, ``microstructure_seed``, ``error`` (the one-line error, else empty). A series
    whose name is that of a sweep axis gets the suffix ``_observed``. Snapshots, maps and depth
    profiles stay in the task files. Attributes: the deck (``config_json``), ``kmc_version``,
    a history line with ``command``, ``sweep`` and ``tasks_directory``.
    """
    from .ensemble import field_of

    axes, R = ens.axes, ens.config.replicas
    shape = tuple(len(ens.config.sweep[keys[0]]) for keys in axes.values()) + (R,)
    if ens.config.combine == "zip" and axes:
        shape = (len(ens.points), R)
    dims = tuple(axes) + ("replica",)
    grid = np.unique(np.concatenate([
        np.linspace(0.0, d.run.duration, d.run.observations)
        for d in (ens._base.replace(p) if p else ens._base for p in ens.points)]))
    errors = ens.errors()
    missing = [t for t in ens.tasks if not ens.path(t).exists() and t.index not in errors]
    if missing:
        raise KmcError(f"{ens.directory}: {len(missing)} of {len(ens.tasks)} tasks have no result "
                       f"(first: {missing[0].name}); run the ensemble again to finish it")

    def flat(index_arrays):
        return np.unravel_index(index_arrays, shape)

    scalars, series, attrs = {}, {}, {}
    stop_reason = np.full(shape, "error", object)
    error = np.full(shape, "", object)
    seed = np.zeros(shape, np.int64)
    micro_seed = np.zeros(shape, np.int64)
    stop_time = np.full(shape, np.nan)
    tolerance = 1e-9 * float(grid[-1])
    for t in ens.tasks:
        at = flat(t.index)
        seed[at] = t.seed
        if t.index in errors:
            rec = errors[t.index]
            error[at] = f"{rec['error_class']}: {rec['message']}"
            micro_seed[at] = ens.deck.run.seed if ens.config.vary == "kinetics" else t.seed
            continue
        ds = open_dataset(ens.path(t))
        stop_reason[at] = str(ds["stop_reason"].values)
        micro_seed[at] = int(ds.attrs.get("microstructure_seed", t.seed))
        time = ds["time"].values
        stop_time[at] = float(time[-1])
        keep = ~ds.get_index("time").duplicated()
        for name, var in ds.data_vars.items():
            if var.dims == ("time",):
                values = var.isel(time=keep).reindex(
                    time=grid, method="nearest", tolerance=tolerance).values.astype(float)
                series.setdefault(name, np.full(shape + (grid.size,), np.nan))[at] = values
                attrs[name] = dict(var.attrs)
            elif name in MERGED_SCALARS:
                scalars.setdefault(name, np.full(shape, np.nan))[at] = float(var.values)
                attrs[name] = dict(var.attrs)
    coords = {"replica": ("replica", np.arange(R), {"long_name": "replica of a sweep point"}),
              "time": ("time", grid, _attrs("time"))}
    for name, keys in axes.items():
        for key in keys:
            f, _ = field_of(ens._base, key)
            values = [field_of(ens._base.replace(key, raw), key)[1] for raw in
                      (ens.config.sweep[key] if ens.config.combine == "product"
                       else [p[key] for p in ens.points])]
            meta = {"long_name": f.metadata["doc"], "deck_key": key,
                    "as_written": json.dumps(ens.config.sweep[key])}
            if f.metadata.get("unit"):
                meta["units"] = f.metadata["unit"]
            cname = name if key == keys[0] else key.replace(".", "_")
            coords[cname] = (name, _coordinate(values, f.metadata), meta)
    data = {}
    for name, values in series.items():
        out = name + OBSERVED_SUFFIX if name in axes else name
        data[out] = (dims + ("time",), values, attrs[name])
    for name in MERGED_SCALARS:
        if name in scalars:
            data[name] = (dims, scalars[name], attrs[name])
    data["stop_time"] = (dims, stop_time, {"units": "s", "long_name": "simulated time at which "
                                           "the run stopped (NaN for a failed task)"})
    data["stop_reason"] = (dims, stop_reason.astype(str), {
        "units": "1", "long_name": "why the run stopped (error: the task raised, see error)"})
    data["seed"] = (dims, seed, {"units": "1", "long_name": "run.seed of the task: SeedSequence("
                                 "master, spawn_key=(task,)), 63 bits"})
    data["microstructure_seed"] = (dims, micro_seed, {
        "units": "1", "long_name": "seed that built the task's microstructure"})
    data["task"] = (dims, np.arange(len(ens.tasks), dtype=np.int64).reshape(shape), {
        "units": "1", "long_name": "task index (sweep point x replicas + replica)"})
    data["error"] = (dims, error.astype(str), {"units": "1", "long_name": "the task's error "
                                               "(exception class: message), empty if it finished"})
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(_common_attrs(ens.deck, "kMC Li plating ensemble", command))
    ds.attrs.update({"sweep": ens.description(), "tasks_directory": str(ens.directory),
                     "failed_tasks": len(errors)})
    return ds


def write_dataset(ds: xr.Dataset, path) -> Path:
    """Write ``ds`` to netCDF atomically: a temporary file in the same folder, then rename.

    A crash mid-write never leaves a truncated file under ``path``.
    """
    path = Path(path)
    if path.is_dir():
        raise DatasetError(f"{path}: is a directory; give a file name for the dataset")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot write the dataset there ({exc.strerror})") from None
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine="netcdf4")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def open_dataset(path) -> xr.Dataset:
    """Open a dataset written by :func:`write_dataset`, with a one-line error if it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: dataset not found")
    try:
        return xr.load_dataset(path, engine="netcdf4")
    except Exception as exc:  # netCDF4/HDF5 raise OSError, ValueError, RuntimeError...
        raise DatasetError(f"{path}: not a readable netCDF dataset ({exc.__class__.__name__})") from None
