"""``weights import-torch``: the seed's CNNModel as a state_dict -> cnnanim weights, exact logits,
architecture inferred from the shapes, and nothing in the file ever runs."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from cnnanim.cli import main
from cnnanim.errors import CnnanimError
from cnnanim.files import explainer_dir
from cnnanim.network.images import SAMPLE_IMAGE, load_image
from cnnanim.network.torch_import import import_torch, parse_class_names
from cnnanim.network.trace import trace_image
from cnnanim.network.weights import load_model, read_weights


class CNNModel(nn.Module):
    """The seed tutorial's class, verbatim but for ``kernel``, ``padding`` and ``side`` knobs."""

    def __init__(self, input_shape: int, hidden_units: int, output_shape: int, kernel: int = 3,
                 padding: int = 1, side: int = 7) -> None:
        super().__init__()
        self.block_1 = nn.Sequential(
            nn.Conv2d(in_channels=input_shape, out_channels=hidden_units, kernel_size=kernel,
                      stride=1, padding=padding),
            nn.ReLU(),
            nn.Conv2d(in_channels=hidden_units, out_channels=hidden_units, kernel_size=kernel,
                      stride=1, padding=padding),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2))
        self.block_2 = nn.Sequential(
            nn.Conv2d(hidden_units, hidden_units, kernel, padding=padding), nn.ReLU(),
            nn.Conv2d(hidden_units, hidden_units, kernel, padding=padding), nn.ReLU(),
            nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_features=hidden_units * side * side, out_features=output_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.block_2(self.block_1(x)))


def saved(tmp_path: Path, *args, seed: int = 0, name: str = "model.pth", **kwargs):
    """A randomly initialised CNNModel saved the usual way; returns (module, path)."""
    torch.manual_seed(seed)
    model = CNNModel(*args, **kwargs).eval()
    path = tmp_path / name
    torch.save(model.state_dict(), path)
    return model, path


def real_images(size: int, channels: int) -> list[np.ndarray]:
    """The bundled photo and (if present) two of CNN Explainer's photos, preprocessed."""
    from cnnanim.network.presets import Preset

    arch = Preset("probe", in_channels=channels, image_size=size, hidden_units=1, padding=1,
                  classes=("a", "b"))
    paths = [SAMPLE_IMAGE] + [explainer_dir() / "img" / f for f in ("koala_1.jpeg", "bus_1.jpeg")
                              if (explainer_dir() / "img" / f).is_file()]
    return [load_image(p, arch) for p in paths]


def test_seed_class_8_units_3_classes_gives_the_same_logits(tmp_path):
    module, pth = saved(tmp_path, 1, 8, 3)
    out = import_torch(pth, tmp_path / "mine.safetensors", classes="cat, dog ,bird")
    model, info = load_model(out)
    assert info.class_names == ["cat", "dog", "bird"]
    assert info.architecture == {"in_channels": 1, "image_size": 28, "hidden_units": 8,
                                 "padding": 1, "kernel_size": 3, "pool_size": 2}
    assert info.source.startswith("cnnanim weights import-torch ")
    for image in real_images(28, 1):
        assert image.shape == (1, 28, 28)
        x = torch.from_numpy(image)[None]
        with torch.no_grad():
            ours, theirs = model(x), module(x)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5, rtol=0)
        assert int(ours.argmax()) == int(theirs.argmax())
    t = trace_image(SAMPLE_IMAGE, out)  # the whole path a render takes: file -> photo -> trace
    with torch.no_grad():
        expected = module(torch.from_numpy(load_image(SAMPLE_IMAGE, info.to_preset()))[None])[0]
    np.testing.assert_allclose(t.logits, expected.numpy(), atol=1e-5, rtol=0)
    assert (t.input_shape, t.hidden_units, t.num_classes) == ((1, 28, 28), 8, 3)
    assert t["max_pool_2"].shape == (8, 7, 7) and t["flatten"].shape == (392,)


def test_rgb_64px_16_units_12_classes_imports_and_traces(tmp_path):
    module, pth = saved(tmp_path, 3, 16, 12, side=16)
    out = import_torch(pth, tmp_path / "big.safetensors")
    t = trace_image(None, out)
    assert (t.input_shape, t.hidden_units, t.num_classes) == ((3, 64, 64), 16, 12)
    assert t.class_names == [str(i) for i in range(12)]
    assert t["conv_1_1"].shape == (16, 64, 64) and t["conv_1_1"].padding == 1
    assert t["max_pool_2"].shape == (16, 16, 16) and t["output"].shape == (12,)
    with torch.no_grad():
        expected = module(torch.from_numpy(t.image)[None])[0].numpy()
    np.testing.assert_allclose(t.logits, expected, atol=1e-5, rtol=0)


def test_explainer_names_and_no_padding(tmp_path):
    """CNN Explainer's layer names (cnnanim's own) mean padding 0: 13x13 maps -> 64x64 input."""
    from cnnanim.network.model import TinyVGG

    torch.manual_seed(1)
    model = TinyVGG(input_shape=3, hidden_units=6, output_shape=4, image_size=64, padding=0).eval()
    torch.save(model.state_dict(), tmp_path / "tv.pth")
    loaded, info = load_model(import_torch(tmp_path / "tv.pth", tmp_path / "tv.safetensors"))
    assert info.architecture["padding"] == 0 and info.architecture["image_size"] == 64
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


def test_other_kernel_and_size_overrides(tmp_path):
    module, pth = saved(tmp_path, 1, 4, 5, kernel=5, padding=2, side=8)
    _, info = read_weights(import_torch(pth, tmp_path / "k5.safetensors"))
    assert (info.architecture["kernel_size"], info.architecture["padding"],
            info.architecture["image_size"]) == (5, 2, 32)
    # a state_dict does not store the padding: --image-size picks the one that fits
    module, pth = saved(tmp_path, 1, 4, 5, padding=0, side=4, name="p0.pth")
    _, info = read_weights(import_torch(pth, tmp_path / "p0.safetensors", image_size=28))
    assert (info.architecture["padding"], info.architecture["image_size"]) == (0, 28)
    with pytest.raises(CnnanimError, match="no TinyVGG with kernel 3 and input size 30"):
        import_torch(pth, tmp_path / "bad.safetensors", image_size=30, padding=1)


def test_checkpoint_dict_and_dataparallel_prefix(tmp_path):
    module, _ = saved(tmp_path, 1, 2, 2)
    state = {f"module.{k}": v for k, v in module.state_dict().items()}
    torch.save({"epoch": 3, "model_state_dict": state, "optimizer": {}}, tmp_path / "ckpt.pth")
    model, _ = load_model(import_torch(tmp_path / "ckpt.pth", tmp_path / "c.safetensors"))
    x = torch.rand(1, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(model(x), module(x))


class _Payload:
    """Unpickling this would create ``marker`` (it calls ``open(marker, "w")``)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("how", ["torch.save", "pickle", "pickle-2"])
def test_a_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path, how):
    marker = tmp_path / "pwned"
    module, _ = saved(tmp_path, 1, 2, 2)
    evil = {**module.state_dict(), "block_1.0.bias": _Payload(marker)}
    path = tmp_path / "evil.pth"
    if how == "torch.save":
        torch.save(evil, path)
    else:
        path.write_bytes(pickle.dumps(evil, protocol=2 if how == "pickle-2" else None))
    out = tmp_path / "out.safetensors"
    with pytest.raises(CnnanimError) as e:
        import_torch(path, out)
    assert "never runs" in str(e.value)
    assert 'torch.save(model.state_dict(), "model.pth")' in str(e.value)
    assert not marker.exists(), "importing executed code from the file"
    assert not out.exists()


def test_a_whole_pickled_model_is_refused(tmp_path):
    module, _ = saved(tmp_path, 1, 2, 2)
    torch.save(module, tmp_path / "whole.pth")
    r = CliRunner().invoke(main, ["weights", "import-torch", str(tmp_path / "whole.pth"),
                                  "-o", str(tmp_path / "w.safetensors")])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.output.count("\n") == 1 and r.output.startswith("Error: ")
    assert "whole pickled model" in r.output and "model.state_dict()" in r.output
    assert not (tmp_path / "w.safetensors").exists()


def _state(tmp_path, **change):
    module, _ = saved(tmp_path, 1, 4, 3)
    state = dict(module.state_dict())
    for k, v in change.items():
        k = k.replace("__", ".")
        if v is None:
            del state[k]
        else:
            state[k] = v
    path = tmp_path / "s.pth"
    torch.save(state, path)
    return path


@pytest.mark.parametrize("change, message", [
    ({"classifier__1__bias": None}, "missing classifier.1.bias"),
    ({"block_1__1__running_mean": torch.zeros(4)}, "unexpected block_1.1.running_mean"),
    ({"block_2__0__weight": torch.zeros(4, 5, 3, 3)},
     "block_2.0.weight has shape (4, 5, 3, 3), expected (4, 4, 3, 3)"),
    ({"classifier__1__weight": torch.zeros(3, 190)},
     "classifier.1.weight takes 190 inputs, expected hidden units x S x S = 4 x S x S"),
    ({"classifier__1__bias": torch.zeros(5)}, "classifier.1.bias has shape (5,), expected (3,)"),
    ({"block_1__0__weight": torch.zeros(4, 2, 3, 3)}, "has 2 input channels"),
])
def test_bad_state_dicts_are_one_line_errors(tmp_path, change, message):
    path = _state(tmp_path, **change)
    out = tmp_path / "o.safetensors"
    r = CliRunner().invoke(main, ["weights", "import-torch", str(path), "-o", str(out)])
    assert r.exit_code == 1, r.output
    assert r.output.count("\n") == 1 and message in r.output, r.output
    assert not out.exists()


def test_unknown_layout_says_what_it_expected(tmp_path):
    torch.save({"fc.weight": torch.zeros(2, 4), "fc.bias": torch.zeros(2)}, tmp_path / "fc.pth")
    with pytest.raises(CnnanimError) as e:
        import_torch(tmp_path / "fc.pth", tmp_path / "o.safetensors")
    msg = str(e.value)
    assert "unexpected fc.weight" in msg
    assert "block_1.0.weight" in msg and "classifier.1.bias" in msg
    assert 'torch.save(model.state_dict(), "model.pth")' in msg


@pytest.mark.parametrize("data", [b"", b"garbage" * 10, b"PK\x03\x04broken"])
def test_not_a_torch_file(tmp_path, data):
    (tmp_path / "x.pth").write_bytes(data)
    with pytest.raises(CnnanimError, match="not a file saved by torch.save") as e:
        import_torch(tmp_path / "x.pth", tmp_path / "o.safetensors")
    assert "\n" not in str(e.value)


def test_other_objects_and_missing_file(tmp_path):
    torch.save(torch.zeros(3), tmp_path / "t.pth")
    with pytest.raises(CnnanimError, match="holds a Tensor, not a state_dict"):
        import_torch(tmp_path / "t.pth", tmp_path / "o.safetensors")
    with pytest.raises(CnnanimError, match="not found"):
        import_torch(tmp_path / "nope.pth", tmp_path / "o.safetensors")


def test_unsupported_sizes_are_refused(tmp_path):
    _, pth = saved(tmp_path, 1, 2, 101)
    with pytest.raises(CnnanimError, match="101 classes; cnnanim explains TinyVGGs with 2-100"):
        import_torch(pth, tmp_path / "o.safetensors")
    _, pth = saved(tmp_path, 1, 2, 3, side=2, name="small.pth")
    with pytest.raises(CnnanimError, match="input size; cnnanim explains TinyVGGs with 16-128"):
        import_torch(pth, tmp_path / "o.safetensors")


def test_class_names(tmp_path):
    assert parse_class_names(None, None, 3) == ["0", "1", "2"]
    (tmp_path / "names.txt").write_text("T-shirt/top\nTrouser\n\nSneaker\n", encoding="utf-8")
    names = parse_class_names(None, tmp_path / "names.txt", 3)
    assert names == ["T-shirt/top", "Trouser", "Sneaker"]
    with pytest.raises(CnnanimError, match="2 class names; the model has 3 outputs"):
        parse_class_names("a,b", None, 3)
    with pytest.raises(CnnanimError, match="'a' twice"):
        parse_class_names("a,b,a", None, 3)
    with pytest.raises(CnnanimError, match="not both"):
        parse_class_names("a,b,c", tmp_path / "names.txt", 3)


def test_cli_import_then_predict_with_class_names_file(tmp_path):
    _, pth = saved(tmp_path, 1, 8, 3)
    (tmp_path / "classes.txt").write_text("Sneaker\nBag\nAnkle boot\n", encoding="utf-8")
    out = tmp_path / "mine.safetensors"
    r = CliRunner().invoke(main, ["weights", "import-torch", str(pth), "-o", str(out),
                                  "--classes-file", str(tmp_path / "classes.txt")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["predict", "-w", str(out), "--json"])
    assert r.exit_code == 0, r.output
    assert '"Ankle boot"' in r.output
