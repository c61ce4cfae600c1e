"""Progress lines on stderr for batches of renders (stdout stays the list of written files)."""

from __future__ import annotations

import time

import click


class SceneProgress:
    """Overall progress of a batch: ``[####----] 2/5 relu ...`` then ``... relu done in 9.3 s``.

    Call it as the ``progress`` callback of :func:`cnnanim.output.render.render_scenes`. Silent for a
    single scene unless ``always`` is set. One line per event, so an error message that
    interrupts the batch starts on its own line.
    """

    def __init__(self, always: bool = False, stream=None) -> None:
        self.always = always
        self.stream = stream
        self.t0 = time.perf_counter()

    def __call__(self, index: int, total: int, name: str, result=None) -> None:
        if total < 2 and not self.always:
            return
        bar = _bar(index + (result is not None), total)
        head = f"{bar} {index + 1}/{total} {name}"
        if result is None:
            click.echo(f"{head} ...", err=True, file=self.stream)
        else:
            end = f" (total {time.perf_counter() - self.t0:.1f} s)" if index + 1 == total else ""
            click.echo(f"{head} done in {result.seconds:.1f} s{end}", err=True, file=self.stream)


def _bar(done: int, total: int, width: int = 20) -> str:
    n = int(round(width * done / max(1, total)))
    return "[" + "#" * n + "-" * (width - n) + "]"
