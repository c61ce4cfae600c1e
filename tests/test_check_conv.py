"""maths.check_conv, exhaustively for small sizes, and the ``cnnanim check-conv`` command."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from cnnanim.cli import main
from cnnanim.errors import CnnanimError
from cnnanim.explain import maths

COMBOS = list(itertools.product(range(1, 13), range(1, 8), range(0, 4), range(1, 5)))


def test_check_conv_exhaustive_against_the_formula():
    for n, k, p, s in COMBOS:
        c = maths.check_conv(n, k, p, s)
        exact = Fraction(n - k + 2 * p, s) + 1
        assert c.exact == exact
        valid = (n - k + 2 * p) >= 0 and (n - k + 2 * p) % s == 0
        assert c.valid == valid, (n, k, p, s)
        if valid:
            assert c.output_size == (n - k + 2 * p) // s + 1 == exact
            assert c.leftover == 0 and c.reason == ""
            assert maths.conv_output_size(n, k, p, s) == c.output_size
        else:
            assert c.output_size is None and c.reason
            with pytest.raises(CnnanimError):
                maths.conv_output_size(n, k, p, s)
            if n - k + 2 * p >= 0:
                assert c.leftover == (n - k + 2 * p) % s > 0
                assert f"{exact.numerator}/{exact.denominator}" in c.reason


def test_check_conv_exhaustive_against_torch():
    """Valid: torch's output has exactly that size. Fractional: torch silently floors."""
    for n, k, p, s in COMBOS:
        c = maths.check_conv(n, k, p, s)
        x = torch.ones(1, 1, n, n)
        w = torch.ones(1, 1, k, k)
        if n + 2 * p < k:
            assert not c.valid
            with pytest.raises(RuntimeError):
                F.conv2d(x, w, padding=p, stride=s)
            continue
        out = F.conv2d(x, w, padding=p, stride=s)
        if c.valid:
            assert out.shape[-1] == out.shape[-2] == c.output_size
        else:
            assert out.shape[-1] == int(c.exact) < c.exact  # floor: the leftover cells are dropped


def test_formula_text_has_the_numbers():
    c = maths.check_conv(7, 3, 0, 3)
    assert c.formula.startswith("(7 - 3 + 2×0) / 3 + 1 = 7/3")
    assert maths.check_conv(7, 3, 1, 1).formula == "(7 - 3 + 2×1) / 1 + 1 = 7"
    assert maths.check_conv(64, 3, 0, 1).output_size == 62


@pytest.mark.parametrize("bad", [(0, 3, 0, 1), (7, 0, 0, 1), (7, 3, -1, 1), (7, 3, 0, 0), (7.5, 3, 0, 1)])
def test_check_conv_rejects_bad_numbers(bad):
    with pytest.raises(CnnanimError):
        maths.check_conv(*bad)


def test_cli_check_conv_valid():
    r = CliRunner().invoke(main, ["check-conv", "7", "3", "1", "1"])
    assert r.exit_code == 0, r.output
    assert "7x7" in r.output and "(7 - 3 + 2×1) / 1 + 1 = 7" in r.output


def test_cli_check_conv_defaults():
    r = CliRunner().invoke(main, ["check-conv", "64", "3"])
    assert r.exit_code == 0 and "62x62" in r.output


def test_cli_check_conv_invalid_prints_the_fraction():
    r = CliRunner().invoke(main, ["check-conv", "7", "3", "0", "3"])
    assert r.exit_code == 1
    assert "invalid" in r.output and "symmetrically" in r.output and "7/3" in r.output
    assert "Traceback" not in r.output


def test_cli_check_conv_kernel_too_big():
    r = CliRunner().invoke(main, ["check-conv", "2", "5"])
    assert r.exit_code == 1 and "larger" in r.output


def test_cli_check_conv_bad_argument():
    r = CliRunner().invoke(main, ["check-conv", "7", "0"])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_cli_render_forwards_hyper_parameters(monkeypatch):
    seen = {}

    def fake_render_scenes(names, **kwargs):
        seen.update(kwargs, names=names)
        return []

    monkeypatch.setattr("cnnanim.output.render.render_scenes", fake_render_scenes)
    r = CliRunner().invoke(main, ["render", "stride", "--input-size", "7", "--kernel", "3",
                                  "--padding", "0", "--stride", "3"])
    assert r.exit_code == 0, r.output
    assert seen["names"] == ("stride",)
    assert (seen["input_size"], seen["kernel"], seen["padding_amount"], seen["stride_amount"]) == (7, 3, 0, 3)
    seen.clear()
    r = CliRunner().invoke(main, ["render", "padding"])
    assert r.exit_code == 0 and "input_size" not in seen and "stride_amount" not in seen
