"""Convolution chapter: how one conv neuron turns its input maps into one activation map.

Three storyboards, all drawn from the real trace of the photo through the weights:

* ``conv-elastic``: each input channel is convolved with its own kernel into an intermediate map;
  the intermediate maps are summed and the bias added, giving the neuron's activation map.
* ``conv-slide``: the 3x3 window slides over the input; at a few positions the dot product is
  written out with the real numbers, then a fast sweep fills the rest of the output map.
* ``conv-deep``: the same on a deeper layer, whose inputs are the 10 maps of the layer before.

Every number drawn comes from :mod:`cnnanim.explain.convolution` (plain numpy), so tests check
them without rendering.
"""

from __future__ import annotations

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Arrow,
    Circle,
    Create,
    FadeIn,
    FadeOut,
    Group,
    GrowFromCenter,
    Line,
    Rectangle,
    ReplacementTransform,
    UpdateFromAlphaFunc,
    VGroup,
    Write,
    linear,
)

from cnnanim.draw import colors
from cnnanim.draw.layout import CONTENT_TOP
from cnnanim.draw.mobjects import FeatureMap, NumberGrid, kernel_glyph
from cnnanim.draw.text import cached_text, label, number
from cnnanim.errors import CnnanimError
from cnnanim.explain.convolution import (
    channel_names,
    choose_positions,
    elastic_data,
    input_scale,
    revealed,
    slide_steps,
    window_strings,
)
from cnnanim.explain.maths import ConvWindow
from cnnanim.explain.numbers import fmt
from cnnanim.scenes.base import CnnScene
from cnnanim.speech.narration import Beat

#: Text size of numbers and labels (readable at 480p).
SMALL = 20
#: Left and right edge of this chapter's content (a little inside SAFE_LEFT / SAFE_RIGHT).
X_MIN, X_MAX = -6.75, 6.75
#: conv-slide's sweep: both maps this high, side by side around these centres.
SWEEP_HEIGHT = 3.9
SWEEP_INPUT = np.array([-3.6, 0.75, 0])
SWEEP_OUTPUT = np.array([3.1, 0.75, 0])


# --------------------------------------------------------------------------------------------
# shared scene pieces
class ConvScene(CnnScene):
    """Common pieces of the convolution scenes."""

    chapter = "convolution"
    valid_layer_kinds = ("conv",)
    WORDS = {
        "in_ch": {"en": "in {c}", "zh": "输入{c}"},
        "bias": {"en": "+ bias", "zh": "+ 偏置"},
        "neuron_size": {"en": "neuron {neuron}: {h}×{w}", "zh": "神经元 {neuron}：{h}×{w}"},
    }

    # -- the stage ----------------------------------------------------------------------------
    @property
    def stage(self):
        return self.trace[self.layer]

    @property
    def k(self) -> int:
        """Kernel size."""
        return self.stage.weight.shape[-1]

    @property
    def stride(self) -> int:
        return self.stage.stride or 1

    @property
    def pad(self) -> int:
        return self.stage.padding or 0

    @property
    def n_weights(self) -> int:
        """Weights of one neuron (all its kernels)."""
        return int(np.prod(self.stage.weight.shape[1:]))

    def is_first_layer(self) -> bool:
        """True when the stage reads the image itself."""
        return self.trace.stage_names()[0] == self.layer

    def prev_stage_name(self) -> str:
        names = self.trace.stage_names()
        i = names.index(self.layer)
        return names[i - 1] if i > 0 else "input"

    def setup_windows(self, skip: int = 0) -> None:
        """The neuron's output map and the windows written out (``choose_positions()[skip:]``)."""
        out = self.stage.output[self.neuron].astype(np.float64)
        self.out_values = out
        self.out_vmax = colors.symmetric_range(out)
        self.positions = choose_positions(out)[skip:]
        self.steps = slide_steps(self.trace, self.layer, self.neuron, self.positions)

    def get_step_strings(self) -> list[dict]:
        """The strings drawn at each written-out window (see :func:`window_strings`)."""
        return [window_strings(w) for w in self.steps]

    def get_revealed(self, n_cells: int) -> np.ndarray:
        """The output map with its first ``n_cells`` cells and the written-out windows shown."""
        return revealed(self.out_values, n_cells, keep=[(w.row, w.col) for w in self.steps])

    # -- builders -----------------------------------------------------------------------------
    def get_input_map(self, channel: int, height: float, vmax: float | None = None) -> FeatureMap:
        """Input channel ``channel`` of the stage, tinted (image) or as activations."""
        x = self.stage.input
        scale = input_scale(x.shape[0], channel, self.is_first_layer())
        return FeatureMap(x[channel], scale=scale, height=height,
                          vmax=None if scale != "activation" else vmax)

    def get_output_map(self, values: np.ndarray, height: float, vmax: float) -> FeatureMap:
        return FeatureMap(values, scale="activation", height=height, vmax=vmax)

    def get_size_label(self, out_map: FeatureMap, buff: float):
        """``neuron N: H×W`` under the output map."""
        h, w = out_map.values.shape
        return self.get_words("neuron_size", SMALL, neuron=self.neuron, h=h, w=w).next_to(
            out_map, DOWN, buff=buff)

    def window_box(self, m: FeatureMap, r: int, c: int, k: int = 1) -> VGroup:
        """A k x k window outline (yellow with a dark rim) that shows on any colour."""
        return VGroup(m.get_cell_box(r, c, k, k, color=colors.INK, stroke_width=6),
                      m.get_cell_box(r, c, k, k, stroke_width=3))

    def input_window(self, m: FeatureMap, row: int, col: int) -> VGroup:
        """The kernel's window on input map ``m`` for output cell (row, col)."""
        return self.window_box(m, row * self.stride - self.pad, col * self.stride - self.pad,
                               self.k)

    def get_value_box(self, value: float, vmax: float, size: float = 22) -> VGroup:
        """One output number in a cell coloured like the output map."""
        rgb = colors.activation_rgb(np.array([value]), vmax)[0]
        t = number(value, 2, size, colors.text_color_for(rgb))
        box = Rectangle(width=t.width + 0.3, height=t.height + 0.25, stroke_color=colors.INK,
                        stroke_width=1.5, fill_color=colors.rgb_to_hex(rgb), fill_opacity=1)
        t.move_to(box)
        return VGroup(box, t)

    # -- verbs --------------------------------------------------------------------------------
    def show_value(self, out_map: FeatureMap, win: ConvWindow) -> None:
        """The output map shows the value just computed at ``win``'s cell."""
        values = out_map.values.copy()
        values[win.row, win.col] = self.out_values[win.row, win.col]
        out_map.set_values(values)

    def fill_output(self, out_map: FeatureMap, run_time: float, in_map: FeatureMap | None = None,
                    boxes: tuple[VGroup, VGroup] | None = None) -> None:
        """Fill ``out_map`` in reading order; the window ``boxes`` (input, output) go along."""
        h, w = self.out_values.shape

        def fill(mob, alpha):
            n = int(round(alpha * h * w))
            mob.set_values(self.get_revealed(n))
            if boxes is not None:
                r, c = divmod(min(n, h * w - 1), w)
                boxes[0].become(self.input_window(in_map, r, c))
                boxes[1].become(self.window_box(out_map, r, c))

        self.play(UpdateFromAlphaFunc(out_map, fill), run_time=run_time, rate_func=linear)
        out_map.set_values(self.out_values)


# --------------------------------------------------------------------------------------------
class ConvElastic(ConvScene):
    """Input channels -> per-channel kernels -> intermediate maps -> sum + bias -> activation map."""

    cli_name = "conv-elastic"
    description = "One conv neuron: a kernel per input channel, intermediate maps, sum and bias"
    NARRATION = {
        "inputs": {
            "en": "Take one neuron of {layer}: neuron {neuron}. It reads all {n_in} input maps "
                  "at once.",
            "zh": "看 {layer} 层的一个神经元：第 {neuron} 个。它同时读取全部 {n_in} 张输入图。",
        },
        "kernels": {
            "en": "For every input map it owns a separate {k} by {k} kernel of learned weights. "
                  "{n_in} inputs times {n_out} neurons makes {n_kernels} kernels in this layer.",
            "zh": "每张输入图都配有它自己的 {k}×{k} 卷积核，权重是学出来的。"
                  "{n_in} 个输入乘以 {n_out} 个神经元，这一层共有 {n_kernels} 个卷积核。",
        },
        "intermediate": {
            "en": "Sliding each kernel over its map and taking dot products gives one "
                  "intermediate result per channel.",
            "zh": "每个卷积核在自己的输入图上滑动，逐点相乘再求和，得到每个通道的中间结果。",
        },
        "sum": {
            "en": "The neuron adds the intermediate maps cell by cell, then adds its bias, {bias}.",
            "zh": "神经元把这些中间结果逐格相加，再加上它的偏置 {bias}。",
        },
        "output": {
            "en": "That is the neuron's activation map, {h} by {w}: blue where it responds "
                  "positively, red where negatively.",
            "zh": "这就是该神经元的激活图，大小 {h}×{w}：蓝色表示正响应，红色表示负响应。",
        },
    }
    WORDS = {
        **ConvScene.WORDS,
        "title": {"en": "{layer}: one neuron, {n} kernels", "zh": "{layer}：一个神经元，{n} 个卷积核"},
        "more": {"en": "⋮  + {rest} more maps ({a}–{b}), each with its own kernel",
                 "zh": "⋮  另有 {rest} 张输入图（{a}–{b}），各有自己的卷积核"},
        "count": {"en": "{n_in} inputs × {n_out} neurons = {n_kernels} kernels",
                  "zh": "{n_in} 个输入 × {n_out} 个神经元 = {n_kernels} 个卷积核"},
        "sum_of": {"en": "sum of {n}", "zh": "{n} 项相加"},
        "bias_val": {"en": "+ bias {b}", "zh": "+ 偏置 {b}"},
    }

    def setup(self) -> None:
        super().setup()
        self.data = elastic_data(self.trace, self.layer, self.neuron)

    def shown_channels(self) -> list[int]:
        """Channels drawn as full rows (all three of an image, the first three otherwise)."""
        return list(range(min(3, self.data.n_in)))

    # -- builders -----------------------------------------------------------------------------
    def get_rows(self) -> Group:
        """One row per shown channel: name, input map, kernel, intermediate map (still white)."""
        d = self.data
        names = channel_names(d.n_in)
        deep = d.n_in > 3
        cell = 0.5 if deep else 0.55
        row_h = 3 * cell
        in_vmax = colors.symmetric_range(d.inputs)
        w_vmax = colors.symmetric_range(self.stage.weight)
        inter_vmax = colors.symmetric_range(d.intermediate)
        rows = []
        for c in self.shown_channels():
            name = (self.get_words("in_ch", SMALL, c=names[c]) if deep
                    else label(names[c], SMALL))
            m = self.get_input_map(c, row_h * 0.95, in_vmax)
            k = kernel_glyph(d.kernels[c], vmax=w_vmax, cell=cell)
            inter = FeatureMap(np.zeros_like(d.intermediate[c]), scale="activation",
                               vmax=inter_vmax, height=row_h * 0.95)
            rows.append(Group(name, m, k, inter))
        return self.place_rows(Group(*rows), row_h)

    def place_rows(self, rows: Group, row_h: float) -> Group:
        """Rows down from the top of the content: input maps, kernels, intermediate maps."""
        y = CONTENT_TOP - row_h / 2
        for name, m, k, inter in rows:
            m.move_to([-5.2, y, 0])
            name.next_to(m, LEFT, buff=0.15)
            k.move_to([-3.1, y, 0])
            inter.move_to([-1.0, y, 0])
            y -= row_h + 0.15
        if len(rows) < 3:  # a grey image has one channel: centre its row
            rows.shift(UP * (0.5 - rows.get_center()[1]))
        return rows

    def get_more(self, rows: Group):
        """``+ N more maps`` under the rows when not every channel has a row (None otherwise)."""
        d = self.data
        if d.n_in <= len(rows):
            return None
        more = self.get_words("more", SMALL, colors.MUTED, rest=d.n_in - len(rows),
                              a=len(rows) + 1, b=d.n_in)
        return more.next_to(rows, DOWN, buff=0.15).align_to(rows, LEFT)

    def get_arrows(self, rows: Group) -> VGroup:
        """Arrows input map -> kernel and kernel -> intermediate map, alternating, row by row."""
        arrows = VGroup()
        for name, m, k, inter in rows:
            arrows.add(Arrow(m.get_right(), k.get_left(), buff=0.08, color=colors.INK,
                             stroke_width=3, max_tip_length_to_length_ratio=0.25))
            arrows.add(Arrow(k.get_right(), inter.get_left(), buff=0.08, color=colors.INK,
                             stroke_width=3, max_tip_length_to_length_ratio=0.25))
        return arrows

    def get_count(self):
        """``3 inputs × 10 neurons = 30 kernels`` at the bottom right."""
        d = self.data
        count = self.get_words("count", SMALL, n_in=d.n_in, n_out=d.n_out, n_kernels=d.n_kernels)
        count.move_to([4.4, -2.1, 0])
        if count.get_right()[0] > X_MAX:
            count.shift(LEFT * (count.get_right()[0] - X_MAX))
        return count

    def rows_middle(self, rows: Group) -> float:
        """y halfway between the top of the first row and the bottom of the last."""
        return (rows[0].get_top()[1] + rows[-1].get_bottom()[1]) / 2

    def get_plus(self, rows: Group) -> VGroup:
        """The summing node (a circled +) right of the intermediate maps, with ``sum of N``."""
        plus = VGroup(Circle(radius=0.32, color=colors.INK, stroke_width=3),
                      cached_text("+", font_size=40, color=colors.INK))
        plus.move_to([0.75, self.rows_middle(rows), 0])
        plus_label = self.get_words("sum_of", SMALL, n=self.data.n_in)
        plus_label.next_to(plus, DOWN, buff=0.12)
        plus_label.align_to(plus.get_center() + RIGHT * 0.12, LEFT)
        return VGroup(plus, plus_label)

    def get_sum_lines(self, rows: Group, plus: VGroup, more) -> VGroup:
        """Lines from each intermediate map to the circle's edge (the other channels from below)."""
        lines = VGroup(*[Line(r[3].get_right(), plus[0].get_center(), color=colors.INK,
                              stroke_width=2.5, buff=0) for r in rows])
        for ln in lines:  # stop the lines at the circle's edge
            ln.put_start_and_end_on(ln.get_start(), plus[0].get_center()
                                    - 0.32 * ln.get_unit_vector())
        if more is not None:  # the other channels join from below
            corner = np.array([plus.get_center()[0], more.get_center()[1], 0])
            lines.add(Line(more.get_right() + RIGHT * 0.1, corner, color=colors.MUTED,
                           stroke_width=2.5),
                      Line(corner, plus[0].get_bottom(), color=colors.MUTED, stroke_width=2.5))
        return lines

    def place_output_map(self, rows: Group) -> FeatureMap:
        """The activation map at the right, a little above the rows' middle, below the title."""
        d = self.data
        out_map = self.get_output_map(d.output, 2.6, colors.symmetric_range(d.output))
        out_map.move_to([4.9, self.rows_middle(rows) + 0.35, 0])
        if out_map.get_top()[1] > CONTENT_TOP:
            out_map.shift(DOWN * (out_map.get_top()[1] - CONTENT_TOP))
        return out_map

    def get_bias_arrow(self, plus: VGroup, out_map: FeatureMap) -> tuple[Arrow, VGroup]:
        """The arrow from the sum to the output map, ``+ bias b`` above it (two lines if long)."""
        bias = self.data.bias
        arrow = Arrow(plus.get_right(), out_map.get_left(), buff=0.1, color=colors.INK,
                      stroke_width=3)
        bias_txt = self.get_words("bias_val", SMALL, b=fmt(bias))
        bias_txt.next_to(arrow, UP, buff=0.1)
        if bias_txt.width > arrow.width - 0.1:
            bias_txt = VGroup(self.get_words("bias", SMALL), number(bias, 2, SMALL)).arrange(
                DOWN, buff=0.08)
            bias_txt.next_to(arrow, UP, buff=0.1)
        return arrow, bias_txt

    # -- verbs --------------------------------------------------------------------------------
    def fill_intermediate(self, rows: Group, boxes: list[VGroup], run_time: float) -> None:
        """Every kernel slides over its own map while its intermediate map fills in."""
        d = self.data
        shown = self.shown_channels()
        h, w = d.output.shape

        def fill(mob, alpha):
            n = int(round(alpha * h * w))
            i, j = divmod(min(n, h * w - 1), w)
            for r, c, box in zip(rows, shown, boxes):
                r[3].set_values(revealed(d.intermediate[c], n))
                box.become(self.input_window(r[1], i, j))

        # animate a mobject already in the scene, so the boxes added after it redraw too
        self.play(UpdateFromAlphaFunc(rows[0][3], fill), run_time=run_time, rate_func=linear)
        for r, c in zip(rows, shown):
            r[3].set_values(d.intermediate[c])

    # -- storyboard ---------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.data
        h, w = d.output.shape
        title = self.get_title(self.words("title", layer=self.layer, n=d.n_in))
        rows = self.get_rows()
        more = self.get_more(rows)
        with self.beat("inputs", layer=self.layer, neuron=self.neuron, n_in=d.n_in) as b:
            self.play(Write(title), run_time=b.part(0.3))
            self.play(*[FadeIn(Group(r[0], r[1])) for r in rows],
                      *([FadeIn(more)] if more else []), run_time=b.part(0.4))

        arrows = self.get_arrows(rows)
        count = self.get_count()
        with self.beat("kernels", k=self.k, n_in=d.n_in, n_out=d.n_out,
                       n_kernels=d.n_kernels) as b:
            self.play(*[FadeIn(a) for a in arrows[0::2]], *[GrowFromCenter(r[2]) for r in rows],
                      run_time=b.part(0.35))
            self.play(Write(count), run_time=b.part(0.3))

        boxes = [self.input_window(r[1], 0, 0) for r in rows]
        with self.beat("intermediate") as b:
            self.play(*[FadeIn(a) for a in arrows[1::2]], *[FadeIn(r[3]) for r in rows],
                      *[Create(box) for box in boxes], run_time=b.part(0.2))
            self.fill_intermediate(rows, boxes, b.part(0.6))
            self.play(*[FadeOut(box) for box in boxes], run_time=b.part(0.1))

        plus, plus_label = self.get_plus(rows)
        lines = self.get_sum_lines(rows, plus, more)
        out_map = self.output_map = self.place_output_map(rows)
        arrow, bias_txt = self.get_bias_arrow(plus, out_map)
        with self.beat("sum", bias=fmt(d.bias)) as b:
            self.play(Create(lines), FadeIn(plus), FadeIn(plus_label), run_time=b.part(0.4))
            self.play(GrowFromCenter(arrow), Write(bias_txt), run_time=b.part(0.3))

        out_label = self.get_size_label(out_map, buff=0.15)
        with self.beat("output", h=h, w=w) as b:
            self.play(*[FadeOut(r[3].copy(), target_position=plus) for r in rows],
                      run_time=b.part(0.25))
            self.play(FadeIn(out_map, shift=RIGHT * 0.6), run_time=b.part(0.3))
            self.play(FadeIn(out_label), run_time=b.part(0.15))


# --------------------------------------------------------------------------------------------
class ConvSlide(ConvScene):
    """The window slides; the dot product is written out at a few positions, then a sweep."""

    cli_name = "conv-slide"
    description = "The 3x3 window slides: dot products written out with the real numbers"
    NARRATION = {
        "intro": {
            "en": "Let us compute output values by hand. A {k} by {k} window covers the same "
                  "spot in all {n_in} input channels.",
            "zh": "我们来亲手算几个输出值。一个 {k}×{k} 的窗口同时覆盖 {n_in} 个输入通道的同一位置。",
        },
        "products": {
            "en": "At the top-left corner, every input number is multiplied by the kernel weight "
                  "lying on it, and each channel's products are added up.",
            "zh": "在左上角，每个输入数乘以覆盖它的卷积核权重，每个通道的乘积再各自相加。",
        },
        "total": {
            "en": "The channel sums plus the bias, {bias}, give {value}: the first cell of the "
                  "output map.",
            "zh": "各通道之和加上偏置 {bias}，得到 {value}：输出图的第一个格子。",
        },
        "middle": {
            "en": "In the middle, at row {row}, column {col}, the same weights meet new inputs "
                  "and give {value}.",
            "zh": "移到中间，第 {row} 行第 {col} 列：同样的权重遇到新的输入，结果是 {value}。",
        },
        "peak": {
            "en": "At row {row}, column {col}, the neuron reacts strongly: {value}, one of the "
                  "largest values in size in this whole map.",
            "zh": "在第 {row} 行第 {col} 列，神经元反应强烈：{value}，是整张图里绝对值最大的值之一。",
        },
        "sweep": {
            "en": "The window moves on with stride {stride}, row after row, until all {h} by {w} "
                  "cells are filled.",
            "zh": "窗口以步长 {stride} 继续滑动，一行接一行，直到填满全部 {h}×{w} 个格子。",
        },
        "done": {
            "en": "Every cell of this map was made by the same {n_weights} weights and one bias.",
            "zh": "这张图的每个格子都由同样的 {n_weights} 个权重和一个偏置算出。",
        },
    }
    WORDS = {
        **ConvScene.WORDS,
        "title": {"en": "{layer}, neuron {neuron}: sliding the kernel",
                  "zh": "{layer}，神经元 {neuron}：滑动卷积核"},
        "rest_sums": {"en": "Σ in {a}–{b}", "zh": "Σ 输入{a}–{b}"},
        "channels_sum": {"en": "Σ {n} channels", "zh": "Σ {n} 个通道"},
        "patch": {"en": "input patch", "zh": "输入窗口"},
        "kernel": {"en": "kernel", "zh": "卷积核"},
        "products": {"en": "products", "zh": "乘积"},
        "input_shape": {"en": "input {h}×{w}×{c}", "zh": "输入 {h}×{w}×{c}"},
        "output_shape": {"en": "output {h}×{w}", "zh": "输出 {h}×{w}"},
        "neuron": {"en": "neuron {neuron}", "zh": "神经元 {neuron}"},
        "weights_bias": {"en": "{n} weights + 1 bias", "zh": "{n} 个权重 + 1 个偏置"},
    }

    def setup(self) -> None:
        super().setup()
        self.setup_windows()

    def full_channels(self) -> list[int]:
        c_in = self.stage.input.shape[0]
        return list(range(c_in)) if c_in <= 3 else [0, 1]

    # -- builders -----------------------------------------------------------------------------
    def get_input_view(self) -> FeatureMap:
        x = self.stage.input
        if x.shape[0] == 3 and self.is_first_layer():
            m = FeatureMap(x.transpose(1, 2, 0), scale="rgb", height=2.1)
        elif x.shape[0] == 1 and self.is_first_layer():
            m = FeatureMap(x[0], scale="input", height=2.1)
        else:  # deeper layer: show the first input map
            m = FeatureMap(x[0], scale="activation", height=2.1, vmax=colors.symmetric_range(x))
        return m

    def get_maps(self) -> Group:
        """Input view (top left) and its shape; the output map, still white, and its shape below."""
        c_in, in_h, in_w = self.stage.input.shape
        h, w = self.out_values.shape
        in_map = self.get_input_view().move_to([-5.65, CONTENT_TOP - 1.05, 0])
        in_label = self.get_words("input_shape", SMALL, h=in_h, w=in_w, c=c_in)
        in_label.next_to(in_map, DOWN, buff=0.1)
        out_map = self.get_output_map(np.zeros_like(self.out_values), 2.1, self.out_vmax)
        out_map.next_to(in_label, DOWN, buff=0.3).align_to(in_map, LEFT)
        out_label = self.get_words("output_shape", SMALL, h=h, w=w).next_to(out_map, DOWN, buff=0.1)
        return Group(in_map, in_label, out_map, out_label)

    def get_windows(self, in_map: FeatureMap, out_map: FeatureMap, win: ConvWindow) -> VGroup:
        """The window on the input and the cell it makes on the output."""
        return VGroup(self.input_window(in_map, win.row, win.col),
                      self.window_box(out_map, win.row, win.col))

    def get_rows(self, win: ConvWindow, cell: float) -> Group:
        """One row per fully shown channel: name, patch x kernel = products, channel sum."""
        c_in = win.patches.shape[0]
        names = channel_names(c_in)
        w_vmax = colors.symmetric_range(self.stage.weight)
        p_vmax = max(colors.symmetric_range(s.products) for s in self.steps)
        in_vmax = colors.symmetric_range(self.stage.input)
        rows = []
        for c in self.full_channels():
            scale = input_scale(c_in, c, self.is_first_layer())
            patch = NumberGrid(win.patches[c], scale=scale,
                               vmax=in_vmax if scale == "activation" else None, cell=cell)
            kern = kernel_glyph(win.kernels[c], vmax=w_vmax, cell=cell)
            prod = NumberGrid(win.products[c], scale="activation", vmax=p_vmax, cell=cell)
            name = (label(names[c], SMALL) if c_in == 3
                    else self.get_words("in_ch", SMALL, c=names[c]))
            times = label("×", 30)
            eq = label("=", 30)
            s = label("Σ " + fmt(float(win.channel_sums[c])), 22)
            rows.append(Group(name, patch, times, kern, eq, prod, s))
        return Group(*rows)

    def place_rows(self, rows: Group, cell: float) -> Group:
        """Rows from the top of the content down, each ``name patch × kernel = products Σ``."""
        y = CONTENT_TOP - 0.35 - 1.5 * cell
        for r in rows:
            name, patch, times, kern, eq, prod, s = r
            patch.move_to([-2.85, y, 0])
            name.next_to(patch, LEFT, buff=0.15)
            times.next_to(patch, RIGHT, buff=0.18)
            kern.next_to(times, RIGHT, buff=0.18)
            eq.next_to(kern, RIGHT, buff=0.18)
            prod.next_to(eq, RIGHT, buff=0.18)
            s.next_to(prod, RIGHT, buff=0.2)
            y -= 3 * cell + 0.1
        return rows

    def get_rest_row(self, win: ConvWindow, cell: float, below: Group) -> Group | None:
        """For deep layers: the channel sums of the channels not written out."""
        shown = len(self.full_channels())
        c_in = win.patches.shape[0]
        if c_in <= shown:
            return None
        sums = np.asarray(win.channel_sums[shown:])[None, :]
        grid = NumberGrid(sums, scale="activation",
                          vmax=colors.symmetric_range(win.channel_sums), cell=cell)
        name = self.get_words("rest_sums", SMALL, a=shown + 1, b=c_in)
        g = Group(name, grid).arrange(RIGHT, buff=0.2)
        g.next_to(below, DOWN, buff=0.15).align_to(below, LEFT)
        return g

    def get_total_column(self, win: ConvWindow, rows: Group) -> VGroup:
        """Right column: sum of the channel sums, + bias, = output (coloured like the map)."""
        c_in = win.patches.shape[0]
        s = self.get_words("channels_sum", SMALL, n=c_in)
        sv = number(float(win.channel_sums.sum()), 2, 24)
        b = self.get_words("bias", SMALL)
        bv = number(win.bias, 2, 24)
        eq = label("=", 30)
        out = self.get_value_box(win.total, self.out_vmax, 26)
        col = VGroup(s, sv, b, bv, eq, out).arrange(DOWN, buff=0.16)
        col.move_to([5.3, (rows.get_top()[1] + rows.get_bottom()[1]) / 2, 0])
        return col

    def get_headers(self, rows: Group) -> VGroup:
        name, patch, times, kern, eq, prod, s = rows[0]
        hs = VGroup(self.get_words("patch", 18, colors.MUTED).next_to(patch, UP, buff=0.1),
                    self.get_words("kernel", 18, colors.MUTED).next_to(kern, UP, buff=0.1),
                    self.get_words("products", 18, colors.MUTED).next_to(prod, UP, buff=0.1))
        return hs

    def build_step(self, win: ConvWindow) -> Group:
        """Every mobject of one step's written-out dot product."""
        cell = 0.55 if win.patches.shape[0] <= 3 else 0.52
        rows = self.place_rows(self.get_rows(win, cell), cell)
        rest = self.get_rest_row(win, cell, rows)
        body = Group(rows, rest) if rest is not None else Group(rows)
        col = self.get_total_column(win, body)
        return Group(rows, Group(rest) if rest is not None else Group(), col)

    def get_sweep_arrow(self) -> tuple[Arrow, VGroup, VGroup]:
        """The arrow between the maps side by side, ``neuron N`` above it, ``W weights`` below."""
        half = RIGHT * (SWEEP_HEIGHT / 2 + 0.1)
        arrow = Arrow(SWEEP_INPUT + half, SWEEP_OUTPUT - half, buff=0.05, color=colors.INK,
                      stroke_width=4)
        arrow_label = self.get_words("neuron", SMALL, neuron=self.neuron)
        arrow_label.next_to(arrow, UP, buff=0.1)
        weights_label = self.get_words("weights_bias", SMALL, n=self.n_weights)
        weights_label.next_to(arrow, DOWN, buff=0.1)
        return arrow, arrow_label, weights_label

    def get_side_by_side(self, maps: Group) -> list:
        """Animations that grow the input and output maps side by side, their shapes below."""
        in_map, in_label, out_map, out_label = maps
        below = DOWN * (SWEEP_HEIGHT / 2 + 0.25)
        return [in_map.animate.scale_to_fit_height(SWEEP_HEIGHT).move_to(SWEEP_INPUT),
                out_map.animate.scale_to_fit_height(SWEEP_HEIGHT).move_to(SWEEP_OUTPUT),
                in_label.animate.move_to(SWEEP_INPUT + below),
                out_label.animate.move_to(SWEEP_OUTPUT + below)]

    # -- verbs --------------------------------------------------------------------------------
    def move_window(self, maps: Group, windows: VGroup, step: Group, win: ConvWindow,
                    b: Beat) -> tuple[VGroup, Group]:
        """The window jumps to ``win``; the written-out dot product there replaces ``step``."""
        in_map, _, out_map, _ = maps
        new_windows = self.get_windows(in_map, out_map, win)
        new_step = self.build_step(win)
        self.play(ReplacementTransform(windows[0], new_windows[0]),
                  ReplacementTransform(windows[1], new_windows[1]), run_time=b.part(0.2))
        self.play(FadeOut(step), FadeIn(new_step), run_time=b.part(0.4))
        self.show_value(out_map, win)
        return new_windows, new_step

    def sweep(self, maps: Group, run_time: float) -> VGroup:
        """The window runs over the whole input from the top-left, filling the output map."""
        in_map, _, out_map, _ = maps
        windows = VGroup(self.input_window(in_map, 0, 0), self.window_box(out_map, 0, 0))
        self.add(*windows)
        self.fill_output(out_map, run_time, in_map, windows)
        return windows

    # -- storyboard ---------------------------------------------------------------------------
    def construct(self) -> None:
        c_in = self.stage.input.shape[0]
        h, w = self.out_values.shape
        strings = self.get_step_strings()
        title = self.get_title(self.words("title", layer=self.layer, neuron=self.neuron), 28)
        maps = self.get_maps()
        self.output_map = out_map = maps[2]
        first = self.steps[0]
        step = self.build_step(first)
        headers = self.get_headers(step[0])
        windows = self.get_windows(maps[0], out_map, first)
        with self.beat("intro", k=self.k, n_in=c_in) as b:
            self.play(Write(title), *[FadeIn(m) for m in maps], run_time=b.part(0.35))
            self.play(Create(windows[0]), run_time=b.part(0.2))
        rows, rest, col = step
        with self.beat("products") as b:
            self.play(FadeIn(headers), *[FadeIn(Group(*r[:4])) for r in rows], FadeIn(rest),
                      run_time=b.part(0.35))
            self.play(*[FadeIn(Group(*r[4:])) for r in rows], run_time=b.part(0.35))
        with self.beat("total", bias=strings[0]["bias"], value=strings[0]["total"]) as b:
            self.play(FadeIn(col[:4]), run_time=b.part(0.3))
            self.play(FadeIn(col[4:]), Create(windows[1]), run_time=b.part(0.3))
            self.show_value(out_map, first)
            self.wait(b.part(0.05))

        for key, win, s in zip(("middle", "peak"), self.steps[1:], strings[1:]):
            with self.beat(key, row=win.row, col=win.col, value=s["total"]) as b:
                windows, step = self.move_window(maps, windows, step, win, b)
                self.wait(b.part(0.05))

        arrow, arrow_label, weights_label = self.get_sweep_arrow()
        with self.beat("sweep", stride=self.stride, h=h, w=w) as b:
            self.play(FadeOut(step), FadeOut(headers), *[FadeOut(m) for m in windows],
                      run_time=b.part(0.1))
            self.play(*self.get_side_by_side(maps), GrowFromCenter(arrow), FadeIn(arrow_label),
                      run_time=b.part(0.15))
            windows = self.sweep(maps, b.part(0.7))
        with self.beat("done", n_weights=self.n_weights) as b:
            self.play(*[FadeOut(m) for m in windows], FadeIn(weights_label), run_time=b.part(0.3))
        self.big_map = out_map


# --------------------------------------------------------------------------------------------
class ConvDeep(ConvScene):
    """A deeper conv neuron: 10 input maps, 10 kernels, 10 channel sums, bias, output."""

    cli_name = "conv-deep"
    description = "A deeper conv layer: ten input maps, ten kernels, their sums plus bias"
    default_layer = "conv_2_1"
    NARRATION = {
        "inputs": {
            "en": "Deeper in, at {layer}, the inputs are no longer colours: they are the {n_in} "
                  "maps that {prev} produced.",
            "zh": "到了更深的 {layer} 层，输入不再是颜色，而是 {prev} 输出的 {n_in} 张特征图。",
        },
        "kernels": {
            "en": "Neuron {neuron} still keeps one {k} by {k} kernel per input map: {n_in} "
                  "kernels, {n_weights} weights.",
            "zh": "第 {neuron} 个神经元依旧为每张输入图配一个 {k}×{k} 卷积核：共 {n_in} 个核，"
                  "{n_weights} 个权重。",
        },
        "sums": {
            "en": "At row {row}, column {col}, each kernel takes the dot product with its own "
                  "window, giving {n_in} channel sums.",
            "zh": "在第 {row} 行第 {col} 列，每个卷积核与自己的窗口做点积，得到 {n_in} 个通道和。",
        },
        "total": {
            "en": "Together they make {sum}; adding the bias, {bias}, gives {value}.",
            "zh": "它们加起来是 {sum}；再加上偏置 {bias}，得到 {value}。",
        },
        "second": {
            "en": "At row {row}, column {col}, the same weights give {value}, one of this "
                  "map's largest values in size.",
            "zh": "在第 {row} 行第 {col} 列，同样的权重得到 {value}，是这张图里绝对值最大的值之一。",
        },
        "output": {
            "en": "Doing this at every position gives the neuron's {h} by {w} output map.",
            "zh": "在每个位置都这样计算，就得到该神经元 {h}×{w} 的输出图。",
        },
    }
    WORDS = {
        **ConvScene.WORDS,
        "title": {"en": "{layer}: a deeper neuron", "zh": "{layer}：更深的一层"},
        "sums_of": {"en": "Σ of {n} sums", "zh": "{n} 个和相加"},
    }

    def setup(self) -> None:
        super().setup()
        if self.is_first_layer():
            deeper = [n for n in self.trace.stage_names()
                      if self.trace[n].kind == "conv" and n != self.layer]
            raise CnnanimError(f"conv-deep explains a deeper layer ({', '.join(deeper)}); "
                               f"{self.layer} reads the image: see conv-elastic and conv-slide")
        self.setup_windows(skip=1)

    # -- builders -----------------------------------------------------------------------------
    def get_cards(self) -> Group:
        """One card per input channel: its map and name, its kernel below (sum added later)."""
        st = self.stage
        x = st.input
        c_in = x.shape[0]
        in_vmax = colors.symmetric_range(x)
        w_vmax = colors.symmetric_range(st.weight)
        cell = 0.55
        cards = []
        for c in range(c_in):
            kern = kernel_glyph(st.weight[self.neuron, c], vmax=w_vmax, cell=cell)
            scale = input_scale(c_in, c, self.is_first_layer())
            m = FeatureMap(x[c], scale=scale, height=0.75,
                           vmax=in_vmax if scale == "activation" else None)
            m.next_to(kern, UP, buff=0.12).align_to(kern, LEFT)
            name = self.get_words("in_ch", 18, colors.MUTED, c=channel_names(c_in)[c])
            name.next_to(m, RIGHT, buff=0.08).align_to(m, UP)
            cards.append(Group(m, kern, name))
        return self.place_cards(Group(*cards))

    def place_cards(self, cards: Group) -> Group:
        """Cards in rows of five from the top-left of the content."""
        per_row = 5 if len(cards) > 5 else len(cards)
        cards.arrange_in_grid(rows=-(-len(cards) // per_row), cols=per_row, buff=(0.2, 0.18))
        cards.align_to([X_MIN, 0, 0], LEFT).align_to([0, CONTENT_TOP, 0], UP)
        return cards

    def place_output_map(self, cards: Group) -> FeatureMap:
        """The output map, still white, centred in the room right of the cards."""
        out_map = self.get_output_map(np.zeros_like(self.out_values), 2.4, self.out_vmax)
        out_map.move_to([(cards.get_right()[0] + X_MAX) / 2, CONTENT_TOP - 1.2, 0])
        return out_map

    def get_sum_labels(self, cards: Group, win: ConvWindow) -> VGroup:
        sums = VGroup()
        for card, s in zip(cards, win.channel_sums):
            t = label("Σ " + fmt(float(s)), 18)
            t.next_to(card[0], RIGHT, buff=0.06).align_to(card[0], DOWN)
            if t.get_right()[0] > card[1].get_right()[0]:
                t.scale_to_fit_width(card[1].get_right()[0] - card[0].get_right()[0] - 0.06)
                t.next_to(card[0], RIGHT, buff=0.06).align_to(card[0], DOWN)
            sums.add(t)
        return sums

    def get_total(self, win: ConvWindow, anchor) -> VGroup:
        c_in = win.patches.shape[0]
        lines = VGroup(
            VGroup(self.get_words("sums_of", SMALL, n=c_in),
                   number(float(win.channel_sums.sum()), 2, 24)).arrange(RIGHT, buff=0.2),
            VGroup(self.get_words("bias", SMALL), number(win.bias, 2, 24)).arrange(RIGHT, buff=0.2),
            VGroup(label("=", 28), self.get_value_box(win.total, self.out_vmax, 24))
            .arrange(RIGHT, buff=0.2),
        ).arrange(DOWN, buff=0.18, aligned_edge=RIGHT)
        lines.next_to(anchor, DOWN, buff=0.3)
        return lines

    def get_step(self, cards: Group, out_map: FeatureMap, out_label, win: ConvWindow) -> tuple:
        """The windows on every input map, the channel sums, the total and the output cell."""
        boxes = VGroup(*[self.input_window(c[0], win.row, win.col) for c in cards])
        return (boxes, self.get_sum_labels(cards, win), self.get_total(win, out_label),
                self.window_box(out_map, win.row, win.col))

    # -- storyboard ---------------------------------------------------------------------------
    def construct(self) -> None:
        c_in = self.stage.input.shape[0]
        h, w = self.out_values.shape
        strings = self.get_step_strings()
        title = self.get_title(self.words("title", layer=self.layer), 28)
        cards = self.get_cards()
        out_map = self.output_map = self.place_output_map(cards)
        out_label = self.get_size_label(out_map, buff=0.1)
        with self.beat("inputs", layer=self.layer, n_in=c_in, prev=self.prev_stage_name()) as b:
            self.play(Write(title), *[FadeIn(Group(c[0], c[2])) for c in cards],
                      run_time=b.part(0.5))
        with self.beat("kernels", neuron=self.neuron, k=self.k, n_in=c_in,
                       n_weights=self.n_weights) as b:
            self.play(*[GrowFromCenter(c[1]) for c in cards], run_time=b.part(0.4))
            self.play(FadeIn(out_map), FadeIn(out_label), run_time=b.part(0.2))

        first, s = self.steps[0], strings[0]
        boxes, sums, total, cell_box = self.get_step(cards, out_map, out_label, first)
        with self.beat("sums", row=first.row, col=first.col, n_in=c_in, value=s["total"]) as b:
            self.play(Create(boxes), run_time=b.part(0.25))
            self.play(FadeIn(sums), run_time=b.part(0.35))
        with self.beat("total", sum=s["sum"], bias=s["bias"], value=s["total"]) as b:
            self.play(FadeIn(total), run_time=b.part(0.4))
            self.play(Create(cell_box), run_time=b.part(0.2))
            self.show_value(out_map, first)
            self.wait(b.part(0.05))

        for win, s in zip(self.steps[1:], strings[1:]):
            new_boxes, new_sums, new_total, new_cell = self.get_step(cards, out_map, out_label, win)
            with self.beat("second", row=win.row, col=win.col, n_in=c_in, value=s["total"]) as b:
                self.play(ReplacementTransform(boxes, new_boxes),
                          ReplacementTransform(cell_box, new_cell),
                          FadeOut(sums), FadeOut(total), run_time=b.part(0.25))
                self.play(FadeIn(new_sums), FadeIn(new_total), run_time=b.part(0.35))
                self.show_value(out_map, win)
                self.wait(b.part(0.05))
            boxes, sums, total, cell_box = new_boxes, new_sums, new_total, new_cell

        with self.beat("output", h=h, w=w) as b:
            self.play(FadeOut(boxes), FadeOut(cell_box), run_time=b.part(0.1))
            self.fill_output(out_map, b.part(0.6))
