"""Every house style renders every kind of document, with page breaks and exact text layers."""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import replace
from decimal import Decimal

import pypdfium2 as pdfium
import pytest

from backoffice.samples import ALL_LAYOUTS, DEMO_CLIENTS
from backoffice.samples.clients import client_profile
from backoffice.samples.compose import Composed, Ctx, InvoiceRef, compose_invoice, compose_reminder
from backoffice.samples.content import Sender, build_sender_pool
from backoffice.samples.layouts import render_draft
from backoffice.samples.letters import (
    compose_advertising,
    compose_bank_statement,
    compose_contract,
    compose_letter,
    compose_tax_office,
)
from backoffice.samples.render import available_fonts

PROPORTIONAL, MONO = available_fonts()


def _pool() -> list[Sender]:
    return build_sender_pool(random.Random(99), DEMO_CLIENTS, ALL_LAYOUTS, PROPORTIONAL, MONO)


POOL = _pool()


def _sender(kind: str, category: str | None = None) -> Sender:
    return next(s for s in POOL if s.kind == kind and (category is None or s.category == category))


def _ctx(sender: Sender, *, client_index: int = 0, seed: int = 5) -> Ctx:
    client = DEMO_CLIENTS[client_index]
    return Ctx(
        random.Random(seed),
        client,
        client_profile(client),
        sender,
        dt.date(2026, 3, 16),
        "4711",
    )


def _assert_text_layer(pdf_bytes: bytes, page_texts: list[str]) -> None:
    pdf = pdfium.PdfDocument(pdf_bytes)
    assert len(pdf) == len(page_texts)
    for index, text in enumerate(page_texts):
        layer = re.sub(r"\s+", "", pdf[index].get_textpage().get_text_range())
        for line in text.splitlines():
            assert re.sub(r"\s+", "", line) in layer, line
    pdf.close()


def _render(composed: Composed, layout: str, font: str = "Helvetica") -> tuple[bytes, list[str]]:
    pdf, texts = render_draft(composed.draft, layout, font)
    _assert_text_layer(pdf, texts)
    return pdf, texts


@pytest.mark.parametrize("layout", ALL_LAYOUTS)
def test_long_invoice_breaks_pages_with_carry_over(layout: str) -> None:
    sender = replace(_sender("supplier", "sanitaer_grosshandel"), layout=layout)
    composed, result = compose_invoice(_ctx(sender), number="RE-2026-0001", n_lines=36)
    _, texts = _render(composed, layout, "Courier" if layout == "erp" else "DejaVuSans")
    assert len(texts) >= 2
    assert "Übertrag" in texts[0] and "Übertrag" in texts[1]
    assert "RE-2026-0001" in texts[0]
    assert result.gross == Decimal(composed.fields["gross_total"])


@pytest.mark.parametrize("layout", ALL_LAYOUTS)
def test_every_document_kind_renders(layout: str) -> None:
    composed_docs = [
        compose_letter(_ctx(replace(_sender("lawyer"), layout=layout)), "lawyer"),
        compose_letter(_ctx(replace(_sender("chamber"), layout=layout)), "chamber"),
        compose_contract(_ctx(replace(_sender("landlord"), layout=layout))),
        compose_tax_office(_ctx(replace(_sender("tax_office"), layout=layout))),
        compose_bank_statement(_ctx(replace(_sender("bank"), layout=layout)), POOL),
        compose_advertising(_ctx(replace(_sender("supplier", "buerobedarf"), layout=layout))),
        compose_reminder(
            _ctx(replace(_sender("supplier", "buerobedarf"), layout=layout)),
            stage=3,
            refs=[InvoiceRef("RE-1", dt.date(2026, 1, 5), dt.date(2026, 1, 19), Decimal("119.00"))],
        ),
    ]
    for composed in composed_docs:
        _, texts = _render(composed, layout, "LiberationSerif")
        assert texts[0].count("\n") > 10
        assert composed.recipient["lines"][0] in texts[0]


@pytest.mark.parametrize("font", PROPORTIONAL + MONO)
def test_every_font_keeps_german_text_extractable(font: str) -> None:
    sender = replace(_sender("supplier", "baeckereibedarf"), font=font, layout="classic")
    composed, _ = compose_invoice(_ctx(sender, client_index=1), number="2026-00042", n_lines=6)
    _, texts = _render(composed, "classic", font)
    assert "Bäckerei" in texts[0] or "Baeckerei" in texts[0]


def test_all_required_fonts_are_present() -> None:
    wanted = {
        "Helvetica",
        "Times",
        "Courier",
        "DejaVuSans",
        "LiberationSans",
        "FreeSans",
        "FreeSerif",
    }
    assert wanted <= set(PROPORTIONAL) | set(MONO)


def test_mixed_vat_invoice_shows_both_rates() -> None:
    sender = replace(_sender("supplier", "baeckereibedarf"), layout="classic")
    for seed in range(20):
        composed, _ = compose_invoice(
            _ctx(sender, client_index=1, seed=seed), number="X-1", n_lines=8
        )
        rates = {b["rate"] for b in composed.fields["vat_breakdown"]}
        if rates == {"7", "19"}:
            _, texts = _render(composed, "classic")
            assert re.search(r"7\s?%", texts[0]) and re.search(r"19\s?%", texts[0])
            return
    pytest.fail("no mixed-rate invoice in 20 tries")


def test_reverse_charge_invoice_has_no_vat_and_says_why() -> None:
    sender = replace(_sender("supplier", "bauleistung"), layout="band")
    composed, _ = compose_invoice(_ctx(sender), number="BV-7", n_lines=3, reverse_charge=True)
    fields = composed.fields
    assert fields["reverse_charge"] is True and fields["vat_total"] == "0.00"
    assert fields["net_total"] == fields["gross_total"]
    _, texts = _render(composed, "band")
    assert "13b" in texts[0]
    assert fields["buyer_vat_id"] in texts[0]
