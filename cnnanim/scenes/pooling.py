"""Max-pooling: a 2x2 window with stride 2 keeps the largest value and halves each map."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Arrow,
    Create,
    FadeIn,
    FadeOut,
    FadeTransform,
    Line,
    SurroundingRectangle,
    Transform,
    UpdateFromAlphaFunc,
    VGroup,
    Write,
)

from cnnanim.draw import colors
from cnnanim.draw.mobjects import FeatureMap, NumberGrid
from cnnanim.draw.text import label, number
from cnnanim.explain import maths
from cnnanim.explain.numbers import decimals_for, fmt
from cnnanim.scenes.base import CnnScene

#: Colour of output cells not computed yet.
UNREVEALED = "#d9d9d9"


#: On-screen words per language (en, zh); numbers and names are filled in from the trace.
LABELS = {
    "title": ("Max pooling  {k}×{k}, stride {s}  ·  {a} → {b}",
              "最大池化  {k}×{k}，步长 {s}  ·  {a} → {b}"),
    "map": ("{stage}  ch {c}", "{stage}  通道 {c}"),
    "max": ("max =", "最大值 ="),
    "op": ("max {k}×{k}, stride {s}", "取最大 {k}×{k}，步长 {s}"),
    "channels": ("× {c} channels, each pooled on its own", "× {c} 个通道，各自池化"),
}


def words(key: str, lang: str = "en", **values) -> str:
    """On-screen words ``key`` of :data:`LABELS` in ``lang``."""
    en, zh = LABELS[key]
    return (zh if lang == "zh" else en).format(**values)


def choose_windows(x_map: np.ndarray, count: int = 3, size: int = 2,
                   stride: int = 2) -> list[tuple[int, int]]:
    """Output positions (row, col) of ``count`` pooling windows worth showing.

    Prefers windows whose values are all positive and distinct with a large maximum, and tries
    to show the maximum at different places inside the window. Deterministic.
    """
    x = np.asarray(x_map, dtype=np.float64)
    win = np.lib.stride_tricks.sliding_window_view(x, (size, size))[::stride, ::stride]
    oh, ow = win.shape[:2]
    flat = win.reshape(oh, ow, -1)
    nonzero = (flat > 0).sum(axis=-1)
    distinct = np.array([[len(np.unique(flat[r, c])) for c in range(ow)] for r in range(oh)])
    mx = flat.max(axis=-1)
    score = (nonzero + distinct) * (mx.max() + 1.0) + mx
    where = flat.argmax(axis=-1)
    order = np.argsort(-score, axis=None, kind="stable")
    chosen: list[tuple[int, int]] = []
    used_arg: set[int] = set()
    for idx in order:  # first pass: one window per argmax position, spread over the map
        r, c = divmod(int(idx), ow)
        if int(where[r, c]) in used_arg:
            continue
        if any(abs(r - r2) + abs(c - c2) < max(2, oh // 4) for r2, c2 in chosen):
            continue
        chosen.append((r, c))
        used_arg.add(int(where[r, c]))
        if len(chosen) == count:
            return chosen
    for idx in order:  # fill up if the map is too uniform
        r, c = divmod(int(idx), ow)
        if (r, c) not in chosen:
            chosen.append((r, c))
        if len(chosen) == count:
            break
    return chosen


@dataclass(frozen=True)
class PoolingData:
    """The numbers the pooling scene shows.

    Attributes
    ----------
    stage, input_stage : str
        The pool stage and the stage that feeds it (e.g. max_pool_1, relu_1_2).
    channel, size, stride : int
    input_map, output_map : numpy.ndarray
        The channel before and after pooling (output == the trace's pool output).
    windows : list of maths.PoolWindow
        The windows shown, with their real maximum (argmax from maths.pool_window).
    vmax : float
        Shared colour half-range.
    """

    stage: str
    input_stage: str
    channel: int
    size: int
    stride: int
    input_map: np.ndarray
    output_map: np.ndarray
    windows: list
    vmax: float


def pooling_data(trace, layer: str, channel: int, count: int = 3) -> PoolingData:
    """Everything the pooling scene shows for pool stage ``layer`` and ``channel``."""
    names = trace.stage_names()
    st = trace[layer]
    input_stage = names[names.index(layer) - 1]
    size, stride = st.kernel_size or 2, st.stride or 2
    x = np.asarray(st.input, dtype=np.float64)
    out = maths.max_pool(x, size, stride)[channel]
    windows = [maths.pool_window(x, channel, r, c, size, stride)
               for r, c in choose_windows(x[channel], count, size, stride)]
    return PoolingData(layer, input_stage, channel, size, stride, x[channel], out, windows,
                       colors.symmetric_range(x[channel]))


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

    def setup(self) -> None:
        super().setup()
        self.data = self.get_pooling_data()
        self.decimals = decimals_for(self.data.input_map)
        self.revealed = np.zeros(self.data.output_map.shape, dtype=bool)

    def get_pooling_data(self) -> PoolingData:
        """The real windows and maps (see :func:`pooling_data`)."""
        return pooling_data(self.trace, self.layer, self.neuron)

    # -- builders ---------------------------------------------------------------------------
    def text(self, key: str, size: float = 20, color: str = colors.INK, **values):
        """A label of :data:`LABELS` in the scene's language and font."""
        return label(words(key, self.lang, **values), size, color, lang=self.lang)

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
        return VGroup(self.text("max", 26), number(w.value, self.decimals, 26, colors.POSITIVE)
                      ).arrange(RIGHT, buff=0.15)

    def reveal(self, outmap: FeatureMap, cells) -> None:
        for r, c in cells:
            self.revealed[r, c] = True
        outmap.set_values(self.output_rgb())

    # -- storyboard -------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.data
        n, m = d.input_map.shape[0], d.output_map.shape[0]
        title = self.get_title(words("title", self.lang, k=d.size, s=d.stride, a=d.input_stage,
                                     b=d.stage))
        inmap = FeatureMap(d.input_map, vmax=d.vmax, height=3.8).move_to([-4.55, 0.45, 0])
        in_label = self.text("map", 20, stage=d.input_stage, c=d.channel).next_to(inmap, DOWN, buff=0.15)
        outmap = FeatureMap(self.output_rgb(), scale="rgb", height=3.8 * m / n)
        outmap.move_to([4.9, 0.45, 0])
        out_label = self.text("map", 20, stage=d.stage, c=d.channel).next_to(outmap, DOWN, buff=0.15)
        with self.beat("intro", k=d.size, s=d.stride) as b:
            self.play(Write(title), FadeIn(inmap), FadeIn(in_label), run_time=b.part(0.35))
            self.play(FadeIn(outmap), FadeIn(out_label), run_time=b.part(0.25))

        grid_pos = np.array([0.2, 0.95, 0])
        w = d.windows[0]
        box = inmap.get_cell_box(w.top, w.left, d.size, d.size, stroke_width=3)
        grid = self.get_grid(w).move_to(grid_pos)
        lines = self.get_zoom_lines(box, grid[0])
        formula = self.get_formula(w).next_to(grid, DOWN, buff=0.35)
        obox = outmap.get_cell_box(w.row, w.col, stroke_width=3)
        arrow = Arrow(grid.get_right(), obox.get_center(), buff=0.15, color=colors.HIGHLIGHT,
                      stroke_width=3)
        key = "window" if d.input_map.max() > 0 else "window_dead"
        with self.beat(key, input=d.input_stage, value=fmt(w.value, self.decimals)) as b:
            self.play(Create(box), Create(lines), FadeIn(grid[0]), run_time=b.part(0.25))
            self.play(Create(grid[1]), Write(formula), run_time=b.part(0.3))
            self.play(Create(arrow), Create(obox),
                      UpdateFromAlphaFunc(outmap, lambda mob, a: self.reveal(mob, [(w.row, w.col)])
                                          if a > 0.5 else None), run_time=b.part(0.2))

        with self.beat("more") as b:
            share = 0.85 / max(1, len(d.windows) - 1)
            for w in d.windows[1:]:
                nbox = inmap.get_cell_box(w.top, w.left, d.size, d.size, stroke_width=3)
                ngrid = self.get_grid(w).move_to(grid_pos)
                nformula = self.get_formula(w).next_to(ngrid, DOWN, buff=0.35)
                nobox = outmap.get_cell_box(w.row, w.col, stroke_width=3)
                narrow = Arrow(ngrid.get_right(), nobox.get_center(), buff=0.15,
                               color=colors.HIGHLIGHT, stroke_width=3)
                self.play(Transform(box, nbox), Transform(lines, self.get_zoom_lines(nbox, ngrid[0])),
                          FadeTransform(grid, ngrid), FadeTransform(formula, nformula),
                          FadeOut(arrow), Transform(obox, nobox), run_time=share * b.duration * 0.5)
                grid, formula = ngrid, nformula
                arrow = narrow
                self.play(Create(arrow),
                          UpdateFromAlphaFunc(outmap, lambda mob, a, w=w: self.reveal(
                              mob, [(w.row, w.col)]) if a > 0.5 else None),
                          run_time=share * b.duration * 0.4)

        rows = [[(r, c) for c in range(m)] for r in range(m)]

        def sweep(mob, a):
            k = int(round(a * m))
            self.reveal(mob, [cell for row in rows[:k] for cell in row])

        with self.beat("sweep") as b:
            self.play(FadeOut(VGroup(grid, formula, lines, arrow, obox)), run_time=b.part(0.2))
            self.play(UpdateFromAlphaFunc(outmap, sweep),
                      box.animate.move_to(inmap.get_cell_box(n - d.size, n - d.size, d.size,
                                                             d.size)),
                      run_time=b.part(0.6))

        size_in = label(f"{n} × {n}", 26, weight="BOLD").next_to(in_label, DOWN, buff=0.12)
        size_out = label(f"{m} × {m}", 26, weight="BOLD").next_to(out_label, DOWN, buff=0.12)
        big_arrow = Arrow(inmap.get_right(), outmap.get_left(), buff=0.35, color=colors.INK,
                          stroke_width=4)
        arrow_label = self.text("op", 22, k=d.size, s=d.stride).next_to(
            big_arrow, UP, buff=0.15)
        with self.beat("halve", n=n, m=m) as b:
            self.play(FadeOut(box), Create(big_arrow), FadeIn(arrow_label), run_time=b.part(0.2))
            self.play(FadeIn(size_in), FadeIn(size_out), run_time=b.part(0.2))
        c = self.trace[self.layer].output.shape[0]
        note = self.text("channels", 22, colors.MUTED, c=c)
        note.next_to(big_arrow, DOWN, buff=0.25)
        with self.beat("channels", c=c) as b:
            self.play(FadeIn(note), run_time=b.part(0.2))

    def get_zoom_lines(self, box, grid) -> VGroup:
        """Two thin lines from a window on the map to its enlarged grid."""
        g = VGroup(Line(box.get_corner(UP + RIGHT), grid.get_corner(UP + LEFT)),
                   Line(box.get_corner(DOWN + RIGHT), grid.get_corner(DOWN + LEFT)))
        return g.set_stroke(colors.HIGHLIGHT, 1.5)
