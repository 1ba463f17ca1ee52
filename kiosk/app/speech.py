"""Speech for customers who cannot read the screen (EN 301 549 asks self-service
terminals for speech output without the user's own assistive technology).

espeak-ng speaks in the session's language through the default audio device (the Pi's
headphone jack or HDMI, as set in raspi-config). One utterance at a time: a new one
cuts the one still speaking, as a screen reader does. Without espeak-ng the kiosk has
no Listen button, and says so in its log once.

What is said for a screen is `prompt()`: its title, the field being filled (its label
and what is in it) and the choices on offer — the same catalogue strings the screen
shows.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kiosk.i18n import LANGUAGES

log = logging.getLogger(__name__)

WORDS_PER_MINUTE = 150  # slower than espeak-ng's 175: clearer for the first time


class Speaker:
    def __init__(self, program: str | None = None) -> None:
        self.program = program or shutil.which("espeak-ng")
        self._lock = threading.Lock()
        self._speaking: subprocess.Popen[bytes] | None = None
        if self.program is None:
            log.warning("espeak-ng is not installed: no speech, no Listen button")

    @property
    def available(self) -> bool:
        return self.program is not None

    def _command(self, text: str, lang: str) -> list[str]:
        assert self.program is not None
        voice = LANGUAGES[lang].voice if lang in LANGUAGES else lang
        return [self.program, "-v", voice, "-s", str(WORDS_PER_MINUTE), "--", text]

    def say(self, text: str, lang: str) -> None:
        """Speak now, cutting what is still being said; never blocks the screen."""
        if not self.available or not text.strip():
            return
        with self._lock:
            self.stop()
            try:
                self._speaking = subprocess.Popen(
                    self._command(text, lang),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            except OSError as exc:
                log.warning("speech failed: %s", exc)

    def stop(self) -> None:
        if self._speaking is not None and self._speaking.poll() is None:
            self._speaking.terminate()
        self._speaking = None

    def render(self, text: str, lang: str, wav: Path) -> Path:
        """The same utterance into a WAV file (tests, and checking a voice by ear)."""
        if not self.available:
            raise RuntimeError("espeak-ng is not installed")
        command = self._command(text, lang)
        command[1:1] = ["-w", str(wav)]
        subprocess.run(command, check=True, capture_output=True, timeout=60)
        return wav


def prompt(texts: Iterable[str], field: str, choices: Iterable[str], choose_word: str) -> str:
    """What is read for a screen, in the screen's own words: its title and texts, the
    field being filled, then the choices."""
    parts = [t.strip() for t in texts if t.strip()]
    if field.strip():
        parts.append(field.strip())
    options = [" ".join(c.split()) for c in choices if c.strip()]
    if options:
        parts.append(f"{choose_word}: " + ", ".join(options))
    return " ".join(p if p[-1] in ".?!:" else p + "." for p in parts)


def screen_prompt(screen: Any, step: str, choose_word: str) -> str:
    """A screen in words, as shown: the step, why it is back (a refusal), its title, the
    field being filled, the choices."""
    from kivy.uix.behaviors import ButtonBehavior

    from kiosk.app import icons

    titles, field, choices = [step] if step else [], "", []
    refusals = []
    for widget in screen.walk(restrict=True):
        kind = type(widget).__name__
        if widget.opacity == 0 or getattr(widget, "disabled", False):
            continue
        if kind == "ErrorText" and widget.text:
            refusals.append(widget.text)  # read first: it is why the screen is back
        elif kind in ("Title", "Body"):
            titles.append(widget.text)
        elif kind == "KeyboardField" and widget.active:
            shown = f"{len(widget.value)}" if widget.secret else widget.value
            field = f"{widget.label or widget.hint}: {shown}" if widget.value else widget.hint
        elif (
            isinstance(widget, ButtonBehavior)
            and kind != "BarButton"
            and not hasattr(widget, "key")  # keyboard keys speak when pressed
        ):
            choices.append(icons.plain(widget.text) if widget.markup else widget.text)
    return prompt(refusals + titles, field, choices, choose_word)
