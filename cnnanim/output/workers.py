"""Worker processes that live and die with the command, and signals that stop it cleanly.

:class:`WorkerPool` runs functions in ``spawn``-ed processes (never a fork of a process that
holds torch threads). Workers ignore Ctrl-C (a terminal sends it to them too): the main process
decides. When the main process stops (Ctrl-C, SIGTERM, SIGHUP, an error), :meth:`WorkerPool.stop`
drops the queued work and sends each worker SIGTERM: a busy worker unwinds (its temporary
folders are removed on the way) and exits; one still alive after a short grace period is
killed. A worker whose main process dies, even by SIGKILL, gets SIGTERM from the kernel (Linux).
Workers keep their scratch folders in a folder of the main process, which removes it, with the
temporary folders its workers made (:func:`cnnanim.files.temp_folder`), once they are gone:
nothing is left behind by a worker that was killed or crashed.

:func:`stop_signals` makes SIGTERM and SIGHUP stop the main process the way Ctrl-C does:
they raise :class:`Stopped` (a ``KeyboardInterrupt``), so every ``finally`` block runs.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from cnnanim import files

#: Signals that stop a command (besides Ctrl-C's SIGINT).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
#: Seconds a stopping worker gets to clean up before it is killed.
GRACE = 2.0


class Stopped(KeyboardInterrupt):
    """The process was told to stop by ``signum`` (SIGTERM or SIGHUP)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def stop_signals() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise :class:`Stopped` in the main thread (once: the
    clean-up that follows is not interrupted again). A signal that was ignored (``nohup``)
    stays ignored. Outside the main thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        for s in STOP_SIGNALS:
            signal.signal(s, signal.SIG_IGN)
        raise Stopped(signum)

    old = {}
    for s in STOP_SIGNALS:
        previous = signal.getsignal(s)
        if previous is not signal.SIG_IGN:
            old[s] = signal.signal(s, handler)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


# -- the worker side ------------------------------------------------------------------------------
_busy = False
_stopping = False


def _exit_now() -> None:
    """End this worker now, as a finished multiprocessing child ends (its finalizers run: e.g.
    the semaphore of tqdm's lock is released), without going back to the pool's loop."""
    try:
        files.remove_scratch_dir()
        from multiprocessing import util

        util._exit_function()
    finally:
        os._exit(128 + signal.SIGTERM)


def _importing(frame) -> bool:
    """Whether ``frame`` runs inside an import (the module's code or the import machinery)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _on_stop_signal(signum, frame) -> None:
    global _stopping
    _stopping = True
    if _busy and _importing(frame):
        # an exception raised here can cross a C++ extension's set-up (torch's: std::terminate,
        # the worker aborts without any clean-up): stop once the import is done
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        return
    if _busy:
        raise Stopped(signum)  # unwind the task: its finally blocks remove its temporary files
    _exit_now()


def _unraisable(info) -> None:
    """The stop was raised inside a ``__del__`` (e.g. tqdm's), which swallows exceptions:
    raise it again a moment later (SIGALRM), silently."""
    if isinstance(info.exc_value, Stopped):
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        return
    sys.__unraisablehook__(info)


def _init_worker(parent: int, folder: str) -> None:
    """Run first in every worker: scratch space in the parent's ``folder``, ignore Ctrl-C, stop
    on SIGTERM/SIGHUP, die with the parent."""
    files.work_in(folder)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for s in (*STOP_SIGNALS, signal.SIGALRM):
        signal.signal(s, _on_stop_signal)
    sys.unraisablehook = _unraisable
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM))
        except (OSError, AttributeError):
            pass
    signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT, *STOP_SIGNALS))
    if os.getppid() != parent:  # the parent died before the line above took effect
        _exit_now()


def _call(fn: Callable, args: tuple, kwargs: dict):
    """Run one task in a worker; a stop signal during it ends the worker once it unwound."""
    global _busy
    _busy = True
    try:
        return fn(*args, **kwargs)
    except BaseException:
        if _stopping:  # whatever the signal's exception became on its way up
            _exit_now()
        raise
    finally:
        _busy = False


# -- the main side --------------------------------------------------------------------------------
class WorkerPool:
    """Up to ``jobs`` worker processes; use as a context manager (see the module's docstring).

    Leaving the ``with`` block normally waits for the workers to finish; leaving it by an
    exception (Ctrl-C, :class:`Stopped`, an error) calls :meth:`stop`. Either way the workers'
    folder (:func:`cnnanim.files.workers_folder`) is removed once they are gone.
    """

    def __init__(self, jobs: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self._folder: Path | None = files.workers_folder()
        self._pool = ProcessPoolExecutor(max_workers=jobs,
                                         mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_init_worker,
                                         initargs=(os.getpid(), str(self._folder)))

    def submit(self, fn: Callable, *args, **kwargs) -> Future:
        """Run ``fn(*args, **kwargs)`` in a worker (``fn`` must be importable by name)."""
        # A worker starts with Ctrl-C and the stop signals blocked (the mask is inherited),
        # until its own handlers are in place; here they only wait until submit returns.
        old = signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, *STOP_SIGNALS))
        try:
            return self._pool.submit(_call, fn, args, kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def stop(self, grace: float = GRACE) -> None:
        """Drop the queued tasks and end every worker now (SIGTERM, then SIGKILL after
        ``grace`` seconds); returns when none is left."""
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            if p.is_alive():
                p.terminate()
        deadline = time.monotonic() + grace
        for p in processes:
            p.join(max(0.0, deadline - time.monotonic()))
        for p in processes:
            if p.is_alive():
                p.kill()
                p.join(1.0)
        self._remove_folder()

    def close(self) -> None:
        """Wait for the submitted tasks, then let the workers exit (interrupted: :meth:`stop`)."""
        try:
            self._pool.shutdown(wait=True)
        except BaseException:
            self.stop()
            raise
        self._remove_folder()

    def _remove_folder(self) -> None:
        if self._folder is not None:
            files.remove_workers_folder(self._folder)
            self._folder = None

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.stop()
