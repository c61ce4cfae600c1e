"""The numbers of the hyper-parameter scenes: crops, kernels, window positions, coverage (numpy only).

Every scene works on a real patch: an ``input_size`` x ``input_size`` centre crop of one input
channel of the traced layer and the real kernel of the chosen neuron for that channel.
:func:`example_data` computes the output with :mod:`cnnanim.explain.maths`; tests compare it
with ``torch.nn.functional.conv2d``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnanim.errors import CnnanimError
from cnnanim.explain import maths

#: Largest input the scenes draw (a crop of the layer's input).
MAX_INPUT = 16


def example_kernel(real: np.ndarray, k: int) -> np.ndarray:
    """A K x K kernel derived deterministically from a real kernel (R x R).

    K == R: the real kernel. K < R: its K x K block starting at ((R-K)//2, (R-K)//2) (top-left
    corner for 2 from 3). K > R: the real kernel surrounded by zeros ((K-R)//2 before, the rest
    after).
    """
    real = np.asarray(real, dtype=np.float64)
    r = real.shape[0]
    if k == r:
        return real.copy()
    if k < r:
        a = (r - k) // 2
        return real[a:a + k, a:a + k].copy()
    before = (k - r) // 2
    return np.pad(real, ((before, k - r - before), (before, k - r - before)))


def kernel_origin(k: int, r: int) -> str:
    """How the K x K example kernel comes from the real R x R one (see :func:`example_kernel`).

    Returns ``real``, ``middle`` (cut from its middle), ``corner`` (its top-left corner) or
    ``zeros`` (zeros added around it).
    """
    if k == r:
        return "real"
    if k < r:
        return "middle" if (r - k) // 2 else "corner"
    return "zeros"


def window_starts(n: int, k: int, p: int, s: int) -> list[int]:
    """Top/left coordinates (in the padded input) where the window lands along one axis."""
    span = n + 2 * p - k
    return list(range(0, span + 1, s)) if span >= 0 else []


def coverage(n: int, k: int, p: int, s: int) -> np.ndarray:
    """How many window positions cover each cell of the unpadded N x N input."""
    starts = window_starts(n, k, p, s)
    per_axis = np.zeros(n, dtype=int)
    for a in starts:
        for i in range(a, a + k):
            if p <= i < p + n:
                per_axis[i - p] += 1
    return np.outer(per_axis, per_axis)


def covering_starts(starts: list[int], k: int, cell: int) -> list[int]:
    """The window positions (along one axis) whose K cells include padded cell ``cell``."""
    return [a for a in starts if a <= cell < a + k]


def windows_over(starts: list[int], k: int, row: int, col: int) -> list[tuple[int, int]]:
    """Output positions (i, j) whose K x K window covers padded cell (``row``, ``col``)."""
    return [(i, j) for i, a in enumerate(starts) if a <= row < a + k
            for j, b in enumerate(starts) if b <= col < b + k]


def size_formula(check: maths.ConvCheck) -> str:
    """The output-size formula as the scenes write it: ``(7 - 3 + 2×0) / 2 + 1 = 3``,
    ``(8 - 3 + 2×0) / 2 + 1 = 7/2 = 3.5`` or ``(7 - 3 + 2×0) / 3 + 1 = 7/3 ≈ 2.33`` (the
    fraction exact, its decimal marked rounded where it is)."""
    lhs = f"({check.n} - {check.k} + 2\u00d7{check.p}) / {check.s} + 1"
    e = check.exact
    if e.denominator == 1:
        return f"{lhs} = {e.numerator}"
    exact = (e * 100).denominator == 1
    decimal = f"= {float(e):g}" if exact else f"\u2248 {float(e):.2f}"
    return f"{lhs} = {e.numerator}/{e.denominator} {decimal}"


def leftover_cells(m: int, leftover: int) -> list[tuple[int, int]]:
    """Cells of the padded M x M input in the last ``leftover`` rows or columns (never reached)."""
    last = range(m - leftover, m)
    return [(r, c) for r in range(m) for c in range(m) if r in last or c in last]


@dataclass(frozen=True)
class ConvExample:
    """One convolution of the crop with one kernel.

    Attributes
    ----------
    crop : numpy.ndarray
        (N, N) real values (the layer's input, channel ``channel``).
    kernel : numpy.ndarray
        (K, K) kernel (real when K equals the layer's kernel size).
    real : bool
        True when ``kernel`` is the network's own kernel, not derived from it.
    check : cnnanim.explain.maths.ConvCheck
    output : numpy.ndarray or None
        (out, out) ``maths.conv2d`` of the crop (one channel, no bias); None when invalid.
    starts : list of int
        Window positions along each axis.
    """

    crop: np.ndarray
    kernel: np.ndarray
    real: bool
    check: maths.ConvCheck
    output: np.ndarray | None
    starts: list[int]

    # N, K, P and S, as checked
    n = property(lambda self: self.check.n, doc="Input size N.")
    k = property(lambda self: self.check.k, doc="Kernel size K.")
    p = property(lambda self: self.check.p, doc="Padding P.")
    s = property(lambda self: self.check.s, doc="Stride S.")

    @property
    def padded_size(self) -> int:
        """Side of the padded input, N + 2P."""
        return self.n + 2 * self.p


def get_crop(trace, layer: str, size: int, channel: int = 0) -> np.ndarray:
    """The centre ``size`` x ``size`` crop of input channel ``channel`` of stage ``layer``."""
    x = np.asarray(trace[layer].input[channel], dtype=np.float64)
    h, w = x.shape
    if not 1 <= size <= min(h, w, MAX_INPUT):
        raise CnnanimError(f"input size must be between 1 and {min(h, w, MAX_INPUT)}, got {size}")
    top, left = (h - size) // 2, (w - size) // 2
    return x[top:top + size, left:left + size].copy()


def example_data(trace, layer: str, neuron: int, n: int, k: int, p: int, s: int,
                 channel: int = 0) -> ConvExample:
    """The crop, kernel, validity and output of one hyper-parameter combination."""
    check = maths.check_conv(n, k, p, s)
    crop = get_crop(trace, layer, n, channel)
    real_kernel = np.asarray(trace[layer].weight[neuron, channel], dtype=np.float64)
    kernel = example_kernel(real_kernel, k)
    output = None
    if check.valid:
        output = maths.conv2d(crop[None], kernel[None, None], stride=s, padding=p)[0]
    return ConvExample(crop, kernel, k == real_kernel.shape[0], check, output,
                       window_starts(n, k, p, s))


def seed_data(seed_trace, neuron: int) -> dict:
    """A padded first layer (the seed model's, or any model's that pads): its input ``image``
    ((H, W) grey, or (H, W, 3) colour), the ``conv_1_1`` ``map`` of ``neuron``, the size
    ``check`` and its ``n``, ``k``, ``p`` and output side ``m``."""
    st = seed_trace["conv_1_1"]
    check = maths.check_conv(st.input.shape[1], st.kernel_size, st.padding, st.stride)
    image = seed_trace.image
    image = image[0] if len(image) == 1 else np.transpose(image, (1, 2, 0))
    return dict(image=image, map=st.output[neuron], check=check,
                n=st.input.shape[1], k=st.kernel_size, p=st.padding, m=st.output.shape[1])
