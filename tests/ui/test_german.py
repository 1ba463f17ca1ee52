"""Issue 28: the kiosk in German, walked like French and English (tours/walk.py,
`walk_de`: a shop offering German, English and French) on both 7-inch panels, 800×480
and 1024×600: every customer and staff screen laid out without a fault, every key sent
to each without leaving it, and no word of French or English on a German screen."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from babel.messages.pofile import read_po

from kiosk.app.speech import Speaker
from kiosk.i18n import LANGUAGES, LOCALE_DIR, Lang
from tests.ui.conftest import WHOLE_SCREEN
from tests.ui.test_screens import run_scenario
from tests.ui.test_speech_and_language import TITLES, needs_speech, spoken_seconds

pytestmark = pytest.mark.xdist_group(WHOLE_SCREEN)
SIZES = ("800x480", "1024x600")


@pytest.fixture(scope="module")
def german(tmp_path_factory):
    folders = {size: tmp_path_factory.mktemp(f"walk-de-{size}") for size in SIZES}

    def one(size: str):
        return run_scenario("walk_de", folders[size], size=size, timeout=600,
                            out_name=f"walk_de-{size}")  # fmt: skip

    with ThreadPoolExecutor(len(SIZES)) as pool:
        return dict(zip(SIZES, pool.map(one, SIZES), strict=True))


def other_words(notes) -> set[str]:
    """The French and English words that are not German: the catalogues' strings, the
    shop's service catalogue and item kinds in those languages."""
    with (LOCALE_DIR / "fr" / "LC_MESSAGES" / "kiosk.po").open("rb") as fh:
        french = read_po(fh, locale="fr")
    with (LOCALE_DIR / "de" / "LC_MESSAGES" / "kiosk.po").open("rb") as fh:
        german = {m.id: m.string for m in read_po(fh, locale="de") if m.id}
    words = set()
    for message in french:
        if not message.id or isinstance(message.id, tuple) or "{" in message.id:
            continue
        for text in (message.id, message.string):
            if text and text != german.get(message.id):
                words.add(str(text))
    kinds = notes["item_kinds"]
    described = [k.get("labels", {}) for k in kinds["kinds"]]
    described += [c.get("labels", {}) for c in kinds["conditions"].values()]
    for labels in [*notes["catalogue"].values(), *described]:
        words |= {
            labels[c] for c in ("fr", "en") if labels.get(c) and labels[c] != labels.get("de")
        }
    return words


@pytest.mark.parametrize("size", SIZES)
def test_every_german_screen_is_laid_out_and_keeps_its_keys(german, size):
    notes = german[size]["notes"]
    assert notes["faults"] == {}
    assert notes["keys_broken"] == []
    assert len(notes["shown"]) > 300  # the texts the check below reads
    looked = {where.split(" (")[0] for where in notes["looked"]}
    assert {
        "home",
        "claim",
        "bill",
        "identify",
        "customer",
        "item",
        "work",
        "review",
        "terms",
        "dropped",
        "statement",
        "estimate",
        "status",
        "staff_menu",
    } <= looked
    assert all(where.endswith("(de)") for where in notes["looked"] if where != "attract (de)")


def test_no_french_or_english_on_a_german_screen(german):
    notes = german["1024x600"]["notes"]
    other = other_words(notes)
    starts = {language.start for language in LANGUAGES.values()}
    names = {language.name for language in LANGUAGES.values()}
    found = set()
    for screen, _lang, text in notes["shown"]:
        if screen == "attract" or text in starts or text in names:
            continue  # each language's own words, by design
        if screen == "staff_devices" and ("\n" in text or text in notes["drivers_words"]):
            continue  # the devices, their details and the log: drivers' and logs' English
        for name in notes["proper_names"]:
            text = text.replace(name, "")
        for words in other:
            if len(words) >= 4 and re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text):
                found.add(f"{screen}: {words!r} in {text!r}")
    assert not found, "\n".join(sorted(found))


@needs_speech
def test_every_german_screen_speaks_german(tmp_path, german):
    """Measured as the French and English prompts are (test_speech_and_language.py):
    each screen's first prompt rendered by espeak-ng's German voice, its spoken length
    by sox, at least a fifth of a second a word."""
    first: dict[str, str] = {}
    for screen, lang, text in german["1024x600"]["notes"]["said"]:
        if lang == "de" and len(text) > 3:
            first.setdefault(screen, text)
    assert set(TITLES) <= set(first), sorted(first)
    speaker, words_de = Speaker(), Lang("de")._
    for screen, text in sorted(first.items()):
        if screen in TITLES:
            assert words_de(TITLES[screen]) in text, (screen, text)
        seconds = spoken_seconds(speaker.render(text, "de", tmp_path / f"{screen}-de.wav"))
        assert seconds >= 0.2 * len(text.split()), (screen, seconds, text)
