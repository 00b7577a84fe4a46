"""Simulation checkpoints in a data-only format (no pickle: reading a checkpoint runs no code).

A checkpoint is one uncompressed (or compressed) ``.npz`` archive, read back with
``np.load(..., allow_pickle=False)``. Its members are

``header``
    ASCII JSON as a uint8 array: ``format = "kmc-checkpoint"``, ``format_version``, ``kind``
    (what wrote it, e.g. ``"plating"``), ``kmc_version`` and ``sha256``.
``structure``
    ASCII JSON as a uint8 array: the nested state, with every array replaced by a reference to
    a member.
``a0``, ``a1``, ...
    The numpy arrays and the parts (data, indices, ...) of the sparse matrices, dtype, shape and
    memory order preserved by the ``.npy`` format.

``header`` is the first member, so a damaged archive is still recognised as a checkpoint. The
SHA-256 digest covers the header (without the digest) and, in name order, every other member's
name, dtype, shape and bytes; :func:`load_checkpoint` verifies it before decoding anything.

In ``structure``, None, bool, str, lists, finite floats (``repr`` round-trips them exactly) and
ints in [-2**63, 2**63) are plain JSON; everything else is an object tagged by ``"$"``:
``dict`` (``items``: [key, value] pairs, so int keys and order survive), ``tuple``, ``int``
(``hex``), ``float`` (non-finite: the IEEE bits), ``scalar`` (numpy scalar: ``dtype`` and ``hex``
bytes), ``array`` (``member``) and ``sparse`` (``format``, ``class``, ``shape`` and members).
"""
import hashlib
import json
import math
import os
import struct
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .version import __version__
from .clusters import ShortPath
from .codes import LI
from .deck import as_dict
from .errors import CheckpointError
from .field import FieldSolution
from .output import atomic_write

__all__ = ["FORMAT_VERSION", "CheckpointError", "save_checkpoint", "load_checkpoint",
           "simulation_state", "restore_simulation"]

FORMAT_VERSION = 1
FORMAT = "kmc-checkpoint"
_KINDS = "biufc"  # numpy dtype kinds that are stored: bool, signed, unsigned, float, complex
_SPARSE = {"csr": ("data", "indices", "indptr"), "csc": ("data", "indices", "indptr"),
           "coo": ("data",)}  # coo also stores ``coords``
_MAGIC = {b"\x80": "a pickle", b"CDF": "a netCDF-3 file", b"\x89HDF": "an HDF5/netCDF-4 file",
          b"\x93NUMPY": "a .npy file", b"PK\x05\x06": "an empty zip archive"}


class _Encoder:
    """Turns a nested state into a JSON-able tree plus a dict of named arrays."""

    def __init__(self):
        self.arrays = {}
        self._active = set()  # ids of the containers on the current path (cycle detection)

    def array(self, a, where):
        if type(a) is not np.ndarray or a.dtype.kind not in _KINDS or a.dtype.fields is not None:
            raise TypeError(f"cannot checkpoint {where}: {type(a).__name__} of dtype {a.dtype} "
                            f"(only numeric or bool numpy arrays are supported)")
        name = f"a{len(self.arrays)}"
        self.arrays[name] = a
        return name

    def encode(self, x, where="state"):
        if x is None or type(x) in (bool, str):
            return x
        if type(x) is int:
            return x if -2**63 <= x < 2**63 else {"$": "int", "hex": hex(x)}
        if type(x) is float:
            if math.isfinite(x):
                return x  # repr() round-trips every finite double exactly
            return {"$": "float", "bits": struct.pack(">d", x).hex()}
        if isinstance(x, np.generic):
            if x.dtype.kind not in _KINDS:
                raise TypeError(f"cannot checkpoint {where}: numpy scalar of dtype {x.dtype}")
            return {"$": "scalar", "dtype": x.dtype.str, "hex": x.tobytes().hex()}
        if isinstance(x, np.ndarray):
            return {"$": "array", "member": self.array(x, where)}
        if sp.issparse(x):
            if x.format not in _SPARSE:
                raise TypeError(f"cannot checkpoint {where}: sparse format {x.format!r} "
                                f"(only csr, csc and coo)")
            node = {"$": "sparse", "format": x.format, "shape": list(x.shape),
                    "class": "matrix" if sp.isspmatrix(x) else "array"}
            for part in _SPARSE[x.format]:
                node[part] = self.array(getattr(x, part), f"{where}.{part}")
            if x.format == "coo":
                node["coords"] = [self.array(c, f"{where}.coords[{i}]")
                                  for i, c in enumerate(x.coords)]
                node["canonical"] = bool(x.has_canonical_format)
            return node
        if type(x) not in (dict, list, tuple):
            name = f"{type(x).__module__}.{type(x).__qualname__}"
            raise TypeError(f"cannot checkpoint {where}: {name} is not a supported type")
        if id(x) in self._active:
            raise TypeError(f"cannot checkpoint {where}: the structure contains itself")
        self._active.add(id(x))
        try:
            if type(x) is dict:
                items = []
                for k, v in x.items():
                    if type(k) not in (str, int):
                        raise TypeError(f"cannot checkpoint {where}: key {k!r} of type "
                                        f"{type(k).__name__} (only str and int keys)")
                    items.append([self.encode(k), self.encode(v, f"{where}[{k!r}]")])
                return {"$": "dict", "items": items}
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(x)]
            return items if type(x) is list else {"$": "tuple", "items": items}
        finally:
            self._active.discard(id(x))


def _decode(node, arrays):
    """Inverse of :meth:`_Encoder.encode`; raises ValueError/KeyError/TypeError on bad input."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    tag = node["$"]
    if tag == "dict":
        return {_decode(k, arrays): _decode(v, arrays) for k, v in node["items"]}
    if tag == "tuple":
        return tuple(_decode(v, arrays) for v in node["items"])
    if tag == "int":
        return int(node["hex"], 16)
    if tag == "float":
        return struct.unpack(">d", bytes.fromhex(node["bits"]))[0]
    if tag == "scalar":
        dtype = np.dtype(node["dtype"])
        if dtype.kind not in _KINDS:
            raise ValueError(f"scalar of dtype {dtype}")
        return np.frombuffer(bytes.fromhex(node["hex"]), dtype=dtype, count=1)[0]
    if tag == "array":
        return arrays[node["member"]]
    if tag == "sparse":
        fmt, shape, kind = node["format"], tuple(node["shape"]), node["class"]
        if fmt not in _SPARSE or kind not in ("matrix", "array"):
            raise ValueError(f"sparse {fmt!r} {kind!r}")
        cls = getattr(sp, f"{fmt}_{kind}")
        parts = {p: arrays[node[p]] for p in _SPARSE[fmt]}
        if fmt == "coo":
            coords = tuple(arrays[m] for m in node["coords"])
            m = cls((parts["data"], coords), shape=shape)
            m.coords, m.data = coords, parts["data"]  # the constructor may narrow the index dtype
            m.has_canonical_format = bool(node["canonical"])
            return m
        m = cls((parts["data"], parts["indices"], parts["indptr"]), shape=shape)
        m.data, m.indices, m.indptr = parts["data"], parts["indices"], parts["indptr"]
        return m
    raise ValueError(f"unknown node type {tag!r}")


def _json_member(obj) -> np.ndarray:
    text = json.dumps(obj, allow_nan=False, ensure_ascii=True, separators=(",", ":"))
    return np.frombuffer(text.encode("ascii"), dtype=np.uint8)


def _digest(header: dict, arrays: dict) -> str:
    """SHA-256 over the header without its digest, then each member's name, dtype, shape, bytes."""
    h = hashlib.sha256()
    fields = {k: v for k, v in header.items() if k != "sha256"}
    h.update(json.dumps(fields, sort_keys=True).encode())
    for name in sorted(arrays):
        a = arrays[name]
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0{a.nbytes}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_checkpoint(path, state: dict, *, kind: str, compress: bool = False) -> Path:
    """Write a checkpoint atomically (temporary file in the same directory, then ``os.replace``).

    Parameters
    ----------
    path : path-like
        Destination file, used as given (no suffix is added); parent directories are created.
    state : dict
        Nested dicts (str or int keys), lists, tuples, numeric/bool numpy arrays and scalars,
        Python int/float/bool/str/None, and scipy.sparse csr/csc/coo matrices or arrays.
    kind : str
        What wrote the checkpoint (e.g. ``"plating"``); :func:`load_checkpoint` checks it.
    compress : bool, optional
        Deflate the members (smaller, slower). Default False.

    Returns
    -------
    pathlib.Path
        The checkpoint path.

    Raises
    ------
    TypeError
        If ``state`` holds an unsupported object (the message names its key path); nothing is
        written then.
    """
    if type(state) is not dict:
        raise TypeError(f"cannot checkpoint state: {type(state).__name__}, expected dict")
    enc = _Encoder()
    structure = _json_member(enc.encode(state))  # first: raises TypeError before any file exists
    arrays = dict(enc.arrays, structure=structure)
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": str(kind),
              "kmc_version": __version__}
    header["sha256"] = _digest(header, arrays)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as (f, _):
        (np.savez_compressed if compress else np.savez)(
            f, allow_pickle=False, header=_json_member(header), **arrays)
        f.flush()
        os.fsync(f.fileno())
    return path


def load_checkpoint(path, *, kind: str) -> dict:
    """Read and verify a checkpoint written by :func:`save_checkpoint`; never unpickles.

    Parameters
    ----------
    path : path-like
        The checkpoint file.
    kind : str
        The kind the caller expects (e.g. ``"plating"``).

    Returns
    -------
    dict
        The state. Arrays and sparse matrices come back with their dtype, shape and format;
        numpy scalars come back as numpy scalars of their dtype; tuples as tuples. Objects that
        were shared in ``state`` come back as separate copies.

    Raises
    ------
    CheckpointError
        One line naming the path: not found, not a kmc checkpoint, truncated or corrupt
        (including a checksum mismatch), another format version, or another kind.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            magic = f.read(40)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: checkpoint not found") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read checkpoint ({exc.strerror})") from None
    if not magic.startswith(b"PK\x03\x04"):
        what = next((v for k, v in _MAGIC.items() if magic.startswith(k)),
                    "an empty file" if not magic else "not a zip archive")
        raise CheckpointError(f"{path}: not a kmc checkpoint ({what})")

    def corrupt(what):
        what = " ".join(str(what).split())  # one line, whatever the library said
        return CheckpointError(f"{path}: truncated or corrupt checkpoint ({what})")

    try:
        with np.load(path, allow_pickle=False) as npz:
            if "header" not in npz.files and magic[30:40] == b"header.npy":
                raise corrupt("no header member")  # but the first local entry is the header
            if "header" not in npz.files:
                raise CheckpointError(f"{path}: not a kmc checkpoint (an archive without a "
                                      f"kmc-checkpoint header)")
            header = json.loads(npz["header"].tobytes().decode("utf-8"))
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise CheckpointError(f"{path}: not a kmc checkpoint (header format is not "
                                      f"{FORMAT!r})")
            version = header.get("format_version")
            if version != FORMAT_VERSION:
                raise CheckpointError(f"{path}: checkpoint format version {version!r}, this kmc "
                                      f"({__version__}) reads version {FORMAT_VERSION}")
            arrays = {name: npz[name] for name in npz.files if name != "header"}
    except CheckpointError:
        raise
    except Exception as exc:  # BadZipFile, zlib.error, EOFError, ValueError from np.load, ...
        raise corrupt(f"{type(exc).__name__}: {exc}") from None
    if _digest(header, arrays) != header.get("sha256"):
        raise CheckpointError(f"{path}: checksum mismatch: the file is corrupt")
    if header.get("kind") != kind:
        raise CheckpointError(f"{path}: a {header.get('kind')!r} checkpoint, expected {kind!r}")
    try:
        state = _decode(json.loads(arrays.pop("structure").tobytes().decode("ascii")), arrays)
    except Exception as exc:  # the digest matched, so only a bug or a forged file gets here
        raise corrupt(f"bad structure: {type(exc).__name__}: {exc}") from None
    return state


# --- the state of a plating simulation ---------------------------------------------------------

def simulation_state(sim) -> dict:
    """Everything the next event of a :class:`kmc.simulation.Simulation` depends on, as plain
    data for :func:`save_checkpoint`: the deck (and the seed its cell was built with), the
    kernel, the random stream, the solver cache, the field solution, every event kind's and the
    confinement's state, the observations so far."""
    k = sim.kernel
    return {
        "deck": json.dumps(as_dict(sim.deck), sort_keys=True),
        "cell_seed": sim.cell.deck.run.seed if sim.cell.deck is not None else sim.run_cfg.seed,
        "kernel": {"phases": k.phases, "contents": k.contents, "time": k.time,
                   "n_events": k.n_events, "reservoir_a": k.reservoir_a,
                   "reservoir_c": k.reservoir_c, "event_counts": k.event_counts},
        "rng": sim.bitgen.state, "solver": sim.solver.cache_state(),
        "confinement": sim.confinement.state(), "recorder": sim.recorder.state(),
        "events": {e.name: e.state() for e in sim.events},
        "phase": sim.phase, "converted": sim.converted, "contact": sim.contact,
        "held_li": sim.held_li, "reopened": sim.reopened,
        "field": None if sim.field is None else sim.field.state(),
        "inputs": tuple(sim._inputs), "dirty": sim.dirty,
        "short": None if sim.short is None else vars(sim.short),
        "t_short": sim.t_short, "charge_at_short": sim.charge_at_short,
        "field_solves": sim.field_solves, "epochs": sim.epochs,
    }


def restore_simulation(sim, state: dict) -> None:
    """Inverse of :func:`simulation_state` on a simulation freshly built from the same deck."""
    ks = state["kernel"]
    sim.bitgen.state = state["rng"]
    sim.kernel = k = sim._kernel(ks["phases"], ks["contents"])
    k.time, k.n_events = ks["time"], ks["n_events"]
    k.reservoir_a, k.reservoir_c = ks["reservoir_a"], ks["reservoir_c"]
    k.event_counts = ks["event_counts"]
    sim.confinement.restore(state["confinement"])
    sim.recorder.restore(state["recorder"])
    for e in sim.events:
        e.restore(state["events"].get(e.name, {}))
    sim.phase, sim.converted, sim.contact = state["phase"], state["converted"], state["contact"]
    sim.held_li = state.get("held_li", (sim.phase == LI) | sim.converted)  # older checkpoints
    sim.reopened = state.get("reopened", np.zeros(sim.phase.size, bool))
    sim.field = None if state["field"] is None else FieldSolution.from_state(state["field"])
    sim._inputs, sim.dirty = tuple(state["inputs"]), bool(state["dirty"])
    sim.short = None if state["short"] is None else ShortPath(**state["short"])
    sim.t_short, sim.charge_at_short = state["t_short"], state["charge_at_short"]
    sim.field_solves, sim.epochs = state["field_solves"], state["epochs"]
    sim.tracker.reset(sim.phase)
    sim.solver.restore_cache(state["solver"])
    if not sim.dirty:
        sim._install()
