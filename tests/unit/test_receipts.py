"""Every document in both languages, rendered from the bytes the printer would get."""

from decimal import Decimal

import pytest

from kiosk.drivers.printer.codepages import encoding_for
from kiosk.drivers.printer.simulator import SimulatedPrinter
from kiosk.i18n import LANGUAGES, Lang
from kiosk.receipts.document import Cut, Pair, Text, to_escpos
from kiosk.receipts.legible import line_image, spelled
from kiosk.receipts.samples import documents, write_samples

KINDS = ("ticket", "tag", "payment", "statement", "shift")


@pytest.fixture(scope="module")
def printer():
    return SimulatedPrinter()


@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("kind", KINDS)
def test_every_document_prints_cleanly(printer, lang, kind):
    job = to_escpos(documents(lang)[kind])
    result = printer.render(job)
    assert result.unknown == []  # nothing the printer would misprint
    assert result.codepages == ["CP858"]
    (page,) = result.pages  # one cut, one piece of paper
    assert "?" not in page.text
    for line in page.text.splitlines():
        assert len(line) <= 48 or line.startswith("[")


def test_german_umlauts_and_sharp_s_survive_the_code_page(printer):
    """Issue 28 §5: CP858 has ä ö ü ß; the printer's own decoding gives them back."""
    text = printer.render(to_escpos(documents("de")["payment"])).pages[0].text
    for word in ("Quittung", "Anzahlung verrechnet", "59,80 €", "MwSt. 20 %"):
        assert word in text
    ticket = printer.render(to_escpos(documents("de")["ticket"])).pages[0].text
    for word in ("Abgabeschein", "Gewünschte Arbeiten", "Verfolgen Sie Ihre Reparatur"):
        assert word in ticket
    shift = printer.render(to_escpos(documents("de")["shift"])).pages[0].text
    for word in ("Geöffnet", "Inhalt der Schließfächer", "23.11.26"):
        assert word in shift


def test_french_accents_and_euro_survive_the_code_page(printer):
    text = printer.render(to_escpos(documents("fr")["payment"])).pages[0].text
    for word in ("Reçu", "Révision complète", "Acompte déduit", "59,80 €", "TVA 20 %"):
        assert word in text


def test_rates_are_written_as_each_language_writes_them(printer):
    """Babel's percent pattern for the locale: "20%" in English, "20 %" in French."""
    english = printer.render(to_escpos(documents("en")["payment"])).pages[0].text
    assert "VAT 20% on" in english and "20 %" not in english
    assert Lang("fr").percent(Decimal("5.5")) == "5,5\xa0%"
    assert Lang("en").percent(Decimal("5.5")) == "5.5%"


def test_ticket_carries_the_claim_code_natively(printer):
    docs = documents("en")
    job = to_escpos(docs["ticket"])
    text = printer.render(job).pages[0].text
    code = next(b.data for b in docs["ticket"] if type(b).__name__ == "Qr")
    assert f"[QR {code}]" in text
    assert b"\x1d(k" in job  # GS ( k: the printer draws the QR itself
    assert len(job) <= 1500


def test_tag_has_a_scannable_barcode_and_the_surname(printer):
    text = printer.render(to_escpos(documents("fr")["tag"])).pages[0].text
    assert "LEFÈVRE" in text and "[CODE128 " in text


def test_typography_the_code_page_lacks_is_printed_plain_never_as_a_question_mark():
    job = to_escpos([Pair("Client", "J. Dup…"), Text("a — b"), Cut()])
    text = SimulatedPrinter().render(job).pages[0].text
    assert "J. Dup..." in text and "a - b" in text and "?" not in text


@pytest.mark.parametrize(
    "words",
    [
        "Łukasiewicz Żaneta",  # a Polish name from the back office
        "Garmin™ Edge 530",  # a catalogue line with ™
    ],
)
def test_text_from_another_code_page_is_printed_by_switching_within_the_line(words):
    """ESC t n within the line (ESC/POS "Select character code table"); the interpreter
    decodes each run with the table it was sent in."""
    job = to_escpos([Pair("Client", words), Text("Merci €"), Cut()])
    result = SimulatedPrinter().render(job)
    assert words in result.pages[0].text and "Merci €" in result.pages[0].text
    first, switched, back = result.codepages
    assert first == back == "CP858" and switched != "CP858"
    words.encode(encoding_for(switched))  # the table switched to really has these letters


@pytest.mark.parametrize("words", ["王芳", "Écran 📱 cassé"])
def test_text_no_code_page_has_is_printed_as_an_image_of_that_line(words):
    """CJK and emoji: the line becomes a raster image; the rest stays text."""
    job = to_escpos([Text("Client"), Text(words), Text("Merci"), Cut()])
    result = SimulatedPrinter().render(job)
    text = result.pages[0].text
    assert "Client" in text and "Merci" in text and "?" not in text
    assert b"\x1dv0" in job  # GS v 0: the line as a raster image
    assert line_image(words).getbbox() is not None  # something was drawn


def test_a_character_no_font_has_is_spelled_out():
    assert spelled("📱") == "(MOBILE PHONE)"


def test_sample_pngs_are_written(tmp_path):
    paths = write_samples(tmp_path)
    assert {p.name for p in paths} == {f"{k}-{lang}.png" for k in KINDS for lang in LANGUAGES}
    assert all(p.stat().st_size > 2000 for p in paths)
