# cython: language_level=3
"""Integer codes shared by the kernels and Python (header only: constants, no code).

The C twin of :mod:`kmc.codes`, which documents every code; the kernels ``cimport`` these
names and never redefine them. ``kmc._plating.CODES`` exposes the compiled values and
``tests/unit/test_engine_misc.py`` checks that they equal :mod:`kmc.codes`.
"""

cdef enum:
    # site phases (kmc.codes.SE / LI / VOID)
    SE = 0
    LI = 1
    VOID = 2
    # status returned by every kernel's run (kmc.codes.REACHED_TIME ...)
    REACHED_TIME = 0        # the clock advanced to t_stop (no event past it)
    REACHED_EVENTS = 1      # max_events fired before t_stop
    DEBUG_MISMATCH = 2      # the debug rebuild found a propensity that differs from the tree
    TOPOLOGY_CHANGED = 3    # an event changed the topology (plating; see last_change)
    # channel kinds of the plating kernel (kmc.codes.CH_*)
    CH_PLATE_A = 0
    CH_PLATE_C = 1
    CH_LOOP = 2
    CH_FRACTURE = 3
    CH_CREEP = 4
    CH_NUCLEATE = 5
    CH_ELECTRON = 6
    CH_DETACH = 7
    CH_HEAL = 8
    CH_TRAP = 9
    CH_DETRAP = 10
    CH_DETRAP_NUCLEATE = 11
    CH_DETRAP_ELECTRON = 12
    N_CHANNEL_KINDS = 13
    # what changed at TOPOLOGY_CHANGED (kmc.codes.TOP_*)
    TOP_NONE = 0
    TOP_FULL = 1            # a site reached n_q quanta
    TOP_EMPTIED = 2         # a site lost its last quantum and became VOID
    TOP_GROWN = 3           # a VOID or SE site became metal (overflow, growth, fracture)
    TOP_CREPT = 4           # a quantum crept (pressures change)
    TOP_BLOCKED = 5         # a full confined site was asked to take a quantum: it must block
    TOP_FIRST = 6           # an empty metal site (a fresh crack) received its first quantum
    TOP_CONTACT = 7         # an electrode-face site lost or regained contact (the caller flips it)
    TOP_TRAP = 8            # an explicit trap captured or lost an electron packet (the caller counts)
    # electrode reservoir ids in pools and channels (kmc.codes.RES_A / RES_C)
    RES_A = -1
    RES_C = -2
    # electrode face of a site (kmc.codes.FACE_NONE / FACE_A / FACE_C)
    FACE_NONE = 0
    FACE_A = 1              # the z = 0 layer, facing electrode A
    FACE_C = 2              # the z = L layer, facing electrode C
    # electrodes a cluster touches, bit flags (kmc.codes.FLAG_A / FLAG_C)
    FLAG_A = 1
    FLAG_C = 2
