"""Convolution chapter: the numbers each scene shows, and that each scene renders.

Numbers are checked against the trace of the bundled photo through the shipped weights and
against ``torch.nn.functional.conv2d``; renders run at -ql.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnanim.draw import colors
from cnnanim.draw.text import NumberText
from cnnanim.explain import convolution
from cnnanim.explain.numbers import fmt
from cnnanim.network.trace_cache import get_trace
from cnnanim.scenes.convolution import ConvDeep, ConvElastic, ConvSlide

CONV_LAYERS = ("conv_1_1", "conv_1_2", "conv_2_1", "conv_2_2")


@pytest.fixture(scope="module")
def trace():
    """The default photo through the default (shipped) weights."""
    return get_trace()


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
        s = convolution.window_strings(win)
        r, c = win.row, win.col
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


def test_signed_terms():
    assert convolution.signed_terms([0.1234, -0.5, 0.0]) == "0.12 - 0.50 + 0.00"
    assert convolution.signed_terms([-0.001, 1]) == "0.00 + 1.00"


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
    v = np.arange(1, 7, dtype=float).reshape(2, 3)
    np.testing.assert_array_equal(convolution.revealed(v, 4), [[1, 2, 3], [4, 0, 0]])
    np.testing.assert_array_equal(convolution.revealed(v, 99), v)


def test_narration_complete():
    for cls in (ConvElastic, ConvSlide, ConvDeep):
        assert cls.NARRATION
        for key, texts in cls.NARRATION.items():
            assert texts.get("en") and texts.get("zh"), (cls.cli_name, key)


# -- rendering ---------------------------------------------------------------------------------
def _duration(path: Path) -> float:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        if s.duration is not None:
            return float(s.duration * s.time_base)
        return c.duration / 1e6


def _size(path: Path) -> tuple[int, int]:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return s.codec_context.width, s.codec_context.height


@pytest.mark.parametrize("name", ["conv-elastic", "conv-slide", "conv-deep"])
def test_scene_renders(name, tmp_path):
    from cnnanim.output.render import render_scene

    res = render_scene(name, quality="l", output=tmp_path / "x.mp4")
    assert res.path.exists()
    beats = res.scene_object.beats
    assert beats
    total = sum(b.duration for _, _, b in beats)
    assert abs(_duration(res.path) - total) <= 0.2
    assert 30 <= total <= 60
    assert _size(res.path) == (854, 480)
    assert res.subtitles is not None and res.subtitles.read_text().strip()


def _pixel(img: np.ndarray, point) -> np.ndarray:
    h, w = img.shape[:2]
    x = (point[0] + 14.222222 / 2) / 14.222222 * w
    y = (8.0 / 2 - point[1]) / 8.0 * h
    return img[int(y), int(x), :3].astype(float) / 255


def test_slide_last_frame_output_colours(tmp_path, trace):
    from PIL import Image

    from cnnanim.output.render import render_scene

    res = render_scene("conv-slide", quality="l", fmt="png", output=tmp_path / "x.png")
    img = np.asarray(Image.open(res.path).convert("RGB"))
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


def _texts(group) -> list[str]:
    from manim import Text

    return [m.text for m in group.get_family() if isinstance(m, (Text, NumberText))]


@pytest.mark.parametrize("layer", ["conv_1_1", "conv_2_1"])
def test_slide_mobjects_show_the_strings(layer):
    """The grids and the total column built for a step carry exactly window_strings()."""
    from cnnanim.output.render import configure_scene

    scene = configure_scene(ConvSlide, layer=layer, neuron=2)()
    scene.setup()
    data = scene.get_step_strings()
    for win, s in zip(scene.steps, data):
        rows, rest, col = scene.build_step(win)
        for row, c in zip(rows, scene.full_channels()):
            patch, kern, prod = row[1], row[3], row[5]
            for i in range(3):
                for j in range(3):
                    assert patch.get_number(i, j).text == s["patches"][c][i][j]
                    assert kern.get_number(i, j).text == s["kernels"][c][i][j]
                    assert prod.get_number(i, j).text == s["products"][c][i][j]
            assert row[6].text.replace(" ", "") == ("Σ" + s["sums"][c])
        if len(rest):
            grid = rest[0][1]
            shown = len(scene.full_channels())
            assert [grid.get_number(0, i).text for i in range(len(s["sums"]) - shown)] == \
                s["sums"][shown:]
        col_texts = _texts(col)
        assert s["sum"] in col_texts and s["bias"] in col_texts and s["total"] in col_texts


def test_deep_mobjects_show_the_strings():
    from cnnanim.output.render import configure_scene

    scene = configure_scene(ConvDeep, neuron=1)()
    scene.setup()
    assert scene.layer == "conv_2_1"
    cards = scene.get_cards()
    st = scene.stage
    assert len(cards) == st.input.shape[0]
    for c, card in enumerate(cards):
        assert card[1].get_number(1, 2).text == fmt(float(st.weight[1, c, 1, 2]))
    for win, s in zip(scene.steps, scene.get_step_strings()):
        sums = scene.get_sum_labels(cards, win)
        assert [t.text.replace(" ", "") for t in sums] == ["Σ" + v for v in s["sums"]]
        texts = _texts(scene.get_total(win, cards))
        assert s["sum"] in texts and s["bias"] in texts and s["total"] in texts
        assert abs(float(s["total"]) - float(st.output[1, win.row, win.col])) <= 0.0051


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
