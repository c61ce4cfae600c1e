"""Softmax scene: the numbers it shows (against the trace and torch.softmax) and that it renders.

Numbers use the seeded model of the shared fixtures and the default photo through the default
(shipped) weights; renders run at -ql.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import check_video, inside_frame, last_frame, needs_weights, scene_to_pixel

from cnnanim.draw import colors
from cnnanim.explain import maths
from cnnanim.explain import softmax as sm_data
from cnnanim.output.render import render_scene
from cnnanim.scenes import softmax as sm


def check_softmax_numbers(t) -> sm_data.SoftmaxData:
    d = sm_data.softmax_data(t)
    z = torch.from_numpy(np.asarray(t.logits, np.float64))
    ref = torch.softmax(z, dim=0).numpy()
    np.testing.assert_allclose(d.logits, t.logits, rtol=0, atol=0)
    np.testing.assert_allclose(d.exps, np.exp(np.asarray(t.logits, np.float64)), rtol=1e-12)
    assert d.total == pytest.approx(float(np.exp(np.asarray(t.logits, np.float64)).sum()), rel=1e-12)
    np.testing.assert_allclose(d.probabilities, ref, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(d.probabilities, t.probabilities, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(d.probabilities, d.exps / d.total, rtol=1e-12)
    assert d.probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(d.rescaled, maths.rescale(t.logits), rtol=0, atol=0)
    assert d.rescaled.sum() == pytest.approx(1.0, abs=1e-12)
    assert (d.rescaled >= 0).all()
    assert d.top == int(torch.argmax(z)) == t.predicted_index
    assert d.top_name == t.predicted_class
    assert d.runner_up != d.top and d.logits[d.runner_up] == np.sort(d.logits)[-2]
    assert d.argmax.sum() == 1 and d.argmax[d.top] == 1
    assert d.exp_ratio == pytest.approx(np.exp(d.logit_gap), rel=1e-9)
    assert d.exp_ratio == pytest.approx(d.probabilities[d.top] / d.probabilities[d.runner_up],
                                        rel=1e-9)
    return d


def test_softmax_numbers_seeded_models(traces, preset_name):
    check_softmax_numbers(traces[preset_name][1])


@needs_weights
def test_softmax_numbers_default_trace(trace):
    d = check_softmax_numbers(trace)
    # softmax favours the largest logit more than plain rescaling does
    assert d.probabilities[d.top] >= d.rescaled[d.top]


def test_softmax_favours_largest_logit():
    class T:  # a trace stand-in: only logits and class names are read
        logits = np.array([2.0, 1.0, 0.5, -1.0], np.float32)
        class_names = ["a", "b", "c", "d"]

    d = sm_data.softmax_data(T())
    assert d.top == 0 and d.runner_up == 1
    assert d.probabilities[0] > d.rescaled[0]
    np.testing.assert_allclose(d.rescaled, (T.logits + 1.0) / (T.logits + 1.0).sum(), rtol=1e-7)
    assert d.shift == -1.0


def test_fmt_exp():
    assert sm_data.fmt_exp(6628.37) == "6628"
    assert sm_data.fmt_exp(0.39718) == "0.3972"
    assert sm_data.fmt_exp(1.06) == "1.060"
    assert sm_data.fmt_exp(5.5162e-6) == "5.516×10⁻⁶"
    assert sm_data.fmt_exp(1.2345e7) == "1.234×10⁷" or sm_data.fmt_exp(1.2345e7) == "1.235×10⁷"


def test_narration_has_both_languages_and_fills(traces):
    data = sm_data.softmax_data(traces["explainer"][1])
    assert data.narration_values()["n_word"] == "ten"
    assert data.narration_values("zh")["n_word"] == "十"
    for key, texts in sm.Softmax.NARRATION.items():
        assert set(texts) >= {"en", "zh"}, key
        for lang in ("en", "zh"):
            values = data.narration_values(lang)
            for how in ("how_shift", "how_plain"):  # the scene fills {how} from its WORDS
                filled = texts[lang].format(how=sm.Softmax.WORDS[how][lang].format(**values),
                                            **values)
                assert "{" not in filled and filled.strip(), (key, lang)


def _scene(lang="en"):
    from cnnanim.output.render import configure_scene

    scene = configure_scene(sm.Softmax, lang=lang, voice="none")()
    scene.setup()
    return scene


@needs_weights
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_scene_narration_names_classes_in_the_viewers_language(lang):
    from cnnanim.network.presets import class_label

    scene = _scene(lang)
    d = scene.data
    v = scene.get_narration_values()
    assert v["top"] == class_label(d.top_name, lang)
    assert v["second"] == class_label(d.class_names[d.runner_up], lang)
    assert v["how"] == scene.words("how_shift" if d.shift < 0 else "how_plain")
    if lang == "zh":
        assert v["top"] != d.top_name  # the explainer classes have Chinese names
    # each name is drawn as "X" + name, the "X" dropped once the name sits on its row
    # (Manim keeps a Text's string without its spaces)
    assert [t.text for t in scene.get_names()] == \
        ["X" + class_label(n, lang).replace(" ", "") for n in d.class_names]


def check_shown_sums(d: sm_data.SoftmaxData) -> None:
    """Every sum written adds up from its written terms, or is marked rounded."""
    sums = d.shown_sums()
    assert [len(t) for t, _, _ in sums] == [len(d.logits)] * 3
    for k, (terms, shown, exact) in enumerate(sums):
        values = (d.exps, d.probabilities, d.rescaled)[k]
        # the terms are the real values as written, the total the real total as written
        for t, v in zip(terms, values):
            assert sm_data.parse_shown(t) == pytest.approx(v, rel=1e-3, abs=5e-5)
        assert sm_data.parse_shown(shown) == pytest.approx(float(np.sum(values)), rel=1e-3)
        written_sum = sum(sm_data.parse_shown(t) for t in terms)
        fmt_ = sm_data.fmt_exp if k == 0 else (lambda x: sm_data.fmt(x, 4))
        assert exact == (fmt_(written_sum) == shown)


def test_shown_sums_add_up_seeded(traces, preset_name):
    check_shown_sums(sm_data.softmax_data(traces[preset_name][1]))


@needs_weights
def test_shown_sums_add_up_default_trace():
    """On the real trace: the exponentials add up to their shown sum and the probabilities to
    1.0000 (or the scene writes "(rounded)"); e^z / Σ written as = only when it is exact."""
    scene = _scene()
    d = scene.data
    check_shown_sums(d)
    for k, (_, shown, exact) in enumerate(d.shown_sums()):
        assert scene.total_text(k) == (shown if exact else f"{shown} (rounded)")
    assert d.shown_sums()[1][1] == "1.0000"
    q = sm_data.parse_shown(sm_data.fmt_exp(d.exps[d.top])) / sm_data.parse_shown(
        sm_data.fmt_exp(d.total))
    assert d.quotient_exact == (sm_data.fmt(q, 4) == sm_data.fmt(d.probabilities[d.top], 4))


def test_shown_sums_can_be_marked_rounded():
    class T:  # three equal logits: 0.3333 three times adds up to 0.9999, not 1.0000
        logits = np.array([0.5, 0.5, 0.5], np.float32)
        class_names = ["a", "b", "c"]

    d = sm_data.softmax_data(T())
    _, shown, exact = d.shown_sums()[1]
    assert shown == "1.0000" and not exact
    check_shown_sums(d)


@needs_weights
def test_text_contrast():
    """Numbers on the logit cells and coloured text on white reach WCAG 4.5:1."""
    scene = _scene()
    for cell in scene.get_logit_cells():
        box, text = cell
        assert colors.contrast_ratio(box.get_fill_color().to_hex(), text.get_color().to_hex()) >= 4.5
    for c in (colors.LOGIT_TEXT, colors.MUTED_TEXT, colors.INK):
        assert colors.contrast_ratio(c, colors.BACKGROUND) >= 4.5


def test_narration_values_are_the_trace_numbers(traces):
    t = traces["explainer"][1]
    d = sm_data.softmax_data(t)
    v = d.narration_values()
    assert v["top"] == t.predicted_class
    assert v["p_top"] == f"{float(d.probabilities[d.top]):.4f}"
    assert v["z_top"] == f"{float(t.logits[d.top]):.2f}"


# -- rendering -----------------------------------------------------------------------------------
@needs_weights
def test_softmax_renders(tmp_path, trace):
    r = render_scene("softmax", quality="l", output=tmp_path / "x.mp4")
    check_video(r)
    scene = r.scene_object
    assert [b.key for _, _, b in scene.beats] == list(sm.Softmax.NARRATION)
    np.testing.assert_allclose(scene.data.probabilities, sm_data.softmax_data(trace).probabilities)
    assert inside_frame(scene) == []


@needs_weights
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_softmax_last_frame_bars(tmp_path, trace, lang):
    r, img = last_frame("softmax", tmp_path, lang=lang)
    d = sm_data.softmax_data(trace)
    y = sm.ROW_TOP - d.top * sm.ROW_PITCH
    # the predicted class's probability bar is orange, its argmax bar dark
    px, py = scene_to_pixel(sm.PROB_LEFT + d.probabilities[d.top] * sm.BAR_MAX / 2, y)
    assert np.abs(img[py, px] - colors.hex_to_rgb(colors.LOGIT) * 255).max() < 30
    px, py = scene_to_pixel(sm.RESCALE_LEFT + sm.BAR_MAX / 2, y)
    assert np.abs(img[py, px] - colors.hex_to_rgb(colors.INK) * 255).max() < 30
    # its logit cell has the darkest orange of the scale
    px, py = scene_to_pixel(sm.LOGIT_X - sm.CELL_W * 0.4, y)
    assert np.abs(img[py, px] - colors.logit_rgb(d.logits)[d.top] * 255).max() < 30
    assert inside_frame(r.scene_object) == []


@pytest.mark.parametrize("lo, hi", [(-8.5, 2.5), (-18.5, 1.5), (-60.5, 3.5)])
def test_z_axis_numbers_never_touch(lo, hi, monkeypatch):
    """Wide logit ranges (an own model's logits reach -18 and lower) thin out the z ticks."""
    from manim import Line

    from cnnanim.output.render import configure_scene

    monkeypatch.setattr(sm.Softmax, "plot_range", property(lambda self: (lo, hi, 3.0)))
    scene = configure_scene(sm.Softmax, voice="none")()
    scene.setup()
    axis_y = scene.plot_xy(0)[1]
    labels = sorted((m for m in scene.get_axes()[2]
                     if not isinstance(m, Line) and m.get_center()[1] < axis_y - 0.1),
                    key=lambda m: m.get_left()[0])
    assert len(labels) >= 3
    for a, b in zip(labels, labels[1:]):
        assert a.get_right()[0] + 0.05 < b.get_left()[0]
