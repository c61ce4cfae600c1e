"""Render-speed features: raster captions, the 1:1 image copy, --fast and parallel renders.

Functional checks only (same pixels, right files, options reach the encoder); speed itself is
measured by bench/render_bench.py, never asserted here.
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from manim import Camera, Circle, ImageMobject, tempconfig

from cnnanim import files
from cnnanim.cli import main
from cnnanim.draw.camera import BoxCamera, rasterize_band
from cnnanim.draw.layout import CAPTION_BAND
from cnnanim.draw.text import Caption


def _frame(camera_cls, *mobjects, quality="low_quality"):
    with tempconfig({"quality": quality, "background_color": "#ffffff"}):
        cam = camera_cls()
        cam.capture_mobjects(list(mobjects))
        return cam.pixel_array.copy()


@pytest.mark.parametrize("quality", ["low_quality", "high_quality"])
@pytest.mark.parametrize("lang, text", [
    ("en", "A caption of a beat: the kernel slides over the map, one window at a time, 0.86."),
    ("zh", "卷积核在特征图上滑动，每次一个窗口，得到 0.86。"),
])
def test_raster_caption_has_the_same_pixels(quality, lang, text):
    with tempconfig({"quality": quality}):
        cam = BoxCamera()
        cap = Caption(text, lang, frame_width=cam.frame_width, frame_height=cam.frame_height)
        bottom = -cam.frame_height / 2
        img = rasterize_band(cap, cam, bottom + CAPTION_BAND, bottom)
    vector = _frame(BoxCamera, Circle(radius=3.5, color="#c0392b"), cap, quality=quality)
    raster = _frame(BoxCamera, Circle(radius=3.5, color="#c0392b"), img, quality=quality)
    assert np.array_equal(vector, raster)
    h = img.get_pixel_array().shape[0]  # the band's rows, plus the partly covered edge rows
    assert 0 <= h - CAPTION_BAND / 8.0 * vector.shape[0] <= 3


def test_box_camera_one_to_one_copy_and_transparency():
    """An image exactly the size of its pixel box is copied as is; transparent pixels let the
    background show (as the stock camera composites them)."""
    with tempconfig({"quality": "low_quality"}):
        w, h = 100, 50
        px = np.zeros((h, w, 4), np.uint8)
        px[..., 0] = 200
        px[..., 3] = 255
        px[:, : w // 2, 3] = 0  # left half transparent
        img = ImageMobject(px)
        fw = Camera().frame_width
        img.stretch_to_fit_width(w * fw / 854).stretch_to_fit_height(h * 8.0 / 480)
        img.move_to([0, 0, 0]).align_to([-fw / 2, 4, 0], [-1, 1, 0])  # top-left pixel (0, 0)
        frame = _frame(BoxCamera, img)
    assert frame[:h, w // 2:w, 0].tolist() == np.full((h, w - w // 2), 200).tolist()
    assert (frame[:h, : w // 2, :3] == 255).all()  # white background through the transparency
    assert (frame[h:, :, :3] == 255).all() and (frame[:, w:, :3] == 255).all()


def _x264_settings(path) -> bytes:
    data = path.read_bytes()
    i = data.find(b"x264 - core")
    assert i >= 0
    return data[i:i + 2000]


def test_fast_uses_the_ultrafast_preset_and_default_does_not(tiny, tmp_path):
    from cnnanim.output.render import render_scene

    fast = render_scene("tiny", output=tmp_path / "fast.mp4", fast=True)
    slow = render_scene("tiny", output=tmp_path / "slow.mp4")
    assert b"cabac=0" in _x264_settings(fast.path)  # ultrafast turns CABAC off
    assert b"cabac=1" in _x264_settings(slow.path)
    import av

    for p in (fast.path, slow.path):
        with av.open(str(p)) as c:
            v = c.streams.video[0]
            assert (v.width, v.height) == (854, 480)
            assert sum(1 for _ in c.decode(v)) == len(list(av.open(str(slow.path)).decode(video=0)))


def test_cli_options_in_help():
    r = CliRunner().invoke(main, ["render", "--help"])
    assert r.exit_code == 0 and "--fast" in r.output and "--jobs" in r.output
    r = CliRunner().invoke(main, ["lecture", "--help"])
    assert r.exit_code == 0 and "--fast" in r.output and "--jobs" in r.output
    r = CliRunner().invoke(main, ["preview", "--help"])
    assert r.exit_code == 0 and "--fast" in r.output


def test_test_scenes_are_rendered_in_this_process(tiny):
    """Classes a fresh process cannot import (like this test's) never go to a worker."""
    from cnnanim.output.render import importable
    from cnnanim.scenes.registry import get_scene

    assert not importable(get_scene("tiny"))
    assert importable(get_scene("input"))


def test_default_jobs(monkeypatch):
    from cnnanim.errors import CnnanimError
    from cnnanim.output.render import default_jobs

    monkeypatch.setenv("CNNANIM_JOBS", "3")
    assert default_jobs() == 3
    monkeypatch.setenv("CNNANIM_JOBS", "x")
    with pytest.raises(CnnanimError):
        default_jobs()
    monkeypatch.delenv("CNNANIM_JOBS")
    assert 1 <= default_jobs() <= 2


def test_parallel_renders_match_sequential_ones(tmp_path):
    """Two scenes in two processes: same files, same order, same pixels as one at a time."""
    from PIL import Image

    from cnnanim.output.render import render_scenes

    names = ["conv-invalid", "input"]
    par = render_scenes(names, fmt="png", output=tmp_path / "par", jobs=2)
    assert [r.path for r in par] == [tmp_path / "par" / f"{n}-en-l.png" for n in names]
    assert list(files.scratch_dir().glob("workers-*")) == []  # their folder went with them
    assert sorted(p.name for p in (tmp_path / "par").iterdir()) == [r.path.name for r in par]
    seq = render_scenes(names[:1], fmt="png", output=tmp_path / "seq.png", jobs=1)
    a = np.asarray(Image.open(par[0].path))
    b = np.asarray(Image.open(seq[0].path))
    assert np.array_equal(a, b)
