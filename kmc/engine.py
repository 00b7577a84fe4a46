"""Access to the compiled kMC kernels, with a clear error when they were never built.

The event loop exists twice: the Cython kernel (``ext/_lattice_gas.pyx``) and its pure-Python
twin (:mod:`kmc.reference`). Both take the same arguments, consume the same random stream and
pick the same events; :func:`lattice_gas_kernel` chooses between them.
"""
from __future__ import annotations

import importlib

import numpy as np

from .errors import EngineConsistencyError, ExtensionMissingError

#: Status codes returned by ``run`` (identical in both implementations).
REACHED_TIME, REACHED_EVENTS, DEBUG_MISMATCH, TOPOLOGY_CHANGED = 0, 1, 2, 3


def compiled(name: str):
    """Import the compiled extension ``kmc.<name>``.

    Raises
    ------
    ExtensionMissingError
        If the extension was not compiled (the package was not installed with pip).
    """
    try:
        return importlib.import_module(f"kmc.{name}")
    except ImportError as exc:
        raise ExtensionMissingError(
            f"the compiled kMC kernel kmc.{name} is missing ({exc}); install the package with "
            "`pip install .` (or run `make test`), which compiles ext/*.pyx"
        ) from None


def _kernel(engine: str, module: str, cls: str, args, kwargs):
    """The Cython class ``kmc.<module>.<cls>`` or its twin ``kmc.reference.Reference<name>``."""
    if engine == "cython":
        return getattr(compiled(module), cls)(*args, **kwargs)
    if engine == "reference":
        from . import reference

        return getattr(reference, "Reference" + cls.removesuffix("Kernel"))(*args, **kwargs)
    raise ValueError(f"engine must be 'cython' or 'reference', got {engine!r}")


def lattice_gas_kernel(engine: str, *args, **kwargs):
    """Construct the lattice-gas event loop: ``engine`` is ``"cython"`` or ``"reference"``."""
    return _kernel(engine, "_lattice_gas", "LatticeGasKernel", args, kwargs)


def plating_kernel(engine: str, *args, **kwargs):
    """Construct the plating event loop (``ext/_plating.pyx`` or its Python twin)."""
    return _kernel(engine, "_plating", "PlatingKernel", args, kwargs)


def check_status(status: int, kernel) -> None:
    """Raise :class:`EngineConsistencyError` if the debug rebuild found a mismatch."""
    if status == DEBUG_MISMATCH:
        raise EngineConsistencyError(
            f"after {kernel.n_events} events at t = {kernel.time:.6g} s the propensity tree differs "
            "from a from-scratch rebuild"
        )


def initial_particle_sites(occupancy, particle_sites=None) -> np.ndarray:
    """Site of each particle id: ``particle_sites`` checked against ``occupancy``, or by default
    the occupied sites in increasing order (used by both kernel implementations)."""
    expected = np.flatnonzero(occupancy)
    if particle_sites is None:
        return expected
    sites = np.asarray(particle_sites, dtype=np.intp)
    if sites.ndim != 1 or not np.array_equal(np.sort(sites), expected):
        raise ValueError("particle_sites must list each occupied site exactly once")
    return sites


def initial_displacement(displacement, n_particles: int) -> np.ndarray:
    """Checked initial unwrapped displacements [m], shape (n_particles, 3)."""
    d = np.asarray(displacement, dtype=np.float64)
    if d.shape != (n_particles, 3):
        raise ValueError(f"displacement must have shape ({n_particles}, 3), got {d.shape}")
    return d


#: Channel kinds of the plating kernels (the ``cdef enum`` of ``ext/_plating.pyx`` mirrors
#: these; the twin tests compare the two kernels event by event).
(CH_PLATE_A, CH_PLATE_C, CH_LOOP, CH_FRACTURE, CH_CREEP, CH_NUCLEATE, CH_ELECTRON, CH_DETACH,
 CH_HEAL) = range(9)
CHANNELS = ("plate_a", "plate_c", "loop", "fracture", "creep", "nucleate", "electron", "detach",
            "heal")
N_CHANNEL_KINDS = len(CHANNELS)
#: What a plating kernel reports at a topology change (``last_change``): nothing, a site
#: filled, emptied, grew or cracked, a quantum crept, a full confined site had to block, an
#: empty (cracked) site received its first quantum, an electrode-face site lost or regained
#: contact.
(TOP_NONE, TOP_FULL, TOP_EMPTIED, TOP_GROWN, TOP_CREPT, TOP_BLOCKED, TOP_FIRST,
 TOP_CONTACT) = range(8)
#: Electrode reservoirs in pools and channels (kmc.field.ELECTRODE_A / ELECTRODE_C).
RES_A, RES_C = -1, -2


def check_channels(n_sites, kind, rate, a, b, src_lo, src_hi, snk_lo, snk_hi, pool_metal,
                   pool_se, pool_cum) -> None:
    """Check the channels of one epoch for both plating kernels (``set_channels``).

    Raises
    ------
    ValueError
        On a negative or non-finite rate, mismatched lengths, an unknown kind, a site id out
        of range, an empty pool segment of a positive-rate transfer, or a decreasing
        cumulative weight.
    """
    n = len(kind)
    r = np.asarray(rate, dtype=float)
    if r.shape != (n,) or not np.all(np.isfinite(r) & (r >= 0.0)):
        raise ValueError("channel rates must be finite, >= 0 and one per channel")
    kd = np.asarray(kind, dtype=np.int64)
    ints = [np.asarray(x, dtype=np.int64) for x in (a, b, src_lo, src_hi, snk_lo, snk_hi)]
    pm, ps = np.asarray(pool_metal, np.int64), np.asarray(pool_se, np.int64)
    pc = np.asarray(pool_cum, dtype=float)
    if any(x.shape != (n,) for x in ints):
        raise ValueError("a, b, src_lo, src_hi, snk_lo and snk_hi need one entry per channel")
    if pm.shape != pc.shape or ps.shape != pc.shape:
        raise ValueError("pool_metal, pool_se and pool_cum must have the same length")
    if np.any((kd < 0) | (kd >= N_CHANNEL_KINDS)):
        raise ValueError(f"channel kinds must lie in 0..{N_CHANNEL_KINDS - 1}")
    site_ch = np.isin(kd, (CH_FRACTURE, CH_NUCLEATE, CH_DETACH, CH_HEAL)) & (r > 0)  # a: a site
    res_ch = np.isin(kd, (CH_CREEP, CH_ELECTRON)) & (r > 0)  # sites or reservoirs
    if np.any((kd == CH_NUCLEATE) & (r > 0) & ~np.isin(ints[1], (RES_A, RES_C))):
        raise ValueError("a nucleation channel takes its quantum from a reservoir (b = -1 or -2)")
    for i, x in enumerate(ints[:2]):
        if np.any(site_ch & ((x < (0 if i == 0 else RES_C)) | (x >= n_sites))) or np.any(
                res_ch & ((x < RES_C) | (x >= n_sites))):
            raise ValueError("fracture and creep channels need site ids (creep: or -1, -2)")
    if pm.size and (pm.min() < RES_C or pm.max() >= n_sites or ps.min() < -1 or ps.max() >= n_sites):
        raise ValueError("pool entries must be site ids (metal: or -1, -2)")
    if pc.size and not np.all(np.isfinite(pc)):
        raise ValueError("pool_cum must be finite")
    transfer = (kd <= CH_LOOP) & (r > 0)
    for lo, hi in ((ints[2], ints[3]), (ints[4], ints[5])):
        if np.any(transfer & ((lo < 0) | (hi <= lo) | (hi > pc.size))):
            raise ValueError("a transfer channel of positive rate needs non-empty pool segments")
        for a0, b0 in zip(lo[transfer].tolist(), hi[transfer].tolist()):
            seg = pc[a0:b0]
            if seg[0] < 0 or np.any(np.diff(seg) < 0) or not seg[-1] > 0:
                raise ValueError("pool_cum must be non-decreasing, positive at the end of a segment")



def validate_csr(indptr, indices) -> None:
    """Check that (indptr, indices) is a symmetric graph without self-loops or bad indices.

    The kernels update, after a hop i -> j, the sites that list i or j as neighbours by
    walking the rows of i and j; that is correct only if every edge has its reverse.

    Raises
    ------
    ValueError
        On a malformed CSR structure, an out-of-range neighbour, a self-loop or a missing
        reverse edge.
    """
    import scipy.sparse as sp

    indptr = np.asarray(indptr)
    indices = np.asarray(indices)
    n = indptr.size - 1
    if n < 1 or indptr[0] != 0 or indptr[-1] != indices.size or np.any(np.diff(indptr) < 0):
        raise ValueError("indptr/indices do not form a CSR graph")
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        raise ValueError(f"neighbour indices must lie in 0..{n - 1}")
    adj = sp.csr_matrix((np.ones(indices.size, dtype=np.int32), indices, indptr), shape=(n, n))
    adj.sum_duplicates()  # parallel edges (a 2-site periodic axis) are allowed, in pairs
    if adj.diagonal().any():
        raise ValueError("the graph has self-loops")
    if (adj != adj.T).nnz:
        raise ValueError("the graph is not symmetric: every edge i -> j needs its reverse j -> i")
