"""Datasets: the table of output variables, the xarray builder, atomic netCDF writing.

One table (:data:`VARIABLES`) holds every output variable's canonical units and long name;
the builder attaches them as CF attributes and the tests read the same table (xclim's habit).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from . import __version__
from .config import as_dict
from .errors import DatasetError

#: name -> (units, long_name) for every variable a dataset may hold.
VARIABLES = {
    "time": ("s", "simulated time"),
    "axis": ("1", "Cartesian axis"),
    "x": ("m", "site position along x"),
    "y": ("m", "site position along y"),
    "z": ("m", "site position along z"),
    "events": ("1", "cumulative number of kMC events"),
    "field": ("V/m", "electric field strength in force during the interval ending here"),
    "total_rate": ("s-1", "total propensity R of all events"),
    "mean_displacement": ("m", "mean unwrapped particle displacement"),
    "msd": ("m2", "mean squared unwrapped particle displacement"),
    "occupancy_initial": ("1", "site occupancy at t = 0 (1 = particle)"),
    "occupancy_final": ("1", "site occupancy at the end of the run (1 = particle)"),
    "site_energy": ("eV", "site energy E_i"),
    "n_particles": ("1", "number of particles"),
    "hop_rate": ("s-1", "Arrhenius hop rate nu exp(-E_a/kT) in zero field"),
}


def _attrs(name: str) -> dict:
    units, long_name = VARIABLES[name]
    return {"units": units, "long_name": long_name}


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
        coords[d] = (d, np.arange(n) * h, _attrs(d))
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
    ds.attrs.update({
        "title": "kMC lattice-gas run",
        "Conventions": "CF-1.10",
        "model": deck.model,
        "seed": deck.run.seed,
        "stop_reason": result.stop_reason,
        "kmc_version": __version__,
        "config_json": json.dumps(as_dict(deck), sort_keys=True),
        "wall_time_s": result.wall_time,
        "history": f"{_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')} "
                   f"kmc {__version__}: kmc run",
    })
    return ds


def write_dataset(ds: xr.Dataset, path) -> Path:
    """Write ``ds`` to netCDF atomically: a temporary file in the same folder, then rename.

    A crash mid-write never leaves a truncated file under ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
