"""Malformed input decks: each gives one line naming the key, the value and what is allowed."""
import pytest

from kmc.config import load_deck, loads_deck
from kmc.errors import ConfigError

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
    'neg_temperature': "deck.toml: conditions.temperature = '-5 K': out of range, must be in (0, 2000] K",
    'below_abs_zero': "deck.toml: conditions.temperature = '-300 degC' (= -26.85 K): out of range, must be in (0, 2000] K",
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
