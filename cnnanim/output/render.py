"""Rendering scenes to files: settings in, finished files out (never half-written ones).

Each render runs in a private temporary folder (``.cnnanim-render-*``) beside the output with
Manim's cache off; the finished files are moved into place only when the render succeeded, and
folders the render had to create are removed again when it failed.

Formats: ``mp4`` (video plus an ``.srt`` of the same name; optionally the last frame as PNG from
the same render), ``png`` (the last frame) and ``gif`` (frames straight from the renderer, see
:mod:`cnnanim.output.gif`).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from cnnanim.errors import CnnanimError, UnknownNameError
from cnnanim.files import (
    atomic_write,
    check_output_file,
    media_dir,
    scratch_dir,
    shareable_settings,
    temp_folder,
    write_error,
)
from cnnanim.speech.narration import check_lang

#: ``-q`` letters -> Manim quality names.
QUALITIES = {"l": "low_quality", "m": "medium_quality", "h": "high_quality",
             "p": "production_quality", "k": "fourk_quality"}
#: Frame width of each quality (Manim's presets).
QUALITY_WIDTHS = {"l": 854, "m": 1280, "h": 1920, "p": 2560, "k": 3840}
#: Frames per second of each quality (Manim's presets).
QUALITY_FPS = {"l": 15, "m": 30, "h": 60, "p": 60, "k": 60}
FORMATS = ("mp4", "png", "gif")
#: Suffixes of media files: an output named so must match its format (never ``x.avi.gif``).
MEDIA_SUFFIXES = frozenset({".mp4", ".png", ".gif", ".webp", ".webm", ".avi", ".mov", ".mkv",
                            ".jpg", ".jpeg", ".srt", ".html", ".pptx"})


@dataclass
class RenderResult:
    """What one render wrote.

    Attributes
    ----------
    scene : str
        Scene name.
    path : Path
        The main output (video, still or GIF).
    subtitles : Path or None
        The ``.srt`` beside a video.
    extra : list of Path
        Other files written (e.g. a preview still).
    seconds : float
        Wall-clock time of the render.
    frames : int or None
        Frames in a GIF.
    """

    scene: str
    path: Path
    subtitles: Path | None = None
    extra: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    frames: int | None = None

    @property
    def paths(self) -> list[Path]:
        """Every file written, main output first."""
        return [self.path] + ([self.subtitles] if self.subtitles else []) + list(self.extra)

    @property
    def size(self) -> int:
        """Bytes of the main output."""
        return self.path.stat().st_size


def configure_scene(cls: type, **settings) -> type:
    """A subclass of scene ``cls`` whose settings (image, weights, layer, neuron, lang) are fixed."""
    attrs = {k: (str(v) if k in ("image", "weights") else v)
             for k, v in settings.items() if v is not None}
    return type(cls.__name__, (cls,), attrs)


def default_output(name: str, fmt: str, quality: str, lang: str) -> Path:
    """``media/<scene>-<lang>-<quality>.<ext>``."""
    return media_dir() / f"{name}-{lang}-{quality}.{fmt}"


def check_quality(quality: str) -> str:
    if quality not in QUALITIES:
        raise UnknownNameError("quality", quality, list(QUALITIES))
    return quality


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UnknownNameError("format", fmt, FORMATS)
    return fmt


def gif_quality(width: int) -> str:
    """The fastest quality whose frames are at least ``width`` pixels wide (no upscaling)."""
    for q in ("l", "m", "h", "k"):
        if QUALITY_WIDTHS[q] >= width:
            return q
    return "k"


def resolve_output(name: str, fmt: str, quality: str, lang: str,
                   output: str | os.PathLike | None = None, folder: bool = False) -> Path:
    """The file a render writes.

    ``output`` None: :func:`default_output`. An existing folder, a path ending in ``/`` or
    ``folder=True``: the default file name inside that folder. Otherwise ``output`` with the
    format's suffix.
    """
    if output is None:
        return default_output(name, fmt, quality, lang)
    out = Path(output)
    if folder or out.is_dir() or str(output).endswith(os.sep):
        return out / default_output(name, fmt, quality, lang).name
    check_output_file(out)  # -o /dev/null: refused, never /dev/null.mp4 beside it
    suffix = out.suffix.lower()
    if suffix in MEDIA_SUFFIXES and suffix != f".{fmt}":  # gif -o g.avi: never g.avi.gif
        raise CnnanimError(f"output {output} does not match the format {fmt}; "
                           f"use a .{fmt} name or a folder"
                           + (" (figures: .webp, .mp4 or .webm too)" if fmt == "gif" else ""))
    if suffix != f".{fmt}":
        out = out.with_suffix(f".{fmt}") if suffix == "" else out.with_name(out.name + f".{fmt}")
    return out


def _make_folder(folder: Path) -> list[Path]:
    """Create ``folder`` (and parents); returns the folders created, deepest first."""
    missing = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        _remove_empty(missing)
        raise CnnanimError(f"cannot create output folder {folder}: {e.strerror or e}") from None
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for p in folders:  # deepest first
        try:
            p.rmdir()
        except OSError:
            break


def _move(src: Path, dest: Path, moved: list[Path]) -> None:
    os.replace(src, dest)
    moved.append(dest)


class Writing:
    """What an output being written has made so far (see :func:`writing`).

    Attributes
    ----------
    tmp : Path or None
        Its private temporary folder, always removed at the end.
    written : list of Path
        Files already moved into place, removed again unless ``ok`` is set.
    ok : bool
        Set when the output is finished.
    """

    def __init__(self) -> None:
        self.tmp: Path | None = None
        self.written: list[Path] = []
        self.ok = False


@contextmanager
def writing(out: Path, created: list[Path]) -> Iterator[Writing]:
    """Write ``out`` all or nothing, in the block this opens.

    An OS error of writing becomes a one-line ``cannot write`` error naming ``out`` (see
    :func:`~cnnanim.files.write_error`); the temporary folder always goes; unless the block
    set ``ok``, the files it wrote and the folders ``created`` for them go too.
    """
    w = Writing()
    try:
        yield w
    except Exception as e:  # e.g. a disk that filled up under the encoder: name the file
        error = write_error(e, out, w.tmp)
        if error is not None:
            raise error from None
        raise
    finally:
        if w.tmp is not None:
            shutil.rmtree(w.tmp, ignore_errors=True)
        if not w.ok:
            for p in w.written:
                p.unlink(missing_ok=True)
            _remove_empty(created)


def _check_writable(path: Path, fmt: str) -> None:
    """Refuse a folder or a device as the output (and as the ``.srt`` beside a video)."""
    check_output_file(path)
    if fmt == "mp4":
        check_output_file(path.with_suffix(".srt"))


def validate_settings(cls: type, **settings) -> None:
    """Check image, weights, layer and neuron before rendering (clear one-line errors)."""
    from cnnanim.network.trace_cache import get_trace

    trace = get_trace(settings.get("image"), settings.get("weights"))
    layer = settings.get("layer")
    if layer is not None:
        valid = [n for n in trace.stage_names() if trace[n].kind in cls.valid_layer_kinds]
        if layer not in valid:
            raise UnknownNameError("layer", layer, valid)
    neuron = settings.get("neuron")
    if neuron is not None:
        try:
            neuron = int(neuron)
        except (TypeError, ValueError):
            raise CnnanimError(f"neuron must be a whole number, got {neuron!r}") from None
        st = trace[layer or cls.default_layer]
        n_out = st.output.shape[0] if st.output.ndim == 3 else len(st.output)
        if not 0 <= neuron < n_out:
            raise CnnanimError(f"neuron must be between 0 and {n_out - 1} for {st.name}, got {neuron}")


def check_render(name: str, *, quality: str = "l", fmt: str = "mp4", image=None, weights=None,
                 layer: str | None = None, neuron: int | None = None, lang: str = "en") -> type:
    """Validate one render's settings without rendering; returns the scene class."""
    from cnnanim.scenes.registry import get_scene

    cls = get_scene(name)
    check_quality(quality)
    check_format(fmt)
    check_lang(lang)
    validate_settings(cls, image=image, weights=weights, layer=layer, neuron=neuron, lang=lang)
    return cls


def save_png(pixels, path: Path) -> Path:
    """Save an RGB(A) frame as an opaque PNG, atomically."""
    import numpy as np
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(np.asarray(pixels)[..., :3]), "RGB")
    return atomic_write(path, lambda f: img.save(f, format="PNG"))


def render_scene(name: str, *, quality: str = "l", fmt: str = "mp4", image=None, weights=None,
                 layer: str | None = None, neuron: int | None = None, lang: str = "en",
                 output: str | os.PathLike | None = None, still: bool = False,
                 gif_width: int | None = None, gif_fps: float | None = None,
                 dither: bool = False, fast: bool = False, fps: float | None = None,
                 part=None, **scene_settings) -> RenderResult:
    """Render scene ``name`` and return the files written.

    Parameters
    ----------
    name : str
        Scene name (see ``cnnanim list``).
    quality : str
        ``l``, ``m``, ``h``, ``p`` or ``k``.
    fmt : str
        ``mp4`` (video plus ``.srt``), ``png`` (last frame) or ``gif`` (silent looping GIF).
    image, weights, layer, neuron, lang
        Scene settings (None: the scene's defaults).
    output : path, optional
        Output file, or a folder for the default file name
        (default ``media/<scene>-<lang>-<quality>.<fmt>``).
    still : bool
        With ``mp4``: also save the final frame as a PNG of the same name (same render).
    gif_width, gif_fps : optional
        GIF width in pixels (default 480) and frames per second (default 10).
    dither : bool
        Floyd-Steinberg dithering for the GIF (off by default: flat colours stay flat).
    fast : bool
        Encode the video with x264's ``ultrafast`` preset: bigger file, less encoding time
        (default: Manim's usual settings).
    fps : float, optional
        Frames per second of the render (default: the quality's own, 15 for ``l``; a GIF is
        rendered at its own frame rate when that is lower, so no frame is drawn in vain).
    part : optional
        With ``gif``: render a part of the scene as a figure (see
        :class:`cnnanim.output.figures.FigurePart`): ``part.scene_class(cls)`` makes the scene
        class, ``part.writer_class(fps, width, src_fps)`` the frame writer, and
        ``part.finish(scene, out)`` writes the files (main output first); ``output`` is then
        the exact path.
    **scene_settings
        Further class attributes for the scene (e.g. hyper-parameters).
    """
    from manim import config, tempconfig

    from cnnanim.output import gif as gifmod

    t_start = time.perf_counter()
    cls = check_render(name, quality=quality, fmt=fmt, image=image, weights=weights, layer=layer,
                       neuron=neuron, lang=lang)
    if fmt == "gif":
        gif_width = int(gif_width or gifmod.DEFAULT_WIDTH)
        gif_fps = float(gif_fps or gifmod.DEFAULT_FPS)
        if not 16 <= gif_width <= 3840:
            raise CnnanimError(f"GIF width must be between 16 and 3840 pixels, got {gif_width}")
        if not 1 <= gif_fps <= gifmod.MAX_FPS:
            raise CnnanimError(f"GIF fps must be between 1 and {gifmod.MAX_FPS}, got {gif_fps:g}")
    if fps is not None and not 1 <= fps <= 120:
        raise CnnanimError(f"fps must be between 1 and 120, got {fps:g}")
    out = Path(output) if part is not None else resolve_output(name, fmt, quality, lang, output)
    _check_writable(out, fmt)
    if still:
        check_output_file(out.with_suffix(".png"))
    settings = dict(image=image, weights=weights, layer=layer, neuron=neuron, lang=lang)
    if fmt != "mp4":  # stills and GIFs are silent: never synthesise a voice for them
        scene_settings["voice"] = "none"
    scene_cls = configure_scene(cls, **settings, **scene_settings)
    if part is not None:
        scene_cls = part.scene_class(scene_cls)

    created = _make_folder(out.parent)
    with writing(out, created) as w:
        try:
            w.tmp = tmp = temp_folder(".cnnanim-render-", out.parent)
        except OSError as e:
            raise CnnanimError(f"cannot write to output folder {out.parent}: "
                               f"{e.strerror or e}") from None
        manim_format = {"mp4": "mp4", "png": "png", "gif": "png-sequence"}[fmt]
        cfg = {"quality": QUALITIES[quality], "media_dir": str(tmp), "disable_caching": True,
               "text_dir": str(scratch_dir("texts")),  # Pango's SVGs: not on the output's disk
               "progress_bar": "none", "verbosity": "CRITICAL", "output_file": out.stem,
               "preview": False, "format": manim_format,
               "write_to_movie": fmt == "mp4", "save_last_frame": fmt == "png"}
        if fast:
            cfg["video_encoder_options"] = fast_encoder_options()
        if fps is None and fmt == "gif" and gif_fps < QUALITY_FPS[quality]:
            fps = gif_fps
        if fps is not None:
            cfg["frame_rate"] = float(fps)
        for logger in ("manim", "av", "libav"):  # e.g. PyAV's "Some options were not used"
            logging.getLogger(logger).setLevel(logging.ERROR)
        with tempconfig(cfg):
            scene = scene_cls()
            if fmt == "gif":
                make = part.writer_class if part is not None else gifmod.gif_writer_class
                writer = make(gif_fps, gif_width, config.frame_rate)
                scene.renderer.file_writer = writer(scene.file_writer_settings)
            scene.render()
            last = None
            if fmt == "mp4" and still:
                # the final state, as `--format png` draws it: one more frame, no second render
                scene.renderer.static_image = None
                scene.renderer.update_frame(scene)
                last = scene.renderer.get_frame()

        result = RenderResult(name, out)
        if part is not None:
            written = part.finish(scene, out)
            w.written += written
            result.extra = written[1:]
        elif fmt == "gif":
            frames = scene.renderer.file_writer.sampler.result()
            gifmod.encode_gif(frames, out, dither=dither)
            w.written.append(out)
            result.frames = gifmod.count_frames(out)
        else:
            produced = sorted(p for p in tmp.rglob(f"*.{fmt}")
                              if "partial_movie_files" not in p.parts)
            if not produced:
                raise CnnanimError(f"rendering {name} produced no .{fmt} file")
            main = produced[0]
            if fmt == "mp4":
                srt = main.with_suffix(".srt")
                if not srt.exists():  # a scene without narration still gets an (empty) .srt
                    srt.write_bytes(b"")
                png = None
                if last is not None:
                    png = save_png(last, tmp / f"{out.stem}.last.png")
                # move everything at the end, the video last: it marks a finished render
                dest = out.with_suffix(".srt")
                _move(srt, dest, w.written)
                result.subtitles = dest
                if png is not None:
                    _move(png, out.with_suffix(".png"), w.written)
                    result.extra.append(out.with_suffix(".png"))
            _move(main, out, w.written)
        result.scene_object = scene  # type: ignore[attr-defined]
        result.seconds = time.perf_counter() - t_start
        w.ok = True
        return result


#: x264 preset of ``--fast`` renders (bigger files, much less encoding time).
FAST_PRESET = "ultrafast"


def fast_encoder_options() -> dict:
    """Manim's video encoder options with the fast x264 preset."""
    from manim import config

    return {**config.video_encoder_options, "preset": FAST_PRESET}


def pick_format(fmt: str | None, output: str | os.PathLike | None) -> str:
    """The format to write: ``fmt``, else the suffix of ``output`` (.mp4/.png/.gif), else mp4."""
    suffix = Path(output).suffix.lower().lstrip(".") if output is not None else ""
    if fmt is None:
        return suffix if suffix in FORMATS else "mp4"
    check_format(fmt)
    if suffix in FORMATS and suffix != fmt and not str(output).endswith(os.sep):
        raise CnnanimError(f"output {output} does not match --format {fmt}; "
                           f"use a .{fmt} name or a folder"
                           + (" (figures: .webp, .mp4 or .webm too)" if fmt == "gif" else ""))
    return fmt


def scene_names(names) -> list[str]:
    """Scene names in order without repeats; ``all`` stands for every scene."""
    from cnnanim.scenes.registry import all_scenes, get_scene

    out: list[str] = []
    for n in names:
        for m in (list(all_scenes()) if n == "all" else [n]):
            get_scene(m)  # unknown names fail before anything renders
            if m not in out:
                out.append(m)
    if not out:
        raise CnnanimError("no scene given; see `cnnanim list`")
    return out


def check_output_folder(folder: Path) -> list[Path]:
    """Fail early (one line) if files cannot be created in ``folder``; leaves nothing behind.

    Returns the folders it had to create (deepest first), for removal if the renders fail.
    """
    created = _make_folder(folder)
    try:
        fd, probe = tempfile.mkstemp(prefix=".cnnanim-probe-", dir=folder)
    except OSError as e:
        _remove_empty(created)
        raise CnnanimError(f"cannot write to output folder {folder}: {e.strerror or e}") from None
    os.close(fd)
    os.unlink(probe)
    return created


def default_jobs() -> int:
    """Processes for multi-scene renders: ``$CNNANIM_JOBS``, else one per CPU core (at most 2)."""
    env = os.environ.get("CNNANIM_JOBS")
    if env:
        try:
            jobs = int(env)
        except ValueError:
            jobs = 0
        if jobs < 1:  # as -j 0 is refused
            raise CnnanimError(f"CNNANIM_JOBS must be a whole number of at least 1, got {env!r}")
        return jobs
    return max(1, min(2, os.cpu_count() or 1))


def importable(cls: type) -> bool:
    """Whether a fresh process finds scene class ``cls`` by its module and name."""
    import importlib
    import sys

    module = sys.modules.get(cls.__module__)
    if module is None or "<locals>" in cls.__qualname__:
        return False
    try:
        return getattr(importlib.import_module(cls.__module__), cls.__qualname__, None) is cls
    except Exception:
        return False


def _render_in_worker(name: str, options: dict) -> RenderResult:
    """render_scene in a worker process; the scene object stays behind (not picklable)."""
    r = render_scene(name, **options)
    r.__dict__.pop("scene_object", None)
    return r


def _render_parallel(names, outs, jobs: int, progress, **options) -> list[RenderResult]:
    """One scene per process, ``jobs`` at a time; results in the order of ``names``.

    On an error, Ctrl-C, SIGTERM or SIGHUP the workers stop at once (see
    :class:`cnnanim.output.workers.WorkerPool`), each removing its temporary folder.
    """
    from cnnanim.output.workers import WorkerPool

    results: dict[str, RenderResult] = {}
    with WorkerPool(jobs) as pool:
        futures = {}
        for i, n in enumerate(names):
            futures[n] = pool.submit(_render_in_worker, n, dict(options, output=outs[n]))
        for i, n in enumerate(names):
            if progress:
                progress(i, len(names), n)
            results[n] = futures[n].result()
            if progress:
                progress(i, len(names), n, results[n])
    return [results[n] for n in names]


def render_scenes(names, *, fmt: str | None = None, output: str | os.PathLike | None = None,
                  quality: str = "l", lang: str = "en", progress=None, jobs: int | None = 1,
                  **options) -> list[RenderResult]:
    """Render several scenes with the same settings; all are validated before the first renders.

    With more than one scene ``output`` is a folder. ``progress`` (optional) is called as
    ``progress(index, total, name)`` before each render and ``progress(index, total, name,
    result)`` after it. ``jobs`` > 1 renders that many scenes at once, one per process (None:
    :func:`default_jobs`); the results come back in order, without ``scene_object``. Other
    ``options`` go to :func:`render_scene`.
    """
    names = scene_names(names)
    fmt = pick_format(fmt, output if len(names) == 1 else None)
    outs = {}
    for n in names:
        check_render(n, quality=quality, fmt=fmt, lang=lang,
                     **{k: options.get(k) for k in ("image", "weights", "layer", "neuron")})
        outs[n] = resolve_output(n, fmt, quality, lang, output, folder=len(names) > 1)
        _check_writable(outs[n], fmt)
    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    created: list[Path] = []
    try:
        for folder in sorted({o.parent for o in outs.values()}):
            created += check_output_folder(folder)
        from cnnanim.scenes.registry import get_scene

        if jobs > 1 and len(names) > 1 and all(importable(get_scene(n)) for n in names):
            return _render_parallel(names, outs, min(jobs, len(names)), progress, fmt=fmt,
                                    quality=quality, lang=lang, **shareable_settings(options))
        results = []
        for i, n in enumerate(names):
            if progress:
                progress(i, len(names), n)
            r = render_scene(n, fmt=fmt, output=outs[n], quality=quality, lang=lang, **options)
            results.append(r)
            if progress:
                progress(i, len(names), n, r)
        return results
    except BaseException:
        _remove_empty(created)  # only folders still empty: finished renders stay
        raise
