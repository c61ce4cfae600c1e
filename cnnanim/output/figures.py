"""Article figures: one idea per figure, a few seconds that loop cleanly, legible, with alt text.

A figure is a part of a scene (some narration beats, or a time range) rendered on its own:

1. a *dry run* of the scene (:func:`scene_timeline`, nothing drawn) gives its beats and plays
   with their frames, and what every play draws (see :mod:`cnnanim.output.partial`);
2. the part's frames, the crop (the bounding box of what it draws, title line and caption band
   left out) and the width (the smallest digit at least :data:`MIN_NUMBER_PX` tall) follow;
3. the render plays only the part (:class:`FigurePart` through
   :func:`cnnanim.output.render.render_scene`), crops and resizes each frame, holds the last
   one and cross-fades back to the first, and writes ``.gif``, ``.webp``, ``.mp4`` or ``.webm``
   by extension, with ``NAME.alt.txt`` beside it (:func:`alt_text`).

:func:`render_kit` renders :data:`KIT` (one figure per concept) into a folder with an
``index.md`` that shows them all.
"""

from __future__ import annotations

import html
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cnnanim.draw.layout import FRAME_HEIGHT, FRAME_WIDTH
from cnnanim.errors import CnnanimError
from cnnanim.files import atomic_write, media_dir, scratch_dir, shareable_settings
from cnnanim.output import gif as gifmod
from cnnanim.output.partial import BeatSpan, Drawn, Timeline, part_scene, union_box

#: Frames per second of figures (and of the timeline ``cnnanim beats`` prints).
DEFAULT_FPS = gifmod.DEFAULT_FPS
#: The smallest digit of a figure at its default width is at least this many pixels tall.
MIN_NUMBER_PX = 10
#: Margin around what a figure draws, in scene units (the frame is 8 units high).
CROP_MARGIN = 0.2
#: Default width of a whole scene (no part chosen), as ``cnnanim gif`` always made it.
SCENE_WIDTH = gifmod.DEFAULT_WIDTH
#: The figure formats, by output extension.
SUFFIXES = gifmod.ANIMATION_SUFFIXES
VIDEO_SUFFIXES = tuple(gifmod.VIDEO_CODECS)

#: Words of the alt text and the snippets, per language.
WORDS = {
    "numbers": {"en": "Numbers shown include {nums}.", "zh": "画面中的数字包括 {nums}。"},
    "and": {"en": " and ", "zh": "和"},
}


# -- the timeline -----------------------------------------------------------------------------
class _DryRun:
    """A :class:`FigurePart`-like hook that renders nothing and keeps the scene's timeline."""

    def __init__(self) -> None:
        self.timeline: Timeline | None = None

    def scene_class(self, cls: type) -> type:
        return part_scene(cls, measure_drawn=True)

    def writer_class(self, fps: float, width: int, src_fps: float) -> type:
        return gifmod.window_writer_class(fps, width, src_fps, ())

    def finish(self, scene, out: Path) -> list[Path]:
        self.timeline = scene.timeline
        return []


_TIMELINES: dict[tuple, Timeline] = {}


def scene_timeline(name: str, *, fps: float = DEFAULT_FPS, image=None, weights=None,
                   layer: str | None = None, neuron: int | None = None, lang: str = "en",
                   **scene_settings) -> Timeline:
    """The beats and plays of scene ``name`` rendered at ``fps``, from a dry run (no drawing).

    Remembered per process for the same arguments.
    """
    from cnnanim.output.render import render_scene

    key = (name, float(fps), str(image), str(weights), layer, neuron, lang,
           tuple(sorted(scene_settings.items())))
    if key not in _TIMELINES:
        dry = _DryRun()
        with tempfile.TemporaryDirectory(prefix="beats-", dir=scratch_dir()) as tmp:
            render_scene(name, fmt="gif", output=Path(tmp) / "dry.gif", fps=fps, gif_fps=fps,
                         image=image, weights=weights, layer=layer, neuron=neuron, lang=lang,
                         part=dry, **scene_settings)
        if dry.timeline is None or not dry.timeline.complete:
            raise CnnanimError(f"the dry run of {name} did not play to its end")
        _TIMELINES[key] = dry.timeline
    return _TIMELINES[key]


def format_beats(spans: list[BeatSpan], fps: float) -> list[str]:
    """One line per beat: name, duration in seconds, sentence."""
    width = max((len(s.name) for s in spans), default=0)
    return [f"{s.name:<{width}}  {(s.end - s.start) / fps:6.2f} s  {s.text}" for s in spans]


# -- choosing the part, the crop and the width -----------------------------------------------
def part_windows(timeline: Timeline, beats=(), start: float | None = None,
                 end: float | None = None) -> list[tuple[int, int]]:
    """Frame ranges ``[a, b)`` of the chosen beats (adjacent ones merged), or of ``start``..``end``
    seconds; nothing chosen: the whole scene."""
    fps, total = timeline.fps, timeline.frames
    if beats and (start is not None or end is not None):
        raise CnnanimError("choose the part with --beat or with --from/--to, not both")
    if beats:
        spans = sorted({(s.start, s.end) for s in (timeline.span(b) for b in beats)})
        out: list[tuple[int, int]] = []
        for a, b in spans:
            if out and a <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], b))
            else:
                out.append((a, b))
        return out
    a = 0 if start is None else int(round(start * fps))
    b = total if end is None else int(round(end * fps))
    length = total / fps
    if start is not None and not 0 <= start < length:
        raise CnnanimError(f"--from must be between 0 and {length:.2f} s (the scene's length), "
                           f"got {start:g}")
    if end is not None and not 0 < end <= length + 0.5 / fps:
        raise CnnanimError(f"--to must be between 0 and {length:.2f} s (the scene's length), "
                           f"got {end:g}")
    if b <= a:
        raise CnnanimError(f"--to ({end:g} s) must come after --from ({start or 0:g} s)")
    return [(a, min(b, total))]


def crop_box(drawn: Drawn, captions: bool = False, margin: float = CROP_MARGIN):
    """The crop, in scene units ``(x0, y0, x1, y1)``: what is drawn (with the caption text when
    ``captions``) plus ``margin``, inside the frame; the whole frame when nothing is drawn."""
    box = union_box(drawn.box, drawn.caption if captions else None)
    w, h = FRAME_WIDTH / 2, FRAME_HEIGHT / 2
    if box is None:
        return (-w, -h, w, h)
    x0, y0, x1, y1 = box
    return (max(-w, x0 - margin), max(-h, y0 - margin), min(w, x1 + margin), min(h, y1 + margin))


def pixel_box(box, pixel_width: int, pixel_height: int) -> tuple[int, int, int, int]:
    """The pixels ``(left, top, right, bottom)`` of a frame that hold ``box`` (scene units)."""
    sx, sy = pixel_width / FRAME_WIDTH, pixel_height / FRAME_HEIGHT
    x0 = max(0, int(math.floor((box[0] + FRAME_WIDTH / 2) * sx)))
    x1 = min(pixel_width, int(math.ceil((box[2] + FRAME_WIDTH / 2) * sx)))
    y0 = max(0, int(math.floor((FRAME_HEIGHT / 2 - box[3]) * sy)))
    y1 = min(pixel_height, int(math.ceil((FRAME_HEIGHT / 2 - box[1]) * sy)))
    return x0, y0, x1, y1


def legible_width(box, digit: float, min_px: float = MIN_NUMBER_PX) -> int | None:
    """The narrowest even width at which a digit ``digit`` units tall is ``min_px`` tall in a
    figure of ``box``; None when no digit is drawn."""
    if not math.isfinite(digit) or digit <= 0:
        return None
    return int(math.ceil((box[2] - box[0]) * min_px / digit / 2)) * 2


def number_px(box, digit: float, width: int) -> float:
    """How tall (pixels) a digit ``digit`` units tall is in a figure of ``box`` ``width`` wide."""
    return digit * width / (box[2] - box[0]) if math.isfinite(digit) else math.inf


def render_quality(box, width: int) -> str:
    """The fastest quality whose frames hold ``box`` with at least ``width`` pixels across."""
    from cnnanim.output.render import gif_quality

    return gif_quality(int(math.ceil(width * FRAME_WIDTH / (box[2] - box[0]))))


# -- alt text and snippets --------------------------------------------------------------------
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def alt_text(spans: list[BeatSpan], numbers: set[str], lang: str = "en") -> str:
    """A plain description from the narration of ``spans`` (numbers filled in).

    When the narration names none of the ``numbers`` drawn, a sentence naming the smallest,
    a middle and the largest of them is added.
    """
    joiner = "" if lang == "zh" else " "
    text = joiner.join(s.text.strip() for s in spans).strip()
    said = set(_NUMBER.findall(text))
    shown = sorted({n for n in numbers if _NUMBER.fullmatch(n)}, key=float)
    values = [n for n in shown if "." in n]  # the values drawn, rather than sizes in labels
    shown = values or shown
    if shown and not said & set(shown):
        picks = list(dict.fromkeys([shown[0], shown[len(shown) // 2], shown[-1]]))
        w = {k: v.get(lang) or v["en"] for k, v in WORDS.items()}
        nums = ", ".join(picks[:-1]) + w["and"] + picks[-1] if len(picks) > 1 else picks[0]
        text = text + joiner + w["numbers"].format(nums=nums)
    return re.sub(r"\s+", " ", text).strip()


def snippets(src: str, alt: str, width: int, height: int, video: bool = False,
             loop: bool = True) -> tuple[str, str]:
    """``(markdown, html)`` that embed the figure at ``src`` with ``alt``.

    A video gets ``<video autoplay muted loop playsinline>`` (Markdown has no video syntax, so
    both are HTML); its alt text goes into ``aria-label`` and the fallback text.
    """
    a = html.escape(alt, quote=True)
    s = html.escape(src, quote=True)
    if video:
        tag = (f'<video src="{s}" width="{width}" height="{height}" autoplay muted'
               f'{" loop" if loop else ""} playsinline aria-label="{a}">{a}</video>')
        return tag, tag
    md_alt = re.sub(r"([\[\]\\])", r"\\\1", alt)
    return (f"![{md_alt}]({src.replace(' ', '%20')})",
            f'<img src="{s}" alt="{a}" width="{width}" height="{height}">')


def alt_path(path: str | os.PathLike) -> Path:
    """``NAME.alt.txt`` beside figure ``NAME.ext``."""
    p = Path(path)
    return p.with_name(p.stem + ".alt.txt")


# -- rendering a figure -----------------------------------------------------------------------
@dataclass
class FigurePart:
    """How :func:`cnnanim.output.render.render_scene` renders a figure (its ``part`` hook)."""

    windows: list[tuple[int, int]]
    plays: list[tuple[int, int]]
    box: tuple[float, float, float, float] | None
    hidden: frozenset[str]
    fps: float
    alt: str
    once: bool = False
    dither: bool = False
    #: After the render: the frames as written (loop included), the frames of the part alone,
    #: the crop in pixels of the rendered frames, and how many frames the renderer drew.
    frames: gifmod.GifFrames | None = None
    raw: gifmod.GifFrames | None = None
    pixel_crop: tuple[int, int, int, int] | None = None
    rendered: int = 0

    def scene_class(self, cls: type) -> type:
        return part_scene(cls, windows=self.windows, plays=self.plays,
                          stop=max(b for _, b in self.windows), hidden=self.hidden)

    def writer_class(self, fps: float, width: int, src_fps: float) -> type:
        from manim import config

        if abs(src_fps - self.fps) > 1e-9:
            raise CnnanimError(f"a figure renders at its own frame rate ({self.fps:g}), "
                               f"not {src_fps:g}")
        if self.box is not None:
            self.pixel_crop = pixel_box(self.box, config.pixel_width, config.pixel_height)
        return gifmod.window_writer_class(fps, width, src_fps, self.windows, self.pixel_crop)

    def finish(self, scene, out: Path) -> list[Path]:
        writer = scene.renderer.file_writer
        self.rendered = writer.frame_count
        self.raw = writer.sampler.result()
        frames = gifmod.join_frames(self.raw, writer.joins, self.fps)
        self.frames = gifmod.loop_frames(frames, self.fps, once=self.once)
        written = [gifmod.encode_animation(self.frames, out, self.fps, loop=not self.once,
                                           dither=self.dither)]
        try:
            written.append(atomic_write(alt_path(out), self.alt + "\n"))
        except BaseException:
            written[0].unlink(missing_ok=True)
            raise
        return written


@dataclass
class FigureResult:
    """What :func:`render_figure` wrote and measured."""

    scene: str
    path: Path
    alt_path: Path
    alt: str
    width: int
    height: int
    quality: str
    number_px: float
    frames: int
    duration: float
    beats: list[str]
    seconds: float
    box: tuple[float, float, float, float] | None = None
    windows: list[tuple[int, int]] = field(default_factory=list)
    part: FigurePart | None = field(default=None, repr=False)
    markdown: str = ""
    html: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Bytes of the figure."""
        return self.path.stat().st_size


def default_figure_name(scene: str, beats=(), start=None, end=None, lang: str = "en",
                        suffix: str = ".gif") -> str:
    """``SCENE-BEAT[-BEAT2].gif``, ``SCENE-12.0-18.5s.gif`` or ``SCENE.gif`` (``-zh`` for Chinese)."""
    if beats:
        part = "-" + "-".join(beats)
    elif start is not None or end is not None:
        part = f"-{start or 0:g}-{'end' if end is None else format(end, 'g')}s"
    else:
        part = ""
    return f"{scene}{part}{'-zh' if lang == 'zh' else ''}{suffix}"


def figure_output(scene: str, output, beats=(), start=None, end=None, lang: str = "en") -> Path:
    """The file a figure is written to: ``output`` (a file, or a folder for the default name)."""
    if output is None:
        return media_dir() / default_figure_name(scene, beats, start, end, lang)
    out = Path(output)
    if out.is_dir() or str(output).endswith(os.sep):
        return out / default_figure_name(scene, beats, start, end, lang)
    if out.suffix.lower() not in SUFFIXES:
        raise CnnanimError(f"unknown figure format {out.suffix or out.name!r}; "
                           f"use one of {', '.join(SUFFIXES)}")
    return out


def render_figure(scene: str, *, beats=(), start: float | None = None, end: float | None = None,
                  crop: str | None = None, captions: bool | None = None,
                  title: bool | None = None, width: int | None = None, fps: float = DEFAULT_FPS, once: bool = False,
                  dither: bool = False, output=None, image=None, weights=None,
                  layer: str | None = None, neuron: int | None = None, lang: str = "en",
                  **scene_settings) -> FigureResult:
    """Render part of ``scene`` as a figure and write its alt text beside it.

    Parameters
    ----------
    scene : str
        Scene name.
    beats : sequence of str
        Beat names (see ``cnnanim beats``); or ``start``/``end`` in seconds; neither: the
        whole scene.
    crop : {"auto", "none"}, optional
        ``auto``: the bounding box of what the part draws (title line and caption band left
        out, small margin); ``none``: the whole frame. Default: auto for a part, none for the
        whole scene.
    captions : bool, optional
        Keep the narration captions (default: only for the whole scene).
    title : bool, optional
        Keep the scene's title (default: only with ``crop="none"``).
    width : int, optional
        Width in pixels (default: the smallest digit drawn is :data:`MIN_NUMBER_PX` tall; for
        the whole scene, 480). A width that makes digits smaller gives a warning.
    fps : float
        Frames per second (also of the timeline the beats come from).
    once : bool
        Play once (held last frame) instead of looping back to the first frame.
    output : path, optional
        ``.gif``, ``.webp``, ``.mp4`` or ``.webm`` file, or a folder (default: ``media/``).
    image, weights, layer, neuron, lang, **scene_settings
        The scene's settings.
    """
    from cnnanim.output.render import render_scene

    t0 = time.perf_counter()
    whole = not beats and start is None and end is None
    crop = crop or ("none" if whole else "auto")
    if crop not in ("auto", "none"):
        raise CnnanimError(f"--crop must be auto or none, got {crop!r}")
    captions = whole if captions is None else bool(captions)
    out = figure_output(scene, output, beats, start, end, lang)
    settings = dict(image=image, weights=weights, layer=layer, neuron=neuron, lang=lang)
    timeline = scene_timeline(scene, fps=fps, **settings, **scene_settings)
    windows = part_windows(timeline, beats, start, end)
    drawn = timeline.drawn(windows)
    box = crop_box(drawn, captions) if crop == "auto" else crop_box(Drawn())
    title = crop == "none" if title is None else bool(title)
    hidden = frozenset(([] if captions else ["caption"]) + ([] if title else ["title"]))
    warnings = []
    need = legible_width(box, drawn.digit)
    if width is None:
        width = need if (need and not whole) else SCENE_WIDTH
    elif need and width < need:
        warnings.append(f"at {width} px wide the smallest number is "
                        f"{number_px(box, drawn.digit, width):.1f} px tall; "
                        f"{MIN_NUMBER_PX} px needs --width {need}")
    if not 16 <= width <= 3840:
        raise CnnanimError(f"width must be between 16 and 3840 pixels, got {width}")
    spans = timeline.beats_in(windows)
    alt = alt_text(spans, drawn.numbers, lang)
    part = FigurePart(windows, [(p.start, p.end) for p in timeline.plays],
                      None if crop == "none" else box, hidden, float(fps), alt, once, dither)
    quality = render_quality(box, width)
    r = render_scene(scene, quality=quality, fmt="gif", output=out, fps=fps, gif_fps=fps,
                     gif_width=width, part=part, **settings, **scene_settings)
    h, w = part.frames.frames[0].shape[:2]
    is_video = out.suffix.lower() in VIDEO_SUFFIXES
    src = os.path.relpath(out) if output is None else str(out)
    md, html_ = snippets(src, alt, w, h, is_video, not once)
    return FigureResult(scene, r.path, r.extra[0], alt, w, h, quality,
                        number_px(box, drawn.digit, w), len(part.frames.frames),
                        part.frames.total_ms / 1000, [s.name for s in spans],
                        time.perf_counter() - t0, part.box, windows, part, md, html_, warnings)


# -- the kit ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class KitFigure:
    """One figure of the kit: a concept, the scene and beats that show it.

    ``skip_plays`` leaves out the first plays of the first beat (e.g. a transition from the
    previous step), so the figure starts on its idea.
    """

    name: str
    title: dict[str, str]
    scene: str
    beats: tuple[str, ...]
    skip_plays: int = 0


#: The default article kit: one figure per concept.
KIT = (
    KitFigure("rgb-split", {"en": "An image is three grids of numbers", "zh": "图像是三张数字网格"},
              "input", ("split",)),
    KitFigure("dot-product", {"en": "One dot product", "zh": "一次点积"}, "conv-slide",
              ("products",)),
    KitFigure("sliding", {"en": "The window slides", "zh": "窗口滑动"}, "conv-slide", ("sweep",),
              skip_plays=2),
    KitFigure("padding", {"en": "Padding", "zh": "填充"}, "padding", ("pad",)),
    KitFigure("stride", {"en": "Stride", "zh": "步长"}, "stride", ("strideS",)),
    KitFigure("relu", {"en": "ReLU", "zh": "ReLU"}, "relu", ("apply",)),
    KitFigure("max-pool", {"en": "Max-pooling", "zh": "最大池化"}, "pooling", ("window",)),
    KitFigure("flatten", {"en": "Flatten", "zh": "展平"}, "flatten", ("order",)),
    KitFigure("softmax", {"en": "Softmax", "zh": "Softmax"}, "softmax", ("formula",)),
)


def kit_part(fig: KitFigure, timeline: Timeline) -> dict:
    """``render_figure`` arguments choosing ``fig``'s part: its beats, or a time range when
    plays are skipped."""
    if not fig.skip_plays:
        return {"beats": fig.beats}
    raw = next(i for i, b in enumerate(timeline.beats) if b.name == fig.beats[0])
    plays = [p for p in timeline.plays if p.beat == raw]
    start = plays[min(fig.skip_plays, len(plays) - 1)].start
    end = max(timeline.span(b).end for b in fig.beats)
    return {"start": start / timeline.fps, "end": end / timeline.fps}


def _render_kit_scene(figs: list[KitFigure], folder: str, suffix: str, settings: dict) -> list:
    """The figures of one scene, in one process (one dry run)."""
    out = []
    for fig in figs:
        tl = scene_timeline(fig.scene, **settings)
        part = kit_part(fig, tl)
        r = render_figure(fig.scene, output=Path(folder) / f"{fig.name}{suffix}", **part,
                          **settings)
        r.part = None  # frames stay in the worker
        out.append((fig, r))
    return out


@dataclass
class Kit:
    """What :func:`render_kit` wrote."""

    figures: list[FigureResult]
    index: Path
    seconds: float


def kit_command(fig: KitFigure, r: FigureResult, lang: str = "en", fps: float = DEFAULT_FPS) -> str:
    """The ``cnnanim gif`` command that renders the same figure on its own."""
    if fig.skip_plays:
        (a, _), *_ = r.windows
        b = r.windows[-1][1]
        part = f"--from {a / fps:g} --to {b / fps:g}"
    else:
        part = " ".join(f"--beat {b}" for b in fig.beats)
    return f"cnnanim gif {fig.scene} {part}{' --lang ' + lang if lang != 'en' else ''} -o {r.path.name}"


def kit_index(entries: list[tuple[KitFigure, FigureResult]], lang: str = "en") -> str:
    """The Markdown of ``index.md``: every figure embedded with its alt text shown below it."""
    lines = ["# CNN figures" if lang == "en" else "# CNN 插图", "",
             "Rendered by cnnanim from the real activations of a trained TinyVGG; every number "
             "is real. Each figure comes with its alt text (`NAME.alt.txt`)." if lang == "en" else
             "由 cnnanim 根据训练好的 TinyVGG 的真实激活值渲染，每个数字都是真实的。"
             "每张图都附有替代文字（`NAME.alt.txt`）。", ""]
    for fig, r in entries:
        video = r.path.suffix.lower() in VIDEO_SUFFIXES
        md, _ = snippets(r.path.name, r.alt, r.width, r.height, video)
        lines += [f"## {fig.title.get(lang) or fig.title['en']}", "", md, "",
                  f"*{r.alt}*", "",
                  f"`{kit_command(fig, r, lang)}` ({r.width}x{r.height}, {r.duration:.1f} s, "
                  f"{r.size // 1024} KB)", ""]
    return "\n".join(lines)


def render_kit(folder, *, fmt: str = "gif", image=None, weights=None, lang: str = "en",
               only=(), jobs: int | None = None, progress=None) -> Kit:
    """Render :data:`KIT` (or the figures named in ``only``) into ``folder`` with ``index.md``.

    Figures of one scene render in one process; ``jobs`` processes at a time (None: one per
    core, at most 2). ``progress(result)`` is called after each scene's figures.
    """
    from cnnanim.errors import UnknownNameError
    from cnnanim.output.render import _remove_empty, check_output_folder, check_render, default_jobs

    t0 = time.perf_counter()
    suffix = f".{fmt.lstrip('.')}"
    if suffix not in SUFFIXES:
        raise CnnanimError(f"unknown figure format {fmt!r}; use one of "
                           f"{', '.join(s[1:] for s in SUFFIXES)}")
    for name in only:
        if name not in {f.name for f in KIT}:
            raise UnknownNameError("figure", name, [f.name for f in KIT])
    figs = [f for f in KIT if not only or f.name in only]
    settings = dict(image=image, weights=weights, lang=lang)
    for f in figs:  # bad settings fail before anything renders
        check_render(f.scene, fmt="gif", **settings)
    folder = Path(folder)
    created = check_output_folder(folder)
    groups: dict[str, list[KitFigure]] = {}
    for f in figs:
        groups.setdefault(f.scene, []).append(f)
    order = sorted(groups.values(), key=len, reverse=True)
    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    done: dict[str, FigureResult] = {}

    def collect(results) -> None:
        for fig, r in results:
            done[fig.name] = r
            if progress:
                progress(r)

    try:
        if jobs > 1 and len(order) > 1:
            from cnnanim.output.workers import WorkerPool

            shared = shareable_settings(settings)
            with WorkerPool(min(jobs, len(order))) as pool:  # Ctrl-C, SIGTERM: all workers stop
                futures = [pool.submit(_render_kit_scene, g, str(folder), suffix, shared)
                           for g in order]
                for fut in futures:
                    collect(fut.result())
        else:
            for g in order:
                collect(_render_kit_scene(g, str(folder), suffix, settings))
    except BaseException:
        _remove_empty(created)  # only folders still empty: finished figures stay
        raise
    entries = [(f, done[f.name]) for f in figs]
    index = atomic_write(folder / "index.md", kit_index(entries, lang))
    return Kit([r for _, r in entries], index, time.perf_counter() - t0)
