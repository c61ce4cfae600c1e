"""Max-pooling: a 2x2 window with stride 2 keeps the largest value and halves each map."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from manim import (
    DOWN,
    RIGHT,
    UP,
    Arrow,
    Create,
    FadeIn,
    FadeOut,
    FadeTransform,
    Rectangle,
    SurroundingRectangle,
    Text,
    Transform,
    UpdateFromAlphaFunc,
    VGroup,
    Write,
)

from cnnanim.draw import colors
from cnnanim.draw.mobjects import FeatureMap, NumberGrid, zoom_lines
from cnnanim.draw.text import label, number
from cnnanim.explain.numbers import decimals_for, fmt
from cnnanim.explain.pooling import PoolingData, pooling_data
from cnnanim.scenes.base import CnnScene

#: Colour of output cells not computed yet.
UNREVEALED = "#d9d9d9"
#: The input and output maps: their centres' y and the input map's height.
MAP_Y = 0.45
MAP_HEIGHT = 3.8
#: Centre of the enlarged window between the two maps.
WINDOW_AT = (0.2, 0.95, 0)


class WindowView(NamedTuple):
    """What one pooling window shows: its box on the input map, the zoom lines, the enlarged
    grid (with its maximum outlined), ``max = m``, its output cell's box and the arrow there."""

    box: Rectangle
    lines: VGroup
    grid: VGroup
    formula: VGroup
    out_box: Rectangle
    arrow: Arrow


class Pooling(CnnScene):
    """A 2x2 max-pooling window over a real ReLU map, then the map halving."""

    cli_name = "pooling"
    description = "Max-pooling: 2x2 windows with stride 2 keep the largest value, maps halve"
    chapter = "pooling"
    default_layer = "max_pool_1"
    valid_layer_kinds = ("pool",)
    NARRATION = {
        "intro": {
            "en": "Max-pooling slides a {k} by {k} window over each map, {s} cells at a time, "
                  "and keeps only the largest value it sees.",
            "zh": "最大池化用 {k}×{k} 窗口在图上滑动，步长 {s}，只保留窗口里最大的数。",
        },
        "window": {
            "en": "In this window of {input}, the largest of the four values is {value}, so the "
                  "output cell becomes {value}.",
            "zh": "{input} 这个窗口里最大的是 {value}，输出格子就是 {value}。",
        },
        "window_dead": {
            "en": "This channel of {input} is zero everywhere, so each window's maximum, and each "
                  "output cell, is {value}.",
            "zh": "{input} 这个通道处处为零，所以每个窗口的最大值、每个输出格子都是 {value}。",
        },
        "more": {
            "en": "The next windows work the same way, wherever the maximum sits inside them.",
            "zh": "其他窗口也一样，不管最大值落在窗口的哪个位置。",
        },
        "sweep": {
            "en": "Every window, with no overlap, fills one cell of the output map.",
            "zh": "窗口互不重叠，每个窗口填满输出图上的一个格子。",
        },
        "halve": {
            "en": "So the {n} by {n} map shrinks to {m} by {m}: a quarter of the numbers, yet the "
                  "strongest responses survive.",
            "zh": "{n}×{n} 的图缩成 {m}×{m}，只剩四分之一的数，最强的响应却保留下来。",
        },
        "channels": {
            "en": "Each of the {c} channels is pooled on its own, and pooling has no weights to "
                  "learn.",
            "zh": "{c} 个通道各自独立池化，而且池化层没有需要学习的权重。",
        },
    }

    WORDS = {
        "title": {"en": "Max pooling  {k}×{k}, stride {s}  ·  {a} → {b}",
                  "zh": "最大池化  {k}×{k}，步长 {s}  ·  {a} → {b}"},
        "map": {"en": "{stage}  ch {c}", "zh": "{stage}  通道 {c}"},
        "max": {"en": "max =", "zh": "最大值 ="},
        "op": {"en": "max {k}×{k}, stride {s}", "zh": "取最大 {k}×{k}，步长 {s}"},
        "channels": {"en": "× {c} channels, each pooled on its own", "zh": "× {c} 个通道，各自池化"},
    }

    def setup(self) -> None:
        super().setup()
        self.data = self.get_pooling_data()
        self.decimals = decimals_for(self.data.input_map)
        self.revealed = np.zeros(self.data.output_map.shape, dtype=bool)

    def get_pooling_data(self) -> PoolingData:
        """The real windows and maps (see :func:`~cnnanim.explain.pooling.pooling_data`)."""
        return pooling_data(self.trace, self.layer, self.neuron)

    def window_beat_key(self) -> str:
        """``window``, or ``window_dead`` when the input channel is zero everywhere."""
        return "window" if self.data.input_map.max() > 0 else "window_dead"

    # -- storyboard -------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.data
        n, m = d.input_map.shape[0], d.output_map.shape[0]
        title = self.get_title(self.words("title", k=d.size, s=d.stride, a=d.input_stage,
                                          b=d.stage))
        inmap, in_label = self.place_input_map()
        outmap, out_label = self.place_output_map()
        with self.beat("intro", k=d.size, s=d.stride) as b:
            self.play(Write(title), FadeIn(inmap), FadeIn(in_label), run_time=b.part(0.35))
            self.play(FadeIn(outmap), FadeIn(out_label), run_time=b.part(0.25))

        w = d.windows[0]
        view = self.place_window(w, inmap, outmap)
        with self.beat(self.window_beat_key(), input=d.input_stage,
                       value=fmt(w.value, self.decimals)) as b:
            self.play(Create(view.box), Create(view.lines), FadeIn(view.grid[0]),
                      run_time=b.part(0.25))
            self.play(Create(view.grid[1]), Write(view.formula), run_time=b.part(0.3))
            self.play(Create(view.arrow), Create(view.out_box), self.reveal_window(outmap, w),
                      run_time=b.part(0.2))

        with self.beat("more") as b:
            share = 0.85 / max(1, len(d.windows) - 1)
            for w in d.windows[1:]:
                view = self.move_window(view, w, inmap, outmap, share * b.duration)

        last = inmap.get_cell_box(n - d.size, n - d.size, d.size, d.size)
        with self.beat("sweep") as b:
            self.play(FadeOut(VGroup(view.grid, view.formula, view.lines, view.arrow,
                                     view.out_box)), run_time=b.part(0.2))
            self.play(self.reveal_rows(outmap), view.box.animate.move_to(last),
                      run_time=b.part(0.6))

        size_in = self.get_size_label(n, in_label)
        size_out = self.get_size_label(m, out_label)
        big_arrow, arrow_label = self.get_pool_arrow(inmap, outmap)
        with self.beat("halve", n=n, m=m) as b:
            self.play(FadeOut(view.box), Create(big_arrow), FadeIn(arrow_label),
                      run_time=b.part(0.2))
            self.play(FadeIn(size_in), FadeIn(size_out), run_time=b.part(0.2))

        c = self.trace[self.layer].output.shape[0]
        note = self.get_words("channels", 22, colors.MUTED, c=c).next_to(big_arrow, DOWN, buff=0.25)
        with self.beat("channels", c=c) as b:
            self.play(FadeIn(note), run_time=b.part(0.2))

    # -- narrated verbs ---------------------------------------------------------------------
    def move_window(self, view: WindowView, w, inmap: FeatureMap, outmap: FeatureMap,
                    run_time: float) -> WindowView:
        """Move the shown window to ``w``: new box, grid, maximum and output cell; reveal it.

        Returns what is shown now (the box, lines and output box are the moved ones).
        """
        new = self.place_window(w, inmap, outmap)
        self.play(Transform(view.box, new.box), Transform(view.lines, new.lines),
                  FadeTransform(view.grid, new.grid), FadeTransform(view.formula, new.formula),
                  FadeOut(view.arrow), Transform(view.out_box, new.out_box),
                  run_time=run_time * 0.5)
        self.play(Create(new.arrow), self.reveal_window(outmap, w), run_time=run_time * 0.4)
        return view._replace(grid=new.grid, formula=new.formula, arrow=new.arrow)

    def reveal_window(self, outmap: FeatureMap, w) -> UpdateFromAlphaFunc:
        """Colour the output cell of window ``w`` half-way through the animation."""
        return UpdateFromAlphaFunc(outmap, lambda mob, a: self.reveal(mob, [(w.row, w.col)])
                                   if a > 0.5 else None)

    def reveal_rows(self, outmap: FeatureMap) -> UpdateFromAlphaFunc:
        """Colour the output map row by row, top to bottom."""
        m = self.data.output_map.shape[0]
        return UpdateFromAlphaFunc(outmap, lambda mob, a: self.reveal(
            mob, self.data.cells_in_rows(int(round(a * m)))))

    def reveal(self, outmap: FeatureMap, cells) -> None:
        """Mark ``cells`` of the output map computed and recolour it."""
        for r, c in cells:
            self.revealed[r, c] = True
        outmap.set_values(self.output_rgb())

    # -- builders ---------------------------------------------------------------------------
    def place_input_map(self) -> tuple[FeatureMap, Text]:
        """The input channel at the left, its name below."""
        d = self.data
        inmap = FeatureMap(d.input_map, vmax=d.vmax, height=MAP_HEIGHT).move_to([-4.55, MAP_Y, 0])
        return inmap, self.get_map_label(inmap, d.input_stage)

    def place_output_map(self) -> tuple[FeatureMap, Text]:
        """The output channel at the right (grey until computed), to scale, its name below."""
        d = self.data
        n, m = d.input_map.shape[0], d.output_map.shape[0]
        outmap = FeatureMap(self.output_rgb(), scale="rgb", height=MAP_HEIGHT * m / n)
        outmap.move_to([4.9, MAP_Y, 0])
        return outmap, self.get_map_label(outmap, d.stage)

    def get_map_label(self, fmap: FeatureMap, stage: str) -> Text:
        """``stage  ch c`` under ``fmap``."""
        return self.get_words("map", 20, stage=stage, c=self.data.channel).next_to(
            fmap, DOWN, buff=0.15)

    def get_size_label(self, n: int, under: Text) -> Text:
        """``n × n`` in bold under the label ``under``."""
        return label(f"{n} × {n}", 26, weight="BOLD").next_to(under, DOWN, buff=0.12)

    def place_window(self, w, inmap: FeatureMap, outmap: FeatureMap) -> WindowView:
        """Window ``w``: its box on ``inmap``, enlarged between the maps, and its output cell."""
        d = self.data
        box = inmap.get_cell_box(w.top, w.left, d.size, d.size, stroke_width=3)
        grid = self.get_grid(w).move_to(np.array(WINDOW_AT))
        formula = self.get_formula(w).next_to(grid, DOWN, buff=0.35)
        out_box = outmap.get_cell_box(w.row, w.col, stroke_width=3)
        arrow = Arrow(grid.get_right(), out_box.get_center(), buff=0.15, color=colors.HIGHLIGHT,
                      stroke_width=3)
        return WindowView(box, zoom_lines(box, grid[0]), grid, formula, out_box, arrow)

    def get_pool_arrow(self, inmap: FeatureMap, outmap: FeatureMap) -> tuple[Arrow, Text]:
        """The arrow from the input map to the output map, ``max k×k, stride s`` above it."""
        d = self.data
        arrow = Arrow(inmap.get_right(), outmap.get_left(), buff=0.35, color=colors.INK,
                      stroke_width=4)
        return arrow, self.get_words("op", 22, k=d.size, s=d.stride).next_to(arrow, UP, buff=0.15)

    def output_rgb(self) -> np.ndarray:
        """Output map colours: real colours where revealed, grey elsewhere."""
        d = self.data
        rgb = colors.activation_rgb(d.output_map, d.vmax)
        rgb[~self.revealed] = colors.hex_to_rgb(UNREVEALED)
        return rgb

    def get_grid(self, w) -> VGroup:
        """The window's real values, its maximum outlined."""
        g = NumberGrid(w.values, scale="activation", vmax=self.data.vmax, cell=1.0,
                       decimals=self.decimals, font_size=24)
        hl = SurroundingRectangle(g.get_cell(*w.argmax), color=colors.HIGHLIGHT, buff=0,
                                  stroke_width=6)
        return VGroup(g, hl)

    def get_formula(self, w) -> VGroup:
        """``max = m`` with the window's real maximum."""
        return VGroup(self.get_words("max", 26),
                      number(w.value, self.decimals, 26, colors.POSITIVE)).arrange(RIGHT, buff=0.15)
