"""The ``cnnanim lecture`` command: every chapter in one narrated MP4, chapter marks, one .srt."""

from __future__ import annotations

import click

from cnnanim.cli.app import main
from cnnanim.cli.options import fast_option, jobs_option, lecture_options


@main.command("lecture")
@lecture_options
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="MP4 to write (default: media/lecture-LANG-QUALITY.mp4); .srt beside it.")
@click.option("--no-cards", is_flag=True, help="Leave out the chapter title cards.")
@fast_option
@jobs_option
def lecture_command(lang: str, quality: str, image: str | None, weights: str | None, voice: str,
                    output: str | None, no_cards: bool, fast: bool, jobs: int | None) -> None:
    """Render the whole lecture as one narrated MP4 with chapter markers and one .srt.

    Chapters, in order: overview, input, convolution, hyperparameters, ReLU, pooling, flatten,
    softmax, and back to the overview; scenes that do not exist yet are skipped with a warning.
    Progress goes to stderr; the files written are printed on stdout.

    \b
    Example:
      cnnanim lecture --lang zh -q m -o media/lecture-zh.mp4
      cnnanim lecture -q h --fast
    """
    from cnnanim.output.lecture import make_lecture

    r = make_lecture(lang=lang, quality=quality, image=image, weights=weights, voice=voice,
                     output=output, cards=not no_cards, fast=fast, jobs=jobs)
    click.echo(str(r.path))
    click.echo(str(r.subtitles))
    click.echo(f"{r.duration:.1f} s, {len(r.chapters)} chapters, "
               f"{'narrated' if r.has_audio else 'captions only'}, rendered in {r.seconds:.0f} s",
               err=True)
