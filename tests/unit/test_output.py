"""Dataset writing is atomic; early stops keep what was computed."""
import numpy as np
import pytest
import xarray as xr

from kmc.deck import loads_deck
from kmc.lattice_gas import simulate
from kmc.output import lattice_gas_dataset, write_dataset


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "run.nc"
    write_dataset(xr.Dataset({"a": ("t", np.arange(3.0))}), path)
    before = path.read_bytes()
    bad = xr.Dataset({"a": ("t", np.array([object(), object()]))})  # netCDF cannot encode this
    with pytest.raises((TypeError, ValueError)):
        write_dataset(bad, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.nc"]


def test_max_events_stop_keeps_observations_so_far(small_deck_text):
    deck = loads_deck(small_deck_text.replace('engine = "cython"',
                                              'engine = "cython"\nmax_events = 2000'))
    result = simulate(deck)
    ds = lattice_gas_dataset(result)
    assert result.stop_reason == "max_events"
    done = np.isfinite(ds["msd"].values)
    assert done[0] and not done[-1]
    assert ds["events"].values[done].max() <= 2000
    assert np.all(np.diff(ds["events"].values[done]) >= 0)
    assert np.all(ds["events"].values[~done] == -1)
    assert ds.attrs["stop_events"] == 2000 and 0 < ds.attrs["stop_time_s"] < 30e-6
