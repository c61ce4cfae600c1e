"""A corpus of odd inputs run through the real command line, each in its own process.

Images, weights, options, environment variables, output paths, signals and full disks: every
case must end with a non-zero exit, exactly one ``Error: ...`` line on stderr, no traceback,
nothing half-written (no output, no temporary folder, no folder created for it) and no process
left behind. The validation cases run a few at a time (they are independent processes).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from cnnanim.network.images import SAMPLE_IMAGE
from cnnanim.network.weights import DEFAULT_WEIGHTS, read_weights

BIN = Path(sys.executable).parent
CNNANIM = str(BIN / "cnnanim")
pytestmark = pytest.mark.skipif(not Path(CNNANIM).exists() or not sys.platform.startswith("linux"),
                                reason="needs the installed cnnanim command and Linux /proc")


# -- running the command line -----------------------------------------------------------------
def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            fields = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            out.append(int(d))
    return out


def wait_group_gone(pgid: int, timeout: float = 5.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := group_members(pgid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


class Run:
    """One finished command: exit status, output, what it left behind."""

    def __init__(self, proc: subprocess.Popen, stdout: str, stderr: str, seconds: float):
        self.returncode, self.stdout, self.stderr = proc.returncode, stdout, stderr
        self.seconds = seconds
        self.left_processes = wait_group_gone(proc.pid)


def environment(tmp: Path, cache: Path, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CNNANIM_") or k == "CNNANIM_SHARED"}
    env.update({"CNNANIM_CACHE": str(cache), "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1"})
    env.update(extra or {})
    return env


def start(args, cwd: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([CNNANIM, *map(str, args)], cwd=cwd, env=env, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def run(args, cwd: Path, env: dict, timeout: float = 180) -> Run:
    """Run the command; one still running after ``timeout`` seconds is killed (a failure)."""
    t0 = time.monotonic()
    p = start(args, cwd, env)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        err += f"\n(killed: still running after {timeout:.0f} s)"
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    return Run(p, out, err, time.monotonic() - t0)


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def assert_one_error(r: Run, hint: str = "") -> str:
    """Non-zero exit, exactly one ``Error:`` line (the last), no traceback, no process left."""
    assert r.returncode not in (0, None), (r.returncode, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("Error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert hint in errors[0], (hint, errors[0])
    assert not r.left_processes, f"processes left behind: {r.left_processes}"
    return errors[0]


# -- the inputs -------------------------------------------------------------------------------
def write_weights_raw(path: Path, tensors: dict, info) -> Path:
    """A weights file written as given (no dtype conversion, no checks)."""
    from dataclasses import asdict

    from safetensors.numpy import save

    path.write_bytes(save({k: np.ascontiguousarray(v) for k, v in tensors.items()},
                          metadata={"cnnanim": json.dumps(asdict(info))}))
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("inputs")
    (d / "bad.jpg").write_bytes(b"not an image, not weights " * 10)
    (d / "empty.png").write_bytes(b"")
    data = SAMPLE_IMAGE.read_bytes()
    (d / "trunc.png").write_bytes(data[:len(data) // 2])
    (d / "folder").mkdir()
    tensors, info = read_weights(DEFAULT_WEIGHTS["explainer"])
    nan = dict(tensors)
    nan["conv_1_1.weight"] = nan["conv_1_1.weight"].copy()
    nan["conv_1_1.weight"][0, 0, 0, 0] = np.nan
    write_weights_raw(d / "nan.safetensors", nan, info)
    inf = dict(tensors)
    inf["output.bias"] = inf["output.bias"].copy()
    inf["output.bias"][3] = np.inf
    write_weights_raw(d / "inf.safetensors", inf, info)
    ints = dict(tensors)
    ints["output.bias"] = np.round(ints["output.bias"]).astype(np.int32)
    write_weights_raw(d / "int.safetensors", ints, info)
    huge = {k: (v * np.float32(1e30) if k.endswith("weight") else v) for k, v in tensors.items()}
    write_weights_raw(d / "overflow.safetensors", huge, info)
    import pickle

    (d / "pickle.safetensors").write_bytes(pickle.dumps({"conv_1_1.weight": [1.0]}))
    return d


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


# name: (arguments, hint in the error line, extra environment)
CASES = {
    # images
    "image text file": (["predict", "{in}/bad.jpg"], "not an image", {}),
    "image empty file": (["render", "input", "--image", "{in}/empty.png", "-o", "out/x.mp4"],
                         "empty.png", {}),
    "image truncated": (["predict", "{in}/trunc.png"], "trunc.png", {}),
    "image folder": (["predict", "{in}/folder"], "folder", {}),
    "image missing": (["render", "input", "--image", "{in}/missing.jpg"], "not found", {}),
    "image URL": (["predict", "https://example.com/photos/cat.png"],
                  "https://example.com/photos/cat.png is a URL", {}),
    "image URL render": (["render", "input", "-i", "http://example.com/a.jpg", "-o", "out/"],
                         "download it first", {}),
    "image /dev/null": (["predict", "/dev/null"], "/dev/null", {}),
    # weights
    "weights NaN": (["predict", "--weights", "{in}/nan.safetensors"], "NaN or infinite", {}),
    "weights Inf render": (["render", "input", "-w", "{in}/inf.safetensors", "-o", "out/"],
                           "NaN or infinite", {}),
    "weights integers": (["predict", "--weights", "{in}/int.safetensors"], "floating-point", {}),
    "weights overflow": (["predict", "--weights", "{in}/overflow.safetensors"], "not finite",
                         {}),
    "weights pickle": (["predict", "--weights", "{in}/pickle.safetensors"],
                       "not a cnnanim weights file", {}),
    "weights URL": (["render", "input", "-w", "https://example.com/w.safetensors"], "URL", {}),
    # options
    "jobs 0": (["render", "input", "padding-seed", "-j", "0", "-o", "out/"], "--jobs", {}),
    # (gif -o g.mp4 writes an mp4 loop, an article figure: see test_figures)
    "gif as avi": (["gif", "input", "-o", "g.avi"], "does not match the format gif", {}),
    "unknown scene": (["render", "nope"], "input", {}),
    "lecture language": (["lecture", "--lang", "fr"], "'en'", {}),
    # environment
    "CNNANIM_JOBS=0": (["render", "input", "padding-seed", "-o", "out/"], "CNNANIM_JOBS",
                       {"CNNANIM_JOBS": "0"}),
    "CNNANIM_JOBS=-3": (["render", "input", "padding-seed", "-o", "out/"], "'-3'",
                        {"CNNANIM_JOBS": "-3"}),
    "CNNANIM_JOBS=two": (["render", "input", "-o", "out/x.png"], "CNNANIM_JOBS",
                         {"CNNANIM_JOBS": "two"}),
    "CNNANIM_JOBS=0 lecture": (["lecture", "--voice", "none", "-o", "out/l.mp4"],
                               "CNNANIM_JOBS", {"CNNANIM_JOBS": "0"}),
    "CNNANIM_IMAGE missing": (["render", "input", "-o", "out/"], "not found",
                              {"CNNANIM_IMAGE": "{in}/missing.png"}),
    "CNNANIM_WEIGHTS NaN": (["render", "input", "-o", "out/"], "NaN",
                            {"CNNANIM_WEIGHTS": "{in}/nan.safetensors"}),
    # output paths
    "render -o /dev/null": (["render", "input", "-o", "/dev/null"], "not a regular file", {}),
    "lecture -o /dev/null": (["lecture", "--voice", "none", "-o", "/dev/null"],
                             "not a regular file", {}),
    "gif -o /dev/null": (["gif", "input", "-o", "/dev/null"], "not a regular file", {}),
    "preview -o /dev/null": (["preview", "input", "-o", "/dev/null"], "not a regular file", {}),
    "render -o FIFO": (["render", "input", "-o", "fifo.mp4"], "not a regular file", {}),
    "render .srt is a FIFO": (["render", "input", "-o", "s.mp4"], "s.srt is not a regular", {}),
    "render -o under a file": (["render", "input", "-o", "afile/x.mp4"], "not a folder", {}),
    "render .srt is a folder": (["render", "input", "-o", "v.mp4"], "v.srt is a folder", {}),
    "lecture -o folder": (["lecture", "--voice", "none", "-o", "adir"], "adir", {}),
}


def prepare(work: Path) -> None:
    """What the output-path cases find in their working folder."""
    os.mkfifo(work / "fifo.mp4")
    os.mkfifo(work / "s.srt")
    (work / "afile").write_text("a file, not a folder")
    (work / "v.srt").mkdir()
    (work / "adir").mkdir()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, inputs, cache) -> dict:
    """Every case of :data:`CASES`, run up to three at a time; name -> (Run, work, tmp)."""
    root = tmp_path_factory.mktemp("corpus")

    def one(name: str):
        args, _, extra = CASES[name]
        work, tmp = root / f"{len(name)}-{abs(hash(name))}", root / f"tmp-{abs(hash(name))}"
        work.mkdir()
        tmp.mkdir()
        prepare(work)
        before = tree(work)
        args = [a.format(**{"in": inputs}) for a in args]
        env = environment(tmp, cache, {k: v.format(**{"in": inputs}) for k, v in extra.items()})
        r = run(args, work, env, timeout=90)
        return name, (r, before, tree(work), tmp)

    with ThreadPoolExecutor(3) as pool:
        return dict(pool.map(one, CASES))


@pytest.mark.parametrize("name", list(CASES))
def test_odd_input_is_one_error_line_and_leaves_nothing(corpus, name):
    r, before, after, tmp = corpus[name]
    line = assert_one_error(r, CASES[name][1])
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr  # nothing else on stderr
    assert r.stdout == ""
    assert after == before, f"left behind: {after ^ before}"
    assert list(tmp.iterdir()) == []  # no scratch folder in the temp folder
    if "-o /dev/null" in name:
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
        assert not Path("/dev/null.mp4").exists() and not Path("/dev/null.srt").exists()
    if name == "image URL":
        assert "https:/example" not in line  # the URL as given, not as a path


# -- stdout closed early ---------------------------------------------------------------------------
def test_closed_stdout_is_a_quiet_exit(tmp_path, cache):
    """`cnnanim list | head -1`: no BrokenPipeError, nothing on stderr."""
    r_fd, w_fd = os.pipe()
    os.close(r_fd)
    try:
        p = subprocess.run([CNNANIM, "list"], stdout=w_fd, stderr=subprocess.PIPE, text=True,
                           env=environment(tmp_path, cache), timeout=60)
    finally:
        os.close(w_fd)
    assert p.returncode == 141 and p.stderr == ""


# -- the plain manim command -----------------------------------------------------------------------
@pytest.mark.parametrize("variable, value, hint", [
    ("CNNANIM_LANG", "xx", "unknown language 'xx'"),
    ("CNNANIM_IMAGE", "/nonexistent/photo.png", "image not found"),
])
def test_plain_manim_with_a_bad_variable_says_one_line(tmp_path, cache, variable, value, hint):
    import cnnanim.scenes.input_layer as module

    env = environment(tmp_path, cache, {variable: value})
    p = subprocess.run([str(BIN / "manim"), "render", "-ql", "--media_dir", str(tmp_path / "m"),
                        module.__file__, "InputLayer"], env=env, cwd=tmp_path, text=True,
                       capture_output=True, timeout=120)
    assert p.returncode != 0
    assert p.stderr.strip().splitlines() == [p.stderr.strip()] and hint in p.stderr
    assert p.stderr.startswith("Error: ") and "Traceback" not in p.stderr + p.stdout


# -- signals ----------------------------------------------------------------------------------------
def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def temp_folders(folder: Path, prefix: str) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return []


def loading_torch(pgid: int) -> int:
    """How many processes of group ``pgid`` besides its leader have torch's library loaded
    (``import torch`` goes on for a second or more after that)."""
    n = 0
    for pid in group_members(pgid):
        try:
            n += pid != pgid and "libtorch_cpu" in Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            pass
    return n


SIGNAL_CASES = {
    # name: (arguments, signal, to the whole group (a terminal's Ctrl-C), exit status)
    "render -j 2, SIGTERM": (["render", "input", "padding-seed", "-j", "2"], signal.SIGTERM,
                             False, 143),
    "render -j 2, SIGHUP": (["render", "input", "padding-seed", "-j", "2"], signal.SIGHUP,
                            False, 129),
    "render -j 2, SIGHUP while importing torch": (["render", "input", "padding-seed", "-j", "2"],
                                                  signal.SIGHUP, False, 129),
    "render -j 1, SIGTERM": (["render", "input", "-j", "1"], signal.SIGTERM, False, 143),
    "lecture -j 2, Ctrl-C": (["lecture", "-j", "2"], signal.SIGINT, True, 130),
    "lecture -j 2, SIGTERM": (["lecture", "-j", "2"], signal.SIGTERM, False, 143),
}


@pytest.mark.parametrize("name", list(SIGNAL_CASES))
def test_signal_stops_every_process_and_cleans_up(tmp_path, name):
    """Cold caches of its own, as in a fresh clone: the workers make Pango's SVGs in their
    scratch folders and import torch to trace the photo while the signal comes."""
    args, sig, group, status = SIGNAL_CASES[name]
    work, tmp, cache = tmp_path / "work", tmp_path / "tmp", tmp_path / "cache"
    work.mkdir()
    tmp.mkdir()
    out = work / "out"
    lecture = args[0] == "lecture"
    args = [*args, "--voice", "none", "-o", out / "lecture.mp4" if lecture else f"{out}/"]
    p = start(args, work, environment(tmp, cache))
    said: dict[str, float] = {}  # stderr line -> when it came
    reader = threading.Thread(target=lambda: said.update(
        (line, time.monotonic()) for line in p.stderr), daemon=True)
    reader.start()
    try:
        if lecture:  # both workers are rendering a part of the lecture
            wait_for(lambda: sum(len(temp_folders(d, ".part-"))
                                 for d in temp_folders(out, ".cnnanim-lecture-")) >= 2,
                     120, "two lecture parts rendering")
        else:
            n = 2 if "-j 2" in name else 1
            wait_for(lambda: len(temp_folders(out, ".cnnanim-render-")) >= n, 120,
                     f"{n} renders running")
        if "importing torch" in name:  # padding-seed's worker traces its seeds (a cold cache)
            wait_for(lambda: loading_torch(p.pid) >= 1, 120, "a worker importing torch")
        t0 = time.monotonic()
        os.killpg(p.pid, sig) if group else p.send_signal(sig)
        p.wait(timeout=60)  # then Python's own exit (about 1 s with torch loaded, more when
        left = wait_group_gone(p.pid)  # the machine is busy)
        time.sleep(1.0)  # nothing is written after the command ended
        written = sorted(map(str, out.rglob("*"))) if out.exists() else None
    finally:
        try:  # whatever is left (a failure) goes now
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        reader.join(10)
    assert p.returncode == status, "".join(said)
    assert not left, f"processes left behind: {left}"
    r = Run(p, p.stdout.read(), "".join(said), time.monotonic() - t0)
    line = assert_one_error(r, "interrupted" if sig == signal.SIGINT else
                            f"stopped by {signal.Signals(sig).name}")
    stopped = said[line + "\n"] - t0  # every worker stopped, every folder removed by then
    assert stopped < 6.0, f"took {stopped:.1f} s to stop"  # grace 2 s, on a busy machine
    assert written is None, written  # no temp folder, no partial video, no folder made for it
    assert list(tmp.iterdir()) == []


# -- full disks ---------------------------------------------------------------------------------
def small_disk_command(mount: Path, listing: Path, args, size: str = "300k") -> list[str] | None:
    """``args`` run with a ``size`` tmpfs on ``mount`` (a private mount namespace; as an
    unprivileged user through a user namespace); the tmpfs's files are listed into
    ``listing`` before it goes. None when this machine cannot do that."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    base = [unshare, "--mount"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    if subprocess.run(base + ["true"], capture_output=True).returncode != 0:
        return None
    script = ('mount -t tmpfs -o size="$1" tmpfs "$2" || exit 99; shift 2; "$@"; rc=$?; '
              f'ls -A "{mount}" > "{listing}"; exit $rc')
    return base + ["sh", "-c", script, "sh", size, str(mount), CNNANIM, *map(str, args)]


def run_on_small_disk(tmp_path: Path, cache: Path, args, mount: Path, extra=None,
                      size: str = "300k"):
    listing = tmp_path / "listing.txt"
    cmd = small_disk_command(mount, listing, args, size)
    if cmd is None:
        pytest.skip("cannot mount a small tmpfs here (no mount namespaces)")
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    env = environment(tmp, cache, extra)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    out, err = p.communicate(timeout=180)
    assert p.returncode != 99, err
    return Run(p, out, err, time.monotonic() - t0), listing.read_text().split()


def test_full_output_disk_names_the_output(tmp_path, cache):
    disk = tmp_path / "disk"
    disk.mkdir()
    r, left = run_on_small_disk(tmp_path, cache, ["render", "input", "--voice", "none", "-o",
                                                  disk / "x.mp4"], disk)
    line = assert_one_error(r)
    assert line == f"Error: cannot write {disk / 'x.mp4'}: No space left on device"
    assert r.stderr.strip() == line and r.stdout == ""  # no Manim traceback anywhere
    assert left == []


def test_full_temp_folder_names_the_svg(tmp_path, cache):
    """Pango's SVG files go to the system's temp folder, not beside the output: when that one
    is full, the message says which file could not be written."""
    disk = tmp_path / "disk"
    disk.mkdir()
    out = tmp_path / "out"
    r, left = run_on_small_disk(tmp_path, cache, ["render", "input", "--voice", "none", "-o",
                                                  out / "x.mp4"], disk,
                                {"TMPDIR": str(disk), "CNNANIM_TEXT_CACHE": str(tmp_path / "tc")},
                                size="40k")
    line = assert_one_error(r, "No space left on device")
    assert line.startswith(f"Error: cannot write {disk}/cnnanim-") and line.split(":")[1].endswith(".svg")
    assert r.stderr.strip() == line and r.stdout == ""
    assert left == [] and not out.exists()
