"""Calibrate the electron leak on the measured electronic conductivity (MODEL.md 10.7, D5).

The barrier offset Delta_F follows from the activation energy of sigma_e (the GB barrier
Phi_GB = E_a - 2.5 kT_ref, :meth:`kmc.electrons.ElectronParameters.calibrated`); the
magnitude needs one number per material, the leak path factor f: the apparent conductivity
I_leak L / (V A) of the reference polycrystal (:func:`kmc.analysis.reference_cell`, read with
:func:`kmc.analysis.leakage_conductivity`) run with f = 1, over sigma_e. With the material's
f the reference cell then leaks sigma_e V / L. Prints, per material, f (the geometric mean
over ``--seeds`` microstructures, and its range) and the electron mobility it implies.

    python analysis/calibrate_leak.py --seeds 8

Write f into the material file (``electron_leak_path_factor``). Each seed costs one field
solve and one electron solve (seconds in all).
"""
from __future__ import annotations

import argparse

import numpy as np

import kmc
from kmc.analysis import leakage_conductivity, reference_cell
from kmc.electrons import ElectronParameters
from kmc.material_properties import resolve
from kmc.materials import load_material


def path_factor(material: str, seeds: int) -> np.ndarray:
    """f of ``material`` for microstructure seeds 1..``seeds`` (one value per seed)."""
    sigma_e = load_material(material).values["electronic_conductivity"].value
    out = []
    for seed in range(1, seeds + 1):
        deck = reference_cell(material, seed).replace(
            "material.overrides", {"electron_leak_path_factor": 1.0})
        ds = kmc.simulate(deck).to_dataset()
        out.append(float(leakage_conductivity(ds)[0]) / sigma_e)
    return np.array(out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--materials", nargs="+", default=["llzo", "li3ps4", "li6ps5cl"])
    args = parser.parse_args(argv)
    print("| material | f (geometric mean) | f min - max | mobility [cm^2/(V s)] |")
    print("|---|---|---|---|")
    for name in args.materials:
        f = path_factor(name, args.seeds)
        mean = float(np.exp(np.mean(np.log(f))))  # geometric mean
        raw = load_material(name, {"electron_leak_path_factor": mean})
        mu = ElectronParameters.calibrated(resolve(raw, raw.reference_temperature)).mobility
        print(f"| {name} | {mean:.4g} | {f.min():.3g} - {f.max():.3g} | {mu * 1e4:.3g} |")


if __name__ == "__main__":
    main()
