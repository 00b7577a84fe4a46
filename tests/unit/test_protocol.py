"""Piecewise-constant drive protocols (MODEL.md section 6)."""
import math
from pathlib import Path

import pytest

from kmc.deck import FieldConfig, ProtocolConfig, load_deck
from kmc.protocol import Constant, Cycling, Piecewise, Pulsed, Staircase, from_config

ROOT = Path(__file__).resolve().parents[2]


def _charge(protocol, t_end, sign):
    """Integral of the positive (sign=1) or negative (sign=-1) part of the protocol to t_end."""
    t, q = 0.0, 0.0
    while t < t_end:
        nxt = min(protocol.next_change(t), t_end)
        v = protocol(t)
        if v * sign > 0:
            q += abs(v) * (nxt - t)
        t = nxt
    return q


def test_boundaries_are_exact_and_closed_on_the_left():
    p = Pulsed(5.0, 2.0, 0.25, reverse=1.0)
    t = 0.0
    seen = []
    for _ in range(6):
        seen.append((t, p(t), p.label(t)))
        t = p.next_change(t)
    assert [s[0] for s in seen] == [0.0, 0.5, 2.0, 2.5, 4.0, 4.5]
    assert [s[1] for s in seen] == [5.0, -1.0, 5.0, -1.0, 5.0, -1.0]
    assert p(0.4999999) == 5.0 and p(0.5) == -1.0 and p(math.nextafter(0.5, 0)) == 5.0


def test_constant_and_degenerate_pulses():
    assert Constant(3.0).next_change(1e9) == math.inf and Constant(3.0)(7.0) == 3.0
    assert Pulsed(2.0, 1.0, 1.0)(0.7) == 2.0 and Pulsed(2.0, 1.0, 0.0)(0.7) == 0.0
    assert Pulsed(2.0, 1.0, 0.0).next_change(0.0) == math.inf


def test_cycling_moves_the_capacity_each_half_cycle():
    Q = 0.2e-3 * 3600 / 1e-4
    p = Cycling(current=5.0, capacity=Q, strip_current=2.0, cycles=3)
    t_cycle = Q / 5.0 + Q / 2.0
    assert p.next_change(0.0) == pytest.approx(Q / 5.0)
    assert _charge(p, 3 * t_cycle, +1) == pytest.approx(3 * Q, rel=1e-12)
    assert _charge(p, 3 * t_cycle, -1) == pytest.approx(3 * Q, rel=1e-12)
    assert p.label(Q / 5.0 + 1.0) == "strip 0"
    end = p.next_change(3 * t_cycle - 1.0)
    assert end == pytest.approx(3 * t_cycle) and p(end) == 0.0 and p.next_change(end) == math.inf


def test_staircase_steps_up_by_dj():
    """Seed 004 CCD protocol: plate 0.2 mAh/cm^2 from 0.5 mA/cm^2 in 0.5 steps, strip at 0.2."""
    Q = 0.2e-3 * 3600 / 1e-4
    p = Staircase(start=5.0, step=5.0, strip_current=2.0, capacity=Q)
    t, plating = 0.0, []
    for _ in range(8):
        if p(t) > 0:
            plating.append(p(t))
            assert p.plating_current(t) == p(t)
        else:
            assert p(t) == -2.0
        t = p.next_change(t)
    assert plating == [5.0, 10.0, 15.0, 20.0]
    assert _charge(p, t, +1) == pytest.approx(4 * Q, rel=1e-12)


def test_galvanostatic_steps_only_plate_and_report_their_current():
    """kind = "steps": J_k = 1 + k 1 mA/cm^2 (10, 20, ... A/m^2), each plating Q, no strip;
    the deck builds the same protocol, and the CCD of a failure in step k is J_k."""
    Q = 900.0
    p = Staircase(start=10.0, step=10.0, strip_current=None, capacity=Q)
    t, seen = 0.0, []
    for k in range(5):
        assert p(t) == 10.0 * (k + 1) and p.plating_current(t + 1e-9) == p(t)
        seen.append(p.label(t))
        t = p.next_change(t)
        assert t == pytest.approx(sum(Q / (10.0 * (i + 1)) for i in range(k + 1)), rel=1e-12)
    assert seen == [f"plate {k}" for k in range(5)]
    cfg = ProtocolConfig(kind="steps", current_density=10.0, step=10.0, capacity=Q, cycles=3)
    built = from_config(cfg)
    assert isinstance(built, Staircase) and built.strip_current is None
    assert built(0.0) == 10.0 and built.label(built.next_change(built.next_change(
        built.next_change(0.0)))) == "end"


def test_a_protocol_needs_a_positive_segment():
    with pytest.raises(ValueError, match="at least one segment of positive duration"):
        Piecewise([(0.0, 1.0, "empty")])(0.0)
    with pytest.raises(ValueError):
        Staircase(start=0.0, step=1.0, strip_current=1.0, capacity=1.0)


def test_integral_is_the_exact_area_under_the_segments():
    """Piecewise.integral sums whole segments and the part of the current one: a cycling
    protocol's charge after 1.5 half-cycles is capacity - capacity/2, and the staircase's is
    the sum of its plated and stripped capacities; integral(0) = 0."""
    from kmc.protocol import Cycling, Staircase
    c = Cycling(current=2.0, capacity=4.0, strip_current=1.0)  # plate 2 s, strip 4 s
    assert c.integral(0.0) == 0.0
    assert c.integral(2.0) == 4.0
    assert c.integral(4.0) == 4.0 - 2.0
    assert c.integral(6.0) == 0.0
    s = Staircase(start=1.0, step=1.0, strip_current=2.0, capacity=2.0)
    assert s.integral(2.0 + 1.0 + 1.0) == 2.0 - 2.0 + 2.0  # plate 2 s at 1, strip 1 s, plate 1 s at 2


# --- kmc.protocol.from_config: one factory for [protocol] and [field] -------------------------

def _segments(protocol, n):
    """The first n (start, value, label) segments of a protocol."""
    t, out = 0.0, []
    for _ in range(n):
        out.append((t, protocol(t), protocol.label(t)))
        t = protocol.next_change(t)
    return out


@pytest.mark.parametrize("section,expected", [
    (dict(kind="constant", current_density=-3.0), Constant(-3.0)),
    (dict(kind="pulsed", current_density=5.0, period=2.0, duty=0.25, reverse=1.0),
     Pulsed(5.0, 2.0, 0.25, reverse=1.0)),
    # strip current 0 = the plating current; cycles 0 = endless
    (dict(kind="cycling", current_density=5.0, capacity=10.0), Cycling(5.0, 10.0, 5.0, None)),
    (dict(kind="cycling", current_density=5.0, capacity=10.0, strip_current_density=2.0, cycles=2),
     Cycling(5.0, 10.0, 2.0, 2)),
    (dict(kind="staircase", current_density=5.0, step=5.0, capacity=10.0, strip_current_density=2.0),
     Staircase(5.0, 5.0, 2.0, 10.0, None)),
    (dict(kind="staircase", current_density=5.0, step=1.0, capacity=10.0, cycles=3),
     Staircase(5.0, 1.0, 5.0, 10.0, 3)),
])
def test_from_config_builds_the_protocol_section(section, expected):
    protocol = from_config(ProtocolConfig(**section))
    assert type(protocol) is type(expected)
    assert _segments(protocol, 9) == _segments(expected, 9)


def test_from_config_builds_the_lattice_gas_field():
    """The [field] section of the shipped lattice-gas decks goes through the same factory (E in
    V/m) and gives the protocol the lattice gas built before (same segments, bit for bit)."""
    field = load_deck(ROOT / "inputs" / "lattice_gas_2d.toml").field
    pulsed = from_config(field)
    assert isinstance(pulsed, Pulsed)
    assert _segments(pulsed, 6) == _segments(Pulsed(field.amplitude, field.period, field.duty), 6)
    assert [v for _, v, _ in _segments(pulsed, 4)] == [2e7, 0.0, 2e7, 0.0]
    constant = from_config(load_deck(ROOT / "inputs" / "lattice_gas_3d.toml").field)
    assert isinstance(constant, Constant) and constant(1.0) == 2e7
    assert from_config(FieldConfig(kind="pulsed", amplitude=1.0, period=1.0, duty=1.0))(0.7) == 1.0
