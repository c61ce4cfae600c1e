"""Speed helpers change how fast frames are made, never what they show (cnnanim.draw.speedups)."""

from __future__ import annotations

import copy
from fractions import Fraction

import av
import numpy as np
import pytest
from manim import DOWN, Text, VGroup, tempconfig
from manim.camera.camera import Camera

from cnnanim.draw import speedups, text
from cnnanim.draw.mobjects import FeatureMap, NumberGrid
from cnnanim.draw.text import MONO, NumberText, number


def _family_state(m):
    out = []
    for x in m.get_family():
        out.append((type(x).__name__, np.round(np.asarray(x.points), 9).tobytes(),
                    np.asarray(getattr(x, "fill_rgbas", [])).tobytes(),
                    np.asarray(getattr(x, "stroke_rgbas", [])).tobytes(),
                    getattr(x, "stroke_width", None)))
    return out


@pytest.mark.parametrize("make", [
    lambda: Text("Σ 0.53 conv_1_1", font_size=24),
    lambda: NumberGrid(np.array([[0.5, -1.25], [3.0, 0.0]]), scale="activation"),
    lambda: FeatureMap(np.linspace(-1, 1, 36).reshape(6, 6), height=1.0),
])
def test_fast_copy_equals_manim_copy(make):
    mob = make()
    speedups.uninstall_fast_copy()
    try:
        slow = mob.copy()
    finally:
        speedups.install_fast_copy()
    fast = mob.copy()
    assert _family_state(fast) == _family_state(slow)
    # a deep copy: nothing with points is shared, and changing the copy leaves the original
    ids = {id(x) for x in mob.get_family()}
    assert not ids & {id(x) for x in fast.get_family()}
    before = _family_state(mob)
    fast.shift(np.array([1.0, 2.0, 0.0])).set_color("#ff0000")
    assert _family_state(mob) == before


def test_fast_copy_keeps_shared_references_shared():
    t = Text("abc")
    speedups.install_fast_copy()
    c = copy.deepcopy(t)
    assert c.chars[0] is c[0] and c.chars[0] is not t[0]


@pytest.mark.parametrize("size", [14.3, 20, 26])
@pytest.mark.parametrize("s", ["0.53", "-1.20", "10.00", "7", "-0.08", "123.45", "1e-05"])
def test_number_text_has_the_outlines_text_draws(s, size):
    ref = Text(s, font=MONO, font_size=size)
    pts = np.concatenate([m.points for m in ref.submobjects])
    n = NumberText(s, size)
    assert n.text == s
    assert n.points.shape == pts.shape
    assert np.abs(n.points - pts).max() < 1e-5  # a pixel at 4K is 0.0037 scene units


@pytest.mark.parametrize("quality", ["low_quality", "high_quality"])
def test_number_text_pixels_match_text(quality):
    vals = ["0.53", "-1.20", "10.00", "-0.08"]
    with tempconfig({"quality": quality}):
        cam = Camera()
        frames = []
        for g in (VGroup(*[Text(s, font=MONO, font_size=20, color="#222222") for s in vals]),
                  VGroup(*[NumberText(s, 20, "#222222") for s in vals])):
            g.arrange(DOWN)
            cam.reset()
            cam.capture_mobjects([g])
            frames.append(cam.pixel_array.astype(int).copy())
    diff = np.abs(frames[0] - frames[1])
    ink = (np.abs(frames[0] - frames[0][0, 0]).max(-1) > 0).sum()
    assert ink > 500
    assert diff.max() <= 2  # one fill instead of one per glyph: edge pixels may differ by 2/255
    assert (diff.max(-1) > 0).sum() < 0.02 * ink


def test_number_falls_back_to_text_for_other_strings():
    assert isinstance(number(0.25), NumberText)
    assert isinstance(number(float("nan")), Text)
    with pytest.raises(ValueError):
        NumberText("1,5")


def test_text_memo_returns_independent_copies():
    a = text.cached_text("hello", font_size=20)
    b = text.cached_text("hello", font_size=20)
    assert a is not b and _family_state(a) == _family_state(b)
    a.set_color("#ff0000")
    assert _family_state(text.cached_text("hello", font_size=20)) == _family_state(b)


def _encode(encoder_cls, path, frames):
    from manim._config.video_encoder import VideoEncoderSpec

    spec = VideoEncoderSpec(container_format="mp4", codec="libx264", pixel_format="yuv420p",
                            width=64, height=48, frame_rate=Fraction(15),
                            options=(("crf", "23"),))
    enc = encoder_cls(target=path, spec=spec)
    for px, repeat in frames:
        enc.write_frame(px, repeat=repeat)
    enc.finish()
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(c.streams.video[0]) if p.size]


def test_repeat_encoder_writes_the_same_stream(tmp_path):
    from manim.scene.video_segment_encoder import VideoSegmentEncoder

    rng = np.random.default_rng(0)
    frames = []
    for repeat in (1, 7, 1, 1, 12, 3):
        px = rng.integers(0, 256, (48, 64, 4), dtype=np.uint8)
        px[..., 3] = 255
        frames.append((px, repeat))
    stock = _encode(VideoSegmentEncoder, tmp_path / "a.mp4", frames)
    quick = _encode(speedups.RepeatEncoder, tmp_path / "b.mp4", frames)
    assert len(stock) == sum(r for _, r in frames)
    assert quick == stock


def test_scenes_use_the_quick_writer():
    from cnnanim.scenes.input_layer import InputLayer

    with tempconfig({"quality": "low_quality", "dry_run": False}):
        scene = InputLayer()
    assert isinstance(scene.renderer.file_writer, speedups.QuickFileWriter)
    assert scene.renderer.file_writer.settings.max_inflight_encoders >= 3


def _glyph_state(t):
    return [(np.asarray(g.points).tobytes(), g.fill_rgbas.tobytes(), g.stroke_rgbas.tobytes(),
             g.background_stroke_rgbas.tobytes(), float(g.stroke_width),
             np.asarray(g.sheen_direction).shape, np.asarray(g.sheen_direction).round(9).tobytes())
            for g in t.get_family()]


@pytest.mark.parametrize("kind", ["text", "markup"])
def test_cached_text_matches_manim_text_from_disk(tmp_path, monkeypatch, kind):
    from manim import MarkupText

    monkeypatch.setenv("CNNANIM_TEXT_CACHE", str(tmp_path / "cache"))
    s = "Σ 0.53 + bias: 卷积" if kind == "text" else 'sum <b>0.53</b> <span foreground="#ff0000">x</span>'
    cls, ref_cls = ((text.CachedText, Text) if kind == "text"
                    else (text.CachedMarkupText, MarkupText))
    with tempconfig({"media_dir": str(tmp_path / "media")}):
        ref = ref_cls(s, font="Noto Sans CJK SC", font_size=22, color="#333333")
        first = cls(s, font="Noto Sans CJK SC", font_size=22, color="#333333")  # parses, stores
        assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
        second = cls(s, font="Noto Sans CJK SC", font_size=22, color="#333333")  # from disk
    assert isinstance(second, ref_cls)
    assert _glyph_state(first) == _glyph_state(ref)
    assert _glyph_state(second) == _glyph_state(ref)
    assert second.text == ref.text and second.height == ref.height


def test_text_cache_other_words_other_entry_and_bad_files_ignored(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("CNNANIM_TEXT_CACHE", str(cache))
    with tempconfig({"media_dir": str(tmp_path / "media")}):
        text.CachedText("one", font_size=20)
        text.CachedText("two", font_size=20)
        assert len(list(cache.glob("*.npz"))) == 2
        for f in cache.glob("*.npz"):
            f.write_bytes(b"not an npz")
        t = text.CachedText("one", font_size=20)  # unreadable entry: parse again
        assert _glyph_state(t) == _glyph_state(Text("one", font_size=20))


def test_text_cache_read_only_folder_still_draws(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("CNNANIM_TEXT_CACHE", str(blocker / "cache"))  # cannot be created
    with tempconfig({"media_dir": str(tmp_path / "media")}):
        t = text.CachedText("hello", font_size=20)
    assert len(t.submobjects) == 5


def _fade_scene(picture: bool):
    from manim import FadeIn, FadeOut, Group, GrowFromCenter, Square

    from cnnanim.scenes.base import CnnScene

    class Fades(CnnScene):
        picture_fades = picture

        def snap(self):
            self.wait(1 / 15)  # the first frame drawn after the animation has finished
            self.frames.append(self.renderer.get_frame().copy())

        def construct(self):
            grid = NumberGrid(np.array([[0.5, -1.25], [3.0, 0.0]]), scale="activation")
            other = NumberGrid(np.array([[0.1, 0.2]]), scale="weight").shift(2 * DOWN)
            sq = Square(0.5, color="#000000").shift(3 * np.array([1.0, 0, 0]))
            self.frames = []
            self.add(sq)
            self.play(FadeIn(Group(*grid.cells[:2], *grid.numbers[:2])), run_time=1)
            self.snap()
            self.play(FadeIn(Group(*grid.cells[2:], *grid.numbers[2:])), run_time=1)
            self.snap()
            self.play(GrowFromCenter(other), run_time=1)
            self.snap()
            self.play(FadeOut(grid), run_time=1)  # grid itself was never added: its members were
            self.snap()
            self.grid, self.other, self.sq = grid, other, sq

    return Fades


@pytest.mark.parametrize("quality", ["low_quality", "medium_quality"])
def test_picture_fades_end_like_plain_fades(tmp_path, quality):
    scenes = {}
    for picture in (False, True):
        with tempconfig({"quality": quality, "media_dir": str(tmp_path / str(picture)),
                         "write_to_movie": False, "disable_caching": True}):
            s = _fade_scene(picture)()
            s.render()
            scenes[picture] = s
    plain, pic = scenes[False], scenes[True]
    assert len(plain.frames) == len(pic.frames) == 4
    for a, b in zip(plain.frames, pic.frames):
        assert np.array_equal(a, b)
    assert plain.frames[1].std() > 0 and not np.array_equal(plain.frames[1], plain.frames[3])
    # afterwards the scene holds the vector mobjects, not pictures
    fam = pic.get_mobject_family_members()
    assert pic.other in fam and pic.sq in fam
    assert not any(hasattr(m, "picture_opacity") for m in pic.mobjects)
    # a faded-out group leaves the scene entirely (members added inside other groups too)
    assert not set(map(id, pic.grid.get_family())) & set(map(id, fam))


def test_half_faded_picture_looks_like_half_faded_vectors():
    from cnnanim.draw.camera import BoxCamera, rasterize

    with tempconfig({"quality": "low_quality"}):
        cam = BoxCamera(background_color="#ffffff")
        grid = NumberGrid(np.array([[0.5, -1.25], [3.0, 0.0]]), scale="activation")
        pic = rasterize(grid, cam)
        pic.picture_opacity = 0.5
        cam.reset()
        cam.capture_mobjects([pic])
        a = cam.pixel_array.astype(int).copy()
        faded = grid.copy().fade(0.5)
        cam.reset()
        cam.capture_mobjects([faded])
        b = cam.pixel_array.astype(int).copy()
    ink = np.abs(b - 255).max(-1) > 0
    assert ink.sum() > 1000
    assert np.abs(a - b)[ink].mean() < 6  # glyphs over cells blend a little differently


def record_frames(scene) -> None:
    """Keep every frame ``scene`` renders from now on in ``scene.frames``."""
    scene.frames = []
    record = scene.renderer.add_frame

    def add_frame(frame, num_frames=1):
        scene.frames.append(np.array(frame))
        record(frame, num_frames)

    scene.renderer.add_frame = add_frame


def _order_scene(static_above: bool):
    from manim import (
        Circle,
        FadeIn,
        Group,
        Indicate,
        ReplacementTransform,
        Square,
        UpdateFromAlphaFunc,
        Write,
    )

    from cnnanim.scenes.base import CnnScene

    class Order(CnnScene):
        picture_fades = False

        def construct(self):
            record_frames(self)
            self.moving_counts = []
            box = Square(1.0, color="#d62728").shift(4 * np.array([-1.0, 0, 0]))
            self.add(box)
            # drawn after the box: one far away, one right across the box's path
            far = NumberGrid(np.array([[0.5, -1.25], [3.0, 0.0]]), scale="activation")
            far.shift(2.5 * np.array([0, -1.0, 0]) + 4 * np.array([1.0, 0, 0]))
            across = Circle(0.8, color="#1f77b4", fill_opacity=0.8)
            self.add(far, across)
            target = Square(1.2, color="#2ca02c").shift(0.3 * np.array([1.0, 1.0, 0]))
            self.play(ReplacementTransform(box, target), run_time=1)
            self.moving_counts.append(len(self.moving_mobjects))
            self.play(Indicate(target), run_time=0.5)
            label = Group(NumberGrid(np.array([[1.0]]), scale="weight")).shift(2 * np.array([0, 1.0, 0]))
            self.play(FadeIn(label), Write(NumberGrid(np.array([[2.0]])).shift(np.array([-3.0, 2, 0]))),
                      run_time=0.5)
            self.play(UpdateFromAlphaFunc(target, lambda m, a: m.set_stroke(width=4 + 4 * a)),
                      run_time=0.5)

    return Order


def test_static_mobjects_above_animations_give_the_same_frames(tmp_path):
    scenes = {}
    for flag in (False, True):
        with tempconfig({"quality": "low_quality", "media_dir": str(tmp_path / str(flag)),
                         "write_to_movie": False, "disable_caching": True}):
            cls = _order_scene(flag)
            cls.static_above = flag
            s = cls()
            s.render()
            scenes[flag] = s
    stock, quick = scenes[False], scenes[True]
    assert len(stock.frames) == len(quick.frames) > 30
    for a, b in zip(stock.frames, quick.frames):
        assert np.array_equal(a, b)
    # the far grid was left out of the redrawn mobjects; the circle in the path was not
    assert quick.moving_counts[0] < stock.moving_counts[0]


def _frames_with_and_without_static_above(build, tmp_path) -> dict:
    """The frames of a one-play scene (``build(scene)`` adds mobjects and plays), rendered with
    and without ``static_above``."""
    from cnnanim.scenes.base import CnnScene

    class Recorded(CnnScene):
        picture_fades = False

        def construct(self):
            record_frames(self)
            build(self)

    frames = {}
    for flag in (False, True):
        with tempconfig({"quality": "low_quality", "media_dir": str(tmp_path / str(flag)),
                         "write_to_movie": False, "disable_caching": True}):
            s = type("Recorded", (Recorded,), {"static_above": flag})()
            s.render()
            frames[flag] = s.frames
    assert len(frames[False]) == len(frames[True]) > 5
    return frames


def test_numbers_of_a_grid_whose_edge_an_animation_touches_stay_on_top(tmp_path):
    """A grid drawn after a moving square, whose lower cell edge (not its numbers) the square's
    path touches, is redrawn over the static frame: its numbers with it, not under its cells."""
    from manim import Square

    def build(scene):
        mover = Square(0.5, color="#d62728", fill_opacity=1).move_to([-4.0, -2.0, 0])
        scene.add(mover)
        grid = NumberGrid(np.array([[0.5, -1.25, 3.0]]), scale="activation", cell=2.0)
        scene.add(grid)
        y = grid.get_bottom()[1] - 0.2  # the square's top passes just over the lower edge
        scene.play(mover.animate.move_to([4.0, y, 0]), run_time=0.5)

    frames = _frames_with_and_without_static_above(build, tmp_path)
    for a, b in zip(frames[False], frames[True]):
        assert np.array_equal(a, b)


def test_what_lies_midway_on_a_path_stays_above_the_mover(tmp_path):
    """A disc drawn after a square, halfway along the square's straight path (clear of its start
    and its end), stays drawn over it."""
    from manim import Circle, Square

    def build(scene):
        mover = Square(0.6, color="#d62728", fill_opacity=1).move_to([-5.0, 0, 0])
        scene.add(mover, Circle(0.5, color="#1f77b4", fill_opacity=1))
        scene.play(mover.animate.move_to([5.0, 0, 0]), run_time=0.5)

    frames = _frames_with_and_without_static_above(build, tmp_path)
    for a, b in zip(frames[False], frames[True]):
        assert np.array_equal(a, b)


def test_fading_in_what_is_on_screen_stays_a_plain_fade(tmp_path):
    from manim import FadeIn, Square

    from cnnanim.scenes.base import CnnScene

    class Again(CnnScene):
        def construct(self):
            sq = Square(1.0, color="#000000", fill_opacity=1)
            self.add(sq)
            anims, finish = self.get_picture_fades([FadeIn(sq)])
            self.kinds = [type(a).__name__ for a in anims]
            finish()

    with tempconfig({"quality": "low_quality", "media_dir": str(tmp_path),
                     "write_to_movie": False, "disable_caching": True}):
        s = Again()
        s.render()
    assert s.kinds == ["FadeIn"]
