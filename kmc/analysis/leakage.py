"""Electronic leakage of a cell from its dataset, and the reference cell of the calibration
(MODEL.md 10.7, VALIDATION.md D5).

The run records the net electronic current out of the side of electrode A
(``leakage_current`` [A], :class:`kmc.electrons.ElectronFluxes`) and the cell voltage; the
whole cell then leaks like a conductor of conductivity I L / (V A), to be set beside the
measured electronic conductivity sigma_e of the material.
"""
from __future__ import annotations

import xarray as xr

#: The reference cell on which ``electron_leak_path_factor`` is calibrated
#: (analysis/calibrate_leak.py): 2D, 40 um between Li electrodes in full contact (a polished
#: pellet), >= four grains wide, 0.5 um sites, Voronoi grains of the material's size, no
#: flaws, 1 mA/cm^2, at the material's reference temperature, observed at t = 0.
REFERENCE_CELL = """
model = "plating"
[cell]
dimension = 2
thickness = "40 um"
width = "{width} um"
spacing = "0.5 um"
[microstructure]
kind = "voronoi"
grain_size = "{grain} um"
seeds = "hardcore"
[material]
name = "{material}"
[conditions]
temperature = "{temperature} K"
[protocol]
current_density = "1 mA/cm^2"
[plating]
electron_leak = true
[run]
duration = "1 ms"
observations = 2
seed = {seed}
"""


def reference_cell(material: str, seed: int, temperature: float | None = None):
    """The deck of the reference cell (:data:`REFERENCE_CELL`) of a bundled material with
    microstructure ``seed``, at ``temperature`` [K] (default: the material's reference)."""
    from ..deck import loads_deck
    from ..materials import load_material

    mat = load_material(material)
    grain = mat.values["grain_size"].value * 1e6
    width = max(40.0, 2.0 * round(2 * grain))  # >= four grains, whole sites
    temperature = mat.reference_temperature if temperature is None else temperature
    return loads_deck(REFERENCE_CELL.format(material=material, width=width, grain=grain,
                                            temperature=temperature, seed=seed))


def leakage_conductivity(ds: xr.Dataset) -> xr.DataArray:
    """The cell's apparent electronic conductivity sigma_cell = I_leak L / (V A) [S/m] at every
    observation: L the electrode distance (z), A the electrode area (x, and y in 3D; the 2D
    slab is one site deep), from the site spacing ``spacing_m`` of a ``kmc run`` dataset.

    Raises
    ------
    KeyError
        If the dataset has no ``leakage_current`` (a run without the electron leak).
    """
    h = float(ds.attrs["spacing_m"])
    length = ds.sizes["z"] * h
    area = ds.sizes["x"] * ds.sizes.get("y", 1) * h * h
    sigma = ds["leakage_current"] * length / (ds["voltage"] * area)
    return sigma.assign_attrs(units="S m-1", long_name="apparent electronic conductivity "
                              "I_leak L / (V A) of the whole cell")
