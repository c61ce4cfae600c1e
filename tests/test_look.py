"""What a viewer sees, checked without eyes: no text morphing glyph by glyph, no blank
stretches inside a scene, the caption band always there.

Each scene is rendered once at a low frame rate (mp4, decoded with PyAV) and once as a still
with every animation it plays recorded.
"""

from __future__ import annotations

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


def _frames(name: str, tmp_path, fps: int = 4) -> tuple[list[np.ndarray], float]:
    import av

    from cnnanim.output.render import render_scene

    r = render_scene(name, quality="l", output=tmp_path / f"{name}.mp4", voice="none", fps=fps,
                     fast=True)
    with av.open(str(r.path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return frames, fps


def _rows(frame: np.ndarray, top: float, bottom: float) -> np.ndarray:
    """Rows of ``frame`` between scene heights ``top`` and ``bottom``."""
    h = frame.shape[0]

    def row(y: float) -> int:
        return int(round((FRAME_HEIGHT / 2 - y) / FRAME_HEIGHT * h))

    return frame[row(top):row(bottom)]


@pytest.mark.parametrize("name", SCENES)
def test_no_blank_stretch_and_the_caption_band_stays(name, tmp_path):
    frames, fps = _frames(name, tmp_path)
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
