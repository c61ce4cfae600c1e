"""Explanation maths against torch.nn.functional, at many positions, and against real traces."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnanim.errors import CnnanimError
from cnnanim.explain import maths
from cnnanim.explain.maths import (
    check_conv,
    conv2d,
    conv_output_size,
    conv_stage_window,
    conv_window,
    correlate2d,
    flatten_index,
    intermediate_maps,
    logit_terms,
    max_pool,
    pad,
    pool_window,
    relu,
    rescale,
    softmax_terms,
    unflatten_index,
)

PADDINGS = (0, 1, 2)
STRIDES = (1, 2, 3)
KERNELS = (1, 2, 3, 5)


def t64(a) -> torch.Tensor:
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def torch_conv(x, w, b=None, stride=1, padding=0) -> np.ndarray:
    """F.conv2d of one (C, H, W) input in float64, batch dimension removed."""
    return F.conv2d(t64(x)[None], t64(w), None if b is None else t64(b),
                    stride=stride, padding=padding)[0].numpy()


def random_positions(rng, shape, count):
    """``count`` random (channel, row, col) positions inside ``shape`` plus the four corners."""
    c, h, w = shape
    pos = np.stack([rng.integers(0, c, count), rng.integers(0, h, count), rng.integers(0, w, count)], 1)
    corners = [(c - 1, 0, 0), (0, h - 1, 0), (0, 0, w - 1), (c - 1, h - 1, w - 1)]
    return [tuple(int(v) for v in p) for p in pos] + corners


# --------------------------------------------------------------------------------------------
# check_conv
def test_check_conv_exhaustive_against_formula_and_torch():
    x_cache = {}
    for n, k, p, s in itertools.product(range(1, 13), range(1, 8), range(0, 4), range(1, 5)):
        c = check_conv(n, k, p, s)
        span = n - k + 2 * p
        assert (c.n, c.k, c.p, c.s) == (n, k, p, s)
        assert c.exact == Fraction(span, s) + 1
        assert c.valid == (span >= 0 and span % s == 0), (n, k, p, s)
        x = x_cache.setdefault(n, torch.zeros(1, 1, n, n))
        w = torch.zeros(1, 1, k, k)
        if span < 0:
            assert c.output_size is None and c.reason and "\n" not in c.reason
            with pytest.raises(RuntimeError):
                F.conv2d(x, w, padding=p, stride=s)
            with pytest.raises(CnnanimError):
                conv_output_size(n, k, p, s)
            continue
        torch_size = F.conv2d(x, w, padding=p, stride=s).shape[-1]
        assert c.leftover == span % s
        if c.valid:
            assert c.output_size == torch_size == span // s + 1 == int(c.exact)
            assert c.exact.denominator == 1 and c.reason == ""
            assert conv_output_size(n, k, p, s) == torch_size
            assert c.formula.endswith(f"= {torch_size}")
        else:
            # torch silently floors: its output size differs from the (fractional) formula
            assert c.output_size is None and c.exact.denominator != 1
            assert torch_size == int(c.exact) != c.exact
            assert c.reason and "\n" not in c.reason
            with pytest.raises(CnnanimError) as info:
                conv_output_size(n, k, p, s)
            assert "\n" not in str(info.value)


def test_check_conv_formula_text():
    assert check_conv(7, 3, 0, 2).formula == "(7 - 3 + 2\u00d70) / 2 + 1 = 3"
    assert check_conv(8, 3, 0, 2).formula == "(8 - 3 + 2\u00d70) / 2 + 1 = 7/2 = 3.5"
    assert check_conv(64, 3, 0, 1).output_size == 62
    assert check_conv(28, 3, 1, 1).output_size == 28


@pytest.mark.parametrize("args", [(0, 3, 0, 1), (5, 0, 0, 1), (5, 3, -1, 1), (5, 3, 0, 0),
                                  (5.5, 3, 0, 1), (5, 3, 0.5, 1), (5, 3, 0, -2)])
def test_check_conv_rejects_bad_numbers(args):
    with pytest.raises(CnnanimError) as info:
        check_conv(*args)
    assert "\n" not in str(info.value)


def test_check_conv_accepts_whole_floats():
    assert check_conv(5.0, 3.0, 0.0, 1.0).output_size == 3


# --------------------------------------------------------------------------------------------
# convolution
def test_pad_equals_torch():
    x = np.random.default_rng(0).random((2, 4, 5))
    for p in (0, 1, 2, 3):
        np.testing.assert_array_equal(pad(x, p), F.pad(t64(x), (p, p, p, p)).numpy())


@pytest.mark.parametrize("padding, stride, k", list(itertools.product(PADDINGS, STRIDES, KERNELS)))
def test_conv_window_against_torch(padding, stride, k):
    rng = np.random.default_rng(100 * padding + 10 * stride + k)
    c_in, c_out, h, w = 3, 4, 9, 11  # non-square so rows and columns cannot be swapped
    x = rng.normal(size=(c_in, h, w))
    weight = rng.normal(size=(c_out, c_in, k, k))
    bias = rng.normal(size=c_out)
    ref = torch_conv(x, weight, bias, stride, padding)
    xp = F.pad(t64(x), (padding,) * 4).numpy()
    # per-input-channel results (what each intermediate map shows), from torch with groups
    per_channel = F.conv2d(t64(np.repeat(x[None], c_out, 0).reshape(1, c_out * c_in, h, w)),
                           t64(weight.reshape(c_out * c_in, 1, k, k)), stride=stride,
                           padding=padding, groups=c_out * c_in)[0].numpy().reshape(c_out, c_in, *ref.shape[1:])
    for o, r, c in random_positions(rng, ref.shape, 40):
        win = conv_window(x, weight, bias, o, r, c, stride=stride, padding=padding)
        assert (win.out_channel, win.row, win.col) == (o, r, c)
        assert (win.top, win.left) == (r * stride, c * stride)
        np.testing.assert_array_equal(win.patches, xp[:, r * stride:r * stride + k, c * stride:c * stride + k])
        np.testing.assert_array_equal(win.kernels, weight[o])
        np.testing.assert_array_equal(win.products, win.patches * weight[o])
        assert win.patches.shape == win.products.shape == (c_in, k, k)
        np.testing.assert_allclose(win.channel_sums, per_channel[o, :, r, c], rtol=1e-12, atol=1e-12)
        assert win.bias == bias[o]
        assert win.total == pytest.approx(ref[o, r, c], rel=1e-12, abs=1e-12)
        assert win.total == pytest.approx(win.channel_sums.sum() + win.bias, rel=1e-15, abs=1e-15)
    # the output grid ends exactly where torch's does
    _, oh, ow = ref.shape
    conv_window(x, weight, bias, c_out - 1, oh - 1, ow - 1, stride=stride, padding=padding)
    for o, r, c in [(c_out, 0, 0), (0, oh, 0), (0, 0, ow), (-1, 0, 0), (0, -1, 0), (0, 0, -1)]:
        with pytest.raises(CnnanimError) as info:
            conv_window(x, weight, bias, o, r, c, stride=stride, padding=padding)
        assert "\n" not in str(info.value)


def test_conv_window_padding_cells_are_zero():
    x = np.ones((2, 5, 5))
    w = np.ones((1, 2, 3, 3))
    win = conv_window(x, w, np.zeros(1), 0, 0, 0, padding=2)
    # the top-left window of a 2-padded input covers 1 real cell per channel
    assert win.patches.sum() == 2 and win.patches[:, 2, 2].tolist() == [1.0, 1.0]
    assert win.total == 2 == torch_conv(x, w, padding=2)[0, 0, 0]


@pytest.mark.parametrize("padding, stride", list(itertools.product(PADDINGS, STRIDES)))
def test_correlate2d_conv2d_intermediate_maps_against_torch(padding, stride):
    rng = np.random.default_rng(7 + 10 * padding + stride)
    x = rng.normal(size=(3, 10, 13))
    weight = rng.normal(size=(5, 3, 3, 3))
    bias = rng.normal(size=5)
    ref = torch_conv(x, weight, bias, stride, padding)
    for c in range(3):
        np.testing.assert_allclose(correlate2d(x[c], weight[1, c], stride, padding),
                                   torch_conv(x[c:c + 1], weight[1:2, c:c + 1], None, stride, padding)[0],
                                   rtol=1e-12, atol=1e-12)
    out = conv2d(x, weight, bias, stride, padding)
    assert out.shape == ref.shape and out.dtype == np.float64
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv2d(x, weight, None, stride, padding),
                               torch_conv(x, weight, None, stride, padding), rtol=1e-12, atol=1e-12)
    for o in range(5):
        maps = intermediate_maps(x, weight, o, stride, padding)
        assert maps.shape == (3,) + ref.shape[1:]
        np.testing.assert_allclose(maps.sum(0) + bias[o], ref[o], rtol=1e-12, atol=1e-12)
    # the same numbers position by position
    for o, r, c in random_positions(rng, ref.shape, 20):
        win = conv_window(x, weight, bias, o, r, c, stride, padding)
        np.testing.assert_allclose(win.channel_sums, intermediate_maps(x, weight, o, stride, padding)[:, r, c],
                                   rtol=1e-12, atol=1e-12)


def test_correlate2d_kernel_too_large():
    with pytest.raises(CnnanimError):
        correlate2d(np.zeros((2, 2)), np.zeros((3, 3)))
    assert correlate2d(np.zeros((2, 2)), np.zeros((3, 3)), padding=1).shape == (2, 2)


def test_conv2d_accepts_float32_like_the_model():
    rng = np.random.default_rng(3)
    x = rng.random((3, 64, 64), dtype=np.float32)
    w = rng.normal(size=(10, 3, 3, 3)).astype(np.float32)
    b = rng.normal(size=10).astype(np.float32)
    ref = F.conv2d(torch.from_numpy(x)[None], torch.from_numpy(w), torch.from_numpy(b))[0].numpy()
    np.testing.assert_allclose(conv2d(x, w, b), ref, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------------------------
# ReLU, pooling
def test_relu_equals_torch():
    x = np.random.default_rng(1).normal(size=(4, 6, 7)).astype(np.float32)
    y = relu(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_array_equal(y, F.relu(torch.from_numpy(x)).numpy())
    assert relu(-3.0) == 0 and relu(2.5) == 2.5


POOLS = [(2, 2), (3, 3), (2, 1), (3, 2), (2, 3), (3, 1)]


def pool_inputs(rng):
    yield rng.normal(size=(3, 9, 11))                               # no ties
    yield rng.integers(0, 3, size=(3, 9, 11)).astype(np.float32)    # many ties
    yield np.maximum(rng.normal(size=(3, 10, 10)), 0)               # ReLU output: tied zeros
    yield np.zeros((2, 6, 7))                                       # all tied


@pytest.mark.parametrize("size, stride", POOLS)
def test_pool_window_and_max_pool_against_torch(size, stride):
    rng = np.random.default_rng(size * 10 + stride)
    for x in pool_inputs(rng):
        ref, idx = F.max_pool2d(t64(x)[None], size, stride, return_indices=True)
        ref, idx = ref[0].numpy(), idx[0].numpy()
        out = max_pool(x, size, stride)
        assert out.shape == ref.shape
        np.testing.assert_array_equal(out, ref)
        _, h, w = x.shape
        for c, r, col in random_positions(rng, ref.shape, 40):
            win = pool_window(x, c, r, col, size, stride)
            assert (win.channel, win.row, win.col, win.top, win.left) == (c, r, col, r * stride, col * stride)
            np.testing.assert_array_equal(win.values, x[c, r * stride:r * stride + size,
                                                         col * stride:col * stride + size])
            assert win.value == ref[c, r, col]
            ir, ic = win.input_argmax
            assert ir * w + ic == idx[c, r, col], (c, r, col)  # same cell as torch, also on ties
            assert win.argmax == (ir - win.top, ic - win.left)
            assert x[c, ir, ic] == win.value
        _, oh, ow = ref.shape
        for c, r, col in [(x.shape[0], 0, 0), (0, oh, 0), (0, 0, ow), (0, -1, 0)]:
            with pytest.raises(CnnanimError):
                pool_window(x, c, r, col, size, stride)


def test_pool_window_values_are_a_copy():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    win = pool_window(x, 0, 1, 1)
    x[0, 3, 3] = -1
    assert win.values.tolist() == [[10, 11], [14, 15]] and win.value == 15 and win.argmax == (1, 1)


# --------------------------------------------------------------------------------------------
# flatten, output layer, softmax
@pytest.mark.parametrize("shape", [(4, 5, 6), (10, 13, 13), (10, 7, 7), (1, 1, 1), (3, 1, 8)])
def test_flatten_index_matches_torch_flatten(shape):
    ids = torch.flatten(torch.arange(int(np.prod(shape))).reshape(1, *shape), 1)[0]
    grid = np.arange(int(np.prod(shape))).reshape(shape)
    c, h, w = shape
    positions = [flatten_index(ci, r, col, shape) for ci in range(c) for r in range(h) for col in range(w)]
    assert positions == list(range(c * h * w))  # channel, then row, then column
    for ci, r, col in itertools.product(range(c), range(h), range(w)):
        pos = flatten_index(ci, r, col, shape)
        assert ids[pos] == grid[ci, r, col]
        assert unflatten_index(pos, shape) == (ci, r, col)
    for pos in range(c * h * w):
        assert flatten_index(*unflatten_index(pos, shape), shape) == pos


def test_flatten_index_out_of_range():
    for cell in [(10, 0, 0), (0, 13, 0), (0, 0, 13), (-1, 0, 0)]:
        with pytest.raises(CnnanimError):
            flatten_index(*cell, (10, 13, 13))
    for pos in (-1, 1690, 5000):
        with pytest.raises(CnnanimError):
            unflatten_index(pos, (10, 13, 13))


def test_logit_terms_equal_linear():
    rng = np.random.default_rng(5)
    x = rng.random(1690)
    w = rng.normal(size=(10, 1690))
    b = rng.normal(size=10)
    ref = F.linear(t64(x), t64(w), t64(b)).numpy()
    for i in range(10):
        t = logit_terms(x, w, b, i)
        assert t.class_index == i
        np.testing.assert_array_equal(t.inputs, x)
        np.testing.assert_array_equal(t.weights, w[i])
        np.testing.assert_array_equal(t.products, x * w[i])
        assert t.bias == b[i]
        assert t.total == pytest.approx(ref[i], rel=1e-12, abs=1e-12)
    # a (C, H, W) input is flattened in torch's order
    x3 = x.reshape(10, 13, 13)
    assert logit_terms(x3, w, b, 3).total == pytest.approx(ref[3], rel=1e-12)


@pytest.mark.parametrize("logits", [
    [0.0] * 10,
    [1.0, 2.0, 3.0],
    [-2.5, 0.3, 7.1, 4.4, -9.0],
    [1000.0, 999.0, 0.0, -1000.0],
    [-800.0, -801.0, -805.0],
    [650.0, 690.0, 700.0],
    [-1e6, 1e6],
])
def test_softmax_terms_equal_torch(logits):
    z = np.array(logits)
    s = softmax_terms(z)
    ref = torch.softmax(t64(z), 0).numpy()
    np.testing.assert_allclose(s.probabilities, ref, rtol=1e-12, atol=1e-300)
    assert np.all(np.isfinite(s.exps)) and np.isfinite(s.total)
    assert s.total == pytest.approx(s.exps.sum(), rel=1e-12)
    np.testing.assert_allclose(s.probabilities, s.exps / s.total, rtol=1e-12)
    assert s.probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_array_equal(s.logits, z)


def test_softmax_terms_exps_are_exp_of_logits_for_ordinary_logits():
    z = np.random.default_rng(2).normal(scale=5, size=10)
    s = softmax_terms(z)
    np.testing.assert_allclose(s.exps, np.exp(z), rtol=1e-15)
    assert s.total == pytest.approx(np.exp(z).sum(), rel=1e-15)


@pytest.mark.parametrize("logits", [[1.0, 2.0, 3.0], [-3.0, -1.0, 4.0, 0.5], [-2.0, -2.0], [0.0, 0.0, 0.0],
                                    [5.0, 5.0, 5.0], [-1.0, -5.0, -3.0]])
def test_rescale_sums_to_one(logits):
    r = rescale(np.array(logits))
    assert r.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(r >= 0)
    # keeps the order of the logits
    order = np.argsort(logits, kind="stable")
    assert np.all(np.diff(r[order]) >= 0)


def test_rescale_values():
    np.testing.assert_allclose(rescale(np.array([1.0, 3.0])), [0.25, 0.75])
    np.testing.assert_allclose(rescale(np.array([-1.0, 1.0])), [0.0, 1.0])
    np.testing.assert_allclose(rescale(np.zeros(4)), [0.25] * 4)


# --------------------------------------------------------------------------------------------
# against real traces of the network
@pytest.mark.parametrize("preset", ["explainer", "seed"])
@pytest.mark.parametrize("stage", ["conv_1_1", "conv_2_1"])
def test_conv_window_equals_trace(traces, preset, stage):
    _, t = traces[preset]
    s = t[stage]
    rng = np.random.default_rng(11)
    scale = float(np.abs(s.output).max())
    for o, r, c in random_positions(rng, s.output.shape, 300):
        win = conv_stage_window(s, o, r, c)
        assert win.total == pytest.approx(float(s.output[o, r, c]), rel=1e-4, abs=1e-5 * scale), (o, r, c)
        assert win.patches.shape == (s.input.shape[0], 3, 3)
    # the whole map
    np.testing.assert_allclose(conv2d(s.input, s.weight, s.bias, s.stride, s.padding), s.output,
                               rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize("preset", ["explainer", "seed"])
def test_every_explanation_equals_trace(traces, preset):
    _, t = traces[preset]
    for name in t.stage_names("conv"):
        s = t[name]
        scale = float(np.abs(s.output).max())
        np.testing.assert_allclose(conv2d(s.input, s.weight, s.bias, s.stride, s.padding), s.output,
                                   rtol=1e-4, atol=1e-5 * scale, err_msg=name)
        for o in (0, 9):
            np.testing.assert_allclose(intermediate_maps(s.input, s.weight, o, s.stride, s.padding).sum(0)
                                       + s.bias[o], s.output[o], rtol=1e-4, atol=1e-5 * scale)
    for name in t.stage_names("relu"):
        np.testing.assert_array_equal(relu(t[name].input), t[name].output)
    rng = np.random.default_rng(12)
    for name in t.stage_names("pool"):
        s = t[name]
        np.testing.assert_array_equal(max_pool(s.input, s.kernel_size, s.stride), s.output)
        for c, r, col in random_positions(rng, s.output.shape, 100):
            assert pool_window(s.input, c, r, col, s.kernel_size, s.stride).value == s.output[c, r, col]
    shape = t["max_pool_2"].output.shape
    for c, r, col in random_positions(rng, shape, 100):
        assert t["flatten"].output[flatten_index(c, r, col, shape)] == t["max_pool_2"].output[c, r, col]
    out = t["output"]
    for i in range(10):
        assert logit_terms(t["flatten"].output, out.weight, out.bias, i).total == \
            pytest.approx(float(t.logits[i]), rel=1e-4, abs=1e-5)
    np.testing.assert_allclose(softmax_terms(t.logits).probabilities, t.probabilities, rtol=1e-6, atol=1e-8)


def test_module_exports():
    for name in ("check_conv", "conv_window", "pool_window", "flatten_index", "softmax_terms", "rescale"):
        assert callable(getattr(maths, name))
