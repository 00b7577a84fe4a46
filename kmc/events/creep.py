"""Li creep (MODEL.md section 5, item 7; section 5.7).

Power-law creep (:func:`kmc.mechanics.creep_rate`, parameters from the Li-metal set) moves Li
quanta toward lower pressure:

* as kMC channels: from creep-relieved full sites (anchored Li whose plating current creeps back
  to its reservoir, :mod:`kmc.confinement`) into non-full Li neighbours, and from a reservoir
  under stack pressure into non-full Li face sites;
* with ``[plating] size_dependent_flow`` a relieved donor creeps at the flow stress of its
  cluster's width (:meth:`kmc.confinement.Confinement.flow_stress`, MODEL.md 10.6), reservoir
  Li at the bulk value;
* quasi-statically (:meth:`Creep.after_topology`): inside a cluster, Li at pressure flows into
  free volume far faster than it plates (tens of MPa move a site's worth in microseconds), so
  a non-full Li site next to pressurised full Li fills at once from the most pressurised full
  site of that connected pressurised Li (ties: the lowest site id), which takes over its
  deficit. Li is conserved exactly; the free volume ends where the pressure was highest.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph

from ..clusters import touching_faces
from ..codes import FACE_A, FACE_C
from ..codes import CH_CREEP, RES_A, RES_C
from ..mechanics import creep_rate
from ..microstructure import LI
from .base import Channels, Epoch, Event


class Creep(Event):
    """Creep channels, and the quasi-static relaxation of free volume after each change."""

    name = "creep"

    @staticmethod
    def enabled(plating) -> bool:
        return plating.creep

    def channels(self, epoch: Epoch, out: Channels) -> None:
        sim, conf = self.sim, epoch.confinement
        g, n_q, content = sim.cell.graph, sim.plating.quanta_per_site, epoch.content
        src, dst = g.sources, g.indices
        T, P = sim.conditions.temperature, sim.conditions.stack_pressure
        metal = epoch.phase == LI
        # from relieved sites only (a relieved donor is refilled from its reservoir at once);
        # elsewhere free volume moves quasi-statically (after_topology)
        e = np.flatnonzero(conf.relieved[src] & (conf.pressure[src] > 0) & metal[dst]
                           & (content[dst] < n_q))
        # size-dependent flow stress (MODEL.md 10.6): a relieved donor's Li flows at the
        # sigma_ref(w) of its cluster's width; reservoir Li (bulk) at the scalar bulk value
        sigma0 = conf.flow_stress(epoch.clusters)
        pairs = [(conf.relief[src[e]], dst[e], conf.pressure[src[e]],
                  None if sigma0 is None else sigma0[src[e]])]
        touches = touching_faces(sim.cell.face, sim.contact)
        for face, res in ((FACE_A, RES_A), (FACE_C, RES_C)):
            on = metal & (touches == face)
            inflow = np.flatnonzero(on & (content < n_q)) if P > 0 else np.zeros(0, np.intp)
            pairs.append((np.full(inflow.size, res), inflow, np.full(inflow.size, P), None))
        for frm, to, dp, s0 in pairs:
            r = creep_rate(dp, sim.cell.li_metal, T, n_q, s0)
            ok = r > 0
            out.add(CH_CREEP, r[ok], np.asarray(frm)[ok], np.asarray(to)[ok])

    def after_topology(self, kernel) -> None:
        if self.sim.plating.confinement:
            self.relax_free_volume(kernel)

    def relax_free_volume(self, kernel) -> None:
        """Fill non-full Li next to pressurised full Li from the most pressurised full site of
        its connected pressurised Li (see the module docstring)."""
        sim, conf = self.sim, self.sim.confinement
        g, n_q = sim.cell.graph, sim.plating.quanta_per_site
        src, dst = g.sources, g.indices
        phase, content = sim.phase, kernel.contents
        metal = phase == LI
        loaded = metal & (content == n_q) & (conf.pressure > 0) & ~conf.relieved
        near = np.zeros(phase.size, bool)
        near[src[loaded[dst]]] = True
        holes = np.flatnonzero(metal & (content < n_q) & near)
        if not holes.size:
            return
        keep = loaded[src] & loaded[dst]
        adj = sp.csr_matrix((np.ones(int(keep.sum()), np.int8), (src[keep], dst[keep])),
                            shape=(phase.size, phase.size))
        _, comp = csgraph.connected_components(adj, directed=False)
        members = np.flatnonzero(loaded)
        pressure = conf.pressure
        order = members[np.lexsort((members, -pressure[members]))]  # best first
        queue = {}
        for v in order.tolist():
            queue.setdefault(int(comp[v]), []).append(v)
        for c in queue.values():
            c.reverse()  # pop() takes the best
        for h in holes.tolist():
            row = dst[g.indptr[h]:g.indptr[h + 1]]
            best = None
            for c in sorted({int(comp[t]) for t in row.tolist() if loaded[t]}):
                q = queue[c]
                while q and not loaded[q[-1]]:
                    q.pop()
                if q and (best is None or (-pressure[q[-1]], q[-1]) < (-pressure[best], best)):
                    best = q[-1]
            if best is None:
                continue
            kernel.set_content(h, n_q)
            kernel.set_content(best, int(content[h]))  # 0: an empty metal site, as a crack
            loaded[best] = False
            content[best], content[h] = content[h], n_q
