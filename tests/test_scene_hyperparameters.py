"""Hyper-parameter scenes: the numbers they show (against torch) and -ql renders.

The numbers use the default (shipped) weights, as the scenes do.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import check_video

from cnnanim.explain import hyperparameters as explain
from cnnanim.explain import maths
from cnnanim.output.render import render_scene
from cnnanim.scenes import hyperparameters as scenes


def torch_conv(crop, kernel, p, s):
    x = torch.from_numpy(np.asarray(crop, dtype=np.float64))[None, None]
    w = torch.from_numpy(np.asarray(kernel, dtype=np.float64))[None, None]
    return F.conv2d(x, w, padding=p, stride=s)[0, 0].numpy()


# -- data ------------------------------------------------------------------------------------
def test_crop_and_kernel_are_real(trace):
    ex = explain.example_data(trace, "conv_1_1", 0, 7, 3, 1, 1)
    x = trace["conv_1_1"].input[0]
    assert np.array_equal(ex.crop, x[28:35, 28:35].astype(np.float64))
    assert np.array_equal(ex.kernel, trace["conv_1_1"].weight[0, 0].astype(np.float64))
    assert ex.real


@pytest.mark.parametrize("n,k,p,s", [(7, 3, 1, 1), (7, 3, 0, 1), (7, 2, 0, 1), (7, 5, 0, 1),
                                     (7, 3, 0, 2), (7, 3, 1, 2), (5, 3, 2, 3), (9, 5, 2, 2),
                                     (6, 1, 0, 1), (4, 7, 3, 1)])
def test_outputs_match_torch(trace, n, k, p, s):
    ex = explain.example_data(trace, "conv_1_1", 3, n, k, p, s)
    assert ex.check.valid
    expected = torch_conv(ex.crop, ex.kernel, p, s)
    assert ex.output.shape == expected.shape == (ex.check.output_size,) * 2
    np.testing.assert_allclose(ex.output, expected, rtol=1e-10, atol=1e-12)


def test_every_small_combination_matches_torch_or_is_invalid(trace):
    for n, k, p, s in itertools.product(range(1, 9), range(1, 6), range(0, 3), range(1, 4)):
        ex = explain.example_data(trace, "conv_1_1", 0, n, k, p, s)
        if ex.check.valid:
            np.testing.assert_allclose(ex.output, torch_conv(ex.crop, ex.kernel, p, s), atol=1e-12)
            assert len(ex.starts) == ex.check.output_size
        else:
            assert ex.output is None


def test_example_kernels_are_derived_from_the_real_one(trace):
    real = trace["conv_1_1"].weight[2, 0].astype(np.float64)
    np.testing.assert_array_equal(explain.example_kernel(real, 3), real)
    np.testing.assert_array_equal(explain.example_kernel(real, 2), real[:2, :2])
    np.testing.assert_array_equal(explain.example_kernel(real, 1), real[1:2, 1:2])
    k5 = explain.example_kernel(real, 5)
    np.testing.assert_array_equal(k5[1:4, 1:4], real)
    assert k5.sum() == pytest.approx(real.sum()) and np.count_nonzero(k5[0]) == 0
    k4 = explain.example_kernel(real, 4)
    np.testing.assert_array_equal(k4[:3, :3], real)


def test_window_starts_and_leftover():
    assert explain.window_starts(7, 3, 0, 3) == [0, 3]
    c = maths.check_conv(7, 3, 0, 3)
    assert 3 + 3 + c.leftover == 7  # last window ends at 6, one column left over
    for n, k, p, s in itertools.product(range(1, 13), range(1, 8), range(0, 4), range(1, 5)):
        c = maths.check_conv(n, k, p, s)
        st = explain.window_starts(n, k, p, s)
        if n + 2 * p < k:
            assert st == []
            continue
        assert st[-1] + k + c.leftover == n + 2 * p
        assert (len(st) == c.output_size) if c.valid else (len(st) == int(c.exact))


def test_coverage_counts_windows():
    for n, k, p, s in [(7, 3, 1, 1), (7, 3, 0, 1), (7, 3, 0, 2), (6, 2, 1, 2)]:
        cov = explain.coverage(n, k, p, s)
        brute = np.zeros((n, n), dtype=int)
        for a in explain.window_starts(n, k, p, s):
            for b in explain.window_starts(n, k, p, s):
                m = np.zeros((n + 2 * p,) * 2, dtype=int)
                m[a:a + k, b:b + k] = 1
                brute += m[p:p + n, p:p + n]
        np.testing.assert_array_equal(cov, brute)
    assert explain.coverage(7, 3, 1, 1)[0, 0] == 4 and explain.coverage(7, 3, 0, 1)[0, 0] == 1


def test_scene_data_methods(trace):
    s = scenes.Padding()
    s.setup()
    d = s.get_padding_data()
    assert d["ex"].check.output_size == 7 and d["ex0"].check.output_size == 5
    assert (d["c1"], d["c0"]) == (4, 1)
    np.testing.assert_allclose(d["ex"].output, torch_conv(d["ex"].crop, d["ex"].kernel, 1, 1))

    k = scenes.KernelSize()
    k.setup()
    exs = k.get_kernel_size_data()["examples"]
    assert [e.k for e in exs] == [2, 3, 5] and [e.check.output_size for e in exs] == [6, 5, 3]
    assert [e.real for e in exs] == [False, True, False]
    assert [k.derived_key(2), k.derived_key(5)] == ["derived_corner", "derived_zeros"]
    assert "illustration" in k.narration_text(k.derived_key(2), k=2)

    st = scenes.Stride()
    st.setup()
    d = st.get_stride_data()
    assert d["ex1"].check.output_size == 5 and d["exs"].check.output_size == 3
    assert d["exs"].check.formula == "(7 - 3 + 2×0) / 2 + 1 = 3"
    assert explain.size_formula(d["exs"].check) == "(7 - 3 + 2×0) / 2 + 1 = 3"
    np.testing.assert_allclose(d["exs"].output, torch_conv(d["exs"].crop, d["exs"].kernel, 0, 2))


# -- renders ---------------------------------------------------------------------------------
def check_render(result):
    check_video(result)
    return [b.key for _, _, b in result.scene_object.beats]


@pytest.mark.parametrize("name,settings,keys", [
    ("padding", {}, ["input", "pad", "slide", "border", "nopad", "corner0"]),
    ("kernel-size", {}, ["input", "honest", "derived_corner", "derived_zeros", "size", "size",
                         "size", "summary"]),
    ("stride", {}, ["input", "stride1", "strideS", "formula"]),
    ("conv-invalid", {}, ["fail_setup", "fail_slide", "fail_leftover", "fail_fraction"]),
])
def test_scene_renders(tmp_path, name, settings, keys):
    r = render_scene(name, quality="l", output=tmp_path / "x.mp4", **settings)
    assert check_render(r) == keys


def test_invalid_settings_render_the_failure(tmp_path):
    r = render_scene("stride", quality="l", output=tmp_path / "x.mp4", lang="zh",
                     input_size=8, kernel=3, padding_amount=0, stride_amount=2)
    assert check_render(r)[0] == "fail_setup"
    assert "7/2" in r.subtitles.read_text(encoding="utf-8")


def test_kernel_too_big_renders_the_failure(tmp_path):
    r = render_scene("kernel-size", quality="l", fmt="png", output=tmp_path / "x.png",
                     input_size=3, kernel=5)
    assert r.path.exists()


def pixel(img, x, y):
    """RGB of the frame pixel at scene point (x, y)."""
    w, h = img.size
    return np.array(img.getpixel((int((x + 7.111) / 14.222 * w), int((4 - y) / 8 * h))))[:3]


def test_last_frame_leftover_red_and_padding_grey(tmp_path):
    from PIL import Image

    r = render_scene("conv-invalid", quality="l", fmt="png", output=tmp_path / "x.png",
                     padding_amount=1, input_size=6, kernel=3, stride_amount=3)
    s = r.scene_object
    img = Image.open(r.path).convert("RGB")
    grid = s.input_grid
    assert s.leftover_cells  # (6 - 3 + 2) % 3 = 2 columns and rows left over
    row, col = s.leftover_cells[0]
    sq = grid.by_pos[(row, col)][0]
    ll = sq.get_corner(np.array([-1, -1, 0]))
    rr, gg, bb = pixel(img, ll[0] + grid.cell * 0.2, ll[1] + grid.cell * 0.2)
    assert rr > gg + 40 and rr > bb + 40
    # a padding cell (top-left corner, bottom-left quarter): grey
    sq = grid.by_pos[(0, 0)][0]
    ll = sq.get_corner(np.array([-1, -1, 0]))
    c = pixel(img, ll[0] + grid.cell * 0.2, ll[1] + grid.cell * 0.2)
    assert np.all(np.abs(c.astype(int) - 0xc9) < 20), c


def test_padding_seed(tmp_path):
    r = render_scene("padding-seed", quality="l", output=tmp_path / "x.mp4")
    assert check_render(r) == ["seed", "keep"]
    d = r.scene_object.get_seed_data()
    assert d["image"].shape == (28, 28) and d["map"].shape == (28, 28) and d["p"] == 1
    assert d["check"].output_size == 28


@pytest.mark.parametrize("layer", ["conv_1_2", "conv_2_1", "conv_2_2"])
def test_deeper_layers_use_a_real_feature_map(trace, layer):
    ex = explain.example_data(trace, layer, 1, 7, 3, 1, 2, channel=2)
    x = trace[layer].input[2]
    top = (x.shape[0] - 7) // 2
    np.testing.assert_array_equal(ex.crop, x[top:top + 7, top:top + 7].astype(np.float64))
    np.testing.assert_array_equal(ex.kernel, trace[layer].weight[1, 2].astype(np.float64))
    np.testing.assert_allclose(ex.output, torch_conv(ex.crop, ex.kernel, 1, 2), atol=1e-12)


# -- what is shown adds up -------------------------------------------------------------------
def test_shown_size_formula_adds_up():
    """The formula on screen: its left side, worked out exactly, is the number it shows (the
    fraction exactly, its decimal marked ≈ and rounded to the digits shown)."""
    from fractions import Fraction

    for n, k, p, s in itertools.product(range(1, 17), range(1, 8), range(0, 5), range(1, 5)):
        text = explain.size_formula(maths.check_conv(n, k, p, s))
        lhs, rhs = text.split(" = ", 1)
        inner, rest = lhs[1:].split(") / ")
        a, b, c = inner.replace(" - ", " ").replace(" + 2×", " ").split()
        assert (int(a), int(b), int(c)) == (n, k, p)
        div, one = rest.split(" + ")
        value = Fraction(int(a) - int(b) + 2 * int(c), int(div)) + int(one)
        if "≈" in rhs:
            frac, approx = rhs.split(" ≈ ")
            assert Fraction(frac) == value and (value * 100).denominator > 1, "≈ only if rounded"
            assert approx == f"{float(value):.2f}"
        elif "/" in rhs:
            frac, decimal = rhs.split(" = ")
            assert Fraction(frac) == value == Fraction(decimal)
        else:
            assert Fraction(int(rhs)) == value


def test_marked_windows_are_the_outputs_the_corner_feeds(trace):
    """The windows and output numbers the padding scene marks for the corner value are exactly
    the outputs that change when that input value changes (real crop and kernel, through torch)."""
    for p in (0, 1, 2):
        ex = explain.example_data(trace, "conv_1_1", 0, 7, 3, p, 1)
        bumped = ex.crop.copy()
        bumped[0, 0] += 1.0
        changed = np.argwhere(torch_conv(bumped, ex.kernel, p, 1) != torch_conv(ex.crop, ex.kernel, p, 1))
        marked = explain.windows_over(ex.starts, ex.k, p, p)
        assert sorted(map(tuple, changed.tolist())) == sorted(marked)
        assert len(marked) == explain.coverage(7, 3, p, 1)[0, 0]


# -- what is drawn: numbers and layout -------------------------------------------------------
def built_grids(scene):
    """The grids a scene's builders make (after setup), with its layout."""
    from cnnanim.scenes.hyperparameters import layout

    if isinstance(scene, scenes.Padding):
        d = scene.get_padding_data()
        ex = d["ex"]
        scene.lay = layout(ex.padded_size, ex.k, ex.check.output_size)
        return scene.get_input_grid(ex), scene.get_kernel(ex, 0.6), scene.get_output_grid(ex, d["vmax"])
    d = scene.get_stride_data()
    ex = d["ex1"]
    scene.lay = layout(ex.padded_size, ex.k, ex.check.output_size, formula_lines=2)
    return scene.get_input_grid(ex), scene.get_kernel(ex, 0.6), scene.get_output_grid(ex, d["vmax"])


@pytest.mark.parametrize("cls", [scenes.Padding, scenes.Stride])
def test_grids_fill_the_safe_area_without_touching(cls):
    from cnnanim.draw.layout import CONTENT_BOTTOM, CONTENT_TOP, SAFE_LEFT, SAFE_RIGHT

    s = cls()
    s.setup()
    grid, kern, out = built_grids(s)
    labels = [s.get_size_label(grid, s.n, s.p), s.get_output_label(out, 5)]
    everything = [grid, kern, out.everything(), *labels]
    for m in everything:
        assert m.get_left()[0] >= SAFE_LEFT - 1e-6 and m.get_right()[0] <= SAFE_RIGHT + 1e-6
        assert m.get_bottom()[1] >= CONTENT_BOTTOM - 1e-6 and m.get_top()[1] <= CONTENT_TOP + 1e-6
    assert grid.get_right()[0] + 0.3 < kern.get_left()[0] < kern.get_right()[0] < out.get_left()[0] - 0.3
    # the main objects use the frame: the input spans most of the content height
    assert grid.height >= 0.9 * (CONTENT_TOP - CONTENT_BOTTOM - 0.5)


@pytest.mark.parametrize("cls", [scenes.Padding, scenes.Stride])
def test_grid_numbers_one_size_padded_readable_and_contrasted(cls):
    from cnnanim.draw import colors, grids

    s = cls()
    s.setup()
    grid, kern, out = built_grids(s)
    for g in (grid, kern.grid, out):
        nums = list(g.numbers)
        assert nums, "numbers are shown"
        heights = [n.height for n in nums]
        assert max(heights) <= 1.05 * min(heights), "one size for every number (glyphs' overshoot)"
        assert min(heights) >= grids.MIN_DIGIT or g.decimals == 1
        assert min(heights) >= 0.15, "digits at least ~20 px tall at 1080p"
        assert max(n.width for n in nums) <= grids.ROOM * g.cell + 1e-6, "room on both sides"
        for cell in list(g.inner) + list(g.padding):
            sq, num = cell[0], cell[-1]
            assert colors.contrast_ratio(num.get_fill_color().to_hex(), sq.get_fill_color().to_hex()) >= 4.5
