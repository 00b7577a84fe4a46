"""Time per field update after one site conversion (SE -> Li at a growing filament).

Run:  .venv/bin/python benchmarks/bench_field.py [--updates 10]
For each size and method: one set-up solve, then ``--updates`` conversions of the electrolyte
site at the tip of a Li filament growing from electrode A, each followed by a galvanostatic
solve (what the plating kernel will do after a site fills). Prints a Markdown table.
"""
import argparse
import time

import numpy as np

from kmc.bench import machine
from kmc.codes import LI
from kmc.field import FieldParameters, FieldSolver
from kmc.microstructure import Microstructure
from kmc.tessellation import random_orientations, voronoi_grains


def cell(shape, h=0.5e-6, grain_size=2.8e-6, seed=0):
    rng = np.random.default_rng(seed)
    grain, seeds = voronoi_grains(rng, shape, h, grain_size)
    m = Microstructure(shape, h, grain, np.zeros(shape, np.uint8),
                       random_orientations(rng, seeds.shape[0]), seeds)
    return m.graph(order="c")


def run(shape, method, updates):
    g = cell(shape)
    params = FieldParameters(temperature=298.15, gb_conductivity=5.97e-4, gb_thickness=1e-8,
                             exchange_current_density=128.0, internal_exchange_current_density=1e4)
    solver = FieldSolver(g, params, conductivity=0.046, method=method)
    phase = g.site_data["phase"].copy()
    area = shape[0] * shape[1] * g.spacing**2
    current = 1.0 * 10 * area  # 1 mA/cm^2
    t0 = time.perf_counter()
    sol = solver.solve(phase, current=current)
    setup = time.perf_counter() - t0
    grid = np.arange(g.n_sites).reshape(shape)  # order="c": site id = C index
    x, y = shape[0] // 2, shape[1] // 2
    times, iters = [], []
    for k in range(updates):
        phase[grid[x, y, k]] = LI
        t0 = time.perf_counter()
        sol = solver.solve(phase, current=current)
        times.append(time.perf_counter() - t0)
        iters.append(sol.iterations)
    return setup, float(np.median(times)), float(np.mean(iters)), sol.method, g.n_sites


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--updates", type=int, default=10)
    args = p.parse_args()
    print(f"machine: {machine()}\n")
    print("| grid | sites | method | first solve [s] | per update [s] (median) | CG iterations per update |")
    print("|---|---|---|---|---|---|")
    cases = [((128, 1, 128), "direct"), ((128, 1, 128), "iterative"),
             ((256, 1, 256), "direct"), ((256, 1, 256), "iterative"),
             ((512, 1, 512), "direct"), ((512, 1, 512), "iterative"),
             ((32, 32, 64), "direct"), ((32, 32, 64), "iterative"),
             ((64, 64, 128), "iterative")]
    for shape, method in cases:
        setup, per, it, used, n = run(shape, method, args.updates)
        print(f"| {'x'.join(map(str, shape))} | {n} | {used} | {setup:.3f} | {per:.3f} | {it:.1f} |",
              flush=True)



def accuracy(shape=(256, 1, 256)):
    """Largest error of the interface currents at a solver tolerance, relative to the largest
    interface current, against a direct-solve reference (residual < 1e-12) (the total current is exact at any tol)."""
    g = cell(shape)
    phase = g.site_data["phase"].copy()
    phase[np.arange(g.n_sites).reshape(shape)[shape[0] // 2, 0, :20]] = LI  # a filament
    params = FieldParameters(temperature=298.15, gb_conductivity=5.97e-4, gb_thickness=1e-8,
                             exchange_current_density=128.0, internal_exchange_current_density=1e4)
    I = 10 * shape[0] * shape[1] * g.spacing**2
    ref = FieldSolver(g, params, conductivity=0.046, method="direct", tol=1e-12).solve(phase, current=I)
    rows = []
    for tol in (1e-4, 1e-6, 1e-8, 1e-10):
        sol = FieldSolver(g, params, conductivity=0.046, method="iterative", tol=tol).solve(phase, current=I)
        err = np.max(np.abs(sol.interface_current - ref.interface_current)) / np.max(np.abs(ref.interface_current))
        rows.append((tol, sol.iterations, err, abs(sol.current / I - 1)))
    return rows


if __name__ == "__main__":
    main()
    print("\n| tol | CG iterations | max interface-current error / max current | total-current error |")
    print("|---|---|---|---|")
    for tol, iters, err, total in accuracy():
        print(f"| {tol:.0e} | {iters} | {err:.1e} | {total:.1e} |")
