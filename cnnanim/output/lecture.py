"""The whole lecture in one video: every chapter's scenes behind a title card, one MP4.

::

    result = make_lecture(lang="zh", quality="l", voice="auto", output="media/lecture-zh.mp4")
    result.path, result.subtitles, result.chapters     # MP4, one .srt, [(title, start, end)]

Each part (title card or scene) is rendered to its own MP4 by Manim with the same settings, then
the parts are joined with PyAV: the video packets are re-muxed without re-encoding (their H.264
parameters are identical; if they ever differ, the video is re-encoded), the sound of every part
is decoded, cut or padded to exactly its video's length and encoded once as AAC, so audio and
video end together and never drift. The MP4 carries one chapter marker per chapter; the
subtitles of all parts go into one ``.srt`` with each part's cues shifted by its start time.
Outputs are written to temporary files and moved into place at the end (atomic).
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from cnnanim.draw.text import check_caption_font
from cnnanim.errors import CnnanimError
from cnnanim.files import (
    atomic_write,
    check_output_file,
    scratch_dir,
    shareable_settings,
    temp_folder,
)
from cnnanim.output.progress import Progress
from cnnanim.scenes.title_card import TitleCard
from cnnanim.speech.narration import check_lang

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chapter:
    """One chapter: a key, its title per language, and the scenes it plays (names or classes)."""

    key: str
    title: dict
    scenes: tuple


#: The lecture, in the order of the seed storyboard.
CHAPTERS: tuple[Chapter, ...] = (
    Chapter("overview", {"en": "Overview", "zh": "总览"}, ("overview",)),
    Chapter("input", {"en": "The input layer", "zh": "输入层"}, ("input",)),
    Chapter("convolution", {"en": "Convolution", "zh": "卷积"},
            ("conv-elastic", "conv-slide", "conv-deep")),
    Chapter("hyperparameters", {"en": "Hyperparameters", "zh": "超参数"},
            ("padding", "kernel-size", "stride")),
    Chapter("relu", {"en": "ReLU", "zh": "ReLU 激活函数"}, ("relu",)),
    Chapter("pooling", {"en": "Max pooling", "zh": "最大池化"}, ("pooling",)),
    Chapter("flatten", {"en": "Flatten", "zh": "展平"}, ("flatten",)),
    Chapter("softmax", {"en": "Softmax", "zh": "Softmax"}, ("softmax",)),
    Chapter("recap", {"en": "Recap", "zh": "回顾"}, ("recap",)),
)

#: The lecture's title per language (MP4 metadata, slide decks).
TITLES = {"en": "CNN Explainer lecture", "zh": "CNN 解释器讲座"}

#: Sample rate and layout of the lecture's soundtrack.
AUDIO_RATE = 48000


@dataclass
class Part:
    """One rendered piece of the lecture."""

    chapter: str
    name: str
    video: Path
    subtitles: Path | None
    start: float = 0.0
    duration: float = 0.0
    #: Narration beats as (start, end, key, text), seconds from the part's start.
    beats: list[tuple[float, float, str, str]] = field(default_factory=list)


@dataclass
class LectureResult:
    """What :func:`make_lecture` wrote.

    Attributes
    ----------
    path : Path
        The MP4.
    subtitles : Path
        The ``.srt`` of the whole lecture.
    chapters : list of (title, start, end)
        Chapter markers in seconds.
    parts : list of Part
        Every title card and scene, with its start and duration.
    skipped : list of str
        Scene names of the storyboard that do not exist (yet).
    duration : float
        Video length in seconds.
    """

    path: Path
    subtitles: Path
    chapters: list[tuple[str, float, float]] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    duration: float = 0.0
    has_audio: bool = False
    remuxed: bool = True
    seconds: float = 0.0


# -- planning -----------------------------------------------------------------------------------
def plan(chapters: Sequence[Chapter] = CHAPTERS, warn: Callable[[str], None] | None = None):
    """Chapters with the scenes that exist: [(chapter, [scene class, ...])], skipped names.

    Scene names missing from :func:`cnnanim.scenes.registry.all_scenes` are skipped (with a warning);
    a chapter left without scenes is dropped.
    """
    from cnnanim.scenes.registry import all_scenes

    known = None
    out, skipped = [], []
    for ch in chapters:
        classes = []
        for s in ch.scenes:
            if isinstance(s, type):
                classes.append(s)
                continue
            if known is None:
                known = all_scenes()
            if s in known:
                classes.append(known[s])
            else:
                skipped.append(s)
                if warn:
                    warn(f"warning: scene {s!r} does not exist; chapter {ch.key!r} goes without it")
        if classes:
            out.append((ch, classes))
    return out, skipped


def title_card(chapter: Chapter, number: int, total: int, lang: str) -> type:
    """The title card scene class of ``chapter``."""
    title = chapter.title.get(lang) or chapter.title["en"]
    return type(f"TitleCard_{chapter.key}", (TitleCard,),
                {"number": number, "total": total, "title": title})


# -- rendering ------------------------------------------------------------------------------------
@dataclass
class RenderedPart:
    """A scene rendered by :func:`render_part`: its MP4, its ``.srt``, beats and the scene object."""

    video: Path
    subtitles: Path | None
    scene: object = field(default=None, repr=False)
    #: The scene's narration beats as (start, end, key, text) in seconds (picklable).
    beats: list[tuple[float, float, str, str]] = field(default_factory=list)


def render_part(cls: type, out: Path, quality: str = "l", fast: bool = False,
                **settings) -> RenderedPart:
    """Render scene class ``cls`` to ``out`` (MP4) and its ``.srt`` beside it.

    ``fast``: x264's ``ultrafast`` preset (see :func:`cnnanim.output.render.fast_encoder_options`).
    """
    from manim import tempconfig

    from cnnanim.output.render import QUALITIES, configure_scene

    scene_cls = configure_scene(cls, **settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_folder(".part-", out.parent)
    try:
        cfg = {"quality": QUALITIES[quality], "media_dir": str(tmp), "disable_caching": True,
               "text_dir": str(scratch_dir("texts")),  # Pango's SVGs: not on the output's disk
               "progress_bar": "none", "verbosity": "CRITICAL", "output_file": out.stem,
               "preview": False, "format": "mp4", "save_last_frame": False}
        if fast:
            from cnnanim.output.render import fast_encoder_options

            cfg["video_encoder_options"] = fast_encoder_options()
        logging.getLogger("manim").setLevel(logging.ERROR)
        # Manim passes ffmpeg-only options ("shortest") to PyAV when it adds sound: harmless noise
        logging.getLogger("av.container.output").setLevel(logging.ERROR)
        with tempconfig(cfg):
            scene = scene_cls()
            scene.render()
        produced = sorted(p for p in tmp.rglob("*.mp4") if "partial_movie_files" not in p.parts)
        if not produced:
            raise CnnanimError(f"rendering {cls.__name__} produced no video")
        os.replace(produced[0], out)
        srt_path = produced[0].with_suffix(".srt")
        srt_out = None
        if srt_path.exists():
            srt_out = out.with_suffix(".srt")
            os.replace(srt_path, srt_out)
        beats = [(t0, t1, b.key, b.text) for t0, t1, b in getattr(scene, "beats", [])]
        return RenderedPart(out, srt_out, scene, beats)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _part_spec(ch: Chapter, name: str, cls: type, number: int, total: int, known: dict):
    """How a worker process rebuilds part ``cls``, or None when it cannot (a class of a test)."""
    if issubclass(cls, TitleCard) and name == f"title-{ch.key}":
        return ("card", ch.key, dict(ch.title), number, total)
    from cnnanim.output.render import importable

    if cls.cli_name and known.get(cls.cli_name) is cls and importable(cls):
        return ("scene", cls.cli_name)
    return None


def _render_part_worker(spec, out: Path, quality: str, fast: bool, settings: dict):
    """render_part in a worker process: rebuilds the part's class from ``spec``."""
    if spec[0] == "card":
        _, key, title, number, total = spec
        cls = title_card(Chapter(key, title, ()), number, total, settings["lang"])
    else:
        from cnnanim.scenes.registry import get_scene

        cls = get_scene(spec[1])
    r = render_part(cls, out, quality, fast=fast, **settings)
    return r.video, r.subtitles, r.beats


# -- joining --------------------------------------------------------------------------------------
def video_duration(path: Path) -> float:
    """Length of the video stream: frames / frame rate."""
    import av

    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = v.frames or sum(1 for p in c.demux(v) if p.size)
        return float(frames / (v.base_rate or v.average_rate))


def _part_audio(path: Path, n_samples: int) -> np.ndarray:
    """The part's sound as mono float32 at :data:`AUDIO_RATE`, cut or padded to ``n_samples``."""
    import av

    out = np.zeros(n_samples, np.float32)
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return out
        res = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
        chunks = []
        for frame in c.decode(c.streams.audio[0]):
            for f in res.resample(frame):
                chunks.append(f.to_ndarray().reshape(-1))
        for f in res.resample(None):
            chunks.append(f.to_ndarray().reshape(-1))
    if chunks:
        a = np.concatenate(chunks)[:n_samples]
        out[:len(a)] = a
    return out


def _same_video_params(parts: Sequence[Part]) -> bool:
    import av

    keys = set()
    for p in parts:
        with av.open(str(p.video)) as c:
            cc = c.streams.video[0].codec_context
            v = c.streams.video[0]
            keys.add((cc.name, cc.width, cc.height, cc.pix_fmt, bytes(cc.extradata or b""),
                      v.base_rate, v.time_base))
    return len(keys) == 1


def join_parts(parts: Sequence[Part], out: Path, chapters: Sequence[tuple[str, float, float]],
               audio: bool, title: str = "") -> bool:
    """Concatenate the parts' MP4s into ``out`` with chapter markers; returns True if re-muxed.

    Video packets are copied with their time stamps shifted (no re-encoding) when every part
    has the same H.264 parameters, else re-encoded. The soundtrack (when ``audio``) is each
    part's sound cut or padded to its video's length, encoded once as AAC.
    """
    import av

    remux = _same_video_params(parts)
    opts = {"movflags": "+faststart"}
    with av.open(str(out), mode="w", format="mp4", options=opts) as dst:
        if title:
            dst.metadata["title"] = title
        with av.open(str(parts[0].video)) as first:
            tmpl = first.streams.video[0]
            if remux:
                vout = dst.add_stream_from_template(template=tmpl)
            else:
                vout = dst.add_stream("libx264", rate=tmpl.base_rate)
                vout.width, vout.height = tmpl.codec_context.width, tmpl.codec_context.height
                vout.pix_fmt = "yuv420p"
                vout.options = {"crf": "23"}
            rate = Fraction(tmpl.base_rate)
        aout = None
        if audio:
            aout = dst.add_stream("aac", rate=AUDIO_RATE, layout="mono")
            aout.bit_rate = 128_000
        dst.set_chapters([{"id": i + 1, "start": int(round(s * 1000)), "end": int(round(e * 1000)),
                           "time_base": Fraction(1, 1000), "metadata": {"title": t}}
                          for i, (t, s, e) in enumerate(chapters)])
        frame_index = 0
        audio_pts = 0
        for p in parts:
            with av.open(str(p.video)) as src:
                vin = src.streams.video[0]
                frames = 0
                if remux:
                    tb = vin.time_base
                    offset = int(round(Fraction(frame_index) / rate / tb))
                    for pkt in src.demux(vin):
                        if pkt.dts is None:
                            continue
                        frames += 1
                        pkt.pts += offset
                        pkt.dts += offset
                        pkt.stream = vout
                        dst.mux(pkt)
                else:
                    for frame in src.decode(vin):
                        img = frame.reformat(format="yuv420p")
                        img.pts = frame_index + frames
                        img.time_base = 1 / rate
                        frames += 1
                        for pkt in vout.encode(img):
                            dst.mux(pkt)
                frame_index += frames
            if aout is not None:
                n = int(round(frames / rate * AUDIO_RATE))
                samples = _part_audio(p.video, n)
                af = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
                af.sample_rate = AUDIO_RATE
                af.pts = audio_pts
                af.time_base = Fraction(1, AUDIO_RATE)
                audio_pts += n
                for pkt in aout.encode(af):
                    dst.mux(pkt)
        if not remux:
            for pkt in vout.encode(None):
                dst.mux(pkt)
        if aout is not None:
            for pkt in aout.encode(None):
                dst.mux(pkt)
    return remux


def join_subtitles(parts: Sequence[Part]) -> str:
    """One SRT for the parts, each part's cues shifted by its start time."""
    import srt

    cues = []
    for p in parts:
        if p.subtitles is None or not p.subtitles.exists():
            continue
        shift = datetime.timedelta(seconds=p.start)
        end_limit = datetime.timedelta(seconds=p.start + p.duration)
        for c in srt.parse(p.subtitles.read_text(encoding="utf-8")):
            start, end = c.start + shift, min(c.end + shift, end_limit)
            if end > start:
                cues.append(srt.Subtitle(index=len(cues) + 1, start=start, end=end,
                                         content=c.content))
    return srt.compose(cues, reindex=True)


def default_lecture_output(lang: str, quality: str) -> Path:
    from cnnanim.files import media_dir

    return media_dir() / f"lecture-{lang}-{quality}.mp4"


def make_lecture(lang: str = "en", quality: str = "l", image=None, weights=None,
                 voice: str | None = "auto", output: str | os.PathLike | None = None,
                 chapters: Sequence[Chapter] = CHAPTERS, progress: bool | Callable = True,
                 cards: bool = True, fast: bool = False,
                 jobs: int | None = 1) -> LectureResult:
    """Render the lecture: every chapter's title card and scenes, joined into one MP4 + .srt.

    Parameters
    ----------
    lang : str
        ``en`` or ``zh`` (captions, voice, titles).
    quality : str
        Manim quality letter (``l``, ``m``, ``h``, ``p``, ``k``).
    image, weights : path, optional
        Photo and weights for every scene (default: the bundled photo and shipped weights).
    voice : str
        ``auto``, ``espeak``, ``piper`` or ``none`` (captions only, no soundtrack).
    output : path, optional
        The MP4 (default ``media/lecture-<lang>-<quality>.mp4``); the ``.srt`` goes beside it.
    chapters : sequence of Chapter
        The storyboard (default :data:`CHAPTERS`); scenes may be names or CnnScene classes.
    progress : bool or callable
        Show a progress bar on stderr (or call ``progress(done, what)``).
    cards : bool
        Put a title card before each chapter.
    fast : bool
        Encode every part with x264's ``ultrafast`` preset (faster, bigger file).
    jobs : int or None
        Parts rendered at once, one per process (None: :func:`cnnanim.output.render.default_jobs`).
        Only storyboards of registered scenes run in parallel; the result is the same.
    """
    from cnnanim.network.trace_cache import get_trace
    from cnnanim.output.render import QUALITIES, check_output_folder, writing
    from cnnanim.speech.voice import check_voice, describe_voice

    t_start = time.perf_counter()
    workers = jobs  # ``jobs`` is the list of parts below
    check_lang(lang)
    voice = check_voice(voice)
    if quality not in QUALITIES:
        from cnnanim.errors import UnknownNameError

        raise UnknownNameError("quality", quality, list(QUALITIES))
    check_caption_font(lang)
    spoken = describe_voice(voice, lang)  # fails early when a named voice is missing
    get_trace(image, weights)  # a bad photo or weights file fails before any rendering

    def warn(msg: str) -> None:
        sys.stderr.write(msg + "\n")

    planned, skipped = plan(chapters, warn=warn)
    if not planned:
        raise CnnanimError("the lecture has no scenes: none of its scenes exist")
    if output:
        check_output_file(output)  # -o /dev/null: refused, not /dev/null.mp4
    out = Path(output) if output else default_lecture_output(lang, quality)
    if out.suffix.lower() != ".mp4":
        out = out.with_suffix(".mp4")
    check_output_file(out)
    check_output_file(out.with_suffix(".srt"))

    jobs = []  # (chapter, name, class)
    specs = []  # how a worker process rebuilds each part (None: only this process can)
    from cnnanim.scenes.registry import all_scenes

    known = all_scenes()
    for i, (ch, classes) in enumerate(planned):
        if cards:
            jobs.append((ch, f"title-{ch.key}", title_card(ch, i + 1, len(planned), lang)))
            specs.append(_part_spec(*jobs[-1], i + 1, len(planned), known))
        for cls in classes:
            jobs.append((ch, cls.cli_name or cls.__name__, cls))
            specs.append(_part_spec(*jobs[-1], i + 1, len(planned), known))
    bar = progress if callable(progress) else (Progress(len(jobs) + 1, width=24) if progress else None)
    # each part ends on the white page and the caption band, where the next one begins
    settings = dict(lang=lang, image=image, weights=weights, voice=voice, fade_out_at_end=True)
    from cnnanim.output.render import default_jobs

    workers = default_jobs() if workers is None else max(1, int(workers))
    if workers > 1 and any(sp is None for sp in specs):
        workers = 1  # parts only this process knows (e.g. classes defined in a test)

    created = check_output_folder(out.parent)
    with writing(out, created) as w:
        try:
            w.tmp = tmp = temp_folder(".cnnanim-lecture-", out.parent)
        except OSError as e:
            raise CnnanimError(f"cannot write to {out.parent}: {e.strerror or e}") from None
        parts: list[Part] = []
        rendered: dict[type, tuple[Path, Path | None, list]] = {}
        futures: dict[type, object] = {}
        pool = None
        t = 0.0
        try:
            if workers > 1 and len(jobs) > 1:
                from cnnanim.output.workers import WorkerPool

                pool = WorkerPool(min(workers, len(jobs)))
                # the same settings as in this process, with paths a worker can open
                shared = shareable_settings(settings)
                for k, (ch, name, cls) in enumerate(jobs):
                    if cls not in futures:  # a scene played twice (the overview): rendered once
                        futures[cls] = pool.submit(_render_part_worker, specs[k],
                                                   tmp / f"{k:02d}-{name}.mp4", quality, fast,
                                                   shared)
            for k, (ch, name, cls) in enumerate(jobs):
                if bar:
                    bar(k, f"{ch.key}: {name} ({spoken})")
                if cls in rendered:  # a scene played twice (the overview) is rendered once
                    video, subs, beats = rendered[cls]
                elif pool is not None:
                    video, subs, beats = futures[cls].result()
                    rendered[cls] = (video, subs, beats)
                else:
                    r = render_part(cls, tmp / f"{k:02d}-{name}.mp4", quality, fast=fast,
                                    **settings)
                    video, subs, beats = r.video, r.subtitles, r.beats
                    rendered[cls] = (video, subs, beats)
                d = video_duration(video)
                parts.append(Part(ch.key, name, video, subs, start=t, duration=d, beats=beats))
                t += d
        except BaseException:
            if pool is not None:
                pool.stop()  # Ctrl-C, SIGTERM, an error: queued parts are not waited for
            raise
        if pool is not None:
            pool.close()
        if bar:
            bar(len(jobs), "joining")
        marks = []
        for ch, _ in planned:
            ps = [p for p in parts if p.chapter == ch.key]
            marks.append((ch.title.get(lang) or ch.title["en"], ps[0].start,
                          ps[-1].start + ps[-1].duration))
        has_audio = voice != "none" and spoken != "none"
        tmp_video = tmp / "lecture.mp4"
        title = TITLES.get(lang, TITLES["en"])
        remuxed = join_parts(parts, tmp_video, marks, audio=has_audio, title=title)
        atomic_write(out.with_suffix(".srt"), join_subtitles(parts))
        w.written.append(out.with_suffix(".srt"))  # a video that fails to land takes it along
        os.replace(tmp_video, out)  # the video last: it marks a finished lecture
        w.ok = True
        if bar:
            bar(len(jobs) + 1, f"wrote {out}")
        return LectureResult(out, out.with_suffix(".srt"), marks, parts, skipped, duration=t,
                             has_audio=has_audio, remuxed=remuxed,
                             seconds=time.perf_counter() - t_start)
