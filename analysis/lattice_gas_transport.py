"""Fit diffusion and drift of lattice-gas datasets and plot them against theory.

Usage:  .venv/bin/python analysis/lattice_gas_transport.py results/*.nc [-o transport.png]
"""
import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from kmc.analysis import lattice_gas_transport  # noqa: E402
from kmc.output import open_dataset  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("datasets", nargs="+")
    p.add_argument("-o", "--output", default="transport.png")
    args = p.parse_args()
    rows = []
    for path in args.datasets:
        fit = lattice_gas_transport(open_dataset(path))
        print(path)
        for line in fit.report():
            print("  " + line)
        rows.append(fit)
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.8), constrained_layout=True)
    ax[0].plot([r.d_dilute for r in rows], [r.d_fit for r in rows], "o")
    lim = [min(r.d_dilute for r in rows), max(r.d_dilute for r in rows)]
    ax[0].plot(lim, lim, "k--", lw=0.8)
    ax[0].set(xlabel="D theory (dilute) [m²/s]", ylabel="D fitted [m²/s]")
    ax[1].plot([r.v_theory[0] for r in rows], [r.v_fit[0] for r in rows], "o")
    lim = [min(r.v_theory[0] for r in rows), max(r.v_theory[0] for r in rows)]
    ax[1].plot(lim, lim, "k--", lw=0.8)
    ax[1].set(xlabel="v_x theory [m/s]", ylabel="v_x fitted [m/s]")
    fig.savefig(args.output, dpi=110)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
