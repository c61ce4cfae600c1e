"""How numbers are written on screen: decimals and signs (plain Python, no manim)."""

from __future__ import annotations

import numpy as np


def fmt(value: float, decimals: int = 2) -> str:
    """``value`` with ``decimals`` decimals, ``-0.00`` written as ``0.00`` (what a number on screen shows)."""
    s = f"{value:.{decimals}f}"
    return s[1:] if s.startswith("-") and float(s) == 0.0 else s


def decimals_for(values, most: int = 3) -> int:
    """Decimals that keep small values readable: 2 when the largest magnitude is 0.1 or more,
    else 3, else (below 0.01, and ``most`` allows it) 4."""
    m = float(np.max(np.abs(values))) if np.size(values) else 0.0
    return 2 if m >= 0.1 else 3 if (m >= 0.01 or most <= 3) else 4


def symmetric_range(values: np.ndarray) -> float:
    """The largest magnitude in ``values`` (a diverging scale's half-range; 1 if all zero)."""
    m = float(np.max(np.abs(values))) if np.size(values) else 0.0
    return m if m > 0 else 1.0
