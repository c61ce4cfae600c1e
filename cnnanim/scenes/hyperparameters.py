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

from typing import ClassVar

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
    ReplacementTransform,
    Succession,
    Transform,
    VGroup,
    Write,
)

from cnnanim.draw import colors
from cnnanim.draw.grids import CellGrid, grid_cell
from cnnanim.draw.mobjects import FeatureMap
from cnnanim.errors import CnnanimError
from cnnanim.explain.hyperparameters import (
    ConvExample,
    covering_starts,
    coverage,
    example_data,
    get_crop,
    kernel_origin,
    leftover_cells,
    plural,
    seed_data,
)
from cnnanim.scenes.base import CnnScene
from cnnanim.speech.narration import Beat

#: Colours of this chapter.
LEFTOVER = "#d62728"      # cells the kernel never reaches in an invalid combination
WINDOW = colors.HIGHLIGHT

#: The chapter's margins: the input grid starts at GRID_LEFT, the output grid and the formula
#: end at GRID_RIGHT (inside the frame's safe area).
GRID_LEFT, GRID_RIGHT = -6.5, 6.5
#: Top of the grids, and the line for formulas under them.
GRID_TOP = 2.6
FORMULA_Y = -2.17
#: Room (scene units) for the side of the padded input grid, of the output grid, and of the
#: padded input or the kernel in the failure story.
INPUT_ROOM, OUTPUT_ROOM, FAILURE_ROOM = 4.95, 4.2, 4.0
#: Centre of the kernel (and its tag), between the input and the output.
KERNEL_AT = np.array([0.2, 1.0, 0])
#: Sizes of grid labels and formulas; the widest formula.
LABEL_SIZE, FORMULA_SIZE, FORMULA_WIDTH = 20, 24, 8.6
#: The seed scene: its maps' height, and their centres at (-+SEED_X, SEED_Y).
SEED_MAP_HEIGHT, SEED_X, SEED_Y = 3.6, 3.4, 0.3
SEED_LABEL_SIZE = 22

#: Words of every scene of the chapter: the sizes of grids and the size formula.
SIZE_WORDS = {
    "input": {"en": "input {n}×{n}", "zh": "输入 {n}×{n}"},
    "input_padded": {"en": "input {n}×{n} + padding {p}", "zh": "输入 {n}×{n}，填充 {p}"},
    "output": {"en": "output {m}×{m}", "zh": "输出 {m}×{m}"},
    "formula": {"en": "output size = {formula}", "zh": "输出尺寸 = {formula}"},
}


# ------------------------------------------------------------------------------------------
class HyperScene(CnnScene):
    """Shared settings and verbs of the hyper-parameter scenes (not a scene by itself)."""

    chapter = "hyperparameters"
    default_layer = "conv_1_1"
    valid_layer_kinds = ("conv",)
    input_size: ClassVar[int] = 7
    kernel: ClassVar[int | None] = 3
    padding_amount: ClassVar[int] = 0
    stride_amount: ClassVar[int] = 1
    channel: ClassVar[int] = 0

    FAIL_NARRATION = {
        "fail_setup": {
            "en": "Try a {k} by {k} kernel with padding {p} and stride {s} on a {n} by {n} input.",
            "zh": "试一试：{n}×{n} 的输入，{k}×{k} 的卷积核，填充 {p}，步长 {s}。",
        },
        "fail_slide": {
            "en": "The window lands at columns {starts}; one more jump of {s} would step off the edge.",
            "zh": "窗口只能落在第 {starts} 列；再跳 {s} 格就出界了。",
        },
        "fail_leftover": {
            "en": "So {left} at the right and bottom are never reached: the kernel cannot slide "
                  "symmetrically over this input.",
            "zh": "于是最右边 {count} 列和最下边 {count} 行永远碰不到：卷积核无法对称地滑过这个输入。",
        },
        "fail_fraction": {
            "en": "The size formula says the same thing: it gives {fraction}, which is not a whole "
                  "number, so this combination is invalid.",
            "zh": "输出尺寸公式也这么说：结果是 {fraction}，不是整数，所以这个组合无效。",
        },
        "fail_big": {
            "en": "A {k} by {k} kernel is larger than the {m} by {m} padded input, so it has "
                  "nowhere to go and there is no output at all.",
            "zh": "{k}×{k} 的卷积核比填充后 {m}×{m} 的输入还大，根本放不下，也就没有输出。",
        },
    }
    WORDS = {
        **SIZE_WORDS,
        "kernel": {"en": "kernel {k}×{k}", "zh": "{k}×{k} 卷积核"},
        "kernel_illustrative": {"en": "kernel {k}×{k} (illustrative)", "zh": "{k}×{k} 卷积核（示意）"},
        "title_invalid": {"en": "An invalid combination", "zh": "无效的组合"},
        # where the crop comes from (narration)
        "source_red": {"en": "the photo's red channel", "zh": "红色通道"},
        "source_green": {"en": "the photo's green channel", "zh": "绿色通道"},
        "source_blue": {"en": "the photo's blue channel", "zh": "蓝色通道"},
        "source_grey": {"en": "the grey photo", "zh": "灰度照片"},
        "source_map": {"en": "feature map {channel} of {prev}", "zh": "{prev} 的第 {channel} 张特征图"},
        # lists of numbers (narration): "0, 3" and "2, 3 and 5"
        "list_sep": {"en": ", ", "zh": "、"},
        "list_and": {"en": "{items} and {last}", "zh": "{items}、{last}"},
    }

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
            texts = self.FAIL_NARRATION[key]
            text = texts.get(self.lang) or texts["en"]
            return text.format(**values) if values else text
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

    def list_words(self, items) -> str:
        """Numbers as a list in the scene's language: ``2, 3 and 5`` / ``2、3、5``."""
        items = [str(i) for i in items]
        if len(items) == 1:
            return items[0]
        return self.words("list_and", items=self.words("list_sep").join(items[:-1]), last=items[-1])

    # -- builders (no playing) ----------------------------------------------------------------
    def input_cell(self) -> float:
        """Cell side of the padded input grid."""
        return grid_cell(self.n + 2 * self.p, room=INPUT_ROOM, largest=0.6)

    def get_input_grid(self, ex: ConvExample, cell: float, pad: int | None = None) -> CellGrid:
        """The crop (and ``pad`` rings of padding, default the example's) at the top-left."""
        g = CellGrid(ex.crop, ex.p if pad is None else pad, cell, scale=self.input_scale,
                     vmax=None)
        return self.place_input(g)

    def place_input(self, grid: CellGrid) -> CellGrid:
        """``grid`` with its top-left corner at the chapter's left margin and grid top."""
        return grid.move_to(np.array([GRID_LEFT + grid.width / 2, GRID_TOP - grid.height / 2, 0]))

    def get_unpadded_grid(self, grid: CellGrid, ex: ConvExample) -> CellGrid:
        """The crop of ``ex`` (no padding) over the inner cells of the padded ``grid``."""
        return self.get_input_grid(ex, grid.cell).move_to(grid.inner)

    def get_output_grid(self, ex: ConvExample, vmax: float | None = None) -> CellGrid:
        """The output as an outline at the right; cells appear as the window reaches them."""
        cell = grid_cell(ex.output.shape[0], room=OUTPUT_ROOM)
        g = CellGrid(ex.output, 0, cell, scale="activation", vmax=vmax, blank=True)
        return self.place_output(g)

    def place_output(self, grid: CellGrid) -> CellGrid:
        """``grid`` with its top-right corner at the chapter's right margin and grid top."""
        return grid.move_to(np.array([GRID_RIGHT - grid.width / 2, GRID_TOP - grid.height / 2, 0]))

    def get_kernel(self, ex: ConvExample, vmax: float) -> VGroup:
        """The kernel's cells (``.grid``) under its tag, between the input and the output."""
        g = CellGrid(ex.kernel, 0, min(0.55, 2.8 / ex.k), scale="weight", vmax=vmax, decimals=2)
        tag = self.get_words("kernel" if ex.real else "kernel_illustrative", LABEL_SIZE, k=ex.k)
        grp = VGroup(g, tag.next_to(g, UP, buff=0.15))
        grp.move_to(KERNEL_AT)
        grp.grid = g
        return grp

    def get_grid_label(self, grid: CellGrid, key: str, **values):
        """Words ``key`` just above ``grid``."""
        return self.get_words(key, LABEL_SIZE, **values).next_to(grid, UP, buff=0.15)

    def get_size_label(self, grid: CellGrid, n: int, p: int = 0):
        """``input N×N`` (``+ padding P``) above an input grid."""
        return self.get_grid_label(grid, "input_padded" if p else "input", n=n, p=p)

    def get_output_label(self, grid: CellGrid, m: int):
        """``output M×M`` above an output grid."""
        return self.get_grid_label(grid, "output", m=m)

    def get_formula(self, ex: ConvExample, color: str = colors.INK):
        """``output size = (N - K + 2×P) / S + 1 = ...`` under the output, at the right margin."""
        t = self.get_words("formula", FORMULA_SIZE, color, formula=ex.check.formula)
        if t.width > FORMULA_WIDTH:
            t.scale_to_fit_width(FORMULA_WIDTH)
        return t.move_to(np.array([GRID_RIGHT - t.width / 2, FORMULA_Y, 0]))

    def get_windows_over(self, grid: CellGrid, ex: ConvExample, row: int, col: int) -> VGroup:
        """Every window position whose cells include padded cell (row, col)."""
        return VGroup(*[grid.box(r, c, ex.k, ex.k, stroke_width=3)
                        for r in covering_starts(ex.starts, ex.k, row)
                        for c in covering_starts(ex.starts, ex.k, col)])

    def get_leftover_mark(self, grid: CellGrid, row: int, col: int) -> VGroup:
        """A cell the kernel never reaches: washed out, red outline, red cross."""
        box = grid.box(row, col, color=LEFTOVER, stroke_width=4).set_fill(colors.BACKGROUND, 0.55)
        d = grid.cell * 0.38
        c = box.get_center()
        cross = VGroup(Line(c + (LEFT + UP) * d, c + (RIGHT + DOWN) * d),
                       Line(c + (LEFT + DOWN) * d, c + (RIGHT + UP) * d)).set_stroke(LEFTOVER, 3)
        return VGroup(box, cross)

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

    def slide_off_the_edge(self, grid: CellGrid, ex: ConvExample, b: Beat) -> None:
        """The window along the top row, leaving a trail; then, in red, the jump off the edge."""
        boxes = VGroup(*[grid.box(0, a, ex.k, ex.k, stroke_width=4) for a in ex.starts])
        window = grid.box(0, 0, ex.k, ex.k)
        self.play(Create(window), run_time=b.part(0.1))
        trail = boxes.copy().set_stroke(WINDOW, 2, opacity=0.7)
        self.add(trail[0])
        for bx, tr in zip(boxes[1:], trail[1:]):
            self.play(window.animate.move_to(bx), run_time=b.part(0.5 / max(1, len(boxes) - 1)))
            self.add(tr)
        ghost = grid.box(0, ex.starts[-1] + ex.s, ex.k, ex.k, color=LEFTOVER)
        ghost.set_stroke(opacity=0.8)
        self.play(Create(ghost), run_time=b.part(0.15))
        self.play(FadeOut(ghost), run_time=b.part(0.1))

    def show_invalid(self, ex: ConvExample) -> None:
        """The failure story of an invalid combination."""
        ch = ex.check
        m = ex.padded_size
        title = self.get_title(self.words("title_invalid"))
        cell = grid_cell(m, max(ex.k, m), room=FAILURE_ROOM)
        grid = self.input_grid = self.get_input_grid(ex, cell)
        lab = self.get_size_label(grid, ex.n, ex.p)
        kern = self.get_kernel(ex, colors.symmetric_range(ex.kernel)).shift(RIGHT * 1.0)
        values = dict(n=ex.n, k=ex.k, p=ex.p, s=ex.s, m=m)
        with self.beat("fail_setup", **values) as b:
            self.play(Write(title), FadeIn(grid), FadeIn(lab), FadeIn(kern), run_time=b.part(0.5))
        if ch.exact < 1 or m < ex.k:  # the kernel does not fit at all
            with self.beat("fail_big", **values) as b:
                self.play(Create(grid.box(0, 0, ex.k, ex.k, color=LEFTOVER)), run_time=b.part(0.4))
                self.play(Write(self.get_formula(ex, LEFTOVER)), run_time=b.part(0.3))
            return
        with self.beat("fail_slide", starts=self.words("list_sep").join(map(str, ex.starts)),
                       s=ex.s) as b:
            self.slide_off_the_edge(grid, ex, b)
        self.leftover_cells = leftover_cells(m, ch.leftover)
        marks = VGroup(*[self.get_leftover_mark(grid, r, c) for r, c in self.leftover_cells])
        left = plural(ch.leftover, "column") + " and " + plural(ch.leftover, "row")
        with self.beat("fail_leftover", left=left, count=ch.leftover) as b:
            self.play(FadeIn(marks, lag_ratio=0.02), run_time=b.part(0.4))
        fraction = f"{ch.exact.numerator}/{ch.exact.denominator}"
        with self.beat("fail_fraction", fraction=fraction) as b:
            self.play(Write(self.get_formula(ex, LEFTOVER)), run_time=b.part(0.4))


# ------------------------------------------------------------------------------------------
class Padding(HyperScene):
    """Zero padding around a real patch keeps the output the size of the input."""

    cli_name = "padding"
    description = "Padding: zeros around the input keep its size and its border information"
    padding_amount = 1
    NARRATION = {
        "input": {
            "en": "Here is a {n} by {n} patch of {source}, with the real {k} by {k} kernel of "
                  "{layer}, neuron {neuron}, for that channel.",
            "zh": "这是{source}中一块 {n}×{n} 的区域，旁边是 {layer} 第 {neuron} 个神经元对这个通道的真实 {k}×{k} 卷积核。",
        },
        "pad": {
            "en": "Padding puts {rings} of zeros around the input, so it grows to {m} by {m}.",
            "zh": "填充在输入四周补上 {p} 圈 0，输入变成 {m}×{m}。",
        },
        "slide": {
            "en": "The kernel slides over the padded input; every position gives one output "
                  "number. The output is {out} by {out}, {same}.",
            "zh": "卷积核在填充后的输入上滑动，每个位置算出一个输出数。输出是 {out}×{out}，{same}。",
        },
        "border": {
            "en": "Look at the corner value: with padding it falls under {c1} window positions, "
                  "without padding under only {c0}. Padding gives the border a bigger say in the output.",
            "zh": "看左上角的数：有填充时它落在 {c1} 个窗口位置里，没有填充时只有 {c0} 个。填充让边缘的信息在输出里占更多分量。",
        },
        "nopad": {
            "en": "Take the padding away and the same kernel fits only {out0} times per row: the "
                  "output shrinks to {out0} by {out0}.",
            "zh": "去掉填充，同一个卷积核每行只能放 {out0} 次，输出缩小到 {out0}×{out0}。",
        },
    }
    WORDS = {**HyperScene.WORDS, "title": {"en": "Padding", "zh": "填充"},
        # how the output compares with the input (narration)
        "same_size": {"en": "the same size as the input", "zh": "和输入一样大"},
        "smaller": {"en": "smaller than {n} by {n}", "zh": "比输入的 {n}×{n} 小"},
        "larger": {"en": "even larger than {n} by {n}: more padding than needed",
                   "zh": "比输入的 {n}×{n} 还大（填充多于所需）"},
    }

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
        title = self.get_title(self.words("title"))
        grid = self.input_grid = self.get_input_grid(ex, self.input_cell())
        lab = self.get_size_label(grid, self.n)
        kern = self.get_kernel(ex, colors.symmetric_range(ex.kernel))
        with self.beat("input", n=self.n, k=self.k, source=self.source_name(), layer=self.layer,
                       neuron=self.neuron) as b:
            self.play(Write(title), FadeIn(grid.inner), FadeIn(lab), run_time=b.part(0.35))
            self.play(FadeIn(kern), run_time=b.part(0.25))
        with self.beat("pad", p=self.p, rings=plural(self.p, "ring"), m=ex.padded_size) as b:
            self.play(FadeIn(grid.padding, lag_ratio=0.02),
                      Transform(lab, self.get_size_label(grid, self.n, self.p)), run_time=b.part(0.5))
        out_n = ex.check.output_size
        out = self.get_output_grid(ex, d["vmax"])
        out_lab = self.get_output_label(out, out_n)
        with self.beat("slide", out=out_n, same=self.size_change_words(out_n)) as b:
            self.play(FadeIn(out), FadeIn(out_lab), run_time=b.part(0.1))
            window, out_box = self.sweep(grid, out, ex, b.part(0.8))
        corner = grid.box(self.p, self.p, color=LEFTOVER, stroke_width=6)
        with self.beat("border", c1=d["c1"], c0=d["c0"]) as b:
            self.play(FadeOut(window), FadeOut(out_box), Create(corner), run_time=b.part(0.2))
            windows = self.get_windows_over(grid, ex, self.p, self.p)
            self.play(FadeIn(windows, lag_ratio=0.3), run_time=b.part(0.4))
            self.play(FadeOut(windows), run_time=b.part(0.1))
        if not ex0.check.valid:
            return
        grid0 = self.get_unpadded_grid(grid, ex0)
        out0 = self.get_output_grid(ex0, d["vmax"])
        out0_lab = self.get_output_label(out0, ex0.check.output_size)
        with self.beat("nopad", out0=ex0.check.output_size) as b:
            self.play(FadeOut(grid.padding), FadeOut(corner), FadeOut(out.everything()), FadeOut(out_lab),
                      Transform(lab, self.get_size_label(grid0, self.n)), run_time=b.part(0.15))
            self.play(FadeIn(out0), FadeIn(out0_lab), run_time=b.part(0.05))
            self.sweep(grid0, out0, ex0, b.part(0.65))


class KernelSize(HyperScene):
    """Kernels of size 2, 3 and 5 on the same patch: bigger kernels, smaller outputs."""

    cli_name = "kernel-size"
    description = "Kernel size: 2x2, 3x3 and 5x5 kernels on the same patch, and the output sizes"
    kernel = None  # None: compare 2, 3 and 5; a number: compare it with the real 3x3
    NARRATION = {
        "input": {
            "en": "The same {n} by {n} patch of {source}, now with kernels of size {sizes}.",
            "zh": "还是{source}中这块 {n}×{n} 的区域，这次换用大小为 {sizes} 的卷积核。",
        },
        "honest": {
            "en": "Only the {r} by {r} kernel is the network's own. {derived}",
            "zh": "只有 {r}×{r} 的卷积核是网络真正学到的。{derived}",
        },
        "size": {
            "en": "A {k} by {k} kernel looks at {kk} input cells at once and fits {out} times "
                  "per row, so the output is {out} by {out}.",
            "zh": "{k}×{k} 的卷积核一次看 {kk} 个输入格，每行能放 {out} 次，所以输出是 {out}×{out}。",
        },
        "summary": {
            "en": "Bigger kernels see more at once but shrink the output faster; small kernels "
                  "keep more of the detail.",
            "zh": "卷积核越大，一次看到的越多，但输出缩小得越快；小卷积核能保留更多细节。",
        },
    }
    WORDS = {**HyperScene.WORDS, "title": {"en": "Kernel size", "zh": "卷积核大小"},
        # how the example kernels come from the real one (narration)
        "derived": {"en": "For illustration, {parts}.", "zh": "{parts}。"},
        "derived_sep": {"en": "; ", "zh": "；"},
        "derived_middle": {"en": "the {k} by {k} one is cut from its middle",
                           "zh": "{k}×{k} 的是从它中间截取的，仅作示意"},
        "derived_corner": {"en": "the {k} by {k} one is its top-left corner",
                           "zh": "{k}×{k} 的是它左上角的一块，仅作示意"},
        "derived_zeros": {"en": "the {k} by {k} one is it with zeros added around",
                          "zh": "{k}×{k} 的是在它周围补 0 得到的，仅作示意"},
    }

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

    def derived_text(self, sizes: list[int]) -> str:
        """How the kernels of ``sizes`` that are not the network's own come from it."""
        r = self.real_kernel_size()
        parts = [self.words(f"derived_{kernel_origin(k, r)}", k=k) for k in sizes if k != r]
        return self.words("derived", parts=self.words("derived_sep").join(parts)) if parts else ""

    def construct(self) -> None:
        d = self.get_kernel_size_data()
        exs = d["examples"]
        bad = next((e for e in exs if not e.check.valid), None)
        if bad is not None:
            self.show_invalid(bad)
            return
        title = self.get_title(self.words("title"))
        grid = self.input_grid = self.get_input_grid(exs[0], self.input_cell())
        lab = self.get_size_label(grid, self.n, self.p)
        sizes = self.kernel_sizes()
        with self.beat("input", n=self.n, source=self.source_name(),
                       sizes=self.list_words(sizes)) as b:
            self.play(Write(title), FadeIn(grid), FadeIn(lab), run_time=b.part(0.4))
        kern = self.get_kernel(self.get_real_example(exs), d["kernel_vmax"])
        with self.beat("honest", r=self.real_kernel_size(), derived=self.derived_text(sizes)) as b:
            self.play(FadeIn(kern), run_time=b.part(0.3))
        shown = VGroup()
        for ex in exs:
            new_kern = self.get_kernel(ex, d["kernel_vmax"])
            out = self.get_output_grid(ex, d["vmax"])
            out_lab = self.get_output_label(out, ex.check.output_size)
            formula = self.get_formula(ex)
            with self.beat("size", k=ex.k, kk=ex.k * ex.k, out=ex.check.output_size) as b:
                self.play(FadeOut(shown), ReplacementTransform(kern, new_kern),
                          FadeIn(out), FadeIn(out_lab), FadeIn(formula), run_time=b.part(0.15))
                kern = new_kern
                window, out_box = self.sweep(grid, out, ex, b.part(0.7))
                shown = VGroup(out.everything(), out_lab, formula, window, out_box)
        with self.beat("summary") as b:
            self.wait(b.part(0.1))


class Stride(HyperScene):
    """Stride 1, then a bigger stride, over the same patch; the output-size formula."""

    cli_name = "stride"
    description = "Stride: the window jumps further, the output gets smaller; the size formula"
    stride_amount = 2
    NARRATION = {
        "input": {
            "en": "Stride is how far the kernel jumps between positions. Here is a {n} by {n} "
                  "patch of {source} and the real {k} by {k} kernel.",
            "zh": "步长就是卷积核每次跳几格。这是{source}中一块 {n}×{n} 的区域和真实的 {k}×{k} 卷积核。",
        },
        "stride1": {
            "en": "With stride 1 the window moves one cell at a time: {out} positions per row, "
                  "an output of {out} by {out}.",
            "zh": "步长为 1 时，窗口每次移动一格：每行 {out} 个位置，输出 {out}×{out}。",
        },
        "strideS": {
            "en": "With stride {s} it jumps {s} cells at a time, so only {out} positions fit and "
                  "the output is {out} by {out}.",
            "zh": "步长为 {s} 时，窗口每次跳 {s} 格，只放得下 {out} 个位置，输出是 {out}×{out}。",
        },
        "formula": {
            "en": "The output size is the input size minus the kernel size plus twice the padding, "
                  "divided by the stride, plus one: {formula}.",
            "zh": "输出尺寸等于：输入尺寸减卷积核大小，加两倍填充，除以步长，再加一：{formula}。",
        },
    }
    WORDS = {**HyperScene.WORDS, "title": {"en": "Stride", "zh": "步长"}}

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
        title = self.get_title(self.words("title"))
        grid = self.input_grid = self.get_input_grid(ex1, self.input_cell())
        lab = self.get_size_label(grid, self.n, self.p)
        kern = self.get_kernel(ex1, colors.symmetric_range(ex1.kernel))
        with self.beat("input", n=self.n, k=self.k, source=self.source_name()) as b:
            self.play(Write(title), FadeIn(grid), FadeIn(lab), FadeIn(kern), run_time=b.part(0.4))
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
                self.play(FadeOut(VGroup(out1.everything(), lab1, window, box)), FadeIn(out_s), FadeIn(lab_s),
                          ReplacementTransform(f1, fs), run_time=b.part(0.15))
                self.sweep(grid, out_s, exs, b.part(0.75))
            formula = fs
        with self.beat("formula", formula=exs.check.formula) as b:
            self.play(formula.animate.set_color(WINDOW), run_time=b.part(0.2))
            self.play(formula.animate.set_color(colors.INK), run_time=b.part(0.2))


class InvalidConv(HyperScene):
    """A kernel that cannot slide symmetrically: the positions, the leftover cells, the fraction."""

    cli_name = "conv-invalid"
    description = "Invalid hyper-parameters: the kernel cannot slide symmetrically (N=7, K=3, P=0, S=3)"
    stride_amount = 3
    NARRATION = {
        "valid": {
            "en": "This combination is valid: {formula}. Choose one whose formula gives a fraction "
                  "to see the failure.",
            "zh": "这个组合是有效的：{formula}。换一个公式结果为分数的组合，才能看到失败的情形。",
        },
    }

    def construct(self) -> None:
        ex = self.example()
        if ex.check.valid:
            with self.beat("valid", formula=ex.check.formula) as b:
                self.play(Write(self.get_formula(ex)), run_time=b.part(0.3))
            return
        self.show_invalid(ex)


class PaddingSeed(CnnScene):
    """The seed preset's network pads its first layer: 28x28 in, 28x28 out."""

    cli_name = "padding-seed"
    description = "A real padded network: the seed model's conv_1_1 keeps 28x28"
    chapter = "hyperparameters"
    #: Weights of the seed preset (None: the shipped weights/seed.safetensors).
    seed_weights: ClassVar[str | None] = None
    NARRATION = {
        "seed": {
            "en": "A real padded network: the seed model, trained on {n} by {n} grey digits, reads "
                  "our photo at that size; its first layer uses {k} by {k} kernels with padding {p}.",
            "zh": "一个真实使用填充的网络：种子模型用 {n}×{n} 的灰度数字训练，这里读入同样大小的照片；它的第一层用 {k}×{k} 卷积核，填充为 {p}。",
        },
        "keep": {
            "en": "So its conv_1_1 map, neuron {neuron}, is still {m} by {m}: no border pixel is "
                  "dropped and the size is kept.",
            "zh": "所以它 conv_1_1 第 {neuron} 个神经元的特征图仍是 {m}×{m}：边缘像素一个不丢，尺寸也保持不变。",
        },
    }
    WORDS = {
        **SIZE_WORDS,
        "title": {"en": "A padded network: the seed model", "zh": "真实例子：种子模型"},
        "map": {"en": "conv_1_1 #{neuron}  {m}×{m}", "zh": "conv_1_1 第 {neuron} 个 {m}×{m}"},
        "arrow": {"en": "{k}×{k}, padding {p}", "zh": "{k}×{k}, 填充 {p}"},
    }

    def setup(self) -> None:
        super().setup()
        self.seed_trace = get_seed_trace(self.seed_weights)
        n_out = self.seed_trace["conv_1_1"].output.shape[0]
        if not 0 <= self.neuron < n_out:
            raise CnnanimError(f"neuron must be between 0 and {n_out - 1}, got {self.neuron}")

    def get_seed_data(self) -> dict:
        """The seed model's input, the neuron's map and the size check (see :func:`seed_data`)."""
        return seed_data(self.seed_trace, self.neuron)

    # -- builders -------------------------------------------------------------------------------
    def get_seed_input(self, d: dict) -> tuple[FeatureMap, VGroup]:
        """The grey input at the left, and its size above it."""
        img = FeatureMap(d["image"], scale="input", height=SEED_MAP_HEIGHT)
        img.move_to(LEFT * SEED_X + UP * SEED_Y)
        return img, self.get_words("input", SEED_LABEL_SIZE, n=d["n"]).next_to(img, UP, buff=0.15)

    def get_seed_map(self, d: dict) -> tuple[FeatureMap, VGroup]:
        """The chosen neuron's conv_1_1 map at the right, and its name and size above it."""
        fmap = FeatureMap(d["map"], scale="activation", height=SEED_MAP_HEIGHT)
        fmap.move_to(RIGHT * SEED_X + UP * SEED_Y)
        words = self.get_words("map", SEED_LABEL_SIZE, neuron=self.neuron, m=d["m"])
        return fmap, words.next_to(fmap, UP, buff=0.15)

    def get_arrow(self, img: FeatureMap, fmap: FeatureMap, d: dict) -> tuple[Arrow, VGroup]:
        """The arrow from input to map, labelled with the kernel size and padding."""
        arrow = Arrow(img.get_right(), fmap.get_left(), buff=0.3, color=colors.INK)
        return arrow, self.get_words("arrow", 20, k=d["k"], p=d["p"]).next_to(arrow, UP, buff=0.1)

    # -- storyboard -------------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.get_seed_data()
        title = self.get_title(self.words("title"))
        img, img_lab = self.get_seed_input(d)
        fmap, map_lab = self.get_seed_map(d)
        arrow, arrow_lab = self.get_arrow(img, fmap, d)
        formula = self.get_words("formula", FORMULA_SIZE, formula=d["check"].formula)
        formula.move_to(np.array([0, FORMULA_Y, 0]))
        with self.beat("seed", n=d["n"], k=d["k"], p=d["p"]) as b:
            self.play(Write(title), FadeIn(img), FadeIn(img_lab), run_time=b.part(0.4))
            self.play(Create(arrow), FadeIn(arrow_lab), run_time=b.part(0.3))
        with self.beat("keep", neuron=self.neuron, m=d["m"]) as b:
            self.play(FadeIn(fmap), FadeIn(map_lab), run_time=b.part(0.3))
            self.play(Write(formula), run_time=b.part(0.3))


def get_seed_trace(weights: str | None = None):
    """Trace of the bundled photo (as the seed preset reads it) through the seed weights,
    cached like every trace (never stale)."""
    from cnnanim.network.trace_cache import get_trace

    return get_trace(None, weights, preset="seed", use_env=False)
