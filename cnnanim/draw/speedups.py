"""Render-speed helpers that change how fast frames are made, never which pixels they hold.

- :func:`install_fast_copy`: a quicker ``Mobject.__deepcopy__`` (Manim copies whole mobject
  families at the start of every Transform and FadeIn; the generic :func:`copy.deepcopy` walk
  over every attribute was the largest single cost of the number-heavy scenes).
- :func:`cached_text`: ``Text`` built once per (string, font, size, colour, weight) in a process and
  copied afterwards (building one parses Pango's SVG output: about 25 ms a label), and
  :class:`CachedText`/:class:`CachedMarkupText`, whose glyph outlines are cached on disk, keyed
  by the bytes of Pango's SVG (a caption: 0.7 s to parse, 0.05 s to read back).
- :class:`QuickFileWriter`: Manim's file writer whose segment encoder converts a repeated frame
  (a ``wait``) from RGBA to YUV once instead of once per frame, and which keeps a few segments
  encoding while the next animation renders. The encoded bytes are the same.

- :func:`motion_boxes`: where a set of animations can draw, so that CnnScene can leave
  mobjects clear of them in the static frame.

Every helper is checked by tests that compare pixels or bytes with Manim's own path.
"""

from __future__ import annotations

import copy
import enum
from fractions import Fraction
from pathlib import PurePath
from typing import Any

import numpy as np
from manim import Mobject
from manim.scene.scene_file_writer import SceneFileWriter
from manim.scene.video_segment_encoder import VideoSegmentEncoder
from manim.utils.color import ManimColor

#: Values shared between a mobject and its copy: immutable ones (ManimColor is treated as a
#: value by Manim itself, which shares its array between colours), and the parsed SVG path a
#: glyph was built from (read once, when the glyph's points are made; copying it was 80 % of
#: the cost of copying a Text).
try:  # Manim parses SVG with svgelements (one of its own dependencies)
    from svgelements import Shape as _SvgShape
except ImportError:  # pragma: no cover - another SVG parser: copy its objects as usual
    _SvgShape = ()
_SHARED = (int, float, complex, str, bytes, bool, type(None), PurePath, enum.Enum, ManimColor,
           np.generic, type) + ((_SvgShape,) if _SvgShape else ())

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


# -- where animations draw (for CnnScene.get_moving_mobjects) ----------------------------------
#: Margin (scene units) around boxes: strokes and anti-aliasing reach past the points.
_BOX_MARGIN = 0.2


def flat_animations(animations) -> list:
    """Animations with AnimationGroups (Succession, LaggedStart, ...) opened up."""
    from manim import AnimationGroup

    out = []
    for a in animations:
        out.append(a)
        if isinstance(a, AnimationGroup):
            out.extend(flat_animations(a.animations))
    return out


def box_of(mobject) -> tuple[float, float, float, float] | None:
    """(xmin, ymin, xmax, ymax) of a mobject's family points, with a margin (None: no points)."""
    pts = [np.asarray(m.points)[:, :2] for m in mobject.get_family() if len(m.points)]
    if not pts:
        return None
    p = np.concatenate(pts)
    lo, hi = p.min(axis=0) - _BOX_MARGIN, p.max(axis=0) + _BOX_MARGIN
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def boxes_overlap(a, b) -> bool:
    """Whether two (xmin, ymin, xmax, ymax) boxes meet."""
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def motion_boxes(animations) -> list | None:
    """Boxes that hold everything ``animations`` draw at any moment, or None if unknown.

    A Transform (FadeIn/FadeOut, ReplacementTransform, ``.animate``, GrowFromPoint, Indicate,
    ...) without a path arc moves each point on a straight line between its start and its
    target, so the boxes of the start, the target and the mobject now hold every frame.
    Create/Write/Uncreate draw parts of the mobject itself; a Wait or a FadePicture draws
    the mobject where it is. One box per animation, around all of these. Anything else (updaters, UpdateFromAlphaFunc, Rotate, ...) is
    unknown.
    """
    from manim import (
        AnimationGroup,
        Create,
        DrawBorderThenFill,
        ReplacementTransform,
        ShowPartial,
        Transform,
        Uncreate,
        Unwrite,
        Wait,
        Write,
    )
    from manim.animation.fading import _Fade
    from manim.animation.transform import _MethodAnimation

    from cnnanim.draw.camera import FadePicture

    boxes = []
    for a in flat_animations(animations):
        if isinstance(a, AnimationGroup):
            continue
        if isinstance(a, Wait):
            continue
        mobs = [a.mobject]
        if isinstance(a, Transform):
            if getattr(a, "path_arc", 0) not in (0, 0.0) or a.path_arc_centers is not None:
                return None
            if hasattr(a, "starting_mobject") and hasattr(a, "target_copy"):
                mobs += [a.starting_mobject, a.target_copy, a.target_mobject]
            elif isinstance(a, _Fade):  # a later step of a Succession, not begun yet
                if a.point_target or np.any(a.shift_vector) or a.scale_factor != 1:
                    return None
            elif type(a) in (Transform, ReplacementTransform, _MethodAnimation):
                mobs.append(a.target_mobject)
            else:
                return None
        elif not isinstance(a, (FadePicture, Create, Write, Uncreate, Unwrite, ShowPartial,
                                DrawBorderThenFill)):
            return None
        # every point moves on a straight line from its start to its target: the box around
        # both (not each one alone) holds every frame
        own = [b for b in (box_of(m) for m in mobs if m is not None) if b is not None]
        if own:
            lo, hi = np.min(own, axis=0), np.max(own, axis=0)
            boxes.append((float(lo[0]), float(lo[1]), float(hi[2]), float(hi[3])))
    return boxes
