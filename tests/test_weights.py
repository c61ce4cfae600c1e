"""Weights files: the shipped weights' held-out accuracy, safe loading, and clear errors."""

from __future__ import annotations

import hashlib
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnanim.errors import CnnanimError
from cnnanim.files import dataset_path
from cnnanim.network.model import TinyVGG
from cnnanim.network.presets import get_preset
from cnnanim.network.weights import (
    DEFAULT_WEIGHTS,
    WEIGHTS_DIR,
    WeightsInfo,
    load_model,
    read_weights,
    save_weights,
    state_to_numpy,
)

MIN_ACCURACY = {"explainer": 0.60, "seed": 0.98}
DATASET = {"explainer": "tinyimagenet10_32", "seed": "mnist"}


def _model(preset: str, seed: int = 0) -> TinyVGG:
    torch.manual_seed(seed)
    return TinyVGG.from_preset(preset).eval()


@pytest.mark.parametrize("preset", ["explainer", "seed"])
def test_shipped_weights_exist_and_describe_themselves(preset):
    path = DEFAULT_WEIGHTS[preset]
    assert path.is_file(), f"{path} is not shipped"
    _, info = read_weights(path)
    assert info.preset == preset
    assert info.source.startswith(f"cnnanim train --preset {preset} ")
    for key in ("seed", "epochs", "test_accuracy", "wall_time_s", "dataset_sha256"):
        assert key in info.extra, key
    assert info.extra["limit"] is None
    assert info.extra["test_accuracy"] >= MIN_ACCURACY[preset]


@pytest.mark.parametrize("preset", ["explainer", "seed"])
def test_shipped_weights_held_out_accuracy(preset):
    if not dataset_path(DATASET[preset]).is_file():
        pytest.skip(f"dataset {dataset_path(DATASET[preset])} absent (shared/ not available)")
    from cnnanim.network.train import evaluate, load_dataset

    model, info = load_model(DEFAULT_WEIGHTS[preset])
    acc = evaluate(model, preset, "test")
    assert acc >= MIN_ACCURACY[preset], f"{preset}: held-out accuracy {acc:.2%}"
    # the metadata tells the truth about the data and the accuracy
    assert info.extra["dataset_sha256"] == load_dataset(preset).sha256
    assert acc == pytest.approx(info.extra["test_accuracy"], abs=1e-3)


def test_readme_records_every_shipped_file():
    text = (WEIGHTS_DIR / "README.md").read_text(encoding="utf-8")
    for preset, path in DEFAULT_WEIGHTS.items():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest in text, f"weights/README.md lacks the sha256 of {path.name}"
        _, info = read_weights(path)
        assert info.source in text, f"weights/README.md lacks the command of {path.name}"


def test_shipped_explainer_calls_the_coffee_photo_espresso():
    from cnnanim.network.trace import trace_image

    assert trace_image(None, DEFAULT_WEIGHTS["explainer"]).predicted_class == "espresso"


def test_round_trip(tmp_path):
    model = _model("seed", 3)
    info = WeightsInfo(preset="seed", class_names=[str(i) for i in range(10)], source="test",
                       extra={"seed": 3, "note": "é ünïcode"})
    path = save_weights(tmp_path / "w.safetensors", state_to_numpy(model.state_dict()), info)
    loaded, info2 = load_model(path)
    assert info2 == info
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    assert not loaded.training
    assert not list(tmp_path.glob(".*.tmp")), "temporary file left behind"


class _Payload:
    """Unpickling this would create ``marker`` (it calls ``open(marker, "w")``)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickle_renamed_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(CnnanimError, match="not a cnnanim weights file"):
        load_model(path)
    assert not marker.exists(), "loading executed code from the file"


def test_torch_save_file_is_refused(tmp_path):
    path = tmp_path / "state.safetensors"
    torch.save(_model("explainer").state_dict(), path)
    with pytest.raises(CnnanimError) as e:
        load_model(path)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("data", [b"", b"\x00" * 4, b"garbage" * 20,
                                  (2 ** 40).to_bytes(8, "little") + b"{}"])
def test_garbage_is_a_one_line_error(tmp_path, data):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(CnnanimError) as e:
        load_model(path)
    assert "\n" not in str(e.value)


def test_shape_mismatch_names_the_tensor(tmp_path):
    state = state_to_numpy(_model("explainer").state_dict())
    state["conv_1_2.weight"] = np.zeros((10, 10, 5, 5), np.float32)
    path = save_weights(tmp_path / "w.safetensors", state,
                        WeightsInfo(preset="explainer", class_names=["a"] * 10))
    with pytest.raises(CnnanimError, match=re.escape("conv_1_2.weight has shape (10, 10, 5, 5)")):
        load_model(path)


def test_wrong_preset_for_the_tensors(tmp_path):
    state = state_to_numpy(_model("seed").state_dict())
    path = save_weights(tmp_path / "w.safetensors", state,
                        WeightsInfo(preset="explainer", class_names=["a"] * 10))
    with pytest.raises(CnnanimError, match="output.weight"):
        load_model(path)


def test_missing_tensor_is_named(tmp_path):
    state = state_to_numpy(_model("seed").state_dict())
    del state["output.bias"]
    path = save_weights(tmp_path / "w.safetensors", state,
                        WeightsInfo(preset="seed", class_names=list("0123456789")))
    with pytest.raises(CnnanimError, match="missing output.bias"):
        load_model(path)


def test_file_without_metadata(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "plain.safetensors"
    save_file(state_to_numpy(_model("seed").state_dict()), str(path))
    with pytest.raises(CnnanimError, match="no cnnanim metadata"):
        load_model(path)


def test_missing_file(tmp_path):
    with pytest.raises(CnnanimError, match="not found"):
        load_model(tmp_path / "nope.safetensors")


# -- named weights and metadata that describe the architecture ------------------------------------
def test_named_weights_resolve_everywhere(tmp_path, monkeypatch):
    from cnnanim.network.weights import NAMED_WEIGHTS, resolve_weights

    assert set(NAMED_WEIGHTS) == {"explainer", "seed", "cnn-explainer"}
    for name, path in NAMED_WEIGHTS.items():
        assert resolve_weights(name) == path and path.is_file()
    assert resolve_weights(None) == DEFAULT_WEIGHTS["explainer"]
    assert resolve_weights(None, "seed") == DEFAULT_WEIGHTS["seed"]
    with pytest.raises(CnnanimError, match=r"not found: seeed \(named weights: explainer, seed, "
                                           r"cnn-explainer\)"):
        resolve_weights("seeed")
    # a file called like a name is reached as ./NAME
    monkeypatch.chdir(tmp_path)
    save_weights(tmp_path / "seed", state_to_numpy(_model("explainer").state_dict()),
                 WeightsInfo(preset="explainer", class_names=list("abcdefghij")))
    assert load_model("./seed")[1].class_names[0] == "a"
    assert load_model("seed")[1].class_names[0] == "0"


def test_cnn_explainer_weights_are_shipped_with_their_licence():
    from cnnanim.network.trace import trace_image
    from cnnanim.network.weights import NAMED_WEIGHTS

    path = NAMED_WEIGHTS["cnn-explainer"]
    readme = (WEIGHTS_DIR / "README.md").read_text(encoding="utf-8")
    assert hashlib.sha256(path.read_bytes()).hexdigest() in readme
    _, info = read_weights(path)
    assert info.source in readme and info.source.startswith("cnnanim weights import-tfjs ")
    assert "MIT" in info.extra["licence"]
    licence = (WEIGHTS_DIR / "LICENSE-cnn-explainer").read_text(encoding="utf-8")
    assert "Copyright (c) 2020 Polo Club of Data Science" in licence and "MIT License" in licence
    t = trace_image(None, "cnn-explainer")
    assert t.predicted_class == "espresso" and t.input_shape == (3, 64, 64)


def test_old_files_without_architecture_use_their_preset(tmp_path):
    """The shipped explainer/seed files predate ``architecture``: their preset describes them."""
    for preset in ("explainer", "seed"):
        _, info = read_weights(DEFAULT_WEIGHTS[preset])
        assert info.architecture == {}
        assert info.to_preset().architecture() == get_preset(preset).architecture()


def test_architecture_in_the_metadata_builds_the_model(tmp_path):
    from cnnanim.network.presets import Preset

    arch = Preset("custom", in_channels=3, image_size=48, hidden_units=5, padding=1,
                  classes=tuple("abcd"), kernel_size=5)
    torch.manual_seed(0)
    model = TinyVGG.from_preset(arch).eval()
    path = save_weights(tmp_path / "w.safetensors", state_to_numpy(model.state_dict()),
                        WeightsInfo(preset="custom", class_names=list("abcd"),
                                    architecture=arch.architecture()))
    loaded, info = load_model(path)
    assert info.to_preset() == arch
    x = torch.rand(1, 3, 48, 48)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    # a malformed architecture or an unknown preset without one: one line
    for bad in ({"in_channels": 3}, {**arch.architecture(), "image_size": "48"}):
        path = save_weights(tmp_path / "b.safetensors", state_to_numpy(model.state_dict()),
                            WeightsInfo(preset="custom", class_names=list("abcd"),
                                        architecture=bad))
        with pytest.raises(CnnanimError, match="malformed architecture"):
            load_model(path)
    path = save_weights(tmp_path / "c.safetensors", state_to_numpy(model.state_dict()),
                        WeightsInfo(preset="custom", class_names=list("abcd")))
    with pytest.raises(CnnanimError, match="names no architecture and an unknown preset 'custom'"):
        load_model(path)
