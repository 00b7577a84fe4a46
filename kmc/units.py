"""Physical quantities in input decks: parse strings such as ``"0.5 mA/cm^2"`` with pint.

Quantities are converted to SI once, at load time; everything inside the code is SI.
"""
from __future__ import annotations

import math

import pint

from .errors import ConfigError

#: The package's unit registry (one per process; pint registries must not be mixed).
ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)

#: Physical constants in SI (CODATA 2018 exact values where defined).
FARADAY = 96485.33212  # C/mol
GAS_CONSTANT = 8.314462618  # J/(mol K)
BOLTZMANN = 1.380649e-23  # J/K
ELEMENTARY_CHARGE = 1.602176634e-19  # C
BOLTZMANN_EV = BOLTZMANN / ELEMENTARY_CHARGE  # eV/K


def to_si(key: str, value, unit: str) -> float:
    """Convert a deck entry to a float in the SI unit ``unit``.

    Parameters
    ----------
    key : str
        Dotted key path, used in the error message.
    value : str or int or float
        ``"25 degC"``, ``"0.5 um"``, ...; a bare number is accepted only for a
        dimensionless quantity (``unit == ""``).
    unit : str
        Target SI unit understood by pint (``"K"``, ``"m"``, ``"A/m^2"``, ``""``).

    Raises
    ------
    ConfigError
        If the string does not parse, has the wrong dimension, or is not finite.
    """
    target = ureg.Unit(unit) if unit else ureg.dimensionless
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ConfigError(f"{key} = {value!r}: expected a quantity string such as '1 {unit}'")
    if isinstance(value, (int, float)):
        if unit:
            raise ConfigError(
                f"{key} = {value!r}: a unit is required, e.g. '{value} {unit}'"
            )
        number = float(value)
    else:
        try:
            q = ureg.Quantity(value)
        except Exception:  # pint raises many types for garbage input
            raise ConfigError(
                f"{key} = {value!r}: not a quantity; write a number and a unit, e.g. '1 {unit}'"
            ) from None
        try:
            number = float(q.to(target).magnitude)
        except pint.DimensionalityError:
            raise ConfigError(
                f"{key} = {value!r}: wrong unit, needs a quantity convertible to '{unit or 'dimensionless'}'"
            ) from None
    if not math.isfinite(number):
        raise ConfigError(f"{key} = {value!r}: must be a finite number")
    return number
