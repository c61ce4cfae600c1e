"""Scene ``flatten``: flatten order and logit terms match the trace and torch, and it renders."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnanim.draw.text import NumberText
from cnnanim.explain import maths
from cnnanim.explain.flatten import flatten_data, logit_decimals, traced_cells
from cnnanim.explain.numbers import fmt
from cnnanim.network.trace_cache import get_trace
from cnnanim.output.render import render_scene
from cnnanim.scenes.flatten import Flatten
from cnnanim.speech.narration import LANGUAGES


@pytest.fixture(scope="module")
def trace():
    return get_trace()


@pytest.fixture(scope="module")
def data(trace):
    return flatten_data(trace)


def video_info(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        dur = float(s.duration * s.time_base) if s.duration else c.duration / 1e6
        return dur, s.codec_context.width, s.codec_context.height


def test_vector_is_torch_flatten_of_the_pooled_maps(trace, data):
    assert data.pool_stage == "max_pool_2"
    assert data.pooled.shape == (10, 13, 13) and data.vector.shape == (1690,)
    np.testing.assert_array_equal(data.pooled, trace["max_pool_2"].output)
    t = torch.flatten(torch.from_numpy(trace["max_pool_2"].output))
    np.testing.assert_array_equal(data.vector, t.numpy())
    np.testing.assert_array_equal(data.vector, trace["flatten"].output)


def test_traced_cells_land_where_torch_puts_them(data):
    positions = torch.flatten(torch.arange(1690).reshape(10, 13, 13)).numpy()
    where = torch.arange(1690).reshape(10, 13, 13).numpy()
    assert [c[:3] for c in data.cells[:3]] == [(0, 0, 0), (0, 1, 0), (1, 0, 0)]
    assert [c[3] for c in data.cells[:3]] == [0, 13, 169]
    for ch, r, c, i, v in data.cells:
        assert i == where[ch, r, c] == maths.flatten_index(ch, r, c, (10, 13, 13))
        assert positions[i] == i
        assert v == data.pooled[ch, r, c] == data.vector[i]
    # the last traced cell is the strongest activation
    assert data.cells[-1][4] == data.pooled.max()


def test_traced_cells_include_strongest():
    x = np.zeros((3, 4, 4))
    x[2, 1, 3] = 5.0
    assert traced_cells(x) == [(0, 0, 0), (0, 1, 0), (1, 0, 0), (2, 1, 3)]


def test_logit_terms_match_linear_and_trace(trace, data):
    out = trace["output"]
    lin = F.linear(torch.from_numpy(data.vector), torch.from_numpy(out.weight.astype(np.float64)),
                   torch.from_numpy(out.bias.astype(np.float64))).numpy()
    order = np.argsort(-trace.logits, kind="stable")
    assert [t.class_index for t in data.logits] == list(order[:2])
    assert data.logits[0].class_index == trace.predicted_index
    for t, top in zip(data.logits, data.top_terms):
        k = t.class_index
        np.testing.assert_array_equal(t.inputs, data.vector)
        np.testing.assert_array_equal(t.weights, out.weight[k])
        np.testing.assert_allclose(t.products, data.vector * out.weight[k].astype(np.float64))
        assert t.bias == pytest.approx(float(out.bias[k]))
        assert t.products.sum() + t.bias == pytest.approx(t.total)
        assert t.total == pytest.approx(lin[k], abs=1e-9)
        assert t.total == pytest.approx(float(trace.logits[k]), abs=1e-4)
        assert fmt(t.total, 3) == fmt(float(trace.logits[k]), 3)
        # the terms shown are the largest products, in vector order
        assert list(top) == sorted(top) and len(top) == 3
        assert np.all(t.products[top].min() >= np.delete(t.products, top).max())


def test_narration_has_every_language():
    for key, texts in Flatten.NARRATION.items():
        for lang in LANGUAGES:
            assert texts.get(lang), (key, lang)


def test_renders_low_quality(tmp_path):
    r = render_scene("flatten", quality="l", output=tmp_path / "x.mp4")
    assert r.path.exists()
    dur, w, h = video_info(r.path)
    total = sum(b.duration for _, _, b in r.scene_object.beats)
    assert abs(dur - total) < 0.2
    assert 25 <= dur <= 50
    assert (w, h) == (854, 480)
    assert r.subtitles.exists() and r.subtitles.read_text().strip()


def test_zh_last_frame(tmp_path):
    r = render_scene("flatten", quality="l", fmt="png", lang="zh", output=tmp_path / "zh.png")
    assert r.path.exists() and r.path.stat().st_size > 0
    total = sum(b.duration for _, _, b in r.scene_object.beats)
    assert 25 <= total <= 50


def _texts(group) -> list[str]:
    from manim import Text

    return [m.text for m in group.get_family() if isinstance(m, (Text, NumberText))]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_drawn_formula_carries_the_trace_logits(trace, lang):
    from cnnanim.output.render import configure_scene

    scene = configure_scene(Flatten, lang=lang)()
    scene.setup()
    for k, t in enumerate(scene.data.logits):
        texts = "".join(_texts(scene.get_logit_formula(k, full=(k == 0))))
        shown = fmt(float(trace.logits[t.class_index]), logit_decimals(t))
        assert shown in texts
        assert trace.class_names[t.class_index].replace(" ", "") in texts.replace(" ", "")
