"""`cnnanim predict` through click's CliRunner, with temporary weights files."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from conftest import build_model, png_with_size
from PIL import Image

from cnnanim.cli import main
from cnnanim.network.images import load_image
from cnnanim.network.presets import get_preset
from cnnanim.network.weights import WeightsInfo, save_weights, state_to_numpy

LINE = re.compile(r"^\s*(\d{1,3}\.\d\d)%  (\S.*)$")


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)))


def expected_probabilities(preset: str, image=None, seed: int = 0) -> np.ndarray:
    model = build_model(preset, seed)
    with torch.no_grad():
        logits = model(torch.from_numpy(load_image(image, preset))[None])[0].double()
    return torch.softmax(logits, 0).numpy()


def parse_lines(output: str) -> list[tuple[float, str]]:
    rows = []
    for line in output.splitlines():
        m = LINE.match(line)
        assert m, f"unexpected line {line!r}"
        rows.append((float(m.group(1)), m.group(2)))
    return rows


def assert_one_line_error(result, *fragments):
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    out = result.output
    assert "Traceback" not in out and "Traceback" not in result.stderr
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error"), out
    assert result.stdout.strip() == "" or result.stdout.strip() == lines[0]
    for f in fragments:
        assert f in lines[0], (f, lines[0])


# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("preset", ["explainer", "seed"])
def test_default_prints_top_three(weights_file, preset):
    result = run("predict", "--weights", weights_file(preset))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    rows = parse_lines(result.stdout)
    assert len(rows) == 3
    probs = expected_probabilities(preset)
    classes = get_preset(preset).classes
    order = np.argsort(-probs, kind="stable")[:3]
    assert [name for _, name in rows] == [classes[i] for i in order]
    for (pct, _), i in zip(rows, order):
        assert pct == pytest.approx(100 * probs[i], abs=0.006)
    assert [p for p, _ in rows] == sorted((p for p, _ in rows), reverse=True)


def test_image_argument(weights_file, tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    path = tmp_path / "photo.png"
    Image.fromarray(a).save(path)
    result = run("predict", path, "--weights", weights_file("explainer"))
    assert result.exit_code == 0, result.output
    rows = parse_lines(result.stdout)
    probs = expected_probabilities("explainer", path)
    assert rows[0][1] == get_preset("explainer").classes[int(np.argmax(probs))]
    assert rows[0][0] == pytest.approx(100 * probs.max(), abs=0.006)


@pytest.mark.parametrize("top, lines", [(5, 5), (1, 1), (10, 10), (25, 10)])
def test_top(weights_file, top, lines):
    w = weights_file("explainer")
    for opt in ("--top", "-k"):
        result = run("predict", "--weights", w, opt, top)
        assert result.exit_code == 0, result.output
        rows = parse_lines(result.stdout)
        assert len(rows) == lines
        assert len({n for _, n in rows}) == lines
    if lines == 10:
        assert sum(p for p, _ in rows) == pytest.approx(100, abs=0.06)


@pytest.mark.parametrize("preset", ["explainer", "seed"])
def test_json(weights_file, preset):
    result = run("predict", "--json", "-w", weights_file(preset))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["class_names"] == list(get_preset(preset).classes)
    logits, probs = np.array(data["logits"]), np.array(data["probabilities"])
    assert logits.shape == probs.shape == (10,)
    assert probs.sum() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(probs, expected_probabilities(preset), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(probs, torch.softmax(torch.tensor(logits), 0).numpy(), rtol=1e-5, atol=1e-7)
    assert data["predicted"] == data["class_names"][int(np.argmax(probs))]


def test_custom_class_names_from_weights(tmp_path):
    names = [f"thing {i}" for i in range(10)]
    w = save_weights(tmp_path / "w.safetensors", state_to_numpy(build_model("explainer").state_dict()),
                     WeightsInfo(preset="explainer", class_names=names))
    result = run("predict", "--json", "--weights", w)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["class_names"] == names
    rows = parse_lines(run("predict", "--weights", w).stdout)
    assert all(n in names for _, n in rows)


# --------------------------------------------------------------------------------------------
# bad input: one line starting with "Error", non-zero exit, never a traceback
def test_missing_image(weights_file, tmp_path):
    assert_one_line_error(run("predict", tmp_path / "nope.jpg", "--weights", weights_file()),
                          "not found", "nope.jpg")


def test_image_is_a_folder(weights_file, tmp_path):
    assert_one_line_error(run("predict", tmp_path, "--weights", weights_file()), "folder")


def test_non_image(weights_file, tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello\n")
    assert_one_line_error(run("predict", p, "--weights", weights_file()), "notes.txt")


def test_truncated_image(weights_file, tmp_path):
    p = tmp_path / "cut.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(p)
    p.write_bytes(p.read_bytes()[:2000])
    assert_one_line_error(run("predict", p, "--weights", weights_file()), "cut.png")


def test_absurd_image(weights_file, tmp_path):
    p = png_with_size(tmp_path / "bomb.png", 100_000, 100_000)
    assert_one_line_error(run("predict", p, "--weights", weights_file()), "too large")


def test_missing_weights(tmp_path):
    assert_one_line_error(run("predict", "--weights", tmp_path / "none.safetensors"),
                          "not found", "none.safetensors")


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"\x00" * 64, b"\xff" * 64,
                                     b"{\"not\": \"safetensors\"}",
                                     (20).to_bytes(8, "little") + b"{\"a\": 1}xxxxxxxxxxxx"])
def test_garbage_weights(tmp_path, content):
    p = tmp_path / "bad.safetensors"
    p.write_bytes(content)
    assert_one_line_error(run("predict", "--weights", p), "bad.safetensors")


def test_weights_without_metadata(tmp_path):
    from safetensors.numpy import save_file

    p = tmp_path / "plain.safetensors"
    save_file(state_to_numpy(build_model("explainer").state_dict()), str(p))
    assert_one_line_error(run("predict", "--weights", p), "metadata")


def test_weights_of_the_wrong_shape(tmp_path):
    state = state_to_numpy(build_model("seed").state_dict())
    p = save_weights(tmp_path / "mislabelled.safetensors", state,
                     WeightsInfo(preset="explainer", class_names=list(get_preset("explainer").classes)))
    assert_one_line_error(run("predict", "--weights", p), "conv_1_1.weight")


def test_weights_with_unknown_preset(tmp_path):
    p = save_weights(tmp_path / "odd.safetensors", state_to_numpy(build_model("seed").state_dict()),
                     WeightsInfo(preset="mnist", class_names=list("0123456789")))
    assert_one_line_error(run("predict", "--weights", p), "mnist")


# click usage errors (bad option values, unknown options) must also be one line.
@pytest.mark.parametrize("args", [
    ["--top", "0"],
    ["--top", "-2"],
    ["--top", "three"],
    ["--bogus"],
    ["--top"],
])
def test_bad_option_values(weights_file, args):
    assert_one_line_error(run("predict", "--weights", weights_file(), *args))
