"""Input layer: the photo, preprocessed to 64x64, splits into its red, green and blue channels.

Storyboard: the photo, large, with its size in pixels -> it comes apart into its channel maps ->
the channels step aside and a 5x5 patch of the first one opens with its real values, with the
channel's colour scale from 0 to 1 and one value worked out from its pixel byte -> the darkest
and the brightest value of the patch are marked in the grid and on the scale.
"""

from __future__ import annotations

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Create,
    FadeIn,
    FadeOut,
    Group,
    Line,
    ReplacementTransform,
    VGroup,
    Write,
)

from cnnanim.draw import colors
from cnnanim.draw.layout import CONTENT_BOTTOM, CONTENT_TOP
from cnnanim.draw.mobjects import FeatureMap, NumberGrid, zoom_lines
from cnnanim.draw.text import MONO, cached_text, label, number
from cnnanim.explain.input import channel_scales, extremes, pixel_byte, zoom_window
from cnnanim.scenes.base import CnnScene

# -- layout (scene units) --------------------------------------------------------------------
PHOTO_H = 4.7          # the photo alone
MARK_GAP = 0.22        # gap between the photo and its size marks
CHANNEL_H = 4.1        # each channel map after the split
CHANNEL_GAP = 0.45     # gap between the channel maps
CHANNEL_Y = 0.5        # centre of the channel maps after the split
SIDE_H = 4.0           # the first channel map once it steps aside for the zoom
ZOOM_CELL = 0.85       # cell side of the zoomed grid
ZOOM_GAP = 1.0         # gap between the channel and the zoomed grid
SCALE_W = 0.4          # width of the colour scale beside the grid
SCALE_GAP = 0.6        # gap between the grid and the colour scale
NUMBER_SIZE = 26       # numbers outside the grid (scale ends, the worked value)
MARK_STROKE = 4        # highlight of the darkest and brightest value


class InputLayer(CnnScene):
    """The photo becomes a 64x64x3 tensor: three channels of numbers between 0 and 1."""

    cli_name = "input"
    description = "The photo becomes the input tensor: red, green and blue channels"
    chapter = "input"
    valid_layer_kinds = ("conv", "relu", "pool", "flatten", "linear")
    zoom_size = 5

    def setup(self) -> None:
        super().setup()
        self.zoom_top, self.zoom_left, self.zoom_values = zoom_window(self.trace.image, self.zoom_size)
        self.scales = channel_scales(self.trace.image)

    # -- builders -------------------------------------------------------------------------------
    def get_input_title(self):
        """``Input layer  64×64×3``: the tensor's shape, H×W×C."""
        c, h, w = self.trace.image.shape
        return self.get_title(self.words("title", shape=f"{h}×{w}×{c}"))

    def get_photo(self, height: float = PHOTO_H) -> FeatureMap:
        """The preprocessed input as the network sees it, centred in the content area."""
        img = self.trace.image
        if img.shape[0] == 1:
            photo = FeatureMap(img[0], scale="input", height=height)
        else:
            photo = FeatureMap(img.transpose(1, 2, 0), scale="rgb", height=height)
        return photo.move_to([0, (CONTENT_TOP + CONTENT_BOTTOM) / 2 - 0.15, 0])

    def get_size_marks(self, photo: FeatureMap) -> VGroup:
        """The photo's width above it and its height at its left, in pixels, as dimension lines."""
        h, w = self.trace.image.shape[1:]
        top = self.dimension_line(photo.get_corner(UP + LEFT), photo.get_corner(UP + RIGHT), UP)
        side = self.dimension_line(photo.get_corner(UP + LEFT), photo.get_corner(DOWN + LEFT), LEFT)
        top_text = self.get_words("pixels", 26, n=w).next_to(top, UP, buff=0.1)
        side_text = self.get_words("pixels", 26, n=h).next_to(side, LEFT, buff=0.15)
        return VGroup(top, side, top_text, side_text)

    def dimension_line(self, a, b, side) -> VGroup:
        """A line beside the edge ``a``-``b``, moved out towards ``side``, with end ticks."""
        shift = np.array(side) * MARK_GAP
        line = Line(a + shift, b + shift, stroke_color=colors.INK, stroke_width=2)
        ticks = [Line(p + shift * 0.5, p + shift * 1.5, stroke_color=colors.INK, stroke_width=2)
                 for p in (a, b)]
        return VGroup(line, *ticks)

    def get_channels(self, height: float = CHANNEL_H) -> Group:
        """One tinted map per input channel, with its name, side by side."""
        groups = []
        for ch, scale in zip(self.trace.image, self.scales):
            m = FeatureMap(ch, scale=scale, height=height)
            groups.append(Group(m, self.get_words(scale, 28).next_to(m, DOWN, buff=0.2)))
        g = Group(*groups).arrange(RIGHT, buff=CHANNEL_GAP)
        return g.shift(UP * (CHANNEL_Y - g[0][0].get_center()[1]))

    def get_zoom_grid(self) -> NumberGrid:
        """The real values of the zoom window, in the first channel's colours."""
        return NumberGrid(self.zoom_values, scale=self.scales[0], cell=ZOOM_CELL, decimals=2)

    def get_zoom_box(self, channel: FeatureMap):
        """The zoom window's outline on the first channel's map."""
        return channel.get_cell_box(self.zoom_top, self.zoom_left, self.zoom_size, self.zoom_size,
                                    stroke_width=3)

    def get_zoom_caption(self, grid: NumberGrid):
        """Which channel and which rows and columns the zoomed values are, under ``grid``."""
        r0, c0, n = self.zoom_top, self.zoom_left, self.zoom_size
        where = f"{self.words(self.scales[0])}  [{r0}–{r0 + n - 1}, {c0}–{c0 + n - 1}]"
        return label(where, 22, colors.MUTED_TEXT, lang=self.lang).next_to(grid, DOWN, buff=0.2)

    def get_scale(self, height: float) -> Group:
        """The first channel's colour scale: a bar from 0 (bottom) to 1 (top), the ends written
        under and over it, ``height`` tall in all."""
        ends = [number(v, 0, NUMBER_SIZE) for v in (0, 1)]
        bar_h = height - 2 * (ends[0].height + 0.12)
        ramp = FeatureMap(np.linspace(1, 0, 64)[:, None], scale=self.scales[0], height=bar_h)
        ramp.stretch_to_fit_width(SCALE_W)
        ends[0].next_to(ramp, DOWN, buff=0.12)
        ends[1].next_to(ramp, UP, buff=0.12)
        return Group(ramp, *ends)

    def get_scale_mark(self, scale: Group, value: float) -> VGroup:
        """A tick at ``value`` across the colour scale with the value written at its right."""
        ramp = scale[0]
        y = ramp.get_bottom()[1] + value * ramp.height
        tick = Line([ramp.get_left()[0] - 0.08, y, 0], [ramp.get_right()[0] + 0.08, y, 0],
                    stroke_color=colors.HIGHLIGHT, stroke_width=MARK_STROKE)
        text = number(value, 2, NUMBER_SIZE).next_to(tick, RIGHT, buff=0.1)
        return VGroup(tick, text)

    def get_worked_value(self) -> VGroup:
        """The brightest value of the patch worked out from its pixel byte: ``237 ÷ 255 = 0.93``."""
        hi = float(self.zoom_values.max())
        return cached_text(f"{pixel_byte(hi)} ÷ 255 = {hi:.2f}", font=MONO,
                           font_size=NUMBER_SIZE, color=colors.INK)

    def get_cell_mark(self, grid: NumberGrid, cell: tuple[int, int]):
        """A highlight around one cell of the grid (on its border, clear of the digits)."""
        sq = grid.get_cell(*cell)
        return sq.copy().set_fill(opacity=0).set_stroke(colors.HIGHLIGHT, MARK_STROKE)

    # -- verbs ----------------------------------------------------------------------------------
    def split_channels(self, photo: FeatureMap, marks: VGroup, channels: Group, b) -> None:
        """The photo comes apart into its channel maps, then their names appear."""
        maps = [g[0] for g in channels]
        self.play(ReplacementTransform(Group(*[photo.copy() for _ in maps]), Group(*maps)),
                  FadeOut(photo), FadeOut(marks), run_time=b.part(0.5))
        self.play(*[FadeIn(g[1]) for g in channels], run_time=b.part(0.2))

    def zoom_in(self, channels: Group, b) -> NumberGrid:
        """The first channel steps aside (the others leave) and the zoom window's real values
        open beside it, with the channel's colour scale from 0 to 1 and one value worked out
        from its pixel byte."""
        first = channels[0]
        k = SIDE_H / CHANNEL_H
        # the channel, the grid and the scale, centred as a whole
        width = SIDE_H + ZOOM_GAP + self.zoom_size * ZOOM_CELL + SCALE_GAP + SCALE_W + 0.9
        self.play(first.animate.scale(k).move_to([-width / 2 + first.width * k / 2,
                                                  CONTENT_TOP - first.height * k / 2, 0]),
                  *[FadeOut(g) for g in channels[1:]], run_time=b.part(0.15))
        box = self.get_zoom_box(first[0])
        grid = self.get_zoom_grid()
        grid.move_to([first.get_right()[0] + ZOOM_GAP + grid.width / 2,
                      CONTENT_TOP - 0.1 - grid.height / 2, 0])
        caption = self.get_zoom_caption(grid)
        scale = self.get_scale(grid.height)
        scale.shift(grid.get_right() + RIGHT * (SCALE_GAP + SCALE_W / 2) - scale.get_center())
        worked = self.get_worked_value().next_to(caption, DOWN, buff=0.3)
        self.play(Create(box), run_time=b.part(0.1))
        self.play(FadeIn(zoom_lines(box, grid)), FadeIn(grid), FadeIn(caption),
                  run_time=b.part(0.2))
        self.play(FadeIn(worked), FadeIn(scale), run_time=b.part(0.15))
        self.scale_bar = scale
        return grid

    def mark_extremes(self, grid: NumberGrid, b) -> None:
        """The darkest and the brightest value: outlined in the grid and ticked on the scale."""
        lo, hi = extremes(self.zoom_values)
        values = self.zoom_values
        self.play(Create(self.get_cell_mark(grid, lo)),
                  FadeIn(self.get_scale_mark(self.scale_bar, float(values[lo]))),
                  run_time=b.part(0.15))
        self.play(Create(self.get_cell_mark(grid, hi)),
                  FadeIn(self.get_scale_mark(self.scale_bar, float(values[hi]))),
                  run_time=b.part(0.15))

    # -- storyboard -------------------------------------------------------------------------------
    def construct(self) -> None:
        title = self.get_input_title()
        photo = self.get_photo()
        marks = self.get_size_marks(photo)
        with self.beat("photo", size=self.trace.image.shape[1]) as b:
            self.play(Write(title), FadeIn(photo), run_time=b.part(0.3))
            self.play(FadeIn(marks), run_time=b.part(0.15))
        channels = self.get_channels()
        with self.beat("split" if len(channels) == 3 else "split_grey") as b:
            self.split_channels(photo, marks, channels, b)
        with self.beat("values") as b:
            grid = self.zoom_in(channels, b)
        lo, hi = float(self.zoom_values.min()), float(self.zoom_values.max())
        with self.beat("extremes", lo=f"{lo:.2f}", hi=f"{hi:.2f}") as b:
            self.mark_extremes(grid, b)
