"""Same deck and seed give bit-identical netCDF data variables (VALIDATION.md A9, serial part)."""
import numpy as np
import xarray as xr

from kmc.deck import loads_deck
from kmc.lattice_gas import simulate
from kmc.output import VARIABLES, lattice_gas_dataset, write_dataset


def _run(text, path):
    ds = lattice_gas_dataset(simulate(loads_deck(text)))
    write_dataset(ds, path)
    return xr.load_dataset(path)


def test_same_seed_bit_identical(tmp_path, small_deck_text):
    a = _run(small_deck_text, tmp_path / "a.nc")
    b = _run(small_deck_text, tmp_path / "b.nc")
    assert a["events"].values[-1] > 1000
    for name in a.variables:
        assert a[name].dtype == b[name].dtype
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def test_other_seed_differs(tmp_path, small_deck_text):
    a = _run(small_deck_text, tmp_path / "a.nc")
    b = _run(small_deck_text.replace("seed = 2026", "seed = 2027"), tmp_path / "b.nc")
    assert not np.array_equal(a["msd"].values, b["msd"].values)


def test_cython_and_reference_runs_identical(tmp_path, small_deck_text):
    text = small_deck_text.replace('duration = "30 us"', 'duration = "3 us"')
    a = _run(text, tmp_path / "a.nc")
    b = _run(text.replace('engine = "cython"', 'engine = "reference"'), tmp_path / "b.nc")
    for name in ("events", "msd", "mean_displacement", "occupancy_final", "total_rate"):
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def test_every_variable_has_cf_attributes(tmp_path, small_deck_text):
    ds = _run(small_deck_text, tmp_path / "a.nc")
    for name in ds.variables:
        assert (ds[name].attrs["units"], ds[name].attrs["long_name"]) == VARIABLES[name]
    assert ds.attrs["kmc_version"]
    assert '"seed": 2026' in ds.attrs["config_json"]
