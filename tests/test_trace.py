"""trace(): every stage recorded, equal to the model's own computations; hooks cleaned up; save/load."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import build_model, random_image

from cnnanim.errors import CnnanimError, UnknownNameError
from cnnanim.network.presets import STAGE_KIND, STAGES, get_preset
from cnnanim.network.trace import ActivationTrace, StageTrace, trace


def all_hooks(model) -> list:
    return [(name, dict(m._forward_hooks), dict(m._forward_pre_hooks))
            for name, m in model.named_modules()
            if m._forward_hooks or m._forward_pre_hooks]


@pytest.fixture
def traced(preset_name):
    model = build_model(preset_name)
    image = random_image(preset_name, seed=7)
    t = trace(model, image, class_names=list(get_preset(preset_name).classes), preset=preset_name)
    return model, image, t


def test_every_stage_recorded_with_its_shapes(traced, preset_name):
    model, image, t = traced
    shapes = get_preset(preset_name).stage_shapes()
    assert list(t.stages) == list(STAGES) == t.stage_names()
    previous = get_preset(preset_name).input_shape
    for name in STAGES:
        s = t[name]
        assert isinstance(s, StageTrace) and s.name == name and s.kind == STAGE_KIND[name]
        assert s.input.shape == previous, name
        assert s.output.shape == shapes[name] == s.shape, name
        assert s.input.dtype == np.float32 and s.output.dtype == np.float32
        previous = shapes[name]
    assert t.image.shape == get_preset(preset_name).input_shape
    assert t.logits.shape == t.probabilities.shape == (10,)


def test_outputs_chain_and_equal_the_forward_pass(traced):
    model, image, t = traced
    np.testing.assert_array_equal(t.image, image)
    np.testing.assert_array_equal(t["conv_1_1"].input, image)
    for a, b in zip(STAGES, STAGES[1:]):
        np.testing.assert_array_equal(t[a].output, t[b].input, err_msg=f"{a} -> {b}")
    with torch.no_grad():
        logits = model(torch.from_numpy(image)[None])[0].numpy()
    np.testing.assert_array_equal(t.logits, logits)
    np.testing.assert_array_equal(t["output"].output, t.logits)


def test_each_stage_equals_functional_recomputation(traced):
    model, _, t = traced
    for name in STAGES:
        s = t[name]
        x = torch.from_numpy(s.input)[None]
        kind = s.kind
        if kind == "conv":
            y = F.conv2d(x, torch.from_numpy(s.weight), torch.from_numpy(s.bias),
                         stride=s.stride, padding=s.padding)
        elif kind == "relu":
            y = F.relu(x)
        elif kind == "pool":
            y = F.max_pool2d(x, s.kernel_size, s.stride, s.padding)
        elif kind == "flatten":
            y = torch.flatten(x, 1)
        else:
            y = F.linear(x, torch.from_numpy(s.weight), torch.from_numpy(s.bias))
        np.testing.assert_allclose(s.output, y[0].numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    # exact where no arithmetic happens
    np.testing.assert_array_equal(t["relu_1_1"].output, np.maximum(t["conv_1_1"].output, 0))
    np.testing.assert_array_equal(t["flatten"].output, t["max_pool_2"].output.reshape(-1))


def test_probabilities(traced):
    _, _, t = traced
    assert t.probabilities.dtype == np.float32
    assert np.all(t.probabilities > 0)
    assert abs(float(t.probabilities.astype(np.float64).sum()) - 1.0) < 1e-6
    expected = torch.softmax(torch.from_numpy(t.logits).double(), 0).numpy()
    np.testing.assert_allclose(t.probabilities, expected, rtol=1e-6, atol=1e-7)
    assert t.predicted_index == int(np.argmax(t.logits))
    assert t.predicted_class == t.class_names[t.predicted_index]
    top = t.top(3)
    assert len(top) == 3 and top[0] == (t.predicted_class, float(t.probabilities.max()))
    assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    assert [n for n, _ in t.top(10)] == [t.class_names[i] for i in np.argsort(-t.logits, kind="stable")]
    assert len(t.top(100)) == 10


def test_parameters_recorded(traced, preset_name):
    model, _, t = traced
    p = get_preset(preset_name)
    for name in STAGES:
        s, m = t[name], model.stage(name)
        if s.kind in ("conv", "linear"):
            np.testing.assert_array_equal(s.weight, m.weight.detach().numpy())
            np.testing.assert_array_equal(s.bias, m.bias.detach().numpy())
            assert s.weight.dtype == s.bias.dtype == np.float32
        else:
            assert s.weight is None and s.bias is None
        if s.kind == "conv":
            assert (s.kernel_size, s.stride, s.padding) == (3, 1, p.padding)
            assert s.weight.shape == (10, p.in_channels if name == "conv_1_1" else 10, 3, 3)
        elif s.kind == "pool":
            assert (s.kernel_size, s.stride, s.padding) == (2, 2, 0)
        else:
            assert (s.kernel_size, s.stride, s.padding) == (None, None, None)
    assert t["output"].weight.shape == (10, p.flatten_size)


def test_recorded_arrays_are_copies(preset_name):
    model = build_model(preset_name)
    t = trace(model, random_image(preset_name))
    before = t["conv_1_1"].weight.copy()
    with torch.no_grad():
        model.conv_1_1.weight.add_(1.0)
    np.testing.assert_array_equal(t["conv_1_1"].weight, before)


def test_trace_is_deterministic_and_leaves_model_in_eval(preset_name):
    model = build_model(preset_name).train()
    img = random_image(preset_name, seed=3)
    a, b = trace(model, img), trace(model, img)
    assert not model.training
    for name in STAGES:
        np.testing.assert_array_equal(a[name].output, b[name].output)


def test_subset_of_stages():
    model = build_model("explainer")
    t = trace(model, random_image("explainer"), stages=["max_pool_2", "conv_1_1"])
    assert set(t.stages) == {"conv_1_1", "max_pool_2"}
    assert t["max_pool_2"].output.shape == (10, 13, 13)
    full = trace(model, random_image("explainer"))
    np.testing.assert_array_equal(t.logits, full.logits)
    np.testing.assert_array_equal(t["max_pool_2"].output, full["max_pool_2"].output)
    with pytest.raises(UnknownNameError):
        t["relu_1_1"]  # not recorded
    assert all_hooks(model) == []


def test_default_class_names_are_the_presets():
    # documented: class_names default to the model's preset's
    t = trace(build_model("explainer"), random_image("explainer"), preset="explainer")
    assert t.class_names == list(get_preset("explainer").classes)
    assert t.preset == "explainer"
    t = trace(build_model("seed"), random_image("seed"), preset="seed")
    assert t.class_names == list(get_preset("seed").classes) and t.preset == "seed"
    # a preset that does not describe the model gives no wrong names, only indices
    t = trace(build_model("seed"), random_image("seed"))
    assert t.class_names == [str(i) for i in range(10)]
    assert trace(build_model("seed"), random_image("seed"), class_names=list("abcdefghij")).class_names \
        == list("abcdefghij")


def test_hooks_removed_after_trace(preset_name):
    model = build_model(preset_name)
    assert all_hooks(model) == []
    trace(model, random_image(preset_name))
    assert all_hooks(model) == []
    trace(model, random_image(preset_name), stages=["conv_2_1"])
    assert all_hooks(model) == []


@pytest.mark.parametrize("failing_stage", ["conv_1_1", "max_pool_1", "relu_2_2", "output"])
def test_hooks_removed_when_forward_raises(failing_stage):
    model = build_model("explainer")

    def boom(*args, **kwargs):
        raise RuntimeError("boom inside the forward pass")

    getattr(model, failing_stage).forward = boom
    with pytest.raises(RuntimeError, match="boom"):
        trace(model, random_image("explainer"))
    assert all_hooks(model) == []
    del getattr(model, failing_stage).forward  # the class's forward again: tracing works afterwards
    trace(model, random_image("explainer"))
    assert all_hooks(model) == []


def test_hooks_removed_when_a_hook_callback_raises():
    """An exception inside one of trace's own hooks must not leave the other hooks behind."""
    model = build_model("seed")
    model.relu_1_2.forward = lambda x: 42  # trace's hook on relu_1_2 fails on output.detach()
    with pytest.raises(AttributeError):
        trace(model, random_image("seed"))
    assert all_hooks(model) == []


def test_unknown_stage_name_lists_valid_names():
    model = build_model("explainer")
    with pytest.raises(UnknownNameError) as info:
        trace(model, random_image("explainer"), stages=["conv_1_1", "pool_1"])
    msg = str(info.value)
    assert "'pool_1'" in msg and "\n" not in msg
    for name in STAGES:
        assert name in msg
    assert isinstance(info.value, CnnanimError)
    assert all_hooks(model) == []


def test_getitem_unknown_stage_lists_valid_names(traces):
    _, t = traces["explainer"]
    with pytest.raises(UnknownNameError) as info:
        t["softmax"]
    assert "'softmax'" in str(info.value)
    for name in STAGES:
        assert name in str(info.value)


@pytest.mark.parametrize("shape", [(3, 28, 28), (1, 64, 64), (64, 64, 3), (1, 3, 64, 64), (3, 64)])
def test_wrong_image_shape_is_a_one_line_error(shape):
    model = build_model("explainer")
    with pytest.raises(CnnanimError) as info:
        trace(model, np.zeros(shape, dtype=np.float32))
    assert "\n" not in str(info.value) and str(shape) in str(info.value)
    assert all_hooks(model) == []


def test_stage_names_by_kind(traces):
    _, t = traces["seed"]
    assert t.stage_names("conv") == ["conv_1_1", "conv_1_2", "conv_2_1", "conv_2_2"]
    assert t.stage_names("pool") == ["max_pool_1", "max_pool_2"]
    assert t.stage_names("linear") == ["output"]


def assert_traces_equal(a: ActivationTrace, b: ActivationTrace) -> None:
    assert (a.preset, a.class_names, a.meta) == (b.preset, b.class_names, b.meta)
    for key in ("image", "logits", "probabilities"):
        x, y = getattr(a, key), getattr(b, key)
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)
    assert list(a.stages) == list(b.stages)
    for name in a.stages:
        sa, sb = a[name], b[name]
        assert (sa.name, sa.kind, sa.kernel_size, sa.stride, sa.padding) == \
            (sb.name, sb.kind, sb.kernel_size, sb.stride, sb.padding)
        for key in ("input", "output", "weight", "bias"):
            x, y = getattr(sa, key), getattr(sb, key)
            if x is None:
                assert y is None, (name, key)
            else:
                assert x.dtype == y.dtype and x.shape == y.shape, (name, key)
                np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("preset", ["explainer", "seed"])
def test_save_load_round_trip(tmp_path, traces, preset):
    _, t = traces[preset]
    t.meta = {"weights": "tests", "note": "caf\u00e9 \u2713", "n": 3}
    path = t.save(tmp_path / "sub" / "trace.npz")
    assert path == tmp_path / "sub" / "trace.npz" and path.is_file()
    loaded = ActivationTrace.load(path)
    assert_traces_equal(t, loaded)
    assert loaded.predicted_class == t.predicted_class and loaded.top(3) == t.top(3)
    # no pickled objects inside: every member loads with allow_pickle=False and is a plain array
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    assert "header.npy" in names
    with np.load(path, allow_pickle=False) as z:
        for key in z.files:
            assert z[key].dtype != object
        header = json.loads(str(z["header"]))
    assert header["preset"] == preset
    # a path without the .npz suffix is used as given
    other = t.save(tmp_path / "trace.bin")
    assert other.name == "trace.bin" and other.is_file()
    assert_traces_equal(t, ActivationTrace.load(other))


def test_save_load_partial_trace(tmp_path):
    model = build_model("seed")
    t = trace(model, random_image("seed"), stages=["relu_1_1", "output"], preset="seed")
    assert_traces_equal(t, ActivationTrace.load(t.save(tmp_path / "t.npz")))


def test_load_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, header=np.array([{"preset": "x"}], dtype=object))
    from cnnanim.errors import CnnanimError

    with pytest.raises(CnnanimError, match="not a cnnanim trace file"):
        ActivationTrace.load(path)


def test_sizes_come_from_the_arrays(traces):
    """Scenes read the network's sizes from the trace, never a hard-coded 10."""
    for name, (model, t) in traces.items():
        p = get_preset(name)
        assert t.input_shape == p.input_shape and t.in_channels == p.in_channels
        assert t.image_size == p.image_size and t.hidden_units == p.hidden_units
        assert t.num_classes == len(p.classes) == len(t.logits)
    from cnnanim.network.model import TinyVGG
    from cnnanim.network.presets import Preset

    arch = Preset("custom", in_channels=1, image_size=20, hidden_units=3, padding=1,
                  classes=tuple("abcde"))
    torch.manual_seed(0)
    t = trace(TinyVGG.from_preset(arch), random_image("seed")[:, :20, :20],
              class_names=list("abcde"))
    assert (t.input_shape, t.hidden_units, t.num_classes) == ((1, 20, 20), 3, 5)
    assert t["max_pool_2"].shape == (3, 5, 5)
