"""The ``cnnanim`` group: one-line errors for every command registered on it."""

from __future__ import annotations

import os
import traceback

import click

from cnnanim.errors import CnnanimError


class CnnanimGroup(click.Group):
    """A click group that turns errors into one line on stderr and a non-zero exit."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as e:  # bad option or value: one line, not the usage text
            click.echo(f"Error: {e.format_message()}", err=True)
            ctx.exit(e.exit_code)
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
