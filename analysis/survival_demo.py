"""Survival of the time to short circuit: Kaplan-Meier curve with its band and a Weibull fit.

Usage:  .venv/bin/python analysis/survival_demo.py [results/*.nc] [-o survival.png] [--seed 1]

With datasets (one ``kmc run`` each, or multi-run datasets with ``t_stop``), censored runs
(t_short = NaN) count at their stop time. Without datasets, a synthetic censored Weibull sample
(k = 1.5, lambda = 2 s, 200 runs, uniform censoring on 0..6 s) and a synthetic current sweep
(t_short ~ J^-1.7) show every fit against known parameters.
"""
import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from kmc.analysis import (  # noqa: E402
    censored_times,
    kaplan_meier,
    power_law_fit,
    sweep_medians,
    weibull_fit,
)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("datasets", nargs="*", help="kmc run datasets (none: synthetic data)")
    p.add_argument("-o", "--output", default="survival.png")
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic data and bootstrap")
    p.add_argument("--confidence", type=float, default=0.95)
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    if args.datasets:
        from kmc.output import open_dataset

        t, shorted = censored_times([open_dataset(path) for path in args.datasets])
        title = f"{len(args.datasets)} dataset(s)"
    else:
        truth = rng.weibull(1.5, 200) * 2.0
        stop = rng.uniform(0.0, 6.0, 200)
        t, shorted = np.minimum(truth, stop), truth <= stop
        title = "synthetic: Weibull k = 1.5, lambda = 2 s"
        print(f"{title}, true median {2.0 * np.log(2) ** (1 / 1.5):.4g} s")
    km = kaplan_meier(t, shorted, args.confidence)
    for line in km.report():
        print(line)
    fit = None
    try:
        fit = weibull_fit(t, shorted, args.confidence)
        for line in fit.report():
            print(line)
    except ValueError as err:  # AnalysisError: e.g. a single short
        print(f"no Weibull fit: {err}")
    if not args.datasets:  # a current sweep, t_short = 5 s * J^-1.7 * Weibull(2) noise
        J = np.repeat([1.0, 2.0, 4.0, 8.0, 16.0], 40)
        tj = 5.0 * J ** -1.7 * rng.weibull(2.0, J.size)
        stop = 1.4 * 5.0 * J ** -1.7
        sm = sweep_medians(J, np.minimum(tj, stop), tj <= stop, args.confidence)
        for j, m, lo, hi in zip(sm.values, sm.median, sm.lower, sm.upper):
            print(f"  J = {j:g} A/m^2: median t_short {m:.4g} s ({lo:.4g} .. {hi:.4g} s)")
        law = power_law_fit(J, np.minimum(tj, stop), tj <= stop, rng=rng,
                            confidence=args.confidence)
        print(law.report()[0] + "  (truth n = 1.7)")

    fig, ax = plt.subplots(figsize=(5.5, 3.8), constrained_layout=True)
    tt = np.concatenate(([0.0], km.times))
    ax.step(tt, np.concatenate(([1.0], km.survival)), where="post", label="Kaplan-Meier")
    ax.fill_between(tt, np.concatenate(([1.0], km.lower)), np.concatenate(([1.0], km.upper)),
                    step="post", alpha=0.3, label=f"{km.confidence:.0%} band (log-log)")
    cens = ~shorted
    ax.plot(t[cens], km.evaluate(t[cens])[0], "|", color="k", ms=6, label="censored")
    if fit is not None:
        grid = np.linspace(0.0, km.times[-1], 200)
        ax.plot(grid, fit.survival(grid), "--", label=f"Weibull k = {fit.shape:.3g}, "
                f"lambda = {fit.scale:.3g} s")
    ax.set(xlabel="time [s]", ylabel="P(no short by t)", ylim=(0, 1.02), title=title)
    ax.legend(fontsize=8)
    fig.savefig(args.output, dpi=150)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
