"""MODEL.md 10.3: a population of surface flaws, each with its own depth (kmc.features)."""
import numpy as np
import pytest

from kmc.codes import LI
from kmc.deck import loads_deck
from kmc.errors import ConfigError
from kmc.features import FEATURE_FLAW, add_flaws, flaw_depths, sample_flaw_depths
from kmc.microstructure import Microstructure, build

H = 0.5e-6
DECK = """model = "microstructure"
[cell]
thickness = "20 um"
width = "30 um"
spacing = "0.5 um"
[microstructure]
kind = "single_crystal"
[microstructure.flaws]
{flaws}
[run]
seed = 3
"""


def blank(nx=600, nz=40):
    shape = (nx, 1, nz)
    return Microstructure(shape, H, np.zeros(shape, np.int32), np.zeros(shape, np.uint8),
                          np.zeros((1, 4)), np.zeros((1, 3)))


def column_depths(m):
    """Flaw depth [m] of each x column (Li sites counted from z = 0)."""
    return (m.phase[:, 0, :] == LI).sum(axis=1) * m.spacing


@pytest.mark.parametrize("kind,spread", [("lognormal", 0.8), ("weibull", 2.0)])
def test_each_flaw_gets_its_own_drawn_depth(kind, spread):
    """Exact: 300 one-site flaws two sites apart carry the depths of flaw_depths, drawn from the
    same stream after the positions, rounded to whole sites and clipped."""
    m = blank()
    xs = [(2 * i + 0.5) * H for i in range(300)]
    assert add_flaws(m, np.random.default_rng(7), 3e-6, H, 0.0, xs, (), kind, spread, 8e-6) == 300
    expected = flaw_depths(np.random.default_rng(7), 300, kind, 3e-6, spread, 8e-6, H)
    got = column_depths(m)
    np.testing.assert_allclose(got[::2], expected, rtol=1e-12)
    assert np.all(got[1::2] == 0)
    raw = sample_flaw_depths(np.random.default_rng(7), 300, kind, 3e-6, spread)
    np.testing.assert_allclose(expected, np.clip(np.rint(raw / H), 1, 16) * H, rtol=1e-12)
    assert len(np.unique(expected)) > 5  # really a population, not one depth


def test_max_depth_clips_and_depths_are_at_least_one_site():
    d = flaw_depths(np.random.default_rng(1), 5000, "lognormal", 2e-6, 2.0, 3.2e-6, H)
    assert d.max() == pytest.approx(3e-6) and d.min() == pytest.approx(H)
    # sigma = 2: ~44% of draws round to >= 6 sites (a >= 2.75 um) and are clipped to 6
    assert np.mean(np.isclose(d, 3e-6)) > 0.2
    m = blank(nz=10)  # default clip: one site less than the thickness
    add_flaws(m, np.random.default_rng(2), 3e-6, H, 0.0, [(2 * i + 0.5) * H for i in range(300)],
              (), "weibull", 0.5)
    assert column_depths(m).max() == pytest.approx(9 * H)


def test_poisson_flaws_with_drawn_depths_through_the_deck():
    m = build(loads_deck(DECK.format(flaws='depth = "3 um"\nmean_spacing = "3 um"\nwidth = "0.5 um"\n'
                                           'depth_distribution = "lognormal"\ndepth_spread = 0.5\n'
                                           'max_depth = "8 um"'), "deck.toml"))
    d = column_depths(m)
    assert np.all(m.feature[:, 0, :][m.phase[:, 0, :] == LI] == FEATURE_FLAW)
    assert d.max() <= 8e-6 + 1e-12 and len(np.unique(d[d > 0])) > 2


def test_both_faces_draw_their_own_flaws_after_the_plating_face():
    """faces = "both": the z = 0 face is exactly the one-face cell's (same stream first), and
    the z = L face carries flaws of its own, measured down from z = L."""
    text = ('depth = "3 um"\nmean_spacing = "3 um"\nwidth = "0.5 um"\ndepth_distribution = '
            '"lognormal"\ndepth_spread = 0.5\nmax_depth = "8 um"')
    one = build(loads_deck(DECK.format(flaws=text), "deck.toml"))
    two = build(loads_deck(DECK.format(flaws=text + '\nfaces = "both"'), "deck.toml"))
    half = one.shape[2] // 2
    np.testing.assert_array_equal(one.phase[:, :, :half], two.phase[:, :, :half])
    assert not (one.phase[:, :, half:] == LI).any()
    top = two.phase[:, 0, :half - 1:-1] == LI  # the upper half, counted from z = L
    depth = top.sum(axis=1)
    assert depth.max() > 0 and not np.array_equal(depth, column_depths(one) / H)
    assert np.all(top == (np.arange(top.shape[1]) < depth[:, None]))  # each from the face


def test_fixed_draws_no_depths():
    """The fixed distribution consumes the stream exactly as before (positions only)."""
    rng, ref = np.random.default_rng(5), np.random.default_rng(5)
    add_flaws(blank(), rng, 2e-6, H, mean_spacing=3e-6)
    n = ref.poisson(300e-6 / 3e-6)
    ref.random(n)
    assert rng.random() == ref.random()


@pytest.mark.parametrize("flaws,message", [
    ('depth = "2 um"\ndepth_distribution = "normal"',
     "deck.toml: microstructure.flaws.depth_distribution = 'normal': must be one of fixed, "
     "lognormal, weibull; did you mean 'lognormal'?"),
    ('depth = "2 um"\ndepth_distribution = "weibull"',
     "deck.toml: microstructure.flaws.depth_spread = 0: must be > 0 when "
     "microstructure.flaws.depth_distribution = 'weibull'"),
    ('depth = "2 um"\ndepth_spread = 0.5',
     "deck.toml: microstructure.flaws.depth_spread: only used when "
     "microstructure.flaws.depth_distribution is 'lognormal' or 'weibull'; remove the key"),
    ('depth = "2 um"\ndepth_distribution = "lognormal"\ndepth_spread = 0.5\nmax_depth = "20 um"',
     "deck.toml: microstructure.flaws.max_depth = 2e-05 m: must be less than the thickness 2e-05 m "
     "(a flaw would short the cell)"),
    ('depth = "2 um"\ndepth_distribution = "lognormal"\ndepth_spread = 0.5\nmax_depth = "1 um"',
     "deck.toml: microstructure.flaws.max_depth = 1e-06 m: must be at least the median depth "
     "2e-06 m"),
    ('depth = "2 um"\ndepth_spred = 0.5',
     "deck.toml: microstructure.flaws.depth_spred: unknown key; did you mean 'depth_spread'? "
     "(allowed in microstructure.flaws: depth, depth_distribution, depth_spread, max_depth, width, "
     "mean_spacing, x_positions, y_positions, faces, origin)"),
    ('depth = "2 um"\ndepth_distribution = "lognormal"\ndepth_spread = 0.5\nfaces = "both"',
     "deck.toml: microstructure.flaws.max_depth = 0 m: with faces = 'both' it must be set below "
     "half the thickness 1e-05 m (flaws facing each other would short the cell)"),
    ('depth = "12 um"\nfaces = "both"',
     "deck.toml: microstructure.flaws.depth = 1.2e-05 m: with faces = 'both' it must be set "
     "below half the thickness 1e-05 m (flaws facing each other would short the cell)"),
])
def test_bad_flaw_population_keys_are_one_line_errors(flaws, message):
    with pytest.raises(ConfigError) as info:
        loads_deck(DECK.format(flaws=flaws), "deck.toml")
    assert str(info.value) == message and "\n" not in message


def test_groove_slope_follows_the_work_of_separation():
    """m = 1 - (K_GB/K_IC)^2 / r_E: the LLZO set's 0.5 (dihedral angle 120 deg), 0 for a
    boundary as tough as the grains at the same modulus, clipped at 0 for tougher ones."""
    from kmc.features import groove_slope
    assert groove_slope(1.0e6, 0.5e6, 0.5) == pytest.approx(0.5)
    assert groove_slope(1.0e6, 1.0e6, 1.0) == 0.0
    assert groove_slope(1.0e6, 0.8e6, 0.5) == 0.0
    assert groove_slope(1.0e6, 0.6e6, 1.0) == pytest.approx(0.64)


POLY = DECK.replace('kind = "single_crystal"', 'kind = "voronoi"\ngrain_size = "3 um"').replace(
    "[run]", '[material]\nname = "llzo"\n{overrides}\n[run]')
GROOVES = ('depth = "3 um"\ndepth_distribution = "lognormal"\ndepth_spread = 0.5\n'
           'width = "0.5 um"\nmean_spacing = "3 um"\norigin = "grain_boundary_grooves"')


def test_groove_flaws_scale_with_the_boundaries_groove_slope():
    """Exact: grooves of the set's own boundaries are the surface flaws (same depths, same
    stream); at K_GB = 0.6 MPa m^0.5 the continuous depths scale by m = 0.28 over 0.5; at
    K_GB = K_IC and r_E = 1 no flaw is left, and later features draw the same stream."""
    def cell(origin, overrides=""):
        text = POLY.format(flaws=GROOVES.replace("grain_boundary_grooves", origin),
                           overrides=overrides)
        return build(loads_deck(text))
    surface, grooves = cell("surface"), cell("grain_boundary_grooves")
    np.testing.assert_array_equal(surface.phase, grooves.phase)
    assert (surface.feature == FEATURE_FLAW).sum() > 20
    tougher = cell("grain_boundary_grooves",
                   'overrides = { gb_fracture_toughness = "0.6 MPa m^0.5" }')
    raw = (grooves.feature == FEATURE_FLAW)[:, 0, :].sum(axis=1)
    scaled = (tougher.feature == FEATURE_FLAW)[:, 0, :].sum(axis=1)
    assert scaled.sum() < 0.75 * raw.sum() and scaled.max() < raw.max()
    intact = cell("grain_boundary_grooves", 'overrides = { gb_fracture_toughness = '
                  '"1.0 MPa m^0.5", gb_modulus_ratio = 1.0 }')
    assert not np.any(intact.feature == FEATURE_FLAW)
    np.testing.assert_array_equal(intact.grain, grooves.grain)
    np.testing.assert_array_equal(intact.gb_toughness_factor, grooves.gb_toughness_factor)


def test_grooves_need_grain_boundaries():
    """A single crystal has no grain-boundary grooves: a one-line error naming the key."""
    text = DECK.format(flaws=GROOVES).replace("[run]", '[material]\nname = "llzo"\n[run]')
    with pytest.raises(ConfigError, match="single crystal cell has no grain boundaries"):
        build(loads_deck(text))


def test_flaws_in_a_contoured_electrode_count_their_depth_from_its_surface():
    """A 3 um flaw at a sinusoid's peak (h = 5 um) reaches 3 um into the electrolyte above
    the peak, as one in a trough does above the trough; the contour's own Li keeps its
    feature (the cut cells of kmc.features.contour_cuts)."""
    from kmc.features import FEATURE_CONTOUR, add_contour, contour_height

    m = blank(nx=60, nz=40)
    add_contour(m, "sinusoid", 5e-6, 60 * H)
    contour = m.feature == FEATURE_CONTOUR
    peak, trough = 30.5 * H, 0.5 * H
    assert add_flaws(m, np.random.default_rng(0), 3e-6, H, 0.0, [peak, trough]) == 2
    assert np.all(m.feature[contour] == FEATURE_CONTOUR)
    for x0 in (peak, trough):
        col = int(x0 / H)
        li = np.flatnonzero(m.phase[col, 0, :] == LI)
        top = (li.max() + 1) * H  # the upper face of the column's Li
        surface = contour_height("sinusoid", x0, 0.0, 5e-6, 60 * H, 2)
        assert top - surface == pytest.approx(3e-6, abs=H)
