"""Flatten: the 13x13x10 maps unrolled into one vector that feeds the output layer."""

from __future__ import annotations

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
    ReplacementTransform,
    Text,
    VGroup,
    Write,
)

from cnnanim.draw import colors
from cnnanim.draw.mobjects import FeatureMap
from cnnanim.draw.text import label, number
from cnnanim.draw.vectors import VectorStrip
from cnnanim.explain.flatten import FlattenData, flatten_data, logit_decimals
from cnnanim.explain.numbers import decimals_for, fmt
from cnnanim.scenes.base import CnnScene

#: Widest a row of maps or a formula may be.
ROW_WIDTH = 13.0
#: A traced cell's label stays between x = -LABEL_X and x = LABEL_X.
LABEL_X = 6.7
#: Heights (y) of the strips once the output layer is shown: x on top, then w, then x × w.
X_Y, W_Y, XW_Y = 2.55, 1.5, 0.45


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

    WORDS = {
        "title": {"en": "Flatten  {h}×{w}×{c} → {n}", "zh": "展平  {h}×{w}×{c} → {n}"},
        "ch": {"en": "ch {c}", "zh": "通道 {c}"},
        "vector": {"en": "flatten  ({n})", "zh": "展平向量  ({n})"},
        "index": {"en": "index = c × {hw} + r × {w} + col", "zh": "位置 = c × {hw} + r × {w} + col"},
        "x": {"en": "x  ({n})", "zh": "x  ({n})"},
        "w": {"en": "w  [{cls}]", "zh": "w  [{cls}]"},
        "xw": {"en": "x × w", "zh": "x × w"},
        "logit": {"en": "logit[{cls}] =", "zh": "logit[{cls}] ="},
        "more_terms": {"en": "+ … ({n} terms)", "zh": "+ …（共 {n} 项）"},
        "bias": {"en": "{sign} bias", "zh": "{sign} 偏置"},
        "network": {"en": "(network output {v} ✓)", "zh": "（网络输出 {v} ✓）"},
    }

    def setup(self) -> None:
        super().setup()
        self.data = self.get_flatten_data()
        self.vmax = colors.symmetric_range(self.data.pooled)
        self.vdec = decimals_for(self.data.vector, most=4)

    def get_flatten_data(self) -> FlattenData:
        """The real pooled maps, vector, traced cells and logit terms (see
        :func:`~cnnanim.explain.flatten.flatten_data`)."""
        return flatten_data(self.trace)

    # -- storyboard -------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.data
        c, h, w = d.pooled.shape
        n = d.vector.size
        title = self.get_title(self.words("title", h=h, w=w, c=c, n=n))
        maps = self.get_maps().move_to([0, 2.05, 0])
        strip = VectorStrip(d.vector, vmax=self.vmax).move_to([0, 0.2, 0])
        ticks = strip.get_boundaries(c)
        strip_label = self.get_strip_label(strip, "vector", buff=0.15, n=n)
        with self.beat("maps", pool=d.pool_stage, c=c, h=h, w=w, n=n) as b:
            self.play(Write(title), FadeIn(maps), run_time=b.part(0.3))
            self.play(FadeIn(strip), Create(ticks), FadeIn(strip_label), run_time=b.part(0.3))

        formula = self.get_words("index", 22, hw=h * w, w=w).move_to([-3.0, -1.6, 0])
        labels = VGroup()
        with self.beat("order", hw=h * w, w=w) as b:
            self.play(FadeIn(formula), run_time=b.part(0.12))
            share = 0.8 / max(1, min(3, len(d.cells)))
            for j, cell in enumerate(d.cells[:3]):
                self.trace_cell(maps, strip, cell, labels, j, share * b.duration)
        ch, _, _, index, value = d.cells[-1]
        with self.beat("strongest", value=fmt(value, self.vdec), ch=ch, index=index) as b:
            if len(d.cells) > 3:
                self.trace_cell(maps, strip, d.cells[3], labels, 3, 0.5 * b.duration)

        # -- output layer --------------------------------------------------------------------
        t = d.logits[0]
        cls = self.trace.class_names[t.class_index]
        wstrip = VectorStrip(t.weights, scale="weight").move_to([0, W_Y, 0])
        pstrip = VectorStrip(t.products, scale="weight").move_to([0, XW_Y, 0])
        wlab = self.get_strip_label(wstrip, "w", cls=cls)
        plab = self.get_strip_label(pstrip, "xw")
        with self.beat("weights", n=n, cls=cls) as b:
            self.play(FadeOut(maps), FadeOut(labels), FadeOut(formula), FadeOut(ticks),
                      FadeOut(strip_label), run_time=b.part(0.2))
            self.play(strip.animate.move_to([0, X_Y, 0]), run_time=b.part(0.2))
            xlab = self.get_strip_label(strip, "x", n=n)
            self.play(FadeIn(xlab), FadeIn(wstrip), FadeIn(wlab), run_time=b.part(0.2))
            self.play(FadeOut(strip.copy(), target_position=pstrip),
                      FadeOut(wstrip.copy(), target_position=pstrip), FadeIn(pstrip), FadeIn(plab),
                      run_time=b.part(0.25))

        marks = VGroup(*[pstrip.get_mark(int(i)) for i in d.top_terms[0]])
        f1 = self.get_logit_formula(0).move_to([0, -0.75, 0])
        with self.beat("sum", n=n, cls=cls, logit=fmt(t.total, logit_decimals(t))) as b:
            self.play(Create(marks), FadeIn(f1[0]), run_time=b.part(0.35))
            self.play(FadeIn(f1[1]), run_time=b.part(0.3))

        if len(d.logits) > 1:
            t2 = d.logits[1]
            cls2 = self.trace.class_names[t2.class_index]
            f2 = self.get_logit_formula(1, full=False).next_to(f1, DOWN, buff=0.3).align_to(
                f1, LEFT)
            with self.beat("other", cls2=cls2, logit2=fmt(t2.total, logit_decimals(t2))) as b:
                self.play(FadeIn(f2), run_time=b.part(0.3))

    # -- narrated verbs ---------------------------------------------------------------------
    def trace_cell(self, maps: Group, strip: VectorStrip, cell, labels: VGroup, j: int,
                   run_time: float) -> None:
        """Move a dot from a cell of its channel map to its place in the vector.

        The cell's (channel, row, col) -> index label appears under its mark, then joins the
        list on the right (the ``j``-th line); the mark and the list line are added to
        ``labels``.
        """
        ch, r, c, i, _ = cell
        fm = maps[ch][0]
        end = strip.position(i)
        box = fm.get_cell_box(r, c, stroke_width=3)
        dot = Dot(fm.cell_center(r, c), radius=0.06, color=colors.HIGHLIGHT)
        mark = strip.get_mark(i)
        lab = self.place_cell_label(cell, end)
        arrow = self.get_label_arrow(lab, end)
        slot = self.place_cell_slot(cell, j)
        self.play(Create(box), FadeIn(dot), run_time=run_time * 0.2)
        self.play(dot.animate.move_to(end), run_time=run_time * 0.35)
        self.play(Create(mark), FadeIn(lab), Create(arrow), FadeOut(dot), run_time=run_time * 0.2)
        self.play(ReplacementTransform(lab, slot), FadeOut(arrow), FadeOut(box),
                  run_time=run_time * 0.25)
        labels.add(mark, slot)

    # -- builders ---------------------------------------------------------------------------
    def get_maps(self, height: float = 1.08) -> Group:
        """The pooled channel maps in a row, each with its channel number."""
        groups = []
        for ch, m in enumerate(self.data.pooled):
            fm = FeatureMap(m, vmax=self.vmax, height=height)
            groups.append(Group(fm, self.get_words("ch", 18, c=ch).next_to(fm, DOWN, buff=0.1)))
        g = Group(*groups).arrange(RIGHT, buff=0.18)
        if g.width > ROW_WIDTH:
            g.scale_to_fit_width(ROW_WIDTH)
        return g

    def get_strip_label(self, strip: VectorStrip, key: str, buff: float = 0.12,
                        **values) -> Text:
        """Words ``key`` above ``strip``, at its left end."""
        return self.get_words(key, 20, **values).next_to(strip, UP, buff=buff).align_to(
            strip, LEFT)

    def cell_label(self, cell) -> Text:
        """``(channel, row, col) → index`` of a traced cell."""
        ch, r, c, i, _ = cell
        return label(f"({ch}, {r}, {c}) → {i}", 20)

    def place_cell_label(self, cell, end: np.ndarray) -> Text:
        """The cell's label under its place ``end`` in the vector, kept inside x = ±LABEL_X."""
        lab = self.cell_label(cell)
        lab.next_to(end, DOWN, buff=0.55)
        if lab.get_left()[0] < -LABEL_X:
            lab.shift(RIGHT * (-LABEL_X - lab.get_left()[0]))
        if lab.get_right()[0] > LABEL_X:
            lab.shift(LEFT * (lab.get_right()[0] - LABEL_X))
        return lab

    def get_label_arrow(self, lab: Text, end: np.ndarray) -> Arrow:
        """An arrow straight up from the label to the vector just under ``end``."""
        arrow = Arrow(lab.get_top() + UP * 0.02, end + DOWN * 0.2, buff=0.0,
                      color=colors.HIGHLIGHT, stroke_width=3,
                      max_tip_length_to_length_ratio=0.3)
        arrow.put_start_and_end_on(np.array([end[0], lab.get_top()[1] + 0.05, 0]),
                                   end + DOWN * 0.2)
        return arrow

    def place_cell_slot(self, cell, j: int) -> Text:
        """The cell's label as line ``j`` of the list at the right."""
        slot = self.cell_label(cell).move_to([0, -0.55 - 0.42 * j, 0])
        return slot.align_to(np.array([2.7, 0, 0]), LEFT)

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

    def get_logit_formula(self, k: int, full: bool = True) -> VGroup:
        """logit[class] = a few real terms + … = sum + bias = logit."""
        d = self.data
        t = d.logits[k]
        name = self.trace.class_names[t.class_index]
        shown = d.top_terms[k]
        dec = decimals_for(t.inputs[shown], most=4)
        wdec = decimals_for(t.weights[shown], most=4)
        pdec = logit_decimals(t)
        head = self.get_words("logit", 22, colors.LOGIT, cls=name)
        line1 = [head]
        if full:
            for j, i in enumerate(d.top_terms[k]):
                if j:
                    line1.append(label("+", 22))
                line1.append(self.term(t.inputs[i], t.weights[i], dec, wdec))
            line1.append(self.get_words("more_terms", 22, n=len(t.inputs)))
        else:
            line1.append(label("Σ x·w", 22))
        l1 = VGroup(*line1).arrange(RIGHT, buff=0.12)
        sign = "+" if t.bias >= 0 else "−"
        bias_color = colors.WEIGHT_POS if t.bias >= 0 else colors.WEIGHT_NEG
        l2 = VGroup(label("=", 22), number(t.products.sum(), pdec, 22),
                    self.get_words("bias", 22, sign=sign),
                    number(abs(t.bias), pdec, 22, bias_color),
                    label("=", 22), number(t.total, pdec, 24, colors.LOGIT))
        l2.arrange(RIGHT, buff=0.12)
        net = float(self.trace.logits[t.class_index])
        l2.add(self.get_words("network", 20, colors.MUTED, v=fmt(net, pdec)).next_to(
            l2, RIGHT, buff=0.3))
        if full:
            g = VGroup(l1, l2).arrange(DOWN, buff=0.22, aligned_edge=LEFT)
            l2.shift(RIGHT * (head.width + 0.12))
        else:
            g = VGroup(l1, l2).arrange(RIGHT, buff=0.12)
        if g.width > ROW_WIDTH:
            g.scale_to_fit_width(ROW_WIDTH)
        return g
