"""The numbers the ReLU scene shows: a real conv-map window before and after ReLU (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnanim.explain import maths
from cnnanim.explain.numbers import symmetric_range


def relu_pair(trace, layer: str) -> tuple[str, str]:
    """(conv stage, relu stage) for a conv or relu stage name (conv_1_1 <-> relu_1_1)."""
    suffix = layer.split("_", 1)[1]
    conv, rel = f"conv_{suffix}", f"relu_{suffix}"
    return conv, rel


def choose_window(conv_map: np.ndarray, size: int = 4) -> tuple[int, int]:
    """Top-left of a ``size`` x ``size`` window mixing clearly negative and positive values.

    Scores every window by min(sum of its negative magnitudes, sum of its positives), so both
    signs are present and strong; a map of one sign falls back to the largest magnitudes. The
    first best window in row-major order wins (deterministic).
    """
    x = np.asarray(conv_map, dtype=np.float64)
    win = np.lib.stride_tricks.sliding_window_view(x, (size, size))
    neg = np.clip(-win, 0, None).sum(axis=(-1, -2))
    pos = np.clip(win, 0, None).sum(axis=(-1, -2))
    score = np.minimum(neg, pos)
    if not score.max() > 0:
        score = neg + pos
    flat = int(np.argmax(score))
    return divmod(flat, score.shape[1])


def best_channel(conv_out: np.ndarray) -> int:
    """The channel where ReLU shows best: strong negative and strong positive values.

    Scores each channel of a conv output (C, H, W) by min(sum of negative magnitudes, sum of
    positives); the first best channel wins.
    """
    x = np.asarray(conv_out, dtype=np.float64).reshape(len(conv_out), -1)
    neg = np.clip(-x, 0, None).sum(axis=1)
    pos = np.clip(x, 0, None).sum(axis=1)
    return int(np.argmax(np.minimum(neg, pos)))


@dataclass(frozen=True)
class ReluWindowData:
    """The numbers the ReLU scene shows.

    Attributes
    ----------
    conv_stage, relu_stage : str
    channel : int
    top, left, size : int
        The window in the conv output map.
    before, after : numpy.ndarray
        (size, size) conv values and their ReLU (== the relu stage's output there).
    conv_map, relu_map : numpy.ndarray
        The whole channel before and after ReLU.
    vmax : float
        Shared colour half-range (largest magnitude of the conv map).
    negative, positive : tuple of int
        (row, col) inside the window of the example negative (most negative) and positive
        (largest) values.
    """

    conv_stage: str
    relu_stage: str
    channel: int
    top: int
    left: int
    size: int
    before: np.ndarray
    after: np.ndarray
    conv_map: np.ndarray
    relu_map: np.ndarray
    vmax: float
    negative: tuple[int, int]
    positive: tuple[int, int]

    @property
    def negative_cells(self) -> list[tuple[int, int]]:
        """(row, col) of the window's negative values (ReLU turns them into zero), row-major."""
        return [(r, c) for r in range(self.size) for c in range(self.size) if self.before[r, c] < 0]

    @property
    def kept_cells(self) -> list[tuple[int, int]]:
        """(row, col) of the window's values ReLU keeps (zero or positive), row-major."""
        return [(r, c) for r in range(self.size) for c in range(self.size)
                if self.before[r, c] >= 0]

    def swept_map(self, rows: int) -> np.ndarray:
        """The conv map with its first ``rows`` rows already through ReLU."""
        values = self.conv_map.copy()
        values[:rows] = self.relu_map[:rows]
        return values


def relu_window_data(trace, layer: str, channel: int, size: int = 4) -> ReluWindowData:
    """Everything the ReLU scene shows for ``layer`` (conv or relu stage) and ``channel``."""
    conv, rel = relu_pair(trace, layer)
    conv_map = np.asarray(trace[conv].output[channel], dtype=np.float64)
    relu_map = maths.relu(conv_map)
    top, left = choose_window(conv_map, size)
    before = conv_map[top:top + size, left:left + size].copy()
    after = maths.relu(before)
    neg = np.unravel_index(int(np.argmin(before)), before.shape)
    pos = np.unravel_index(int(np.argmax(before)), before.shape)
    return ReluWindowData(conv, rel, channel, top, left, size, before, after, conv_map, relu_map,
                          symmetric_range(conv_map), (int(neg[0]), int(neg[1])),
                          (int(pos[0]), int(pos[1])))
