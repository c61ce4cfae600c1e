"""Render commands of the ``cnnanim`` CLI (list, render, preview, gif)."""

from __future__ import annotations

import click

from cnnanim.cli import main


@main.command("list")
def list_scenes() -> None:
    """List the scenes, one per line: name, then what it shows.

    \b
    Example:
      cnnanim list
    """
    from cnnanim.registry import all_scenes

    scenes = all_scenes()
    width = max((len(n) for n in scenes), default=0)
    for name, cls in scenes.items():
        click.echo(f"{name:<{width}}  {cls.description}")
