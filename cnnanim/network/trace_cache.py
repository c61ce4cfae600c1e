"""The trace of a photo through weights, cached on disk by the bytes it was made from.

A cache entry's key is the sha256 of the photo's bytes, the weights' bytes, the preset and the
code that computes a trace, so a render can never pick up a stale trace. The photo and the
weights are read once (a pipe such as ``<(cat photo.png)`` too): the bytes that make the key
are the bytes that are traced. Every entry carries its own checksum; a damaged entry is
treated as missing, computed again and rewritten.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections import OrderedDict
from pathlib import Path

from cnnanim import files
from cnnanim.errors import CnnanimError
from cnnanim.network.trace import ActivationTrace

#: Traces kept in memory by this process (most recently used last).
_MEMORY: OrderedDict[str, ActivationTrace] = OrderedDict()
_MEMORY_SIZE = 8


def _code_digest() -> str:
    """sha256 of the code that turns an image and weights into a trace (part of the cache key)."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in ("presets.py", "model.py", "images.py", "weights.py", "trace.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()


def trace_cache_dir() -> Path:
    """Where traces are cached on disk (see :func:`cnnanim.files.cache_dir`)."""
    return files.cache_dir("traces")


def trace_key(image: files.Input, weights: files.Input, preset: str) -> str:
    """The cache key of a trace: sha256 of the photo's, the weights' and the code's bytes."""
    return hashlib.sha256(
        f"{image.digest}|{weights.digest}|{preset}|{_code_digest()}".encode()).hexdigest()


def load_cached(path: Path) -> ActivationTrace | None:
    """The trace stored at ``path``, or None when it is missing or damaged in any way."""
    data = files.read_cache_entry(path)
    if data is None:
        return None
    try:
        return ActivationTrace.load(io.BytesIO(data))
    except CnnanimError:
        return None


def _cached_trace(image: files.Input, weights: files.Input, preset: str = "explainer",
                  weights_name: str = "default") -> ActivationTrace:
    """Trace from memory or the disk cache when the photo's, the weights' and the code's bytes
    all match; otherwise run the model (torch) and store the result."""
    from cnnanim.network.trace import trace_image

    key = trace_key(image, weights, preset)
    t = _MEMORY.get(key)
    if t is not None:
        _MEMORY.move_to_end(key)
        return t
    path = trace_cache_dir() / f"{key[:40]}.npz"
    t = load_cached(path)
    if t is None:  # missing or damaged: trace again and (over)write the entry
        t = trace_image(image, weights, preset=preset, weights_name=weights_name)
        files.write_cache_entry("trace", path, t.to_bytes())
    _MEMORY[key] = t
    while len(_MEMORY) > _MEMORY_SIZE:
        _MEMORY.popitem(last=False)
    return t


_cached_trace.cache_clear = _MEMORY.clear  # type: ignore[attr-defined]  # forget traces in memory


def get_trace(image: str | os.PathLike | None = None,
              weights: str | os.PathLike | None = None,
              preset: str = "explainer", use_env: bool = True) -> ActivationTrace:
    """The trace of ``image`` through ``weights``, cached by file contents (in this process,
    and on disk: see :func:`trace_cache_dir`).

    ``weights`` is a file or a shipped name (``explainer``, ``seed``, ``cnn-explainer``). None
    means ``$CNNANIM_IMAGE`` / ``$CNNANIM_WEIGHTS`` if set (and ``use_env``), else the bundled
    photo and the shipped weights of ``preset``.
    """
    if use_env:
        image = image if image is not None else (os.environ.get("CNNANIM_IMAGE") or None)
        weights = weights if weights is not None else (os.environ.get("CNNANIM_WEIGHTS") or None)
    from cnnanim.network.images import SAMPLE_IMAGE
    from cnnanim.network.weights import resolve_weights

    img = files.read_input(image if image is not None else SAMPLE_IMAGE, "image")
    w = files.read_input(resolve_weights(weights, preset), "weights file")
    return _cached_trace(img, w, preset, str(weights) if weights is not None else "default")
