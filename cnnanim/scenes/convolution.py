"""Convolution chapter: how one conv neuron turns its input maps into one activation map.

Three scenes, all drawn from the real trace of the photo through the weights:

* ``conv-elastic``: each input channel is convolved with its own kernel into an intermediate map;
  the intermediate maps are summed and the bias added, giving the neuron's activation map.
* ``conv-slide``: the 3x3 window slides over the input; at a few positions the dot product is
  written out with the real numbers, then a fast sweep fills the rest of the output map.
* ``conv-deep``: the same on a deeper layer, whose inputs are the 10 maps of the layer before.

Every number drawn comes from :func:`slide_steps` / :func:`window_strings` /
:func:`elastic_data` (plain numpy via :mod:`cnnanim.explain.maths`), so tests check them without
rendering.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    ReplacementTransform,
    Text,
    UpdateFromAlphaFunc,
    VGroup,
    Write,
)

from cnnanim.draw import colors
from cnnanim.draw.mobjects import FeatureMap, NumberGrid, kernel_glyph
from cnnanim.draw.text import cached_text, label, number
from cnnanim.errors import CnnanimError
from cnnanim.explain import maths
from cnnanim.explain.maths import ConvWindow
from cnnanim.explain.numbers import fmt
from cnnanim.scenes.base import CnnScene

TINTS = ("red", "green", "blue")
RGB_NAMES = ("R", "G", "B")
#: Text size of numbers and labels (readable at 480p).
SMALL = 20
#: Left edge of content and right edge (frame is 14.22 wide; keep inside +-6.8).
X_MIN, X_MAX = -6.75, 6.75
#: Top of content below the title.
Y_TOP = 3.05


# --------------------------------------------------------------------------------------------
# numbers (no manim)
def channel_names(c_in: int) -> list[str]:
    """Row labels of the input channels: R, G, B for a colour image, 1..C otherwise."""
    return list(RGB_NAMES) if c_in == 3 else [str(i + 1) for i in range(c_in)]


def choose_positions(out_map: np.ndarray) -> list[tuple[int, int]]:
    """Three deterministic window positions: top-left, the middle, and the strongest response.

    The strongest response is the output value largest in size (positive or negative); if it
    coincides with one of the first two positions, the next largest is taken.
    """
    h, w = out_map.shape
    picks = [(0, 0), (h // 2, w // 2)]
    for flat in np.argsort(-np.abs(out_map), axis=None, kind="stable"):
        pos = tuple(int(v) for v in np.unravel_index(int(flat), out_map.shape))
        if pos not in picks:
            picks.append(pos)
            break
    return picks


def slide_steps(trace, layer: str, neuron: int,
                positions: list[tuple[int, int]]) -> list[ConvWindow]:
    """The convolution window of ``neuron`` of ``layer`` at each (row, col), term by term."""
    st = trace[layer]
    return [maths.conv_stage_window(st, neuron, r, c) for r, c in positions]


def signed_terms(values) -> str:
    """``a + b - c``: values joined with their signs (2 decimals, as drawn)."""
    out = ""
    for i, v in enumerate(values):
        s = fmt(float(v))
        neg = s.startswith("-")
        mag = s[1:] if neg else s
        if i == 0:
            out = s
        else:
            out += (" - " if neg else " + ") + mag
    return out


def window_strings(win: ConvWindow) -> dict:
    """The exact strings a slide step draws for ``win``.

    Keys: ``patches``, ``kernels``, ``products`` (C x K x K nested lists), ``sums`` (C),
    ``sum`` (all channel sums added), ``bias``, ``total`` and ``formula``
    (``"s1 + s2 + s3 + bias = total"``).
    """
    def grid(a):
        return [[[fmt(float(v)) for v in row] for row in ch] for ch in a]

    sums = [fmt(float(s)) for s in win.channel_sums]
    return {
        "patches": grid(win.patches),
        "kernels": grid(win.kernels),
        "products": grid(win.products),
        "sums": sums,
        "sum": fmt(float(win.channel_sums.sum())),
        "bias": fmt(win.bias),
        "total": fmt(win.total),
        "formula": signed_terms(list(win.channel_sums) + [win.bias]) + " = " + fmt(win.total),
    }


@dataclass(frozen=True)
class ElasticData:
    """What the elastic view of one neuron shows.

    Attributes
    ----------
    inputs : numpy.ndarray
        (C_in, H, W) the stage's input maps.
    kernels : numpy.ndarray
        (C_in, K, K) the neuron's kernels.
    intermediate : numpy.ndarray
        (C_in, H', W') each input map cross-correlated with its kernel.
    bias : float
    output : numpy.ndarray
        (H', W') ``intermediate.sum(0) + bias`` (equals the traced output channel).
    n_in, n_out, n_kernels : int
        Input channels, neurons in the layer, and kernels in the layer (n_in * n_out).
    """

    inputs: np.ndarray
    kernels: np.ndarray
    intermediate: np.ndarray
    bias: float
    output: np.ndarray
    n_in: int
    n_out: int
    n_kernels: int


def elastic_data(trace, layer: str, neuron: int) -> ElasticData:
    """Intermediate maps, bias and output of ``neuron`` of ``layer`` from the trace."""
    st = trace[layer]
    inter = maths.intermediate_maps(st.input, st.weight, neuron, stride=st.stride or 1,
                                    padding=st.padding or 0)
    bias = float(st.bias[neuron])
    n_out, n_in = st.weight.shape[:2]
    return ElasticData(np.asarray(st.input, np.float64), np.asarray(st.weight[neuron], np.float64),
                       inter, bias, inter.sum(axis=0) + bias, n_in, n_out, n_in * n_out)


def input_scale(c_in: int, channel: int, is_image: bool | None = None) -> str:
    """Colour scale of an input map: tinted (RGB) or grey for the image, activations otherwise.

    ``is_image`` None guesses from the channel count (3 channels: the colour image).
    """
    if is_image is None:
        is_image = c_in == 3
    if not is_image:
        return "activation"
    return TINTS[channel] if c_in == 3 else "input"


def revealed(values: np.ndarray, n_cells: int) -> np.ndarray:
    """``values`` with only the first ``n_cells`` cells in reading order kept (others 0: white)."""
    flat = np.zeros(values.size)
    n = int(np.clip(n_cells, 0, values.size))
    flat[:n] = values.ravel()[:n]
    return flat.reshape(values.shape)


#: On-screen words per language (en, zh); numbers are filled in from the trace.
LABELS = {
    "in_ch": ("in {c}", "输入{c}"),
    "more": ("⋮  + {rest} more maps ({a}–{b}), each with its own kernel",
             "⋮  另有 {rest} 张输入图（{a}–{b}），各有自己的卷积核"),
    "count": ("{n_in} inputs × {n_out} neurons = {n_kernels} kernels",
              "{n_in} 个输入 × {n_out} 个神经元 = {n_kernels} 个卷积核"),
    "sum_of": ("sum of {n}", "{n} 项相加"),
    "bias_val": ("+ bias {b}", "+ 偏置 {b}"),
    "bias": ("+ bias", "+ 偏置"),
    "neuron_size": ("neuron {neuron}: {h}×{w}", "神经元 {neuron}：{h}×{w}"),
    "rest_sums": ("Σ in {a}–{b}", "Σ 输入{a}–{b}"),
    "channels_sum": ("Σ {n} channels", "Σ {n} 个通道"),
    "patch": ("input patch", "输入窗口"),
    "kernel": ("kernel", "卷积核"),
    "products": ("products", "乘积"),
    "input_shape": ("input {h}×{w}×{c}", "输入 {h}×{w}×{c}"),
    "output_shape": ("output {h}×{w}", "输出 {h}×{w}"),
    "neuron": ("neuron {neuron}", "神经元 {neuron}"),
    "weights_bias": ("{n} weights + 1 bias", "{n} 个权重 + 1 个偏置"),
    "sums_of": ("Σ of {n} sums", "{n} 个和相加"),
    "title_elastic": ("{layer}: one neuron, {n} kernels", "{layer}：一个神经元，{n} 个卷积核"),
    "title_slide": ("{layer}, neuron {neuron}: sliding the kernel",
                    "{layer}，神经元 {neuron}：滑动卷积核"),
    "title_deep": ("{layer}: a deeper neuron", "{layer}：更深的一层"),
}


# --------------------------------------------------------------------------------------------
# shared scene pieces
class ConvScene(CnnScene):
    """Common pieces of the convolution scenes."""

    chapter = "convolution"
    valid_layer_kinds = ("conv",)

    def label_text(self, key: str, **values) -> str:
        """On-screen words ``key`` in the scene's language, with ``values`` filled in."""
        en, zh = LABELS[key]
        return (zh if self.lang == "zh" else en).format(**values)

    def text(self, key: str, size: float = SMALL, color: str = colors.INK, **values) -> Text:
        """A label of :data:`LABELS` in the scene's language and font."""
        return label(self.label_text(key, **values), size, color, lang=self.lang)

    @property
    def stage(self):
        return self.trace[self.layer]

    def is_first_layer(self) -> bool:
        """True when the stage reads the image itself."""
        return self.trace.stage_names()[0] == self.layer

    def prev_stage_name(self) -> str:
        names = self.trace.stage_names()
        i = names.index(self.layer)
        return names[i - 1] if i > 0 else "input"

    def get_input_map(self, channel: int, height: float, vmax: float | None = None) -> FeatureMap:
        """Input channel ``channel`` of the stage, tinted (image) or as activations."""
        x = self.stage.input
        scale = input_scale(x.shape[0], channel, self.is_first_layer())
        return FeatureMap(x[channel], scale=scale, height=height,
                          vmax=None if scale != "activation" else vmax)

    def get_output_map(self, values: np.ndarray, height: float, vmax: float) -> FeatureMap:
        return FeatureMap(values, scale="activation", height=height, vmax=vmax)

    def window_box(self, m: FeatureMap, r: int, c: int, k: int = 1) -> VGroup:
        """A k x k window outline (yellow with a dark rim) that shows on any colour."""
        return VGroup(m.get_cell_box(r, c, k, k, color=colors.INK, stroke_width=6),
                      m.get_cell_box(r, c, k, k, stroke_width=3))

    def get_value_box(self, value: float, vmax: float, size: float = 22) -> VGroup:
        """One output number in a cell coloured like the output map."""
        rgb = colors.activation_rgb(np.array([value]), vmax)[0]
        t = number(value, 2, size, colors.text_color_for(rgb))
        from manim import Rectangle
        box = Rectangle(width=t.width + 0.3, height=t.height + 0.25, stroke_color=colors.INK,
                        stroke_width=1.5, fill_color=colors.rgb_to_hex(rgb), fill_opacity=1)
        t.move_to(box)
        return VGroup(box, t)


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

    def setup(self) -> None:
        super().setup()
        self.data = elastic_data(self.trace, self.layer, self.neuron)

    def shown_channels(self) -> list[int]:
        """Channels drawn as full rows (all three of an image, the first three otherwise)."""
        return list(range(min(3, self.data.n_in)))

    def get_rows(self) -> Group:
        """One row per shown channel: name, input map, kernel, intermediate map."""
        d = self.data
        names = channel_names(d.n_in)
        deep = d.n_in > 3
        cell = 0.5 if deep else 0.55
        row_h = 3 * cell
        in_vmax = colors.symmetric_range(d.inputs)
        w_vmax = colors.symmetric_range(self.stage.weight)
        self.inter_vmax = colors.symmetric_range(d.intermediate)
        rows = []
        for c in self.shown_channels():
            name = label(names[c], SMALL) if not deep else self.text("in_ch", SMALL, c=names[c])
            m = self.get_input_map(c, row_h * 0.95, in_vmax)
            k = kernel_glyph(d.kernels[c], vmax=w_vmax, cell=cell)
            inter = FeatureMap(d.intermediate[c], scale="activation", vmax=self.inter_vmax,
                               height=row_h * 0.95)
            rows.append(Group(name, m, k, inter))
        y = Y_TOP - row_h / 2
        for r in rows:
            name, m, k, inter = r
            m.move_to([-5.2, y, 0])
            name.next_to(m, LEFT, buff=0.15)
            k.move_to([-3.1, y, 0])
            inter.move_to([-1.0, y, 0])
            y -= row_h + 0.15
        g = Group(*rows)
        if len(rows) < 3:  # a grey image has one channel: centre its row
            g.shift(UP * (0.5 - g.get_center()[1]))
        return g

    def get_arrows(self, rows: Group) -> VGroup:
        arrows = VGroup()
        for name, m, k, inter in rows:
            arrows.add(Arrow(m.get_right(), k.get_left(), buff=0.08, color=colors.INK,
                             stroke_width=3, max_tip_length_to_length_ratio=0.25))
            arrows.add(Arrow(k.get_right(), inter.get_left(), buff=0.08, color=colors.INK,
                             stroke_width=3, max_tip_length_to_length_ratio=0.25))
        return arrows

    def construct(self) -> None:
        d = self.data
        st = self.stage
        k = st.weight.shape[-1]
        h, w = d.output.shape
        title = self.get_title(self.label_text("title_elastic", layer=self.layer, n=d.n_in))
        rows = self.get_rows()
        more = None
        if d.n_in > len(rows):
            rest = d.n_in - len(rows)
            more = self.text("more", SMALL, colors.MUTED, rest=rest, a=len(rows) + 1, b=d.n_in)
            more.next_to(rows, DOWN, buff=0.15).align_to(rows, LEFT)
        with self.beat("inputs", layer=self.layer, neuron=self.neuron, n_in=d.n_in) as b:
            self.play(Write(title), run_time=b.part(0.3))
            self.play(*[FadeIn(Group(r[0], r[1])) for r in rows],
                      *([FadeIn(more)] if more else []), run_time=b.part(0.4))

        arrows = self.get_arrows(rows)
        count = self.text("count", SMALL, n_in=d.n_in, n_out=d.n_out, n_kernels=d.n_kernels)
        count.move_to([4.4, -2.1, 0])
        if count.get_right()[0] > X_MAX:
            count.shift(LEFT * (count.get_right()[0] - X_MAX))
        with self.beat("kernels", k=k, n_in=d.n_in, n_out=d.n_out, n_kernels=d.n_kernels) as b:
            self.play(*[FadeIn(a) for a in arrows[0::2]], *[GrowFromCenter(r[2]) for r in rows],
                      run_time=b.part(0.35))
            self.play(Write(count), run_time=b.part(0.3))

        # every kernel slides over its own map while its intermediate map fills in
        pad = st.padding or 0
        stride = st.stride or 1
        shown = self.shown_channels()
        for r, c in zip(rows, shown):
            r[3].set_values(np.zeros_like(d.intermediate[c]))
        boxes = [self.window_box(r[1], -pad, -pad, k) for r in rows]

        def fill(mob, alpha):
            n = int(round(alpha * h * w))
            i, j = divmod(min(n, h * w - 1), w)
            for r, c, box in zip(rows, shown, boxes):
                r[3].set_values(revealed(d.intermediate[c], n))
                box.become(self.window_box(r[1], i * stride - pad, j * stride - pad, k))

        with self.beat("intermediate") as b:
            self.play(*[FadeIn(a) for a in arrows[1::2]], *[FadeIn(r[3]) for r in rows],
                      *[Create(box) for box in boxes], run_time=b.part(0.2))
            # animate a mobject already in the scene, so the boxes added after it redraw too
            self.play(UpdateFromAlphaFunc(rows[0][3], fill),
                      run_time=b.part(0.6), rate_func=lambda t: t)
            for r, c in zip(rows, shown):
                r[3].set_values(d.intermediate[c])
            self.play(*[FadeOut(box) for box in boxes], run_time=b.part(0.1))

        plus = VGroup(Circle(radius=0.32, color=colors.INK, stroke_width=3),
                      cached_text("+", font_size=40, color=colors.INK))
        mid_y = (rows[0].get_top()[1] + rows[-1].get_bottom()[1]) / 2
        plus.move_to([0.75, mid_y, 0])
        plus_label = self.text("sum_of", SMALL, n=d.n_in).next_to(plus, DOWN, buff=0.12)
        plus_label.align_to(plus.get_center() + RIGHT * 0.12, LEFT)
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
        out_map = self.get_output_map(d.output, 2.6, colors.symmetric_range(d.output))
        out_map.move_to([4.9, mid_y + 0.35, 0])
        if out_map.get_top()[1] > Y_TOP:
            out_map.shift(DOWN * (out_map.get_top()[1] - Y_TOP))
        self.output_map = out_map
        arrow = Arrow(plus.get_right(), out_map.get_left(), buff=0.1, color=colors.INK,
                      stroke_width=3)
        bias_txt = self.text("bias_val", SMALL, b=fmt(d.bias))
        bias_txt.next_to(arrow, UP, buff=0.1)
        if bias_txt.width > arrow.width - 0.1:
            bias_txt = VGroup(self.text("bias", SMALL), number(d.bias, 2, SMALL)).arrange(DOWN, buff=0.08)
            bias_txt.next_to(arrow, UP, buff=0.1)
        with self.beat("sum", bias=fmt(d.bias)) as b:
            self.play(Create(lines), FadeIn(plus), FadeIn(plus_label), run_time=b.part(0.4))
            self.play(GrowFromCenter(arrow), Write(bias_txt), run_time=b.part(0.3))

        out_label = self.text("neuron_size", SMALL, neuron=self.neuron, h=h, w=w).next_to(out_map, DOWN, buff=0.15)
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

    def setup(self) -> None:
        super().setup()
        out = self.stage.output[self.neuron].astype(np.float64)
        self.out_values = out
        self.out_vmax = colors.symmetric_range(out)
        self.positions = choose_positions(out)
        self.steps = slide_steps(self.trace, self.layer, self.neuron, self.positions)

    def get_slide_data(self) -> list[dict]:
        """The strings drawn at each step (see :func:`window_strings`)."""
        return [window_strings(w) for w in self.steps]

    # -- layout -----------------------------------------------------------------------------
    def full_channels(self) -> list[int]:
        c_in = self.stage.input.shape[0]
        return list(range(c_in)) if c_in <= 3 else [0, 1]

    def get_input_view(self) -> FeatureMap:
        x = self.stage.input
        if x.shape[0] == 3 and self.is_first_layer():
            m = FeatureMap(x.transpose(1, 2, 0), scale="rgb", height=2.1)
        elif x.shape[0] == 1 and self.is_first_layer():
            m = FeatureMap(x[0], scale="input", height=2.1)
        else:  # deeper layer: show the first input map
            m = FeatureMap(x[0], scale="activation", height=2.1, vmax=colors.symmetric_range(x))
        return m

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
            name = label(names[c], SMALL) if c_in == 3 else self.text("in_ch", SMALL, c=names[c])
            times = label("×", 30)
            eq = label("=", 30)
            s = label("Σ " + fmt(float(win.channel_sums[c])), 22)
            rows.append(Group(name, patch, times, kern, eq, prod, s))
        return Group(*rows)

    def place_rows(self, rows: Group, cell: float) -> Group:
        y = Y_TOP - 0.35 - 1.5 * cell
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
        name = self.text("rest_sums", SMALL, a=shown + 1, b=c_in)
        g = Group(name, grid).arrange(RIGHT, buff=0.2)
        g.next_to(below, DOWN, buff=0.15).align_to(below, LEFT)
        return g

    def get_total_column(self, win: ConvWindow, rows: Group) -> VGroup:
        """Right column: sum of the channel sums, + bias, = output (coloured like the map)."""
        c_in = win.patches.shape[0]
        s = self.text("channels_sum", SMALL, n=c_in)
        sv = number(float(win.channel_sums.sum()), 2, 24)
        b = self.text("bias", SMALL)
        bv = number(win.bias, 2, 24)
        eq = label("=", 30)
        out = self.get_value_box(win.total, self.out_vmax, 26)
        col = VGroup(s, sv, b, bv, eq, out).arrange(DOWN, buff=0.16)
        col.move_to([5.3, (rows.get_top()[1] + rows.get_bottom()[1]) / 2, 0])
        return col

    def get_headers(self, rows: Group) -> VGroup:
        name, patch, times, kern, eq, prod, s = rows[0]
        hs = VGroup(self.text("patch", 18, colors.MUTED).next_to(patch, UP, buff=0.1),
                    self.text("kernel", 18, colors.MUTED).next_to(kern, UP, buff=0.1),
                    self.text("products", 18, colors.MUTED).next_to(prod, UP, buff=0.1))
        return hs

    def build_step(self, win: ConvWindow) -> Group:
        """Every mobject of one step's written-out dot product."""
        cell = 0.55 if win.patches.shape[0] <= 3 else 0.52
        rows = self.place_rows(self.get_rows(win, cell), cell)
        rest = self.get_rest_row(win, cell, rows)
        body = Group(rows, rest) if rest is not None else Group(rows)
        col = self.get_total_column(win, body)
        return Group(rows, Group(rest) if rest is not None else Group(), col)

    # -- story ------------------------------------------------------------------------------
    def construct(self) -> None:
        st = self.stage
        k = st.weight.shape[-1]
        c_in = st.input.shape[0]
        h, w = self.out_values.shape
        stride = st.stride or 1
        pad = st.padding or 0
        title = self.get_title(self.label_text("title_slide", layer=self.layer, neuron=self.neuron), 28)
        in_map = self.get_input_view().move_to([-5.65, Y_TOP - 1.05, 0])
        in_label = self.text("input_shape", SMALL, h=st.input.shape[1], w=st.input.shape[2], c=c_in)
        in_label.next_to(in_map, DOWN, buff=0.1)
        shown = np.zeros_like(self.out_values)
        out_map = self.get_output_map(shown, 2.1, self.out_vmax)
        out_map.next_to(in_label, DOWN, buff=0.3).align_to(in_map, LEFT)
        self.output_map = out_map
        out_label = self.text("output_shape", SMALL, h=h, w=w).next_to(out_map, DOWN, buff=0.1)

        first = self.steps[0]
        step = self.build_step(first)
        headers = self.get_headers(step[0])
        win_box = self.window_box(in_map, first.top - pad, first.left - pad, k)
        cell_box = self.window_box(out_map, first.row, first.col)
        with self.beat("intro", k=k, n_in=c_in) as b:
            self.play(Write(title), FadeIn(in_map), FadeIn(in_label), FadeIn(out_map),
                      FadeIn(out_label), run_time=b.part(0.35))
            self.play(Create(win_box), run_time=b.part(0.2))
        rows, rest, col = step
        with self.beat("products") as b:
            self.play(FadeIn(headers), *[FadeIn(Group(*r[:4])) for r in rows], FadeIn(rest),
                      run_time=b.part(0.35))
            self.play(*[FadeIn(Group(*r[4:])) for r in rows], run_time=b.part(0.35))
        strings = self.get_slide_data()
        with self.beat("total", bias=strings[0]["bias"], value=strings[0]["total"]) as b:
            self.play(FadeIn(col[:4]), run_time=b.part(0.3))
            self.play(FadeIn(col[4:]), Create(cell_box), run_time=b.part(0.3))
            shown[first.row, first.col] = self.out_values[first.row, first.col]
            out_map.set_values(shown)
            self.wait(b.part(0.05))

        for key, win, s in zip(("middle", "peak"), self.steps[1:], strings[1:]):
            new = self.build_step(win)
            new_box = self.window_box(in_map, win.top - pad, win.left - pad, k)
            new_cell = self.window_box(out_map, win.row, win.col)
            with self.beat(key, row=win.row, col=win.col, value=s["total"]) as b:
                self.play(ReplacementTransform(win_box, new_box),
                          ReplacementTransform(cell_box, new_cell), run_time=b.part(0.2))
                self.play(FadeOut(step), FadeIn(new), run_time=b.part(0.4))
                shown[win.row, win.col] = self.out_values[win.row, win.col]
                out_map.set_values(shown)
                self.wait(b.part(0.05))
            win_box, cell_box, step = new_box, new_cell, new

        def sweep(mob, alpha):
            n = int(round(alpha * h * w))
            vals = revealed(self.out_values, n)
            for wv in self.steps:
                vals[wv.row, wv.col] = self.out_values[wv.row, wv.col]
            out_map.set_values(vals)
            r, c = divmod(min(n, h * w - 1), w)
            win_box.become(self.window_box(in_map, r * stride - pad, c * stride - pad, k))
            cell_box.become(self.window_box(out_map, r, c))

        # the two maps grow side by side for the sweep
        size = 3.9
        in_target = np.array([-3.6, 0.75, 0])
        out_target = np.array([3.1, 0.75, 0])
        below = DOWN * (size / 2 + 0.25)
        arrow = Arrow(in_target + RIGHT * (size / 2 + 0.1), out_target + LEFT * (size / 2 + 0.1),
                      buff=0.05, color=colors.INK, stroke_width=4)
        arrow_label = self.text("neuron", SMALL, neuron=self.neuron).next_to(arrow, UP, buff=0.1)
        weights_label = self.text("weights_bias", SMALL, n=int(np.prod(st.weight.shape[1:])))
        weights_label.next_to(arrow, DOWN, buff=0.1)
        with self.beat("sweep", stride=stride, h=h, w=w) as b:
            self.play(FadeOut(step), FadeOut(headers), FadeOut(win_box), FadeOut(cell_box),
                      run_time=b.part(0.1))
            self.play(in_map.animate.scale_to_fit_height(size).move_to(in_target),
                      out_map.animate.scale_to_fit_height(size).move_to(out_target),
                      in_label.animate.move_to(in_target + below),
                      out_label.animate.move_to(out_target + below),
                      GrowFromCenter(arrow), FadeIn(arrow_label), run_time=b.part(0.15))
            win_box = self.window_box(in_map, -pad, -pad, k)
            cell_box = self.window_box(out_map, 0, 0)
            self.add(win_box, cell_box)
            self.play(UpdateFromAlphaFunc(out_map, sweep), run_time=b.part(0.7),
                      rate_func=lambda t: t)
        out_map.set_values(self.out_values)
        with self.beat("done", n_weights=int(np.prod(st.weight.shape[1:]))) as b:
            self.play(FadeOut(win_box), FadeOut(cell_box), FadeIn(weights_label),
                      run_time=b.part(0.3))
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

    def setup(self) -> None:
        super().setup()
        if self.is_first_layer():
            deeper = [n for n in self.trace.stage_names()
                      if self.trace[n].kind == "conv" and n != self.layer]
            raise CnnanimError(f"conv-deep explains a deeper layer ({', '.join(deeper)}); "
                               f"{self.layer} reads the image: see conv-elastic and conv-slide")
        out = self.stage.output[self.neuron].astype(np.float64)
        self.out_values = out
        self.out_vmax = colors.symmetric_range(out)
        self.positions = choose_positions(out)[1:]
        self.steps = slide_steps(self.trace, self.layer, self.neuron, self.positions)

    def get_deep_data(self) -> list[dict]:
        """The strings drawn at each position (see :func:`window_strings`)."""
        return [window_strings(w) for w in self.steps]

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
            name = self.text("in_ch", 18, colors.MUTED, c=channel_names(c_in)[c])
            name.next_to(m, RIGHT, buff=0.08).align_to(m, UP)
            cards.append(Group(m, kern, name))
        per_row = 5 if c_in > 5 else c_in
        g = Group(*cards)
        g.arrange_in_grid(rows=-(-c_in // per_row), cols=per_row, buff=(0.2, 0.18))
        g.align_to([X_MIN, 0, 0], LEFT).align_to([0, Y_TOP, 0], UP)
        return g

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
            VGroup(self.text("sums_of", SMALL, n=c_in), number(float(win.channel_sums.sum()), 2, 24))
            .arrange(RIGHT, buff=0.2),
            VGroup(self.text("bias", SMALL), number(win.bias, 2, 24)).arrange(RIGHT, buff=0.2),
            VGroup(label("=", 28), self.get_value_box(win.total, self.out_vmax, 24))
            .arrange(RIGHT, buff=0.2),
        ).arrange(DOWN, buff=0.18, aligned_edge=RIGHT)
        lines.next_to(anchor, DOWN, buff=0.3)
        return lines

    def construct(self) -> None:
        st = self.stage
        k = st.weight.shape[-1]
        c_in = st.input.shape[0]
        h, w = self.out_values.shape
        pad = st.padding or 0
        strings = self.get_deep_data()
        title = self.get_title(self.label_text("title_deep", layer=self.layer), 28)
        cards = self.get_cards()
        maps = [c[0] for c in cards]
        out_map = self.get_output_map(np.zeros_like(self.out_values), 2.4, self.out_vmax)
        out_map.move_to([(cards.get_right()[0] + X_MAX) / 2, Y_TOP - 1.2, 0])
        self.output_map = out_map
        out_label = self.text("neuron_size", SMALL, neuron=self.neuron, h=h, w=w).next_to(out_map, DOWN, buff=0.1)
        with self.beat("inputs", layer=self.layer, n_in=c_in, prev=self.prev_stage_name()) as b:
            self.play(Write(title), *[FadeIn(Group(c[0], c[2])) for c in cards],
                      run_time=b.part(0.5))
        with self.beat("kernels", neuron=self.neuron, k=k, n_in=c_in,
                       n_weights=int(np.prod(st.weight.shape[1:]))) as b:
            self.play(*[GrowFromCenter(c[1]) for c in cards], run_time=b.part(0.4))
            self.play(FadeIn(out_map), FadeIn(out_label), run_time=b.part(0.2))

        shown = np.zeros_like(self.out_values)
        boxes = sums = total = cell_box = None
        for i, (win, s) in enumerate(zip(self.steps, strings)):
            new_boxes = VGroup(*[self.window_box(m, win.top - pad, win.left - pad, k) for m in maps])
            new_sums = self.get_sum_labels(cards, win)
            new_total = self.get_total(win, out_label)
            new_cell = self.window_box(out_map, win.row, win.col)
            key = "sums" if i == 0 else "second"
            with self.beat(key, row=win.row, col=win.col, n_in=c_in, value=s["total"]) as b:
                if boxes is None:
                    self.play(Create(new_boxes), run_time=b.part(0.25))
                    self.play(FadeIn(new_sums), run_time=b.part(0.35))
                else:
                    self.play(ReplacementTransform(boxes, new_boxes),
                              ReplacementTransform(cell_box, new_cell),
                              FadeOut(sums), FadeOut(total), run_time=b.part(0.25))
                    self.play(FadeIn(new_sums), FadeIn(new_total), run_time=b.part(0.35))
                    shown[win.row, win.col] = self.out_values[win.row, win.col]
                    out_map.set_values(shown)
                    self.wait(b.part(0.05))
            if i == 0:
                with self.beat("total", sum=s["sum"], bias=s["bias"], value=s["total"]) as b:
                    self.play(FadeIn(new_total), run_time=b.part(0.4))
                    self.play(Create(new_cell), run_time=b.part(0.2))
                    shown[win.row, win.col] = self.out_values[win.row, win.col]
                    out_map.set_values(shown)
                    self.wait(b.part(0.05))
            boxes, sums, total, cell_box = new_boxes, new_sums, new_total, new_cell

        def fill(mob, alpha):
            vals = revealed(self.out_values, int(round(alpha * h * w)))
            for wv in self.steps:
                vals[wv.row, wv.col] = self.out_values[wv.row, wv.col]
            mob.set_values(vals)

        with self.beat("output", h=h, w=w) as b:
            self.play(FadeOut(boxes), FadeOut(cell_box), run_time=b.part(0.1))
            self.play(UpdateFromAlphaFunc(out_map, fill), run_time=b.part(0.6),
                      rate_func=lambda t: t)
        out_map.set_values(self.out_values)
