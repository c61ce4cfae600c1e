"""Overview: the whole TinyVGG at once, as CNN Explainer's main view draws it.

Storyboard: the whole network appears at once as the first beat begins (the input's channel
maps, each conv / relu / pool layer as a column of its ten real activation maps with thin
connection lines, the flatten step, the output layer's class probabilities as bars and the
predicted class); then a highlight walks over it, part by part, as the narration names them.
:class:`OverviewRecap` (the lecture's last chapter) walks the same picture once more, naming what
each part does.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import numpy as np
from manim import (
    DOWN,
    RIGHT,
    Create,
    FadeOut,
    Group,
    Line,
    MarkupText,
    Rectangle,
    VGroup,
    VMobject,
)

from cnnanim.draw import colors
from cnnanim.draw.layout import CONTENT_BOTTOM, CONTENT_TOP, SAFE_LEFT, SAFE_RIGHT
from cnnanim.draw.mobjects import FeatureMap, hbar
from cnnanim.draw.text import CachedMarkupText, font_for, label, on_row
from cnnanim.explain.fit import MAX_ROWS, ClassRows, class_rows, shown_count
from cnnanim.explain.numbers import fmt
from cnnanim.explain.overview import OverviewData, overview_data
from cnnanim.network.presets import class_label
from cnnanim.scenes.base import CnnScene

# -- layout (scene units) --------------------------------------------------------------------
MAP_H = 0.415         # side of one activation map
MAP_GAP = 0.03        # vertical gap between maps
IN_H = 0.95           # side of one input channel map (the photo's channels, drawn larger)
IN_GAP = 0.1          # vertical gap between the input channel maps
COL_TOP = CONTENT_TOP  # top of a full column (MAX_ROWS maps)
HIGHLIGHT_PAD = 0.06  # room between a highlighted part and its frame
LEFT_X = SAFE_LEFT + HIGHLIGHT_PAD  # left edge of the input column
RIGHT_X = SAFE_RIGHT - HIGHLIGHT_PAD  # right edge of the class names and of the prediction
PREDICTION_Y = 3.47   # y of the prediction, on the title line
OUT_GAP = 0.75        # gap between the last map column and the output bars (flatten)
OUT_BAR_MAX = 0.75    # output bar length of probability 1
NAME_GAP = 0.12       # gap between an output bar and its class name
LABEL_SIZE = 16
MORE_SIZE = 14        # "+ 55 more" in a column whose maps do not all fit
LINE_COLOR = "#c4c4c4"
LINE_WIDTH = 0.6
LABEL_TOP_GAP = 0.12  # gap between a column's bottom and its label
LABEL_ROW_GAP = 0.5   # how much lower the second row of column labels sits
LABEL_GAP = 0.1       # least room between two labels in the same row


def map_y(j: int, n: int, n_max: int = MAX_ROWS) -> float:
    """y of map ``j`` of ``n`` in a column (centred against a full column of ``n_max``)."""
    pitch = MAP_H + MAP_GAP
    full_centre = COL_TOP - MAP_H / 2 - (n_max - 1) * pitch / 2
    return full_centre + ((n - 1) / 2 - j) * pitch


def input_y(j: int, n: int) -> float:
    """y of input channel map ``j`` of ``n`` (centred against a full column)."""
    return map_y(0, 1) + ((n - 1) / 2 - j) * (IN_H + IN_GAP)


#: Bottom edge of a full column: the column labels hang below it.
COL_BOTTOM = map_y(MAX_ROWS - 1, MAX_ROWS) - MAP_H / 2


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

    # -- data ---------------------------------------------------------------------------------
    def get_data(self) -> OverviewData:
        """Every number shown, from the trace (see :func:`overview_data`)."""
        return overview_data(self.trace)

    def get_narration_values(self) -> dict[str, str]:
        """The narration's fields, the class named as the viewer's language names it."""
        values = self.data.narration_values()
        values["top"] = class_label(values["top"], self.lang)
        return values

    def input_beat_key(self) -> str:
        """``input`` for a colour photo (red, green and blue), ``input_grey`` for one channel."""
        return "input" if self.data.columns[0].maps.shape[0] == 3 else "input_grey"

    # -- builders -------------------------------------------------------------------------------
    def column_width(self, i: int) -> float:
        """Width of column ``i``'s maps (the input's channels are drawn larger)."""
        return IN_H if i == 0 else MAP_H

    @property
    def class_rows(self) -> ClassRows:
        """Which classes have an output row (all, or the most probable and ``others``)."""
        return class_rows(self.data.probabilities)

    @property
    def others_label(self) -> str:
        """``others (91 classes, 12.3%)``: the classes without a row and their real total."""
        rows = self.class_rows
        p = fmt(100 * rows.others_sum(self.data.probabilities), 1)
        return self.words("others", n=len(rows.others), p=p)

    @property
    def names_width(self) -> float:
        """Width of the longest class name (or ``others`` line) beside the output bars."""
        names = [self.class_labels[k] for k in self.class_rows.shown]
        if self.class_rows.others:
            names.append(self.others_label)
        return max(label("X" + n, LABEL_SIZE, lang=self.lang, weight="BOLD").width
                   for n in names)

    @property
    def out_left(self) -> float:
        """x where the output bars start: bars and class names end at the safe area's edge."""
        if not hasattr(self, "_out_left"):
            self._out_left = RIGHT_X - self.names_width - NAME_GAP - OUT_BAR_MAX
        return self._out_left

    @property
    def column_gap(self) -> float:
        """Space between neighbouring columns: the columns fill the width left of the output."""
        n = len(self.data.columns)
        used = sum(self.column_width(i) for i in range(n))
        return (self.out_left - OUT_GAP - LEFT_X - used) / (n - 1)

    def column_x(self, i: int) -> float:
        """x of the centre of column ``i``."""
        left = LEFT_X + sum(self.column_width(k) + self.column_gap for k in range(i))
        return left + self.column_width(i) / 2

    def shown_maps(self, i: int) -> int:
        """How many of column ``i``'s maps are drawn: every input channel; a layer's first
        ``MAX_ROWS - 1`` when it has more than ``MAX_ROWS`` (the last row says how many more)."""
        n = self.data.columns[i].maps.shape[0]
        return n if i == 0 else shown_count(n)

    def column_rows(self, i: int) -> int:
        """Rows column ``i`` takes: its drawn maps, and the ``+ N more`` row when some are not."""
        return self.shown_maps(i) + (self.shown_maps(i) < self.data.columns[i].maps.shape[0])

    def row_y(self, i: int, j: int) -> float:
        """y of row ``j`` of column ``i``."""
        return input_y(j, self.column_rows(i)) if i == 0 else map_y(j, self.column_rows(i))

    def get_column(self, i: int) -> Group:
        """Column ``i``'s maps as small FeatureMaps stacked vertically (its first maps and
        ``+ N more`` when they do not all fit)."""
        col = self.data.columns[i]
        shown = self.shown_maps(i)
        g = Group()
        for j, (m, scale) in enumerate(zip(col.maps[:shown], col.scales)):
            fm = FeatureMap(m, scale=scale, vmax=col.vmax, height=self.column_width(i),
                            border_width=1)
            fm.move_to([self.column_x(i), self.row_y(i, j), 0])
            g.add(fm)
        if shown < col.maps.shape[0]:
            g.add(self.get_more_maps(col.maps.shape[0] - shown).move_to(
                [self.column_x(i), self.row_y(i, shown), 0]))
        return g

    def get_more_maps(self, n: int):
        """``+ 55 more`` in two short lines, no wider than a map: the maps a column leaves out."""
        more = label(self.words("more_maps", n=n), MORE_SIZE, colors.MUTED_TEXT, lang=self.lang)
        if more.width > MAP_H + 2 * MAP_GAP:
            more.scale_to_fit_width(MAP_H + 2 * MAP_GAP)
        return more

    def get_label(self, i: int) -> VGroup:
        """Name and shape under column ``i``; odd columns one row lower so neighbours never touch
        (long shapes, ``128×128×16``, narrowed to the room between two labels of a row)."""
        col = self.data.columns[i]
        name, shape = label(col.name, LABEL_SIZE), label(col.shape_text, LABEL_SIZE,
                                                          colors.MUTED_TEXT)
        room = 2 * (MAP_H + self.column_gap) - LABEL_GAP
        wide = max(name.width, shape.width)
        if wide > room:
            name.scale(room / wide)
            shape.scale(room / wide)
        return self.place_label(name, shape, self.column_x(i), row=i % 2)

    def place_label(self, name, shape, x: float, row: int, left: float = LEFT_X) -> VGroup:
        """``name`` over ``shape`` under the columns at ``x`` (in label row ``row``), with a tick;
        the words start at ``left`` or right of it."""
        top = COL_BOTTOM - LABEL_TOP_GAP - row * LABEL_ROW_GAP
        txt = VGroup(name, shape).arrange(DOWN, buff=0.04)
        txt.move_to([x, top - txt.height / 2, 0])
        if txt.get_left()[0] < left:  # the first column's label stays inside the frame
            txt.shift(RIGHT * (left - txt.get_left()[0]))
        tick = Line([x, COL_BOTTOM - 0.02, 0], [x, txt.get_top()[1] + 0.04, 0],
                    stroke_color=LINE_COLOR, stroke_width=1)
        return VGroup(tick, txt)

    def get_connections(self, i: int) -> VMobject:
        """Lines from column ``i - 1`` to column ``i`` (to the output when ``i`` is past the end)."""
        cols = self.data.columns
        right = self.column_x(i - 1) + self.column_width(i - 1) / 2
        starts = [[right, self.row_y(i - 1, j), 0] for j in range(self.shown_maps(i - 1))]
        if i < len(cols):
            ends = [[self.column_x(i) - MAP_H / 2, self.row_y(i, j), 0]
                    for j in range(self.shown_maps(i))]
            full = cols[i].kind == "conv"
        else:
            n = self.class_rows.rows
            ends = [[self.out_left, map_y(j, n), 0] for j in range(n)]
            full = True
        return connections(starts, ends, full)

    def get_output(self) -> VGroup:
        """One bar per class (length = probability) with the class name; the top class in bold.
        With more classes than rows, the most probable ones and an ``others`` row (the real sum
        of the other classes' probabilities)."""
        d = self.data
        rows_of = self.class_rows
        n = rows_of.rows
        rows = VGroup()
        x0 = self.out_left
        names = [self.class_labels[k] for k in rows_of.shown]
        if rows_of.others:
            names.append(self.others_label)
        for j, (name_text, p) in enumerate(zip(names, rows_of.values(d.probabilities))):
            y = map_y(j, n)
            top = j < len(rows_of.shown) and rows_of.shown[j] == d.top
            frame = Rectangle(width=OUT_BAR_MAX, height=MAP_H * 0.7, stroke_color=colors.MUTED,
                              stroke_width=1)
            frame.move_to([x0 + OUT_BAR_MAX / 2, y, 0])
            bar = hbar(p, x0, y, max_length=OUT_BAR_MAX, height=MAP_H * 0.7, min_length=0.004,
                       color=colors.LOGIT if top else colors.ORANGES[3])
            name = on_row(label("X" + name_text, LABEL_SIZE,
                                colors.LOGIT_TEXT if top else colors.INK, lang=self.lang,
                                weight="BOLD" if top else "NORMAL"), y)
            name.shift(RIGHT * (x0 + OUT_BAR_MAX + NAME_GAP - name.get_left()[0]))
            rows.add(VGroup(frame, bar, name))
        return rows

    @property
    def flatten_x(self) -> float:
        """x of the flatten step: the middle of the lines from the last column to the output."""
        last = len(self.data.columns) - 1
        return (self.column_x(last) + MAP_H / 2 + self.out_left) / 2

    def get_output_label(self) -> VGroup:
        """``output`` and the number of classes under the output layer (the label rows go on
        alternating: the last column, flatten, the output)."""
        n = len(self.data.probabilities)
        return self.place_label(self.get_words("output", LABEL_SIZE),
                                self.get_words("classes", LABEL_SIZE, colors.MUTED_TEXT, n=n),
                                (self.out_left + RIGHT_X) / 2,
                                row=(len(self.data.columns) + 1) % 2)

    def get_flatten_label(self) -> VGroup:
        """``flatten`` and the length of the flattened vector, under the lines to the output
        (right of the label in the same row, when the columns leave little room)."""
        n = len(self.data.columns)
        before = self.get_label(n - 2)[1].get_right()[0] + LABEL_GAP
        return self.place_label(self.get_words("flatten", LABEL_SIZE),
                                self.get_words("numbers", LABEL_SIZE, colors.MUTED_TEXT,
                                               n=self.data.flatten_size),
                                self.flatten_x, row=n % 2, left=before)

    def get_prediction(self) -> MarkupText:
        """``prediction: espresso 81.8%`` at the top right."""
        d = self.data
        pct = f"{fmt(100 * float(d.probabilities[d.top]), 1)}%"
        head = self.words("prediction")
        name = escape(self.class_labels[d.top])
        g = CachedMarkupText(f'{head} <b><span foreground="{colors.LOGIT_TEXT}">{name}</span></b> '
                             f'<span foreground="{colors.LOGIT_TEXT}">{pct}</span>',
                             font=font_for(self.lang), font_size=22, color=colors.INK)
        g.move_to([RIGHT_X - g.width / 2, PREDICTION_Y, 0])
        return g

    def get_column_frame(self, first: int, last: int | None = None) -> Rectangle:
        """A highlight frame around the maps of columns ``first`` to ``last`` (inclusive)."""
        last = first if last is None else last
        left = self.column_x(first) - self.column_width(first) / 2
        right = self.column_x(last) + self.column_width(last) / 2
        spans = [self.column_span(i) for i in range(first, last + 1)]
        return self.frame_around(left, right, max(t for t, _ in spans), min(b for _, b in spans))

    def column_span(self, i: int) -> tuple[float, float]:
        """Top and bottom y of column ``i``'s maps (and of its ``+ N more``)."""
        h = IN_H if i == 0 else MAP_H
        return self.row_y(i, 0) + h / 2, self.row_y(i, self.column_rows(i) - 1) - h / 2

    def get_output_frame(self) -> Rectangle:
        """A highlight frame around the output bars and class names."""
        return self.frame_around(self.out_left, RIGHT_X, COL_TOP, COL_BOTTOM)

    def frame_around(self, left: float, right: float, top: float, bottom: float) -> Rectangle:
        """A highlight frame around the box ``left``..``right`` x ``bottom``..``top`` (never
        below the content area)."""
        pad = HIGHLIGHT_PAD
        left, right, top = left - pad, right + pad, top + pad
        bottom = max(bottom - pad, CONTENT_BOTTOM)
        r = Rectangle(width=right - left, height=top - bottom, stroke_color=colors.HIGHLIGHT,
                      stroke_width=3)
        return r.move_to([(left + right) / 2, (top + bottom) / 2, 0])

    def get_frame_of(self, mobject) -> Rectangle:
        """A highlight frame around ``mobject`` (a label, the prediction)."""
        return self.frame_around(mobject.get_left()[0], mobject.get_right()[0],
                                 mobject.get_top()[1], mobject.get_bottom()[1])

    def get_kind_frames(self, kind: str) -> VGroup:
        """Highlight frames around every column of ``kind`` (conv, relu, pool)."""
        return VGroup(*[self.get_column_frame(i) for i in self.data.indices(kind)])

    # -- verbs ----------------------------------------------------------------------------------
    def get_network(self) -> Group:
        """The whole network as one picture: each column with its connection lines and label,
        then flatten, the output bars and the prediction."""
        n = len(self.data.columns)
        g = Group(self.get_column(0), self.get_label(0))
        for i in range(1, n):
            g.add(self.get_connections(i), self.get_column(i), self.get_label(i))
        return g.add(self.get_connections(n), self.get_flatten_label(), self.get_output(),
                     self.get_output_label(), self.get_prediction())

    def show_network(self, b) -> None:
        """The title and the whole network appear at once, at the start of beat ``b``."""
        self.show_opening(b, self.get_title(self.words("title"), size=26), self.get_network())

    def highlight(self, old, new, run_time: float):
        """Move the highlight from ``old`` (None: nothing) to ``new`` (frames); returns ``new``."""
        if old is None:
            self.play(Create(new), run_time=run_time)
        else:
            self.play(FadeOut(old), Create(new), run_time=run_time)
        return new

    # -- storyboard -------------------------------------------------------------------------------
    def construct(self) -> None:
        d = self.data
        values = self.get_narration_values()
        block1, block2 = d.blocks()
        n = len(d.columns)
        with self.beat("whole", **values) as b:
            self.show_network(b)
        with self.beat(self.input_beat_key(), **values) as b:
            frame = self.highlight(None, self.get_column_frame(0), b.part(0.2))
        with self.beat("block1" if values["n_maps"] != "1" else "block1_one", **values) as b:
            frame = self.highlight(frame, self.get_column_frame(block1[0], block1[-1]), b.part(0.15))
        with self.beat("block2", **values) as b:
            last = block2[-1] if block2 else n - 1
            first = block2[0] if block2 else n - 1
            frame = self.highlight(frame, self.get_column_frame(first, last), b.part(0.15))
        with self.beat("output", **values) as b:
            frame = self.highlight(frame, VGroup(self.get_frame_of(self.get_flatten_label()[1]),
                                                 self.get_output_frame()), b.part(0.15))
            self.play(Create(self.get_frame_of(self.get_prediction())), run_time=b.part(0.1))


class OverviewRecap(Overview):
    """The lecture's recap: the whole network once more, naming what each part does."""

    cli_name = "recap"
    description = "Recap: what each part of the network does, on the whole-network picture"
    chapter = "recap"

    def construct(self) -> None:
        values = self.get_narration_values()
        with self.beat("whole", **values) as b:
            self.show_network(b)
        with self.beat("tensor", **values) as b:
            frame = self.highlight(None, self.get_column_frame(0), b.part(0.15))
        with self.beat("conv", **values) as b:
            frame = self.highlight(frame, self.get_kind_frames("conv"), b.part(0.15))
        with self.beat("hyper", **values) as b:
            first = self.data.indices("conv")[0]
            frame = self.highlight(frame, VGroup(self.get_column_frame(0),
                                                 self.get_column_frame(first),
                                                 self.get_frame_of(self.get_label(first)[1])),
                                   b.part(0.15))
        with self.beat("relu", **values) as b:
            frame = self.highlight(frame, self.get_kind_frames("relu"), b.part(0.15))
        with self.beat("pool", **values) as b:
            frame = self.highlight(frame, self.get_kind_frames("pool"), b.part(0.15))
        with self.beat("flatten", **values) as b:
            frame = self.highlight(frame, self.get_frame_of(self.get_flatten_label()[1]),
                                   b.part(0.15))
        with self.beat("softmax", **values) as b:
            self.highlight(frame, VGroup(self.get_output_frame(),
                                         self.get_frame_of(self.get_prediction())), b.part(0.15))
