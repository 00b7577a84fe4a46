"""docs/extending.md: its worked example of a new event kind runs as written."""
import re
from pathlib import Path

import numpy as np

import kmc
from kmc import events
from kmc.codes import CH_NUCLEATE
from kmc.microstructure import LI

ROOT = Path(__file__).resolve().parents[2]

DECK = """
model = "plating"
[cell]
thickness = "8 um"
width = "8 um"
[microstructure]
kind = "voronoi"
grain_size = "2 um"
[protocol]
current_density = "1 mA/cm^2"
[plating]
fracture = false
[run]
duration = "20 s"
observations = 5
seed = 2
"""


def test_the_worked_example_adds_an_event_kind(monkeypatch):
    """The GBReduction kind of docs/extending.md, appended to kmc.events.EVENTS, fires: Li
    nucleates only on GB sites within its depth of the plating electrode."""
    text = (ROOT / "docs" / "extending.md").read_text()
    code = re.search(r"<!-- extending-example -->\s*```python\n(.*?)```", text, re.S).group(1)
    scope = {}
    exec(compile(code, "docs/extending.md", "exec"), scope)
    kind = scope["GBReduction"]
    monkeypatch.setattr(events, "EVENTS", events.EVENTS + [kind])  # the registration line
    sim = kmc.Simulation.from_deck(kmc.loads_deck(DECK))
    assert sim.event("gb_reduction") is not None
    initial = sim.phase == LI
    res = sim.run()
    assert res.scalars["events_by_kind"][CH_NUCLEATE] > 0
    new = (sim.phase == LI) & ~initial
    assert new.any()
    cell = sim.cell
    assert np.all(cell.gb_site[new]) and np.all((cell.layer[new] + 0.5) * cell.spacing < kind.depth)
