"""Offline voices (espeak-ng from the espeakng-loader wheel), clips, cues and narrated renders."""

from __future__ import annotations

import os
import re

import av
import numpy as np
import pytest
import srt
from manim import Create, FadeIn, Square

from cnnanim.draw import text
from cnnanim.draw.text import check_caption_font
from cnnanim.errors import CnnanimError
from cnnanim.output.lecture import render_part
from cnnanim.scenes.base import CnnScene
from cnnanim.speech import espeak, voice
from cnnanim.speech.narration import (
    MIN_BEAT,
    PAUSE,
    Beat,
    beat_duration,
    check_lang,
    estimate_duration,
    split_cues,
)

EN = "The kernel slides over the input. Each step gives one number of the output map."
ZH = "卷积核在输入上滑动，每一步得到输出图上的一个数。步长越大，输出越小。"


pytestmark = pytest.mark.usefixtures("voice_cache")  # all clips in one temporary cache


# -- a tiny scene (no trace needed) --------------------------------------------------------------
class Tiny(CnnScene):
    """Two short beats: enough to check sound, timing and subtitles in a few seconds."""

    NARRATION = {
        "one": {"en": "A square appears. It stands for one feature map.",
                "zh": "出现一个正方形，它代表一张特征图，图上每个数都是一个神经元的输出。"},
        "two": {"en": "Then a second one is drawn.", "zh": "然后画出第二个，再停一下。"},
    }

    def setup(self) -> None:
        self.lang = check_lang(self._setting("lang", "CNNANIM_LANG", "en"))

    def construct(self) -> None:
        with self.beat("one") as b:
            self.play(FadeIn(Square()), run_time=b.part(0.3))
        with self.beat("two") as b:
            self.play(Create(Square().shift([2, 0, 0])), run_time=b.part(0.5))


def streams(path):
    """(video seconds, audio seconds or None) of an MP4."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        vd = float(v.duration * v.time_base)
        ad = None
        if c.streams.audio:
            a = c.streams.audio[0]
            ad = float(a.duration * a.time_base)
    return vd, ad


def audio_samples(path) -> tuple[np.ndarray, int]:
    """Decoded sound of an MP4 as mono float samples and their rate."""
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        rate = a.codec_context.sample_rate
        x = [f.to_ndarray() for f in c.decode(a)]
    x = np.concatenate(x, axis=-1)
    return x.reshape(-1, x.shape[-1]).mean(axis=0), rate


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


# -- choosing a voice ----------------------------------------------------------------------------
def test_check_voice():
    assert voice.check_voice(None) == "none"
    assert voice.check_voice("ESPEAK") == "espeak"
    with pytest.raises(CnnanimError, match="valid: auto, espeak, piper, none"):
        voice.check_voice("loud")


def test_get_service_choices(monkeypatch):
    assert voice.get_service("none", "en") is None
    assert voice.get_service("espeak", "zh").engine == "espeak"
    assert voice.get_service("auto", "zh").engine == "espeak"  # never Piper for Mandarin
    with pytest.raises(CnnanimError, match="English only"):
        voice.get_service("piper", "zh")
    monkeypatch.setattr(voice.PiperService, "available", classmethod(lambda cls: False))
    assert voice.get_service("auto", "en").engine == "espeak"


def test_no_engine_means_captions_only(monkeypatch):
    def missing(cls):
        raise OSError("no library")

    monkeypatch.setattr(voice, "_services", {})
    monkeypatch.setattr(espeak._Espeak, "get", classmethod(missing))
    monkeypatch.setattr(voice.PiperService, "available", classmethod(lambda cls: False))
    monkeypatch.setattr(voice.PiperService, "importable", staticmethod(lambda: False))
    assert voice.get_service("auto", "en") is None
    assert voice.get_service("auto", "zh") is None
    with pytest.raises(CnnanimError, match="espeakng-loader"):
        voice.get_service("espeak", "en")
    with pytest.raises(CnnanimError, match=r"cnnanim\[voice\]"):
        voice.get_service("piper", "en")


# -- espeak-ng clips ------------------------------------------------------------------------------
def test_espeak_english_clip():
    clip = voice.get_service("espeak", "en").synthesize(EN, "en")
    samples, rate = voice.read_wav(clip.path)
    assert rate > 8000 and abs(len(samples) / rate - clip.duration) < 1e-6
    assert rms(samples / 32768.0) > 0.02  # speech, not silence
    # about 10-20 characters a second, like the reading speed of the captions-only mode
    assert 8 < len(EN) / clip.duration < 22
    starts = [w[0] for w in clip.words]
    assert starts == sorted(starts) and clip.words[-1][1] <= clip.duration + 1e-6
    assert [w[2] for w in clip.words][:3] == ["The", "kernel", "slides"]
    assert all(EN[p:p + len(w)] == w for (_, _, w), p in zip(clip.words, clip.positions))


def test_espeak_mandarin_clip_and_cues():
    clip = voice.get_service("espeak", "zh").synthesize(ZH, "zh")
    samples, rate = voice.read_wav(clip.path)
    assert rms(samples / 32768.0) > 0.02
    assert 2 < len(ZH) / clip.duration < 8
    assert clip.words[0][2] == "卷"  # one timed event per character
    cues = split_cues(ZH, "zh")
    assert len(cues) >= 3 and all(re.search(r"[，。；：？！、]$", c) for c in cues)
    times = clip.cue_times(ZH, cues)
    assert times[0][0] == 0 and times[-1][1] == pytest.approx(clip.duration)
    for (s0, e0), (s1, _) in zip(times, times[1:]):
        assert s0 < e0 <= s1 + 1e-9
    # a cue starts when its first character is spoken
    second = ZH.index(cues[1])
    spoken = [w[0] for w, p in zip(clip.words, clip.positions) if p == second]
    assert times[1][0] == pytest.approx(spoken[0])


def test_clip_cache(voice_cache):
    service = voice.get_service("espeak", "en")
    a = service.synthesize("Caching is a kind of memory.", "en")
    mtime = a.path.stat().st_mtime_ns
    b = service.synthesize("Caching is a kind of memory.", "en")
    assert b.path == a.path and b.path.stat().st_mtime_ns == mtime and b.words == a.words
    c = service.synthesize("Caching is another kind of memory.", "en")
    assert c.path != a.path
    assert a.path.parent == voice_cache and a.path.with_suffix(".json").is_file()
    assert a.path.name.startswith("espeak-en-")
    assert not list(voice_cache.glob(".tmp-*"))  # atomic writes leave nothing behind


def test_cue_times_fill_gaps():
    clip = voice.Clip(path=None, duration=4.0,
                      words=[(0.0, 0.5, "One"), (0.5, 1.0, "two."), (3.0, 3.5, "Four.")],
                      positions=[0, 4, 16])
    text = "One two. Three. Four."
    times = clip.cue_times(text, ["One two.", "Three.", "Four."])
    assert times[0] == (0.0, pytest.approx(times[1][0]))
    assert 0 < times[1][0] < 3.0 and times[2] == (3.0, 4.0)


def test_beat_duration_and_font_check(monkeypatch):
    assert beat_duration(0.2) == MIN_BEAT
    assert beat_duration(3.0) == pytest.approx(3.0 + PAUSE)
    check_caption_font("en")
    monkeypatch.setattr(text, "_font_families", lambda: frozenset({"DejaVu Sans"}))
    check_caption_font("en")  # English never needs the CJK font
    with pytest.raises(CnnanimError, match="fonts-noto-cjk"):
        check_caption_font("zh")


# -- narrated renders ----------------------------------------------------------------------------
def check_narrated(result, lang: str):
    """The checks every narrated render must pass."""
    scene = result.scene
    beats = scene.beats
    assert len(beats) == 2
    video, audio = streams(result.video)
    assert audio is not None, "the video has no sound"
    assert abs(video - audio) < 0.1
    # the video ends with the last beat (and, in the lecture, the part's fade to the page)
    fade = scene.fade_out_time if scene.fade_out_at_end else 0.0
    assert video == pytest.approx(beats[-1][1] + fade, abs=0.2)
    for t0, t1, b in beats:
        assert b.audio and b.audio_duration > 0.5
        assert b.audio_duration <= t1 - t0 + 1e-6  # speech never overlaps the next beat
        assert t1 - t0 >= b.duration - 1e-6
    samples, rate = audio_samples(result.video)
    assert rms(samples) > 0.01
    # each beat's speech is where the beat is: loud inside, and the video ends after the last word
    for t0, t1, b in beats:
        assert rms(samples[int(t0 * rate):int((t0 + b.audio_duration) * rate)]) > 0.01
    assert video >= beats[-1][0] + beats[-1][2].audio_duration
    cues = list(srt.parse(result.subtitles.read_text(encoding="utf-8")))
    expected = sum(len(split_cues(b.text, lang)) for _, _, b in beats)
    assert len(cues) == expected
    for c in cues:
        s, e = c.start.total_seconds(), c.end.total_seconds()
        assert any(t0 - 1e-3 <= s < e <= t1 + 1e-3 for t0, t1, _ in beats), c
    # the last line stays up through the pause: subtitles end with the video
    assert abs(cues[-1].end.total_seconds() - video) < 0.2
    return cues


def test_narrated_render_english(tmp_path):
    r = render_part(type("TinyEn", (Tiny,), {}), tmp_path / "en.mp4", "l", lang="en",
                    voice="espeak")
    check_narrated(r, "en")
    for _, _, b in r.scene.beats:  # the duration comes from the audio, consistent with the text
        assert b.duration == pytest.approx(beat_duration(b.audio_duration))
        assert 8 < len(b.text) / b.audio_duration < 22


def test_narrated_render_twice_keeps_sound(tmp_path):
    """Manim trap: with its cache on, sound after a cached animation is dropped. Never here."""
    first = render_part(Tiny, tmp_path / "a.mp4", "l", lang="en", voice="espeak")
    second = render_part(Tiny, tmp_path / "b.mp4", "l", lang="en", voice="espeak")
    va, aa = streams(first.video)
    vb, ab = streams(second.video)
    assert aa is not None and ab is not None
    assert vb == pytest.approx(va, abs=1e-3) and ab == pytest.approx(aa, abs=0.05)
    assert rms(audio_samples(second.video)[0]) > 0.01


def test_narrated_render_mandarin(tmp_path):
    r = render_part(Tiny, tmp_path / "zh.mp4", "l", lang="zh", voice="espeak")
    cues = check_narrated(r, "zh")
    # Chinese cues break at clause and sentence punctuation
    assert len(cues) > len(r.scene.beats)
    assert all(re.search(r"[，。；：？！、]$", c.content) for c in cues)
    assert cues[0].content.startswith("出现一个正方形，")


def test_voice_setting_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNANIM_VOICE", "espeak")
    r = render_part(Tiny, tmp_path / "env.mp4", "l", lang="en")
    assert streams(r.video)[1] is not None
    monkeypatch.setenv("CNNANIM_VOICE", "none")
    r = render_part(Tiny, tmp_path / "none.mp4", "l", lang="en")
    assert streams(r.video)[1] is None  # captions only: no sound, durations from the text
    for t0, t1, b in r.scene.beats:
        assert b.audio is None and b.duration == pytest.approx(estimate_duration(b.text, "en"))


class TinyTail(Tiny):
    """Animations after the last beat: the soundtrack is padded with silence to the end."""

    def construct(self) -> None:
        square = Square()
        with self.beat("two") as b:
            self.play(FadeIn(square), run_time=b.part(0.3))
        self.wait(1.5)


def test_sound_padded_to_the_end_of_the_video(tmp_path):
    r = render_part(TinyTail, tmp_path / "tail.mp4", "l", lang="en", voice="espeak")
    video, audio = streams(r.video)
    assert video == pytest.approx(r.scene.beats[-1][1] + 1.5, abs=0.1)
    assert audio is not None and abs(video - audio) < 0.1


@pytest.mark.skipif(bool(os.environ.get("CNNANIM_NO_PIPER")), reason="set up without Piper")
def test_auto_picks_piper_for_english_after_the_readme_setup():
    assert isinstance(voice.get_service("auto", "en"), voice.PiperService)
    assert isinstance(voice.get_service("auto", "zh"), voice.EspeakService)


@pytest.mark.skipif(not voice.PiperService.available(), reason="Piper not installed")
def test_piper_gives_the_same_clip_for_the_same_text(tmp_path):
    """Piper samples noise unless told not to: two fresh processes must give the same bytes."""
    import subprocess
    import sys

    code = ("from cnnanim.speech import voice; "
            "print(voice.get_service('piper', 'en').synthesize('One kernel per channel.').path)")
    paths = []
    for k in range(2):
        env = {**os.environ, "CNNANIM_VOICE_CACHE": str(tmp_path / str(k))}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=300, check=True).stdout.split()[-1]
        paths.append(out)
    a, b = (open(p, "rb").read() for p in paths)
    assert a == b and len(a) > 10_000


def test_beat_part_is_a_share_of_the_beat_at_most_a_cap():
    b = Beat("k", "A sentence.", duration=12.0)
    assert b.part(0.25) == pytest.approx(3.0)
    assert b.part(0.25, at_most=1.0) == pytest.approx(1.0)  # a long beat: the cap
    assert b.part(0.05, at_most=1.0) == pytest.approx(0.6)  # a short share stays
    assert b.part(0.0, at_most=1.0) == pytest.approx(1 / 60)  # never a zero-length play
