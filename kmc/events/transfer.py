"""Faradaic transfer of Li+ between Li metal and the electrolyte (MODEL.md section 5, items 1, 3).

Each metal|electrolyte interface edge plates or dissolves at |I_ms| / q [1/s], I_ms its signed
interface current from the field and q = F h^3 / (n_q V_m) the charge quantum. A plating and a
dissolving edge are paired in one event, so the electrolyte stays neutral, Li is conserved to
the quantum and a floating (bipolar) cluster keeps its Li exactly. Conductor 0 is the
electrode-A side (class-A clusters and the z = 0 reservoir), 1 the C side, 2 + k floating
cluster k. The external circuit moves exactly I(t) / q quanta per second from one side to the
other (galvanostatic); what else a conductor plates and dissolves loops inside it.
"""
from __future__ import annotations

import numpy as np

from ..clusters import CLASS_A, CLASS_C
from ..codes import CH_LOOP, CH_PLATE_A, CH_PLATE_C, RES_A
from .base import Channels, Epoch, Event


class FaradaicTransfer(Event):
    """Paired plating and dissolution on the interface edges of every conductor."""

    name = "faradaic_transfer"

    def channels(self, epoch: Epoch, out: Channels) -> None:
        sol, content, q = epoch.field, epoch.content, self.sim.quantum
        label, kind = sol.clusters.label, sol.clusters.kind
        I_if, m_if, s_if = sol.interface_current, sol.interface_metal, sol.interface_se
        lattice = m_if >= 0
        cond = np.where(m_if == RES_A, 0, 1)
        kl = kind[label[m_if[lattice]]]
        cond[lattice] = np.where(kl == CLASS_A, 0, np.where(kl == CLASS_C, 1, 2 + label[m_if[lattice]]))
        has_li = np.ones(m_if.size, bool)
        has_li[lattice] = content[m_if[lattice]] > 0  # a freshly cracked empty site cannot dissolve
        segments = {}  # (conductor, is_sink) -> (lo, hi, total |I| [A])
        for is_sink, mask in ((False, (I_if < 0) & has_li), (True, I_if > 0)):
            idx = np.flatnonzero(mask)
            idx = idx[np.argsort(cond[idx], kind="stable")]
            if not idx.size:
                continue
            cuts = np.flatnonzero(np.diff(cond[idx])) + 1
            for part in np.split(idx, cuts):
                cum = np.cumsum(np.abs(I_if[part]))
                lo, hi = out.add_pool(m_if[part], s_if[part], cum)
                segments[(int(cond[part[0]]), is_sink)] = (lo, hi, float(cum[-1]))

        def transfer(ch, src_cond, snk_cond, rate):
            so, sk = segments.get((src_cond, False)), segments.get((snk_cond, True))
            if so is not None and sk is not None and rate > 0:
                out.add(ch, rate, segments=(so[0], so[1], sk[0], sk[1]))

        # net plating current of conductor c [A]: I into A's side, -I into C's, 0 if floating
        net = {0: sol.current, 1: -sol.current}
        for c in sorted({c for c, _ in segments}):
            so, sk = segments.get((c, False)), segments.get((c, True))
            if so and sk:  # what the external channel does not take loops inside c
                plate = sk[2] - max(net.get(c, 0.0), 0.0)
                dissolve = so[2] - max(-net.get(c, 0.0), 0.0)
                transfer(CH_LOOP, c, c, max(min(plate, dissolve), 0.0) / q)
        # the external circuit carries exactly I(t); the loops carry the rest, less the current
        # of empty (cracked) sites, which cannot dissolve
        if epoch.current > 0:
            transfer(CH_PLATE_A, 1, 0, epoch.current / q)
        elif epoch.current < 0:
            transfer(CH_PLATE_C, 0, 1, -epoch.current / q)
