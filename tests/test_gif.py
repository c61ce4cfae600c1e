"""GIF pipeline: frame sampling, one global palette, atomic write; `cnnanim gif` on scene input."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from cnnanim.cli import main
from cnnanim.errors import CnnanimError
from cnnanim.output.gif import (
    FrameSampler,
    GifFrames,
    encode_gif,
    format_size,
    gif_size,
)


def gif_structure(data: bytes) -> tuple[bool, list[bool]]:
    """(has a global colour table, [has a local colour table] per image) of GIF bytes."""
    assert data[:6] in (b"GIF87a", b"GIF89a")
    packed = data[10]
    has_global = bool(packed & 0x80)
    i = 13 + (3 * 2 ** ((packed & 7) + 1) if has_global else 0)
    local = []

    def skip_sub_blocks(i: int) -> int:
        while data[i]:
            i += data[i] + 1
        return i + 1

    while data[i] != 0x3B:
        if data[i] == 0x21:                  # extension: label, sub-blocks
            i = skip_sub_blocks(i + 2)
        elif data[i] == 0x2C:                # image descriptor
            p = data[i + 9]
            local.append(bool(p & 0x80))
            i += 10 + (3 * 2 ** ((p & 7) + 1) if p & 0x80 else 0)
            i = skip_sub_blocks(i + 1)       # LZW minimum code size, then image data
        else:
            raise AssertionError(f"bad GIF block 0x{data[i]:02x} at {i}")
    return has_global, local


def frame(value: int, h: int = 48, w: int = 64) -> np.ndarray:
    a = np.full((h, w, 4), 255, np.uint8)
    a[..., :3] = value
    return a


# -- unit tests (no rendering) ----------------------------------------------------------------
def test_sampler_subsamples_15_to_10_fps():
    s = FrameSampler(src_fps=15, fps=10, width=32)
    for i in range(30):  # 2 s of distinct frames
        s.add(frame(i * 8))
    g = s.result()
    assert len(g.frames) == 20
    assert g.durations == [100] * 20
    assert g.frames[0].shape == (24, 32, 3)
    # output frame k shows source frame floor(1.5 k)
    assert [int(f[0, 0, 0]) for f in g.frames[:4]] == [0, 8, 24, 32]


def test_sampler_merges_repeats_and_identical_frames():
    s = FrameSampler(src_fps=15, fps=10, width=64)
    s.add(frame(10), repeat=30)       # a 2 s wait arrives as one frame repeated
    s.add(frame(10))                  # identical: only lengthens it
    s.add(frame(200), repeat=14)
    g = s.result()
    assert len(g.frames) == 2
    assert g.total_ms == 3000
    assert g.durations[0] == 2100 and g.durations[1] == 900


@pytest.mark.parametrize("fps", [7, 12, 15, 24, 30])
def test_durations_are_whole_centiseconds_without_drift(fps):
    s = FrameSampler(src_fps=60, fps=fps, width=16)
    for i in range(600):  # 10 s
        s.add(frame(i % 250, 8, 16))
    g = s.result()
    assert all(d % 10 == 0 and d >= 20 for d in g.durations)
    assert abs(g.total_ms - 10_000) <= 1000 / fps


def test_palette_mapper_is_exact_nearest_colour():
    from cnnanim.output.gif import PaletteMapper

    rng = np.random.default_rng(1)
    palette = rng.integers(0, 256, (256, 3))
    palette[0] = (255, 255, 255)
    img = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    img[:5] = 255
    m = PaletteMapper(palette)
    got = m(img)
    d = ((img.reshape(-1, 1, 3).astype(int) - palette[None]) ** 2).sum(axis=2)
    chosen = d[np.arange(d.shape[0]), got.ravel()]
    assert np.array_equal(chosen, d.min(axis=1))          # ties may pick either colour
    assert (got[:5] == 0).all()                           # white stays exactly white
    assert np.array_equal(m(img), got)                    # the cache gives the same answer


def test_gif_size_keeps_aspect():
    assert gif_size(480, 854, 480) == (480, 270)
    assert gif_size(854, 854, 480) == (854, 480)


def test_format_size():
    assert format_size(2048) == "2 KB"
    assert format_size(3 * 1024 * 1024 + 1) == "3.0 MB"


def test_encode_gif_one_palette_loop_atomic(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)
    frames = [np.roll(base, i * 3, axis=1) for i in range(5)]
    path = encode_gif(GifFrames(frames, [100, 100, 200, 100, 500]), tmp_path / "t.gif")
    assert [p.name for p in tmp_path.iterdir()] == ["t.gif"]
    with Image.open(path) as im:
        assert im.format == "GIF" and im.info["loop"] == 0 and im.n_frames == 5
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
        assert durations == [100, 100, 200, 100, 500]
    has_global, local = gif_structure(path.read_bytes())
    assert has_global and local == [False] * 5          # ONE palette for every frame


def test_encode_gif_unwritable_leaves_nothing(tmp_path):
    with pytest.raises(CnnanimError):
        encode_gif(GifFrames([np.zeros((8, 8, 3), np.uint8)], [100]), tmp_path / "no" / "t.gif")
    assert list(tmp_path.iterdir()) == []


# -- the command ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gif_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gif")
    r = CliRunner().invoke(main, ["gif", "input", "-o", str(out / "input.gif")],
                           catch_exceptions=False)
    still = CliRunner().invoke(main, ["render", "input", "-f", "png", "-o", str(out / "s.png")],
                               catch_exceptions=False)
    assert still.exit_code == 0, still.output
    return r, out


def _rgb(im: Image.Image) -> np.ndarray:
    return np.asarray(im.convert("RGB")).astype(np.int16)


def test_gif_command(gif_run):
    r, out = gif_run
    assert r.exit_code == 0, r.output
    path = out / "input.gif"
    assert r.stdout.splitlines() == [str(path)]
    assert "KB" in r.stderr or "MB" in r.stderr
    assert path.read_bytes()[:6] == b"GIF89a"
    assert path.stat().st_size < 1_500_000
    has_global, local = gif_structure(path.read_bytes())
    assert has_global and len(local) > 1 and not any(local)
    with Image.open(path) as im:
        assert im.size == (480, 270)
        assert im.info["loop"] == 0
        assert im.n_frames > 1
        total = 0
        for i in range(im.n_frames):
            im.seek(i)
            total += im.info["duration"]
    # silent but as long as the scene (the .srt of the video ends with the last beat)
    assert 5_000 < total < 120_000
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_gif_frames_match_the_renderer(gif_run):
    """Colours stay true: the last GIF frame is the PNG still (resized) up to the palette."""
    r, out = gif_run
    assert r.exit_code == 0
    with Image.open(out / "s.png") as s:
        still = _rgb(s.convert("RGB").resize((480, 270), Image.Resampling.LANCZOS))
    with Image.open(out / "input.gif") as im:
        im.seek(im.n_frames - 1)
        last = _rgb(im)
        im.seek(0)
        first = _rgb(im)
    content = slice(0, int(270 * (1 - 1.4 / 8)) - 4)   # above the caption band
    diff = np.abs(last[content] - still[content])
    assert diff.mean() < 1.5                                  # measured 0.5 (256 colours)
    mse = np.mean(diff.astype(float) ** 2)
    assert 10 * np.log10(255 ** 2 / max(mse, 1e-9)) > 35     # PSNR in dB
    # the background is exactly the still's white in the first frame too (no grey cast): the
    # commonest colour of the content area is pure white in both
    def commonest(pixels):
        colours, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
        return tuple(int(v) for v in colours[counts.argmax()])

    assert commonest(first[content]) == commonest(still[content]) == (255, 255, 255)
    assert np.array_equal(last[5, 470], still[5, 470])


def test_render_format_gif_uses_the_same_pipeline(tmp_path, monkeypatch):
    import cnnanim.output.gif as gifmod

    calls = []
    real = gifmod.encode_gif
    monkeypatch.setattr(gifmod, "encode_gif", lambda g, p, **k: calls.append(p) or real(g, p, **k))
    r = CliRunner().invoke(main, ["render", "input", "-f", "gif", "-o", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [str(tmp_path / "input-en-l.gif")]
    assert calls == [tmp_path / "input-en-l.gif"]
    with Image.open(tmp_path / "input-en-l.gif") as im:
        assert im.size == (480, 270) and im.info["loop"] == 0


def test_sampler_refuses_absurd_memory(monkeypatch):
    import cnnanim.output.gif as gifmod

    monkeypatch.setattr(gifmod, "MAX_FRAME_BYTES", 10_000)
    s = FrameSampler(src_fps=10, fps=10, width=64)
    with pytest.raises(CnnanimError, match="smaller --width"):
        for i in range(10):
            s.add(frame(i * 20))
