"""TinyVGG in PyTorch, with CNN Explainer's stage names, for any preset or architecture."""

from __future__ import annotations

import torch
from torch import nn

from cnnanim.network.presets import STAGES, Preset, get_preset


class TinyVGG(nn.Module):
    """TinyVGG: two blocks of (conv, ReLU, conv, ReLU, max-pool), flatten, one linear layer.

    Parameters
    ----------
    input_shape : int
        Input channels (3 for RGB, 1 for greyscale), named as in the seed's class.
    hidden_units : int
        Filters in every conv layer.
    output_shape : int
        Number of classes.
    image_size : int
        Input height and width.
    padding : int
        Zero padding of every conv layer (0 for CNN Explainer, 1 for the seed).

    Notes
    -----
    Every stage is a child module named like CNN Explainer's layer (``conv_1_1`` ... ``output``),
    so forward hooks can be keyed by stage name. ``forward`` returns logits; apply softmax on top
    for probabilities.
    """

    def __init__(self, input_shape: int = 3, hidden_units: int = 10, output_shape: int = 10,
                 image_size: int = 64, padding: int = 0, kernel_size: int = 3,
                 pool_size: int = 2) -> None:
        super().__init__()
        self.input_shape = input_shape
        self.hidden_units = hidden_units
        self.output_shape = output_shape
        self.image_size = image_size
        self.padding = padding
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        k, p, h = kernel_size, padding, hidden_units
        self.conv_1_1 = nn.Conv2d(input_shape, h, k, stride=1, padding=p)
        self.relu_1_1 = nn.ReLU()
        self.conv_1_2 = nn.Conv2d(h, h, k, stride=1, padding=p)
        self.relu_1_2 = nn.ReLU()
        self.max_pool_1 = nn.MaxPool2d(pool_size, stride=pool_size)
        self.conv_2_1 = nn.Conv2d(h, h, k, stride=1, padding=p)
        self.relu_2_1 = nn.ReLU()
        self.conv_2_2 = nn.Conv2d(h, h, k, stride=1, padding=p)
        self.relu_2_2 = nn.ReLU()
        self.max_pool_2 = nn.MaxPool2d(pool_size, stride=pool_size)
        self.flatten = nn.Flatten()
        s = image_size
        for _ in range(2):
            s = (s - k + 2 * p + 1)
            s = (s - k + 2 * p + 1) // pool_size
        self.flatten_size = h * s * s
        self.output = nn.Linear(self.flatten_size, output_shape)

    def stage(self, name: str) -> nn.Module:
        """Return the module of stage ``name``; an unknown name lists the valid ones."""
        from cnnanim.errors import UnknownNameError

        if name not in STAGES:
            raise UnknownNameError("stage", name, STAGES)
        return getattr(self, name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits for a batch ``x`` of shape (N, C, H, W)."""
        for name in STAGES:
            x = getattr(self, name)(x)
        return x

    @classmethod
    def from_preset(cls, preset: str | Preset, num_classes: int | None = None) -> "TinyVGG":
        """Build an untrained model with the hyper-parameters of ``preset``."""
        p = get_preset(preset) if isinstance(preset, str) else preset
        return cls(input_shape=p.in_channels, hidden_units=p.hidden_units,
                   output_shape=num_classes or len(p.classes), image_size=p.image_size,
                   padding=p.padding, kernel_size=p.kernel_size, pool_size=p.pool_size)
