"""The numbers of the input scene: which channel scales the photo has and the patch it zooms into.

Pure numpy (no manim, no torch).
"""

from __future__ import annotations

import numpy as np

#: Colour scales of a colour photo's channels (a greyscale photo has one ``input`` channel).
TINTS = ("red", "green", "blue")


def channel_scales(image: np.ndarray) -> list[str]:
    """The colour scale of each channel of a (C, H, W) input: tinted R, G, B or plain ``input``."""
    n = np.shape(image)[0]
    return list(TINTS) if n == 3 else ["input"] * n


def zoom_window(image: np.ndarray, size: int = 5) -> tuple[int, int, np.ndarray]:
    """The ``size`` x ``size`` patch of channel 0 the scene zooms into: the one with the widest
    spread of values (deterministic), as (top, left, values)."""
    ch = np.asarray(image[0], dtype=np.float64)
    best = (-1.0, 0, 0)
    step = max(1, size // 2)
    for top in range(0, ch.shape[0] - size + 1, step):
        for left in range(0, ch.shape[1] - size + 1, step):
            patch = ch[top:top + size, left:left + size]
            spread = float(patch.max() - patch.min())
            if spread > best[0]:
                best = (spread, top, left)
    _, top, left = best
    return top, left, ch[top:top + size, left:left + size].copy()
