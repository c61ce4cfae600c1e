"""Rendering part of a scene: its narration timeline, frame windows, and what a part draws.

A scene class mixed with :class:`PartScene` counts the frames every ``play`` produces (exactly
as the Cairo renderer does) and

* renders only the plays that overlap its frame window: the others are played with Manim's
  ``skip_animations`` (mobjects reach their final state, nothing is drawn or written, and the
  scene time still moves on by whole frames), and the scene ends early after the window;
* records a :class:`Timeline`: every beat and every play with its frames, and, for each play,
  what it draws (the bounding box of the visible mobjects, the smallest digit, the numbers);
* can hide the title line and the captions from the camera (roles ``title`` and ``caption``).

A *dry run* (:func:`dry_run`) plays the whole scene skipped: no frame is drawn, yet the timeline
is the one a full render at the same frame rate would have, so a later render of a window skips
to it by play index.
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import ClassVar, Iterator

import numpy as np
from manim import Group, ImageMobject, Text, config
from manim.mobject.text.text_mobject import MarkupText
from manim.utils.exceptions import EndSceneEarlyException

from cnnanim.draw.camera import BoxCamera
from cnnanim.draw.text import NumberText
from cnnanim.errors import CnnanimError

#: Roles a figure can hide: the title line and the narration captions.
ROLES = ("title", "caption")
_DIGIT = re.compile(r"\d")


# -- the timeline -----------------------------------------------------------------------------
@dataclass
class Drawn:
    """What some frames draw (title and captions left out).

    Attributes
    ----------
    box : tuple or None
        ``(x0, y0, x1, y1)`` in scene units: the bounding box of every visible mobject.
    digit : float
        Height of the smallest digit drawn (scene units; ``inf`` when no digit is drawn).
    numbers : set of str
        Every number drawn (the strings, e.g. ``"0.45"`` or ``"64"``).
    caption : tuple or None
        Bounding box of the caption text shown, if any.
    """

    box: tuple[float, float, float, float] | None = None
    digit: float = math.inf
    numbers: set[str] = field(default_factory=set)
    caption: tuple[float, float, float, float] | None = None

    def merge(self, other: "Drawn") -> "Drawn":
        """The union of two records (changer; returns ``self``)."""
        self.box = union_box(self.box, other.box)
        self.caption = union_box(self.caption, other.caption)
        self.digit = min(self.digit, other.digit)
        self.numbers |= other.numbers
        return self


@dataclass
class Play:
    """One ``play`` (or ``wait``) of a scene: frames ``[start, end)``, its beat, what it draws."""

    start: int
    end: int
    beat: int | None
    drawn: Drawn = field(default_factory=Drawn)


@dataclass
class BeatSpan:
    """One narration beat: its name (the key, ``-2``... for repeats), sentence and frames.

    ``start``/``end`` are where its block starts and ends; :meth:`Timeline.spans` stretches
    them so that the beats tile the whole scene.
    """

    name: str
    key: str
    text: str
    start: int
    end: int


@dataclass
class Timeline:
    """Beats and plays of one render at ``fps`` frames per second."""

    fps: float
    beats: list[BeatSpan] = field(default_factory=list)
    plays: list[Play] = field(default_factory=list)
    frames: int = 0
    complete: bool = False

    def spans(self) -> list[BeatSpan]:
        """The beats tiling the scene: each runs from its start to the next one's start (the
        first from frame 0, the last to the end), so their durations add up to the scene's."""
        out = []
        for i, b in enumerate(self.beats):
            start = 0 if i == 0 else b.start
            end = self.beats[i + 1].start if i + 1 < len(self.beats) else self.frames
            out.append(BeatSpan(b.name, b.key, b.text, start, end))
        return out

    def span(self, name: str) -> BeatSpan:
        """The tiled span of beat ``name``; an unknown name lists the beats."""
        from cnnanim.errors import UnknownNameError

        for s in self.spans():
            if s.name == name:
                return s
        raise UnknownNameError("beat", name, [b.name for b in self.beats])

    def drawn(self, windows) -> Drawn:
        """What the plays overlapping the frame ``windows`` draw, merged."""
        out = Drawn()
        for p in self.plays:
            if overlaps(p.start, p.end, windows):
                out.merge(p.drawn)
        return out

    def beats_in(self, windows) -> list[BeatSpan]:
        """The tiled beats that overlap ``windows``, in order."""
        return [s for s in self.spans() if overlaps(s.start, s.end, windows)]


def overlaps(start: int, end: int, windows) -> bool:
    """Whether frames ``[start, end)`` overlap any ``[a, b)`` of ``windows``."""
    return any(start < b and a < end for a, b in windows)


def union_box(a, b):
    """The bounding box of two boxes ``(x0, y0, x1, y1)``; None stands for nothing."""
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


# -- what is drawn ----------------------------------------------------------------------------
def _visible(m) -> bool:
    if isinstance(m, ImageMobject):
        return float(getattr(m, "picture_opacity", 1.0)) > 0
    fill = m.fill_rgbas[:, 3] if len(getattr(m, "fill_rgbas", ())) else np.zeros(1)
    stroke = m.stroke_rgbas[:, 3] if len(getattr(m, "stroke_rgbas", ())) else np.zeros(1)
    return bool(fill.max() > 0 or (m.stroke_width and stroke.max() > 0))


def _points_box(m):
    pts = m.points
    if pts is None or not len(pts):
        return None
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))


def _text_digits(t) -> tuple[list[float], set[str]]:
    """Heights of the digit glyphs of a Text, and the numbers it spells."""
    chars = re.sub(r"\s", "", getattr(t, "text", "") or "")
    glyphs = t.submobjects
    heights = []
    if len(chars) == len(glyphs):
        heights = [g.height for ch, g in zip(chars, glyphs) if ch.isdigit() and _visible(g)]
    numbers = set(re.findall(r"-?\d+(?:\.\d+)?", chars)) if heights else set()
    return heights, numbers


def measure(mobjects, moving=()) -> Drawn:
    """What ``mobjects`` draw: box, smallest digit and numbers (title and captions left out).

    The digits of ``moving`` mobjects (about to be animated: e.g. grown from a point) count
    only in their box, not in the smallest digit.
    """
    out = Drawn()
    transient = {id(m) for mob in moving for m in mob.get_family()}

    def walk(m) -> None:
        role = getattr(m, "figure_role", None)
        if role == "title":
            return
        if role == "caption":
            text = getattr(getattr(m, "caption", m), "text", None)
            if text is not None:
                out.caption = union_box(out.caption, _points_box_family(text))
            return
        steady = id(m) not in transient
        source = getattr(m, "source_mobject", None)  # a picture of a mobject (picture fades)
        if isinstance(m, ImageMobject) and source is not None:
            if _visible(m):
                if not steady:
                    transient.update(id(s) for s in source.get_family())
                walk(source)
            return
        if isinstance(m, NumberText):
            if _visible(m):
                out.box = union_box(out.box, _points_box(m))
                if steady:
                    out.digit = min(out.digit, m.height)
                    out.numbers.add(m.text)
            return
        if isinstance(m, (Text, MarkupText)) and steady:
            heights, numbers = _text_digits(m)
            if heights:
                out.digit = min(out.digit, min(heights))
                out.numbers |= numbers
        if (isinstance(m, ImageMobject) or len(m.points)) and _visible(m):
            out.box = union_box(out.box, _points_box(m))
        for s in m.submobjects:
            walk(s)

    for m in mobjects:
        walk(m)
    return out


def _points_box_family(m):
    box = None
    for s in m.get_family():
        if len(s.points):
            box = union_box(box, _points_box(s))
    return box


def set_role(mobject, role: str):
    """Tag ``mobject`` and its whole family with ``role`` (copies keep the tag); returns it."""
    for m in mobject.get_family():
        m.figure_role = role
    return mobject


# -- the camera and the scene mixin -----------------------------------------------------------
class FigureCamera(BoxCamera):
    """A :class:`BoxCamera` that never draws mobjects whose ``figure_role`` is in ``hidden``."""

    hidden: frozenset[str] = frozenset()

    def get_mobjects_to_display(self, *args, **kwargs):  # noqa: D102
        shown = super().get_mobjects_to_display(*args, **kwargs)
        if not self.hidden:
            return shown
        return [m for m in shown if getattr(m, "figure_role", None) not in self.hidden]


class PartScene:
    """Mixin (put before a :class:`~cnnanim.scenes.base.CnnScene`): render only a frame window.

    Class attributes (set by :func:`part_scene`): ``part_windows`` frame ranges ``[a, b)`` to
    render (empty: a dry run, nothing drawn); ``part_plays`` the plays' frames from a dry run
    (checked on the way); ``part_stop`` a frame at which to end the scene (None: play it all);
    ``part_hidden`` roles not drawn; ``part_measure`` record what each play draws.
    """

    part_windows: ClassVar[tuple[tuple[int, int], ...]] = ()
    part_plays: ClassVar[tuple[tuple[int, int], ...] | None] = None
    part_stop: ClassVar[int | None] = None
    part_hidden: ClassVar[frozenset[str]] = frozenset()
    part_measure: ClassVar[bool] = False

    def __init__(self, *args, **kwargs) -> None:
        camera = type("FigureCamera", (FigureCamera,), {"hidden": frozenset(type(self).part_hidden)})
        kwargs.setdefault("camera_class", camera)
        super().__init__(*args, **kwargs)
        self.timeline = Timeline(float(config.frame_rate))
        self._skip_next = False
        self._open_beats: list[int] = []
        self._keys: dict[str, int] = {}

    # -- beats, title, captions ---------------------------------------------------------------
    @contextmanager
    def beat(self, key: str, **values) -> Iterator:
        """The scene's beat, recorded in the timeline with its frames and sentence."""
        n = self._keys[key] = self._keys.get(key, 0) + 1
        name = key if n == 1 else f"{key}-{n}"
        tl = self.timeline
        tl.beats.append(BeatSpan(name, key, self.narration_text(key, **values), tl.frames, tl.frames))
        self._open_beats.append(len(tl.beats) - 1)
        try:
            with super().beat(key, **values) as b:
                yield b
        finally:
            i = self._open_beats.pop()
            tl.beats[i].end = tl.frames

    def get_title(self, *args, **kwargs):
        """The scene's title, tagged with the role ``title``."""
        return set_role(super().get_title(*args, **kwargs), "title")

    def get_caption(self, text: str):
        """The scene's caption, tagged ``caption``; an empty group when captions are hidden."""
        if "caption" in type(self).part_hidden:
            return set_role(Group(), "caption")
        return set_role(super().get_caption(text), "caption")

    # -- playing only the window --------------------------------------------------------------
    def play(self, *args, **kwargs) -> None:
        """Play, skipped unless it overlaps the window; past ``part_stop`` the scene ends."""
        cls = type(self)
        i = len(self.timeline.plays)
        if cls.part_stop is not None and self.timeline.frames >= cls.part_stop:
            raise EndSceneEarlyException()
        plays = cls.part_plays
        self._skip_next = (plays is not None and i < len(plays)
                           and not overlaps(*plays[i], cls.part_windows)) or not cls.part_windows
        super().play(*args, **kwargs)

    def get_picture_fades(self, animations):
        """CnnScene's picture fades, except for skipped plays and hidden mobjects."""
        if self._skip_next:
            return list(animations), lambda: None
        hidden = type(self).part_hidden
        keep = [a for a in animations
                if getattr(getattr(a, "mobject", None), "figure_role", None) in hidden]
        if not keep:
            return super().get_picture_fades(animations)
        out, finish = super().get_picture_fades([a for a in animations if a not in keep])
        return list(out) + keep, finish

    def compile_animation_data(self, *args, **kwargs):
        """Manim's, then: count this play's frames and skip it when outside the window."""
        result = super().compile_animation_data(*args, **kwargs)
        fps = config.frame_rate
        frozen = self.is_current_animation_frozen_frame()
        # the frames the Cairo renderer writes: a frozen frame int(duration / dt) times, else
        # one per step of np.arange(0, duration, dt)
        n = int(self.duration / (1 / fps)) if frozen else len(np.arange(0, self.duration, 1 / fps))
        tl = self.timeline
        start = tl.frames
        i = len(tl.plays)
        plays = type(self).part_plays
        if plays is not None and i < len(plays) and plays[i] != (start, start + n):
            raise CnnanimError(f"{type(self).__name__} played differently from its dry run "
                               f"(play {i}: frames {plays[i]} then {(start, start + n)})")
        renderer = self.renderer
        if self._skip_next:
            renderer.skip_animations = True
            if frozen:  # the skipped wait goes through play_internal: nothing drawn
                self.animations[0].is_static_wait = False
            renderer.time += n / fps - self.duration  # the renderer adds duration: whole frames
        else:
            seek = getattr(renderer.file_writer, "seek", None)
            if seek is not None:
                seek(start)
        beat = self._open_beats[-1] if self._open_beats else None
        tl.plays.append(Play(start, start + n, beat))
        tl.frames = start + n
        return result

    def begin_animations(self) -> None:
        """Manim's (a skipped play draws no static frame); then what its first frame draws."""
        super().begin_animations()
        if self.renderer.skip_animations:
            self.static_mobjects = []
        self._measure([a.mobject for a in self.animations or () if getattr(a, "mobject", None)])

    def play_internal(self, skip_rendering: bool = False) -> None:
        """Manim's, drawing nothing for a skipped play; then what its last frame draws."""
        super().play_internal(skip_rendering or self.renderer.skip_animations)
        self._measure()

    def _measure(self, moving=()) -> None:
        if type(self).part_measure and self.timeline.plays:
            self.timeline.plays[-1].drawn.merge(
                measure(list(self.mobjects) + list(self.foreground_mobjects), moving))

    def render(self, *args, **kwargs):
        """Manim's render; the timeline is complete when the scene played to its end."""
        out = super().render(*args, **kwargs)
        stop = type(self).part_stop
        self.timeline.complete = stop is None or self.timeline.frames < stop
        return out


def part_scene(cls: type, windows=(), plays=None, stop: int | None = None, hidden=(),
               measure_drawn: bool = False) -> type:
    """``cls`` with :class:`PartScene` mixed in and its settings fixed."""
    hidden = frozenset(hidden)
    bad = hidden - set(ROLES)
    if bad:
        raise ValueError(f"unknown roles {sorted(bad)}; valid: {ROLES}")
    attrs = {"part_windows": tuple((int(a), int(b)) for a, b in windows),
             "part_plays": None if plays is None else tuple(plays),
             "part_stop": stop, "part_hidden": hidden, "part_measure": measure_drawn}
    return type(cls.__name__, (PartScene, cls), attrs)
