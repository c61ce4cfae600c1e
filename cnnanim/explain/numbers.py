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


_WORDS = {"en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "ten", "eleven", "twelve"),
          "zh": ("零", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二")}


def number_word(n: int, lang: str = "en") -> str:
    """A count as a sentence says it: ``ten`` / ``十`` (``两`` before a measure word) up to
    twelve, digits above (``64``)."""
    words = _WORDS.get(lang, _WORDS["en"])
    return words[n] if 0 <= n < len(words) else str(n)


def plural(n: int, word: str) -> str:
    """``1 cell`` / ``2 cells`` (English; Chinese narration uses the bare number)."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def counted(n: int, word: str) -> str:
    """``one map`` / ``ten maps`` / ``64 maps``: a count in words (see :func:`number_word`)
    and an English noun, singular for one."""
    return f"{number_word(n)} {word}" if n == 1 else f"{number_word(n)} {word}s"
