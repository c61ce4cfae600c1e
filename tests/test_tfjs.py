"""The TF.js importer: CNN Explainer's released model, a numpy reference, and bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cnnanim.cli import main
from cnnanim.errors import CnnanimError
from cnnanim.files import explainer_dir
from cnnanim.network.presets import EXPLAINER_CLASSES
from cnnanim.network.tfjs import convert_tfjs_weights, import_tfjs, read_tfjs_weights
from cnnanim.network.weights import load_model

MODEL_JSON = explainer_dir() / "model.json"
needs_explainer = pytest.mark.skipif(
    not (MODEL_JSON.is_file() and (explainer_dir() / "group1-shard1of1.bin").is_file()),
    reason=f"CNN Explainer's model not found in {explainer_dir()} (shared fixtures absent)")

#: The ten photos CNN Explainer's picker offers, and the class each shows.
PHOTOS = {"boat_1": "lifeboat", "bug_1": "ladybug", "pizza_1": "pizza", "pepper_1": "bell pepper",
          "bus_1": "school bus", "koala_1": "koala", "espresso_1": "espresso",
          "panda_1": "red panda", "orange_1": "orange", "car_1": "sport car"}

SPECS = [("conv_1_1/kernel", [3, 3, 3, 10]), ("conv_1_1/bias", [10]),
         ("conv_1_2/kernel", [3, 3, 10, 10]), ("conv_1_2/bias", [10]),
         ("conv_2_1/kernel", [3, 3, 10, 10]), ("conv_2_1/bias", [10]),
         ("conv_2_2/kernel", [3, 3, 10, 10]), ("conv_2_2/bias", [10]),
         ("output/kernel", [1690, 10]), ("output/bias", [10])]


def write_fake_tfjs(folder: Path, seed: int = 0, specs=SPECS, shard: str = "group1-shard1of1.bin",
                    truncate: int = 0) -> tuple[Path, dict[str, np.ndarray]]:
    """Write a synthetic TF.js layers-model with random weights; return model.json and the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {n: (rng.standard_normal(s) * 0.2).astype("<f4") for n, s in specs}
    data = b"".join(a.tobytes() for a in arrays.values())
    (folder / shard).write_bytes(data[:len(data) - truncate])
    doc = {"format": "layers-model", "modelTopology": {},
           "weightsManifest": [{"paths": [shard], "weights": [
               {"name": n, "shape": s, "dtype": "float32"} for n, s in specs]}]}
    path = folder / "model.json"
    path.write_text(json.dumps(doc))
    return path, arrays


def keras_forward(tf: dict[str, np.ndarray], image_hwc: np.ndarray) -> np.ndarray:
    """Keras semantics in numpy: NHWC valid convs, ReLU, 2x2 pools, NHWC flatten, dense logits."""
    from numpy.lib.stride_tricks import sliding_window_view

    x = image_hwc.astype(np.float64)
    for block in ("1", "2"):
        for conv in ("1", "2"):
            k = tf[f"conv_{block}_{conv}/kernel"].astype(np.float64)
            win = sliding_window_view(x, (3, 3), axis=(0, 1))  # (H', W', C, 3, 3)
            x = np.einsum("hwcij,ijco->hwo", win, k) + tf[f"conv_{block}_{conv}/bias"]
            x = np.maximum(x, 0)
        h, w, c = x.shape
        x = x[:h // 2 * 2, :w // 2 * 2].reshape(h // 2, 2, w // 2, 2, c).max(axis=(1, 3))
    return x.reshape(-1) @ tf["output/kernel"] + tf["output/bias"]


def test_conversion_matches_keras_semantics(tmp_path):
    import torch

    path, arrays = write_fake_tfjs(tmp_path)
    out = import_tfjs(path, tmp_path / "fake.safetensors")
    model, info = load_model(out)
    assert info.preset == "explainer" and info.class_names == list(EXPLAINER_CLASSES)
    image = np.random.default_rng(1).random((64, 64, 3), dtype=np.float32)
    with torch.no_grad():
        ours = model(torch.from_numpy(image.transpose(2, 0, 1).copy())[None])[0].numpy()
    np.testing.assert_allclose(ours, keras_forward(arrays, image), rtol=1e-4, atol=1e-4)


@needs_explainer
def test_released_model_classifies_its_ten_photos(tmp_path):
    from cnnanim.network.trace import trace_image

    out = import_tfjs(MODEL_JSON, tmp_path / "cnn-explainer.safetensors")
    for stem, label in PHOTOS.items():
        t = trace_image(explainer_dir() / "img" / f"{stem}.jpeg", out)
        assert t.predicted_class == label, (stem, t.top(3))
        if stem == "espresso_1":
            assert t.probabilities[EXPLAINER_CLASSES.index("espresso")] == pytest.approx(0.88, abs=0.01)
        if stem == "pepper_1":
            assert t.probabilities[EXPLAINER_CLASSES.index("bell pepper")] == pytest.approx(0.79, abs=0.01)


@needs_explainer
def test_released_model_matches_numpy_reference():
    import torch

    from cnnanim.network.images import load_image
    from cnnanim.network.model import TinyVGG

    tf = read_tfjs_weights(MODEL_JSON)
    model = TinyVGG.from_preset("explainer").eval()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in convert_tfjs_weights(tf).items()})
    image = load_image(explainer_dir() / "img" / "espresso_1.jpeg")
    with torch.no_grad():
        ours = model(torch.from_numpy(image)[None])[0].numpy()
    np.testing.assert_allclose(ours, keras_forward(tf, image.transpose(1, 2, 0)), rtol=1e-4, atol=1e-4)


def test_missing_model_json(tmp_path):
    with pytest.raises(CnnanimError, match="not found"):
        import_tfjs(tmp_path / "model.json", tmp_path / "out.safetensors")


def test_bad_json(tmp_path):
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(CnnanimError, match="not valid JSON"):
        import_tfjs(tmp_path / "model.json", tmp_path / "out.safetensors")


def test_json_without_manifest(tmp_path):
    (tmp_path / "model.json").write_text('{"format": "layers-model"}')
    with pytest.raises(CnnanimError, match="weightsManifest"):
        import_tfjs(tmp_path / "model.json", tmp_path / "out.safetensors")


def test_missing_shard(tmp_path):
    path, _ = write_fake_tfjs(tmp_path)
    (tmp_path / "group1-shard1of1.bin").unlink()
    with pytest.raises(CnnanimError, match="shard not found"):
        import_tfjs(path, tmp_path / "out.safetensors")


def test_truncated_shard(tmp_path):
    path, _ = write_fake_tfjs(tmp_path, truncate=4)
    with pytest.raises(CnnanimError, match="output/bias"):
        import_tfjs(path, tmp_path / "out.safetensors")


def test_wrong_shape_names_the_tensor(tmp_path):
    specs = [(n, [3, 3, 3, 8]) if n == "conv_1_1/kernel" else (n, s) for n, s in SPECS]
    path, _ = write_fake_tfjs(tmp_path, specs=specs)
    with pytest.raises(CnnanimError, match=r"conv_1_1/kernel has shape \(3, 3, 3, 8\)"):
        import_tfjs(path, tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()


def test_missing_tensor(tmp_path):
    path, _ = write_fake_tfjs(tmp_path, specs=[s for s in SPECS if s[0] != "output/bias"])
    with pytest.raises(CnnanimError, match="missing output/bias"):
        import_tfjs(path, tmp_path / "out.safetensors")


def test_cli_import_and_info(tmp_path):
    path, _ = write_fake_tfjs(tmp_path)
    out = tmp_path / "w.safetensors"
    runner = CliRunner()
    r = runner.invoke(main, ["weights", "import-tfjs", str(path), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert out.is_file()
    r = runner.invoke(main, ["weights", "info", str(out)])
    assert r.exit_code == 0, r.output
    assert "preset: explainer" in r.output and "import-tfjs" in r.output
    r = runner.invoke(main, ["weights", "info", "--json", str(out)])
    assert json.loads(r.output)["tensors"]["output.weight"] == [10, 1690]


@pytest.mark.parametrize("args", [
    ["weights", "import-tfjs", "{tmp}/nope/model.json", "-o", "{tmp}/o.safetensors"],
    ["weights", "import-tfjs", "{tmp}/bad.json", "-o", "{tmp}/o.safetensors"],
    ["weights", "info", "{tmp}/nope.safetensors"],
    ["weights", "info", "{tmp}/bad.json"],
])
def test_cli_bad_inputs_one_line(tmp_path, args):
    (tmp_path / "bad.json").write_text("[1, 2")
    r = CliRunner().invoke(main, [a.format(tmp=tmp_path) for a in args])
    assert r.exit_code != 0
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.output
    assert "Traceback" not in r.output
