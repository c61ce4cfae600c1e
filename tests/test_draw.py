"""Drawing blocks: legible numbers on coloured cells, CNN Explainer's scales."""

from __future__ import annotations

import numpy as np
import pytest

from cnnanim.draw import colors
from cnnanim.draw.mobjects import NumberGrid


def _fill(square) -> str:
    return colors.rgb_to_hex(square.get_fill_color().to_rgb())


def _text(num) -> str:
    return colors.rgb_to_hex(num.get_fill_color().to_rgb())


@pytest.mark.parametrize("scale", ["activation", "weight", "logit", "input", "red", "green",
                                   "blue", None])
def test_every_number_cell_reaches_wcag_contrast(scale):
    rng = np.random.default_rng(0)
    lo = 0.0 if scale in ("input", "red", "green", "blue") else -1.0
    values = np.concatenate([np.linspace(lo, 1.0, 41), rng.uniform(lo, 1.0, 40)]).reshape(9, 9)
    grid = NumberGrid(values, scale=scale, cell=0.6)
    for sq, num in zip(grid.cells, grid.numbers):
        assert colors.contrast_ratio(_text(num), _fill(sq)) >= 4.5, (_text(num), _fill(sq))


def test_numbers_of_a_grid_share_one_size_and_keep_padding():
    values = np.array([[0.92, -0.93, 0.05], [-12.5, 3.14, -0.01], [0.0, 1.0, -1.0]])
    grid = NumberGrid(values, scale="activation", cell=0.6)
    # a minus sign does not make a number smaller: the digits of every number are equally tall
    heights = [n.height for n in grid.numbers]
    assert max(heights) - min(heights) < 1e-6
    for sq, n in zip(grid.cells, grid.numbers):
        assert n.width <= NumberGrid.ROOM * sq.width + 1e-9
        assert abs(n.get_center()[0] - sq.get_center()[0]) < 1e-6


def test_weight_scale_is_cnn_explainers_kernel_view():
    # BrBG from 0.2 to 0.8, at half opacity on white: yellow for -vmax, green for +vmax
    neg, mid, pos = colors.weight_rgb(np.array([-1.0, 0.0, 1.0]))
    assert np.allclose(neg, colors.on_white(colors.hex_to_rgb("#bf812d"), 0.5))
    assert np.allclose(pos, colors.on_white(colors.hex_to_rgb("#35978f"), 0.5))
    assert neg[0] > neg[2] and pos[1] > pos[0] and np.all(mid > 0.95)


def test_tinted_input_is_dark_for_zero_and_bright_for_one():
    zero, one = colors.input_rgb(np.array([0.0, 1.0]), "red")
    assert np.allclose(zero, 0) and np.allclose(one, colors.hex_to_rgb(colors.CHANNEL_TINTS["red"]))
