"""The render commands: list, render, preview (CliRunner, scene ``input`` at -ql).

Renders run once per module and are shared by the tests that read them.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import video_info
from PIL import Image

from cnnanim.cli import main

WIDTH, HEIGHT = 854, 480


def run(*args, **kw):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, **kw)


def stdout_paths(result) -> list[Path]:
    return [Path(line) for line in result.stdout.splitlines() if line.strip()]


def leftovers(folder: Path) -> list[Path]:
    """Temporary render folders or files left anywhere under ``folder``."""
    return [p for p in folder.rglob("*") if p.name.startswith((".cnnanim-", ".tmp"))
            or p.name.endswith(".tmp")]


def srt_end(path: Path) -> float:
    """End time of the last cue of an .srt file, in seconds."""
    ends = re.findall(r"--> (\d+):(\d+):(\d+),(\d+)", path.read_text(encoding="utf-8"))
    h, m, s, ms = map(int, ends[-1])
    return h * 3600 + m * 60 + s + ms / 1000


def rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(np.int16)


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("render")


@pytest.fixture(scope="module")
def mp4_run(out):
    return run("render", "input", "-q", "l", "-o", out / "input.mp4")


@pytest.fixture(scope="module")
def png_run(out):
    return run("render", "input", "--format", "png", "-o", out / "still.png")


@pytest.fixture(scope="module")
def preview_run(out):
    return run("preview", "input", "-o", out / "preview.mp4")


# -- list and help ----------------------------------------------------------------------------
def test_list_prints_name_and_description_per_line():
    from cnnanim.scenes.registry import all_scenes

    r = run("list")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    scenes = all_scenes()
    assert [ln.split()[0] for ln in lines] == list(scenes)
    width = max(map(len, scenes))
    for line, (name, cls) in zip(lines, scenes.items()):
        assert line == f"{name:<{width}}  {cls.description}"
    assert any(ln.startswith("input ") for ln in lines)


@pytest.mark.parametrize("command", ["list", "render", "preview", "gif"])
def test_help_ends_with_example(command):
    r = run(command, "--help")
    assert r.exit_code == 0
    text = r.stdout.split("Options:")[0].rstrip().splitlines()
    start = max(i for i, ln in enumerate(text) if ln.strip() == "Example:")
    examples = [ln.strip() for ln in text[start + 1:]]
    assert examples and all(ln.startswith("cnnanim ") for ln in examples)


# -- render -----------------------------------------------------------------------------------
def test_render_mp4_writes_video_and_subtitles(mp4_run, out):
    assert mp4_run.exit_code == 0, mp4_run.output
    assert stdout_paths(mp4_run) == [out / "input.mp4", out / "input.srt"]
    srt = out / "input.srt"
    assert srt.read_text(encoding="utf-8").strip()
    duration, w, h, fps = video_info(out / "input.mp4")
    assert (w, h) == (WIDTH, HEIGHT)
    assert abs(fps - 15) < 0.01      # muxing a voice track can nudge the average rate
    assert abs(duration - srt_end(srt)) < 0.2
    assert not leftovers(out)


def test_render_png_is_a_real_still(png_run, out):
    assert png_run.exit_code == 0, png_run.output
    assert stdout_paths(png_run) == [out / "still.png"]
    px = rgb(out / "still.png")
    assert px.shape == (HEIGHT, WIDTH, 3)
    background = px[5, WIDTH // 2]
    differs = np.abs(px - background).sum(axis=2) > 30
    assert differs.mean() > 0.03           # a title and three channel maps, not a blank frame
    assert len(np.unique(px.reshape(-1, 3), axis=0)) > 100


def test_renders_are_deterministic(png_run, out, tmp_path):
    assert png_run.exit_code == 0
    r = run("render", "input", "-f", "png", "-o", tmp_path / "again.png")
    assert r.exit_code == 0, r.output
    assert np.array_equal(rgb(tmp_path / "again.png"), rgb(out / "still.png"))
    assert (tmp_path / "again.png").read_bytes() == (out / "still.png").read_bytes()


def test_format_follows_output_suffix(tmp_path):
    r = run("render", "input", "-o", tmp_path / "x.png")
    assert r.exit_code == 0, r.output
    assert stdout_paths(r) == [tmp_path / "x.png"]


def test_default_output_is_media_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CNNANIM_MEDIA", raising=False)
    r = run("render", "input", "-f", "png")
    assert r.exit_code == 0, r.output
    assert stdout_paths(r) == [Path.cwd() / "media" / "input-en-l.png"]
    assert (tmp_path / "media" / "input-en-l.png").is_file()
    assert not leftovers(tmp_path)


# -- preview ----------------------------------------------------------------------------------
def test_preview_writes_video_and_final_still(preview_run, png_run, mp4_run, out):
    assert preview_run.exit_code == 0, preview_run.output
    paths = stdout_paths(preview_run)
    assert paths == [out / "preview.mp4", out / "preview.srt", out / "preview.png"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    dur, w, h, fps = video_info(out / "preview.mp4")
    assert (w, h) == (WIDTH, HEIGHT)
    assert fps == 10  # a quick look: 10 frames a second
    full, _, _, _ = video_info(out / "input.mp4")
    assert abs(dur - full) < 0.2  # the whole scene, not a cut
    # the still comes from the same render and shows the same final state as --format png
    assert np.abs(rgb(out / "preview.png") - rgb(out / "still.png")).mean() < 0.5
    assert not leftovers(out)


def test_bad_fps_is_one_line(out):
    r = CliRunner().invoke(main, ["preview", "input", "--fps", "0", "-o", str(out / "x.mp4")])
    assert r.exit_code == 2 and "fps" in r.output.lower() and "Traceback" not in r.output
    from cnnanim.errors import CnnanimError
    from cnnanim.output.render import render_scene

    with pytest.raises(CnnanimError, match="fps must be between"):
        render_scene("input", fps=500, output=out / "y.mp4")
    assert not (out / "y.mp4").exists()


def test_preview_never_opens_a_viewer_without_a_terminal(monkeypatch, tmp_path):
    import subprocess

    from cnnanim.cli.render import open_viewer

    def boom(*a, **k):  # pragma: no cover - must not be called
        raise AssertionError("viewer started")

    monkeypatch.setattr(subprocess, "Popen", boom)
    assert open_viewer(tmp_path / "x.mp4") is False  # pytest's stdout is not a TTY


# -- several scenes ---------------------------------------------------------------------------
def test_two_scenes_two_outputs_and_progress(tmp_path, tiny):
    r = run("render", "input", "tiny", "-f", "png", "-o", tmp_path / "both")
    assert r.exit_code == 0, r.output
    assert stdout_paths(r) == [tmp_path / "both" / "input-en-l.png",
                               tmp_path / "both" / "tiny-en-l.png"]
    assert all(p.is_file() for p in stdout_paths(r))
    assert "1/2" in r.stderr and "2/2" in r.stderr
    assert not rgb(tmp_path / "both" / "input-en-l.png").tolist() == \
        rgb(tmp_path / "both" / "tiny-en-l.png").tolist()


def test_scene_names_all_and_repeats():
    from cnnanim.output.render import scene_names
    from cnnanim.scenes.registry import all_scenes

    assert scene_names(["input", "input"]) == ["input"]
    assert scene_names(["all"]) == list(all_scenes())
    assert scene_names(["input", "all"])[0] == "input"


# -- errors -----------------------------------------------------------------------------------
BAD = {
    "scene": (["render", "nope"], "input"),
    "layer": (["render", "input", "--layer", "conv_9"], "conv_1_1"),
    "neuron": (["render", "input", "--neuron", "99"], "between 0 and"),
    "lang": (["render", "input", "--lang", "fr"], "'en', 'zh'"),
    "quality": (["render", "input", "-q", "z"], "'l', 'm', 'h'"),
    "format": (["render", "input", "-f", "avi"], "'mp4', 'gif', 'png'"),
    "image": (["render", "input", "--image", "{bad}"], "image"),
    "missing image": (["render", "input", "--image", "{dir}/missing.jpg"], "not found"),
    "weights": (["render", "input", "--weights", "{bad}"], "weights"),
    "proc": (["render", "input", "-o", "/proc/cnnanim-test.mp4"], "/proc"),
    "not a folder": (["render", "input", "-o", "/dev/null/x.mp4"], "not a folder"),
    "suffix": (["render", "input", "-f", "mp4", "-o", "x.gif"], "--format mp4"),
    "gif width": (["gif", "input", "--width", "5"], "16<=x<=3840"),
    "gif scene": (["gif", "nope"], "input"),
    "preview layer": (["preview", "input", "--layer", "relu_9"], "relu_1_1"),
    "preview gif": (["preview", "input", "-o", "x.gif"], ".mp4"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_error_line(case, tmp_path, monkeypatch):
    args, hint = BAD[case]
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    bad = inputs / "bad.jpg"
    bad.write_bytes(b"not an image, not weights")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("CNNANIM_MEDIA", raising=False)
    args = [a.format(bad=bad, dir=inputs) for a in args]
    r = CliRunner().invoke(main, args)
    assert r.exit_code != 0
    assert r.exception is None or isinstance(r.exception, SystemExit)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.stderr
    assert hint in lines[0]
    assert "Traceback" not in r.output
    assert r.stdout == ""
    assert list(work.iterdir()) == []          # no media/ folder, no partial file
    assert not leftovers(tmp_path)
    assert not Path("/proc/cnnanim-test.mp4").exists()


@pytest.mark.skipif(not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() == 0,
                    reason="root can write to read-only folders")
def test_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        r = CliRunner().invoke(main, ["render", "input", "-o", str(ro / "x.mp4")])
        assert r.exit_code != 0
        assert r.stderr.strip().startswith("Error: ") and len(r.stderr.strip().splitlines()) == 1
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_failed_render_leaves_nothing(tmp_path, monkeypatch):
    """A scene that crashes mid-render: no output, no temp folder, no folder created for it."""
    import cnnanim.scenes.registry as registry
    from cnnanim.scenes.base import CnnScene

    class Broken(CnnScene):
        cli_name = "broken"
        description = "fails"
        valid_layer_kinds = ("conv",)

        def construct(self):
            raise RuntimeError("boom")

    real = registry.all_scenes()
    monkeypatch.setattr(registry, "all_scenes", lambda: {**real, "broken": Broken})
    r = CliRunner().invoke(main, ["render", "broken", "-o", str(tmp_path / "new" / "x.mp4")])
    assert r.exit_code != 0
    assert r.stderr.strip() == "Error: RuntimeError: boom"
    assert list(tmp_path.iterdir()) == []


def test_output_paths_and_formats(tmp_path):
    from cnnanim.errors import CnnanimError
    from cnnanim.output.render import pick_format, resolve_output

    assert resolve_output("input", "mp4", "l", "en", tmp_path / "v") == tmp_path / "v.mp4"
    assert resolve_output("input", "gif", "l", "zh", tmp_path) == tmp_path / "input-zh-l.gif"
    assert resolve_output("input", "png", "h", "en", f"{tmp_path}/new/") == \
        tmp_path / "new" / "input-en-h.png"
    assert resolve_output("input", "mp4", "l", "en", tmp_path / "a.b", folder=True) == \
        tmp_path / "a.b" / "input-en-l.mp4"
    assert pick_format(None, "x.gif") == "gif"
    assert pick_format(None, "x") == "mp4"
    assert pick_format("png", None) == "png"
    with pytest.raises(CnnanimError, match="does not match"):
        pick_format("mp4", "x.png")


def test_scenes_also_render_under_the_manim_command(tmp_path):
    import subprocess
    import sys

    from cnnanim.files import ROOT

    proc = subprocess.run([sys.executable, "-m", "manim", "-ql", "--media_dir", str(tmp_path),
                           "--progress_bar", "none", str(ROOT / "cnnanim" / "scenes" / "input_layer.py"),
                           "InputLayer"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    videos = [p for p in tmp_path.rglob("InputLayer.mp4") if "partial_movie_files" not in p.parts]
    assert len(videos) == 1
    duration, w, h, fps = video_info(videos[0])
    assert (w, h, fps) == (WIDTH, HEIGHT, 15) and duration > 10
