"""Grids of valued cells with zero padding around them (manim and numpy; never torch).

A :class:`CellGrid` draws every cell as its own square with its number, so single cells can be
boxed, faded in one by one or marked; :func:`fit_decimals` picks how many decimals fit a cell.
"""

from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, Line, Rectangle, Square, VGroup

from cnnanim.draw import colors
from cnnanim.draw.mobjects import color_array
from cnnanim.draw.text import NumberText, number
from cnnanim.explain.numbers import fmt

#: Zero-padding cells: grey, hatched, clearly not part of the photo.
PAD_FILL = "#c9c9c9"
PAD_TEXT = "#4a4a4a"  # 5.4:1 on PAD_FILL
PAD_HATCH = "#a9a9a9"


#: Share of a cell's width the widest number may take (the rest is padding on both sides, so
#: that neighbouring numbers of a row never read as one; monospace digits look wider than
#: NumberGrid's, hence less than its ROOM).
ROOM = 0.7
#: Digit heights (scene units; 0.135 is 18 px at 1080p): two decimals from MIN_DIGIT up, one
#: decimal below it, no numbers below HIDE_DIGIT; never taller than MAX_DIGIT.
MIN_DIGIT, HIDE_DIGIT, MAX_DIGIT = 0.16, 0.1, 0.26
#: Font size the numbers are laid out at before they are scaled to their cells.
_REF_SIZE = 20.0


def _digit_fit(texts: list[str], cell: float) -> float:
    """Digit height at which the widest of ``texts`` (monospace numbers) fills ROOM of ``cell``."""
    longest = max(len(t) for t in texts)
    widest = max(NumberText(t, _REF_SIZE).width for t in set(texts) if len(t) == longest)
    ref = number(0.0, 0, _REF_SIZE).height
    return min(MAX_DIGIT, cell * 0.36, ref * ROOM * cell / widest)


def fit_decimals(values: np.ndarray, cell: float) -> int | None:
    """Decimals of the numbers of cells of side ``cell``: 2 where they stay at least
    :data:`MIN_DIGIT` tall, else 1; None where even one decimal would be too small to read."""
    vals = np.asarray(values, dtype=np.float64).ravel()
    for decimals, least in ((2, MIN_DIGIT), (1, HIDE_DIGIT)):
        if _digit_fit([fmt(v, decimals) for v in vals] or ["0"], cell) >= least:
            return decimals
    return None


class CellGrid(VGroup):
    """Cells with real values; ``pad`` rings of grey, hatched ``0`` cells around them.

    Coordinates are in the padded grid: cell (0, 0) is the top-left padding cell. Every number
    of a grid has one size (the widest fills at most :data:`ROOM` of a cell) and a colour with
    WCAG contrast 4.5:1 on its cell.

    Parameters
    ----------
    values : numpy.ndarray
        (H, W) values of the inner cells.
    pad : int
        Rings of padding cells around them.
    cell : float
        Cell side in scene units.
    scale, vmax : str, float
        Colour scale of the inner cells (see :func:`cnnanim.draw.mobjects.color_array`).
    decimals : int, optional
        Decimals shown (default: :func:`fit_decimals`; no numbers where they would be unreadable).
    numbers : bool
        False: colours only.
    blank : bool
        Outline only: the cells are shown later, one by one (``FadeIn(grid.by_pos[(r, c)])``).
    """

    def __init__(self, values: np.ndarray, pad: int = 0, cell: float = 0.5,
                 scale: str = "activation", vmax: float | None = None, decimals: int | None = None,
                 numbers: bool = True, blank: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        values = np.atleast_2d(np.asarray(values, dtype=np.float64))
        self.values, self.pad, self.cell = values, pad, cell
        h, w = values.shape
        self.rows, self.cols = h + 2 * pad, w + 2 * pad
        rgb = color_array(values, scale, vmax)
        self.decimals = fit_decimals(values, cell) if decimals is None else decimals
        if not numbers:
            self.decimals = None
        digit = (_digit_fit([fmt(v, self.decimals) for v in values.ravel()], cell)
                 if self.decimals is not None else 0.0)
        self.inner, self.padding, self.frames, self.numbers = VGroup(), VGroup(), VGroup(), VGroup()
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
                    if digit:
                        g.add(self._number(0, 0, PAD_TEXT, digit, pos))
                    self.padding.add(g)
                else:
                    col = rgb[r - pad, c - pad]
                    sq = Square(cell, stroke_color=colors.INK, stroke_width=1,
                                fill_color=colors.rgb_to_hex(col), fill_opacity=1).move_to(pos)
                    g = VGroup(sq)
                    if digit:
                        g.add(self._number(values[r - pad, c - pad], self.decimals,
                                           colors.text_color_for(col), digit, pos))
                    self.inner.add(g)
                    self.frames.add(Square(cell, stroke_color=colors.MUTED, stroke_width=1)
                                    .move_to(pos))
                self.by_pos[(r, c)] = g
        self.add(self.padding, self.inner)
        self.move_to(np.zeros(3))
        self.blank = blank

    def _number(self, value: float, decimals: int, color: str, digit: float, pos) -> NumberText:
        """``value`` with digits ``digit`` tall, centred on ``pos`` (listed in :attr:`numbers`)."""
        num = number(value, decimals, _REF_SIZE, color)
        num.scale(digit / number(0.0, 0, _REF_SIZE).height).move_to(pos)
        self.numbers.add(num)
        return num

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
