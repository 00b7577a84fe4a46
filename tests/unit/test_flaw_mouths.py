"""Stripped flaws refill on the next plating (MODEL.md 10.2-10.3, issue 11: "dendrites start
at void rims on the next plating"). Li stripped out of a surface flaw leaves an empty crack
open to the electrode; when that electrode plates again the emptied mouth is an empty metal
site of the electrode, which plating refills, and the crack behind it by overflow. Before,
stripping erased a flaw for good. Fixed seeds: every run is exactly reproducible."""
import numpy as np

import kmc
from kmc.codes import FACE_A, VOID
from kmc.output import plating_dataset
from kmc.simulation import Simulation

DECK = """
model = "plating"
[cell]
thickness = "10 um"
width = "10 um"
[microstructure]
kind = "single_crystal"
flaws = {{ depth = "3 um", width = "0.5 um", x_positions = ["5 um"] }}
[material]
name = "llzo_single_crystal"
[protocol]
kind = "cycling"
current_density = "0.5 mA/cm^2"
capacity = "0.05 mAh/cm^2"
cycles = 2
[run]
duration = "2000 s"
observations = 41
seed = 2
{extra}
"""
FLAW_SITES = 6  # 3 um of 0.5 um sites


def test_a_flaw_stripped_empty_refills_when_its_electrode_plates_again():
    """Plate 0.05 mAh/cm^2 (360 s), strip it (the flaw's Li goes first: it carries the most
    current and empties), plate again: the flaw's Li comes back (at least 4 of its 6 sites)
    within the second plating."""
    ds = plating_dataset(kmc.simulate(kmc.loads_deck(DECK.format(extra=""))))
    li = ds["li_sites_a"].values
    t = ds["time"].values
    first_strip_end = np.flatnonzero(t <= 720.0)[-1]
    second_plating = (t > 720.0) & (t <= 1080.0)
    assert li[0] == FLAW_SITES
    assert li[first_strip_end] == 0
    assert li[second_plating].max() >= 4


def test_the_mouth_follows_its_electrode_and_resume_is_bit_identical(tmp_path):
    """The reopened mouths are checkpointed: a run stopped in the second plating and resumed
    gives the uninterrupted data, and while electrode A strips no emptied face site is metal."""
    full = plating_dataset(kmc.simulate(kmc.loads_deck(DECK.format(extra=""))))
    ckpt = tmp_path / "run.ckpt"
    sim = Simulation.from_deck(kmc.loads_deck(DECK.format(extra="max_events = 90")))
    assert sim.run(ckpt).stop_reason == "max_events"
    final = plating_dataset(Simulation.resume(ckpt, run_overrides={"max_events": 10**12}).run(ckpt))
    for k in full.data_vars:
        np.testing.assert_array_equal(full[k].values, final[k].values, err_msg=k)


def test_an_emptied_mouth_is_an_empty_crack_while_its_electrode_strips():
    """Stop in the first strip once the flaw is empty: its mouth is VOID, not metal."""
    sim = Simulation.from_deck(kmc.loads_deck(DECK.format(extra="").replace(
        'duration = "2000 s"', 'duration = "719 s"')))
    sim.run()
    face_a = sim.cell.face == FACE_A
    mouth = face_a & sim.held_li
    assert mouth.sum() == 1
    assert sim.phase[mouth][0] == VOID and sim.kernel.contents[mouth][0] == 0
