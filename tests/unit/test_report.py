"""`kmc analyze` reports (kmc.analysis.report): one markdown file beside the dataset with PNG
figures beside it, for a plating run, an ensemble, a microstructure and a lattice gas; the key
numbers in the markdown are recomputed here independently. Fixed seeds: exactly reproducible."""
import re
from pathlib import Path

import numpy as np
import pytest

import kmc
from kmc.analysis import kaplan_meier, power_law_fit
from kmc.analysis.report import REPORT_SEED, dataset_kind, report
from kmc.cli import main
from kmc.deck import loads_deck
from kmc.ensemble import Ensemble
from kmc.output import microstructure_dataset, open_dataset, plating_dataset, write_dataset
from kmc.simulation import Simulation

ROOT = Path(__file__).resolve().parents[2]

PLATING = """
model = "plating"
[cell]
thickness = "{thickness}"
width = "{width}"
spacing = "0.5 um"
[microstructure]
kind = "voronoi"
grain_size = "2 um"
flaws = {{ depth = "2 um", width = "0.5 um", x_positions = ["2.5 um"] }}
[material]
name = "llzo"
li_metal = {{ creep_reference_stress = "95 MPa" }}
[protocol]
current_density = "30 mA/cm^2"
[run]
duration = "300 s"
observations = 11
snapshots = 3
seed = 3
{ensemble}
[output]
dataset = "unused.nc"
figure = ""
"""
#: 2 current densities x 3 replicas, every replica shorts within 300 s (a fit is possible).
ENSEMBLE = """[ensemble]
replicas = 3
vary = "kinetics"
[ensemble.sweep]
"protocol.current_density" = ["40 mA/cm^2", "80 mA/cm^2"]
"""


def figures_of(md: Path) -> list[Path]:
    """The images the markdown links to (relative to it); each must exist and be a real PNG."""
    names = re.findall(r"!\[[^]]*\]\(([^)]+)\)", md.read_text())
    paths = [md.parent / n for n in names]
    for p in paths:
        assert p.is_file(), p
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 15_000, p
    return paths


@pytest.fixture(scope="module")
def plating_nc(tmp_path_factory):
    deck = loads_deck(PLATING.format(thickness="10 um", width="5 um", ensemble=""))
    path = tmp_path_factory.mktemp("plating") / "run.nc"
    write_dataset(plating_dataset(Simulation.from_deck(deck).run()), path)
    return path


def test_plating_report_has_the_run_numbers_and_a_snapshot_grid(plating_nc, capsys):
    ds = open_dataset(plating_nc)
    assert dataset_kind(ds) == "plating"
    assert main(["analyze", str(plating_nc)]) == 0
    md = plating_nc.with_suffix(".report.md")
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == f"wrote {md}  (2 figure(s) beside it)"
    text = md.read_text()
    assert [p.name for p in figures_of(md)] == ["run.report.series.png", "run.report.snapshots.png"]
    reason = str(ds["stop_reason"].values)
    assert f"stop reason: {reason} at t = {float(ds['time'][-1]):.4g} s" in out
    t_short = float(ds["t_short"])
    if np.isfinite(t_short):
        mah = float(ds["charge_at_short"] / ds["cell_area"]) / 36000.0  # C/m^2 -> mAh/cm^2
        assert f"t_short = {t_short:.4g} s; charge at short {mah:.4g} mAh/cm^2" in text
        assert f"tortuosity {float(ds['short_path_tortuosity']):.3f}" in text
    else:
        assert "no short: censored at" in text
    assert "## Li morphology (last snapshot)" in text


@pytest.fixture(scope="module")
def ensemble_nc(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ensemble")
    deck = loads_deck(PLATING.format(thickness="8 um", width="5 um", ensemble=ENSEMBLE))
    ens = Ensemble(deck, tasks=tmp / "tasks")
    assert ens.run().failed == {}
    path = tmp / "ens.nc"
    write_dataset(ens.merge(), path)
    return path


def test_ensemble_report_prints_the_kaplan_meier_medians_and_the_fit(ensemble_nc, tmp_path):
    ds = open_dataset(ensemble_nc)
    assert dataset_kind(ds) == "ensemble"
    md = report(ds, tmp_path / "r.md")
    assert md == tmp_path / "r.md"
    names = [p.name for p in figures_of(md)]
    assert names[0] == "r.survival.png"
    text = md.read_text()
    medians = []
    for J in (400.0, 800.0):  # A/m^2 = 40 and 80 mA/cm^2, selected by name
        sub = ds.sel(current_density=J)
        t_short, stop = sub["t_short"].values, sub["stop_time"].values
        shorted = np.isfinite(t_short)
        median = (kaplan_meier(np.where(shorted, t_short, stop), shorted).median
                  if shorted.any() else np.nan)
        medians.append(median)
        row = (f"| J = {J / 10:.4g} mA/cm² | 3 | {shorted.sum()} | {(~shorted).sum()} | 0 | "
               + (f"{median:.4g} |" if np.isfinite(median) else "n/a |"))
        assert row in text, row
    assert np.isfinite(medians).all()  # t_short vs J with the fit (same seed: same interval)
    assert "r.scaling.png" in names
    assert "r.ccd.png" not in names and "Critical current" not in text  # constant J: no CCD
    J = np.repeat(ds["current_density"].values, ds.sizes["replica"])
    t_short = ds["t_short"].transpose("current_density", "replica").values.ravel()
    fit = power_law_fit(J, t_short, np.isfinite(t_short), rng=np.random.default_rng(REPORT_SEED))
    a, b = fit.exponent_interval
    assert f"n = {fit.exponent:.3g} (95% bootstrap {a:.3g} .. {b:.3g})" in text
    assert "### Failed tasks\n\nNone." in text


def test_ensemble_report_lists_a_failed_task_and_a_ccd(ensemble_nc, tmp_path):
    """A failed task is left out of the estimates and listed; a ``ccd`` per task gets a table
    with the median and range over replicas and a figure."""
    ds = open_dataset(ensemble_nc)
    at = {"current_density": 0, "replica": 1}
    ds["stop_reason"][at] = "error"
    ds["error"] = ds["error"].astype(object)
    ds["error"][at] = "FieldError: solve failed"
    ds["ccd"] = (("replica", "current_density"), [[10.0, np.nan], [20.0, 5.0], [30.0, 7.0]],
                 {"units": "A m-2"})  # stored transposed: read by dimension name
    md = report(ds, tmp_path / "f.md")
    text = md.read_text()
    assert "| J = 40 mA/cm² | 2 | " in text
    assert "| 1 | current_density = 400.0, replica = 1 | FieldError: solve failed |" in text
    assert "| J = 40 mA/cm² | 3/3 | 2 | 1 .. 3 |" in text  # A/m^2 -> mA/cm^2
    assert "| J = 80 mA/cm² | 2/3 | 0.6 | 0.5 .. 0.7 |" in text
    assert "f.ccd.png" in [p.name for p in figures_of(md)]


def test_microstructure_and_lattice_gas_reports(tmp_path, small_deck_text, capsys):
    deck = loads_deck((ROOT / "inputs" / "llzo_microstructure_2d.toml").read_text()
                      .replace('"40 um"', '"12 um"').replace('"80 um"', '"16 um"')
                      .replace('x_positions = ["20 um", "60 um"]', 'x_positions = ["8 um"]'))
    micro = kmc.microstructure.build(deck)
    ds = microstructure_dataset(micro, deck)
    write_dataset(ds, tmp_path / "micro.nc")
    assert main(["analyze", str(tmp_path / "micro.nc"), "-o", str(tmp_path / "m" / "micro.md")]) == 0
    text = (tmp_path / "m" / "micro.md").read_text()
    assert f"grains: {int(ds['n_grains'])} (" in text
    assert [p.name for p in figures_of(tmp_path / "m" / "micro.md")] == ["micro.summary.png"]

    gas = tmp_path / "gas.toml"
    gas.write_text(small_deck_text)
    assert main(["run", str(gas), "-o", str(tmp_path / "gas.nc"), "--figure", "", "-q"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(tmp_path / "gas.nc")]) == 0
    out = capsys.readouterr().out
    d_line = next(line for line in out.splitlines() if line.startswith("tracer diffusion"))
    text = (tmp_path / "gas.report.md").read_text()
    assert d_line in text
    assert [p.name for p in figures_of(tmp_path / "gas.report.md")] == ["gas.report.summary.png"]


def test_report_path_must_be_markdown(plating_nc, capsys):
    assert main(["analyze", str(plating_nc), "-o", "report.txt"]) == 2
    assert capsys.readouterr().err == ("kmc: error: -o 'report.txt': the report is markdown; "
                                       "give a path ending in .md\n")
