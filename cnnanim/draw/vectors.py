"""A long vector drawn as one thin strip (manim and numpy; never torch)."""

from __future__ import annotations

import numpy as np
from manim import DOWN, RIGHT, UP, Group, ImageMobject, Line, Rectangle, VGroup
from manim.constants import RESAMPLING_ALGORITHMS

from cnnanim.draw import colors


class VectorStrip(Group):
    """A long vector drawn as a thin one-row image with a border.

    Parameters
    ----------
    values : numpy.ndarray
        (N,) values.
    scale : str
        ``activation``, ``weight`` or ``logit`` (see :mod:`cnnanim.draw.colors`).
    vmax : float, optional
        Half-range of a diverging scale (default: the largest magnitude).
    width, height : float
        Size in scene units.
    """

    def __init__(self, values: np.ndarray, scale: str = "activation", vmax: float | None = None,
                 width: float = 12.6, height: float = 0.32, **kwargs) -> None:
        super().__init__(**kwargs)
        v = np.asarray(values, dtype=np.float64)[None, :]
        rgb = (colors.activation_rgb(v, vmax) if scale == "activation" else
               colors.weight_rgb(v, vmax) if scale == "weight" else colors.logit_rgb(v))
        self.n = v.shape[1]
        self.image = ImageMobject(colors.to_uint8(rgb))
        self.image.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
        self.image.stretch_to_fit_height(height)
        self.image.stretch_to_fit_width(width)
        self.border = Rectangle(width=width, height=height, stroke_color=colors.INK,
                                stroke_width=1.5).move_to(self.image)
        self.add(self.image, self.border)

    def position(self, index: int) -> np.ndarray:
        """Scene position of the centre of element ``index``."""
        left = self.image.get_left()
        return left + RIGHT * self.image.width * (index + 0.5) / self.n

    def get_mark(self, index: int, color: str = colors.HIGHLIGHT) -> Line:
        """A short vertical tick at element ``index``, taller than the strip."""
        p = self.position(index)
        h = self.image.height
        return Line(p + UP * (h / 2 + 0.12), p + DOWN * (h / 2 + 0.12), color=color,
                    stroke_width=4)

    def get_boundaries(self, parts: int, color: str = colors.MUTED) -> VGroup:
        """Thin ticks splitting the strip into ``parts`` equal parts (e.g. one per channel)."""
        ticks = VGroup()
        for k in range(1, parts):
            p = self.image.get_left() + RIGHT * self.image.width * k / parts
            ticks.add(Line(p + UP * 0.22, p + DOWN * 0.22, color=color, stroke_width=2))
        return ticks
