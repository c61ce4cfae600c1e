"""Scene ``input``: the zoomed values are the real preprocessed pixels, and it renders."""

from __future__ import annotations

import av
import numpy as np
from PIL import Image

from cnnanim.explain.input import zoom_window
from cnnanim.explain.numbers import fmt
from cnnanim.network.images import load_image
from cnnanim.network.trace_cache import get_trace
from cnnanim.output.render import configure_scene, render_scene
from cnnanim.scenes.input_layer import InputLayer
from cnnanim.speech.narration import LANGUAGES


def test_zoom_window_is_the_real_input():
    trace = get_trace()
    top, left, values = zoom_window(trace.image, 5)
    assert values.shape == (5, 5)
    np.testing.assert_array_equal(values, trace.image[0, top:top + 5, left:left + 5])
    # the trace input is the bundled photo, preprocessed: pixel / 255
    np.testing.assert_allclose(trace.image, load_image(None, "explainer"))
    assert np.allclose(values * 255, np.rint(values * 255), atol=1e-4)
    assert 0.0 <= values.min() and values.max() <= 1.0
    assert zoom_window(trace.image, 5)[:2] == (top, left)  # deterministic


def test_zoom_grid_draws_the_values():
    scene = configure_scene(InputLayer, lang="en", voice="none")()
    scene.setup()
    grid = scene.get_zoom_grid()
    drawn = [n.text for n in grid.numbers]
    assert drawn == [fmt(v) for v in scene.zoom_values.ravel()]


def test_narration_has_every_language():
    for key, texts in InputLayer.NARRATION.items():
        assert set(LANGUAGES) <= set(texts), key


def test_renders_low_quality(tmp_path):
    r = render_scene("input", quality="l", output=tmp_path / "x.mp4", voice="none")
    with av.open(str(r.path)) as c:
        s = c.streams.video[0]
        dur = float(s.duration * s.time_base) if s.duration else c.duration / 1e6
        assert (s.codec_context.width, s.codec_context.height) == (854, 480)
    total = sum(b.duration for _, _, b in r.scene_object.beats)
    assert abs(dur - total) < 0.2
    assert r.subtitles.read_text(encoding="utf-8").strip()


def test_last_frame_shows_the_photo_channels(tmp_path):
    r = render_scene("input", quality="l", fmt="png", output=tmp_path / "x.png", lang="zh",
                     voice="none")
    img = np.asarray(Image.open(r.path).convert("RGB")).astype(int)
    assert img.shape == (480, 854, 3)
    # the red channel map is red-tinted somewhere, the blue one blue-tinted
    left = img[:, : img.shape[1] // 3]
    assert ((left[..., 0] - left[..., 2]) > 80).any()
