"""Field-coupled kinetic Monte Carlo of Li plating through polycrystalline solid electrolytes.

The package follows the model (``MODEL.md``; docs/architecture.md): deck -> cell
(microstructure, graph, material) -> simulation -> events -> field -> kernel -> observables ->
dataset. A notebook needs five names::

    import kmc
    deck = kmc.load_deck("inputs/llzo_polycrystal_2d.toml")
    cell = kmc.Cell.from_deck(deck)                 # built once, reused
    sim = kmc.Simulation.from_deck(deck.replace("conditions.stack_pressure", "5 MPa"), cell=cell)
    ds = sim.run().to_dataset()                     # xarray, CF units

The compiled kernels live in ``kmc._*`` extension modules built from ``ext/*.pyx``;
:func:`kmc.engine.compiled` loads them with a clear error if they are missing.
"""
import logging

from .cell import Cell
from .deck import load_deck, loads_deck
from .errors import KmcError
from .simulation import Result, Simulation, simulate
from .version import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["Cell", "KmcError", "Result", "Simulation", "load_deck", "loads_deck", "simulate",
           "__version__"]
