"""Softmax: the ten real logits become probabilities that add up to 1.

Storyboard: the logits (orange, with class names) -> e to the power of each, and their sum (the
table centred while it is alone) -> the table steps left and the predicted class's probability
is written out as a fraction with its real numbers -> all ten probabilities as bars summing to 1
-> plain rescaling, (z - z_min) / Σ(z - z_min), next to softmax -> the lead of the largest logit
becomes a much larger ratio of probabilities -> softmax as a soft, differentiable argmax.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Circle,
    Create,
    FadeIn,
    FadeOut,
    Group,
    Line,
    MarkupText,
    Rectangle,
    SurroundingRectangle,
    Transform,
    VGroup,
    VMobject,
    Write,
)

from cnnanim.draw import colors
from cnnanim.draw.layout import SAFE_LEFT, SAFE_RIGHT
from cnnanim.draw.mobjects import grow_bars, hbar
from cnnanim.draw.text import (
    MONO,
    CachedMarkupText,
    cached_text,
    font_for,
    label,
    number,
    on_row,
)
from cnnanim.explain.fit import MAX_ROWS
from cnnanim.explain.numbers import fmt
from cnnanim.explain.softmax import SoftmaxData, fmt_exp, softmax_data
from cnnanim.scenes.base import CnnScene

# -- layout (scene units) --------------------------------------------------------------------
ROW_TOP = 2.55       # y of the first class row (of a full table: MAX_ROWS rows)
ROW_PITCH = 0.47     # distance between rows (of a full table)
HEADER_Y = 3.02      # y of the column headers (of a full table)
MAX_PITCH = 0.95     # distance between the rows of a table of few classes
SUM_GAP = 0.52       # the sums under the bars: this far under the last row
NAME_RIGHT = -4.55   # class names end here
LOGIT_X = -3.85      # centre of the logit cells
EXP_X = -2.2         # centre of the exponentials
PROB_LEFT = -0.9     # probability bars start here
RESCALE_LEFT = 3.35  # second bar column starts here
BAR_MAX = 2.15       # length of a bar of value 1
CELL_W, CELL_H = 1.05, 0.38
NUMBER_SIZE = 22     # logits and exponentials
VALUE_SIZE = 20      # the value after each bar
FORMULA_LEFT = -0.7   # the written-out probability of the top class fills the frame from here
FORMULA_Y = 1.0       # to the safe area's right edge, centred on this height
FORMULA_SIZE = 30
#: The plot of e^z beside the table while the logits and exponentials are alone (its right
#: end leaves room for the top class's name beside its dot).
PLOT_LEFT = -0.2
PLOT_BOTTOM, PLOT_TOP = -1.75, 2.75
DOT_R = 0.085


def markup(text: str, size: float = 26, color: str = colors.INK, lang: str = "en") -> MarkupText:
    """A formula piece with <sup>/<sub> markup (numbers in it wrapped by :func:`num`)."""
    return CachedMarkupText(text, font=font_for(lang), font_size=size, color=color)


def num(text: str) -> str:
    """``text`` (a number) in the monospace font every number on screen uses, as markup."""
    return f'<span font_family="{MONO}">{escape(text)}</span>'


def nice_step(x: float) -> float:
    """The tick step near ``x``: 1, 2 or 5 times a power of ten."""
    p = 10.0 ** np.floor(np.log10(x))
    return float(next(m * p for m in (1, 2, 5, 10) if m * p >= x))


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

    def setup(self) -> None:
        super().setup()
        self.rows = self.data.rows
        self.place_table(self.rows.rows)

    def place_table(self, n: int) -> None:
        """Row pitch and the y of the first row and of the headers for a table of ``n`` rows: a
        full table (``MAX_ROWS``) at :data:`ROW_TOP` / :data:`ROW_PITCH`; fewer rows further
        apart (at most :data:`MAX_PITCH`), the table centred where the full one is."""
        self.pitch = ROW_PITCH if n >= MAX_ROWS else min(
            MAX_PITCH, ROW_PITCH * (MAX_ROWS - 1) / max(1, n - 1))
        full = (HEADER_Y - ROW_TOP) + (MAX_ROWS - 1) * ROW_PITCH + SUM_GAP
        height = (HEADER_Y - ROW_TOP) + (n - 1) * self.pitch + SUM_GAP
        self.header_y = HEADER_Y - (full - height) / 2
        self.row_top = self.header_y - (HEADER_Y - ROW_TOP)

    # -- data ---------------------------------------------------------------------------------
    def get_data(self) -> SoftmaxData:
        """Every number shown, from the trace (see :func:`softmax_data`)."""
        return softmax_data(self.trace)

    def get_narration_values(self) -> dict[str, str]:
        """The narration's fields: the trace's numbers, the classes as the viewer's language
        names them, and how plain rescaling works on these logits."""
        d = self.data
        values = d.narration_values(self.lang)
        values["top"] = self.class_labels[d.top]
        values["second"] = self.class_labels[d.runner_up]
        values["how"] = self.words("how_shift" if d.shift < 0 else "how_plain", **values)
        return values

    # -- builders -------------------------------------------------------------------------------
    def row_y(self, i: int) -> float:
        """y of table row ``i``."""
        return self.row_top - i * self.pitch

    @property
    def last_row(self) -> int:
        return self.rows.rows - 1

    @property
    def row_names(self) -> list[str]:
        """The name of each row: its class, and ``others (91 classes)`` for the classes without
        a row of their own."""
        names = [self.class_labels[k] for k in self.rows.shown]
        if self.rows.others:
            names.append(self.words("others", n=len(self.rows.others)))
        return names

    def row_values(self, values) -> np.ndarray:
        """One number per row (the "others" row: the real sum over its classes)."""
        return self.rows.values(values)

    def header(self, text: str, x: float, size: float = 20, markup_text: bool = False):
        """A column header centred at x = ``x`` on the header line."""
        m = (markup(text, size, colors.MUTED_TEXT) if markup_text
             else label(text, size, colors.MUTED_TEXT))
        return m.move_to([x, self.header_y, 0])

    def bar_header(self, text: str, left: float, markup_text: bool = True):
        """The header of the bar column starting at x = ``left``."""
        return self.header(text, left + BAR_MAX / 2 + 0.3, 22, markup_text=markup_text)

    def get_rescale_header(self):
        """What plain rescaling divides: the logits, shifted by the smallest when it is negative."""
        text = ("(z − z<sub>min</sub>) / Σ(z − z<sub>min</sub>)" if self.data.shift < 0
                else "z / Σ z")
        return self.bar_header(text, RESCALE_LEFT)

    def get_name(self, i: int):
        """The name of row ``i``, right-aligned on its row (narrowed to the safe area if long)."""
        t = on_row(label("X" + self.row_names[i], 22, lang=self.lang), self.row_y(i))
        if t.width > NAME_RIGHT - SAFE_LEFT:
            t.scale_to_fit_width(NAME_RIGHT - SAFE_LEFT)
        return t.shift(RIGHT * (NAME_RIGHT - t.get_right()[0]))

    def get_names(self) -> VGroup:
        """The class names, right-aligned, one per row."""
        return VGroup(*[self.get_name(i) for i in range(self.rows.rows)])

    def get_logit_cells(self) -> VGroup:
        """Orange cells with the real logits, each number in the colour that reads on its cell
        (the "others" row has no single logit: ``…``)."""
        rgb = colors.logit_rgb(self.data.logits)
        cells = VGroup()
        for i, k in enumerate(self.rows.shown):
            z = self.data.logits[k]
            box = Rectangle(width=CELL_W, height=CELL_H, stroke_color=colors.INK, stroke_width=1,
                            fill_color=colors.rgb_to_hex(rgb[k]), fill_opacity=1)
            box.move_to([LOGIT_X, self.row_y(i), 0])
            num_ = cached_text(fmt(z, 2), font=MONO, font_size=NUMBER_SIZE,
                               color=colors.text_color_for(rgb[k]))
            num_.move_to(box)
            cells.add(VGroup(box, num_))
        if self.rows.others:
            cells.add(label("…", NUMBER_SIZE, colors.MUTED_TEXT).move_to(
                [LOGIT_X, self.row_y(self.last_row), 0]))
        return cells

    def get_exps(self) -> VGroup:
        """e to the power of each logit, as numbers (the "others" row: their real sum)."""
        out = VGroup()
        for i, e in enumerate(self.row_values(self.data.exps)):
            t = cached_text(fmt_exp(e), font=MONO, font_size=NUMBER_SIZE, color=colors.INK)
            t.move_to([EXP_X, self.row_y(i), 0])
            out.add(t)
        return out

    def total_text(self, k: int) -> str:
        """The shown total of sum ``k`` of :meth:`SoftmaxData.shown_sums` (0: the exponentials,
        1: the probabilities, 2: the rescaled logits), marked rounded when the shown terms do
        not add up to it."""
        _, shown, exact = self.data.shown_sums()[k]
        return shown if exact else f"{shown} {self.words('rounded')}"

    def get_sum(self) -> VGroup:
        """Σ e^z = total, under the exponentials (ending where the rule ends when it is marked
        rounded, clear of the sum of the probabilities)."""
        t = markup(f"Σ e<sup>z</sup> = {num(self.total_text(0))}", 22, lang=self.lang)
        line = Line([EXP_X - 0.8, 0, 0], [EXP_X + 0.8, 0, 0], stroke_width=1.5, color=colors.INK)
        line.move_to([EXP_X, self.row_y(self.last_row) - 0.3, 0])
        t.next_to(line, DOWN, buff=0.1)
        if not self.data.shown_sums()[0][2]:
            t.align_to(line, RIGHT)
        return VGroup(line, t)

    def get_formula(self) -> VGroup:
        """p(top) = e^{z_k} / Σ_j e^{z_j} = e^{value} / total = exp / total = probability."""
        d = self.data
        k = d.top
        lang = self.lang
        lhs = markup(f"p({escape(self.class_labels[k])}) =", FORMULA_SIZE, lang=lang)
        f1 = fraction(markup(f"e<sup>z<sub>{k}</sub></sup>", FORMULA_SIZE),
                      markup("Σ<sub>j</sub> e<sup>z<sub>j</sub></sup>", FORMULA_SIZE))
        eq1 = markup("=", FORMULA_SIZE)
        f2 = fraction(markup(f"e<sup>{num(fmt(d.logits[k], 2))}</sup>", FORMULA_SIZE),
                      markup(num(fmt_exp(d.total)), FORMULA_SIZE))
        line1 = VGroup(lhs, f1, eq1, f2).arrange(RIGHT, buff=0.2)
        eq2 = markup("=", FORMULA_SIZE)
        f3 = fraction(markup(num(fmt_exp(d.exps[k])), FORMULA_SIZE),
                      markup(num(fmt_exp(d.total)), FORMULA_SIZE))
        sign = "=" if d.quotient_exact else "≈"
        res = markup(f"{sign} <b>{num(fmt(d.probabilities[k], 4))}</b>", FORMULA_SIZE + 2,
                     colors.LOGIT_TEXT)
        line2 = VGroup(eq2, f3, res).arrange(RIGHT, buff=0.2)
        line2.next_to(line1, DOWN, buff=0.35)
        line2.shift(RIGHT * (lhs.get_right()[0] - eq2.get_right()[0]))  # "=" under "="
        g = VGroup(line1, line2)
        room = SAFE_RIGHT - FORMULA_LEFT
        if g.width > room:
            g.scale_to_fit_width(room)
        return g.move_to([(FORMULA_LEFT + SAFE_RIGHT) / 2, FORMULA_Y, 0])

    def get_bars(self, values: np.ndarray, left: float, color: str, decimals: int = 4) -> VGroup:
        """Horizontal bars (length = value) with the value written after each, one per row
        (``values`` has one per class; the "others" row shows their real sum)."""
        out = VGroup()
        for i, v in enumerate(self.row_values(values)):
            y = self.row_y(i)
            bar = hbar(v, left, y, max_length=BAR_MAX, height=0.3, color=color, min_length=0.005)
            base = Line([left, y - 0.19, 0], [left, y + 0.19, 0], stroke_width=1.5,
                        color=colors.INK)
            val = cached_text(fmt(v, decimals), font=MONO, font_size=VALUE_SIZE, color=colors.INK)
            val.move_to([left + BAR_MAX + 0.12 + val.width / 2, y, 0])
            out.add(VGroup(bar, base, val))
        return out

    def get_bar_sum(self, k: int, left: float) -> MarkupText:
        """Σ = the shown total of sum ``k`` (see :meth:`total_text`), under a bar column (from
        the column's left end when it is marked rounded, clear of the column at its left)."""
        t = markup(f"Σ = {num(self.total_text(k))}", 22, lang=self.lang)
        t.move_to([left + BAR_MAX / 2, self.row_y(self.last_row) - SUM_GAP, 0])
        if not self.data.shown_sums()[k][2]:
            t.shift(RIGHT * (left - t.get_left()[0]))
        return t

    def get_row_box(self, i: int, right: float) -> Rectangle:
        """A highlight around row ``i`` from the class name to x = ``right``."""
        y = self.row_y(i)
        left = max(NAME_RIGHT - max(label("X" + n, 22, lang=self.lang).width
                                    for n in self.row_names), SAFE_LEFT - 0.02)
        r = Rectangle(width=right - left, height=ROW_PITCH - 0.04,
                      stroke_color=colors.HIGHLIGHT, stroke_width=3)
        r.move_to([(right + left) / 2, y, 0])
        return r

    def get_logit_box(self) -> Rectangle:
        """The predicted class's row, from its name to its logit."""
        return self.get_row_box(self.rows.row_of(self.data.top), LOGIT_X + CELL_W / 2 + 0.08)

    def get_exp_box(self) -> Rectangle:
        """The predicted class's row, from its name to its exponential."""
        return self.get_row_box(self.rows.row_of(self.data.top), EXP_X + 0.85)

    def plot_xy(self, z: float, v: float = 0.0) -> np.ndarray:
        """Scene point of (z, v) in the plot of e^z."""
        lo, hi, top = self.plot_range
        return np.array([PLOT_LEFT + (z - lo) / (hi - lo) * (self.plot_right - PLOT_LEFT),
                         PLOT_BOTTOM + v / top * (PLOT_TOP - PLOT_BOTTOM), 0.0])

    @property
    def plot_right(self) -> float:
        """Right end of the plot: the top class's name fits between its dot and the safe area's
        edge."""
        return SAFE_RIGHT - self.get_dot_name(Circle(radius=DOT_R)).width - 2 * DOT_R - 0.2

    @property
    def plot_range(self) -> tuple[float, float, float]:
        """z from a whole number below the smallest logit to one above the largest (0
        included), v from 0 to a bit above the largest exponential."""
        z = self.data.logits
        lo = min(float(np.floor(z.min())) - 0.5, -0.5)
        hi = max(float(np.ceil(z.max())) + 0.5, 0.5)
        return lo, hi, max(1.2, float(self.data.exps.max()) * 1.12)

    def get_axes(self) -> VGroup:
        """The z axis (whole numbers) and the e^z axis at z = 0, with their names."""
        lo, hi, top = self.plot_range
        xz = Line(self.plot_xy(lo), self.plot_xy(hi), stroke_width=2, color=colors.INK)
        yv = Line(self.plot_xy(0), self.plot_xy(0, top), stroke_width=2, color=colors.INK)
        ticks = VGroup()
        # whole-number ticks, at most about 6 labels: 1, 2, 5, 10 ... (logits down to -18 fit)
        step = 1 if hi - lo <= 8 else max(2, int(nice_step((hi - lo) / 6)))
        for k in range(int(np.ceil(lo / step)) * step, int(np.floor(hi)) + 1, step):
            p = self.plot_xy(k)
            ticks.add(Line(p + UP * 0.07, p + DOWN * 0.07, stroke_width=2, color=colors.INK),
                      number(k, 0, VALUE_SIZE).next_to(p, DOWN, buff=0.14))
        v_step = nice_step(top / 4)
        for v in np.arange(v_step, top, v_step):
            p = self.plot_xy(0, v)
            ticks.add(Line(p + LEFT * 0.07, p + RIGHT * 0.07, stroke_width=2, color=colors.INK),
                      cached_text(f"{v:g}", font=MONO, font_size=VALUE_SIZE,
                                  color=colors.INK).next_to(p, LEFT, buff=0.14))
        z_name = markup("z", 24, colors.MUTED_TEXT).next_to(xz, RIGHT, buff=0.12)
        v_name = markup("e<sup>z</sup>", 24, colors.MUTED_TEXT).next_to(yv, UP, buff=0.1)
        return VGroup(xz, yv, ticks, z_name, v_name)

    def get_curve(self) -> VMobject:
        """e^z over the plot's z range."""
        lo, hi, top = self.plot_range
        zs = np.linspace(lo, min(hi, float(np.log(top))), 120)
        curve = VMobject(stroke_color=colors.LOGIT, stroke_width=3)
        curve.set_points_smoothly([self.plot_xy(z, np.exp(z)) for z in zs])
        return curve

    def get_dots(self, lifted: bool) -> VGroup:
        """One dot per class at its logit on the z axis, or ``lifted`` onto e^z."""
        rgb = colors.logit_rgb(self.data.logits)
        dots = VGroup()
        for z, e, c in zip(self.data.logits, self.data.exps, rgb):
            dots.add(Circle(radius=DOT_R, fill_color=colors.rgb_to_hex(c), fill_opacity=1,
                            stroke_color=colors.INK, stroke_width=1.5)
                     .move_to(self.plot_xy(float(z), float(e) if lifted else 0.0)))
        return dots

    def get_drops(self) -> VMobject:
        """Thin lines from each logit on the z axis up to its e^z."""
        vm = VMobject(stroke_color=colors.MUTED, stroke_width=1.5)
        for z, e in zip(self.data.logits, self.data.exps):
            vm.start_new_path(self.plot_xy(float(z)))
            vm.add_line_to(self.plot_xy(float(z), float(e)))
        return vm

    def get_dot_name(self, dot, lifted: bool = True) -> MarkupText:
        """The top class's name beside its dot: at its right once ``lifted`` onto e^z, above
        the z axis (starting over the dot) before."""
        name = label(self.class_labels[self.data.top], 22, colors.LOGIT_TEXT, lang=self.lang,
                     weight="BOLD")
        if lifted:
            return name.next_to(dot, RIGHT, buff=0.15)
        return name.next_to(dot, UP, buff=0.15).align_to(dot, LEFT)

    def get_highlight(self, mobject) -> SurroundingRectangle:
        """A highlight box around ``mobject``."""
        return SurroundingRectangle(mobject, color=colors.HIGHLIGHT, buff=0.06)

    # -- verbs ----------------------------------------------------------------------------------
    def grow_bars(self, bars: VGroup, header, *more, run_time: float) -> None:
        """The bars grow from their base line while their header, values and ``more`` fade in."""
        self.play(FadeIn(header), *grow_bars(bars), *more, run_time=run_time)

    # -- storyboard -------------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.data
        top, second = self.rows.row_of(d.top), self.rows.row_of(d.runner_up)  # their rows
        values = self.get_narration_values()
        title = self.get_title(self.words("title"))
        names, cells = self.get_names(), self.get_logit_cells()
        h_logit = self.header("logit z", LOGIT_X)
        box = self.get_logit_box()
        exps, total = self.get_exps(), self.get_sum()
        h_exp = self.header("e<sup>z</sup>", EXP_X, 22, markup_text=True)
        axes, dots = self.get_axes(), self.get_dots(lifted=False)
        name = self.get_dot_name(dots[d.top], lifted=False)
        with self.beat("logits", **values) as b:
            self.show_opening(b, title, h_logit, names, cells, axes, dots)
            self.play(Create(box), FadeIn(name), run_time=b.part(0.1))

        curve, lifted, drops = self.get_curve(), self.get_dots(lifted=True), self.get_drops()
        with self.beat("exp", **values) as b:
            self.play(Create(curve), run_time=b.part(0.15))
            self.play(FadeIn(h_exp), FadeIn(exps),
                      Create(drops), Transform(dots, lifted),
                      name.animate.move_to(self.get_dot_name(lifted[d.top])),
                      run_time=b.part(0.25))
            self.play(Create(total[0]), Write(total[1]), run_time=b.part(0.15))

        formula = self.get_formula()
        with self.beat("formula", **values) as b:
            self.play(FadeOut(Group(axes, curve, drops, dots, name)),
                      box.animate.become(self.get_exp_box()), run_time=b.part(0.12))
            self.play(FadeIn(formula[0]), run_time=b.part(0.2))
            self.play(FadeIn(formula[1]), run_time=b.part(0.2))

        probs = self.get_bars(d.probabilities, PROB_LEFT, colors.LOGIT)
        p_sum = self.get_bar_sum(1, PROB_LEFT)
        h_prob = self.bar_header("p = e<sup>z</sup> / Σ e<sup>z</sup>", PROB_LEFT)
        with self.beat("bars", **values) as b:
            self.play(FadeOut(formula), run_time=b.part(0.1))
            self.grow_bars(probs, h_prob, run_time=b.part(0.3))
            self.play(Write(p_sum), run_time=b.part(0.1))

        rescaled = self.get_bars(d.rescaled, RESCALE_LEFT, colors.MUTED)
        r_sum = self.get_bar_sum(2, RESCALE_LEFT)
        h_res = self.get_rescale_header()
        with self.beat("rescale", **values) as b:
            self.grow_bars(rescaled, h_res, FadeIn(r_sum), run_time=b.part(0.25))
            top_r = self.get_highlight(rescaled[top][2])
            self.play(Create(top_r), run_time=b.part(0.1))

        with self.beat("lead", **values) as b:
            leads = VGroup(*[self.get_highlight(cells[i]) for i in (top, second)])
            top_p = self.get_highlight(probs[top][2])
            second_p = self.get_highlight(probs[second][2])
            self.play(FadeOut(top_r), Create(leads), run_time=b.part(0.15))
            self.play(Create(top_p), Create(second_p), run_time=b.part(0.15))

        hard = self.get_bars(d.argmax, RESCALE_LEFT, colors.INK, decimals=0)
        h_hard = self.bar_header("argmax", RESCALE_LEFT, markup_text=False)
        with self.beat("argmax", **values) as b:
            self.play(FadeOut(leads), FadeOut(second_p), FadeOut(r_sum), FadeOut(rescaled),
                      FadeOut(h_res), run_time=b.part(0.08))
            self.grow_bars(hard, h_hard, run_time=b.part(0.2))
            self.play(top_p.animate.become(self.get_highlight(probs[top][0])),
                      run_time=b.part(0.1))
