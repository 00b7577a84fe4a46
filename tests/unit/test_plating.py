"""Plating runs end to end: conservation, short detection, networkx agreement, resume,
reproducibility, the bipolar inclusion (VALIDATION.md C3) and deck errors.

Every run uses a fixed seed, so each assertion is exactly reproducible. Statistical checks
state their band and false-failure probability in their docstring.
"""
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from kmc.cli import main
from kmc.deck import loads_deck
from kmc.errors import ConfigError, KmcError
from kmc.codes import FACE_A, FACE_C
from kmc.microstructure import LI, VOID
from kmc.output import open_dataset, plating_dataset, write_dataset
from kmc.codes import CH_FRACTURE, CH_PLATE_A, CH_PLATE_C
from kmc.clusters import CLASS_FLOATING, ClusterView, li_graph
from kmc.simulation import Simulation, simulate

ROOT = Path(__file__).resolve().parents[2]

SMALL = """
model = "plating"
[cell]
thickness = "{thickness}"
width = "{width}"
spacing = "0.5 um"
[microstructure]
kind = "{kind}"
grain_size = "2.8 um"
flaws = {{ depth = "{flaw}", width = "0.5 um", x_positions = ["{flaw_x}"] }}
[material]
name = "{material}"
li_metal = {{ creep_reference_stress = "95 MPa" }}
[protocol]
{protocol}
[plating]
quanta_per_site = {n_q}
[run]
duration = "{duration}"
observations = {observations}
seed = {seed}
engine = "{engine}"
debug_checks = {debug}
{run_extra}
"""
PLATE = 'kind = "constant"\ncurrent_density = "30 mA/cm^2"'
CYCLE = ('kind = "cycling"\ncurrent_density = "30 mA/cm^2"\ncapacity = "0.05 mA*h/cm^2"\n'
         'cycles = 2')


def small_deck(**over):
    """A small plating deck (TOML text rendered and validated)."""
    values = dict(thickness="10 um", width="10 um", kind="voronoi", flaw="2 um", flaw_x="5 um",
                  material="llzo", protocol=PLATE, n_q=4, duration="200 s", observations=21,
                  seed=1, engine="cython", debug="false", run_extra="")
    values.update(over)
    return loads_deck(SMALL.format(**values))


def test_li_is_conserved_to_the_quantum_and_plated_charge_follows_the_current():
    """Lattice Li plus both reservoirs is constant at every observation, exactly, through
    plating, fracture, creep and stripping (cycling protocol); the external circuit moves
    charge into electrode A at the protocol current: each half-cycle's transfers form a Poisson
    process of mean integral(I dt)/q, so |Q_plated - integral(I dt)| / q stays within
    4.42 sqrt(integral(|I| dt)/q) (two-sided normal tail 1e-5; the count is in the hundreds,
    where the Poisson-normal approximation error is far below that)."""
    res = simulate(small_deck(protocol=CYCLE, duration="100 s"))
    obs = res.observations
    total = obs["li_quanta"] + obs["reservoir_a"] + obs["reservoir_c"]
    assert np.all(total == total[0])
    counts = res.scalars["events_by_kind"]
    assert counts[CH_PLATE_A] > 50 and counts[CH_PLATE_C] > 50  # both half-cycles ran
    assert counts[CH_FRACTURE] > 0 and obs["empty_crack_sites"][-1] > 0  # cracked, stripped
    q = res.quantum
    moved = (counts[CH_PLATE_A] + counts[CH_PLATE_C])
    assert abs(obs["plated_charge"][-1] - obs["expected_charge"][-1]) / q <= 4.42 * math.sqrt(moved)
    assert np.all(obs["plated_charge"] == q * np.round(obs["plated_charge"] / q))


def test_union_find_and_networkx_agree_on_50_random_runs():
    """The kernel's incremental union-find and networkx agree on the Li clusters and on the
    short after every epoch (``run.debug_checks`` raises EngineConsistencyError otherwise) and
    at every observation, over 50 random runs. Runs alternate between a polycrystal with a
    random flaw, plated to a short or cycled (stripping detaches Li from the electrode:
    clusters relabelled after removals), and a small bipolar inclusion under cycling
    (floating clusters that dissolve at one end and regrow at the other); the test also checks
    that these situations did occur. (Random add/remove sequences that split clusters are in
    tests/unit/test_clusters.py.)"""
    seen = {"short": 0, "floating": 0, "polycrystal stripped to floating Li": 0}
    for seed in range(50):
        rng = np.random.default_rng(seed)
        if seed % 2:
            text = (ROOT / "inputs" / "bipolar_inclusion_2d.toml").read_text()
            for old, new in (('thickness = "40 um"', 'thickness = "16 um"'),
                             ('width = "20 um"', 'width = "8 um"'),
                             ('length = "10 um"', f'length = "{rng.integers(4, 9) * 0.5} um"'),
                             ('angle = "0 degree"', f'angle = "{rng.integers(0, 4) * 15} degree"'),
                             ('crack = "6 um"', 'crack = "2 um"'),
                             ('"10 mA/cm^2"', '"30 mA/cm^2"'),
                             ('capacity = "0.05 mA*h/cm^2"', 'capacity = "0.01 mA*h/cm^2"'),
                             ("seed = 1", f"seed = {seed}\ndebug_checks = true"),
                             ('duration = "200 s"', 'duration = "30 s"')):
                assert old in text
                text = text.replace(old, new)
            deck = loads_deck(text)
        else:
            deck = small_deck(thickness="8 um", width="6 um", flaw=f"{rng.integers(3, 6) * 0.5} um",
                              flaw_x=f"{rng.integers(0, 12) * 0.5} um",
                              protocol=CYCLE.replace("0.05 mA", "0.1 mA") if seed % 4 else PLATE.replace("30 mA", "60 mA"),
                              duration="60 s" if seed % 4 else "300 s", seed=seed, debug="true")
        sim = Simulation.from_deck(deck)
        res = sim.run()
        obs = res.observations
        assert np.all(obs["shorted"][:-1] == 0)
        assert obs["shorted"][-1] == (res.stop_reason == "short")
        G = li_graph(sim.cell.graph, sim.phase == LI, sim.cell.face)
        nx_short = G.has_node("A") and G.has_node("C") and nx.has_path(G, "A", "C")
        assert nx_short == bool(sim.tracker.shorted()) == (res.stop_reason == "short")
        seen["short"] += res.stop_reason == "short"
        seen["floating"] += bool(obs["floating_clusters"].max() > 0)
        seen["polycrystal stripped to floating Li"] += bool(seed % 2 == 0 and obs["floating_clusters"].max() > 0)
    assert min(seen.values()) >= 5, seen


def test_short_is_detected_with_its_path():
    """A run that shorts stops at the event that joins the electrodes: networkx finds the
    recorded path, which runs through Li from a face-A site to a face-C site; its tortuosity is
    at least 1 and its GB fraction lies in [0, 1]; the crack path spans no later than the Li."""
    sim = Simulation.from_deck(small_deck())
    res = sim.run()
    sc = res.scalars
    assert res.stop_reason == "short"
    assert math.isfinite(sc["t_short"]) and sc["t_short"] == res.observations["time"][-1]
    path = np.flatnonzero(sc["short_path"])
    phase = sim.phase
    assert np.all(phase[path] == LI)
    face = sim.cell.face
    assert (face[path] == FACE_A).any() and (face[path] == FACE_C).any()
    H = li_graph(sim.cell.graph, np.isin(np.arange(phase.size), path), face)
    assert nx.has_path(H, "A", "C")
    assert sc["short_path_tortuosity"] >= 1.0
    assert 0.0 <= sc["short_path_gb_fraction"] <= 1.0
    assert sc["crack_span_time"] <= sc["t_short"]


def test_single_crystal_and_amorphous_paths_have_no_grain_boundaries():
    """VALIDATION.md C5 (second half): a single crystal and an amorphous electrolyte have no
    intergranular path - the shorting path's GB fraction is exactly 0."""
    for kind, material in (("single_crystal", "llzo_single_crystal"), ("amorphous", "lipon")):
        res = simulate(small_deck(kind=kind, material=material, protocol=PLATE))
        assert res.stop_reason == "short", (kind, res.stop_reason)
        assert res.scalars["short_path_gb_fraction"] == 0.0
        assert res.scalars["gb_edge_fraction"] == 0.0


def test_cython_and_reference_runs_are_identical():
    """The Cython kernel and its Python twin give the same run (every observation equal)."""
    a = simulate(small_deck(engine="cython", protocol=CYCLE, duration="60 s"))
    b = simulate(small_deck(engine="reference", protocol=CYCLE, duration="60 s"))
    assert a.stop_reason == b.stop_reason
    for k in a.observations:
        np.testing.assert_array_equal(a.observations[k], b.observations[k], err_msg=k)


def _data(ds):
    return {k: ds[k].values for k in ds.data_vars}


def test_resume_from_a_checkpoint_is_bit_identical(tmp_path):
    """A run stopped by max_events (which writes a checkpoint) and resumed twice gives data
    variables bit-identical to the uninterrupted run's."""
    deck = small_deck(protocol=CYCLE, duration="60 s")
    full = plating_dataset(simulate(deck))
    ckpt = tmp_path / "run.ckpt"
    first = Simulation.from_deck(small_deck(protocol=CYCLE, duration="60 s",
                                         run_extra="max_events = 40")).run(ckpt)
    assert first.stop_reason == "max_events" and ckpt.is_file()
    second = Simulation.resume(ckpt, run_overrides={"max_events": 90}).run(ckpt)
    assert second.stop_reason == "max_events"
    final = Simulation.resume(ckpt, run_overrides={"max_events": 10**12}).run(ckpt)
    assert not ckpt.exists()  # a finished run removes its checkpoint
    resumed = plating_dataset(final)
    a, b = _data(full), _data(resumed)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_same_seed_gives_bit_identical_netcdf(tmp_path):
    """Same deck and seed: the netCDF data variables are bit-identical; another seed differs."""
    paths = []
    for i, seed in enumerate((3, 3, 4)):
        p = tmp_path / f"r{i}.nc"
        write_dataset(plating_dataset(simulate(small_deck(seed=seed))), p)
        paths.append(p)
    a, b, c = (_data(open_dataset(p)) for p in paths)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def _com(res):
    """Centre of mass [m] of the lattice Li (the inclusion) at every observation."""
    prof = res.observations["li_depth_profile"]
    z = (np.arange(prof.shape[1]) + 0.5) * res.graph.spacing
    return prof @ z / prof.sum(axis=1)


def _bipolar(angle="0 degree"):
    text = (ROOT / "inputs" / "bipolar_inclusion_2d.toml").read_text()
    return simulate(loads_deck(text.replace('angle = "0 degree"', f'angle = "{angle}"')))


def test_bipolar_inclusion_moves_toward_the_positive_electrode_and_back():
    """VALIDATION.md C3 on inputs/bipolar_inclusion_2d.toml: the floating inclusion conserves
    its Li exactly; while electrode A (z = 0) plates, its centre of mass moves toward the
    positive electrode C; an empty crack is left on the negative side; after the current
    reverses the motion reverses. An inclusion across the field (90 deg) moves less."""
    res = _bipolar()
    obs = res.observations
    assert res.stop_reason == "protocol_end"
    assert np.all(obs["li_quanta"] == obs["li_quanta"][0])
    assert np.all(obs["li_sites_a"] == 0) and np.all(obs["li_sites_c"] == 0)
    com = _com(res)
    j = obs["current_density"]
    turn = int(np.flatnonzero(j < 0)[0])
    h = res.graph.spacing
    assert com[turn] - com[0] > 2 * h       # plating half: toward C
    assert com[-1] < com[turn] - 2 * h      # reversed: back toward A
    snap = res.snapshots
    first = np.flatnonzero(snap["time"] >= obs["time"][turn])[0]
    phase = snap["phase"][first]
    z = res.graph.positions[:, 2]
    li_low = z[phase == LI].min()
    void_below = (phase == VOID) & (z < li_low)
    assert void_below.any()  # empty crack on the negative (A) side
    across = _com(_bipolar("90 degree"))
    assert abs(across[turn] - across[0]) < com[turn] - com[0]


BAD_DECKS = {
    "unknown plating key": ("[plating]\nquanta_per_site = 4",
                            "[plating]\nquanta_per_sites = 4",
                            "plating.quanta_per_sites: unknown key; did you mean 'quanta_per_site'?"),
    "bad protocol": ('kind = "constant"', 'kind = "ramp"',
                     "protocol.kind = 'ramp': must be one of constant, pulsed, cycling, staircase"),
    "zero quanta": ("quanta_per_site = 4", "quanta_per_site = 0",
                    "plating.quanta_per_site = 0: out of range, must be in [1, 1024]"),
    "current unit": ('current_density = "30 mA/cm^2"', 'current_density = "30 mA"',
                     "protocol.current_density = '30 mA'"),
}


@pytest.mark.parametrize("name", BAD_DECKS)
def test_bad_plating_decks_give_one_line_errors(name):
    """Malformed plating decks raise ConfigError naming the key, the value and what is allowed."""
    old, new, message = BAD_DECKS[name]
    text = SMALL.format(thickness="10 um", width="10 um", kind="voronoi", flaw="2 um",
                        flaw_x="5 um", material="llzo", protocol=PLATE, n_q=4, duration="1 s",
                        observations=3, seed=1, engine="cython", debug="false", run_extra="")
    assert old in text
    with pytest.raises(ConfigError) as err:
        loads_deck(text.replace(old, new))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_inclusion_touching_an_electrode_is_refused():
    """An 'isolated' inclusion that reaches an electrode is a deck error, not a silent short."""
    text = (ROOT / "inputs" / "bipolar_inclusion_2d.toml").read_text().replace(
        'length = "10 um"', 'length = "40 um"')
    with pytest.raises(ConfigError, match="touches an electrode"):
        Simulation.from_deck(loads_deck(text))


def test_resume_errors_are_one_line(tmp_path):
    """A missing or corrupt checkpoint gives one line, not a traceback."""
    with pytest.raises(KmcError, match="checkpoint not found"):
        Simulation.resume(tmp_path / "none.ckpt")
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a pickle")
    with pytest.raises(KmcError, match="not a kmc checkpoint"):
        Simulation.resume(bad)


def test_cli_runs_a_plating_deck_and_resumes(tmp_path, capsys):
    """`kmc run DECK` writes the dataset and the figure; `--max-events` stops with a checkpoint
    and `--resume` finishes the run with the same data as an uninterrupted one."""
    deck = tmp_path / "deck.toml"
    text = SMALL.format(thickness="10 um", width="10 um", kind="voronoi", flaw="2 um",
                        flaw_x="5 um", material="llzo", protocol=PLATE, n_q=4, duration="200 s",
                        observations=11, seed=2, engine="cython", debug="false", run_extra="")
    deck.write_text(text + f'[output]\ndataset = "{tmp_path / "a.nc"}"\nfigure = "{tmp_path / "a.png"}"\n')
    assert main(["run", str(deck), "-q"]) == 0
    assert (tmp_path / "a.nc").is_file() and (tmp_path / "a.png").stat().st_size > 10_000
    assert main(["run", str(deck), "-q", "-o", str(tmp_path / "b.nc"), "--figure", "",
                 "--max-events", "50"]) == 3  # stopped by a limit: checkpoint, exit 3
    assert "--resume" in capsys.readouterr().out
    assert main(["run", str(deck), "-q", "-o", str(tmp_path / "b.nc"), "--figure", "",
                 "--resume", "--max-events", "1000000"]) == 0
    a, b = _data(open_dataset(tmp_path / "a.nc")), _data(open_dataset(tmp_path / "b.nc"))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert main(["run", str(deck), "-q", "--resume", "-o", str(tmp_path / "c.nc")]) == 2


@pytest.mark.parametrize("name", ["llzo_polycrystal_2d", "llzo_ideal_2d", "llzo_polycrystal_3d",
                                  "llzo_single_crystal_2d", "lipon_amorphous_2d",
                                  "bipolar_inclusion_2d"])
def test_shipped_plating_decks_set_up(name):
    """Every plating deck in inputs/ validates and sets up (microstructure, graph, field
    solver, kernel) with its initial Li anchored or isolated as described in the deck."""
    deck = loads_deck((ROOT / "inputs" / f"{name}.toml").read_text())
    sim = Simulation.from_deck(deck)
    assert (sim.phase == LI).any()
    assert not sim.tracker.shorted()


def test_cli_refuses_to_overwrite_a_checkpoint_or_resume_another_deck(tmp_path, capsys):
    """A fresh `kmc run` does not silently replace an unfinished run's checkpoint, and
    `--resume` refuses a deck that differs in more than the [run] limits (here the seed)."""
    deck = tmp_path / "deck.toml"
    text = SMALL.format(thickness="10 um", width="10 um", kind="voronoi", flaw="2 um",
                        flaw_x="5 um", material="llzo", protocol=PLATE, n_q=4, duration="200 s",
                        observations=11, seed=2, engine="cython", debug="false", run_extra="")
    deck.write_text(text + f'[output]\ndataset = "{tmp_path / "a.nc"}"\nfigure = ""\n')
    assert main(["run", str(deck), "-q", "--max-events", "20"]) == 3
    assert (tmp_path / "a.ckpt").is_file()
    capsys.readouterr()
    assert main(["run", str(deck), "-q"]) == 2
    assert "--resume" in capsys.readouterr().err
    deck.write_text(deck.read_text().replace("seed = 2", "seed = 3"))
    assert main(["run", str(deck), "-q", "--resume"]) == 2
    assert "different deck" in capsys.readouterr().err


def test_cluster_extent_is_measured_across_the_periodic_seam():
    """The Griffith crack length of a cluster that straddles the periodic x boundary is its
    true width, not the cell width; along z (not periodic) it is the span of its layers."""
    deck = small_deck(flaw_x="0 um")
    sim = Simulation.from_deck(deck)
    phase = sim.phase.copy()
    grid = sim.cell.graph.to_grid(np.arange(phase.size))
    nx_ = grid.shape[0]
    for x in (nx_ - 2, nx_ - 1, 0, 1):  # four columns across the seam, two layers
        phase[grid[x, 0, :2]] = LI
    extent = ClusterView(sim.cell.graph, phase, sim.cell.face, sim.contact, sim.cell.shape,
                         sim.cell.periodic).extent
    h = sim.cell.graph.spacing
    assert extent.shape == (1, 3)
    assert extent[0, 0] == pytest.approx(4 * h) and extent[0, 2] == pytest.approx(4 * h)


LEAK = """
model = "plating"
[cell]
thickness = "40 um"
width = "20 um"
[microstructure]
kind = "voronoi"
[material]
name = "llzo"
overrides = {{ electronic_conductivity = "1e-7 S/cm" }}
[protocol]
current_density = "30 mA/cm^2"
[plating]
electron_leak = {leak}
[run]
duration = "300 s"
observations = 11
seed = 1
"""


def test_electron_leak_nucleates_floating_li_only_at_grain_boundaries():
    """VALIDATION.md C4 (seeds 000, 003): with the leak off no floating Li nucleates; with the
    calibrated leak on, at the upper electronic conductivity of seed 001 (1e-7 S/cm) and
    30 mA/cm^2 (a cell voltage of ~0.46 V, so electrons reach electrolyte 0.1 V above the
    plating electrode, where nucleation is fast), floating Li appears, every nucleated site
    is a grain-boundary or triple-junction site (the traps), and Li is still conserved to
    the quantum (nucleation takes its Li+ from the stripping electrode). Measured in 300 s:
    48 packets captured by triple junctions (explicit traps), 10 reductions by packets held
    there or escaping from them, 15 packets deposited on floating Li."""
    off = Simulation.from_deck(loads_deck(LEAK.format(leak="false")))
    res_off = off.run()
    assert res_off.observations["floating_clusters"].max() == 0
    assert res_off.scalars["events_by_kind"][[5, 11]].sum() == 0  # no nucleation event
    on = Simulation.from_deck(loads_deck(LEAK.format(leak="true")))
    res = on.run()
    obs = res.observations
    assert obs["floating_clusters"].max() > 0 and res.scalars["events_by_kind"][[5, 11]].sum() > 0
    gb = np.asarray(on.cell.graph.site_data["gb"]).astype(bool)
    clusters = on.tracker.view(on.phase, on.contact)
    li = np.flatnonzero(on.phase == LI)
    nucleated = li[clusters.kind[clusters.label[li]] == CLASS_FLOATING]
    assert nucleated.size and np.all(gb[nucleated])
    total = obs["li_quanta"] + obs["reservoir_a"] + obs["reservoir_c"]
    assert np.all(total == total[0])
    assert obs["leakage_current"][-1] > 0 == res_off.observations["leakage_current"][-1]


VOIDS = """
model = "plating"
[cell]
thickness = "10 um"
width = "10 um"
[microstructure]
kind = "single_crystal"
[material]
name = "llzo_single_crystal"
[conditions]
stack_pressure = "{p} MPa"
[protocol]
current_density = "1 mA/cm^2"
[plating]
stripping_voids = true
[run]
duration = "20 s"
observations = 11
seed = 1
"""


def test_stripping_voids_open_without_stack_pressure_and_not_with_it():
    """MODEL.md 5.8: stripping at 1 mA/cm^2 from the electrode at z = L exceeds the resupply
    limit at 0 MPa (0.1 mA/cm^2): its face detaches, current crowds onto the remaining
    contact (the voltage rises) until no contact is left (open circuit); the plating
    electrode keeps full contact. At 10 MPa the limit (2.35 mA/cm^2) is not reached and
    nothing detaches. At 1 MPa and 0.3 mA/cm^2 voids open and some heal under the stack
    pressure."""
    bare = simulate(loads_deck(VOIDS.format(p=0)))
    obs = bare.observations
    assert bare.stop_reason == "open_circuit"
    assert obs["contact_fraction_c"][-1] < obs["contact_fraction_c"][0] == 1.0
    assert np.all(obs["contact_fraction_a"] == 1.0)
    assert obs["voltage"][-1] > obs["voltage"][0]
    pressed = simulate(loads_deck(VOIDS.format(p=10)))
    assert pressed.stop_reason == "duration"
    assert np.all(pressed.observations["contact_fraction_c"] == 1.0)
    assert pressed.scalars["events_by_kind"][7] == 0
    mild = simulate(loads_deck(VOIDS.format(p=1).replace('"1 mA/cm^2"', '"0.3 mA/cm^2"')
                               .replace('"20 s"', '"60 s"')))
    assert mild.scalars["events_by_kind"][7] > 0 and mild.scalars["events_by_kind"][8] > 0


TRAPS = """
model = "plating"
[cell]
thickness = "40 um"
width = "20 um"
[microstructure]
kind = "voronoi"
[material]
name = "llzo"
overrides = {{ electronic_conductivity = "1e-3 S/cm" }}
[protocol]
kind = "pulsed"
current_density = "5 mA/cm^2"
period = "40 ms"
duty = 0.5
[plating]
explicit_trap_time = "{explicit}"
[run]
duration = "0.08 s"
observations = 81
seed = 1
"""


def test_slow_traps_hold_charge_through_the_rest_of_a_pulse():
    """MODEL.md 5.5, explicit detrapping: triple junctions (E_t = 0.65 eV, holding time 1/k_d
    = 1.4 ms) capture packets while 5 mA/cm^2 flows (a leak raised to 1e-3 S/cm so that tens
    of packets are caught in 20 ms); in the 20 ms rest nothing can be reduced and nothing is
    captured, packets only escape, and most escapes end in the next triple junction along the
    boundary (multiple trapping), so the held charge falls step by step and some outlasts
    the rest. With every trap quasi-static (explicit_trap_time = 0) no packet is held and no
    trap event fires. Fixed seed: exact."""
    sim = Simulation.from_deck(loads_deck(TRAPS.format(explicit="0.1 ms")))
    res = sim.run()
    held = np.asarray(res.observations["held_electron_packets"])
    counts = res.scalars["events_by_kind"]
    assert counts[9] > 10 and counts[10] > counts[9]  # captures, and escapes (most recaptured)
    assert np.all(np.asarray(res.observations["floating_clusters"]) == 0)
    assert held[20] > 0  # at the end of the first 20 ms of current
    rest = held[21:41]  # t in (20, 40] ms
    assert np.all(np.diff(rest) <= 0) and rest[-1] > 0 and rest[-1] < held[20]
    assert held[60] > 0 and np.all(np.diff(held[61:81]) <= 0)
    quasi = Simulation.from_deck(loads_deck(TRAPS.format(explicit="0 s"))).run()
    assert quasi.scalars["events_by_kind"][9:].sum() == 0
    assert not np.any(quasi.observations["held_electron_packets"])
