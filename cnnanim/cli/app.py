"""The ``cnnanim`` group: one-line errors for every command registered on it."""

from __future__ import annotations

import os
import sys
import traceback

import click

from cnnanim.errors import CnnanimError


class CnnanimGroup(click.Group):
    """A click group that turns errors into one line on stderr and a non-zero exit."""

    def invoke(self, ctx: click.Context):
        from cnnanim.output.workers import Stopped, stop_signals

        try:
            with stop_signals():  # SIGTERM and SIGHUP stop a command as Ctrl-C does
                return super().invoke(ctx)
        except BrokenPipeError as e:  # `cnnanim list | head -1`: stop quietly, like other tools
            if not _stdout_gone():
                return self._fail(ctx, e)
            _quiet_stdout()
            ctx.exit(141)
        except click.UsageError as e:  # bad option or value: one line, not the usage text
            click.echo(f"Error: {e.format_message()}", err=True)
            ctx.exit(e.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except CnnanimError as e:
            click.echo(f"Error: {e}", err=True)
            ctx.exit(1)
        except Stopped as e:
            click.echo(f"Error: stopped by {e}", err=True)
            ctx.exit(128 + e.signum)
        except KeyboardInterrupt:
            click.echo("Error: interrupted", err=True)
            ctx.exit(130)
        except Exception as e:  # never a traceback for users; CNNANIM_DEBUG=1 shows it
            self._fail(ctx, e)

    @staticmethod
    def _fail(ctx: click.Context, e: Exception) -> None:
        """An unexpected error: its type and first line, exit status 1."""
        if os.environ.get("CNNANIM_DEBUG"):
            traceback.print_exception(e)
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        click.echo(f"Error: {type(e).__name__}: {first}".rstrip(": "), err=True)
        ctx.exit(1)


def _stdout_gone() -> bool:
    """Whether nobody reads stdout any more (a pipe whose reader exited)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def _quiet_stdout() -> None:
    """Point stdout at /dev/null: the reader is gone, and Python's final flush must not fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


@click.group(cls=CnnanimGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cnnanim")
def main() -> None:
    """Narrated animations of a real, trained TinyVGG (CNN Explainer's ideas, rendered with Manim).

    \b
    Example:
      cnnanim predict                 # classify the bundled coffee photo
    """
