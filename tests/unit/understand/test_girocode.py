"""GiroCode (EPC QR) payloads, reading them from PDFs, and the IBAN fallback in the pipeline."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import segno
import segno.helpers
import zxingcpp
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from backoffice.config import UnderstandSettings
from backoffice.samples.scan import ScanParams, image_pdf, scan_document
from backoffice.understand import understand_document
from backoffice.understand.girocode import (
    GIROCODE_SOURCE,
    GiroCode,
    needs_girocode,
    parse_epc,
    read_girocodes,
    with_girocode,
)
from backoffice.understand.normalize import valid_iban
from backoffice.understand.schema import Field

from .corpus import INVOICE_CLASSIC
from .test_routing import CLIENTS

IBAN = "DE89370400440532013000"
BIC = "COBADEFFXXX"
ISO_ONLY_IBAN = "DE08200505501234567000"
"""Valid ISO 13616 check digits, but the bank's own account check digit fails."""
OTHER_IBAN = "DE02120300000000202051"


def payload(*lines: str) -> str:
    return "\n".join(lines)


def epc(
    *,
    version: str = "002",
    charset: str = "1",
    bic: str = BIC,
    name: str = "Elektro Blitz GmbH",
    iban: str = IBAN,
    amount: str = "EUR1309.00",
    purpose: str = "",
    reference: str = "",
    text: str = "RE-2026-0117",
) -> str:
    return payload(
        "BCD", version, charset, "SCT", bic, name, iban, amount, purpose, reference, text
    )


# --------------------------------------------------------------------------- parse_epc


def test_parse_version_002() -> None:
    code = parse_epc(epc())
    assert code == GiroCode(
        version="002",
        iban=IBAN,
        name="Elektro Blitz GmbH",
        bic=BIC,
        amount=Decimal("1309.00"),
        text="RE-2026-0117",
    )


def test_parse_version_001_needs_bic() -> None:
    assert parse_epc(epc(version="001")) is not None
    assert parse_epc(epc(version="001", bic="")) is None


def test_parse_version_002_bic_optional() -> None:
    code = parse_epc(epc(bic=""))
    assert code is not None and code.bic is None and code.iban == IBAN


def decoded(qr: segno.QRCode) -> str:
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=6, border=4)
    buffer.seek(0)
    image = Image.open(buffer).convert("L")
    return str(zxingcpp.read_barcodes(np.asarray(image))[0].text)


def test_parse_generated_code_and_crlf() -> None:
    """What a common generator writes (trailing elements left out, Latin-1), also with CRLF."""
    qr = segno.helpers.make_epc_qr(
        name="Müller & Söhne", iban=IBAN, amount=Decimal("12.5"), reference="RF18539007547034"
    )
    text = decoded(qr)
    for variant in (text, text.replace("\n", "\r\n")):
        code = parse_epc(variant)
        assert code is not None
        assert (code.name, code.iban, code.bic, code.amount, code.reference, code.text) == (
            "Müller & Söhne",
            IBAN,
            None,
            Decimal("12.5"),
            "RF18539007547034",
            None,
        )


def test_parse_iban_spaces_and_case_are_normalised() -> None:
    code = parse_epc(epc(iban="de89 3704 0044 0532 0130 00"))
    assert code is not None and code.iban == IBAN


def test_parse_accepts_iso_check_digits_without_national_check() -> None:
    assert not valid_iban(ISO_ONLY_IBAN) and valid_iban(ISO_ONLY_IBAN, national=False)
    code = parse_epc(epc(iban=ISO_ONLY_IBAN))
    assert code is not None and code.iban == ISO_ONLY_IBAN


@pytest.mark.parametrize(
    "iban",
    ["", "DE88370400440532013000", "DE8937040044053201300", "XX89370400440532013000", "IBAN"],
)
def test_parse_rejects_missing_or_invalid_iban(iban: str) -> None:
    assert parse_epc(epc(iban=iban)) is None


@pytest.mark.parametrize(
    "change",
    [
        {"version": "003"},
        {"version": "2"},
        {"charset": "0"},
        {"charset": "9"},
        {"charset": ""},
        {"bic": "NOTABIC"},
        {"name": ""},
        {"name": "x" * 71},
        {"purpose": "GDDS!"},
        {"reference": "RF18539007547034", "text": "RE-1"},
        {"text": "x" * 141},
    ],
)
def test_parse_rejects_malformed_elements(change: dict[str, str]) -> None:
    assert parse_epc(epc(**change)) is None


def test_parse_rejects_other_service_tags_and_identifications() -> None:
    good = epc().split("\n")
    assert parse_epc("\n".join(["BCX", *good[1:]])) is None
    assert parse_epc("\n".join([*good[:3], "INST", *good[4:]])) is None
    assert parse_epc("\n".join(good[1:])) is None


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("EUR1309.00", Decimal("1309.00")),
        ("EUR12.5", Decimal("12.5")),
        ("EUR12", Decimal("12")),
        ("EUR0.01", Decimal("0.01")),
        ("EUR999999999.99", Decimal("999999999.99")),
        ("", None),
    ],
)
def test_parse_amounts(amount: str, expected: Decimal | None) -> None:
    code = parse_epc(epc(amount=amount))
    assert code is not None and code.amount == expected


@pytest.mark.parametrize(
    "amount",
    [
        "EUR",
        "EUR12.505",
        "EUR1,50",
        "EUR1.309,00",
        "12.50",
        "USD12.50",
        "EUR0.00",
        "EUR-5",
        "EUR1e3",
    ],
)
def test_parse_rejects_bad_amounts(amount: str) -> None:
    assert parse_epc(epc(amount=amount)) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "BCD",
        "https://example.com/pay",
        "BACKOFFICE-SEP:v1",
        epc() + "\n\n\ninfo\nextra line",
        "\x00\x01BCD\n002",
    ],
)
def test_parse_rejects_garbage(text: str) -> None:
    assert parse_epc(text) is None


def test_parse_allows_trailing_line_break_and_information() -> None:
    code = parse_epc(epc(text="") + "\nBitte bis 31.03. zahlen\n")
    assert code is not None and code.information == "Bitte bis 31.03. zahlen"


# --------------------------------------------------------------------------- read_girocodes


def qr_image(text: str) -> ImageReader:
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=8, border=4)
    buffer.seek(0)
    return ImageReader(buffer)


def invoice_pdf(
    lines: list[str], *, code: str | None, pages: int = 1, code_page: int | None = None
) -> bytes:
    """A born-digital invoice: ``lines`` on page 1, the QR code (if any) on ``code_page``."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    width, height = A4
    target = pages - 1 if code_page is None else code_page
    for index in range(pages):
        canvas.setFont("Helvetica", 9)
        if index == 0:
            y = height - 20 * mm
            for line in lines:
                canvas.drawString(18 * mm, y, line)
                y -= 4.6 * mm
        else:
            canvas.drawString(18 * mm, height - 20 * mm, f"Seite {index + 1}")
        if code is not None and index == target:
            canvas.drawImage(qr_image(code), width - 55 * mm, 20 * mm, 35 * mm, 35 * mm)
            canvas.drawString(width - 55 * mm, 16 * mm, "GiroCode")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def scanned(pdf: bytes) -> bytes:
    """``pdf`` as an office scanner delivers it: 200 dpi, slightly turned, noisy, JPEG."""
    params = ScanParams(
        dpi=200,
        skew_deg=0.4,
        noise=0.02,
        blur=0.5,
        contrast=0.85,
        paper=238,
        upside_down_pages=(),
        speckles=30,
        jpeg_quality=75,
        edge_shadow=False,
    )
    return image_pdf(scan_document(pdf, params, (7,)))


def test_read_born_digital_code() -> None:
    codes = read_girocodes(invoice_pdf(["Rechnung"], code=epc()))
    assert [(c.iban, c.bic, c.amount, c.page) for c in codes] == [
        (IBAN, BIC, Decimal("1309.00"), 0)
    ]
    x0, y0, x1, y1 = codes[0].bbox or (0, 0, 0, 0)
    # drawn 35 mm wide at the bottom right (the PNG has a quiet zone of 4 modules)
    assert 595 - 55 * 2.835 < x0 < x1 < 595 - 20 * 2.835
    assert 842 - 55 * 2.835 < y0 < y1 < 842 - 20 * 2.835


def test_read_scanned_code() -> None:
    codes = read_girocodes(scanned(invoice_pdf(["Rechnung"], code=epc(iban=OTHER_IBAN))))
    assert [c.iban for c in codes] == [OTHER_IBAN]


def test_read_first_and_last_page_only_by_default() -> None:
    last = invoice_pdf(["Rechnung"], code=epc(), pages=3)
    assert [c.page for c in read_girocodes(last)] == [2]
    middle = invoice_pdf(["Rechnung"], code=epc(), pages=3, code_page=1)
    assert read_girocodes(middle) == []
    assert [c.page for c in read_girocodes(middle, pages=[1])] == [1]


def test_read_ignores_other_qr_codes_and_bad_input() -> None:
    assert read_girocodes(invoice_pdf(["Rechnung"], code="BACKOFFICE-SEP:v1")) == []
    assert read_girocodes(invoice_pdf(["Rechnung"], code=epc(iban="DE00123"))) == []
    assert read_girocodes(b"%PDF-1.4 broken") == []
    assert read_girocodes(b"") == []
    assert read_girocodes(invoice_pdf(["Rechnung"], code=epc()), pages=[5, -1]) == []


# --------------------------------------------------------------------------- the pipeline rule


def field(name: str, value: str, source: str = "text") -> Field:
    return Field(name, value, 0.9, source, 0)  # type: ignore[arg-type]


PDF = b"%PDF-1.7\n"


@pytest.mark.parametrize(
    ("doc_type", "fields", "raw", "expected"),
    [
        ("invoice", [], PDF, True),
        ("reminder", [], PDF, True),
        ("invoice", [field("iban", "DE362005055068407075")], PDF, True),
        ("invoice", [field("iban", IBAN)], PDF, False),
        ("invoice", [field("iban", ISO_ONLY_IBAN)], PDF, False),
        ("invoice", [field("iban", "DE362005055068407075", "einvoice")], PDF, False),
        ("letter", [], PDF, False),
        ("other", [], PDF, False),
        ("invoice", [], None, False),
        ("invoice", [], b"\x89PNG\r\n", False),
        ("invoice", [], b"From: a@b.de\n\n%PDF-1.7 later on", True),
    ],
)
def test_needs_girocode(
    doc_type: str, fields: list[Field], raw: bytes | None, expected: bool
) -> None:
    """Only payment documents whose text gave no valid IBAN are rendered."""
    assert needs_girocode(doc_type, fields, raw) is expected


def code_on(page: int, iban: str = IBAN, bic: str | None = BIC) -> GiroCode:
    return GiroCode("002", iban, "Elektro Blitz GmbH", bic=bic, page=page, bbox=(1, 2, 3, 4))


def test_with_girocode_adds_iban_and_bic() -> None:
    fields = [field("gross_total", "1309.00")]
    out = with_girocode("invoice", fields, [code_on(1)])
    assert out[0] == fields[0]
    assert {f.name: (f.value, f.source, f.page, f.bbox) for f in out[1:]} == {
        "iban": (IBAN, GIROCODE_SOURCE, 1, (1, 2, 3, 4)),
        "bic": (BIC, GIROCODE_SOURCE, 1, (1, 2, 3, 4)),
    }
    assert all(f.confidence >= 0.95 for f in out[1:])


def test_with_girocode_replaces_invalid_iban_in_place_and_keeps_bic() -> None:
    fields = [field("iban", "DE362005055068407075"), field("bic", "NOLADE21MDG")]
    out = with_girocode("invoice", fields, [code_on(0)])
    assert [(f.name, f.value, f.source) for f in out] == [
        ("iban", IBAN, GIROCODE_SOURCE),
        ("bic", "NOLADE21MDG", "text"),
    ]


def test_with_girocode_reminder_gets_no_bic() -> None:
    out = with_girocode("reminder", [], [code_on(0)])
    assert [f.name for f in out] == ["iban"]


def test_with_girocode_never_overrides_einvoice_and_skips_disagreeing_codes() -> None:
    xml = [field("iban", "DE362005055068407075", "einvoice")]
    assert with_girocode("invoice", xml, [code_on(0)]) == xml
    assert with_girocode("invoice", [], [code_on(0), code_on(0, OTHER_IBAN)]) == []
    assert [f.value for f in with_girocode("invoice", [], [code_on(0), code_on(0)])] == [IBAN, BIC]


# --------------------------------------------------------------------------- end to end


def without_bank_line(text: str) -> list[str]:
    return [line for line in text.splitlines() if "IBAN" not in line]


def test_scanned_invoice_without_iban_line_gets_iban_from_code(tmp_path: Path) -> None:
    """OCR lost the footer line with IBAN and BIC; the GiroCode next to it still reads."""
    lines = without_bank_line(INVOICE_CLASSIC)
    raw = scanned(invoice_pdf(lines, code=epc()))
    u = understand_document(
        ["\n".join(lines)],
        CLIENTS,
        raw=raw,
        settings=UnderstandSettings(model_dir=tmp_path / "no-model"),
    )
    assert u.classification.label == "invoice"
    iban = next(f for f in u.fields if f.name == "iban")
    assert (iban.value, iban.source, iban.page) == (IBAN, GIROCODE_SOURCE, 0)
    assert u.field_value("bic") == BIC
    assert u.field_value("gross_total") == "1309.00"
    assert not any("IBAN" in flag for flag in u.flags)


def test_text_iban_wins_without_reading_codes(tmp_path: Path) -> None:
    """A valid IBAN in the text is kept even when a code names another one (no render)."""
    raw = invoice_pdf(INVOICE_CLASSIC.splitlines(), code=epc(iban=OTHER_IBAN))
    u = understand_document(
        [INVOICE_CLASSIC],
        CLIENTS,
        raw=raw,
        settings=UnderstandSettings(model_dir=tmp_path / "no-model"),
    )
    iban = next(f for f in u.fields if f.name == "iban")
    assert (iban.value, iban.source) == (IBAN, "text")
