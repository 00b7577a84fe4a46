"""Ensemble speed-up: 8 equal tasks in process, on a 2-process pool and under ``mpiexec -n 2``.

The deck is ``inputs/llzo_ensemble_2d.toml`` cut to one sweep point of 8 replicas with
``vary = "microstructure"`` (every task builds its own 40 x 40 um cell: no per-worker cell
cache favours one executor) over 45 s of simulated time at 10 mA/cm^2, before any replica
shorts: each task does about the same work (2-4 s). Every executor runs through the command
line in a fresh directory (a subprocess each), so that:

* the **task phase** is the ensemble's own ``wall`` (``Ensemble.run``: from the first task
  handed out to the last outcome; the pool is started and warmed up before it, the MPI ranks
  are running), and
* the **total** is the command's wall time (interpreter start-up, imports, pool or rank
  start-up, the merge and the dataset write included).

Speed-up = serial time / parallel time, for each. Run on an otherwise idle machine::

    .venv/bin/python benchmarks/bench_ensemble.py [--repeat 2] [--duration "45 s"]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def deck(duration: str) -> str:
    text = (ROOT / "inputs" / "llzo_ensemble_2d.toml").read_text()
    for old, new in [('replicas = 4', 'replicas = 8'),
                     ('vary = "kinetics"', 'vary = "microstructure"'),
                     ('"protocol.current_density" = ["10 mA/cm^2", "20 mA/cm^2"]',
                      '"protocol.current_density" = ["10 mA/cm^2"]'),
                     ('duration = "300 s"', f'duration = "{duration}"'),
                     ('thickness = "30 um"', 'thickness = "40 um"'),
                     ('width = "30 um"', 'width = "40 um"')]:
        assert old in text, old
        text = text.replace(old, new)
    return text


def run(name: str, command: list[str], directory: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_", "PMIX_"))}
    env["OPENBLAS_NUM_THREADS"] = "1"
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=directory, capture_output=True, text=True, env=env)
    total = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{name}: exit {proc.returncode}\n{proc.stderr}")
    found = re.search(r"(\d+) computed, \d+ reused; ([\d.]+) s wall", proc.stdout)
    assert found and found.group(1) == "8", proc.stdout
    return {"name": name, "tasks": float(found.group(2)), "total": total}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=2, help="measurements of each executor")
    p.add_argument("--duration", default="45 s", help="simulated time of every task")
    args = p.parse_args(argv)
    kmc = str(BIN / "kmc")
    executors = {"serial": [kmc], "--workers 2": [kmc], "mpiexec -n 2": [str(BIN / "mpiexec"), "-n", "2", kmc]}
    extra = {"serial": [], "--workers 2": ["--workers", "2"], "mpiexec -n 2": []}
    rows = []
    with tempfile.TemporaryDirectory(prefix="kmc-bench-ensemble-") as tmp:
        for repeat in range(args.repeat):
            for name, head in executors.items():
                where = Path(tmp) / f"{repeat}-{name.replace(' ', '_').strip('-')}"
                where.mkdir()
                (where / "bench.toml").write_text(deck(args.duration))
                rows.append(run(name, [*head, "ensemble", "bench.toml", "-o", "bench.nc", "-q",
                                       *extra[name]], where))
                print(f"  {repeat + 1}: {name:<13} task phase {rows[-1]['tasks']:6.1f} s, "
                      f"total {rows[-1]['total']:6.1f} s", file=sys.stderr, flush=True)
    print(f"nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.2f} at the end")
    print("| executor | run | task phase [s] | speed-up | total wall [s] | speed-up |")
    print("|---|---|---|---|---|---|")
    serial = {r: [x for x in rows if x["name"] == "serial"][r] for r in range(args.repeat)}
    for r in range(args.repeat):
        for x in rows[r * 3:(r + 1) * 3]:
            s = serial[r]
            print(f"| {x['name']} | {r + 1} | {x['tasks']:.1f} | {s['tasks'] / x['tasks']:.2f} | "
                  f"{x['total']:.1f} | {s['total'] / x['total']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
