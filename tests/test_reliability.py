"""Reliability in one process: inputs keyed by the bytes read, damaged caches, voice clips,
weights that are not finite, worker processes that stop, file modes and output checks.

(The same failures seen from the command line are in ``test_bad_inputs.py``.)
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnanim import files
from cnnanim.errors import CnnanimError
from cnnanim.network import trace_cache
from cnnanim.network.images import SAMPLE_IMAGE
from cnnanim.network.weights import DEFAULT_WEIGHTS, read_weights, save_weights
from cnnanim.speech import voice


@pytest.fixture
def caches(tmp_path, monkeypatch) -> Path:
    """Fresh trace, text and voice caches for one test; nothing in memory."""
    monkeypatch.setenv("CNNANIM_CACHE", str(tmp_path / "cache"))
    for v in files.CACHE_VARIABLES.values():
        monkeypatch.delenv(v, raising=False)
    trace_cache._cached_trace.cache_clear()
    monkeypatch.setattr(files, "_warned", set())
    yield tmp_path / "cache"
    trace_cache._cached_trace.cache_clear()


def flipped_photo(tmp_path: Path) -> Path:
    p = tmp_path / "flipped.png"
    Image.open(SAMPLE_IMAGE).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(p)
    return p


def pipe_path(data: bytes) -> str:
    """``/dev/fd/N`` of a pipe that gives ``data`` once (like ``<(cat photo.png)``)."""
    r, w = os.pipe()

    def feed():
        with os.fdopen(w, "wb") as f:
            f.write(data)

    threading.Thread(target=feed, daemon=True).start()
    return f"/dev/fd/{r}"


# -- 1. keys by the bytes read ----------------------------------------------------------------------
def test_photos_through_pipes_get_their_own_trace(caches, tmp_path):
    """Two photos given as pipes used to share the key ``missing:/dev/fd/N``: the second render
    showed the first photo's numbers."""
    other = flipped_photo(tmp_path)
    first = trace_cache.get_trace(pipe_path(SAMPLE_IMAGE.read_bytes()))
    second_path = pipe_path(other.read_bytes())
    second = trace_cache.get_trace(second_path)
    assert not np.allclose(first.image, second.image)
    np.testing.assert_array_equal(second.logits, trace_cache.get_trace(other).logits)
    np.testing.assert_array_equal(first.logits, trace_cache.get_trace(SAMPLE_IMAGE).logits)
    # the pipe was read once: asking again in this process gives the same photo, not an error
    np.testing.assert_array_equal(trace_cache.get_trace(second_path).image, second.image)
    # and worker processes get a regular copy of those very bytes
    copy = files.shareable(second_path)
    assert Path(copy).read_bytes() == other.read_bytes() and Path(copy).is_file()


def test_url_is_named_as_a_url():
    with pytest.raises(CnnanimError, match=r"https://example\.com/a\.png is a URL.*download"):
        trace_cache.get_trace("https://example.com/a.png")


# -- 2. damaged cache entries -------------------------------------------------------------------------
def damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(data[:len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how.startswith("bit"):  # one bit flipped at a fraction of the file
        i = min(len(data) - 1, int(len(data) * float(how[3:])))
        data[i] ^= 0x10
        path.write_bytes(bytes(data))
    elif how == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif how == "folder":
        path.unlink()
        path.mkdir()
    else:
        raise ValueError(how)


DAMAGE = ["truncated", "empty", "bit0.001", "bit0.3", "bit0.7", "bit0.9999", "garbage", "folder"]


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_trace_entry_is_recomputed(caches, how):
    fresh = trace_cache.get_trace()
    entry = next((caches / "traces").glob("*.npz"))
    damage(entry, how)
    trace_cache._cached_trace.cache_clear()
    again = trace_cache.get_trace()  # never BadZipFile, Bad CRC-32 or EOFError
    np.testing.assert_array_equal(again.logits, fresh.logits)
    for name in fresh.stages:
        np.testing.assert_array_equal(again[name].output, fresh[name].output)
    if how != "folder":
        assert files.read_cache_entry(entry) is not None  # rewritten


@pytest.mark.parametrize("how", DAMAGE[:-1])
def test_damaged_text_entry_is_parsed_again(caches, tmp_path, how):
    from manim import tempconfig

    from cnnanim.draw.text import CachedText

    with tempconfig({"text_dir": str(tmp_path / "svg")}):
        fresh = CachedText("Damaged caches never change a frame", font_size=24)
        entry = next((caches / "text").glob("*.npz"))
        damage(entry, how)
        again = CachedText("Damaged caches never change a frame", font_size=24)
    assert len(again.submobjects) == len(fresh.submobjects)
    for a, b in zip(again.submobjects, fresh.submobjects):
        np.testing.assert_array_equal(a.points, b.points)
        np.testing.assert_array_equal(a.fill_rgbas, b.fill_rgbas)
    assert files.read_cache_entry(entry) is not None


def test_damaged_caches_never_change_a_frame(caches, tmp_path):
    """Every trace and text entry damaged between two renders: the same picture, byte for
    byte, and every entry rewritten (each render in its own process: nothing in memory)."""
    env = {**os.environ, "CNNANIM_CACHE": str(caches)}
    cli = [str(Path(sys.executable).parent / "cnnanim"), "render", "input", "-f", "png"]
    subprocess.run(cli + ["-o", tmp_path / "a.png"], env=env, check=True, capture_output=True)
    entries = sorted(p for kind in ("traces", "text") for p in (caches / kind).glob("*.npz"))
    assert len(entries) > 10
    for i, entry in enumerate(entries):
        damage(entry, DAMAGE[i % (len(DAMAGE) - 1)])
    r = subprocess.run(cli + ["-o", tmp_path / "b.png"], env=env, capture_output=True,
                       text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert all(files.read_cache_entry(p) is not None for p in entries)


# -- 5., 6., 9. voice clips ---------------------------------------------------------------------------
EN = "Damaged clips are spoken again."


def clip_files(caches: Path, clip) -> tuple[Path, Path]:
    return clip.path, clip.path.with_suffix(".json")


@pytest.mark.parametrize("part, how", [("wav", "truncated"), ("wav", "empty"), ("wav", "bit0.5"),
                                       ("wav", "bit0.01"), ("json", "bit0.3"), ("json", "empty"),
                                       ("json", "garbage")])
def test_damaged_clip_is_spoken_again(caches, part, how):
    service = voice.get_service("espeak", "en")
    fresh = service.synthesize(EN, "en")
    samples, rate = voice.read_wav(fresh.path)
    wav, meta = clip_files(caches, fresh)
    damage(wav if part == "wav" else meta, how)
    again = service.synthesize(EN, "en")
    assert again.path == fresh.path and again.duration == fresh.duration
    assert again.words == fresh.words
    np.testing.assert_array_equal(voice.read_wav(again.path)[0], samples)


def test_duration_edited_in_the_json_is_noticed(caches):
    """A bit flip can leave valid JSON with another duration: the clip's length says no."""
    service = voice.get_service("espeak", "en")
    clip = service.synthesize(EN, "en")
    meta = clip.path.with_suffix(".json")
    blob = files.read_cache_entry(meta)
    files.write_cache_entry("voice", meta, blob.replace(b'"duration": ', b'"duration": 1'))
    again = service.synthesize(EN, "en")
    assert again.duration == pytest.approx(clip.duration)


def test_espeak_clip_does_not_depend_on_what_was_spoken_before(tmp_path, monkeypatch):
    """espeak-ng keeps state between utterances; a clip must not (-j 1 and -j 2 renders speak
    the same beats in different orders)."""
    service = voice.get_service("espeak", "en")
    monkeypatch.setenv("CNNANIM_VOICE_CACHE", str(tmp_path / "a"))
    first = voice.read_wav(service.synthesize(EN, "en").path)[0]
    service.synthesize("The kernel slides over the image, one step at a time.", "en")
    voice.get_service("espeak", "zh").synthesize("卷积核在图像上滑动。", "zh")
    monkeypatch.setenv("CNNANIM_VOICE_CACHE", str(tmp_path / "b"))  # spoken again, not cached
    again = voice.read_wav(service.synthesize(EN, "en").path)[0]
    np.testing.assert_array_equal(again, first)


def test_unwritable_voice_cache_is_skipped_with_one_warning(caches, tmp_path, monkeypatch, capfd):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CNNANIM_VOICE_CACHE", str(blocker))
    service = voice.get_service("espeak", "en")
    a = service.synthesize(EN, "en")
    b = service.synthesize("A second clip, and no second warning.", "en")
    for clip in (a, b):
        samples, rate = voice.read_wav(clip.path)
        assert len(samples) / rate == pytest.approx(clip.duration)
        assert files.scratch_dir() in clip.path.parents  # removed when the process ends
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: cannot write the voice cache")
    assert str(blocker) in err[0] and "is not a folder" in err[0]


def test_full_voice_cache_names_the_cache_not_the_output(caches, monkeypatch, capfd):
    real = files.atomic_write

    def full(path, content, parents=False):
        if caches in Path(path).parents:
            raise CnnanimError(f"cannot write {path}: {os.strerror(errno.ENOSPC)}")
        return real(path, content, parents)

    monkeypatch.setattr(files, "atomic_write", full)
    clip = voice.get_service("espeak", "en").synthesize(EN, "en")
    assert clip.path.is_file()
    err = capfd.readouterr().err
    assert "voice cache" in err and "No space left on device" in err and str(caches) in err


# -- 7. weights that are not finite ---------------------------------------------------------------------
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused_when_loaded(tmp_path, value):
    tensors, info = read_weights(DEFAULT_WEIGHTS["explainer"])
    tensors["conv_2_1.bias"] = tensors["conv_2_1.bias"].copy()
    tensors["conv_2_1.bias"][2] = value
    path = save_weights(tmp_path / "w.safetensors", tensors, info)
    with pytest.raises(CnnanimError, match="conv_2_1.bias has 1 NaN or infinite value"):
        read_weights(path)


def test_overflowing_trace_is_refused(tmp_path):
    from cnnanim.network.trace import trace_image

    tensors, info = read_weights(DEFAULT_WEIGHTS["explainer"])
    huge = {k: v * np.float32(1e30) if k.endswith("weight") else v for k, v in tensors.items()}
    path = save_weights(tmp_path / "w.safetensors", huge, info)
    with pytest.raises(CnnanimError, match="the trace is not finite"):
        trace_image(None, path)


# -- 3., 4., 10. worker processes -----------------------------------------------------------------------
def slow_task(marker: str) -> None:
    """A task that never ends by itself; its clean-up leaves a mark."""
    try:
        Path(marker + ".started").write_text("x")
        while True:
            sum(range(1000))
    finally:
        Path(marker + ".cleaned").write_text("x")


def test_stopping_the_pool_ends_busy_workers_at_once(tmp_path):
    from cnnanim.output.workers import WorkerPool

    pool = WorkerPool(2)
    marks = [str(tmp_path / f"task{i}") for i in range(4)]
    futures = [pool.submit(slow_task, m) for m in marks]
    deadline = time.monotonic() + 60
    while not all(Path(m + ".started").exists() for m in marks[:2]):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    processes = list(pool._pool._processes.values())
    t0 = time.monotonic()
    pool.stop()
    assert time.monotonic() - t0 < 2.0  # no waiting for the queued tasks
    assert not any(p.is_alive() for p in processes)
    assert all(Path(m + ".cleaned").exists() for m in marks[:2])  # each task unwound
    assert not any(Path(m + ".started").exists() for m in marks[2:])  # queued: never started
    assert futures[3].cancelled()


def test_workers_die_with_their_parent(tmp_path):
    """Even a parent killed by SIGKILL (no clean-up of its own) leaves no worker behind."""
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from cnnanim.output.workers import WorkerPool
        from test_reliability import slow_task
        if __name__ == "__main__":
            pool = WorkerPool(1)
            pool.submit(slow_task, {str(tmp_path / "orphan")!r})
            time.sleep(600)
    """)
    (tmp_path / "parent.py").write_text(script)
    parent = subprocess.Popen([sys.executable, str(tmp_path / "parent.py")], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "orphan.started").exists():
            assert time.monotonic() < deadline and parent.poll() is None
            time.sleep(0.05)
        workers = [int(d) for d in os.listdir("/proc") if d.isdigit() and _ppid(int(d)) == parent.pid]
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 5
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert workers and not any(_alive(w) for w in workers)
    assert (tmp_path / "orphan.cleaned").exists()


def stubborn_task(marker: str) -> None:
    """A task that makes a scratch folder and a temporary folder, then ignores SIGTERM and
    SIGHUP: it is killed, and never cleans up itself."""
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    out = Path(marker).parent
    made = [files.scratch_dir("texts"), files.temp_folder(".cnnanim-render-", out)]
    Path(marker + ".started").write_text("\n".join(map(str, made)))
    while True:
        sum(range(1000))


def test_workers_killed_mid_task_leave_no_folder(tmp_path):
    from cnnanim.output.workers import WorkerPool

    pool = WorkerPool(1)
    folder = pool._folder
    marker = str(tmp_path / "task")
    pool.submit(stubborn_task, marker)
    deadline = time.monotonic() + 60
    while not Path(marker + ".started").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    made = [Path(p) for p in Path(marker + ".started").read_text().split("\n")]
    assert folder in made[0].parents and all(p.is_dir() for p in made)
    processes = list(pool._pool._processes.values())
    pool.stop(grace=0.5)
    assert not any(p.is_alive() for p in processes)
    assert processes[0].exitcode == -signal.SIGKILL  # no clean-up of its own
    assert not folder.exists() and not any(p.exists() for p in made)


def importing_task(module: str, folder: str) -> None:
    """Import ``module`` from ``folder`` (its import stops this worker), then wait forever."""
    sys.path.insert(0, folder)
    try:
        __import__(module)
        while True:
            sum(range(1000))
    finally:
        Path(folder, "cleaned").write_text("x")


def test_stop_during_an_import_waits_for_its_end(tmp_path):
    """An exception from a stop signal never goes through an import (through torch's C++ set-up
    it aborted the worker, which then cleaned nothing up): the worker stops right after it."""
    from concurrent.futures.process import BrokenProcessPool

    from cnnanim.output.workers import WorkerPool

    (tmp_path / "stopped_mid_import.py").write_text(textwrap.dedent(f"""
        import os, signal, time
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.5)
        open({str(tmp_path / "imported")!r}, "w").close()
    """))
    with WorkerPool(1) as pool:
        future = pool.submit(importing_task, "stopped_mid_import", str(tmp_path))
        with pytest.raises(BrokenProcessPool):
            future.result(timeout=60)
        processes = list(pool._pool._processes.values())
    assert (tmp_path / "imported").exists() and (tmp_path / "cleaned").exists()
    assert all(p.exitcode == 128 + signal.SIGTERM for p in processes)


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


# -- 11. file modes ---------------------------------------------------------------------------------------
def test_every_output_gets_the_usual_mode(tmp_path, monkeypatch):
    from cnnanim.output.lecture import Chapter, make_lecture
    from cnnanim.output.render import render_scene
    from cnnanim.scenes.title_card import TitleCard

    old = os.umask(0o022)
    try:
        r = render_scene("input", fmt="mp4", still=True, voice="none", fast=True, fps=5,
                         output=tmp_path / "v.mp4")
        g = render_scene("input", fmt="gif", gif_width=64, gif_fps=2, output=tmp_path / "g.gif")
        card = (Chapter("one", {"en": "One"}, (TitleCard,)),)
        lec = make_lecture(voice="none", output=tmp_path / "l.mp4", chapters=card,
                           progress=False, cards=False, fast=True, jobs=1)
    finally:
        os.umask(old)
    written = r.paths + g.paths + [lec.path, lec.subtitles]
    assert {p.suffix for p in written} == {".mp4", ".srt", ".png", ".gif"}
    for p in written:
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p


# -- 12., 13. outputs and options ------------------------------------------------------------------------
def test_outputs_that_are_not_regular_files_are_refused(tmp_path):
    from cnnanim.output.render import resolve_output

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for bad in ("/dev/null", fifo):
        with pytest.raises(CnnanimError, match="not a regular file"):
            resolve_output("input", "mp4", "l", "en", bad)
    with pytest.raises(CnnanimError, match="does not match the format gif"):
        resolve_output("input", "gif", "l", "en", tmp_path / "g.mp4")


@pytest.mark.parametrize("value", ["0", "-3", "two"])
def test_cnnanim_jobs_below_one_is_refused_like_the_option(monkeypatch, value):
    from cnnanim.output.render import default_jobs

    monkeypatch.setenv("CNNANIM_JOBS", value)
    with pytest.raises(CnnanimError, match=f"CNNANIM_JOBS must be a whole number of at least 1, "
                                           f"got '{value}'"):
        default_jobs()


def test_write_errors_name_the_right_file(tmp_path):
    out, scratch = tmp_path / "x.mp4", tmp_path / ".cnnanim-render-1"
    full = OSError(errno.ENOSPC, "No space left on device", str(scratch / "part.mp4"))
    try:
        raise RuntimeError("Failed to finish video segment") from full
    except RuntimeError as e:
        assert str(files.write_error(e, out, scratch)) == \
            f"cannot write {out}: No space left on device"
    elsewhere = OSError(errno.ENOSPC, "No space left on device", "/var/cache/x.svg")
    assert str(files.write_error(elsewhere, out, scratch)) == \
        "cannot write /var/cache/x.svg: No space left on device"
    assert files.write_error(ValueError("no OS error"), out, scratch) is None
    assert files.write_error(CnnanimError("cannot write /a: b"), out, scratch) is None
