"""Names as people write them (issue 21 §7): one spelling (NFC) whoever typed them, cut
between the characters a person sees, and right-to-left names on paper in the order a
reader reads them — each checked on the printer's own bytes, decoded back."""

from __future__ import annotations

import unicodedata

import pytest

from kiosk.domain.customers import Customer, mask_name
from kiosk.domain.plain import from_plain, to_plain
from kiosk.domain.text import cut, graphemes, visual
from kiosk.drivers.printer.simulator import SimulatedPrinter
from kiosk.receipts.document import Cut, Pair, Text, to_escpos
from kiosk.receipts.legible import line_image

COMBINING = "Zoe\u0301"  # e + COMBINING ACUTE ACCENT, as some keyboards send it


def test_a_name_has_one_spelling_from_the_screen_the_sync_and_the_staff_api():
    typed = Customer("A-1", COMBINING, first_name="Ame\u0301lie", email="z@example.fr")
    assert typed.last_name == "Zoé" == unicodedata.normalize("NFC", COMBINING)
    assert typed.first_name == "Amélie"
    # the sync pull and the back office's staff API decode through the same class
    pulled = from_plain(Customer, {**to_plain(typed), "last_name": COMBINING})
    assert pulled.last_name == "Zoé"


@pytest.mark.parametrize(
    ("first", "last", "masked"),
    [
        ("zoe\u0301", COMBINING, "Z. Zoé"),  # was "Z. Zoe…": the accent cut off
        ("", "Ngu\u0303\u0301yen", "Ng\u1e79…"),  # two marks on one letter stay on it
        ("", "👩\u200d🔧Lee", "👩\u200d🔧Le…"),  # a ZWJ emoji is one character
    ],
)
def test_a_name_is_cut_between_characters_never_inside_one(first, last, masked):
    assert mask_name(first, last) == masked
    assert cut("e\u0301te\u0301", 1) == "e\u0301"  # the letter with its mark
    assert len(graphemes("👩\u200d🔧")) == 1


def test_a_combining_accent_prints_as_the_accented_letter_of_the_code_page():
    """Printed before as ZOE◌ (the mark in a Vietnamese table, or a box)."""
    result = SimulatedPrinter().render(to_escpos([Pair("Client", COMBINING), Cut()]))
    assert "Zoé" in result.pages[0].text
    assert result.codepages == ["CP858"]  # no switch: é is in the shop's own table


def test_a_hebrew_name_is_on_paper_in_reading_order():
    """The printer lays characters left to right as sent: the name must be sent in
    visual order, or it reads backwards. CP1255 has Hebrew: decoded back as text."""
    name = "שרה כהן"  # "Sara Cohen", typed first letter first
    text = SimulatedPrinter().render(to_escpos([Pair("Client", name), Cut()])).pages[0].text
    assert "ןהכ הרש" in text  # as the paper shows it, read right to left: שרה כהן
    assert name not in text


def test_an_arabic_name_is_joined_and_ordered_on_paper():
    """No code page has Arabic's joined forms for every letter: the line is an image,
    drawn from the visual, shaped string; the logical string would come out as
    separate letters, backwards."""
    name = "محمد علي"
    shown = visual(name)
    assert shown != name and shown != name[::-1]
    assert all(unicodedata.name(ch).startswith("ARABIC LETTER") for ch in shown if ch != " ")
    assert all("FORM" in unicodedata.name(ch) for ch in shown if ch != " ")  # joined forms
    job = to_escpos([Text("Client"), Text(name), Cut()])
    assert b"\x1dv0" in job  # the line as a raster image
    assert line_image(shown).tobytes() != line_image(name).tobytes()


def test_left_to_right_text_is_untouched():
    assert visual("Zoé O'Brien 12") == "Zoé O'Brien 12"
