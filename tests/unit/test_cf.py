"""CF conventions of the datasets (kmc.output): cf_xarray finds the T, Z, Y, X axes of a
plating run and of a merged ensemble; maps are ordered (..., z, y, x); no coordinate has a
_FillValue in the written file; string labels are auxiliary variables, not coordinates; the
history line holds the command and ``references`` the sources of the material values; the
staircase CCD scalar. Fixed seeds: exactly reproducible."""
import math

import cf_xarray  # noqa: F401  (the .cf accessor; the test extra installs it)
import netCDF4
import numpy as np
import pytest

import kmc
from kmc.cli import main
from kmc.deck import loads_deck
from kmc.materials import load_li_metal, load_material
from kmc.output import open_dataset, write_dataset
from kmc.protocol import Staircase

#: 5 x 8 um, one flaw (tests/unit/test_ensemble.py). With this staircase, seed 3 shorts at
#: ~24 s, during the first plating step (J_0 = 40 mA/cm^2).
DECK = """
model = "plating"
[cell]
thickness = "8 um"
width = "5 um"
[microstructure]
kind = "voronoi"
grain_size = "2 um"
flaws = {{ depth = "2 um", width = "0.5 um", x_positions = ["2.5 um"] }}
[material]
name = "llzo"
li_metal = {{ creep_reference_stress = "95 MPa" }}
[protocol]
{protocol}
[run]
duration = "300 s"
observations = 11
snapshots = 2
seed = 3
{ensemble}
[output]
dataset = "results/cf.nc"
figure = ""
"""
STAIRCASE = ('kind = "staircase"\ncurrent_density = "40 mA/cm^2"\nstep = "40 mA/cm^2"\n'
             'capacity = "1 mAh/cm^2"\nstrip_current_density = "50 mA/cm^2"')
CONSTANT = 'current_density = "10 mA/cm^2"'
ENSEMBLE = """[ensemble]
replicas = 2
vary = "kinetics"
[ensemble.sweep]
"protocol.current_density" = ["20 mA/cm^2", "40 mA/cm^2"]"""
AXES = {"T": ["time"], "X": ["x"], "Y": ["y"], "Z": ["z"]}


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    """A staircase plating run written by `kmc run` (the command goes to the history)."""
    d = tmp_path_factory.mktemp("cf")
    deck = d / "stair.toml"
    deck.write_text(DECK.format(protocol=STAIRCASE, ensemble=""))
    out = d / "stair.nc"
    assert main(["run", str(deck), "-o", str(out), "-q"]) == 0  # a short is a normal end
    return out


@pytest.fixture(scope="module")
def ensemble_file(tmp_path_factory):
    """2 current densities x 2 replicas, merged and written."""
    d = tmp_path_factory.mktemp("cf_ens")
    ens = kmc.Ensemble(loads_deck(DECK.format(protocol=CONSTANT, ensemble=ENSEMBLE)),
                       tasks=d / "tasks")
    ens.run()
    return write_dataset(ens.merge("kmc ensemble cf.toml"), d / "ens.nc")


@pytest.mark.parametrize("which", ["run_file", "ensemble_file"])
def test_cf_xarray_finds_the_time_and_space_axes(which, request):
    ds = open_dataset(request.getfixturevalue(which))
    assert ds.cf.axes == AXES
    assert ds["time"].attrs["standard_name"] == "time" and ds["time"].attrs["units"] == "s"
    for d in "xyz":
        assert ds[d].attrs["units"] == "m" and ds[d].dtype == np.float64
        assert "standard_name" not in ds[d].attrs  # CF has none for cell positions (documented)


@pytest.mark.parametrize("which", ["run_file", "ensemble_file"])
def test_no_coordinate_has_a_fill_value_and_string_labels_are_not_coordinates(which, request):
    path = request.getfixturevalue(which)
    with netCDF4.Dataset(path) as nc:
        coords = [name for name, v in nc.variables.items() if name in nc.dimensions]
        assert {"time", "x", "y", "z"} <= set(coords)
        assert [c for c in coords if "_FillValue" in nc.variables[c].ncattrs()] == []
    ds = open_dataset(path)
    assert [c for c in ds.coords if ds[c].dtype.kind in "OSU"] == []


def test_maps_are_ordered_z_y_x(run_file, ensemble_file):
    ds = open_dataset(run_file)
    for name in ("grain", "gb_site", "feature", "short_path"):
        assert ds[name].dims == ("z", "y", "x"), name
    for name in ("phase", "content", "pressure", "cluster_class", "strain_proxy"):
        assert ds[name].dims == ("snapshot", "z", "y", "x"), name
    assert ds.sizes == {**ds.sizes, "z": 16, "y": 1, "x": 10}
    ens = open_dataset(ensemble_file)
    for name in ("phase", "content", "cluster_class"):
        assert ens[name].dims == ("current_density", "replica", "snapshot", "z", "y", "x"), name
    assert ens["li_depth_profile"].dims == ("current_density", "replica", "time", "z")


def test_channel_labels_are_an_auxiliary_variable(run_file):
    ds = open_dataset(run_file)
    assert ds["channel"].dtype.kind == "i"
    assert ds["channel"].attrs["flag_meanings"].split() == list(ds["channel_label"].values)
    assert ds["channel_label"].values[0] == "plate_a" and "channel_label" in ds.data_vars


def test_history_has_the_command_and_references_the_material_sources(run_file, ensemble_file):
    ds = open_dataset(run_file)
    assert ds.attrs["history"].endswith(f"kmc {kmc.__version__}: kmc run {run_file.parent}/"
                                        f"stair.toml -o {run_file} -q")
    assert ds.attrs["Conventions"] == "CF-1.10"
    refs = ds.attrs["references"].splitlines()
    expected = []
    for m in (load_material("llzo"), load_li_metal()):
        for v in m.values.values():
            if v.tag not in ("E", "override") and f"{m.name}: {v.source}" not in expected:
                expected.append(f"{m.name}: {v.source}")
    assert refs == expected and any("Eckhardt et al. 2023" in r for r in refs)
    assert "llzo.gb_band_gap (estimate)" in ds.attrs["material_estimates"]
    ens = open_dataset(ensemble_file)
    assert ens.attrs["history"].endswith(": kmc ensemble cf.toml")
    assert ens.attrs["references"].splitlines() == expected


def test_ccd_is_the_plating_current_of_the_staircase_step_that_shorted(run_file):
    ds = open_dataset(run_file)
    t_short = float(ds["t_short"])
    assert str(ds["stop_reason"].values) == "short" and 0 < t_short < 300
    stair = Staircase(400.0, 400.0, 500.0, 36000.0)  # the deck's protocol in SI
    assert float(ds["ccd"]) == stair.plating_current(t_short) == 400.0
    assert ds["ccd"].attrs["units"] == "A m-2"


def test_ccd_is_nan_without_a_staircase_and_in_the_ensemble(ensemble_file):
    ens = open_dataset(ensemble_file)
    assert ens["ccd"].dims == ("current_density", "replica")
    assert np.isnan(ens["ccd"].values).all()  # constant current: no CCD, shorted or not
    # seed 4 survives the first step (it shorts at 171 s, in the second): stopped at 100 s,
    # during the first strip, the run is censored
    res = kmc.Simulation.from_deck(loads_deck(DECK.format(
        protocol=STAIRCASE, ensemble="").replace("seed = 3", "seed = 4")
        .replace('duration = "300 s"', 'duration = "100 s"'))).run()
    assert res.stop_reason == "duration" and math.isnan(res.scalars["ccd"])  # censored
