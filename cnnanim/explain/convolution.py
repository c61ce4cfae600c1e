"""The numbers the convolution scenes show (``conv-elastic``, ``conv-slide``, ``conv-deep``).

Plain numpy through :mod:`cnnanim.explain.maths`: which windows are written out, their terms
and the exact strings drawn for them, the intermediate maps of the elastic view, and which
output cells a sweep has revealed. Tests check them without rendering.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

import numpy as np

from cnnanim.explain import maths
from cnnanim.explain.maths import ConvWindow
from cnnanim.explain.numbers import fmt

#: Colour scales of the three channels of a colour image.
TINTS = ("red", "green", "blue")
#: Names of the three channels of a colour image.
RGB_NAMES = ("R", "G", "B")


def channel_names(c_in: int) -> list[str]:
    """Names of the input channels: R, G, B for a colour image, 0..C-1 otherwise (counted from
    0, as the neurons are)."""
    return list(RGB_NAMES) if c_in == 3 else [str(i) for i in range(c_in)]


def choose_positions(out_map: np.ndarray) -> list[tuple[int, int]]:
    """Three deterministic window positions: top-left, the middle, and the strongest response.

    The strongest response is the output value largest in size (positive or negative); if it
    coincides with one of the first two positions, the next largest is taken.
    """
    h, w = out_map.shape
    picks = [(0, 0), (h // 2, w // 2)]
    for flat in np.argsort(-np.abs(out_map), axis=None, kind="stable"):
        pos = tuple(int(v) for v in np.unravel_index(int(flat), out_map.shape))
        if pos not in picks:
            picks.append(pos)
            break
    return picks


def slide_steps(trace, layer: str, neuron: int,
                positions: list[tuple[int, int]]) -> list[ConvWindow]:
    """The convolution window of ``neuron`` of ``layer`` at each (row, col), term by term."""
    st = trace[layer]
    return [maths.conv_stage_window(st, neuron, r, c) for r, c in positions]


def adds_up(terms: Sequence[str], total: str) -> bool:
    """True when the numbers ``terms``, as written, add up exactly to ``total`` as written."""
    return sum((Decimal(t) for t in terms), Decimal(0)) == Decimal(total)


@dataclass(frozen=True)
class ShownSum:
    """An addition on screen, as written.

    Attributes
    ----------
    terms : tuple of str
        The terms as drawn (2 decimals).
    total : str
        The total as drawn: the real total, rounded like the terms.
    rounded : bool
        The written terms do not add up exactly to the written total (each was rounded on its
        own), so the total carries a "(rounded)" mark.
    """

    terms: tuple[str, ...]
    total: str
    rounded: bool


def shown_sum(terms, total: float) -> ShownSum:
    """The addition ``terms -> total`` as drawn: every number written with :func:`fmt`, and the
    total marked rounded when the written terms do not add up to it exactly."""
    written = tuple(fmt(float(v)) for v in terms)
    shown = fmt(float(total))
    return ShownSum(written, shown, not adds_up(written, shown))


def window_strings(win: ConvWindow, traced: float, listed: int | None = None) -> dict:
    """The exact strings a slide step draws for ``win``.

    ``traced`` is the output value the trace holds at the window (float32, as the network
    computed it): the total drawn is that value, so it matches the output map (the float64 sum
    of the terms can round the other way). ``listed`` (default: all) is how many channel sums
    the addition writes one by one; the other channels' sums are added up into one term, their
    real sum.

    Keys: ``patches``, ``kernels``, ``products`` (C x K x K nested lists), ``sums`` (C),
    ``bias``, ``total``; ``rest`` (the one term of the channels not listed, or None);
    ``channel_sums`` (C :class:`ShownSum`: each channel's products -> its sum), ``addition``
    (the :class:`ShownSum` listed channel sums [+ rest] + bias -> total) and ``formula``
    (``"s1 + s2 + s3 + bias b = total"``, the addition on one line).
    """
    def grid(a):
        return [[[fmt(float(v)) for v in row] for row in ch] for ch in a]

    c_in = len(win.channel_sums)
    listed = c_in if listed is None else max(0, min(int(listed), c_in))
    terms = [float(v) for v in win.channel_sums[:listed]]
    rest = float(np.sum(win.channel_sums[listed:])) if listed < c_in else None
    if rest is not None:
        terms.append(rest)
    addition = shown_sum(terms + [win.bias], traced)
    return {
        "patches": grid(win.patches),
        "kernels": grid(win.kernels),
        "products": grid(win.products),
        "sums": [fmt(float(s)) for s in win.channel_sums],
        "bias": fmt(win.bias),
        "total": addition.total,
        "rest": None if rest is None else fmt(rest),
        "channel_sums": [shown_sum(p.ravel(), s) for p, s in zip(win.products, win.channel_sums)],
        "addition": addition,
        "formula": " + ".join(addition.terms[:-1]) + " + bias " + fmt(win.bias) + " = "
                   + addition.total,
    }


@dataclass(frozen=True)
class ElasticData:
    """What the elastic view of one neuron shows.

    Attributes
    ----------
    inputs : numpy.ndarray
        (C_in, H, W) the stage's input maps.
    kernels : numpy.ndarray
        (C_in, K, K) the neuron's kernels.
    intermediate : numpy.ndarray
        (C_in, H', W') each input map cross-correlated with its kernel.
    bias : float
    output : numpy.ndarray
        (H', W') ``intermediate.sum(0) + bias`` (equals the traced output channel).
    n_in, n_out, n_kernels : int
        Input channels, neurons in the layer, and kernels in the layer (n_in * n_out).
    """

    inputs: np.ndarray
    kernels: np.ndarray
    intermediate: np.ndarray
    bias: float
    output: np.ndarray
    n_in: int
    n_out: int
    n_kernels: int


def elastic_data(trace, layer: str, neuron: int) -> ElasticData:
    """Intermediate maps, bias and output of ``neuron`` of ``layer`` from the trace."""
    st = trace[layer]
    inter = maths.intermediate_maps(st.input, st.weight, neuron, stride=st.stride or 1,
                                    padding=st.padding or 0)
    bias = float(st.bias[neuron])
    n_out, n_in = st.weight.shape[:2]
    return ElasticData(np.asarray(st.input, np.float64), np.asarray(st.weight[neuron], np.float64),
                       inter, bias, inter.sum(axis=0) + bias, n_in, n_out, n_in * n_out)


def input_scale(c_in: int, channel: int, is_image: bool | None = None) -> str:
    """Colour scale of an input map: tinted (RGB) or grey for the image, activations otherwise.

    ``is_image`` None guesses from the channel count (3 channels: the colour image).
    """
    if is_image is None:
        is_image = c_in == 3
    if not is_image:
        return "activation"
    return TINTS[channel] if c_in == 3 else "input"


def revealed(values: np.ndarray, n_cells: int, keep=()) -> np.ndarray:
    """``values`` with only the first ``n_cells`` cells in reading order kept; the others are
    NaN (not computed yet: drawn white, as CNN Explainer leaves them).

    The cells at the (row, col) positions in ``keep`` (those already computed) stay shown.
    """
    flat = np.full(values.size, np.nan)
    n = int(np.clip(n_cells, 0, values.size))
    flat[:n] = values.ravel()[:n]
    out = flat.reshape(values.shape)
    for r, c in keep:
        out[r, c] = values[r, c]
    return out
