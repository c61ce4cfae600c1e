"""Max-pooling: a 2x2 window with stride 2 keeps the largest value and halves each map."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from manim import (
    DOWN,
    RIGHT,
    UP,
    Arrow,
    Circumscribe,
    Create,
    FadeIn,
    FadeOut,
    FadeTransform,
    Group,
    ImageMobject,
    Rectangle,
    Square,
    Text,
    Transform,
    UpdateFromAlphaFunc,
    VGroup,
    Write,
)

from cnnanim.draw import colors
from cnnanim.draw.mobjects import FeatureMap, NumberGrid, zoom_lines
from cnnanim.draw.text import label, number
from cnnanim.explain.fit import MAX_ROWS
from cnnanim.explain.numbers import decimals_for, fmt
from cnnanim.explain.pooling import PoolingData, pooling_data
from cnnanim.scenes.base import CnnScene

#: Colour scale of the maps and windows: red-white-blue, zero as white as the page.
SCALE = "activation_white"
#: Output cells not computed yet: white, as CNN Explainer leaves its placeholders.
UNREVEALED = colors.BACKGROUND
#: The input and output maps: their centres' y, the input map's height and centre x, the
#: output map's centre x.
MAP_Y = 0.45
MAP_HEIGHT = 4.0
IN_X, OUT_X = -4.6, 4.95
#: Centre of the enlarged window between the maps, the side of its cells, and the centre x of
#: the enlarged output cell.
WINDOW_AT = (-0.75, 1.0, 0)
CELL = 1.15
OUT_CELL_X = 1.85
#: Size of labels; offset between the stacked maps of the other channels.
LABEL_SIZE = 24
DECK_STEP = 0.05
#: Windows of the first row shown sliding, enlarged, while the intro names the stride; the
#: centre of their enlarged corner and the side of its cells.
INTRO_STEPS = 3
CORNER_AT = (0.6, 1.45, 0)
CORNER_CELL = 0.85


class WindowView(NamedTuple):
    """What one pooling window shows: its box on the input map, the zoom lines, the enlarged
    grid (with its maximum outlined), ``max = m``, the arrow to the enlarged output cell, that
    cell, and the cell's box on the output map with the lines joining them."""

    box: Rectangle
    lines: VGroup
    grid: VGroup
    formula: VGroup
    arrow: Arrow
    cell: NumberGrid
    out_box: Rectangle
    out_lines: VGroup


class Pooling(CnnScene):
    """A 2x2 max-pooling window over a real ReLU map, then the map halving."""

    cli_name = "pooling"
    description = "Max-pooling: 2x2 windows with stride 2 keep the largest value, maps halve"
    chapter = "pooling"
    default_layer = "max_pool_1"
    valid_layer_kinds = ("pool",)

    def setup(self) -> None:
        super().setup()
        self.decimals = decimals_for(self.data.input_map)
        self.revealed = np.zeros(self.data.output_map.shape, dtype=bool)

    def get_data(self) -> PoolingData:
        """The real windows and maps (see :func:`~cnnanim.explain.pooling.pooling_data`)."""
        return pooling_data(self.trace, self.layer, self.neuron)

    def window_beat_key(self) -> str:
        """``window``, or ``window_dead`` when the input channel is zero everywhere."""
        return "window" if self.data.input_map.max() > 0 else "window_dead"

    # -- storyboard -------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.data
        n, m = d.input_map.shape[0], d.output_map.shape[0]
        title = self.get_title(self.words("title", k=d.size, s=d.stride, a=d.input_stage,
                                          b=d.stage))
        inmap, in_label = self.place_input_map()
        outmap, out_label = self.place_output_map()
        corner = self.place_corner(inmap)
        with self.beat("intro", k=d.size, s=d.stride) as b:
            self.show_opening(b, title, inmap, in_label, outmap, out_label)
            self.play(Create(corner[0]), Create(corner[1]), FadeIn(corner[2]),
                      run_time=b.part(0.15))
            self.slide_window(corner, outmap, b.part(0.5))

        w = d.windows[0]
        view = self.place_window(w, inmap, outmap)
        with self.beat(self.window_beat_key(), input=d.input_stage,
                       value=fmt(w.value, self.decimals)) as b:
            self.play(FadeOut(corner), run_time=b.part(0.08))
            self.play(Create(view.box), Create(view.lines), FadeIn(view.grid[0]),
                      run_time=b.part(0.15))
            self.play(Create(view.grid[1]), Write(view.formula), run_time=b.part(0.25))
            self.play(Create(view.arrow), FadeIn(view.cell), Create(view.out_lines),
                      Create(view.out_box), self.reveal_window(outmap, w), run_time=b.part(0.25))

        with self.beat("more") as b:
            share = 0.85 / max(1, len(d.windows) - 1)
            for w in d.windows[1:]:
                view = self.move_window(view, w, inmap, outmap, share * b.duration)

        with self.beat("sweep") as b:
            self.play(FadeOut(VGroup(view.grid, view.formula, view.lines, view.arrow, view.cell,
                                     view.out_lines, view.out_box)), run_time=b.part(0.12))
            self.play(*self.sweep_windows(inmap, outmap, view.box), run_time=b.part(0.7))

        size_in = self.get_size_label(n, in_label)
        size_out = self.get_size_label(m, out_label)
        in_deck, out_deck = self.get_deck(inmap, "inputs"), self.get_deck(outmap, "outputs")
        big_arrow, arrow_label = self.get_pool_arrow(in_deck if len(in_deck) else inmap,
                                                     out_deck if len(out_deck) else outmap)
        with self.beat("halve", n=n, m=m) as b:
            self.play(FadeOut(view.box), Create(big_arrow), FadeIn(arrow_label),
                      run_time=b.part(0.2))
            self.play(FadeIn(size_in), FadeIn(size_out), run_time=b.part(0.2))

        c = len(d.inputs)
        note = self.place_channels_note(big_arrow, c)
        with self.beat("channels" if c > 1 else "channels_one", c=c) as b:
            self.play(self.fade_in_behind(in_deck, out_deck), FadeIn(note),
                      run_time=b.part(0.3))

    # -- narrated verbs ---------------------------------------------------------------------
    def slide_window(self, corner: Group, outmap: FeatureMap, run_time: float) -> None:
        """On the enlarged corner, the window steps ``stride`` cells at a time; under each
        place its maximum appears, and fills its cell of the output map."""
        _, _, grid, box, arrow, cells = corner
        step = run_time / len(cells)
        for k, cell in enumerate(cells):
            if k == 0:
                self.play(Create(box), Create(arrow), run_time=step * 0.4)
            else:
                shift = RIGHT * CORNER_CELL * self.data.stride
                self.play(box.animate.shift(shift), arrow.animate.shift(shift),
                          run_time=step * 0.4)
            self.play(FadeIn(cell), self.reveal_cell(outmap, 0, k), run_time=step * 0.4)
            self.wait(step * 0.2)

    def move_window(self, view: WindowView, w, inmap: FeatureMap, outmap: FeatureMap,
                    run_time: float) -> WindowView:
        """Move the shown window to ``w``: new box, grid, maximum and output cell; reveal it.

        Returns what is shown now (the box, lines and output box are the moved ones).
        """
        new = self.place_window(w, inmap, outmap)
        self.play(Transform(view.box, new.box), Transform(view.lines, new.lines),
                  FadeTransform(view.grid, new.grid), FadeTransform(view.formula, new.formula),
                  FadeTransform(view.cell, new.cell), Transform(view.out_box, new.out_box),
                  Transform(view.out_lines, new.out_lines), run_time=run_time * 0.5)
        self.play(Circumscribe(new.cell, color=colors.HIGHLIGHT, buff=0.06, stroke_width=6),
                  self.reveal_window(outmap, w), run_time=run_time * 0.4)
        return view._replace(grid=new.grid, formula=new.formula, cell=new.cell)

    def reveal_window(self, outmap: FeatureMap, w) -> UpdateFromAlphaFunc:
        """Colour the output cell of window ``w`` half-way through the animation."""
        return self.reveal_cell(outmap, w.row, w.col)

    def reveal_cell(self, outmap: FeatureMap, row: int, col: int) -> UpdateFromAlphaFunc:
        """Colour output cell (row, col) half-way through the animation."""
        return UpdateFromAlphaFunc(outmap, lambda mob, a: self.reveal(mob, [(row, col)])
                                   if a > 0.5 else None)

    def sweep_windows(self, inmap: FeatureMap, outmap: FeatureMap,
                      box: Rectangle) -> tuple[UpdateFromAlphaFunc, UpdateFromAlphaFunc]:
        """The window visits every place, row by row, and each output cell fills behind it."""
        d = self.data
        count = d.output_map.size

        def step(a: float) -> int:
            return min(count - 1, int(a * count))

        def move(mob, a):
            top, left = d.window_corner(step(a))
            mob.move_to(inmap.get_cell_box(top, left, d.size, d.size))

        return (UpdateFromAlphaFunc(box, move),
                UpdateFromAlphaFunc(outmap, lambda mob, a: self.reveal(
                    mob, d.cells_before(step(a) + 1))))

    def reveal(self, outmap: FeatureMap, cells) -> None:
        """Mark ``cells`` of the output map computed and recolour it."""
        for r, c in cells:
            self.revealed[r, c] = True
        outmap.set_values(self.output_rgb())

    def fade_in_behind(self, *decks: Group) -> UpdateFromAlphaFunc:
        """Fade ``decks`` in behind everything already shown (the maps stay in front)."""
        group = Group(*decks)
        self.bring_to_back(group)
        if hasattr(self, "band"):
            self.bring_to_back(self.band)

        def fade(mob, a):
            for fm in mob.get_family():
                if isinstance(fm, ImageMobject):
                    fm.set_opacity(a)
                elif isinstance(fm, Rectangle):
                    fm.set_stroke(opacity=a)

        fade(group, 0.0)
        return UpdateFromAlphaFunc(group, fade)

    # -- builders ---------------------------------------------------------------------------
    def place_input_map(self) -> tuple[FeatureMap, Text]:
        """The input channel at the left, its name below."""
        d = self.data
        inmap = FeatureMap(d.input_map, scale=SCALE, vmax=d.vmax, height=MAP_HEIGHT)
        inmap.move_to([IN_X, MAP_Y, 0])
        return inmap, self.get_map_label(inmap, d.input_stage)

    def place_output_map(self) -> tuple[FeatureMap, Text]:
        """The output channel at the right (white until computed), to scale, its name below."""
        d = self.data
        n, m = d.input_map.shape[0], d.output_map.shape[0]
        outmap = FeatureMap(self.output_rgb(), scale="rgb", height=MAP_HEIGHT * m / n)
        outmap.move_to([OUT_X, MAP_Y, 0])
        return outmap, self.get_map_label(outmap, d.stage)

    def get_map_label(self, fmap: FeatureMap, stage: str) -> Text:
        """``stage  ch c`` under ``fmap``."""
        return self.get_words("map", LABEL_SIZE, stage=stage, c=self.data.channel).next_to(
            fmap, DOWN, buff=0.12)

    def get_size_label(self, n: int, under: Text) -> Text:
        """``n × n`` in bold under the label ``under``."""
        return label(f"{n} × {n}", 26, weight="BOLD").next_to(under, DOWN, buff=0.1)

    def place_corner(self, inmap: FeatureMap) -> Group:
        """The top-left corner of ``inmap`` that the first windows cover, enlarged between the
        maps: (its box on the map, zoom lines, the grid, the window on the grid, an arrow
        down, and each window's maximum under it)."""
        d = self.data
        values, maxima = d.first_windows(INTRO_STEPS)
        region = inmap.get_cell_box(0, 0, *values.shape, stroke_width=3)
        grid = NumberGrid(values, scale=SCALE, vmax=d.vmax, cell=CORNER_CELL,
                          decimals=self.decimals, font_size=22).move_to(np.array(CORNER_AT))
        box = Square(CORNER_CELL * d.size - 0.06, color=colors.HIGHLIGHT, stroke_width=6)
        box.move_to(VGroup(*[grid.get_cell(r, c) for r in range(d.size)
                             for c in range(d.size)]))
        cells = VGroup(*[self.get_grid_cell(v, CORNER_CELL, 22) for v in maxima])
        for k, cell in enumerate(cells):
            cell.next_to(box, DOWN, buff=0.75).shift(RIGHT * CORNER_CELL * d.stride * k)
        arrow = Arrow(box.get_bottom(), cells[0].get_top(), buff=0.08, color=colors.HIGHLIGHT,
                      stroke_width=4, max_tip_length_to_length_ratio=0.35)
        return Group(region, zoom_lines(region, grid), grid, box, arrow, cells)

    def get_deck(self, fmap: FeatureMap, which: str) -> Group:
        """The other channels' real maps (``inputs`` or ``outputs``), stacked behind ``fmap``
        up and to the right, the farthest first (the next ``MAX_ROWS - 1`` of them at most: the
        note under the arrow says how many channels there are)."""
        d = self.data
        deck = Group()
        others = d.other_channels()[:MAX_ROWS - 1]
        for k, ch in reversed(list(enumerate(others, start=1))):
            values = getattr(d, which)[ch]
            vmax = colors.symmetric_range(d.inputs[ch])
            deck.add(FeatureMap(values, scale=SCALE, vmax=vmax, height=fmap.height)
                     .move_to(fmap).shift((UP + RIGHT) * DECK_STEP * k))
        return deck

    def place_window(self, w, inmap: FeatureMap, outmap: FeatureMap) -> WindowView:
        """Window ``w``: its box on ``inmap``, enlarged between the maps, its output cell
        enlarged and outlined on ``outmap``."""
        d = self.data
        box = inmap.get_cell_box(w.top, w.left, d.size, d.size, stroke_width=3)
        grid = self.get_grid(w).move_to(np.array(WINDOW_AT))
        formula = self.get_formula(w).next_to(grid, DOWN, buff=0.3)
        cell = self.get_grid_cell(w.value, CELL, 24).move_to([OUT_CELL_X, WINDOW_AT[1], 0])
        out_box = outmap.get_cell_box(w.row, w.col, stroke_width=3)
        arrow = Arrow(grid.get_right(), cell.get_left(), buff=0.12, color=colors.HIGHLIGHT,
                      stroke_width=4, max_tip_length_to_length_ratio=0.3)
        return WindowView(box, zoom_lines(box, grid[0]), grid, formula, arrow, cell, out_box,
                          zoom_lines(cell, out_box))

    def place_channels_note(self, arrow: Arrow, c: int) -> VGroup:
        """``c channels, each pooled on its own`` and ``no weights to learn`` under ``arrow``."""
        note = VGroup(self.get_words("channels" if c > 1 else "channels_one", LABEL_SIZE, c=c),
                      self.get_words("no_weights", LABEL_SIZE)).arrange(DOWN, buff=0.15)
        if note.width > arrow.width:
            note.scale_to_fit_width(arrow.width)
        return note.next_to(arrow, DOWN, buff=0.3)

    def get_pool_arrow(self, in_deck, out_deck) -> tuple[Arrow, Text]:
        """The arrow from the input maps to the output maps (their decks, or the maps alone
        for a single channel), ``max k×k, stride s`` above it."""
        d = self.data
        arrow = Arrow([in_deck.get_right()[0], MAP_Y, 0], [out_deck.get_left()[0], MAP_Y, 0],
                      buff=0.3, color=colors.INK, stroke_width=4)
        return arrow, self.get_words("op", LABEL_SIZE, k=d.size, s=d.stride).next_to(
            arrow, UP, buff=0.15)

    def output_rgb(self) -> np.ndarray:
        """Output map colours: real colours where revealed, white elsewhere."""
        d = self.data
        rgb = colors.activation_white_rgb(d.output_map, d.vmax)
        rgb[~self.revealed] = colors.hex_to_rgb(UNREVEALED)
        return rgb

    def get_grid(self, w) -> VGroup:
        """The window's real values, its maximum outlined (the outline inside the cell)."""
        g = NumberGrid(w.values, scale=SCALE, vmax=self.data.vmax, cell=CELL,
                       decimals=self.decimals, font_size=24)
        hl = Square(CELL - 0.06, color=colors.HIGHLIGHT, stroke_width=6).move_to(
            g.get_cell(*w.argmax))
        return VGroup(g, hl)

    def get_grid_cell(self, value: float, cell: float, size: float) -> NumberGrid:
        """One output cell, enlarged like its window: its value in its colour."""
        return NumberGrid(np.array([[value]]), scale=SCALE, vmax=self.data.vmax, cell=cell,
                          decimals=self.decimals, font_size=size)

    def get_formula(self, w) -> VGroup:
        """``max = m`` with the window's real maximum."""
        return VGroup(self.get_words("max", 28),
                      number(w.value, self.decimals, 28, colors.POSITIVE)).arrange(RIGHT, buff=0.15)
