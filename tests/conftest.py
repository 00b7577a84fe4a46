"""Shared fixtures. Seeds are fixed so every run is exactly reproducible."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def small_deck_text():
    """A fast lattice-gas deck (2D, pulsed field, disorder) as TOML text."""
    return (ROOT / "inputs" / "lattice_gas_2d.toml").read_text().replace(
        "shape = [200, 200]", "shape = [24, 20]").replace(
        'duration = "100 us"', 'duration = "30 us"').replace(
        "observations = 201", "observations = 31").replace(
        'site_energy_spread = "0 eV"', 'site_energy_spread = "0.02 eV"')
