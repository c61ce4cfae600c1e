"""Softmax: the ten real logits become probabilities that add up to 1.

Storyboard: the logits (orange, with class names) -> e to the power of each, and their sum ->
the predicted class's probability written out as a fraction with its real numbers -> all ten
probabilities as bars summing to 1 -> plain rescaling next to softmax (why softmax favours the
largest logit) -> softmax as a soft, differentiable argmax.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Create,
    FadeIn,
    FadeOut,
    GrowFromEdge,
    Line,
    MarkupText,
    Rectangle,
    SurroundingRectangle,
    Text,
    VGroup,
    Write,
)

from cnnanim.draw import colors
from cnnanim.draw.text import FONT, MONO, CachedMarkupText, cached_text, label, on_row
from cnnanim.explain.numbers import fmt
from cnnanim.explain.softmax import SoftmaxData, fmt_exp, softmax_data
from cnnanim.scenes.base import CnnScene

# -- layout (scene units) --------------------------------------------------------------------
ROW_TOP = 2.55       # y of the first class row
ROW_PITCH = 0.47     # distance between rows
HEADER_Y = 3.02      # y of the column headers
NAME_RIGHT = -4.55   # class names end here
LOGIT_X = -3.85      # centre of the logit cells
EXP_X = -2.2         # centre of the exponentials
PROB_LEFT = -0.9     # probability bars start here
RESCALE_LEFT = 3.35  # second bar column starts here
BAR_MAX = 2.3        # length of a bar of value 1
CELL_W, CELL_H = 1.05, 0.38
FORMULA_CENTRE = (2.9, 1.3)  # centre of the written-out probability of the top class


def markup(text: str, size: float = 26, color: str = colors.INK) -> MarkupText:
    """A formula piece with <sup>/<sub> markup."""
    return CachedMarkupText(text, font=FONT, font_size=size, color=color)


def fraction(num, den, color: str = colors.INK) -> VGroup:
    """``num`` over ``den`` with a bar between them."""
    w = max(num.width, den.width) + 0.15
    bar = Line(LEFT * w / 2, RIGHT * w / 2, stroke_width=2, color=color)
    num.next_to(bar, UP, buff=0.1)
    den.next_to(bar, DOWN, buff=0.1)
    return VGroup(num, bar, den)


class Softmax(CnnScene):
    """Softmax turns the ten logits into probabilities that sum to 1."""

    cli_name = "softmax"
    description = "Softmax: logits to probabilities that sum to 1, a soft argmax"
    chapter = "output"
    default_layer = "output"
    valid_layer_kinds = ("linear",)
    NARRATION = {
        "logits": {
            "en": "The output layer ends in ten raw scores called logits, one per class; "
                  "the largest, {z_top}, belongs to {top}.",
            "zh": "输出层给出十个原始分数，叫作 logit，每类一个。{top} 最大，为 {z_top}。",
        },
        "exp": {
            "en": "Softmax first takes e to the power of every logit, so each score becomes "
                  "positive, and then adds the ten results: {total}.",
            "zh": "softmax 先对每个 logit 取 e 的幂，使它们都变成正数，再把十个结果相加：{total}。",
        },
        "formula": {
            "en": "Each exponential divided by that sum is a probability. For {top}: {e_top} "
                  "over {total} gives {p_top}.",
            "zh": "每个指数除以这个总和就是概率。{top}：{e_top} 除以 {total}，得 {p_top}。",
        },
        "bars": {
            "en": "All ten probabilities lie between 0 and 1, and together they add up to exactly 1.",
            "zh": "十个概率都在 0 和 1 之间，加起来正好等于 1。",
        },
        "rescale": {
            "en": "Why not just divide by the sum? Plain rescaling gives {top} only {r_top}. "
                  "Softmax turns its lead of {gap} over {second} into {ratio} times the "
                  "probability: the largest logit stands out.",
            "zh": "直接除以总和不行吗？简单缩放只给 {top} {r_top}。"
                  "softmax 却把领先的 {gap} 变成 {ratio} 倍的概率，突出最大的 logit。",
        },
        "argmax": {
            "en": "A hard argmax gives the winner 1 and the rest 0. Softmax is a soft argmax: "
                  "it favours the largest logit yet changes smoothly, so it stays differentiable "
                  "for training.",
            "zh": "argmax 只给最大者 1，其余为 0。softmax 是“软”的 argmax："
                  "同样偏向最大值，但变化平滑、可以求导，网络才能学习。",
        },
    }

    WORDS = {
        "title": {"en": "Softmax", "zh": "Softmax"},
    }

    def setup(self) -> None:
        super().setup()
        self.data = self.get_softmax_data()

    # -- data ---------------------------------------------------------------------------------
    def get_softmax_data(self) -> SoftmaxData:
        """Every number shown, from the trace (see :func:`softmax_data`)."""
        return softmax_data(self.trace)

    # -- builders -------------------------------------------------------------------------------
    def row_y(self, i: int) -> float:
        return ROW_TOP - i * ROW_PITCH

    def header(self, text: str, x: float, size: float = 20, markup_text: bool = False):
        """A muted column header centred at x = ``x`` on the header line."""
        m = markup(text, size, colors.MUTED) if markup_text else label(text, size, colors.MUTED)
        return m.move_to([x, HEADER_Y, 0])

    def bar_header(self, text: str, left: float, markup_text: bool = True):
        """The header of the bar column starting at x = ``left``."""
        return self.header(text, left + BAR_MAX / 2 + 0.3, 22, markup_text=markup_text)

    def get_rescale_header(self):
        """What plain rescaling divides: the logits, shifted by the smallest when it is negative."""
        text = "(z − z<sub>min</sub>) / Σ" if self.data.shift < 0 else "z / Σ z"
        return self.bar_header(text, RESCALE_LEFT)

    def get_names(self) -> VGroup:
        """The class names, right-aligned, one per row."""
        names = VGroup()
        for i, n in enumerate(self.data.class_names):
            t = on_row(label("X" + n, 20), self.row_y(i))
            t.shift(RIGHT * (NAME_RIGHT - t.get_right()[0]))
            names.add(t)
        return names

    def get_logit_cells(self) -> VGroup:
        """Orange cells with the real logits."""
        rgb = colors.logit_rgb(self.data.logits)
        cells = VGroup()
        for i, z in enumerate(self.data.logits):
            box = Rectangle(width=CELL_W, height=CELL_H, stroke_color=colors.INK, stroke_width=1,
                            fill_color=colors.rgb_to_hex(rgb[i]), fill_opacity=1)
            box.move_to([LOGIT_X, self.row_y(i), 0])
            num = cached_text(fmt(z, 2), font=MONO, font_size=20, color=colors.text_color_for(rgb[i]))
            num.move_to(box)
            cells.add(VGroup(box, num))
        return cells

    def get_exps(self) -> VGroup:
        """e to the power of each logit, as numbers."""
        out = VGroup()
        for i, e in enumerate(self.data.exps):
            t = cached_text(fmt_exp(e), font=MONO, font_size=20, color=colors.INK)
            t.move_to([EXP_X, self.row_y(i), 0])
            out.add(t)
        return out

    def get_sum(self) -> VGroup:
        """Σ e^z = total, under the exponentials."""
        t = markup(f"Σ e<sup>z</sup> = {fmt_exp(self.data.total)}", 22)
        line = Line([EXP_X - 0.8, 0, 0], [EXP_X + 0.8, 0, 0], stroke_width=1.5, color=colors.INK)
        line.move_to([EXP_X, self.row_y(9) - 0.3, 0])
        t.next_to(line, DOWN, buff=0.1)
        return VGroup(line, t)

    def get_formula(self) -> VGroup:
        """p(top) = e^{z_k} / Σ_j e^{z_j} = e^{value} / total = exp / total = probability."""
        d = self.data
        k = d.top
        lhs = markup(f"p({escape(d.top_name)}) =", 26)
        f1 = fraction(markup(f"e<sup>z<sub>{k}</sub></sup>", 26),
                      markup("Σ<sub>j</sub> e<sup>z<sub>j</sub></sup>", 26))
        eq1 = markup("=", 26)
        f2 = fraction(markup(f"e<sup>{fmt(d.logits[k], 2)}</sup>", 26),
                      markup(fmt_exp(d.total), 26))
        line1 = VGroup(lhs, f1, eq1, f2).arrange(RIGHT, buff=0.2)
        eq2 = markup("=", 26)
        f3 = fraction(markup(fmt_exp(d.exps[k]), 26), markup(fmt_exp(d.total), 26))
        res = markup(f"= <b>{fmt(d.probabilities[k], 4)}</b>", 28, colors.LOGIT)
        line2 = VGroup(eq2, f3, res).arrange(RIGHT, buff=0.2)
        line2.next_to(line1, DOWN, buff=0.35)
        line2.align_to(eq1, LEFT)
        g = VGroup(line1, line2)
        g.move_to([*FORMULA_CENTRE, 0])
        return g

    def get_bars(self, values: np.ndarray, left: float, color: str, decimals: int = 4) -> VGroup:
        """Horizontal bars (length = value) with the value written after each."""
        out = VGroup()
        for i, v in enumerate(values):
            y = self.row_y(i)
            length = max(float(v) * BAR_MAX, 0.005)
            bar = Rectangle(width=length, height=0.3, stroke_width=0, fill_color=color,
                            fill_opacity=1)
            bar.move_to([left + length / 2, y, 0])
            base = Line([left, y - 0.19, 0], [left, y + 0.19, 0], stroke_width=1.5,
                        color=colors.INK)
            val = cached_text(fmt(v, decimals), font=MONO, font_size=18, color=colors.INK)
            val.move_to([left + BAR_MAX + 0.12 + val.width / 2, y, 0])
            out.add(VGroup(bar, base, val))
        return out

    def get_bar_sum(self, values: np.ndarray, left: float, decimals: int = 4) -> Text:
        t = markup(f"Σ = {fmt(float(np.sum(values)), decimals)}", 22)
        t.move_to([left + BAR_MAX / 2, self.row_y(9) - 0.52, 0])
        return t

    def get_row_box(self, i: int, right: float) -> Rectangle:
        """A highlight around row ``i`` from the class name to x = ``right``."""
        y = self.row_y(i)
        r = Rectangle(width=right - (NAME_RIGHT - 1.55), height=ROW_PITCH - 0.04,
                      stroke_color=colors.HIGHLIGHT, stroke_width=3)
        r.move_to([(right + NAME_RIGHT - 1.55) / 2, y, 0])
        return r

    def get_logit_box(self) -> Rectangle:
        """The predicted class's row, from its name to its logit."""
        return self.get_row_box(self.data.top, LOGIT_X + CELL_W / 2 + 0.08)

    def get_exp_box(self) -> Rectangle:
        """The predicted class's row, from its name to its exponential."""
        return self.get_row_box(self.data.top, EXP_X + 0.85)

    def get_highlight(self, mobject) -> SurroundingRectangle:
        """A highlight box around ``mobject``."""
        return SurroundingRectangle(mobject, color=colors.HIGHLIGHT, buff=0.06)

    # -- verbs ----------------------------------------------------------------------------------
    def grow_bars(self, bars: VGroup, header, *more, run_time: float) -> None:
        """The bars grow from their base line while their header, values and ``more`` fade in."""
        self.play(FadeIn(header), *[GrowFromEdge(r[0], LEFT) for r in bars],
                  *[FadeIn(VGroup(r[1], r[2])) for r in bars], *more, run_time=run_time)

    # -- storyboard -------------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.data
        values = d.narration_values()
        title = self.get_title(self.words("title"))
        names, cells = self.get_names(), self.get_logit_cells()
        h_logit = self.header("logit z", LOGIT_X)
        with self.beat("logits", **values) as b:
            self.play(Write(title), FadeIn(h_logit), run_time=b.part(0.1))
            self.play(FadeIn(names, shift=RIGHT * 0.2), FadeIn(cells, lag_ratio=0.08),
                      run_time=b.part(0.25))
            box = self.get_logit_box()
            self.play(Create(box), run_time=b.part(0.1))

        exps, total = self.get_exps(), self.get_sum()
        h_exp = self.header("e<sup>z</sup>", EXP_X, 22, markup_text=True)
        with self.beat("exp", **values) as b:
            self.play(FadeIn(h_exp), *[FadeIn(e, shift=RIGHT * 0.4) for e in exps],
                      run_time=b.part(0.25))
            self.play(Create(total[0]), Write(total[1]), run_time=b.part(0.15))

        formula = self.get_formula()
        with self.beat("formula", **values) as b:
            self.play(box.animate.become(self.get_exp_box()), run_time=b.part(0.08))
            self.play(FadeIn(formula[0]), run_time=b.part(0.2))
            self.play(FadeIn(formula[1]), run_time=b.part(0.2))

        probs = self.get_bars(d.probabilities, PROB_LEFT, colors.LOGIT)
        p_sum = self.get_bar_sum(d.probabilities, PROB_LEFT)
        h_prob = self.bar_header("p = e<sup>z</sup> / Σ e<sup>z</sup>", PROB_LEFT)
        with self.beat("bars", **values) as b:
            self.play(FadeOut(formula), run_time=b.part(0.1))
            self.grow_bars(probs, h_prob, run_time=b.part(0.3))
            self.play(Write(p_sum), run_time=b.part(0.1))

        rescaled = self.get_bars(d.rescaled, RESCALE_LEFT, colors.MUTED)
        r_sum = self.get_bar_sum(d.rescaled, RESCALE_LEFT)
        h_res = self.get_rescale_header()
        with self.beat("rescale", **values) as b:
            self.grow_bars(rescaled, h_res, FadeIn(r_sum), run_time=b.part(0.25))
            top_r, top_p = self.get_highlight(rescaled[d.top][2]), self.get_highlight(probs[d.top][2])
            self.play(Create(top_r), Create(top_p), run_time=b.part(0.1))

        hard = self.get_bars(d.argmax, RESCALE_LEFT, colors.INK, decimals=0)
        h_hard = self.bar_header("argmax", RESCALE_LEFT, markup_text=False)
        with self.beat("argmax", **values) as b:
            self.play(FadeOut(top_r), FadeOut(r_sum), run_time=b.part(0.06))
            self.play(*[r.animate.become(h) for r, h in zip(rescaled, hard)],
                      h_res.animate.become(h_hard), run_time=b.part(0.25))
            self.play(top_p.animate.become(self.get_highlight(probs[d.top][0])),
                      run_time=b.part(0.1))
