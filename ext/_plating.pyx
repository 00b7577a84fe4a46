# cython: language_level=3
"""Plating kMC kernel: Faradaic transfer, fracture and creep of Li quanta (MODEL.md section 5).

The field (:mod:`kmc.field`) fixes every interface current while the topology does not change,
so within one *epoch* all rates are constant. The caller (:mod:`kmc.simulation` with
:mod:`kmc.events`) turns the field into a list of **channels**, one sum-tree leaf each, and
this kernel fires them until an event changes the topology (a site fills, empties, cracks or
grows), the clock reaches ``t_stop`` (a protocol change or an observation) or ``max_events``
events have fired.

Channels (``kind``):

* ``CH_PLATE_A`` / ``CH_PLATE_C`` - the external circuit moves one quantum q through the
  electrolyte from the stripping side to the plating side (A = the electrode at z = 0 plates);
  ``CH_LOOP`` - the same inside one equipotential conductor (a floating cluster, or the
  internal redistribution of a class-A/C conductor). A transfer picks its *source* interface
  edge with probability |I_ms| / sum |I| among the channel's dissolving edges and its *sink*
  edge with probability I_ms / sum I among its plating edges, so every edge dissolves or plates
  at exactly |I_ms| / q (MODEL.md items 1 and 3) while the electrolyte stays neutral and every
  floating cluster conserves its Li to the quantum (one electron in, one out).
* ``CH_FRACTURE`` - SE site ``a`` next to the full metal site ``b`` cracks and becomes an empty
  metal site of ``b``'s cluster (item 2); for a diagonal crack step (MODEL.md 10.4) ``b`` is
  the SE corner site between them, which cracks too.
* ``CH_CREEP`` - one quantum creeps from ``a`` to ``b`` (sites, or ``RES_A``/``RES_C`` for the
  electrode reservoirs; item 7).
* ``CH_NUCLEATE`` - a trapped electron reduces a Li+ in electrolyte site ``a``, which becomes
  metal holding one quantum (taken from reservoir ``b``, the Li+ source; items 4-6).
* ``CH_ELECTRON`` - a leaked electron absorbed by floating Li at ``b`` reduces a Li+ there
  (one quantum from reservoir ``a``).
* ``CH_DETACH`` / ``CH_HEAL`` - electrode-face site ``a`` loses / regains contact with its
  electrode (a stripping void opens or heals, item 8); the caller keeps the contact map.
* ``CH_TRAP`` / ``CH_DETRAP`` - an explicit (slow) electron trap at site ``a`` captures /
  releases a packet whose walk ends where it changes nothing here (an electrode, or another
  explicit trap); ``CH_DETRAP_NUCLEATE`` / ``CH_DETRAP_ELECTRON`` - a packet leaving an
  explicit trap reduces a Li+ as ``CH_NUCLEATE`` / ``CH_ELECTRON`` do (items 5-6). Each ends
  the epoch (``TOP_TRAP`` unless it changed more): the caller counts the trapped packets
  (:mod:`kmc.events.electron_leak`), and the rates depend on them.

Content is counted in quanta (0..n_q per site). A full sink site with a creep *relief* (Li
anchored to an electrode, :meth:`PlatingKernel.set_relief`) passes the quantum on into that
reservoir; otherwise it overflows into
an empty-crack (VOID) neighbour, or, with ``confined = False`` (mechanics off: the Laplacian-
growth limit of VALIDATION.md C10), into the electrolyte site across the plating edge.

:class:`kmc.reference.ReferencePlating` is the pure-Python twin: same draws, same events.
"""
import numpy as np
cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.math cimport log
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t
from numpy.random cimport bitgen_t
from _core cimport uniform_pos, tree_select, tree_rebuild_parents

from _codes cimport (SE, LI, VOID, REACHED_TIME, REACHED_EVENTS, DEBUG_MISMATCH, TOPOLOGY_CHANGED,
                    CH_PLATE_A, CH_PLATE_C, CH_LOOP, CH_FRACTURE, CH_CREEP, CH_NUCLEATE,
                    CH_ELECTRON, CH_DETACH, CH_HEAL, CH_TRAP, CH_DETRAP, CH_DETRAP_NUCLEATE,
                    CH_DETRAP_ELECTRON, N_CHANNEL_KINDS, TOP_NONE, TOP_FULL,
                    TOP_EMPTIED, TOP_GROWN, TOP_CREPT, TOP_BLOCKED, TOP_FIRST, TOP_CONTACT, TOP_TRAP,
                    RES_A, RES_C, FLAG_A, FLAG_C, FACE_NONE, FACE_A, FACE_C)

from kmc.codes import check_channels, validate_csr

ctypedef cnp.intp_t intp_t

#: The codes of ``ext/_codes.pxd`` as compiled (a test compares them with :mod:`kmc.codes`).
CODES = {
    "SE": SE, "LI": LI, "VOID": VOID,
    "REACHED_TIME": REACHED_TIME, "REACHED_EVENTS": REACHED_EVENTS,
    "DEBUG_MISMATCH": DEBUG_MISMATCH, "TOPOLOGY_CHANGED": TOPOLOGY_CHANGED,
    "CH_PLATE_A": CH_PLATE_A, "CH_PLATE_C": CH_PLATE_C, "CH_LOOP": CH_LOOP,
    "CH_FRACTURE": CH_FRACTURE, "CH_CREEP": CH_CREEP, "CH_NUCLEATE": CH_NUCLEATE,
    "CH_ELECTRON": CH_ELECTRON, "CH_DETACH": CH_DETACH, "CH_HEAL": CH_HEAL,
    "CH_TRAP": CH_TRAP, "CH_DETRAP": CH_DETRAP, "CH_DETRAP_NUCLEATE": CH_DETRAP_NUCLEATE,
    "CH_DETRAP_ELECTRON": CH_DETRAP_ELECTRON, "N_CHANNEL_KINDS": N_CHANNEL_KINDS,
    "TOP_NONE": TOP_NONE, "TOP_FULL": TOP_FULL, "TOP_EMPTIED": TOP_EMPTIED,
    "TOP_GROWN": TOP_GROWN, "TOP_CREPT": TOP_CREPT, "TOP_BLOCKED": TOP_BLOCKED,
    "TOP_FIRST": TOP_FIRST, "TOP_CONTACT": TOP_CONTACT, "TOP_TRAP": TOP_TRAP,
    "RES_A": RES_A, "RES_C": RES_C, "FLAG_A": FLAG_A, "FLAG_C": FLAG_C,
    "FACE_NONE": FACE_NONE, "FACE_A": FACE_A, "FACE_C": FACE_C,
}


cdef class PlatingKernel:
    """Li content, phases and the epoch event loop.

    Parameters
    ----------
    indptr, indices : ndarray of int
        Symmetric CSR site graph.
    phase : ndarray of uint8
        SE / LI / VOID per site. Copied; the kernel updates it.
    content : ndarray of int32
        Li quanta per site (0..n_q; 0 off metal). Copied.
    n_quanta : int
        Quanta per full site n_q.
    bit_generator : numpy.random.BitGenerator
    confined : bool
        False turns confinement off: a full site grows into the electrolyte it plates from.
    """
    cdef:
        const intp_t[::1] indptr
        const int32_t[::1] indices
        uint8_t[::1] phase
        int32_t[::1] content
        int8_t[::1] relief
        int8_t[::1] kind
        double[::1] rate
        intp_t[::1] a
        intp_t[::1] b
        intp_t[::1] src_lo
        intp_t[::1] src_hi
        intp_t[::1] snk_lo
        intp_t[::1] snk_hi
        intp_t[::1] pool_metal
        intp_t[::1] pool_se
        double[::1] pool_cum
        double[::1] tree
        bitgen_t* rng
        object bitgen
        readonly Py_ssize_t n_sites, n_channels, P
        readonly int n_quanta
        readonly bint confined
        public double time
        public int64_t n_events
        public int64_t reservoir_a, reservoir_c
        int64_t[::1] counts
        readonly int last_change
        readonly Py_ssize_t last_site, last_channel

    def __cinit__(self, indptr, indices, phase, content, int n_quanta, bit_generator, bint confined=True):
        validate_csr(indptr, indices)
        self.indptr = np.ascontiguousarray(indptr, dtype=np.intp)
        self.indices = np.ascontiguousarray(indices, dtype=np.int32)
        self.n_sites = self.indptr.shape[0] - 1
        ph = np.array(phase, dtype=np.uint8)
        ct = np.array(content, dtype=np.int32)
        if ph.shape != (self.n_sites,) or ct.shape != (self.n_sites,):
            raise ValueError(f"phase and content must have shape ({self.n_sites},)")
        if n_quanta < 1:
            raise ValueError(f"n_quanta must be >= 1, got {n_quanta}")
        if ct.min(initial=0) < 0 or ct.max(initial=0) > n_quanta or np.any(ct[ph != LI] != 0):
            raise ValueError(f"content must lie in 0..{n_quanta} on metal sites and be 0 elsewhere")
        self.phase, self.content = ph, ct
        self.relief = np.zeros(self.n_sites, dtype=np.int8)
        self.n_quanta, self.confined = n_quanta, confined
        self.bitgen = bit_generator
        self.rng = <bitgen_t*> PyCapsule_GetPointer(bit_generator.capsule, "BitGenerator")
        self.time, self.n_events = 0.0, 0
        self.reservoir_a = self.reservoir_c = 0
        self.counts = np.zeros(N_CHANNEL_KINDS, dtype=np.int64)
        self.last_change, self.last_site, self.last_channel = TOP_NONE, -1, -1
        empty_i = np.zeros(0, dtype=np.intp)
        self.set_channels(np.zeros(0, np.int8), np.zeros(0), empty_i, empty_i, empty_i,
                          empty_i, empty_i, empty_i, empty_i, empty_i, np.zeros(0))

    def set_channels(self, kind, rate, a, b, src_lo, src_hi, snk_lo, snk_hi, pool_metal, pool_se, pool_cum):
        """Install the channels of an epoch and rebuild the sum tree.

        Parameters
        ----------
        kind : int8[n_channels]
        rate : float64[n_channels]
            Channel rates [1/s] (finite, >= 0).
        a, b : intp[n_channels]
            Sites of fracture (a cracks, b is the full metal site) and creep (a -> b) channels.
        src_lo, src_hi, snk_lo, snk_hi : intp[n_channels]
            Source and sink pool segments [lo, hi) of transfer channels in the pool arrays
            (non-empty for a transfer channel of positive rate; segments may be shared).
        pool_metal, pool_se : intp[n_pool]
            Interface edge (metal site or RES_A/RES_C, electrolyte site) of each pool entry.
        pool_cum : float64[n_pool]
            Cumulative weights within each segment (strictly increasing).
        """
        cdef Py_ssize_t n = len(kind)
        check_channels(self.n_sites, kind, rate, a, b, src_lo, src_hi, snk_lo, snk_hi, pool_metal,
                       pool_se, pool_cum)
        r = np.ascontiguousarray(rate, dtype=np.float64)
        kd = np.ascontiguousarray(kind, dtype=np.int8)
        ints = [np.ascontiguousarray(x, dtype=np.intp) for x in (a, b, src_lo, src_hi, snk_lo, snk_hi)]
        pm = np.ascontiguousarray(pool_metal, dtype=np.intp)
        ps = np.ascontiguousarray(pool_se, dtype=np.intp)
        pc = np.ascontiguousarray(pool_cum, dtype=np.float64)
        self.kind, self.rate = kd, r
        self.a, self.b, self.src_lo, self.src_hi, self.snk_lo, self.snk_hi = ints
        self.pool_metal, self.pool_se, self.pool_cum = pm, ps, pc
        self.n_channels = n
        self.P = 1
        while self.P < n:
            self.P <<= 1
        tree = np.zeros(2 * self.P)
        tree[self.P:self.P + n] = r
        self.tree = tree
        tree_rebuild_parents(&self.tree[0], self.P)

    def set_content(self, Py_ssize_t site, int value):
        """Set the Li content of metal site ``site`` to ``value`` quanta (0..n_q; the
        quasi-static creep relaxation of :mod:`kmc.events.creep` moves free volume this way; 0
        leaves an empty metal site, as a fresh crack)."""
        if not 0 <= site < self.n_sites or self.phase[site] != LI:
            raise ValueError(f"site {site} is not a Li metal site")
        if not 0 <= value <= self.n_quanta:
            raise ValueError(f"content {value} must lie in 0..{self.n_quanta}")
        self.content[site] = value

    def set_empty(self, Py_ssize_t site, int phase):
        """Make the empty site ``site`` an empty crack (``VOID``) or an empty metal site
        (``LI``, content 0): the caller reopens a stripped flaw mouth to its plating electrode,
        and closes it when that electrode strips (:meth:`kmc.simulation.Simulation`)."""
        if not 0 <= site < self.n_sites or self.content[site] != 0 or self.phase[site] == SE:
            raise ValueError(f"site {site} is not an empty Li or VOID site")
        if phase != LI and phase != VOID:
            raise ValueError(f"phase {phase} must be LI ({LI}) or VOID ({VOID})")
        self.phase[site] = phase

    def set_relief(self, relief):
        """Reservoir (RES_A or RES_C; 0 = none) into which each full site passes further
        deposits by creep (quasi-static creep relief of electrode-anchored Li)."""
        r = np.ascontiguousarray(relief, dtype=np.int8)
        if r.shape != (self.n_sites,) or np.any((r != 0) & (r != RES_A) & (r != RES_C)):
            raise ValueError(f"relief must hold {self.n_sites} values in 0, -1, -2")
        self.relief = r.copy()

    cdef inline Py_ssize_t _pick(self, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
        """Pool entry of segment [lo, hi) drawn with probability proportional to its weight."""
        cdef double target = uniform_pos(self.rng) * self.pool_cum[hi - 1]
        cdef Py_ssize_t mid
        while lo < hi - 1:  # first entry whose cumulative weight reaches target
            mid = (lo + hi - 1) // 2
            if self.pool_cum[mid] >= target:
                hi = mid + 1
            else:
                lo = mid + 1
        return lo

    cdef inline int _take(self, Py_ssize_t m) noexcept nogil:
        """Remove a quantum from metal site m (or a reservoir); TOP_EMPTIED if m empties."""
        if m == RES_A:
            self.reservoir_a -= 1
            return TOP_NONE
        if m == RES_C:
            self.reservoir_c -= 1
            return TOP_NONE
        self.content[m] -= 1
        if self.content[m] == 0:
            self.phase[m] = VOID
            self.last_site = m
            return TOP_EMPTIED
        return TOP_NONE

    cdef inline int _give(self, Py_ssize_t m, Py_ssize_t s) noexcept nogil:
        """Add a quantum to metal site m, arriving from electrolyte site s (s < 0: by creep)."""
        cdef Py_ssize_t e, t, n_void = 0, k
        if m == RES_A:
            self.reservoir_a += 1
            return TOP_NONE
        if m == RES_C:
            self.reservoir_c += 1
            return TOP_NONE
        if self.content[m] < self.n_quanta:
            self.content[m] += 1
            if self.content[m] == self.n_quanta:
                self.last_site = m
                return TOP_FULL
            if self.content[m] == 1:  # an empty (cracked) site got Li: it can dissolve now
                self.last_site = m
                return TOP_FIRST
            return TOP_NONE
        if self.relief[m] != 0:  # creeps on into the electrode reservoir
            return self._give(self.relief[m], -1)
        if not self.confined and s >= 0 and self.phase[s] == SE:
            self.phase[s] = LI
            self.content[s] = 1
            self.last_site = s
            return TOP_GROWN
        for e in range(self.indptr[m], self.indptr[m + 1]):
            if self.phase[self.indices[e]] == VOID:
                n_void += 1
        if n_void == 0:
            self.last_site = m
            return TOP_BLOCKED
        k = <Py_ssize_t> (uniform_pos(self.rng) * n_void)  # overflow into a random empty neighbour
        if k >= n_void:
            k = n_void - 1
        for e in range(self.indptr[m], self.indptr[m + 1]):
            t = self.indices[e]
            if self.phase[t] == VOID:
                if k == 0:
                    self.phase[t] = LI
                    self.content[t] = 1
                    self.last_site = t
                    return TOP_GROWN
                k -= 1
        return TOP_BLOCKED  # not reached

    cdef inline int _move(self, Py_ssize_t src, Py_ssize_t snk, Py_ssize_t s) noexcept nogil:
        """Move one quantum from ``src`` to ``snk`` (arriving from electrolyte site ``s``).

        The sink is served first: a sink that must block takes nothing, so nothing is taken
        (TOP_BLOCKED). A move within one site changes nothing. The change reported is the
        sink's if it changed, else the source's; ``last_site`` belongs to it.
        """
        cdef int given, taken
        cdef Py_ssize_t site
        if src == snk:
            return TOP_NONE
        given = self._give(snk, s)
        if given == TOP_BLOCKED:
            return given
        site = self.last_site
        taken = self._take(src)
        if given != TOP_NONE:
            self.last_site = site
            return given
        return taken

    def run(self, double t_stop, int64_t max_events):
        """Fire events until the topology changes, the clock reaches ``t_stop`` [s] or
        ``max_events`` events have fired.

        Returns
        -------
        status : int
            0 (clock at ``t_stop``), 1 (``max_events``) or 3 (topology changed: see
            ``last_change``, ``last_site``, ``last_channel``).
        n_fired : int
        """
        if not t_stop >= self.time:
            raise ValueError(f"t_stop = {t_stop!r} s lies before the clock ({self.time!r} s)")
        cdef double* tree = &self.tree[0]
        cdef double R, dt
        cdef Py_ssize_t c, src, snk
        cdef int k, change, change2
        cdef int64_t n = 0
        cdef int status = REACHED_TIME
        self.last_change, self.last_site, self.last_channel = TOP_NONE, -1, -1
        with self.bitgen.lock, nogil:
            while True:
                if n >= max_events:
                    status = REACHED_EVENTS
                    break
                R = tree[1]
                if R <= 0.0:
                    self.time = t_stop
                    break
                dt = -log(uniform_pos(self.rng)) / R
                if self.time + dt > t_stop:
                    self.time = t_stop
                    break
                c = tree_select(tree, self.P, uniform_pos(self.rng) * R)
                self.time += dt
                n += 1
                self.n_events += 1
                k = self.kind[c]
                self.counts[k] += 1
                if k == CH_FRACTURE:
                    self.phase[self.a[c]] = LI
                    if self.b[c] >= 0 and self.phase[self.b[c]] == SE:  # a diagonal step's corner
                        self.phase[self.b[c]] = LI
                    self.last_site = self.a[c]
                    change = TOP_GROWN
                elif k == CH_CREEP:
                    change = self._move(self.a[c], self.b[c], -1)
                    if change == TOP_NONE:
                        change = TOP_CREPT
                elif k == CH_NUCLEATE or k == CH_DETRAP_NUCLEATE:  # an electron reduces Li+ at a
                    self._take(self.b[c])
                    self.phase[self.a[c]] = LI
                    self.content[self.a[c]] = 1
                    self.last_site = self.a[c]
                    change = TOP_GROWN
                elif k == CH_ELECTRON or k == CH_DETRAP_ELECTRON:  # ... on floating Li b
                    change = self._move(self.a[c], self.b[c], -1)
                    if k == CH_DETRAP_ELECTRON and change == TOP_NONE:
                        self.last_site = self.b[c]
                        change = TOP_TRAP
                elif k == CH_DETACH or k == CH_HEAL:  # contact of face site a (kept by the caller)
                    self.last_site = self.a[c]
                    change = TOP_CONTACT
                elif k == CH_TRAP or k == CH_DETRAP:  # trapped packets (counted by the caller)
                    self.last_site = self.a[c]
                    change = TOP_TRAP
                else:
                    src = self._pick(self.src_lo[c], self.src_hi[c])
                    snk = self._pick(self.snk_lo[c], self.snk_hi[c])
                    change = self._move(self.pool_metal[src], self.pool_metal[snk], self.pool_se[snk])
                if change == TOP_BLOCKED:  # nothing moved: not counted as a fired transfer
                    self.counts[k] -= 1
                if change != TOP_NONE:
                    self.last_change = change
                    self.last_channel = c
                    status = TOPOLOGY_CHANGED
                    break
        return status, n

    @property
    def phases(self):
        """Copy of the site phases (uint8)."""
        return np.array(self.phase)

    @property
    def contents(self):
        """Copy of the Li content of every site [quanta]."""
        return np.array(self.content)

    @property
    def event_counts(self):
        """Events fired per channel kind since construction (int64[N_CHANNEL_KINDS])."""
        return np.array(self.counts)

    @event_counts.setter
    def event_counts(self, values):
        np.asarray(self.counts)[:] = np.asarray(values, dtype=np.int64)

    @property
    def total_rate(self):
        """Total channel rate R [1/s]."""
        return self.tree[1]
