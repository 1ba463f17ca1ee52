"""Every word the back office sends or shows a customer (messages, the status page) is
in every shipped catalogue, translated, not fuzzy, with the msgid's placeholders; and
the check is shown to fail on a catalogue missing one of them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from kiosk.domain.orders import STATE_WORDS
from kiosk.i18n import LOCALE_DIR, LOCALES
from tests.catalogues import problems

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "backoffice/messages/compose.py", ROOT / "backoffice/status_page.py"]
pytestmark = pytest.mark.messages


def customer_words() -> set[str]:
    """The first argument of every `_(…)` call in the sources, and the state words."""
    found = set(STATE_WORDS.values())
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "_"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(str(node.args[0].value))
    return found


def catalogue(lang: str) -> Catalog:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "kiosk.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def test_the_sources_hold_the_words_the_check_looks_for() -> None:
    words = customer_words()
    assert "Follow your repair:" in words and "Approve" in words and len(words) > 30


@pytest.mark.parametrize("lang", [code for code in LOCALES if code != "en"])
def test_every_customer_word_of_the_back_office_is_translated(lang: str) -> None:
    assert problems(catalogue(lang), customer_words()) == []


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_the_check_fails_on_a_catalogue_missing_one_word_or_a_placeholder(lang: str) -> None:
    catalog = catalogue(lang)
    del catalog["Follow your repair:"]
    bare = str(catalog["Hello,"].string)
    catalog["Hello {name},"].string = bare
    assert sorted(problems(catalog, customer_words())) == [
        "missing: 'Follow your repair:'",
        f"placeholders differ: 'Hello {{name}},' → {bare!r}",
    ]
