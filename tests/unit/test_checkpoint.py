"""Checkpoints: exact round trips, atomic writes, and files that must be refused without running code."""
import dataclasses
import os
import pathlib
import pickle
import re
import struct
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp

import kmc
from kmc.checkpoint import FORMAT_VERSION, load_checkpoint, save_checkpoint
from kmc.errors import CheckpointError, KmcError

# --- helpers ------------------------------------------------------------------------------------


def assert_same(got, want, where="state"):
    """Equal type, dtype, shape, sparse format and bytes, all the way down (nan bit patterns too)."""
    assert type(got) is type(want), f"{where}: {type(got)} != {type(want)}"
    if isinstance(want, dict):
        assert list(got) == list(want), where
        for k in want:
            assert_same(got[k], want[k], f"{where}[{k!r}]")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{where}[{i}]")
    elif isinstance(want, float):
        assert struct.pack("<d", got) == struct.pack("<d", want), where
    elif isinstance(want, (np.ndarray, np.generic)):
        assert got.dtype == want.dtype and got.dtype.str == want.dtype.str, where
        assert got.shape == want.shape, where
        assert got.tobytes() == want.tobytes(), where
    elif sp.issparse(want):
        assert got.format == want.format and got.shape == want.shape, where
        parts = ("data", "indices", "indptr") if want.format != "coo" else ("data",)
        for part in parts:
            assert_same(getattr(got, part), getattr(want, part), f"{where}.{part}")
        if want.format == "coo":
            assert_same(got.coords, want.coords, f"{where}.coords")
            assert got.has_canonical_format == want.has_canonical_format, where
    else:
        assert got == want, where


def round_trip(tmp_path, state, **kw):
    path = save_checkpoint(tmp_path / "run.ckpt", state, kind="plating", **kw)
    return load_checkpoint(path, kind="plating")


def refuse(path, kind="plating"):
    """Load ``path`` expecting a CheckpointError; return its (one-line) message."""
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, kind=kind)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{path}: "), msg
    return msg


def corrupt_msg(path):
    return re.compile(re.escape(f"{path}: truncated or corrupt checkpoint (") + r"[^\n]+\)")


NAN_PAYLOAD = struct.unpack("<d", struct.pack("<Q", 0x7FF8_0000_0000_0BAD))[0]
NEG_NAN = struct.unpack("<d", struct.pack("<Q", 0xFFF8_0000_0000_0000))[0]
FLOATS = [0.0, -0.0, 1.0, 0.1, -1e300, 5e-324, 1.7976931348623157e308, float("inf"), float("-inf"),
          float("nan"), NAN_PAYLOAD, NEG_NAN]
INTS = [0, 1, -1, 2**53 + 1, 2**63 - 1, 2**63, -2**63, -2**63 - 1, 2**64 + 7, 3**200, -(7**9000)]
DTYPES = [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
          np.float16, np.float32, np.float64, np.longdouble, np.complex64, np.complex128, ">f8", ">i4"]


def array_of(dtype, shape):
    n = int(np.prod(shape))
    a = (np.arange(n) * 37 % 11 - 3).astype(dtype).reshape(shape)
    if a.dtype.kind == "f" and a.size >= 3:
        a.flat[0], a.flat[1], a.flat[2] = np.nan, -np.inf, -0.0
    return a


def sample_state():
    m = sp.random(30, 20, density=0.15, format="csr", dtype=np.float64, rng=np.random.default_rng(0))
    return {
        "none": None, "true": True, "false": False, "text": "Li⁺ plating\n\"quoted\"",
        "floats": FLOATS, "ints": INTS, "tuple": (1, (2.5, "x"), [None, ()]), "empty": {},
        "nested": {"a": [{"b": (np.float32(1.5),)}], 7: "int key", -2**70: "big int key"},
        "array": np.arange(12.0).reshape(3, 4), "zero_d": np.array(3.25), "bool": np.ones((2, 0, 3), bool),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
        "rng": np.random.PCG64(1234).state,  # 128-bit ints in nested dicts, as the run loop stores
        "solver": {"x": {"v": np.linspace(0, 1, 5), "p": np.zeros(5)}, "lu_matrix": m, "lu_age": 3,
                   "amg_matrix": None, "amg_age": np.int64(0)},
    }


# --- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_round_trip_every_supported_type(tmp_path, compress):
    state = sample_state()
    assert_same(round_trip(tmp_path, state, compress=compress), state)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(), (0,), (5,), (3, 4), (2, 0, 3), (2, 3, 4, 1)], ids=str)
def test_arrays_keep_dtype_shape_and_bytes(tmp_path, dtype, shape):
    a = array_of(dtype, shape)
    state = {"a": a, "strided": a[..., ::2] if a.ndim else a, "scalar": a.reshape(-1)[:1].copy()}
    assert_same(round_trip(tmp_path, state), state)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_numpy_scalars_come_back_as_numpy_scalars(tmp_path, dtype):
    s = array_of(dtype, (4,))[3]
    nan = np.array(np.nan, dtype).reshape(())[()] if np.dtype(dtype).kind in "fc" else s
    state = {"s": s, "nan": nan}
    assert_same(round_trip(tmp_path, state), state)


def test_python_floats_and_ints_are_exact(tmp_path):
    state = {"floats": FLOATS, "ints": INTS}
    got = round_trip(tmp_path, state)
    assert_same(got, state)
    assert [struct.pack("<d", x) for x in got["floats"]] == [struct.pack("<d", x) for x in FLOATS]


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("container", ["matrix", "array"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.int32, np.bool_], ids=str)
def test_sparse_keeps_format_dtype_and_parts(tmp_path, fmt, container, dtype):
    rng = np.random.default_rng(7)
    dense = (rng.random((9, 13)) < 0.3) * rng.integers(1, 5, (9, 13))
    make = sp.csr_matrix if container == "matrix" else sp.csr_array
    m = make(dense.astype(dtype)).asformat(fmt)
    empty = make((4, 6), dtype=dtype).asformat(fmt)
    state = {"m": m, "empty": empty}
    got = round_trip(tmp_path, state)
    assert_same(got, state)
    assert sp.isspmatrix(got["m"]) == (container == "matrix")


def test_sparse_index_dtype_unsorted_and_duplicate_entries_are_kept(tmp_path):
    """The scipy constructors narrow int64 indices to int32 when they fit; the file must not."""
    csr = sp.csr_matrix((np.array([1.0, 2.0, 3.0]), np.array([2, 0, 1], np.int64),
                         np.array([0, 2, 3], np.int64)), shape=(2, 3))
    coo = sp.coo_array((np.array([1.0, 2.0, 2.0]), (np.array([1, 0, 1], np.int64),
                                                     np.array([1, 2, 1], np.int64))), shape=(2, 3))
    csr.indices, csr.indptr = csr.indices.astype(np.int64), csr.indptr.astype(np.int64)
    coo.coords = tuple(c.astype(np.int64) for c in coo.coords)
    canonical = sp.coo_matrix(np.eye(3))
    canonical.sum_duplicates()
    state = {"csr": csr, "coo": coo, "canonical": canonical}
    got = round_trip(tmp_path, state)
    assert_same(got, state)
    assert got["csr"].indices.dtype == np.int64 and got["coo"].coords[0].dtype == np.int64


def test_solver_cache_shape_round_trips(tmp_path):
    """What FieldSolver.cache_state returns: a dict of arrays, sparse matrices, ints and None."""
    a = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(8, 8), format="csc")
    cache = {"x": {"v": np.linspace(0, 1, 8), "p": np.zeros(8)}, "lu_matrix": a, "lu_age": 2,
             "amg_matrix": a.tocsr(), "amg_age": 0}
    assert_same(round_trip(tmp_path, {"solver": cache}), {"solver": cache})


# --- what save refuses --------------------------------------------------------------------------


@dataclasses.dataclass
class Point:
    x: float


@pytest.mark.parametrize("state, message", [
    ({"a": {"b": [1, {"c": object()}]}},
     "cannot checkpoint state['a']['b'][1]['c']: builtins.object is not a supported type"),
    ({"p": Point(1.0)}, f"cannot checkpoint state['p']: {__name__}.Point is not a supported type"),
    ({"s": {1, 2}}, "cannot checkpoint state['s']: builtins.set is not a supported type"),
    ({"o": np.array([None])},
     "cannot checkpoint state['o']: ndarray of dtype object (only numeric or bool numpy arrays are "
     "supported)"),
    ({"u": (np.array(["a"]),)},
     "cannot checkpoint state['u'][0]: ndarray of dtype <U1 (only numeric or bool numpy arrays are "
     "supported)"),
    ({"t": np.datetime64("2020-01-01")},
     "cannot checkpoint state['t']: numpy scalar of dtype datetime64[D]"),
    ({"m": np.matrix([[1.0]])},
     "cannot checkpoint state['m']: matrix of dtype float64 (only numeric or bool numpy arrays are "
     "supported)"),
    ({"d": sp.dia_matrix(np.eye(2))},
     "cannot checkpoint state['d']: sparse format 'dia' (only csr, csc and coo)"),
    ({"k": {1.5: 0}}, "cannot checkpoint state['k']: key 1.5 of type float (only str and int keys)"),
    ({"f": np.float32}, "cannot checkpoint state['f']: builtins.type is not a supported type"),
    ([1, 2], "cannot checkpoint state: list, expected dict"),
])
def test_unsupported_objects_raise_type_error_naming_the_key_path(tmp_path, state, message):
    path = tmp_path / "sub" / "run.ckpt"
    with pytest.raises(TypeError) as info:
        save_checkpoint(path, state, kind="plating")
    assert str(info.value) == message
    assert not path.exists() and (not path.parent.exists() or not any(path.parent.iterdir()))


def test_a_self_containing_structure_is_refused(tmp_path):
    loop = [1]
    loop.append(loop)
    with pytest.raises(TypeError) as info:
        save_checkpoint(tmp_path / "run.ckpt", {"loop": loop}, kind="plating")
    assert str(info.value) == "cannot checkpoint state['loop'][1]: the structure contains itself"


def test_failed_save_keeps_the_old_checkpoint_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "deep" / "dir" / "run.ckpt", {"n": 1}, kind="plating")
    old = path.read_bytes()
    with pytest.raises(TypeError):
        save_checkpoint(path, {"n": 2, "bad": object()}, kind="plating")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_checkpoint(path, {"n": 3}, kind="plating")
    monkeypatch.undo()
    assert sorted(p.name for p in path.parent.iterdir()) == ["run.ckpt"]
    assert path.read_bytes() == old
    assert load_checkpoint(path, kind="plating") == {"n": 1}


def test_file_layout(tmp_path):
    path = save_checkpoint(tmp_path / "run.ckpt", {"a": np.zeros(3), "b": [np.ones(2)]}, kind="plating")
    assert path == tmp_path / "run.ckpt"
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["a0.npy", "a1.npy", "header.npy", "structure.npy"]
    with np.load(path, allow_pickle=False) as npz:
        header = npz["header"].tobytes().decode()
        assert npz["header"].dtype == np.uint8 and npz["structure"].dtype == np.uint8
    assert re.fullmatch(r'\{"format":"kmc-checkpoint","format_version":1,"kind":"plating",'
                        r'"kmc_version":"[^"]+","sha256":"[0-9a-f]{64}"\}', header)
    assert f'"kmc_version":"{kmc.__version__}"' in header


# --- what load refuses --------------------------------------------------------------------------


class Touch:
    """A pickle payload: unpickling it creates ``marker``."""

    def __init__(self, marker):
        self.marker = pathlib.Path(marker)

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_a_crafted_pickle_is_refused_and_not_executed(tmp_path, protocol):
    armed = tmp_path / "armed"
    pickle.loads(pickle.dumps(Touch(armed), protocol=protocol))
    assert armed.exists()  # the payload really runs when unpickled
    marker, path = tmp_path / "pwned", tmp_path / "run.ckpt"
    path.write_bytes(pickle.dumps({"state": Touch(marker)}, protocol=protocol))
    msg = refuse(path)
    what = "a pickle" if protocol >= 2 else "not a zip archive"
    assert msg == f"{path}: not a kmc checkpoint ({what})"
    assert not marker.exists()


def test_an_npz_with_pickled_object_arrays_is_refused_and_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    evil = np.array([Touch(marker)], dtype=object)
    foreign = tmp_path / "foreign.ckpt"
    np.savez(foreign, evil=evil)
    foreign.with_suffix(".ckpt.npz").rename(foreign)
    assert refuse(foreign) == f"{foreign}: not a kmc checkpoint (an archive without a kmc-checkpoint header)"
    # a genuine header and structure, with one member swapped for a pickled object array
    path = save_checkpoint(tmp_path / "run.ckpt", {"a": np.zeros(3)}, kind="plating")
    with np.load(path) as npz:
        members = dict(npz)
    for name in ("a0", "header"):
        with open(tmp_path / "swapped.ckpt", "wb") as f:
            np.savez(f, **dict(members, **{name: evil}))
        assert corrupt_msg(tmp_path / "swapped.ckpt").fullmatch(refuse(tmp_path / "swapped.ckpt"))
    np.save(tmp_path / "evil.npy", evil, allow_pickle=True)
    assert refuse(tmp_path / "evil.npy") == f"{tmp_path / 'evil.npy'}: not a kmc checkpoint (a .npy file)"
    assert not marker.exists()


@pytest.mark.parametrize("fraction", [0.5, 0.125, 0.875, 0.999])
def test_a_truncated_checkpoint_is_refused(tmp_path, fraction):
    path = save_checkpoint(tmp_path / "run.ckpt", sample_state(), kind="plating")
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])
    assert corrupt_msg(path).fullmatch(refuse(path))


@pytest.mark.parametrize("compress", [False, True])
def test_every_64_byte_flip_is_detected(tmp_path, compress):
    path = save_checkpoint(tmp_path / "run.ckpt", sample_state(), kind="plating", compress=compress)
    data = path.read_bytes()
    offsets = sorted({len(data) * k // 8 for k in range(1, 8)} | set(range(0, len(data) - 64, 97)))
    for offset in offsets:
        bad = bytearray(data)
        bad[offset:offset + 64] = bytes(b ^ 0xFF for b in bad[offset:offset + 64])
        path.write_bytes(bytes(bad))
        msg = refuse(path)
        assert corrupt_msg(path).fullmatch(msg) or msg in (
            f"{path}: checksum mismatch: the file is corrupt",
            f"{path}: not a kmc checkpoint (not a zip archive)"), (offset, msg)


def test_no_single_byte_flip_resumes_into_a_different_state(tmp_path):
    """Every byte, one at a time: refused, or harmless (zip timestamps etc.) and the same state."""
    state = {"a": np.arange(6, dtype=np.int32), "t": 1.5, "m": sp.csr_matrix(np.eye(2))}
    path = save_checkpoint(tmp_path / "run.ckpt", state, kind="plating")
    data = path.read_bytes()
    refused = 0
    for offset in range(len(data)):
        bad = bytearray(data)
        bad[offset] ^= 0xFF
        path.write_bytes(bytes(bad))
        try:
            got = load_checkpoint(path, kind="plating")
        except CheckpointError as exc:
            refused += 1
            assert "\n" not in str(exc)
        else:
            assert_same(got, state, f"state (byte {offset} flipped)")
    assert refused > len(data) // 2  # most bytes are content: the flip must have been seen


def test_rewritten_members_with_valid_zip_crcs_fail_the_checksum(tmp_path):
    """Corruption the zip layer cannot see: members rewritten with fresh CRCs."""
    path = save_checkpoint(tmp_path / "run.ckpt", {"a": np.arange(4.0), "n": 1}, kind="plating")
    with np.load(path) as npz:
        members = dict(npz)
    header = members["header"].tobytes().decode()
    changes = [{"a0": np.arange(4.0)[::-1].copy()}, {"a0": np.arange(4.0).astype(np.float32)},
               {"a0": np.arange(4.0).reshape(2, 2)}, {"extra": np.zeros(1)},
               {"structure": np.frombuffer(members["structure"].tobytes().replace(b'"n",1', b'"n",2'),
                                           np.uint8)},
               {"header": np.frombuffer(header.replace('"kmc_version":"', '"kmc_version":"9').encode(),
                                        np.uint8)}]
    for change in changes:
        with open(path, "wb") as f:
            np.savez(f, **dict(members, **change))
        assert refuse(path) == f"{path}: checksum mismatch: the file is corrupt", change
    without = {k: v for k, v in members.items() if k != "a0"}
    with open(path, "wb") as f:
        np.savez(f, **without)
    assert refuse(path) == f"{path}: checksum mismatch: the file is corrupt"


def test_foreign_files_are_refused(tmp_path):
    xr = pytest.importorskip("xarray")
    text = tmp_path / "notes.ckpt"
    text.write_text("time,voltage\n0,3.7\n")
    assert refuse(text) == f"{text}: not a kmc checkpoint (not a zip archive)"
    empty = tmp_path / "empty.ckpt"
    empty.write_bytes(b"")
    assert refuse(empty) == f"{empty}: not a kmc checkpoint (an empty file)"
    npz = tmp_path / "foreign.npz"
    np.savez(npz, x=np.arange(3))
    assert refuse(npz) == f"{npz}: not a kmc checkpoint (an archive without a kmc-checkpoint header)"
    other = tmp_path / "other.npz"
    np.savez(other, header=np.frombuffer(b'{"format":"something-else"}', np.uint8))
    assert refuse(other) == f"{other}: not a kmc checkpoint (header format is not 'kmc-checkpoint')"
    plain_zip = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.writestr("readme.txt", "hello")
    no_header = "not a kmc checkpoint (an archive without a kmc-checkpoint header)"
    assert refuse(plain_zip) == f"{plain_zip}: {no_header}"
    empty_zip = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty_zip, "w"):
        pass
    assert refuse(empty_zip) == f"{empty_zip}: not a kmc checkpoint (an empty zip archive)"
    ds = xr.Dataset({"v": ("time", np.arange(3.0))})
    for engine, what in [("netcdf4", "an HDF5/netCDF-4 file"), ("scipy", "a netCDF-3 file")]:
        nc = tmp_path / f"run-{engine}.nc"
        ds.to_netcdf(nc, engine=engine)
        assert refuse(nc) == f"{nc}: not a kmc checkpoint ({what})"


def test_missing_file_wrong_kind_and_wrong_version(tmp_path):
    missing = tmp_path / "nope.ckpt"
    assert refuse(missing) == f"{missing}: checkpoint not found"
    path = save_checkpoint(tmp_path / "run.ckpt", {"n": 1}, kind="lattice_gas")
    assert refuse(path) == f"{path}: a 'lattice_gas' checkpoint, expected 'plating'"
    assert load_checkpoint(path, kind="lattice_gas") == {"n": 1}
    with np.load(path) as npz:
        members = dict(npz)
    header = members["header"].tobytes().replace(b'"format_version":1', b'"format_version":2')
    with open(path, "wb") as f:
        np.savez(f, **dict(members, header=np.frombuffer(header, np.uint8)))
    assert refuse(path) == (f"{path}: checkpoint format version 2, this kmc ({kmc.__version__}) reads "
                            f"version {FORMAT_VERSION}")


def test_checkpoint_error_is_a_kmc_error():
    assert issubclass(CheckpointError, KmcError)
