"""Input layer: the photo, preprocessed to 64x64, splits into its red, green and blue channels."""

from __future__ import annotations

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Create,
    FadeIn,
    FadeOut,
    Group,
    ReplacementTransform,
    Write,
)

from cnnanim.draw import colors
from cnnanim.draw.mobjects import FeatureMap, NumberGrid
from cnnanim.draw.text import label
from cnnanim.scenes.base import CnnScene

TINTS = ("red", "green", "blue")
NAMES = {"en": {"red": "R", "green": "G", "blue": "B", "input": "grey"},
         "zh": {"red": "红 R", "green": "绿 G", "blue": "蓝 B", "input": "灰度"}}


def zoom_window(image: np.ndarray, size: int = 5) -> tuple[int, int, np.ndarray]:
    """The ``size`` x ``size`` patch of channel 0 the scene zooms into: the one with the widest
    spread of values (deterministic), as (top, left, values)."""
    ch = np.asarray(image[0], dtype=np.float64)
    best = (-1.0, 0, 0)
    step = max(1, size // 2)
    for top in range(0, ch.shape[0] - size + 1, step):
        for left in range(0, ch.shape[1] - size + 1, step):
            patch = ch[top:top + size, left:left + size]
            spread = float(patch.max() - patch.min())
            if spread > best[0]:
                best = (spread, top, left)
    _, top, left = best
    return top, left, ch[top:top + size, left:left + size].copy()


class InputLayer(CnnScene):
    """The photo becomes a 64x64x3 tensor: three channels of numbers between 0 and 1."""

    cli_name = "input"
    description = "The photo becomes the input tensor: red, green and blue channels"
    chapter = "input"
    valid_layer_kinds = ("conv", "relu", "pool", "flatten", "linear")
    zoom_size = 5
    NARRATION = {
        "photo": {
            "en": "This is the photo we feed the network, scaled and cropped to {size} by {size} pixels.",
            "zh": "这是输入网络的照片，缩放并裁剪成 {size}×{size} 像素。",
        },
        "split": {
            "en": "A colour image is a tensor: one grid of numbers for red, one for green, one for blue.",
            "zh": "彩色图像就是一个张量：红、绿、蓝三个通道，各是一张数字网格。",
        },
        "split_grey": {
            "en": "A greyscale image is a tensor with a single channel: one grid of numbers.",
            "zh": "灰度图像是只有一个通道的张量：一张数字网格。",
        },
        "values": {
            "en": "Zoom in: each pixel value is divided by 255, so every number lies between 0 and 1. "
                  "Here, {lo} is dark and {hi} is bright.",
            "zh": "放大来看：每个像素值都除以 255，所以每个数都在 0 到 1 之间。这里 {lo} 偏暗，{hi} 偏亮。",
        },
    }

    def setup(self) -> None:
        super().setup()
        self.zoom_top, self.zoom_left, self.zoom_values = zoom_window(self.trace.image, self.zoom_size)

    def get_photo(self, height: float = 3.8) -> FeatureMap:
        """The preprocessed input as the network sees it."""
        img = self.trace.image
        if img.shape[0] == 1:
            return FeatureMap(img[0], scale="input", height=height)
        return FeatureMap(img.transpose(1, 2, 0), scale="rgb", height=height)

    def get_channels(self, height: float = 3.2) -> Group:
        """One tinted map per input channel, with its name."""
        img = self.trace.image
        tints = TINTS if img.shape[0] == 3 else ("input",)
        names = NAMES[self.lang]
        groups = []
        for ch, tint in zip(img, tints):
            m = FeatureMap(ch, scale=tint, height=height)
            groups.append(Group(m, label(names[tint], 26, lang=self.lang).next_to(m, DOWN, buff=0.2)))
        return Group(*groups).arrange(RIGHT, buff=0.5)

    def get_zoom_grid(self) -> NumberGrid:
        """The real values of the zoom window, in the first channel's colours."""
        tint = "red" if self.trace.image.shape[0] == 3 else "input"
        return NumberGrid(self.zoom_values, scale=tint, cell=0.72, decimals=2, font_size=17)

    def construct(self) -> None:
        size = self.trace.image.shape[1]
        shape = f"{size}×{size}×{self.trace.image.shape[0]}"
        title = self.get_title(f"输入层  {shape}" if self.lang == "zh" else f"Input layer  {shape}")
        photo = self.get_photo().shift(UP * 0.55)
        with self.beat("photo", size=size) as b:
            self.play(Write(title), FadeIn(photo), run_time=b.part(0.4))

        channels = self.get_channels().shift(UP * 0.6)
        maps = [g[0] for g in channels]
        with self.beat("split" if len(maps) == 3 else "split_grey") as b:
            self.play(ReplacementTransform(Group(*[photo.copy() for _ in maps]), Group(*maps)),
                      FadeOut(photo), run_time=b.part(0.5))
            self.play(*[FadeIn(g[1]) for g in channels], run_time=b.part(0.2))

        grid = self.get_zoom_grid()
        lo, hi = float(self.zoom_values.min()), float(self.zoom_values.max())
        with self.beat("values", lo=f"{lo:.2f}", hi=f"{hi:.2f}") as b:
            self.play(channels.animate.scale(0.72).to_edge(LEFT, buff=0.5).shift(UP * 0.2),
                      run_time=b.part(0.2))
            first = channels[0][0]
            box = first.get_cell_box(self.zoom_top, self.zoom_left, self.zoom_size, self.zoom_size,
                                     stroke_width=3)
            grid.next_to(channels, RIGHT, buff=0.7).match_y(channels[0][0])
            outline = box.copy().replace(grid, stretch=True)
            r0, c0, n = self.zoom_top, self.zoom_left, self.zoom_size
            where = (f"{NAMES[self.lang][TINTS[0] if len(maps) == 3 else 'input']}  "
                     f"[{r0}–{r0 + n - 1}, {c0}–{c0 + n - 1}]")
            caption = label(where, 20, colors.MUTED, lang=self.lang).next_to(grid, DOWN, buff=0.2)
            self.play(Create(box), run_time=b.part(0.1))
            self.play(ReplacementTransform(box.copy(), outline), FadeIn(grid), FadeIn(caption),
                      run_time=b.part(0.25))
