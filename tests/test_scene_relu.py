"""Scene ``relu``: the numbers it shows come from the trace (checked against torch), and it renders."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import check_video, drawn_texts

from cnnanim.explain.relu import choose_window, relu_pair, relu_window_data
from cnnanim.output.render import render_scene
from cnnanim.scenes.relu import Relu


@pytest.mark.parametrize("layer, expected", [("conv_1_1", ("conv_1_1", "relu_1_1")),
                                             ("relu_1_2", ("conv_1_2", "relu_1_2")),
                                             ("conv_2_2", ("conv_2_2", "relu_2_2"))])
def test_relu_pair(trace, layer, expected):
    assert relu_pair(trace, layer) == expected


@pytest.mark.parametrize("layer, channel", [("conv_1_1", 0), ("relu_1_1", 3), ("conv_2_1", 7)])
def test_window_numbers_are_the_trace(trace, layer, channel):
    d = relu_window_data(trace, layer, channel)
    conv = trace[d.conv_stage].output[channel]
    rel = trace[d.relu_stage].output[channel]
    s = slice(d.top, d.top + d.size), slice(d.left, d.left + d.size)
    np.testing.assert_array_equal(d.before, conv[s].astype(np.float64))
    # ReLU of the window is the relu stage's output there, and what torch computes
    np.testing.assert_allclose(d.after, rel[s], rtol=0, atol=0)
    torch_relu = F.relu(torch.from_numpy(conv)).numpy()
    np.testing.assert_array_equal(d.relu_map, torch_relu.astype(np.float64))
    np.testing.assert_array_equal(d.relu_map, rel.astype(np.float64))
    # negatives become 0, positives pass unchanged
    assert np.all(d.after[d.before < 0] == 0)
    pos = d.before > 0
    np.testing.assert_array_equal(d.after[pos], d.before[pos])
    # examples: the most negative and the largest value of the window
    assert d.before[d.negative] == d.before.min()
    assert d.before[d.positive] == d.before.max()
    # one shared colour range: the conv map's largest magnitude
    assert d.vmax == pytest.approx(float(np.abs(conv).max()))


def test_window_mixes_signs_when_the_map_does(trace):
    for layer in trace.stage_names("conv"):
        for ch in (0, 5):
            conv = trace[layer].output[ch]
            if (conv < 0).any() and (conv > 0).any():
                d = relu_window_data(trace, layer, ch)
                assert (d.before < 0).any() and (d.before > 0).any(), (layer, ch)


def test_choose_window_is_deterministic_and_mixed():
    x = np.full((8, 8), 1.0)
    x[5:7, 2:4] = -1.0
    top, left = choose_window(x, 4)
    assert choose_window(x, 4) == (top, left)
    w = x[top:top + 4, left:left + 4]
    assert (w < 0).sum() == 4 and (w > 0).sum() == 12


def test_renders_low_quality_and_the_relu_map_has_no_red(tmp_path):
    """The video lasts its beats; when the map beat ends, the ReLU map shows no red cell
    (after ReLU nothing is negative)."""
    from cnnanim.scenes.relu import MAP_H, MAPS_X, ROW_Y

    r = render_scene("relu", quality="l", output=tmp_path / "x.mp4")
    dur, _ = check_video(r)
    assert 25 <= dur <= 50
    beats = r.scene_object.beats
    end = next(t1 for _, t1, b in beats if b.key.startswith("map"))
    with av.open(str(r.path)) as c:
        frames = [(float(f.pts * f.time_base), f) for f in c.decode(video=0)]
    img = next(f for t, f in reversed(frames) if t < end - 0.1).to_ndarray(format="rgb24")
    img = img.astype(int)

    def px(x, y):  # frame 14.22 x 8 -> 854 x 480
        return int((x + 14.222 / 2) / 14.222 * 854), int((4 - y) / 8 * 480)

    half = MAP_H / 2 - 0.1
    x0, y0 = px(MAPS_X - half, ROW_Y + half)
    x1, y1 = px(MAPS_X + half, ROW_Y - half)
    region = img[y0:y1, x0:x1]
    assert region.size and region.min() < 200  # the map is there (blue cells)
    redness = region[..., 0] - region[..., 2]
    assert redness.max() < 25


def test_zh_renders_last_frame(tmp_path):
    r = render_scene("relu", quality="l", fmt="png", lang="zh", layer="relu_2_1", neuron=2,
                     output=tmp_path / "zh.png")
    assert r.path.exists() and r.path.stat().st_size > 0


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_drawn_grids_are_the_trace_values(lang):
    from cnnanim.explain.numbers import fmt
    from cnnanim.output.render import configure_scene

    scene = configure_scene(Relu, layer="relu_1_2", neuron=4, lang=lang)()
    scene.setup()
    d = scene.data
    assert d.conv_stage == "conv_1_2"
    assert drawn_texts(scene.get_grid(d.before)) == [fmt(v, scene.decimals) for v in d.before.ravel()]
    assert drawn_texts(scene.get_grid(d.after)) == [fmt(v, scene.decimals) for v in d.after.ravel()]


def test_after_window_numbers_match_the_window_size(trace):
    """The window after ReLU shows its numbers as tall as the window before (one size)."""
    from cnnanim.output.render import configure_scene

    scene = configure_scene(Relu)()
    scene.setup()
    before = scene.get_grid(scene.data.before)
    after = scene.get_grid(scene.data.after, like=before)
    heights = {round(n.height, 6) for n in [*before.numbers, *after.numbers]}
    assert len(heights) == 1


def test_apply_beat_matches_the_window_signs(trace):
    from cnnanim.output.render import configure_scene

    scene = configure_scene(Relu)()
    scene.setup()
    b = scene.data.before
    key = scene.apply_beat_key()
    assert key == ("apply" if (b < 0).any() and (b > 0).any() else
                   "apply_neg" if not (b > 0).any() else "apply_pos")
    scene.data = relu_window_data(trace, "conv_1_1", 0)
    object.__setattr__(scene.data, "before", -np.abs(b) - 1)
    assert scene.apply_beat_key() == "apply_neg"
    object.__setattr__(scene.data, "before", np.abs(b) + 1)
    assert scene.apply_beat_key() == "apply_pos"


def test_default_channel_mixes_signs_explicit_channel_kept(trace, monkeypatch):
    from cnnanim.explain.relu import best_channel
    from cnnanim.output.render import configure_scene

    monkeypatch.delenv("CNNANIM_NEURON", raising=False)
    conv = trace["conv_1_1"].output
    ch = best_channel(conv)
    share = np.minimum(np.clip(-conv, 0, None).sum(axis=(1, 2), dtype=np.float64),
                       np.clip(conv, 0, None).sum(axis=(1, 2), dtype=np.float64))
    assert share[ch] == share.max()
    scene = configure_scene(Relu)()
    scene.setup()
    assert scene.neuron == ch and scene.data.channel == ch
    scene = configure_scene(Relu, neuron=0)()
    scene.setup()
    assert scene.neuron == 0 and scene.data.channel == 0
    x = np.ones((3, 4, 4))
    x[2, :2] = -1
    assert best_channel(x) == 2


def unwrapped(lines: list[str], text: str) -> str:
    """The lines joined back, with the one space the wrap may drop at each break put back where
    ``text`` has it: equal to ``text`` exactly when nothing else was lost or changed."""
    out = lines[0]
    for line in lines[1:]:
        if text[len(out):len(out) + 1] == " ":
            out += " "
        out += line
    return out


def test_zh_caption_keeps_numbers_whole():
    from cnnanim.draw.text import wrap_text

    text = Relu.NARRATION["apply"]["zh"].format(neg="-1.29", pos="0.86")
    lines = wrap_text(text, "zh").split("\n")
    assert unwrapped(lines, text) == text
    for n in ("-1.29", "0.86"):  # every occurrence sits whole on one line
        assert sum(line.count(n) for line in lines) == text.count(n)


def test_zh_caption_never_starts_a_line_with_punctuation():
    from cnnanim.draw.text import wrap_text

    text = "填充、卷积核大小和步幅决定输出大小：3×3 的卷积核，步幅 1，填充 0，把 64 像素变成 62。"
    for width in range(8, 30):
        lines = wrap_text(text, "zh", width).split("\n")
        assert unwrapped(lines, text) == text  # only the space at a break may go
        assert not any(line[0] in "，。、；：？！" for line in lines), (width, lines)
        assert all(line == line.strip() for line in lines), (width, lines)


def test_zh_caption_drops_the_space_at_a_line_break():
    from cnnanim.draw.text import wrap_text

    text = "每张输入图都配有它自己的 3×3 卷积核，权重是学出来的。3 个输入乘以 10 个神经元，这一层共有 30 个卷积核。"
    for width in range(8, 30):
        lines = wrap_text(text, "zh", width).split("\n")
        assert all(line and line == line.strip() for line in lines), (width, lines)
        assert unwrapped(lines, text) == text  # a space goes only where a line breaks
