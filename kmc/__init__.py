"""Field-coupled kinetic Monte Carlo of Li plating through polycrystalline solid electrolytes.

The package follows the model (``MODEL.md``; docs/architecture.md): deck -> cell
(microstructure, graph, material) -> simulation -> events -> field -> kernel -> observables ->
dataset. A notebook needs a few names::

    import kmc
    deck = kmc.load_deck("llzo_polycrystal_2d")     # a bundled deck, or a TOML file
    cell = kmc.Cell.from_deck(deck)                 # built once, reused
    sim = kmc.Simulation.from_deck(deck.replace("conditions.stack_pressure", "5 MPa"), cell=cell)
    ds = sim.run().to_dataset()                     # xarray, CF units
    ens = kmc.Ensemble(deck, replicas=4)            # sweeps and replicas ([ensemble])

The public names are imported on first use, so ``import kmc`` (and the ``kmc`` command, which
limits BLAS to one thread before numpy loads) stays light. The compiled kernels live in
``kmc._*`` extension modules built from ``ext/*.pyx``; :func:`kmc.engine.compiled` loads them
with a clear error if they are missing.
"""
import importlib
import logging

from .version import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

#: public name -> module that defines it
_PUBLIC = {"Cell": "cell", "Ensemble": "ensemble", "load_deck": "deck", "loads_deck": "deck",
           "KmcError": "errors", "Result": "result", "Simulation": "simulation", "simulate": "simulation"}

__all__ = sorted(_PUBLIC) + ["__version__"]


def __getattr__(name):
    if name in _PUBLIC:
        return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
