"""CNN Explainer's colour scales as numpy functions (no manim, no torch).

The scales are CNN Explainer's ColorBrewer schemes (d3's RdBu, BrBG, Oranges), interpolated
linearly through the scheme's colours: RdBu for activations (negative red, zero white, positive
blue); for kernel weights and biases BrBG between 0.2 and 0.8 at half opacity on white, as CNN
Explainer's kernel view draws them (yellow - white - green); Oranges for logits; input channels
grey (0 black, 1 white) or tinted (0 black, 1 the channel's colour). Text on a coloured cell is
dark or white by WCAG contrast (:func:`text_color_for`).
"""

from __future__ import annotations

import numpy as np

from cnnanim.explain.numbers import symmetric_range  # noqa: F401  (scales and scenes use it)

#: ColorBrewer RdBu (11 classes, d3's scheme), red for the most negative value, blue for the most positive.
RDBU = ("#67001f", "#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#f7f7f7",
        "#d1e5f0", "#92c5de", "#4393c3", "#2166ac", "#053061")
#: ColorBrewer BrBG (11 classes, d3's scheme); weights use its middle, 0.2 to 0.8 (see weight_rgb).
BRBG = ("#543005", "#8c510a", "#bf812d", "#dfc27d", "#f6e8c3", "#f5f5f5", "#c7eae5", "#80cdc1",
        "#35978f", "#01665e", "#003c30")
#: ColorBrewer Oranges (9 classes, d3's scheme), for logits and probabilities.
ORANGES = ("#fff5eb", "#fee6ce", "#fdd0a2", "#fdae6b", "#fd8d3c", "#f16913", "#d94801", "#a63603",
           "#7f2704")
#: The part of BrBG that CNN Explainer's kernel view uses (its ``gap`` of 0.2), and its opacity.
WEIGHT_GAP = 0.2
WEIGHT_OPACITY = 0.5

#: Named colours used across scenes.
INK = "#333333"          # text and outlines
MUTED = "#8a8a8a"        # secondary text
BACKGROUND = "#ffffff"   # CNN Explainer's white page
HIGHLIGHT = "#ffb000"    # sliding-window boxes
CAPTION_BAND = "#f2f2f2"  # the band behind captions
POSITIVE = RDBU[-2]
NEGATIVE = RDBU[1]
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


def on_white(rgb, opacity: float) -> np.ndarray:
    """``rgb`` drawn at ``opacity`` over the white page."""
    return np.asarray(rgb, dtype=np.float64) * opacity + (1.0 - opacity)


def normalized(values: np.ndarray, vmax: float | None) -> np.ndarray:
    """Values in [-vmax, vmax] -> [0, 1] (CNN Explainer's ``(v + range / 2) / range``)."""
    v = np.asarray(values, dtype=np.float64)
    vmax = symmetric_range(v) if vmax is None else float(vmax)
    return 0.5 + 0.5 * v / vmax


def activation_rgb(values: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """Red-white-blue colours of activations (negative red, positive blue)."""
    return interpolate(RDBU, normalized(values, vmax))


def weight_rgb(values: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """Yellow-white-green colours of kernel weights and biases, as CNN Explainer's kernel view
    draws them: BrBG between 0.2 and 0.8, at half opacity on white."""
    t = WEIGHT_GAP + (1 - 2 * WEIGHT_GAP) * normalized(values, vmax)
    return on_white(interpolate(BRBG, t), WEIGHT_OPACITY)


def logit_rgb(values: np.ndarray, vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
    """Orange colours of logits or probabilities (light for the smallest, dark for the largest)."""
    v = np.asarray(values, dtype=np.float64)
    lo = float(v.min()) if vmin is None else vmin
    hi = float(v.max()) if vmax is None else vmax
    t = (v - lo) / (hi - lo) if hi > lo else np.full_like(v, 0.5)
    return interpolate(ORANGES, 0.1 + 0.8 * t)


def input_rgb(values: np.ndarray, tint: str | None = None) -> np.ndarray:
    """Input-channel colours: grey (0 black, 1 white) or tinted (0 black, 1 the tint's colour),
    so a dark pixel is dark and a bright one bright, as the narration says."""
    v = np.clip(np.asarray(values, dtype=np.float64), 0, 1)[..., None]
    if tint is None:
        return np.repeat(v, 3, axis=-1)
    return v * hex_to_rgb(CHANNEL_TINTS[tint])


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Float colours in [0, 1] -> uint8 (rounded)."""
    return np.clip(np.rint(np.asarray(rgb) * 255), 0, 255).astype(np.uint8)


def relative_luminance(rgb) -> float:
    """WCAG 2 relative luminance of ``rgb`` (floats in [0, 1])."""
    c = np.asarray(rgb, dtype=np.float64)[:3]
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2])


def contrast_ratio(a, b) -> float:
    """WCAG 2 contrast ratio between two colours (hex strings or float triples), 1 to 21."""
    la, lb = (relative_luminance(hex_to_rgb(x) if isinstance(x, str) else x) for x in (a, b))
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


#: Text colours for numbers on coloured cells, in order of preference.
TEXT_ON_LIGHT = INK
TEXT_ON_DARK = "#ffffff"
#: Contrast every number on a cell must reach (WCAG AA for normal text).
MIN_CONTRAST = 4.5


def text_color_for(rgb) -> str:
    """The text colour for a cell of colour ``rgb`` (floats): white where it reaches WCAG's
    4.5:1, else the usual dark ink where that does, else black (one of white and black always
    reaches 4.58:1)."""
    for c in (TEXT_ON_LIGHT, TEXT_ON_DARK, "#000000"):
        if contrast_ratio(c, rgb) >= MIN_CONTRAST:
            return c
    return "#000000"


#: End points of the weight scale (the colours of -vmax and +vmax).
WEIGHT_NEG = rgb_to_hex(weight_rgb(np.array([-1.0]))[0])
WEIGHT_POS = rgb_to_hex(weight_rgb(np.array([1.0]))[0])
#: Darker ends of BrBG for weight values written as coloured text on white.
WEIGHT_NEG_TEXT = BRBG[1]
WEIGHT_POS_TEXT = BRBG[-2]
#: Secondary text (layer shapes, column headers) dark enough for WCAG 4.5:1 on white.
MUTED_TEXT = "#6e6e6e"
#: The logit orange for text on white (the predicted class, its probability): 6.7:1.
LOGIT_TEXT = ORANGES[-2]
