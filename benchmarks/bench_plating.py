"""Where the time of a plating run goes: events vs field solves vs channel building.

Run:  .venv/bin/python benchmarks/bench_plating.py [DECK ...] [--wall-time S]
Default decks: inputs/llzo_polycrystal_2d.toml and inputs/llzo_polycrystal_3d.toml. For
each deck: one run to its stop (short, duration or ``--wall-time``) with the Cython kernel;
prints a Markdown table of wall time, events, epochs, field solves and the split of the
wall time between field solves (assembly + linear solve, incl. blocking/relief re-solves),
channel building (numpy, per epoch), the kernel's event loop, topology updates
(union-find) and observations, and how often the Li clusters were labelled (once per
topology, kmc.clusters.ClusterTracker). Run with OPENBLAS_NUM_THREADS=1 (as `kmc` does).
"""
import argparse
import dataclasses
import time

from kmc.bench import machine
from kmc.deck import load_deck
from kmc.simulation import Simulation


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("decks", nargs="*", default=["inputs/llzo_polycrystal_2d.toml",
                                                  "inputs/llzo_polycrystal_3d.toml"])
    p.add_argument("--wall-time", type=float, default=3600.0)
    args = p.parse_args(argv)
    print(f"machine: {machine()}\n")
    print("| deck | sites | stop | t_stop [s] | wall [s] | events | epochs | field solves | "
          "labellings | s/solve | field | channels | kernel | topology | observe |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for path in args.decks:
        deck = load_deck(path)
        deck = dataclasses.replace(deck, run=dataclasses.replace(
            deck.run, wall_time_limit=args.wall_time, checkpoint_interval=0.0))
        t0 = time.perf_counter()
        sim = Simulation.from_deck(deck)
        setup = time.perf_counter() - t0
        res = sim.run()
        pr, wall = res.profile, res.wall_time
        share = {k: pr[f"{k}_s"] / wall for k in ("field", "channels", "kernel", "topology", "observe")}
        print(f"| {path.split('/')[-1]} | {sim.cell.graph.n_sites:,} | {res.stop_reason} | "
              f"{res.observations['time'][-1]:.4g} | {wall:.1f} (+{setup:.1f} set-up) | "
              f"{pr['events']:,} | {pr['epochs']:,} | {pr['field_solves']:,} | "
              f"{pr['cluster_labellings']:,} | "
              f"{pr['field_s'] / max(pr['field_solves'], 1):.3g} | "
              + " | ".join(f"{100 * share[k]:.1f}%" for k in share) + " |", flush=True)


if __name__ == "__main__":
    main()
