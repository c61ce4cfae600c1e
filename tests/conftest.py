"""Shared fixtures: seeded untrained models, temporary weights files, traces, image helpers, and
the checks of scene renders (video length and size, pixels, texts drawn).

Trained weights (``weights/*.safetensors``) may not exist yet, so every test that needs a network
builds one with :meth:`TinyVGG.from_preset` under a fixed ``torch.manual_seed``; tests that need a
weights file write one to ``tmp_path``.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnanim.network.model import TinyVGG
from cnnanim.network.presets import PRESETS, get_preset
from cnnanim.network.weights import DEFAULT_WEIGHTS, WeightsInfo, save_weights, state_to_numpy

PRESET_NAMES = tuple(PRESETS)  # ("explainer", "seed")

# The tensors in these tests are tiny: one intra-op thread is faster (a thread pool fighting other
# processes for the CPUs made a loop of ~1300 small F.conv2d calls 20x slower) and deterministic.
torch.set_num_threads(1)


def build_model(preset: str, seed: int = 0) -> TinyVGG:
    """An untrained TinyVGG of ``preset``, initialised deterministically, in eval mode."""
    torch.manual_seed(seed)
    model = TinyVGG.from_preset(preset)
    # Default init gives tiny, almost uniform logits; spread the output weights a little so the
    # probabilities (and the top-k order) are clearly distinct in CLI tests.
    with torch.no_grad():
        model.output.weight.mul_(8.0)
    return model.eval()


def write_weights(path: Path, model: TinyVGG, preset: str, class_names=None) -> Path:
    """Save ``model`` as a cnnanim weights file (safetensors + metadata)."""
    names = list(class_names) if class_names is not None else list(get_preset(preset).classes)
    return save_weights(path, state_to_numpy(model.state_dict()),
                        WeightsInfo(preset=preset, class_names=names, source="tests"))


def random_image(preset: str, seed: int = 0) -> np.ndarray:
    """A random preprocessed image (float32, (C, H, W), values in [0, 1]) for ``preset``."""
    p = get_preset(preset)
    return np.random.default_rng(seed).random(p.input_shape, dtype=np.float32)


def png_with_size(path: Path, width: int, height: int) -> Path:
    """Write a tiny valid 1x1 PNG, then patch its IHDR to claim ``width`` x ``height`` (CRC fixed).

    The pixels are never allocated: only the header lies about the size.
    """
    from PIL import Image

    Image.new("RGB", (1, 1), (1, 2, 3)).save(path, "PNG")
    data = bytearray(path.read_bytes())
    assert data[12:16] == b"IHDR"
    data[16:20] = struct.pack(">I", width)
    data[20:24] = struct.pack(">I", height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(params=PRESET_NAMES)
def preset_name(request) -> str:
    """Every preset name, one test each."""
    return request.param


@pytest.fixture
def seeded():
    """Seed torch and return a numpy Generator with a fixed seed (restores torch's RNG after)."""
    state = torch.random.get_rng_state()
    torch.manual_seed(1234)
    yield np.random.default_rng(1234)
    torch.random.set_rng_state(state)


@pytest.fixture
def make_model(seeded):
    """Factory: ``make_model(preset, seed=0)`` -> a deterministic untrained TinyVGG."""
    return build_model


@pytest.fixture
def model(preset_name) -> TinyVGG:
    """A deterministic untrained TinyVGG of each preset."""
    return build_model(preset_name)


@pytest.fixture
def weights_file(tmp_path):
    """Factory: ``weights_file(preset="explainer")`` -> path of a temporary weights file."""
    def make(preset: str = "explainer", seed: int = 0, class_names=None) -> Path:
        return write_weights(tmp_path / f"{preset}-{seed}.safetensors", build_model(preset, seed),
                             preset, class_names)
    return make


@pytest.fixture(scope="session")
def traces():
    """Traces of the bundled sample photo through a seeded model of each preset (computed once)."""
    from cnnanim.network.images import load_image
    from cnnanim.network.trace import trace

    out = {}
    for name in PRESET_NAMES:
        m = build_model(name)
        out[name] = (m, trace(m, load_image(None, name), class_names=list(get_preset(name).classes),
                              preset=name))
    return out


def light_scene():
    """A CnnScene base that loads no trace (scenes of shapes only, for quick lecture tests)."""
    from cnnanim.scenes.base import CnnScene
    from cnnanim.speech.narration import check_lang

    class LightScene(CnnScene):
        def setup(self) -> None:
            self.lang = check_lang(self._setting("lang", "CNNANIM_LANG", "en"))

    return LightScene


# -- scenes and their renders ---------------------------------------------------------------------
needs_weights = pytest.mark.skipif(
    not (DEFAULT_WEIGHTS["explainer"].exists() or os.environ.get("CNNANIM_WEIGHTS")),
    reason="the shipped weights (weights/explainer.safetensors) are not there yet")


@pytest.fixture(scope="module")
def trace():
    """The default photo through the default (shipped) weights."""
    from cnnanim.network.trace_cache import get_trace

    return get_trace()


@pytest.fixture
def voice_cache(tmp_path_factory, monkeypatch):
    """All voice clips of the test in one temporary cache (never the user's): its folder."""
    folder = tmp_path_factory.getbasetemp() / "voice-cache"
    monkeypatch.setenv("CNNANIM_VOICE_CACHE", str(folder))
    return folder


def tiny_scene():
    """A scene of one beat and a circle, as if it were ``cnnanim/scenes/tiny.py``."""
    from manim import Circle, Create

    from cnnanim.scenes.base import CnnScene

    class Tiny(CnnScene):
        cli_name = "tiny"
        description = "A circle (test scene)"
        valid_layer_kinds = ("conv", "relu", "pool", "flatten", "linear")
        NARRATION = {"one": {"en": "A circle.", "zh": "一个圆。"}}

        def construct(self):
            with self.beat("one") as b:
                self.play(Create(Circle(color="#c0392b")), run_time=b.part(0.5))

    Tiny.__module__ = "cnnanim.scenes.tiny"
    return Tiny


@pytest.fixture
def tiny(monkeypatch):
    """The scene ``tiny`` (:func:`tiny_scene`) among the registered ones."""
    import cnnanim.scenes.registry as registry

    real = registry.all_scenes()
    monkeypatch.setattr(registry, "all_scenes", lambda: {**real, "tiny": tiny_scene()})


def video_info(path: Path) -> tuple[float, int, int, float]:
    """Duration (seconds), width, height and frame rate of the video at ``path``."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        duration = float(s.duration * s.time_base) if s.duration else c.duration / 1e6
        # the stream's own frame rate (its average over the container's duration can be off by
        # a few time-base ticks where Manim joins its partial movies)
        return duration, s.codec_context.width, s.codec_context.height, float(s.guessed_rate)


def check_video(result) -> tuple[float, float]:
    """A -ql render of a scene with beats: 854x480, as long as its beats (within 0.2 s), with
    its subtitles. Returns the video's length and the beats' total, in seconds."""
    assert result.path.exists()
    duration, w, h, _ = video_info(result.path)
    beats = result.scene_object.beats
    assert beats
    total = sum(b.duration for _, _, b in beats)
    assert abs(duration - total) < 0.2
    assert (w, h) == (854, 480)
    assert result.subtitles is not None and result.subtitles.exists()
    assert result.subtitles.read_text(encoding="utf-8").strip()
    return duration, total


def last_frame(name: str, tmp_path: Path, **settings):
    """Scene ``name``'s last frame at -ql: the render's result and the frame's pixels (an int
    array, 480 x 854 x 3 RGB)."""
    from PIL import Image

    from cnnanim.output.render import render_scene

    r = render_scene(name, quality="l", fmt="png", output=tmp_path / "x.png", **settings)
    with Image.open(r.path) as im:
        return r, np.asarray(im.convert("RGB")).astype(int)


def scene_to_pixel(x: float, y: float, w: int = 854, h: int = 480) -> tuple[int, int]:
    """The pixel of scene point (x, y) in a ``w`` x ``h`` frame (14.22 x 8 units)."""
    return int(round((x + 14.222 / 2) / 14.222 * w)), int(round((4 - y) / 8 * h))


def inside_frame(scene) -> list[str]:
    """Mobjects on screen that leave the content area (x in [-6.8, 6.8], y in [CONTENT_BOTTOM, 3.7]);
    the caption band, which stays between beats, lies below it."""
    from cnnanim.draw.layout import CONTENT_BOTTOM

    bad = []
    for m in scene.mobjects:
        if m is getattr(scene, "band", None):  # the caption band below the content area
            continue
        if m.get_left()[0] < -6.8 - 1e-6 or m.get_right()[0] > 6.8 + 1e-6 \
                or m.get_top()[1] > 3.7 + 1e-6 or m.get_bottom()[1] < CONTENT_BOTTOM - 1e-6:
            bad.append(f"{type(m).__name__} {m.get_left()[0]:.2f}..{m.get_right()[0]:.2f}, "
                       f"{m.get_bottom()[1]:.2f}..{m.get_top()[1]:.2f}")
    return bad


def drawn_texts(group) -> list[str]:
    """The strings drawn in ``group``, in order (Manim's Text drops spaces)."""
    from manim import Text

    from cnnanim.draw.text import NumberText

    return [m.text for m in group.get_family() if isinstance(m, (Text, NumberText))]
