"""Time and peak memory of building a 256^3 polycrystal with GB classification.

Run:  .venv/bin/python benchmarks/bench_microstructure.py [--size 256] [--grain-um 2.8]
Prints one Markdown row per stage for docs/performance.md (wall time, cumulative peak RSS).
"""
import argparse
import resource
import time

import numpy as np

from kmc.bench import machine
from kmc.microstructure import Microstructure
from kmc.tessellation import random_orientations, voronoi_grains


def peak_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # Linux: kB -> GB


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--grain-um", type=float, default=2.8)
    p.add_argument("--spacing-um", type=float, default=0.5)
    p.add_argument("--hardcore", type=float, default=0.0)
    args = p.parse_args()
    shape = (args.size,) * 3
    h, d = args.spacing_um * 1e-6, args.grain_um * 1e-6
    print(f"machine: {machine()}\n")
    print(f"{shape[0]}^3 sites, h = {args.spacing_um} um, d_g = {args.grain_um} um, "
          f"hard-core fraction {args.hardcore}\n")
    print("| stage | s | peak RSS [GB] |\n|---|---|---|")
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    grain, seeds = voronoi_grains(rng, shape, h, d, min_distance_fraction=args.hardcore)
    t1 = time.perf_counter()
    print(f"| tessellation ({seeds.shape[0]} grains) | {t1 - t0:.1f} | {peak_gb():.2f} |", flush=True)
    m = Microstructure(shape, h, grain, np.zeros(shape, np.uint8),
                       random_orientations(rng, seeds.shape[0]), seeds)
    stats = m.statistics()
    t2 = time.perf_counter()
    print(f"| classification (GB sites {stats['gb_site_fraction']:.1%}, "
          f"{stats['triple_junction_count']} triple-junction sites) | {t2 - t1:.1f} | {peak_gb():.2f} |")
    pairs, angle = m.gb_pairs()
    t3 = time.perf_counter()
    print(f"| {pairs.shape[0]} boundaries + misorientations | {t3 - t2:.1f} | {peak_gb():.2f} |")
    print(f"| **total** | **{t3 - t0:.1f}** | **{peak_gb():.2f}** |")


if __name__ == "__main__":
    main()
