"""What every event kind shares: the channel list it fills and the epoch it reads.

An *epoch* is a stretch of time with a fixed topology and field (MODEL.md section 5). At its
start each enabled event kind turns the state and the field solution into *channels*: rows of
(kind, rate [1/s], a, b, source segment, sink segment) that the plating kernel
(``ext/_plating.pyx``) fires until the topology changes. Faradaic transfers also fill a *pool*
of interface edges (metal site, electrolyte site, cumulative |I_ms|) from which the kernel picks
the edge of each quantum.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


class Channels:
    """The channels of one epoch, in the order the kernel receives them (the order is part of
    the random stream: same order, same events)."""

    def __init__(self):
        self._blocks = []
        self._pool = ([], [], [])
        self.pool_size = 0

    def __len__(self) -> int:
        """Number of channels so far."""
        return sum(block[1].size for block in self._blocks)

    def add(self, kind: int, rate, a=-1, b=-1, segments=(0, 0, 0, 0)) -> None:
        """Append channels of one ``kind`` (CH_*): ``rate`` [1/s] per channel, ``a``, ``b`` the
        sites or reservoirs they act on, ``segments`` (src_lo, src_hi, snk_lo, snk_hi) of the
        pool for transfers; scalars broadcast."""
        rate = np.atleast_1d(np.asarray(rate, float))
        ids = [np.broadcast_to(np.asarray(x, np.intp), rate.shape) for x in (a, b, *segments)]
        self._blocks.append((np.full(rate.size, kind, np.int8), rate, *ids))

    def add_pool(self, metal, se, cumulative) -> tuple[int, int]:
        """Append interface edges to the pool; returns their (lo, hi) segment."""
        lo = self.pool_size
        for part, x in zip(self._pool, (metal, se, cumulative)):
            part.append(x)
        self.pool_size += len(cumulative)
        return lo, self.pool_size

    def arrays(self) -> tuple:
        """Arguments of the kernel's ``set_channels``: kind, rate, a, b, src_lo, src_hi,
        snk_lo, snk_hi, pool_metal, pool_se, pool_cum."""
        cols = [np.concatenate(c) for c in zip(*self._blocks)] if self._blocks else (
            [np.zeros(0, np.int8), np.zeros(0)] + [np.zeros(0, np.intp)] * 6)
        cat = (lambda x, dt: np.concatenate(x).astype(dt) if x else np.zeros(0, dt))
        m, s, c = self._pool
        return (*cols, cat(m, np.intp), cat(s, np.intp), cat(c, float))


@dataclass
class Epoch:
    """What the event kinds read at the start of an epoch (SI units).

    Attributes
    ----------
    time : float
        Simulated time [s].
    current : float
        Protocol current I(t) [A] (positive plates the electrode at z = 0).
    phase, content : ndarray
        Site phases and Li quanta per site.
    field : kmc.field.FieldSolution
        Interface currents, potentials and the clusters the field was solved with.
    clusters : kmc.clusters.ClusterView
        The labelled Li clusters of this topology.
    confinement : kmc.confinement.Confinement
        Blocked and creep-relieved sites, Li pressures [Pa] and relief targets.
    phases : tuple of (float, float, FieldSolution)
        (weight, current [A], field) over which a rate nonlinear in the current is averaged:
        ``((1, current, field),)``, or the on and off phases of fast pulses
        (:class:`kmc.protocol.AveragedPulses`; the weights sum to 1).
    """

    time: float
    current: float
    phase: np.ndarray
    content: np.ndarray
    field: object
    clusters: object
    confinement: object
    phases: tuple = ()

    def __post_init__(self):
        if not self.phases:
            self.phases = ((1.0, self.current, self.field),)


class Event:
    """Base of an event kind. Subclasses set ``name`` and implement :meth:`channels`.

    Parameters
    ----------
    sim : kmc.simulation.Simulation
        The run (its cell, deck sections, quantum and kernel) the event belongs to.
    """

    name = ""

    def __init__(self, sim):
        self.sim = sim

    @staticmethod
    def enabled(plating) -> bool:
        """Whether this kind acts under the ``[plating]`` section ``plating``."""
        return True

    def channels(self, epoch: Epoch, out: Channels) -> None:
        """Append this kind's channels for ``epoch`` to ``out``."""
        raise NotImplementedError

    def after_topology(self, kernel) -> None:
        """React to the kernel's last topology change (phases already applied)."""

    def deadline(self) -> float:
        """Time [s] of this kind's next deterministic change at the present rates (inf: none);
        the run stops the kernel there and calls :meth:`fire`."""
        return math.inf

    def fire(self, t: float) -> bool:
        """Apply the deterministic change due at t; True if the topology changed."""
        return False

    def state(self) -> dict:
        """What this kind keeps between epochs, as plain data (checkpoints)."""
        return {}

    def restore(self, state: dict) -> None:
        """Inverse of :meth:`state`."""
