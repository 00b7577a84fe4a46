"""Lattice-gas transport: tracer diffusion and drift fitted from a dataset and compared with
dilute-limit theory (``kmc analyze`` on a lattice-gas dataset)."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from ..errors import DatasetError
from ..units import BOLTZMANN_EV


@dataclass(frozen=True)
class Transport:
    """Tracer diffusion and drift of a lattice-gas run, fitted and predicted.

    Attributes are SI: diffusion coefficients [m^2/s], velocities [m/s].
    """

    d_fit: float
    d_dilute: float
    v_fit: np.ndarray
    v_theory: np.ndarray
    coverage: float
    dimension: int

    def report(self) -> list[str]:
        """Human-readable lines."""
        lines = [
            f"tracer diffusion coefficient D = {self.d_fit:.4e} m^2/s (from the slope of the displacement variance / 2d)",
            f"  dilute-limit theory D = nu' a^2 = {self.d_dilute:.4e} m^2/s "
            f"(ratio {self.d_fit / self.d_dilute:.3f}; exclusion lowers it at coverage {self.coverage:.3g})",
        ]
        for name, v, vt in zip("xyz"[: self.dimension], self.v_fit, self.v_theory):
            lines.append(f"drift velocity v_{name} = {v:.4e} m/s (theory (1-c) nu' a (e^b - e^-b) "
                         f"x duty = {vt:.4e} m/s)")
        return lines


def _slope(t, y):
    ok = np.isfinite(y)
    if ok.sum() < 2:
        return math.nan
    return float(np.polyfit(t[ok], y[ok], 1)[0])


def lattice_gas_transport(ds) -> Transport:
    """Fit D from the MSD and v from the mean displacement; compare with theory.

    Notes
    -----
    Dilute single-particle theory on a d-dimensional lattice with hop rate nu' per
    neighbour: <|r - <r>|^2> = 2 d D t with D = nu' a^2 (a field raises D along it by
    cosh b). Drift along a field axis:
    v = nu' a (e^b - e^-b), b = z e E a / (2 kT); exclusion multiplies the drift of a
    lattice gas at coverage c by (1 - c) (exact for the product stationary measure), and a
    pulsed field by its duty cycle when averaged over whole periods.
    """
    missing = [v for v in ("msd", "mean_displacement", "hop_rate") if v not in ds]
    if "config_json" not in ds.attrs or missing:
        what = ", ".join(missing + ([] if "config_json" in ds.attrs else ["attribute config_json"]))
        raise DatasetError(f"{ds.encoding.get('source', 'dataset')}: not a kmc lattice-gas dataset "
                           f"(missing {what})")
    cfg = json.loads(ds.attrs["config_json"])
    dims = [d for d in ("x", "y", "z") if d in ds.dims]
    d = len(dims)
    a = cfg["lattice"]["spacing"]
    t = ds["time"].values
    nu = float(ds["hop_rate"])
    mean = ds["mean_displacement"].values
    variance = ds["msd"].values - np.sum(mean * mean, axis=1)  # drift removed
    d_fit = _slope(t, variance) / (2 * d)
    v_fit = np.array([_slope(t, ds["mean_displacement"].values[:, i]) for i in range(d)])
    fld = cfg["field"]
    kT = BOLTZMANN_EV * cfg["conditions"]["temperature"]
    direction = np.asarray(fld["direction"], dtype=float)
    direction /= np.linalg.norm(direction)
    duty = 1.0 if fld["kind"] == "constant" else fld["duty"]
    z = cfg["lattice_gas"]["charge_number"]
    cov = cfg["lattice_gas"]["coverage"]
    v_th = []
    for i in range(d):
        b = z * fld["amplitude"] * direction[i] * a / (2 * kT)
        v_th.append((1 - cov) * nu * a * (math.exp(b) - math.exp(-b)) * duty)
    return Transport(d_fit=d_fit, d_dilute=nu * a * a, v_fit=v_fit, v_theory=np.array(v_th),
                     coverage=cov, dimension=d)
