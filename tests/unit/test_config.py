"""Input decks: malformed decks give one line naming the key, the value and what is allowed;
sections validate themselves (direct construction, dataclasses.replace, deck.replace); --set."""
import dataclasses
import json
from pathlib import Path

import pytest

from kmc import deck as decks
from kmc.deck import (ConditionsConfig, FieldConfig, LatticeConfig, MicrostructureConfig, OutputConfig,
                      PoresConfig, ProtocolConfig, RunConfig, as_dict, from_dict, load_deck, loads_deck,
                      parse_override)
from kmc.errors import ConfigError

INPUTS = sorted((Path(__file__).resolve().parents[2] / "inputs").glob("*.toml"))

BASE = '''model = "lattice_gas"
[lattice]
shape = [8, 8]
spacing = "0.5 nm"
periodic = [true, true]
[conditions]
temperature = "25 degC"
[run]
seed = 1
duration = "1 us"
'''

CASES = {
    "syntax": BASE.replace('shape = [8, 8]', 'shape = [8, 8'),
    "unknown_key": BASE.replace('spacing =', 'spacng ='),
    "unknown_section": BASE + '[lattice_gass]\ncoverage = 0.1\n',
    "missing_required": BASE.replace('duration = "1 us"\n', ''),
    "bad_unit": BASE.replace('"0.5 nm"', '"0.5 kg"'),
    "no_unit": BASE.replace('"0.5 nm"', '0.5'),
    "neg_temperature": BASE.replace('"25 degC"', '"-5 K"'),
    "below_abs_zero": BASE.replace('"25 degC"', '"-300 degC"'),
    "garbage_quantity": BASE.replace('"1 us"', '"one microsecond"'),
    "coverage_range": BASE + '[lattice_gas]\ncoverage = 1.5\n',
    "wrong_type": BASE.replace('seed = 1', 'seed = "one"'),
    "bad_choice": BASE.replace('seed = 1', 'seed = 1\nengine = "cyton"'),
    "shape_len": BASE.replace('shape = [8, 8]', 'shape = [8]'),
    "negative_seed": BASE.replace('seed = 1', 'seed = -1'),
    "bad_model": BASE.replace('"lattice_gas"', '"plateing"'),
    "zero_direction": BASE + '[field]\ndirection = [0, 0, 0]\n',
    "section_not_table": 'conditions = 3\n' + BASE.replace('[conditions]\ntemperature = "25 degC"\n', ''),
    "periodic_small": BASE.replace('shape = [8, 8]', 'shape = [2, 8]'),
    "nan": BASE.replace('seed = 1', 'seed = 1\nobservations = nan'),
}

MESSAGES = {
    'syntax': 'deck.toml: TOML syntax error: Unclosed array (at line 4, column 1)',
    'unknown_key': "deck.toml: lattice.spacng: unknown key; did you mean 'spacing'? (allowed in lattice: shape, spacing, periodic, order)",
    'unknown_section': "deck.toml: lattice_gass: unknown key; did you mean 'lattice_gas'? (allowed in the deck: model, lattice, run, lattice_gas, field, conditions, output)",
    'missing_required': 'deck.toml: run.duration: missing required key (simulated time to run)',
    'bad_unit': "deck.toml: lattice.spacing = '0.5 kg': wrong unit, needs a quantity convertible to 'm'",
    'no_unit': "deck.toml: lattice.spacing = 0.5: a unit is required, e.g. '0.5 m'",
    'neg_temperature': "deck.toml: conditions.temperature = '-5 K': out of range, must be in [150, 600] K",
    'below_abs_zero': "deck.toml: conditions.temperature = '-300 degC' (= -26.85 K): out of range, must be in [150, 600] K",
    'garbage_quantity': "deck.toml: run.duration = 'one microsecond': not a quantity; write a number and a unit, e.g. '1 s'",
    'coverage_range': 'deck.toml: lattice_gas.coverage = 1.5: out of range, must be in [0, 1)',
    'wrong_type': "deck.toml: run.seed = 'one': expected an integer",
    'bad_choice': "deck.toml: run.engine = 'cyton': must be one of cython, reference; did you mean 'cython'?",
    'shape_len': 'deck.toml: lattice.shape = [8]: expected a list of 2 or 3 items, got 1',
    'negative_seed': 'deck.toml: run.seed = -1: out of range, must be >= 0',
    'bad_model': "deck.toml: model = 'plateing': must be one of lattice_gas, microstructure, plating",
    'zero_direction': 'deck.toml: field.direction = [0.0, 0.0, 0.0]: must not be the zero vector',
    'section_not_table': 'deck.toml: conditions = 3: expected a table [conditions]',
    'periodic_small': 'deck.toml: lattice.shape = [2, 8]: a periodic axis needs at least 3 sites',
    'nan': 'deck.toml: run.observations = nan: expected an integer',
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_deck_message(name):
    with pytest.raises(ConfigError) as info:
        loads_deck(CASES[name], "deck.toml")
    message = str(info.value)
    assert message == MESSAGES[name]
    assert "\n" not in message


def test_base_deck_is_valid_and_in_si():
    deck = loads_deck(BASE, "deck.toml")
    assert deck.lattice.spacing == pytest.approx(0.5e-9, rel=1e-12)
    assert deck.conditions.temperature == pytest.approx(298.15, rel=1e-12)
    assert deck.run.duration == pytest.approx(1e-6, rel=1e-12)
    assert deck.lattice.shape == (8, 8)


def test_units_are_converted():
    text = BASE.replace('"0.5 nm"', '"5 angstrom"').replace('"25 degC"', '"77 degF"')
    deck = loads_deck(text, "deck.toml")
    assert deck.lattice.spacing == pytest.approx(0.5e-9, rel=1e-12)
    assert deck.conditions.temperature == pytest.approx(298.15, rel=1e-12)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_deck(tmp_path / "nope.toml")
    assert str(info.value) == f"{tmp_path / 'nope.toml'}: deck not found"


def test_binary_file(tmp_path):
    path = tmp_path / "deck.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError) as info:
        load_deck(path)
    assert str(info.value).startswith(f"{path}: cannot read deck (UnicodeDecodeError: ")


@pytest.mark.parametrize("replace,message", [
    (('shape = [8, 8]', 'shape = 8'), "deck.toml: lattice.shape = 8: expected a list of integers"),
    (('periodic = [true, true]', 'periodic = [1, 1]'),
     "deck.toml: lattice.periodic[0] = 1: expected true or false"),
    (('[run]', '[field]\ndirection = "x"\n[run]'),
     "deck.toml: field.direction = 'x': expected a list of numbers"),
])
def test_list_entries(replace, message):
    with pytest.raises(ConfigError) as info:
        loads_deck(BASE.replace(*replace), "deck.toml")
    assert str(info.value) == message


# --- validation in the dataclasses themselves ----------------------------------------------


@pytest.mark.parametrize("make,message", [
    (lambda: RunConfig(duration=-1.0), "run.duration = -1 s: out of range, must be > 0 s"),
    (lambda: RunConfig(duration="1 us"), "run.duration = '1 us': expected a finite number in s (SI)"),
    (lambda: RunConfig(seed=True), "run.seed = True: expected an integer"),
    (lambda: RunConfig(engine="cyton"),
     "run.engine = 'cyton': must be one of cython, reference; did you mean 'cython'?"),
    (lambda: ConditionsConfig(temperature=100.0),
     "conditions.temperature = 100 K: out of range, must be in [150, 600] K"),
    (lambda: ConditionsConfig(applied_stress=(1.0, 2.0)),
     "conditions.applied_stress = [1.0, 2.0]: expected a list of 3 items, got 2"),
    (lambda: LatticeConfig(shape=(2, 8)), "lattice.shape = [2, 8]: a periodic axis needs at least 3 sites"),
    (lambda: PoresConfig(fraction=0.7), "microstructure.pores.fraction = 0.7: out of range, must be in [0, 0.5]"),
    (lambda: MicrostructureConfig(pores=3),
     "microstructure.pores = 3: expected a PoresConfig ([microstructure.pores] section)"),
    (lambda: MicrostructureConfig(kind="import"),
     "microstructure.import_path: required when microstructure.kind = 'import'"),
    (lambda: FieldConfig(direction=(0, 0, 0)), "field.direction = [0.0, 0.0, 0.0]: must not be the zero vector"),
    (lambda: ProtocolConfig(kind="cycling", current_density=-1.0),
     "protocol.current_density = -1 A/m^2: must be > 0 for kind = 'cycling'"),
    (lambda: OutputConfig(figure="a.xyz"),
     "output.figure = 'a.xyz': must end in .png, .pdf or .svg (or be empty for none)"),
])
def test_direct_construction_is_validated(make, message):
    with pytest.raises(ConfigError) as info:
        make()
    assert str(info.value) == message


def test_dataclasses_replace_is_validated():
    deck = loads_deck(BASE, "deck.toml")
    with pytest.raises(ConfigError) as info:
        dataclasses.replace(deck.conditions, temperature=1000.0)
    assert str(info.value) == "conditions.temperature = 1000 K: out of range, must be in [150, 600] K"
    with pytest.raises(ConfigError) as info:  # the deck's own checks run too
        dataclasses.replace(deck, run=dataclasses.replace(deck.run, duration=None))
    assert str(info.value) == "run.duration: missing required key (simulated time to run)"


def test_direct_construction_normalises_and_equals_the_loaded_deck():
    deck = loads_deck(BASE, "deck.toml")
    built = decks.LatticeGasDeck(model="lattice_gas", lattice=LatticeConfig(shape=[8, 8], periodic=[True, True]),
                                 run=RunConfig(seed=1, duration=1e-6),
                                 conditions=ConditionsConfig(temperature=deck.conditions.temperature))
    assert built == deck
    assert built.lattice.shape == (8, 8) and isinstance(RunConfig(duration=1).duration, float)


def test_shared_sections_and_defaults():
    assert decks.PlatingRunConfig is decks.SeedConfig is RunConfig
    assert decks.PlatingConditionsConfig is ConditionsConfig
    assert RunConfig().checkpoint_interval == 120.0 and RunConfig().duration is None
    micro = load_deck(next(p for p in INPUTS if p.stem == "llzo_microstructure_2d"))
    assert micro.run.seed == 7 and micro.run.duration is None


# --- deck.replace and --set ------------------------------------------------------------------

def test_replace_converts_units_and_leaves_the_original():
    deck = loads_deck(BASE, "deck.toml")
    hot = deck.replace("conditions.temperature", "60 degC")
    assert hot.conditions.temperature == pytest.approx(333.15, rel=1e-12)
    assert deck.conditions.temperature == pytest.approx(298.15, rel=1e-12)
    assert hot.replace("conditions.temperature", "25 degC") == deck


def test_replace_several_values():
    deck = loads_deck(BASE, "deck.toml")
    a = deck.replace({"run.seed": 3, "lattice_gas.coverage": 0.2, "field.kind": "pulsed"})
    b = deck.replace(run__seed=3, lattice_gas__coverage=0.2, field__kind="pulsed")
    c = deck.replace(**{"run.seed": 3, "lattice_gas": {"coverage": 0.2}, "field.kind": "pulsed"})
    assert a == b == c
    assert (a.run.seed, a.lattice_gas.coverage, a.field.kind) == (3, 0.2, "pulsed")
    assert deck.replace("field", FieldConfig(amplitude=1e7)).field.amplitude == 1e7


def test_replace_changes_checked_together():
    """Dependent values change in one call: the cross checks see the new deck as a whole."""
    deck = load_deck(next(p for p in INPUTS if p.stem == "llzo_ideal_2d"))
    narrow = deck.replace({"cell.width": "20 um", "microstructure.flaws.x_positions": ["5 um", "15 um"]})
    assert narrow.cell.sites() == (40, 1, 80)
    with pytest.raises(ConfigError) as info:
        deck.replace("cell.width", "20 um")
    xs = list(deck.microstructure.flaws.x_positions)  # 10 and 30 um after unit conversion
    assert str(info.value) == f"microstructure.flaws.x_positions = {xs}: must lie in [0, 2e-05) m"


@pytest.mark.parametrize("key,value,message", [
    ("conditions.temprature", "60 degC",
     "conditions.temprature: unknown key; did you mean 'temperature'? (allowed in conditions: "
     "temperature, stack_pressure, applied_stress, magnetic_field)"),
    ("lattice_gass.coverage", 0.1,
     "lattice_gass: unknown key; did you mean 'lattice_gas'? (allowed in the deck: model, lattice, "
     "run, lattice_gas, field, conditions, output)"),
    ("run.seed.x", 1, "run.seed.x: unknown key (run.seed is a value, not a table)"),
    ("run", 3, "run = 3: expected a table [run]"),
    ("conditions.temperature", "-300 degC",
     "conditions.temperature = '-300 degC' (= -26.85 K): out of range, must be in [150, 600] K"),
    ("conditions.temperature", 300, "conditions.temperature = 300: a unit is required, e.g. '300 K'"),
    ("run.engine", "cyton", "run.engine = 'cyton': must be one of cython, reference; did you mean 'cython'?"),
    ("field.direction", [0, 0, 1], "field.direction = [0.0, 0.0, 1.0]: a 2D lattice has no z component"),
    ("field.period", "1 fs",
     "field.period = 1e-15 s: more than 1e8 pulses in run.duration = 1e-06 s"),
    ("run.checkpoint_interval", "1 min",
     "run.checkpoint_interval = 60 s: not used by lattice_gas decks; remove the key"),
    ("conditions.stack_pressure", "1 MPa",
     "conditions.stack_pressure = 1e+06 Pa: not used by lattice_gas decks; remove the key"),
])
def test_replace_errors_are_one_line(key, value, message):
    deck = loads_deck(BASE.replace("[run]", '[field]\nkind = "pulsed"\n[run]'), "deck.toml")
    with pytest.raises(ConfigError) as info:
        deck.replace(key, value)
    assert str(info.value) == message


def test_replace_runs_the_plating_cross_checks():
    deck = load_deck(next(p for p in INPUTS if p.stem == "llzo_ideal_2d"))
    assert deck.replace("protocol.kind", "pulsed").protocol.kind == "pulsed"
    fast = {"kind": "pulsed", "period": "1 ps", "pulses": "averaged"}
    assert deck.replace("protocol", fast).protocol.pulses == "averaged"
    for key, value, message in [
        ("microstructure.flaws.depth", "40 um", "microstructure.flaws.depth = 4e-05 m: must be less "
         "than the thickness 4e-05 m (the flaw would short the cell)"),
        ("protocol", {"kind": "pulsed", "period": "1 ps"},
         "protocol.period = 1e-12 s: more than 1e9 pulses in run.duration = 300 s; for pulses "
         "much shorter than the time between events set protocol.pulses = \"averaged\""),
        ("microstructure.inclusion.centre", ["1 um", "2 um", "3 um"],
         "microstructure.inclusion.centre = [1e-06, 2e-06, 3e-06]: needs (x, z)"),
        ("run.debug_rebuild_every", 5, "run.debug_rebuild_every = 5: not used by plating decks; remove the key"),
    ]:
        with pytest.raises(ConfigError) as info:
            deck.replace(key, value)
        assert str(info.value) == message


def test_microstructure_deck_takes_only_the_seed_from_run():
    text = next(p for p in INPUTS if p.stem == "llzo_microstructure_2d").read_text()
    with pytest.raises(ConfigError) as info:
        loads_deck(text.replace("seed = 7", 'seed = 7\nduration = "1 s"'), "deck.toml")
    assert str(info.value) == "deck.toml: run.duration = 1 s: not used by microstructure decks; remove the key"
    assert loads_deck(text, "deck.toml").replace("run.seed", 8).run.seed == 8


@pytest.mark.parametrize("text,expected", [
    ("run.seed=3", ("run.seed", 3)),
    ("plating.creep=false", ("plating.creep", False)),
    ("protocol.current_density=5 A/m^2", ("protocol.current_density", "5 A/m^2")),  # shell ate the quotes
    ('protocol.current_density="5 A/m^2"', ("protocol.current_density", "5 A/m^2")),
    ("conditions.temperature = '60 degC'", ("conditions.temperature", "60 degC")),
    ("run.engine=reference", ("run.engine", "reference")),
    ("output.figure=", ("output.figure", "")),
    ('microstructure.flaws.x_positions=["5 um", "15 um"]',
     ("microstructure.flaws.x_positions", ["5 um", "15 um"])),
    ('material.li_metal={ creep_reference_stress = "95 MPa" }',
     ("material.li_metal", {"creep_reference_stress": "95 MPa"})),
    ("lattice_gas.coverage=0.25", ("lattice_gas.coverage", 0.25)),
    ("output.dataset=a=b.nc", ("output.dataset", "a=b.nc")),
    ("run.seed=3\n[x]", ("run.seed", "3\n[x]")),  # one value only, never a table
])
def test_parse_override(text, expected):
    assert parse_override(text) == expected


@pytest.mark.parametrize("text", ["run.seed", "=3", "run..seed=3", "run.seed x=3", "1run=3"])
def test_parse_override_needs_a_dotted_key(text):
    with pytest.raises(ConfigError) as info:
        parse_override(text)
    assert str(info.value) == (f"--set {text!r}: expected KEY=VALUE with a dotted KEY, e.g. "
                               "run.seed=3 or conditions.temperature='60 degC'")


def test_overrides_from_the_command_line_apply():
    deck = load_deck(next(p for p in INPUTS if p.stem == "llzo_ideal_2d"))
    sets = ["protocol.current_density=5 A/m^2", "run.seed=3", "plating.creep=false",
            "conditions.temperature=60 degC"]
    new = deck.replace(dict(parse_override(s) for s in sets))
    assert (new.protocol.current_density, new.run.seed, new.plating.creep) == (5.0, 3, False)
    assert new.conditions.temperature == pytest.approx(333.15, rel=1e-12)


# --- the shipped decks -----------------------------------------------------------------------

@pytest.mark.parametrize("path", INPUTS, ids=[p.stem for p in INPUTS])
def test_every_shipped_deck_loads_and_round_trips(path):
    deck = load_deck(path)
    assert isinstance(deck, decks.DECKS[deck.model])
    assert from_dict(json.loads(json.dumps(as_dict(deck)))) == deck
    assert deck.replace({}) == deck
