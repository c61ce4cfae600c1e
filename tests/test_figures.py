"""Article figures: beats, partial renders, crop, legible width, loops, formats, alt text, kit."""

from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageColor

from cnnanim.cli import main
from cnnanim.draw import colors
from cnnanim.errors import CnnanimError
from cnnanim.output import figures as F
from cnnanim.output import gif as G
from cnnanim.scenes.registry import all_scenes

FPS = F.DEFAULT_FPS


def run(*args):
    return CliRunner().invoke(main, list(args))


def samples(g: G.GifFrames, fps: float = FPS) -> list[np.ndarray]:
    """One frame per 1/fps (the merged frames expanded again)."""
    out = []
    for f, d in zip(g.frames, g.durations):
        out += [f] * int(round(d * fps / 1000))
    return out


def gif_frames(path) -> tuple[list[np.ndarray], list[int], dict]:
    with Image.open(path) as im:
        info = dict(im.info)
        frames, durations = [], []
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(np.asarray(im.convert("RGB")).astype(np.int16))
            durations.append(im.info["duration"])
    return frames, durations, info


# -- beats ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(all_scenes()))
def test_beats_tile_every_scene_in_order(name):
    tl = F.scene_timeline(name)
    assert tl.complete and tl.frames > 0 and tl.beats
    raw = tl.beats
    assert all(b.text and "{" not in b.text for b in raw)            # sentences, filled in
    assert all(a.end <= b.start for a, b in zip(raw, raw[1:]))       # in the order they play
    assert len({b.name for b in raw}) == len(raw)                      # names are unique
    spans = tl.spans()
    assert spans[0].start == 0 and spans[-1].end == tl.frames
    assert all(a.end == b.start for a, b in zip(spans, spans[1:]))    # they tile the scene
    assert sum(s.end - s.start for s in spans) == tl.frames
    assert tl.plays[-1].end == tl.frames


def test_beats_command_lists_names_durations_sentences():
    r = run("beats", "conv-slide")
    assert r.exit_code == 0, r.output
    tl = F.scene_timeline("conv-slide")
    lines = r.stdout.splitlines()
    assert [ln.split()[0] for ln in lines] == [b.name for b in tl.beats]
    total = 0.0
    for line, span in zip(lines, tl.spans()):
        m = re.match(r"^(\S+)\s+(\d+\.\d\d) s  (.+)$", line)
        assert m and m.group(3) == span.text
        total += float(m.group(2))
    assert total == pytest.approx(tl.frames / FPS, abs=0.01)
    assert f"{tl.frames / FPS:.2f} s" in r.stderr


@pytest.mark.parametrize("command", ["beats", "figures"])
def test_help_ends_with_example(command):
    text = run(command, "--help").stdout.split("Options:")[0].rstrip().splitlines()
    start = max(i for i, ln in enumerate(text) if ln.strip() == "Example:")
    assert all(ln.strip().startswith("cnnanim ") for ln in text[start + 1:])


# -- a partial render -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def apply_fig(tmp_path_factory):
    """The ``apply`` beat of relu as a default figure, counting the frames the renderer draws."""
    from manim.renderer.cairo_renderer import CairoRenderer

    drawn = []
    real = CairoRenderer.update_frame

    def counting(self, *args, **kwargs):
        drawn.append(1)
        return real(self, *args, **kwargs)

    CairoRenderer.update_frame = counting
    try:
        out = tmp_path_factory.mktemp("fig") / "apply.gif"
        r = F.render_figure("relu", beats=["apply"], output=out)
    finally:
        CairoRenderer.update_frame = real
    return r, len(drawn)


def test_beat_renders_only_its_frames(apply_fig):
    r, updates = apply_fig
    tl = F.scene_timeline("relu")
    span = tl.span("apply")
    assert r.windows == [(span.start, span.end)]
    n = span.end - span.start
    assert r.part.rendered == n                        # the renderer drew exactly the beat
    assert len(samples(r.part.raw)) == n               # and all of it is in the figure
    plays = [p for p in tl.plays if p.start < span.end and span.start < p.end]
    assert updates <= n + len(plays) + 2               # one draw per frame (+ static frames)
    assert updates < tl.frames / 2                     # nowhere near the whole scene


def test_beat_frames_equal_the_whole_scene_render(tmp_path):
    """Skipping the plays before a beat changes nothing in it: same pixels as a full render."""
    common = dict(crop="none", title=False, captions=False, width=854, once=True)
    whole = F.render_figure("input", output=tmp_path / "all.gif", **common)
    part = F.render_figure("input", beats=["split"], output=tmp_path / "split.gif", **common)
    (a, b), = part.windows
    full = samples(whole.part.raw)
    assert len(full) == F.scene_timeline("input").frames   # the dry run's length is the render's
    got = samples(part.part.raw)
    assert len(got) == b - a
    assert all(np.array_equal(x, y) for x, y in zip(got, full[a:b]))
    # a time range cutting through animations: those are rendered whole, their ends dropped
    cut = F.render_figure("input", start=3.04, end=7.46, output=tmp_path / "cut.gif", **common)
    assert cut.windows == [(30, 75)]
    got = samples(cut.part.raw)
    assert len(got) == 45 and all(np.array_equal(x, y) for x, y in zip(got, full[30:75]))


def test_crop_auto_inside_frame_and_holds_everything_drawn(apply_fig, tmp_path):
    r, _ = apply_fig
    x0, y0, x1, y1 = r.box
    assert -F.FRAME_WIDTH / 2 <= x0 < x1 <= F.FRAME_WIDTH / 2
    assert -F.FRAME_HEIGHT / 2 <= y0 < y1 <= F.FRAME_HEIGHT / 2
    px = r.part.pixel_crop
    assert px[0] >= 0 and px[1] >= 0 and px[2] > px[0] and px[3] > px[1]
    # the same beat uncropped, without title or captions: every drawn pixel lies in the crop
    full = F.render_figure("relu", beats=["apply"], crop="none", title=False, captions=False,
                           width=854, once=True, output=tmp_path / "full.gif")
    assert full.box is None
    left, top, right, bottom = F.pixel_box(r.box, 854, 480)
    assert right <= 854 and bottom <= 480
    bg = np.array(ImageColor.getrgb(str(colors.BACKGROUND))[:3])
    for f in full.part.raw.frames:
        ink = np.abs(f.astype(int) - bg).sum(axis=2) > 24
        ink[max(0, top - 1):bottom + 1, max(0, left - 1):right + 1] = False
        assert not ink.any()
    assert r.width < 854 * (x1 - x0) / F.FRAME_WIDTH * 2    # cropped, not the whole frame


def test_default_width_makes_numbers_legible(apply_fig):
    r, _ = apply_fig
    tl = F.scene_timeline("relu")
    digit = tl.drawn(r.windows).digit
    assert np.isfinite(digit)
    assert r.number_px >= F.MIN_NUMBER_PX
    assert digit * r.width / (r.box[2] - r.box[0]) >= F.MIN_NUMBER_PX
    assert r.width == F.legible_width(r.box, digit)


def test_narrow_width_warns(tmp_path):
    r = run("gif", "relu", "--beat", "apply", "--width", "200", "--fps", "5",
            "-o", str(tmp_path / "narrow.webp"))
    assert r.exit_code == 0, r.output
    warnings = [ln for ln in r.stderr.splitlines() if ln.startswith("Warning:")]
    assert len(warnings) == 1 and "px tall" in warnings[0] and "--width" in warnings[0]
    assert Image.open(tmp_path / "narrow.webp").size[0] == 200


def test_loop_returns_to_first_frame_without_a_jump(apply_fig):
    r, _ = apply_fig
    frames, durations, info = gif_frames(r.path)
    assert info["loop"] == 0
    first, last = frames[0], frames[-1]
    n_fade = len(G.crossfade(first, first, FPS).frames)
    end = frames[-1 - n_fade]                            # the last frame of the beat itself
    assert durations[-1 - n_fade] >= G.LOOP_HOLD_MS      # held before looping
    jump = np.abs(last - first).mean()
    assert np.abs(end - first).mean() > 1.0              # the beat does change the picture
    assert jump < np.abs(end - first).mean() / (n_fade / 2 + 1)
    steps = [np.abs(a - b).mean() for a, b in zip(frames[-1 - n_fade:], frames[-n_fade:])]
    assert jump <= max(steps) + 0.5                      # the restart is one more fade step


def test_once_holds_the_end_and_does_not_loop(tmp_path):
    raw = G.GifFrames([np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 200, np.uint8)],
                      [100, 100])
    once = G.loop_frames(raw, FPS, once=True)
    assert len(once.frames) == 2 and once.durations == [100, 100 + G.LOOP_HOLD_MS]
    looped = G.loop_frames(raw, FPS)
    assert len(looped.frames) > 2
    path = G.encode_gif(once, tmp_path / "once.gif", loop=False)
    with Image.open(path) as im:
        assert "loop" not in im.info


def test_alt_text_beside_figure_names_a_number_shown(apply_fig):
    r, _ = apply_fig
    alt = F.alt_path(r.path).read_text(encoding="utf-8").strip()
    assert alt and alt == r.alt and r.alt_path == F.alt_path(r.path)
    shown = F.scene_timeline("relu").drawn(r.windows).numbers
    assert set(re.findall(r"-?\d+(?:\.\d+)?", alt)) & shown
    assert f"![{alt}]({r.path})" == r.markdown
    assert f'alt="{alt}"' in r.html and r.html.startswith("<img ")


def test_alt_text_adds_numbers_when_narration_has_none():
    tl = F.scene_timeline("conv-slide")
    windows = [(tl.span("products").start, tl.span("products").end)]
    drawn = tl.drawn(windows)
    alt = F.alt_text(tl.beats_in(windows), drawn.numbers)
    assert set(re.findall(r"-?\d+\.\d+", alt)) <= drawn.numbers
    assert re.search(r"-?\d+\.\d+", alt)


def test_alt_text_in_chinese():
    tl = F.scene_timeline("relu", lang="zh")
    span = tl.span("apply")
    alt = F.alt_text([span], tl.drawn([(span.start, span.end)]).numbers, "zh")
    assert re.search(r"[\u4e00-\u9fff]", alt) and re.search(r"\d", alt)


def test_webp_mp4_webm_loops_decode(apply_fig, tmp_path):
    import av

    r, _ = apply_fig
    g = r.part.frames
    webp = G.encode_animation(g, tmp_path / "a.webp", FPS)
    with Image.open(webp) as im:
        assert im.format == "WEBP" and im.is_animated and im.info.get("loop") == 0
        total = 0
        for i in range(im.n_frames):
            im.seek(i)
            im.load()                                         # WebP frames tell their duration
            total += im.info["duration"]
        assert total == g.total_ms
    for suffix in (".mp4", ".webm"):
        video = G.encode_animation(g, tmp_path / f"a{suffix}", FPS)
        with av.open(str(video)) as c:
            assert not c.streams.audio                        # silent
            frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        assert len(frames) == round(g.total_ms * FPS / 1000)
        h, w = frames[0].shape[:2]
        assert (w, h) == (r.width - r.width % 2, r.height - r.height % 2)
        first = g.frames[0][:h, :w].astype(int)
        assert np.abs(frames[0].astype(int) - first).mean() < 6    # lossy, but the same picture


def test_gif_command_mp4_prints_video_snippet(tmp_path):
    out = tmp_path / "pool.mp4"
    r = run("gif", "pooling", "--beat", "window", "--fps", "5", "-o", str(out))
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[:2] == [str(out), str(tmp_path / "pool.alt.txt")]
    assert any(ln.startswith("<video ") and "autoplay muted loop playsinline" in ln
               for ln in lines[2:])
    assert (tmp_path / "pool.alt.txt").read_text(encoding="utf-8").strip() in r.stdout
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("args, expected", [
    (["gif", "relu", "--beat", "nope"], "apply"),
    (["gif", "relu", "--beat", "apply", "--from", "1"], "not both"),
    (["gif", "relu", "--from", "5", "--to", "500"], "--to"),
    (["gif", "relu", "--from", "9", "--to", "4"], "after --from"),
    (["gif", "relu", "--beat", "apply", "-o", "x.avi"], ".webp"),
])
def test_bad_figure_requests_are_one_line_errors(args, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run(*args)
    assert r.exit_code != 0
    assert r.stderr.startswith("Error: ") and len(r.stderr.strip().splitlines()) == 1
    assert expected in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_part_windows_merge_adjacent_beats():
    tl = F.scene_timeline("relu")
    a, b = tl.span("window"), tl.span("apply")
    assert F.part_windows(tl, ["apply", "window"]) == [(a.start, b.end)]
    assert F.part_windows(tl, [], 1.0, 2.5) == [(10, 25)]
    assert F.part_windows(tl) == [(0, tl.frames)]
    with pytest.raises(CnnanimError):
        F.part_windows(tl, [], 3.0, 3.0)


def test_join_frames_crossfades_between_windows():
    a, b = np.zeros((4, 4, 3), np.uint8), np.full((4, 4, 3), 250, np.uint8)
    g = F.gifmod.join_frames(G.GifFrames([a, b], [100, 100]), [1], FPS)
    assert len(g.frames) > 2 and 0 < g.frames[1].mean() < 250


# -- the kit ----------------------------------------------------------------------------------
def test_kit_index_shows_figures_with_alt_texts(tmp_path):
    kit = F.render_kit(tmp_path, only=["relu"], jobs=1)
    assert [r.path.name for r in kit.figures] == ["relu.gif"]
    index = kit.index.read_text(encoding="utf-8")
    alt = (tmp_path / "relu.alt.txt").read_text(encoding="utf-8").strip()
    assert f"![{alt}](relu.gif)" in index and f"*{alt}*" in index
    assert len({f.name for f in F.KIT}) == len(F.KIT) == 9
    assert all(f.scene in all_scenes() for f in F.KIT)
    for f in F.KIT:
        tl = F.scene_timeline(f.scene)
        for b in f.beats:
            tl.span(b)
