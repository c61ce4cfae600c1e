"""The ``cnnanim slides`` command: the lecture as a deck, one slide per narration beat."""

from __future__ import annotations

import click

from cnnanim.cli.app import main
from cnnanim.cli.options import fast_option, jobs_option, lecture_options


@main.command("slides")
@lecture_options
@click.option("--output", "-o", type=click.Path(), default=None,
              help="The deck: OUT.html (offline, clips in OUT_files/ beside it), OUT.pptx, or a "
                   "folder (a manim-slides presentation); default media/slides-LANG-QUALITY.html.")
@fast_option
@jobs_option
def slides_command(lang: str, quality: str, image: str | None, weights: str | None, voice: str,
                   output: str | None, fast: bool, jobs: int | None) -> None:
    """Render the lecture once and write it as slides for live teaching.

    Every narration beat of every chapter (title cards included) is one slide: it plays its
    animation (narrated unless --voice none) and stops on its last frame until you go on. The
    beat's narration is the slide's speaker notes; chapters are sections. The kind of deck
    follows OUT: .html (keys: arrows, S speaker view, N notes, M chapters, ? help), .pptx, or a
    folder for 'manim-slides present'. Progress goes to stderr; the files written are printed
    on stdout.

    \b
    Example:
      cnnanim slides -o lecture.html && xdg-open lecture.html
      cnnanim slides --lang zh -q m -o lecture-zh.pptx
      cnnanim slides --voice none -o deck && manim-slides present --folder deck CnnLecture
    """
    from cnnanim.output.slides import make_slides

    r = make_slides(lang=lang, quality=quality, image=image, weights=weights, voice=voice,
                    output=output, fast=fast, jobs=jobs)
    for p in r.files:
        click.echo(str(p))
    click.echo(f"{len(r.slides)} slides in {len(r.chapters)} chapters, "
               f"{'narrated' if r.has_audio else 'silent'}, "
               f"{'cut without re-encoding' if r.copied else 're-encoded'}, "
               f"made in {r.seconds:.0f} s", err=True)
