"""Whole-document problems raise TextError with a message staff can act on."""

from __future__ import annotations

import io

import pypdf
import pytest

from backoffice.config import OcrSettings
from backoffice.text import TextError, extract_document_text, render_page
from tests.unit.text.fakes import FakeEngine
from tests.unit.text.pdfs import INVOICE, image_pdf, page_image, text_pdf

SETTINGS = OcrSettings(workers=1, dpi=100)


def _encrypted(user_password: str, owner_password: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(text_pdf([INVOICE]))))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _no_pages() -> bytes:
    out = io.BytesIO()
    pypdf.PdfWriter().write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"Sehr geehrte Damen und Herren, dies ist kein PDF.", "not a PDF"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "not a PDF"),
        (text_pdf([INVOICE])[:60], "not a PDF"),
        (_encrypted("geheim", "owner"), "password"),
        (_no_pages(), "no pages"),
    ],
    ids=["empty", "text", "png", "truncated", "password", "no-pages"],
)
def test_unreadable_documents_raise_text_error(data: bytes, message: str) -> None:
    with pytest.raises(TextError, match=message):
        extract_document_text(data, SETTINGS, engine=FakeEngine())
    with pytest.raises(TextError):
        render_page(data, 0, 72)


def test_a_pdf_with_only_an_owner_password_is_read() -> None:
    result = extract_document_text(_encrypted("", "owner"), SETTINGS, engine=FakeEngine())
    assert "Rechnungsnummer" in result.text


def test_a_pdf_cut_short_is_read_as_far_as_it_goes() -> None:
    """PDFium rebuilds a missing cross-reference table; what is there is read."""
    pdf = text_pdf([INVOICE, INVOICE])
    cut = pdf[: pdf.rindex(b"xref")]
    result = extract_document_text(cut, SETTINGS, engine=FakeEngine())
    assert len(result.pages) == 2
    assert "Rechnungsnummer" in result.text


def test_render_page_gives_a_grey_image_of_the_displayed_page() -> None:
    image = render_page(text_pdf([INVOICE]), 0, 72)
    assert image.mode == "L"
    assert image.size == (596, 842)
    darkest, _ = image.getextrema()
    assert isinstance(darkest, int) and darkest < 100  # there is ink
    with pytest.raises(IndexError):
        render_page(text_pdf([INVOICE]), 1, 72)
    colour = render_page(text_pdf([INVOICE]), 0, 36, grey=False)
    assert colour.mode != "L"


def test_a_scan_cut_short_still_gets_a_searchable_pdf() -> None:
    pdf = image_pdf([page_image(text_pdf([INVOICE]), dpi=50)] * 2, dpi=50)
    cut = pdf[: pdf.rindex(b"xref")]
    result = extract_document_text(cut, SETTINGS, engine=FakeEngine())
    assert [p.source for p in result.pages] == ["ocr", "ocr"]
    reader = pypdf.PdfReader(io.BytesIO(result.searchable_pdf))
    assert len(reader.pages) == 2
    assert "Erkannt" in reader.pages[1].extract_text()
