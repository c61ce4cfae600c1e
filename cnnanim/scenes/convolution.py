"""Convolution chapter: how one conv neuron turns its input maps into one activation map.

Three storyboards, all drawn from the real trace of the photo through the weights:

* ``conv-elastic``: each input channel is convolved with its own kernel into an intermediate map;
  the intermediate maps are summed and the bias added, giving the neuron's activation map.
* ``conv-slide``: the 3x3 window slides over the input; at a few positions the dot product is
  written out with the real numbers, channel by channel, and the channel sums are added up in a
  column; then a fast sweep fills the rest of the output map.
* ``conv-deep``: the same on a deeper layer, whose inputs are the 10 maps of the layer before.

Every number drawn comes from :mod:`cnnanim.explain.convolution` (plain numpy), so tests check
them without rendering. Every addition on screen is written so that a viewer can check it: its
terms as drawn add up to its total as drawn, or the total carries a "(rounded)" mark.
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
    Square,
    UpdateFromAlphaFunc,
    VGroup,
    linear,
)

from cnnanim.draw import colors
from cnnanim.draw.layout import CONTENT_BOTTOM, CONTENT_TOP, SAFE_LEFT, SAFE_RIGHT
from cnnanim.draw.mobjects import FeatureMap, NumberGrid, zoom_lines
from cnnanim.draw.text import cached_text, label, number
from cnnanim.errors import CnnanimError
from cnnanim.explain.convolution import (
    ElasticData,
    ShownSum,
    channel_names,
    choose_positions,
    elastic_data,
    input_scale,
    revealed,
    slide_steps,
    window_strings,
)
from cnnanim.explain.fit import MAX_ROWS, shown_count
from cnnanim.explain.maths import ConvWindow
from cnnanim.explain.numbers import fmt, plural
from cnnanim.scenes.base import SWAP_TIME, CnnScene
from cnnanim.speech.narration import Beat

#: Text size of labels; numbers next to labels are drawn at NUMBER.
SMALL = 20
NUMBER = 24
#: Secondary words (headers, notes): a grey that still reaches 5.7:1 on white.
GREY = "#666666"
#: Least room between conv-elastic's line of the maps without a row and the count beside it.
MORE_GAP = 0.3
#: Least room between the products and the column of channel sums at their right.
COLUMN_GAP = 0.15
#: Longest a plain fade that brings in what a sentence names may take (s), so the picture is
#: there while the sentence is spoken.
QUICK = 0.6


def quick(b: Beat, fraction: float) -> float:
    """``fraction`` of beat ``b``, but at most :data:`QUICK` seconds."""
    return b.part(fraction, at_most=QUICK)


def one_or_many(key: str, n: int) -> str:
    """Words ``key``, or ``key_one`` (said of a single input map) when ``n`` is 1."""
    return f"{key}_one" if n == 1 else key


def baseline(text) -> float:
    """y of a label's baseline: the median bottom of its glyphs (few have descenders)."""
    return float(np.median([g.get_bottom()[1] for g in text.submobjects]))


def level(texts) -> None:
    """Put labels side by side on the first one's baseline."""
    for t in texts[1:]:
        t.shift(UP * (baseline(texts[0]) - baseline(t)))


# --------------------------------------------------------------------------------------------
# shared scene pieces
class ConvScene(CnnScene):
    """Common pieces of the convolution scenes."""

    chapter = "convolution"
    valid_layer_kinds = ("conv",)

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

    @property
    def listed(self) -> int:
        """Channel sums an addition writes one by one: all when they fit a column, else the
        first ``MAX_ROWS - 1`` (the others' sums are added up into one term)."""
        return shown_count(self.stage.input.shape[0])

    def get_step_strings(self, steps: list[ConvWindow] | None = None) -> list[dict]:
        """The strings drawn at each written-out window (see :func:`window_strings`); the total
        is the traced output value there."""
        return [window_strings(w, self.out_values[w.row, w.col], self.listed)
                for w in (self.steps if steps is None else steps)]

    def term_names(self, key: str | None = None) -> list[str]:
        """Names of an addition's channel terms: each listed channel, then the channels added
        up into one term (``in 9–63``); each put into words ``key`` (``Σ {c}``) if given."""
        c_in = self.stage.input.shape[0]
        names = [self.channel_name(c, c_in) for c in range(self.listed)]
        if self.listed < c_in:
            names.append(self.words("in_range", a=self.listed, b=c_in - 1))
        return names if key is None else [self.words(key, c=n) for n in names]

    def get_revealed(self, n_cells: int) -> np.ndarray:
        """The output map with its first ``n_cells`` cells and the written-out windows shown."""
        return revealed(self.out_values, n_cells, keep=[(w.row, w.col) for w in self.steps])

    def channel_name(self, c: int, c_in: int | None = None) -> str:
        """``R``/``G``/``B`` for a colour image, ``in 0`` ... ``in 9`` otherwise."""
        c_in = self.stage.input.shape[0] if c_in is None else c_in
        name = channel_names(c_in)[c]
        return name if c_in == 3 else self.words("in_ch", c=name)

    # -- builders -----------------------------------------------------------------------------
    def get_input_map(self, channel: int, height: float, vmax: float | None = None) -> FeatureMap:
        """Input channel ``channel`` of the stage, tinted (image) or as activations."""
        x = self.stage.input
        scale = input_scale(x.shape[0], channel, self.is_first_layer())
        return FeatureMap(x[channel], scale=scale, height=height,
                          vmax=None if scale != "activation" else vmax)

    def get_output_map(self, values: np.ndarray, height: float, vmax: float) -> FeatureMap:
        return FeatureMap(values, scale="activation", height=height, vmax=vmax)

    def get_blank_output(self, height: float) -> FeatureMap:
        """The neuron's output map before any cell is computed (white)."""
        return self.get_output_map(np.full_like(self.out_values, np.nan), height, self.out_vmax)

    def get_size_label(self, out_map: FeatureMap, buff: float):
        """``neuron N: H×W`` under the output map."""
        h, w = out_map.values.shape
        return self.get_words("neuron_size", SMALL, neuron=self.neuron, h=h, w=w).next_to(
            out_map, DOWN, buff=buff)

    def get_kernel_swatch(self, weights: np.ndarray, vmax: float, side: float) -> VGroup:
        """A kernel as coloured cells only (CNN Explainer's overview), ``side`` wide."""
        k = weights.shape[-1]
        cell = side / k
        rgb = colors.weight_rgb(weights, vmax)
        sw = VGroup()
        for r in range(k):
            for c in range(k):
                sq = Square(side_length=cell, stroke_color=colors.INK, stroke_width=1,
                            fill_color=colors.rgb_to_hex(rgb[r, c]), fill_opacity=1)
                sw.add(sq.move_to(RIGHT * c * cell + DOWN * r * cell))
        return sw

    def window_box(self, m: FeatureMap, r: int, c: int, k: int = 1) -> VGroup:
        """A k x k window outline (yellow with a dark rim) lying inside the window's cells, its
        lines thinner on small windows so that it never covers more than the window."""
        side = m.cell_size * k
        rim = float(np.clip(side * 100 * 0.15, 1.0, 6.0))  # stroke widths: 0.01 scene units
        inset = rim * 0.01 / 2
        centre = m.image.get_corner(UP + LEFT) + RIGHT * m.cell_size * (c + k / 2) \
            + DOWN * m.cell_size * (r + k / 2)
        boxes = VGroup(*[Rectangle(width=side - 2 * inset, height=side - 2 * inset,
                                   stroke_color=color, stroke_width=width)
                         for color, width in ((colors.INK, rim), (colors.HIGHLIGHT, rim / 2))])
        return boxes.move_to(centre)

    def input_window(self, m: FeatureMap, row: int, col: int) -> VGroup:
        """The kernel's window on input map ``m`` for output cell (row, col)."""
        return self.window_box(m, row * self.stride - self.pad, col * self.stride - self.pad,
                               self.k)

    def get_value_box(self, value: str, size: float = NUMBER) -> VGroup:
        """One output number (as written) in a cell coloured like the output map."""
        rgb = colors.activation_rgb(np.array([float(value)]), self.out_vmax)[0]
        t = number(float(value), 2, size, colors.text_color_for(rgb))
        box = Rectangle(width=t.width + 0.3, height=t.height + 0.2, stroke_color=colors.INK,
                        stroke_width=1.5, fill_color=colors.rgb_to_hex(rgb), fill_opacity=1)
        t.move_to(box)
        return VGroup(box, t)

    def get_sum_line(self, shown: ShownSum, size: float = NUMBER) -> VGroup:
        """``Σ total`` (one channel's products added up), ``(rounded)`` under it when marked."""
        line = VGroup(label("Σ", size), number(float(shown.total), 2, size)).arrange(
            RIGHT, buff=0.12)
        mark = self.get_words("rounded", 16, GREY) if shown.rounded else VGroup()
        if shown.rounded:
            mark.next_to(line, DOWN, buff=0.08).align_to(line, RIGHT)
        return VGroup(line, mark)

    def get_addition(self, shown: ShownSum, names: list[str], pitch: float,
                     size: float = NUMBER, mark_at=DOWN) -> VGroup:
        """The written addition of ``shown``: one row per term (``name  value``, the last one
        ``+ bias  b``), a rule, ``=`` and the total in a cell coloured like the output map, and
        ``(rounded)`` next to it (``mark_at``: DOWN or RIGHT) when marked. Numbers are
        right-aligned, like a sum on paper.

        The result has the parts ``terms`` (rows of name and number), ``rule``, ``result``
        (``=`` and the value box) and ``mark`` (empty when the terms add up exactly).
        """
        rows = VGroup()
        for i, (name, t) in enumerate(zip(names + [self.words("bias")], shown.terms)):
            n = label(name, SMALL, lang=self.lang)
            v = number(float(t), 2, size)
            rows.add(VGroup(n, v))
        name_w = max(r[0].width for r in rows)
        num_w = max(r[1].width for r in rows)
        right = name_w + 0.3 + num_w
        for i, (n, v) in enumerate(rows):
            y = -i * pitch
            v.move_to([right - v.width / 2, y, 0])
            n.move_to([n.width / 2, y, 0])
            n.shift(UP * (v.get_bottom()[1] - baseline(n)))  # on the digits' baseline
        rule = Line([0, 0, 0], [right + 0.1, 0, 0], color=colors.INK, stroke_width=2)
        rule.next_to(rows, DOWN, buff=pitch * 0.3).align_to(rows, LEFT)
        box = self.get_value_box(shown.total, size)
        box.next_to(rule, DOWN, buff=pitch * 0.3)
        box.shift(RIGHT * (right + 0.15 - box.get_right()[0]))
        eq = label("=", size + 4)
        eq.move_to([eq.width / 2, box.get_center()[1], 0])
        result = VGroup(eq, box)
        mark = self.get_words("rounded", 16, GREY) if shown.rounded else VGroup()
        if shown.rounded:
            mark.next_to(box, mark_at, buff=0.1)
            if np.allclose(mark_at, DOWN):
                mark.align_to(box, RIGHT)
        col = VGroup(rows, rule, result, mark)
        col.terms, col.rule, col.result, col.mark = rows, rule, result, mark
        return col

    # -- verbs --------------------------------------------------------------------------------
    def swap(self, old, new) -> None:
        """Put ``new`` on screen in place of ``old`` at once (they look alike where both are
        drawn); every part of ``old`` leaves, also parts added on their own."""
        for name in ("mobjects", "foreground_mobjects"):
            self.restructure_mobjects([old], name, extract_families=True)
        self.add(new)

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
    #: Row height of the rows (input map, kernel, intermediate map), with and without ``more``.
    ROW_H = 1.55
    ROW_H_MORE = 1.42
    #: x of the centres of the row's columns: input maps, kernels, intermediate maps.
    COLUMNS = (-5.3, -3.05, -0.8)
    #: Height of the maps in the first beat, side by side.
    BIG = 3.3

    def get_data(self) -> ElasticData:
        """The neuron's kernels, intermediate maps, sum and bias (see
        :func:`~cnnanim.explain.convolution.elastic_data`)."""
        return elastic_data(self.trace, self.layer, self.neuron)

    def shown_channels(self) -> list[int]:
        """Channels drawn as full rows (all three of an image, the first three otherwise)."""
        return list(range(min(3, self.data.n_in)))

    @property
    def row_h(self) -> float:
        return self.ROW_H if self.data.n_in <= 3 else self.ROW_H_MORE

    # -- builders -----------------------------------------------------------------------------
    def get_rows(self) -> Group:
        """One row per shown channel: name, input map, kernel, intermediate map (still white)."""
        d = self.data
        size = self.row_h * 0.92
        in_vmax = colors.symmetric_range(d.inputs)
        w_vmax = colors.symmetric_range(self.stage.weight)
        inter_vmax = colors.symmetric_range(d.intermediate)
        rows = []
        for c in self.shown_channels():
            name = label(self.channel_name(c, d.n_in), SMALL, lang=self.lang)
            m = self.get_input_map(c, size, in_vmax)
            k = self.get_kernel_swatch(d.kernels[c], w_vmax, size * 0.8)
            inter = FeatureMap(np.full_like(d.intermediate[c], np.nan), scale="activation",
                               vmax=inter_vmax, height=size)
            rows.append(Group(name, m, k, inter))
        return self.place_rows(Group(*rows))

    def place_rows(self, rows: Group) -> Group:
        """Rows down from under the column headers: input maps, kernels, intermediate maps."""
        y = CONTENT_TOP - 0.4 - self.row_h / 2
        for name, m, k, inter in rows:
            m.move_to([self.COLUMNS[0], y, 0])
            name.next_to(m, LEFT, buff=0.15)
            k.move_to([self.COLUMNS[1], y, 0])
            inter.move_to([self.COLUMNS[2], y, 0])
            y -= self.row_h + 0.12
        if len(rows) < 3:  # a grey image has one channel: centre its row
            rows.shift(UP * (0.3 - rows.get_center()[1]))
        return rows

    def get_headers(self, rows: Group) -> VGroup:
        """``input``, ``kernel``, ``intermediate`` above the columns."""
        headers = VGroup(*[self.get_words(key, SMALL, GREY).next_to(part, UP, buff=0.12)
                           for key, part in zip(("col_input", "kernel", "col_inter"),
                                                rows[0][1:])])
        level(headers)
        return headers

    def get_big_inputs(self, rows: Group, more) -> Group:
        """The first beat's picture: the input maps large, side by side, named under them."""
        maps = Group(*[Group(r[1].copy().scale_to_fit_height(self.BIG), r[0].copy())
                       for r in rows])
        for m, name in maps:
            name.next_to(m, DOWN, buff=0.15)
        maps.arrange(RIGHT, buff=0.5, aligned_edge=UP)
        if more is not None:
            maps.add(more.copy().next_to(maps, DOWN, buff=0.25))
        return maps.move_to([0, (CONTENT_TOP + CONTENT_BOTTOM) / 2, 0])

    def get_more(self, rows: Group):
        """``+ N more maps`` under the rows when not every channel has a row (None otherwise)."""
        d = self.data
        if d.n_in <= len(rows):
            return None
        more = self.get_words("more", SMALL, GREY, rest=d.n_in - len(rows),
                              a=self.channel_name(len(rows), d.n_in),
                              b=self.channel_name(d.n_in - 1, d.n_in))
        return more.next_to(rows, DOWN, buff=0.12).align_to(rows, LEFT)

    def get_arrows(self, rows: Group) -> VGroup:
        """Arrows input map -> kernel and kernel -> intermediate map, alternating, row by row."""
        arrows = VGroup()
        for name, m, k, inter in rows:
            for a, b in ((m, k), (k, inter)):
                arrows.add(Arrow(a.get_right(), b.get_left(), buff=0.1, color=colors.INK,
                                 stroke_width=3, max_tip_length_to_length_ratio=0.25))
        return arrows

    def count_values(self) -> dict:
        """The layer's counts of inputs, neurons and kernels, as numbers (``n_in``...) and in
        English words (``inputs``: ``3 inputs``, ``1 input``...)."""
        d = self.data
        return dict(n_in=d.n_in, n_out=d.n_out, n_kernels=d.n_kernels,
                    inputs=plural(d.n_in, "input"), neurons=plural(d.n_out, "neuron"),
                    kernels=plural(d.n_kernels, "kernel"))

    def get_count(self, out_map: FeatureMap, more=None):
        """``3 inputs × 10 neurons = 30 kernels`` at the bottom right (narrowed to the room
        right of the ``more`` line beside it, if any)."""
        count = self.get_words("count", SMALL, **self.count_values())
        count.move_to([out_map.get_center()[0], CONTENT_BOTTOM + count.height / 2, 0])
        if count.get_right()[0] > SAFE_RIGHT:
            count.shift(LEFT * (count.get_right()[0] - SAFE_RIGHT))
        if more is not None and count.get_left()[0] < more.get_right()[0] + MORE_GAP:
            count.scale_to_fit_width(SAFE_RIGHT - more.get_right()[0] - MORE_GAP)
            count.align_to([SAFE_RIGHT, 0, 0], RIGHT).align_to([0, CONTENT_BOTTOM, 0], DOWN)
        return count

    def rows_middle(self, rows: Group) -> float:
        """y halfway between the top of the first row and the bottom of the last."""
        return (rows[0].get_top()[1] + rows[-1].get_bottom()[1]) / 2

    def get_plus(self, rows: Group) -> VGroup:
        """The summing node (a circled +) right of the intermediate maps, with ``sum of N``."""
        plus = VGroup(Circle(radius=0.32, color=colors.INK, stroke_width=3),
                      cached_text("+", font_size=40, color=colors.INK))
        plus.move_to([rows[0][3].get_right()[0] + 1.0, self.rows_middle(rows), 0])
        if self.data.n_in == 1:  # nothing to add up: the node only adds the bias
            return VGroup(plus, VGroup())
        plus_label = self.get_words("sum_of", SMALL, n=self.data.n_in)
        plus_label.next_to(plus, DOWN, buff=0.12)
        plus_label.align_to(plus.get_center() + RIGHT * 0.15, LEFT)  # clear of the lines
        return VGroup(plus, plus_label)

    def get_sum_lines(self, rows: Group, plus: VGroup, more) -> VGroup:
        """Lines from each intermediate map to the circle's edge (the other channels from below)."""
        centre = plus[0].get_center()
        lines = VGroup()
        for r in rows:
            start = r[3].get_right()
            unit = (centre - start) / np.linalg.norm(centre - start)
            lines.add(Line(start, centre - 0.32 * unit, color=colors.INK, stroke_width=2.5))
        if more is not None:  # the other channels join from below
            corner = np.array([centre[0], more.get_center()[1], 0])
            start = more.get_right() + RIGHT * 0.1
            if start[0] >= corner[0]:  # a long line of words reaches under the sum: from its top
                corner = np.array([centre[0], more.get_top()[1] + 0.05, 0])
            else:
                lines.add(Line(start, corner, color=GREY, stroke_width=2.5))
            lines.add(Line(corner, plus[1].get_bottom() + DOWN * 0.05, color=GREY,
                           stroke_width=2.5))
        return lines

    def place_output_map(self, rows: Group, plus: VGroup) -> FeatureMap:
        """The activation map, as large as the room right of the sum allows, below the title."""
        d = self.data
        out_map = self.get_output_map(d.output, 3.3, colors.symmetric_range(d.output))
        left = plus.get_right()[0] + 1.6
        out_map.scale_to_fit_width(min(3.3, SAFE_RIGHT - left))
        out_map.move_to([(left + SAFE_RIGHT) / 2, CONTENT_TOP - out_map.height / 2, 0])
        return out_map

    def get_bias_arrow(self, plus: VGroup, out_map: FeatureMap) -> tuple[Arrow, VGroup]:
        """The arrow from the sum to the output map, ``+ bias b`` above it."""
        start = plus[0].get_right() + RIGHT * 0.08
        end = np.array([out_map.get_left()[0] - 0.1, start[1], 0])
        arrow = Arrow(start, end, buff=0, color=colors.INK, stroke_width=3)
        bias_txt = VGroup(self.get_words("bias", SMALL), number(self.data.bias, 2, NUMBER))
        bias_txt.arrange(RIGHT, buff=0.15)
        if bias_txt.width > arrow.width:
            bias_txt.arrange(DOWN, buff=0.08)
        bias_txt.next_to(arrow, UP, buff=0.12)
        return arrow, bias_txt

    def get_legend(self, out_map: FeatureMap) -> Group:
        """The activation colours under the output map: red ``-v`` ... blue ``+v``."""
        vmax = out_map.vmax
        bar = FeatureMap(np.linspace(-vmax, vmax, 65)[None, :], scale="activation", vmax=vmax,
                         height=0.2, border_width=1)
        bar.stretch_to_fit_width(out_map.width * 0.8)
        lo, hi = number(-vmax, 2, 18), number(vmax, 2, 18)
        lo.next_to(bar, LEFT, buff=0.1)
        hi.next_to(bar, RIGHT, buff=0.1)
        neg = self.get_words("negative", 16, GREY).next_to(bar, DOWN, buff=0.08).align_to(bar, LEFT)
        pos = self.get_words("positive", 16, GREY).next_to(bar, DOWN, buff=0.08).align_to(bar, RIGHT)
        return Group(bar, lo, hi, neg, pos)

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
        title = self.get_title(self.words(one_or_many("title", d.n_in), layer=self.layer,
                                          n=d.n_in))
        rows = self.get_rows()
        more = self.get_more(rows)
        big = self.get_big_inputs(rows, more)
        with self.beat(one_or_many("inputs", d.n_in), layer=self.layer, neuron=self.neuron,
                       n_in=d.n_in) as b:
            self.show_opening(b, title, big)

        headers = self.get_headers(rows)
        arrows = self.get_arrows(rows)
        plus = self.get_plus(rows)
        out_map = self.output_map = self.place_output_map(rows, plus[0])
        count = self.get_count(out_map, more)
        small = Group(*[Group(r[1], r[0]) for r in rows], *([more] if more else []))
        with self.beat(one_or_many("kernels", d.n_in), k=self.k,
                       **self.count_values()) as b:
            start = self.renderer.time
            # the kernels are what the sentence begins with: on screen within 2 s in any language
            self.play(ReplacementTransform(big, small), run_time=b.part(0.15, at_most=0.8))
            self.play(*[FadeIn(a) for a in arrows[0::2]], *[GrowFromCenter(r[2]) for r in rows],
                      FadeIn(headers[:2]), run_time=b.part(0.25, at_most=1.0))
            self.wait_for_words(b, start, f"{d.n_out} ")  # "... times 10 neurons ..."
            self.play(FadeIn(count), run_time=quick(b, 0.1))

        boxes = [self.input_window(r[1], 0, 0) for r in rows]
        with self.beat("intermediate") as b:
            self.play(*[FadeIn(a) for a in arrows[1::2]], *[FadeIn(r[3]) for r in rows],
                      FadeIn(headers[2]), *[Create(box) for box in boxes],
                      run_time=quick(b, 0.15))
            self.fill_intermediate(rows, boxes, b.part(0.65))
            self.play(*[FadeOut(box) for box in boxes], run_time=b.part(0.08))

        lines = self.get_sum_lines(rows, plus, more)
        arrow, bias_txt = self.get_bias_arrow(plus, out_map)
        with self.beat(one_or_many("sum", d.n_in), bias=fmt(d.bias)) as b:
            self.play(Create(lines), FadeIn(plus), run_time=quick(b, 0.15))
            self.play(*[FadeOut(r[3].copy(), target_position=plus[0]) for r in rows],
                      run_time=b.part(0.2))
            self.play(GrowFromCenter(arrow), FadeIn(bias_txt), run_time=b.part(0.15))
            self.wait(b.part(0.15))
            self.play(FadeIn(out_map, shift=RIGHT * 0.4), run_time=quick(b, 0.15))

        out_label = self.get_size_label(out_map, buff=0.12)
        legend = self.get_legend(out_map).next_to(out_label, DOWN, buff=0.2)
        if legend.get_right()[0] > SAFE_RIGHT:  # its "+v" stays inside the safe area
            legend.shift(LEFT * (legend.get_right()[0] - SAFE_RIGHT))
        with self.beat("output", h=h, w=w) as b:
            self.play(FadeIn(out_label), FadeIn(legend), run_time=quick(b, 0.15))


# --------------------------------------------------------------------------------------------
class ConvSlide(ConvScene):
    """The window slides; the dot product is written out at a few positions, then a sweep."""

    cli_name = "conv-slide"
    description = "The 3x3 window slides: dot products written out with the real numbers"
    #: Height of the input picture and of the output map while windows are written out.
    INPUT_H = 2.4
    OUTPUT_H = 2.0
    #: Offset between the maps of a stack of input maps (a deeper layer).
    STACK_STEP = 0.035
    #: conv-slide's sweep: both maps this high, side by side around these centres.
    SWEEP_HEIGHT = 4.3
    SWEEP_X = 3.85
    SWEEP_Y = 0.55

    def setup(self) -> None:
        super().setup()
        self.setup_windows()

    def full_channels(self) -> list[int]:
        """Channels whose products are written out (all three of an image, else the first two)."""
        c_in = self.stage.input.shape[0]
        return list(range(c_in)) if c_in <= 3 else [0, 1]

    @property
    def c_in(self) -> int:
        return self.stage.input.shape[0]

    @property
    def deep(self) -> bool:
        """More channels than fit a column under the products: the column goes to the right."""
        return self.c_in > 3

    @property
    def cell(self) -> float:
        """Cell side of the written-out grids (digits about 0.19 or 0.17 units tall)."""
        return 0.82 if self.deep else 0.9

    # -- builders -----------------------------------------------------------------------------
    def get_input_view(self, channel: int = 0):
        """The input: the photo for an image; for a deeper layer a stack of all its maps, with
        map ``channel`` in front (its window is the one drawn)."""
        x = self.stage.input
        depth = min(self.c_in, MAX_ROWS)  # maps drawn in the stack: the front one and the next
        h = self.INPUT_H - (self.STACK_STEP * (depth - 1) if self.deep else 0)
        if x.shape[0] == 3 and self.is_first_layer():
            return FeatureMap(x.transpose(1, 2, 0), scale="rgb", height=h)
        if x.shape[0] == 1 and self.is_first_layer():
            return FeatureMap(x[0], scale="input", height=h)
        vmax = colors.symmetric_range(x)
        order = [c for c in range(self.c_in) if c != channel][:depth - 1][::-1] + [channel]
        maps = Group()
        for i, c in enumerate(order):
            back = len(order) - 1 - i
            m = FeatureMap(x[c], scale="activation", height=h, vmax=vmax)
            maps.add(m.shift((UP + RIGHT) * self.STACK_STEP * back))
        maps.front = maps[-1]
        return maps

    def front(self, view) -> FeatureMap:
        """The map of the input view that windows are drawn on."""
        return getattr(view, "front", view)

    def get_maps(self) -> Group:
        """Input view (top left) and its shape; the output map, still white, and its shape
        under them (bottom left)."""
        c_in, in_h, in_w = self.stage.input.shape
        h, w = self.out_values.shape
        in_map = self.get_input_view()
        in_map.move_to([SAFE_LEFT + in_map.width / 2, self.grid_top - in_map.height / 2, 0])
        in_label = self.get_words("input_shape", SMALL, h=in_h, w=in_w, c=c_in)
        in_label.next_to(in_map, DOWN, buff=0.08)
        out_map = self.get_blank_output(self.OUTPUT_H)
        out_label = self.get_words("output_shape", SMALL, h=h, w=w)
        out_label.move_to([0, CONTENT_BOTTOM + out_label.height / 2, 0])
        out_map.next_to(out_label, UP, buff=0.08)
        Group(out_map, out_label).align_to(in_map, LEFT)
        return Group(in_map, in_label, out_map, out_label)

    @property
    def grid_top(self) -> float:
        """Top of the grids and of the input picture (the headers above them)."""
        return CONTENT_TOP - 0.38

    @property
    def grid_left(self) -> float:
        return SAFE_LEFT + self.INPUT_H + 0.35

    def get_windows(self, in_view, out_map: FeatureMap, win: ConvWindow) -> VGroup:
        """The window on the input and the cell it makes on the output."""
        return VGroup(self.input_window(self.front(in_view), win.row, win.col),
                      self.window_box(out_map, win.row, win.col))

    def get_grid_row(self, win: ConvWindow, c: int) -> Group:
        """Channel ``c`` at ``win``: patch × kernel = products, their headers, and the products'
        sum (``Σ s``, marked when rounded) next to the products."""
        cell = self.cell
        # one digit size for the three grids: a negative number fills NumberGrid.ROOM of a cell
        size = NUMBER * NumberGrid.ROOM * cell / number(-0.5, 2, NUMBER).width
        scale = input_scale(self.c_in, c, self.is_first_layer())
        in_vmax = colors.symmetric_range(self.stage.input)
        patch = NumberGrid(win.patches[c], scale=scale, cell=cell, font_size=size,
                           vmax=in_vmax if scale == "activation" else None)
        kern = NumberGrid(win.kernels[c], scale="weight", cell=cell, font_size=size,
                          vmax=colors.symmetric_range(self.stage.weight))
        p_vmax = max(colors.symmetric_range(s.products) for s in self.steps)
        prod = NumberGrid(win.products[c], scale="activation", vmax=p_vmax, cell=cell,
                          font_size=size)
        times, eq = label("×", 34), label("=", 34)
        grids = Group(patch, times, kern, eq, prod).arrange(RIGHT, buff=0.12)
        grids.move_to([self.grid_left + grids.width / 2, self.grid_top - grids.height / 2, 0])
        headers = VGroup(
            self.get_words("patch", SMALL, GREY, c=self.channel_name(c)),
            self.get_words("kernel", SMALL, GREY), self.get_words("products", SMALL, GREY))
        for hd, g in zip(headers, (patch, kern, prod)):
            hd.next_to(g, UP, buff=0.1)
        level(headers)
        s = self.get_sum_line(self.strings_of(win)["channel_sums"][c])
        if self.deep:
            s.next_to(prod, DOWN, buff=0.15)
        else:
            s.next_to(prod, RIGHT, buff=0.2)
        return Group(grids, headers, s)

    def get_patch_row(self, win: ConvWindow) -> Group:
        """The first beat's picture: the patches of the written-out channels side by side, where
        the patch, the kernel and the products of one channel go next."""
        slots = self.get_grid_row(win, 0)[0]
        row = Group()
        for slot, c in zip((0, 2, 4), self.full_channels()):
            r = self.get_grid_row(win, c)
            patch, header = r[0][0], r[1][0]
            Group(patch, header).shift(slots[slot].get_center() - patch.get_center())
            row.add(Group(patch, header))
        if self.deep:
            rest = self.get_words("rest", SMALL, GREY, a=self.channel_name(2),
                                  b=self.channel_name(self.c_in - 1))
            row.add(rest.next_to(row, DOWN, buff=0.3).align_to(row, LEFT))
        return row

    def strings_of(self, win: ConvWindow) -> dict:
        return self.get_step_strings([win])[0]

    def get_column(self, win: ConvWindow, below: Group) -> VGroup:
        """The channel sums of ``win``, the bias and the total, added up in a column: under the
        products for an image, at the right for a deeper layer (more rows)."""
        shown = self.strings_of(win)["addition"]
        names = self.term_names("sum_name")
        if not self.deep:
            col = self.get_addition(shown, names, pitch=0.38, mark_at=RIGHT)
            prod = below[0][4]
            col.next_to(prod, DOWN, buff=0.25).align_to(prod, LEFT)
            return col
        pitch = 0.38
        col = self.get_addition(shown, names, pitch=pitch, size=22)
        room = SAFE_RIGHT - below[0][4].get_right()[0] - COLUMN_GAP  # right of the products
        if col.width > room:  # long names (``Σ in 9–63``): narrowed to the room
            col.scale(room / col.width)
        col.move_to([SAFE_RIGHT - col.width / 2, 0, 0])
        col.align_to([0, CONTENT_TOP, 0], UP)
        return col

    def get_leader(self, col: VGroup, out_map: FeatureMap, win: ConvWindow) -> Line:
        """A thin line from the total to the output cell it fills."""
        box = col.result[1]
        return Line(box.get_left(), out_map.cell_center(win.row, win.col), color=colors.INK,
                    stroke_width=1.5)

    def get_sweep_arrow(self) -> tuple[Arrow, VGroup, VGroup]:
        """The arrow between the maps side by side, ``neuron N`` above it, the weights below."""
        y = self.SWEEP_Y
        half = self.SWEEP_HEIGHT / 2 + 0.2
        arrow = Arrow([-self.SWEEP_X + half, y, 0], [self.SWEEP_X - half, y, 0], buff=0,
                      color=colors.INK, stroke_width=4)
        arrow_label = self.get_words("neuron", SMALL, neuron=self.neuron)
        arrow_label.next_to(arrow, UP, buff=0.15)
        weights_label = VGroup(self.get_words("weights", SMALL, n=self.n_weights),
                               self.get_words("one_bias", SMALL)).arrange(DOWN, buff=0.1)
        weights_label.next_to(arrow, DOWN, buff=0.15)
        return arrow, arrow_label, weights_label

    def get_side_by_side(self, maps: Group) -> list:
        """Animations that grow the input and output maps side by side, their shapes below."""
        in_map, in_label, out_map, out_label = maps
        y, hh = self.SWEEP_Y, self.SWEEP_HEIGHT
        at_in, at_out = np.array([-self.SWEEP_X, y, 0]), np.array([self.SWEEP_X, y, 0])
        below = DOWN * (hh / 2 + 0.3)
        return [in_map.animate.scale_to_fit_height(hh).move_to(at_in),
                out_map.animate.scale_to_fit_height(hh).move_to(at_out),
                in_label.animate.move_to(at_in + below),
                out_label.animate.move_to(at_out + below)]

    # -- verbs --------------------------------------------------------------------------------
    def swap_front(self, maps: Group, c: int, run_time: float) -> None:
        """A deeper layer: map ``c`` comes to the front of the input stack."""
        old = maps[0]
        new = self.get_input_view(c).move_to(old)
        self.play(FadeOut(old), FadeIn(new), run_time=run_time)
        maps.submobjects[0] = new

    def write_channels(self, maps: Group, win: ConvWindow, patches: Group, windows: VGroup,
                       zoom: VGroup, col: VGroup, b: Beat) -> Group:
        """Channel by channel: its patch × kernel = products and their sum, which then goes
        down into the column; the other channels' sums join it at the end."""
        full = self.full_channels()
        share = 0.85 / len(full)
        shown = None
        for c in full:
            row = self.get_grid_row(win, c)
            if shown is None:  # the first patch is on screen already, where it stays
                self.play(FadeOut(patches[1:]), *[FadeIn(m) for m in row[0][1:]],
                          *[FadeIn(m) for m in row[1][1:]], run_time=quick(b, share * 0.3))
                self.swap(patches[0], row[:2])
            else:
                if self.deep:
                    self.swap_front(maps, c, run_time=quick(b, share * 0.15))
                    self.add(windows[0], zoom)
                self.play(FadeOut(shown), run_time=quick(b, share * 0.1))
                self.play(FadeIn(row[:2]), run_time=quick(b, share * 0.2))
            self.play(FadeIn(row[2]), run_time=b.part(share * 0.2))
            term = col.terms[c]
            self.play(FadeIn(term[0]), ReplacementTransform(row[2][0][1].copy(), term[1]),
                      run_time=b.part(share * 0.25))
            self.wait(b.part(share * 0.1))
            shown = row
        rest = [t for c, t in enumerate(col.terms[:-1]) if c not in full]  # (the bias is last)
        if rest:
            self.play(*[FadeIn(t) for t in rest], run_time=quick(b, 0.1))
        return shown

    def move_window(self, maps: Group, windows: VGroup, zoom: VGroup, shown: Group,
                    col: VGroup, leader: Line, win: ConvWindow, b: Beat) -> tuple:
        """The window jumps to ``win``; the same channel's new patch and products, and the new
        column, replace the old ones (the kernel stays: the same weights); the new total fills
        its output cell."""
        in_view, _, out_map, _ = maps
        new_windows = self.get_windows(in_view, out_map, win)
        row = self.get_grid_row(win, self.full_channels()[-1])
        new_zoom = zoom_lines(new_windows[0], row[0][0])
        new_col = self.get_column(win, row)
        new_leader = self.get_leader(new_col, out_map, win)
        changed = [(shown[0][0], row[0][0]), (shown[0][4], row[0][4]), (shown[2], row[2]),
                   (col, new_col)]
        self.play(ReplacementTransform(windows[0], new_windows[0]),
                  ReplacementTransform(windows[1], new_windows[1]),
                  ReplacementTransform(zoom, new_zoom), FadeOut(leader),
                  *[FadeOut(old) for old, _ in changed], run_time=SWAP_TIME)
        self.play(*[FadeIn(new) for _, new in changed], run_time=SWAP_TIME)
        self.swap(shown, row)
        self.play(Create(new_leader), run_time=b.part(0.1))
        self.show_value(out_map, win)
        return new_windows, new_zoom, row, new_col, new_leader

    def sweep(self, maps: Group, run_time: float) -> VGroup:
        """The window runs over the whole input from the top-left, filling the output map."""
        in_view, _, out_map, _ = maps
        front = self.front(in_view)
        windows = VGroup(self.input_window(front, 0, 0), self.window_box(out_map, 0, 0))
        self.add(*windows)
        self.fill_output(out_map, run_time, front, windows)
        return windows

    # -- storyboard ---------------------------------------------------------------------------
    def construct(self) -> None:
        h, w = self.out_values.shape
        strings = self.get_step_strings()
        title = self.get_title(self.words("title", layer=self.layer, neuron=self.neuron), 28)
        maps = self.get_maps()
        self.output_map = out_map = maps[2]
        first = self.steps[0]
        windows = self.get_windows(maps[0], out_map, first)
        patches = self.get_patch_row(first)
        zoom = zoom_lines(windows[0], patches[0][0])
        with self.beat(one_or_many("intro", self.c_in), k=self.k, n_in=self.c_in) as b:
            # the window and the patches it covers in every channel come with the maps
            self.show_opening(b, title, *maps, windows[0], zoom, patches)

        col = self.get_column(first, self.get_grid_row(first, 0))
        with self.beat(one_or_many("products", self.c_in)) as b:
            shown = self.write_channels(maps, first, patches, windows, zoom, col, b)

        leader = self.get_leader(col, out_map, first)
        with self.beat(one_or_many("total", self.c_in), bias=strings[0]["bias"],
                       value=strings[0]["total"]) as b:
            self.play(FadeIn(col.terms[-1]), Create(col.rule), run_time=quick(b, 0.15))
            self.play(FadeIn(col.result), FadeIn(col.mark), run_time=quick(b, 0.15))
            self.play(Create(leader), Create(windows[1]), run_time=b.part(0.15))
            self.show_value(out_map, first)

        for key, win, s in zip(("middle", "peak"), self.steps[1:], strings[1:]):
            with self.beat(key, row=win.row, col=win.col, value=s["total"]) as b:
                windows, zoom, shown, col, leader = self.move_window(
                    maps, windows, zoom, shown, col, leader, win, b)

        arrow, arrow_label, weights_label = self.get_sweep_arrow()
        with self.beat("sweep", stride=self.stride, h=h, w=w) as b:
            self.play(FadeOut(shown), FadeOut(col), FadeOut(zoom), FadeOut(leader),
                      *[FadeOut(m) for m in windows], run_time=b.part(0.08))
            self.play(*self.get_side_by_side(maps), GrowFromCenter(arrow), FadeIn(arrow_label),
                      run_time=b.part(0.15))
            windows = self.sweep(maps, b.part(0.7))
        with self.beat("done", n_weights=self.n_weights) as b:
            self.play(*[FadeOut(m) for m in windows], FadeIn(weights_label),
                      run_time=quick(b, 0.2))
        self.big_map = out_map


# --------------------------------------------------------------------------------------------
class ConvDeep(ConvScene):
    """A deeper conv neuron: 10 input maps, 10 kernels, 10 channel sums, bias, output."""

    cli_name = "conv-deep"
    description = "A deeper conv layer: ten input maps, ten kernels, their sums plus bias"
    default_layer = "conv_2_1"
    #: Side of an input map on a card, of its kernel swatch, and the gap between cards.
    MAP = 1.5
    SWATCH = 0.58
    GAP = (0.22, 0.2)
    #: Height of the output map, at the top right.
    OUTPUT_H = 2.3

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
        """One card per input channel: its name and kernel (colours) above its map (the
        channel sum goes under it later)."""
        st = self.stage
        x = st.input
        c_in = x.shape[0]
        in_vmax = colors.symmetric_range(x)
        w_vmax = colors.symmetric_range(st.weight)
        cards = []
        for c in range(self.listed):
            m = self.get_input_map(c, self.MAP, in_vmax)
            kern = self.get_kernel_swatch(st.weight[self.neuron, c], w_vmax, self.SWATCH)
            kern.next_to(m, UP, buff=0.08).align_to(m, RIGHT)
            name = label(self.channel_name(c, c_in), SMALL, lang=self.lang)
            name.next_to(m, UP, buff=0.1).align_to(m, LEFT)
            cards.append(Group(m, kern, name))
        self.more_card = self.get_more_card() if self.listed < c_in else None
        return self.place_cards(Group(*cards))

    def get_more_card(self) -> Group:
        """Where the next card would be: ``+ 55 more`` and which (``in 9–63``); the sum
        of their channel sums goes under it. Parts: an empty slot as large as a map, an empty
        room above it as tall as a kernel, the words."""
        c_in = self.stage.input.shape[0]
        slot = Rectangle(width=self.MAP, height=self.MAP, stroke_width=0)
        room = Rectangle(width=self.MAP, height=self.SWATCH, stroke_width=0)
        room.next_to(slot, UP, buff=0.08)
        words = VGroup(self.get_words("more_maps", SMALL, GREY, n=c_in - self.listed),
                       self.get_words("in_range", SMALL, GREY, a=self.listed, b=c_in - 1))
        words.arrange(DOWN, buff=0.12)
        if words.width > self.MAP:
            words.scale_to_fit_width(self.MAP)
        return Group(slot, room, words.move_to(slot))

    def place_cards(self, cards: Group) -> Group:
        """Cards (and the card of the maps left out) in rows of five from the top-left of the
        content, room under each for its sum."""
        items = list(cards) + ([self.more_card] if self.more_card is not None else [])
        per_row = 5 if len(items) > 5 else len(items)
        cells = Group(*[Group(c, Rectangle(width=self.MAP, height=0.36, stroke_width=0)
                              .next_to(c[0], DOWN, buff=0.06)) for c in items])
        cells.arrange_in_grid(rows=-(-len(items) // per_row), cols=per_row, buff=self.GAP)
        cells.align_to([SAFE_LEFT, 0, 0], LEFT).align_to([0, CONTENT_TOP, 0], UP)
        return cards

    def place_output_map(self, cards: Group) -> tuple[FeatureMap, VGroup]:
        """The output map, still white, at the top right, ``neuron N: H×W`` above it (the line
        from a total to its cell comes from below)."""
        out_map = self.get_blank_output(self.OUTPUT_H)
        out_label = self.get_size_label(out_map, buff=0.1)
        out_label.move_to([0, CONTENT_TOP - out_label.height / 2, 0])
        out_map.next_to(out_label, DOWN, buff=0.1)
        Group(out_map, out_label).align_to([SAFE_RIGHT, 0, 0], RIGHT)
        out_label.match_x(out_map)
        return out_map, out_label

    def get_big_output(self, cards: Group, out_map: FeatureMap, out_label) -> list:
        """Animations that grow the output map (and its label) into the room right of the
        cards."""
        left = cards.get_right()[0] + 0.5
        height = min(SAFE_RIGHT - left, CONTENT_TOP - CONTENT_BOTTOM - out_label.height - 0.1)
        centre = np.array([(left + SAFE_RIGHT) / 2, CONTENT_BOTTOM + height / 2, 0])
        return [out_map.animate.scale_to_fit_height(height).move_to(centre),
                out_label.animate.move_to(centre + UP * (height / 2 + 0.1 + out_label.height / 2))]

    def get_sum_labels(self, cards: Group, win: ConvWindow) -> VGroup:
        """``Σ s`` under each card's map: the dot product of its kernel with its window."""
        sums = VGroup()
        under = [c[0] for c in cards] + ([self.more_card[0]] if self.more_card else [])
        values = list(win.channel_sums[:self.listed])
        if self.more_card:  # the maps left out: the sum of their channel sums
            values.append(float(np.sum(win.channel_sums[self.listed:])))
        for slot, s in zip(under, values):
            t = VGroup(label("Σ", 22), number(float(s), 2, 22)).arrange(RIGHT, buff=0.1)
            sums.add(t.next_to(slot, DOWN, buff=0.08))
        return sums

    def get_total(self, win: ConvWindow, cards: Group, out_map: FeatureMap) -> VGroup:
        """The channel sums, the bias and the total added up in a column between the cards and
        the output map."""
        shown = self.get_step_strings([win])[0]["addition"]
        col = self.get_addition(shown, self.term_names(), pitch=0.37, size=22)
        left = cards.get_right()[0] + 0.35
        right = out_map.get_left()[0] - 0.25
        col.move_to([(left + right) / 2, 0, 0]).align_to([0, CONTENT_TOP, 0], UP)
        return col

    def get_step(self, cards: Group, out_map: FeatureMap, win: ConvWindow) -> tuple:
        """The windows on every input map, the channel sums, the column adding them up, the
        output cell and the line from the total to it."""
        boxes = VGroup(*[self.input_window(c[0], win.row, win.col) for c in cards])
        col = self.get_total(win, cards, out_map)
        cell = self.window_box(out_map, win.row, win.col)
        leader = Line(col.result[1].get_right(), out_map.cell_center(win.row, win.col),
                      color=colors.INK, stroke_width=1.5)
        return boxes, self.get_sum_labels(cards, win), col, cell, leader

    # -- storyboard ---------------------------------------------------------------------------
    def construct(self) -> None:
        c_in = self.stage.input.shape[0]
        h, w = self.out_values.shape
        strings = self.get_step_strings()
        title = self.get_title(self.words("title", layer=self.layer), 28)
        cards = self.get_cards()
        out_map, out_label = self.place_output_map(cards)
        self.output_map = out_map
        grey = "_grey" if self.trace.in_channels == 1 else ""
        with self.beat("inputs" + grey, layer=self.layer, n_in=c_in, maps=plural(c_in, "map"),
                       prev=self.prev_stage_name()) as b:
            more = [self.more_card[2]] if self.more_card else []
            self.show_opening(b, title, *[Group(c[0], c[2]) for c in cards], *more)
        with self.beat("kernels", neuron=self.neuron, k=self.k, n_in=c_in,
                       kernels=plural(c_in, "kernel"),
                       n_weights=self.n_weights) as b:
            self.play(*[GrowFromCenter(c[1]) for c in cards], run_time=b.part(0.3, at_most=1.2))
            self.play(FadeIn(out_map), FadeIn(out_label), run_time=quick(b, 0.2))

        first, s = self.steps[0], strings[0]
        boxes, sums, col, cell, leader = self.get_step(cards, out_map, first)
        with self.beat("sums", row=first.row, col=first.col, n_in=c_in,
                       sums=plural(c_in, "channel sum")) as b:
            self.play(Create(boxes), run_time=b.part(0.2, at_most=1.0))
            self.play(FadeIn(sums), run_time=quick(b, 0.2))
        with self.beat(one_or_many("total", c_in), n_in=c_in, bias=s["bias"],
                       value=s["total"]) as b:
            self.play(*[ReplacementTransform(t[1].copy(), row[1])
                        for t, row in zip(sums, col.terms)],
                      *[FadeIn(row[0]) for row in col.terms[:-1]], run_time=b.part(0.2))
            self.play(FadeIn(col.terms[-1]), Create(col.rule), run_time=quick(b, 0.15))
            self.play(FadeIn(col.result), FadeIn(col.mark), run_time=quick(b, 0.15))
            self.play(Create(cell), Create(leader), run_time=b.part(0.12))
            self.show_value(out_map, first)

        for win, s in zip(self.steps[1:], strings[1:]):
            new = self.get_step(cards, out_map, win)
            with self.beat("second", row=win.row, col=win.col, n_in=c_in, value=s["total"]) as b:
                self.play(ReplacementTransform(boxes, new[0]), ReplacementTransform(cell, new[3]),
                          FadeOut(sums), FadeOut(col), FadeOut(leader), run_time=SWAP_TIME)
                self.play(FadeIn(new[1]), FadeIn(new[2]), run_time=SWAP_TIME)
                self.play(Create(new[4]), run_time=quick(b, 0.1))
                self.show_value(out_map, win)
            boxes, sums, col, cell, leader = new

        with self.beat("output", h=h, w=w) as b:
            self.play(FadeOut(boxes), FadeOut(cell), FadeOut(leader), FadeOut(col),
                      run_time=b.part(0.08))
            self.play(*self.get_big_output(cards, out_map, out_label), run_time=quick(b, 0.12))
            self.fill_output(out_map, b.part(0.6))
