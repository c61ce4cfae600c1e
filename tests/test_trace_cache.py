"""The on-disk trace cache: keyed by the bytes of photo, weights and code; never stale."""

from __future__ import annotations

import shutil

import numpy as np

from cnnanim.network import trace_cache as scene
from cnnanim.network.images import SAMPLE_IMAGE
from cnnanim.network.trace import trace_image
from cnnanim.network.weights import DEFAULT_WEIGHTS, read_weights, save_weights


def fresh(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNANIM_TRACE_CACHE", str(tmp_path / "cache"))
    scene._cached_trace.cache_clear()


def test_cached_trace_equals_a_fresh_one(monkeypatch, tmp_path):
    fresh(monkeypatch, tmp_path)
    first = scene.get_trace()
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    scene._cached_trace.cache_clear()
    second = scene.get_trace()  # from disk
    direct = trace_image(None, None)
    for t in (first, second):
        np.testing.assert_array_equal(t.logits, direct.logits)
        for name in direct.stages:
            np.testing.assert_array_equal(t[name].output, direct[name].output)
    assert second.class_names == direct.class_names


def test_changed_weights_or_photo_give_a_new_trace(monkeypatch, tmp_path):
    fresh(monkeypatch, tmp_path)
    w = tmp_path / "w.safetensors"
    img = tmp_path / "photo.png"
    shutil.copy(DEFAULT_WEIGHTS["explainer"], w)
    shutil.copy(SAMPLE_IMAGE, img)
    before = scene.get_trace(img, w)
    tensors, info = read_weights(w)
    tensors["output.bias"] = tensors["output.bias"] + np.arange(10, dtype=np.float32)
    save_weights(w, tensors, info)  # same path, new bytes
    after = scene.get_trace(img, w)
    np.testing.assert_allclose(after.logits - before.logits, np.arange(10), atol=1e-4)
    from PIL import Image

    Image.open(SAMPLE_IMAGE).transpose(Image.Transpose.FLIP_TOP_BOTTOM).save(img)
    flipped = scene.get_trace(img, w)
    assert not np.allclose(flipped.image, after.image)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 3


def test_unreadable_cache_entry_is_replaced(monkeypatch, tmp_path):
    fresh(monkeypatch, tmp_path)
    t = scene.get_trace()
    entry = next((tmp_path / "cache").glob("*.npz"))
    entry.write_bytes(b"garbage")
    scene._cached_trace.cache_clear()
    again = scene.get_trace()
    np.testing.assert_array_equal(again.logits, t.logits)


def test_named_weights_share_the_cache_of_their_file(monkeypatch, tmp_path):
    fresh(monkeypatch, tmp_path)
    by_name = scene.get_trace(None, "seed")
    by_path = scene.get_trace(None, DEFAULT_WEIGHTS["seed"])
    assert by_name.class_names == by_path.class_names and by_name.input_shape == (1, 28, 28)
    np.testing.assert_array_equal(by_name.logits, by_path.logits)
    np.testing.assert_array_equal(by_name.logits, scene.get_trace(None, None, preset="seed").logits)
    monkeypatch.setenv("CNNANIM_WEIGHTS", "cnn-explainer")
    assert scene.get_trace().meta["source"].startswith("cnnanim weights import-tfjs")
