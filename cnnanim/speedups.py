"""Render-speed helpers that change how fast frames are made, never which pixels they hold.

- :func:`install_fast_copy`: a quicker ``Mobject.__deepcopy__`` (Manim copies whole mobject
  families at the start of every Transform and FadeIn; the generic :func:`copy.deepcopy` walk
  over every attribute was the largest single cost of the number-heavy scenes).
- :func:`text`: ``Text`` built once per (string, font, size, colour, weight) in a process and
  copied afterwards (building one parses Pango's SVG output: about 25 ms a label).
- :class:`QuickFileWriter`: Manim's file writer whose segment encoder converts a repeated frame
  (a ``wait``) from RGBA to YUV once instead of once per frame, and which keeps a few segments
  encoding while the next animation renders. The encoded bytes are the same.

Every helper is checked by tests that compare pixels or bytes with Manim's own path.
"""

from __future__ import annotations

import copy
import enum
from fractions import Fraction
from pathlib import PurePath
from typing import Any

import numpy as np
import svgelements
from manim import Mobject, Text
from manim.scene.scene_file_writer import SceneFileWriter
from manim.scene.video_segment_encoder import VideoSegmentEncoder
from manim.utils.color import ManimColor

#: Values shared between a mobject and its copy: immutable ones (ManimColor is treated as a
#: value by Manim itself, which shares its array between colours), and the parsed SVG path a
#: glyph was built from (read once, when the glyph's points are made; copying it was 80 % of
#: the cost of copying a Text).
_SHARED = (int, float, complex, str, bytes, bool, type(None), PurePath, enum.Enum, ManimColor,
           np.generic, type, svgelements.Shape)

_manim_deepcopy = Mobject.__deepcopy__


def _copy_value(v: Any, memo: dict[int, Any]) -> Any:
    """Deep copy of one attribute value, with fast paths for what mobjects hold."""
    if isinstance(v, _SHARED):
        return v
    found = memo.get(id(v))
    if found is not None:
        return found
    t = type(v)
    if t is np.ndarray:
        out = v.copy()
    elif isinstance(v, Mobject):
        return v.__deepcopy__(memo)
    elif t is list:
        out = []
        memo[id(v)] = out
        out.extend(_copy_value(e, memo) for e in v)
        memo.setdefault(id(memo), []).append(v)  # keep v alive while memo lives (like copy)
        return out
    else:
        return copy.deepcopy(v, memo)
    memo[id(v)] = out
    memo.setdefault(id(memo), []).append(v)
    return out


def _fast_deepcopy(self: Mobject, memo: dict[int, Any]) -> Mobject:
    cls = self.__class__
    result = cls.__new__(cls)
    memo[id(self)] = result
    d = result.__dict__
    for k, v in self.__dict__.items():
        d[k] = _copy_value(v, memo)
    result.original_id = str(id(self))
    return result


def install_fast_copy() -> None:
    """Use the quick deep copy for every mobject in this process (idempotent)."""
    Mobject.__deepcopy__ = _fast_deepcopy  # type: ignore[method-assign]


def uninstall_fast_copy() -> None:
    """Restore Manim's own deep copy (for comparisons)."""
    Mobject.__deepcopy__ = _manim_deepcopy  # type: ignore[method-assign]


_TEXTS: dict[tuple, Text] = {}
_TEXTS_MAX = 4096


def text(s: str, **kwargs: Any) -> Text:
    """``Text(s, **kwargs)``, built once per process for the same arguments, then copied.

    Only hashable keyword values are memoised (font, font_size, color, weight, ...); anything
    else builds a fresh ``Text``.
    """
    try:
        key = (s, tuple(sorted((k, str(v) if isinstance(v, ManimColor) else v)
                               for k, v in kwargs.items())))
        hash(key)
    except TypeError:
        return Text(s, **kwargs)
    template = _TEXTS.get(key)
    if template is None:
        if len(_TEXTS) >= _TEXTS_MAX:
            _TEXTS.clear()
        template = _TEXTS[key] = Text(s, **kwargs)
    return template.copy()


class RepeatEncoder(VideoSegmentEncoder):
    """A segment encoder that converts a repeated frame to the stream's pixel format once."""

    def write_frame(self, pixels, *, repeat: int = 1) -> None:  # noqa: D102
        if repeat == 1:
            return super().write_frame(pixels, repeat=1)
        import av

        self._validate_frame(pixels, repeat)
        time_base = Fraction(self.spec.frame_rate.denominator, self.spec.frame_rate.numerator)
        try:
            frame = av.VideoFrame.from_ndarray(pixels, format="rgba")
            frame = frame.reformat(format=self._stream.format.name,
                                   width=self._stream.width, height=self._stream.height)
            for _ in range(repeat):
                frame.pts = self._next_pts
                frame.time_base = time_base
                self._next_pts += 1
                for packet in self._stream.encode(frame):
                    self._container.mux(packet)
        except BaseException as error:
            raise self._operation_error("encode", error) from error


class QuickFileWriter(SceneFileWriter):
    """Manim's file writer with :class:`RepeatEncoder` segments."""

    def _create_segment_encoder(self, target):  # noqa: D102
        if self.video_encoder is None:
            return super()._create_segment_encoder(target)
        return RepeatEncoder(target=target, spec=self.video_encoder)
