"""The ``cnnanim`` command line: thin commands registered on one group.

:mod:`cnnanim.cli.app` defines the group, :mod:`cnnanim.cli.options` the options shared by
several commands; each other module registers its commands on the group when imported.
"""

from __future__ import annotations

from cnnanim.cli import figures, hyper, lecture, network, render, slides  # noqa: F401  (they register commands)
from cnnanim.cli.app import main

__all__ = ["main"]
