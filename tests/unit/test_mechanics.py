"""VALIDATION.md C1 and C2: tip kinetics and the Griffith threshold, with the seeds' numbers."""
import pytest

from kmc.mechanics import (crack_threshold_overpotential, electrodeposition_pressure,
                           fracture_rate, griffith_pressure, pressure_overpotential,
                           stress_intensity, tip_current_density, tip_velocity)

VM_SEED001 = 13.148e-6  # m^3/mol, the molar volume seed 001 uses


@pytest.mark.parametrize("velocity_um_s,current_a_cm2", [(8.6, 6.3), (4.5, 3.3)])
def test_c1_tip_velocity_and_current(velocity_um_s, current_a_cm2):
    """Seed 001: 8.6 um/s <-> 6.3 A/cm^2 and 4.5 um/s <-> 3.3 A/cm^2 (two significant digits)."""
    j = tip_current_density(velocity_um_s * 1e-6, VM_SEED001) / 1e4
    assert j == pytest.approx(current_a_cm2, abs=0.05)
    assert tip_velocity(j * 1e4, VM_SEED001) == pytest.approx(velocity_um_s * 1e-6, rel=1e-12)


@pytest.mark.parametrize("a_um,mv", [(1.0, 46.0), (10.0, 14.6)])
def test_c2_crack_threshold_overpotential(a_um, mv):
    """Seeds 001/002: dE = V_m K_IC / (F sqrt(pi a)) with K_IC = 0.6 MPa m^0.5: 46 mV at
    1 um and 14.6 mV at 10 um (to the seeds' rounding)."""
    de = crack_threshold_overpotential(0.6e6, a_um * 1e-6, VM_SEED001) * 1e3
    assert de == pytest.approx(mv, abs=0.25)


def test_c2_pressure_and_overpotential_conversions():
    """135 mV per GPa (seed 002) and 7.34 MPa per mV (seeds 000, 001 with 13.148 cm^3/mol)."""
    assert pressure_overpotential(1e9, VM_SEED001) * 1e3 == pytest.approx(136.3, abs=0.1)
    assert pressure_overpotential(1e9, 13.0e-6) * 1e3 == pytest.approx(134.7, abs=0.1)
    assert electrodeposition_pressure(1e-3, VM_SEED001) / 1e6 == pytest.approx(7.34, abs=0.01)


def test_griffith_threshold_stress_intensity_and_rate_are_consistent():
    a, kic = 3e-6, 0.5e6
    p_c = griffith_pressure(kic, a)
    assert stress_intensity(p_c, a) == pytest.approx(kic, rel=1e-12)
    assert fracture_rate(stress_intensity(0.99 * p_c, a), kic, 1e6) == 0.0
    assert fracture_rate(stress_intensity(2 * p_c, a), kic, 1e6) == pytest.approx(1e6, rel=1e-12)
    # compressive normal stress on the faces raises the threshold one for one
    assert griffith_pressure(kic, a, normal_stress=70e6) == pytest.approx(p_c + 70e6)
    assert stress_intensity(p_c + 70e6, a, normal_stress=70e6) == pytest.approx(kic, rel=1e-12)
