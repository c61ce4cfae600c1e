"""ReLU: max(0, x) as a graph, on a real window of a conv map, then on the whole map."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Arrow,
    Axes,
    Create,
    DashedLine,
    Dot,
    FadeIn,
    FadeOut,
    Indicate,
    Line,
    ReplacementTransform,
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

#: On-screen words per language (en, zh); numbers and names are filled in from the trace.
LABELS = {
    "title": ("ReLU  ·  {conv} → {relu}", "ReLU 激活  ·  {conv} → {relu}"),
    "map": ("{stage}  ch {c}", "{stage}  通道 {c}"),
    "formula": ("ReLU(x) = max(0, x)", "ReLU(x) = max(0, x)"),
    "chain": ("conv → ReLU → conv → ReLU → …", "卷积 → ReLU → 卷积 → ReLU → …"),
    "collapse": ("without ReLU: W₂(W₁x) = (W₂W₁)x", "没有 ReLU：W₂(W₁x) = (W₂W₁)x"),
    "one_layer": ("= one linear layer", "多层只等于一层线性"),
    "faster": ("trains faster than sigmoid", "比 sigmoid 训练更快"),
}


def words(key: str, lang: str = "en", **values) -> str:
    """On-screen words ``key`` of :data:`LABELS` in ``lang``."""
    en, zh = LABELS[key]
    return (zh if lang == "zh" else en).format(**values)


def relu_pair(trace, layer: str) -> tuple[str, str]:
    """(conv stage, relu stage) for a conv or relu stage name (conv_1_1 <-> relu_1_1)."""
    suffix = layer.split("_", 1)[1]
    conv, rel = f"conv_{suffix}", f"relu_{suffix}"
    return conv, rel


def choose_window(conv_map: np.ndarray, size: int = 4) -> tuple[int, int]:
    """Top-left of a ``size`` x ``size`` window mixing clearly negative and positive values.

    Scores every window by min(sum of its negative magnitudes, sum of its positives), so both
    signs are present and strong; a map of one sign falls back to the largest magnitudes. The
    first best window in row-major order wins (deterministic).
    """
    x = np.asarray(conv_map, dtype=np.float64)
    win = np.lib.stride_tricks.sliding_window_view(x, (size, size))
    neg = np.clip(-win, 0, None).sum(axis=(-1, -2))
    pos = np.clip(win, 0, None).sum(axis=(-1, -2))
    score = np.minimum(neg, pos)
    if not score.max() > 0:
        score = neg + pos
    flat = int(np.argmax(score))
    return divmod(flat, score.shape[1])


def best_channel(conv_out: np.ndarray) -> int:
    """The channel where ReLU shows best: strong negative and strong positive values.

    Scores each channel of a conv output (C, H, W) by min(sum of negative magnitudes, sum of
    positives); the first best channel wins.
    """
    x = np.asarray(conv_out, dtype=np.float64).reshape(len(conv_out), -1)
    neg = np.clip(-x, 0, None).sum(axis=1)
    pos = np.clip(x, 0, None).sum(axis=1)
    return int(np.argmax(np.minimum(neg, pos)))


@dataclass(frozen=True)
class ReluWindowData:
    """The numbers the ReLU scene shows.

    Attributes
    ----------
    conv_stage, relu_stage : str
    channel : int
    top, left, size : int
        The window in the conv output map.
    before, after : numpy.ndarray
        (size, size) conv values and their ReLU (== the relu stage's output there).
    conv_map, relu_map : numpy.ndarray
        The whole channel before and after ReLU.
    vmax : float
        Shared colour half-range (largest magnitude of the conv map).
    negative, positive : tuple of int
        (row, col) inside the window of the example negative (most negative) and positive
        (largest) values.
    """

    conv_stage: str
    relu_stage: str
    channel: int
    top: int
    left: int
    size: int
    before: np.ndarray
    after: np.ndarray
    conv_map: np.ndarray
    relu_map: np.ndarray
    vmax: float
    negative: tuple[int, int]
    positive: tuple[int, int]


def relu_window_data(trace, layer: str, channel: int, size: int = 4) -> ReluWindowData:
    """Everything the ReLU scene shows for ``layer`` (conv or relu stage) and ``channel``."""
    conv, rel = relu_pair(trace, layer)
    conv_map = np.asarray(trace[conv].output[channel], dtype=np.float64)
    relu_map = maths.relu(conv_map)
    top, left = choose_window(conv_map, size)
    before = conv_map[top:top + size, left:left + size].copy()
    after = maths.relu(before)
    neg = np.unravel_index(int(np.argmin(before)), before.shape)
    pos = np.unravel_index(int(np.argmax(before)), before.shape)
    return ReluWindowData(conv, rel, channel, top, left, size, before, after, conv_map, relu_map,
                          colors.symmetric_range(conv_map), (int(neg[0]), int(neg[1])),
                          (int(pos[0]), int(pos[1])))


class Relu(CnnScene):
    """ReLU keeps positives and zeroes negatives, shown on a real conv map."""

    cli_name = "relu"
    description = "ReLU: max(0, x) on a real conv map, and why non-linearity matters"
    chapter = "relu"
    default_layer = "conv_1_1"
    valid_layer_kinds = ("conv", "relu")
    NARRATION = {
        "graph": {
            "en": "ReLU, the rectified linear unit, is max of zero and x: a positive input passes "
                  "through unchanged, a negative one becomes zero.",
            "zh": "ReLU 就是 max(0, x)：正数原样通过，负数变成零。",
        },
        "window": {
            "en": "Here is a real {size} by {size} patch of {conv}, channel {channel}, before "
                  "ReLU. Red cells are negative, blue cells positive.",
            "zh": "这是 {conv} 通道 {channel} 里真实的 {size}×{size} 小块。红色为负，蓝色为正。",
        },
        "apply": {
            "en": "Element by element: {neg} turns into zero, while {pos} stays exactly {pos}.",
            "zh": "逐个元素：{neg} 变成 0，{pos} 仍是 {pos}。",
        },
        "apply_neg": {
            "en": "Element by element: every value here is negative, like {neg}, so all of them "
                  "become zero.",
            "zh": "逐个元素：这里全是负数，比如 {neg}，所以全部变成 0。",
        },
        "apply_pos": {
            "en": "Element by element: nothing here is negative, so every value passes unchanged; "
                  "{pos} stays {pos}.",
            "zh": "逐个元素：这里没有负数，所有值原样通过，{pos} 仍是 {pos}。",
        },
        "map": {
            "en": "Over the whole map, on the same colour scale, every red cell turns white. "
                  "This is {relu}, the output of the ReLU layer.",
            "zh": "整张图用同一色标，红色全部变白，这就是 {relu}。",
        },
        "map_pos": {
            "en": "This whole map has no negative values, so ReLU leaves it unchanged: {relu} "
                  "looks exactly like the convolution's output.",
            "zh": "这张图没有负数，所以 ReLU 不改变它：{relu} 与卷积输出完全相同。",
        },
        "why": {
            "en": "A ReLU follows every convolution. Without this bend, a stack of linear layers "
                  "collapses into one linear layer; and ReLU trains faster than sigmoid.",
            "zh": "每个卷积后都有 ReLU。没有这个折点，多层线性运算会塌缩成一层；"
                  "而且它比 sigmoid 训练得快。",
        },
    }

    def setup(self) -> None:
        """Load the trace; without an explicit neuron, show the channel where ReLU shows best."""
        super().setup()
        if type(self).neuron is None and not os.environ.get("CNNANIM_NEURON"):
            self.neuron = best_channel(self.trace[relu_pair(self.trace, self.layer)[0]].output)
        self.data = self.get_window_data()
        self.decimals = decimals_for(self.data.before)

    def apply_beat_key(self) -> str:
        """``apply``, or ``apply_neg`` / ``apply_pos`` when the window has only one sign."""
        b = self.data.before
        if not (b > 0).any():
            return "apply_neg"
        if not (b < 0).any():
            return "apply_pos"
        return "apply"

    def get_window_data(self) -> ReluWindowData:
        """The real window, maps and colour range (see :func:`relu_window_data`)."""
        return relu_window_data(self.trace, self.layer, self.neuron)

    # -- builders ---------------------------------------------------------------------------
    def get_graph(self, width: float = 3.6, height: float = 2.6,
                  formula: str | None = None, span: float | None = None) -> VGroup:
        """Axes and the graph of max(0, x); tick labels are plain Text (no LaTeX).

        Without ``span`` the axes run from -3 to 3; with it they fit the window's values
        (ticks at -span and span) and a dashed line y = x shows what ReLU changes.
        """
        if span is None:
            xr, yr, marks = [-3, 3, 1], [-1, 3, 1], (-2.0, 2.0)
            names = ("-2", "2", "2")
        else:
            s = float(span) if span > 0 else 1.0
            xr, yr, marks = [-1.15 * s, 1.15 * s, s / 2], [-1.15 * s, 1.15 * s, s / 2], (-s, s)
            names = (fmt(-s, self.decimals), fmt(s, self.decimals), fmt(s, self.decimals))
        axes = Axes(x_range=xr, y_range=yr, x_length=width, y_length=height,
                    tips=False, axis_config={"include_numbers": False, "color": colors.INK,
                                             "stroke_width": 2, "include_ticks": span is None})
        graph = VGroup(Line(axes.c2p(xr[0], 0), axes.c2p(0, 0)),
                       Line(axes.c2p(0, 0), axes.c2p(xr[1], xr[1])))
        graph.set_stroke(colors.POSITIVE, 5)
        ticks = VGroup(
            label(names[0], 18, colors.MUTED).next_to(axes.c2p(marks[0], 0), DOWN, buff=0.12),
            label(names[1], 18, colors.MUTED).next_to(axes.c2p(marks[1], 0), DOWN, buff=0.12),
            label(names[2], 18, colors.MUTED).next_to(axes.c2p(0, marks[1]), LEFT, buff=0.12))
        if span is not None:
            for x, y in ((marks[0], 0), (marks[1], 0), (0, marks[1])):
                d = RIGHT * 0.08 if x == 0 else UP * 0.08
                ticks.add(Line(axes.c2p(x, y) - d, axes.c2p(x, y) + d, color=colors.INK,
                               stroke_width=2))
        xl = label("x", 22).next_to(axes.x_axis.get_right(), RIGHT, buff=0.1)
        formula = label(formula or words("formula", self.lang), 24, colors.POSITIVE)
        formula.next_to(axes, UP, buff=0.2)
        g = VGroup(axes, graph, ticks, xl, formula)
        if span is not None:
            ident = DashedLine(axes.c2p(xr[0], xr[0]), axes.c2p(0, 0), color=colors.MUTED,
                               stroke_width=2, dash_length=0.08)
            g.add(ident)
        return g

    def text(self, key: str, size: float = 20, color: str = colors.INK, **values):
        """A label of :data:`LABELS` in the scene's language and font."""
        return label(words(key, self.lang, **values), size, color, lang=self.lang)

    def get_conv_map(self, height: float = 3.0) -> FeatureMap:
        return FeatureMap(self.data.conv_map, vmax=self.data.vmax, height=height)

    def get_grid(self, values: np.ndarray, cell: float = 0.85) -> NumberGrid:
        return NumberGrid(values, scale="activation", vmax=self.data.vmax, cell=cell,
                          decimals=self.decimals, font_size=20)

    # -- storyboard -------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.data
        title = self.get_title(words("title", self.lang, conv=d.conv_stage, relu=d.relu_stage))
        graph = self.get_graph(width=5.4, height=3.9).move_to([0, 0.55, 0])
        with self.beat("graph") as b:
            self.play(Write(title), Create(graph[0]), run_time=b.part(0.3))
            self.play(Create(graph[1]), FadeIn(graph[2:]), run_time=b.part(0.35))

        cmap = self.get_conv_map().move_to([-4.6, 0.35, 0])
        cmap_label = self.text("map", 20, stage=d.conv_stage, c=d.channel).next_to(cmap, DOWN, buff=0.15)
        box = cmap.get_cell_box(d.top, d.left, d.size, d.size, stroke_width=3)
        grid = self.get_grid(d.before).move_to([0, 0.35, 0])
        lines = VGroup(Line(box.get_corner(UP + RIGHT), grid.get_corner(UP + LEFT)),
                       Line(box.get_corner(DOWN + RIGHT), grid.get_corner(DOWN + LEFT)))
        lines.set_stroke(colors.HIGHLIGHT, 1.5)
        with self.beat("window", size=d.size, conv=d.conv_stage, channel=d.channel) as b:
            small = self.get_graph(3.0, 2.7, "max(0, x)", span=float(np.abs(d.before).max()))
            small.move_to([4.6, 0.45, 0])
            self.play(ReplacementTransform(graph, small), run_time=b.part(0.25))
            graph = small
            self.play(FadeIn(cmap), FadeIn(cmap_label), Create(box), run_time=b.part(0.2))
            self.play(Create(lines), FadeIn(grid), run_time=b.part(0.25))

        neg, pos = d.negative, d.positive
        after = self.get_grid(d.after).move_to(grid)
        neg_ex = VGroup(number(d.before[neg], self.decimals, 22, colors.NEGATIVE),
                        label("→", 22), number(d.after[neg], self.decimals, 22))
        pos_ex = VGroup(number(d.before[pos], self.decimals, 22, colors.POSITIVE),
                        label("→", 22), number(d.after[pos], self.decimals, 22, colors.POSITIVE))
        has_neg, has_pos = bool((d.before < 0).any()), bool((d.before > 0).any())
        shown = [ex for ex, keep in ((neg_ex, has_neg), (pos_ex, has_pos)) if keep] or [pos_ex]
        for ex in (neg_ex, pos_ex):
            ex.arrange(RIGHT, buff=0.15)
        examples = VGroup(*shown).arrange(DOWN, buff=0.15, aligned_edge=LEFT)
        examples.next_to(grid, DOWN, buff=0.25)
        neg_cells = [(r, c) for r in range(d.size) for c in range(d.size) if d.before[r, c] < 0]
        pos_cells = [(r, c) for r in range(d.size) for c in range(d.size) if d.before[r, c] >= 0]
        key = self.apply_beat_key()
        axes = graph[0]
        dots = VGroup()
        neg_dot = Dot(axes.c2p(d.before[neg], d.before[neg]), radius=0.08, color=colors.NEGATIVE)
        pos_dot = Dot(axes.c2p(d.before[pos], d.before[pos]), radius=0.08, color=colors.POSITIVE)
        with self.beat(key, neg=fmt(d.before[neg], self.decimals),
                       pos=fmt(d.before[pos], self.decimals)) as b:
            if neg_cells:
                self.play(*[ReplacementTransform(grid.get_cell(r, c), after.get_cell(r, c))
                            for r, c in neg_cells],
                          *[ReplacementTransform(grid.get_number(r, c), after.get_number(r, c))
                            for r, c in neg_cells], FadeIn(neg_ex), FadeIn(neg_dot),
                          run_time=b.part(0.3))
                self.play(neg_dot.animate.move_to(axes.c2p(d.before[neg], 0)),
                          run_time=b.part(0.15))
                dots.add(neg_dot)
            if pos_cells:
                self.play(*[Indicate(grid.get_number(r, c), color=colors.HIGHLIGHT,
                                     scale_factor=1.15) for r, c in pos_cells],
                          *([FadeIn(pos_ex), FadeIn(pos_dot)] if pos_ex in shown else []),
                          run_time=b.part(0.3))
                dots.add(pos_dot)

        window_group = VGroup(*[after.get_cell(r, c) for r, c in neg_cells],
                              *[after.get_number(r, c) for r, c in neg_cells],
                              *[grid.get_cell(r, c) for r, c in pos_cells],
                              *[grid.get_number(r, c) for r, c in pos_cells])
        rmap = self.get_conv_map().move_to([0.2, 0.35, 0])
        rmap_label = self.text("map", 20, stage=d.relu_stage, c=d.channel).next_to(rmap, DOWN, buff=0.15)
        arrow = Arrow(cmap.get_right(), rmap.get_left(), buff=0.2, color=colors.INK,
                      stroke_width=3)
        arrow_label = label("ReLU", 20).next_to(arrow, UP, buff=0.1)
        H = d.conv_map.shape[0]

        def sweep(m, alpha):
            k = int(round(alpha * H))
            vals = d.conv_map.copy()
            vals[:k] = d.relu_map[:k]
            m.set_values(vals, vmax=d.vmax)

        with self.beat("map" if (d.conv_map < 0).any() else "map_pos", relu=d.relu_stage) as b:
            self.play(FadeOut(window_group), FadeOut(examples), FadeOut(lines), FadeOut(box),
                      run_time=b.part(0.12))
            self.play(FadeIn(rmap), FadeIn(rmap_label), FadeIn(arrow), FadeIn(arrow_label),
                      run_time=b.part(0.15))
            self.play(UpdateFromAlphaFunc(rmap, sweep), run_time=b.part(0.45))

        why = self.get_why().move_to([4.3, 0.35, 0])
        with self.beat("why") as b:
            self.play(FadeOut(graph), *([FadeOut(dots)] if len(dots) else []), FadeIn(why[0]),
                      run_time=b.part(0.2))
            self.play(FadeIn(why[1]), run_time=b.part(0.2))
            self.play(FadeIn(why[2]), run_time=b.part(0.15))
            self.play(FadeIn(why[3]), run_time=b.part(0.15))

    def get_why(self) -> VGroup:
        """Three short reminders: where ReLU sits and why the bend matters."""
        lines = [words(k, self.lang) for k in ("chain", "collapse", "one_layer", "faster")]
        g = VGroup(*[label(t, 20, lang=self.lang) for t in lines])
        g.arrange(DOWN, buff=0.3, aligned_edge=LEFT)
        g[2].shift(RIGHT * 0.4)
        g[2].next_to(g[1], DOWN, buff=0.12, aligned_edge=LEFT).shift(RIGHT * 0.4)
        g[3].next_to(g[2], DOWN, buff=0.3, aligned_edge=LEFT).align_to(g[0], LEFT)
        if g.width > 4.6:
            g.scale_to_fit_width(4.6)
        return g
