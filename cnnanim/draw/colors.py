"""CNN Explainer's colour scales as numpy functions (no manim, no torch).

Activations use a red-white-blue diverging scale (negative red, zero white, positive blue),
kernel weights and biases a brown/yellow-white-green diverging scale (BrBG between #bc8434 and
#39988f), logits an orange sequential scale, input channels grey or tinted red/green/blue.
"""

from __future__ import annotations

import numpy as np

from cnnanim.explain.numbers import symmetric_range  # noqa: F401  (scales and scenes use it)

#: ColorBrewer RdBu (11 classes), red for the most negative value, blue for the most positive.
RDBU = ("#67001f", "#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#f7f7f7",
        "#d1e5f0", "#92c5de", "#4393c3", "#2166ac", "#053061")
#: BrBG as CNN Explainer uses it for weights: ends #bc8434 (negative) and #39988f (positive).
BRBG = ("#bc8434", "#d9b36e", "#f0dfb4", "#f5f5f5", "#bfe5df", "#7dc7bb", "#39988f")
#: ColorBrewer Oranges, for logits and probabilities.
ORANGES = ("#fff5eb", "#fee6ce", "#fdd0a2", "#fdae6b", "#fd8d3c", "#f16913", "#d94801", "#a63603")

#: Named colours used across scenes.
INK = "#333333"          # text and outlines
MUTED = "#8a8a8a"        # secondary text
BACKGROUND = "#ffffff"   # CNN Explainer's white page
HIGHLIGHT = "#ffb000"    # sliding-window boxes
POSITIVE = RDBU[-2]
NEGATIVE = RDBU[1]
WEIGHT_NEG = BRBG[0]
WEIGHT_POS = BRBG[-1]
LOGIT = "#f16913"
CHANNEL_TINTS = {"red": "#e0453a", "green": "#3a9e4a", "blue": "#3a62d6"}


def hex_to_rgb(h: str) -> np.ndarray:
    """``"#rrggbb"`` -> float array of 3 values in [0, 1]."""
    h = h.lstrip("#")
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.float64) / 255.0


def rgb_to_hex(rgb) -> str:
    """Three floats in [0, 1] -> ``"#rrggbb"``."""
    r, g, b = (int(round(float(np.clip(v, 0, 1)) * 255)) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def interpolate(stops: tuple[str, ...], t: np.ndarray) -> np.ndarray:
    """Piecewise-linear RGB interpolation of colour ``stops`` at ``t`` in [0, 1] -> (..., 3) floats."""
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    cols = np.stack([hex_to_rgb(s) for s in stops])
    pos = t * (len(stops) - 1)
    i = np.minimum(np.floor(pos).astype(int), len(stops) - 2)
    f = (pos - i)[..., None]
    return cols[i] * (1 - f) + cols[i + 1] * f


def diverging(values: np.ndarray, vmax: float | None, stops: tuple[str, ...]) -> np.ndarray:
    """Map values in [-vmax, vmax] onto a diverging scale -> (..., 3) floats."""
    v = np.asarray(values, dtype=np.float64)
    vmax = symmetric_range(v) if vmax is None else float(vmax)
    return interpolate(stops, 0.5 + 0.5 * v / vmax)


def activation_rgb(values: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """Red-white-blue colours of activations (negative red, positive blue)."""
    return diverging(values, vmax, RDBU)


def weight_rgb(values: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """Brown-white-green colours of kernel weights and biases."""
    return diverging(values, vmax, BRBG)


def logit_rgb(values: np.ndarray, vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
    """Orange colours of logits or probabilities (light for the smallest, dark for the largest)."""
    v = np.asarray(values, dtype=np.float64)
    lo = float(v.min()) if vmin is None else vmin
    hi = float(v.max()) if vmax is None else vmax
    t = (v - lo) / (hi - lo) if hi > lo else np.full_like(v, 0.5)
    return interpolate(ORANGES, 0.1 + 0.8 * t)


def input_rgb(values: np.ndarray, tint: str | None = None) -> np.ndarray:
    """Input-channel colours: grey (0 black, 1 white) or tinted (0 white, 1 the tint's colour)."""
    v = np.clip(np.asarray(values, dtype=np.float64), 0, 1)[..., None]
    if tint is None:
        return np.repeat(v, 3, axis=-1)
    c = hex_to_rgb(CHANNEL_TINTS[tint])
    return (1 - v) * np.ones(3) + v * c


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Float colours in [0, 1] -> uint8 (rounded)."""
    return np.clip(np.rint(np.asarray(rgb) * 255), 0, 255).astype(np.uint8)


def text_color_for(rgb) -> str:
    """Dark or white text, whichever reads better on background ``rgb`` (floats)."""
    r, g, b = (float(x) for x in rgb)
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return INK if lum > 0.55 else "#ffffff"
