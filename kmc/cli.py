"""The ``kmc`` command line: run, microstructure, decks, ensemble, analyze, bench, validate.

User errors (:class:`kmc.errors.KmcError`) are printed as one line, without a traceback,
and the command exits with status 2; ``kmc ensemble`` exits 5 when some tasks failed.
"""
from __future__ import annotations

import argparse
import logging
import os
import shlex
import subprocess
import sys
from pathlib import Path

from .version import __version__
from .errors import KmcError


def _command(args) -> str:
    """The command line as typed (the ``history`` entry of the datasets)."""
    return " ".join(shlex.quote(a) for a in ["kmc", *getattr(args, "argv", [])])


def _microstructure(args, deck=None) -> int:
    from .deck import MicrostructureDeck, check_figure_path, load_deck
    from .materials import load_material, resolve
    from .microstructure import build
    from .output import microstructure_dataset, write_dataset
    from .plots import microstructure_summary

    deck = deck or load_deck(args.deck)
    if args.figure:
        check_figure_path(args.figure, "--figure")
    if not isinstance(deck, MicrostructureDeck):
        raise KmcError(f"{args.deck}: model = {deck.model!r} has no microstructure; "
                       "use a deck with model = 'microstructure'")
    material = resolve(load_material(deck.material.name, deck.material.overrides),
                       deck.conditions.temperature)
    dataset = Path(args.output or deck.output.dataset)
    check_output_path(dataset, "output.dataset", force=args.force)
    micro = build(deck)
    ds = microstructure_dataset(micro, deck, material, command=_command(args), sources=(
        load_material(deck.material.name, deck.material.overrides),))
    write_dataset(ds, dataset)
    print(f"wrote {dataset}  ({micro.n_grains} grains, {micro.shape[0]}x{micro.shape[1]}x"
          f"{micro.shape[2]} sites, mean grain diameter "
          f"{float(ds['mean_grain_diameter']) * 1e6:.3g} um, GB sites "
          f"{float(ds['gb_site_fraction']):.1%}, porosity {float(ds['porosity']):.1%})")
    figure = args.figure if args.figure is not None else deck.output.figure
    if figure:
        print(f"wrote {microstructure_summary(ds, figure)}")
    return 0


#: ``[run]`` keys that may change when a plating run is resumed (limits, and the field solver to
#: get past a failed solve); ``[output]`` may change too.
RUN_LIMITS = ("max_events", "wall_time_limit", "checkpoint", "checkpoint_interval", "field_solver")


def checkpoint_path(deck, dataset: Path, given=None) -> Path:
    """Checkpoint file of a plating run: ``given``, ``run.checkpoint``, or the dataset + .ckpt."""
    return Path(given or deck.run.checkpoint or dataset.with_suffix(".ckpt"))


#: Exit status of `kmc run` per stop reason (README, "Exit status"): 0 finished, 3 stopped by a
#: limit (--max-events, --wall-time), 4 failed field solve, 130/143 SIGINT/SIGTERM; the last
#: four leave a checkpoint. Input errors exit 2.
EXIT_STATUS = {"short": 0, "open_circuit": 0, "duration": 0, "protocol_end": 0, "max_events": 3,
               "wall_time": 3, "field_error": 4, "interrupted": 130, "terminated": 143}


def ensemble_exit_status(run) -> int:
    """Exit status of ``kmc ensemble``: 0 every task finished, 5 some failed, 130/143 stopped
    by SIGINT/SIGTERM (finished tasks kept)."""
    if run.stopped:
        return 130 if run.stopped == "interrupted" else 143
    return 5 if run.failed or run.broken else 0


def check_output_path(path: Path, key: str, force: bool = True) -> None:
    """Fail before the run if ``path`` cannot be written (or exists and ``force`` is off)."""
    if path.is_dir():
        raise KmcError(f"{key} = {str(path)!r}: is a directory; give a file name")
    if path.exists() and not force:
        raise KmcError(f"{key} = {str(path)!r}: exists; pass --force to overwrite it, or -o to "
                       "write elsewhere")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise KmcError(f"{key} = {str(path)!r}: cannot write there ({parent} is not a writable "
                       "directory)")


def _resume_hint(args, result) -> str:
    """The command that continues a stopped run, with every option it needs (a run stopped at
    its event limit gets twice that limit; a failed solve, another field solver)."""
    parts = ["kmc", "run", args.deck, "--resume"]
    for s in args.set or ():
        if not (result.stop_reason == "field_error" and s.startswith("run.field_solver=")):
            parts += ["--set", s]
    if result.stop_reason == "max_events":
        parts += ["--max-events", str(2 * result.profile["events"])]
    elif args.max_events is not None:
        parts += ["--max-events", str(args.max_events)]
    if args.wall_time is not None:
        parts += ["--wall-time", f"{args.wall_time:g}"]
    if result.stop_reason == "field_error":
        other = "direct" if result.deck.run.field_solver != "direct" else "iterative"
        parts += ["--set", f"run.field_solver={other}"]
    if args.output:
        parts += ["-o", args.output]
    if args.checkpoint:
        parts += ["--checkpoint", args.checkpoint]
    if args.figure is not None:
        parts += ["--figure", args.figure]
    return " ".join(shlex.quote(p) for p in parts)


def _plating(args, deck) -> int:
    import dataclasses

    from .output import write_dataset
    from .plots import plating_summary
    from .progress import Progress
    from .simulation import RESUMABLE, Simulation

    dataset = Path(args.output or deck.output.dataset)
    figure = args.figure if args.figure is not None else deck.output.figure
    ckpt = checkpoint_path(deck, dataset, args.checkpoint)
    overrides = {}
    if args.max_events is not None:
        if args.max_events < 1:
            raise KmcError(f"--max-events {args.max_events}: must be >= 1")
        overrides["max_events"] = args.max_events
    if args.wall_time is not None:
        if not args.wall_time > 0:
            raise KmcError(f"--wall-time {args.wall_time}: must be > 0 s")
        overrides["wall_time_limit"] = args.wall_time
    check_output_path(ckpt, "run.checkpoint")
    if not args.resume and ckpt.exists():
        raise KmcError(f"{ckpt}: a checkpoint of an unfinished run exists; continue it with "
                       f"--resume, or delete it to start afresh")
    check_output_path(dataset, "output.dataset", force=args.force or args.resume)
    if figure:
        check_output_path(Path(figure), "output.figure", force=True)
    with Progress(deck.run.duration, quiet=args.quiet) as progress:
        if args.resume:
            limits = {k: getattr(deck.run, k) for k in RUN_LIMITS} | overrides
            sim = Simulation.resume(ckpt, progress=progress, run_overrides=limits)
            wanted = dataclasses.replace(deck, run=dataclasses.replace(deck.run, **limits))
            if dataclasses.replace(sim.deck, output=deck.output) != wanted:
                raise KmcError(f"{ckpt}: the checkpoint was written by a different deck (only "
                               f"[run] limits, the field solver and [output] may change on resume)")
        else:
            if overrides:
                deck = dataclasses.replace(deck, run=dataclasses.replace(deck.run, **overrides))
            sim = Simulation.from_deck(deck, progress=progress)
        result = sim.run(ckpt)
    ds = result.to_dataset(_command(args))
    write_dataset(ds, dataset)
    t_short = float(ds["t_short"])
    short = (f"short at {t_short:.4g} s after {float(ds['charge_at_short']) / result.area * 1e-4 / 3.6:.3g} "
             f"mAh/cm², path GB fraction {float(ds['short_path_gb_fraction']):.2f}"
             if t_short == t_short else "no short")
    print(f"wrote {dataset}  ({result.stop_reason}: {short}; {result.profile['events']:,} events, "
          f"{result.profile['field_solves']:,} field solves, {result.wall_time:.1f} s wall)")
    if result.stop_reason in RESUMABLE:
        print(f"checkpoint {ckpt}: continue with `{_resume_hint(args, result)}`")
    if figure:
        print(f"wrote {plating_summary(ds, figure)}")
    return EXIT_STATUS[result.stop_reason]


def _run(args) -> int:
    from .deck import MicrostructureDeck, PlatingDeck, check_figure_path, load_deck, parse_override
    from .lattice_gas import simulate
    from .output import lattice_gas_dataset, write_dataset
    from .plots import lattice_gas_summary
    from .progress import Progress

    deck = load_deck(args.deck)
    if args.set:
        deck = deck.replace(dict(parse_override(s) for s in args.set))
    if args.figure:
        check_figure_path(args.figure, "--figure")
    if isinstance(deck, PlatingDeck):
        return _plating(args, deck)
    if args.resume or args.max_events is not None or args.wall_time is not None or args.checkpoint:
        raise KmcError(f"{args.deck}: --resume, --checkpoint, --max-events and --wall-time apply "
                       "to plating decks")
    if isinstance(deck, MicrostructureDeck):
        return _microstructure(args, deck)
    dataset = Path(args.output or deck.output.dataset)
    figure = args.figure if args.figure is not None else deck.output.figure
    check_output_path(dataset, "output.dataset", force=args.force)
    if figure:
        check_output_path(Path(figure), "output.figure", force=True)
    with Progress(deck.run.duration, quiet=args.quiet) as progress:
        result = simulate(deck, progress=lambda t: progress(t, "lattice gas"))
    ds = lattice_gas_dataset(result, _command(args))
    write_dataset(ds, dataset)
    print(f"wrote {dataset}  ({result.stop_events:,} events, "
          f"{result.wall_time:.2f} s wall, stop: {result.stop_reason})")
    if figure:
        print(f"wrote {lattice_gas_summary(ds, figure)}")
    return 0


def _analyze(args) -> int:
    from .analysis.report import default_path, write_report
    from .output import open_dataset

    ds = open_dataset(args.dataset)
    path = Path(args.output) if args.output else default_path(ds)
    if path.suffix != ".md":
        raise KmcError(f"-o {str(path)!r}: the report is markdown; give a path ending in .md")
    check_output_path(path, "-o")
    rep = write_report(ds, path)
    for line in rep.key_lines:
        print(line)
    print(f"wrote {rep.path}  ({len(rep.figures)} figure(s) beside it)")
    return 0


def _bench(args) -> int:
    from .bench import lattice_gas_throughput, machine

    for cov in args.coverage:
        if not 0.0 < cov < 1.0:
            raise KmcError(f"--coverage {cov}: must lie in (0, 1)")
    if args.events < 1:
        raise KmcError(f"--events {args.events}: must be >= 1")
    print(f"machine: {machine()}")
    print(f"{'lattice':>12} {'sites':>9} {'coverage':>8} {'particles':>9} {'events':>10} "
          f"{'seconds':>8} {'events/s':>10}")
    for shape in ((1000, 1000), (100, 100, 100)):
        for cov in args.coverage:
            r = lattice_gas_throughput(shape, cov, args.events, seed=args.seed)
            print(f"{r['shape']:>12} {r['sites']:>9} {cov:>8.3f} {r['particles']:>9} "
                  f"{r['events']:>10} {r['seconds']:>8.2f} {r['events_per_second']:>10.3e}",
                  flush=True)
    return 0


def _validate(args) -> int:
    tests = Path(__file__).resolve().parent.parent / "tests"
    if not tests.is_dir():
        raise KmcError(f"{tests}: the test suite is not here; run `kmc validate` from an "
                       "editable install of a source checkout (`make validate`)")
    cmd = [sys.executable, "-m", "pytest", str(tests), "-m", "slow or not slow", *args.pytest_args]
    return subprocess.call(cmd)


def _decks(args) -> int:
    import shutil

    from .decks import bundled_decks, copy_deck

    if args.decks_command == "copy":
        path = copy_deck(args.name, args.dest, force=args.force)
        print(f"wrote {path}  (run it with `kmc run {path}`)")
        return 0
    decks = bundled_decks()
    name_w, model_w = max(len(d.name) for d in decks), max(len(d.model) for d in decks)
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    print(f"{'deck':<{name_w}}  {'model':<{model_w}}  description")
    for d in decks:
        line = f"{d.name:<{name_w}}  {d.model:<{model_w}}  {d.description}"
        print(line if width is None or len(line) <= width else line[:width - 3] + "...")
    print("copy one here with `kmc decks copy NAME`, then run it with `kmc run NAME.toml`")
    return 0


def _ensemble(args) -> int:
    """`kmc ensemble`: every rank loads and checks the deck (an input error stops them all
    before any MPI collective); rank 0 runs the ensemble and merges, every rank runs tasks."""
    from .deck import PlatingDeck, load_deck, parse_override
    from .ensemble import Ensemble
    from .executors import executor, mpi_size
    from .output import write_dataset

    deck = load_deck(args.deck)
    if args.set:
        deck = deck.replace(dict(parse_override(s) for s in args.set))
    if not isinstance(deck, PlatingDeck):
        raise KmcError(f"{args.deck}: model = {deck.model!r}: ensembles run plating decks")
    dataset = Path(args.output or deck.output.dataset)
    ens = Ensemble(deck, tasks=args.tasks or deck.ensemble.tasks or dataset.with_suffix(".tasks"))
    check_output_path(dataset, "output.dataset", force=args.force)
    command = _command(args)
    with executor(args.workers) as ex:
        if ex is None:  # an MPI rank other than 0: it served tasks until rank 0 finished
            return 0
        where = (f"on {mpi_size()} MPI ranks" if mpi_size() > 1 else
                 f"on {args.workers} worker processes" if args.workers and args.workers > 1
                 else "in process")
        pending = len(ens.pending()) if ens.directory.is_dir() else len(ens.tasks)
        print(f"kmc: ensemble {ens.description()}; {len(ens.tasks) - pending} already done in "
              f"{ens.directory}, running {pending} {where}", flush=True)

        def progress(done, total, task, outcome):
            if args.quiet:
                return
            point = ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in task.overrides.items())
            what = (f"failed: {outcome['error']}" if outcome["status"] == "failed" else
                    f"{outcome['stop_reason']}" + (f" at {outcome['t_short']:.4g} s"
                                                   if outcome["t_short"] == outcome["t_short"] else "")
                    + f" ({outcome['wall']:.1f} s wall)")
            print(f"[{done:>{len(str(total))}}/{total}] {task.name} {point + ' ' if point else ''}"
                  f"replica {task.replica}: {what}", flush=True)

        run = ens.run(ex, progress)
    if run.stopped or run.broken:
        why = run.stopped or "a worker process died (out of memory or a crash in a task)"
        print(f"kmc: {why}: {run.computed} task(s) finished in this run, "
              f"{run.computed + run.reused} of {run.total} kept in {ens.directory}; run the same "
              "command again to resume", file=sys.stderr)
        return ensemble_exit_status(run)
    ds = ens.merge(command)
    write_dataset(ds, dataset)
    reasons = {}
    for r in ds["stop_reason"].values.ravel().tolist():
        reasons[r] = reasons.get(r, 0) + 1
    counts = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
    print(f"wrote {dataset}  ({run.total} tasks: {counts}; {run.computed} computed, "
          f"{run.reused} reused; {run.wall_time:.1f} s wall)")
    errors = ens.errors()
    if errors:
        print(f"kmc: {len(errors)} task(s) failed (records in {ens.directory}):", file=sys.stderr)
        for index, rec in errors.items():
            print(f"  task-{index:06d} {rec['overrides']}: {rec['error_class']}: {rec['message']}",
                  file=sys.stderr)
    return 5 if errors else ensemble_exit_status(run)


def parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    p = argparse.ArgumentParser(
        prog="kmc", description="Kinetic Monte Carlo of Li plating through solid electrolytes.")
    p.add_argument("--version", action="version", version=f"kmc {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run one input deck and write a netCDF dataset + figure")
    r.add_argument("deck", help="TOML input deck, e.g. inputs/lattice_gas_2d.toml")
    r.add_argument("-o", "--output", help="dataset path (overrides [output] dataset)")
    r.add_argument("--figure", help="figure path, '' for none (overrides [output] figure)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar or progress lines")
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a deck value, e.g. --set conditions.temperature='60 degC' "
                        "(repeatable)")
    r.add_argument("--force", action="store_true", help="overwrite an existing dataset")
    r.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                   help="log every epoch, field solve and the stop")
    r.add_argument("--resume", action="store_true",
                   help="continue a plating run from its checkpoint (bit-identical)")
    r.add_argument("--checkpoint", help="checkpoint file (default: run.checkpoint or the "
                                        "dataset path with .ckpt)")
    r.add_argument("--max-events", type=int, help="override run.max_events")
    r.add_argument("--wall-time", type=float, help="override run.wall_time_limit [s]")
    r.set_defaults(func=_run)

    m = sub.add_parser("microstructure", help="build a polycrystalline cell: netCDF maps + PNG")
    m.add_argument("deck", help="TOML deck with [cell] and [microstructure]")
    m.add_argument("-o", "--output", help="dataset path (overrides [output] dataset)")
    m.add_argument("--figure", help="figure path, '' for none (overrides [output] figure)")
    m.add_argument("--force", action="store_true", help="overwrite an existing dataset")
    m.set_defaults(func=_microstructure)

    d = sub.add_parser("decks", help="list the example decks shipped with kmc, or copy one out")
    d.set_defaults(func=_decks, decks_command=None)
    dsub = d.add_subparsers(dest="decks_command", metavar="ACTION")
    dc = dsub.add_parser("copy", help="copy a bundled deck to the working directory (or DEST)")
    dc.add_argument("name", help="deck name from `kmc decks`, e.g. llzo_polycrystal_2d")
    dc.add_argument("dest", nargs="?", default=".",
                    help="directory, or a file path ending in .toml (default: .)")
    dc.add_argument("-f", "--force", action="store_true", help="overwrite an existing file")

    e = sub.add_parser("ensemble", help="run a plating deck over its [ensemble] sweep and "
                                        "replicas: one dataset (serial, --workers N, or mpiexec)")
    e.add_argument("deck", help="plating deck with an [ensemble] section")
    e.add_argument("-o", "--output", help="dataset path (overrides [output] dataset)")
    e.add_argument("--workers", type=int, help="worker processes on this machine (default 1; "
                                               "under mpiexec the ranks are the workers)")
    e.add_argument("--tasks", help="directory of the per-task files (default: ensemble.tasks or "
                                   "the dataset path with .tasks)")
    e.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a deck value, e.g. --set ensemble.replicas=8 (repeatable)")
    e.add_argument("--force", action="store_true", help="overwrite an existing dataset")
    e.add_argument("-q", "--quiet", action="store_true", help="no line per finished task")
    e.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                   help="log every epoch, field solve and stop of every task")
    e.set_defaults(func=_ensemble)

    a = sub.add_parser("analyze", help="markdown report with figures of a dataset of `kmc run`, "
                                       "`kmc microstructure` or `kmc ensemble`")
    a.add_argument("dataset", help="netCDF dataset")
    a.add_argument("-o", "--output", help="report path ending in .md (default: the dataset path "
                                          "with .report.md); figures are written beside it")
    a.set_defaults(func=_analyze)

    b = sub.add_parser("bench", help="measure engine throughput (events per second)")
    b.add_argument("--events", type=int, default=10_000_000, help="events timed per case")
    b.add_argument("--coverage", type=float, nargs="+", default=[0.01, 0.1],
                   help="lattice-gas coverages to measure")
    b.add_argument("--seed", type=int, default=0)
    b.set_defaults(func=_bench)

    v = sub.add_parser("validate", help="run the full validation suite, slow tests included "
                                        "(further arguments go to pytest)")
    v.set_defaults(func=_validate)
    return p


def main(argv=None) -> int:
    """Entry point of the ``kmc`` command.

    Unless the environment says otherwise, BLAS runs one thread: the field solves are
    sparse, and threaded dense kernels inside them spin-wait and slow down several-fold when
    another process shares the cores (docs/performance.md). Takes effect when ``kmc`` is run
    as a command (numpy is imported after this point), not when called from a running Python.
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    p = parser()
    args, extra = p.parse_known_args(argv)
    if args.command == "validate":
        args.pytest_args = extra
    elif extra:
        p.error(f"unrecognized arguments: {' '.join(extra)}")
    args.argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except KmcError as exc:
        print(f"kmc: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kmc: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
