"""The base of every cnnanim scene: settings as class attributes, the real trace, narration beats.

A scene subclass reads like a storyboard::

    class InputLayer(CnnScene):
        cli_name = "input"

        def construct(self):
            with self.beat("intro") as b:
                self.play(FadeIn(self.get_photo()), run_time=b.part(0.5))

and its words live beside it, in the data file of its module (``input_layer.toml``, see
:func:`scene_words`)::

    [InputLayer.NARRATION]
    intro.en = "..."
    intro.zh = "..."

Settings (``image``, ``weights``, ``layer``, ``neuron``, ``lang``) are class attributes; the
command line makes a subclass with its options, and the plain ``manim`` command reads
``CNNANIM_IMAGE``, ``CNNANIM_WEIGHTS``, ``CNNANIM_LAYER``, ``CNNANIM_NEURON`` and ``CNNANIM_LANG``.
"""

from __future__ import annotations

import functools
import math
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, ClassVar, Iterator

import numpy as np
from manim import UP, Scene, config

from cnnanim.draw import colors
from cnnanim.draw.text import Caption, check_caption_font, label
from cnnanim.errors import CnnanimError, UnknownNameError
from cnnanim.network.presets import class_label
from cnnanim.network.trace_cache import get_trace
from cnnanim.speech.narration import (
    Beat,
    beat_duration,
    check_lang,
    estimate_duration,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: Seconds in which a scene's first picture (its title and first content) fades in, from the
#: start of the first caption (see :meth:`CnnScene.show_opening`).
OPENING_TIME = 0.4
#: Seconds of each half of a quick change of picture: what goes fades out, then what comes
#: (named by the sentence that begins) fades in, readable half a second into the sentence.
SWAP_TIME = 0.25

#: The tables of words a scene class can have: beat -> {language -> text}.
WORD_TABLES = ("NARRATION", "FAIL_NARRATION", "WORDS")


@functools.cache
def scene_words(path: str) -> dict:
    """The words file ``path`` (the module's ``.py`` with ``.toml``), parsed; {} when there is none.

    Its top-level tables are classes of the module: ``[Name.NARRATION]``, ``[Name.WORDS]``,
    ``[Name.FAIL_NARRATION]`` hold ``key.en`` / ``key.zh`` texts, and ``words_from`` in ``[Name]``
    names other top-level tables of the file whose words the class shows too.
    """
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise CnnanimError(f"cannot read the scene words {path}: {e}") from None


def load_words(cls: type) -> None:
    """Give ``cls`` the tables of its section in its module's words file (see :func:`scene_words`).

    ``NARRATION`` and ``FAIL_NARRATION`` replace the inherited ones; ``WORDS`` are added to the
    inherited words, after those of ``words_from``. A class without a section keeps what it has.
    """
    file = getattr(sys.modules.get(cls.__module__), "__file__", None)
    if not file:
        return
    path = str(Path(file).with_suffix(".toml"))
    data = scene_words(path)
    section = data.get(cls.__name__)
    if section is None:
        return
    unknown = set(section) - {*WORD_TABLES, "words_from"}
    if unknown:
        raise CnnanimError(f"{path}: [{cls.__name__}] has unknown tables {sorted(unknown)}; "
                           f"valid: {', '.join(WORD_TABLES)}, words_from")
    words = dict(cls.WORDS)
    for name in section.get("words_from", ()):
        if name not in data:
            raise CnnanimError(f"{path}: [{cls.__name__}] takes words from [{name}], "
                               f"which the file does not have")
        words.update(data[name])
    if "words_from" in section or "WORDS" in section:
        cls.WORDS = {**words, **section.get("WORDS", {})}
    for table in ("NARRATION", "FAIL_NARRATION"):
        if table in section:
            setattr(cls, table, section[table])


class CnnScene(Scene):
    """Base scene: loads the real trace in ``setup()`` and paces ``construct()`` by narration.

    Attributes
    ----------
    cli_name : str
        Name on the command line (``cnnanim render NAME``); empty for abstract scenes.
    description : str
        One line for ``cnnanim list``.
    image, weights : str or None
        Photo and weights file (None: the bundled photo and the shipped weights).
    layer : str or None
        Stage the scene explains, where it explains one.
    neuron : int or None
        Output channel (neuron) of that stage.
    lang : str or None
        Narration language, ``en`` or ``zh``.
    voice : str or None
        Narration voice: ``auto``, ``espeak``, ``piper`` or ``none`` (see :mod:`cnnanim.speech.voice`).
    NARRATION : dict
        Beat key -> {language -> text}. Texts may hold ``{name}`` fields filled by
        :meth:`beat` with numbers from the trace.
    WORDS : dict
        The scene's on-screen words: key -> {language -> text}, read with :meth:`words`
        and drawn with :meth:`get_words`; every key has both languages.

    Both come from the words file of the class's module (:func:`load_words`, when the class
    is made); a class in a module without one may set them itself.
    """

    cli_name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    chapter: ClassVar[str] = ""
    image: ClassVar[str | None] = None
    weights: ClassVar[str | None] = None
    layer: ClassVar[str | None] = None
    neuron: ClassVar[int | None] = None
    lang: ClassVar[str | None] = None
    #: Narration voice: auto, espeak, piper or none (None: ``$CNNANIM_VOICE``, else none).
    voice: ClassVar[str | None] = None
    default_layer: ClassVar[str] = "conv_1_1"
    valid_layer_kinds: ClassVar[tuple[str, ...]] = ("conv",)
    NARRATION: ClassVar[dict[str, dict[str, str]]] = {}
    WORDS: ClassVar[dict[str, dict[str, str]]] = {}
    #: Composite images only inside their bounding box (see cnnanim.draw.camera); False: stock camera.
    box_camera: ClassVar[bool] = True
    #: Draw each caption once into an image that the BoxCamera copies on every frame (identical
    #: pixels, far faster than filling ~100 glyphs per frame); False: draw the vector caption.
    raster_captions: ClassVar[bool] = True
    #: Play plain FadeIn/FadeOut as fading pictures (BoxCamera only; see get_picture_fades).
    picture_fades: ClassVar[bool] = True
    #: Draw mobjects that are not animated and stay clear of the animations into the static
    #: frame even when they come later in drawing order (see get_moving_mobjects).
    static_above: ClassVar[bool] = True
    #: Quicker mobject copies and frame encoding (same pixels and bytes; see cnnanim.draw.speedups).
    speedups: ClassVar[bool] = True
    #: Segments that may still be encoding while the next animation renders (Manim's default 1
    #: makes every animation wait for its own encoding); at most 2 at 1080p and 1 above, as
    #: each encoder holds its own look-ahead frames (memory).
    inflight_encoders: ClassVar[int] = 3
    #: Keep the caption band on screen between beats (an empty band), so it never blinks.
    caption_band: ClassVar[bool] = True
    #: Fade everything out at the end (the lecture sets it: each part ends on the white page
    #: and the caption band, where the next part begins, instead of cutting to it).
    fade_out_at_end: ClassVar[bool] = False
    #: How long that fade takes (seconds).
    fade_out_time: ClassVar[float] = 0.5

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        load_words(cls)

    def __init__(self, *args, **kwargs) -> None:
        # Manim's cache hashes mobjects, not the photo or weights read in setup(): never reuse it.
        config.disable_caching = True
        from cnnanim.draw.camera import BoxCamera

        if type(self).box_camera:
            kwargs.setdefault("camera_class", BoxCamera)
        previous = config.background_color  # the camera reads it once, when it is made
        config.background_color = colors.BACKGROUND
        try:
            super().__init__(*args, **kwargs)
        finally:
            config.background_color = previous
        self.beats: list[tuple[float, float, Beat]] = []
        if type(self).caption_band:
            self.add(self.get_caption_band())
        if type(self).speedups:
            self._install_speedups()

    def _install_speedups(self) -> None:
        """Quicker copies and encoding (see :mod:`cnnanim.draw.speedups`): same pixels, less time."""
        import dataclasses

        from manim.scene.scene_file_writer import SceneFileWriter

        from cnnanim.draw.speedups import QuickFileWriter, install_fast_copy

        install_fast_copy()
        renderer = getattr(self, "renderer", None)
        if type(getattr(renderer, "file_writer", None)) is SceneFileWriter:
            settings = self.file_writer_settings
            inflight = type(self).inflight_encoders
            pixels = config.pixel_width * config.pixel_height
            if pixels > 1920 * 1080:  # each x264 encoder holds its own look-ahead frames
                inflight = 1
            elif pixels > 1280 * 720:
                inflight = min(inflight, 2)
            if settings.max_inflight_encoders < inflight:
                settings = dataclasses.replace(settings, max_inflight_encoders=inflight)
                self.file_writer_settings = settings
            renderer.file_writer = QuickFileWriter(settings)

    # -- settings ---------------------------------------------------------------------------
    def _setting(self, name: str, env: str, default):
        value = getattr(type(self), name)
        if value is None:
            value = os.environ.get(env) or default
        return value

    def setup(self) -> None:
        """Resolve the settings and load the trace of the photo through the weights."""
        self.lang = check_lang(self._setting("lang", "CNNANIM_LANG", "en"))
        self.image = self._setting("image", "CNNANIM_IMAGE", None)
        self.weights = self._setting("weights", "CNNANIM_WEIGHTS", None)
        self.trace = get_trace(self.image, self.weights)
        self.layer = self._setting("layer", "CNNANIM_LAYER", self.default_layer)
        valid = [n for n in self.trace.stage_names() if self.trace[n].kind in self.valid_layer_kinds]
        if self.layer not in valid:
            raise UnknownNameError("layer", self.layer, valid)
        neuron = self._setting("neuron", "CNNANIM_NEURON", 0)
        try:
            self.neuron = int(neuron)
        except (TypeError, ValueError):
            raise CnnanimError(f"neuron must be a whole number, got {neuron!r}") from None
        n_out = self.trace[self.layer].output.shape[0] if self.trace[self.layer].output.ndim == 3 else 0
        if n_out and not 0 <= self.neuron < n_out:
            raise CnnanimError(f"neuron must be between 0 and {n_out - 1} for {self.layer}, "
                               f"got {self.neuron}")
        self.data = self.get_data()

    def get_data(self):
        """Every number the scene shows, from the trace (see :mod:`cnnanim.explain`); :meth:`setup`
        keeps it as ``self.data``. None: the scene reads the trace as it goes."""
        return None

    # -- narration --------------------------------------------------------------------------
    def _in_lang(self, table: str, key: str, values: dict) -> str:
        """Entry ``key`` of the class table ``table`` in the scene's language, filled in."""
        try:
            texts = getattr(self, table)[key]
        except KeyError:
            what = "narration beat" if table == "NARRATION" else "on-screen words"
            raise UnknownNameError(what, key, list(getattr(self, table))) from None
        text = texts.get(self.lang) or texts["en"]
        return text.format(**values) if values else text

    def narration_text(self, key: str, **values) -> str:
        """The text of beat ``key`` in the scene's language, with ``values`` filled in."""
        return self._in_lang("NARRATION", key, values)

    def words(self, key: str, **values) -> str:
        """On-screen words ``key`` of :attr:`WORDS` in the scene's language, ``values`` filled in."""
        return self._in_lang("WORDS", key, values)

    def get_words(self, key: str, size: float = 24, color: str = colors.INK, **values):
        """:meth:`words` drawn as a label in the scene's font."""
        return label(self.words(key, **values), size, color, lang=self.lang)

    def get_speech(self):
        """The speech service of this render (None: captions only), chosen once per scene.

        The ``voice`` setting (class attribute, else ``$CNNANIM_VOICE``, else ``none``) is
        ``auto``, ``espeak``, ``piper`` or ``none``; stills and GIFs never get a voice.
        """
        if not hasattr(self, "_speech"):
            from cnnanim.speech.voice import check_voice, get_service

            voice = check_voice(self._setting("voice", "CNNANIM_VOICE", "none"))
            if not self._writes_sound():
                voice = "none"
            self._speech = get_service(voice, self.lang)
        return self._speech

    def _writes_sound(self) -> bool:
        """True when this render writes a video that can carry sound (not a still or a GIF)."""
        spec = getattr(getattr(self.renderer, "file_writer", None), "output_spec", None)
        if spec is not None and hasattr(spec, "is_video"):
            return bool(spec.is_video) and not bool(getattr(spec, "is_gif", False))
        return not config.save_last_frame and str(config.format) not in ("png", "gif")

    def make_beat(self, key: str, text: str) -> Beat:
        """A beat for ``text``: its duration from the voice, or estimated from the text."""
        speech = self.get_speech()
        if speech is None:
            return Beat(key=key, text=text, duration=estimate_duration(text, self.lang),
                        lang=self.lang)
        clip = speech.synthesize(text, self.lang)
        return Beat(key=key, text=text, duration=beat_duration(clip.duration), lang=self.lang,
                    audio=str(clip.path), audio_duration=clip.duration, clip=clip)

    @contextmanager
    def beat(self, key: str, **values) -> Iterator[Beat]:
        """Narrate beat ``key``: caption on screen, subtitle cues, and at least its duration.

        Animations played inside should take their run times from ``beat.part(...)``; the beat
        waits out whatever time is left when the block ends. With a voice, the clip starts with
        the beat and the beat lasts at least the clip plus a short pause, so speech never
        overlaps and is never cut off; subtitle cues follow the spoken words.
        """
        check_caption_font(self.lang)
        text = self.narration_text(key, **values)
        b = self.make_beat(key, text)
        caption = self.get_caption(text)
        self.add_foreground_mobject(caption)
        t0 = self.renderer.time
        if b.audio:
            self.add_sound(b.audio)
        for start, end, cue in b.cues():
            self.add_subcaption(cue, duration=end - start, offset=start)
        yield b
        left = b.duration - (self.renderer.time - t0)
        if left > 1e-3:  # whole frames, rounded up: the beat never ends before its speech
            self.wait(math.ceil(left * config.frame_rate - 1e-6) / config.frame_rate)
        self.remove_foreground_mobject(caption)
        self.remove(caption)
        self.beats.append((t0, self.renderer.time, b))

    def show_opening(self, b: Beat, *mobjects) -> None:
        """Fade ``mobjects`` (the title and what the first sentence names) in together, within
        :data:`OPENING_TIME` of beat ``b``'s start: no sentence is said over a blank page."""
        from manim import FadeIn

        self.play(*[FadeIn(m) for m in mobjects], run_time=b.part(0.3, at_most=OPENING_TIME))

    def wait_for_words(self, b: Beat, start: float, words: str) -> None:
        """Wait until the caption cue of beat ``b`` (begun at ``start``) that holds ``words`` is
        shown: a picture named in a later sentence appears with it (at once if no cue does)."""
        for t, _, text in b.cues():
            if words in text:
                left = start + t - self.renderer.time
                if left > 1e-3:
                    self.wait(left)
                return

    def get_caption_band(self):
        """The empty caption band, drawn under every caption and between beats."""
        from manim import DOWN, Rectangle

        from cnnanim.draw.layout import CAPTION_BAND

        band = Rectangle(width=config.frame_width, height=CAPTION_BAND, stroke_width=0,
                         fill_color=colors.CAPTION_BAND, fill_opacity=1)
        band.move_to(DOWN * (config.frame_height / 2 - CAPTION_BAND / 2))
        self.band = band
        return band

    def get_caption(self, text: str):
        """The caption of ``text`` as shown: a :class:`Caption`, or its picture (same pixels).

        With the BoxCamera the caption is drawn once into an image of the caption band at the
        camera's own pixel grid (see :func:`cnnanim.draw.camera.rasterize_band`).
        """
        from cnnanim.draw.camera import BoxCamera, rasterize_band
        from cnnanim.draw.layout import CAPTION_BAND

        caption = Caption(text, self.lang, frame_width=config.frame_width,
                          frame_height=config.frame_height)
        camera = getattr(self.renderer, "camera", None)
        if not type(self).raster_captions or not isinstance(camera, BoxCamera):
            return caption
        bottom = -config.frame_height / 2
        image = rasterize_band(caption, camera, bottom + CAPTION_BAND, bottom)
        image.caption = caption  # the vector caption it shows (text, band)
        return image

    def play(self, *animations, **kwargs) -> None:
        """Manim's ``play``; plain fades are played as fading pictures (see :meth:`get_picture_fades`)."""
        animations, finish = self.get_picture_fades(animations)
        super().play(*animations, **kwargs)
        finish()

    def get_moving_mobjects(self, *animations) -> list:
        """Manim's moving mobjects, less those that only lie above a moving one in drawing order.

        Manim redraws, on every frame, every mobject drawn after the first moving one. A
        mobject that is not animated, has no updater and stays clear of the region the
        animations can touch (see :func:`cnnanim.draw.speedups.motion_boxes`) looks the same whether it is drawn
        before or after them, so it goes into the static frame, drawn once. When the region is
        unknown (updaters, custom animations, arcs) Manim's list is kept as it is.
        """
        from cnnanim.draw.speedups import (
            box_of,
            boxes_overlap,
            flat_animations,
            motion_boxes,
        )

        moving = super().get_moving_mobjects(*animations)
        if not moving or not type(self).static_above:
            return moving
        boxes = motion_boxes(animations)
        if boxes is None or any(m.updaters for m in self.get_mobject_family_members()):
            return moving
        animated = set()
        for a in flat_animations(animations):
            animated.update(map(id, a.mobject.get_family()))
        fg = set(map(id, self.foreground_mobjects))
        keep = []
        # A kept mobject is redrawn over the static frame with its whole family, in its own
        # order: its members are not listed again (Manim keeps the last of repeated entries,
        # which would draw a grid's cells over its numbers). Whatever comes later in drawing
        # order and overlaps a kept mobject is kept too, or it would be drawn under it.
        boxes = list(boxes)
        in_kept: set[int] = set()
        for m in moving:
            if id(m) in in_kept:
                continue
            box = box_of(m)
            hits = [b for b in boxes if box is not None and boxes_overlap(box, b)]
            if not (id(m) in animated or id(m) in fg or hits):
                continue
            keep.append(m)
            in_kept.update(map(id, m.get_family()))
            if box is not None and not any(b[0] <= box[0] and b[1] <= box[1] and box[2] <= b[2]
                                           and box[3] <= b[3] for b in hits):
                boxes.append(box)  # (a box inside one already listed adds nothing)
        return keep

    def get_picture_fades(self, animations) -> tuple[list, Callable[[], None]]:
        """Swap plain fades and grows in ``animations`` for animated pictures.

        With the :class:`~cnnanim.draw.camera.BoxCamera`, the mobject ``m`` of a plain
        ``FadeIn``/``FadeOut`` (no shift, scale or lag) or ``GrowFromPoint``/``GrowFromCenter``/
        ``GrowFromEdge`` (no point colour) is drawn once into an image on the camera's pixel
        grid, and the image is faded or grown with the animation's own run time and rate
        function: a frame composites one image instead of filling every glyph of ``m`` again.
        Mobjects with updaters, or animated twice in one call, stay as they are. Returns the
        animations to play and a function to call after playing, which puts ``m`` itself where
        its picture was (the scene then holds the same mobjects, and the next frame draws the
        vectors, as after the plain animation).
        """
        from manim import FadeIn, FadeOut, GrowFromCenter, GrowFromEdge, GrowFromPoint
        from PIL import Image

        from cnnanim.draw.camera import BoxCamera, FadePicture, rasterize

        camera = getattr(getattr(self, "renderer", None), "camera", None)
        if not type(self).picture_fades or not isinstance(camera, BoxCamera):
            return list(animations), lambda: None
        targets = [getattr(a, "mobject", None) for a in animations]
        on_screen = set(map(id, self.get_mobject_family_members()))
        out, swaps = [], []
        for a, m in zip(animations, targets):
            kind = type(a)
            ok = (m is not None and getattr(a, "lag_ratio", 1) == 0
                  and sum(t is m for t in targets) == 1 and not m.get_family_updaters())
            if ok and kind is not FadeOut and id(m) in on_screen:
                ok = False  # fading in what is already shown: Manim's own animation
            if kind in (FadeIn, FadeOut):
                ok = ok and (not a.point_target and not np.any(a.shift_vector)
                             and a.scale_factor == 1)
            elif kind in (GrowFromPoint, GrowFromCenter, GrowFromEdge):
                ok = ok and not a.point_color
            else:
                ok = False
            pic = rasterize(m, camera) if ok else None
            if pic is None:
                out.append(a)
                continue
            timing = dict(run_time=a.run_time, rate_func=a.rate_func)
            if kind is FadeOut:
                if m in self.mobjects:
                    self.replace(m, pic)  # the picture fades where m was drawn
                # m's whole family leaves the scene, also members added inside other groups
                # (a plain FadeOut only turns them transparent and keeps drawing them)
                for name in ("mobjects", "foreground_mobjects"):
                    self.restructure_mobjects([m], name, extract_families=True)
                out.append(FadePicture(pic, 1.0, 0.0, **timing))
                continue
            if kind is FadeIn:
                out.append(FadePicture(pic, 0.0, 1.0, **timing))
            else:  # growing: resampled while small, copied 1:1 at full size
                pic.set_resampling_algorithm(Image.BILINEAR)
                out.append(GrowFromPoint(pic, a.point, **timing))
            swaps.append((pic, m))

        def finish() -> None:
            for pic, m in swaps:
                if pic in self.mobjects:
                    self.replace(pic, m)
                else:
                    self.add(m)

        return out, finish

    def tear_down(self) -> None:
        """Fade out (in the lecture), then pad the soundtrack with silence to the end of the
        video (same stream lengths)."""
        if type(self).fade_out_at_end:
            self.fade_out_everything(type(self).fade_out_time)
        super().tear_down()
        writer = getattr(self.renderer, "file_writer", None)
        if writer is not None and getattr(writer, "includes_sound", False):
            from pydub import AudioSegment

            missing = self.renderer.time - writer.audio_segment.duration_seconds
            if missing > 1e-3:
                writer.add_audio_segment(AudioSegment.silent(int(round(missing * 1000))))

    def fade_out_everything(self, run_time: float = 0.5) -> None:
        """Fade every mobject but the caption band out, together."""
        from manim import FadeOut, Group

        shown = [m for m in self.mobjects if m is not getattr(self, "band", None)]
        if shown:
            self.play(FadeOut(Group(*shown)), run_time=run_time)

    # -- common pieces ----------------------------------------------------------------------
    @property
    def class_labels(self) -> list[str]:
        """The network's class names as the viewer's language names them."""
        return [class_label(n, self.lang) for n in self.trace.class_names]

    def get_title(self, text: str, size: float = 30):
        """A title at the top-left of the frame."""
        t = label(text, size=size, lang=self.lang, weight="BOLD")
        t.to_corner(UP + [-1, 0, 0], buff=0.35)
        return t
