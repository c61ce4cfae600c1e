"""The numbers of the overview: every conv/relu/pool layer's real maps and the output probabilities.

Pure numpy (no manim, no torch).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnanim.explain.input import channel_scales
from cnnanim.explain.numbers import counted, fmt, symmetric_range


@dataclass
class Column:
    """One column of the overview: a layer's maps with its name and shape.

    Attributes
    ----------
    name, kind : str
        Stage name (``input`` for the photo) and kind (input, conv, relu, pool).
    maps : numpy.ndarray
        (C, H, W) the real values drawn.
    scales : list of str
        Colour scale of each map (tinted channels for the input, ``activation`` otherwise).
    vmax : float or None
        Half-range of the layer's activation colour scale (shared by its maps).
    """

    name: str
    kind: str
    maps: np.ndarray
    scales: list = field(default_factory=list)
    vmax: float | None = None

    @property
    def shape_text(self) -> str:
        """``H×W×C`` as CNN Explainer writes shapes (e.g. ``62×62×10``)."""
        c, h, w = self.maps.shape
        return f"{h}×{w}×{c}"


@dataclass
class OverviewData:
    """Every number the overview shows, from the trace."""

    columns: list
    probabilities: np.ndarray
    class_names: list
    flatten_size: int
    #: Index of the predicted class (the trace's own prediction).
    top: int
    #: Hyper-parameters of the first convolution (kernel, stride, padding) and pooling
    #: (window, stride), for the recap.
    conv: tuple = (3, 1, 0)
    pool: tuple = (2, 2)

    @property
    def top_name(self) -> str:
        return self.class_names[self.top]

    def narration_values(self) -> dict[str, str]:
        """The {fields} of the narration: sizes, hyper-parameters and the prediction."""
        sizes = [c.maps.shape[1] for c in self.columns]
        n_maps = self.columns[1].maps.shape[0] if len(self.columns) > 1 else 0
        first_pool = self.indices("pool")[0] if self.indices("pool") else len(self.columns) - 1
        first_conv = self.indices("conv")[0] if self.indices("conv") else 0
        return {
            "in_size": str(sizes[0]),
            "channels": str(self.columns[0].maps.shape[0]),
            "n_maps": str(n_maps),
            "maps": counted(n_maps, "map"),  # "ten maps", "one map" (English)
            "conv1": str(sizes[first_conv]),
            "pre_pool": str(sizes[first_pool - 1]),
            "pool1": str(sizes[first_pool]),
            "last": str(sizes[-1]),
            "kernel": str(self.conv[0]),
            "stride": str(self.conv[1]),
            "padding": str(self.conv[2]),
            "pool": str(self.pool[0]),
            "flat": str(self.flatten_size),
            "n_classes": str(len(self.class_names)),
            "top": self.top_name,
            "p_top": fmt(100 * float(self.probabilities[self.top]), 1),
        }

    def indices(self, kind: str) -> list[int]:
        """Column indices of the layers of ``kind`` (conv, relu, pool, input)."""
        return [i for i, c in enumerate(self.columns) if c.kind == kind]

    def blocks(self) -> tuple[list[int], list[int]]:
        """Column indices of the first block (up to its pooling) and of the rest, input excluded."""
        n_cols = len(self.columns)
        pools = [i for i, c in enumerate(self.columns) if c.kind == "pool"]
        first_block_end = pools[0] if pools else n_cols - 1
        return list(range(1, first_block_end + 1)), list(range(first_block_end + 1, n_cols))


def overview_data(trace) -> OverviewData:
    """The columns (input, then every conv/relu/pool stage) and output of a trace."""
    img = np.asarray(trace.image)
    cols = [Column("input", "input", img, channel_scales(img), None)]
    conv = pool = None
    for name in trace.stage_names():
        st = trace[name]
        if st.kind not in ("conv", "relu", "pool"):
            continue
        if st.kind == "conv" and conv is None:
            conv = (int(np.shape(st.weight)[-1]), int(st.stride), int(st.padding))
        if st.kind == "pool" and pool is None:
            pool = (int(st.kernel_size), int(st.stride))
        out = np.asarray(st.output)
        cols.append(Column(name, st.kind, out, ["activation"] * out.shape[0], symmetric_range(out)))
    flat = trace.stage_names("flatten")
    flat_size = int(np.size(trace[flat[0]].output)) if flat else int(np.size(cols[-1].maps))
    return OverviewData(cols, np.asarray(trace.probabilities, dtype=np.float64),
                        list(trace.class_names), flat_size, trace.predicted_index,
                        conv or (3, 1, 0), pool or (2, 2))
