"""espeak-ng 1.52 from the ``espeakng-loader`` wheel, through ctypes: English and Mandarin,
exact word timings (Debian's espeak-ng 1.51 speaks Mandarin wrongly and is never used)."""

from __future__ import annotations

import ctypes
import threading
from contextlib import contextmanager

import numpy as np

from cnnanim.errors import CnnanimError
from cnnanim.speech.service import SpeechService


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
    """The espeak-ng library of the espeakng-loader wheel (calls serialized).

    espeak-ng keeps state between utterances in static variables (e.g. the phase of its pitch
    "flutter"), so a clip would depend on what the process spoke before. Every clip is therefore
    spoken by a freshly loaded library (load, initialise, speak, terminate, unload: about 20 ms),
    and the same text always gives the same samples.
    """

    _instance: "_Espeak | None" = None
    _error: str | None = None
    lock = threading.Lock()

    def __init__(self) -> None:
        import espeakng_loader

        self._path = espeakng_loader.get_library_path()
        self._data = espeakng_loader.get_data_path().encode()
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int, int, int]] = []
        with self._loaded() as lib:
            self.rate = self._rate
            self.version = lib.espeak_Info(None).decode()

    @contextmanager
    def _loaded(self):
        """The library, loaded and initialised afresh; terminated and unloaded afterwards."""
        import _ctypes

        lib = ctypes.CDLL(self._path)
        try:
            lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                              ctypes.c_int]
            lib.espeak_Initialize.restype = ctypes.c_int
            lib.espeak_Info.argtypes = [ctypes.c_void_p]
            lib.espeak_Info.restype = ctypes.c_char_p
            lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
            lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
            lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
            lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint,
                                         ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                         ctypes.c_void_p, ctypes.c_void_p]
            rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, self._data,
                                         _INITIALIZE_DONT_EXIT)
            if rate <= 0:
                raise OSError("espeak_Initialize failed")
            self._rate = rate
            callback = _SYNTH_CALLBACK(self._on_audio)  # referenced until the library goes
            lib.espeak_SetSynthCallback(callback)
            try:
                yield lib
            finally:
                lib.espeak_Terminate()
        finally:
            _ctypes.dlclose(lib._handle)  # the next clip starts from a clean library

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
        with self.lock, self._loaded() as lib:
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise CnnanimError(f"espeak-ng has no voice {voice!r}")
            lib.espeak_SetParameter(_RATE, int(wpm), 0)
            self._chunks, self._events = [], []
            data = text.encode("utf-8")
            err = lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0,
                                   _CHARS_UTF8 | _ENDPAUSE, None, None)
            if err != 0:
                raise CnnanimError(f"espeak-ng could not speak (error {err})")
            lib.espeak_Synchronize()
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
