"""Rendering scenes to files: settings in, finished files out (never half-written ones).

Each render runs in a private temporary folder beside the output with Manim's cache off; the
finished files are moved into place only when the render succeeded.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cnnanim.errors import CnnanimError
from cnnanim.narration import check_lang
from cnnanim.paths import media_dir

#: ``-q`` letters -> Manim quality names.
QUALITIES = {"l": "low_quality", "m": "medium_quality", "h": "high_quality",
             "p": "production_quality", "k": "fourk_quality"}
FORMATS = ("mp4", "png", "gif")


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
    """

    scene: str
    path: Path
    subtitles: Path | None = None
    extra: list[Path] = field(default_factory=list)

    @property
    def paths(self) -> list[Path]:
        """Every file written, main output first."""
        return [self.path] + ([self.subtitles] if self.subtitles else []) + list(self.extra)


def configure_scene(cls: type, **settings) -> type:
    """A subclass of scene ``cls`` whose settings (image, weights, layer, neuron, lang) are fixed."""
    attrs = {k: (str(v) if k in ("image", "weights") else v)
             for k, v in settings.items() if v is not None}
    return type(cls.__name__, (cls,), attrs)


def default_output(name: str, fmt: str, quality: str, lang: str) -> Path:
    """``media/<scene>-<lang>-<quality>.<ext>``."""
    return media_dir() / f"{name}-{lang}-{quality}.{fmt}"


def _check_writable(path: Path) -> None:
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CnnanimError(f"cannot create output folder {parent}: {e.strerror or e}") from None
    if path.is_dir():
        raise CnnanimError(f"output {path} is a folder")
    if not os.access(parent, os.W_OK):
        raise CnnanimError(f"output folder {parent} is not writable")


def validate_settings(cls: type, **settings) -> None:
    """Check image, weights, layer and neuron before rendering (clear one-line errors)."""
    from cnnanim.scene import get_trace

    trace = get_trace(settings.get("image"), settings.get("weights"))
    layer = settings.get("layer")
    if layer is not None:
        valid = [n for n in trace.stage_names() if trace[n].kind in cls.valid_layer_kinds]
        if layer not in valid:
            from cnnanim.errors import UnknownNameError

            raise UnknownNameError("layer", layer, valid)
    neuron = settings.get("neuron")
    if neuron is not None:
        st = trace[layer or cls.default_layer]
        n_out = st.output.shape[0] if st.output.ndim == 3 else len(st.output)
        if not 0 <= int(neuron) < n_out:
            raise CnnanimError(f"neuron must be between 0 and {n_out - 1} for {st.name}, got {neuron}")


def render_scene(name: str, *, quality: str = "l", fmt: str = "mp4", image=None, weights=None,
                 layer: str | None = None, neuron: int | None = None, lang: str = "en",
                 output: str | os.PathLike | None = None, **scene_settings) -> RenderResult:
    """Render scene ``name`` and return the files written.

    Parameters
    ----------
    name : str
        Scene name (see ``cnnanim list``).
    quality : str
        ``l``, ``m``, ``h``, ``p`` or ``k``.
    fmt : str
        ``mp4`` (video plus ``.srt``) or ``png`` (last frame).
    image, weights, layer, neuron, lang
        Scene settings (None: the scene's defaults).
    output : path, optional
        Output file (default ``media/<scene>-<lang>-<quality>.<fmt>``).
    **scene_settings
        Further class attributes for the scene (e.g. hyper-parameters).
    """
    from manim import tempconfig

    from cnnanim.registry import get_scene

    cls = get_scene(name)
    if quality not in QUALITIES:
        raise CnnanimError(f"unknown quality {quality!r}; valid: {', '.join(QUALITIES)}")
    if fmt not in ("mp4", "png"):
        raise CnnanimError(f"unknown format {fmt!r}; valid: mp4, png (use 'cnnanim gif' for GIFs)")
    check_lang(lang)
    out = Path(output) if output else default_output(name, fmt, quality, lang)
    if out.suffix.lower() != f".{fmt}":
        out = out.with_suffix(f".{fmt}")
    _check_writable(out)
    settings = dict(image=image, weights=weights, layer=layer, neuron=neuron, lang=lang)
    validate_settings(cls, **settings)
    scene_cls = configure_scene(cls, **settings, **scene_settings)

    tmp = Path(tempfile.mkdtemp(prefix=".cnnanim-render-", dir=out.parent))
    try:
        cfg = {"quality": QUALITIES[quality], "media_dir": str(tmp), "disable_caching": True,
               "progress_bar": "none", "verbosity": "ERROR", "output_file": out.stem,
               "preview": False, "format": "png" if fmt == "png" else "mp4",
               "write_to_movie": fmt != "png", "save_last_frame": fmt == "png"}
        logging.getLogger("manim").setLevel(logging.ERROR)
        with tempconfig(cfg):
            scene = scene_cls()
            scene.render()
        produced = sorted(p for p in tmp.rglob(f"*.{fmt}") if "partial_movie_files" not in p.parts)
        if not produced:
            raise CnnanimError(f"rendering {name} produced no .{fmt} file")
        main = produced[0]
        os.replace(main, out)
        result = RenderResult(name, out)
        srt = main.with_suffix(".srt")
        if fmt == "mp4":
            dest = out.with_suffix(".srt")
            if srt.exists():
                os.replace(srt, dest)
            else:  # a scene without narration still gets an (empty) subtitle file
                from cnnanim.weights import atomic_write_bytes

                atomic_write_bytes(dest, b"")
            result.subtitles = dest
        result.scene_object = scene  # type: ignore[attr-defined]
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
