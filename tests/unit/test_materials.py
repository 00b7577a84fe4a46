"""Material sets: provenance of every value, SI values against PARAMETERS.md, Arrhenius
temperature dependence, and one-line error messages (asserted whole).

Reference numbers are recomputed here from PARAMETERS.md with CODATA constants from
scipy.constants, independently of kmc.units.
"""
import dataclasses
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
from scipy import constants

from kmc import materials
from kmc.errors import ConfigError
from kmc.materials import (
    LI_METAL_PROPERTIES,
    PROPERTIES,
    MaterialValue,
    ResolvedMaterial,
    available_materials,
    load_li_metal,
    load_material,
    resolve,
)

K_B_EV = constants.k / constants.e  # eV/K
GAS_CONSTANT = constants.R  # J/(mol K)
FARADAY = constants.physical_constants["Faraday constant"][0]  # C/mol
MATERIALS_DIR = Path(__file__).resolve().parents[2] / "inputs" / "materials"

ELECTROLYTES = ["li3ps4", "li6ps5cl", "lipon", "llzo", "llzo_single_crystal"]
HEADERS = {
    "llzo": ("polycrystalline", "cubic"),
    "llzo_single_crystal": ("single_crystal", "cubic"),
    "li6ps5cl": ("polycrystalline", "cubic"),
    "li3ps4": ("polycrystalline", "orthorhombic"),
    "lipon": ("amorphous", "none"),
}
FILE_TAGS = {"S", "R", "R2", "D", "E"}
CONDUCTIVITIES = {
    "ionic_conductivity": "ionic_activation_energy",
    "gb_ionic_conductivity": "gb_ionic_activation_energy",
    "electronic_conductivity": "electronic_activation_energy",
}
EXCHANGE_CURRENTS = ("exchange_current_density", "internal_exchange_current_density")
TEMPERATURES = np.array([233.15, 263.15, 298.0, 333.15, 373.15])  # -40 C to 100 C


def all_sets():
    return {name: load_material(name) for name in ELECTROLYTES} | {"li_metal": load_li_metal()}


# ---------------------------------------------------------------------------------------
# Loading and provenance
# ---------------------------------------------------------------------------------------

def test_available_materials_lists_the_electrolytes_only():
    assert available_materials() == ELECTROLYTES


@pytest.mark.parametrize("name", ELECTROLYTES)
def test_every_electrolyte_loads_with_every_property_in_si(name):
    material = load_material(name)
    assert material.name == name
    assert (material.structure, material.crystal_symmetry) == HEADERS[name]
    assert material.reference_temperature == 298.0
    assert list(material.values) == list(PROPERTIES)
    for prop, spec in PROPERTIES.items():
        info = material.value_info(prop)
        assert info.unit == spec.unit
        assert spec.lo <= info.value <= spec.hi
        assert getattr(material, prop) == info.value


def test_li_metal_loads_with_its_own_table():
    li = load_li_metal()
    assert li.name == "li_metal"
    assert list(li.values) == list(LI_METAL_PROPERTIES)
    assert all(li.value_info(p).unit == spec.unit for p, spec in LI_METAL_PROPERTIES.items())


@pytest.mark.parametrize("name", ELECTROLYTES + ["li_metal"])
def test_every_value_has_a_source_and_tag_and_e_means_estimate(name):
    material = all_sets()[name]
    for prop, info in material.values.items():
        assert info.source.strip(), prop
        assert info.tag in FILE_TAGS, prop
        assert info.estimate == (info.tag == "E"), prop


@pytest.mark.parametrize("name", ["llzo", "llzo_single_crystal", "li6ps5cl", "li3ps4"])
def test_trap_depths_are_flagged_estimates(name):
    material = load_material(name)
    for prop in ("trap_depth_gb", "trap_depth_triple_junction", "trap_depth_pore"):
        assert material.value_info(prop).estimate, prop


# ---------------------------------------------------------------------------------------
# Values against PARAMETERS.md
# ---------------------------------------------------------------------------------------

def test_llzo_values_match_parameters():
    llzo = load_material("llzo")
    assert llzo.ionic_conductivity == pytest.approx(0.46e-3 / 1e-2, rel=1e-12)  # 0.46 mS/cm
    assert llzo.gb_ionic_conductivity == pytest.approx(5.97e-6 / 1e-2, rel=1e-12)
    assert llzo.gb_thickness == pytest.approx(10e-9, rel=1e-12)
    assert llzo.ionic_activation_energy == pytest.approx(0.34, rel=1e-12)
    assert llzo.electronic_conductivity == pytest.approx(1e-8 / 1e-2, rel=1e-12)
    assert llzo.band_gap == pytest.approx(6.0, rel=1e-12)
    assert llzo.youngs_modulus == pytest.approx(150e9, rel=1e-12)
    assert llzo.shear_modulus == pytest.approx(59.6e9, rel=1e-12)
    assert llzo.fracture_toughness == pytest.approx(1.0e6, rel=1e-12)
    assert llzo.gb_fracture_toughness == pytest.approx(0.5e6, rel=1e-12)
    assert llzo.grain_size == pytest.approx(2.8e-6, rel=1e-12)
    # Poisson ratio (tag D) is consistent with the moduli: nu = E/(2G) - 1
    assert llzo.poisson_ratio == pytest.approx(150 / (2 * 59.6) - 1, rel=1e-2)
    # i0 = RT/(F*ASR) with ASR = 2 ohm cm^2 = 2e-4 ohm m^2 (Sharafi 2017): 12.8 mA/cm^2
    i0 = GAS_CONSTANT * 298.0 / (FARADAY * 2e-4)
    assert i0 == pytest.approx(12.8e-3 / 1e-4, rel=1e-2)
    assert llzo.exchange_current_density == pytest.approx(i0, rel=1e-2)


def test_li_metal_values_match_parameters():
    li = load_li_metal()
    assert li.molar_volume == pytest.approx(13.0e-6, rel=1e-12)
    f_over_vm = FARADAY / li.molar_volume  # Pa per V of overpotential
    assert f_over_vm == pytest.approx(7.42e6 / 1e-3, rel=2e-2)  # 7.42 MPa/mV
    assert f_over_vm == pytest.approx(7.34e6 / 1e-3, rel=2e-2)  # PARAMETERS.md (V_m = 13.148)
    assert 1 / f_over_vm == pytest.approx(135e-3 / 1e9, rel=1e-2)  # 135 mV per GPa (seed 002)
    assert li.youngs_modulus == pytest.approx(7.8e9, rel=1e-12)
    assert li.shear_modulus == pytest.approx(2.83e9, rel=1e-12)
    assert li.yield_strength == pytest.approx(0.73e6, rel=1e-12)
    assert li.yield_strength_micropillar == pytest.approx(95e6, rel=1e-12)
    assert li.creep_rate_prefactor == pytest.approx(0.01, rel=1e-12)
    assert li.creep_reference_stress == pytest.approx(1e6, rel=1e-12)
    assert li.creep_exponent == pytest.approx(5.0, rel=1e-12)
    assert li.creep_activation_energy == pytest.approx(37e3, rel=1e-12)
    assert li.self_diffusion_coefficient == pytest.approx(8e-15, rel=1e-12)


def test_other_electrolytes_match_parameters():
    lpscl, lps, lipon = (load_material(n) for n in ("li6ps5cl", "li3ps4", "lipon"))
    assert 1.6e-1 <= lpscl.ionic_conductivity <= 2.0e-1  # 1.6-2.0 mS/cm
    assert lpscl.gb_ionic_conductivity == lpscl.ionic_conductivity  # r = 1
    assert lpscl.youngs_modulus == pytest.approx(22e9, rel=1e-12)
    assert lpscl.fracture_toughness == pytest.approx(0.23e6, rel=1e-12)
    assert lps.ionic_conductivity == pytest.approx(1.6e-4 / 1e-2, rel=1e-12)
    assert lps.gb_ionic_conductivity > lps.ionic_conductivity  # GBs faster in Li3PS4
    assert 1e-6 / 1e-2 <= lipon.ionic_conductivity <= 1.6e-6 / 1e-2
    assert lipon.electronic_conductivity == pytest.approx(1e-15 / 1e-2, rel=1e-12)
    assert lipon.youngs_modulus == pytest.approx(77e9, rel=1e-12)
    assert load_material("llzo_single_crystal").fracture_toughness == pytest.approx(0.6e6,
                                                                                   rel=1e-12)


def test_lipon_grain_boundary_values_equal_bulk_and_say_not_applicable():
    lipon = load_material("lipon")
    for gb, bulk in [("gb_ionic_conductivity", "ionic_conductivity"),
                     ("gb_ionic_activation_energy", "ionic_activation_energy"),
                     ("gb_band_gap", "band_gap"),
                     ("gb_fracture_toughness", "fracture_toughness")]:
        assert getattr(lipon, gb) == getattr(lipon, bulk)
    assert lipon.gb_modulus_ratio == 1.0
    for prop in ("gb_ionic_conductivity", "gb_ionic_activation_energy", "gb_thickness",
                 "gb_band_gap", "gb_modulus_ratio", "gb_fracture_toughness", "trap_depth_gb",
                 "trap_depth_triple_junction", "grain_size"):
        assert lipon.value_info(prop).note.startswith("not applicable: no grain boundaries"), prop


def test_single_crystal_shares_the_bulk_values_of_llzo():
    llzo, crystal = load_material("llzo"), load_material("llzo_single_crystal")
    for prop in PROPERTIES.keys() - {"fracture_toughness", "grain_size"}:
        assert getattr(crystal, prop) == getattr(llzo, prop), prop
    assert crystal.grain_size > 1e-3  # one grain larger than any simulated cell


# ---------------------------------------------------------------------------------------
# Temperature dependence
# ---------------------------------------------------------------------------------------

def test_resolved_fields_are_the_properties_plus_derived_quantities():
    names = [f.name for f in dataclasses.fields(ResolvedMaterial)]
    assert names == ["temperature", "reference_temperature", *PROPERTIES, "gb_youngs_modulus",
                     "gb_ionic_conductance_ratio", "thermal_voltage"]


@pytest.mark.parametrize("name", ELECTROLYTES)
def test_resolve_at_reference_temperature_changes_nothing(name):
    material = load_material(name)
    resolved = resolve(material, material.reference_temperature)
    for prop in PROPERTIES:
        assert getattr(resolved, prop) == pytest.approx(getattr(material, prop), rel=1e-15)


@pytest.mark.parametrize("name", ELECTROLYTES)
def test_resolve_ratio_between_two_temperatures_follows_arrhenius(name):
    material = load_material(name)
    t1, t2 = 253.15, 353.15
    r1, r2 = resolve(material, t1), resolve(material, t2)
    for sigma, energy in CONDUCTIVITIES.items():
        expected = (t1 / t2) * math.exp(-getattr(material, energy) / K_B_EV * (1 / t2 - 1 / t1))
        assert getattr(r2, sigma) / getattr(r1, sigma) == pytest.approx(expected, rel=1e-12)
    expected = math.exp(-material.exchange_current_activation_energy / K_B_EV * (1 / t2 - 1 / t1))
    for i0 in EXCHANGE_CURRENTS:
        assert getattr(r2, i0) / getattr(r1, i0) == pytest.approx(expected, rel=1e-12)
    for prop in ("youngs_modulus", "band_gap", "fracture_toughness", "trap_depth_pore"):
        assert getattr(r2, prop) == getattr(material, prop)


@pytest.mark.parametrize("name", ELECTROLYTES)
def test_fitted_activation_energy_recovers_the_input(name):
    material = load_material(name)
    resolved = [resolve(material, t) for t in TEMPERATURES]
    for sigma, energy in CONDUCTIVITIES.items():
        y = np.log([getattr(r, sigma) for r in resolved] * TEMPERATURES)  # ln(sigma*T)
        slope = np.polyfit(1 / TEMPERATURES, y, 1)[0]
        assert -slope * K_B_EV == pytest.approx(getattr(material, energy), rel=1e-9)
    for i0 in EXCHANGE_CURRENTS:
        slope = np.polyfit(1 / TEMPERATURES, np.log([getattr(r, i0) for r in resolved]), 1)[0]
        assert -slope * K_B_EV == pytest.approx(material.exchange_current_activation_energy,
                                                rel=1e-9)


def test_derived_quantities():
    llzo = load_material("llzo")
    resolved = resolve(llzo, 350.0)
    assert resolved.gb_youngs_modulus == pytest.approx(0.5 * 150e9, rel=1e-12)
    assert resolved.thermal_voltage == pytest.approx(K_B_EV * 350.0, rel=1e-12)
    ratio = (resolved.gb_ionic_conductivity / 10e-9) / (resolved.ionic_conductivity / 2.8e-6)
    assert resolved.gb_ionic_conductance_ratio == pytest.approx(ratio, rel=1e-12)
    assert resolved.temperature == 350.0


def test_resolve_rejects_a_non_positive_temperature():
    with pytest.raises(ConfigError) as info:
        resolve(load_material("llzo"), -5.0)
    assert str(info.value) == "temperature = -5.0: must be a finite number > 0 K"


# ---------------------------------------------------------------------------------------
# Names, paths, overrides, directories
# ---------------------------------------------------------------------------------------

def test_names_are_case_insensitive_and_paths_work():
    llzo = load_material("llzo")
    assert load_material("LLZO") == llzo
    assert load_material(MATERIALS_DIR / "llzo.toml") == llzo
    assert load_material(str(MATERIALS_DIR / "llzo.toml")) == llzo


def test_overrides_replace_values_and_record_provenance():
    llzo = load_material("llzo")
    changed = load_material("llzo", {"band_gap": "5.5 eV", "gb_modulus_ratio": 0.6})
    assert changed.value_info("band_gap") == MaterialValue(
        5.5, "eV", "override", "deck override", False, "replaces 6 eV (tag R)")
    assert changed.value_info("gb_modulus_ratio") == MaterialValue(
        0.6, "", "override", "deck override", False, "replaces 0.5 (tag R)")
    for prop in PROPERTIES.keys() - {"band_gap", "gb_modulus_ratio"}:
        assert changed.value_info(prop) == llzo.value_info(prop)
    li = load_li_metal({"creep_exponent": 6.6})
    assert li.creep_exponent == 6.6
    assert li.value_info("creep_exponent").tag == "override"


def test_environment_variable_selects_the_materials_directory(tmp_path, monkeypatch):
    (tmp_path / "garnet.toml").write_text((MATERIALS_DIR / "llzo.toml").read_text())
    monkeypatch.setenv("KMC_MATERIALS_DIR", str(tmp_path))
    assert available_materials() == ["garnet"]
    assert load_material("garnet").values == load_material("llzo", directory=MATERIALS_DIR).values


def test_material_survives_pickling():
    llzo = load_material("llzo", {"band_gap": "5 eV"})
    assert pickle.loads(pickle.dumps(llzo)) == llzo


# ---------------------------------------------------------------------------------------
# Error messages (whole strings)
# ---------------------------------------------------------------------------------------

ALL_PROPERTIES = (
    "ionic_conductivity, ionic_activation_energy, gb_ionic_conductivity, "
    "gb_ionic_activation_energy, ionic_mobility, gb_thickness, electronic_conductivity, "
    "electronic_activation_energy, electron_leak_path_factor, band_gap, gb_band_gap, "
    "crack_band_gap, youngs_modulus, shear_modulus, poisson_ratio, gb_modulus_ratio, fracture_toughness, "
    "gb_fracture_toughness, trap_depth_gb, trap_depth_triple_junction, trap_depth_pore, "
    "exchange_current_density, exchange_current_activation_energy, "
    "internal_exchange_current_density, grain_size"
)

DECK_CASES = {
    "unknown_material": (
        lambda: load_material("llzoo"),
        "material.name = 'llzoo': unknown material; did you mean 'llzo'? "
        "(available: li3ps4, li6ps5cl, lipon, llzo, llzo_single_crystal)"),
    "unknown_material_no_match": (
        lambda: load_material("Garnet"),
        "material.name = 'Garnet': unknown material "
        "(available: li3ps4, li6ps5cl, lipon, llzo, llzo_single_crystal)"),
    "unknown_override": (
        lambda: load_material("llzo", {"band_gapp": "3 eV"}),
        "material.overrides.band_gapp: unknown property; did you mean 'band_gap'?"),
    "unknown_override_no_match": (
        lambda: load_material("llzo", {"colour": "red"}),
        f"material.overrides.colour: unknown property (allowed: {ALL_PROPERTIES})"),
    "override_wrong_unit": (
        lambda: load_material("llzo", {"band_gap": "3 V"}),
        "material.overrides.band_gap = '3 V': wrong unit, needs a quantity convertible to 'eV'"),
    "override_out_of_range": (
        lambda: load_material("llzo", {"ionic_conductivity": "2 kS/cm"}),
        "material.overrides.ionic_conductivity = '2 kS/cm' (= 200000 S/m): out of range, "
        "must be in [1e-12, 100] S/m"),
    "override_no_unit": (
        lambda: load_material("lipon", {"fracture_toughness": 1.2}),
        "material.overrides.fracture_toughness = 1.2: a unit is required, e.g. '1.2 Pa*m^0.5'"),
    "overrides_not_a_table": (
        lambda: load_material("llzo", "band_gap = 3 eV", key="electrolyte"),
        "electrolyte.overrides = 'band_gap = 3 eV': expected a table of property = \"value unit\""),
    "li_metal_unknown_override": (
        lambda: load_li_metal({"molar_volum": "13 cm^3/mol"}),
        "li_metal.overrides.molar_volum: unknown property; did you mean 'molar_volume'?"),
    "missing_file": (
        lambda: load_material("nowhere/llzo.toml"),
        "material.name = 'nowhere/llzo.toml': material file not found"),
    "not_a_name": (
        lambda: load_material(3),
        "material.name = 3: expected a material name or the path of a .toml file"),
}


@pytest.mark.parametrize("case", sorted(DECK_CASES))
def test_deck_error_message(case):
    call, message = DECK_CASES[case]
    with pytest.raises(ConfigError) as info:
        call()
    assert str(info.value) == message


def test_missing_directory_messages(tmp_path, monkeypatch):
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError) as info:
        load_material("llzo", directory=missing)
    assert str(info.value) == f"{missing}: materials directory not found (given as directory)"

    monkeypatch.setenv("KMC_MATERIALS_DIR", str(missing))
    with pytest.raises(ConfigError) as info:
        available_materials()
    assert str(info.value) == f"{missing}: materials directory not found (from KMC_MATERIALS_DIR)"

    monkeypatch.delenv("KMC_MATERIALS_DIR")
    monkeypatch.setattr(materials, "DEFAULT_MATERIALS_DIR", missing)
    with pytest.raises(ConfigError) as info:
        load_li_metal()
    assert str(info.value) == (
        f"{missing}: materials directory not found "
        "(the default next to the package; set KMC_MATERIALS_DIR or pass a directory)")


# Edits of llzo.toml: (text to replace, replacement, message after "<file>: ").
FILE_CASES = {
    "missing_source": (
        ', source = "Thompson et al. 2017, ACS Energy Lett."', "",
        "band_gap: every value needs a source"),
    "empty_source": (
        'source = "Thompson et al. 2017, ACS Energy Lett."', 'source = " "',
        "band_gap: every value needs a source"),
    "missing_tag": (
        'band_gap = { value = "6.0 eV", tag = "R",', 'band_gap = { value = "6.0 eV",',
        "band_gap: every value needs a tag (S, R, R2, D, E)"),
    "unknown_property": (
        "\nband_gap = {", "\nband_gapp = {",
        "band_gapp: unknown property; did you mean 'band_gap'?"),
    "unknown_property_no_match": (
        "\nband_gap = {", '\ncolour = "red"\nband_gap = {',
        "colour: unknown property (allowed: name, description, structure, crystal_symmetry, "
        f"reference_temperature, {ALL_PROPERTIES})"),
    "missing_property": (
        "\ngrain_size = {", "\n# grain_size = {",
        "grain_size: missing property (mean grain diameter d_g)"),
    "estimate_missing": (
        'gb_band_gap = { value = "3.0 eV", tag = "E", estimate = true,',
        'gb_band_gap = { value = "3.0 eV", tag = "E",',
        "gb_band_gap: tag 'E' needs estimate = true"),
    "estimate_without_e": (
        'band_gap = { value = "6.0 eV", tag = "R",',
        'band_gap = { value = "6.0 eV", tag = "R", estimate = true,',
        "band_gap: estimate = true needs tag 'E'"),
    "bad_tag": (
        'band_gap = { value = "6.0 eV", tag = "R",', 'band_gap = { value = "6.0 eV", tag = "R3",',
        "band_gap.tag = 'R3': must be one of S, R, R2, D, E"),
    "wrong_unit": (
        'band_gap = { value = "6.0 eV"', 'band_gap = { value = "6.0 V"',
        "band_gap.value = '6.0 V': wrong unit, needs a quantity convertible to 'eV'"),
    "out_of_range": (
        "poisson_ratio = { value = 0.257", "poisson_ratio = { value = 0.7",
        "poisson_ratio.value = 0.7: out of range, must be in [-1, 0.5]"),
    "missing_value": (
        'band_gap = { value = "6.0 eV", ', "band_gap = { ",
        "band_gap: missing value"),
    "plain_value": (
        "\ngrain_size = {", '\ngrain_size = "2.8 um"\n# {',
        "grain_size = '2.8 um': expected an inline table "
        '{ value = "...", tag = "...", source = "..." }'),
    "unknown_entry_key": (
        'source = "Thompson et al. 2017, ACS Energy Lett."',
        'sorce = "Thompson et al. 2017, ACS Energy Lett."',
        "band_gap.sorce: unknown key; did you mean 'source'? "
        "(allowed: value, tag, source, estimate, note)"),
    "bad_structure": (
        'structure = "polycrystalline"', 'structure = "polycrystaline"',
        "structure = 'polycrystaline': must be one of polycrystalline, single_crystal, "
        "amorphous; did you mean 'polycrystalline'?"),
    "missing_header": (
        'reference_temperature = "298 K"\n', "",
        "reference_temperature: missing required key "
        "(temperature T_ref at which the values are given)"),
    "syntax": (
        "\ngrain_size = {", "\noops\ngrain_size = {",
        "TOML syntax error: Expected '=' after a key in a key/value pair (at line 47, column 5)"),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_material_file_error_message(case, tmp_path):
    old, new, message = FILE_CASES[case]
    text = (MATERIALS_DIR / "llzo.toml").read_text()
    assert text.count(old) == 1
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_material(path)
    assert str(info.value) == f"{path}: {message}"
    assert "\n" not in str(info.value)


def test_li_metal_file_error_message(tmp_path):
    text = (MATERIALS_DIR / "li_metal.toml").read_text()
    (tmp_path / "li_metal.toml").write_text(text.replace('\nself_diffusion_coefficient = {',
                                                         '\nself_diffusion = {'))
    with pytest.raises(ConfigError) as info:
        load_li_metal(directory=tmp_path)
    assert str(info.value) == (f"{tmp_path / 'li_metal.toml'}: self_diffusion: unknown property; "
                               "did you mean 'self_diffusion_coefficient'?")
