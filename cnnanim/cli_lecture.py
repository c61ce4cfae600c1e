"""The ``cnnanim lecture`` command: every chapter in one narrated MP4, chapter marks, one .srt."""

from __future__ import annotations

import click

from cnnanim.cli import image_option, main, weights_option
from cnnanim.narration import LANGUAGES
from cnnanim.voice import VOICES

#: Manim quality letters (kept here so the command does not import the renderer to build --help).
QUALITY_LETTERS = ("l", "m", "h", "p", "k")

voice_option = click.option(
    "--voice", type=click.Choice(VOICES), default="auto", show_default=True,
    help="Narration voice: auto (Piper for English if installed, else espeak-ng), espeak, "
         "piper, or none (captions only, no sound).")


@main.command("lecture")
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True,
              help="Language of narration, captions and titles.")
@click.option("--quality", "-q", type=click.Choice(QUALITY_LETTERS), default="l", show_default=True,
              help="l 480p15, m 720p30, h 1080p60, p 1440p60, k 2160p60.")
@image_option
@weights_option
@voice_option
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="MP4 to write (default: media/lecture-LANG-QUALITY.mp4); .srt beside it.")
@click.option("--no-cards", is_flag=True, help="Leave out the chapter title cards.")
@click.option("--fast", is_flag=True, default=False,
              help="Encode with x264's ultrafast preset: faster render, bigger file.")
@click.option("--jobs", "-j", type=click.IntRange(1, None), default=None,
              help="Parts rendered at once, one per process (default: $CNNANIM_JOBS, else one "
                   "per core, at most 2).")
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
    from cnnanim.lecture import make_lecture

    r = make_lecture(lang=lang, quality=quality, image=image, weights=weights, voice=voice,
                     output=output, cards=not no_cards, fast=fast, jobs=jobs)
    click.echo(str(r.path))
    click.echo(str(r.subtitles))
    click.echo(f"{r.duration:.1f} s, {len(r.chapters)} chapters, "
               f"{'narrated' if r.has_audio else 'captions only'}, rendered in {r.seconds:.0f} s",
               err=True)
