"""Drawing blocks for CNN Explainer-style scenes (manim and numpy; never torch).

Readers (``get_*``) return new mobjects or groups; changers return ``self``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Group,
    ImageMobject,
    Line,
    Rectangle,
    Square,
    VGroup,
)
from manim.constants import RESAMPLING_ALGORITHMS

from cnnanim.draw import colors
from cnnanim.draw.text import NumberText, number


class FeatureMap(Group):
    """A 2-D map drawn as one nearest-neighbour image with a thin border.

    Parameters
    ----------
    values : numpy.ndarray
        (H, W) values, or (H, W, 3) floats in [0, 1] already coloured.
    scale : str
        ``activation`` (red-white-blue), ``activation_white`` (the same, zero pure white),
        ``weight`` (brown-white-green), ``input`` (grey),
        ``red``/``green``/``blue`` (tinted input channel), ``logit`` (orange) or ``rgb``.
    vmax : float, optional
        Half-range of a diverging scale (default: the map's largest magnitude).
    height : float
        Height in scene units.
    """

    def __init__(self, values: np.ndarray, scale: str = "activation", vmax: float | None = None,
                 height: float = 2.0, border_color: str = colors.INK, border_width: float = 1.5,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.values = np.asarray(values, dtype=np.float64)
        self.scale_name = scale
        self.vmax = vmax
        rgb = color_array(self.values, scale, vmax)
        self.rows, self.cols = rgb.shape[:2]
        self.image = ImageMobject(colors.to_uint8(rgb))
        self.image.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
        self.image.height = height
        self.border = Rectangle(width=self.image.width, height=self.image.height,
                                stroke_color=border_color, stroke_width=border_width)
        self.border.move_to(self.image)
        self.add(self.image, self.border)

    @property
    def cell_size(self) -> float:
        """Width of one cell in scene units."""
        return self.image.width / self.cols

    def cell_center(self, row: int, col: int) -> np.ndarray:
        """Scene position of the centre of cell (row, col) (row 0 at the top)."""
        ul = self.image.get_corner(UP + LEFT)
        c = self.cell_size
        return ul + RIGHT * c * (col + 0.5) + DOWN * c * (row + 0.5)

    def get_cell_box(self, row: int, col: int, height: int = 1, width: int = 1,
                     color: str = colors.HIGHLIGHT, stroke_width: float = 4) -> Rectangle:
        """A rectangle outlining ``height`` x ``width`` cells from (row, col)."""
        c = self.cell_size
        box = Rectangle(width=c * width, height=c * height, stroke_color=color,
                        stroke_width=stroke_width)
        ul = self.image.get_corner(UP + LEFT)
        box.move_to(ul + RIGHT * c * (col + width / 2) + DOWN * c * (row + height / 2))
        return box

    def set_values(self, values: np.ndarray, vmax: float | None = None) -> "FeatureMap":
        """Recolour the map with new values of the same shape (changer)."""
        self.values = np.asarray(values, dtype=np.float64)
        rgb = colors.to_uint8(color_array(self.values, self.scale_name,
                                          self.vmax if vmax is None else vmax))
        rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=-1)
        self.image.pixel_array = rgba
        return self


def color_array(values: np.ndarray, scale: str, vmax: float | None = None) -> np.ndarray:
    """Colours (H, W, 3) floats of ``values`` on a named scale; NaN cells (not computed yet)
    are white, as CNN Explainer leaves them."""
    if scale == "rgb":
        return np.clip(np.asarray(values, dtype=np.float64), 0, 1)
    blank = np.isnan(np.asarray(values, dtype=np.float64))
    if blank.any():
        rgb = color_array(np.where(blank, 0.0, values), scale, vmax)
        rgb[blank] = 1.0
        return rgb
    if scale == "activation":
        return colors.activation_rgb(values, vmax)
    if scale == "activation_white":
        return colors.activation_white_rgb(values, vmax)
    if scale == "weight":
        return colors.weight_rgb(values, vmax)
    if scale == "logit":
        return colors.logit_rgb(values)
    if scale == "input":
        return colors.input_rgb(values)
    if scale in colors.CHANNEL_TINTS:
        return colors.input_rgb(values, scale)
    raise ValueError(f"unknown colour scale {scale!r}")


class NumberGrid(VGroup):
    """A small grid of numbers in coloured cells (an input patch, a kernel, products).

    Parameters
    ----------
    values : numpy.ndarray
        (H, W) values.
    scale : str or None
        Cell colour scale (see :class:`FeatureMap`); ``None`` for plain white cells.
    vmax : float, optional
        Half-range of the colour scale.
    cell : float
        Cell side in scene units.
    decimals : int
        Decimals shown (2, as CNN Explainer's formula views).

    Every number of a grid has the same size, the widest filling at most :attr:`ROOM` of its
    cell; its colour reaches WCAG contrast 4.5:1 on its cell (see ``colors.text_color_for``).
    """

    #: Share of a cell's width the widest number may take (the rest is padding).
    ROOM = 0.78

    def __init__(self, values: np.ndarray, scale: str | None = None, vmax: float | None = None,
                 cell: float = 0.6, decimals: int = 2, font_size: float | None = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.values = np.atleast_2d(np.asarray(values, dtype=np.float64))
        self.decimals = decimals
        h, w = self.values.shape
        rgb = (color_array(self.values, scale, vmax) if scale is not None
               else np.ones((h, w, 3)))
        size = font_size or cell * 26
        self.cells = VGroup()
        self.numbers = VGroup()
        for r in range(h):
            for c in range(w):
                sq = Square(side_length=cell, stroke_color=colors.INK, stroke_width=1,
                            fill_color=colors.rgb_to_hex(rgb[r, c]), fill_opacity=1)
                sq.move_to(RIGHT * c * cell + DOWN * r * cell)
                self.cells.add(sq)
                self.numbers.add(number(self.values[r, c], decimals, size,
                                        colors.text_color_for(rgb[r, c])))
        # one size for every number of the grid, with room on both sides of the widest
        widest = max(n.width for n in self.numbers)
        if widest > cell * self.ROOM:
            for n in self.numbers:
                n.scale(cell * self.ROOM / widest)
        for sq, n in zip(self.cells, self.numbers):
            n.move_to(sq)
        self.add(self.cells, self.numbers)
        self.move_to(np.zeros(3))

    def get_cell(self, row: int, col: int) -> Square:
        """The square of cell (row, col)."""
        return self.cells[row * self.values.shape[1] + col]

    def get_number(self, row: int, col: int) -> NumberText:
        """The number of cell (row, col)."""
        return self.numbers[row * self.values.shape[1] + col]


def kernel_glyph(weights: np.ndarray, vmax: float | None = None, cell: float = 0.6,
                 decimals: int = 2) -> NumberGrid:
    """A kernel drawn in the weight colours with its real values."""
    return NumberGrid(weights, scale="weight", vmax=vmax, cell=cell, decimals=decimals)


def arrange_row(items: Sequence, buff: float = 0.4) -> Group:
    """Items side by side, centred vertically."""
    g = Group(*items)
    g.arrange(RIGHT, buff=buff)
    return g


# -- bar charts (the output layer's probabilities, softmax's columns) -------------------------------
def hbar(value: float, left: float, y: float, *, max_length: float, height: float, color: str,
         min_length: float) -> Rectangle:
    """A bar of length ``value * max_length`` (at least ``min_length``: a zero still shows)
    from x = ``left``, centred on height ``y``."""
    length = max(float(value) * max_length, min_length)
    bar = Rectangle(width=length, height=height, stroke_width=0, fill_color=color, fill_opacity=1)
    return bar.move_to([left + length / 2, y, 0])


def grow_bars(rows, bar: int = 0) -> list:
    """The animations that bring in the rows of a bar chart: member ``bar`` of each row grows
    from its left edge, then the rest of each row fades in."""
    from manim import FadeIn, GrowFromEdge

    return [*[GrowFromEdge(r[bar], LEFT) for r in rows],
            *[FadeIn(VGroup(*[m for k, m in enumerate(r) if k != bar])) for r in rows]]


def zoom_lines(box, target) -> VGroup:
    """Two thin lines from the right corners of ``box`` (a window on a map) to the left corners
    of ``target`` (its enlarged view)."""
    g = VGroup(Line(box.get_corner(UP + RIGHT), target.get_corner(UP + LEFT)),
               Line(box.get_corner(DOWN + RIGHT), target.get_corner(DOWN + LEFT)))
    return g.set_stroke(colors.HIGHLIGHT, 1.5)
