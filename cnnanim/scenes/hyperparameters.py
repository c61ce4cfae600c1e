"""Hyper-parameter chapter: padding, kernel size and stride, and combinations that do not fit.

Every scene works on a real patch: an ``input_size`` x ``input_size`` centre crop of one input
channel of the traced layer (the photo's red channel for ``conv_1_1``) and the real kernel of the
chosen neuron for that channel. The numbers shown come from :func:`example_data`, which uses
``cnnanim.explain.maths`` only; tests compare them with ``torch.nn.functional.conv2d``.

Settings (class attributes, also command-line options): ``input_size`` (N), ``kernel`` (K),
``padding_amount`` (P), ``stride_amount`` (S). An invalid combination renders the failure story
(window positions, the leftover cells in red, the fraction) instead of crashing.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    Square,
    Succession,
    Transform,
    VGroup,
    Write,
)

from cnnanim.draw import colors
from cnnanim.draw.mobjects import FeatureMap, color_array
from cnnanim.draw.text import label, number
from cnnanim.errors import CnnanimError
from cnnanim.explain import maths
from cnnanim.scenes.base import CnnScene

#: Colours of this chapter.
PAD_FILL = "#c9c9c9"      # zero-padding cells: grey, clearly not part of the photo
PAD_TEXT = "#5a5a5a"
PAD_HATCH = "#a9a9a9"
LEFTOVER = "#d62728"      # cells the kernel never reaches in an invalid combination
WINDOW = colors.HIGHLIGHT

#: Largest input the scenes draw (a crop of the layer's input).
MAX_INPUT = 16
#: Top of the grids, and the line for formulas under them.
GRID_TOP = 2.6
FORMULA_Y = -2.17


# ------------------------------------------------------------------------------------------
# data (no manim): every number the scenes show
def example_kernel(real: np.ndarray, k: int) -> np.ndarray:
    """A K x K kernel derived deterministically from a real kernel (R x R).

    K == R: the real kernel. K < R: its K x K block starting at ((R-K)//2, (R-K)//2) (top-left
    corner for 2 from 3). K > R: the real kernel surrounded by zeros ((K-R)//2 before, the rest
    after).
    """
    real = np.asarray(real, dtype=np.float64)
    r = real.shape[0]
    if k == r:
        return real.copy()
    if k < r:
        a = (r - k) // 2
        return real[a:a + k, a:a + k].copy()
    before = (k - r) // 2
    return np.pad(real, ((before, k - r - before), (before, k - r - before)))


def window_starts(n: int, k: int, p: int, s: int) -> list[int]:
    """Top/left coordinates (in the padded input) where the window lands along one axis."""
    span = n + 2 * p - k
    return list(range(0, span + 1, s)) if span >= 0 else []


def coverage(n: int, k: int, p: int, s: int) -> np.ndarray:
    """How many window positions cover each cell of the unpadded N x N input."""
    starts = window_starts(n, k, p, s)
    per_axis = np.zeros(n, dtype=int)
    for a in starts:
        for i in range(a, a + k):
            if p <= i < p + n:
                per_axis[i - p] += 1
    return np.outer(per_axis, per_axis)


@dataclass(frozen=True)
class ConvExample:
    """One convolution of the crop with one kernel.

    Attributes
    ----------
    crop : numpy.ndarray
        (N, N) real values (the layer's input, channel ``channel``).
    kernel : numpy.ndarray
        (K, K) kernel (real when K equals the layer's kernel size).
    real : bool
        True when ``kernel`` is the network's own kernel, not derived from it.
    check : cnnanim.explain.maths.ConvCheck
    output : numpy.ndarray or None
        (out, out) ``maths.conv2d`` of the crop (one channel, no bias); None when invalid.
    starts : list of int
        Window positions along each axis.
    """

    crop: np.ndarray
    kernel: np.ndarray
    real: bool
    check: maths.ConvCheck
    output: np.ndarray | None
    starts: list[int]

    @property
    def n(self) -> int:
        return self.check.n

    @property
    def k(self) -> int:
        return self.check.k

    @property
    def p(self) -> int:
        return self.check.p

    @property
    def s(self) -> int:
        return self.check.s


def get_crop(trace, layer: str, size: int, channel: int = 0) -> np.ndarray:
    """The centre ``size`` x ``size`` crop of input channel ``channel`` of stage ``layer``."""
    x = np.asarray(trace[layer].input[channel], dtype=np.float64)
    h, w = x.shape
    if not 1 <= size <= min(h, w, MAX_INPUT):
        raise CnnanimError(f"input size must be between 1 and {min(h, w, MAX_INPUT)}, got {size}")
    top, left = (h - size) // 2, (w - size) // 2
    return x[top:top + size, left:left + size].copy()


def example_data(trace, layer: str, neuron: int, n: int, k: int, p: int, s: int,
                 channel: int = 0) -> ConvExample:
    """The crop, kernel, validity and output of one hyper-parameter combination."""
    check = maths.check_conv(n, k, p, s)
    crop = get_crop(trace, layer, n, channel)
    real_kernel = np.asarray(trace[layer].weight[neuron, channel], dtype=np.float64)
    kernel = example_kernel(real_kernel, k)
    output = None
    if check.valid:
        output = maths.conv2d(crop[None], kernel[None, None], stride=s, padding=p)[0]
    return ConvExample(crop, kernel, k == real_kernel.shape[0], check, output,
                       window_starts(n, k, p, s))


# ------------------------------------------------------------------------------------------
# drawing
class CellGrid(VGroup):
    """Cells with real values; ``pad`` rings of grey, hatched ``0`` cells around them.

    Coordinates are in the padded grid: cell (0, 0) is the top-left padding cell.
    """

    def __init__(self, values: np.ndarray, pad: int = 0, cell: float = 0.5,
                 scale: str = "activation", vmax: float | None = None, decimals: int | None = None,
                 font_size: float = 18, blank: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        values = np.atleast_2d(np.asarray(values, dtype=np.float64))
        self.values, self.pad, self.cell = values, pad, cell
        h, w = values.shape
        self.rows, self.cols = h + 2 * pad, w + 2 * pad
        rgb = color_array(values, scale, vmax)
        show_numbers = cell >= 0.36
        if decimals is None:  # two decimals only where they stay readable
            decimals = 2 if cell >= 0.55 else 1
        self.inner, self.padding, self.frames = VGroup(), VGroup(), VGroup()
        self.by_pos: dict[tuple[int, int], VGroup] = {}
        for r in range(self.rows):
            for c in range(self.cols):
                pos = RIGHT * c * cell + DOWN * r * cell
                is_pad = not (pad <= r < pad + h and pad <= c < pad + w)
                if is_pad:
                    sq = Square(cell, stroke_color=colors.INK, stroke_width=1, fill_color=PAD_FILL,
                                fill_opacity=1).move_to(pos)
                    hatch = VGroup(*[Line(sq.get_corner(DOWN + LEFT) + RIGHT * cell * t,
                                          sq.get_corner(DOWN + LEFT) + RIGHT * cell * t
                                          + (UP + RIGHT) * cell * (1 - t) * 0.999,
                                          stroke_color=PAD_HATCH, stroke_width=1)
                                     for t in (0.0, 0.5)])
                    g = VGroup(sq, hatch)
                    if show_numbers:
                        g.add(number(0, 0, font_size, PAD_TEXT).move_to(pos))
                    self.padding.add(g)
                else:
                    v = values[r - pad, c - pad]
                    col = rgb[r - pad, c - pad]
                    sq = Square(cell, stroke_color=colors.INK, stroke_width=1,
                                fill_color=colors.rgb_to_hex(col), fill_opacity=1).move_to(pos)
                    g = VGroup(sq)
                    if show_numbers:
                        num = number(v, decimals, font_size, colors.text_color_for(col))
                        if num.width > cell * 0.88:
                            num.scale_to_fit_width(cell * 0.88)
                        g.add(num.move_to(pos))
                    self.inner.add(g)
                    self.frames.add(Square(cell, stroke_color=colors.MUTED, stroke_width=1)
                                    .move_to(pos))
                self.by_pos[(r, c)] = g
        self.add(self.padding, self.inner)
        self.move_to(np.zeros(3))
        self.blank = blank

    def move_to(self, *args, **kwargs):
        super().move_to(*args, **kwargs)
        if getattr(self, "blank", False):  # outline only: cells appear one by one (FadeIn)
            self.frames.move_to(self.inner)
            if self.inner in self.submobjects:
                self.remove(self.inner)
                self.add(self.frames)
        return self

    def everything(self) -> VGroup:
        """Outline and every cell (a blank grid's revealed cells are not its submobjects)."""
        return VGroup(self.frames, self.inner, self.padding) if self.blank else VGroup(self)

    def corner(self) -> np.ndarray:
        """Top-left corner of the padded grid."""
        first = self.by_pos[(0, 0)][0]
        return first.get_corner(UP + LEFT)

    def box(self, row: int, col: int, height: int = 1, width: int = 1, color: str = WINDOW,
            stroke_width: float = 5) -> Rectangle:
        """A rectangle around ``height`` x ``width`` cells from padded (row, col)."""
        c = self.cell
        rect = Rectangle(width=c * width, height=c * height, stroke_color=color,
                         stroke_width=stroke_width)
        rect.move_to(self.corner() + RIGHT * c * (col + width / 2) + DOWN * c * (row + height / 2))
        return rect

    def cells(self, positions) -> VGroup:
        """The cell groups at padded positions."""
        return VGroup(*[self.by_pos[p] for p in positions])


def grid_cell(*sizes: int, room: float = 4.0, largest: float = 0.6) -> float:
    """Cell side so the largest of ``sizes`` cells fits in ``room`` units."""
    return min(largest, room / max(sizes))


def plural(n: int, word: str, lang: str) -> str:
    """``1 cell`` / ``2 cells`` (Chinese has no plural)."""
    if lang == "zh":
        return f"{n}"
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


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

    def source_name(self) -> str:
        """Where the crop comes from, in the scene's language."""
        if self.layer == "conv_1_1":
            if self.trace.image.shape[0] == 3:
                en = ("red", "green", "blue")[self.channel]
                zh = ("红", "绿", "蓝")[self.channel]
                return f"{zh}色通道" if self.lang == "zh" else f"the photo's {en} channel"
            return "灰度照片" if self.lang == "zh" else "the grey photo"
        prev = self.trace.stage_names()[self.trace.stage_names().index(self.layer) - 1]
        return (f"{prev} 的第 {self.channel} 张特征图" if self.lang == "zh"
                else f"feature map {self.channel} of {prev}")

    # -- pieces (no playing) ----------------------------------------------------------------
    def get_input_grid(self, ex: ConvExample, cell: float, pad: int | None = None) -> CellGrid:
        g = CellGrid(ex.crop, ex.p if pad is None else pad, cell, scale=self.input_scale,
                     vmax=None)
        g.move_to(self.input_anchor(g))
        return g

    def input_anchor(self, grid: CellGrid) -> np.ndarray:
        return np.array([-6.5 + grid.width / 2, GRID_TOP - grid.height / 2, 0])

    def get_output_grid(self, ex: ConvExample, vmax: float | None = None) -> CellGrid:
        """The output as an outline at the right; cells appear as the window reaches them."""
        cell = grid_cell(ex.output.shape[0], room=4.2)
        g = CellGrid(ex.output, 0, cell, scale="activation", vmax=vmax, blank=True)
        g.move_to(np.array([6.5 - g.width / 2, GRID_TOP - g.height / 2, 0]))
        return g

    def get_kernel(self, ex: ConvExample, vmax: float) -> VGroup:
        cell = min(0.55, 2.8 / ex.k)
        g = CellGrid(ex.kernel, 0, cell, scale="weight", vmax=vmax, decimals=2)
        tag = (f"{ex.k}×{ex.k} 卷积核" if self.lang == "zh" else f"kernel {ex.k}×{ex.k}")
        if not ex.real:
            tag += "（示意）" if self.lang == "zh" else " (illustrative)"
        t = label(tag, 20, lang=self.lang).next_to(g, UP, buff=0.15)
        grp = VGroup(g, t)
        grp.move_to(np.array([0.2, 1.0, 0]))
        grp.grid = g
        return grp

    def grid_label(self, grid: CellGrid, text: str, color: str = colors.INK):
        return label(text, 20, color=color, lang=self.lang).next_to(grid, UP, buff=0.15)

    def size_text(self, n: int, p: int = 0) -> str:
        if self.lang == "zh":
            return f"输入 {n}×{n}" + (f"，填充 {p}" if p else "")
        return f"input {n}×{n}" + (f" + padding {p}" if p else "")

    def out_text(self, m: int) -> str:
        return f"输出 {m}×{m}" if self.lang == "zh" else f"output {m}×{m}"

    def formula_text(self, ex: ConvExample, color: str = colors.INK):
        prefix = "输出尺寸 = " if self.lang == "zh" else "output size = "
        t = label(prefix + ex.check.formula, 24, color=color, lang=self.lang)
        if t.width > 8.6:
            t.scale_to_fit_width(8.6)
        return t.move_to(np.array([6.5 - t.width / 2, FORMULA_Y, 0]))

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

    def get_leftover_mark(self, grid: CellGrid, row: int, col: int) -> VGroup:
        """A cell the kernel never reaches: washed out, red outline, red cross."""
        box = grid.box(row, col, color=LEFTOVER, stroke_width=4).set_fill(colors.BACKGROUND, 0.55)
        d = grid.cell * 0.38
        c = box.get_center()
        cross = VGroup(Line(c + (LEFT + UP) * d, c + (RIGHT + DOWN) * d),
                       Line(c + (LEFT + DOWN) * d, c + (RIGHT + UP) * d)).set_stroke(LEFTOVER, 3)
        return VGroup(box, cross)

    def show_invalid(self, ex: ConvExample) -> None:
        """The failure story of an invalid combination."""
        ch = ex.check
        title = self.get_title("无效的组合" if self.lang == "zh" else "An invalid combination")
        m = ex.n + 2 * ex.p
        cell = grid_cell(m, max(ex.k, m), room=4.0)
        grid = self.input_grid = self.get_input_grid(ex, cell)
        lab = self.grid_label(grid, self.size_text(ex.n, ex.p))
        kv = colors.symmetric_range(ex.kernel)
        kern = self.get_kernel(ex, kv)
        kern.shift(RIGHT * 1.0)
        values = dict(n=ex.n, k=ex.k, p=ex.p, s=ex.s, m=m)
        with self.beat("fail_setup", **values) as b:
            self.play(Write(title), FadeIn(grid), FadeIn(lab), FadeIn(kern), run_time=b.part(0.5))
        if ch.exact < 1 or m < ex.k:  # the kernel does not fit at all
            big = grid.box(0, 0, ex.k, ex.k, color=LEFTOVER)
            formula = self.formula_text(ex, LEFTOVER)
            with self.beat("fail_big", **values) as b:
                self.play(Create(big), run_time=b.part(0.4))
                self.play(Write(formula), run_time=b.part(0.3))
            return
        # window positions along the top row, then down the first column
        boxes = VGroup(*[grid.box(0, a, ex.k, ex.k, stroke_width=4) for a in ex.starts])
        starts = ("、" if self.lang == "zh" else ", ").join(str(a) for a in ex.starts)
        with self.beat("fail_slide", starts=starts, s=ex.s) as b:
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
        left_idx = list(range(m - ch.leftover, m))
        cells = [(r, c) for r in range(m) for c in range(m) if r in left_idx or c in left_idx]
        marks = VGroup(*[self.get_leftover_mark(grid, r, c) for r, c in cells])
        self.leftover_cells = cells
        left_text = plural(ch.leftover, "column", "en") + " and " + plural(ch.leftover, "row", "en")
        with self.beat("fail_leftover", left=left_text, count=ch.leftover) as b:
            self.play(FadeIn(marks, lag_ratio=0.02), run_time=b.part(0.4))
        formula = self.formula_text(ex, LEFTOVER)
        frac = f"{ch.exact.numerator}/{ch.exact.denominator}"
        with self.beat("fail_fraction", fraction=frac) as b:
            self.play(Write(formula), run_time=b.part(0.4))


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

    def construct(self) -> None:
        d = self.get_padding_data()
        ex, ex0 = d["ex"], d["ex0"]
        if not ex.check.valid:
            self.show_invalid(ex)
            return
        m = self.n + 2 * self.p
        cell = grid_cell(m, room=4.95, largest=0.6)
        title = self.get_title("填充" if self.lang == "zh" else "Padding")
        grid = self.input_grid = self.get_input_grid(ex, cell)
        lab = self.grid_label(grid, self.size_text(self.n))
        kern = self.get_kernel(ex, colors.symmetric_range(ex.kernel))
        with self.beat("input", n=self.n, k=self.k, source=self.source_name(), layer=self.layer,
                       neuron=self.neuron) as b:
            self.play(Write(title), FadeIn(grid.inner), FadeIn(lab), run_time=b.part(0.35))
            self.play(FadeIn(kern), run_time=b.part(0.25))
        with self.beat("pad", p=self.p, rings=plural(self.p, "ring", "en"), m=m) as b:
            self.play(FadeIn(grid.padding, lag_ratio=0.02),
                      Transform(lab, self.grid_label(grid, self.size_text(self.n, self.p))),
                      run_time=b.part(0.5))
        out = self.get_output_grid(ex, d["vmax"])
        out_n = ex.check.output_size
        out_lab = self.grid_label(out, self.out_text(out_n))
        if self.lang == "zh":
            same = ("和输入一样大" if out_n == self.n else f"比输入的 {self.n}×{self.n} 小"
                    if out_n < self.n else f"比输入的 {self.n}×{self.n} 还大（填充多于所需）")
        else:
            same = ("the same size as the input" if out_n == self.n
                    else f"smaller than {self.n} by {self.n}" if out_n < self.n
                    else f"even larger than {self.n} by {self.n}: more padding than needed")
        with self.beat("slide", out=out_n, same=same) as b:
            self.play(FadeIn(out), FadeIn(out_lab), run_time=b.part(0.1))
            window, out_box = self.sweep(grid, out, ex, b.part(0.8))
        corner = grid.box(self.p, self.p, color=LEFTOVER, stroke_width=6)
        with self.beat("border", c1=d["c1"], c0=d["c0"]) as b:
            self.play(FadeOut(window), FadeOut(out_box), Create(corner), run_time=b.part(0.2))
            covering = [a for a in ex.starts if a <= self.p < a + self.k]
            ghost = VGroup(*[grid.box(r, c, self.k, self.k, stroke_width=3)
                             for r in covering for c in covering])
            self.play(FadeIn(ghost, lag_ratio=0.3), run_time=b.part(0.4))
            self.play(FadeOut(ghost), run_time=b.part(0.1))
        if ex0.check.valid:
            grid0 = self.get_input_grid(ex0, cell)
            grid0.move_to(grid.inner)
            out0 = self.get_output_grid(ex0, d["vmax"])
            out0_lab = self.grid_label(out0, self.out_text(ex0.check.output_size))
            with self.beat("nopad", out0=ex0.check.output_size) as b:
                self.play(FadeOut(grid.padding), FadeOut(corner), FadeOut(out.everything()), FadeOut(out_lab),
                          Transform(lab, self.grid_label(grid0, self.size_text(self.n))),
                          run_time=b.part(0.15))
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

    def kernel_sizes(self) -> list[int]:
        return [2, 3, 5] if self.kernel is None else sorted({3, int(self.kernel)})

    def get_kernel_size_data(self) -> dict:
        """One example per kernel size, the colour range shared by their outputs."""
        exs = [self.example(k=k) for k in self.kernel_sizes()]
        outs = [e.output for e in exs if e.output is not None]
        vmax = max(colors.symmetric_range(o) for o in outs) if outs else 1.0
        return dict(examples=exs, vmax=vmax,
                    kernel_vmax=colors.symmetric_range(self.trace[self.layer].weight[self.neuron, self.channel]))

    def derived_text(self, sizes: list[int]) -> str:
        r = self.trace[self.layer].kernel_size or 3
        parts = []
        for k in sizes:
            if k == r:
                continue
            if self.lang == "zh":
                parts.append(f"{k}×{k} 的是从它中间截取的，仅作示意" if k < r and (r - k) // 2 else
                             f"{k}×{k} 的是它左上角的一块，仅作示意" if k < r else
                             f"{k}×{k} 的是在它周围补 0 得到的，仅作示意")
            else:
                parts.append(f"the {k} by {k} one is " + (
                    "cut from its middle" if k < r and (r - k) // 2 else
                    "its top-left corner" if k < r else "it with zeros added around"))
        if self.lang == "zh":
            return "；".join(parts) + "。" if parts else ""
        return ("For illustration, " + "; ".join(parts) + ".") if parts else ""

    def construct(self) -> None:
        d = self.get_kernel_size_data()
        exs = d["examples"]
        bad = next((e for e in exs if not e.check.valid), None)
        if bad is not None:
            self.show_invalid(bad)
            return
        m = self.n + 2 * self.p
        cell = grid_cell(m, room=4.95, largest=0.6)
        title = self.get_title("卷积核大小" if self.lang == "zh" else "Kernel size")
        grid = self.input_grid = self.get_input_grid(exs[0], cell)
        lab = self.grid_label(grid, self.size_text(self.n, self.p))
        sizes = self.kernel_sizes()
        sizes_text = ("、".join(str(k) for k in sizes) if self.lang == "zh" or len(sizes) == 1
                      else ", ".join(str(k) for k in sizes[:-1]) + f" and {sizes[-1]}")
        with self.beat("input", n=self.n, source=self.source_name(), sizes=sizes_text) as b:
            self.play(Write(title), FadeIn(grid), FadeIn(lab), run_time=b.part(0.4))
        r = self.trace[self.layer].kernel_size or 3
        real = next(e for e in exs if e.real) if any(e.real for e in exs) else self.example(k=r)
        kern = self.get_kernel(real, d["kernel_vmax"])
        derived = self.derived_text(sizes)
        with self.beat("honest", r=r, derived=derived) as b:
            self.play(FadeIn(kern), run_time=b.part(0.3))
        shown = VGroup()
        for ex in exs:
            new_kern = self.get_kernel(ex, d["kernel_vmax"])
            out = self.get_output_grid(ex, d["vmax"])
            out_lab = self.grid_label(out, self.out_text(ex.check.output_size))
            formula = self.formula_text(ex)
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
        m = self.n + 2 * self.p
        cell = grid_cell(m, room=4.95, largest=0.6)
        title = self.get_title("步长" if self.lang == "zh" else "Stride")
        grid = self.input_grid = self.get_input_grid(ex1, cell)
        lab = self.grid_label(grid, self.size_text(self.n, self.p))
        kern = self.get_kernel(ex1, colors.symmetric_range(ex1.kernel))
        with self.beat("input", n=self.n, k=self.k, source=self.source_name()) as b:
            self.play(Write(title), FadeIn(grid), FadeIn(lab), FadeIn(kern), run_time=b.part(0.4))
        out1 = self.get_output_grid(ex1, d["vmax"])
        lab1 = self.grid_label(out1, self.out_text(ex1.check.output_size))
        f1 = self.formula_text(ex1)
        with self.beat("stride1", out=ex1.check.output_size) as b:
            self.play(FadeIn(out1), FadeIn(lab1), run_time=b.part(0.1))
            window, box = self.sweep(grid, out1, ex1, b.part(0.75))
            self.play(FadeIn(f1), run_time=b.part(0.1))
        formula = f1
        if exs.s != 1:
            out_s = self.get_output_grid(exs, d["vmax"])
            lab_s = self.grid_label(out_s, self.out_text(exs.check.output_size))
            fs = self.formula_text(exs)
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
                self.play(Write(self.formula_text(ex)), run_time=b.part(0.3))
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

    def setup(self) -> None:
        super().setup()
        self.seed_trace = get_seed_trace(self.seed_weights)
        n_out = self.seed_trace["conv_1_1"].output.shape[0]
        if not 0 <= self.neuron < n_out:
            raise CnnanimError(f"neuron must be between 0 and {n_out - 1}, got {self.neuron}")

    def get_seed_data(self) -> dict:
        st = self.seed_trace["conv_1_1"]
        check = maths.check_conv(st.input.shape[1], st.kernel_size, st.padding, st.stride)
        return dict(image=self.seed_trace.image[0], map=st.output[self.neuron], check=check,
                    n=st.input.shape[1], k=st.kernel_size, p=st.padding, m=st.output.shape[1])

    def construct(self) -> None:
        d = self.get_seed_data()
        title = self.get_title("真实例子：种子模型" if self.lang == "zh" else "A padded network: the seed model")
        img = FeatureMap(d["image"], scale="input", height=3.6).move_to(LEFT * 3.4 + UP * 0.3)
        fmap = FeatureMap(d["map"], scale="activation", height=3.6).move_to(RIGHT * 3.4 + UP * 0.3)
        zh = self.lang == "zh"
        img_lab = label(f"输入 {d['n']}×{d['n']}" if zh else f"input {d['n']}×{d['n']}", 22,
                        lang=self.lang).next_to(img, UP, buff=0.15)
        map_lab = label(f"conv_1_1 第 {self.neuron} 个 {d['m']}×{d['m']}" if zh
                        else f"conv_1_1 #{self.neuron}  {d['m']}×{d['m']}", 22,
                        lang=self.lang).next_to(fmap, UP, buff=0.15)
        arrow = Arrow(img.get_right(), fmap.get_left(), buff=0.3, color=colors.INK)
        arrow_lab = label(f"{d['k']}×{d['k']}, " + (f"填充 {d['p']}" if zh else f"padding {d['p']}"),
                          20, lang=self.lang).next_to(arrow, UP, buff=0.1)
        formula = label(("输出尺寸 = " if zh else "output size = ") + d["check"].formula, 24,
                        lang=self.lang).move_to(np.array([0, FORMULA_Y, 0]))
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
