"""User-facing errors: the CLI prints them as one line and exits non-zero."""

from __future__ import annotations


class CnnanimError(Exception):
    """An error caused by the user's input (a file, an option, a name), shown as one line."""


class UnknownNameError(CnnanimError, KeyError):
    """A name (stage, scene, preset, layer) that does not exist; the message lists the valid ones."""

    def __init__(self, kind: str, name: object, valid: list[str] | tuple[str, ...]) -> None:
        self.kind = kind
        self.name = name
        self.valid = list(valid)
        super().__init__(f"unknown {kind} {name!r}; valid: {', '.join(map(str, self.valid))}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])
