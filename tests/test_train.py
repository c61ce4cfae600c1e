"""Training: tiny real runs, determinism, augmentation, evaluation and the ``train`` command."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from cnnanim.cli import main
from cnnanim.errors import CnnanimError
from cnnanim.files import dataset_path
from cnnanim.network.train import (
    DEFAULT_CONFIGS,
    augment,
    evaluate,
    load_dataset,
    train,
)
from cnnanim.network.weights import load_model, read_weights

DATASET = {"explainer": "tinyimagenet10_32", "seed": "mnist"}


def needs(preset: str):
    path = dataset_path(DATASET[preset])
    return pytest.mark.skipif(not path.is_file(), reason=f"dataset {path} absent (no shared/)")


@pytest.fixture(autouse=True)
def _keep_torch_state():
    """Training changes torch's global seed and thread count; restore them afterwards."""
    rng, threads = torch.random.get_rng_state(), torch.get_num_threads()
    yield
    torch.random.set_rng_state(rng)
    torch.set_num_threads(threads)


@needs("explainer")
def test_tiny_explainer_run_writes_a_loadable_file(tmp_path):
    lines: list[str] = []
    out = tmp_path / "tiny.safetensors"
    model, extra = train("explainer", epochs=1, seed=1, batch_size=32, limit=64, out=out,
                         log=lines.append)
    assert any(line.startswith("epoch   1/1") and "test acc" in line for line in lines)
    loaded, info = load_model(out)
    assert info.preset == "explainer" and info.class_names[6] == "espresso"
    assert info.source == ("cnnanim train --preset explainer --epochs 1 --seed 1 --batch-size 32 "
                           f"--lr 0.003 --limit 64 -o {out}")
    assert info.extra["train_images"] == 64 and info.extra["limit"] == 64
    assert len(info.extra["dataset_sha256"]) == 64
    assert 0.0 <= info.extra["test_accuracy"] <= 1.0
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(loaded(x), model(x), atol=1e-6)


@needs("seed")
def test_same_seed_same_weights(tmp_path):
    a, _ = train("seed", epochs=1, seed=5, batch_size=32, limit=128, out=tmp_path / "a.safetensors")
    b, _ = train("seed", epochs=1, seed=5, batch_size=32, limit=128, out=tmp_path / "b.safetensors")
    c, _ = train("seed", epochs=1, seed=6, batch_size=32, limit=128)
    ta, _ = read_weights(tmp_path / "a.safetensors")
    tb, _ = read_weights(tmp_path / "b.safetensors")
    for k in ta:
        np.testing.assert_array_equal(ta[k], tb[k])
    assert not torch.equal(a.output.weight, c.output.weight)
    assert not torch.are_deterministic_algorithms_enabled(), "train() leaked a global setting"
    assert a.conv_1_1.weight.is_contiguous()


@needs("explainer")
def test_dataset_is_preprocessed_like_the_photos():
    from PIL import Image

    from cnnanim.network.images import load_image

    d = load_dataset("explainer")
    assert d.x_train.shape == (5000, 3, 64, 64) and d.x_test.shape == (500, 3, 64, 64)
    assert d.x_train.dtype == np.uint8
    assert list(np.bincount(d.y_test)) == [50] * 10
    raw = np.load(dataset_path("tinyimagenet10_32"))["x_test"][7]
    expected = load_image(Image.fromarray(raw), "explainer")
    np.testing.assert_allclose(d.x_test[7] / np.float32(255), expected, atol=1e-6)


@needs("seed")
def test_evaluate_and_limit():
    torch.manual_seed(0)
    from cnnanim.network.model import TinyVGG

    acc = evaluate(TinyVGG.from_preset("seed"), "seed", "test", limit=200)
    assert 0.0 <= acc <= 1.0
    with pytest.raises(CnnanimError, match="unknown split"):
        evaluate(TinyVGG.from_preset("seed"), "seed", "val")


def test_missing_dataset_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNANIM_SHARED", str(tmp_path))
    with pytest.raises(CnnanimError, match="dataset 'mnist' not found"):
        train("seed", epochs=1, limit=10)


def test_bad_preset():
    with pytest.raises(CnnanimError, match="unknown preset"):
        train("resnet", epochs=1, limit=10)


@pytest.mark.parametrize("preset", ["explainer", "seed"])
def test_augment_keeps_shape_and_range(preset):
    cfg = DEFAULT_CONFIGS[preset]
    c, s = (3, 64) if preset == "explainer" else (1, 28)
    x = torch.rand(8, c, s, s)
    y = augment(x.clone(), cfg, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    assert not torch.equal(x, y)
    y2 = augment(x.clone(), cfg, torch.Generator().manual_seed(0))
    assert torch.equal(y, y2)


@needs("seed")
def test_cli_train_tiny(tmp_path):
    out = tmp_path / "seed.safetensors"
    r = CliRunner().invoke(main, ["train", "--preset", "seed", "--epochs", "1", "--limit", "64",
                                  "--batch-size", "32", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "epoch   1/1" in r.output and "held-out test accuracy" in r.output
    _, info = load_model(out)
    assert info.preset == "seed" and "--limit 64" in info.source


def test_cli_train_default_output_is_weights_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNANIM_SHARED", str(tmp_path / "none"))
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["train", "--preset", "seed", "--limit", "8"])
    assert r.exit_code == 1
    assert r.output.strip().splitlines() == [r.output.strip()]
    assert r.output.startswith("Error: dataset 'mnist' not found") and "Traceback" not in r.output
    assert not (tmp_path / "weights").exists()


@pytest.mark.parametrize("args", [["train", "--preset", "nope"], ["train", "--epochs", "0"],
                                  ["train", "--lr", "-1"]])
def test_cli_train_bad_options(args):
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2 and "Traceback" not in r.output


# -- your own data: an image folder or an .npz --------------------------------------------------
def image_folder(root, classes=("blue", "red"), per_class=10, size=(20, 24), val=0):
    """Write tiny PNGs: DIR/CLASS/i.png (and DIR/val/CLASS/i.png), a colour per class."""
    from PIL import Image

    colours = {"red": (220, 40, 30), "blue": (30, 40, 220), "green": (30, 200, 40)}
    rng = np.random.default_rng(0)
    for folder, n in ((root, per_class), (root / "val", val)):
        for c in classes:
            if n:
                (folder / c).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                noise = rng.integers(-40, 40, (*size[::-1], 3))
                a = np.clip(np.array(colours[c]) + noise, 0, 255).astype(np.uint8)
                Image.fromarray(a).save(folder / c / f"{i:02d}.png")
    return root


def test_one_epoch_on_an_image_folder_writes_weights_that_load_and_predict(tmp_path):
    from cnnanim.network.trace import trace_image

    data = image_folder(tmp_path / "photos")
    out = tmp_path / "mine.safetensors"
    steps: list[tuple] = []
    model, extra = train("seed", epochs=1, batch_size=8, out=out, data=data,
                         on_step=lambda *a: steps.append(a))
    assert [s[:4] for s in steps] == [(1, 1, 1, 3), (1, 1, 2, 3), (1, 1, 3, 3)]
    assert all(0 <= s[5] <= 1 and s[4] > 0 for s in steps)
    loaded, info = load_model(out)
    assert info.class_names == ["blue", "red"] and info.preset == "seed"  # its architecture
    assert info.architecture["image_size"] == 28 and info.architecture["in_channels"] == 1
    assert info.source == ("cnnanim train --data " + str(data) + " --preset seed --epochs 1 "
                           f"--seed 0 --batch-size 8 --lr 0.003 -o {out}")
    assert extra["train_images"] == 20 and extra["test_accuracy"] is None
    t = trace_image(data / "red" / "03.png", out)
    assert t.predicted_class in ("blue", "red")
    assert t.probabilities.sum() == pytest.approx(1, abs=1e-6)
    x = torch.from_numpy(t.image)[None]
    with torch.no_grad():
        np.testing.assert_allclose(t.logits, model(x)[0].numpy(), atol=1e-6)


def test_image_folder_with_val_and_overrides_is_deterministic(tmp_path):
    data = image_folder(tmp_path / "photos", classes=("blue", "green", "red"), per_class=4, val=2)
    runs = [train("explainer", epochs=1, batch_size=4, seed=3, data=data, hidden_units=3,
                  image_size=32, out=tmp_path / f"{i}.safetensors")[1] for i in range(2)]
    a, info = read_weights(tmp_path / "0.safetensors")
    b, _ = read_weights(tmp_path / "1.safetensors")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert info.class_names == ["blue", "green", "red"]
    assert info.architecture == {"in_channels": 3, "image_size": 32, "hidden_units": 3,
                                 "padding": 0, "kernel_size": 3, "pool_size": 2}
    assert runs[0]["test_images"] == 6 and runs[0]["test_split"] == "val/ folder (6 images)"
    assert "--hidden-units 3 --image-size 32" in info.source


def test_npz_and_val_split(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (30, 28, 28), dtype=np.uint8)
    y = np.arange(30) % 3
    np.savez(tmp_path / "digits.npz", x_train=x, y_train=y, class_names=np.array(["a", "b", "c"]))
    _, extra = train("seed", epochs=1, batch_size=16, data=tmp_path / "digits.npz", val_split=0.2,
                     out=tmp_path / "n.safetensors")
    assert (extra["train_images"], extra["test_images"]) == (24, 6)
    assert 0 <= extra["test_accuracy"] <= 1
    _, info = read_weights(tmp_path / "n.safetensors")
    assert info.class_names == ["a", "b", "c"] and "--val-split 0.2" in info.source


@pytest.mark.parametrize("make, message", [
    (lambda p: p, "training data not found"),
    (lambda p: (p.mkdir(), (p / "only").mkdir(), p)[-1], "holds 1 class folder(s)"),
    (lambda p: (p.mkdir(), (p / "a").mkdir(), (p / "b").mkdir(), p)[-1], "holds no images"),
    (lambda p: (p.write_bytes(b"nope"), p)[-1], "cannot read"),
])
def test_bad_data_is_a_one_line_error(tmp_path, make, message):
    data = make(tmp_path / "data")
    out = tmp_path / "o.safetensors"
    r = CliRunner().invoke(main, ["train", "--data", str(data), "--epochs", "1", "-o", str(out)])
    assert r.exit_code == 1 and message in r.output, r.output
    assert r.output.strip().count("\n") == 0 and not out.exists()


def test_cli_train_on_a_folder_shows_a_bar_and_names_the_output(tmp_path, monkeypatch):
    data = image_folder(tmp_path / "shoes", per_class=4)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["train", "--data", str(data), "--preset", "seed",
                                  "--epochs", "2", "--batch-size", "4", "--val-split", "0.25"])
    assert r.exit_code == 0, r.output
    assert "] 2/2 epoch 1/2  loss " in r.output and "acc " in r.output
    assert "held-out test accuracy" in r.output
    _, info = load_model(tmp_path / "shoes.safetensors")
    assert info.class_names == ["blue", "red"]
