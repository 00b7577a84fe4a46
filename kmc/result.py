"""The result of a plating run (:class:`Result`): what :meth:`kmc.simulation.Simulation.run`
returns, in SI units, and its dataset (:mod:`kmc.output`)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .cell import Cell


@dataclass
class Result:
    """What a plating run returns: the deck (None for a simulation built from objects) and the
    configuration as plain data (the deck's, or the sections given), the cell, observation time
    series, snapshots and scalars (SI units, :mod:`kmc.observables`), the stop reason, the wall
    time [s] and its profile (seconds per part, solves, labellings, events)."""

    deck: object
    config: dict
    cell: Cell
    quantum: float
    observations: dict
    snapshots: dict
    scalars: dict
    stop_reason: str
    wall_time: float
    profile: dict = field(default_factory=dict)

    graph = property(lambda self: self.cell.graph, doc="The site graph.")
    micro = property(lambda self: self.cell.microstructure, doc="The microstructure.")
    material = property(lambda self: self.cell.resolved, doc="The resolved electrolyte set.")
    area = property(lambda self: self.cell.area, doc="Electrode area [m^2].")

    def to_dataset(self, command: str | None = None):
        """The run as an :class:`xarray.Dataset` (:func:`kmc.output.plating_dataset`);
        ``command`` is its history entry (default: this call)."""
        from .output import plating_dataset

        return plating_dataset(self, command)
