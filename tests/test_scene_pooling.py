"""Scene ``pooling``: real windows and maxima (checked against torch's max_pool2d), and it renders."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import check_video, drawn_texts, last_frame

from cnnanim.draw import colors
from cnnanim.explain.pooling import choose_windows, pooling_data
from cnnanim.output.render import render_scene
from cnnanim.scenes.pooling import Pooling


@pytest.mark.parametrize("layer, channel, sizes", [("max_pool_1", 0, (60, 30)),
                                                   ("max_pool_1", 4, (60, 30)),
                                                   ("max_pool_2", 9, (26, 13))])
def test_windows_match_torch(trace, layer, channel, sizes):
    d = pooling_data(trace, layer, channel)
    st = trace[layer]
    assert d.input_stage == {"max_pool_1": "relu_1_2", "max_pool_2": "relu_2_2"}[layer]
    assert (d.input_map.shape[0], d.output_map.shape[0]) == sizes
    np.testing.assert_array_equal(d.input_map, trace[d.input_stage].output[channel])
    np.testing.assert_array_equal(d.output_map, st.output[channel])
    out, idx = F.max_pool2d(torch.from_numpy(st.input)[None], 2, 2, return_indices=True)
    out, idx = out[0, channel].numpy(), idx[0, channel].numpy()
    assert len(d.windows) == 3
    w_in = d.input_map.shape[1]
    for w in d.windows:
        assert w.channel == channel
        np.testing.assert_array_equal(w.values, d.input_map[w.top:w.top + 2, w.left:w.left + 2])
        assert w.value == out[w.row, w.col] == st.output[channel, w.row, w.col]
        r, c = w.input_argmax
        assert r * w_in + c == idx[w.row, w.col]  # the highlighted cell is torch's argmax
        assert w.values[w.argmax] == w.values.max()


@pytest.mark.parametrize("layer, channel", [("max_pool_1", 0), ("max_pool_2", 9)])
def test_first_windows_and_other_channels_are_the_trace(trace, layer, channel):
    """The enlarged corner of the intro and its maxima, and the stacked other channels."""
    d = pooling_data(trace, layer, channel)
    corner, maxima = d.first_windows(3)
    assert corner.shape == (2, 6)
    np.testing.assert_array_equal(corner, trace[d.input_stage].output[channel, :2, :6])
    out = F.max_pool2d(torch.from_numpy(trace[layer].input)[None], 2, 2)[0].numpy()
    np.testing.assert_array_equal(maxima, out[channel, 0, :3])
    for k in range(3):
        assert maxima[k] == corner[:, 2 * k:2 * k + 2].max()
    np.testing.assert_array_equal(d.inputs, trace[layer].input)
    np.testing.assert_array_equal(d.outputs, trace[layer].output)
    assert d.other_channels() == [c for c in range(10) if c != channel]
    # the sweep visits the windows row by row
    m = d.output_map.shape[1]
    assert d.window_corner(0) == (0, 0) and d.window_corner(m + 1) == (2, 2)
    assert d.cells_before(m + 1) == [(0, c) for c in range(m)] + [(1, 0)]


def test_windows_are_distinct_and_deterministic(trace):
    d1 = pooling_data(trace, "max_pool_1", 2)
    d2 = pooling_data(trace, "max_pool_1", 2)
    pos = [(w.row, w.col) for w in d1.windows]
    assert pos == [(w.row, w.col) for w in d2.windows]
    assert len(set(pos)) == len(pos)


def test_choose_windows_prefers_full_windows_with_different_argmax():
    x = np.zeros((8, 8))
    x[0:2, 0:2] = [[1, 2], [3, 4]]        # argmax bottom-right
    x[6:8, 6:8] = [[5, 1], [2, 3]]        # argmax top-left
    x[0:2, 6:8] = [[1, 6], [2, 3]]        # argmax top-right
    got = choose_windows(x, 3)
    assert set(got) == {(0, 0), (3, 3), (0, 3)}


def test_renders_low_quality(tmp_path):
    r = render_scene("pooling", quality="l", output=tmp_path / "x.mp4")
    dur, _ = check_video(r)
    assert 25 <= dur <= 50


@pytest.mark.parametrize("layer", ["max_pool_1", "max_pool_2"])
def test_last_frame_shows_the_real_output_map(tmp_path, trace, layer):
    """The output map in the last frame has the real pooled value's colour at its centre cell."""
    from cnnanim.scenes.pooling import MAP_HEIGHT, MAP_Y, OUT_X

    _, img = last_frame("pooling", tmp_path, layer=layer, neuron=1)
    d = pooling_data(trace, layer, 1)
    n, m = d.input_map.shape[0], d.output_map.shape[0]
    height = MAP_HEIGHT * m / n  # the scene's output map, centred at (OUT_X, MAP_Y)
    cell = height / m
    hits = 0
    for row, col in [(m // 2, m // 2), (m // 3, m // 2), (m // 2, m // 3)]:
        x = OUT_X - height / 2 + cell * (col + 0.5)
        y = MAP_Y + height / 2 - cell * (row + 0.5)
        px, py = int((x + 14.222 / 2) / 14.222 * 854), int((4 - y) / 8 * 480)
        want = colors.to_uint8(colors.activation_white_rgb(d.output_map[row, col], d.vmax))
        hits += int(np.abs(img[py, px] - want.astype(int)).max() <= 20)
    assert hits >= 2


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_drawn_numbers_are_the_window_values(lang):
    from cnnanim.explain.numbers import fmt
    from cnnanim.output.render import configure_scene

    scene = configure_scene(Pooling, layer="max_pool_2", neuron=3, lang=lang)()
    scene.setup()
    for w in scene.data.windows:
        grid_texts = drawn_texts(scene.get_grid(w))
        assert grid_texts == [fmt(v, scene.decimals) for v in w.values.ravel()]
        assert fmt(w.value, scene.decimals) in drawn_texts(scene.get_formula(w))
