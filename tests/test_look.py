"""What a viewer sees, checked without eyes: no text morphing glyph by glyph, no blank
stretches inside a scene, the caption band always there.

Each scene is rendered once at a low frame rate (mp4, decoded with PyAV; shared by the tests
of this module) and once as a still with every animation it plays recorded.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np
import pytest
from manim import FadeIn, FadeOut, FadeTransform, Text, Transform

from cnnanim.draw.layout import CAPTION_BAND, CONTENT_BOTTOM, CONTENT_TOP, FRAME_HEIGHT
from cnnanim.draw.speedups import flat_animations
from cnnanim.draw.text import NumberText
from cnnanim.scenes.registry import all_scenes

SCENES = sorted(all_scenes())


def _text_like(m) -> bool:
    return isinstance(m, (Text, NumberText))


def _shape(m) -> list[np.ndarray]:
    """The outlines of a text, scaled into its own unit box: equal for equal strings however
    the text is moved, scaled or recoloured."""
    parts = [s.points for s in m.family_members_with_points()] or [m.points]
    allp = np.concatenate(parts) if parts else np.zeros((1, 3))
    lo, size = allp.min(axis=0), max(float(np.ptp(allp[:, 0])), float(np.ptp(allp[:, 1])), 1e-9)
    return [(p - lo) / size for p in parts]


def _same_text(a, b) -> bool:
    sa, sb = _shape(a), _shape(b)
    return len(sa) == len(sb) and all(x.shape == y.shape and np.allclose(x, y, atol=1e-3)
                                      for x, y in zip(sa, sb))


def text_morphs(animation) -> list[str]:
    """Texts that ``animation`` would morph into a different text, glyph by glyph."""
    bad = []
    for a in flat_animations([animation]):
        # fades only change opacity (a FadeIn's target is an empty Mobject until it begins)
        if not isinstance(a, Transform) or isinstance(a, (FadeTransform, FadeIn, FadeOut)):
            continue
        target = getattr(a, "target_mobject", None)
        if target is None:
            continue
        src = [m for m in a.mobject.get_family() if _text_like(m)]
        dst = [m for m in target.get_family() if _text_like(m)]
        if not src and not dst:
            continue
        if len(src) != len(dst):
            bad.append(f"{type(a).__name__}: {len(src)} texts into {len(dst)}")
            continue
        for m, n in zip(src, dst):
            if not _same_text(m, n):
                bad.append(f"{type(a).__name__}: {getattr(m, 'text', '?')!r} -> "
                           f"{getattr(n, 'text', '?')!r}")
    return bad


@pytest.mark.parametrize("name", SCENES)
def test_no_text_morphs_glyph_by_glyph(name, tmp_path, monkeypatch):
    """Texts and grids of different content cross-fade; a Transform only moves, scales or
    recolours a text (``become`` included)."""
    from manim import tempconfig

    from cnnanim.output.render import configure_scene
    from cnnanim.scenes.base import CnnScene

    found: list[str] = []
    compile_data = CnnScene.compile_animation_data

    def recording(self, *args, **kwargs):
        result = compile_data(self, *args, **kwargs)
        for a in self.animations or []:
            found.extend(text_morphs(a))
        return result

    monkeypatch.setattr(CnnScene, "compile_animation_data", recording)
    cls = configure_scene(all_scenes()[name], voice="none")
    cfg = {"quality": "low_quality", "media_dir": str(tmp_path), "disable_caching": True,
           "progress_bar": "none", "verbosity": "ERROR", "format": "png",
           "write_to_movie": False, "save_last_frame": True, "output_file": name}
    with tempconfig(cfg):
        cls().render()
    assert not found, f"{name}: " + "; ".join(found[:5])


class Rendered(NamedTuple):
    """A scene rendered at a low frame rate: its frames, the rate and its beats' (start, end)."""

    frames: list[np.ndarray]
    fps: int
    beats: list[tuple[float, float]]

    def at(self, t: float) -> np.ndarray:
        """The frame shown at ``t`` seconds (the first one drawn at or after it)."""
        return self.frames[min(len(self.frames) - 1, max(0, math.ceil(t * self.fps - 1e-6)))]

    def before(self, t: float) -> np.ndarray:
        """The last frame shown before ``t`` seconds."""
        return self.frames[min(len(self.frames) - 1, max(0, math.ceil(t * self.fps - 1e-6) - 1))]


def _render(name: str, folder, fps: int = 4) -> Rendered:
    import av

    from cnnanim.output.render import render_scene

    r = render_scene(name, quality="l", output=folder / f"{name}.mp4", voice="none", fps=fps,
                     fast=True)
    with av.open(str(r.path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return Rendered(frames, fps, [(t0, t1) for t0, t1, _ in r.scene_object.beats])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Callable[[str], Rendered]:
    """Scene name -> its render (:func:`_render`), made once for every test of this module."""
    done: dict[str, Rendered] = {}

    def get(name: str) -> Rendered:
        if name not in done:
            done[name] = _render(name, tmp_path_factory.mktemp(name))
        return done[name]

    return get


def _rows(frame: np.ndarray, top: float, bottom: float) -> np.ndarray:
    """Rows of ``frame`` between scene heights ``top`` and ``bottom``."""
    h = frame.shape[0]

    def row(y: float) -> int:
        return int(round((FRAME_HEIGHT / 2 - y) / FRAME_HEIGHT * h))

    return frame[row(top):row(bottom)]


@pytest.mark.parametrize("name", SCENES)
def test_no_blank_stretch_and_the_caption_band_stays(name, rendered):
    frames, fps, _ = rendered(name)
    band_rgb = np.array([0xf2, 0xf2, 0xf2])
    blank_run = longest = 0
    for k, f in enumerate(frames):
        band = _rows(f, -FRAME_HEIGHT / 2 + CAPTION_BAND - 0.1, -FRAME_HEIGHT / 2 + 0.05)
        # the band: mostly its own grey (text on it is fine), never the white page
        assert np.mean(np.all(np.abs(band.astype(int) - band_rgb) <= 3, axis=-1)) > 0.5, \
            f"{name}: no caption band at {k / fps:.2f} s"
        content = _rows(f, CONTENT_TOP, CONTENT_BOTTOM)
        inked = np.mean(np.any(content < 235, axis=-1))
        blank_run = blank_run + 1 if inked < 0.003 else 0
        longest = max(longest, blank_run)
    assert longest / fps <= 1.0, f"{name}: {longest / fps:.2f} s without content"


def _ink(frame: np.ndarray) -> float:
    """How much is drawn above the caption band: the page's area not white, each pixel weighted
    by how far it is from white (a half-faded picture counts half)."""
    page = _rows(frame, FRAME_HEIGHT / 2, -FRAME_HEIGHT / 2 + CAPTION_BAND)
    return float(np.mean(255 - page.min(axis=-1))) / 255


@pytest.mark.parametrize("name", SCENES)
def test_the_first_beat_shows_its_content_at_once(name, rendered):
    """Half a second after the first caption starts, the page already holds at least half of
    what it holds at the end of that beat (title and first content fade in quickly; the
    caption's words are never said over a nearly blank page)."""
    r = rendered(name)
    start, end = r.beats[0]
    early, full = _ink(r.at(start + 0.5)), _ink(r.before(end))
    assert full > 0.005, f"{name}: the first beat ends on a nearly blank page"
    assert early >= 0.5 * full, (f"{name}: {early / full:.0%} of the first beat's content "
                                 f"0.5 s after its caption starts")
