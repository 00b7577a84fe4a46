"""Ensembles (kmc.ensemble, `kmc ensemble`): seeds from SeedSequence(seed) and the task index,
the same data for any executor (serial, a process pool, mpiexec), failed tasks recorded while
the others finish, resume after SIGKILL without recomputing, one-line configuration errors
(asserted whole). Every run uses fixed seeds: exactly reproducible."""
import concurrent.futures as cf
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import kmc
from kmc.cli import main
from kmc.deck import EnsembleConfig, loads_deck
from kmc.ensemble import Ensemble, task_seed
from kmc.executors import SerialExecutor, executor, mpi_size
from kmc.errors import ConfigError
from kmc.output import open_dataset

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

#: 5 x 8 um, one flaw: at 40 mA/cm^2 some replicas short within 300 s, the others are censored.
DECK = """
model = "plating"
[cell]
thickness = "8 um"
width = "5 um"
[microstructure]
kind = "voronoi"
grain_size = "2 um"
flaws = {{ depth = "2 um", width = "0.5 um", x_positions = ["2.5 um"] }}
[material]
name = "llzo"
li_metal = {{ creep_reference_stress = "95 MPa" }}
[protocol]
current_density = "10 mA/cm^2"
[run]
duration = "300 s"
observations = {observations}
snapshots = 2
seed = 3
[ensemble]
replicas = {replicas}
vary = "{vary}"
{extra}
[ensemble.sweep]
{sweep}
[output]
dataset = "results/ens.nc"
figure = ""
"""
SWEEP = '"protocol.current_density" = ["20 mA/cm^2", "40 mA/cm^2"]'


def deck_text(replicas=4, vary="kinetics", sweep=SWEEP, observations=11, extra=""):
    return DECK.format(replicas=replicas, vary=vary, sweep=sweep, observations=observations,
                       extra=extra)


def write_deck(tmp_path, **kw) -> Path:
    path = tmp_path / "ens.toml"
    path.write_text(deck_text(**kw))
    return path


def data_only(ds):
    return ds.drop_attrs()


def test_tasks_and_seeds_follow_the_documented_order():
    """Task i = point * replicas + replica (last sweep key fastest); its seed is drawn from
    SeedSequence(master).spawn(n)[i], whatever runs it."""
    deck = loads_deck(deck_text(replicas=2, sweep=SWEEP + '\n"conditions.temperature" = '
                                '["25 degC", "40 degC", "60 degC"]'))
    ens = Ensemble(deck, tasks="unused")
    assert len(ens.tasks) == 2 * 3 * 2
    children = np.random.SeedSequence(3).spawn(len(ens.tasks))
    for t in ens.tasks:
        assert t.index == t.point * 2 + t.replica
        assert t.seed == int(children[t.index].generate_state(1, np.uint64)[0] >> np.uint64(1))
        assert t.seed == task_seed(3, t.index) and 0 <= t.seed < 2**63
    assert ens.tasks[3].overrides == {"protocol.current_density": "20 mA/cm^2",
                                      "conditions.temperature": "40 degC"}
    assert list(ens.axes) == ["current_density", "temperature"]
    assert ens.task_deck(ens.tasks[3]).run.seed == ens.tasks[3].seed
    assert ens.task_deck(ens.tasks[3]).conditions.temperature == pytest.approx(313.15)


def test_a_deck_without_ensemble_is_one_task_and_runs_unchanged():
    """The [ensemble] defaults (no sweep, one replica) leave a deck as it was."""
    text = deck_text().split("[ensemble]")[0] + '[output]\ndataset = "x.nc"\n'
    deck = loads_deck(text)
    assert deck.ensemble == EnsembleConfig(replicas=1, vary="kinetics", combine="product",
                                           sweep={}, tasks="")
    ens = Ensemble(deck)
    assert [(t.index, t.overrides) for t in ens.tasks] == [(0, {})]
    assert ens.directory == Path("x.tasks")


def test_same_data_serial_two_workers_and_mpiexec(tmp_path):
    """Acceptance (1): 2 sweep points x 4 replicas give identical data variables in process,
    on 2 worker processes and under `mpiexec -n 2` (a subprocess)."""
    path = write_deck(tmp_path)
    serial = Ensemble(kmc.load_deck(path), tasks=tmp_path / "serial")
    run = serial.run()
    assert (run.total, run.computed, run.reused, run.failed, run.stopped) == (8, 8, 0, {}, "")
    ds = serial.merge()
    with executor(2) as pool:
        assert isinstance(pool, cf.ProcessPoolExecutor)
        pooled = Ensemble(kmc.load_deck(path), tasks=tmp_path / "pool")
        assert pooled.run(pool).computed == 8
    xr.testing.assert_identical(data_only(ds), data_only(pooled.merge()))

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_"))}
    for ranks in (2, 3):  # 3 ranks on 2 cores: oversubscribed, still the same data
        out = tmp_path / f"mpi{ranks}.nc"
        proc = subprocess.run([str(BIN / "mpiexec"), "-n", str(ranks), str(BIN / "kmc"),
                               "ensemble", str(path), "-o", str(out), "-q"],
                              capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env)
        assert proc.returncode == 0, proc.stderr
        assert f"running 8 on {ranks} MPI ranks" in proc.stdout
        xr.testing.assert_identical(data_only(ds), data_only(open_dataset(out)))

    # the merged layout: sweep axis in SI with its units, replica, the common time grid
    assert ds["t_short"].dims == ("current_density", "replica")
    assert ds["voltage"].dims == ("current_density", "replica", "time")
    assert ds["current_density"].values.tolist() == [200.0, 400.0]
    assert ds["current_density"].attrs["units"] == "A/m^2"
    assert ds["current_density"].attrs["deck_key"] == "protocol.current_density"
    assert "current_density_observed" in ds  # the series of the same name
    np.testing.assert_array_equal(ds["time"].values, np.linspace(0, 300, 11))
    assert ds["seed"].values.ravel().tolist() == [task_seed(3, i) for i in range(8)]
    assert (ds["microstructure_seed"] == 3).all()  # vary = kinetics: one cell per point
    reasons = ds["stop_reason"].values
    assert set(reasons.ravel()) <= {"short", "duration"} and "short" in reasons[1]
    censored = reasons == "duration"
    assert np.isnan(ds["t_short"].values[censored]).all()
    assert not np.isnan(ds["t_short"].values[~censored]).any()
    # NaN on the grid after a run stopped, and its stop time kept
    i, r = np.argwhere(~censored)[0]
    stop = float(ds["stop_time"][i, r])
    v = ds["voltage"].values[i, r]
    assert np.isnan(v[ds["time"].values > stop]).all() and not np.isnan(v[ds["time"].values < stop]).any()
    assert json.loads(ds.attrs["config_json"])["ensemble"]["replicas"] == 4
    assert ds.attrs["kmc_version"] == kmc.__version__ and "kmc.Ensemble.merge" in ds.attrs["history"]


def test_vary_microstructure_builds_a_cell_per_task(tmp_path):
    ens = Ensemble(kmc.load_deck(write_deck(tmp_path, replicas=2, vary="microstructure")),
                   tasks=tmp_path / "t")
    ens.run(SerialExecutor())
    ds = ens.merge()
    np.testing.assert_array_equal(ds["microstructure_seed"].values, ds["seed"].values)
    grains = [open_dataset(ens.path(t))["grain"].values for t in ens.tasks[:2]]
    assert not np.array_equal(*grains)


def test_a_failing_task_is_recorded_and_the_others_finish(tmp_path, capsys, monkeypatch):
    """Acceptance (2): a sweep value valid at load that fails at set-up (an isolated Li
    inclusion too long for the cell, which then touches an electrode) gives an error record per
    task; the others finish; exit status 5."""
    monkeypatch.chdir(tmp_path)
    path = write_deck(tmp_path, replicas=2,
                      sweep='"microstructure.inclusion.length" = ["1 um", "20 um"]')
    assert main(["ensemble", str(path), "-o", "out.nc"]) == 5
    out, err = capsys.readouterr()
    ens = Ensemble(kmc.load_deck(path), tasks="out.tasks")
    records = ens.errors()
    assert sorted(records) == [2, 3]
    message = records[2]["message"]
    assert records[2] == {"index": 2, "error_class": "ConfigError", "message": message,
                          "overrides": {"microstructure.inclusion.length": "20 um"},
                          "seed": task_seed(3, 2)}
    assert message == ("microstructure.inclusion (length 2e-05 m, angle 0 deg): touches an "
                       "electrode; it must be isolated")
    assert err.splitlines() == [
        "kmc: 2 task(s) failed (records in out.tasks):",
        f"  task-000002 {{'microstructure.inclusion.length': '20 um'}}: ConfigError: {message}",
        f"  task-000003 {{'microstructure.inclusion.length': '20 um'}}: ConfigError: {message}"]
    assert "[3/4] task-000002 length=20 um replica 0: failed: ConfigError: " in out
    ds = open_dataset("out.nc")
    assert ds["stop_reason"].values.tolist()[1] == ["error", "error"]
    assert ds["error"].values.tolist() == [["", ""], [f"ConfigError: {message}"] * 2]
    assert np.isnan(ds["t_short"].values[1]).all() and np.isnan(ds["voltage"].values[1]).all()
    np.testing.assert_allclose(ds["length"].values, [1e-6, 2e-5], rtol=1e-12)  # SI (pint)
    assert ds.attrs["failed_tasks"] == 2
    # a second run reuses the finished tasks and tries the failed ones again
    assert main(["ensemble", str(path), "-o", "out.nc", "--force", "-q"]) == 5
    assert "(4 tasks: 2 duration, 2 error; 0 computed, 2 reused;" in capsys.readouterr().out


def test_an_unknown_material_in_a_sweep_fails_at_load(tmp_path, capsys):
    """A swept material set that does not exist is a one-line error before any compute."""
    path = write_deck(tmp_path, replicas=2, sweep='"material.name" = ["llzo", "unobtainium"]')
    assert main(["ensemble", str(path), "-o", str(tmp_path / "out.nc")]) == 2
    err = capsys.readouterr().err
    assert err == (f"kmc: error: {path}: ensemble.sweep: at material.name = 'unobtainium': "
                   "material.name = 'unobtainium': unknown material (available: li3ps4, "
                   "li6ps5cl, lipon, llzo, llzo_single_crystal)\n")
    assert not (tmp_path / "out.tasks").exists()


SLOW = dict(replicas=3, observations=1500)  # ~0.4 s a task: time to kill it half-way


def _kmc(*args, cwd):
    return subprocess.Popen([str(BIN / "kmc"), *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_tasks(directory: Path, n: int, proc, limit=60.0):
    end = time.monotonic() + limit
    while len(list(directory.glob("task-*.nc"))) < n:
        assert proc.poll() is None, "the ensemble finished before it could be stopped"
        assert time.monotonic() < end
        time.sleep(0.01)


def test_sigkill_half_way_then_resume_recomputes_nothing_finished(tmp_path):
    """Acceptance (2): an ensemble killed with SIGKILL after two tasks resumes: the finished
    task files are untouched (inode, mtime) and the merge equals an uninterrupted run's."""
    path = write_deck(tmp_path, **SLOW)
    tasks = tmp_path / "ens.tasks"
    proc = _kmc("ensemble", str(path), "-o", "ens.nc", cwd=tmp_path)
    _wait_for_tasks(tasks, 2, proc)
    proc.kill()
    proc.wait(timeout=30)
    finished = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tasks.glob("task-*.nc")}
    assert 2 <= len(finished) < 6 and not (tmp_path / "ens.nc").exists()

    done = subprocess.run([str(BIN / "kmc"), "ensemble", str(path), "-o", "ens.nc", "-q"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{6 - len(finished)} computed, {len(finished)} reused" in done.stdout
    assert {p: (tasks / p).stat().st_ino for p in finished} == {p: v[0] for p, v in finished.items()}
    assert {p: (tasks / p).stat().st_mtime_ns for p in finished} == {p: v[1] for p, v in finished.items()}

    whole = Ensemble(kmc.load_deck(path), tasks=tmp_path / "whole")
    whole.run()
    xr.testing.assert_identical(data_only(open_dataset(tmp_path / "ens.nc")),
                                data_only(whole.merge()))


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]], ids=["serial", "pool"])
def test_sigterm_keeps_finished_tasks_and_exits_143(tmp_path, workers):
    path = write_deck(tmp_path, **SLOW)
    proc = _kmc("ensemble", str(path), "-o", "ens.nc", *workers, cwd=tmp_path)
    _wait_for_tasks(tmp_path / "ens.tasks", 1, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    kept = len(list((tmp_path / "ens.tasks").glob("task-*.nc")))
    assert 1 <= kept < 6 and not (tmp_path / "ens.nc").exists()
    assert err.splitlines()[-1].startswith("kmc: terminated: ")
    assert err.splitlines()[-1].endswith(f"{kept} of 6 kept in ens.tasks; run the same command "
                                         "again to resume")


def test_another_ensemble_in_the_same_tasks_directory_is_refused(tmp_path):
    first = Ensemble(kmc.load_deck(write_deck(tmp_path, replicas=1)), tasks=tmp_path / "t")
    first.prepare()
    other = Ensemble(kmc.load_deck(write_deck(tmp_path, replicas=2)), tasks=tmp_path / "t")
    with pytest.raises(kmc.KmcError) as info:
        other.run()
    assert str(info.value) == (f"{tmp_path / 't'}: holds the tasks of another ensemble (its "
                               "ensemble.json differs from this deck); delete it to start afresh, "
                               "or set ensemble.tasks elsewhere")


PROTOCOL_KEYS = ("kind, current_density, period, duty, reverse, pulses, capacity, strip_current_density, "
                 "step, cycles")


@pytest.mark.parametrize("extra,sweep,message", [
    ("", '"protocol.current_densty" = ["1 mA/cm^2"]',
     "ensemble.sweep: protocol.current_densty: unknown key; did you mean 'current_density'? "
     f"(allowed in protocol: {PROTOCOL_KEYS})"),
    ("", '"protocol.current_density" = ["1 mA/cm^2", "2e9 A/m^2"]',
     "ensemble.sweep: protocol.current_density = '2e9 A/m^2' (= 2e+09 A/m^2): out of range, "
     "must be in [-100000, 100000] A/m^2"),
    ("", '"protocol.current_density" = ["10 mA/cm^2", "100 A/m^2"]',
     "ensemble.sweep.protocol.current_density: '100 A/m^2' gives the same value as "
     "'10 mA/cm^2'; every value of an axis must differ"),
    ("", '"protocol.current_density" = "10 mA/cm^2"',
     "ensemble.sweep.protocol.current_density = '10 mA/cm^2': expected a non-empty list of values"),
    ("", '"run.seed" = [1, 2]',
     "ensemble.sweep.run.seed: not a sweep axis (each task's seed is drawn from the master "
     "run.seed; use ensemble.replicas)"),
    ("", '"microstructure.flaws" = [{ depth = "1 um" }]',
     "ensemble.sweep.microstructure.flaws: names a table; sweep one of its keys"),
    ('combine = "zip"', SWEEP + '\n"conditions.temperature" = ["25 degC", "40 degC", "60 degC"]',
     "ensemble.combine = 'zip': the sweep lists must have one length, got "
     "protocol.current_density: 2, conditions.temperature: 3"),
    ("", '"microstructure.flaws.depth" = ["2 um", "7.9 um"]\n"cell.thickness" = ["8 um", "6 um"]',
     "ensemble.sweep: at microstructure.flaws.depth = '7.9 um', cell.thickness = '6 um': "
     "microstructure.flaws.depth = 7.9e-06 m: must be less than the thickness 6e-06 m "
     "(the flaw would short the cell)"),
    ('vary = "cells"', SWEEP,
     "ensemble.vary = 'cells': must be one of kinetics, microstructure"),
])
def test_ensemble_errors_are_one_line(tmp_path, capsys, extra, sweep, message):
    text = deck_text(sweep=sweep, extra=extra).replace('vary = "kinetics"\nvary = "cells"',
                                                        'vary = "cells"')
    with pytest.raises(ConfigError) as info:
        loads_deck(text)
    assert str(info.value) == f"<deck>: {message}"
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["ensemble", str(path)]) == 2
    assert capsys.readouterr().err == f"kmc: error: {path}: {message}\n"
    assert not (tmp_path / "results").exists()


def test_mpi_is_detected_from_the_launcher_environment_only(monkeypatch):
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert mpi_size() == 1
    with executor() as ex:
        assert isinstance(ex, SerialExecutor)
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    assert mpi_size() == 4
    with pytest.raises(ConfigError) as info, executor(2):
        pass
    assert str(info.value) == ("--workers 2: under mpiexec the ranks are the workers; leave "
                               "--workers out")
    code = ("import sys, kmc.executors as e\nwith e.executor() as ex: ex.submit(len, 'ab')\n"
            "print('mpi4py' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_"))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout == "False\n", out.stderr  # mpi4py is imported on the MPI path only


def test_under_mpiexec_every_rank_runs_tasks(tmp_path):
    """Rank 0 computes too: with `mpiexec -n 2` both ranks write task files (the rank is a
    diagnostic attribute of each task file, not a data variable); the counter hands out
    every task exactly once."""
    path = write_deck(tmp_path, replicas=8, sweep='"protocol.current_density" = ["40 mA/cm^2"]')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_"))}
    proc = subprocess.run([str(BIN / "mpiexec"), "-n", "2", str(BIN / "kmc"), "ensemble",
                           str(path), "-o", "mpi.nc"],
                          capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    files = sorted((tmp_path / "mpi.tasks").glob("task-*.nc"))
    assert [f.name for f in files] == [f"task-{i:06d}.nc" for i in range(8)]
    ranks = [int(open_dataset(f).attrs["ensemble_rank"]) for f in files]
    assert set(ranks) == {0, 1}, ranks
    assert sorted(int(line.split("/")[0][1:]) for line in proc.stdout.splitlines()
                  if line.startswith("[")) == list(range(1, 9))  # one progress line per task
    assert "ensemble_rank" not in open_dataset(tmp_path / "mpi.nc").data_vars


def test_under_a_launcher_without_mpi4py_the_error_says_how_to_install_it(tmp_path):
    """mpi4py is an extra: `kmc ensemble` under a launcher's environment without it is one
    line naming the extra (exit 2); outside a launcher it runs in process."""
    path = write_deck(tmp_path, replicas=1, sweep=SWEEP)
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "from kmc.cli import main\nsys.exit(main(sys.argv[1:]))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_"))}
    proc = subprocess.run([sys.executable, "-c", code, "ensemble", str(path), "-o", "a.nc", "-q"],
                          capture_output=True, text=True, cwd=tmp_path, env={**env, "PMI_SIZE": "2"})
    assert proc.returncode == 2
    assert proc.stderr == (
        "kmc: error: started by an MPI launcher (2 ranks) but mpi4py is not installed: install "
        "the mpi extra (pip install 'kmc-li-plating[mpi]', or make install in a checkout; "
        "against a cluster's own MPI: pip install --no-binary=mpi4py mpi4py), or run without "
        "mpiexec\n")
    assert not (tmp_path / "a.tasks").exists()
    proc = subprocess.run([sys.executable, "-c", code, "ensemble", str(path), "-o", "a.nc", "-q"],
                          capture_output=True, text=True, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "running 2 in process" in proc.stdout


def test_a_process_pool_is_started_before_it_is_yielded():
    """The pool's start-up (workers and their imports) happens before `executor` yields, so
    that the ensemble's task phase does not count it."""
    with executor(2) as pool:
        assert len(pool._processes) == 2


def test_the_bundled_ensemble_deck_loads_with_its_sweep():
    ens = Ensemble(kmc.load_deck("llzo_ensemble_2d"))
    assert len(ens.tasks) == 8 and list(ens.axes) == ["current_density"]
    assert ens.directory == Path("results/llzo_ensemble_2d.tasks")


def test_a_sweep_over_the_duration_merges_without_gaps(tmp_path):
    """Points with different observation grids (a sweep over run.duration): each run's series
    holds its last observation at every time of the union grid up to its stop, NaN after."""
    path = write_deck(tmp_path, replicas=1, sweep='"run.duration" = ["20 s", "45 s"]',
                      observations=5)
    ens = Ensemble(kmc.load_deck(path), tasks=tmp_path / "t")
    ens.run()
    ds = ens.merge()
    grid = ds.time.values
    assert grid.tolist() == [0.0, 5.0, 10.0, 11.25, 15.0, 20.0, 22.5, 33.75, 45.0]
    for point in range(2):
        v = ds.events.isel(duration=point, replica=0).values
        stop = float(ds.stop_time.isel(duration=point, replica=0))
        assert np.all(np.isfinite(v[grid <= stop])) and np.all(np.isnan(v[grid > stop]))
        own = open_dataset(ens.path(ens.tasks[point]))
        for t, value in zip(grid[grid <= stop], v[grid <= stop]):
            last = own.events.values[own.time.values <= t][-1]
            assert value == last


def test_a_killed_idle_pool_worker_does_not_hang_the_ensemble(tmp_path):
    """An idle pool worker waits for work holding the task queue's lock; killed there, it
    leaves the lock held, the busy worker blocks on it once its task stops, ignoring SIGTERM,
    and the pool's shutdown waited for it forever (CI hung here). The ensemble now kills the
    workers of a broken pool, so the run and the pool's shutdown end. One long task on two
    workers; the idle one (no CPU time while the other computes) is killed. In a subprocess
    with a time limit, so that a hang fails the test instead of stalling the suite."""
    path = write_deck(tmp_path, replicas=1, observations=20000,
                      sweep='"protocol.current_density" = ["1 mA/cm^2"]')
    script = tmp_path / "kill_idle.py"
    script.write_text(textwrap.dedent("""
        import os, signal, sys, threading, time
        import kmc
        from kmc.ensemble import Ensemble
        from kmc.executors import executor

        def cpu_ticks(pid):  # utime + stime
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])

        if __name__ == "__main__":
            ens = Ensemble(kmc.load_deck(sys.argv[1]), tasks=sys.argv[2])
            result = {}
            with executor(2) as pool:
                start = {pid: cpu_ticks(pid) for pid in pool._processes}
                runner = threading.Thread(target=lambda: result.setdefault("run", ens.run(pool)))
                runner.start()
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    used = {pid: cpu_ticks(pid) - start[pid] for pid in start}
                    if max(used.values()) >= 50:  # 0.5 s of CPU: the task is running
                        break
                    time.sleep(0.1)
                idle = min(used, key=used.get)
                print("idle worker used", used[idle], "ticks", flush=True)
                os.kill(idle, signal.SIGKILL)
                runner.join()
            print("broken", result["run"].broken, "computed", result["run"].computed)
        """))
    proc = subprocess.Popen([sys.executable, str(script), str(path), str(tmp_path / "t")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=150)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the script, its pool and the forkserver
        proc.communicate()
        pytest.fail("the ensemble or its pool's shutdown hung after an idle worker was killed")
    assert proc.returncode == 0, err
    assert "idle worker used 0 ticks" in out or "idle worker used 1 ticks" in out, out
    assert "broken True computed 0" in out, out


def test_a_killed_pool_worker_blames_no_task_and_a_rerun_finishes(tmp_path):
    """A process-pool worker killed mid-task (as by the out-of-memory killer) breaks the pool:
    the ensemble stops submitting, records no error for the tasks that were running (which one
    killed the worker is unknown), keeps the finished ones, and a rerun completes the rest."""
    import threading

    path = write_deck(tmp_path, **SLOW)
    ens = Ensemble(kmc.load_deck(path), tasks=tmp_path / "t")
    result = {}
    with executor(2) as pool:
        runner = threading.Thread(target=lambda: result.setdefault("run", ens.run(pool)))
        runner.start()
        deadline = time.monotonic() + 60
        while not list(ens.directory.glob("task-*.nc")) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(next(iter(pool._processes)), signal.SIGKILL)
        runner.join(120)
    run = result["run"]
    assert run.broken and not run.stopped and not run.failed and ens.errors() == {}
    done = len(list(ens.directory.glob("task-*.nc")))
    # a task whose worker wrote its file but whose outcome was lost with the pool is reused
    assert 1 <= done < len(ens.tasks) and run.computed <= done
    again = ens.run()
    assert again.reused == done and again.computed == len(ens.tasks) - done and not again.broken
