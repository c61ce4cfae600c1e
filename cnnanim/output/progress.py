"""The one progress bar of cnnanim, on stderr (stdout stays the list of written files).

On a terminal the bar is rewritten in place; elsewhere (a log, a pipe) each step is one line,
so an error message that interrupts a batch starts on its own line.
"""

from __future__ import annotations

import sys
import time


class Progress:
    """``[#####-----] 2/5 relu (12 s)``: how far a batch of renders or a lecture has come.

    Call ``progress(done, what)`` after each step; :meth:`scene` adapts it to the callback of
    :func:`cnnanim.output.render.render_scenes`.

    Parameters
    ----------
    total : int
        Steps in the batch.
    stream : file, optional
        Where to write (default: stderr).
    quiet_single : bool
        Say nothing for a batch of one (a single render needs no bar).
    """

    def __init__(self, total: int = 0, stream=None, width: int = 20,
                 quiet_single: bool = False) -> None:
        self.total, self.width, self.quiet_single = total, width, quiet_single
        self.stream = stream
        self.t0 = time.perf_counter()

    def _out(self):
        return self.stream if self.stream is not None else sys.stderr

    def _tty(self) -> bool:
        try:
            return self._out().isatty()
        except (AttributeError, ValueError):
            return False

    def bar(self, done: int) -> str:
        """The bar alone: ``[####----]``."""
        filled = int(round(self.width * done / max(1, self.total)))
        return "[" + "#" * filled + "-" * (self.width - filled) + "]"

    def __call__(self, done: int, what: str) -> None:
        if self.quiet_single and self.total < 2:
            return
        line = f"{self.bar(done)} {done}/{self.total} {what} ({time.perf_counter() - self.t0:.0f} s)"
        out = self._out()
        if self._tty():
            out.write("\r\033[K" + line + ("\n" if done >= self.total else ""))
        else:
            out.write(line + "\n")
        out.flush()

    def scene(self, index: int, total: int, name: str, result=None) -> None:
        """The ``progress`` callback of ``render_scenes``: before and after each scene."""
        self.total = total
        if result is None:
            self(index, f"{name} ...")
        else:
            self(index + 1, f"{name} done in {result.seconds:.1f} s")
