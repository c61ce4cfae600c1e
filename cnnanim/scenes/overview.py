"""Overview: the whole TinyVGG at once, as CNN Explainer's main view draws it.

Storyboard: the input's three channel maps -> each conv / relu / pool layer as a column of its
ten real activation maps, revealed left to right with thin connection lines (every map to every
map for a convolution, map to map for ReLU and pooling) -> the output layer's ten class
probabilities as bars, with the predicted class named.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    Create,
    FadeIn,
    Group,
    GrowFromEdge,
    Line,
    MarkupText,
    Rectangle,
    VGroup,
    VMobject,
    Write,
)

from cnnanim.draw import colors
from cnnanim.draw.mobjects import FeatureMap
from cnnanim.draw.text import CachedMarkupText, font_for, label, on_row
from cnnanim.explain.numbers import fmt
from cnnanim.explain.overview import OverviewData, overview_data
from cnnanim.scenes.base import CnnScene

# -- layout (scene units) --------------------------------------------------------------------
MAP_H = 0.40          # side of one activation map
MAP_GAP = 0.04        # vertical gap between maps
COL_TOP = 3.08        # top of a 10-map column
LEFT_X = -6.8         # left edge of the input column
RIGHT_X = 6.75        # right edge of the prediction
PREDICTION_Y = 3.42   # y of the prediction, on the title line
COL_PITCH = 1.03      # distance between column centres
OUT_GAP = 0.45        # gap between the last map column and the output bars
OUT_BAR_MAX = 0.8     # output bar length of probability 1
LABEL_SIZE = 18
LINE_COLOR = "#c4c4c4"
LINE_WIDTH = 0.6
LABEL_ROW_GAP = 0.54  # how much lower the second row of column labels sits


def map_y(j: int, n: int, n_max: int = 10) -> float:
    """y of map ``j`` of ``n`` in a column (centred against a full column of ``n_max``)."""
    pitch = MAP_H + MAP_GAP
    full_centre = COL_TOP - MAP_H / 2 - (n_max - 1) * pitch / 2
    return full_centre + ((n - 1) / 2 - j) * pitch


#: Bottom edge of a full column: the column labels hang below it.
COL_BOTTOM = map_y(9, 10) - MAP_H / 2


def connections(starts: list, ends: list, full: bool) -> VMobject:
    """Thin lines from each start point to every end point (``full``) or to its partner."""
    vm = VMobject(stroke_color=LINE_COLOR, stroke_width=LINE_WIDTH)
    pairs = ([(a, b) for a in starts for b in ends] if full else list(zip(starts, ends)))
    for a, b in pairs:
        vm.start_new_path(np.array(a, dtype=float))
        vm.add_line_to(np.array(b, dtype=float))
    return vm


class Overview(CnnScene):
    """The whole network: every layer's real activation maps, left to right, to the prediction."""

    cli_name = "overview"
    description = "The whole network at once: every layer's maps, left to right, to the prediction"
    chapter = "overview"
    valid_layer_kinds = ("conv", "relu", "pool", "flatten", "linear")
    NARRATION = {
        "input": {
            "en": "Here is the whole network on one screen, the way CNN Explainer draws it. "
                  "On the left, the photo's red, green and blue channels.",
            "zh": "这是按 CNN Explainer 的画法展示的整个网络。最左边是照片的红、绿、蓝三个通道。",
        },
        "block1": {
            "en": "Each column is a layer, each small square one of its ten maps. A convolution "
                  "links every map to every map; ReLU and pooling act map by map.",
            "zh": "每列是一层，每个小方块是一张特征图。卷积连接前后所有的图，ReLU 和池化则逐张处理。",
        },
        "block2": {
            "en": "The second block repeats the pattern on smaller maps, shrinking them from "
                  "{pool1} down to {last} pixels wide.",
            "zh": "第二个模块在更小的特征图上重复这一模式，宽度从 {pool1} 缩小到 {last}。",
        },
        "output": {
            "en": "Flattened into {flat} numbers, the last maps feed the output layer, and "
                  "softmax names {top} with {p_top} percent.",
            "zh": "最后的图展平成 {flat} 个数，送入输出层；softmax 判定为 {top}，概率 {p_top}%。",
        },
    }

    WORDS = {
        "title": {"en": "TinyVGG", "zh": "TinyVGG 全貌"},
        "classes": {"en": "{n} classes", "zh": "{n} 个类别"},
        "prediction": {"en": "prediction:", "zh": "预测："},
    }

    def setup(self) -> None:
        super().setup()
        self.data = self.get_overview_data()

    # -- data ---------------------------------------------------------------------------------
    def get_overview_data(self) -> OverviewData:
        """Every number shown, from the trace (see :func:`overview_data`)."""
        return overview_data(self.trace)

    # -- builders -------------------------------------------------------------------------------
    def column_x(self, i: int) -> float:
        return LEFT_X + MAP_H / 2 + i * COL_PITCH

    @property
    def out_left(self) -> float:
        """x where the output bars start."""
        return self.column_x(len(self.data.columns) - 1) + MAP_H / 2 + OUT_GAP

    def get_column(self, i: int) -> Group:
        """Column ``i``'s maps as small FeatureMaps stacked vertically."""
        col = self.data.columns[i]
        n = col.maps.shape[0]
        g = Group()
        for j, (m, scale) in enumerate(zip(col.maps, col.scales)):
            fm = FeatureMap(m, scale=scale, vmax=col.vmax, height=MAP_H, border_width=1)
            fm.move_to([self.column_x(i), map_y(j, n), 0])
            g.add(fm)
        return g

    def get_label(self, i: int) -> VGroup:
        """Name and shape under column ``i``; odd columns one row lower so neighbours never touch."""
        col = self.data.columns[i]
        return self.place_label(label(col.name, LABEL_SIZE),
                                label(col.shape_text, LABEL_SIZE, colors.MUTED), self.column_x(i),
                                row=i % 2)

    def place_label(self, name, shape, x: float, row: int) -> VGroup:
        """``name`` over ``shape`` under the columns at ``x`` (in label row ``row``), with a tick."""
        top = COL_BOTTOM - 0.08 - row * LABEL_ROW_GAP
        txt = VGroup(name, shape).arrange(DOWN, buff=0.06)
        txt.move_to([x, top - txt.height / 2, 0])
        if txt.get_left()[0] < LEFT_X:  # the first column's label stays inside the frame
            txt.shift(RIGHT * (LEFT_X - txt.get_left()[0]))
        tick = Line([x, COL_BOTTOM - 0.02, 0], [x, txt.get_top()[1] + 0.04, 0],
                    stroke_color=LINE_COLOR, stroke_width=1)
        return VGroup(tick, txt)

    def get_connections(self, i: int) -> VMobject:
        """Lines from column ``i - 1`` to column ``i`` (to the output when ``i`` is past the end)."""
        cols = self.data.columns
        prev = cols[i - 1]
        n_prev = prev.maps.shape[0]
        starts = [[self.column_x(i - 1) + MAP_H / 2, map_y(j, n_prev), 0] for j in range(n_prev)]
        if i < len(cols):
            n = cols[i].maps.shape[0]
            ends = [[self.column_x(i) - MAP_H / 2, map_y(j, n), 0] for j in range(n)]
            full = cols[i].kind == "conv"
        else:
            n = len(self.data.probabilities)
            ends = [[self.out_left, map_y(j, n), 0] for j in range(n)]
            full = True
        return connections(starts, ends, full)

    def get_output(self) -> VGroup:
        """One bar per class (length = probability) with the class name; the top class in bold."""
        d = self.data
        n = len(d.probabilities)
        rows = VGroup()
        x0 = self.out_left
        for j, p in enumerate(d.probabilities):
            y = map_y(j, n)
            top = j == d.top
            frame = Rectangle(width=OUT_BAR_MAX, height=MAP_H * 0.7, stroke_color=colors.MUTED,
                              stroke_width=1)
            frame.move_to([x0 + OUT_BAR_MAX / 2, y, 0])
            length = max(float(p) * OUT_BAR_MAX, 0.004)
            bar = Rectangle(width=length, height=MAP_H * 0.7, stroke_width=0, fill_opacity=1,
                            fill_color=colors.LOGIT if top else colors.ORANGES[3])
            bar.move_to([x0 + length / 2, y, 0])
            name = on_row(label("X" + d.class_names[j], LABEL_SIZE,
                                colors.LOGIT if top else colors.INK,
                                weight="BOLD" if top else "NORMAL"), y)
            name.shift(RIGHT * (x0 + OUT_BAR_MAX + 0.12 - name.get_left()[0]))
            rows.add(VGroup(frame, bar, name))
        return rows

    def get_output_label(self) -> VGroup:
        """``output`` and the number of classes under the output bars, in the lower label row."""
        n = len(self.data.probabilities)
        return self.place_label(label("output", LABEL_SIZE),
                                self.get_words("classes", LABEL_SIZE, colors.MUTED, n=n),
                                self.out_left + OUT_BAR_MAX / 2, row=1)

    def get_prediction(self) -> MarkupText:
        """``prediction: espresso 81.8%`` at the top right."""
        d = self.data
        pct = f"{fmt(100 * float(d.probabilities[d.top]), 1)}%"
        head = self.words("prediction")
        g = CachedMarkupText(f'{head} <b><span foreground="{colors.LOGIT}">{escape(d.top_name)}</span></b> '
                             f'<span foreground="{colors.LOGIT}">{pct}</span>',
                             font=font_for(self.lang), font_size=22, color=colors.INK)
        g.move_to([RIGHT_X - g.width / 2, PREDICTION_Y, 0])
        return g

    # -- verbs ----------------------------------------------------------------------------------
    def reveal_column(self, i: int, run_time: float) -> None:
        """Activation flows into column ``i``: its connection lines, then its maps and label."""
        lines = self.get_connections(i)
        self.play(Create(lines), run_time=run_time * 0.4)
        self.play(FadeIn(self.get_column(i), lag_ratio=0.05), FadeIn(self.get_label(i)),
                  run_time=run_time * 0.6)

    # -- storyboard -------------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.data
        values = d.narration_values()
        title = self.get_title(self.words("title"), size=26)
        block1, block2 = d.blocks()
        with self.beat("input", **values) as b:
            self.play(Write(title), run_time=b.part(0.15))
            self.play(FadeIn(self.get_column(0), lag_ratio=0.2), FadeIn(self.get_label(0)),
                      run_time=b.part(0.3))
        with self.beat("block1", **values) as b:
            for i in block1:
                self.reveal_column(i, b.part(0.85 / len(block1)))
        with self.beat("block2", **values) as b:
            for i in block2:
                self.reveal_column(i, b.part(0.85 / max(1, len(block2))))
        with self.beat("output", **values) as b:
            self.play(Create(self.get_connections(len(d.columns))), run_time=b.part(0.2))
            rows = self.get_output()
            self.play(*[GrowFromEdge(r[1], LEFT) for r in rows],
                      *[FadeIn(VGroup(r[0], r[2])) for r in rows], FadeIn(self.get_output_label()),
                      run_time=b.part(0.3))
            self.play(FadeIn(self.get_prediction(), shift=DOWN * 0.1), run_time=b.part(0.2))
