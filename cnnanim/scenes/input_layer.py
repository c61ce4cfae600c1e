"""Input layer: the photo, preprocessed to 64x64, splits into its red, green and blue channels."""

from __future__ import annotations

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
from cnnanim.explain.input import channel_scales, zoom_window
from cnnanim.scenes.base import CnnScene


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

    WORDS = {
        "title": {"en": "Input layer  {shape}", "zh": "输入层  {shape}"},
        "red": {"en": "R", "zh": "红 R"},
        "green": {"en": "G", "zh": "绿 G"},
        "blue": {"en": "B", "zh": "蓝 B"},
        "input": {"en": "grey", "zh": "灰度"},
    }

    def setup(self) -> None:
        super().setup()
        self.zoom_top, self.zoom_left, self.zoom_values = zoom_window(self.trace.image, self.zoom_size)
        self.scales = channel_scales(self.trace.image)

    # -- builders -------------------------------------------------------------------------------
    def get_input_title(self):
        """``Input layer  64×64×3``: the tensor's shape, H×W×C."""
        c, h, w = self.trace.image.shape
        return self.get_title(self.words("title", shape=f"{h}×{w}×{c}"))

    def get_photo(self, height: float = 3.8) -> FeatureMap:
        """The preprocessed input as the network sees it."""
        img = self.trace.image
        if img.shape[0] == 1:
            return FeatureMap(img[0], scale="input", height=height)
        return FeatureMap(img.transpose(1, 2, 0), scale="rgb", height=height)

    def get_channels(self, height: float = 3.2) -> Group:
        """One tinted map per input channel, with its name."""
        groups = []
        for ch, scale in zip(self.trace.image, self.scales):
            m = FeatureMap(ch, scale=scale, height=height)
            groups.append(Group(m, self.get_words(scale, 26).next_to(m, DOWN, buff=0.2)))
        return Group(*groups).arrange(RIGHT, buff=0.5)

    def get_zoom_grid(self) -> NumberGrid:
        """The real values of the zoom window, in the first channel's colours."""
        return NumberGrid(self.zoom_values, scale=self.scales[0], cell=0.72, decimals=2,
                          font_size=17)

    def get_zoom_box(self, channel: FeatureMap):
        """The zoom window's outline on the first channel's map."""
        return channel.get_cell_box(self.zoom_top, self.zoom_left, self.zoom_size, self.zoom_size,
                                    stroke_width=3)

    def get_zoom_caption(self, grid: NumberGrid):
        """Which channel and which rows and columns the zoomed values are, under ``grid``."""
        r0, c0, n = self.zoom_top, self.zoom_left, self.zoom_size
        where = f"{self.words(self.scales[0])}  [{r0}–{r0 + n - 1}, {c0}–{c0 + n - 1}]"
        return label(where, 20, colors.MUTED, lang=self.lang).next_to(grid, DOWN, buff=0.2)

    # -- verbs ----------------------------------------------------------------------------------
    def split_channels(self, photo: FeatureMap, channels: Group, b) -> None:
        """The photo comes apart into its channel maps, then their names appear."""
        maps = [g[0] for g in channels]
        self.play(ReplacementTransform(Group(*[photo.copy() for _ in maps]), Group(*maps)),
                  FadeOut(photo), run_time=b.part(0.5))
        self.play(*[FadeIn(g[1]) for g in channels], run_time=b.part(0.2))

    def zoom_in(self, channels: Group, b) -> None:
        """The channels step aside and the zoom window's real values open beside them."""
        self.play(channels.animate.scale(0.72).to_edge(LEFT, buff=0.5).shift(UP * 0.2),
                  run_time=b.part(0.2))
        first = channels[0][0]
        box = self.get_zoom_box(first)
        grid = self.get_zoom_grid().next_to(channels, RIGHT, buff=0.7).match_y(first)
        outline = box.copy().replace(grid, stretch=True)
        caption = self.get_zoom_caption(grid)
        self.play(Create(box), run_time=b.part(0.1))
        self.play(ReplacementTransform(box.copy(), outline), FadeIn(grid), FadeIn(caption),
                  run_time=b.part(0.25))

    # -- storyboard -------------------------------------------------------------------------------
    def construct(self) -> None:
        title = self.get_input_title()
        photo = self.get_photo().shift(UP * 0.55)
        with self.beat("photo", size=self.trace.image.shape[1]) as b:
            self.play(Write(title), FadeIn(photo), run_time=b.part(0.4))
        channels = self.get_channels().shift(UP * 0.6)
        with self.beat("split" if len(channels) == 3 else "split_grey") as b:
            self.split_channels(photo, channels, b)
        lo, hi = float(self.zoom_values.min()), float(self.zoom_values.max())
        with self.beat("values", lo=f"{lo:.2f}", hi=f"{hi:.2f}") as b:
            self.zoom_in(channels, b)
