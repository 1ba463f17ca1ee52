"""Issue 12 §4: every customer screen can be read aloud. The speech tour plays every
customer journey in French and in English with speech on (the speaker writes down what
it would say); each screen's first prompt is then rendered by espeak-ng to a WAV file
in the session's language, and sox measures how long it speaks, silence trimmed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from kiosk.app.speech import Speaker
from kiosk.i18n import Lang
from tests.ui.test_screens import run_scenario

pytestmark = pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("sox")),
    reason="espeak-ng and sox come with `make install`",
)

# a screen, and the words its title shows (the catalogue's msgid)
TITLES = {
    "home": "What would you like to do?",
    "claim": "Scan your ticket or type your claim code",
    "bill": "Your bill",
    "identify": "Your phone number, email or account number",
    "customer": "About you",
    "item": "What are you leaving?",
    "work": "What should we do?",
    "statement": "Your statement",
}


def spoken_seconds(wav) -> float:
    """Length of the WAV with leading and trailing silence (below 1 %) removed."""
    trimmed = wav.with_suffix(".trimmed.wav")
    trim = ["silence", "1", "0.05", "1%"]
    subprocess.run(
        ["sox", str(wav), str(trimmed), *trim, "reverse", *trim, "reverse"],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(["soxi", "-D", str(trimmed)], capture_output=True, text=True, check=True)
    return float(out.stdout)


def test_every_customer_screen_speaks_in_its_language(tmp_path):
    said = run_scenario("speech_tour", tmp_path, timeout=400)["notes"]["said"]
    first: dict[tuple[str, str], str] = {}
    for screen, lang, text in said:
        if len(text) > 3:  # a key's name is said too: Space, Delete, a letter
            first.setdefault((screen, lang), text)
    screens = {screen for screen, _ in first}
    assert set(TITLES) <= screens, sorted(screens)
    speaker = Speaker()
    for (screen, lang), text in sorted(first.items()):
        if screen in TITLES:  # the prompt is the screen's own words, in its language
            assert Lang(lang)._(TITLES[screen]) in text, (screen, lang, text)
        wav = speaker.render(text, lang, tmp_path / f"{screen}-{lang}.wav")
        seconds = spoken_seconds(wav)
        words = len(text.split())
        # espeak-ng at 150 words a minute: at least a fifth of a second a word
        assert seconds >= 0.2 * words, (screen, lang, seconds, text)
