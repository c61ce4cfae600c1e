"""What fits on screen: the first maps of a layer, the most probable classes of the output.

A layer with more maps than a column holds shows its first ones and says how many more; an
output with more classes than rows shows the most probable ones and one "others" row whose
numbers are the real sums over the classes it stands for. Plain numpy (no manim, no torch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Most rows (maps or classes) a column shows: the default network's 10 maps and 10 classes
#: fit exactly; with more, the last row says how many more there are.
MAX_ROWS = 10


def shown_count(n: int, most: int = MAX_ROWS) -> int:
    """How many of ``n`` maps a column of ``most`` rows draws: all of them when they fit, else
    ``most - 1`` (the last row says how many more)."""
    return n if n <= most else most - 1


@dataclass(frozen=True)
class ClassRows:
    """Which classes get a row of their own, and which share the "others" row.

    Attributes
    ----------
    shown : list of int
        Class indices in row order: every class in output order when all fit, else the most
        probable first.
    others : list of int
        The classes of the "others" row, in output order (empty when every class has a row).
    """

    shown: list
    others: list

    @property
    def rows(self) -> int:
        """Rows drawn: one per shown class, plus the "others" row when there is one."""
        return len(self.shown) + bool(self.others)

    def others_sum(self, values) -> float:
        """The real sum of ``values`` (one per class) over the classes of the "others" row."""
        v = np.asarray(values, dtype=np.float64)
        return float(v[self.others].sum()) if self.others else 0.0

    def values(self, values) -> np.ndarray:
        """``values`` (one per class) as the rows show them: each shown class's, then the
        "others" row's real sum."""
        v = np.asarray(values, dtype=np.float64)
        rows = [float(v[k]) for k in self.shown]
        return np.array(rows + ([self.others_sum(v)] if self.others else []))

    def row_of(self, index: int) -> int:
        """The row that shows class ``index`` (the "others" row for a class without its own)."""
        return self.shown.index(index) if index in self.shown else len(self.shown)


def class_rows(probabilities, most: int = MAX_ROWS) -> ClassRows:
    """Every class in output order when there are at most ``most``; else the ``most - 1`` most
    probable (most probable first, ties in output order) and an "others" row for the rest."""
    p = np.asarray(probabilities, dtype=np.float64)
    n = len(p)
    if n <= most:
        return ClassRows(list(range(n)), [])
    order = [int(i) for i in np.argsort(-p, kind="stable")]
    return ClassRows(order[:most - 1], sorted(order[most - 1:]))
