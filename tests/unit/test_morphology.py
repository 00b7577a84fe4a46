"""Morphology of the Li (kmc.analysis.morphology): the box-counting estimator on sets of known
dimension (exact counts on commensurate boxes; the finite-size bias of the default box sizes in
closed form for squares, lines and cubes; a stated band for self-similar fractals), the GB
fraction of Li, cluster sizes and depth profiles on hand-made maps, and a real run's dataset,
whose series the functions must reproduce at the final snapshot in any order of the map
dimensions. Everything is deterministic (fixed shapes, fixed seeds)."""
import math

import numpy as np
import pytest
import xarray as xr

import kmc.analysis as A
from kmc.analysis.fractal import box_counts, box_sizes
from kmc.deck import loads_deck
from kmc.errors import AnalysisError, DatasetError
from kmc.simulation import simulate


def sierpinski_triangle(k):
    """Pascal's triangle mod 2 on 2^k x 2^k sites: D = log 3 / log 2 exactly."""
    i, j = np.indices((2 ** k, 2 ** k))
    return (i & j) == 0


def sierpinski_carpet(k):
    """Sierpinski carpet on 3^k x 3^k sites: D = log 8 / log 3 exactly."""
    c = np.ones((1, 1), bool)
    for _ in range(k):
        c = np.block([[c, c, c], [c, np.zeros_like(c), c], [c, c, c]])
    return c


def slope_dimension(sizes, counts):
    """-slope of the least-squares line of log N on log eps (the estimator's fit)."""
    return -np.polyfit(np.log(sizes), np.log(counts), 1)[0]


# --- box counting --------------------------------------------------------------------------

def test_box_counts_are_exact_on_commensurate_boxes():
    """With box sizes that tile the set exactly, the counts are exact and the fitted dimension
    equals the true one to rounding: a filled rectangle (N = (128/e)(64/e), D = 2), a straight
    line (N = 128/e, D = 1), Sierpinski's triangle (N = 3^(8 - k) at e = 2^k, D = log 3/log 2),
    Sierpinski's carpet (N = 8^(5 - k) at e = 3^k, D = log 8/log 3) and, in 3D, a filled cube
    and a plane (N = (16/e)^3, (16/e)^2). No tolerance but floating-point rounding (1e-9)."""
    sizes = np.array([1, 2, 4, 8, 16, 32])
    rect = np.zeros((130, 70), bool)
    rect[1:129, 3:67] = True
    line = np.zeros((130, 5), bool)
    line[1:129, 2] = True
    tri = sierpinski_triangle(8)
    assert box_counts(rect, sizes).tolist() == [(128 // e) * (64 // e) for e in sizes]
    assert box_counts(line, sizes).tolist() == [128 // e for e in sizes]
    assert box_counts(tri, sizes).tolist() == [3 ** (8 - k) for k in range(sizes.size)]
    threes = np.array([1, 3, 9, 27, 81])
    carpet = sierpinski_carpet(5)
    assert box_counts(carpet, threes).tolist() == [8 ** (5 - k) for k in range(threes.size)]
    cube = np.ones((16, 16, 16), bool)
    plane = np.zeros((16, 16, 16), bool)
    plane[:, 7, :] = True
    small = sizes[:4]
    assert box_counts(cube, small).tolist() == [(16 // e) ** 3 for e in small]
    assert box_counts(plane, small).tolist() == [(16 // e) ** 2 for e in small]
    for mask, s, d in ((rect, sizes, 2.0), (line, sizes, 1.0), (tri, sizes, math.log(3) / math.log(2)),
                       (carpet, threes, math.log(8) / math.log(3)), (cube, small, 3.0),
                       (plane, small, 2.0)):
        assert abs(slope_dimension(s, box_counts(mask, s)) - d) < 1e-9


@pytest.mark.parametrize("shape", [(200, 200), (200, 1), (1, 137), (24, 24, 24), (50, 1, 50)])
def test_filled_boxes_and_lines_carry_exactly_the_straddle_bias(shape):
    """With the default, incommensurate box sizes a filled box of L sites per side needs
    ceil(L / eps) boxes per axis (the cover from the set's corner is the smallest), so the
    estimator returns the slope of log prod ceil(L_i / eps): the integer dimension minus the
    straddle bias of boxes that reach beyond the edge (0.03 for a 200-site square, 0.13 for a
    50-site one, 0.011 for a 200-site line, 0.08 for a 24-site cube). Exact (1e-9): the bias is
    a property of the estimator, not noise; it is downward, the direction the band of the C10
    test assumes, and below 0.15 for sets of 24 sites or more."""
    mask = np.ones(shape, bool)
    r = A.box_counting_dimension(mask)
    assert r.sizes.tolist() == box_sizes(mask).tolist()
    expected = np.prod([np.ceil(n / r.sizes) for n in shape if n > 1], axis=0)
    assert r.counts.tolist() == expected.astype(int).tolist()
    true = sum(n > 1 for n in shape)
    assert abs(r.dimension - slope_dimension(r.sizes, expected)) < 1e-9
    assert 0 < true - r.dimension < 0.15


@pytest.mark.parametrize("name", ["rectangle", "disk", "line", "diagonal", "triangle", "carpet"])
def test_box_counting_dimension_of_known_sets(name):
    """The default estimator (boxes from 2 sites to 1/4 of the set's size, 8 sizes, not
    commensurate with the set) recovers known dimensions within 0.1: filled rectangle and disk
    (2), horizontal and diagonal lines (1), Sierpinski triangle on 2^8 sites (1.585) and carpet
    on 3^5 sites (1.893).

    Where the band comes from: a box straddling the set's edge counts whole, which at the
    largest boxes adds boundary boxes of order perimeter / eps and flattens the slope (exactly
    0.03 for a 200-site square, previous test; ~0.08 for the disk, whose curved edge no grid
    offset can align). A self-similar set adds a staircase: between two powers of its ratio,
    N(eps) is not on the power law (the carpet's log N wobbles by up to log 8 between
    eps = 3^j and 3^(j+1)); at 3^5 sites the two together give -0.046 for the carpet (at 3^4,
    with only two powers of 3 in the fit range, -0.17: the carpet must be this large). Measured
    errors: rectangle -0.033, disk -0.080, lines -0.011, triangle +0.018, carpet -0.046, all
    inside 0.1. Deterministic."""
    i, j = np.indices((256, 256))
    sets = {
        "rectangle": (np.pad(np.ones((120, 80), bool), 5), 2.0),
        "disk": ((i - 128) ** 2 + (j - 128) ** 2 < 100 ** 2, 2.0),
        "line": (np.pad(np.ones((128, 1), bool), 3), 1.0),
        "diagonal": (np.eye(128, dtype=bool), 1.0),
        "triangle": (sierpinski_triangle(8), math.log(3) / math.log(2)),
        "carpet": (sierpinski_carpet(5), math.log(8) / math.log(3)),
    }
    mask, expected = sets[name]
    d, sizes, counts = A.box_counting_dimension(mask)
    assert sizes[0] == 2 and sizes[-1] <= 0.25 * max(mask.shape) + 1
    assert abs(d - expected) < 0.1, (name, d, expected, sizes, counts)


def test_box_counting_rejects_empty_and_too_small_sets():
    """Whole messages."""
    with pytest.raises(AnalysisError) as err:
        A.box_counting_dimension(np.zeros((10, 10), bool))
    assert str(err.value) == "box counting: the set is empty (no True site)"
    with pytest.raises(AnalysisError) as err:
        A.box_counting_dimension(np.ones((15, 3), bool))
    assert str(err.value) == ("box counting: set of size 15 sites too small for boxes from 2 "
                              "sites to 0.25 of its size")


def test_unwrap_joins_a_cluster_split_by_the_periodic_seam():
    """A shape crossing the periodic x boundary is rolled into one piece, so its box counts
    equal those of the unsplit shape."""
    grid = np.zeros((64, 32), bool)
    grid[20:44, 0:20] = True
    grid[30, 20:30] = True
    rolled = np.roll(grid, 40, axis=0)  # now split across x = 0
    sizes = [1, 2, 3, 5, 8]
    assert box_counts(A.unwrap_periodic(rolled), sizes).tolist() == box_counts(grid, sizes).tolist()


# --- GB fraction, clusters, depth ----------------------------------------------------------

def test_gb_fraction_of_li_on_a_hand_made_map():
    """4 Li sites, 3 of them on GB sites: 3/4; voids and electrolyte on GB sites do not count;
    no Li: NaN; maps of different shapes: one-line error (whole message)."""
    phase = np.array([[1, 1, 0, 2],
                      [1, 0, 1, 0]])
    gb = np.array([[1, 0, 1, 1],
                   [1, 1, 1, 0]], np.uint8)
    assert A.gb_fraction_of_li(phase, gb) == 0.75
    assert math.isnan(A.gb_fraction_of_li(np.zeros((2, 4)), gb))
    with pytest.raises(AnalysisError) as err:
        A.gb_fraction_of_li(phase, gb.T)
    assert str(err.value) == ("phase has shape (2, 4) but gb_site has shape (4, 2): the maps "
                              "must cover the same lattice")


def test_cluster_sizes_join_face_neighbours_and_the_periodic_x_seam_only():
    """(x, z) map of 8 x 6 sites, periodic in x, not in z (the cell's default): sites touching
    across the x seam are one cluster, sites in the layers z = 0 and z = 5 are not, diagonal
    neighbours are not; only class 2 (floating) sites count. Switching the periodicity
    changes exactly the clusters it should."""
    cls = np.full((8, 6), -1)
    cls[0, 2] = cls[7, 2] = cls[7, 3] = 2   # one floating cluster of 3 across the x seam
    cls[3, 0] = cls[3, 5] = 2               # two singletons: z is not periodic
    cls[5, 0] = cls[6, 1] = 2               # diagonal neighbours: two singletons
    cls[2, 1:5] = 1                         # a C-connected column: not floating
    cls[5, 3] = 0                           # an A-connected site
    assert A.floating_cluster_sizes(cls).tolist() == [3, 1, 1, 1, 1]
    assert A.floating_cluster_sizes(cls, periodic=(False, False, False)).tolist() == [2, 1, 1, 1, 1, 1]
    assert A.floating_cluster_sizes(cls, periodic=(True, True, True)).tolist() == [3, 2, 1, 1]
    assert A.cluster_sizes(cls >= 0).tolist() == [4, 3, 1, 1, 1, 1, 1]
    assert A.floating_cluster_sizes(np.full((4, 4), -1)).tolist() == []
    # 3D, (x, y, z): the y seam joins too
    c3 = np.full((4, 5, 3), -1)
    c3[1, 0, 1] = c3[1, 4, 1] = c3[1, 4, 2] = 2
    c3[3, 2, 0] = 2
    assert A.floating_cluster_sizes(c3).tolist() == [3, 1]
    with pytest.raises(AnalysisError) as err:
        A.cluster_sizes(cls == 2, periodic=(True,))
    assert str(err.value) == "periodic = (True,) does not match a mask with 2 axes"


def test_depth_profile_sums_layers_and_measures_depth_and_centroid():
    """(x, z) mask with Li in layers 0 (3 sites), 1 (1 site) and 4 (2 sites), h = 0.5 um:
    amount [3, 1, 0, 0, 2, 0], penetration (4 + 1) h = 2.5 um, centroid
    (3 * 0.25 + 1 * 0.75 + 2 * 2.25) / 6 um = 1.0 um. Weights (content in sites' worth) sum
    the same way. No Li: depth 0, centroid NaN."""
    li = np.zeros((4, 6), bool)
    li[:3, 0] = True
    li[1, 1] = True
    li[[0, 3], 4] = True
    p = A.depth_profile(li, spacing=0.5e-6)
    assert p.amount.tolist() == [3, 1, 0, 0, 2, 0]
    assert np.allclose(p.z, (np.arange(6) + 0.5) * 0.5e-6, rtol=1e-15, atol=0)
    assert p.penetration_depth == pytest.approx(2.5e-6, rel=1e-15)
    assert p.centroid == pytest.approx(1.0e-6, rel=1e-15)
    assert p.total == 6
    w = A.depth_profile(np.where(li, 0.5, 0.0))   # no spacing: lengths in sites
    assert w.amount.tolist() == [1.5, 0.5, 0, 0, 1.0, 0] and w.penetration_depth == 5.0
    assert w.centroid == pytest.approx(2.0, rel=1e-15)
    empty = A.depth_profile(np.zeros((4, 6)))
    assert empty.penetration_depth == 0.0 and math.isnan(empty.centroid)


def test_maps_are_read_by_dimension_name():
    """A DataArray gives the same answers in (x, y, z) and (z, y, x) order, and the spacing
    comes from its z coordinate; a map with a snapshot axis left is refused (whole message)."""
    rng = np.random.default_rng(7)
    nx, nz, h = 9, 7, 0.25e-6
    phase = np.where(rng.random((nx, 1, nz)) < 0.4, 1, 0)
    gb = (rng.random((nx, 1, nz)) < 0.5).astype(np.uint8)
    coords = {"x": (np.arange(nx) + 0.5) * h, "y": [0.5 * h], "z": (np.arange(nz) + 0.5) * h}
    xyz = xr.DataArray(phase, dims=("x", "y", "z"), coords=coords)
    g_xyz = xr.DataArray(gb, dims=("x", "y", "z"), coords=coords)
    zyx, g_zyx = xyz.transpose("z", "y", "x"), g_xyz.transpose("z", "y", "x")
    li = phase[:, 0, :] == 1
    for p, g in ((xyz, g_xyz), (zyx, g_zyx)):
        assert A.gb_fraction_of_li(p, g) == A.gb_fraction_of_li(phase[:, 0], gb[:, 0])
        d = A.depth_profile(p == 1)
        assert d.amount.tolist() == li.sum(axis=0).tolist()
        # the spacing read from the z coordinate: exact up to the rounding of the coordinate
        assert d.penetration_depth == pytest.approx(A.depth_profile(li, spacing=h).penetration_depth,
                                                    rel=1e-12)
        assert A.cluster_sizes(p == 1).tolist() == A.cluster_sizes(li).tolist()
    with pytest.raises(AnalysisError) as err:
        A.gb_fraction_of_li(xyz.expand_dims(snapshot=2), g_xyz)
    assert str(err.value) == ("phase has dimensions ('snapshot', 'x', 'y', 'z'): select one "
                              "snapshot first (e.g. .isel(snapshot=-1)); a site map has only x, "
                              "y, z")


# --- a run's dataset -----------------------------------------------------------------------

#: 5 x 8 um, one flaw, a strongly leaking electrolyte (1e-5 S/cm, 1000x LLZO's measured
#: electronic conductivity, and no nucleation overpotential): Li nucleates in the electrolyte
#: (floating clusters) within seconds, and the flaw's Li shorts the cell after ~70 s.
DECK = """
model = "plating"
[cell]
thickness = "8 um"
width = "5 um"
[microstructure]
kind = "voronoi"
grain_size = "2 um"
flaws = { depth = "2 um", width = "0.5 um", x_positions = ["2.5 um"] }
[material]
name = "llzo"
li_metal = { creep_reference_stress = "95 MPa" }
overrides = { electronic_conductivity = "1e-5 S/cm" }
[protocol]
current_density = "20 mA/cm^2"
[plating]
nucleation_overpotential = "0 V"
[run]
duration = "300 s"
observations = 11
snapshots = 2
seed = 5
"""


@pytest.fixture(scope="module")
def run_dataset():
    return simulate(loads_deck(DECK)).to_dataset()


@pytest.mark.parametrize("order", [("x", "y", "z"), ("z", "y", "x")])
def test_morphology_of_a_run_reproduces_its_series_at_the_stop(run_dataset, order):
    """At the last snapshot (taken at the stop, the last observation) the morphology of the
    run's maps equals what the run observed: gb_li_fraction, floating_clusters,
    largest_floating_cluster, li_sites_floating, penetration_depth (exact), with the maps
    stored in either dimension order. The run has floating clusters (the electron leak), so
    the cluster sizes are not trivially empty."""
    ds = run_dataset.transpose("snapshot", *order, ...)
    m = A.morphology(ds)
    last = ds.isel(time=-1)
    assert m.time == float(ds["time"][-1])
    assert m.gb_fraction == float(last["gb_li_fraction"])
    assert m.floating_sizes.size == int(last["floating_clusters"]) > 0
    assert m.floating_sizes[0] == int(last["largest_floating_cluster"])
    assert m.floating_sizes.sum() == int(last["li_sites_floating"])
    assert m.penetration_depth == float(last["penetration_depth"])
    assert m.li_sites == int((ds["phase"].isel(snapshot=-1) == 1).sum())
    assert m.profile.total == m.li_sites
    assert 1.0 < m.dimension < 2.0
    ref = A.morphology(run_dataset)
    assert (m.dimension, m.gb_fraction, m.profile.centroid) == (ref.dimension, ref.gb_fraction,
                                                                 ref.profile.centroid)


def test_morphology_needs_a_plating_run(run_dataset):
    """Whole message."""
    with pytest.raises(DatasetError) as err:
        A.morphology(run_dataset.drop_vars(["cluster_class"]))
    assert str(err.value) == ("dataset: not a single kmc plating run with snapshots (missing "
                              "cluster_class)")


def test_lateral_bond_fraction_counts_bonds_across_the_field_on_exact_shapes():
    """A row along x: 1; a column along z: 0; a 3 x 3 square: 1/2; a pair joined only across
    the periodic x seam: 1, and no bond when x is not periodic; no bonds: NaN."""
    row, col, square, seam = (np.zeros((10, 10), bool) for _ in range(4))
    row[:6, 5] = True
    col[5, 2:8] = True
    square[3:6, 3:6] = True
    seam[0, 3] = seam[9, 3] = True
    assert A.lateral_bond_fraction(row) == 1.0
    assert A.lateral_bond_fraction(col) == 0.0
    assert A.lateral_bond_fraction(square) == 0.5
    assert A.lateral_bond_fraction(seam) == 1.0
    assert math.isnan(A.lateral_bond_fraction(seam, periodic=(False, True, False)))
    with pytest.raises(AnalysisError):
        A.lateral_bond_fraction(square, periodic=(True,))
