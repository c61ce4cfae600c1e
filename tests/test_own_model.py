"""Your own model (issue 12): every scene renders for a PyTorch CNNModel imported with
``weights import-torch`` -- a grey 1x28x28 one with 8 hidden units and 3 classes, and a colour
3x64x64 one with 16 hidden units and 12 classes -- and what it shows is that model's: its class
names, its sizes, "+ N more" for maps that do not fit, the most probable classes and an "others"
row holding the real sum of the rest, and no "10" (or "ten") that is really 8 or 12.

Each scene's last frame is rendered once per model (png, -ql) and its mobjects and narration
are read back.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from conftest import drawn_texts, inside_frame
from torch import nn

from cnnanim.explain.fit import class_rows, shown_count
from cnnanim.explain.numbers import counted, fmt, number_word
from cnnanim.explain.softmax import fmt_exp

MODELS = {
    # name: (input channels, hidden units, classes, input size, class names)
    "grey": (1, 8, 3, 28, ["cat", "dog", "bird"]),
    "colour": (3, 16, 12, 64, [f"class {i}" for i in range(12)]),
}


class CNNModel(nn.Module):
    """The seed tutorial's model (two conv blocks of padded 3x3 convolutions, a linear layer)."""

    def __init__(self, input_shape: int, hidden_units: int, output_shape: int, size: int):
        super().__init__()
        self.block_1 = nn.Sequential(
            nn.Conv2d(input_shape, hidden_units, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(hidden_units, hidden_units, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.block_2 = nn.Sequential(
            nn.Conv2d(hidden_units, hidden_units, 3, padding=1), nn.ReLU(),
            nn.Conv2d(hidden_units, hidden_units, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(hidden_units * (size // 4) ** 2, output_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.block_2(self.block_1(x)))


#: Scenes that draw a 7x7 crop of the input whatever the model (their layout has its own tests).
CROP_SCENES = ("padding", "kernel-size", "stride", "conv-invalid")


def import_model(folder: Path, name: str) -> Path:
    """A seeded, randomly initialised CNNModel, saved as a state_dict and imported by the CLI."""
    from cnnanim.cli import main

    c, h, o, size, classes = MODELS[name]
    torch.manual_seed(12)
    model = CNNModel(c, h, o, size)
    with torch.no_grad():  # spread the scores a little, so that the classes differ
        model.classifier[1].weight.mul_(40.0)
    torch.save(model.state_dict(), folder / f"{name}.pth")
    out = folder / f"{name}.safetensors"
    r = CliRunner().invoke(main, ["weights", "import-torch", str(folder / f"{name}.pth"),
                                  "-o", str(out), "--classes", ",".join(classes)])
    assert r.exit_code == 0, r.output
    return out


def render_last_frames(weights: Path, folder: Path, lang: str = "en",
                       names: list[str] | None = None) -> dict:
    """Scene name -> the scene object after rendering its last frame (png, -ql)."""
    from cnnanim.output.render import render_scene
    from cnnanim.scenes.registry import all_scenes

    return {name: render_scene(name, quality="l", fmt="png", weights=weights, lang=lang,
                               output=folder / f"{name}-{lang}.png").scene_object
            for name in all_scenes() if names is None or name in names}


@pytest.fixture(scope="module", params=list(MODELS))
def own(request, tmp_path_factory):
    """(model name, its trace, scene name -> rendered scene, the folder of the PNGs, the
    weights file)."""
    from cnnanim.network.trace_cache import get_trace

    folder = tmp_path_factory.mktemp(request.param)
    weights = import_model(folder, request.param)
    return (request.param, get_trace(None, weights), render_last_frames(weights, folder), folder,
            weights)


def norm(text: str) -> str:
    """``text`` without its spaces and line breaks (Manim's ``Text.text`` drops them)."""
    return re.sub(r"\s", "", text)


def texts(scene) -> list[str]:
    """Every text and number on screen (words of labels, numbers), without spaces."""
    from manim import Group

    return [norm(t) for t in drawn_texts(Group(*scene.mobjects)) if t]


def has_name(shown: list[str], name: str) -> bool:
    """A class name is on screen (names on a row are drawn after an "X" that is then removed,
    see :func:`cnnanim.draw.text.on_row`)."""
    return norm(name) in shown or "X" + norm(name) in shown


def narration(scene) -> list[str]:
    return [b.text for _, _, b in scene.beats]


#: Words that would claim a count of maps, channels, kernels or classes.
COUNT_CLAIM = r"\b{n}\s*(?:input\s*)?(?:maps?|channels?|kernels?|classes|raw scores|results|" \
              r"probabilities|neurons?|channel sums)\b"


def test_every_scene_renders_a_png(own):
    from PIL import Image

    from cnnanim.scenes.registry import all_scenes

    name, t, scenes, folder, _ = own
    assert sorted(scenes) == sorted(all_scenes())
    for scene_name, scene in scenes.items():
        with Image.open(folder / f"{scene_name}-en.png") as img:
            assert img.size == (854, 480)
        assert scene.beats, scene_name
        if scene_name not in CROP_SCENES:
            assert inside_frame(scene) == [], scene_name


def test_sizes_and_counts_are_the_models(own):
    """No scene shows or says a count of 10 (maps, classes...) for a model of 8 or 16 units and
    3 or 12 classes; the shapes written are the model's."""
    name, t, scenes, _, _ = own
    c, h, o, size, _ = MODELS[name]
    assert (t.in_channels, t.hidden_units, t.num_classes, t.image_size) == (c, h, o, size)
    allowed = {c, h}
    for scene_name, scene in scenes.items():
        for text in texts(scene) + narration(scene):
            for n in ("10", "ten"):
                assert not re.search(COUNT_CLAIM.format(n=n), text), (scene_name, text)
            for shape in re.findall(r"\b\d+×\d+×(\d+)\b", text):  # H×W×C: C is the model's
                assert int(shape) in allowed, (scene_name, text)
    assert any(f"{size}×{size}×{c}" in s for s in texts(scenes["input"]))
    assert any(f"{size} by {size}" in s for s in narration(scenes["input"]))


def test_overview_shows_the_first_maps_and_the_top_classes(own):
    name, t, scenes, _, _ = own
    _, h, o, _, classes = MODELS[name]
    for scene_name in ("overview", "recap"):
        scene = scenes[scene_name]
        shown = texts(scene)
        more = [s for s in shown if s.startswith("+")]
        hidden = h - shown_count(h)
        # every conv, ReLU and pooling column says how many of its maps it leaves out
        assert len(more) == (10 if hidden else 0), (scene_name, more)
        assert all(re.fullmatch(r"\+(\d+)more", s)[1] == str(hidden) for s in more), more
        rows = class_rows(t.probabilities)
        for k in rows.shown:
            assert has_name(shown, classes[k]), classes[k]
        if o > 10:
            p = fmt(100 * float(np.sum(t.probabilities[rows.others])), 1)
            assert has_name(shown, f"others ({len(rows.others)} classes, {p}%)")
            assert len(rows.shown) == 9 and set(rows.shown) >= {t.predicted_index}
        else:
            assert not any(s.startswith("others") for s in shown)
        assert f"{o}classes" in shown
        assert any(norm(t.predicted_class) in s for s in shown)  # the prediction
    said = " ".join(narration(scenes["overview"]))
    assert f"one of its {counted(h, 'map')}" in said  # "eight maps", "16 maps"
    assert ("grey channel" in said) == (name == "grey")
    assert ("red, green and blue" in said) == (name == "colour")


def test_softmax_rows_and_others_are_real(own):
    name, t, scenes, _, _ = own
    _, _, o, _, classes = MODELS[name]
    scene = scenes["softmax"]
    shown = texts(scene)
    rows = class_rows(t.probabilities)
    names = [s.removeprefix("X") for s in shown if s.removeprefix("X") in map(norm, classes)]
    assert sorted(names) == sorted(norm(classes[k]) for k in rows.shown)
    p = np.asarray(t.probabilities, np.float64)
    e = np.exp(np.asarray(t.logits, np.float64))
    if rows.others:
        assert has_name(shown, f"others ({len(rows.others)} classes)")
        assert fmt(float(p[rows.others].sum()), 4) in shown  # the others' probability
        assert fmt_exp(float(e[rows.others].sum())) in shown  # and their e^z
    for k in rows.shown:
        assert fmt(float(p[k]), 4) in shown
    # the rescaling column (faded out by the end): the "others" row holds the real sum too
    rescaled = scene.get_bars(scene.data.rescaled, 0.0, "#000000")
    assert len(rescaled) == rows.rows
    want = float(np.sum(scene.data.rescaled[rows.others])) if rows.others else \
        float(scene.data.rescaled[rows.shown[-1]])
    assert rescaled[-1][2].text == fmt(want, 4)
    said = " ".join(narration(scene))
    assert f"{number_word(o)} raw scores" in said  # "three", "twelve"
    assert t.predicted_class in said


def test_conv_deep_and_flatten_say_how_many_more(own):
    name, t, scenes, _, _ = own
    _, h, _, _, _ = MODELS[name]
    listed = shown_count(h)
    deep = scenes["conv-deep"]
    cards = deep.get_cards()
    assert len(cards) == listed
    shown = texts(deep)
    if listed < h:
        assert f"+{h - listed}more" in shown and f"in{listed}–{h - 1}" in shown
        win = deep.steps[-1]
        rest = fmt(float(np.sum(win.channel_sums[listed:])))
        s = deep.get_step_strings([win])[0]
        assert s["rest"] == rest and s["addition"].terms[listed] == rest
    else:
        assert not any(s.startswith("+") and "more" in s for s in shown)
    flat = scenes["flatten"]
    maps = flat.get_maps()
    assert (maps.more is not None) == (listed < h)
    if maps.more is not None:
        assert norm(maps.more.text) == f"+{h - listed}more"
    c, hh, w = t[t.stage_names("pool")[-1]].output.shape
    assert f"Flatten{hh}×{w}×{c}→{c * hh * w}" in texts(flat)


def test_padding_scene_shows_this_model(own):
    """The imported model pads its first layer, so the padding scene shows it (not the seed's)."""
    name, t, scenes, _, _ = own
    _, _, _, size, _ = MODELS[name]
    scene = scenes["padding-seed"]
    assert scene.own_model and scene.seed_trace is scene.trace
    assert "Apaddednetwork:thismodel" in texts(scene)
    assert any(f"{size} by {size} {'grey' if name == 'grey' else 'colour'} images" in s
               for s in narration(scene))


def test_chinese_overview_and_softmax(own, tmp_path):
    """The class names stay the model's own in Chinese; counts are the model's."""
    name, t, _, _, weights = own
    _, h, o, _, classes = MODELS[name]
    scenes = render_last_frames(weights, tmp_path, lang="zh", names=["overview", "softmax"])
    for scene in scenes.values():
        said = " ".join(narration(scene))
        assert "十个" not in said or o == 10
        assert t.predicted_class in said
    rows = class_rows(t.probabilities)
    assert all(has_name(texts(scenes["softmax"]), classes[k]) for k in rows.shown)
    if rows.others:
        assert has_name(texts(scenes["softmax"]), f"其余 {len(rows.others)} 类")
