"""Where things live and how files are read and written: the repository, the shared fixtures
and datasets, the media folder, the cache folders and their checked entries, the user's input
files (read once), a private scratch folder, output checks, and atomic writes with the usual
file mode."""

from __future__ import annotations

import atexit
import errno
import hashlib
import os
import re
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass
from functools import cached_property
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


#: Input files larger than this are refused (e.g. /dev/zero given as a photo).
MAX_INPUT_BYTES = 512 * 1024 * 1024
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class Input:
    """A file named by the user, read once: what a cache key is made of is what gets used.

    Attributes
    ----------
    path : Path
        The name it was given by (for messages).
    data : bytes
        Its bytes (a pipe such as ``<(cat photo.png)`` can be read only once).
    """

    path: Path
    data: bytes

    @cached_property
    def digest(self) -> str:
        """sha256 of :attr:`data`."""
        return hashlib.sha256(self.data).hexdigest()


#: Files that are not regular (pipes, FIFOs, devices) already read by this process.
_READ_ONCE: dict[tuple, Input] = {}


def read_input(path: str | os.PathLike, what: str) -> Input:
    """Read the file ``path`` (``what`` it is, e.g. ``image``, names it in errors) into memory.

    A pipe or a process substitution is read once; later calls in this process for the same
    path get the same bytes (a regular file is read again: it may have changed). A URL, a
    missing file, a folder, an unreadable or a huge file give a one-line error. A FIFO
    without a writer waits for one (as ``cat`` does).
    """
    name = os.fspath(path)
    if _URL.match(str(name)):
        raise CnnanimError(f"{what} {name} is a URL: cnnanim reads only local files; "
                           "download it first")
    p = Path(name)
    key = _once_key(p)
    if key in _READ_ONCE:
        return _READ_ONCE[key]
    try:
        with open(p, "rb") as f:
            regular = stat.S_ISREG(os.fstat(f.fileno()).st_mode)
            data = f.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise CnnanimError(f"{what} not found: {p}") from None
    except IsADirectoryError:
        raise CnnanimError(f"{what} {p} is a folder, not a file") from None
    except OSError as e:
        raise CnnanimError(f"cannot read {what} {p}: {os_reason(p, e)}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise CnnanimError(f"{what} {p} is too large (more than "
                           f"{MAX_INPUT_BYTES // 2**20} MB)")
    if not regular and key is not None:  # a pipe gives its bytes once: keep them
        _READ_ONCE[key] = Input(p, data)
    return Input(p, data)


def _once_key(path: Path) -> tuple | None:
    """How :data:`_READ_ONCE` knows a pipe: its path and inode (None for a regular file)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        return None
    return os.path.abspath(path), st.st_dev, st.st_ino


def shareable(path: str | os.PathLike | None) -> str | os.PathLike | None:
    """``path`` as another process can read it: itself for a regular file (or None); a pipe
    this process has read becomes a copy of its bytes in :func:`scratch_dir` (worker processes
    cannot read ``<(cat photo.png)`` again)."""
    if path is None:
        return None
    read = _READ_ONCE.get(_once_key(Path(path)))
    if read is None:
        return path
    copy = scratch_dir("inputs") / read.digest[:32]
    if not copy.exists():
        atomic_write(copy, read.data)
    return str(copy)


def shareable_settings(settings: dict) -> dict:
    """``settings`` for a worker process: its ``image`` and ``weights`` made :func:`shareable`."""
    return dict(settings, image=shareable(settings.get("image")),
                weights=shareable(settings.get("weights")))


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
        raise CnnanimError(f"cannot write {path}: {os_reason(path, e)}") from None
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
            raise CnnanimError(f"cannot write {path}: {os_reason(path, e)}") from None
        raise
    return path


def os_reason(path: Path, error: OSError) -> str:
    """Why ``path`` cannot be written, in words: ``error``'s text, or which of its parents is a
    file rather than a folder."""
    if error.errno in (errno.EEXIST, errno.ENOTDIR):
        for p in Path(path).parents:  # nearest first
            if p.exists() and not p.is_dir():
                return f"{p} is not a folder"
    return error.strerror or str(error)


# -- cache entries: checked on every read ------------------------------------------------------
#: What ends every cache entry: this mark, then the sha256 of the bytes before it.
_ENTRY_MARK = b"\ncnnanim-sha256:"
_ENTRY_TAIL = len(_ENTRY_MARK) + 32
_warned: set[str] = set()


def warn_once(key: str, message: str) -> None:
    """Print ``warning: message`` on stderr, once per process for each ``key``."""
    if key in _warned:
        return
    _warned.add(key)
    try:
        sys.stderr.write(f"warning: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def cache_write_failed(kind: str, path: Path, error: BaseException) -> None:
    """Warn (once per cache) that the ``kind`` cache cannot be written: the render goes on."""
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    reason = reason.split(": ", 1)[1] if reason.startswith(f"cannot write {path}: ") else reason
    warn_once(f"cache:{kind}", f"cannot write the {kind} cache ({path}: {reason}); "
                               "going on without caching")


def write_cache_entry(kind: str, path: str | os.PathLike, data: bytes) -> bool:
    """Store ``data`` as a cache entry of cache ``kind`` (see :func:`cache_dir`), atomically,
    followed by its sha256 so :func:`read_cache_entry` can tell a damaged entry.

    A cache that cannot be written costs only speed: one warning, and False.
    """
    path = Path(path)
    digest = hashlib.sha256(data).digest()
    try:
        atomic_write(path, lambda f: (f.write(data), f.write(_ENTRY_MARK + digest)), parents=True)
    except (CnnanimError, OSError) as e:
        cache_write_failed(kind, path, e)
        return False
    return True


def read_cache_entry(path: str | os.PathLike) -> bytes | None:
    """The data of a cache entry written by :func:`write_cache_entry`; None when it is missing
    or damaged in any way (truncated, bit-flipped, not a regular file, unreadable)."""
    try:
        with open(path, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return None
            blob = f.read()
    except (OSError, ValueError):
        return None
    data, mark, digest = blob[:-_ENTRY_TAIL], blob[-_ENTRY_TAIL:-32], blob[-32:]
    if len(blob) < _ENTRY_TAIL or mark != _ENTRY_MARK or hashlib.sha256(data).digest() != digest:
        return None
    return data


# -- scratch space of this process, off the output's disk ------------------------------------
_scratch: dict[str, Path] = {}
#: In a worker process: the folder its parent owns for its workers (see :func:`work_in`).
_owner: Path | None = None


def scratch_dir(name: str = "") -> Path:
    """A private temporary folder of this process in the system's temp folder (or its
    sub-folder ``name``): Pango's SVG files, clips when the voice cache cannot be written.
    Removed when the process ends; a worker's lies in its parent's folder (:func:`work_in`),
    which the parent removes too. Never on the output's disk unless the temp folder is."""
    pid = str(os.getpid())
    try:
        if pid not in _scratch:
            _scratch[pid] = Path(tempfile.mkdtemp(prefix="cnnanim-", dir=_owner))
        folder = _scratch[pid] / name
        folder.mkdir(exist_ok=True)
    except OSError as e:
        raise CnnanimError(f"cannot write to the temporary folder "
                           f"{_owner or tempfile.gettempdir()}: {e.strerror or e}") from None
    return folder


@atexit.register
def remove_scratch_dir() -> None:
    """Remove this process's :func:`scratch_dir` (also called by workers that stop early)."""
    folder = _scratch.pop(str(os.getpid()), None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def temp_folder(prefix: str, parent: str | os.PathLike) -> Path:
    """A new private folder ``parent/PREFIX...`` (e.g. the pieces of an output beside it); the
    caller removes it. A worker also notes it in its parent's folder (:func:`work_in`), so
    that it goes even if the worker is killed before its own clean-up."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    if _owner is not None:
        try:
            os.symlink(os.path.abspath(path), _owner / f"made-{os.getpid()}-{path.name}")
        except OSError:
            pass
    return path


def workers_folder() -> Path:
    """A new folder, in this process's :func:`scratch_dir`, for the worker processes it starts:
    give it to each one's :func:`work_in`; remove it with :func:`remove_workers_folder`."""
    try:
        return temp_folder("workers-", scratch_dir())
    except OSError as e:
        raise CnnanimError(f"cannot write to the temporary folder {scratch_dir()}: "
                           f"{e.strerror or e}") from None


def work_in(folder: str | os.PathLike) -> None:
    """Make this (worker) process keep its :func:`scratch_dir` in ``folder`` (its parent's
    :func:`workers_folder`) and note there each :func:`temp_folder` it makes."""
    global _owner
    _owner = Path(folder)


def remove_workers_folder(folder: str | os.PathLike) -> None:
    """Remove a :func:`workers_folder` and every :func:`temp_folder` its workers noted in it,
    once no worker is left: all they had not removed themselves (a worker killed mid-task)."""
    folder = Path(folder)
    try:
        notes = [p for p in folder.iterdir() if p.name.startswith("made-") and p.is_symlink()]
    except OSError:
        notes = []
    for note in notes:
        try:
            shutil.rmtree(os.readlink(note), ignore_errors=True)
        except OSError:
            pass
    shutil.rmtree(folder, ignore_errors=True)


# -- outputs ---------------------------------------------------------------------------------------
def check_output_file(path: str | os.PathLike) -> Path:
    """Refuse (one line) an output path that is a folder or an existing non-regular file (a
    device such as /dev/null, a FIFO, a socket) or whose parent is not a folder."""
    path = Path(path)
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise CnnanimError(f"output {path} is a folder")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise CnnanimError(f"output {path} is not a regular file (a device, FIFO or socket); "
                           "give a file name")
    if path.parent.exists() and not path.parent.is_dir():
        raise CnnanimError(f"cannot write {path}: {path.parent} is not a folder")
    return path


#: Errors of writing a file that mean "this place cannot take the file".
WRITE_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG,
                errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EXDEV}
#: Of those, the ones that say the disk (not the name) is the problem.
DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


def write_error(error: BaseException, output: Path,
                scratch: Path | None = None) -> CnnanimError | None:
    """A one-line ``cannot write ...`` error for an OS error anywhere in ``error``'s chain
    (e.g. a disk that filled up under the video encoder), or None when there is none.

    The error names ``output`` when the failing file is ``output`` itself or lies in
    ``scratch`` (the render's temporary folder beside it), else the failing file.
    """
    if isinstance(error, CnnanimError):
        return None  # already says what went wrong
    seen: set[int] = set()
    e: BaseException | None = error
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in WRITE_ERRNOS:
            where = (Path(os.path.abspath(e.filename))
                     if isinstance(e.filename, (str, os.PathLike)) else None)
            inside = where is None or where == Path(os.path.abspath(output)) or (
                scratch is not None and Path(os.path.abspath(scratch)) in where.parents)
            reason = e.strerror or os.strerror(e.errno)
            if inside and (e is error or where is not None or e.errno in DISK_ERRNOS):
                return CnnanimError(f"cannot write {output}: {reason}")
            if not inside and e.errno in DISK_ERRNOS:
                return CnnanimError(f"cannot write {where}: {reason}")
        e = e.__cause__ or (None if e.__suppress_context__ else e.__context__)
    return None


def disk_full(folder: str | os.PathLike) -> bool:
    """Whether ``folder``'s disk cannot take another 64 KiB (checked by writing them)."""
    try:
        with tempfile.TemporaryFile(dir=folder) as f:
            f.write(b"\0" * 65536)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        return e.errno in (errno.ENOSPC, errno.EDQUOT)
    return False
