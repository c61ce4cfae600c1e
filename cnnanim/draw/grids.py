"""Grids of valued cells with zero padding around them (manim and numpy; never torch).

A :class:`CellGrid` draws every cell as its own square with its number, so single cells can be
boxed, faded in one by one or marked; :func:`grid_cell` picks a cell side that fits.
"""

from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, Line, Rectangle, Square, VGroup

from cnnanim.draw import colors
from cnnanim.draw.mobjects import color_array
from cnnanim.draw.text import number

#: Zero-padding cells: grey, hatched, clearly not part of the photo.
PAD_FILL = "#c9c9c9"
PAD_TEXT = "#5a5a5a"
PAD_HATCH = "#a9a9a9"


class CellGrid(VGroup):
    """Cells with real values; ``pad`` rings of grey, hatched ``0`` cells around them.

    Coordinates are in the padded grid: cell (0, 0) is the top-left padding cell.

    Parameters
    ----------
    values : numpy.ndarray
        (H, W) values of the inner cells.
    pad : int
        Rings of padding cells around them.
    cell : float
        Cell side in scene units; numbers are shown from 0.36 up (two decimals from 0.55).
    scale, vmax : str, float
        Colour scale of the inner cells (see :func:`cnnanim.draw.mobjects.color_array`).
    blank : bool
        Outline only: the cells are shown later, one by one (``FadeIn(grid.by_pos[(r, c)])``).
    """

    def __init__(self, values: np.ndarray, pad: int = 0, cell: float = 0.5,
                 scale: str = "activation", vmax: float | None = None, decimals: int | None = None,
                 font_size: float = 18, blank: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        values = np.atleast_2d(np.asarray(values, dtype=np.float64))
        self.values, self.pad, self.cell = values, pad, cell
        h, w = values.shape
        self.rows, self.cols = h + 2 * pad, w + 2 * pad
        rgb = color_array(values, scale, vmax)
        show_numbers = cell >= 0.36
        if decimals is None:  # two decimals only where they stay readable
            decimals = 2 if cell >= 0.55 else 1
        self.inner, self.padding, self.frames = VGroup(), VGroup(), VGroup()
        self.by_pos: dict[tuple[int, int], VGroup] = {}
        for r in range(self.rows):
            for c in range(self.cols):
                pos = RIGHT * c * cell + DOWN * r * cell
                is_pad = not (pad <= r < pad + h and pad <= c < pad + w)
                if is_pad:
                    sq = Square(cell, stroke_color=colors.INK, stroke_width=1, fill_color=PAD_FILL,
                                fill_opacity=1).move_to(pos)
                    hatch = VGroup(*[Line(sq.get_corner(DOWN + LEFT) + RIGHT * cell * t,
                                          sq.get_corner(DOWN + LEFT) + RIGHT * cell * t
                                          + (UP + RIGHT) * cell * (1 - t) * 0.999,
                                          stroke_color=PAD_HATCH, stroke_width=1)
                                     for t in (0.0, 0.5)])
                    g = VGroup(sq, hatch)
                    if show_numbers:
                        g.add(number(0, 0, font_size, PAD_TEXT).move_to(pos))
                    self.padding.add(g)
                else:
                    v = values[r - pad, c - pad]
                    col = rgb[r - pad, c - pad]
                    sq = Square(cell, stroke_color=colors.INK, stroke_width=1,
                                fill_color=colors.rgb_to_hex(col), fill_opacity=1).move_to(pos)
                    g = VGroup(sq)
                    if show_numbers:
                        num = number(v, decimals, font_size, colors.text_color_for(col))
                        if num.width > cell * 0.88:
                            num.scale_to_fit_width(cell * 0.88)
                        g.add(num.move_to(pos))
                    self.inner.add(g)
                    self.frames.add(Square(cell, stroke_color=colors.MUTED, stroke_width=1)
                                    .move_to(pos))
                self.by_pos[(r, c)] = g
        self.add(self.padding, self.inner)
        self.move_to(np.zeros(3))
        self.blank = blank

    def move_to(self, *args, **kwargs):
        super().move_to(*args, **kwargs)
        if getattr(self, "blank", False):  # outline only: cells appear one by one (FadeIn)
            self.frames.move_to(self.inner)
            if self.inner in self.submobjects:
                self.remove(self.inner)
                self.add(self.frames)
        return self

    def everything(self) -> VGroup:
        """Outline and every cell (a blank grid's revealed cells are not its submobjects)."""
        return VGroup(self.frames, self.inner, self.padding) if self.blank else VGroup(self)

    def corner(self) -> np.ndarray:
        """Top-left corner of the padded grid."""
        first = self.by_pos[(0, 0)][0]
        return first.get_corner(UP + LEFT)

    def box(self, row: int, col: int, height: int = 1, width: int = 1,
            color: str = colors.HIGHLIGHT, stroke_width: float = 5) -> Rectangle:
        """A rectangle around ``height`` x ``width`` cells from padded (row, col)."""
        c = self.cell
        rect = Rectangle(width=c * width, height=c * height, stroke_color=color,
                         stroke_width=stroke_width)
        rect.move_to(self.corner() + RIGHT * c * (col + width / 2) + DOWN * c * (row + height / 2))
        return rect

    def cells(self, positions) -> VGroup:
        """The cell groups at padded positions."""
        return VGroup(*[self.by_pos[p] for p in positions])


def grid_cell(*sizes: int, room: float = 4.0, largest: float = 0.6) -> float:
    """Cell side so the largest of ``sizes`` cells fits in ``room`` units."""
    return min(largest, room / max(sizes))
