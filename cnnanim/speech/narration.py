"""Narration beats: text per language, durations, and subtitle cues (no manim, no torch)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cnnanim.errors import UnknownNameError

#: Supported narration languages.
LANGUAGES = ("en", "zh")
#: Reading speed used when there is no voice (characters per second).
CHARS_PER_SECOND = {"en": 15.0, "zh": 4.5}
#: No beat is shorter than this (seconds).
MIN_BEAT = 1.5
#: Silence after the spoken words of a beat, before the next beat may start (seconds).
PAUSE = 0.35


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise an error listing the languages."""
    if lang not in LANGUAGES:
        raise UnknownNameError("language", lang, LANGUAGES)
    return lang


def estimate_duration(text: str, lang: str = "en") -> float:
    """Seconds a beat takes without a voice: text length at reading speed, at least 1.5 s."""
    n = len(re.sub(r"\s+", " ", text.strip()))
    return max(MIN_BEAT, n / CHARS_PER_SECOND[check_lang(lang)])


_ZH_BREAK = re.compile(r"(?<=[，。；：？！、,;:?!])")
_EN_BREAK = re.compile(r"(?<=[.;:?!])\s+")


def split_cues(text: str, lang: str = "en", max_chars: int | None = None) -> list[str]:
    """Split a beat's text into short subtitle cues.

    Chinese splits at sentence and clause punctuation, English at sentence ends; pieces are
    merged back while they stay under ``max_chars`` (default 18 Chinese / 84 English characters).
    """
    text = text.strip()
    if not text:
        return []
    limit = max_chars or (18 if lang == "zh" else 84)
    parts = [p.strip() for p in (_ZH_BREAK if lang == "zh" else _EN_BREAK).split(text) if p.strip()]
    cues: list[str] = []
    for p in parts:
        joiner = "" if lang == "zh" else " "
        if cues and len(cues[-1]) + len(joiner) + len(p) <= limit:
            cues[-1] = cues[-1] + joiner + p
        else:
            cues.append(p)
    return cues


def cue_times(cues: list[str], duration: float) -> list[tuple[float, float]]:
    """Share ``duration`` among cues in proportion to their length -> (start, end) offsets."""
    total = sum(max(1, len(c)) for c in cues) or 1
    t, out = 0.0, []
    for c in cues:
        d = duration * max(1, len(c)) / total
        out.append((t, t + d))
        t += d
    return out


@dataclass
class Beat:
    """One narration block of a scene.

    Attributes
    ----------
    key : str
        Name of the block in the scene's narration table.
    text : str
        What is said (and captioned), in the scene's language.
    duration : float
        Seconds the beat lasts (from the voice, or estimated from the text).
    audio : str or None
        Path of the spoken clip, when a voice is used.
    """

    key: str
    text: str
    duration: float
    lang: str = "en"
    audio: str | None = None
    #: Length of the spoken clip (0 without a voice).
    audio_duration: float = 0.0
    #: The spoken clip (:class:`cnnanim.speech.voice.Clip`) with its word timings, when a voice is used.
    clip: object | None = field(default=None, repr=False)

    def part(self, fraction: float, at_most: float | None = None) -> float:
        """A fraction of the beat's duration, for one animation inside it; at most ``at_most``
        seconds (what a sentence begins by naming comes as quickly in a long beat)."""
        t = self.duration * fraction
        if at_most is not None:
            t = min(t, at_most)
        return max(1 / 60, t)

    def cues(self) -> list[tuple[float, float, str]]:
        """Subtitle cues as (start, end, text) offsets from the beat's start.

        With a voice, each cue starts when its first word is spoken (word timings) and the last
        one stays up until the beat's end; without one, they share the beat's duration by length.
        """
        pieces = split_cues(self.text, self.lang)
        if self.clip is not None:
            times = self.clip.cue_times(self.text, pieces)
            if times:  # the last line stays up through the pause after the speech
                times[-1] = (times[-1][0], max(times[-1][1], self.duration))
        else:
            times = cue_times(pieces, self.duration)
        return [(s, e, c) for c, (s, e) in zip(pieces, times)]


def beat_duration(audio_duration: float) -> float:
    """How long a spoken beat lasts: its audio, a short pause, and at least :data:`MIN_BEAT`."""
    return max(MIN_BEAT, audio_duration + PAUSE)


