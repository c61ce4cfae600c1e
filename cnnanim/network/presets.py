"""The two TinyVGG presets: CNN Explainer's network and the seed's PyTorch variant.

Pure Python: no torch, so drawing code can read shapes and class names.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnanim.errors import UnknownNameError

#: Stage names in forward order, as CNN Explainer names its layers.
STAGES: tuple[str, ...] = (
    "conv_1_1", "relu_1_1", "conv_1_2", "relu_1_2", "max_pool_1",
    "conv_2_1", "relu_2_1", "conv_2_2", "relu_2_2", "max_pool_2",
    "flatten", "output",
)

#: What each stage does.
STAGE_KIND: dict[str, str] = {
    name: ("conv" if name.startswith("conv") else "relu" if name.startswith("relu")
           else "pool" if name.startswith("max_pool") else "flatten" if name == "flatten"
           else "linear")
    for name in STAGES
}

EXPLAINER_CLASSES: tuple[str, ...] = (
    "lifeboat", "ladybug", "pizza", "bell pepper", "school bus",
    "koala", "espresso", "red panda", "orange", "sport car",
)
DIGIT_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))

#: Names of the explainer classes in each narration language but English (captions, narration
#: and labels); any other class keeps the model's own name.
CLASS_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "lifeboat": "救生艇", "ladybug": "瓢虫", "pizza": "披萨", "bell pepper": "甜椒",
        "school bus": "校车", "koala": "考拉", "espresso": "浓缩咖啡", "red panda": "小熊猫",
        "orange": "橙子", "sport car": "跑车",
    },
}


def class_label(name: str, lang: str = "en") -> str:
    """The name of class ``name`` as a ``lang`` viewer reads it: the table's translation
    (:data:`CLASS_LABELS`), else the model's own name (``class_label("espresso", "zh")`` is
    ``浓缩咖啡``; English and digit classes stay as they are)."""
    return CLASS_LABELS.get(lang, {}).get(name, name)


@dataclass(frozen=True)
class Preset:
    """Hyper-parameters of one TinyVGG configuration.

    Attributes
    ----------
    name : str
        Preset name used on the command line.
    in_channels, image_size, hidden_units, padding : int
        Input channels, input height/width, filters per conv layer, conv padding.
    classes : tuple of str
        Output class names in output order.
    kernel_size, pool_size : int
        Conv kernel size (stride 1) and max-pool window (stride equal to the window).
    """

    name: str
    in_channels: int
    image_size: int
    hidden_units: int
    padding: int
    classes: tuple[str, ...]
    kernel_size: int = 3
    pool_size: int = 2
    description: str = ""

    def conv_out(self, size: int) -> int:
        """Output width of one conv layer for an input of width ``size``."""
        return size - self.kernel_size + 2 * self.padding + 1

    def stage_shapes(self) -> dict[str, tuple[int, ...]]:
        """Output shape (C, H, W), or (N,) for flatten/output, of every stage."""
        shapes: dict[str, tuple[int, ...]] = {}
        s, c = self.image_size, self.hidden_units
        for name in STAGES:
            kind = STAGE_KIND[name]
            if kind == "conv":
                s = self.conv_out(s)
            elif kind == "pool":
                s = s // self.pool_size
            if kind in ("conv", "relu", "pool"):
                shapes[name] = (c, s, s)
            elif kind == "flatten":
                shapes[name] = (c * s * s,)
            else:
                shapes[name] = (len(self.classes),)
        return shapes

    @property
    def flatten_size(self) -> int:
        """Length of the flattened vector that feeds the output layer."""
        return self.stage_shapes()["flatten"][0]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Input shape as (C, H, W)."""
        return (self.in_channels, self.image_size, self.image_size)


PRESETS: dict[str, Preset] = {
    "explainer": Preset(
        name="explainer", in_channels=3, image_size=64, hidden_units=10, padding=0,
        classes=EXPLAINER_CLASSES,
        description="CNN Explainer's TinyVGG: 64x64 RGB, no padding, 10 Tiny ImageNet classes",
    ),
    "seed": Preset(
        name="seed", in_channels=1, image_size=28, hidden_units=10, padding=1,
        classes=DIGIT_CLASSES,
        description="the seed's PyTorch TinyVGG: 28x28 greyscale, padding 1, digits 0-9",
    ),
}


def get_preset(name: str) -> Preset:
    """Return the preset called ``name``; an unknown name lists the valid ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise UnknownNameError("preset", name, sorted(PRESETS)) from None
