"""The trace of a photo through weights, cached on disk by the bytes it was made from.

A cache entry's key is the sha256 of the photo's bytes, the weights' bytes, the preset and the
code that computes a trace, so a render can never pick up a stale trace.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from cnnanim.errors import CnnanimError
from cnnanim.network.trace import ActivationTrace


def file_digest(path: str | os.PathLike | None) -> str:
    """sha256 of a file's bytes (``"default"`` for None): part of every render's key."""
    if path is None:
        return "default"
    p = Path(path)
    if not p.is_file():
        return f"missing:{p}"
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _code_digest() -> str:
    """sha256 of the code that turns an image and weights into a trace (part of the cache key)."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in ("presets.py", "model.py", "images.py", "weights.py", "trace.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()


def trace_cache_dir() -> Path:
    """Where traces are cached on disk (``$CNNANIM_TRACE_CACHE``, else ~/.cache/cnnanim/traces)."""
    from cnnanim.files import cache_dir

    env = os.environ.get("CNNANIM_TRACE_CACHE")
    return Path(env) if env else cache_dir("traces")


@lru_cache(maxsize=8)
def _cached_trace(image: str | None, image_digest: str, weights: str | None,
                  weights_digest: str, preset: str = "explainer") -> ActivationTrace:
    """Trace from the disk cache when the photo's, the weights' and the code's bytes all match;
    otherwise run the model (torch) and store the result. A render never sees a stale trace."""
    from cnnanim.network.trace import trace_image

    key = hashlib.sha256(
        f"{image_digest}|{weights_digest}|{preset}|{_code_digest()}".encode()).hexdigest()
    path = trace_cache_dir() / f"{key[:40]}.npz"
    if path.is_file():
        try:
            return ActivationTrace.load(path)
        except CnnanimError:
            pass  # unreadable cache entry: trace again and overwrite it
    t = trace_image(image, weights, preset=preset)
    try:
        t.save(path)
    except (CnnanimError, OSError):
        pass  # a read-only cache only costs speed
    return t


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

    img = str(image) if image is not None else None
    w = str(resolve_weights(weights)) if weights is not None else None
    img_digest = file_digest(img if img is not None else SAMPLE_IMAGE)
    w_digest = file_digest(w if w is not None else resolve_weights(None, preset))
    return _cached_trace(img, img_digest, w, w_digest, preset)
