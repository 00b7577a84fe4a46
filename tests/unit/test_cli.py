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
    assert capsys.readouterr().err == (f"kmc: error: {tmp_path}: is a directory; give a file name "
                                       "for the dataset\n")
    assert main(["run", str(deck), "-o", str(tmp_path / "a.nc"), "--figure", "f.xyz", "-q"]) == 2
    assert capsys.readouterr().err == ("kmc: error: --figure = 'f.xyz': must end in .png, .pdf or "
                                       ".svg (or be empty for none)\n")
    assert not (tmp_path / "a.nc").exists()  # checked before anything is computed


def test_bench_rejects_a_bad_coverage(capsys):
    assert main(["bench", "--coverage", "2"]) == 2
    assert capsys.readouterr().err == "kmc: error: --coverage 2.0: must lie in (0, 1)\n"


def test_overflowing_rates_are_a_config_error(tmp_path, small_deck_text, capsys):
    deck = tmp_path / "deck.toml"
    deck.write_text(small_deck_text.replace('temperature = "25 degC"', 'temperature = "0.01 K"'))
    assert main(["run", str(deck), "-o", str(tmp_path / "a.nc"), "-q"]) == 2
    assert capsys.readouterr().err == (
        "kmc: error: field.amplitude = 2e+07 V/m: hop rates overflow at temperature = 0.01 K "
        "(bias z e E a / 2kT too large); lower the field or raise the temperature\n")
