"""``python -m cnnanim``: the same as the ``cnnanim`` command."""

from __future__ import annotations

from cnnanim.cli import main

if __name__ == "__main__":
    main(prog_name="cnnanim")
