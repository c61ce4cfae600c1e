"""Hyper-parameter chapter: padding, kernel size and stride, and combinations that do not fit.

Every scene works on a real patch: an ``input_size`` x ``input_size`` centre crop of one input
channel of the traced layer (the photo's red channel for ``conv_1_1``) and the real kernel of the
chosen neuron for that channel. The numbers shown come from
:mod:`cnnanim.explain.hyperparameters`; the grids are :class:`cnnanim.draw.grids.CellGrid`.

Settings (class attributes, also command-line options): ``input_size`` (N), ``kernel`` (K),
``padding_amount`` (P), ``stride_amount`` (S). An invalid combination renders the failure story
(window positions, the leftover cells in red, the fraction) instead of crashing.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    AnimationGroup,
    Arrow,
    Create,
    FadeIn,
    FadeOut,
    Line,
    Rectangle,
    Square,
    Succession,
    SurroundingRectangle,
    VGroup,
    Write,
)

from cnnanim.draw import colors
from cnnanim.draw.grids import PAD_FILL, CellGrid
from cnnanim.draw.layout import CONTENT_BOTTOM, CONTENT_TOP, SAFE_LEFT, SAFE_RIGHT
from cnnanim.draw.mobjects import FeatureMap
from cnnanim.draw.text import NumberText
from cnnanim.errors import CnnanimError
from cnnanim.explain.hyperparameters import (
    ConvExample,
    coverage,
    example_data,
    get_crop,
    kernel_origin,
    leftover_cells,
    seed_data,
    size_formula,
    windows_over,
)
from cnnanim.explain.numbers import plural
from cnnanim.scenes.base import CnnScene
from cnnanim.speech.narration import Beat

#: Colours of this chapter.
LEFTOVER = "#d62728"      # cells the kernel never reaches in an invalid combination (5.4:1 on white)
WINDOW = colors.HIGHLIGHT
CORNER = "#1f5fd6"        # the input value whose windows the padding scene counts (seen on red)

#: Sizes of grid labels and formulas.
LABEL_SIZE, FORMULA_SIZE = 22, 26
#: Room above a grid for its label, and below the grids for one formula line (scene units).
LABEL_ROOM, FORMULA_ROOM = 0.5, 0.6
#: Centre y of the lowest formula line.
FORMULA_Y = CONTENT_BOTTOM + 0.25
#: Gap between the input, kernel and output columns; the largest cell side.
GAP, LARGEST = 0.5, 0.95
#: Room above the failure story's input for its column numbers; above a kernel for its tag.
INDEX_ROOM, KERNEL_TAG_ROOM = 0.35, 0.8
#: The seed scene: its maps' height (the padded input's, with its ring of padding).
SEED_MAP_HEIGHT = CONTENT_TOP - CONTENT_BOTTOM - LABEL_ROOM - FORMULA_ROOM - 0.1
SEED_LABEL_SIZE = 24


def fade_swap(old, new) -> Succession:
    """``old`` fades out, then ``new`` fades in at its place (texts or grids of different
    content never morph, nor show on top of each other)."""
    return Succession(FadeOut(old), FadeIn(new))


class Layout(NamedTuple):
    """A scene's three columns in the safe area: the (padded) ``m`` x ``m`` input at the left,
    outputs up to ``out`` x ``out`` at the right, the kernel (up to ``k`` x ``k``) between them;
    ``top`` is the y of the input's top edge (its label above it), ``bottom`` the lowest y of
    the kernel and output (formulas below it), the rest are cell sides."""

    m: int
    k: int
    out: int
    top: float
    bottom: float
    input: float
    kernel: float
    output: float

    @property
    def input_right(self) -> float:
        """x of the input column's right edge."""
        return SAFE_LEFT + self.m * self.input

    @property
    def kernel_center(self) -> np.ndarray:
        """Centre of the largest kernel's grid: midway between the columns, level with the
        input, its two-line tag below the content top and its grid above ``bottom``."""
        left = self.input_right + GAP
        right = SAFE_RIGHT - self.out * self.output - (GAP if self.out else 0.0)
        half = self.k * self.kernel / 2
        y = min(max(self.top - self.m * self.input / 2, self.bottom + half),
                CONTENT_TOP - KERNEL_TAG_ROOM - half)
        return np.array([(left + right) / 2, y, 0.0])


def layout(m: int, k: int, out: int = 0, formula_lines: int = 0, top_extra: float = 0.0) -> Layout:
    """The largest cells for an ``m`` x ``m`` input, a ``k`` x ``k`` kernel and outputs up to
    ``out`` x ``out`` side by side in the safe area, each grid under its label (and the input
    ``top_extra`` lower), with ``formula_lines`` lines of formula under the kernel and output."""
    height = CONTENT_TOP - CONTENT_BOTTOM - LABEL_ROOM
    c_in = min(LARGEST, (height - top_extra) / m)
    room = SAFE_RIGHT - SAFE_LEFT - m * c_in - 2 * GAP
    below = height - formula_lines * FORMULA_ROOM
    c_out = min(LARGEST, room / (k + out), below / out) if out else 0.0
    c_k = min(LARGEST, (room - out * c_out) / k, (below + LABEL_ROOM - KERNEL_TAG_ROOM) / k)
    return Layout(m, k, out, CONTENT_TOP - LABEL_ROOM - top_extra,
                  CONTENT_BOTTOM + formula_lines * FORMULA_ROOM, c_in, c_k, c_out)


# ------------------------------------------------------------------------------------------
class HyperScene(CnnScene):
    """Shared settings, builders and verbs of the hyper-parameter scenes (not a scene by itself)."""

    chapter = "hyperparameters"
    default_layer = "conv_1_1"
    valid_layer_kinds = ("conv",)
    input_size: ClassVar[int] = 7
    kernel: ClassVar[int | None] = 3
    padding_amount: ClassVar[int] = 0
    stride_amount: ClassVar[int] = 1
    channel: ClassVar[int] = 0

    # -- settings ---------------------------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        for name, lo in (("input_size", 1), ("padding_amount", 0), ("stride_amount", 1)):
            v = getattr(self, name)
            if int(v) != v or v < lo:
                raise CnnanimError(f"{name.replace('_amount', '').replace('_', ' ')} must be a "
                                   f"whole number >= {lo}, got {v}")
        if self.kernel is not None and (int(self.kernel) != self.kernel or self.kernel < 1):
            raise CnnanimError(f"kernel size must be a whole number >= 1, got {self.kernel}")
        if self.kernel is not None and self.kernel > 7:
            raise CnnanimError(f"kernel size must be at most 7 here, got {self.kernel}")
        if self.padding_amount > 4:
            raise CnnanimError(f"padding must be at most 4 here, got {self.padding_amount}")
        self.n, self.p, self.s = int(self.input_size), int(self.padding_amount), int(self.stride_amount)
        self.k = int(self.kernel) if self.kernel is not None else 3
        n_ch = self.trace[self.layer].input.shape[0]
        if not 0 <= self.channel < n_ch:
            raise CnnanimError(f"channel must be between 0 and {n_ch - 1}, got {self.channel}")
        get_crop(self.trace, self.layer, self.n, self.channel)  # validates the input size

    def narration_text(self, key: str, **values) -> str:
        if key in self.FAIL_NARRATION and key not in self.NARRATION:
            return self._in_lang("FAIL_NARRATION", key, values)
        return super().narration_text(key, **values)

    # -- data -------------------------------------------------------------------------------
    def example(self, k: int | None = None, p: int | None = None, s: int | None = None) -> ConvExample:
        """:func:`example_data` for this scene's crop with the given (or the scene's) K, P, S."""
        return example_data(self.trace, self.layer, self.neuron, self.n,
                            self.k if k is None else k, self.p if p is None else p,
                            self.s if s is None else s, self.channel)

    @property
    def input_scale(self) -> str:
        if self.layer == "conv_1_1" and self.trace.image.shape[0] == 3:
            return ("red", "green", "blue")[self.channel]
        return "input" if self.layer == "conv_1_1" else "activation"

    # -- words ------------------------------------------------------------------------------
    def source_name(self) -> str:
        """Where the crop comes from, in the scene's language."""
        if self.layer == "conv_1_1":
            if self.trace.image.shape[0] == 3:
                return self.words("source_" + ("red", "green", "blue")[self.channel])
            return self.words("source_grey")
        prev = self.trace.stage_names()[self.trace.stage_names().index(self.layer) - 1]
        return self.words("source_map", channel=self.channel, prev=prev)

    def plural_words(self, n: int, word: str) -> str:
        """``1 window position`` / ``4 window positions`` in English, the bare number in Chinese."""
        return str(n) if self.lang == "zh" else plural(n, word)

    # -- builders (no playing); they place on ``self.lay`` (see :func:`layout`) ---------------
    def get_input_grid(self, ex: ConvExample, pad: int | None = None) -> CellGrid:
        """The crop (and ``pad`` rings of padding, default the example's), its top-left corner
        at the safe area's left edge and the grids' top."""
        g = CellGrid(ex.crop, ex.p if pad is None else pad, self.lay.input, scale=self.input_scale)
        return g.move_to(np.array([SAFE_LEFT + g.width / 2, self.lay.top - g.height / 2, 0]))

    def get_unpadded_grid(self, grid: CellGrid, ex: ConvExample) -> CellGrid:
        """The crop of ``ex`` (no padding) over the inner cells of the padded ``grid``."""
        return self.get_input_grid(ex, pad=0).move_to(grid.inner)

    def get_output_grid(self, ex: ConvExample, vmax: float | None = None) -> CellGrid:
        """The output as an outline at the top-right; cells appear as the window reaches them."""
        g = CellGrid(ex.output, 0, self.lay.output, scale="activation", vmax=vmax, blank=True)
        return g.move_to(np.array([SAFE_RIGHT - g.width / 2, self.lay.top - g.height / 2, 0]))

    def get_kernel(self, ex: ConvExample, vmax: float, note: bool = False) -> VGroup:
        """The kernel's cells (``.grid``) at the kernel's place, under its tag (on two lines,
        with "(illustrative)" or, given ``note``, "(the network's)")."""
        g = CellGrid(ex.kernel, 0, self.lay.kernel, scale="weight", vmax=vmax)
        tag = self.get_words("kernel", LABEL_SIZE, k=ex.k)
        if note or not ex.real:
            key = "note_real" if ex.real else "note_illustrative"
            tag = VGroup(tag, self.get_words(key, LABEL_SIZE)).arrange(DOWN, buff=0.08)
        grp = VGroup(g, tag.next_to(g, UP, buff=0.15))
        grp.shift(self.lay.kernel_center - g.get_center())
        grp.grid = g
        return grp

    def get_grid_label(self, grid, key: str, **values):
        """Words ``key`` just above ``grid``."""
        return self.get_words(key, LABEL_SIZE, **values).next_to(grid, UP, buff=0.15)

    def get_size_label(self, grid, n: int, p: int = 0):
        """``input N×N`` (``+ padding P``) above an input grid."""
        return self.get_grid_label(grid, "input_padded" if p else "input", n=n, p=p)

    def get_output_label(self, grid: CellGrid, m: int):
        """``output M×M`` above an output grid."""
        return self.get_grid_label(grid, "output", m=m)

    def get_formula(self, ex: ConvExample, color: str = colors.INK, line: int = 0):
        """``output size = (N - K + 2×P) / S + 1 = ...`` on formula line ``line`` (0: the
        lowest) at the bottom right, never reaching the input column."""
        return self.place_formula(self.get_words("formula", FORMULA_SIZE, color,
                                                 formula=size_formula(ex.check)), line)

    def place_formula(self, t, line: int = 0):
        """``t`` right-aligned at the safe area's right edge on formula line ``line``."""
        widest = SAFE_RIGHT - self.lay.input_right - GAP
        if t.width > widest:
            t.scale_to_fit_width(widest)
        return t.move_to(np.array([SAFE_RIGHT - t.width / 2,
                                   FORMULA_Y + FORMULA_ROOM * line, 0]))

    def get_formula_marker(self, formulas) -> Rectangle:
        """A light highlight behind ``formulas`` (the text keeps its contrast)."""
        return SurroundingRectangle(formulas, buff=0.06, stroke_width=0, fill_color=WINDOW,
                                    fill_opacity=0.22)

    def get_leftover_mark(self, grid: CellGrid, row: int, col: int) -> VGroup:
        """A cell the kernel never reaches: washed out, red outline, red cross."""
        box = grid.box(row, col, color=LEFTOVER, stroke_width=4).set_fill(colors.BACKGROUND, 0.55)
        d = grid.cell * 0.38
        c = box.get_center()
        cross = VGroup(Line(c + (LEFT + UP) * d, c + (RIGHT + DOWN) * d),
                       Line(c + (LEFT + DOWN) * d, c + (RIGHT + UP) * d)).set_stroke(LEFTOVER, 3)
        return VGroup(box, cross)

    def get_column_numbers(self, grid: CellGrid) -> VGroup:
        """The column numbers 0, 1, ... above ``grid`` (padded columns, counted from 0)."""
        nums = VGroup()
        for c in range(grid.cols):
            top = grid.by_pos[(0, c)][0].get_top()
            nums.add(NumberText(str(c), 17).move_to(top + UP * INDEX_ROOM / 2))
        return nums

    # -- verbs --------------------------------------------------------------------------------
    def sweep(self, grid: CellGrid, out: CellGrid, ex: ConvExample, run_time: float,
              window: Rectangle | None = None, out_box: Rectangle | None = None):
        """Slide the window over ``grid`` position by position and reveal ``out`` in step.

        One play per output row (a succession of steps): the first row slowly, the others
        faster. Returns (window, out_box) left at the last position.
        """
        m = len(ex.starts)
        start_time = 0.0
        if window is None:
            window = grid.box(0, 0, ex.k, ex.k)
            out_box = out.box(0, 0, color=WINDOW, stroke_width=4)
            start_time = min(0.1 * run_time, 0.5)
            self.play(Create(window), Create(out_box), run_time=start_time)
        left = run_time - start_time
        first = left * (0.4 if m > 1 else 1.0)
        rest = (left - first) / max(1, m - 1)
        for i, top in enumerate(ex.starts):
            steps = [AnimationGroup(window.animate.move_to(grid.box(top, a, ex.k, ex.k)),
                                    out_box.animate.move_to(out.box(i, j)),
                                    FadeIn(out.by_pos[(i, j)]))
                     for j, a in enumerate(ex.starts)]
            self.play(Succession(*steps), run_time=first if i == 0 else rest)
        return window, out_box

    def get_cell_mark(self, grid: CellGrid, row: int, col: int) -> Square:
        """A blue square just inside cell (``row``, ``col``), clear of the windows' outlines."""
        return Square(grid.cell * 0.92, stroke_color=CORNER, stroke_width=4).move_to(
            grid.by_pos[(row, col)][0])

    def show_windows_over(self, grid: CellGrid, out: CellGrid, ex: ConvExample, row: int,
                          col: int, on_top, run_time: float) -> VGroup:
        """The window at each position covering padded cell (``row``, ``col``) in turn, each
        leaving a thin outline and marking the output number it makes, ``on_top`` kept above
        them; returns the marks."""
        windows, cells = VGroup(), VGroup()
        places = windows_over(ex.starts, ex.k, row, col)
        for i, j in places:
            win = grid.box(ex.starts[i], ex.starts[j], ex.k, ex.k, stroke_width=6)
            cell = out.box(i, j, stroke_width=5)
            self.add(win, cell)
            self.bring_to_front(on_top)  # the marked cell stays visible over the windows
            self.play(Create(win), Create(cell), *[w.animate.set_stroke(width=2.5) for w in windows],
                      run_time=run_time / len(places))
            windows.add(win)
            cells.add(cell)
        return VGroup(windows, cells)

    def slide_off_the_edge(self, grid: CellGrid, ex: ConvExample, b: Beat) -> VGroup:
        """The window along the top row, leaving a trail and boxing each column number it lands
        on (``self.column_numbers``); then, in red, the jump off the edge. Returns the ghost."""
        boxes = VGroup(*[grid.box(0, a, ex.k, ex.k, stroke_width=4) for a in ex.starts])
        nums = self.column_numbers
        landed = VGroup(*[SurroundingRectangle(nums[a], color=WINDOW, buff=0.05, stroke_width=3)
                          for a in ex.starts])
        window = grid.box(0, 0, ex.k, ex.k)
        self.play(FadeIn(nums), Create(window), Create(landed[0]), run_time=b.part(0.1))
        trail = boxes.copy().set_stroke(WINDOW, 2, opacity=0.7)
        self.add(trail[0])
        for bx, tr, mark in zip(boxes[1:], trail[1:], landed[1:]):
            self.play(window.animate.move_to(bx), Create(mark),
                      run_time=b.part(0.5 / max(1, len(boxes) - 1)))
            self.add(tr)
        ghost = grid.box(0, ex.starts[-1] + ex.s, ex.k, ex.k, color=LEFTOVER)
        ghost.set_stroke(opacity=0.8)
        self.play(Create(ghost), run_time=b.part(0.15))
        return ghost

    def show_invalid(self, ex: ConvExample) -> None:
        """The failure story of an invalid combination."""
        ch = ex.check
        m = ex.padded_size
        self.lay = layout(max(m, ex.k), ex.k, formula_lines=1, top_extra=INDEX_ROOM)
        title = self.get_title(self.words("title_invalid"))
        grid = self.input_grid = self.get_input_grid(ex)
        self.column_numbers = self.get_column_numbers(grid)
        lab = self.get_size_label(self.column_numbers, ex.n, ex.p)
        kern = self.get_kernel(ex, colors.symmetric_range(ex.kernel))
        values = dict(n=ex.n, k=ex.k, p=ex.p, s=ex.s, m=m)
        with self.beat("fail_setup", **values) as b:
            self.show_opening(b, title, grid, lab, kern)
        if ch.exact < 1 or m < ex.k:  # the kernel does not fit at all
            with self.beat("fail_big", **values) as b:
                self.play(Create(grid.box(0, 0, ex.k, ex.k, color=LEFTOVER)), run_time=b.part(0.4))
                self.play(Write(self.get_formula(ex, LEFTOVER)), run_time=b.part(0.3))
            return
        with self.beat("fail_slide", starts=self.words("list_sep").join(map(str, ex.starts)),
                       s=ex.s) as b:
            ghost = self.slide_off_the_edge(grid, ex, b)
        self.leftover_cells = leftover_cells(m, ch.leftover)
        marks = VGroup(*[self.get_leftover_mark(grid, r, c) for r, c in self.leftover_cells])
        left = plural(ch.leftover, "column") + " and " + plural(ch.leftover, "row")
        with self.beat("fail_leftover", left=left, count=ch.leftover) as b:
            self.play(FadeOut(ghost), FadeIn(marks, lag_ratio=0.02),
                      run_time=b.part(0.4, at_most=1.5))
        fraction = f"{ch.exact.numerator}/{ch.exact.denominator}"
        with self.beat("fail_fraction", fraction=fraction) as b:
            self.play(Write(self.get_formula(ex, LEFTOVER)), run_time=b.part(0.4, at_most=1.5))


# ------------------------------------------------------------------------------------------
class Padding(HyperScene):
    """Zero padding around a real patch keeps the output the size of the input."""

    cli_name = "padding"
    description = "Padding: zeros around the input keep its size and its border information"
    padding_amount = 1

    def setup(self) -> None:
        super().setup()
        if self.p < 1:
            raise CnnanimError("the padding scene compares padding >= 1 with none; "
                               "use --padding 1 or more")

    def get_padding_data(self) -> dict:
        """Both examples (with and without padding) and the corner coverage counts."""
        ex = self.example()
        ex0 = self.example(p=0)
        c1 = int(coverage(self.n, self.k, self.p, self.s)[0, 0])
        c0 = int(coverage(self.n, self.k, 0, self.s)[0, 0])
        outs = [e.output for e in (ex, ex0) if e.output is not None]
        vmax = max(colors.symmetric_range(o) for o in outs) if outs else 1.0
        return dict(ex=ex, ex0=ex0, c1=c1, c0=c0, vmax=vmax)

    def size_change_words(self, out_n: int) -> str:
        """How an output of ``out_n`` compares with the N x N input."""
        key = "same_size" if out_n == self.n else "smaller" if out_n < self.n else "larger"
        return self.words(key, n=self.n)

    def construct(self) -> None:
        d = self.get_padding_data()
        ex, ex0 = d["ex"], d["ex0"]
        if not ex.check.valid:
            self.show_invalid(ex)
            return
        self.lay = layout(ex.padded_size, ex.k, ex.check.output_size)
        title = self.get_title(self.words("title"))
        grid = self.input_grid = self.get_input_grid(ex)
        lab = self.get_size_label(grid, self.n)
        kern = self.get_kernel(ex, colors.symmetric_range(ex.kernel))
        with self.beat("input", n=self.n, k=self.k, source=self.source_name(), layer=self.layer,
                       neuron=self.neuron) as b:
            self.show_opening(b, title, grid.inner, lab, kern)
        padded_lab = self.get_size_label(grid, self.n, self.p)
        with self.beat("pad", p=self.p, rings=plural(self.p, "ring"), m=ex.padded_size) as b:
            self.play(FadeIn(grid.padding, lag_ratio=0.02), fade_swap(lab, padded_lab),
                      run_time=b.part(0.5, at_most=1.5))
        out_n = ex.check.output_size
        out = self.get_output_grid(ex, d["vmax"])
        out_lab = self.get_output_label(out, out_n)
        with self.beat("slide", out=out_n, same=self.size_change_words(out_n)) as b:
            self.play(FadeIn(out), FadeIn(out_lab), run_time=b.part(0.1))
            window, out_box = self.sweep(grid, out, ex, b.part(0.8))
        corner = self.get_cell_mark(grid, self.p, self.p)
        with self.beat("border", c1=d["c1"], c1_windows=plural(d["c1"], "window position"),
                       c1_outputs=plural(d["c1"], "output number")) as b:
            self.play(FadeOut(window), FadeOut(out_box), Create(corner), run_time=b.part(0.15))
            marks = self.show_windows_over(grid, out, ex, self.p, self.p, corner, b.part(0.6))
        if not ex0.check.valid:
            return
        grid0 = self.get_unpadded_grid(grid, ex0)
        lab0 = self.get_size_label(grid0, self.n)
        out0 = self.get_output_grid(ex0, d["vmax"])
        out0_lab = self.get_output_label(out0, ex0.check.output_size)
        with self.beat("nopad", out0=ex0.check.output_size) as b:
            self.play(FadeOut(grid.padding), FadeOut(corner), FadeOut(marks),
                      FadeOut(out.everything()), FadeOut(out_lab), FadeOut(padded_lab),
                      run_time=b.part(0.12))
            # the new label where the padding was: after it has gone
            self.play(FadeIn(lab0), FadeIn(out0), FadeIn(out0_lab), run_time=b.part(0.08))
            window, out_box = self.sweep(grid0, out0, ex0, b.part(0.65))
        corner0 = self.get_cell_mark(grid0, 0, 0)
        with self.beat("corner0", c0=d["c0"], c0_windows=plural(d["c0"], "window position")) as b:
            self.play(FadeOut(window), FadeOut(out_box), Create(corner0), run_time=b.part(0.15))
            self.show_windows_over(grid0, out0, ex0, 0, 0, corner0, b.part(0.3))


class KernelSize(HyperScene):
    """Kernels of size 2, 3 and 5 on the same patch: bigger kernels, smaller outputs."""

    cli_name = "kernel-size"
    description = "Kernel size: 2x2, 3x3 and 5x5 kernels on the same patch, and the output sizes"
    kernel = None  # None: compare 2, 3 and 5; a number: compare it with the real 3x3

    def kernel_sizes(self) -> list[int]:
        return [2, 3, 5] if self.kernel is None else sorted({3, int(self.kernel)})

    def real_kernel_size(self) -> int:
        """R, the side of the network's own kernel."""
        return self.trace[self.layer].kernel_size or 3

    def get_kernel_size_data(self) -> dict:
        """One example per kernel size, the colour range shared by their outputs."""
        exs = [self.example(k=k) for k in self.kernel_sizes()]
        outs = [e.output for e in exs if e.output is not None]
        vmax = max(colors.symmetric_range(o) for o in outs) if outs else 1.0
        return dict(examples=exs, vmax=vmax,
                    kernel_vmax=colors.symmetric_range(self.trace[self.layer].weight[self.neuron, self.channel]))

    def get_real_example(self, examples: list[ConvExample]) -> ConvExample:
        """The example with the network's own kernel (made when none of ``examples`` has it)."""
        real = [e for e in examples if e.real]
        return real[0] if real else self.example(k=self.real_kernel_size())

    def derived_key(self, k: int) -> str:
        """The narration beat saying how the K x K example kernel comes from the real one."""
        return "derived_" + kernel_origin(k, self.real_kernel_size())

    # -- builders -------------------------------------------------------------------------------
    def place_kernel_row(self, examples: list[ConvExample], vmax: float) -> dict[int, VGroup]:
        """Every kernel (under its two-line tag) in a row right of the input, smallest first,
        bottom-aligned with the largest kernel's place: size -> kernel."""
        kernels = [self.get_kernel(e, vmax, note=True) for e in sorted(examples, key=lambda e: e.k)]
        left = self.lay.input_right + GAP
        gap = min(0.8, (SAFE_RIGHT - left - sum(k.grid.width for k in kernels)) / max(1, len(kernels) - 1))
        bottom = self.lay.kernel_center[1] - self.lay.k * self.lay.kernel / 2
        row = VGroup(*kernels)
        for k in kernels:
            k.shift(UP * (bottom - k.grid.get_bottom()[1]))
        x = 0.0
        for k in kernels:
            k.shift(RIGHT * (x - k.grid.get_left()[0]))
            x = k.grid.get_right()[0] + gap
        row.shift(RIGHT * ((left + SAFE_RIGHT) / 2 - (kernels[0].grid.get_left()[0]
                                                      + kernels[-1].grid.get_right()[0]) / 2))
        return {e.k: k for e, k in zip(sorted(examples, key=lambda e: e.k), kernels)}

    def get_origin_box(self, row: dict[int, VGroup], k: int) -> Rectangle:
        """Where the K x K kernel's numbers sit in the real one (a block cut from it), or where
        the real one sits in it (zeros added around)."""
        r = self.real_kernel_size()
        if k < r:
            a = (r - k) // 2
            return row[r].grid.box(a, a, k, k, stroke_width=5)
        a = (k - r) // 2
        return row[k].grid.box(a, a, r, r, stroke_width=5)

    def get_summary_row(self, examples: list[ConvExample], vmax: float) -> VGroup:
        """Every output at one cell size (colours only) under ``kernel K×K`` / ``output M×M``,
        bottom-aligned in a row right of the input."""
        left = self.lay.input_right + GAP
        cells = sum(e.check.output_size for e in examples)
        cell = min(self.lay.output, (SAFE_RIGHT - left - GAP * (len(examples) - 1)) / cells)
        row = VGroup()
        for e in examples:
            g = CellGrid(e.output, 0, cell, scale="activation", vmax=vmax, decimals=None,
                         numbers=False)
            tag = VGroup(self.get_words("kernel", LABEL_SIZE, k=e.k),
                         self.get_words("output", LABEL_SIZE, m=e.check.output_size))
            row.add(VGroup(g, tag.arrange(DOWN, buff=0.08).next_to(g, UP, buff=0.15)))
        row.arrange(RIGHT, buff=GAP, aligned_edge=DOWN)
        bottom = self.lay.top - self.lay.m * self.lay.input  # level with the input's bottom
        return row.move_to(np.array([(left + SAFE_RIGHT) / 2, bottom + row.height / 2, 0]))

    def get_nested_windows(self, grid: CellGrid, sizes: list[int]) -> VGroup:
        """Windows of every size at the input's top-left corner (how much each sees at once)."""
        return VGroup(*[grid.box(0, 0, k, k, stroke_width=4) for k in sizes])

    # -- storyboard -------------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.get_kernel_size_data()
        exs = d["examples"]
        bad = next((e for e in exs if not e.check.valid), None)
        if bad is not None:
            self.show_invalid(bad)
            return
        r = self.real_kernel_size()
        real = self.get_real_example(exs)
        every = sorted({e.k: e for e in exs + [real]}.values(), key=lambda e: e.k)
        self.lay = layout(self.n + 2 * self.p, max(e.k for e in every),
                          max(e.check.output_size for e in exs), formula_lines=1)
        title = self.get_title(self.words("title"))
        grid = self.input_grid = self.get_input_grid(exs[0])
        lab = self.get_size_label(grid, self.n, self.p)
        sizes = self.kernel_sizes()
        with self.beat("input", n=self.n, source=self.source_name()) as b:
            self.show_opening(b, title, grid, lab)
        row = self.place_kernel_row(every, d["kernel_vmax"])
        with self.beat("honest", r=r) as b:
            self.play(FadeIn(row[r]), run_time=b.part(0.3))
        hint = VGroup()  # where the last derived kernel comes from, until the next beat
        for e in every:
            if e.k == r:
                continue
            with self.beat(self.derived_key(e.k), k=e.k) as b:
                self.play(FadeOut(hint), FadeIn(row[e.k]), run_time=b.part(0.3))
                hint = self.get_origin_box(row, e.k)
                self.play(Create(hint), run_time=b.part(0.3))
        shown = VGroup(hint, *[row[e.k] for e in every if e.k not in sizes])
        for i, ex in enumerate(exs):
            kern = row[ex.k]
            to_slot = self.lay.kernel_center - kern.grid.get_center()
            out = self.get_output_grid(ex, d["vmax"])
            out_lab = self.get_output_label(out, ex.check.output_size)
            formula = self.get_formula(ex)
            with self.beat("size", k=ex.k, kk=ex.k * ex.k, out=ex.check.output_size) as b:
                if i == 0:  # the row's other kernels go, this one moves to its place
                    others = VGroup(*[row[e.k] for e in exs[1:]])
                    self.play(FadeOut(shown), FadeOut(others), kern.animate.shift(to_slot),
                              FadeIn(out), FadeIn(out_lab), FadeIn(formula), run_time=b.part(0.15))
                else:
                    self.play(FadeOut(shown), FadeIn(kern.shift(to_slot)), FadeIn(out),
                              FadeIn(out_lab), FadeIn(formula), run_time=b.part(0.15))
                window, out_box = self.sweep(grid, out, ex, b.part(0.7))
                shown = VGroup(kern, out.everything(), out_lab, formula, window, out_box)
        summary = self.get_summary_row(exs, d["vmax"])
        nested = self.get_nested_windows(grid, sizes)
        with self.beat("summary") as b:
            self.play(FadeOut(shown), FadeIn(summary), FadeIn(nested), run_time=b.part(0.2))


class Stride(HyperScene):
    """Stride 1, then a bigger stride, over the same patch; the output-size formula."""

    cli_name = "stride"
    description = "Stride: the window jumps further, the output gets smaller; the size formula"
    stride_amount = 2

    def get_stride_data(self) -> dict:
        """The stride-1 example and the stride-S example (the same when S is 1)."""
        ex1 = self.example(s=1)
        exs = self.example()
        outs = [e.output for e in (ex1, exs) if e.output is not None]
        vmax = max(colors.symmetric_range(o) for o in outs) if outs else 1.0
        return dict(ex1=ex1, exs=exs, vmax=vmax)

    def construct(self) -> None:
        d = self.get_stride_data()
        ex1, exs = d["ex1"], d["exs"]
        for ex in (ex1, exs):
            if not ex.check.valid:
                self.show_invalid(ex)
                return
        self.lay = layout(ex1.padded_size, self.k, ex1.check.output_size, formula_lines=2)
        title = self.get_title(self.words("title"))
        grid = self.input_grid = self.get_input_grid(ex1)
        lab = self.get_size_label(grid, self.n, self.p)
        kern = self.get_kernel(ex1, colors.symmetric_range(ex1.kernel))
        with self.beat("input", n=self.n, k=self.k, source=self.source_name()) as b:
            self.show_opening(b, title, grid, lab, kern)
        out1 = self.get_output_grid(ex1, d["vmax"])
        lab1 = self.get_output_label(out1, ex1.check.output_size)
        f1 = self.get_formula(ex1)
        with self.beat("stride1", out=ex1.check.output_size) as b:
            self.play(FadeIn(out1), FadeIn(lab1), run_time=b.part(0.1))
            window, box = self.sweep(grid, out1, ex1, b.part(0.75))
            self.play(FadeIn(f1), run_time=b.part(0.1))
        formula = f1
        if exs.s != 1:
            out_s = self.get_output_grid(exs, d["vmax"])
            lab_s = self.get_output_label(out_s, exs.check.output_size)
            fs = self.get_formula(exs)
            with self.beat("strideS", s=exs.s, out=exs.check.output_size) as b:
                self.play(FadeOut(VGroup(out1.everything(), lab1, window, box)), FadeIn(out_s),
                          FadeIn(lab_s), fade_swap(f1, fs), run_time=b.part(0.15))
                self.sweep(grid, out_s, exs, b.part(0.75))
            formula = fs
        general = self.place_formula(self.get_words("formula_general", LABEL_SIZE), line=1)
        marker = self.get_formula_marker(VGroup(general, formula))
        with self.beat("formula", formula=size_formula(exs.check)) as b:
            self.add(marker)
            self.bring_to_front(formula)
            self.play(FadeIn(marker), FadeIn(general), run_time=b.part(0.2, at_most=1.0))


class InvalidConv(HyperScene):
    """A kernel that cannot slide symmetrically: the positions, the leftover cells, the fraction."""

    cli_name = "conv-invalid"
    description = "Invalid hyper-parameters: the kernel cannot slide symmetrically (N=7, K=3, P=0, S=3)"
    stride_amount = 3

    def construct(self) -> None:
        ex = self.example()
        if ex.check.valid:
            self.lay = layout(ex.padded_size, ex.k, formula_lines=1)
            with self.beat("valid", formula=size_formula(ex.check)) as b:
                self.show_opening(b, self.get_formula(ex))
            return
        self.show_invalid(ex)


class PaddingSeed(CnnScene):
    """The seed preset's network pads its first layer: 28x28 in, 28x28 out."""

    cli_name = "padding-seed"
    description = "A real padded network: the seed model's conv_1_1 keeps 28x28"
    chapter = "hyperparameters"
    #: Weights of the seed preset (None: the shipped weights/seed.safetensors).
    seed_weights: ClassVar[str | None] = None

    def setup(self) -> None:
        super().setup()
        # a model that pads its first layer is its own example; else the seed model is
        self.own_model = bool(self.trace["conv_1_1"].padding) and type(self).seed_weights is None
        self.seed_trace = self.trace if self.own_model else get_seed_trace(self.seed_weights)
        n_out = self.seed_trace["conv_1_1"].output.shape[0]
        if not 0 <= self.neuron < n_out:
            raise CnnanimError(f"neuron must be between 0 and {n_out - 1}, got {self.neuron}")

    def get_seed_data(self) -> dict:
        """The seed model's input, the neuron's map and the size check (see :func:`seed_data`)."""
        return seed_data(self.seed_trace, self.neuron)

    # -- builders -------------------------------------------------------------------------------
    def map_height(self, d: dict) -> float:
        """Height of an unpadded map: the padded input fills the room between label and formula."""
        return SEED_MAP_HEIGHT * d["n"] / (d["n"] + 2 * d["p"])

    def get_seed_input(self, d: dict) -> tuple[FeatureMap, VGroup]:
        """The input at the left of the safe area (room left for its padding), its size above."""
        img = FeatureMap(d["image"], scale="input" if d["image"].ndim == 2 else "rgb",
                         height=self.map_height(d))
        ring = img.cell_size * d["p"]
        img.move_to(np.array([SAFE_LEFT + 0.3 + ring + img.width / 2,
                              CONTENT_TOP - LABEL_ROOM - ring - img.height / 2, 0]))
        return img, self.get_seed_label(img, d)

    def get_seed_label(self, img: FeatureMap, d: dict, padded: bool = False):
        """``input N×N`` (``+ padding P``) above the input (and its padding)."""
        words = self.get_words("input_padded" if padded else "input", SEED_LABEL_SIZE, n=d["n"],
                               p=d["p"])
        ring = img.cell_size * d["p"]
        return words.next_to(img, UP, buff=0.15 + ring)

    def get_padding_ring(self, img: FeatureMap, d: dict) -> VGroup:
        """The zero padding around the input: a grey frame ``p`` pixels wide, outlined."""
        ring = img.cell_size * d["p"]
        w, h = img.width, img.height
        c = img.get_center()
        strips = VGroup(*[Rectangle(width=sw, height=sh, stroke_width=0, fill_color=PAD_FILL,
                                    fill_opacity=1).move_to(c + off)
                          for sw, sh, off in ((w + 2 * ring, ring, UP * (h + ring) / 2),
                                              (w + 2 * ring, ring, DOWN * (h + ring) / 2),
                                              (ring, h, LEFT * (w + ring) / 2),
                                              (ring, h, RIGHT * (w + ring) / 2))])
        outline = Square(h + 2 * ring, stroke_color=colors.INK, stroke_width=1.5).move_to(c)
        return VGroup(strips, outline)

    def get_seed_map(self, img: FeatureMap, d: dict) -> tuple[FeatureMap, VGroup, Square]:
        """The chosen neuron's conv_1_1 map at the right, as tall as the input; its name and size
        above it; a white placeholder where it will be."""
        fmap = FeatureMap(d["map"], scale="activation", height=img.height)
        fmap.move_to(np.array([SAFE_RIGHT - 0.3 - fmap.width / 2, img.get_center()[1], 0]))
        words = self.get_words("map", SEED_LABEL_SIZE, neuron=self.neuron, m=d["m"])
        placeholder = Square(fmap.height, stroke_color=colors.INK, stroke_width=1.5,
                             fill_color=colors.BACKGROUND, fill_opacity=1).move_to(fmap)
        return fmap, words.next_to(fmap, UP, buff=0.15 + img.cell_size * d["p"]), placeholder

    def get_arrow(self, img: FeatureMap, fmap: FeatureMap, d: dict) -> tuple[Arrow, VGroup]:
        """The arrow from input to map, labelled with the kernel size and padding."""
        ring = img.cell_size * d["p"]
        arrow = Arrow(img.get_right() + RIGHT * ring, fmap.get_left(), buff=0.3, color=colors.INK)
        return arrow, self.get_words("arrow", SEED_LABEL_SIZE, k=d["k"], p=d["p"]).next_to(
            arrow, UP, buff=0.15)

    # -- storyboard -------------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.get_seed_data()
        title = self.get_title(self.words("title_own" if self.own_model else "title"))
        img, img_lab = self.get_seed_input(d)
        ring = self.get_padding_ring(img, d)
        padded_lab = self.get_seed_label(img, d, padded=True)
        fmap, map_lab, placeholder = self.get_seed_map(img, d)
        arrow, arrow_lab = self.get_arrow(img, fmap, d)
        p, k = d["p"], d["k"]
        window = img.get_cell_box(-p, -p, k, k, stroke_width=4)
        out_cell = fmap.get_cell_box(0, 0, stroke_width=4)
        formula = self.get_words("formula", FORMULA_SIZE, formula=size_formula(d["check"]))
        formula.move_to(np.array([0, FORMULA_Y, 0]))
        kind = self.words("grey" if d["image"].ndim == 2 else "colour")
        with self.beat("own" if self.own_model else "seed", n=d["n"], k=k, p=p, kind=kind) as b:
            self.show_opening(b, title, img, img_lab)
            self.wait(b.part(0.3))
            self.play(FadeIn(ring), fade_swap(img_lab, padded_lab), Create(window),
                      Create(arrow), FadeIn(arrow_lab), FadeIn(placeholder), run_time=b.part(0.3))
        with self.beat("keep", neuron=self.neuron, m=d["m"]) as b:
            self.play(FadeOut(placeholder), FadeIn(fmap), FadeIn(map_lab), Create(out_cell),
                      run_time=b.part(0.3, at_most=1.5))
            self.play(Write(formula), run_time=b.part(0.3))


def get_seed_trace(weights: str | None = None):
    """Trace of the bundled photo (as the seed preset reads it) through the seed weights,
    cached like every trace (never stale)."""
    from cnnanim.network.trace_cache import get_trace

    return get_trace(None, weights, preset="seed", use_env=False)
