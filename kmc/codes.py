"""The contract between the compiled kernels and Python: shared integer codes, input checks.

Every integer a kernel reads from an array or returns is named here once: site phases, run
status, channel kinds, topology changes, electrode reservoirs and cluster flags. The Cython
kernels ``cimport`` the same values from ``ext/_codes.pxd``; ``kmc._plating.CODES`` exposes
the compiled values so a test checks that both files agree. The input checks below are shared
by the kernels and their pure-Python twins (:mod:`kmc.reference`), so both reject the same
inputs with the same messages.

This module imports no other ``kmc`` module: the kernels, the twins and the model layers all
import it, and it imports none of them (no import cycles).
"""
from __future__ import annotations

import numpy as np

#: Site phases (MODEL.md section 2): intact electrolyte, Li metal, empty crack or pore.
SE, LI, VOID = 0, 1, 2

#: Status codes returned by ``run`` of every kernel (identical in both implementations): the
#: clock reached ``t_stop``, ``max_events`` fired, the debug rebuild found a propensity tree
#: that differs from a from-scratch rebuild, an event changed the topology (plating).
REACHED_TIME, REACHED_EVENTS, DEBUG_MISMATCH, TOPOLOGY_CHANGED = 0, 1, 2, 3

#: Channel kinds of the plating kernels (``ext/_plating.pyx`` documents each).
(CH_PLATE_A, CH_PLATE_C, CH_LOOP, CH_FRACTURE, CH_CREEP, CH_NUCLEATE, CH_ELECTRON, CH_DETACH,
 CH_HEAL, CH_TRAP, CH_DETRAP, CH_DETRAP_NUCLEATE, CH_DETRAP_ELECTRON) = range(13)
#: Names of the channel kinds, in code order (output labels).
CHANNELS = ("plate_a", "plate_c", "loop", "fracture", "creep", "nucleate", "electron", "detach",
            "heal", "trap", "detrap", "detrap_nucleate", "detrap_electron")
N_CHANNEL_KINDS = len(CHANNELS)

#: What a plating kernel reports at a topology change (``last_change``): nothing, a site
#: filled, emptied, grew or cracked, a quantum crept, a full confined site had to block, an
#: empty (cracked) site received its first quantum, an electrode-face site lost or regained
#: contact, an explicit electron trap captured or released a packet.
(TOP_NONE, TOP_FULL, TOP_EMPTIED, TOP_GROWN, TOP_CREPT, TOP_BLOCKED, TOP_FIRST,
 TOP_CONTACT, TOP_TRAP) = range(9)

#: Electrode reservoirs in pools and channels, and the ``interface_metal`` of the field's
#: electrode-face edges.
RES_A, RES_C = -1, -2

#: Electrode face of a site (``site_data["face"]``): none, the z = 0 layer (electrode A), the
#: z = L layer (electrode C).
FACE_NONE, FACE_A, FACE_C = 0, 1, 2

#: Electrodes a cluster of the incremental labelling touches (bit flags; both = a short).
FLAG_A, FLAG_C = 1, 2


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
    site_ch = np.isin(kd, (CH_FRACTURE, CH_NUCLEATE, CH_DETACH, CH_HEAL, CH_TRAP, CH_DETRAP,
                           CH_DETRAP_NUCLEATE)) & (r > 0)  # a: a site
    res_ch = np.isin(kd, (CH_CREEP, CH_ELECTRON, CH_DETRAP_ELECTRON)) & (r > 0)  # or reservoirs
    if np.any(np.isin(kd, (CH_NUCLEATE, CH_DETRAP_NUCLEATE)) & (r > 0)
              & ~np.isin(ints[1], (RES_A, RES_C))):
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


def initial_particle_sites(occupancy, particle_sites=None) -> np.ndarray:
    """Site of each particle id: ``particle_sites`` checked against ``occupancy``, or by default
    the occupied sites in increasing order (used by both lattice-gas implementations).

    Raises
    ------
    ValueError
        If ``particle_sites`` does not list each occupied site exactly once.
    """
    expected = np.flatnonzero(occupancy)
    if particle_sites is None:
        return expected
    sites = np.asarray(particle_sites, dtype=np.intp)
    if sites.ndim != 1 or not np.array_equal(np.sort(sites), expected):
        raise ValueError("particle_sites must list each occupied site exactly once")
    return sites


def initial_displacement(displacement, n_particles: int) -> np.ndarray:
    """Checked initial unwrapped displacements [m], shape (n_particles, 3).

    Raises
    ------
    ValueError
        On any other shape.
    """
    d = np.asarray(displacement, dtype=np.float64)
    if d.shape != (n_particles, 3):
        raise ValueError(f"displacement must have shape ({n_particles}, 3), got {d.shape}")
    return d
