"""Bundled decks and material sets: package data found with importlib.resources, listed and
copied by ``kmc decks``; error messages asserted whole."""
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from kmc import decks
from kmc.cli import main
from kmc.deck import load_deck
from kmc.decks import bundled_decks, copy_deck, deck_names, find_deck, leading_description
from kmc.errors import ConfigError, KmcError
from kmc.materials import available_materials, load_li_metal, load_material, materials_dir

ROOT = Path(__file__).resolve().parents[2]
INPUTS = ROOT / "inputs"
DECK_FILES = sorted([p.stem for p in INPUTS.glob("*.toml")]
                    + [f"scenarios/{p.stem}" for p in INPUTS.glob("scenarios/*.toml")])
NAMES = ", ".join(DECK_FILES)


def test_every_deck_of_the_source_tree_is_bundled():
    assert DECK_FILES and deck_names() == DECK_FILES
    assert [d.name for d in bundled_decks()] == DECK_FILES
    for d in bundled_decks():
        assert d.resource.read_bytes() == (INPUTS / f"{d.name}.toml").read_bytes()


def test_scenario_decks_are_found_copied_and_loaded_by_their_folder_name(tmp_path):
    """inputs/scenarios/*.toml are bundled as ``scenarios/<stem>``: listed, copied (to the
    file name alone) and loaded by name; a name in another folder is not looked up."""
    scenario = next(n for n in DECK_FILES if n.startswith("scenarios/"))
    target = copy_deck(scenario, tmp_path)
    assert target == tmp_path / (scenario.split("/")[1] + ".toml")
    assert load_deck(scenario).model == "plating"
    with pytest.raises(ConfigError, match="deck not found"):
        load_deck("elsewhere/llzo_polycrystal_2d")


def test_bundled_decks_have_model_and_one_line_description():
    by_name = {d.name: d for d in bundled_decks()}
    assert by_name["llzo_polycrystal_2d"].model == "plating"
    assert by_name["llzo_microstructure_2d"].model == "microstructure"
    assert by_name["lattice_gas_2d"].model == "lattice_gas"
    assert by_name["lattice_gas_2d"].description == (
        "Lattice gas on a periodic square lattice: ions hopping over an Arrhenius barrier in a "
        "pulsed electric field.")
    for d in by_name.values():
        assert d.description and "\n" not in d.description and "#" not in d.description


@pytest.mark.parametrize("text,description", [
    ("# One. Two.\n# Three.\nmodel = 'x'\n", "One."),
    ("#\n# A deck (et al. 2025) in\n#   two lines\n#\n# Detail.\n",
     "A deck (et al. 2025) in two lines"),
    ("# Ends with a number 1.5 here! Next.\n", "Ends with a number 1.5 here!"),
    ("model = 'x'\n# late comment\n", ""),
])
def test_leading_description(text, description):
    assert leading_description(text) == description


@pytest.mark.parametrize("name", DECK_FILES)
def test_every_bundled_deck_loads(name):
    with resources.as_file(find_deck(name)) as path:
        deck = load_deck(path)
    assert deck.model == {d.name: d.model for d in bundled_decks()}[name]


def test_kmc_decks_lists_a_table(capsys):
    assert main(["decks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header, rows, footer = lines[0], lines[1:-1], lines[-1]
    assert header.split() == ["deck", "model", "description"]
    assert [row.split()[:2] for row in rows] == [[d.name, d.model] for d in bundled_decks()]
    column = header.index("description")
    assert [row[column:] for row in rows] == [d.description for d in bundled_decks()]
    assert footer == ("copy one here with `kmc decks copy NAME`, then run it with "
                      "`kmc run NAME.toml`")


def test_copy_into_the_working_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["decks", "copy", "llzo_polycrystal_2d"]) == 0
    target = Path("llzo_polycrystal_2d.toml")
    assert capsys.readouterr().out == f"wrote {target}  (run it with `kmc run {target}`)\n"
    assert (tmp_path / target).read_bytes() == (INPUTS / target.name).read_bytes()


def test_copy_to_a_directory_or_a_file(tmp_path):
    written = copy_deck("lattice_gas_2d.toml", tmp_path / "new" / "dir")
    assert written == tmp_path / "new" / "dir" / "lattice_gas_2d.toml"
    assert written.read_bytes() == (INPUTS / "lattice_gas_2d.toml").read_bytes()
    written = copy_deck("lattice_gas_2d", tmp_path / "mine.toml")
    assert written == tmp_path / "mine.toml" and written.read_bytes() == (
        INPUTS / "lattice_gas_2d.toml").read_bytes()


def test_copy_refuses_to_overwrite_without_force(tmp_path, capsys):
    target = tmp_path / "llzo_polycrystal_2d.toml"
    target.write_text("mine\n")
    assert main(["decks", "copy", "llzo_polycrystal_2d", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"kmc: error: {target}: file exists; not overwritten (use --force to replace it)\n")
    assert target.read_text() == "mine\n"
    assert main(["decks", "copy", "llzo_polycrystal_2d", str(tmp_path), "--force"]) == 0
    assert target.read_bytes() == (INPUTS / target.name).read_bytes()


def test_copy_onto_a_directory_named_like_a_deck(tmp_path):
    (tmp_path / "lattice_gas_2d.toml").mkdir()
    with pytest.raises(KmcError) as info:
        copy_deck("lattice_gas_2d", tmp_path, force=True)
    assert str(info.value) == (f"{tmp_path / 'lattice_gas_2d.toml'}: is a directory; give a file "
                               "name ending in .toml")


def test_unknown_deck_is_one_line_with_a_suggestion(tmp_path, capsys):
    with pytest.raises(ConfigError) as info:
        copy_deck("llzo_polycristal_2d", tmp_path)
    assert str(info.value) == ("deck 'llzo_polycristal_2d': no such bundled deck; did you mean "
                               f"'llzo_polycrystal_2d'? (available: {NAMES})")
    assert main(["decks", "copy", "nothing_like_it", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"kmc: error: deck 'nothing_like_it': no such bundled deck (available: {NAMES})\n")
    assert list(tmp_path.iterdir()) == []


def test_material_sets_are_package_data(tmp_path, monkeypatch):
    monkeypatch.delenv("KMC_MATERIALS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # nothing depends on the working directory
    bundled = resources.files("kmc.inputs") / "materials"
    assert decks.inputs_files() / "materials" == bundled
    assert materials_dir() == bundled
    stems = sorted(r.name.removesuffix(".toml") for r in bundled.iterdir()
                   if r.name.endswith(".toml"))
    assert stems == sorted(p.stem for p in (INPUTS / "materials").glob("*.toml"))
    assert available_materials() == [s for s in stems if s != "li_metal"]
    assert load_material("llzo").name == "llzo"
    assert load_li_metal().name == "li_metal"


def test_environment_variable_overrides_the_bundled_sets(tmp_path, monkeypatch):
    (tmp_path / "garnet.toml").write_bytes((INPUTS / "materials" / "llzo.toml").read_bytes())
    monkeypatch.setenv("KMC_MATERIALS_DIR", str(tmp_path))
    assert materials_dir() == tmp_path
    assert available_materials() == ["garnet"]


def test_pyproject_lists_every_package_and_maps_the_inputs():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = sorted(".".join(p.parent.relative_to(ROOT).parts)
                      for p in (ROOT / "kmc").rglob("__init__.py"))
    assert sorted(setuptools["packages"]) == sorted([*packages, "kmc.inputs"])
    assert setuptools["package-dir"] == {"kmc.inputs": "inputs"}
    assert setuptools["package-data"] == {"kmc.inputs": ["*.toml", "materials/*.toml",
                                                         "scenarios/*.toml"]}


SCENARIOS = sorted(p.stem for p in INPUTS.glob("scenarios/*.toml"))


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_sweep_point_of_every_scenario_deck_builds_and_runs(name):
    """Each scenario deck's first task at every sweep point (a run deck: itself) builds its
    cell and runs its first 20 events to a clean stop (the whole runs, and what they give,
    are in docs/scenarios.md)."""
    import kmc
    from kmc.ensemble import Ensemble

    deck = load_deck(INPUTS / "scenarios" / f"{name}.toml")
    decks = ([Ensemble(deck).task_deck(t) for t in Ensemble(deck).tasks if t.replica == 0]
             if getattr(deck, "ensemble", None) is not None else [deck])
    for d in decks:
        result = kmc.Simulation.from_deck(d.replace("run.max_events", 20)).run()
        assert result.stop_reason in ("max_events", "short", "duration", "protocol_end"), (
            name, result.stop_reason)
