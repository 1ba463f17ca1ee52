"""Issue 12 §2 and §4, from the walk at 1024×600 (tests/ui/conftest.py): every screen in
French and in English with speech on (the speaker writes down what it would say, and
every text each screen shows is kept).

- Speech: each screen's first prompt is rendered by espeak-ng to a WAV file in the
  session's language, and sox measures how long it speaks, silence trimmed.
- One language at a time: no text of an English screen is a French string of the
  kiosk's catalogue or of the shop's service catalogue, and the other way round.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from babel.messages.pofile import read_po

from kiosk.app.speech import Speaker
from kiosk.i18n import LOCALE_DIR, Lang
from tests.ui.conftest import WHOLE_SCREEN

pytestmark = pytest.mark.xdist_group(WHOLE_SCREEN)

needs_speech = pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("sox")),
    reason="espeak-ng and sox come with `make install`",
)

# a screen, and the words its title shows (the catalogue's msgid)
TITLES = {
    "home": "What would you like to do?",
    "claim": "Scan your ticket or type your claim code",
    "bill": "Your bill",
    "identify": "How shall we find you?",
    "customer": "What is your last name?",
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


@pytest.fixture(scope="module")
def tour(walks):
    return walks["1024x600"]["notes"]


@needs_speech
def test_every_customer_screen_speaks_in_its_language(tmp_path, tour):
    said = tour["said"]
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


def other_language_words(tour) -> dict[str, set[str]]:
    """For each language, the strings that belong to the other one: the French
    catalogue's translations (and their English msgids), the services' labels, the item
    kinds' and conditions' labels."""
    with (LOCALE_DIR / "fr" / "LC_MESSAGES" / "kiosk.po").open("rb") as fh:
        catalog = read_po(fh, locale="fr")
    other: dict[str, set[str]] = {"en": set(), "fr": set()}
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english, french in zip(ids, strings, strict=False):
            if english and french and english != french and "{" not in english:
                other["en"].add(french)
                other["fr"].add(english)
    kinds = tour["item_kinds"]
    described = [k.get("labels", {}) for k in kinds["kinds"]]
    described += [c.get("labels", {}) for c in kinds["conditions"].values()]
    for labels in [*tour["catalogue"].values(), *described]:
        if labels.get("fr") and labels.get("en") and labels["fr"] != labels["en"]:
            other["en"].add(labels["fr"])
            other["fr"].add(labels["en"])
    return other


def test_every_screen_speaks_one_language(tour):
    other = other_language_words(tour)
    switches = {"English", "Français", "Commencer en français", "Start in English"}
    # before anyone chose a language, the attract screen says these in each of the
    # shop's (kiosk/app/main.py in_each): on purpose, like its start buttons
    for message in ("Starting…", "Out of order"):
        said = [Lang(code)._(message) for code in ("fr", "en")]
        switches |= {" / ".join(said), " / ".join(reversed(said))}
    found = set()
    for screen, lang, text in tour["shown"]:
        if text in switches:
            continue
        if screen == "staff_devices" and ("\n" in text or text in tour["drivers_words"]):
            continue  # the devices, their details and the log: drivers' and logs' English
        for name in tour["proper_names"]:
            text = text.replace(name, "")
        for words in other[lang]:
            if len(words) >= 4 and re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text):
                found.add(f"{screen} ({lang}): {words!r} in {text!r}")
    assert not found, "\n".join(sorted(found))


def test_a_drop_off_keeps_the_words_of_its_language(tour):
    """The item kind and the ticked condition, as the customer chose them on the item
    screen: in French in the French drop-off, in English in the English one (and the
    English one starts with nothing ticked, whatever the customer before ticked)."""
    assert sorted(map(tuple, tour["dropped"])) == [
        ("Bike Peugeot LC01", "scratches"),
        ("Vélo Peugeot LC01", "rayures"),
    ]
