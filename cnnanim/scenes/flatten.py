"""Flatten: the 13x13x10 maps unrolled into one vector that feeds the output layer."""

from __future__ import annotations

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Create,
    Dot,
    FadeIn,
    FadeOut,
    Group,
    Line,
    Rectangle,
    SurroundingRectangle,
    Text,
    Transform,
    VGroup,
)

from cnnanim.draw import colors
from cnnanim.draw.layout import SAFE_LEFT, SAFE_RIGHT
from cnnanim.draw.mobjects import FeatureMap
from cnnanim.draw.text import MONO, NumberText, cached_text, label, number
from cnnanim.draw.vectors import VectorStrip
from cnnanim.explain.fit import shown_count
from cnnanim.explain.flatten import FlattenData, ShownSum, flatten_data, shown_sum
from cnnanim.explain.numbers import decimals_for, fmt, plural
from cnnanim.scenes.base import SWAP_TIME, CnnScene

#: Colour scale of maps and of the flattened vector: red-white-blue, zero as white as the page.
SCALE = "activation_white"
#: Widest a row of maps or a formula may be.
ROW_WIDTH = 13.2
#: The pooled maps in a row at the top (centres' y, height), and the flattened vector under them.
MAPS_Y, MAP_H = 2.3, 1.12
STRIP_Y = 0.75
#: Channel 0 enlarged at the lower left (centre, height), the rows of it shown unrolled
#: (as a segment of the vector, its left end, width and y), and the list of traced cells at
#: the lower right (its left end, the y of its formula and of its first line, line spacing).
BIG_AT, BIG_H = (-5.2, -0.92, 0), 2.3
ROWS_SHOWN = 2
SEG_LEFT, SEG_WIDTH, SEG_Y, SEG_H = -3.55, 5.5, -0.8, 0.6
LIST_LEFT, LIST_TOP, LIST_STEP = 2.35, -0.35, 0.46
#: Sizes of labels, of the numbers in formulas and of the list lines.
LABEL_SIZE, FORMULA_SIZE, LIST_SIZE = 22, 26, 24
#: Heights (y) of the strips once the output layer is shown: x on top, then w, then x × w,
#: and of the two logit formulas under them.
X_Y, W_Y, XW_Y = 2.5, 1.5, 0.5
F1_Y, F2_GAP = -1.1, 0.3


class Flatten(CnnScene):
    """Unroll the pooled maps into a vector, then weigh it into each logit."""

    cli_name = "flatten"
    description = "Flatten: 13x13x10 maps become a 1690-long vector feeding the output layer"
    chapter = "flatten"
    default_layer = "flatten"
    valid_layer_kinds = ("flatten",)

    def setup(self) -> None:
        super().setup()
        self.vmax = colors.symmetric_range(self.data.pooled)
        self.vdec = decimals_for(self.data.vector, most=4)
        self.sums = [shown_sum(t) for t in self.data.logits]

    def get_data(self) -> FlattenData:
        """The real pooled maps, vector, traced cells and logit terms (see
        :func:`~cnnanim.explain.flatten.flatten_data`)."""
        return flatten_data(self.trace)

    # -- storyboard -------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.data
        c, h, w = d.pooled.shape
        n = d.vector.size
        title = self.get_title(self.words("title", h=h, w=w, c=c, n=n))
        maps = self.get_maps().move_to([0, MAPS_Y, 0])
        big = self.place_big_map(maps)
        strip = VectorStrip(d.vector, scale=SCALE, vmax=self.vmax).move_to([0, STRIP_Y, 0])
        ticks = strip.get_boundaries(c)
        strip_label = self.get_strip_label(strip, "vector", buff=0.1, n=n)
        segment = self.place_segment(strip)
        with self.beat("maps", pool=d.pool_stage, c=c, maps=plural(c, "map"), h=h, w=w,
                       n=n) as b:
            start = self.renderer.time
            self.show_opening(b, title, maps, big)
            self.wait_for_words(b, start, str(n))  # "... flatten unrolls them into 1690 numbers"
            self.play(FadeIn(strip), Create(ticks), FadeIn(strip_label), run_time=b.part(0.1))
            self.unroll_rows(big[0], segment, b.part(0.3))

        formula = self.place_index_formula()
        lines = VGroup()
        with self.beat("order", hw=h * w, w=w) as b:
            self.play(FadeIn(formula), run_time=b.part(0.12))
            share = 0.8 / max(1, min(3, len(d.cells)))
            for j, cell in enumerate(d.cells[:3]):
                lines.add(self.trace_cell(maps, big[0], strip, segment, cell, j,
                                          share * b.duration))
        ch, _, _, index, value = d.cells[-1]
        with self.beat("strongest", value=fmt(value, self.vdec), ch=ch, index=index) as b:
            if len(d.cells) > 3:
                lines.add(self.trace_cell(maps, big[0], strip, segment, d.cells[3], 3,
                                          0.5 * b.duration))

        # -- output layer --------------------------------------------------------------------
        t = d.logits[0]
        cls = self.class_labels[t.class_index]
        wstrip = VectorStrip(t.weights, scale="weight").move_to([0, W_Y, 0])
        pstrip = VectorStrip(t.products, scale="weight").move_to([0, XW_Y, 0])
        wlab = self.get_strip_label(wstrip, "w", cls=cls)
        plab = self.get_strip_label(pstrip, "xw")
        ex = d.cells[-1][3]  # the strongest value: its weight and product as the example
        with self.beat("weights", n=n, cls=cls, x=fmt(t.inputs[ex], self.vdec),
                       w=fmt(t.weights[ex], self.weight_decimals(0))) as b:
            # "one weight per value": the w row comes at once, under x
            start = self.renderer.time
            self.play(FadeOut(Group(maps, big, segment, lines, formula, ticks, strip_label)),
                      run_time=SWAP_TIME)
            xlab = self.get_strip_label(strip, "x", n=n).shift(UP * (X_Y - strip.get_y()))
            self.play(strip.animate.move_to([0, X_Y, 0]), FadeIn(xlab), FadeIn(wstrip),
                      FadeIn(wlab), run_time=SWAP_TIME)
            # "every value is multiplied by its weight, like x times w": with that sentence
            self.wait_for_words(b, start, fmt(t.inputs[ex], self.vdec))
            self.play(FadeOut(strip.copy(), target_position=pstrip),
                      FadeOut(wstrip.copy(), target_position=pstrip), FadeIn(pstrip), FadeIn(plab),
                      run_time=b.part(0.1))
            example = self.place_example(strip, wstrip, pstrip, ex)
            self.play(Create(example[0]), FadeIn(example[1]), run_time=b.part(0.08))

        marks = VGroup(*[pstrip.get_mark(int(i)) for i in d.top_terms[0]])
        f1 = self.get_logit_formula(0).move_to([0, F1_Y, 0])
        with self.beat("sum", n=n, cls=cls, logit=self.sums[0].total) as b:
            self.play(Create(marks), FadeIn(f1[0]), run_time=2 * SWAP_TIME)
            self.play(FadeIn(f1[1]), run_time=2 * SWAP_TIME)

        if len(d.logits) > 1:
            t2 = d.logits[1]
            cls2 = self.class_labels[t2.class_index]
            f2 = self.get_logit_formula(1, full=False).next_to(f1, DOWN, buff=F2_GAP).align_to(
                f1, LEFT)
            with self.beat("other", cls2=cls2, logit2=self.sums[1].total) as b:
                self.play(FadeIn(f2), run_time=b.part(0.3, at_most=1.0))

    # -- narrated verbs ---------------------------------------------------------------------
    def unroll_rows(self, big: FeatureMap, segment: Group, run_time: float) -> None:
        """The first rows of the enlarged map slide, one after the other, to their places in
        the vector's first segment; the segment and its row names stay."""
        strip, box, link, names = segment
        rows = [self.get_row(big, r) for r in range(ROWS_SHOWN)]
        self.play(Create(box), Create(link), FadeIn(Group(*rows)), run_time=run_time * 0.2)
        for r, row in enumerate(rows):
            left, right = strip.position(r * big.cols), strip.position((r + 1) * big.cols - 1)
            target = self.get_row(big, r)
            target.stretch_to_fit_width(right[0] - left[0] + strip.image.width / strip.n)
            target.stretch_to_fit_height(strip.image.height)
            target.move_to((left + right) / 2)
            self.play(Transform(row, target), run_time=run_time * 0.3)
        self.play(FadeIn(strip), FadeIn(names), run_time=run_time * 0.2)
        self.remove(*rows)

    def trace_cell(self, maps: Group, big: FeatureMap, strip: VectorStrip, segment: Group,
                   cell, j: int, run_time: float) -> VGroup:
        """Move a dot from a cell of its channel map to its place in the vector.

        The cell's line ``(channel, row, col) = value → index`` appears as line ``j`` of the
        list at once; cells of the enlarged map travel there into the enlarged segment, the
        others from their small map into the vector. Returns the line and the mark left on
        the vector.
        """
        ch, r, c, i, _ = cell
        line = self.place_cell_line(cell, j)
        mark = strip.get_mark(i)
        near = ch == 0 and r < ROWS_SHOWN  # shown enlarged: travel between the enlarged views
        end = segment[0].position(i) if near else strip.position(i)
        if maps.more is not None and ch >= len(maps) - 1:  # a channel not drawn: from "+ N more"
            boxes = VGroup(SurroundingRectangle(maps.more, color=colors.HIGHLIGHT, buff=0.08,
                                                stroke_width=4))
            start = maps.more.get_center()
        else:
            fm = big if near else maps[ch][0]
            boxes = VGroup(fm.get_cell_box(r, c, stroke_width=4))
            start = fm.cell_center(r, c)
        if near:
            boxes.add(maps[ch][0].get_cell_box(r, c, stroke_width=3))
        marks = VGroup(mark, segment[0].get_mark(i)) if near else VGroup(mark)
        dot = Dot(start, radius=0.07, color=colors.HIGHLIGHT)
        self.play(Create(boxes), FadeIn(dot), FadeIn(line), run_time=run_time * 0.25)
        self.play(dot.animate.move_to(end), run_time=run_time * 0.35)
        self.play(Create(marks), FadeOut(dot), run_time=run_time * 0.2)
        self.play(FadeOut(boxes), run_time=run_time * 0.2)
        return VGroup(line, marks)

    # -- builders ---------------------------------------------------------------------------
    def get_maps(self, height: float = MAP_H) -> Group:
        """The pooled channel maps in a row, each with its channel number; with more channels
        than fit, the first ones and ``+ N more`` (the ``more`` attribute; None when all fit)."""
        groups = []
        c = len(self.data.pooled)
        shown = shown_count(c)
        for ch, m in enumerate(self.data.pooled[:shown]):
            fm = FeatureMap(m, scale=SCALE, vmax=self.vmax, height=height)
            groups.append(Group(fm, self.get_words("ch", 20, c=ch).next_to(fm, DOWN, buff=0.08)))
        more = self.get_words("more_maps", 20, colors.MUTED_TEXT, n=c - shown) \
            if shown < c else None
        g = Group(*groups, *([more] if more is not None else [])).arrange(RIGHT, buff=0.2)
        g.more = more
        if g.width > ROW_WIDTH:
            g.scale_to_fit_width(ROW_WIDTH)
        return g

    def place_big_map(self, maps: Group) -> Group:
        """Channel 0 enlarged at the lower left, ``ch 0 (13 × 13)`` under it, and its small map
        in the row outlined."""
        c, h, w = self.data.pooled.shape
        fm = FeatureMap(self.data.pooled[0], scale=SCALE, vmax=self.vmax, height=BIG_H)
        fm.move_to(np.array(BIG_AT))
        name = self.get_words("big", LABEL_SIZE, c=0, h=h, w=w).next_to(fm, DOWN, buff=0.1)
        small = Rectangle(width=maps[0][0].width + 0.1, height=maps[0][0].height + 0.1,
                          stroke_color=colors.HIGHLIGHT, stroke_width=3).move_to(maps[0][0])
        return Group(fm, name, small)

    def get_row(self, big: FeatureMap, r: int) -> FeatureMap:
        """Row ``r`` of the enlarged map as a map of its own, where it lies on ``big``."""
        row = FeatureMap(self.data.pooled[0][r:r + 1], scale=SCALE, vmax=self.vmax,
                         height=big.cell_size, border_width=1)
        return row.move_to(big.cell_center(r, (big.cols - 1) / 2))

    def place_segment(self, strip: VectorStrip) -> Group:
        """The vector's first ``ROWS_SHOWN`` rows of channel 0, enlarged beside the enlarged
        map: (the segment, its outline on the vector, a line joining them, each row's name)."""
        h, w = self.data.pooled.shape[1:]
        k = ROWS_SHOWN * w
        seg = VectorStrip(self.data.vector[:k], scale=SCALE, vmax=self.vmax, width=SEG_WIDTH,
                          height=SEG_H)
        seg.move_to([SEG_LEFT + SEG_WIDTH / 2, SEG_Y, 0])
        seg.border.set_stroke(colors.HIGHLIGHT, 3)
        cell = strip.image.width / strip.n
        box = Rectangle(width=cell * k, height=strip.image.height + 0.16,
                        stroke_color=colors.HIGHLIGHT, stroke_width=3)
        box.move_to(strip.image.get_left() + RIGHT * cell * k / 2)
        link = Line(box.get_bottom(), seg.get_corner(UP + LEFT), color=colors.HIGHLIGHT,
                    stroke_width=2)
        names = VGroup()
        for r in range(ROWS_SHOWN):
            a, b = r * w, (r + 1) * w - 1
            name = VGroup(self.get_words("row", LABEL_SIZE, r=r),
                          self.mono(f"→ {a}…{b}", LABEL_SIZE)).arrange(RIGHT, buff=0.12)
            names.add(name.next_to((seg.position(a) + seg.position(b)) / 2, DOWN, buff=0.35))
            if r:
                edge = seg.position(a) + LEFT * SEG_WIDTH / k / 2
                names.add(Line(edge + UP * SEG_H / 2, edge + DOWN * SEG_H / 2,
                               color=colors.INK, stroke_width=2))
        return Group(seg, box, link, names)

    def place_index_formula(self) -> Text:
        """``index = c × HW + r × W + col`` above the list of traced cells."""
        h, w = self.data.pooled.shape[1:]
        f = self.get_words("index", LABEL_SIZE + 2, hw=h * w, w=w)
        if f.width > 6.6 - LIST_LEFT:
            f.scale_to_fit_width(6.6 - LIST_LEFT)
        return f.move_to([0, LIST_TOP, 0]).align_to(np.array([LIST_LEFT, 0, 0]), LEFT)

    def get_strip_label(self, strip: VectorStrip, key: str, buff: float = 0.1,
                        **values) -> Text:
        """Words ``key`` above ``strip``, at its left end."""
        return self.get_words(key, LABEL_SIZE, **values).next_to(strip, UP, buff=buff).align_to(
            strip, LEFT)

    def mono(self, text: str, size: float = LIST_SIZE, color: str = colors.INK) -> Text:
        """``text`` in the monospace font of the numbers."""
        return cached_text(text, font=MONO, font_size=size, color=color)

    def place_cell_line(self, cell, j: int) -> VGroup:
        """``(channel, row, col) = value → index`` of a traced cell, line ``j`` of the list at the
        lower right; the value in its activation colour (for text); a long line (a large
        network's ``(56, 7, 9) = 0.097 → 14457``) narrowed to the safe area."""
        ch, r, c, i, v = cell
        line = VGroup(self.mono(f"({ch}, {r}, {c}) ="), number(v, self.vdec, LIST_SIZE,
                                                                colors.POSITIVE),
                      self.mono(f"→ {i}")).arrange(RIGHT, buff=0.16)
        if line.width > SAFE_RIGHT - LIST_LEFT:
            line.scale_to_fit_width(SAFE_RIGHT - LIST_LEFT)
        line.move_to([0, LIST_TOP - LIST_STEP * (j + 1) - 0.08, 0])
        return line.align_to(np.array([LIST_LEFT, 0, 0]), LEFT)

    def place_example(self, strip: VectorStrip, wstrip: VectorStrip, pstrip: VectorStrip,
                      i: int) -> VGroup:
        """A line through the three strips at index ``i`` and ``x × w = product`` under it."""
        t = self.data.logits[0]
        top, bottom = strip.position(i) + UP * 0.3, pstrip.position(i) + DOWN * 0.3
        line = Line(top, bottom, color=colors.HIGHLIGHT, stroke_width=4)
        eq = VGroup(self.term(t.inputs[i], t.weights[i], self.vdec, self.weight_decimals(0)),
                    label("=", FORMULA_SIZE),
                    number(t.products[i], self.weight_decimals(0), FORMULA_SIZE))
        eq.arrange(RIGHT, buff=0.12).next_to(bottom, DOWN, buff=0.2)
        if eq.get_right()[0] > SAFE_RIGHT:  # an index near either end: the product stays inside
            eq.shift(LEFT * (eq.get_right()[0] - SAFE_RIGHT))
        if eq.get_left()[0] < SAFE_LEFT:
            eq.shift(RIGHT * (SAFE_LEFT - eq.get_left()[0]))
        return VGroup(line, eq)

    def weight_decimals(self, k: int) -> int:
        """Decimals of the weights and products shown for logit ``k``."""
        t = self.data.logits[k]
        return decimals_for(t.weights[self.data.top_terms[k]], most=4)

    def term(self, x: float, w: float, dec: int, wdec: int) -> VGroup:
        """``x × w`` with x in the activation colour and w in the weight colour (for text)."""
        wcol = colors.WEIGHT_POS_TEXT if w >= 0 else colors.WEIGHT_NEG_TEXT
        parts = [number(x, dec, FORMULA_SIZE, colors.POSITIVE), label("×", FORMULA_SIZE)]
        wt = number(w, wdec, FORMULA_SIZE, wcol)
        if fmt(w, wdec).startswith("-"):
            parts += [label("(", FORMULA_SIZE), wt, label(")", FORMULA_SIZE)]
        else:
            parts.append(wt)
        return VGroup(*parts).arrange(RIGHT, buff=0.06)

    def get_logit_formula(self, k: int, full: bool = True) -> VGroup:
        """logit[class] = a few real terms + … = sum + bias = logit.

        The sum, the bias (with its sign: ``+ bias -0.13``) and the logit are written with the
        decimals at which they add up (see :func:`~cnnanim.explain.flatten.shown_sum`); if none
        does, the total says ``(rounded)``.
        """
        d = self.data
        t = d.logits[k]
        ss: ShownSum = self.sums[k]
        size = FORMULA_SIZE
        name = self.class_labels[t.class_index]
        shown = d.top_terms[k]
        dec = decimals_for(t.inputs[shown], most=4)
        head = self.get_words("logit", size, colors.LOGIT_TEXT, cls=name)
        line1 = [head]
        if full:
            for j, i in enumerate(shown):
                if j:
                    line1.append(label("+", size))
                line1.append(self.term(t.inputs[i], t.weights[i], dec, self.weight_decimals(k)))
            line1.append(self.get_words("more_terms", size, n=len(t.inputs)))
        else:
            line1.append(label("Σ x·w", size))
        l1 = VGroup(*line1).arrange(RIGHT, buff=0.14)
        bias_color = colors.WEIGHT_POS_TEXT if t.bias >= 0 else colors.WEIGHT_NEG_TEXT
        l2 = VGroup(label("=", size), NumberText(ss.products, size),
                    self.get_words("bias", size), NumberText(ss.bias, size, bias_color),
                    label("=", size), NumberText(ss.total, size + 2, colors.LOGIT_TEXT))
        if ss.rounded:
            l2.add(self.get_words("rounded", size - 4, colors.MUTED_TEXT))
        l2.arrange(RIGHT, buff=0.14)
        net = float(self.trace.logits[t.class_index])
        l2.add(self.get_words("network", size - 4, colors.MUTED_TEXT,
                              v=fmt(net, ss.decimals)).next_to(l2, RIGHT, buff=0.3))
        if full:
            g = VGroup(l1, l2).arrange(DOWN, buff=0.25, aligned_edge=LEFT)
            l2.shift(RIGHT * (head.width + 0.12))
        else:
            g = VGroup(l1, l2).arrange(RIGHT, buff=0.12)
        if g.width > ROW_WIDTH:
            g.scale_to_fit_width(ROW_WIDTH)
        return g
