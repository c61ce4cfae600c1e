"""Render commands of the ``cnnanim`` CLI (list, render, preview, gif).

The command bodies are thin: the work is in :mod:`cnnanim.output.render` and :mod:`cnnanim.output.gif`.
stdout lists the files written (one per line); progress and sizes go to stderr.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import click

from cnnanim.cli.app import main
from cnnanim.cli.figures import fps_option, part_options
from cnnanim.cli.options import (
    OneLineCommand,
    fast_option,
    hyper_options,
    jobs_option,
    quality_option,
    scene_options,
    voice_option,
)


def _echo_paths(results) -> None:
    for r in results:
        for p in r.paths:
            click.echo(str(p))


@main.command("list")
def list_scenes() -> None:
    """List the scenes, one per line: name, then what it shows.

    \b
    Example:
      cnnanim list
    """
    from cnnanim.scenes.registry import all_scenes

    scenes = all_scenes()
    width = max((len(n) for n in scenes), default=0)
    for name, cls in scenes.items():
        click.echo(f"{name:<{width}}  {cls.description}")


@main.command("render", cls=OneLineCommand)
@click.argument("scenes", nargs=-1, required=True, metavar="SCENE...")
@quality_option
@click.option("--format", "-f", "fmt", type=click.Choice(["mp4", "gif", "png"]), default=None,
              help="mp4: video + .srt subtitles; gif: silent looping GIF; png: last frame "
                   "(default: from -o's suffix, else mp4).")
@scene_options
@voice_option
@hyper_options
@click.option("--output", "-o", type=click.Path(), default=None,
              help="Output file; a folder with several scenes (default: media/).")
@fast_option
@jobs_option
def render_command(scenes, quality, fmt, image, weights, layer, neuron, lang, voice,
                   output, fast, jobs, **hyper) -> None:
    """Render SCENE... (names from `cnnanim list`, or `all`) and print the files written.

    Videos get an .srt of the same name beside them. Files go to media/ unless -o says
    otherwise; nothing is left half-written when a render fails.

    \b
    Example:
      cnnanim render input -q l
      cnnanim render input relu --lang zh -o out/
      cnnanim render input --format gif -o input.gif
      cnnanim render stride --input-size 7 --kernel 3 --padding 0 --stride 3
      cnnanim render all -q h --fast -j 2
    """
    from cnnanim.output.progress import Progress
    from cnnanim.output.render import render_scenes

    hyper = {k: v for k, v in hyper.items() if v is not None}
    results = render_scenes(scenes, fmt=fmt, output=output, quality=quality, lang=lang,
                            image=image, weights=weights, layer=layer, neuron=neuron,
                            voice=voice, progress=Progress(quiet_single=True).scene, fast=fast, jobs=jobs,
                            **hyper)
    _echo_paths(results)
    for r in results:
        if r.frames is not None:
            _report_gif(r)


def _report_gif(r) -> None:
    from PIL import Image

    from cnnanim.output.gif import format_size

    with Image.open(r.path) as im:
        w, h = im.size
    click.echo(f"{r.path.name}: {format_size(r.size)}, {r.frames} frames, {w}x{h}, "
               f"rendered in {r.seconds:.1f} s", err=True)


def open_viewer(path) -> bool:
    """Open ``path`` in the desktop's viewer, without waiting; only on a terminal with a display.

    Returns whether a viewer was started. Never blocks and never fails.
    """
    if not sys.stdout.isatty():
        return False
    if sys.platform == "darwin":
        cmd = shutil.which("open")
    elif os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        cmd = shutil.which("xdg-open")
    else:
        cmd = None
    if not cmd:
        return False
    try:
        subprocess.Popen([cmd, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        return False
    return True


@main.command("preview", cls=OneLineCommand)
@click.argument("scene")
@quality_option
@scene_options
@voice_option
@click.option("--output", "-o", type=click.Path(), default=None,
              help="Video file (the .png and .srt go beside it; default: media/).")
@hyper_options
@click.option("--open/--no-open", "open_", default=True, show_default=True,
              help="Open the video when on a terminal with a display and a viewer.")
@click.option("--fast/--no-fast", default=True, show_default=True,
              help="Encode with x264's ultrafast preset (a quick look; bigger file).")
@click.option("--fps", type=click.IntRange(1, 120), default=10, show_default=True,
              help="Frames per second (fewer frames: a quicker look).")
def preview_command(scene, quality, image, weights, layer, neuron, lang, voice, output,
                    open_, fast, fps, **hyper) -> None:
    """Quick look at SCENE: a fast mp4 at 10 fps plus its final frame as PNG, one render.

    Prints the video, its subtitles and the still. Opens the video only when a viewer
    (xdg-open/open) and a display exist and stdout is a terminal.

    \b
    Example:
      cnnanim preview input --image my_photo.jpg
    """
    from cnnanim.output.render import render_scene

    if output is not None and os.path.splitext(str(output))[1].lower() not in ("", ".mp4") \
            and not os.path.isdir(output):
        raise click.ClickException(f"preview writes an .mp4 (and a .png beside it), got {output}")
    r = render_scene(scene, quality=quality, fmt="mp4", image=image, weights=weights,
                     layer=layer, neuron=neuron, lang=lang, output=output, still=True,
                     voice=voice, fast=fast, fps=fps,
                     **{k: v for k, v in hyper.items() if v is not None})
    _echo_paths([r])
    if open_:
        open_viewer(r.path)


@main.command("gif", cls=OneLineCommand)
@click.argument("scene")
@click.option("--width", type=click.IntRange(16, 3840), default=None,
              help="Width in pixels (default: 480 for a whole scene; for a part, so that the "
                   "smallest number is 10 px tall).")
@fps_option()
@click.option("--dither/--no-dither", default=False, show_default=True,
              help="Floyd-Steinberg dithering (bigger file; flat colours get noisy).")
@part_options
@scene_options
@hyper_options
@click.option("--output", "-o", type=click.Path(), default=None,
              help="File (.gif, .webp, .mp4 or .webm) or folder (default: media/).")
def gif_command(scene, width, fps, dither, beats, start, end, crop, captions, once, image,
                weights, layer, neuron, lang, output, **hyper) -> None:
    """A small silent looping GIF of SCENE, or a figure: one part of it, cropped and legible.

    Frames come straight from the renderer (not from the lossy MP4), are resized with
    LANCZOS and share one palette. With --beat (or --from/--to) only that part is rendered,
    cropped to what it draws, without captions, wide enough for 10 px numbers; it loops back
    to its first frame without a jump. A figure also gets NAME.alt.txt and prints Markdown
    and HTML that embed it. The format follows -o's extension. Sizes go to stderr.

    \b
    Example:
      cnnanim gif input --width 480 --fps 10 -o input.gif
      cnnanim gif conv-slide --beat sweep -o sliding.webp
      cnnanim gif relu --from 3 --to 9 --crop none -o relu.mp4
    """
    from cnnanim.cli.figures import run_figure, wants_figure
    from cnnanim.output.render import gif_quality, render_scene

    hyper = {k: v for k, v in hyper.items() if v is not None}
    if wants_figure(output, beats, start, end, crop, captions, once):
        run_figure(scene, beats=beats, start=start, end=end, crop=crop, captions=captions,
                   width=width, fps=fps, once=once, dither=dither, output=output, image=image,
                   weights=weights, layer=layer, neuron=neuron, lang=lang, **hyper)
        return
    width = width or 480
    r = render_scene(scene, quality=gif_quality(width), fmt="gif", image=image, weights=weights,
                     layer=layer, neuron=neuron, lang=lang, output=output, gif_width=width,
                     gif_fps=fps, dither=dither, **hyper)
    click.echo(str(r.path))
    _report_gif(r)
