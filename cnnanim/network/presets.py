"""TinyVGG architectures: the two named presets (CNN Explainer's network and the seed's PyTorch
variant) and any other TinyVGG a weights file describes.

Pure Python: no torch, so drawing code can read shapes and class names.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cnnanim.errors import CnnanimError, UnknownNameError

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

    @property
    def num_classes(self) -> int:
        """Number of output classes."""
        return len(self.classes)

    def architecture(self) -> dict[str, int]:
        """The hyper-parameters a weights file stores to describe this network (no classes)."""
        return {k: getattr(self, k) for k in ARCHITECTURE_KEYS}

    def with_classes(self, classes: list[str] | tuple[str, ...]) -> "Preset":
        """This architecture with other output classes."""
        return replace(self, classes=tuple(str(c) for c in classes))


#: The integer hyper-parameters that, with the class names, define a TinyVGG.
ARCHITECTURE_KEYS: tuple[str, ...] = ("in_channels", "image_size", "hidden_units", "padding",
                                      "kernel_size", "pool_size")

#: What cnnanim explains: 1 or 3 input channels, these hidden units, classes and input sizes.
SUPPORTED = {"in_channels": (1, 3), "hidden_units": range(1, 65), "classes": range(2, 101),
             "image_size": range(16, 129)}


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


def preset_from_architecture(name: str, architecture: dict, classes: list[str] | tuple[str, ...],
                             where: str = "the weights file") -> Preset:
    """Build the :class:`Preset` that ``architecture`` (as :meth:`Preset.architecture` writes it)
    and ``classes`` describe; a missing, unknown or non-integer entry is a one-line error."""
    keys = set(architecture)
    if keys != set(ARCHITECTURE_KEYS) or not all(
            isinstance(architecture[k], int) and not isinstance(architecture[k], bool)
            and architecture[k] >= 0 for k in ARCHITECTURE_KEYS):
        raise CnnanimError(f"{where} has a malformed architecture {architecture!r}; expected "
                           f"non-negative integers {', '.join(ARCHITECTURE_KEYS)}")
    p = Preset(name=name, classes=tuple(str(c) for c in classes),
               **{k: int(architecture[k]) for k in ARCHITECTURE_KEYS})
    check_consistent(p, where)
    return p


def check_consistent(p: Preset, where: str = "the model") -> None:
    """Raise a one-line error unless every stage of ``p`` has at least one pixel and a class."""
    if min(p.in_channels, p.hidden_units, p.kernel_size, p.pool_size, p.image_size) < 1 \
            or not p.classes:
        raise CnnanimError(f"{where}: channels, hidden units, kernel, pool, input size and "
                           "classes must all be at least 1")
    shapes = p.stage_shapes()
    small = [n for n, s in shapes.items() if len(s) == 3 and s[1] < 1]
    if small:
        raise CnnanimError(f"{where}: a {p.image_size}x{p.image_size} input leaves no pixels "
                           f"after {small[0]} (kernel {p.kernel_size}, padding {p.padding})")


def check_supported(p: Preset, where: str = "the model") -> None:
    """Raise a one-line error unless cnnanim can explain ``p``: 1 or 3 input channels, 1-64
    hidden units, 2-100 classes, inputs 16-128 pixels wide, consistent shapes."""
    check_consistent(p, where)
    values = {"in_channels": p.in_channels, "hidden_units": p.hidden_units,
              "classes": p.num_classes, "image_size": p.image_size}
    words = {"in_channels": "input channels", "hidden_units": "hidden units",
             "classes": "classes", "image_size": "input size"}
    for key, allowed in SUPPORTED.items():
        if values[key] not in allowed:
            valid = (" or ".join(map(str, allowed)) if isinstance(allowed, tuple)
                     else f"{allowed.start}-{allowed.stop - 1}")
            raise CnnanimError(f"{where} has {values[key]} {words[key]}; cnnanim explains "
                               f"TinyVGGs with {valid} {words[key]}")


def preset_name_of(p: Preset) -> str:
    """``explainer`` or ``seed`` when ``p`` has that preset's architecture, else ``custom``."""
    for name, known in PRESETS.items():
        if known.architecture() == p.architecture():
            return name
    return "custom"


def get_preset(name: str) -> Preset:
    """Return the preset called ``name``; an unknown name lists the valid ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise UnknownNameError("preset", name, sorted(PRESETS)) from None


def input_size_for(final_size: int, kernel_size: int, padding: int, pool_size: int = 2,
                   largest: int = 1024) -> int | None:
    """The smallest input width whose last max-pool output is ``final_size`` wide (e.g. 28 for
    7 with kernel 3, padding 1; 64 for 13 with padding 0), or None if no width up to ``largest``
    gives it."""
    for size in range(1, largest + 1):
        p = Preset(name="probe", in_channels=1, image_size=size, hidden_units=1, padding=padding,
                   classes=("a",), kernel_size=kernel_size, pool_size=pool_size)
        side = p.stage_shapes()["max_pool_2"][1]
        if side == final_size:
            return size
        if side > final_size:
            return None
    return None
