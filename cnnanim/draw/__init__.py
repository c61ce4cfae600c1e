"""Drawing blocks on Manim (never torch).

Importing this package also makes the plain ``manim`` command report a cnnanim error (a bad
``CNNANIM_*`` variable, a missing photo...) as one line, ``Error: ...``, instead of a traceback.
"""

from __future__ import annotations

import sys


def _one_line_errors_in_manim() -> None:
    """Wrap Manim's ``error_console.print_exception`` (what ``manim render`` calls when a scene
    fails): a :class:`~cnnanim.errors.CnnanimError` is printed as its one-line message."""
    try:
        from manim._config import error_console
    except ImportError:  # pragma: no cover - another Manim layout: its own traceback
        return
    original = error_console.print_exception
    if getattr(original, "cnnanim", False):
        return

    def print_exception(*args, **kwargs):
        from cnnanim.errors import CnnanimError

        error = sys.exc_info()[1]
        if isinstance(error, CnnanimError):
            error_console.print(f"Error: {error}", markup=False, highlight=False, soft_wrap=True)
            return None
        return original(*args, **kwargs)

    print_exception.cnnanim = True  # type: ignore[attr-defined]
    error_console.print_exception = print_exception  # type: ignore[method-assign]


_one_line_errors_in_manim()
