"""Microstructure geometry: tessellation, periodic seams, features, import, graph export."""
import math

import numpy as np
import pytest
import xarray as xr
from scipy.spatial.transform import Rotation

from kmc.codes import LI, VOID
from kmc.deck import loads_deck
from kmc.errors import ConfigError
from kmc.features import FEATURE_CONTOUR, FEATURE_FLAW, contour_height
from kmc.microstructure import (EDGE_GB, GB_ALONG, GB_CROSSING, GB_NONE, Microstructure, build,
                                import_grains)
from kmc.output import microstructure_dataset, write_dataset
from kmc.tessellation import disorientation, draw_seeds, nearest_seed, random_orientations

DECK = """model = "microstructure"
[cell]
dimension = {dim}
thickness = "{L} um"
width = "{W} um"
spacing = "0.5 um"
[microstructure]
{micro}
[run]
seed = 3
"""


def deck(micro="", dim=2, L=20, W=30):
    return loads_deck(DECK.format(micro=micro, dim=dim, L=L, W=W), "deck.toml")


@pytest.mark.parametrize("shape,periodic", [((12, 1, 9), (True, True, False)),
                                            ((7, 6, 5), (True, True, False)),
                                            ((7, 6, 5), (False, True, False))])
def test_nearest_seed_equals_brute_force_minimum_image(shape, periodic):
    """Exact: the cKDTree grain map equals a brute-force minimum-image nearest-seed search."""
    rng = np.random.default_rng(0)
    h = 1.0
    active = [0, 2] if shape[1] == 1 else [0, 1, 2]
    ext = np.array([shape[a] * h for a in active])
    low, high = np.array([0.0] * (len(active) - 1) + [-3.0]), ext + np.array([0.0] * (len(active) - 1) + [3.0])
    per = [periodic[a] for a in active]
    seeds = draw_seeds(rng, 15, low, high, per)
    got = nearest_seed(shape, h, seeds, low, high, per)
    centres = np.stack(np.meshgrid(*[(np.arange(n) + 0.5) * h for n in shape], indexing="ij"), -1)
    q = centres[..., active].reshape(-1, len(active))
    d = q[:, None, :] - seeds[None, :, :]
    for k, p in enumerate(per):
        if p:
            d[..., k] -= ext[k] * np.round(d[..., k] / ext[k])
    want = np.argmin(np.sum(d * d, axis=-1), axis=1).reshape(shape)
    np.testing.assert_array_equal(got, want)


def test_disorientation_matches_brute_force_over_cubic_group():
    """Exact: the closed form equals the minimum over the 24 cubic rotations (scipy)."""
    rng = np.random.default_rng(1)
    a, b = random_orientations(rng, 500), random_orientations(rng, 500)
    rel = Rotation.from_quat(a).inv() * Rotation.from_quat(b)
    brute = np.min([(op * rel).magnitude() for op in Rotation.create_group("O")], axis=0)
    np.testing.assert_allclose(disorientation(a, b), brute, atol=1e-9)
    assert disorientation(a, b).max() <= math.radians(62.8)  # Mackenzie's cubic maximum
    np.testing.assert_allclose(disorientation(a, a), 0.0, atol=1e-7)


def test_single_crystal_has_no_boundaries():
    m = build(deck('kind = "single_crystal"'))
    gb, tj = m.classify()
    assert m.n_grains == 1 and not gb.any() and not tj.any()
    assert np.all(np.isfinite(m.orientation)) and m.gb_pairs()[0].shape == (0, 2)
    assert m.graph().edge_data["type"].max() == 0


def test_amorphous_has_no_grains_or_orientation():
    m = build(deck('kind = "amorphous"'))
    assert m.amorphous and m.n_grains == 1 and not m.classify()[0].any()
    assert np.all(np.isnan(m.orientation))
    assert m.statistics()["gb_edge_fraction"] == 0.0


def test_contour_sites_lie_below_the_surface():
    for kind in ("sinusoid", "egg_box", "pyramid"):
        m = build(deck(f'contour = {{ kind = "{kind}", height = "4 um", period = "10 um" }}', dim=3,
                       L=10, W=10))
        x = (np.arange(m.shape[0]) + 0.5) * m.spacing
        z = (np.arange(m.shape[2]) + 0.5) * m.spacing
        h = contour_height(kind, x[:, None], x[None, :], 4e-6, 10e-6, 3)
        expected = z[None, None, :] < h[:, :, None]
        np.testing.assert_array_equal(m.phase == LI, expected)
        np.testing.assert_array_equal(m.feature == FEATURE_CONTOUR, expected)
        mean_height = {"sinusoid": 2e-6, "egg_box": 2e-6, "pyramid": 4e-6 / 3}[kind]
        # Li volume fraction = mean surface height / L, up to one site of discretisation
        assert abs(np.mean(m.phase == LI) * 10e-6 - mean_height) < 0.5e-6, kind


def test_contour_shapes_have_their_peak_height_and_period():
    x = np.linspace(0, 20e-6, 2001)
    for kind, y in (("sinusoid", 0.0), ("egg_box", 0.0), ("pyramid", 5e-6)):  # through a peak
        h = contour_height(kind, x, y + 0 * x, 3e-6, 10e-6, 3)
        assert h.min() == pytest.approx(0.0, abs=1e-12) and h.max() == pytest.approx(3e-6, rel=1e-6)
        np.testing.assert_allclose(contour_height(kind, x + 10e-6, y + 0 * x, 3e-6, 10e-6, 3), h,
                                   atol=1e-15)


def test_listed_flaws_are_li_slots_from_the_electrode():
    m = build(deck('kind = "single_crystal"\nflaws = { depth = "3 um", width = "1 um", '
                   'x_positions = ["5 um", "29.9 um"] }'))
    li = m.phase[:, 0, :] == LI
    x = (np.arange(m.shape[0]) + 0.5) * 0.5
    z = (np.arange(m.shape[2]) + 0.5) * 0.5
    dx = np.minimum(np.abs(x - 5.0), np.minimum(np.abs(x - 29.9), 30 - np.abs(x - 29.9)))
    expected = (dx <= 0.5)[:, None] & (z < 3.0)[None, :]
    np.testing.assert_array_equal(li, expected)
    assert np.all(m.feature[:, 0, :][li] == FEATURE_FLAW)
    assert li[:, 0].sum() == 4  # two columns per flaw touch the electrode at z = 0 (one wraps)


def test_poisson_flaw_count():
    """Flaw count over 50 seeds: Poisson with mean W/spacing = 60 each, total mean 3000;
    accepted if within 5 standard deviations (sqrt(3000) = 55): false failure 5.7e-7."""
    total = 0
    for seed in range(50):
        m = Microstructure((400, 1, 10), 0.5e-6, np.zeros((400, 1, 10), np.int32),
                           np.zeros((400, 1, 10), np.uint8), np.zeros((1, 4)), np.zeros((1, 3)))
        from kmc.features import add_flaws
        total += add_flaws(m, np.random.default_rng(seed), 1e-6, 0.5e-6, mean_spacing=200e-6 / 60)
    assert abs(total - 3000) < 5 * math.sqrt(3000)


def test_pores_reach_the_fraction_and_prefer_boundaries():
    base = 'grain_size = "3 um"\npores = {{ fraction = 0.05, radius = "0.5 um", gb_preference = {p} }}'
    at_gb, anywhere = build(deck(base.format(p=1.0), W=60)), build(deck(base.format(p=0.0), W=60))
    for m in (at_gb, anywhere):
        porosity = np.mean(m.phase == VOID)
        assert 0.05 <= porosity < 0.05 + 13 / m.phase.size  # overshoot at most one pore (13 sites)
    gb1, gb0 = at_gb.classify()[0], anywhere.classify()[0]
    assert np.mean(gb1[at_gb.phase == VOID]) > np.mean(gb0[anywhere.phase == VOID])


def test_pores_never_replace_li():
    m = build(deck('kind = "single_crystal"\nflaws = { depth = "5 um", width = "2 um", '
                   'x_positions = ["10 um"] }\npores = { fraction = 0.3, radius = "1 um" }'))
    assert np.all(m.phase[m.feature == FEATURE_FLAW] == LI)
    assert np.mean(m.phase == VOID) >= 0.3


def test_graph_labels_and_networkx_export_agree():
    m = build(deck('grain_size = "2 um"', dim=3, L=6, W=5))
    g = m.graph()
    gb, tj = m.classify()
    np.testing.assert_array_equal(g.to_grid(g.site_data["gb"]).astype(bool), gb)
    np.testing.assert_array_equal(g.to_grid(g.site_data["grain"]), m.grain)
    is_gb = g.site_data["grain"][g.sources] != g.site_data["grain"][g.indices]
    np.testing.assert_array_equal(g.edge_data["type"] == EDGE_GB, is_gb)
    nxg = g.to_networkx()
    assert nxg.number_of_nodes() == g.n_sites and 2 * nxg.number_of_edges() == g.n_edges
    n_gb_edges = sum(1 for _, _, t in nxg.edges(data="type") if t == EDGE_GB)
    assert 2 * n_gb_edges == int(is_gb.sum())
    assert sum(1 for _, v in nxg.nodes(data="gb") if v) == int(gb.sum())
    assert {v for _, v in nxg.nodes(data="grain")} == set(range(m.n_grains))


@pytest.mark.parametrize("suffix", [".nc", ".npy"])
def test_import_round_trip_gives_the_identical_graph(tmp_path, suffix):
    d = deck('grain_size = "2 um"\nseeds = "hardcore"', dim=3, L=6, W=5)
    m = build(d)
    path = tmp_path / f"grains{suffix}"
    if suffix == ".nc":
        write_dataset(microstructure_dataset(m, d), path)
    else:
        np.save(path, m.grain)
    m2 = build(deck(f'kind = "import"\nimport_path = "{path}"', dim=3, L=6, W=5))
    np.testing.assert_array_equal(m2.grain, m.grain)
    g, g2 = m.graph(), m2.graph()
    for name in ("indptr", "indices", "edge_vectors"):
        np.testing.assert_array_equal(getattr(g, name), getattr(g2, name))
    for name in g.site_data:
        np.testing.assert_array_equal(g.site_data[name], g2.site_data[name])
    np.testing.assert_array_equal(g.edge_data["type"], g2.edge_data["type"])
    if suffix == ".nc":  # orientations travel with the netCDF file
        np.testing.assert_array_equal(m2.orientation, m.orientation)
        np.testing.assert_array_equal(m2.gb_pairs()[1], m.gb_pairs()[1])


def test_import_renumbers_ids_and_accepts_2d(tmp_path):
    arr = np.where(np.arange(60)[:, None] < 30, 7, 42) * np.ones((60, 40), np.int64)
    np.save(tmp_path / "g.npy", arr)
    grain, orientation = import_grains(tmp_path / "g.npy", (60, 1, 40))
    assert orientation is None and set(np.unique(grain)) == {0, 1} and grain.shape == (60, 1, 40)


@pytest.mark.parametrize("content,message", [
    (np.zeros((5, 5), np.int32), "grain map has shape (5, 1, 5) but the cell has (60, 1, 40) sites (x, y, z)"),
    (np.zeros((60, 40)), "grain ids must be integers, got float64"),
    (-np.ones((60, 40), np.int32), "grain ids must be >= 0, found -1"),
])
def test_import_errors(tmp_path, content, message):
    path = tmp_path / "g.npy"
    np.save(path, content)
    with pytest.raises(ConfigError) as info:
        import_grains(path, (60, 1, 40))
    assert str(info.value) == f"microstructure.import_path = '{path}': {message}"


def test_import_corrupt_and_missing_files(tmp_path):
    bad = tmp_path / "g.npy"
    bad.write_bytes(b"not numpy")
    with pytest.raises(ConfigError) as info:
        import_grains(bad, (60, 1, 40))
    assert str(info.value) == f"microstructure.import_path = '{bad}': cannot read grain map (ValueError)"
    with pytest.raises(ConfigError) as info:
        import_grains(tmp_path / "none.nc", (60, 1, 40))
    assert str(info.value) == f"microstructure.import_path = '{tmp_path / 'none.nc'}': file not found"


@pytest.mark.parametrize("text,message", [
    ('[cell]\nthickness = "20.3 um"\nwidth = "30 um"',
     "deck.toml: cell.thickness = 2.03e-05 m: must be a whole number of sites of spacing 5e-07 m"),
    ('[cell]\nthickness = "20 um"\nwidth = "30 um"\ndepth = "10 um"',
     "deck.toml: cell.depth = 1e-05 m: a 2D cell has no depth; remove the key"),
    ('[cell]\nthickness = "20 um"\nwidth = "30 um"\n[microstructure]\nkind = "import"',
     "deck.toml: microstructure.import_path: required when microstructure.kind = 'import'"),
    ('[cell]\nthickness = "20 um"\nwidth = "30 um"\n[microstructure]\nkind = "voronoy"',
     "deck.toml: microstructure.kind = 'voronoy': must be one of voronoi, single_crystal, amorphous, "
     "import; did you mean 'voronoi'?"),
    ('[cell]\nthickness = "20 um"\nwidth = "30 um"\n[microstructure]\npores = { fraction = 0.7 }',
     "deck.toml: microstructure.pores.fraction = 0.7: out of range, must be in [0, 0.5]"),
    ('[cell]\nthickness = "20 um"\nwidth = "30 um"\n[microstructure.contour]\nkind = "sinusoid"\n'
     'height = "2 MPa"', "deck.toml: microstructure.contour.height = '2 MPa': wrong unit, needs a "
     "quantity convertible to 'm'"),
])
def test_microstructure_deck_errors(text, message):
    with pytest.raises(ConfigError) as info:
        loads_deck('model = "microstructure"\n' + text, "deck.toml")
    assert str(info.value) == message


def test_same_seed_same_microstructure_other_seed_differs():
    a, b = build(deck('grain_size = "2 um"')), build(deck('grain_size = "2 um"'))
    np.testing.assert_array_equal(a.grain, b.grain)
    np.testing.assert_array_equal(a.orientation, b.orientation)
    other = loads_deck(DECK.format(micro='grain_size = "2 um"', dim=2, L=20, W=30).replace(
        "seed = 3", "seed = 4"))
    assert not np.array_equal(build(other).grain, a.grain)


def test_material_properties_on_sites_and_edges():
    from kmc.materials import load_material, resolve

    mat = resolve(load_material("llzo"), 298.15)
    m = build(deck('grain_size = "2 um"\npores = { fraction = 0.03, radius = "0.5 um" }', W=30))
    gb, tj = m.classify()
    props = m.site_properties(mat)
    np.testing.assert_array_equal(props["band_gap"], np.where(gb, mat.gb_band_gap, mat.band_gap))
    np.testing.assert_array_equal(props["youngs_modulus"][gb], 0.5 * mat.youngs_modulus)
    assert np.all(props["trap_depth"][tj] == mat.trap_depth_triple_junction)
    pore_only = m.pore_surface() & ~tj
    assert pore_only.any() and np.all(props["trap_depth"][pore_only] == mat.trap_depth_pore)
    assert np.all(props["trap_depth"][~gb & ~m.pore_surface()] == 0.0)
    g = m.graph(material=mat)
    along = g.edge_data["gb_relation"] == GB_ALONG
    np.testing.assert_array_equal(g.edge_data["fracture_toughness"],
                                  np.where(along, mat.gb_fracture_toughness, mat.fracture_toughness))
    assert g.site_data["band_gap"].flags.c_contiguous and g.site_data["band_gap"].dtype == np.float64


def test_cli_microstructure_writes_maps_and_figure(tmp_path, capsys):
    from kmc.cli import main

    path = tmp_path / "deck.toml"
    path.write_text(DECK.format(micro='grain_size = "3 um"', dim=2, L=20, W=30))
    out, fig = tmp_path / "m.nc", tmp_path / "m.png"
    assert main(["microstructure", str(path), "-o", str(out), "--figure", str(fig)]) == 0
    ds = xr.load_dataset(out)
    assert ds["grain"].dims == ("z", "y", "x") and ds["grain"].shape == (40, 1, 60)  # CF order
    assert set(np.unique(ds["trap_depth"].values)) <= {0.0, 0.4, 0.6, 0.8}
    assert ds.attrs["material"] == "llzo" and fig.stat().st_size > 10_000
    assert "grains, 60x1x40 sites" in capsys.readouterr().out
    assert main(["analyze", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "cell: 60 x 1 x 40 sites of 0.5 um (llzo)"
    assert lines[1] == f"grains: {int(ds['n_grains'])} ({int(ds['n_interior_grains'])} not cut by the electrode faces)"


def test_cli_unknown_material_is_one_line(tmp_path, capsys):
    from kmc.cli import main

    path = tmp_path / "deck.toml"
    path.write_text(DECK.format(micro="", dim=2, L=20, W=30) + '[material]\nname = "llzoo"\n')
    assert main(["microstructure", str(path), "-o", str(tmp_path / "m.nc")]) == 2
    assert capsys.readouterr().err == (
        "kmc: error: material.name = 'llzoo': unknown material; did you mean 'llzo'? "
        "(available: li3ps4, li6ps5cl, lipon, llzo, llzo_single_crystal)\n")


def test_cli_unknown_material_property_is_one_line(tmp_path, capsys):
    from kmc.cli import main

    path = tmp_path / "deck.toml"
    path.write_text(DECK.format(micro="", dim=2, L=20, W=30)
                    + '[material]\nname = "llzo"\noverrides = { band_gapp = "3 eV" }\n')
    assert main(["microstructure", str(path), "-o", str(tmp_path / "m.nc")]) == 2
    assert capsys.readouterr().err == (
        "kmc: error: material.overrides.band_gapp: unknown property; did you mean 'band_gap'?\n")


@pytest.mark.parametrize("shape,periodic", [((7, 6, 5), (True, True, False)),
                                            ((9, 1, 8), (True, True, False)),
                                            ((6, 5, 4), (False, True, False))])
def test_classification_equals_a_plain_loop(shape, periodic):
    """Exact: GB sites, triple junctions, boundary pairs and the GB-edge count equal a
    site-by-site loop over the lattice neighbours."""
    rng = np.random.default_rng(4)
    grain = rng.integers(0, 4, size=shape).astype(np.int32)
    m = Microstructure(shape, 1.0, grain, np.zeros(shape, np.uint8), random_orientations(rng, 4),
                       np.zeros((4, 3)), periodic=periodic)
    gb = np.zeros(shape, bool)
    tj = np.zeros(shape, bool)
    pairs, n_gb_edges = set(), 0
    for i, j, k in np.ndindex(*shape):
        seen = {grain[i, j, k]}
        for ax in range(3):
            if shape[ax] == 1:
                continue
            for step in (1, -1):
                c = [i, j, k]
                c[ax] += step
                if not 0 <= c[ax] < shape[ax]:
                    if not periodic[ax]:
                        continue
                    c[ax] %= shape[ax]
                other = grain[tuple(c)]
                seen.add(other)
                if other != grain[i, j, k]:
                    gb[i, j, k] = True
                    pairs.add((min(other, grain[i, j, k]), max(other, grain[i, j, k])))
                    n_gb_edges += step == 1
        tj[i, j, k] = len(seen) >= 3
    got_gb, got_tj = m.classify()
    np.testing.assert_array_equal(got_gb, gb)
    np.testing.assert_array_equal(got_tj, tj)
    assert {tuple(p) for p in m.gb_pairs()[0].tolist()} == pairs
    assert m.statistics()["gb_edge_fraction"] == n_gb_edges / m.n_edges()



def test_gb_edge_relation_on_a_bicrystal():
    """Two grains split at x = 3 (and by periodicity at x = 0): x-edges across the planes cross
    them, z-edges in the columns beside the planes run along them, all others are bulk."""
    shape = (6, 1, 5)
    grain = (np.arange(6)[:, None, None] >= 3) * np.ones(shape, np.int32)
    m = Microstructure(shape, 1.0, grain, np.zeros(shape, np.uint8), np.zeros((2, 4)),
                       np.zeros((2, 3)))
    g = m.graph(order="c")
    x = np.rint(g.positions[:, 0] - 0.5).astype(int)
    src, dst = g.sources, g.indices
    along_z = g.edge_vectors[:, 2] != 0
    rel = g.edge_data["gb_relation"]
    crossing = (x[src] // 3) != (x[dst] // 3)
    beside = np.isin(x[src], [0, 2, 3, 5]) & along_z
    np.testing.assert_array_equal(rel == GB_CROSSING, crossing)
    np.testing.assert_array_equal(rel == GB_ALONG, beside)
    assert np.all(rel[~crossing & ~beside] == GB_NONE)


@pytest.mark.parametrize("extra,message", [
    ('[microstructure.flaws]\ndepth = "20 um"',
     "deck.toml: microstructure.flaws.depth = 2e-05 m: must be less than the thickness 2e-05 m "
     "(the flaw would short the cell)"),
    ('[microstructure.flaws]\ndepth = "2 um"\nwidth = "0.2 um"',
     "deck.toml: microstructure.flaws.width = 2e-07 m: narrower than one site (5e-07 m), the flaw "
     "would carve nothing"),
    ('[microstructure.flaws]\ndepth = "2 um"\nx_positions = ["31 um"]',
     "deck.toml: microstructure.flaws.x_positions = [3.1e-05]: must lie in [0, 3e-05) m"),
    ('[microstructure.contour]\nkind = "sinusoid"\nheight = "25 um"',
     "deck.toml: microstructure.contour.height = 2.5e-05 m: must be less than the thickness 2e-05 m"),
    ('[microstructure.contour]\nkind = "sinusoid"\nheight = "2 um"\nperiod = "7 um"',
     "deck.toml: microstructure.contour.period = 7e-06 m: must divide the width 3e-05 m of a "
     "periodic cell (else a step at the seam)"),
    ('[output]\nfigure = "m.xyz"',
     "deck.toml: output.figure = 'm.xyz': must end in .png, .pdf or .svg (or be empty for none)"),
])
def test_features_that_do_not_fit_the_cell(extra, message):
    with pytest.raises(ConfigError) as info:
        loads_deck(DECK.format(micro="", dim=2, L=20, W=30) + extra, "deck.toml")
    assert str(info.value) == message


def test_3d_listed_flaws_need_y_and_land_where_listed():
    with pytest.raises(ConfigError) as info:
        deck('flaws = { depth = "2 um", width = "1 um", x_positions = ["3 um"] }', dim=3, L=6, W=10)
    assert str(info.value) == ("deck.toml: microstructure.flaws.y_positions = []: a 3D cell needs one "
                               "y per x position (1)")
    m = build(deck('kind = "single_crystal"\nflaws = { depth = "2 um", width = "1 um", '
                   'x_positions = ["3 um"], y_positions = ["7 um"] }', dim=3, L=6, W=10))
    li = np.argwhere(m.phase == LI) * 0.5 + 0.25  # site centres [um]
    assert li.shape[0] == 2 * 2 * 4
    assert set(li[:, 0]) == {2.75, 3.25} and set(li[:, 1]) == {6.75, 7.25} and li[:, 2].max() < 2


def test_material_contradicting_the_grain_structure_is_an_error():
    d = loads_deck(DECK.format(micro="", dim=2, L=20, W=30) + '[material]\nname = "lipon"\n',
                   "deck.toml")
    with pytest.raises(ConfigError) as info:
        build(d)
    assert str(info.value) == ("microstructure.kind = 'voronoi': material 'lipon' is amorphous; "
                               "use kind = 'amorphous'")


def test_grain_size_defaults_to_the_material():
    d = loads_deck(DECK.format(micro="", dim=2, L=60, W=120) + '[material]\nname = "li6ps5cl"\n',
                   "deck.toml")
    m = build(d)  # 30 um grains: a handful in a 120 x 60 um section
    assert m.n_grains < 40


def test_pores_that_cannot_fit_are_an_error():
    d = deck('kind = "single_crystal"\nflaws = { depth = "19 um", width = "20 um", '
             'x_positions = ["15 um"] }\npores = { fraction = 0.5 }')
    with pytest.raises(ConfigError) as info:
        build(d)
    assert str(info.value).startswith("microstructure.pores.fraction = 0.5: only 0.")


def test_import_netcdf_needs_named_axes(tmp_path):
    path = tmp_path / "g.nc"
    xr.Dataset({"grain": (("a", "b"), np.zeros((60, 40), np.int32))}).to_netcdf(path)
    with pytest.raises(ConfigError) as info:
        import_grains(path, (60, 1, 40))
    assert str(info.value) == (f"microstructure.import_path = '{path}': variable 'grain' has dims "
                               "('a', 'b'), expected (x, z) or (x, y, z)")


def test_classification_does_not_depend_on_the_slab_size():
    """The chunked scan (z-slabs of ``planes`` planes with one-plane halos) gives the same
    answer for every slab size, including slabs of one plane."""
    d = deck('grain_size = "2 um"\npores = { fraction = 0.02 }', dim=3, L=10, W=6)
    reference = build(d)
    want = reference._scan(planes=1000)
    for planes in (1, 2, 3, 7):
        m = build(d)
        got = m._scan(planes=planes)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
