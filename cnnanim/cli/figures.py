"""Article figure commands of the ``cnnanim`` CLI: ``beats``, ``figures``, and ``gif``'s part options.

The work is in :mod:`cnnanim.output.figures`. stdout gets the files written and the snippets that
embed them; sizes and warnings go to stderr.
"""

from __future__ import annotations

import click

from cnnanim.cli.app import main
from cnnanim.cli.options import (
    OneLineCommand,
    hyper_options,
    image_option,
    jobs_option,
    lang_option,
    scene_options,
    weights_option,
)


def fps_option(default: int = 10):
    return click.option("--fps", type=click.IntRange(1, 50), default=default, show_default=True,
                        help="Frames per second.")


def part_options(f):
    """--beat, --from, --to, --crop, --captions/--no-captions, --once (what a figure shows)."""
    f = click.option("--once", is_flag=True, default=False,
                     help="Play once and stop on the last frame (default: loop, holding the last "
                          "frame, then cross-fading back to the first).")(f)
    f = click.option("--captions/--no-captions", default=None,
                     help="Burn in the narration captions (default: only for a whole scene).")(f)
    f = click.option("--crop", type=click.Choice(["auto", "none"]), default=None,
                     help="auto: just what the part draws (no title, no caption band); none: the "
                          "whole frame (default: auto for a part, none for a whole scene).")(f)
    f = click.option("--to", "end", type=click.FloatRange(0, None), default=None,
                     help="End of the part in seconds (see `cnnanim beats`).")(f)
    f = click.option("--from", "start", type=click.FloatRange(0, None), default=None,
                     help="Start of the part in seconds.")(f)
    f = click.option("--beat", "beats", multiple=True, metavar="NAME",
                     help="Render only this narration beat (repeat for several; names from "
                          "`cnnanim beats SCENE`).")(f)
    return f


def echo_figure(r, indent: str = "") -> None:
    """Print a figure's files and snippets (stdout), its size, shape and warnings (stderr)."""
    from cnnanim.output.gif import format_size

    for w in r.warnings:
        click.echo(f"Warning: {w}", err=True)
    click.echo(str(r.path))
    click.echo(str(r.alt_path))
    click.echo(r.markdown)
    if r.html != r.markdown:
        click.echo(r.html)
    px = f", numbers {r.number_px:.1f} px tall" if r.number_px != float("inf") else ""
    click.echo(f"{indent}{r.path.name}: {format_size(r.size)}, {r.width}x{r.height}, "
               f"{r.duration:.1f} s, {r.frames} frames{px}, rendered in {r.seconds:.1f} s",
               err=True)


def wants_figure(output, beats, start, end, crop, captions, once) -> bool:
    """Whether ``cnnanim gif`` makes a figure (a part, a crop, captions chosen, --once, or a
    .webp/.mp4/.webm file) rather than the plain GIF of the whole scene."""
    from pathlib import Path

    from cnnanim.output.figures import SUFFIXES

    suffix = Path(str(output)).suffix.lower() if output is not None else ""
    return bool(beats or once or suffix in SUFFIXES[1:]
                or any(v is not None for v in (start, end, crop, captions)))


def run_figure(scene: str, **options) -> None:
    """``cnnanim gif`` as a figure (see :func:`wants_figure`), with its alt text and snippets."""
    from cnnanim.output.figures import render_figure

    echo_figure(render_figure(scene, **options))


@main.command("beats", cls=OneLineCommand)
@click.argument("scene")
@scene_options
@hyper_options
@fps_option()
def beats_command(scene, image, weights, layer, neuron, lang, fps, **hyper) -> None:
    """List the narration beats of SCENE, one per line: name, duration, sentence.

    The durations add up to the scene's length at --fps; pick a part of the scene for a figure
    with `cnnanim gif SCENE --beat NAME`. The total goes to stderr.

    \b
    Example:
      cnnanim beats conv-slide
      cnnanim beats relu --lang zh
    """
    from cnnanim.output.figures import format_beats, scene_timeline

    tl = scene_timeline(scene, fps=fps, image=image, weights=weights, layer=layer, neuron=neuron,
                        lang=lang, **{k: v for k, v in hyper.items() if v is not None})
    for line in format_beats(tl.spans(), tl.fps):
        click.echo(line)
    click.echo(f"{scene}: {tl.frames / tl.fps:.2f} s in {len(tl.beats)} beats at {fps} fps",
               err=True)


@main.command("figures", cls=OneLineCommand)
@click.option("--output", "-o", "folder", type=click.Path(file_okay=False), required=True,
              help="Folder for the figures, their alt texts and index.md.")
@click.option("--format", "-f", "fmt", type=click.Choice(["gif", "webp", "mp4", "webm"]),
              default="gif", show_default=True, help="Figure format.")
@image_option
@weights_option
@lang_option
@click.option("--only", multiple=True, metavar="NAME",
              help="Render only this figure of the kit (repeat for several).")
@jobs_option
def figures_command(folder, fmt, image, weights, lang, only, jobs) -> None:
    """Render the article figure kit into a folder, with an index.md showing them all.

    One short looping figure per concept (RGB split, one dot product, sliding, padding, stride,
    ReLU, max-pool, flatten, softmax), cropped to what it shows, numbers at least 10 px tall,
    each with NAME.alt.txt; index.md embeds them with their alt texts. Prints the files.

    \b
    Example:
      cnnanim figures -o kit/
      cnnanim figures -o kit-zh/ --lang zh --format webp
    """
    from cnnanim.output.figures import render_kit
    from cnnanim.output.gif import format_size

    kit = render_kit(folder, fmt=fmt, image=image, weights=weights, lang=lang, only=only,
                     jobs=jobs, progress=lambda r: click.echo(
                         f"{r.path.name}: {format_size(r.size)}, {r.width}x{r.height}, "
                         f"{r.duration:.1f} s, numbers {r.number_px:.1f} px", err=True))
    for r in kit.figures:
        click.echo(str(r.path))
        click.echo(str(r.alt_path))
    click.echo(str(kit.index))
    click.echo(f"{len(kit.figures)} figures in {kit.seconds:.0f} s", err=True)
