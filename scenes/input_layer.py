"""Input layer: the photo, preprocessed to 64x64, splits into its red, green and blue channels."""

from __future__ import annotations

from manim import DOWN, LEFT, RIGHT, UP, Arrow, FadeIn, FadeOut, Group, ReplacementTransform, Write

from cnnanim import colors
from cnnanim.mobjects import FeatureMap, label
from cnnanim.scene import CnnScene

TINTS = ("red", "green", "blue")


class InputLayer(CnnScene):
    """The photo becomes a 64x64x3 tensor: three channels of numbers between 0 and 1."""

    cli_name = "input"
    description = "The photo becomes the input tensor: red, green and blue channels"
    chapter = "input"
    valid_layer_kinds = ("conv", "relu", "pool", "flatten", "linear")
    NARRATION = {
        "photo": {
            "en": "This is the photo we feed the network, scaled and cropped to {size} by {size} pixels.",
            "zh": "这是输入网络的照片，缩放并裁剪成 {size}×{size} 像素。",
        },
        "split": {
            "en": "A colour image is a tensor: one grid of numbers for red, one for green, one for blue.",
            "zh": "彩色图像就是一个张量：红、绿、蓝三个通道，各是一张数字网格。",
        },
        "values": {
            "en": "Each pixel value is divided by 255, so every number lies between 0 and 1.",
            "zh": "每个像素值都除以 255，所以每个数都在 0 到 1 之间。",
        },
    }

    def get_photo(self, height: float = 3.6) -> FeatureMap:
        """The preprocessed input as the network sees it."""
        img = self.trace.image
        if img.shape[0] == 1:
            return FeatureMap(img[0], scale="input", height=height)
        return FeatureMap(img.transpose(1, 2, 0), scale="rgb", height=height)

    def get_channels(self, height: float = 2.6) -> Group:
        """One tinted map per input channel, with its name."""
        img = self.trace.image
        tints = TINTS if img.shape[0] == 3 else ("input",)
        names = {"red": "R", "green": "G", "blue": "B", "input": "grey"}
        groups = []
        for ch, tint in zip(img, tints):
            m = FeatureMap(ch, scale=tint, height=height)
            groups.append(Group(m, label(names[tint], 26).next_to(m, DOWN, buff=0.2)))
        return Group(*groups).arrange(RIGHT, buff=0.5)

    def construct(self) -> None:
        size = self.trace.image.shape[1]
        title = self.get_title(f"Input layer  {size}×{size}×{self.trace.image.shape[0]}")
        photo = self.get_photo().shift(UP * 0.6)
        with self.beat("photo", size=size) as b:
            self.play(Write(title), FadeIn(photo), run_time=b.part(0.4))
        channels = self.get_channels().shift(UP * 0.6)
        with self.beat("split") as b:
            self.play(ReplacementTransform(Group(photo.copy(), photo.copy(), photo.copy()),
                                           Group(*[g[0] for g in channels])),
                      FadeOut(photo), run_time=b.part(0.5))
            self.play(*[FadeIn(g[1]) for g in channels], run_time=b.part(0.2))
        with self.beat("values") as b:
            self.wait(b.part(0.2))
