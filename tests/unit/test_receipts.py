"""Every document in both languages, rendered from the bytes the printer would get."""

import pytest

from kiosk.drivers.printer.simulator import SimulatedPrinter
from kiosk.receipts.document import Cut, Pair, Text, UnprintableText, to_escpos
from kiosk.receipts.samples import documents, write_samples

KINDS = ("ticket", "tag", "payment", "statement", "shift")


@pytest.fixture(scope="module")
def printer():
    return SimulatedPrinter()


@pytest.mark.parametrize("lang", ["fr", "en"])
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


def test_french_accents_and_euro_survive_the_code_page(printer):
    text = printer.render(to_escpos(documents("fr")["payment"])).pages[0].text
    for word in ("Reçu", "Révision complète", "Acompte déduit", "59,80 €", "TVA 20 %"):
        assert word in text


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


def test_unprintable_text_is_refused_not_misprinted():
    with pytest.raises(UnprintableText, match="CP858"):
        to_escpos([Text("Łódź")])
    # typography the code page lacks is replaced by its plain form, never by "?"
    job = to_escpos([Pair("Client", "J. Dup…"), Text("a — b"), Cut()])
    text = SimulatedPrinter().render(job).pages[0].text
    assert "J. Dup..." in text and "a - b" in text


def test_sample_pngs_are_written(tmp_path):
    paths = write_samples(tmp_path)
    assert {p.name for p in paths} == {f"{k}-{lang}.png" for k in KINDS for lang in ("fr", "en")}
    assert all(p.stat().st_size > 2000 for p in paths)
