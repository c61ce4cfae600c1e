"""Explanation maths: the exact numbers one animation step shows, in plain numpy.

Every function here recomputes one small piece of a forward pass (a convolution window, a pooling
window, a flatten position, a logit, softmax) from the traced tensors, so scenes can show the
terms and tests can check them against the trace and against ``torch.nn.functional``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from cnnanim.errors import CnnanimError


# --------------------------------------------------------------------------------------------
# output size and validity
@dataclass(frozen=True)
class ConvCheck:
    """Whether a kernel of size K with padding P and stride S slides evenly over width N.

    Attributes
    ----------
    valid : bool
        True when (N - K + 2P) / S + 1 is a whole number >= 1.
    output_size : int or None
        The output width when valid.
    exact : fractions.Fraction
        (N - K + 2P) / S + 1 as an exact fraction (for writing it out).
    leftover : int
        Input cells (padded) the last window position leaves uncovered: (N - K + 2P) mod S.
    reason : str
        Empty when valid, otherwise a sentence saying why.
    """

    n: int
    k: int
    p: int
    s: int
    valid: bool
    output_size: int | None
    exact: Fraction
    leftover: int
    reason: str = ""

    @property
    def formula(self) -> str:
        """The formula with the numbers filled in, e.g. ``(7 - 3 + 2*0) / 2 + 1 = 3``."""
        lhs = f"({self.n} - {self.k} + 2\u00d7{self.p}) / {self.s} + 1"
        e = self.exact
        rhs = str(e.numerator) if e.denominator == 1 else f"{e.numerator}/{e.denominator} = {float(e):g}"
        return f"{lhs} = {rhs}"


def check_conv(n: int, k: int, p: int = 0, s: int = 1) -> ConvCheck:
    """Check a convolution's hyper-parameters (input width N, kernel K, padding P, stride S)."""
    for label, v, lo in (("input size", n, 1), ("kernel size", k, 1), ("padding", p, 0), ("stride", s, 1)):
        if int(v) != v or v < lo:
            raise CnnanimError(f"{label} must be a whole number >= {lo}, got {v}")
    n, k, p, s = int(n), int(k), int(p), int(s)
    span = n - k + 2 * p
    exact = Fraction(span, s) + 1
    if span < 0:
        return ConvCheck(n, k, p, s, False, None, exact, 0,
                         f"the {k}x{k} kernel is larger than the padded {n + 2 * p}x{n + 2 * p} input")
    leftover = span % s
    if leftover:
        return ConvCheck(n, k, p, s, False, None, exact, leftover,
                         f"the kernel cannot slide symmetrically: after {span // s} step{'s' if span // s != 1 else ''} "
                         f"of {s}, {leftover} cell{'s' if leftover > 1 else ''} "
                         f"remain{'' if leftover > 1 else 's'} "
                         f"uncovered, so the output size {exact.numerator}/{exact.denominator} "
                         "is not a whole number")
    return ConvCheck(n, k, p, s, True, span // s + 1, exact, 0)


def conv_output_size(n: int, k: int, p: int = 0, s: int = 1) -> int:
    """Output width of a convolution; raises :class:`CnnanimError` when the combination is invalid."""
    c = check_conv(n, k, p, s)
    if not c.valid:
        raise CnnanimError(f"invalid convolution N={n} K={k} P={p} S={s}: {c.reason}")
    return int(c.output_size)


# --------------------------------------------------------------------------------------------
# convolution
def pad(x: np.ndarray, p: int) -> np.ndarray:
    """Zero-pad the last two axes of ``x`` by ``p`` on every side."""
    if p == 0:
        return np.asarray(x)
    widths = [(0, 0)] * (np.ndim(x) - 2) + [(p, p), (p, p)]
    return np.pad(x, widths, mode="constant")


@dataclass(frozen=True)
class ConvWindow:
    """One output neuron of a convolution at one position, term by term.

    Attributes
    ----------
    out_channel, row, col : int
        Output position.
    top, left : int
        Top-left of the window in the padded input.
    patches : numpy.ndarray
        (C_in, K, K) input values under the window (zeros where it covers padding).
    kernels : numpy.ndarray
        (C_in, K, K) the neuron's kernel for each input channel.
    products : numpy.ndarray
        (C_in, K, K) element-wise products.
    channel_sums : numpy.ndarray
        (C_in,) sum of each channel's products (the intermediate result).
    bias : float
    total : float
        ``channel_sums.sum() + bias``: the output value.
    """

    out_channel: int
    row: int
    col: int
    top: int
    left: int
    patches: np.ndarray
    kernels: np.ndarray
    products: np.ndarray
    channel_sums: np.ndarray
    bias: float
    total: float


def conv_window(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, out_channel: int,
                row: int, col: int, stride: int = 1, padding: int = 0) -> ConvWindow:
    """Compute output ``(out_channel, row, col)`` of a convolution of ``x`` (C, H, W), term by term."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    c_out, c_in, k, _ = w.shape
    xp = pad(x, padding)
    n_out_h = (xp.shape[1] - k) // stride + 1
    n_out_w = (xp.shape[2] - k) // stride + 1
    if not (0 <= out_channel < c_out and 0 <= row < n_out_h and 0 <= col < n_out_w):
        raise CnnanimError(f"position ({out_channel}, {row}, {col}) is outside the output "
                           f"({c_out}, {n_out_h}, {n_out_w})")
    top, left = row * stride, col * stride
    patches = xp[:, top:top + k, left:left + k]
    kernels = w[out_channel]
    products = patches * kernels
    sums = products.reshape(c_in, -1).sum(axis=1)
    b = float(np.asarray(bias, dtype=np.float64)[out_channel])
    return ConvWindow(out_channel, row, col, top, left, patches, kernels, products, sums, b,
                      float(sums.sum() + b))


def conv_stage_window(stage, out_channel: int, row: int, col: int) -> ConvWindow:
    """:func:`conv_window` for a traced conv stage (uses its input, weights and hyper-parameters)."""
    return conv_window(stage.input, stage.weight, stage.bias, out_channel, row, col,
                       stride=stage.stride or 1, padding=stage.padding or 0)


def correlate2d(x: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Cross-correlate one 2-D map with one 2-D kernel (what a conv layer does per channel)."""
    xp = pad(np.asarray(x, dtype=np.float64), padding)
    k = np.asarray(kernel, dtype=np.float64)
    kh, kw = k.shape
    oh = (xp.shape[0] - kh) // stride + 1
    ow = (xp.shape[1] - kw) // stride + 1
    if oh < 1 or ow < 1:
        raise CnnanimError(f"a {kh}x{kw} kernel does not fit a {xp.shape[0]}x{xp.shape[1]} input")
    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw))[::stride, ::stride][:oh, :ow]
    return np.einsum("ijkl,kl->ij", windows, k)


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: int = 1,
           padding: int = 0) -> np.ndarray:
    """Full multi-channel convolution (C_in, H, W) -> (C_out, H', W'), as ``F.conv2d`` computes."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    out = np.stack([sum(correlate2d(x[c], w[o, c], stride, padding) for c in range(w.shape[1]))
                    for o in range(w.shape[0])])
    if bias is not None:
        out = out + np.asarray(bias, dtype=np.float64)[:, None, None]
    return out


def intermediate_maps(x: np.ndarray, weight: np.ndarray, out_channel: int, stride: int = 1,
                      padding: int = 0) -> np.ndarray:
    """The per-input-channel results (C_in, H', W') that a conv neuron sums before adding its bias."""
    w = np.asarray(weight, dtype=np.float64)
    return np.stack([correlate2d(x[c], w[out_channel, c], stride, padding) for c in range(w.shape[1])])


# --------------------------------------------------------------------------------------------
# ReLU and pooling
def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x), element-wise."""
    return np.maximum(np.asarray(x), 0)


@dataclass(frozen=True)
class PoolWindow:
    """One max-pooling window.

    Attributes
    ----------
    channel, row, col : int
        Output position.
    top, left : int
        Top-left of the window in the input.
    values : numpy.ndarray
        (size, size) input values under the window.
    argmax : tuple of int
        (row, col) of the maximum inside the window (first one on ties, as torch).
    value : float
        The maximum: the output value.
    """

    channel: int
    row: int
    col: int
    top: int
    left: int
    values: np.ndarray
    argmax: tuple[int, int]
    value: float

    @property
    def input_argmax(self) -> tuple[int, int]:
        """(row, col) of the maximum in the input map."""
        return (self.top + self.argmax[0], self.left + self.argmax[1])


def pool_window(x: np.ndarray, channel: int, row: int, col: int, size: int = 2,
                stride: int = 2) -> PoolWindow:
    """The max-pooling window that produces output ``(channel, row, col)`` from ``x`` (C, H, W)."""
    x = np.asarray(x)
    oh = (x.shape[1] - size) // stride + 1
    ow = (x.shape[2] - size) // stride + 1
    if not (0 <= channel < x.shape[0] and 0 <= row < oh and 0 <= col < ow):
        raise CnnanimError(f"position ({channel}, {row}, {col}) is outside the output "
                           f"({x.shape[0]}, {oh}, {ow})")
    top, left = row * stride, col * stride
    vals = x[channel, top:top + size, left:left + size]
    flat = int(np.argmax(vals))
    return PoolWindow(channel, row, col, top, left, vals.copy(), divmod(flat, size),
                      float(vals.flat[flat]))


def max_pool(x: np.ndarray, size: int = 2, stride: int = 2) -> np.ndarray:
    """Max-pool every channel of ``x`` (C, H, W)."""
    x = np.asarray(x)
    win = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return win.max(axis=(-1, -2))


# --------------------------------------------------------------------------------------------
# flatten, output layer, softmax
def flatten_index(channel: int, row: int, col: int, shape: tuple[int, int, int]) -> int:
    """Position in the flattened vector of cell (channel, row, col) of a (C, H, W) tensor.

    PyTorch's order: channel, then row, then column (``c*H*W + r*W + col``).
    """
    c, h, w = shape
    if not (0 <= channel < c and 0 <= row < h and 0 <= col < w):
        raise CnnanimError(f"cell ({channel}, {row}, {col}) is outside {shape}")
    return (channel * h + row) * w + col


def unflatten_index(position: int, shape: tuple[int, int, int]) -> tuple[int, int, int]:
    """Inverse of :func:`flatten_index`."""
    c, h, w = shape
    if not 0 <= position < c * h * w:
        raise CnnanimError(f"position {position} is outside a vector of {c * h * w}")
    channel, rest = divmod(position, h * w)
    row, col = divmod(rest, w)
    return channel, row, col


@dataclass(frozen=True)
class LogitTerms:
    """One output neuron: flattened input times its weights, summed, plus bias.

    Attributes
    ----------
    class_index : int
    inputs, weights, products : numpy.ndarray
        (N,) each.
    bias, total : float
        ``total = products.sum() + bias`` is the logit.
    """

    class_index: int
    inputs: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    bias: float
    total: float


def logit_terms(flat: np.ndarray, weight: np.ndarray, bias: np.ndarray, class_index: int) -> LogitTerms:
    """The terms of logit ``class_index`` of a linear layer."""
    x = np.asarray(flat, dtype=np.float64).ravel()
    w = np.asarray(weight, dtype=np.float64)[class_index]
    prod = x * w
    b = float(np.asarray(bias, dtype=np.float64)[class_index])
    return LogitTerms(class_index, x, w, prod, b, float(prod.sum() + b))


@dataclass(frozen=True)
class SoftmaxTerms:
    """Softmax written out.

    Attributes
    ----------
    logits, exps, probabilities : numpy.ndarray
        (classes,) each; ``exps = exp(logits)``, ``probabilities = exps / total``.
    total : float
        Sum of the exps.
    """

    logits: np.ndarray
    exps: np.ndarray
    total: float
    probabilities: np.ndarray


def softmax_terms(logits: np.ndarray) -> SoftmaxTerms:
    """exp of each logit, their sum and the probabilities (float64; exact for TinyVGG's logits)."""
    z = np.asarray(logits, dtype=np.float64)
    if z.max() - z.min() > 700 or np.abs(z).max() > 700:  # keep exp finite; the result is the same
        shifted = np.exp(z - z.max())
        return SoftmaxTerms(z, shifted, float(shifted.sum()), shifted / shifted.sum())
    e = np.exp(z)
    return SoftmaxTerms(z, e, float(e.sum()), e / e.sum())


def rescale(logits: np.ndarray) -> np.ndarray:
    """Plain rescaling to sum 1 (shifted to be non-negative): the naive alternative to softmax."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - min(0.0, float(z.min()))
    s = z.sum()
    return z / s if s > 0 else np.full_like(z, 1.0 / len(z))
