"""The command line: runs write a dataset and figure; user errors are one line, exit 2."""
import subprocess
import sys

import pytest
import xarray as xr

from kmc.cli import main


def test_run_writes_dataset_and_figure(tmp_path, small_deck_text, capsys):
    deck = tmp_path / "deck.toml"
    deck.write_text(small_deck_text)
    out, fig = tmp_path / "out" / "run.nc", tmp_path / "out" / "run.png"
    assert main(["run", str(deck), "-o", str(out), "--figure", str(fig), "-q"]) == 0
    ds = xr.load_dataset(out)
    assert ds.sizes["time"] == 31 and ds.attrs["stop_reason"] == "duration"
    assert fig.stat().st_size > 10_000
    assert main(["analyze", str(out)]) == 0
    assert "tracer diffusion coefficient D =" in capsys.readouterr().out


def test_bad_deck_prints_one_line_and_exits_2(tmp_path):
    deck = tmp_path / "deck.toml"
    deck.write_text('model = "lattice_gas"\n[lattice]\nshape = [8, 8]\n[run]\nduration = "-1 s"\n')
    proc = subprocess.run([sys.executable, "-m", "kmc.cli", "run", str(deck)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr == (f"kmc: error: {deck}: run.duration = '-1 s': out of range, "
                           "must be > 0 s\n")


@pytest.mark.parametrize("content,problem", [
    (b"", "not a readable netCDF dataset (OSError)"),
    (b"\x89HDF\r\n\x1a\n broken", "not a readable netCDF dataset (OSError)"),
    # a header-only netCDF-3 file opens as an empty dataset
    (b"CDF\x01garbage", "not a kmc lattice-gas dataset (missing msd, mean_displacement, hop_rate, "
                          "attribute config_json)"),
])
def test_corrupt_dataset_is_one_line(tmp_path, content, problem, capsys):
    path = tmp_path / "broken.nc"
    path.write_bytes(content)
    assert main(["analyze", str(path)]) == 2
    assert capsys.readouterr().err == f"kmc: error: {path}: {problem}\n"


def test_missing_dataset(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "none.nc")]) == 2
    assert capsys.readouterr().err == f"kmc: error: {tmp_path / 'none.nc'}: dataset not found\n"


def test_output_to_a_directory_or_bad_figure_is_one_line(tmp_path, small_deck_text, capsys):
    deck = tmp_path / "deck.toml"
    deck.write_text(small_deck_text)
    assert main(["run", str(deck), "-o", str(tmp_path), "--figure", "", "-q"]) == 2
    assert capsys.readouterr().err == (f"kmc: error: output.dataset = '{tmp_path}': is a directory; "
                                       "give a file name\n")
    assert main(["run", str(deck), "-o", str(tmp_path / "a.nc"), "--figure", "f.xyz", "-q"]) == 2
    assert capsys.readouterr().err == ("kmc: error: --figure = 'f.xyz': must end in .png, .pdf or "
                                       ".svg (or be empty for none)\n")
    assert not (tmp_path / "a.nc").exists()  # checked before anything is computed


def test_bench_rejects_a_bad_coverage(capsys):
    assert main(["bench", "--coverage", "2"]) == 2
    assert capsys.readouterr().err == "kmc: error: --coverage 2.0: must lie in (0, 1)\n"


def test_overflowing_rates_are_a_config_error(tmp_path, small_deck_text, capsys):
    deck = tmp_path / "deck.toml"
    deck.write_text(small_deck_text.replace('temperature = "25 degC"', 'temperature = "150 K"')
                    .replace('amplitude = "2e7 V/m"', 'amplitude = "1e10 V/m"')
                    .replace('spacing = "0.5 nm"', 'spacing = "100 nm"'))
    assert main(["run", str(deck), "-o", str(tmp_path / "a.nc"), "-q"]) == 2
    assert capsys.readouterr().err == (
        "kmc: error: field.amplitude = 1e+10 V/m: hop rates overflow at temperature = 150 K "
        "(bias z e E a / 2kT too large); lower the field or raise the temperature\n")


def test_existing_dataset_needs_force_and_unwritable_paths_fail_first(tmp_path, small_deck_text, capsys):
    """A dataset is never overwritten silently, and a path that cannot be written fails before
    any compute is spent (one line each)."""
    deck = tmp_path / "deck.toml"
    deck.write_text(small_deck_text)
    out = tmp_path / "a.nc"
    assert main(["run", str(deck), "-o", str(out), "--figure", "", "-q"]) == 0
    stamp = out.stat().st_mtime_ns
    assert main(["run", str(deck), "-o", str(out), "--figure", "", "-q"]) == 2
    assert capsys.readouterr().err == (f"kmc: error: output.dataset = '{out}': exists; pass --force "
                                       "to overwrite it, or -o to write elsewhere\n")
    assert out.stat().st_mtime_ns == stamp
    assert main(["run", str(deck), "-o", str(out), "--figure", "", "-q", "--force"]) == 0
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["run", str(deck), "-o", str(blocker / "sub" / "b.nc"), "--figure", "", "-q"]) == 2
    assert capsys.readouterr().err == (f"kmc: error: output.dataset = '{blocker / 'sub' / 'b.nc'}': "
                                       f"cannot write there ({blocker} is not a writable directory)\n")


def test_set_overrides_a_deck_value_with_units(tmp_path, small_deck_text, capsys):
    """`--set KEY=VALUE` changes the deck as a validated override: the dataset records the new
    value in SI, and a bad key or value is one line naming it."""
    import json

    from kmc.output import open_dataset

    deck = tmp_path / "deck.toml"
    deck.write_text(small_deck_text)
    out = tmp_path / "a.nc"
    assert main(["run", str(deck), "-o", str(out), "--figure", "", "-q",
                 "--set", "conditions.temperature=60 degC", "--set", "run.seed=7"]) == 0
    cfg = json.loads(open_dataset(out).attrs["config_json"])
    assert cfg["conditions"]["temperature"] == pytest.approx(333.15) and cfg["run"]["seed"] == 7
    assert main(["run", str(deck), "-o", str(out), "-q", "--set", "conditions.temprature=3 K"]) == 2
    assert capsys.readouterr().err == (
        "kmc: error: conditions.temprature: unknown key; did you mean 'temperature'? (allowed in "
        "conditions: temperature, stack_pressure, applied_stress, magnetic_field)\n")


def test_the_command_limits_blas_threads_before_numpy_loads():
    """`kmc` sets OPENBLAS_NUM_THREADS=1 before numpy is imported (threaded dense kernels
    inside sparse solves spin-wait and slow 3D runs several-fold on shared cores), so importing
    the command line must not import numpy."""
    code = "import sys, kmc.cli; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
