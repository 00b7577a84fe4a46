"""The public API (kmc.Cell, kmc.Simulation), clusters labelled once per topology, rates from
kmc.mechanics, SIGTERM and checkpoint safety. Every run uses a fixed seed: exactly reproducible."""
import math
import os
import pickle
import re
import signal
from pathlib import Path

import numpy as np
import pytest

import kmc
from kmc.cli import main
from kmc.clusters import CLASS_FLOATING, FACE_A, label_clusters
from kmc.events.base import Channels
from kmc.microstructure import LI
from kmc.output import open_dataset

ROOT = Path(__file__).resolve().parents[2]

DECK = """
model = "plating"
[cell]
thickness = "10 um"
width = "10 um"
[microstructure]
kind = "voronoi"
flaws = {{ depth = "2 um", width = "0.5 um", x_positions = ["5 um"] }}
[material]
name = "llzo"
li_metal = {{ creep_reference_stress = "95 MPa" }}
[protocol]
current_density = "{j}"
[run]
duration = "200 s"
observations = 21
seed = 1
"""


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- notebook-example -->\s*```python\n(.*?)```", text, re.S)
    assert block, "README.md lost its notebook example"
    return block.group(1)


def test_readme_notebook_example_runs(tmp_path, monkeypatch):
    """The README's notebook example (cell, simulation, run, dataset, an override) runs as
    written and gives a dataset with the overridden temperature."""
    monkeypatch.chdir(ROOT)
    scope = {}
    exec(compile(_readme_example(), "README.md", "exec"), scope)
    ds = scope["ds"]
    assert ds.attrs["model"] == "plating" and "t_short" in ds
    assert '"temperature": 333.15' in ds.attrs["config_json"]


def test_a_cell_is_reused_and_gives_the_same_run_as_a_fresh_one():
    """A cell built once and reused, after a run on it, by a simulation that changes only
    kinetics (the seed of the kinetic stream) gives data identical to a freshly built cell."""
    deck = kmc.loads_deck(DECK.format(j="30 mA/cm^2"))
    cell = kmc.Cell.from_deck(deck)
    kmc.Simulation.from_deck(deck, cell=cell).run()  # the cell survives a run unchanged
    other = deck.replace("run.seed", 4)
    a = kmc.Simulation.from_deck(other, cell=cell).run().observations
    b = kmc.Simulation.from_deck(other, cell=kmc.Cell.from_deck(deck)).run().observations
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_a_reused_cell_is_recorded_and_resumed_with_its_own_seed(tmp_path):
    """A cell built with seed 1 and run with kinetic seed 4: the dataset records both seeds,
    a resume rebuilds the seed-1 microstructure (bit-identical end), and a cell whose sections
    differ from the deck's is refused in one line."""
    deck = kmc.loads_deck(DECK.format(j="30 mA/cm^2"))
    cell = kmc.Cell.from_deck(deck)
    other = deck.replace({"run.seed": 4, "run.max_events": 60})
    ckpt = tmp_path / "run.ckpt"
    cut = kmc.Simulation.from_deck(other, cell=cell).run(ckpt)
    assert cut.stop_reason == "max_events"
    ds = kmc.Simulation.resume(ckpt, run_overrides={"max_events": 10**12}).run(ckpt).to_dataset()
    full = kmc.Simulation.from_deck(other.replace("run.max_events", 10**12), cell=cell).run().to_dataset()
    assert ds.attrs["microstructure_seed"] == 1 and int(ds["seed"]) == 4
    np.testing.assert_array_equal(ds["grain"].transpose("x", "y", "z").values,  # stored (z, y, x)
                                  cell.microstructure.grain)
    for k in full.data_vars:
        np.testing.assert_array_equal(full[k].values, ds[k].values, err_msg=k)
    with pytest.raises(kmc.KmcError, match=r"^\[microstructure\]: the cell was built from another"):
        kmc.Simulation.from_deck(deck.replace("microstructure.grain_size", "2 um"), cell=cell)


def test_clusters_are_labelled_once_per_topology():
    """The profile counts cluster labellings: at most one per topology change (plus the
    first), however many solves, observations and channel builds an epoch has."""
    res = kmc.simulate(kmc.loads_deck(DECK.format(j="30 mA/cm^2")))
    p = res.profile
    assert p["epochs"] > 10
    assert 1 <= p["cluster_labellings"] <= p["epochs"] + 1


def test_field_and_run_agree_on_cluster_classes_when_face_contact_is_lost():
    """A Li flaw whose electrode-face sites lost contact (stripping voids) is floating for the
    field, the confinement rules and the observers alike: one labelling, with contact."""
    sim = kmc.Simulation.from_deck(kmc.loads_deck(DECK.format(j="30 mA/cm^2")
                                                  .replace('seed = 1', 'seed = 1\nmax_events = 1')))
    face_li = (sim.phase == LI) & (sim.cell.face == FACE_A)
    assert face_li.any()
    sim.contact[face_li] = False  # as if voids had detached them
    res = sim.run()
    metal = sim.phase == LI
    truth = label_clusters(sim.cell.graph, metal, sim.cell.face, sim.contact)
    field = sim.field.clusters
    np.testing.assert_array_equal(field.kind[field.label[metal]], truth.kind[truth.label[metal]])
    assert np.all(field.kind[field.label[face_li]] == CLASS_FLOATING)
    obs = res.observations
    assert obs["li_sites_floating"][0] == metal.sum() and obs["li_sites_a"][0] == 0
    assert not sim.confinement.relieved.any()  # relief needs an anchored site


def _fracture_threshold(deck) -> float:
    """Lowest pressure [Pa] on a blocked site at which the run's fracture event offers a
    channel, by bisection over the pressure (the run's own Fracture event and cell)."""
    sim = kmc.Simulation.from_deck(deck)
    assert sim._new_epoch(0.0)
    fracture = sim.event("fracture")
    conf = sim.confinement
    tip = np.flatnonzero(conf.blocked)
    assert tip.size
    epoch = sim.epoch()

    def cracks(p):
        conf.pressure = np.where(conf.blocked, p, 0.0)
        out = Channels()
        fracture.channels(epoch, out)
        return out.arrays()[1].size > 0

    lo, hi = 0.0, 1e10
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if cracks(mid) else (mid, hi)
    return hi


def test_fracture_threshold_follows_the_material_toughness_by_griffith():
    """The rates of a run come from kmc.mechanics and the resolved material: doubling K_IC
    (both toughnesses) in the material set doubles the pressure at which the run's fracture
    event opens a channel, p_c = K_IC / (Y sqrt(pi a)) with a = the flaw's extent."""
    deck = kmc.loads_deck(DECK.format(j="30 mA/cm^2").replace('kind = "voronoi"', 'kind = "single_crystal"')
                          .replace('name = "llzo"', 'name = "llzo_single_crystal"'))
    k_ic = kmc.Cell.from_deck(deck).resolved.fracture_toughness
    tough = deck.replace("material.overrides", {"fracture_toughness": f"{2 * k_ic} Pa*m^0.5",
                                                "gb_fracture_toughness": f"{2 * k_ic} Pa*m^0.5"})
    p1, p2 = _fracture_threshold(deck), _fracture_threshold(tough)
    assert p2 / p1 == pytest.approx(2.0, rel=1e-9)
    a = 2e-6  # the flaw's depth along z: the crack ahead of it advances along z
    assert p1 == pytest.approx(k_ic / math.sqrt(math.pi * a), rel=1e-9)


def _data(path):
    ds = open_dataset(path)
    return {k: ds[k].values for k in ds.data_vars}


@pytest.mark.parametrize("signum,status,reason", [(signal.SIGTERM, 143, "terminated"),
                                                 (signal.SIGINT, 130, "interrupted")])
def test_a_signal_writes_checkpoint_and_partial_dataset_and_resume_is_bit_identical(
        tmp_path, monkeypatch, capsys, signum, status, reason):
    """SIGTERM (what batch schedulers send) or SIGINT mid-run: exit 143 or 130, a checkpoint
    and the partial dataset are written, and `--resume` gives data bit-identical to an
    uninterrupted run."""
    deck = tmp_path / "deck.toml"
    deck.write_text(DECK.format(j="30 mA/cm^2"))
    assert main(["run", str(deck), "-q", "-o", str(tmp_path / "full.nc"), "--figure", ""]) == 0
    from kmc import progress

    calls = []
    real = progress.Progress.__call__

    def kill_once(self, t, info=""):
        calls.append(t)
        if len(calls) == 5:
            os.kill(os.getpid(), signum)
        return real(self, t, info)

    monkeypatch.setattr(progress.Progress, "__call__", kill_once)
    out = tmp_path / "cut.nc"
    assert main(["run", str(deck), "-o", str(out), "--figure", ""]) == status
    assert out.is_file() and out.with_suffix(".ckpt").is_file()
    printed = capsys.readouterr().out
    assert reason in printed and f"kmc run {deck} --resume -o {out} --figure ''" in printed
    assert str(open_dataset(out)["stop_reason"].values) == reason
    monkeypatch.undo()
    assert main(["run", str(deck), "-q", "-o", str(out), "--figure", "", "--resume"]) == 0
    a, b = _data(tmp_path / "full.nc"), _data(out)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.mark.parametrize("damage", ["pickle", "truncated", "flipped"])
def test_resume_from_a_crafted_or_damaged_checkpoint_is_one_line(tmp_path, capsys, damage):
    """`kmc run --resume` on a crafted pickle, a truncated checkpoint or one with 64 flipped
    bytes: exit 2 with one line, nothing executed, nothing resumed."""
    deck = tmp_path / "deck.toml"
    deck.write_text(DECK.format(j="30 mA/cm^2"))
    out = tmp_path / "a.nc"
    ckpt = out.with_suffix(".ckpt")
    assert main(["run", str(deck), "-q", "-o", str(out), "--figure", "", "--max-events", "30"]) == 3
    blob = bytearray(ckpt.read_bytes())
    marker = tmp_path / "pwned"
    if damage == "pickle":
        blob = bytearray(pickle.dumps(_Payload(marker)))
    elif damage == "truncated":
        blob = blob[: len(blob) // 2]
    else:
        mid = len(blob) // 2
        blob[mid:mid + 64] = bytes(b ^ 0xFF for b in blob[mid:mid + 64])
    ckpt.write_bytes(bytes(blob))
    capsys.readouterr()
    assert main(["run", str(deck), "-q", "-o", str(out), "--figure", "", "--resume"]) == 2
    expected = {"pickle": re.escape("not a kmc checkpoint (a pickle)"),
                "truncated": re.escape("truncated or corrupt checkpoint (BadZipFile: File is not a "
                                       "zip file)"),
                # the zip CRC of the member hit, or the SHA-256 over every member
                "flipped": r"(truncated or corrupt checkpoint \(BadZipFile: Bad CRC-32 for file "
                           r"'\w+\.npy'\)|checksum mismatch: the file is corrupt)"}[damage]
    assert re.fullmatch(f"kmc: error: {re.escape(str(ckpt))}: {expected}\n", capsys.readouterr().err)
    assert not marker.exists()


def test_simulation_from_objects_an_imported_grain_map_and_a_protocol_object():
    """A cell from a grain-id map (e.g. EBSD), a protocol object and deck sections built
    directly: the run and its dataset work without a deck, and its configuration is recorded."""
    from kmc.deck import ConditionsConfig, RunConfig
    from kmc.protocol import Constant

    grain = np.zeros((12, 1, 16), np.int32)
    grain[6:] = 1  # a boundary at x = 3 um, through the cell
    phase = np.zeros_like(grain, np.uint8)
    phase[5:7, 0, :4] = LI  # a Li flaw on the boundary
    cell = kmc.Cell.from_grains(grain, 0.5e-6, material="llzo", phase=phase)
    assert cell.area == pytest.approx(12 * 0.5e-6 * 0.5e-6) and cell.thickness == pytest.approx(8e-6)
    sim = kmc.Simulation(cell, Constant(300.0), ConditionsConfig(), RunConfig(duration=2.0, seed=5))
    res = sim.run()
    ds = res.to_dataset()
    assert res.deck is None and ds.attrs["material"] == "llzo" and int(ds["seed"]) == 5
    assert float(ds["expected_charge"][-1]) == pytest.approx(300.0 * cell.area * float(ds.time[-1]))
    with pytest.raises(kmc.KmcError, match="from a deck"):
        sim.save_checkpoint(Path("unused.ckpt"))


def test_progress_is_a_log_line_at_a_fixed_wall_interval_when_not_a_terminal():
    """In a batch log (not a terminal) progress is one line per interval of wall time, with
    the simulated time, its share of the duration and the run's own note; -q prints nothing."""
    import io

    from kmc.progress import Progress

    stream = io.StringIO()
    with Progress(200.0, stream=stream, interval=0.0) as progress:
        progress(50.0, "deepest Li 3.0 um")
        progress(100.0, "deepest Li 4.5 um")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("kmc: t = 50 s of 200 s simulated (25.0%), "
                                                   "deepest Li 3.0 um")
    quiet = io.StringIO()
    with Progress(200.0, quiet=True, stream=quiet, interval=0.0) as progress:
        progress(50.0, "x")
    assert quiet.getvalue() == ""
    slow = io.StringIO()
    with Progress(200.0, stream=slow, interval=3600.0) as progress:
        progress(50.0, "x")
    assert slow.getvalue() == ""


def test_resume_is_bit_identical_with_electron_leak_and_stripping_voids(tmp_path):
    """Every kind's state survives a checkpoint: a run with the electron leak and stripping voids
    (contact lost at 0 MPa until the circuit opens), stopped after every kernel call by a tiny
    wall-time limit and resumed each time, ends with the uninterrupted run's data, including the
    leakage current its last observation reports from the epoch before the open circuit (lost
    when the electron traffic was not checkpointed)."""
    from test_plating import VOIDS

    deck = kmc.loads_deck(VOIDS.format(p=0).replace("stripping_voids = true",
                                                    "stripping_voids = true\nelectron_leak = true"))
    full = kmc.simulate(deck)
    assert full.stop_reason == "open_circuit" and full.observations["leakage_current"][-1] > 0
    ckpt = tmp_path / "run.ckpt"
    res = kmc.Simulation.from_deck(deck.replace("run.wall_time_limit", "1e-9 s")).run(ckpt)
    resumes = 0
    while res.stop_reason == "wall_time":
        resumes += 1
        res = kmc.Simulation.resume(ckpt).run(ckpt)
    assert resumes >= 10 and res.stop_reason == "open_circuit"
    a, b = full.to_dataset(), res.to_dataset()
    for k in a.data_vars:
        np.testing.assert_array_equal(a[k].values, b[k].values, err_msg=k)
