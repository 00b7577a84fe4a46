"""Datasets: the table of output variables, the xarray builder, atomic netCDF writing.

One table (:data:`VARIABLES`) holds every output variable's canonical units and long name;
the builder attaches them as CF attributes and the tests read the same table (xclim's habit).
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import json
import os
import shlex
import sys
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from .version import __version__
from .deck import as_dict
from .errors import DatasetError
from .observables import SCALARS, SERIES

#: name -> (units, long_name) for every variable a dataset may hold; the plating observables
#: are declared (with how they are computed) in :mod:`kmc.observables`.
VARIABLES = {
    **{o.name: (o.units, o.long_name) for o in SERIES},
    **SCALARS,
    "time": ("s", "simulated time"),
    "axis": ("1", "Cartesian axis index (0 x, 1 y, 2 z; names in axis_label)"),
    "axis_label": ("1", "name of the Cartesian axis"),
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
    "quaternion": ("1", "quaternion component index (0 x, 1 y, 2 z, 3 w; names in quaternion_label)"),
    "quaternion_label": ("1", "name of the quaternion component"),
    # plating runs (MODEL.md section 8)
    "snapshot": ("1", "snapshot index"),
    "snapshot_time": ("s", "simulated time of the snapshot"),
    "channel": ("1", "event channel kind index (names in channel_label)"),
    "channel_label": ("1", "name of the event channel kind"),
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


#: CF attributes of the coordinates beyond units and long name. Time is simulated time from
#: the start of the run in seconds (``units = "s"``, no reference date: xarray leaves it a
#: float). x, y, z are Cartesian
#: positions in the cell, not map projections, and CF has no standard name for them
#: (``projection_x_coordinate`` is for map projections), so they carry ``axis`` only; z
#: increases away from the electrode at z = 0 (``positive = "up"``, as CF asks of a Z axis).
COORDINATE_ATTRS = {
    "time": {"axis": "T", "standard_name": "time"},
    "x": {"axis": "X"},
    "y": {"axis": "Y"},
    "z": {"axis": "Z", "positive": "up"},
}


def _coord_attrs(name: str) -> dict:
    return {**_attrs(name), **COORDINATE_ATTRS.get(name, {})}


def _site_coords(shape, h: float) -> dict:
    """Numeric x, y, z coordinates [m] (site centres) of a grid of ``shape`` (x, y, z order)."""
    return {d: (d, (np.arange(n) + 0.5) * h, _coord_attrs(d)) for d, n in zip("xyz", shape)}


def _labels(dim: str, labels) -> tuple[dict, dict]:
    """A dimension of named entries the CF way: an integer coordinate ``dim`` with
    ``flag_values``/``flag_meanings``, and the names as the auxiliary variable ``dim_label``
    (CF: string labels are auxiliary variables, never coordinates)."""
    labels = [str(v) for v in labels]
    index = np.arange(len(labels), dtype=np.int8)
    coord = {dim: (dim, index, {**_attrs(dim), "flag_values": index,
                                "flag_meanings": " ".join(labels)})}
    data = {f"{dim}_label": ((dim,), np.array(labels, dtype=object))}
    return coord, data


def zyx(grid: np.ndarray) -> np.ndarray:
    """A site map of the grid order (x, y[, z]) in the dataset order (z, y, x), contiguous;
    leading dimensions (snapshot, ...) stay in front. The values are not changed."""
    grid = np.asarray(grid)
    n = 3 if grid.ndim >= 3 else grid.ndim
    lead = tuple(range(grid.ndim - n))
    return np.ascontiguousarray(grid.transpose(lead + tuple(reversed(range(grid.ndim - n, grid.ndim)))))


def api_command(call: str) -> str:
    """The history entry of a dataset built from Python: the call and the interpreter's argv."""
    argv = " ".join(shlex.quote(a) for a in sys.argv) if sys.argv and sys.argv[0] else "interactive"
    return f"{call} (Python API; {argv})"


def references(*materials) -> dict:
    """Provenance attributes of material sets (:class:`kmc.materials.Material`): ``references``,
    the de-duplicated sources of the values measured or derived (tags S, R, R2, D), one per
    line as ``material: source``, and ``material_estimates``, the values that are model
    estimates (tag E) or deck overrides, whose reasons are in the material files and the deck."""
    refs, estimates = [], []
    for m in materials:
        if m is None:
            continue
        for prop, v in getattr(m, "values", {}).items():
            if v.tag in ("E", "override"):
                estimates.append(f"{m.name}.{prop} ({'estimate' if v.tag == 'E' else 'deck override'})")
            elif f"{m.name}: {v.source}" not in refs:
                refs.append(f"{m.name}: {v.source}")
    return {"references": "\n".join(refs), "material_estimates": ", ".join(estimates)}


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
    """Dimensions of a site map of grid ``shape`` (x, y[, z]): (z, y, x), or (y, x) in 2D grids."""
    return tuple(reversed(("x", "y", "z")[: len(shape)]))


def lattice_gas_dataset(result, command: str | None = None) -> xr.Dataset:
    """Build the dataset of a :class:`kmc.lattice_gas.LatticeGasResult`.

    Data variables depend only on the deck and seed (bit-identical across runs); wall-clock
    facts go to the attributes. Maps are ordered (z, y, x) ((y, x) on a 2D lattice);
    ``command`` is the history entry (default: the Python call).
    """
    from .lattice_gas import hop_rate

    deck, graph = result.deck, result.graph
    dims = _map_dims(graph.shape)
    h = graph.spacing
    coords = {"time": ("time", result.times, _coord_attrs("time"))}
    axis_coord, labels = _labels("axis", ["x", "y", "z"])
    coords.update(axis_coord)
    coords.update(_site_coords(graph.shape, h))  # site centres, as in every map
    gas = deck.lattice_gas
    data = {
        "events": (("time",), result.events),
        "field": (("time",), result.field),
        "total_rate": (("time",), result.total_rate),
        "mean_displacement": (("time", "axis"), result.mean_displacement),
        "msd": (("time",), result.msd),
        "occupancy_initial": (dims, zyx(graph.to_grid(result.initial_occupancy))),
        "occupancy_final": (dims, zyx(graph.to_grid(result.final_occupancy))),
        "site_energy": (dims, zyx(graph.to_grid(result.site_energy))),
        "n_particles": ((), np.int64(result.n_particles)),
        "hop_rate": ((), hop_rate(gas.attempt_frequency, gas.barrier, deck.conditions.temperature)),
        **labels,
    }
    ds = xr.Dataset({k: (dims_, np.asarray(v), _attrs(k)) for k, (dims_, v) in data.items()},
                    coords=coords)
    ds.attrs.update(_common_attrs(deck, "kMC lattice-gas run",
                                  command or api_command("kmc.output.lattice_gas_dataset(result)")))
    ds.attrs.update({"stop_reason": result.stop_reason, "stop_time_s": result.stop_time,
                     "stop_events": result.stop_events, "wall_time_s": result.wall_time})
    return ds


def microstructure_dataset(micro, deck, material=None, command: str | None = None,
                          sources=None) -> xr.Dataset:
    """Grain, phase and boundary maps (z, y, x), per-grain and per-boundary tables, statistics
    and, with a resolved ``material``, the per-site property maps of
    ``Microstructure.site_properties``. ``sources``: the :class:`kmc.materials.Material` sets
    whose value sources go to the ``references`` attribute; ``command``: the history entry
    (default: the Python call)."""
    h = micro.spacing
    coords = _site_coords(micro.shape, h)
    axis_coord, axis_labels = _labels("axis", ["x", "y", "z"])
    quat_coord, quat_labels = _labels("quaternion", ["x", "y", "z", "w"])
    coords.update(axis_coord)
    coords.update(quat_coord)
    coords["end"] = ("end", np.array([0, 1], np.int8), _attrs("end"))
    gb, tj = micro.classify()
    pairs, angle = micro.gb_pairs()
    stats = micro.statistics()
    grid = ("z", "y", "x")
    data = {
        "grain": (grid, zyx(micro.grain)),
        "phase": (grid, zyx(micro.phase)),
        "gb_site": (grid, zyx(gb.astype(np.uint8))),
        "triple_junction": (grid, zyx(tj.astype(np.uint8))),
        "feature": (grid, zyx(micro.feature)),
        "orientation": (("grain_id", "quaternion"), micro.orientation),
        "seed_position": (("grain_id", "axis"), micro.seeds),
        "grain_diameter": (("grain_id",), micro.grain_diameters()),
        "gb_pair": (("pair", "end"), pairs),
        "misorientation": (("pair",), np.degrees(angle)),
        **axis_labels, **quat_labels,
    }
    data.update({k: ((), v) for k, v in stats.items() if k in VARIABLES})
    if material is not None:
        data.update({k: (grid, zyx(v)) for k, v in micro.site_properties(material).items()
                     if k != "ionic_conductivity"})
    ds = xr.Dataset({k: (dims, np.asarray(v), _attrs(k)) for k, (dims, v) in data.items()},
                    coords=coords)
    ds.attrs.update(_common_attrs(deck, "kMC microstructure", command or api_command(
        "kmc.output.microstructure_dataset(micro, deck, material)")))
    ds.attrs.update({"material": deck.material.name, "amorphous": int(micro.amorphous),
                     "spacing_m": h})
    if material is not None:
        ds.attrs["material_json"] = json.dumps(dataclasses.asdict(material), sort_keys=True)
    if sources is not None:
        ds.attrs.update(references(*sources))
    return ds


def plating_dataset(result, command: str | None = None) -> xr.Dataset:
    """Dataset of a :class:`kmc.result.Result`: time series, depth profile,
    snapshots, static maps (z, y, x) and scalars (MODEL.md section 8), CF units on every
    variable; the resolved deck and material, the sources of the material values
    (``references``) and a ``history`` line with ``command`` (default: the Python call) in the
    attributes. Data variables depend only on deck and seed."""
    from .codes import CHANNELS

    g, micro, obs = result.graph, result.micro, result.observations
    h = micro.spacing
    grid = ("z", "y", "x")
    coords = _site_coords(micro.shape, h)
    coords["time"] = ("time", obs["time"], _coord_attrs("time"))
    channel_coord, channel_labels = _labels("channel", CHANNELS)
    coords.update(channel_coord)
    data = {k: (("time",), v) for k, v in obs.items() if k not in ("time", "li_depth_profile")}
    data["li_depth_profile"] = (("time", "z"), obs["li_depth_profile"])
    data["grain"] = (grid, zyx(micro.grain))
    data["gb_site"] = (grid, zyx(g.to_grid(g.site_data["gb"])))
    data["feature"] = (grid, zyx(micro.feature))
    snaps = result.snapshots
    if snaps:
        coords["snapshot"] = ("snapshot", np.arange(len(snaps["time"])), _attrs("snapshot"))
        data["snapshot_time"] = (("snapshot",), snaps["time"])
        modulus = np.asarray(g.site_data["youngs_modulus"], float)
        for name in ("phase", "content", "pressure", "cluster_class"):
            data[name] = (("snapshot",) + grid, zyx(np.array([g.to_grid(v) for v in snaps[name]])))
        data["strain_proxy"] = (("snapshot",) + grid,
                                zyx(np.array([g.to_grid(p / modulus) for p in snaps["pressure"]])))
    sc = dict(result.scalars)
    path = sc.pop("short_path", None)
    data["short_path"] = (grid, zyx(g.to_grid(path if path is not None
                                              else np.zeros(g.n_sites, np.uint8))))
    data["events_by_kind"] = (("channel",), sc.pop("events_by_kind"))
    data.update(channel_labels)
    data.update({k: ((), v) for k, v in sc.items()})
    data["stop_reason"] = ((), np.array(result.stop_reason))
    data["seed"] = ((), np.int64(result.config["run"]["seed"]))
    ds = xr.Dataset({k: (dims, np.asarray(v), _attrs(k)) for k, (dims, v) in data.items()},
                    coords=coords)
    ds.attrs.update(_common_attrs(result.deck, "kMC Li plating run",
                                  command or api_command("kmc.Result.to_dataset()"), result.config))
    if result.cell.deck is not None:  # the seed that built the microstructure
        ds.attrs["microstructure_seed"] = result.cell.deck.run.seed
    ds.attrs.update({"material": result.cell.material.name, "spacing_m": h,
                     "material_json": json.dumps(dataclasses.asdict(result.material), sort_keys=True),
                     "stop_reason": result.stop_reason, "wall_time_s": result.wall_time,
                     "profile_json": json.dumps(result.profile, sort_keys=True)})
    ds.attrs.update(references(result.cell.material, result.cell.li_metal))
    return ds


@contextlib.contextmanager
def atomic_write(path: Path, mode: str = "wb"):
    """Write ``path`` atomically: yield ``(file, temporary path)`` for a temporary file in the
    same folder (write through either), then give it the usual permissions and rename it onto
    ``path``; on any failure remove it, so ``path`` is never left half-written."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as fh:
            yield fh, tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_dataset(ds: xr.Dataset, path) -> Path:
    """Write ``ds`` to netCDF atomically: a temporary file in the same folder, then rename.

    Coordinates are written without ``_FillValue`` (CF: coordinates have no missing values).

    A crash mid-write never leaves a truncated file under ``path``.
    """
    path = Path(path)
    if path.is_dir():
        raise DatasetError(f"{path}: is a directory; give a file name for the dataset")
    # CF: coordinates have no missing values, so no _FillValue (xarray adds NaN to floats)
    encoding = {name: {"_FillValue": None} for name in ds.coords}
    writing = False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as (_, tmp):
            writing = True
            ds.to_netcdf(tmp, engine="netcdf4", encoding=encoding)
    except OSError as exc:
        if writing:
            raise
        raise DatasetError(f"{path}: cannot write the dataset there ({exc.strerror})") from None
    return path


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` as JSON atomically (:func:`atomic_write`)."""
    with atomic_write(path, "w") as (fh, _):
        json.dump(data, fh, indent=1, sort_keys=True)


def open_dataset(path) -> xr.Dataset:
    """Open a dataset written by :func:`write_dataset`, with a one-line error if it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: dataset not found")
    try:
        return xr.load_dataset(path, engine="netcdf4")
    except Exception as exc:  # netCDF4/HDF5 raise OSError, ValueError, RuntimeError...
        raise DatasetError(f"{path}: not a readable netCDF dataset ({exc.__class__.__name__})") from None
