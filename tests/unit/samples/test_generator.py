"""The generated corpus is internally consistent: files, page lists, text layers, arithmetic."""

from __future__ import annotations

import email
import email.policy
import re
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pdfplumber
import pypdfium2 as pdfium
import pytest
from schwifty import IBAN
from stdnum.at import uid as at_uid
from stdnum.de import stnr, vat
from stdnum.nl import btw as nl_btw

from backoffice.intake.separator import read_separator
from backoffice.samples import ALL_LAYOUTS, DEMO_CLIENTS, GeneratedSet, generate

CENT = Decimal("0.01")
MM = 72 / 25.4


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _docs(truth: dict[str, Any], doc_type: str | None = None) -> list[dict[str, Any]]:
    return [d for d in truth["documents"] if doc_type is None or d["doc_type"] == doc_type]


def test_writes_the_promised_files(corpus: GeneratedSet, truth: dict[str, Any]) -> None:
    root = corpus.root
    assert len(corpus.documents) == len(truth["documents"]) == 12
    for doc in truth["documents"]:
        assert (root / "digital" / f"{doc['id']}.pdf").is_file()
        assert (root / "scanned" / f"{doc['id']}.pdf").is_file()
    assert [p.name for p in corpus.batches] == [Path(b["file"]).name for b in truth["batches"]]
    assert [p.name for p in corpus.emails] == [Path(e["file"]).name for e in truth["emails"]]
    assert len(corpus.emails) == 2
    assert truth == corpus.ground_truth
    assert truth["seed"] == 1
    assert [c["code"] for c in truth["clients"]] == [c.code for c in DEMO_CLIENTS]


def test_document_type_mix_and_labels(truth: dict[str, Any]) -> None:
    types = Counter(d["doc_type"] for d in truth["documents"])
    assert types == {"invoice": 6, "reminder": 2, "letter": 2, "other": 2}
    subtypes: dict[str, set[str | None]] = {
        "invoice": {None, "credit_note"},
        "reminder": {"zahlungserinnerung", "mahnung_1", "mahnung_2", "letzte_mahnung"},
        "letter": {None},
        "other": {"contract", "tax_office", "bank_statement", "advertising"},
    }
    for doc in truth["documents"]:
        assert doc["subtype"] in subtypes[doc["doc_type"]]
        assert doc["layout"] in ALL_LAYOUTS
        assert doc["language"] in {"de", "en"}
        assert doc["client_code"] in {c.code for c in DEMO_CLIENTS}
        assert doc["pages"] == len(doc["page_texts"]) >= 1


def test_page_texts_are_in_the_born_digital_text_layer(
    corpus: GeneratedSet, truth: dict[str, Any]
) -> None:
    for doc in truth["documents"]:
        pdf = pdfium.PdfDocument(str(corpus.root / doc["files"]["digital"]))
        assert len(pdf) == doc["pages"]
        for index, expected in enumerate(doc["page_texts"]):
            layer = _squash(pdf[index].get_textpage().get_text_range())
            for line in expected.splitlines():
                assert _squash(line) in layer, (doc["id"], index + 1, line)
        pdf.close()


def test_key_fields_are_printed(corpus: GeneratedSet, truth: dict[str, Any]) -> None:
    for doc in truth["documents"]:
        text = _squash(
            "\n".join(doc["page_texts"])
        ).casefold()  # some house styles print titles in capitals
        fields = doc["fields"]
        for key in (
            "invoice_number",
            "customer_number",
            "seller_vat_id",
            "seller_tax_number",
            "subject",
        ):
            if key in fields:
                assert _squash(str(fields[key])).casefold() in text, (doc["id"], key)
        if "iban" in fields:
            assert _squash(fields["iban"]).casefold() in text, doc["id"]
        for number in fields.get("referenced_invoice_numbers", []):
            assert _squash(number).casefold() in text, doc["id"]


def test_recipient_sits_in_the_din_address_window(
    corpus: GeneratedSet, truth: dict[str, Any]
) -> None:
    """First recipient line on page 1: 20-25 mm from the left, 45-90 mm from the top."""
    for doc in truth["documents"]:
        first_word = doc["recipient"]["lines"][0].split()[0]
        with pdfplumber.open(corpus.root / doc["files"]["digital"]) as pdf:
            words = pdf.pages[0].extract_words()
        hits = [w for w in words if w["text"] == first_word and 19 * MM <= w["x0"] <= 26 * MM]
        assert any(45 * MM <= w["top"] <= 90 * MM for w in hits), (doc["id"], first_word)
        client = next(c for c in DEMO_CLIENTS if c.code == doc["client_code"])
        assert doc["recipient"]["name_printed"] in (client.name, *client.aliases)
        assert doc["recipient"]["lines"][-2:] in (
            [client.street, f"{client.zip} {client.city}"],
            [f"{client.zip} {client.city}", "GERMANY"],
        )


def test_invoice_arithmetic_is_exact(truth: dict[str, Any]) -> None:
    invoices = _docs(truth, "invoice")
    assert invoices
    for doc in invoices:
        f = doc["fields"]
        assert f["currency"] == "EUR"
        net = Decimal(0)
        per_rate: dict[str, Decimal] = {}
        for item in f["line_items"]:
            total = (Decimal(item["quantity"]) * Decimal(item["unit_price"])).quantize(
                CENT, ROUND_HALF_UP
            )
            assert total == Decimal(item["total"]), (doc["id"], item)
            net += total
            per_rate[item["vat_rate"]] = per_rate.get(item["vat_rate"], Decimal(0)) + total
        assert net == Decimal(f["net_total"])
        breakdown = {b["rate"]: b for b in f["vat_breakdown"]}
        assert set(breakdown) == set(per_rate)
        for rate, base in per_rate.items():
            assert Decimal(breakdown[rate]["net"]) == base
            assert Decimal(breakdown[rate]["vat"]) == (base * Decimal(rate) / 100).quantize(
                CENT, ROUND_HALF_UP
            )
        assert sum(Decimal(b["vat"]) for b in f["vat_breakdown"]) == Decimal(f["vat_total"])
        assert Decimal(f["net_total"]) + Decimal(f["vat_total"]) == Decimal(f["gross_total"])
        if f["reverse_charge"]:
            assert Decimal(f["vat_total"]) == 0
        for key in ("issue_date", "service_date", "due_date", "skonto_date"):
            if key in f:
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", f[key])
        for key in ("net_total", "vat_total", "gross_total"):
            assert re.fullmatch(r"\d+\.\d{2}", f[key])


def test_reminders_add_up_and_cite_earlier_invoices(truth: dict[str, Any]) -> None:
    invoices = {d["fields"]["invoice_number"]: d for d in _docs(truth, "invoice")}
    for doc in _docs(truth, "reminder"):
        f = doc["fields"]
        total = (
            Decimal(f["amount_outstanding"])
            + Decimal(f.get("fees", "0"))
            + Decimal(f.get("interest", "0"))
        )
        assert total == Decimal(f["total_due"])
        assert f["dunning_stage"] == (
            "zahlungserinnerung",
            "mahnung_1",
            "mahnung_2",
            "letzte_mahnung",
        ).index(doc["subtype"])
        assert f["new_deadline"] > f["issue_date"]
        assert len(f["referenced_invoice_numbers"]) == len(f["referenced_invoice_dates"]) >= 1
        for number, date in zip(
            f["referenced_invoice_numbers"], f["referenced_invoice_dates"], strict=True
        ):
            assert date < f["issue_date"]
            if number in invoices:
                original = invoices[number]
                assert original["client_code"] == doc["client_code"]
                assert original["sender"] == doc["sender"]
                assert original["fields"]["issue_date"] == date
        if doc["subtype"] == "letzte_mahnung":
            assert f["court_threat"] is True


def test_sender_identifiers_are_valid_and_stable(truth: dict[str, Any]) -> None:
    by_name: dict[str, dict[str, Any]] = {}
    for doc in truth["documents"]:
        sender = doc["sender"]
        assert by_name.setdefault(sender["name"], sender) == sender, "same sender, same data"
        if sender["iban"]:
            IBAN(sender["iban"])  # raises on a bad checksum
        vat_id = sender["vat_id"]
        if vat_id:
            validator = {"DE": vat, "AT": at_uid, "NL": nl_btw}[vat_id[:2]]
            assert validator.is_valid(vat_id), vat_id
        if sender["tax_number"]:
            assert stnr.is_valid(sender["tax_number"]), sender["tax_number"]
    for client in DEMO_CLIENTS:
        assert IBAN(client.iban).country_code == "DE"
        assert client.vat_id is not None and vat.is_valid(client.vat_id)


def test_scanned_pdfs_are_image_only_with_the_same_pages(
    corpus: GeneratedSet, truth: dict[str, Any]
) -> None:
    upside_down = 0
    for doc in truth["documents"]:
        scan = doc["scan"]
        assert scan["dpi"] in (200, 300)
        assert -1.5 <= scan["skew_deg"] <= 1.5
        assert all(1 <= p <= doc["pages"] for p in scan["upside_down_pages"])
        upside_down += bool(scan["upside_down_pages"])
        pdf = pdfium.PdfDocument(str(corpus.root / doc["files"]["scanned"]))
        assert len(pdf) == doc["pages"]
        for index in range(len(pdf)):
            page = pdf[index]
            assert page.get_textpage().get_text_range().strip() == ""
            width, height = page.get_size()
            assert (round(width / MM), round(height / MM)) == (210, 297)
        pdf.close()
    assert upside_down <= 4


def test_batch_page_lists_match_the_pdfs(corpus: GeneratedSet, truth: dict[str, Any]) -> None:
    emailed = {i for e in truth["emails"] for i in e["document_ids"]}
    pages_by_id = {d["id"]: d["pages"] for d in truth["documents"]}
    in_batches: list[str] = []
    for batch in truth["batches"]:
        pdf = pdfium.PdfDocument(str(corpus.root / batch["file"]))
        assert len(pdf) == len(batch["pages"])
        pdf.close()
        entries = batch["pages"]
        assert entries[0]["kind"] == "separator"
        for i, entry in enumerate(entries):
            if entry["kind"] == "document" and entry["page"] == 1:
                assert entries[i - 1]["kind"] == "separator"
                in_batches.append(entry["id"])
                pages = [e["page"] for e in entries if e.get("id") == entry["id"]]
                assert pages == list(range(1, pages_by_id[entry["id"]] + 1))
    assert sorted(in_batches) == sorted(set(pages_by_id) - emailed)
    assert len(truth["batches"]) == 2  # 8 paper documents in batches of 6


def test_separators_found_on_separator_pages_only(
    corpus: GeneratedSet, truth: dict[str, Any]
) -> None:
    """At the intake's 100 dpi quick render, skewed, noisy and sometimes upside down."""
    seen_codes = set()
    for batch in truth["batches"]:
        pdf = pdfium.PdfDocument(str(corpus.root / batch["file"]))
        for index, entry in enumerate(batch["pages"]):
            image = pdf[index].render(scale=100 / 72, grayscale=True).to_pil()
            info = read_separator(image)
            if entry["kind"] == "separator":
                assert info is not None, (batch["file"], index)
                assert info.client_code == entry["client_code"]
                seen_codes.add(info.client_code)
            else:
                assert info is None, (batch["file"], index, entry)
        pdf.close()
    assert None in seen_codes and len(seen_codes) > 1


def test_emails_parse_and_carry_the_documents(corpus: GeneratedSet, truth: dict[str, Any]) -> None:
    clients = {c.code: c for c in DEMO_CLIENTS}
    for meta in truth["emails"]:
        raw = (corpus.root / meta["file"]).read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert message["Message-ID"] == meta["message_id"]
        assert (
            message["To"].addresses[0].addr_spec == meta["to"] == clients[meta["client_code"]].email
        )
        assert message["From"].addresses[0].addr_spec == meta["from"]
        assert message["Subject"] and message["Date"]
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        assert "Grüße" in body.get_content() or "regards" in body.get_content()
        attachments = list(message.iter_attachments())
        assert 1 <= len(attachments) <= 2
        assert len(attachments) == len(meta["document_ids"])
        for part, doc_id in zip(attachments, meta["document_ids"], strict=True):
            assert part.get_content_type() == "application/pdf"
            assert part.get_content() == (corpus.root / "digital" / f"{doc_id}.pdf").read_bytes()
        docs = [d for d in truth["documents"] if d["id"] in meta["document_ids"]]
        assert {d["client_code"] for d in docs} == {meta["client_code"]}
        assert len({d["sender"]["name"] for d in docs}) == 1
        assert all(d["channel"] == "email" for d in docs)


def test_layouts_can_be_restricted(tmp_path: Path) -> None:
    chosen = ("erp", "sidebar")
    result = generate(tmp_path, seed=4, n_documents=5, scanned=False, n_emails=0, layouts=chosen)
    assert {d.layout for d in result.documents} <= set(chosen)
    assert result.batches == [] and result.emails == []
    assert result.ground_truth["layouts"] == list(chosen)
    assert all(d.scan is None and d.scanned_pdf is None for d in result.documents)


def test_progress_reports_every_step(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    generate(
        tmp_path,
        seed=2,
        n_documents=3,
        scanned=False,
        n_emails=1,
        progress=lambda d, t: calls.append((d, t)),
    )
    total = calls[0][1]
    assert calls == [(i, total) for i in range(1, total + 1)]
    assert total == 4


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="layouts"):
        generate(tmp_path, layouts=["nope"])
    with pytest.raises(ValueError):
        generate(tmp_path, batch_size=0)
    with pytest.raises(ValueError):
        generate(tmp_path, clients=[])
