"""The ``cnnanim`` command line: thin wrappers around library functions."""

from __future__ import annotations

import json
import os
import sys
import traceback

import click

from cnnanim.errors import CnnanimError


class CnnanimGroup(click.Group):
    """A click group that turns errors into one line on stderr and a non-zero exit."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except CnnanimError as e:
            click.echo(f"Error: {e}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("Error: interrupted", err=True)
            ctx.exit(130)
        except Exception as e:  # never a traceback for users; CNNANIM_DEBUG=1 shows it
            if os.environ.get("CNNANIM_DEBUG"):
                traceback.print_exc()
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            click.echo(f"Error: {type(e).__name__}: {first}".rstrip(": "), err=True)
            ctx.exit(1)


@click.group(cls=CnnanimGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cnnanim")
def main() -> None:
    """Narrated animations of a real, trained TinyVGG (CNN Explainer's ideas, rendered with Manim).

    \b
    Example:
      cnnanim predict                 # classify the bundled coffee photo
    """


image_option = click.option("--image", "-i", "image", type=click.Path(dir_okay=True), default=None,
                            help="Image file (default: the bundled CC0 coffee photo).")
weights_option = click.option("--weights", "-w", "weights", type=click.Path(), default=None,
                              help="Weights file (.safetensors; default: the shipped explainer weights).")


@main.command()
@click.argument("image", required=False, type=click.Path())
@weights_option
@click.option("--top", "-k", default=3, show_default=True, type=click.IntRange(1, None),
              help="How many classes to list.")
@click.option("--json", "as_json", is_flag=True, help="Print logits, probabilities and class names as JSON.")
def predict(image: str | None, weights: str | None, top: int, as_json: bool) -> None:
    """Classify IMAGE (default: the bundled sample photo) with TinyVGG.

    \b
    Example:
      cnnanim predict photo.jpg --top 5
    """
    from cnnanim.trace import trace_image

    t = trace_image(image, weights)
    if as_json:
        click.echo(json.dumps({"class_names": t.class_names,
                               "logits": [float(v) for v in t.logits],
                               "probabilities": [float(v) for v in t.probabilities],
                               "predicted": t.predicted_class}, indent=2))
        return
    for name, p in t.top(min(top, len(t.class_names))):
        click.echo(f"{p:8.2%}  {name}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


# Commands defined in other modules register themselves on `main`.
from cnnanim import cli_render  # noqa: E402,F401
from cnnanim import cli_hyper  # noqa: E402,F401
from cnnanim import cli_lecture  # noqa: E402,F401
