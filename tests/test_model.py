"""TinyVGG and the presets: shapes, stage names, parameter counts, Preset.stage_shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import build_model
from torch import nn

from cnnanim.errors import CnnanimError, UnknownNameError
from cnnanim.network.model import TinyVGG
from cnnanim.network.presets import (
    DIGIT_CLASSES,
    EXPLAINER_CLASSES,
    PRESETS,
    STAGE_KIND,
    STAGES,
    Preset,
    get_preset,
)

EXPECTED_STAGES = ("conv_1_1", "relu_1_1", "conv_1_2", "relu_1_2", "max_pool_1",
                   "conv_2_1", "relu_2_1", "conv_2_2", "relu_2_2", "max_pool_2",
                   "flatten", "output")

# (C, H, W) after every stage, written out by hand from CNN Explainer and the seed.
EXPECTED_SHAPES = {
    "explainer": {
        "conv_1_1": (10, 62, 62), "relu_1_1": (10, 62, 62),
        "conv_1_2": (10, 60, 60), "relu_1_2": (10, 60, 60), "max_pool_1": (10, 30, 30),
        "conv_2_1": (10, 28, 28), "relu_2_1": (10, 28, 28),
        "conv_2_2": (10, 26, 26), "relu_2_2": (10, 26, 26), "max_pool_2": (10, 13, 13),
        "flatten": (1690,), "output": (10,),
    },
    "seed": {
        "conv_1_1": (10, 28, 28), "relu_1_1": (10, 28, 28),
        "conv_1_2": (10, 28, 28), "relu_1_2": (10, 28, 28), "max_pool_1": (10, 14, 14),
        "conv_2_1": (10, 14, 14), "relu_2_1": (10, 14, 14),
        "conv_2_2": (10, 14, 14), "relu_2_2": (10, 14, 14), "max_pool_2": (10, 7, 7),
        "flatten": (490,), "output": (10,),
    },
}


def real_shapes(model: TinyVGG, batch: int = 1) -> dict[str, tuple[int, ...]]:
    """Run ``model`` on zeros and record each stage's output shape (batch dimension removed)."""
    shapes: dict[str, tuple[int, ...]] = {}
    handles = [getattr(model, n).register_forward_hook(
        lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape))) for n in STAGES]
    try:
        with torch.no_grad():
            model(torch.zeros(batch, model.input_shape, model.image_size, model.image_size))
    finally:
        for h in handles:
            h.remove()
    assert all(s[0] == batch for s in shapes.values())
    return {n: s[1:] for n, s in shapes.items()}


def test_stage_names_in_forward_order():
    assert STAGES == EXPECTED_STAGES
    assert [n for n, _ in TinyVGG().named_children()] == list(EXPECTED_STAGES)


def test_stage_kinds():
    assert [STAGE_KIND[n] for n in STAGES] == (
        ["conv", "relu", "conv", "relu", "pool"] * 2 + ["flatten", "linear"])


def test_preset_hyper_parameters():
    e, s = get_preset("explainer"), get_preset("seed")
    assert (e.in_channels, e.image_size, e.hidden_units, e.padding, e.kernel_size, e.pool_size) == \
        (3, 64, 10, 0, 3, 2)
    assert (s.in_channels, s.image_size, s.hidden_units, s.padding, s.kernel_size, s.pool_size) == \
        (1, 28, 10, 1, 3, 2)
    assert e.classes == EXPLAINER_CLASSES and len(e.classes) == 10 and len(set(e.classes)) == 10
    assert s.classes == DIGIT_CLASSES == tuple("0123456789")
    assert e.input_shape == (3, 64, 64) and s.input_shape == (1, 28, 28)
    assert e.flatten_size == 1690 and s.flatten_size == 490


@pytest.mark.parametrize("preset", ["explainer", "seed"])
def test_preset_stage_shapes_written_out(preset):
    assert get_preset(preset).stage_shapes() == EXPECTED_SHAPES[preset]
    assert list(get_preset(preset).stage_shapes()) == list(STAGES)


@pytest.mark.parametrize("preset", ["explainer", "seed"])
def test_model_shapes(preset):
    model = build_model(preset)
    assert real_shapes(model) == EXPECTED_SHAPES[preset]
    assert real_shapes(model, batch=3) == EXPECTED_SHAPES[preset]
    assert model.flatten_size == get_preset(preset).flatten_size
    assert model.output.in_features == model.flatten_size
    assert model.output.out_features == 10


@pytest.mark.parametrize("preset", ["explainer", "seed"])
def test_layer_hyper_parameters(preset):
    p, model = get_preset(preset), build_model(preset)
    for name in STAGES:
        m = model.stage(name)
        kind = STAGE_KIND[name]
        if kind == "conv":
            assert isinstance(m, nn.Conv2d)
            assert m.kernel_size == (3, 3) and m.stride == (1, 1) and m.padding == (p.padding,) * 2
            assert m.out_channels == 10
            assert m.in_channels == (p.in_channels if name == "conv_1_1" else 10)
        elif kind == "relu":
            assert isinstance(m, nn.ReLU)
        elif kind == "pool":
            assert isinstance(m, nn.MaxPool2d) and m.kernel_size == 2 and m.stride == 2
        elif kind == "flatten":
            assert isinstance(m, nn.Flatten)
        else:
            assert isinstance(m, nn.Linear)


@pytest.mark.parametrize("preset, count", [("explainer", 19920), ("seed", 7740)])
def test_parameter_count(preset, count):
    # explainer: 3*10*9+10 + 3*(10*10*9+10) + 1690*10+10; seed: 1*10*9+10 + 2730 + 490*10+10
    assert sum(p.numel() for p in build_model(preset).parameters()) == count


@pytest.mark.parametrize("custom", [
    Preset("odd", in_channels=2, image_size=33, hidden_units=4, padding=2, classes=("a", "b", "c"),
           kernel_size=5, pool_size=3),
    Preset("tiny", in_channels=1, image_size=16, hidden_units=3, padding=0, classes=("x", "y")),
    Preset("wide", in_channels=4, image_size=41, hidden_units=6, padding=1, classes=tuple("abcde"),
           kernel_size=3, pool_size=2),
])
def test_stage_shapes_match_model_for_other_hyper_parameters(custom):
    model = TinyVGG.from_preset(custom).eval()
    assert real_shapes(model) == custom.stage_shapes()
    assert model.flatten_size == custom.flatten_size
    assert model.output.out_features == len(custom.classes)


def test_forward_returns_logits_in_batches(make_model):
    model = make_model("explainer")
    x = torch.rand(4, 3, 64, 64)
    with torch.no_grad():
        batch = model(x)
        single = torch.cat([model(x[i:i + 1]) for i in range(4)])
    assert batch.shape == (4, 10)
    np.testing.assert_allclose(batch.numpy(), single.numpy(), rtol=1e-5, atol=1e-6)


def test_forward_equals_the_sequence_of_stages(make_model):
    model = make_model("seed")
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        y = x
        for name in STAGES:
            y = model.stage(name)(y)
        assert torch.equal(y, model(x))


def test_seeded_models_are_deterministic():
    a, b = build_model("explainer", seed=3), build_model("explainer", seed=3)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)
    c = build_model("explainer", seed=4)
    assert not torch.equal(a.conv_1_1.weight, c.conv_1_1.weight)


def test_from_preset_num_classes_and_preset_object():
    assert TinyVGG.from_preset("seed", num_classes=3).output.out_features == 3
    assert TinyVGG.from_preset(PRESETS["seed"]).image_size == 28


def test_stage_unknown_name_lists_valid_names():
    with pytest.raises(UnknownNameError) as info:
        TinyVGG().stage("conv_3_1")
    msg = str(info.value)
    assert "conv_3_1" in msg and "\n" not in msg
    for name in STAGES:
        assert name in msg
    assert isinstance(info.value, CnnanimError) and isinstance(info.value, KeyError)
    assert info.value.valid == list(STAGES)


def test_unknown_preset_lists_valid_names():
    with pytest.raises(UnknownNameError) as info:
        get_preset("mnist")
    assert str(info.value) == "unknown preset 'mnist'; valid: explainer, seed"
    with pytest.raises(UnknownNameError):
        TinyVGG.from_preset("mnist")


def test_architecture_round_trip_and_supported_range():
    from cnnanim.network.presets import (
        check_supported,
        input_size_for,
        preset_from_architecture,
        preset_name_of,
    )

    for name, p in PRESETS.items():
        again = preset_from_architecture(name, p.architecture(), p.classes)
        assert (again.architecture(), again.classes) == (p.architecture(), p.classes)
        assert preset_name_of(again) == name
        check_supported(p)
    assert input_size_for(7, 3, 1) == 28 and input_size_for(13, 3, 0) == 64
    assert input_size_for(16, 3, 1) == 64 and input_size_for(8, 5, 2) == 32
    custom = Preset("x", in_channels=3, image_size=64, hidden_units=16, padding=1,
                    classes=tuple(map(str, range(12))))
    assert preset_name_of(custom) == "custom"
    check_supported(custom)
    for bad, words in [(dict(in_channels=2), "2 input channels"),
                       (dict(hidden_units=65), "65 hidden"),
                       (dict(image_size=130), "130 input size"), (dict(classes=("a",)), "1 classes")]:
        with pytest.raises(CnnanimError, match=words):
            check_supported(Preset(**{**custom.__dict__, **bad}))
    with pytest.raises(CnnanimError, match="leaves no pixels after conv_2_1"):
        check_supported(Preset(**{**custom.__dict__, "image_size": 16, "padding": 0,
                                  "kernel_size": 5}))
    with pytest.raises(CnnanimError, match="malformed architecture"):
        preset_from_architecture("x", {**custom.architecture(), "padding": -1}, custom.classes)
