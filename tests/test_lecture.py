"""The one-command lecture: planning, joining parts, chapters, one .srt, and the CLI."""

from __future__ import annotations

import av
import numpy as np
import pytest
import srt
from click.testing import CliRunner
from conftest import light_scene
from manim import Circle, Create, FadeIn, Square

from cnnanim.cli import main
from cnnanim.output.lecture import (
    CHAPTERS,
    Chapter,
    Part,
    join_subtitles,
    make_lecture,
    plan,
)


pytestmark = pytest.mark.usefixtures("voice_cache")  # never the user's voice cache

_Light = light_scene()  # no trace: these scenes show shapes only


class ShortA(_Light):
    NARRATION = {"a": {"en": "A square appears. It is one feature map.",
                       "zh": "出现一个正方形，它是一张特征图。"}}

    def construct(self) -> None:
        with self.beat("a") as b:
            self.play(FadeIn(Square()), run_time=b.part(0.3))


class ShortB(_Light):
    NARRATION = {"b": {"en": "A circle is drawn.", "zh": "画出一个圆。"}}

    def construct(self) -> None:
        with self.beat("b") as b:
            self.play(Create(Circle()), run_time=b.part(0.5))


MINI = (Chapter("first", {"en": "First", "zh": "第一部分"}, (ShortA,)),
        Chapter("second", {"en": "Second", "zh": "第二部分"}, (ShortB, "no-such-scene")))


def test_storyboard_order():
    names = [s for ch in CHAPTERS for s in ch.scenes]
    assert names == ["overview", "input", "conv-elastic", "conv-slide", "conv-deep", "padding",
                     "kernel-size", "stride", "relu", "pooling", "flatten", "softmax", "recap"]
    assert CHAPTERS[0].key == "overview" and CHAPTERS[-1].scenes == ("recap",)
    assert all(set(ch.title) == {"en", "zh"} for ch in CHAPTERS)


def test_plan_skips_missing_scenes():
    warnings = []
    chapters = (Chapter("a", {"en": "A"}, (ShortA, "no-such-scene")),
                Chapter("b", {"en": "B"}, ("also-missing",)))
    planned, skipped = plan(chapters, warn=warnings.append)
    assert [(ch.key, classes) for ch, classes in planned] == [("a", [ShortA])]
    assert skipped == ["no-such-scene", "also-missing"] and len(warnings) == 2
    assert "no-such-scene" in warnings[0]


def test_join_subtitles_shifts_cues(tmp_path):
    a, b = tmp_path / "a.srt", tmp_path / "b.srt"
    a.write_text("1\n00:00:00,000 --> 00:00:01,500\nhello\n\n", encoding="utf-8")
    b.write_text("1\n00:00:00,200 --> 00:00:09,000\nworld\n\n", encoding="utf-8")
    parts = [Part("x", "a", tmp_path / "a.mp4", a, start=0.0, duration=2.0),
             Part("x", "none", tmp_path / "n.mp4", None, start=2.0, duration=1.0),
             Part("y", "b", tmp_path / "b.mp4", b, start=3.0, duration=2.0)]
    cues = list(srt.parse(join_subtitles(parts)))
    assert [c.content for c in cues] == ["hello", "world"]
    assert cues[1].start.total_seconds() == pytest.approx(3.2)
    assert cues[1].end.total_seconds() == pytest.approx(5.0)  # clipped to its part
    assert [c.index for c in cues] == [1, 2]


def lecture_checks(r, lang: str, audio: bool):
    assert r.path.is_file() and r.subtitles.is_file()
    assert r.skipped == ["no-such-scene"]
    assert [p.name for p in r.parts] == ["title-first", "ShortA", "title-second", "ShortB"]
    for p, q in zip(r.parts, r.parts[1:]):
        assert q.start == pytest.approx(p.start + p.duration)
    with av.open(str(r.path)) as c:
        v = c.streams.video[0]
        video = float(v.duration * v.time_base)
        assert (v.codec_context.width, v.codec_context.height) == (854, 480)
        chapters = c.chapters()
        assert len(c.streams.audio) == (1 if audio else 0)
        if audio:
            a = c.streams.audio[0]
            assert abs(float(a.duration * a.time_base) - video) < 0.1
        frames = sum(1 for _ in c.decode(v))
    assert video == pytest.approx(r.duration, abs=0.1)
    assert frames == round(r.duration * 15)
    titles = [ch["metadata"]["title"] for ch in chapters]
    assert titles == [MINI[0].title[lang], MINI[1].title[lang]]
    second = r.parts[2].start
    assert chapters[1]["start"] * chapters[1]["time_base"] == pytest.approx(second, abs=0.002)
    cues = list(srt.parse(r.subtitles.read_text(encoding="utf-8")))
    # title card, scene A, title card, scene B: each part's cues inside that part
    assert len(cues) >= 4
    for cue in cues:
        s, e = cue.start.total_seconds(), cue.end.total_seconds()
        assert any(p.start - 1e-3 <= s < e <= p.start + p.duration + 1e-3 for p in r.parts), cue
    assert any(c.start.total_seconds() >= r.parts[3].start - 1e-3 for c in cues)
    # nothing left behind beside the output
    assert sorted(x.name for x in r.path.parent.iterdir()) == ["lecture.mp4", "lecture.srt"]
    return cues


def test_mini_lecture_with_voice(tmp_path, weights_file):
    r = make_lecture(lang="en", voice="espeak", output=tmp_path / "out" / "lecture.mp4",
                     weights=weights_file(), chapters=MINI, progress=False)
    assert r.has_audio and r.remuxed
    cues = lecture_checks(r, "en", audio=True)
    assert cues[0].content == "Chapter 1: First."
    # the soundtrack follows the parts: speech at the start of every part
    with av.open(str(r.path)) as c:
        x = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
    rate = 48000
    for p in r.parts:
        seg = x[int(p.start * rate):int((p.start + min(1.0, p.duration)) * rate)]
        assert np.sqrt(np.mean(seg.astype(np.float64) ** 2)) > 0.01, p.name


def test_mini_lecture_mandarin_captions_only(tmp_path, weights_file):
    lines = []
    r = make_lecture(lang="zh", voice="none", output=tmp_path / "out" / "lecture.mp4",
                     weights=weights_file(), chapters=MINI,
                     progress=lambda done, what: lines.append((done, what)))
    assert not r.has_audio
    cues = lecture_checks(r, "zh", audio=False)
    assert cues[0].content == "第1章：第一部分。"
    assert [d for d, _ in lines] == [0, 1, 2, 3, 4, 5]


def test_lecture_cli_errors():
    runner = CliRunner()
    r = runner.invoke(main, ["lecture", "--help"])
    assert r.exit_code == 0 and "--voice" in r.output and "--lang" in r.output
    r = runner.invoke(main, ["lecture", "--voice", "loud"])
    assert r.exit_code == 2 and "loud" in r.output
    r = runner.invoke(main, ["lecture", "--lang", "fr"])
    assert r.exit_code == 2


def test_lecture_bad_weights(tmp_path):
    r = CliRunner().invoke(main, ["lecture", "--voice", "none", "-w", str(tmp_path / "nope.st"),
                                  "-o", str(tmp_path / "l.mp4")])
    assert r.exit_code == 1 and r.output.startswith("Error:")
    assert not (tmp_path / "l.mp4").exists()


@pytest.mark.parametrize("remux", [True, False])
def test_join_parts_remux_or_reencode(tmp_path, monkeypatch, remux):
    """Parts with the same H.264 parameters are re-muxed; otherwise the video is re-encoded."""
    from cnnanim.output import lecture

    r = lecture.render_part(ShortB, tmp_path / "b.mp4", "l", lang="en", voice="espeak")
    d = lecture.video_duration(r.video)
    parts = [Part("a", "b1", r.video, r.subtitles, 0.0, d),
             Part("b", "b2", r.video, r.subtitles, d, d)]
    if not remux:
        monkeypatch.setattr(lecture, "_same_video_params", lambda parts: False)
    out = tmp_path / "joined.mp4"
    assert lecture.join_parts(parts, out, [("A", 0.0, d), ("B", d, 2 * d)], audio=True) == remux
    with av.open(str(out)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert float(v.duration * v.time_base) == pytest.approx(2 * d, abs=0.05)
        assert abs(float(a.duration * a.time_base) - 2 * d) < 0.1
        assert sum(1 for _ in c.decode(v)) == round(2 * d * 15)
        assert [ch["metadata"]["title"] for ch in c.chapters()] == ["A", "B"]


def _frames(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="gray") for f in c.decode(video=0)]


def test_parts_rendered_in_worker_processes_fade_out_like_one_process(tmp_path):
    """-j 2 (the default on two cores) renders each part in a worker; the worker must get every
    setting of the lecture, the fade-out at each part's end included (it once got only the
    photo, weights and voice, and every chapter ended with a cut to white)."""
    storyboard = (Chapter("input", {"en": "Input", "zh": "输入"}, ("input",)),)
    one = make_lecture(voice="none", output=tmp_path / "one" / "l.mp4", chapters=storyboard,
                       progress=False, jobs=1)
    two = make_lecture(voice="none", output=tmp_path / "two" / "l.mp4", chapters=storyboard,
                       progress=False, jobs=2)
    a, b = _frames(one.path), _frames(two.path)
    assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
    rate = len(a) / one.duration
    content = slice(0, int(a[0].shape[0] * 0.8))  # above the caption band
    for p in two.parts:  # the card, then the scene: each ends on the white page
        last = a[round((p.start + p.duration) * rate) - 1][content]
        before = a[round((p.start + p.duration - 0.6) * rate)][content]
        assert (last < 200).mean() < 0.001, p.name
        assert (before < 200).mean() > 0.01, p.name
