"""Drawing blocks for CNN Explainer-style scenes (manim and numpy; never torch).

Readers (``get_*``) return new mobjects or groups; changers return ``self``.
"""

from __future__ import annotations

import textwrap
from functools import lru_cache
from typing import Sequence

import numpy as np
from manim import (DOWN, LEFT, RIGHT, UP, Group, ImageMobject, Rectangle, Square, Text, VGroup,
                   VMobject)
from manim.constants import RESAMPLING_ALGORITHMS

from cnnanim.draw import colors
from cnnanim.draw.speedups import CachedText, cached_text

#: Fonts (Debian: fonts-dejavu-core, fonts-noto-cjk). Chinese needs a CJK font.
FONT = "DejaVu Sans"
MONO = "DejaVu Sans Mono"
CJK_FONT = "Noto Sans CJK SC"


def font_for(lang: str) -> str:
    """The caption/label font for a language code (``en`` or ``zh``)."""
    return CJK_FONT if lang == "zh" else FONT


def label(text: str, size: float = 24, color: str = colors.INK, lang: str = "en",
          weight: str = "NORMAL") -> Text:
    """A short piece of text in the scene's font."""
    return cached_text(text, font=font_for(lang), font_size=size, color=color, weight=weight)


#: Characters :class:`NumberText` can draw.
NUMBER_CHARS = "0123456789.-+e"


@lru_cache(maxsize=64)
def _glyphs(size: float, color: str) -> tuple[dict[str, np.ndarray], float, VMobject]:
    """Outlines of :data:`NUMBER_CHARS` in the monospace font at ``size``: each glyph's points
    relative to its own character slot, the advance between slots, and a glyph to take the
    style from. Two Pango layouts per size and colour, instead of one per number."""
    ref = CachedText(NUMBER_CHARS, font=MONO, font_size=size, color=color)
    two = CachedText("00", font=MONO, font_size=size, color=color)
    if len(ref.submobjects) != len(NUMBER_CHARS) or len(two.submobjects) != 2:
        raise RuntimeError(f"font {MONO!r} did not give one outline per digit")
    advance = float(two[1].get_center()[0] - two[0].get_center()[0])
    table = {ch: ref[i].points - np.array([i * advance, 0.0, 0.0])
             for i, ch in enumerate(NUMBER_CHARS)}
    return table, advance, ref[0]


class NumberText(VMobject):
    """A number in the monospace font, drawn as one shape.

    The outlines are those ``Text(s, font=MONO)`` draws (monospace glyphs sit one advance
    apart; tests compare the points), taken from a per-size glyph table, so a number costs no
    text layout, and all its glyphs fill in one call per frame instead of one each.

    Attributes
    ----------
    text : str
        The characters drawn.
    """

    def __init__(self, s: str, size: float = 20, color: str = colors.INK, **kwargs) -> None:
        super().__init__(**kwargs)
        bad = sorted(set(s) - set(NUMBER_CHARS))
        if bad or not s:
            raise ValueError(f"NumberText draws only {NUMBER_CHARS!r}, got {s!r}")
        table, advance, style = _glyphs(float(size), str(color))
        pts = np.concatenate([table[ch] + np.array([j * advance, 0.0, 0.0])
                              for j, ch in enumerate(s)])
        pts -= (pts.min(axis=0) + pts.max(axis=0)) / 2  # centred like Text
        self.text = s
        self.set_points(pts)
        self.match_style(style)


def number(value: float, decimals: int = 2, size: float = 20,
           color: str = colors.INK) -> NumberText:
    """A number with a fixed number of decimals (``-0.00`` shown as ``0.00``)."""
    s = fmt(value, decimals)
    if set(s) <= set(NUMBER_CHARS):
        return NumberText(s, size=size, color=color)
    return cached_text(s, font=MONO, font_size=size, color=color)  # e.g. "nan"


def fmt(value: float, decimals: int = 2) -> str:
    """The string :func:`number` draws."""
    s = f"{value:.{decimals}f}"
    return s[1:] if s.startswith("-") and float(s) == 0.0 else s


class FeatureMap(Group):
    """A 2-D map drawn as one nearest-neighbour image with a thin border.

    Parameters
    ----------
    values : numpy.ndarray
        (H, W) values, or (H, W, 3) floats in [0, 1] already coloured.
    scale : str
        ``activation`` (red-white-blue), ``weight`` (brown-white-green), ``input`` (grey),
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
    """Colours (H, W, 3) floats of ``values`` on a named scale."""
    if scale == "rgb":
        return np.clip(np.asarray(values, dtype=np.float64), 0, 1)
    if scale == "activation":
        return colors.activation_rgb(values, vmax)
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
    """

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
                num = number(self.values[r, c], decimals, size,
                             colors.text_color_for(rgb[r, c]))
                if num.width > cell * 0.9:
                    num.scale_to_fit_width(cell * 0.9)
                num.move_to(sq)
                self.cells.add(sq)
                self.numbers.add(num)
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


def _is_word_char(ch: str) -> bool:
    """Part of a number or a Latin word: ASCII letters, digits, ``.``, ``_``, ``-``."""
    return bool(ch) and ch.isascii() and (ch.isalnum() or ch in "._-")


def wrap_text(text: str, lang: str, width: int | None = None) -> str:
    """Break a caption into lines: by words in English, by characters in Chinese."""
    if lang == "zh":
        width = width or 26
        lines, cur = [], ""
        for i, ch in enumerate(text):
            cur += ch
            nxt = text[i + 1] if i + 1 < len(text) else ""
            # never split a number or a Latin word (0.86, conv_1_1) across lines
            inside_word = _is_word_char(ch) and _is_word_char(nxt)
            if len(cur) >= width and ch not in "，。、；：？！" and not inside_word:
                lines.append(cur)
                cur = ""
        if cur:
            if lines and len(cur) <= 2:  # keep trailing punctuation with its line
                lines[-1] += cur
            else:
                lines.append(cur)
        return "\n".join(lines)
    return "\n".join(textwrap.wrap(text, width or 62))


class Caption(VGroup):
    """The narration of a beat as a caption at the bottom of the frame."""

    def __init__(self, text: str, lang: str = "en", frame_width: float = 14.22,
                 frame_height: float = 8.0, font_size: float = 24, max_lines: int = 3,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        wrapped = wrap_text(text, lang)
        self.text = CachedText(wrapped, font=font_for(lang), font_size=font_size, color=colors.INK,
                         line_spacing=0.8)
        max_w = frame_width - 1.0
        if self.text.width > max_w:
            self.text.scale_to_fit_width(max_w)
        max_h = 1.15
        if self.text.height > max_h:
            self.text.scale_to_fit_height(max_h)
        band = Rectangle(width=frame_width, height=CAPTION_BAND, stroke_width=0,
                         fill_color="#f2f2f2", fill_opacity=1)
        band.move_to(DOWN * (frame_height / 2 - CAPTION_BAND / 2))
        self.text.move_to(band)
        self.band = band
        self.add(band, self.text)


#: Height of the caption band at the bottom of the frame; scenes keep content above it.
CAPTION_BAND = 1.4
#: Lowest y a scene's content should reach (frame height 8).
CONTENT_BOTTOM = -4.0 + CAPTION_BAND + 0.15


def arrange_row(items: Sequence, buff: float = 0.4) -> Group:
    """Items side by side, centred vertically."""
    g = Group(*items)
    g.arrange(RIGHT, buff=buff)
    return g
