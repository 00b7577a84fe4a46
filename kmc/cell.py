"""The cell: electrolyte microstructure, its site graph and its materials (MODEL.md sections 1-3).

A :class:`Cell` is built once (grains, features, graph) and reused by every simulation that
changes only kinetics: the protocol, the conditions, the event switches, the seed of the kinetic
stream (``run.seed`` of the simulation's deck; the cell keeps the deck it was built from, whose
seed made the microstructure). A run at another temperature takes :meth:`Cell.at` (the same
microstructure with the material resolved at that temperature).
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from .materials import Material, load_li_metal, load_material, resolve
from .microstructure import EDGE_GB, Microstructure, build
from .tessellation import random_orientations


class Cell:
    """Electrolyte slab between Li electrodes at z = 0 (A) and z = L (C).

    Parameters
    ----------
    microstructure : kmc.microstructure.Microstructure
        Grains, phases and features on the site lattice.
    material : kmc.materials.Material or str
        The electrolyte set (or its name in the bundled sets).
    li_metal : kmc.materials.Material, optional
        The Li-metal set (default: the bundled one).
    temperature : float
        T [K] at which the material is resolved (Arrhenius conductivities, exchange currents).

    Attributes
    ----------
    graph : kmc.graph.Graph
        Site graph in grid ("c") order with the material's per-site and per-edge data.
    resolved : kmc.materials.ResolvedMaterial
        The material at ``temperature``.
    deck : PlatingDeck or MicrostructureDeck or None
        The deck the cell was built from (:meth:`from_deck`); None for a cell from objects.
    """

    def __init__(self, microstructure: Microstructure, material, li_metal=None,
                 temperature: float = 298.15):
        self.microstructure = microstructure
        self.material = material if isinstance(material, Material) else load_material(material)
        self.li_metal = li_metal if li_metal is not None else load_li_metal()
        self.temperature = float(temperature)
        self.resolved = resolve(self.material, self.temperature)
        self.graph = microstructure.graph(order="c", material=self.resolved)
        self.deck = None

    @classmethod
    def from_deck(cls, deck) -> "Cell":
        """The cell of a deck's ``cell``, ``microstructure`` and ``material`` sections, built
        from the set-up stream ``SeedSequence(run.seed).spawn(2)[0]``, at the deck's
        temperature."""
        raw = load_material(deck.material.name, deck.material.overrides)
        li = load_li_metal(deck.material.li_metal, key="material.li_metal")
        cell = cls(build(deck, material=raw), raw, li, deck.conditions.temperature)
        cell.deck = deck
        return cell

    @classmethod
    def from_grains(cls, grain, spacing: float, material="llzo", phase=None, periodic=True,
                    li_metal=None, temperature: float = 298.15) -> "Cell":
        """A cell from a grain-id map (e.g. an EBSD or tomography import).

        Parameters
        ----------
        grain : ndarray of int, shape (nx, ny, nz)
            Grain id per site (ny = 1 for a 2D slab); z runs from electrode A to C.
        spacing : float
            Site edge h [m].
        phase : ndarray of uint8, optional
            SE (0), LI (1) or VOID (2) per site (default: all electrolyte).
        periodic : bool
            Periodic along x and y.
        """
        grain = np.asarray(grain, np.int32)
        if grain.ndim != 3:
            raise ValueError(f"grain map of shape {grain.shape}: needs (nx, ny, nz)")
        n = int(grain.max()) + 1
        phase = np.zeros(grain.shape, np.uint8) if phase is None else np.asarray(phase, np.uint8)
        micro = Microstructure(grain.shape, spacing, grain, phase,
                               random_orientations(np.random.default_rng(0), n),
                               np.full((n, 3), np.nan), periodic=(periodic, periodic, False))
        return cls(micro, material, li_metal, temperature)

    def at(self, temperature: float) -> "Cell":
        """This cell at another temperature [K] (same microstructure, material re-resolved)."""
        if temperature == self.temperature:
            return self
        cell = Cell(self.microstructure, self.material, self.li_metal, temperature)
        cell.deck = self.deck
        return cell

    @property
    def shape(self) -> tuple:
        """Sites along x, y, z."""
        return self.microstructure.shape

    @property
    def spacing(self) -> float:
        """Site edge h [m]."""
        return self.graph.spacing

    @property
    def dimension(self) -> int:
        """2 (a slab one site thick) or 3."""
        return self.microstructure.dimension

    @property
    def periodic(self) -> tuple:
        """Periodicity along x, y, z."""
        return self.microstructure.periodic

    @property
    def period(self) -> np.ndarray:
        """Period [m] along x, y, z (inf where not periodic), for :func:`kmc.graph.minimum_image`."""
        return np.array([n * self.spacing if p else np.inf
                         for n, p in zip(self.shape, self.periodic)])

    @property
    def area(self) -> float:
        """Electrode area A_cell [m^2] (2D: width x one site)."""
        nx, ny, _ = self.shape
        return nx * self.spacing * (ny * self.spacing)

    @property
    def thickness(self) -> float:
        """Electrolyte thickness L [m]."""
        return self.shape[2] * self.spacing

    @cached_property
    def face(self) -> np.ndarray:
        """Electrode face of every site (FACE_A on z = 0, FACE_C on z = L, else FACE_NONE)."""
        return np.asarray(self.graph.site_data["face"])

    @cached_property
    def gb_site(self) -> np.ndarray:
        """Grain-boundary sites (bool)."""
        return np.asarray(self.graph.site_data["gb"]).astype(bool)

    @cached_property
    def gb_edge(self) -> np.ndarray:
        """Edges whose ends lie in different grains (bool)."""
        return np.asarray(self.graph.edge_data["type"]) == EDGE_GB

    @cached_property
    def layer(self) -> np.ndarray:
        """z layer of every site (0 at electrode A)."""
        return np.rint(self.graph.positions[:, 2] / self.spacing - 0.5).astype(np.intp)
