"""Piecewise-constant protocols of an external drive (field now; current later).

A protocol answers two questions: its value at time t, and the next time after t at which
it changes. The event loop stops exactly at each change, updates the rates, and draws again
(exact for a Markov process by memorylessness; MODEL.md section 5).
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Constant:
    """A drive that never changes."""

    value: float

    def __call__(self, t: float) -> float:
        return self.value

    def next_change(self, t: float) -> float:
        """Time of the next change strictly after ``t`` [s] (inf: none)."""
        return math.inf


@dataclass(frozen=True)
class Pulsed:
    """Square wave: ``amplitude`` for ``duty*period`` at the start of each period, else 0."""

    amplitude: float
    period: float
    duty: float

    def __call__(self, t: float) -> float:
        phase = t - math.floor(t / self.period) * self.period
        return self.amplitude if phase < self.duty * self.period else 0.0

    def next_change(self, t: float) -> float:
        """Time of the next change strictly after ``t`` [s]."""
        if self.duty in (0.0, 1.0):
            return math.inf
        k = math.floor(t / self.period)
        for edge in (k * self.period + self.duty * self.period, (k + 1) * self.period):
            if edge > t:
                return edge
        return (k + 1) * self.period + self.duty * self.period
