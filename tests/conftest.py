"""Shared fixtures: seeded untrained models, temporary weights files, traces and image helpers.

Trained weights (``weights/*.safetensors``) may not exist yet, so every test that needs a network
builds one with :meth:`TinyVGG.from_preset` under a fixed ``torch.manual_seed``; tests that need a
weights file write one to ``tmp_path``.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnanim.network.model import TinyVGG
from cnnanim.network.presets import PRESETS, get_preset
from cnnanim.network.weights import WeightsInfo, save_weights, state_to_numpy

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
