"""One call that understands a document: e-invoice XML, type, client, fields and flags.

This is what the intake flow calls per document. Order of trust: an embedded or attached
e-invoice XML beats everything read from the page; the page text fills only the gaps the XML
leaves (a MINIMUM profile has no VAT breakdown). Routing prefers the buyer address from the XML,
then the address on page 1. Whatever is unsure ends in :attr:`Understanding.needs_review`.
"""

from __future__ import annotations

from collections.abc import Sequence

from backoffice.config import OcrSettings, UnderstandSettings

from .einvoice import INCOMPLETE_FLAG, read_einvoice
from .extract import extract_fields
from .girocode import needs_girocode, read_girocodes, with_girocode
from .reread import date_from_head, needs_reread, reread_head
from .routing import route_client
from .schema import (
    DOC_TYPES,
    Classification,
    ClientProfile,
    Field,
    Routing,
    Understanding,
    WordLike,
)
from .textcat import classify
from .validate import validate


def _route(
    pages: Sequence[str],
    clients: Sequence[ClientProfile],
    *,
    hint_code: str | None,
    hint_address: str | None,
    words: Sequence[Sequence[WordLike]] | None,
    threshold: float,
    buyer: dict[str, str] | None = None,
) -> Routing:
    first_words = words[0] if words else None
    if buyer and buyer.get("name") and not (hint_code or hint_address):
        block = "\n".join(
            [
                "Rechnungsempfänger:",
                buyer.get("name", ""),
                buyer.get("street", ""),
                f"{buyer.get('zip', '')} {buyer.get('city', '')}".strip(),
            ]
        )
        routed = route_client(block, clients, threshold=threshold)
        if routed.client_id is not None:
            return Routing(
                routed.client_id,
                routed.confidence,
                f"E-Rechnung Käufer: {routed.reason}",
                routed.candidates,
            )
    return route_client(
        pages[0] if pages else "",
        clients,
        hint_code=hint_code,
        hint_address=hint_address,
        first_page_words=first_words or None,
        threshold=threshold,
    )


def _with_girocode(doc_type: str, fields: list[Field], raw: bytes | None) -> list[Field]:
    """Take the IBAN from the document's GiroCode when the text gave none (or an invalid one).

    The page render this needs happens only when :func:`.girocode.needs_girocode` says so,
    which keeps born-digital invoices with a readable IBAN at text-extraction cost.
    """
    if raw is None or not needs_girocode(doc_type, fields, raw):
        return fields
    codes = read_girocodes(raw)
    return with_girocode(doc_type, fields, codes) if codes else fields


def _with_reread_date(
    doc_type: str, fields: list[Field], raw: bytes | None, ocr: OcrSettings | None
) -> list[Field]:
    """Add the document's date from a second, line-by-line reading of the head of a scanned
    page 1 when the first reading lost it (see :mod:`.reread`)."""
    if raw is None or not needs_reread(doc_type, fields, raw):
        return fields
    found = date_from_head(doc_type, reread_head(raw, ocr))
    return [*fields, found] if found is not None else fields


def understand_document(
    pages: Sequence[str],
    clients: Sequence[ClientProfile],
    *,
    hint_code: str | None = None,
    hint_address: str | None = None,
    raw: bytes | None = None,
    words: Sequence[Sequence[WordLike]] | None = None,
    settings: UnderstandSettings | None = None,
    ocr: OcrSettings | None = None,
) -> Understanding:
    """Classify, route, extract and validate one document.

    ``pages`` are the page texts, ``raw`` the original file's bytes (to find e-invoice XML and,
    for a payment document without a usable IBAN in its text, the GiroCode), ``words`` the word
    boxes per page if the text stage has them. ``ocr`` is used when a scan's lost date is read
    again (languages, time limit).
    """
    settings = settings or UnderstandSettings()
    einvoice = read_einvoice(raw) if raw else None
    if einvoice is not None:
        scores = {t: (1.0 if t == "invoice" else 0.0) for t in DOC_TYPES}
        classification = Classification("invoice", 1.0, scores, subtype="einvoice")
        fields = list(einvoice.fields)
        if pages and any(p.strip() for p in pages):
            have = {f.name for f in fields}
            fields += [
                f for f in extract_fields(pages, "invoice", words=words) if f.name not in have
            ]
        fields = _with_girocode("invoice", fields, raw)
        routing = _route(
            pages,
            clients,
            hint_code=hint_code,
            hint_address=hint_address,
            words=words,
            threshold=settings.routing_threshold,
            buyer=einvoice.buyer_address,
        )
        flags = validate("invoice", fields)
        if not einvoice.complete:
            flags.insert(0, INCOMPLETE_FLAG)
        return Understanding(
            classification,
            routing,
            fields,
            flags,
            einvoice.profile,
            review_threshold=settings.review_threshold,
            routing_threshold=settings.routing_threshold,
        )

    text = "\n".join(pages)
    classification = classify(text, model_dir=settings.model_dir)
    fields = extract_fields(
        pages, classification.label, words=words, subtype=classification.subtype
    )
    fields = _with_girocode(classification.label, fields, raw)
    fields = _with_reread_date(classification.label, fields, raw, ocr)
    routing = _route(
        pages,
        clients,
        hint_code=hint_code,
        hint_address=hint_address,
        words=words,
        threshold=settings.routing_threshold,
    )
    flags = validate(classification.label, fields)
    return Understanding(
        classification,
        routing,
        fields,
        flags,
        None,
        review_threshold=settings.review_threshold,
        routing_threshold=settings.routing_threshold,
    )
