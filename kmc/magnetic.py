"""The magnetic field (MODEL.md section 6): the Lorentz force on moving Li+ and electrons.

A carrier of mobility mu drifting at v = mu E in a field B is deflected by q v x B, so its
current turns by the Hall angle theta_H = mu |B| (Drude; tan theta_H = mu B): to first order
in theta_H the current density of each species is J = J_0 + J_0 x Theta for Li+ (positive)
and the electrons' effective driving field is E - E x Theta_e, with the Hall vector
Theta = mu B [rad]. Li+ in LLZO (mu = 5e-11 m^2/(V s), from D = 1.3e-8 cm^2/s) turns by 5e-11
rad at 1 T, electrons (mu_e ~ 4e-8 m^2/(V s) after the leak calibration) by 4e-8 rad: a
solid electrolyte does not notice laboratory fields (VALIDATION.md C11). ``hall_angle``
(plating section) overrides the ionic angle for exploratory studies.

On the lattice, the Hall current of an edge is the average of its two sites' J_0 x Theta
projected on the edge, where a site's J_0 is the average of its edge currents per direction
(:func:`hall_divergence`); the ionic field takes it as a source and is solved again
(:func:`hall_fixed_point`, called by :class:`kmc.field.FieldSolver`; exact to first order
after one step).
"""
from __future__ import annotations

import numpy as np


def hall_vector(mobility: float, field, override: float | None = None) -> np.ndarray:
    """Theta = mu B [rad] (3-vector) for ``mobility`` [m^2/(V s)] and ``field`` B [T]; with
    ``override``, the same direction with |Theta| = override (a zero field has no direction:
    the z axis then)."""
    b = np.asarray(field, float)
    if override is None:
        return mobility * b
    norm = float(np.linalg.norm(b))
    unit = b / norm if norm > 0 else np.array([0.0, 0.0, 1.0])
    return override * unit


def site_vectors(src, unit, values, n: int) -> np.ndarray:
    """Per site, half the sum over its edges (source ``src``, unit vector ``unit``) of
    ``values`` times the unit vector: the site's current vector [A] from its edge currents
    (an edge current I along +z, entering from below and leaving above, gives (0, 0, I))."""
    return 0.5 * np.column_stack([np.bincount(src, values * unit[:, k], n) for k in range(3)])


def hall_divergence(src, dst, unit, current, theta, n: int) -> np.ndarray:
    """Net Hall current [A] out of each site for edge currents ``current`` [A] (from ``src``
    to ``dst`` along ``unit``; every edge listed in both directions) and Hall vector
    ``theta``: sum over the site's edges of ((h_i + h_j)/2) . unit, h = J_0 x Theta."""
    h = np.cross(site_vectors(src, unit, current, n), theta)
    edge = 0.5 * np.einsum("ij,ij->i", h[src] + h[dst], unit)
    return np.bincount(src, edge, n)


def electron_shift(src, dst, unit, spacing: float, phi, theta_e) -> np.ndarray:
    """The v x B term of electron hops [V], to add to phi_t - phi_s of each edge: the electrons'
    effective field E - E x Theta_e, with E at each site from its edge potential differences
    (sites off the electrolyte have NaN potential and are skipped)."""
    n = phi.size
    ok = np.isfinite(phi[src]) & np.isfinite(phi[dst])
    drop = np.where(ok, np.nan_to_num(phi[src] - phi[dst]), 0.0) / spacing  # E . unit [V/m]
    field = site_vectors(src[ok], unit[ok], drop[ok], n)
    # the force on an electron, -e v x B with v = -mu_e E, is -e (-E x Theta_e): the hop
    # along +unit sees the potential difference of the field E - E x Theta_e, i.e. an extra
    # (E x Theta_e) . unit * spacing
    extra = np.cross(field, theta_e)
    return 0.5 * np.einsum("ij,ij->i", extra[src] + extra[dst], unit) * spacing


def hall_fixed_point(solve_pair, x_v, x_p, src, dst, unit, conductance, theta, tol,
                     max_steps=50):
    """Potentials with the Hall currents between electrolyte sites as sources: fixed-point
    steps x = x_0 - A^-1 div J_H(x) from the potentials ``x_v``, ``x_p`` of the field's two
    right-hand sides, ``solve_pair(r_v, r_p)`` solving A d = r for both (returning ``(d_v,
    d_p, iterations, method)``), over the edges ``src`` -> ``dst`` with unit vectors ``unit``
    and conductances [S]. Stops when the potentials change by at most ``tol`` (relative);
    returns (x_v, x_p, iterations, Hall source of x_v, of x_p), or None after ``max_steps``.
    """
    n = x_v.size

    def source(x):
        return -hall_divergence(src, dst, unit, conductance * (x[src] - x[dst]), theta, n)

    base, iters = (x_v, x_p), 0
    for _ in range(max_steps):
        d_v, d_p, it, _ = solve_pair(source(x_v), source(x_p))
        iters += it
        new = (base[0] + d_v, base[1] + d_p)
        change = max(np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-300)
                     for a, b in zip(new, (x_v, x_p)))
        x_v, x_p = new
        if change <= tol:
            return x_v, x_p, iters, source(x_v), source(x_p)
    return None
