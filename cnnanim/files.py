"""Where things live and how files are written: the repository, the shared fixtures and
datasets, the media folder, the cache folders, and atomic writes with the usual file mode."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Callable, Union

from cnnanim.errors import CnnanimError

#: The repository (or install) root: the folder above the ``cnnanim`` package.
ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The ``shared/`` folder beside the repository (``$CNNANIM_SHARED`` overrides)."""
    env = os.environ.get("CNNANIM_SHARED")
    return Path(env) if env else ROOT.parent / "shared"


def dataset_path(name: str) -> Path:
    """Path of a dataset npz under ``shared/datasets`` (``tinyimagenet10_32`` or ``mnist``)."""
    return shared_dir() / "datasets" / name / f"{name}.npz"


def explainer_dir() -> Path:
    """CNN Explainer's released model and example photos (``shared/cnn-explainer``)."""
    return shared_dir() / "cnn-explainer"


def media_dir() -> Path:
    """Default output folder (``$CNNANIM_MEDIA`` overrides): ``media/`` in the current folder."""
    env = os.environ.get("CNNANIM_MEDIA")
    return Path(env) if env else Path.cwd() / "media"


#: Cache kinds and the variable that moves each one on its own.
CACHE_VARIABLES = {"traces": "CNNANIM_TRACE_CACHE", "text": "CNNANIM_TEXT_CACHE",
                   "voice": "CNNANIM_VOICE_CACHE"}


def cache_dir(kind: str) -> Path:
    """The folder of one on-disk cache (``traces``, ``text`` or ``voice``).

    Its own variable wins (``$CNNANIM_TRACE_CACHE``, ``$CNNANIM_TEXT_CACHE``,
    ``$CNNANIM_VOICE_CACHE``); else ``$CNNANIM_CACHE/KIND``; else
    ``$XDG_CACHE_HOME/cnnanim/KIND`` (default ``~/.cache/cnnanim/KIND``).
    """
    own = os.environ.get(CACHE_VARIABLES.get(kind, ""))
    if own:
        return Path(own)
    env = os.environ.get("CNNANIM_CACHE")
    if env:
        return Path(env) / kind
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "cnnanim" / kind


def umask() -> int:
    """The process's file-creation mask (read without changing it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


Content = Union[bytes, str, Callable[[IO[bytes]], None]]


def atomic_write(path: str | os.PathLike, content: Content, parents: bool = False) -> Path:
    """Write ``path`` through a temporary file in the same folder, then rename it into place.

    ``content`` is bytes, text (UTF-8) or a function that writes into the open binary file.
    The finished file gets the usual mode (0666 less the umask); on any failure, Ctrl-C
    included, the temporary file is removed and ``path`` is untouched. An OS error becomes a
    :class:`CnnanimError` naming ``path``. ``parents``: create missing folders first.
    """
    path = Path(path)
    try:
        if parents:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise CnnanimError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(content, str):
                f.write(content.encode("utf-8"))
            elif isinstance(content, (bytes, bytearray, memoryview)):
                f.write(content)
            else:
                content(f)
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise CnnanimError(f"cannot write {path}: {e.strerror or e}") from None
        raise
    return path
