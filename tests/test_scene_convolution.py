"""Convolution chapter: the numbers each scene shows, and that each scene renders.

Numbers are checked against the trace of the bundled photo through the shipped weights and
against ``torch.nn.functional.conv2d``; renders run at -ql.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import check_video, drawn_texts, last_frame

from cnnanim.draw import colors
from cnnanim.draw.text import NumberText
from cnnanim.explain import convolution
from cnnanim.explain.numbers import fmt
from cnnanim.scenes.convolution import ConvDeep, ConvElastic, ConvSlide

CONV_LAYERS = ("conv_1_1", "conv_1_2", "conv_2_1", "conv_2_2")


def torch_conv(st) -> np.ndarray:
    x = torch.from_numpy(np.asarray(st.input, np.float64))[None]
    w = torch.from_numpy(np.asarray(st.weight, np.float64))
    b = torch.from_numpy(np.asarray(st.bias, np.float64))
    return F.conv2d(x, w, b, stride=st.stride or 1, padding=st.padding or 0)[0].numpy()


# -- numbers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", CONV_LAYERS)
@pytest.mark.parametrize("neuron", [0, 3, 9])
def test_slide_steps_match_trace_and_torch(trace, layer, neuron):
    st = trace[layer]
    out = st.output[neuron].astype(np.float64)
    ref = torch_conv(st)[neuron]
    positions = convolution.choose_positions(out) + [(out.shape[0] - 1, out.shape[1] - 1), (5, 2)]
    steps = convolution.slide_steps(trace, layer, neuron, positions)
    k = st.weight.shape[-1]
    for (r, c), win in zip(positions, steps):
        assert (win.row, win.col, win.out_channel) == (r, c, neuron)
        np.testing.assert_allclose(win.patches, st.input[:, r:r + k, c:c + k], rtol=0, atol=0)
        np.testing.assert_allclose(win.kernels, st.weight[neuron], rtol=0, atol=0)
        np.testing.assert_allclose(win.products, win.patches * win.kernels, rtol=1e-12)
        np.testing.assert_allclose(win.channel_sums, win.products.sum(axis=(1, 2)), rtol=1e-12)
        assert win.bias == pytest.approx(float(st.bias[neuron]))
        assert win.total == pytest.approx(win.channel_sums.sum() + win.bias, abs=1e-12)
        assert win.total == pytest.approx(float(out[r, c]), abs=1e-4)
        assert win.total == pytest.approx(float(ref[r, c]), abs=1e-9)


@pytest.mark.parametrize("layer,neuron", [("conv_1_1", 0), ("conv_1_1", 7), ("conv_2_1", 4)])
def test_window_strings_are_the_trace_values(trace, layer, neuron):
    st = trace[layer]
    out = st.output[neuron]
    positions = convolution.choose_positions(out)
    for win in convolution.slide_steps(trace, layer, neuron, positions):
        r, c = win.row, win.col
        s = convolution.window_strings(win, out[r, c])
        c_in = st.input.shape[0]
        assert len(s["patches"]) == len(s["kernels"]) == len(s["products"]) == c_in
        for ch in range(c_in):
            for i in range(3):
                for j in range(3):
                    assert s["patches"][ch][i][j] == fmt(float(st.input[ch, r + i, c + j]))
                    assert s["kernels"][ch][i][j] == fmt(float(st.weight[neuron, ch, i, j]))
                    p = float(st.input[ch, r + i, c + j]) * float(st.weight[neuron, ch, i, j])
                    assert float(s["products"][ch][i][j]) == pytest.approx(p, abs=0.0051)
        assert s["bias"] == fmt(float(st.bias[neuron]))
        assert s["total"] == fmt(float(out[r, c]))
        assert s["formula"].endswith(" = " + s["total"])
        assert s["formula"].count("+") + s["formula"].count(" - ") == c_in


def test_choose_positions_deterministic(trace):
    out = trace["conv_1_1"].output[0]
    p = convolution.choose_positions(out)
    assert p == convolution.choose_positions(out)
    assert p[:2] == [(0, 0), (31, 31)]
    assert len(set(p)) == 3
    assert abs(out[p[2]]) == max(abs(out[q]) for q in np.ndindex(out.shape) if q not in p[:2])


def test_adds_up_and_shown_sum():
    assert convolution.adds_up(["0.12", "-0.50", "0.00"], "-0.38")
    assert not convolution.adds_up(["0.12", "-0.50"], "-0.37")
    s = convolution.shown_sum([0.124, 0.124, 0.124], 0.372)  # 0.12 * 3 = 0.36, shown 0.37
    assert (s.terms, s.total, s.rounded) == (("0.12", "0.12", "0.12"), "0.37", True)
    s = convolution.shown_sum([-0.001, 1.0], 0.999)  # -0.00 is written 0.00
    assert (s.terms, s.total, s.rounded) == (("0.00", "1.00"), "1.00", False)


def _windows(trace, per_neuron: int = 20):
    """Many real windows: every conv layer, every neuron, the written-out positions and
    ``per_neuron`` random ones (fixed seed), with the traced output value at each."""
    rng = np.random.default_rng(15)
    for layer in CONV_LAYERS:
        st = trace[layer]
        for neuron in range(st.output.shape[0]):
            out = st.output[neuron]
            h, w = out.shape
            positions = convolution.choose_positions(out) + [
                (int(rng.integers(h)), int(rng.integers(w))) for _ in range(per_neuron)]
            for win in convolution.slide_steps(trace, layer, neuron, positions):
                yield layer, win, out[win.row, win.col]


def test_every_shown_total_adds_up_or_is_marked_rounded(trace):
    """Every addition the scenes write (a channel's 9 products -> its sum; the channel sums and
    the bias -> the output) either adds up exactly as written or carries the rounded mark, and
    the total written is the traced output value."""
    seen = {True: 0, False: 0}
    n = 0
    for layer, win, traced in _windows(trace):
        s = convolution.window_strings(win, traced)
        add = s["addition"]
        assert add.total == s["total"] == fmt(float(traced))
        assert list(add.terms) == s["sums"] + [s["bias"]]
        sums = [add] + s["channel_sums"]
        for c, cs in enumerate(s["channel_sums"]):
            assert list(cs.terms) == [v for row in s["products"][c] for v in row]
            assert cs.total == s["sums"][c]
        for shown in sums:
            exact = sum(Decimal(t) for t in shown.terms) == Decimal(shown.total)
            assert shown.rounded == (not exact), (layer, win.row, win.col, shown)
            seen[shown.rounded] += 1
        n += 1
    assert n > 800 and seen[True] > 50 and seen[False] > 50, (n, seen)


def test_total_is_the_traced_value_where_float64_rounds_the_other_way(trace):
    """conv_1_1, neuron 5, (8, 15): the float64 sum is -3.14499..., the traced float32 value
    -3.1450002: the output map shows -3.15, so the total written is -3.15."""
    st = trace["conv_1_1"]
    win = convolution.slide_steps(trace, "conv_1_1", 5, [(8, 15)])[0]
    assert fmt(win.total) == "-3.14"
    s = convolution.window_strings(win, st.output[5, 8, 15])
    assert s["total"] == s["addition"].total == fmt(float(st.output[5, 8, 15])) == "-3.15"


def test_channel_names_count_from_zero():
    assert convolution.channel_names(3) == ["R", "G", "B"]
    assert convolution.channel_names(10) == [str(i) for i in range(10)]


@pytest.mark.parametrize("layer", CONV_LAYERS)
@pytest.mark.parametrize("neuron", [0, 5])
def test_intermediate_maps_sum_to_output(trace, layer, neuron):
    st = trace[layer]
    d = convolution.elastic_data(trace, layer, neuron)
    assert d.intermediate.shape[0] == st.input.shape[0]
    np.testing.assert_allclose(d.intermediate.sum(0) + d.bias, st.output[neuron], atol=1e-4)
    np.testing.assert_allclose(d.output, torch_conv(st)[neuron], atol=1e-9)
    # each intermediate map is one channel convolved alone
    x = torch.from_numpy(np.asarray(st.input, np.float64))
    w = torch.from_numpy(np.asarray(st.weight, np.float64))
    for c in (0, st.input.shape[0] - 1):
        ref = F.conv2d(x[None, c:c + 1], w[neuron:neuron + 1, c:c + 1])[0, 0].numpy()
        np.testing.assert_allclose(d.intermediate[c], ref, atol=1e-9)
    assert (d.n_out, d.n_in) == st.weight.shape[:2]
    assert d.n_kernels == st.weight.shape[0] * st.weight.shape[1]
    if layer == "conv_1_1":
        assert (d.n_in, d.n_out, d.n_kernels) == (3, 10, 30)


def test_revealed():
    """Cells not computed yet are NaN (drawn white, as CNN Explainer leaves them)."""
    v = np.arange(1, 7, dtype=float).reshape(2, 3)
    np.testing.assert_array_equal(convolution.revealed(v, 4), [[1, 2, 3], [4, np.nan, np.nan]])
    np.testing.assert_array_equal(convolution.revealed(v, 0, keep=[(1, 2)]),
                                  [[np.nan] * 3, [np.nan, np.nan, 6]])
    np.testing.assert_array_equal(convolution.revealed(v, 99), v)


def test_narration_complete():
    for cls in (ConvElastic, ConvSlide, ConvDeep):
        assert cls.NARRATION
        for key, texts in cls.NARRATION.items():
            assert texts.get("en") and texts.get("zh"), (cls.cli_name, key)


# -- rendering ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["conv-elastic", "conv-slide", "conv-deep"])
def test_scene_renders(name, tmp_path):
    from cnnanim.output.render import render_scene

    res = render_scene(name, quality="l", output=tmp_path / "x.mp4")
    _, total = check_video(res)
    assert 30 <= total <= 60


def _pixel(img: np.ndarray, point) -> np.ndarray:
    h, w = img.shape[:2]
    x = (point[0] + 14.222222 / 2) / 14.222222 * w
    y = (8.0 / 2 - point[1]) / 8.0 * h
    return img[int(y), int(x), :3].astype(float) / 255


def test_slide_last_frame_output_colours(tmp_path, trace):
    res, img = last_frame("conv-slide", tmp_path)
    scene = res.scene_object
    out = trace["conv_1_1"].output[0].astype(np.float64)
    vmax = colors.symmetric_range(out)
    big = scene.big_map
    checked = 0
    for r, c in [tuple(int(v) for v in np.unravel_index(np.argmax(out), out.shape)),
                 tuple(int(v) for v in np.unravel_index(np.argmin(out), out.shape)),
                 (10, 10), (40, 20)]:
        want = colors.activation_rgb(np.array([out[r, c]]), vmax)[0]
        got = _pixel(img, big.cell_center(r, c))
        assert np.abs(got - want).max() < 0.04, (r, c, got, want)
        checked += 1
    assert checked == 4


def _check_addition(scene, col, shown) -> None:
    """The column written for ``shown``: its terms, its total, and the mark iff rounded."""
    assert [row[1].text for row in col.terms] == list(shown.terms)
    assert col.result[1][1].text == shown.total
    marks = [t for t in drawn_texts(col) if t == scene.words("rounded")]
    assert len(marks) == (1 if shown.rounded else 0)
    # numbers right-aligned, like a sum on paper
    rights = [row[1].get_right()[0] for row in col.terms]
    assert max(rights) - min(rights) < 1e-6


def _many_windows(scene, n: int = 10) -> list:
    """The scene's written-out windows and ``n`` more (fixed seed), rounded and exact ones."""
    h, w = scene.out_values.shape
    rng = np.random.default_rng(7)
    extra = [(int(rng.integers(h)), int(rng.integers(w))) for _ in range(n)]
    return scene.steps + convolution.slide_steps(scene.trace, scene.layer, scene.neuron, extra)


@pytest.mark.parametrize("layer", ["conv_1_1", "conv_2_1"])
def test_slide_mobjects_show_the_strings(layer):
    """The grids, the channel sums and the column drawn for a window carry exactly
    window_strings(); every written total adds up or is marked rounded."""
    from cnnanim.output.render import configure_scene

    scene = configure_scene(ConvSlide, layer=layer, neuron=2)()
    scene.setup()
    windows = _many_windows(scene)
    marked = 0
    for win, s in zip(windows, scene.get_step_strings(windows)):
        row = None
        for c in scene.full_channels():
            row = scene.get_grid_row(win, c)
            patch, kern, prod = row[0][0], row[0][2], row[0][4]
            for i in range(3):
                for j in range(3):
                    assert patch.get_number(i, j).text == s["patches"][c][i][j]
                    assert kern.get_number(i, j).text == s["kernels"][c][i][j]
                    assert prod.get_number(i, j).text == s["products"][c][i][j]
            line, mark = row[2]
            assert line[1].text == s["sums"][c] == s["channel_sums"][c].total
            assert bool(len(mark)) == s["channel_sums"][c].rounded
            marked += s["channel_sums"][c].rounded
        col = scene.get_column(win, row)
        assert [r[0].text.replace(" ", "") for r in col.terms][:2] == \
            ["Σ" + scene.channel_name(c).replace(" ", "") for c in (0, 1)]
        _check_addition(scene, col, s["addition"])
        marked += s["addition"].rounded
        assert s["total"] == _as_shown(float(scene.stage.output[2, win.row, win.col]), s["total"])
    assert marked  # the sample holds rounded totals, so the mark is drawn


def test_deep_mobjects_show_the_strings():
    from cnnanim.output.render import configure_scene

    scene = configure_scene(ConvDeep, neuron=1)()
    scene.setup()
    assert scene.layer == "conv_2_1"
    cards = scene.get_cards()
    out_map, _ = scene.place_output_map(cards)
    st = scene.stage
    assert len(cards) == st.input.shape[0]
    assert [c[2].text.replace(" ", "") for c in cards] == [f"in{i}" for i in range(10)]
    windows = _many_windows(scene)
    for win, s in zip(windows, scene.get_step_strings(windows)):
        sums = scene.get_sum_labels(cards, win)
        assert [t[1].text for t in sums] == s["sums"]
        _check_addition(scene, scene.get_total(win, cards, out_map), s["addition"])
        assert s["total"] == _as_shown(float(st.output[1, win.row, win.col]), s["total"])


def _as_shown(value: float, shown: str) -> str:
    """``value`` formatted with as many decimals as ``shown`` has: a shown total is the trace
    value, exactly as formatted."""
    return fmt(value, len(shown.split(".")[1]) if "." in shown else 0)


def _inside_safe_area(group, what: str) -> None:
    from cnnanim.draw.layout import CONTENT_BOTTOM, CONTENT_TOP, SAFE_LEFT, SAFE_RIGHT

    eps = 0.02
    for m in group.get_family():
        if len(getattr(m, "points", ())) == 0:
            continue
        left, bottom = m.get_corner(np.array([-1, -1, 0]))[:2]
        right, top = m.get_corner(np.array([1, 1, 0]))[:2]
        assert SAFE_LEFT - eps <= left and right <= SAFE_RIGHT + eps, (what, left, right)
        assert CONTENT_BOTTOM - eps <= bottom and top <= CONTENT_TOP + eps, (what, bottom, top)


@pytest.mark.parametrize("layer", ["conv_1_1", "conv_2_1"])
def test_slide_layout_fits_the_safe_area_with_readable_digits(layer):
    """Every piece of a written-out window lies in the content area, and every digit is at
    least 0.17 units tall (23 px at 1080p)."""
    from cnnanim.output.render import configure_scene

    scene = configure_scene(ConvSlide, layer=layer, neuron=2)()
    scene.setup()
    maps = scene.get_maps()
    _inside_safe_area(maps, "maps")
    _inside_safe_area(scene.get_patch_row(scene.steps[0]), "patches")
    for win in scene.steps:
        row = scene.get_grid_row(win, scene.full_channels()[-1])
        col = scene.get_column(win, row)
        _inside_safe_area(row, "grids")
        _inside_safe_area(col, "column")
        for m in row[0].get_family() + col.get_family():
            if isinstance(m, NumberText):
                assert m.height >= 0.17, m.text
        assert row[0].get_right()[0] < col.get_left()[0] or row[0].get_bottom()[1] > \
            col.get_top()[1]  # the column never covers the grids


def test_deep_refuses_the_first_layer():
    from cnnanim.errors import CnnanimError
    from cnnanim.output.render import configure_scene

    scene = configure_scene(ConvDeep, layer="conv_1_1")()
    with pytest.raises(CnnanimError, match="deeper layer"):
        scene.setup()


def test_input_scales():
    assert convolution.input_scale(3, 1) == "green"
    assert convolution.input_scale(1, 0, is_image=True) == "input"
    assert convolution.input_scale(10, 4) == "activation"
    assert convolution.input_scale(3, 0, is_image=False) == "activation"
