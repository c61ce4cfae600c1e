"""ReLU: max(0, x) as a graph, on a real window of a conv map, then on the whole map."""

from __future__ import annotations

import os

import numpy as np
from manim import (
    DOWN,
    DR,
    LEFT,
    RIGHT,
    UP,
    Arrow,
    Axes,
    Circumscribe,
    Create,
    DashedLine,
    Dot,
    FadeIn,
    FadeOut,
    FadeTransform,
    Group,
    Line,
    ReplacementTransform,
    UpdateFromAlphaFunc,
    VGroup,
    VMobject,
    Write,
)

from cnnanim.draw import colors
from cnnanim.draw.mobjects import FeatureMap, NumberGrid, zoom_lines
from cnnanim.draw.text import label, number
from cnnanim.explain.numbers import decimals_for, fmt
from cnnanim.explain.relu import (
    ReluWindowData,
    best_channel,
    relu_pair,
    relu_window_data,
)
from cnnanim.scenes.base import CnnScene
from cnnanim.speech.narration import Beat

#: The row the maps, the window and the graphs sit on (their centres' y).
ROW_Y = 0.55
#: Height of the channel maps (conv and ReLU).
MAP_H = 4.3
#: Centres (x) of the conv map, the window and the window's graph while the window is shown.
CMAP_X, GRID_X, GRAPH_X = -4.55, 0.35, 4.75
#: Then the conv map and the ReLU map side by side, centred at -MAPS_X and MAPS_X.
MAPS_X = 3.3
#: Side of a window cell (numbers about 0.2 units tall).
CELL = 1.0
#: Size of labels and of the numbers written on white.
LABEL_SIZE = 24
#: Colour scale of maps and windows: red-white-blue, zero as white as the page.
SCALE = "activation_white"
#: Left edge and widest extent of the reminders of the last beat (right of the graph).
WHY_LEFT, WHY_WIDTH = 0.3, 6.3


class Relu(CnnScene):
    """ReLU keeps positives and zeroes negatives, shown on a real conv map."""

    cli_name = "relu"
    description = "ReLU: max(0, x) on a real conv map, and why non-linearity matters"
    chapter = "relu"
    default_layer = "conv_1_1"
    valid_layer_kinds = ("conv", "relu")

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

    def map_beat_key(self) -> str:
        """``map``, or ``map_pos`` when the whole conv map has no negative value."""
        return "map" if (self.data.conv_map < 0).any() else "map_pos"

    def get_window_data(self) -> ReluWindowData:
        """The real window, maps and colour range (see
        :func:`~cnnanim.explain.relu.relu_window_data`)."""
        return relu_window_data(self.trace, self.layer, self.neuron)

    # -- storyboard -------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.data
        title = self.get_title(self.words("title", conv=d.conv_stage, relu=d.relu_stage))
        graph = self.place_big_graph()
        with self.beat("graph") as b:
            self.play(Write(title), Create(graph[0]), run_time=b.part(0.3))
            self.play(Create(graph[1]), FadeIn(graph[2:]), run_time=b.part(0.35))

        cmap, cmap_label = self.place_map(d.conv_stage, x=CMAP_X)
        box = cmap.get_cell_box(d.top, d.left, d.size, d.size, stroke_width=3)
        grid = self.get_grid(d.before).move_to([GRID_X, ROW_Y, 0])
        lines = zoom_lines(box, grid)
        small = self.place_window_graph()
        with self.beat("window", size=d.size, conv=d.conv_stage, channel=d.channel) as b:
            # the map and its patch come at once; the graph steps aside (cross-fade: new ticks)
            self.play(FadeTransform(graph, small), FadeIn(cmap), FadeIn(cmap_label),
                      run_time=b.part(0.15))
            self.play(Create(box), Create(lines), FadeIn(grid), run_time=b.part(0.2))
        graph = small

        after = self.get_grid(d.after, like=grid).move_to(grid)
        examples, neg_ex, pos_ex = self.place_examples(grid)
        dots = VGroup()
        with self.beat(self.apply_beat_key(), neg=fmt(d.before[d.negative], self.decimals),
                       pos=fmt(d.before[d.positive], self.decimals)) as b:
            if d.negative_cells:
                dots.add(self.zero_negatives(grid, after, neg_ex, graph[0], b))
            if d.kept_cells:
                dots.add(self.keep_positives(grid, pos_ex, graph[0], b))

        rmap, rmap_label = self.place_map(d.relu_stage, x=MAPS_X)
        conv_at = Group(cmap, cmap_label).copy().set_x(-MAPS_X)
        arrow, arrow_label = self.get_relu_arrow(conv_at[0], rmap)
        with self.beat(self.map_beat_key(), relu=d.relu_stage) as b:
            self.play(FadeOut(self.get_window_shown(grid, after)), FadeOut(examples),
                      FadeOut(lines), FadeOut(box), FadeOut(VGroup(graph, dots)),
                      run_time=b.part(0.1))
            self.play(Group(cmap, cmap_label).animate.set_x(-MAPS_X), run_time=b.part(0.08))
            self.play(FadeIn(rmap), FadeIn(rmap_label), FadeIn(arrow), FadeIn(arrow_label),
                      run_time=b.part(0.12))
            self.play(self.sweep_relu(rmap), run_time=b.part(0.45))

        bent = self.place_why_graph()
        why = self.place_why(bent)
        with self.beat("why") as b:
            # the maps leave before anything is drawn where they were
            self.play(FadeOut(Group(cmap, cmap_label, rmap, rmap_label, arrow, arrow_label)),
                      run_time=b.part(0.1))
            self.play(FadeIn(bent[0]), FadeIn(why[0]), run_time=b.part(0.15))
            self.play(Create(bent[1]), FadeIn(bent[2]), FadeIn(why[1]), run_time=b.part(0.2))
            self.play(FadeIn(why[2]), run_time=b.part(0.12))
            self.play(FadeIn(why[3]), run_time=b.part(0.12))

    # -- narrated verbs ---------------------------------------------------------------------
    def zero_negatives(self, grid: NumberGrid, after: NumberGrid, example: VGroup, axes: Axes,
                       b: Beat) -> Dot:
        """The window's negative cells become their ReLU (zero); a dot drops onto the graph.

        Returns the dot, left on the graph at (x, 0).
        """
        d = self.data
        neg = d.before[d.negative]
        dot = Dot(axes.c2p(neg, neg), radius=0.08, color=colors.NEGATIVE)
        cells = d.negative_cells
        # cells recolour; their numbers cross-fade (a different number never morphs)
        self.play(*[ReplacementTransform(grid.get_cell(r, c), after.get_cell(r, c))
                    for r, c in cells],
                  *[FadeTransform(grid.get_number(r, c), after.get_number(r, c))
                    for r, c in cells], FadeIn(example), FadeIn(dot),
                  run_time=b.part(0.3))
        self.play(dot.animate.move_to(axes.c2p(neg, 0)), run_time=b.part(0.15))
        return dot

    def keep_positives(self, grid: NumberGrid, example: VGroup | None, axes: Axes, b: Beat) -> Dot:
        """The values ReLU keeps are outlined in turn; the positive example (if shown) and its dot appear.

        Returns the dot at (x, x) on the graph.
        """
        d = self.data
        pos = d.before[d.positive]
        dot = Dot(axes.c2p(pos, pos), radius=0.08, color=colors.POSITIVE)
        self.play(*[Circumscribe(grid.get_cell(r, c), color=colors.HIGHLIGHT, buff=-0.05,
                                 stroke_width=6, time_width=0.6) for r, c in d.kept_cells],
                  *([FadeIn(example), FadeIn(dot)] if example is not None else []),
                  run_time=b.part(0.3))
        return dot

    def sweep_relu(self, rmap: FeatureMap) -> UpdateFromAlphaFunc:
        """Recolour ``rmap`` row by row from the conv map to its ReLU."""
        d = self.data
        rows = d.conv_map.shape[0]

        def sweep(m, alpha):
            m.set_values(d.swept_map(int(round(alpha * rows))), vmax=d.vmax)

        return UpdateFromAlphaFunc(rmap, sweep)

    # -- builders ---------------------------------------------------------------------------
    def place_big_graph(self) -> VGroup:
        """The graph of max(0, x) large in the middle of the frame (first beat)."""
        return self.get_graph(width=6.4, height=4.3).move_to([0, ROW_Y - 0.2, 0])

    def place_window_graph(self) -> VGroup:
        """The graph fitted to the window's values, at the right of the frame."""
        span = float(np.abs(self.data.before).max())
        return self.get_graph(3.2, 3.2, "formula_short", span=span).move_to(
            [GRAPH_X, ROW_Y - 0.1, 0])

    def place_why_graph(self) -> VGroup:
        """The graph of max(0, x) at the left, the straight line y = x it bends away from
        (dashed) and its bend marked: (graph, straight line, bend)."""
        g = self.get_graph(width=5.2, height=3.7).move_to([CMAP_X + 0.7, ROW_Y - 0.2, 0])
        axes = g[0]
        straight = DashedLine(axes.c2p(-1, -1), axes.c2p(0, 0), color=colors.MUTED_TEXT,
                              stroke_width=3, dash_length=0.1)
        dot = Dot(axes.c2p(0, 0), radius=0.1, color=colors.HIGHLIGHT)
        name = self.get_words("bend", LABEL_SIZE, colors.INK).next_to(dot, DR, buff=0.15)
        return VGroup(g, straight, VGroup(dot, name))

    def place_map(self, stage: str, x: float) -> tuple[FeatureMap, VMobject]:
        """The channel map (conv values) centred at ``x`` on the row, and its label below."""
        d = self.data
        fmap = self.get_conv_map().move_to([x, ROW_Y, 0])
        name = self.get_words("map", LABEL_SIZE, stage=stage, c=d.channel).next_to(
            fmap, DOWN, buff=0.12)
        return fmap, name

    def place_examples(self, grid: NumberGrid) -> tuple[VGroup, VGroup | None, VGroup | None]:
        """``x → ReLU(x)`` for the most negative and the largest value, under the window.

        Returns the group shown, its negative example and its positive one (None when not
        shown: the window's signs decide; a window of zeros shows the positive one).
        """
        d = self.data
        neg, pos = d.negative, d.positive
        size = LABEL_SIZE
        neg_ex = VGroup(number(d.before[neg], self.decimals, size, colors.NEGATIVE),
                        label("→", size), number(d.after[neg], self.decimals, size))
        pos_ex = VGroup(number(d.before[pos], self.decimals, size, colors.POSITIVE),
                        label("→", size),
                        number(d.after[pos], self.decimals, size, colors.POSITIVE))
        has_neg, has_pos = bool((d.before < 0).any()), bool((d.before > 0).any())
        shown = [ex for ex, keep in ((neg_ex, has_neg), (pos_ex, has_pos)) if keep] or [pos_ex]
        for ex in (neg_ex, pos_ex):
            ex.arrange(RIGHT, buff=0.15)
        examples = VGroup(*shown).arrange(DOWN, buff=0.12, aligned_edge=LEFT)
        examples.next_to(grid, DOWN, buff=0.2)
        return (examples, neg_ex if neg_ex in shown else None,
                pos_ex if pos_ex in shown else None)

    def get_window_shown(self, grid: NumberGrid, after: NumberGrid) -> VGroup:
        """The window's cells as shown after ReLU (zeroed from ``after``, kept from ``grid``)."""
        neg, kept = self.data.negative_cells, self.data.kept_cells
        return VGroup(*[after.get_cell(r, c) for r, c in neg],
                      *[after.get_number(r, c) for r, c in neg],
                      *[grid.get_cell(r, c) for r, c in kept],
                      *[grid.get_number(r, c) for r, c in kept])

    def get_relu_arrow(self, cmap: FeatureMap, rmap: FeatureMap) -> tuple[Arrow, VMobject]:
        """An arrow from the conv map to the ReLU map, and its ``ReLU`` label."""
        arrow = Arrow(cmap.get_right(), rmap.get_left(), buff=0.2, color=colors.INK,
                      stroke_width=3)
        return arrow, label("ReLU", LABEL_SIZE).next_to(arrow, UP, buff=0.12)

    def get_graph(self, width: float = 3.6, height: float = 2.6, formula: str = "formula",
                  span: float | None = None) -> VGroup:
        """Axes and the graph of max(0, x) under the words ``formula``; tick labels are plain
        Text (no LaTeX).

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
        tick = colors.MUTED_TEXT
        ticks = VGroup(
            label(names[0], 20, tick).next_to(axes.c2p(marks[0], 0), DOWN, buff=0.12),
            label(names[1], 20, tick).next_to(axes.c2p(marks[1], 0), DOWN, buff=0.12),
            label(names[2], 20, tick).next_to(axes.c2p(0, marks[1]), LEFT, buff=0.12))
        if span is not None:
            for x, y in ((marks[0], 0), (marks[1], 0), (0, marks[1])):
                d = RIGHT * 0.08 if x == 0 else UP * 0.08
                ticks.add(Line(axes.c2p(x, y) - d, axes.c2p(x, y) + d, color=colors.INK,
                               stroke_width=2))
        xl = label("x", LABEL_SIZE).next_to(axes.x_axis.get_right(), RIGHT, buff=0.1)
        # a formula: drawn in the Latin font in every language
        formula = label(self.words(formula), 28, colors.POSITIVE).next_to(axes, UP, buff=0.2)
        g = VGroup(axes, graph, ticks, xl, formula)
        if span is not None:
            ident = DashedLine(axes.c2p(xr[0], xr[0]), axes.c2p(0, 0), color=colors.MUTED,
                               stroke_width=2, dash_length=0.08)
            g.add(ident)
        return g

    def get_conv_map(self, height: float = MAP_H) -> FeatureMap:
        """The channel's conv map on the shared colour range (zero white, as the page)."""
        return FeatureMap(self.data.conv_map, scale=SCALE, vmax=self.data.vmax, height=height)

    def get_grid(self, values: np.ndarray, cell: float = CELL,
                 like: NumberGrid | None = None) -> NumberGrid:
        """A window's values in activation-coloured cells; with ``like``, its numbers as tall as
        those of ``like`` (the window after ReLU shows numbers of one size with the window)."""
        grid = NumberGrid(values, scale=SCALE, vmax=self.data.vmax, cell=cell,
                          decimals=self.decimals, font_size=26)
        if like is not None:
            for n, sq in zip(grid.numbers, grid.cells):
                n.scale(like.numbers[0].height / n.height).move_to(sq)
        return grid

    def place_why(self, bent: VGroup) -> VGroup:
        """Three short reminders at the right of the bent graph: where ReLU sits, why the bend
        matters (two lines), and its speed."""
        g = VGroup(*[self.get_words(k, 28) for k in ("chain", "collapse", "one_layer", "faster")])
        g.arrange(DOWN, buff=0.5, aligned_edge=LEFT)
        g[2].next_to(g[1], DOWN, buff=0.15, aligned_edge=LEFT).shift(RIGHT * 0.5)
        g[3].next_to(g[2], DOWN, buff=0.5, aligned_edge=LEFT).align_to(g[0], LEFT)
        if g.width > WHY_WIDTH:
            g.scale_to_fit_width(WHY_WIDTH)
        g.move_to([0, bent[0][0].get_center()[1], 0]).align_to(np.array([WHY_LEFT, 0, 0]), LEFT)
        return g
