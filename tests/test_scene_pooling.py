"""Scene ``pooling``: real windows and maxima (checked against torch's max_pool2d), and it renders."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnanim.draw import colors
from cnnanim.draw.text import NumberText
from cnnanim.explain.pooling import choose_windows, pooling_data
from cnnanim.network.trace_cache import get_trace
from cnnanim.output.render import render_scene
from cnnanim.scenes.pooling import Pooling
from cnnanim.speech.narration import LANGUAGES


@pytest.fixture(scope="module")
def trace():
    return get_trace()


def video_info(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        dur = float(s.duration * s.time_base) if s.duration else c.duration / 1e6
        return dur, s.codec_context.width, s.codec_context.height


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


def test_narration_has_every_language():
    for key, texts in Pooling.NARRATION.items():
        for lang in LANGUAGES:
            assert texts.get(lang), (key, lang)


def test_renders_low_quality(tmp_path):
    r = render_scene("pooling", quality="l", output=tmp_path / "x.mp4")
    assert r.path.exists()
    dur, w, h = video_info(r.path)
    total = sum(b.duration for _, _, b in r.scene_object.beats)
    assert abs(dur - total) < 0.2
    assert 25 <= dur <= 50
    assert (w, h) == (854, 480)
    assert r.subtitles.exists() and r.subtitles.read_text().strip()


@pytest.mark.parametrize("layer", ["max_pool_1", "max_pool_2"])
def test_last_frame_shows_the_real_output_map(tmp_path, trace, layer):
    """The output map in the last frame has the real pooled value's colour at its centre cell."""
    from PIL import Image

    r = render_scene("pooling", quality="l", fmt="png", layer=layer, neuron=1,
                     output=tmp_path / "x.png")
    d = pooling_data(trace, layer, 1)
    img = np.asarray(Image.open(r.path).convert("RGB")).astype(int)
    n, m = d.input_map.shape[0], d.output_map.shape[0]
    height = 3.8 * m / n  # the scene's output map: centre (4.9, 0.45)
    cell = height / m
    hits = 0
    for row, col in [(m // 2, m // 2), (m // 3, m // 2), (m // 2, m // 3)]:
        x = 4.9 - height / 2 + cell * (col + 0.5)
        y = 0.45 + height / 2 - cell * (row + 0.5)
        px, py = int((x + 14.222 / 2) / 14.222 * 854), int((4 - y) / 8 * 480)
        want = colors.to_uint8(colors.activation_rgb(d.output_map[row, col], d.vmax))
        hits += int(np.abs(img[py, px] - want.astype(int)).max() <= 20)
    assert hits >= 2


def _texts(group) -> list[str]:
    from manim import Text

    return [m.text for m in group.get_family() if isinstance(m, (Text, NumberText))]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_drawn_numbers_are_the_window_values(lang):
    from cnnanim.explain.numbers import fmt
    from cnnanim.output.render import configure_scene

    scene = configure_scene(Pooling, layer="max_pool_2", neuron=3, lang=lang)()
    scene.setup()
    for w in scene.data.windows:
        grid_texts = _texts(scene.get_grid(w))
        assert grid_texts == [fmt(v, scene.decimals) for v in w.values.ravel()]
        assert fmt(w.value, scene.decimals) in _texts(scene.get_formula(w))
