"""The merge of an ensemble's task datasets into one dataset (:meth:`kmc.ensemble.Ensemble.merge`).

Dimensions: the sweep axes (named after the swept key's last part, coordinates in SI),
``replica``, ``time`` on the union of the points' observation grids (NaN after a run stopped),
plus ``snapshot`` and the site axes for the maps. CF attributes as in :mod:`kmc.output`.
"""
from __future__ import annotations

import json

import numpy as np
import xarray as xr

from .errors import KmcError
from .output import _attrs, _common_attrs, _coord_attrs, open_dataset

#: Time-series variables of a task renamed in the merge when a sweep axis takes their name
#: (``current_density`` the axis, ``current_density_observed`` the series).
OBSERVED_SUFFIX = "_observed"

#: Scalars of a task kept per task in the merge (dims: sweep axes, replica).
MERGED_SCALARS = ("t_short", "charge_at_short", "ccd", "short_path_gb_fraction",
                  "short_path_gb_site_fraction", "short_path_tortuosity", "short_path_length",
                  "short_void_rim_distance", "face_void_rim_distance",
                  "gb_site_fraction", "gb_edge_fraction", "crack_span_time", "quantum_charge",
                  "cell_area", "ionic_hall_angle", "ionic_hall_angle_1T", "electron_hall_angle_1T")


#: Snapshot maps of every task kept in the merge (dims: sweep axes, replica, snapshot, z, y, x).
MERGED_SNAPSHOT_MAPS = ("phase", "content", "cluster_class")

#: Value of a merged snapshot map where a task has no such snapshot (it stopped earlier and
#: took fewer snapshots, or failed): a flag value of its own, not a ``_FillValue``, so the maps
#: stay integers when read.
NO_SNAPSHOT = {"phase": 255, "content": -1, "cluster_class": -128}


def _coordinate(values: list):
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
    0 .. ``run.duration``: each run's series is put on it (at each grid time its last
    observation at or before it, so points with other grids, e.g. a sweep over
    ``run.duration``, have no gaps; NaN after the run stopped; its stop time is the scalar
    ``stop_time``). Scalars per task: :data:`MERGED_SCALARS` (``t_short``,
    ``charge_at_short`` and ``ccd`` NaN for a censored run), ``stop_time``, ``stop_reason``
    (``"error"`` for a failed task), ``seed``, ``microstructure_seed``, ``error`` (the one-line
    error, else empty). A series whose name is that of a sweep axis gets the suffix
    ``_observed``.

    If every finished task has the same grid: the depth profile ``li_depth_profile`` (sweep
    axes, replica, time, z) on the common time grid, and the snapshot maps
    :data:`MERGED_SNAPSHOT_MAPS` (sweep axes, replica, snapshot, z, y, x) with their
    ``snapshot_time``. Runs take different numbers of snapshots (a run that shorts early
    stops before the later grid snapshots, and every run adds one at its stop), so the
    ``snapshot`` dimension is the largest count and a task's snapshots come first, followed
    by :data:`NO_SNAPSHOT` values (declared in ``flag_values``; ``snapshot_time`` NaN).
    Static maps, pressures and the short path stay in the task files, and so does every map
    when the grids differ (attribute ``maps``). Attributes: the deck (``config_json``),
    ``kmc_version``, a history line with ``command``, the material ``references`` of the
    tasks, ``sweep`` and ``tasks_directory``.
    """
    from .ensemble import field_of  # kmc.ensemble builds datasets with this module: import late

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
    site_coords, same_grid, snaps, profiles, refs, estimates = None, True, {}, {}, [], []
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
        for line in str(ds.attrs.get("references", "")).splitlines():
            refs += [line] if line not in refs else []
        for item in filter(None, str(ds.attrs.get("material_estimates", "")).split(", ")):
            estimates += [item] if item not in estimates else []
        time = ds["time"].values
        stop_time[at] = float(time[-1])
        keep = ~ds.get_index("time").duplicated()
        # the last observation at or before each grid time (runs of other points may observe
        # at other times), NaN after the run stopped
        timed = [n for n, v in ds.data_vars.items() if "time" in v.dims]
        on_grid = ds[timed].isel(time=keep).reindex(time=grid, method="ffill")
        on_grid = on_grid.where(xr.DataArray(grid <= time[-1], dims="time"))
        for name, var in ds.data_vars.items():
            if var.dims == ("time",):
                values = on_grid[name].values.astype(float)
                series.setdefault(name, np.full(shape + (grid.size,), np.nan))[at] = values
                attrs[name] = dict(var.attrs)
            elif name in MERGED_SCALARS:
                scalars.setdefault(name, np.full(shape, np.nan))[at] = float(var.values)
                attrs[name] = dict(var.attrs)
        here = {d: ds[d].values for d in ("x", "y", "z")}
        if site_coords is None:
            site_coords = here
        same_grid &= all(np.array_equal(here[d], site_coords[d]) for d in here)
        if same_grid:
            profiles[t.index] = on_grid["li_depth_profile"].values.astype(float)
            if "snapshot" in ds.dims:
                snaps[t.index] = {k: ds[k].values for k in MERGED_SNAPSHOT_MAPS + ("snapshot_time",)}
                attrs.update({k: dict(ds[k].attrs) for k in MERGED_SNAPSHOT_MAPS + ("snapshot_time",)})
            attrs["li_depth_profile"] = dict(ds["li_depth_profile"].attrs)
    coords = {"replica": ("replica", np.arange(R), {"long_name": "replica of a sweep point"}),
              "time": ("time", grid, _coord_attrs("time"))}
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
            coords[cname] = (name, _coordinate(values), meta)
    data = {}
    for name, values in series.items():
        out = name + OBSERVED_SUFFIX if name in axes else name
        data[out] = (dims + ("time",), values, attrs[name])
    maps = "no finished task"
    if site_coords is not None and same_grid:
        coords.update({d: (d, v, _coord_attrs(d)) for d, v in site_coords.items()})
        profile = np.full(shape + (grid.size, site_coords["z"].size), np.nan)
        for index, values in profiles.items():
            profile[flat(index)] = values
        data["li_depth_profile"] = (dims + ("time", "z"), profile, attrs["li_depth_profile"])
        n_snap = max((v["snapshot_time"].size for v in snaps.values()), default=0)
        maps = "li_depth_profile" + (", snapshots" if n_snap else "")
        if n_snap:
            coords["snapshot"] = ("snapshot", np.arange(n_snap), _attrs("snapshot"))
            nzyx = tuple(site_coords[d].size for d in ("z", "y", "x"))
            snap_time = np.full(shape + (n_snap,), np.nan)
            for index, v in snaps.items():
                snap_time[flat(index) + (slice(0, v["snapshot_time"].size),)] = v["snapshot_time"]
            data["snapshot_time"] = (dims + ("snapshot",), snap_time, {
                **attrs["snapshot_time"], "long_name": "simulated time of the snapshot (NaN: "
                "the task has fewer snapshots, or failed)"})
            for name in MERGED_SNAPSHOT_MAPS:
                first = next(iter(snaps.values()))[name]
                out = np.full(shape + (n_snap,) + nzyx, NO_SNAPSHOT[name], first.dtype)
                for index, v in snaps.items():
                    out[flat(index) + (slice(0, v[name].shape[0]),)] = v[name]
                a = dict(attrs[name])
                if "flag_values" in a:
                    a["flag_values"] = np.append(np.asarray(a["flag_values"]),
                                                 NO_SNAPSHOT[name]).astype(first.dtype)
                    a["flag_meanings"] = a["flag_meanings"] + " no_snapshot"
                else:
                    a["comment"] = f"{NO_SNAPSHOT[name]}: no snapshot (the task has fewer, or failed)"
                data[name] = (dims + ("snapshot", "z", "y", "x"), out, a)
    elif site_coords is not None:
        maps = "omitted: the tasks' grids differ (see the task files)"
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
                     "failed_tasks": len(errors), "maps": maps,
                     "references": "\n".join(refs), "material_estimates": ", ".join(estimates)})
    return ds
