"""Engine throughput of the lattice-gas kernel: events per second vs size, coverage, site order.

Run:  .venv/bin/python benchmarks/bench_engine.py [--events N] > results/bench_engine.md
Prints a Markdown table for docs/performance.md. One core; nothing else should be running.
"""
import argparse

from kmc.bench import lattice_gas_throughput, machine


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=10_000_000)
    args = p.parse_args()
    print(f"machine: {machine()}\n")
    print("| lattice | sites | order | coverage | particles | events | s | events/s |")
    print("|---|---|---|---|---|---|---|---|")
    cases = [((1000, 1000), o, c) for o in ("morton", "c") for c in (0.001, 0.01, 0.1, 0.5)]
    cases += [((100, 100, 100), o, c) for o in ("morton", "c") for c in (0.001, 0.01, 0.1, 0.5)]
    cases += [((n, n), "morton", 0.01) for n in (100, 316, 3162)]
    cases += [((n, n, n), "morton", 0.01) for n in (22, 46, 215)]
    for shape, order, cov in cases:
        r = lattice_gas_throughput(shape, cov, args.events, order=order)
        print(f"| {r['shape']} | {r['sites']:.2e} | {order} | {cov} | {r['particles']} | "
              f"{r['events']:.1e} | {r['seconds']:.2f} | {r['events_per_second']:.3e} |", flush=True)


if __name__ == "__main__":
    main()
