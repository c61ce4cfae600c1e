"""Text on screen: the fonts, labels, numbers and captions every scene draws.

Every label is a :class:`CachedText` (Manim's ``Text`` whose glyph outlines are cached on disk,
keyed by the bytes of Pango's SVG) made through :func:`cached_text` (built once per process for
the same arguments, then copied); numbers are :class:`NumberText`, one shape composed from
cached glyph outlines.
"""

from __future__ import annotations

import errno
import os
import textwrap
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from manim import DOWN, UP, MarkupText, Rectangle, Text, VGroup, VMobject
from manim.utils.color import ManimColor

from cnnanim.draw import colors
from cnnanim.draw.layout import CAPTION_BAND
from cnnanim.errors import CnnanimError
from cnnanim.explain.numbers import fmt
from cnnanim.files import cache_dir, disk_full, read_cache_entry, write_cache_entry

#: Fonts (Debian: fonts-dejavu-core, fonts-noto-cjk). Chinese needs a CJK font.
FONT = "DejaVu Sans"


MONO = "DejaVu Sans Mono"


CJK_FONT = "Noto Sans CJK SC"


def font_for(lang: str) -> str:
    """The caption/label font for a language code (``en`` or ``zh``)."""
    return CJK_FONT if lang == "zh" else FONT


def label(text: str, size: float = 24, color: str = colors.INK, lang: str = "en",
          weight: str = "NORMAL") -> Text:
    """A short piece of text in the scene's font."""
    return cached_text(text, font=font_for(lang), font_size=size, color=color, weight=weight)


def on_row(text: Text, y: float) -> Text:
    """Put a label whose first glyph is a capital "X" on row ``y`` and drop the "X".

    Centring the "X" (cap height, like digits) puts every name on the same baseline as the
    numbers of its row, whatever its descenders.
    """
    text.shift(UP * (y - text[0].get_center()[1]))
    text.remove(text[0])
    return text


#: Characters :class:`NumberText` can draw.
NUMBER_CHARS = "0123456789.-+e"


@lru_cache(maxsize=64)
def _glyphs(size: float, color: str) -> tuple[dict[str, np.ndarray], float, VMobject]:
    """Outlines of :data:`NUMBER_CHARS` in the monospace font at ``size``: each glyph's points
    relative to its own character slot, the advance between slots, and a glyph to take the
    style from. Two Pango layouts per size and colour, instead of one per number."""
    ref = CachedText(NUMBER_CHARS, font=MONO, font_size=size, color=color)
    two = CachedText("00", font=MONO, font_size=size, color=color)
    if len(ref.submobjects) != len(NUMBER_CHARS) or len(two.submobjects) != 2:
        raise RuntimeError(f"font {MONO!r} did not give one outline per digit")
    advance = float(two[1].get_center()[0] - two[0].get_center()[0])
    table = {ch: ref[i].points - np.array([i * advance, 0.0, 0.0])
             for i, ch in enumerate(NUMBER_CHARS)}
    return table, advance, ref[0]


class NumberText(VMobject):
    """A number in the monospace font, drawn as one shape.

    The outlines are those ``Text(s, font=MONO)`` draws (monospace glyphs sit one advance
    apart; tests compare the points), taken from a per-size glyph table, so a number costs no
    text layout, and all its glyphs fill in one call per frame instead of one each.

    Attributes
    ----------
    text : str
        The characters drawn.
    """

    def __init__(self, s: str, size: float = 20, color: str = colors.INK, **kwargs) -> None:
        super().__init__(**kwargs)
        bad = sorted(set(s) - set(NUMBER_CHARS))
        if bad or not s:
            raise ValueError(f"NumberText draws only {NUMBER_CHARS!r}, got {s!r}")
        table, advance, style = _glyphs(float(size), str(color))
        pts = np.concatenate([table[ch] + np.array([j * advance, 0.0, 0.0])
                              for j, ch in enumerate(s)])
        pts -= (pts.min(axis=0) + pts.max(axis=0)) / 2  # centred like Text
        self.text = s
        self.set_points(pts)
        self.match_style(style)


def number(value: float, decimals: int = 2, size: float = 20,
           color: str = colors.INK) -> NumberText:
    """A number with a fixed number of decimals (``-0.00`` shown as ``0.00``)."""
    s = fmt(value, decimals)
    if set(s) <= set(NUMBER_CHARS):
        return NumberText(s, size=size, color=color)
    return cached_text(s, font=MONO, font_size=size, color=color)  # e.g. "nan"


def _is_word_char(ch: str) -> bool:
    """Part of a number or a Latin word: ASCII letters, digits, ``.``, ``_``, ``-``."""
    return bool(ch) and ch.isascii() and (ch.isalnum() or ch in "._-")


_NO_LINE_START = "，。、；：？！」』）》〉…—,.;:?!)"
_NO_LINE_END = "「『（《〈("


def wrap_text(text: str, lang: str, width: int | None = None) -> str:
    """Break a caption into lines: by words in English, by characters in Chinese."""
    if lang == "zh":
        width = width or 26
        lines, cur = [], ""
        for i, ch in enumerate(text):
            cur += ch
            nxt = text[i + 1] if i + 1 < len(text) else ""
            # never split a number or a Latin word (0.86, conv_1_1) across lines, never start a
            # line with closing punctuation, never end one with an opening bracket
            inside_word = _is_word_char(ch) and _is_word_char(nxt)
            held = nxt in _NO_LINE_START or ch in _NO_LINE_END
            if len(cur) >= width and nxt and not held and not inside_word:
                lines.append(cur.rstrip())
                cur = ""
            elif not cur.strip():
                cur = ""  # a line never starts with a space ("30 个" broken after 30)
        cur = cur.rstrip()
        if cur:
            if lines and len(cur) <= 2:  # keep trailing punctuation with its line
                lines[-1] += cur
            else:
                lines.append(cur)
        return "\n".join(lines)
    return "\n".join(textwrap.wrap(text, width or 62))


class Caption(VGroup):
    """The narration of a beat as a caption at the bottom of the frame."""

    def __init__(self, text: str, lang: str = "en", frame_width: float = 14.22,
                 frame_height: float = 8.0, font_size: float = 24, max_lines: int = 3,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        wrapped = wrap_text(text, lang)
        self.text = CachedText(wrapped, font=font_for(lang), font_size=font_size, color=colors.INK,
                         line_spacing=0.8)
        max_w = frame_width - 1.0
        if self.text.width > max_w:
            self.text.scale_to_fit_width(max_w)
        max_h = 1.15
        if self.text.height > max_h:
            self.text.scale_to_fit_height(max_h)
        band = Rectangle(width=frame_width, height=CAPTION_BAND, stroke_width=0,
                         fill_color=colors.CAPTION_BAND, fill_opacity=1)
        band.move_to(DOWN * (frame_height / 2 - CAPTION_BAND / 2))
        self.text.move_to(band)
        self.band = band
        self.add(band, self.text)



@lru_cache(maxsize=None)
def _font_families() -> frozenset[str]:
    try:
        import manimpango

        return frozenset(manimpango.list_fonts())
    except Exception:  # pragma: no cover - no pango: let manim report it
        return frozenset()


def check_caption_font(lang: str) -> None:
    """Chinese captions need the Noto Sans CJK SC font: raise a clear error when it is missing."""
    if lang != "zh":
        return
    fonts = _font_families()
    if fonts and CJK_FONT not in fonts:
        raise CnnanimError(f"Chinese captions need the font {CJK_FONT!r}, which is not installed: "
                           "install the fonts-noto-cjk package (apt-get install fonts-noto-cjk)")


# -- text outlines, cached on disk ----------------------------------------------------------
_TEXTS: dict[tuple, Text] = {}  # filled by cached_text()
_TEXTS_MAX = 4096


def cached_text(s: str, **kwargs: Any) -> Text:
    """``Text(s, **kwargs)`` (a :class:`CachedText`), built once per process for the same
    arguments, then copied.

    Only hashable keyword values are memoised (font, font_size, color, weight, ...); anything
    else builds a fresh ``Text``.
    """
    try:
        key = (s, tuple(sorted((k, str(v) if isinstance(v, ManimColor) else v)
                               for k, v in kwargs.items())))
        hash(key)
    except TypeError:
        return CachedText(s, **kwargs)
    template = _TEXTS.get(key)
    if template is None:
        if len(_TEXTS) >= _TEXTS_MAX:
            _TEXTS.clear()
        template = _TEXTS[key] = CachedText(s, **kwargs)
    return template.copy()


# -- text outlines, cached on disk --------------------------------------------------------------
_STYLE_ARRAYS = ("fill_rgbas", "stroke_rgbas", "background_stroke_rgbas", "sheen_direction")


_STYLE_SCALARS = ("stroke_width", "background_stroke_width")


def text_cache_dir() -> Path:
    """Where text outlines are cached (see :func:`cnnanim.files.cache_dir`)."""
    return cache_dir("text")


class _SvgOutlineCache:
    """Mixin for Manim's ``Text``/``MarkupText``: the glyph outlines parsed from Pango's SVG are
    stored on disk, keyed by the SVG's bytes and the settings applied to it, so the same text
    (same font, size, colour, words) later costs a file read instead of an SVG parse (about
    0.7 s for a caption). A changed font or text gives other SVG bytes, hence another key."""

    def init_svg_mobject(self, use_svg_cache: bool):  # noqa: D102
        import hashlib

        import manim

        try:
            svg = self.get_file_path().read_bytes()
        except (OSError, ValueError):
            return super().init_svg_mobject(use_svg_cache)
        h = hashlib.sha256(svg)
        h.update(repr((type(self).__mro__[2].__name__, self.svg_default, self.path_string_config,
                       manim.__version__, 5)).encode())
        path = text_cache_dir() / f"{h.hexdigest()[:40]}.npz"
        if self._load_outlines(path):
            return self
        result = self._parse_svg(use_svg_cache)
        self._save_outlines(path)
        return result

    def _parse_svg(self, use_svg_cache: bool):
        """Manim's SVG parse; an SVG that Pango could not write (a full disk) is one clear error."""
        try:
            return super().init_svg_mobject(use_svg_cache)
        except Exception as e:
            svg = self.get_file_path()
            full = isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)
            if full or disk_full(svg.parent):
                svg.unlink(missing_ok=True)  # Manim would reuse the broken file
                raise CnnanimError(f"cannot write {svg}: {os.strerror(errno.ENOSPC)}") from None
            raise

    def _load_outlines(self, path) -> bool:
        import io

        from manim import VMobject

        blob = read_cache_entry(path)
        if blob is None:
            return False  # missing or damaged entry: parse the SVG again
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
            splits = {name: np.cumsum(data[f"{name}_n"])[:-1]
                      for name in ("points", *_STYLE_ARRAYS)}
            parts = {name: np.split(data[name], splits[name]) for name in splits}
            n = len(data["points_n"])
            scalars = data["scalars"].reshape(n, len(_STYLE_SCALARS))
            glyphs = []
            for i in range(n):
                g = VMobject()
                g.points = parts["points"][i]
                for name in _STYLE_ARRAYS:
                    value = parts[name][i]
                    setattr(g, name, value[0] if name == "sheen_direction" else value)
                for j, name in enumerate(_STYLE_SCALARS):
                    setattr(g, name, float(scalars[i, j]))
                glyphs.append(g)
            root_sheen = data["root_sheen"]
        except Exception:  # noqa: BLE001 - an entry that does not decode: parse the SVG again
            return False
        self.add(*glyphs)
        self.sheen_direction = root_sheen  # as flipping the parsed SVG left it
        self.id_to_vgroup_dict = {}
        return True

    def _save_outlines(self, path) -> None:
        import io

        glyphs = self.submobjects
        if not glyphs or any(m.submobjects for m in glyphs):
            return  # nested groups: only flat glyph lists are cached
        arrays = {"root_sheen": np.asarray(self.sheen_direction, dtype=np.float64),
                  "scalars": np.array([[float(getattr(g, n)) for n in _STYLE_SCALARS]
                                       for g in glyphs], dtype=np.float64)}
        for name in ("points", *_STYLE_ARRAYS):
            items = [np.asarray(getattr(g, name), dtype=np.float64).reshape(-1, 3 if name in
                     ("points", "sheen_direction") else 4) for g in glyphs]
            arrays[name] = np.concatenate(items)
            arrays[f"{name}_n"] = np.array([len(a) for a in items])
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        write_cache_entry("text", path, buf.getvalue())  # a read-only cache only costs speed


class CachedText(_SvgOutlineCache, Text):
    """``Text`` whose glyph outlines come from the on-disk cache when present."""


class CachedMarkupText(_SvgOutlineCache, MarkupText):
    """``MarkupText`` whose glyph outlines come from the on-disk cache when present."""
