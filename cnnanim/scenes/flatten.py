"""Flatten: the 13x13x10 maps unrolled into one vector that feeds the output layer."""

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
    Dot,
    FadeIn,
    FadeOut,
    Group,
    ImageMobject,
    Line,
    Rectangle,
    ReplacementTransform,
    VGroup,
    Write,
)
from manim.constants import RESAMPLING_ALGORITHMS

from cnnanim.draw import colors
from cnnanim.draw.mobjects import FeatureMap
from cnnanim.draw.text import label, number
from cnnanim.explain import maths
from cnnanim.explain.numbers import decimals_for, fmt
from cnnanim.scenes.base import CnnScene

#: On-screen words per language (en, zh); numbers and names are filled in from the trace.
LABELS = {
    "title": ("Flatten  {h}×{w}×{c} → {n}", "展平  {h}×{w}×{c} → {n}"),
    "ch": ("ch {c}", "通道 {c}"),
    "vector": ("flatten  ({n})", "展平向量  ({n})"),
    "index": ("index = c × {hw} + r × {w} + col", "位置 = c × {hw} + r × {w} + col"),
    "x": ("x  ({n})", "x  ({n})"),
    "w": ("w  [{cls}]", "w  [{cls}]"),
    "xw": ("x × w", "x × w"),
    "logit": ("logit[{cls}] =", "logit[{cls}] ="),
    "more_terms": ("+ … ({n} terms)", "+ …（共 {n} 项）"),
    "bias": ("{sign} bias", "{sign} 偏置"),
    "network": ("(network output {v} ✓)", "（网络输出 {v} ✓）"),
}


def words(key: str, lang: str = "en", **values) -> str:
    """On-screen words ``key`` of :data:`LABELS` in ``lang``."""
    en, zh = LABELS[key]
    return (zh if lang == "zh" else en).format(**values)


def traced_cells(pooled: np.ndarray) -> list[tuple[int, int, int]]:
    """Cells (channel, row, col) whose journey into the vector the scene shows.

    The first cell, the start of the second row, the start of the second channel (these show
    the order) and the strongest activation of the whole tensor.
    """
    c, h, w = pooled.shape
    strongest = tuple(int(i) for i in np.unravel_index(int(np.argmax(pooled)), pooled.shape))
    cells = [(0, 0, 0), (0, 1, 0), (min(1, c - 1), 0, 0)]
    if strongest not in cells:
        cells.append(strongest)
    return cells


@dataclass(frozen=True)
class FlattenData:
    """The numbers the flatten scene shows.

    Attributes
    ----------
    pooled : numpy.ndarray
        (C, H, W) output of the last pooling stage.
    vector : numpy.ndarray
        (C*H*W,) the flatten stage's output (the trace's).
    cells : list of (channel, row, col, index, value)
        Traced cells with their position in the vector (maths.flatten_index).
    logits : list of maths.LogitTerms
        The predicted class first, then the runner-up.
    top_terms : list of numpy.ndarray
        For each logit, the indices of the largest products shown (sorted by index).
    """

    pool_stage: str
    pooled: np.ndarray
    vector: np.ndarray
    cells: list
    logits: list
    top_terms: list


def flatten_data(trace, n_terms: int = 3) -> FlattenData:
    """Everything the flatten scene shows (last pool stage, flatten, output layer)."""
    names = trace.stage_names()
    flat_name = trace.stage_names("flatten")[0]
    pool_name = names[names.index(flat_name) - 1]
    pooled = np.asarray(trace[pool_name].output, dtype=np.float64)
    vector = np.asarray(trace[flat_name].output, dtype=np.float64)
    cells = []
    for ch, r, c in traced_cells(pooled):
        i = maths.flatten_index(ch, r, c, pooled.shape)
        cells.append((ch, r, c, i, float(pooled[ch, r, c])))
    out = trace[trace.stage_names("linear")[-1]]
    order = np.argsort(-np.asarray(trace.logits), kind="stable")
    terms = [maths.logit_terms(vector, out.weight, out.bias, int(k)) for k in order[:2]]
    tops = [np.sort(np.argsort(-t.products, kind="stable")[:n_terms]) for t in terms]
    return FlattenData(pool_name, pooled, vector, cells, terms, tops)


class VectorStrip(Group):
    """A long vector drawn as a thin one-row image with a border."""

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


class Flatten(CnnScene):
    """Unroll the pooled maps into a vector, then weigh it into each logit."""

    cli_name = "flatten"
    description = "Flatten: 13x13x10 maps become a 1690-long vector feeding the output layer"
    chapter = "flatten"
    default_layer = "flatten"
    valid_layer_kinds = ("flatten",)
    NARRATION = {
        "maps": {
            "en": "After {pool} there are {c} maps of {h} by {w}. The output layer wants one "
                  "list, so flatten unrolls them into {n} numbers.",
            "zh": "{c} 张 {h}×{w} 的图被展平层摊成 {n} 个数。",
        },
        "order": {
            "en": "Channel first, then row, then column: cell (c, r, col) lands at c times {hw} "
                  "plus r times {w} plus col.",
            "zh": "先通道、再行、再列：位置 = c×{hw}+r×{w}+col。",
        },
        "strongest": {
            "en": "The strongest value, {value} in channel {ch}, lands at {index}. Nothing is "
                  "computed, only rearranged.",
            "zh": "最强的值 {value} 落在第 {index} 位。只是重新排列，不做计算。",
        },
        "weights": {
            "en": "Each output neuron has one weight per value. For {cls}, every value is "
                  "multiplied by its weight.",
            "zh": "每个输出神经元对每个数各有一个权重，逐个相乘。",
        },
        "sum": {
            "en": "The {n} products plus the bias give the logit of {cls}, {logit}: exactly the "
                  "network's output.",
            "zh": "乘积求和加偏置，得到「{cls}」的 logit {logit}，与网络一致。",
        },
        "other": {
            "en": "Other weights give {cls2} {logit2}. The largest logit wins; softmax comes next.",
            "zh": "另一组权重得到「{cls2}」{logit2}。最大者胜出，接着是 softmax。",
        },
    }

    def setup(self) -> None:
        super().setup()
        self.data = self.get_flatten_data()
        self.vmax = colors.symmetric_range(self.data.pooled)
        self.vdec = decimals_for(self.data.vector, most=4)

    def get_flatten_data(self) -> FlattenData:
        """The real pooled maps, vector, traced cells and logit terms (see :func:`flatten_data`)."""
        return flatten_data(self.trace)

    # -- builders ---------------------------------------------------------------------------
    def text(self, key: str, size: float = 20, color: str = colors.INK, **values):
        """A label of :data:`LABELS` in the scene's language and font."""
        return label(words(key, self.lang, **values), size, color, lang=self.lang)

    def get_maps(self, height: float = 1.08) -> Group:
        """The pooled channel maps in a row, each with its channel number."""
        groups = []
        for ch, m in enumerate(self.data.pooled):
            fm = FeatureMap(m, vmax=self.vmax, height=height)
            groups.append(Group(fm, self.text("ch", 18, c=ch).next_to(fm, DOWN, buff=0.1)))
        g = Group(*groups).arrange(RIGHT, buff=0.18)
        if g.width > 13.0:
            g.scale_to_fit_width(13.0)
        return g

    def get_channel_ticks(self, strip: VectorStrip) -> VGroup:
        """Thin boundaries between channels along the strip."""
        c, h, w = self.data.pooled.shape
        ticks = VGroup()
        for ch in range(1, c):
            p = strip.image.get_left() + RIGHT * strip.image.width * ch / c
            ticks.add(Line(p + UP * 0.22, p + DOWN * 0.22, color=colors.MUTED, stroke_width=2))
        return ticks

    def cell_label(self, cell) -> VGroup:
        ch, r, c, i, _ = cell
        return label(f"({ch}, {r}, {c}) → {i}", 20)

    def term(self, x: float, w: float, dec: int, wdec: int) -> VGroup:
        """``x × w`` with x in the activation colour and w in the weight colour."""
        wcol = colors.WEIGHT_POS if w >= 0 else colors.WEIGHT_NEG
        ws = fmt(w, wdec)
        wt = number(w, wdec, 22, wcol)
        parts = [number(x, dec, 22, colors.POSITIVE), label("×", 22)]
        if ws.startswith("-"):
            parts += [label("(", 22), wt, label(")", 22)]
        else:
            parts.append(wt)
        return VGroup(*parts).arrange(RIGHT, buff=0.06)

    @staticmethod
    def logit_decimals(t) -> int:
        """Decimals of a logit's sum, bias and total (at least 2)."""
        return max(2, decimals_for(np.array([t.total, t.bias, t.products.sum()]), most=4))

    def get_logit_formula(self, k: int, full: bool = True) -> VGroup:
        """logit[class] = a few real terms + … = sum + bias = logit."""
        d = self.data
        t = d.logits[k]
        name = self.trace.class_names[t.class_index]
        shown = d.top_terms[k]
        dec = decimals_for(t.inputs[shown], most=4)
        wdec = decimals_for(t.weights[shown], most=4)
        pdec = self.logit_decimals(t)
        head = self.text("logit", 22, colors.LOGIT, cls=name)
        line1 = [head]
        if full:
            for j, i in enumerate(d.top_terms[k]):
                if j:
                    line1.append(label("+", 22))
                line1.append(self.term(t.inputs[i], t.weights[i], dec, wdec))
            line1.append(self.text("more_terms", 22, n=len(t.inputs)))
        else:
            line1.append(label("Σ x·w", 22))
        l1 = VGroup(*line1).arrange(RIGHT, buff=0.12)
        sign = "+" if t.bias >= 0 else "−"
        l2 = VGroup(label("=", 22), number(t.products.sum(), pdec, 22),
                    self.text("bias", 22, sign=sign), number(abs(t.bias), pdec, 22, colors.WEIGHT_POS
                                                     if t.bias >= 0 else colors.WEIGHT_NEG),
                    label("=", 22), number(t.total, pdec, 24, colors.LOGIT)).arrange(RIGHT,
                                                                                     buff=0.12)
        net = float(self.trace.logits[t.class_index])
        l2.add(self.text("network", 20, colors.MUTED, v=fmt(net, pdec)).next_to(l2, RIGHT, buff=0.3))
        if full:
            g = VGroup(l1, l2).arrange(DOWN, buff=0.22, aligned_edge=LEFT)
            l2.shift(RIGHT * (head.width + 0.12))
        else:
            g = VGroup(l1, l2).arrange(RIGHT, buff=0.12)
        if g.width > 13.0:
            g.scale_to_fit_width(13.0)
        return g

    # -- storyboard -------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.data
        c, h, w = d.pooled.shape
        n = d.vector.size
        title = self.get_title(words("title", self.lang, h=h, w=w, c=c, n=n))
        maps = self.get_maps().move_to([0, 2.05, 0])
        strip = VectorStrip(d.vector, vmax=self.vmax).move_to([0, 0.2, 0])
        ticks = self.get_channel_ticks(strip)
        strip_label = self.text("vector", 20, n=n).next_to(strip, UP, buff=0.15).align_to(
            strip, LEFT)
        with self.beat("maps", pool=d.pool_stage, c=c, h=h, w=w, n=n) as b:
            self.play(Write(title), FadeIn(maps), run_time=b.part(0.3))
            self.play(FadeIn(strip), Create(ticks), FadeIn(strip_label), run_time=b.part(0.3))

        formula = self.text("index", 22, hw=h * w, w=w).move_to([-3.0, -1.6, 0])
        labels = VGroup()
        with self.beat("order", hw=h * w, w=w) as b:
            self.play(FadeIn(formula), run_time=b.part(0.12))
            share = 0.8 / max(1, min(3, len(d.cells)))
            for j, cell in enumerate(d.cells[:3]):
                self.trace_cell(maps, strip, cell, labels, j, share * b.duration)
        with self.beat("strongest", value=fmt(d.cells[-1][4], self.vdec), ch=d.cells[-1][0],
                       index=d.cells[-1][3]) as b:
            if len(d.cells) > 3:
                self.trace_cell(maps, strip, d.cells[3], labels, 3, 0.5 * b.duration)

        # -- output layer --------------------------------------------------------------------
        t = d.logits[0]
        cls = self.trace.class_names[t.class_index]
        wstrip = VectorStrip(t.weights, scale="weight").move_to([0, 1.5, 0])
        pstrip = VectorStrip(t.products, scale="weight").move_to([0, 0.45, 0])
        xlab = self.text("x", 20, n=n).next_to(strip, UP, buff=0.12).align_to(strip, LEFT)
        wlab = self.text("w", 20, cls=cls).next_to(wstrip, UP, buff=0.12).align_to(
            wstrip, LEFT)
        plab = self.text("xw", 20).next_to(pstrip, UP, buff=0.12).align_to(pstrip, LEFT)
        with self.beat("weights", n=n, cls=cls) as b:
            self.play(FadeOut(maps), FadeOut(labels), FadeOut(formula), FadeOut(ticks),
                      FadeOut(strip_label), run_time=b.part(0.2))
            self.play(strip.animate.move_to([0, 2.55, 0]), run_time=b.part(0.2))
            xlab.next_to(strip, UP, buff=0.12).align_to(strip, LEFT)
            wlab.next_to(wstrip, UP, buff=0.12).align_to(wstrip, LEFT)
            self.play(FadeIn(xlab), FadeIn(wstrip), FadeIn(wlab), run_time=b.part(0.2))
            self.play(FadeOut(strip.copy(), target_position=pstrip),
                      FadeOut(wstrip.copy(), target_position=pstrip), FadeIn(pstrip), FadeIn(plab),
                      run_time=b.part(0.25))

        marks = VGroup(*[pstrip.get_mark(int(i)) for i in d.top_terms[0]])
        f1 = self.get_logit_formula(0).move_to([0, -0.75, 0])
        with self.beat("sum", n=n, cls=cls, logit=fmt(t.total, self.logit_decimals(t))) as b:
            self.play(Create(marks), FadeIn(f1[0]), run_time=b.part(0.35))
            self.play(FadeIn(f1[1]), run_time=b.part(0.3))

        if len(d.logits) > 1:
            t2 = d.logits[1]
            cls2 = self.trace.class_names[t2.class_index]
            f2 = self.get_logit_formula(1, full=False).next_to(f1, DOWN, buff=0.3)
            f2.align_to(f1, LEFT)
            with self.beat("other", cls2=cls2,
                           logit2=fmt(t2.total, self.logit_decimals(t2))) as b:
                self.play(FadeIn(f2), run_time=b.part(0.3))

    def trace_cell(self, maps: Group, strip: VectorStrip, cell, labels: VGroup, j: int,
                   run_time: float) -> None:
        """Move a dot from a cell of its channel map to its place in the vector.

        The cell's (channel, row, col) -> index label appears under its mark, then joins the
        list on the right.
        """
        ch, r, c, i, _ = cell
        fm = maps[ch][0]
        start = fm.cell_center(r, c)
        end = strip.position(i)
        box = fm.get_cell_box(r, c, stroke_width=3)
        dot = Dot(start, radius=0.06, color=colors.HIGHLIGHT)
        mark = strip.get_mark(i)
        lab = self.cell_label(cell)
        lab.next_to(end, DOWN, buff=0.55)
        if lab.get_left()[0] < -6.7:
            lab.shift(RIGHT * (-6.7 - lab.get_left()[0]))
        if lab.get_right()[0] > 6.7:
            lab.shift(LEFT * (lab.get_right()[0] - 6.7))
        arrow = Arrow(lab.get_top() + UP * 0.02, end + DOWN * 0.2, buff=0.0,
                      color=colors.HIGHLIGHT, stroke_width=3,
                      max_tip_length_to_length_ratio=0.3)
        arrow.put_start_and_end_on(np.array([end[0], lab.get_top()[1] + 0.05, 0]),
                                   end + DOWN * 0.2)
        slot = self.cell_label(cell).move_to([0, -0.55 - 0.42 * j, 0])
        slot.align_to(np.array([2.7, 0, 0]), LEFT)
        self.play(Create(box), FadeIn(dot), run_time=run_time * 0.2)
        self.play(dot.animate.move_to(end), run_time=run_time * 0.35)
        self.play(Create(mark), FadeIn(lab), Create(arrow), FadeOut(dot), run_time=run_time * 0.2)
        self.play(ReplacementTransform(lab, slot), FadeOut(arrow), FadeOut(box),
                  run_time=run_time * 0.25)
        labels.add(mark, slot)
