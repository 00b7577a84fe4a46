"""CCD sensitivity of the calibrated cell to each estimated parameter (docs/calibration.md).

For every estimate (tag E) of the main job's deck (inputs/llzo_polycrystal_2d.toml), an
ensemble sweeps it over three values of its literature range that include the main job's (the
ends, or the main job's value and two above it where that value is the range's end), the
other values fixed, with ``replicas`` cells per point (``vary = "microstructure"``) driven by
galvanostatic steps of 0.1 mA/cm^2 (0.25 mAh/cm^2 each, up to 5 mA/cm^2). Prints, and writes
as markdown, the median CCD per point with its Kaplan-Meier 95% interval (cells that survive
every step are censored at 5 mA/cm^2) and d ln(CCD) / d ln(value) between the first and last.

    python analysis/ccd_sensitivity.py -o results/ccd_sensitivity.md --workers 2

The task seeds depend only on the task index (SeedSequence(run.seed, spawn_key=(task,)), task =
point x replicas + replica), so each point of a sweep draws its own cells, and the second point
of every sweep is the same 8 cells: medians within about +-0.4 mA/cm^2 of each other are not
distinguished.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

import kmc
from kmc.analysis import kaplan_meier
from kmc.ensemble import Ensemble
from kmc.executors import executor

MA_CM2 = 10.0  # A/m^2 per mA/cm^2
TOP = 5.0      # mA/cm^2: the last step

#: (deck key, three values in increasing order, the main job's value, literature range)
ESTIMATES = [
    ("plating.subcritical_exponent", (11, 15, 30), 11, "11 (glasses) to > 100 (ceramics)"),
    ("plating.subcritical_velocity", ("1e-4 m/s", "1e-3 m/s", "1e-2 m/s"), "1e-3 m/s",
     "1e-6 to 1 m/s"),
    ("plating.subcritical_threshold", (0.2, 0.3, 0.4), 0.3, "0.2 to 0.8"),
    ("microstructure.contact.fraction", (0.2, 0.3, 0.5), 0.3, "0.2 to 1"),
    ("microstructure.gb_toughness_spread", (0.0, 0.3, 0.5), 0.3, "0 to 0.5"),
    ("microstructure.flaws.mean_spacing", ("5 um", "10 um", "20 um"), "10 um",
     "E: one flaw per 5-20 um"),
]


def steps_deck():
    """The main job's deck driven by galvanostatic steps (the CCD protocol of VALIDATION.md D1)."""
    deck = kmc.load_deck("llzo_polycrystal_2d")
    return deck.replace({"protocol.kind": "steps", "protocol.current_density": "0.1 mA/cm^2",
                         "protocol.step": "0.1 mA/cm^2", "protocol.capacity": "0.25 mAh/cm^2",
                         "protocol.cycles": 50, "run.duration": "1e7 s", "run.snapshots": 0,
                         "run.observations": 11})


def median_ccd(ccd):
    """Kaplan-Meier median CCD [mA/cm^2] and 95% interval; NaN CCDs are censored at TOP."""
    ccd = np.asarray(ccd, float)
    failed = np.isfinite(ccd)
    km = kaplan_meier(np.where(failed, ccd, TOP), failed)
    return km.median, (km.median_lower, km.median_upper)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--output", default="results/ccd_sensitivity.md")
    p.add_argument("--replicas", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    base = steps_deck()
    rows = ["| key | range | values (main job's in bold) | median CCD [mA/cm^2] (95% interval) | "
            "d ln CCD / d ln value |", "|---|---|---|---|---|"]
    with executor(args.workers) as ex:
        for key, points, main_value, span in ESTIMATES:
            ens = Ensemble(base, tasks=out.with_suffix("") / key.replace(".", "_"),
                           replicas=args.replicas, vary="microstructure",
                           sweep={key: list(points)})
            ens.run(ex)
            ds = ens.merge("analysis/ccd_sensitivity.py")
            ccd = ds["ccd"].values / MA_CM2  # (point, replica)
            med = [median_ccd(c) for c in ccd]
            cells = "; ".join(f"{m:.2g} ({lo:.2g}-{hi:.2g})" for m, (lo, hi) in med)
            vals = [float(v) for v in ds[ds["ccd"].dims[0]].values]
            slope = (math.log(med[2][0] / med[0][0]) / math.log(vals[2] / vals[0])
                     if vals[0] > 0 and med[0][0] > 0 and med[2][0] > 0 else math.nan)
            shown = " / ".join(f"**{v}**" if v == main_value else f"{v}" for v in points)
            row = f"| `{key}` | {span} | {shown} | {cells} | {slope:.2g} |"
            print(row, flush=True)
            rows.append(row)
    out.write_text("\n".join(rows) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
