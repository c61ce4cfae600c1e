"""Scene ``flatten``: flatten order and logit terms match the trace and torch, and it renders."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import check_video, drawn_texts

from cnnanim.explain import maths
from cnnanim.explain.flatten import ShownSum, flatten_data, shown_sum, traced_cells
from cnnanim.explain.numbers import fmt
from cnnanim.output.render import render_scene
from cnnanim.scenes.flatten import Flatten


@pytest.fixture(scope="module")
def data(trace):
    return flatten_data(trace)


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


def test_renders_low_quality(tmp_path):
    r = render_scene("flatten", quality="l", output=tmp_path / "x.mp4")
    dur, _ = check_video(r)
    assert 25 <= dur <= 50


def test_zh_last_frame(tmp_path):
    r = render_scene("flatten", quality="l", fmt="png", lang="zh", output=tmp_path / "zh.png")
    assert r.path.exists() and r.path.stat().st_size > 0
    total = sum(b.duration for _, _, b in r.scene_object.beats)
    assert 25 <= total <= 50


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_drawn_formula_carries_the_trace_logits(trace, lang):
    from cnnanim.network.presets import class_label
    from cnnanim.output.render import configure_scene

    scene = configure_scene(Flatten, lang=lang)()
    scene.setup()
    for k, t in enumerate(scene.data.logits):
        texts = "".join(drawn_texts(scene.get_logit_formula(k, full=(k == 0))))
        shown = fmt(float(trace.logits[t.class_index]), shown_sum(t).decimals)
        assert shown in texts
        name = class_label(trace.class_names[t.class_index], lang)  # 浓缩咖啡 in Chinese
        assert name.replace(" ", "") in texts.replace(" ", "")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_shown_sum_plus_shown_bias_is_the_shown_logit(trace, data, lang):
    """On the real trace: the sum and the bias on screen add up to the logit on screen, to its
    last digit (or the screen says "rounded"); the bias is written "+ bias -0.13"."""
    from cnnanim.output.render import configure_scene

    scene = configure_scene(Flatten, lang=lang)()
    scene.setup()
    for k, t in enumerate(data.logits):
        ss = shown_sum(t)
        assert ss.total == fmt(float(trace.logits[t.class_index]), ss.decimals)
        assert ss.products == fmt(t.products.sum(), ss.decimals)
        assert ss.bias == fmt(t.bias, ss.decimals)
        assert ss.adds_up() != ss.rounded
        line = drawn_texts(scene.get_logit_formula(k, full=(k == 0))[1])
        bias = scene.words("bias").replace(" ", "")
        assert bias.startswith("+")  # one sign convention: the bias's own sign follows
        i = line.index(bias)
        assert line[i - 1] == ss.products and line[i + 1] == ss.bias
        assert line[i + 3] == ss.total
        assert (scene.words("rounded").replace(" ", "") in line) == ss.rounded


def test_shown_sum_finds_decimals_that_add_up_or_says_rounded():
    from cnnanim.explain.maths import LogitTerms

    def terms(products, bias):
        p = np.asarray(products, dtype=np.float64)
        return LogitTerms(0, p, p, p, bias, float(p.sum() + bias))

    s = shown_sum(terms([0.5, 0.5], -0.25))
    assert (s.products, s.bias, s.total, s.rounded) == ("1.00", "-0.25", "0.75", False)
    # 0.344 + 0.004 = 0.348: at 2 decimals 0.34 + 0.00 != 0.35, at 3 it adds up
    s = shown_sum(terms([0.344], 0.004))
    assert (s.products, s.bias, s.total, s.decimals) == ("0.344", "0.004", "0.348", 3)
    assert s.adds_up() and not s.rounded
    assert not ShownSum("0.34", "0.00", "0.35", 2, True).adds_up()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_traced_cells_show_their_value(data, lang):
    """The line of a traced cell shows its value (the strongest, 2.09 here, while it is named)."""
    from cnnanim.output.render import configure_scene

    scene = configure_scene(Flatten, lang=lang)()
    scene.setup()
    for j, cell in enumerate(data.cells):
        ch, r, c, i, v = cell
        texts = drawn_texts(scene.place_cell_line(cell, j))
        assert texts == [f"({ch},{r},{c})=", fmt(v, scene.vdec), f"→{i}"]
    strongest = data.cells[-1]
    assert fmt(strongest[4], scene.vdec) in scene.narration_text(
        "strongest", value=fmt(strongest[4], scene.vdec), ch=strongest[0], index=strongest[3])


def test_zh_narration_names_classes_in_chinese():
    """Every registered scene's Chinese sentences name the explainer's classes in Chinese."""
    from cnnanim.network.presets import EXPLAINER_CLASSES, class_label
    from cnnanim.output.figures import scene_timeline
    from cnnanim.scenes.registry import all_scenes

    english = [n for n in EXPLAINER_CLASSES if class_label(n, "zh") != n]
    for name in all_scenes():
        text = " ".join(s.text for s in scene_timeline(name, lang="zh").spans())
        assert not [n for n in english if n in text], name
