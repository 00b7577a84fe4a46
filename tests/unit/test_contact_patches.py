"""Interface contact patches and current constriction (MODEL.md 10.1, issue 11 acceptance 3).
Fixed seeds and deterministic field solves: every number is exactly reproducible."""
import math

import numpy as np
import pytest

import kmc
from kmc.codes import FACE_A
from kmc.features import contact_patches
from kmc.simulation import Simulation

DECK = """
model = "plating"
[cell]
thickness = "{thickness} m"
width = "{width} m"
spacing = "{h} m"
[microstructure]
kind = "single_crystal"
contact = {{ fraction = {fraction}, patch_size = "2 um" }}
flaws = {{ depth = "{flaw}", x_positions = ["1 um"] }}
[material]
name = "llzo_single_crystal"
[protocol]
current_density = "1 mA/cm^2"
[plating]
charge_transfer = "{kinetics}"
[run]
duration = "1 s"
seed = 4
"""


def _sim(fraction=0.5, width=10e-6, thickness=20e-6, h=0.25e-6, flaw="0 um", kinetics="none"):
    return Simulation.from_deck(kmc.loads_deck(DECK.format(
        fraction=fraction, width=width, thickness=thickness, h=h, flaw=flaw, kinetics=kinetics)))


def test_patches_have_the_contact_fraction_and_the_patch_size():
    """Exactly round(f_c N) face sites touch; larger patch_size gives fewer, longer patches;
    f_c = 1 is full contact; the same stream gives the same map."""
    rng = lambda: np.random.default_rng(11)
    for f in (0.2, 0.5, 0.9):
        m = contact_patches(rng(), (400, 1), f, 5e-6, 0.25e-6, True)
        assert m.sum() == round(f * 400)
    runs = []
    for size in (1e-6, 8e-6):
        m = contact_patches(rng(), (400, 1), 0.5, size, 0.25e-6, True)[:, 0]
        runs.append(np.count_nonzero(m != np.roll(m, 1)) / 2)  # number of patches
    assert runs[1] < runs[0] / 3
    assert contact_patches(rng(), (50, 1), 1.0, 5e-6, 0.25e-6, True).all()
    assert np.array_equal(contact_patches(rng(), (40, 3), 0.3, 2e-6, 0.25e-6, True),
                          contact_patches(rng(), (40, 3), 0.3, 2e-6, 0.25e-6, True))


def test_li_in_a_surface_flaw_keeps_its_electrode_and_full_contact_is_the_default():
    """A flaw's face site stays in contact whatever the patches; without the key every face
    site touches (the ideal interface)."""
    sim = _sim(fraction=0.05, flaw="2 um")
    face_li = (sim.cell.face != 0) & (sim.phase == 1)
    assert face_li.any() and sim.contact[face_li].all()
    assert (~sim.contact[sim.cell.face != 0]).sum() > 0
    assert _sim(fraction=1.0).cell.microstructure.contact is None


def _strip_current(n_period):
    """Interface current density [A/m^2] over one contact strip of half the period (10 um),
    i0 -> inf, on a slab two periods thick; site x indices and the strip centre [m]."""
    period = 10e-6
    h = period / n_period
    sim = _sim(h=h)
    g = sim.cell.graph
    x = np.rint(g.positions[:, 0] / h - 0.5).astype(int)
    z = np.rint(g.positions[:, 2] / h - 0.5).astype(int)
    on = np.abs(x - (n_period - 1) / 2) < n_period / 4
    sim.contact[:] = True
    sim.contact[(z == 0) & ~on] = False
    assert sim._new_epoch(0.0)
    sol = sim.field
    a = sol.interface_metal == -1
    s = sol.interface_se[a]
    order = np.argsort(x[s])
    return x[s][order], sol.interface_current[a][order] / h ** 2, h


def _analytic(xs, h, width, period):
    """Primary current density on a periodic array of strips (half-width a, half-period b)
    facing a distant counter electrode, by conformal mapping: j(u) ~ cos(pi u / 2b) /
    sqrt(sin^2(pi a / 2b) - sin^2(pi u / 2b)) (Newman, J. Electrochem. Soc. 113, 501 (1966)
    for one strip; periodic form by the map w = sin(pi z / 2b)), averaged over each site's
    face."""
    a, b, centre = width / 2, period / 2, period / 2
    out = []
    for xi in xs:
        u = np.linspace(xi * h - centre, (xi + 1) * h - centre, 40001)[1:-1]
        u = u[np.abs(u) < a]
        val = np.cos(np.pi * u / (2 * b)) / np.sqrt(np.sin(np.pi * a / (2 * b)) ** 2
                                                    - np.sin(np.pi * u / (2 * b)) ** 2)
        out.append(np.trapezoid(val, u) / h)
    return np.asarray(out)


def test_current_crowds_at_patch_edges_as_the_electrostatic_solution_says():
    """A contact strip of half the period: the current through it averages J / f_c; over the
    middle half of the strip each site carries the conformal-map current within 5% at 40
    sites per period, and the error shrinks with refinement (centre: 5.9% at 20, 2.7% at 40
    sites per period); the edge site carries more than 2.5x the centre's and its share grows
    with refinement (the edge singularity j ~ 1/sqrt(distance))."""
    ratios, errors = [], []
    for n in (20, 40):
        xs, j, h = _strip_current(n)
        assert j.mean() == pytest.approx(10.0 / 0.5, rel=1e-9)  # J = 10 A/m^2, f_c = 0.5
        ref = _analytic(xs, h, n // 2 * h, 10e-6)
        ref *= j.sum() / ref.sum()
        mid = slice(j.size // 4, j.size - j.size // 4)
        errors.append(abs(j[j.size // 2] / ref[j.size // 2] - 1))
        ratios.append(j[0] / j[j.size // 2])
        if n == 40:
            np.testing.assert_allclose(j[mid], ref[mid], rtol=0.05)
            assert j[0] > 2.5 * j[j.size // 2] and j[-1] > 2.5 * j[j.size // 2]
    assert ratios[1] > ratios[0] and errors[1] < 0.6 * errors[0]


def test_partial_contact_raises_the_cell_voltage():
    """Constriction resistance: at the same current the cell with half its interface in
    contact needs a higher voltage than the fully touching one (Butler-Volmer kinetics)."""
    volts = []
    for f in (1.0, 0.5, 0.2):
        sim = _sim(fraction=f, h=0.5e-6, kinetics="butler_volmer")
        assert sim._new_epoch(0.0)
        volts.append(abs(sim.field.voltage))
    assert volts[0] < volts[1] < volts[2]
    assert math.isfinite(volts[2])


def test_stack_pressure_presses_the_li_into_the_gaps():
    """With hardness_factor c, f_c(P) = f_c + (1 - f_c) min(1, P/H), H = c sigma_y(Li)
    (plastic asperity contact, A_r/A = P/H): exactly that many face sites touch at each
    pressure, the contacts at a lower pressure are a subset of those at a higher one (the same
    random field, a lower threshold), and without the factor pressure changes nothing."""
    from kmc.features import pressed_contact_fraction
    from kmc.materials import load_li_metal
    h_li = 3.0 * load_li_metal().yield_strength
    assert pressed_contact_fraction(0.3, 0.0, h_li) == 0.3
    assert pressed_contact_fraction(0.3, 0.5 * h_li, h_li) == pytest.approx(0.65, rel=1e-12)
    assert pressed_contact_fraction(0.3, 2.0 * h_li, h_li) == 1.0
    assert pressed_contact_fraction(0.3, 1e6, 0.0) == 0.3

    def touching(pressure, factor):
        text = DECK.format(fraction=0.3, width=40e-6, thickness=10e-6, h=0.5e-6, flaw="0 um",
                           kinetics="none")
        text = text.replace('patch_size = "2 um" }', f'patch_size = "2 um", hardness_factor = {factor} }}')
        text = text.replace("[protocol]", f'[conditions]\nstack_pressure = "{pressure}"\n[protocol]')
        sim = Simulation.from_deck(kmc.loads_deck(text))
        return sim.contact[sim.cell.face == FACE_A]

    faces = [touching(f"{p} Pa", 3.0) for p in (0.0, 0.25 * h_li, 0.5 * h_li)]
    n = faces[0].size
    for face, p in zip(faces, (0.0, 0.25, 0.5)):
        assert face.sum() == round((0.3 + 0.7 * p) * n)
    assert np.all(faces[1] >= faces[0]) and np.all(faces[2] >= faces[1])
    np.testing.assert_array_equal(touching("2 MPa", 0.0), faces[0])
