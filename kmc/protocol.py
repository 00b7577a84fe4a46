"""Piecewise-constant protocols of an external drive: field strength or current density.

A protocol answers two questions: its value at time t, and the next time after t at which it
changes. The event loop stops exactly at each change, updates the rates and draws again (exact
for a Markov process by memorylessness; MODEL.md section 5). Protocols are sequences of
segments (duration, value, label) generated lazily, so an open-ended staircase costs nothing
until it is reached; segment boundaries are accumulated once and returned exactly, so a clock
that lands on a boundary is in the next segment.

Current protocols of MODEL.md section 6 (current densities in A/m^2; positive plates the
electrode at z = 0):

* :class:`Constant` - one value forever;
* :class:`Pulsed` - ``amplitude`` for ``duty * period``, then ``-reverse`` (default 0) for the
  rest of each period (the loop stops at every boundary: up to ~1e9 of them per run);
* :class:`AveragedPulses` - the same square wave in its fast-switching limit (MHz pulses over
  hours): the drive is the period mean, and what is nonlinear in the current is averaged over
  the two phases (:meth:`AveragedPulses.phases`);
* :class:`Cycling` - galvanostatic cycling, plate a capacity Q at J, strip it at J_strip;
* :class:`Staircase` - the critical-current-density protocol of seed 004: plate Q at
  J_k = J_0 + k dJ, strip Q at J_strip, repeat until the cell fails; or, as ``steps``,
  plate Q at J_k only (galvanostatic steps of rising current).

:func:`from_config` builds them from a deck: the ``[protocol]`` section of plating decks
(current density) and the ``[field]`` section of lattice-gas decks (field strength), which
share kinds and keys.
"""
from __future__ import annotations

import bisect
import itertools
import logging
import math

log = logging.getLogger(__name__)


class Piecewise:
    """Piecewise-constant function of time from a (possibly endless) segment iterator.

    Parameters
    ----------
    segments : iterable of (float, float, str)
        (duration [s], value, label); zero durations are skipped, an infinite duration ends
        the sequence, and a sequence that runs out is followed by 0 ("end") forever.
    """

    def __init__(self, segments):
        self._segments = iter(segments)
        self._starts = [0.0]   # start of every generated segment
        self._integral = [0.0]  # integral of the value from 0 to each start
        self._values = []
        self._labels = []
        self._done = False

    def _extend_past(self, t: float) -> None:
        while not self._done and self._starts[-1] <= t:
            try:
                duration, value, label = next(self._segments)
            except StopIteration:  # a finite protocol is followed by rest (0) forever
                duration, value, label = math.inf, 0.0, "end"
            if not duration > 0:
                continue
            self._values.append(float(value))
            self._labels.append(label)
            self._integral.append(self._integral[-1] + float(value) * duration)
            self._starts.append(self._starts[-1] + duration)
            if math.isinf(duration):
                self._done = True
        if self._labels == ["end"]:
            raise ValueError("a protocol needs at least one segment of positive duration")

    def _index(self, t: float) -> int:
        self._extend_past(t)
        i = bisect.bisect_right(self._starts, t) - 1
        return min(max(i, 0), len(self._values) - 1)

    def __call__(self, t: float) -> float:
        """Value on the segment that contains ``t`` (segments are closed on the left)."""
        return self._values[self._index(t)]

    def integral(self, t: float) -> float:
        """Integral of the value from 0 to ``t`` (e.g. charge per area [C/m^2] of a current
        density), from the segment sums: independent of how the caller stepped to ``t``."""
        i = self._index(t)
        return self._integral[i] + self._values[i] * (t - self._starts[i])

    def label(self, t: float) -> str:
        """Label of the segment that contains ``t`` (e.g. ``"plate 3"``)."""
        return self._labels[self._index(t)]

    def segment(self, t: float) -> int:
        """Index of the segment that contains ``t``."""
        return self._index(t)

    def next_change(self, t: float) -> float:
        """Start of the first segment after ``t`` [s] (inf if none)."""
        i = self._index(t)
        return self._starts[i + 1] if i + 1 < len(self._starts) else math.inf

    value_after = __call__


class Constant(Piecewise):
    """A drive that never changes."""

    def __init__(self, value: float):
        self.value = float(value)
        super().__init__([(math.inf, value, "constant")])


def _check_pulses(period: float, duty: float) -> None:
    if not period > 0 or not 0 <= duty <= 1:
        raise ValueError(f"need period > 0 and 0 <= duty <= 1, got {period}, {duty}")


class Pulsed(Piecewise):
    """Square wave: ``amplitude`` for ``duty * period`` at the start of each period, then
    ``-reverse`` (a reverse pulse; 0 = rest) for the remainder."""

    def __init__(self, amplitude: float, period: float, duty: float, reverse: float = 0.0):
        _check_pulses(period, duty)
        self.amplitude, self.period, self.duty, self.reverse = amplitude, period, duty, reverse
        on, off = duty * period, period - duty * period
        if duty in (0.0, 1.0):
            super().__init__([(math.inf, amplitude if duty == 1.0 else -reverse, "constant")])
        else:
            super().__init__(itertools.cycle([(on, amplitude, "on"), (off, -reverse, "off")]))


class AveragedPulses(Constant):
    """Square-wave pulses (as :class:`Pulsed`) in the fast-switching limit: a period much
    shorter than the mean time between events (1 us against ms here; MODEL.md section 9:
    quasi-static transport, no double-layer charging).

    Over many periods a Markov process with periodic rates behaves as the process with the
    period-averaged rates (the averaging principle; Khasminskii 1966), so the run sees the mean
    drive ``duty * amplitude - (1 - duty) * reverse`` at every instant. Everything linear in the
    current (the field, Faradaic transfer and the Li pressures with linearised Butler-Volmer
    kinetics, which settle at the mean overpotential) is then exactly the DC run at the mean;
    event kinds whose rates are nonlinear in the current average over :meth:`phases`.
    """

    def __init__(self, amplitude: float, period: float, duty: float, reverse: float = 0.0):
        _check_pulses(period, duty)
        self.amplitude, self.period, self.duty, self.reverse = amplitude, period, duty, reverse
        self.warned = False
        super().__init__(duty * amplitude - (1.0 - duty) * reverse)

    def check_limit(self, total_rate: float, t: float) -> None:
        """Warn once if the period is not much shorter than the time between events: the limit
        needs period x total rate [1/s] << 1 (above 0.01 at time ``t`` [s])."""
        events = total_rate * self.period
        if events > 0.01 and not self.warned:
            self.warned = True
            log.warning("t = %.6g s: %.3g events per pulse period: protocol.pulses = "
                        "\"averaged\" needs << 1 (use \"resolved\")", t, events)

    def phases(self) -> tuple[tuple[float, float], ...]:
        """(weight, drive) of the on and off phases (weights sum to 1; zero weights left out)."""
        both = ((self.duty, self.amplitude), (1.0 - self.duty, -self.reverse))
        return tuple((w, v) for w, v in both if w > 0)


class Cycling(Piecewise):
    """Galvanostatic cycling: plate ``capacity`` [C/m^2] at ``current`` [A/m^2], strip it at
    ``strip_current`` (default the same), repeat ``cycles`` times (default forever)."""

    def __init__(self, current: float, capacity: float, strip_current: float | None = None,
                 cycles: int | None = None):
        strip = current if strip_current is None else strip_current
        if not (current > 0 and strip > 0 and capacity > 0):
            raise ValueError("current, strip current and capacity must be > 0")
        self.current, self.capacity, self.strip_current = current, capacity, strip

        def segments():
            for k in itertools.count() if cycles is None else range(cycles):
                yield capacity / current, current, f"plate {k}"
                yield capacity / strip, -strip, f"strip {k}"
        super().__init__(segments())


class Staircase(Piecewise):
    """Critical-current-density staircase (seed 004): half-cycle k plates ``capacity``
    [C/m^2] at J_k = ``start`` + k ``step`` [A/m^2], then strips it at ``strip_current``;
    with ``strip_current`` None the steps only plate (galvanostatic steps of rising current,
    as for a cell whose plating electrode is studied alone: ``protocol.kind = "steps"``)."""

    def __init__(self, start: float, step: float, strip_current: float | None, capacity: float,
                 steps: int | None = None):
        strips = strip_current is not None
        if not (start > 0 and step >= 0 and (not strips or strip_current > 0) and capacity > 0):
            raise ValueError("start, strip current and capacity must be > 0 and step >= 0")
        self.start, self.step, self.strip_current, self.capacity = start, step, strip_current, capacity
        self.per_step = 2 if strips else 1

        def segments():
            for k in itertools.count() if steps is None else range(steps):
                j = start + k * step
                yield capacity / j, j, f"plate {k}"
                if strips:
                    yield capacity / strip_current, -strip_current, f"strip {k}"
        super().__init__(segments())

    def plating_current(self, t: float) -> float:
        """J_k of the step that contains ``t`` (the current at which a failure is a CCD)."""
        return self.start + (self.segment(t) // self.per_step) * self.step


def from_config(section) -> Piecewise:
    """The protocol of a deck's drive section.

    Parameters
    ----------
    section : kmc.deck.ProtocolConfig or kmc.deck.FieldConfig
        A ``[protocol]`` section, whose drive is ``current_density`` [A/m^2], or a lattice-gas
        ``[field]`` section, whose drive is ``amplitude`` [V/m] (kinds constant and pulsed).
        The other keys have one meaning for both: ``kind``; ``period`` [s], ``duty`` and
        ``reverse`` (absent: 0) and ``pulses`` (absent: ``"resolved"``; ``"averaged"`` for
        :class:`AveragedPulses`) of a pulsed drive; ``capacity`` [C/m^2],
        ``strip_current_density`` (0 = the plating current) and ``cycles`` (0 = endless) of
        cycling and staircase; ``step`` of the staircase.

    Returns
    -------
    Piecewise
        :class:`Constant`, :class:`Pulsed`, :class:`AveragedPulses`, :class:`Cycling` or
        :class:`Staircase`.
    """
    kind = section.kind
    drive = section.current_density if hasattr(section, "current_density") else section.amplitude
    if kind == "constant":
        return Constant(drive)
    if kind == "pulsed":
        pulses = AveragedPulses if getattr(section, "pulses", "resolved") == "averaged" else Pulsed
        return pulses(drive, section.period, section.duty, getattr(section, "reverse", 0.0))
    cycles = section.cycles or None
    strip = section.strip_current_density or drive
    if kind == "cycling":
        return Cycling(drive, section.capacity, strip, cycles)
    if kind == "staircase":
        return Staircase(drive, section.step, strip, section.capacity, cycles)
    if kind == "steps":
        return Staircase(drive, section.step, None, section.capacity, cycles)
    raise ValueError(f"unknown protocol kind {kind!r}")  # the deck's choices prevent it
