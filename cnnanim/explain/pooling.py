"""The numbers the pooling scene shows: real max-pooling windows and the maps (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnanim.explain import maths
from cnnanim.explain.numbers import symmetric_range


def choose_windows(x_map: np.ndarray, count: int = 3, size: int = 2,
                   stride: int = 2) -> list[tuple[int, int]]:
    """Output positions (row, col) of ``count`` pooling windows worth showing.

    Prefers windows whose values are all positive and distinct with a large maximum, and tries
    to show the maximum at different places inside the window. Deterministic.
    """
    x = np.asarray(x_map, dtype=np.float64)
    win = np.lib.stride_tricks.sliding_window_view(x, (size, size))[::stride, ::stride]
    oh, ow = win.shape[:2]
    flat = win.reshape(oh, ow, -1)
    nonzero = (flat > 0).sum(axis=-1)
    distinct = np.array([[len(np.unique(flat[r, c])) for c in range(ow)] for r in range(oh)])
    mx = flat.max(axis=-1)
    score = (nonzero + distinct) * (mx.max() + 1.0) + mx
    where = flat.argmax(axis=-1)
    order = np.argsort(-score, axis=None, kind="stable")
    chosen: list[tuple[int, int]] = []
    used_arg: set[int] = set()
    for idx in order:  # first pass: one window per argmax position, spread over the map
        r, c = divmod(int(idx), ow)
        if int(where[r, c]) in used_arg:
            continue
        if any(abs(r - r2) + abs(c - c2) < max(2, oh // 4) for r2, c2 in chosen):
            continue
        chosen.append((r, c))
        used_arg.add(int(where[r, c]))
        if len(chosen) == count:
            return chosen
    for idx in order:  # fill up if the map is too uniform
        r, c = divmod(int(idx), ow)
        if (r, c) not in chosen:
            chosen.append((r, c))
        if len(chosen) == count:
            break
    return chosen


@dataclass(frozen=True)
class PoolingData:
    """The numbers the pooling scene shows.

    Attributes
    ----------
    stage, input_stage : str
        The pool stage and the stage that feeds it (e.g. max_pool_1, relu_1_2).
    channel, size, stride : int
    input_map, output_map : numpy.ndarray
        The channel before and after pooling (output == the trace's pool output).
    windows : list of maths.PoolWindow
        The windows shown, with their real maximum (argmax from maths.pool_window).
    vmax : float
        Shared colour half-range.
    inputs, outputs : numpy.ndarray
        Every channel before and after pooling, (C, H, W) and (C, H', W').
    """

    stage: str
    input_stage: str
    channel: int
    size: int
    stride: int
    input_map: np.ndarray
    output_map: np.ndarray
    windows: list
    vmax: float
    inputs: np.ndarray
    outputs: np.ndarray

    def cells_before(self, k: int) -> list[tuple[int, int]]:
        """(row, col) of the first ``k`` output cells, row-major (the windows already pooled
        when the window slides to its ``k``-th place)."""
        m = self.output_map.shape[1]
        return [divmod(i, m) for i in range(min(k, self.output_map.size))]

    def window_corner(self, k: int) -> tuple[int, int]:
        """(top, left) in the input map of the ``k``-th window, row-major."""
        r, c = divmod(k, self.output_map.shape[1])
        return r * self.stride, c * self.stride

    def first_windows(self, count: int = 3) -> tuple[np.ndarray, np.ndarray]:
        """The top-left corner the first ``count`` windows of the first row cover (``size`` rows,
        ``count * stride`` columns of the input map) and their maxima (the output map's first
        ``count`` cells)."""
        count = min(count, self.output_map.shape[1])
        corner = self.input_map[:self.size, :(count - 1) * self.stride + self.size]
        return corner.copy(), self.output_map[0, :count].copy()

    def other_channels(self) -> list[int]:
        """The channels other than the one shown, in order."""
        return [c for c in range(len(self.inputs)) if c != self.channel]


def pooling_data(trace, layer: str, channel: int, count: int = 3) -> PoolingData:
    """Everything the pooling scene shows for pool stage ``layer`` and ``channel``."""
    names = trace.stage_names()
    st = trace[layer]
    input_stage = names[names.index(layer) - 1]
    size, stride = st.kernel_size or 2, st.stride or 2
    x = np.asarray(st.input, dtype=np.float64)
    pooled = maths.max_pool(x, size, stride)
    windows = [maths.pool_window(x, channel, r, c, size, stride)
               for r, c in choose_windows(x[channel], count, size, stride)]
    return PoolingData(layer, input_stage, channel, size, stride, x[channel], pooled[channel],
                       windows, symmetric_range(x[channel]), x, pooled)
