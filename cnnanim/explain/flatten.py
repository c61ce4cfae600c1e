"""The numbers the flatten scene shows: where cells land in the vector, logit terms (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnanim.explain import maths
from cnnanim.explain.numbers import decimals_for, fmt


def traced_cells(pooled: np.ndarray) -> list[tuple[int, int, int]]:
    """Cells (channel, row, col) whose journey into the vector the scene shows.

    The first cell, the start of the second row, the start of the second channel (these show
    the order; each once, when there is such a row or channel) and the strongest activation of
    the whole tensor.
    """
    c, h, w = pooled.shape
    strongest = tuple(int(i) for i in np.unravel_index(int(np.argmax(pooled)), pooled.shape))
    cells: list[tuple[int, int, int]] = []
    for cell in [(0, 0, 0), (0, min(1, h - 1), 0), (min(1, c - 1), 0, 0), strongest]:
        if cell not in cells:  # one channel (or one row): no second channel (or row) to show
            cells.append(cell)
    return cells


def logit_decimals(t: maths.LogitTerms) -> int:
    """Decimals of a logit's sum, bias and total (at least 2)."""
    return max(2, decimals_for(np.array([t.total, t.bias, t.products.sum()]), most=4))


@dataclass(frozen=True)
class ShownSum:
    """A logit written as ``sum + bias = total``, as the screen shows it.

    Attributes
    ----------
    products, bias, total : str
        The sum of the products, the bias (with its own sign) and the logit, each written with
        ``decimals`` decimals.
    decimals : int
    rounded : bool
        True when the shown sum and bias do not add up to the shown total at any decimals up
        to 4 (the screen then says so).
    """

    products: str
    bias: str
    total: str
    decimals: int
    rounded: bool

    def adds_up(self) -> bool:
        """True when the shown sum plus the shown bias is the shown total, to the last digit."""
        scale = 10 ** self.decimals
        parts = round(float(self.products) * scale) + round(float(self.bias) * scale)
        return parts == round(float(self.total) * scale)


def shown_sum(t: maths.LogitTerms) -> ShownSum:
    """``sum + bias = total`` of logit ``t`` with the fewest decimals (from
    :func:`logit_decimals`, at most 4) at which the shown terms add up to the shown total;
    marked rounded if none does."""
    first = logit_decimals(t)
    for dec in range(first, 5):
        s = ShownSum(fmt(t.products.sum(), dec), fmt(t.bias, dec), fmt(t.total, dec), dec, False)
        if s.adds_up():
            return s
    return ShownSum(fmt(t.products.sum(), first), fmt(t.bias, first), fmt(t.total, first),
                    first, True)


@dataclass(frozen=True)
class FlattenData:
    """The numbers the flatten scene shows.

    Attributes
    ----------
    pool_stage : str
        The last pooling stage (it feeds flatten).
    pooled : numpy.ndarray
        (C, H, W) output of the last pooling stage.
    vector : numpy.ndarray
        (C*H*W,) the flatten stage's output (the trace's).
    cells : list of (channel, row, col, index, value)
        Traced cells with their position in the vector (maths.flatten_index).
    logits : list of maths.LogitTerms
        The predicted class first, then the runner-up.
    top_terms : list of numpy.ndarray
        For each logit, the indices of the largest products shown (sorted by index).
    """

    pool_stage: str
    pooled: np.ndarray
    vector: np.ndarray
    cells: list
    logits: list
    top_terms: list


def flatten_data(trace, n_terms: int = 3) -> FlattenData:
    """Everything the flatten scene shows (last pool stage, flatten, output layer)."""
    names = trace.stage_names()
    flat_name = trace.stage_names("flatten")[0]
    pool_name = names[names.index(flat_name) - 1]
    pooled = np.asarray(trace[pool_name].output, dtype=np.float64)
    vector = np.asarray(trace[flat_name].output, dtype=np.float64)
    cells = []
    for ch, r, c in traced_cells(pooled):
        i = maths.flatten_index(ch, r, c, pooled.shape)
        cells.append((ch, r, c, i, float(pooled[ch, r, c])))
    out = trace[trace.stage_names("linear")[-1]]
    order = np.argsort(-np.asarray(trace.logits), kind="stable")
    terms = [maths.logit_terms(vector, out.weight, out.bias, int(k)) for k in order[:2]]
    tops = [np.sort(np.argsort(-t.products, kind="stable")[:n_terms]) for t in terms]
    return FlattenData(pool_name, pooled, vector, cells, terms, tops)
