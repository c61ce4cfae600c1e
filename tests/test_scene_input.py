"""Scene ``input``: the zoomed values are the real preprocessed pixels, and it renders."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import check_video, last_frame

from cnnanim.explain.input import extremes, pixel_byte, zoom_window
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


def test_zoom_grid_colours_match_the_channel_map():
    """The zoomed grid draws each value in the colour its pixel has on the channel map: dark for
    the smallest value, bright for the largest, as the narration says."""
    from cnnanim.draw import colors
    from cnnanim.draw.mobjects import FeatureMap

    scene = configure_scene(InputLayer, lang="en", voice="none")()
    scene.setup()
    grid = scene.get_zoom_grid()
    channel = FeatureMap(scene.trace.image[0], scale=scene.scales[0])
    pixels = channel.image.pixel_array
    n = scene.zoom_size
    for r in range(n):
        for c in range(n):
            cell = colors.hex_to_rgb(grid.get_cell(r, c).get_fill_color().to_hex()) * 255
            pixel = pixels[scene.zoom_top + r, scene.zoom_left + c, :3]
            assert np.abs(cell - pixel).max() <= 1, (r, c)
            number = grid.get_number(r, c)
            assert colors.contrast_ratio(grid.get_cell(r, c).get_fill_color().to_hex(),
                                         number.get_color().to_hex()) >= 4.5
    lo, hi = extremes(scene.zoom_values)
    assert scene.zoom_values[lo] == scene.zoom_values.min()
    assert scene.zoom_values[hi] == scene.zoom_values.max()
    lum = [colors.relative_luminance(colors.hex_to_rgb(grid.get_cell(*p).get_fill_color().to_hex()))
           for p in (lo, hi)]
    assert lum[0] < lum[1]
    # the worked value: the brightest value is its pixel byte over 255
    hi_value = float(scene.zoom_values.max())
    assert pixel_byte(hi_value) / 255 == pytest.approx(hi_value, abs=1e-6)
    assert scene.get_worked_value().text.replace(" ", "") == \
        f"{pixel_byte(hi_value)}÷255={fmt(hi_value)}"


def test_narration_has_every_language():
    for key, texts in InputLayer.NARRATION.items():
        assert set(LANGUAGES) <= set(texts), key


def test_renders_low_quality(tmp_path):
    r = render_scene("input", quality="l", output=tmp_path / "x.mp4", voice="none")
    check_video(r)


def test_last_frame_shows_the_photo_channels(tmp_path):
    _, img = last_frame("input", tmp_path, lang="zh", voice="none")
    assert img.shape == (480, 854, 3)
    # the red channel map is red-tinted somewhere, the blue one blue-tinted
    left = img[:, : img.shape[1] // 3]
    assert ((left[..., 0] - left[..., 2]) > 80).any()
