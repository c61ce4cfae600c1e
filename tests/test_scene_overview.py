"""Overview scene: every column's maps are the trace's (checked against torch), the output names
the predicted class (espresso for CNN Explainer's own model and photo), and the scene renders.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from conftest import check_video, inside_frame, last_frame, needs_weights, scene_to_pixel

from cnnanim.draw import colors
from cnnanim.explain import overview as ov_data
from cnnanim.files import explainer_dir
from cnnanim.network.trace_cache import get_trace
from cnnanim.output.render import render_scene
from cnnanim.scenes import overview as ov

EXPECTED_COLUMNS = ["input", "conv_1_1", "relu_1_1", "conv_1_2", "relu_1_2", "max_pool_1",
                    "conv_2_1", "relu_2_1", "conv_2_2", "relu_2_2", "max_pool_2"]


def check_overview_numbers(t) -> ov_data.OverviewData:
    d = ov_data.overview_data(t)
    assert [c.name for c in d.columns] == EXPECTED_COLUMNS
    np.testing.assert_array_equal(d.columns[0].maps, t.image)
    prev = torch.from_numpy(np.asarray(t.image, np.float64))[None]
    for col in d.columns[1:]:
        st = t[col.name]
        np.testing.assert_array_equal(col.maps, st.output)
        assert len(col.maps) == 10 and col.scales == ["activation"] * 10
        assert col.vmax == pytest.approx(float(np.abs(st.output).max()))
        if col.kind == "conv":
            ref = F.conv2d(prev, torch.from_numpy(st.weight.astype(np.float64)),
                           torch.from_numpy(st.bias.astype(np.float64)), stride=st.stride,
                           padding=st.padding)
        elif col.kind == "relu":
            ref = F.relu(prev)
        else:
            ref = F.max_pool2d(prev, st.kernel_size, st.stride)
        np.testing.assert_allclose(col.maps, ref[0].numpy(), rtol=1e-4, atol=1e-4)
        prev = torch.from_numpy(np.asarray(st.output, np.float64))[None]
        c, h, w = st.output.shape
        assert col.shape_text == f"{h}×{w}×{c}"
    logits = torch.from_numpy(np.asarray(t.logits, np.float64))
    np.testing.assert_allclose(d.probabilities, torch.softmax(logits, 0).numpy(), rtol=1e-5,
                               atol=1e-7)
    assert d.probabilities.sum() == pytest.approx(1.0, abs=1e-6)
    assert d.top == int(torch.argmax(logits)) and d.top_name == t.predicted_class
    assert d.flatten_size == t["flatten"].output.size
    return d


def test_overview_numbers_seeded(traces):
    d = check_overview_numbers(traces["explainer"][1])
    assert [c.shape_text for c in d.columns][:2] == ["64×64×3", "62×62×10"]
    assert d.columns[-1].shape_text == "13×13×10"
    assert d.flatten_size == 1690
    assert d.columns[0].scales == ["red", "green", "blue"]


@needs_weights
def test_overview_numbers_default_trace(trace):
    check_overview_numbers(trace)


def test_narration_has_both_languages_and_fills(traces):
    values = ov_data.overview_data(traces["explainer"][1]).narration_values()
    assert values["in_size"] == "64" and values["pool1"] == "30" and values["last"] == "13"
    assert values["flat"] == "1690"
    for key, texts in ov.Overview.NARRATION.items():
        assert set(texts) >= {"en", "zh"}, key
        for lang in ("en", "zh"):
            filled = texts[lang].format(**values)
            assert "{" not in filled and filled.strip(), (key, lang)


def test_recap_narration_fills_with_the_trace_hyper_parameters(traces):
    t = traces["explainer"][1]
    values = ov_data.overview_data(t).narration_values()
    st = t["conv_1_1"]
    assert values["kernel"] == str(st.weight.shape[-1]) == "3"
    assert (values["stride"], values["padding"]) == (str(st.stride), str(st.padding)) == ("1", "0")
    assert values["conv1"] == "62" and values["pre_pool"] == "60" and values["pool1"] == "30"
    assert values["pool"] == str(t["max_pool_1"].kernel_size) == "2"
    assert values["channels"] == "3" and values["n_classes"] == "10"
    seed = ov_data.overview_data(traces["seed"][1]).narration_values()
    assert (seed["in_size"], seed["padding"], seed["conv1"]) == ("28", "1", "28")
    for key, texts in ov.OverviewRecap.NARRATION.items():
        assert set(texts) >= {"en", "zh"}, key
        for lang in ("en", "zh"):
            filled = texts[lang].format(**values)
            assert "{" not in filled and filled.strip(), (key, lang)
    # the recap says what was learned, it does not repeat the overview
    assert not set(ov.OverviewRecap.NARRATION["whole"].values()) & \
        set(ov.Overview.NARRATION["whole"].values())


def test_class_labels():
    """The explainer classes have Chinese names; other classes keep the model's own names."""
    from cnnanim.network.presets import DIGIT_CLASSES, EXPLAINER_CLASSES, class_label

    zh = [class_label(n, "zh") for n in EXPLAINER_CLASSES]
    assert class_label("espresso", "zh") == "浓缩咖啡"
    assert len(set(zh)) == len(zh) and all(not n.isascii() for n in zh)
    assert [class_label(n, "en") for n in EXPLAINER_CLASSES] == list(EXPLAINER_CLASSES)
    assert [class_label(n, "zh") for n in DIGIT_CLASSES] == list(DIGIT_CLASSES)
    assert class_label("no such class", "zh") == "no such class"


def _boxes_apart(a, b, gap: float = 0.03) -> bool:
    return (a.get_right()[0] + gap <= b.get_left()[0] or b.get_right()[0] + gap <= a.get_left()[0]
            or a.get_top()[1] + gap <= b.get_bottom()[1] or b.get_top()[1] + gap <= a.get_bottom()[1])


@needs_weights
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_layout_nothing_touches(lang):
    """Labels under the columns, flatten's and the output's never touch one another; maps, bars
    and names stay inside the safe area; the columns fill the width left of the output."""
    from cnnanim.draw.layout import CONTENT_BOTTOM, CONTENT_TOP, SAFE_LEFT, SAFE_RIGHT
    from cnnanim.output.render import configure_scene

    scene = configure_scene(ov.Overview, lang=lang, voice="none")()
    scene.setup()
    n = len(scene.data.columns)
    texts = [scene.get_label(i)[1] for i in range(n)]
    texts += [scene.get_flatten_label()[1], scene.get_output_label()[1]]
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            assert _boxes_apart(a, b), (a[0].text, b[0].text)
        assert a.get_bottom()[1] >= CONTENT_BOTTOM - 1e-6
    out = scene.get_output()
    assert out.get_right()[0] <= SAFE_RIGHT + 1e-6 and out.get_top()[1] <= CONTENT_TOP + 1e-6
    assert scene.get_column(0).get_left()[0] >= SAFE_LEFT - 1e-6
    last = scene.get_column(n - 1)
    assert _boxes_apart(last, out, gap=0.5)  # room for the lines to the output
    # the frames drawn around parts stay inside the frame's safe area
    for f in (scene.get_output_frame(), scene.get_column_frame(0, n - 1),
              scene.get_frame_of(scene.get_prediction()),
              scene.get_frame_of(scene.get_flatten_label()[1])):
        assert SAFE_LEFT - 1e-6 <= f.get_left()[0] and f.get_right()[0] <= SAFE_RIGHT + 1e-6
        assert f.get_bottom()[1] >= CONTENT_BOTTOM - 1e-6
    # the predicted class is named in the viewer's language
    from cnnanim.network.presets import class_label

    assert scene.get_narration_values()["top"] == class_label(scene.data.top_name, lang)


def test_connection_counts():
    """Convolutions link every map to every map, ReLU and pooling map to map."""
    assert len(ov.connections([[0, j, 0] for j in range(3)], [[1, j, 0] for j in range(10)],
                              True).get_subpaths()) == 30
    assert len(ov.connections([[0, j, 0] for j in range(10)], [[1, j, 0] for j in range(10)],
                              False).get_subpaths()) == 10


@pytest.mark.skipif(not (explainer_dir() / "model.json").exists(),
                    reason="CNN Explainer's model (../shared/cnn-explainer) is not available")
def test_explainer_model_names_espresso(tmp_path):
    """Acceptance: CNN Explainer's own model and photo -> the overview names espresso."""
    from cnnanim.cli import main

    out = tmp_path / "tfjs.safetensors"
    res = CliRunner().invoke(main, ["weights", "import-tfjs",
                                    str(explainer_dir() / "model.json"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    t = get_trace(explainer_dir() / "img" / "espresso_1.jpeg", out)
    d = check_overview_numbers(t)
    assert d.top_name == "espresso"
    assert d.narration_values()["top"] == "espresso"


# -- rendering -----------------------------------------------------------------------------------
@needs_weights
def test_overview_renders(tmp_path, trace):
    import av

    r = render_scene("overview", quality="l", output=tmp_path / "x.mp4")
    _, beats = check_video(r)
    assert 20 <= beats <= 40
    scene = r.scene_object
    variants = ("input_grey", "block1_one")  # said of a grey input, of one map per layer
    assert [b.key for _, _, b in scene.beats] == [k for k in ov.Overview.NARRATION
                                                  if k not in variants]
    assert inside_frame(scene) == []
    # the whole network is on screen before the first beat is half over
    t0, t1, _ = scene.beats[0]
    with av.open(str(r.path)) as c:
        s = c.streams.video[0]
        for f in c.decode(s):
            if float(f.pts * s.time_base) >= t0 + 0.5 * (t1 - t0):
                img = f.to_ndarray(format="rgb24").astype(int)
                break
    px, py = scene_to_pixel(scene.out_left + d_top_bar(scene), ov.map_y(scene.data.top, 10))
    assert np.abs(img[py, px] - colors.hex_to_rgb(colors.LOGIT) * 255).max() < 40


def d_top_bar(scene) -> float:
    """x offset of the middle of the predicted class's output bar."""
    d = scene.data
    return float(d.probabilities[d.top]) * ov.OUT_BAR_MAX / 2


@needs_weights
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_overview_last_frame(tmp_path, trace, lang):
    r, img = last_frame("overview", tmp_path, lang=lang)
    d = ov_data.overview_data(trace)
    scene = r.scene_object
    # the top class's output bar is the darker orange
    x = scene.out_left + d.probabilities[d.top] * ov.OUT_BAR_MAX / 2
    px, py = scene_to_pixel(x, ov.map_y(d.top, 10))
    assert np.abs(img[py, px] - colors.hex_to_rgb(colors.LOGIT) * 255).max() < 30
    # the centre of the last column's first map has its activation colour
    col = d.columns[-1]
    m = col.maps[0]
    h = m.shape[0]
    px, py = scene_to_pixel(scene.column_x(len(d.columns) - 1), ov.map_y(0, 10))
    want = colors.activation_rgb(m[h // 2, h // 2], col.vmax) * 255
    assert np.abs(img[py, px] - want).max() < 30
    assert inside_frame(scene) == []
