"""The stages of one document's way through the house, as plain functions.

``receive → split → text → understand → file → follow up``. Each function here takes an explicit
:class:`Context` (settings, catalog, archive), does one stage, and records its outcome in the
catalog before returning, so that any worker can continue where another stopped and a crash
loses nothing. The Prefect flows in ``flows/`` only call these; nothing here knows Prefect.

Stages are idempotent: a document that already passed a stage skips it (its outcome is in the
catalog), objects are write-once under content-addressed keys, and follow-ups are unique per
document and kind.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pypdfium2 as pdfium
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice.archive.audit import record_event
from backoffice.archive.correspondents import is_client_itself, match_or_create
from backoffice.archive.retention import retain_until
from backoffice.archive.storage import (
    INTAKE_SCOPE,
    client_scope,
    content_key,
    sha256_hex,
)
from backoffice.context import Context
from backoffice.followups.queue import queue_followups
from backoffice.intake.firstpage import (
    UNCERTAIN_PREFIX,
    PageInput,
    score_pages,
    uncertain_flag,
)
from backoffice.intake.quarantine import quarantine_document
from backoffice.intake.receive import Received, receive_path
from backoffice.intake.split import cut_pages, split_intake
from backoffice.models import (
    Client,
    DocType,
    Document,
    DocumentStatus,
    ExtractedField,
    FollowUp,
    Intake,
    IntakeStatus,
)
from backoffice.portal.search import index_document
from backoffice.text import DocumentText, TextError, Word, extract_document_text
from backoffice.text.pdfa import to_pdfa
from backoffice.text.render import PDFIUM_LOCK, scan_resolution
from backoffice.understand import ClientProfile, Understanding, understand_document

log = logging.getLogger(__name__)


@dataclass
class DocumentOutcome:
    """What became of one document: the line of the demo's summary table."""

    document_id: int
    status: str
    client: str | None = None
    doc_type: str | None = None
    confidence: float | None = None
    key_fields: dict[str, str] = field(default_factory=dict)
    archive_key: str | None = None
    followups: list[str] = field(default_factory=list)
    needs_review: bool = False
    flags: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "invoice": ("invoice_number", "issue_date", "gross_total", "due_date", "iban"),
    "reminder": ("referenced_invoice_numbers", "dunning_stage", "amount_outstanding"),
    "letter": ("letter_date", "subject", "deadline"),
    "other": ("subtype", "issue_date", "subject"),
}


# --- receive and split ------------------------------------------------------------------------


def receive(
    ctx: Context, path: Path, *, source: str = "cli", client_hint: str | None = None
) -> list[Received]:
    """Store and record every file under ``path`` (see :mod:`backoffice.intake.receive`)."""
    return receive_path(
        ctx.catalog,
        ctx.store,
        path,
        source=source,
        client_hint=client_hint,
        max_bytes=ctx.settings.intake.max_file_bytes,
    )


def pending_intakes(ctx: Context) -> list[int]:
    """Intakes received but not yet split (including those a crash interrupted)."""
    with ctx.catalog.session() as session:
        return list(
            session.scalars(
                select(Intake.id).where(Intake.status == IntakeStatus.RECEIVED).order_by(Intake.id)
            )
        )


def split(ctx: Context, intake_id: int) -> list[int]:
    return split_intake(ctx.catalog, ctx.store, intake_id, ctx.settings)


MAX_UNPACK_ROUNDS = 10
"""Containers unpack into child intakes (a ZIP in a mail …); bounded like the nesting depth."""


def split_pending(ctx: Context, split_many: Callable[[list[int]], object]) -> None:
    """Split pending intakes round by round until unpacking yields no new ones.

    ``split_many`` does one round (in-process here, as Prefect tasks in the flow).
    """
    done: set[int] = set()
    for _ in range(MAX_UNPACK_ROUNDS):
        todo = [i for i in pending_intakes(ctx) if i not in done]
        if not todo:
            return
        split_many(todo)
        done.update(todo)


def pending_documents(ctx: Context) -> list[int]:
    """Documents whose processing has not finished (new, or stopped after a stage)."""
    unfinished = (DocumentStatus.NEW, DocumentStatus.TEXT, DocumentStatus.UNDERSTOOD)
    with ctx.catalog.session() as session:
        return list(
            session.scalars(
                select(Document.id).where(Document.status.in_(unfinished)).order_by(Document.id)
            )
        )


T = TypeVar("T")

MAX_PROCESS_ROUNDS = 3
"""Processing may cut a batch without separator sheets into new documents (in ``text`` state);
they are picked up by a second round, and cannot be cut again, so rounds are few."""


def process_pending(ctx: Context, process_many: Callable[[list[int]], Sequence[T]]) -> list[T]:
    """Process pending documents round by round until no new ones appear.

    ``process_many`` does one round (in-process here, as Prefect tasks in the flow). A round
    takes the documents pending when it starts; documents cut from a batch during it (see
    :func:`split_unseparated`) are pending afterwards and make the next round.
    """
    done: set[int] = set()
    results: list[T] = []
    for _ in range(MAX_PROCESS_ROUNDS):
        todo = [i for i in pending_documents(ctx) if i not in done]
        if not todo:
            break
        results.extend(process_many(todo))
        done.update(todo)
    return results


# --- per document ---------------------------------------------------------------------------


def process_document(
    ctx: Context, document_id: int, *, progress: Callable[[int], None] | None = None
) -> DocumentOutcome:
    """Take one document through text, understanding, filing and follow-ups."""
    with ctx.catalog.session() as session:
        doc = session.get_one(Document, document_id)
        doc.attempts += 1
        status = doc.status
    if status == DocumentStatus.NEW:
        if not run_text_stage(ctx, document_id, progress=progress):
            return outcome(ctx, document_id)
        status = DocumentStatus.TEXT
    if status == DocumentStatus.TEXT:
        split_unseparated(ctx, document_id)
        run_understand_stage(ctx, document_id)
        status = DocumentStatus.UNDERSTOOD
    if status == DocumentStatus.UNDERSTOOD:
        run_file_stage(ctx, document_id)
    return outcome(ctx, document_id)


def run_text_stage(
    ctx: Context, document_id: int, *, progress: Callable[[int], None] | None = None
) -> bool:
    """Text layer or OCR, searchable PDF and word boxes; False if the document was quarantined."""
    with ctx.catalog.session() as session:
        doc = session.get_one(Document, document_id)
        key = doc.original_key
    assert key is not None
    original = ctx.store.get(key)
    try:
        if key.endswith(".xml"):
            result = _einvoice_text(original)
        else:
            result = extract_document_text(original, ctx.settings.ocr, progress=progress)
    except TextError as exc:
        quarantine_document(ctx.catalog, document_id, str(exc))
        return False
    searchable_pdf = result.searchable_pdf
    if ctx.settings.ocr.pdfa and any(p.source == "ocr" for p in result.pages):
        searchable_pdf = to_pdfa(searchable_pdf, timeout=ctx.settings.ocr.timeout_seconds) or (
            searchable_pdf
        )
    searchable = ctx.store.put(
        content_key(INTAKE_SCOPE, "searchable", sha256_hex(searchable_pdf), ".pdf"),
        searchable_pdf,
        content_type="application/pdf",
    )
    words_body = _words_json(result)
    words = ctx.store.put(
        content_key(INTAKE_SCOPE, "words", sha256_hex(words_body), ".json"),
        words_body,
        content_type="application/json",
    )
    with ctx.catalog.session() as session:
        doc = session.get_one(Document, document_id)
        doc.text = result.text
        sources = {p.source for p in result.pages if p.source != "failed"}
        doc.text_source = sources.pop() if len(sources) == 1 else "mixed"
        confidences = [p.confidence for p in result.pages if p.confidence is not None]
        doc.ocr_confidence = sum(confidences) / len(confidences) if confidences else None
        doc.searchable_key = searchable.key
        doc.words_key = words.key
        flags = [f"Seite {n}: Texterkennung fehlgeschlagen" for n in result.failed_pages]
        flags += _low_resolution_flags(original, result, ctx.settings.ocr.min_scan_dpi)
        doc.flags = flags
        doc.needs_review = bool(flags)
        doc.status = DocumentStatus.TEXT
        record_event(
            session,
            actor="system",
            action="document.text",
            document_id=document_id,
            detail={
                "source": doc.text_source,
                "pages": len(result.pages),
                "failed": result.failed_pages,
            },
        )
    return True


def _low_resolution_flags(pdf: bytes, result: DocumentText, minimum: int) -> list[str]:
    """Flags for OCR'd pages scanned below ``minimum`` dpi (they should be scanned again)."""
    ocr_pages = {p.number for p in result.pages if p.source == "ocr"}
    if not ocr_pages or not pdf.startswith(b"%PDF"):
        return []
    try:
        resolutions = scan_resolution(pdf)
    except TextError:
        return []
    return [
        f"Seite {n}: nur etwa {dpi:.0f} dpi gescannt – bitte mit mindestens 200 dpi neu scannen"
        for n, dpi in sorted(resolutions.items())
        if n in ocr_pages and dpi < minimum
    ]


def _einvoice_text(xml: bytes) -> DocumentText:
    """Text and a readable PDF for an XML-only e-invoice (the XML stays the original)."""
    from backoffice.text.einvoice_view import render_einvoice
    from backoffice.understand import read_einvoice

    einvoice = read_einvoice(xml)
    if einvoice is None:
        raise TextError("Die XML-Datei ist keine lesbare E-Rechnung.")
    return render_einvoice([(f.name, f.value) for f in einvoice.fields], einvoice.profile)


def _words_json(result: DocumentText) -> bytes:
    pages = [
        {
            "page": p.number,
            "width": p.width,
            "height": p.height,
            "rotation": p.rotation,
            "source": p.source,
            "confidence": p.confidence,
            "words": [
                [w.text, round(w.confidence, 3), *(round(c, 1) for c in w.bbox)] for w in p.words
            ],
        }
        for p in result.pages
    ]
    return json.dumps(pages, ensure_ascii=False, separators=(",", ":")).encode()


def _load_words(ctx: Context, key: str | None) -> list[list[Word]] | None:
    if not key:
        return None
    pages = json.loads(ctx.store.get(key))
    return [
        [Word(text=w[0], confidence=w[1], bbox=(w[2], w[3], w[4], w[5])) for w in page["words"]]
        for page in pages
    ]


# --- batches without separator sheets, and splits staff ask for -------------------------------

SPLIT_PAGE_FLAG = re.compile(r"^Seite (\d+): ")
"""Text-stage flags that name a page of the document ("Seite 3: …"), renumbered on a cut."""
UNCERTAIN_PAGE_FLAG = re.compile(re.escape(UNCERTAIN_PREFIX) + r"Seite (\d+) ")
"""Flags of :func:`~backoffice.intake.firstpage.uncertain_flag`: dropped when their page is cut,
renumbered otherwise."""
SPLITTABLE = (
    DocumentStatus.TEXT,
    DocumentStatus.UNDERSTOOD,
    DocumentStatus.FILED,
    DocumentStatus.UNASSIGNED,
)
"""States whose text stage is done: the text and word boxes a cut divides exist."""


class SplitError(ValueError):
    """A split that cannot be done as asked; the message is in the words staff read.

    ``code`` names the reason briefly (for a notice after a redirect, where the message itself
    does not fit into the address).
    """

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class _Part:
    """One document cut from a larger one (a batch without separator sheets, or by staff)."""

    pages: list[int]
    """1-based pages of the document being cut (not of the intake)."""
    original: bytes = b""
    searchable: bytes = b""
    words: bytes = b""
    text: str = ""
    text_source: str | None = None
    ocr_confidence: float | None = None
    flags: list[str] = field(default_factory=list)


@dataclass
class _Whole:
    """What a cut needs of the document being cut, read once before the slow work."""

    document_id: int
    original_key: str
    searchable_key: str
    words_key: str
    texts: list[str]
    """The text per page (the document's text split at form feeds)."""
    word_pages: list[dict[str, Any]]
    """The stored word boxes per page, as the text stage wrote them."""
    intake_pages: list[int]
    flags: list[str]
    text_source: str | None
    ocr_confidence: float | None


SplitGuard = Callable[[Session, Document], bool]
"""Checked on the document in the cutting transaction: False leaves it as it is."""
SplitPrepare = Callable[[Session, Document], dict[str, Any]]
"""Runs in the cutting transaction before the document shrinks to its first part (may raise
:class:`SplitError` to refuse); what it returns joins the audit event's detail."""


def is_unseparated_batch(session: Session, doc: Document) -> bool:
    """True for the only document of a multi-page PDF intake that had no separator sheets.

    The signal is the intake's ``separator_pages``, written in the same transaction as its
    documents when it is split (an empty list means none were found). A sheet anywhere means
    staff separated the batch themselves, and that is never second-guessed. Being the intake's
    *only* document is the second half: after this stage cuts a batch, the intake has several
    documents and none of them qualifies again, so the cut happens once even if a worker
    repeats the stage. E-mail attachments count too: scanners that mail their stacks are
    common, and a born-digital document seldom shows a confident first page inside (see
    ``bench/bench_firstpage.py``).
    """
    if doc.page_count < 2 or not (doc.original_key or "").endswith(".pdf"):
        return False
    intake = session.get(Intake, doc.intake_id)
    if intake is None or intake.separator_pages != []:
        return False
    documents = session.scalar(
        select(func.count()).select_from(Document).where(Document.intake_id == doc.intake_id)
    )
    return documents == 1


def _read_whole(ctx: Context, doc: Document) -> _Whole | None:
    """The document's keys, text and word boxes; None if they are missing or do not agree."""
    if doc.original_key is None or doc.searchable_key is None or doc.words_key is None:
        return None
    texts = (doc.text or "").split("\f")
    intake_pages = list(doc.pages or range(doc.first_page, doc.first_page + doc.page_count))
    word_pages: list[dict[str, Any]] = json.loads(ctx.store.get(doc.words_key))
    if not (len(word_pages) == len(texts) == len(intake_pages)):
        log.warning("document %s: pages of text, words and intake differ; not cut", doc.id)
        return None
    return _Whole(
        document_id=doc.id,
        original_key=doc.original_key,
        searchable_key=doc.searchable_key,
        words_key=doc.words_key,
        texts=texts,
        word_pages=word_pages,
        intake_pages=intake_pages,
        flags=list(doc.flags or []),
        text_source=doc.text_source,
        ocr_confidence=doc.ocr_confidence,
    )


def split_unseparated(ctx: Context, document_id: int) -> list[int]:
    """Cut a batch scanned without separator sheets at its confident first pages.

    Runs between the text and the understanding stage on documents for which
    :func:`is_unseparated_batch` holds. Pages scored at or above
    ``intake.split_threshold`` by :mod:`backoffice.intake.firstpage` start a new document; pages
    in the band from ``intake.split_review_threshold`` up do not, but put their document into
    review with a flag naming the page (staff may then cut there, :func:`split_document`).
    Returns the ids of the documents created.

    The cut itself is :func:`_split`, the same as for a split staff ask for; here it is guarded
    so that it happens once: inside the cutting transaction the document must still be an
    unseparated batch in ``text`` state, which it no longer is once cut (its intake then has
    several documents). A crash before that transaction leaves the batch as it was (the stage
    runs again).
    """
    intake = ctx.settings.intake
    with ctx.catalog.session() as session:
        doc = session.get_one(Document, document_id)
        if doc.status != DocumentStatus.TEXT or not is_unseparated_batch(session, doc):
            return []
        whole = _read_whole(ctx, doc)
    if whole is None:
        return []
    words = _load_words(ctx, whole.words_key) or []
    inputs = [
        PageInput(text, page_words, page["width"], page["height"])
        for text, page_words, page in zip(whole.texts, words, whole.word_pages, strict=True)
    ]
    verdicts = score_pages(inputs, intake.split_threshold)
    starts = [v.page for v in verdicts if v.probability >= intake.split_threshold]
    uncertain = [
        uncertain_flag(v)
        for v in verdicts
        if intake.split_review_threshold <= v.probability < intake.split_threshold
    ]
    if not starts:
        _flag_uncertain(ctx, document_id, uncertain)
        return []

    def unseparated(session: Session, head: Document) -> bool:
        return head.status == DocumentStatus.TEXT and is_unseparated_batch(session, head)

    try:
        return _split(
            ctx,
            whole,
            starts,
            actor="system",
            detail={
                "reason": "Erste Seiten ohne Trennblatt erkannt",
                "first_pages": [
                    {
                        "page": whole.intake_pages[v.page - 1],
                        "p": v.probability,
                        "why": v.reasons,
                    }
                    for v in verdicts
                    if v.probability >= intake.split_threshold
                ],
            },
            guard=unseparated,
            extra_flags=uncertain,
        )
    except IntegrityError:
        log.info("document %s was cut by another worker", document_id)
        return []


def split_document(
    ctx: Context,
    document_id: int,
    starts: Sequence[int],
    *,
    actor: str,
    reason: str,
    detail: dict[str, Any] | None = None,
    prepare: SplitPrepare | None = None,
) -> list[int]:
    """Cut a document whose text stage is done into parts beginning at ``starts``.

    ``starts`` are 1-based pages of the document (2 … page count); the first part keeps the
    document's row, the others become new documents of the same intake. Every part goes back to
    ``text`` state with its own original, searchable PDF, words and text taken from the
    document's (nothing is OCR'd again), so understanding and filing run again for each part.
    Objects the document had in the archive are left as they are: a filed original is
    write-once and under retention, the parts are new objects. Returns the ids of the new
    documents; raises :class:`SplitError` with a message for staff when the cut cannot be done.
    """
    with ctx.catalog.session() as session:
        doc = session.get(Document, document_id)
        if doc is None or doc.status not in SPLITTABLE:
            raise SplitError(
                "Nur Dokumente mit erkanntem Text können getrennt werden.", "trennen-status"
            )
        pages = sorted(set(starts))
        if not pages or pages[0] < 2 or pages[-1] > doc.page_count:
            raise SplitError(
                f"Trennen geht nur vor den Seiten 2 bis {doc.page_count} dieses Dokuments.",
                "trennen-seiten",
            )
        whole = _read_whole(ctx, doc)
    if whole is None:
        raise SplitError(
            "Text und Seiten des Dokuments passen nicht zusammen; bitte neu einlesen.",
            "trennen-text",
        )

    def unchanged(session: Session, head: Document) -> bool:
        if head.status not in SPLITTABLE or head.original_key != whole.original_key:
            raise SplitError(
                "Das Dokument wurde inzwischen geändert; bitte erneut versuchen.",
                "trennen-geaendert",
            )
        return True

    return _split(
        ctx,
        whole,
        pages,
        actor=actor,
        detail={"reason": reason, "cut_before": pages, **(detail or {})},
        guard=unchanged,
        prepare=prepare,
    )


def _split(
    ctx: Context,
    whole: _Whole,
    starts: Sequence[int],
    *,
    actor: str,
    detail: dict[str, Any],
    guard: SplitGuard,
    prepare: SplitPrepare | None = None,
    extra_flags: Sequence[str] = (),
) -> list[int]:
    """Cut ``whole`` before the pages ``starts``: store the parts, then one catalog transaction.

    The text stage's results are reused, not recomputed: the original and the searchable PDF
    are cut page by page (the searchable PDF made PDF/A again where OCR was involved), the word
    boxes and the text are divided. OCRing the parts again would cost minutes per batch and
    give the same text. All parts are stored (write-once, content-addressed) before one
    transaction shrinks the document to its first part and adds the others in ``text`` state,
    so a crash leaves either the whole document or all parts. The document's page flags follow
    their pages (``extra_flags`` too, in the document's page numbers); the uncertain-split flags
    of the pages cut at are settled and dropped. An understanding the document had (fields) is
    discarded, since it was of the pages together.
    """
    bounds = [1, *starts, len(whole.texts) + 1]
    parts = [_Part(list(range(a, b))) for a, b in itertools.pairwise(bounds)]
    _cut_parts(ctx, parts, whole.original_key, whole.searchable_key, whole.texts, whole.word_pages)
    _assign_flags(parts, [*whole.flags, *extra_flags])
    word_pages = whole.word_pages
    for part in parts:
        sources = {word_pages[n - 1].get("source") for n in part.pages} - {"failed", None}
        part.text_source = (
            (sources.pop() if len(sources) == 1 else "mixed") if sources else whole.text_source
        )
        confidences = [
            c for n in part.pages if (c := word_pages[n - 1].get("confidence")) is not None
        ]
        part.ocr_confidence = (
            sum(confidences) / len(confidences) if confidences else whole.ocr_confidence
        )
    stored = [
        (
            ctx.store.put(
                content_key(INTAKE_SCOPE, "documents", sha256_hex(p.original), ".pdf"),
                p.original,
                content_type="application/pdf",
            ).key,
            ctx.store.put(
                content_key(INTAKE_SCOPE, "searchable", sha256_hex(p.searchable), ".pdf"),
                p.searchable,
                content_type="application/pdf",
            ).key,
            ctx.store.put(
                content_key(INTAKE_SCOPE, "words", sha256_hex(p.words), ".json"),
                p.words,
                content_type="application/json",
            ).key,
        )
        for p in parts
    ]
    intake_pages = whole.intake_pages
    with ctx.catalog.session() as session:
        head = session.get_one(Document, whole.document_id)
        if not guard(session, head):
            return []  # another worker cut it first
        extra = prepare(session, head) if prepare else {}
        was = {"status": head.status.value, "original_key": head.original_key}
        if head.status != DocumentStatus.TEXT:
            session.execute(delete(ExtractedField).where(ExtractedField.document_id == head.id))
            session.expire(head, ["fields"])
        created: list[Document] = []
        for part, (orig, searchable, words_json) in zip(parts, stored, strict=True):
            doc = head if part is parts[0] else Document(intake_id=head.intake_id)
            doc.first_page = intake_pages[part.pages[0] - 1]
            doc.pages = [intake_pages[n - 1] for n in part.pages]
            doc.page_count = len(part.pages)
            doc.client_hint = head.client_hint
            doc.sha256 = sha256_hex(part.original)
            doc.original_key, doc.searchable_key, doc.words_key = orig, searchable, words_json
            doc.text = part.text
            doc.text_source = part.text_source
            doc.ocr_confidence = part.ocr_confidence
            doc.flags = part.flags
            doc.needs_review = bool(part.flags)
            doc.status = DocumentStatus.TEXT
            if doc is not head:
                session.add(doc)
                created.append(doc)
        session.flush()
        record_event(
            session,
            actor=actor,
            action="document.split",
            client_id=head.client_id,
            document_id=head.id,
            detail={
                "intake_id": head.intake_id,
                **detail,
                "documents": [head.id] + [d.id for d in created],
                "pages": [[intake_pages[n - 1] for n in p.pages] for p in parts],
                **({"was": was} if was["status"] != DocumentStatus.TEXT.value else {}),
                **extra,
            },
        )
        return [d.id for d in created]


def _flag_uncertain(ctx: Context, document_id: int, new_flags: list[str]) -> None:
    """Put a document whose first pages are unsure into review (repeatable: flags are unique)."""
    if not new_flags:
        return
    with ctx.catalog.session() as session:
        doc = session.get_one(Document, document_id)
        if set(new_flags) <= set(doc.flags or []):
            return
        doc.flags = list(dict.fromkeys([*(doc.flags or []), *new_flags]))
        doc.needs_review = True
        record_event(
            session,
            actor="system",
            action="document.split_uncertain",
            document_id=document_id,
            detail={"flags": new_flags},
        )


def _cut_parts(
    ctx: Context,
    parts: list[_Part],
    original_key: str,
    searchable_key: str,
    texts: list[str],
    word_pages: list[dict[str, Any]],
) -> None:
    """Fill in each part's PDFs, words and text from the whole document's."""
    original, searchable = ctx.store.get(original_key), ctx.store.get(searchable_key)
    with PDFIUM_LOCK:  # PDFium is not thread-safe; other documents render concurrently
        source, text_pdf = pdfium.PdfDocument(original), pdfium.PdfDocument(searchable)
        try:
            for part in parts:
                indices = [n - 1 for n in part.pages]
                part.original = cut_pages(source, indices)
                part.searchable = cut_pages(text_pdf, indices)
        finally:
            source.close()
            text_pdf.close()
    for part in parts:
        pages = [dict(word_pages[n - 1], page=i) for i, n in enumerate(part.pages, start=1)]
        part.words = json.dumps(pages, ensure_ascii=False, separators=(",", ":")).encode()
        part.text = "\f".join(texts[n - 1] for n in part.pages)
        if ctx.settings.ocr.pdfa and any(p.get("source") == "ocr" for p in pages):
            part.searchable = (
                to_pdfa(part.searchable, timeout=ctx.settings.ocr.timeout_seconds)
                or part.searchable
            )


def _assign_flags(parts: list[_Part], flags: list[str]) -> None:
    """Give each part the flags of its pages, renumbered.

    Text-stage page flags ("Seite 3: …") and uncertain-split flags go with their page; an
    uncertain-split flag of a page that now starts a part is settled and dropped. Only those
    two kinds describe the pages: anything else came from understanding the pages together
    (class, client, fields), is not carried over and is found again per part.
    """
    inherited: dict[int, list[str]] = {id(p): [] for p in parts}
    for flag in flags:
        match = SPLIT_PAGE_FLAG.match(flag) or UNCERTAIN_PAGE_FLAG.match(flag)
        if match is None:
            continue
        page = int(match.group(1))
        part = next((p for p in parts if page in p.pages), parts[0])
        if page not in part.pages:
            inherited[id(parts[0])].append(flag)  # a page the document does not have: keep it
            continue
        relative = part.pages.index(page) + 1
        if relative == 1 and match.re is UNCERTAIN_PAGE_FLAG:
            continue  # cut here: decided
        renumbered = flag[: match.start(1)] + str(relative) + flag[match.end(1) :]
        inherited[id(part)].append(renumbered)
    for part in parts:
        part.flags = list(dict.fromkeys(inherited[id(part)]))


def client_profiles(ctx: Context) -> list[ClientProfile]:
    with ctx.catalog.session() as session:
        return [
            ClientProfile(
                id=c.id,
                code=c.code,
                name=c.name,
                aliases=tuple(c.aliases or ()),
                customer_numbers=tuple(c.customer_numbers or ()),
                zip=c.zip,
                city=c.city,
                street=c.street,
            )
            for c in session.scalars(select(Client).order_by(Client.id))
        ]


def run_understand_stage(ctx: Context, document_id: int) -> Understanding:
    """Classify, route to a client, find the sender, extract and validate fields."""
    with ctx.catalog.session() as session:
        doc = session.get_one(Document, document_id)
        pages = (doc.text or "").split("\f")
        hint = doc.client_hint
        original_key, words_key = doc.original_key, doc.words_key
    assert original_key is not None
    raw = ctx.store.get(original_key)
    result = understand_document(
        pages,
        client_profiles(ctx),
        hint_code=hint,
        raw=raw,
        words=_load_words(ctx, words_key),
        settings=ctx.settings.understand,
        ocr=ctx.settings.ocr,
    )
    cls = result.classification
    with ctx.catalog.session() as session:
        doc = session.get_one(Document, document_id)
        doc.doc_type = (
            DocType(cls.label) if cls.label in DocType.__members__.values() else DocType.UNKNOWN
        )
        doc.subtype = cls.subtype
        doc.type_confidence = round(cls.confidence, 4)
        doc.type_scores = {k: round(v, 4) for k, v in cls.scores.items()}
        doc.client_id = result.routing.client_id
        doc.route_confidence = round(result.routing.confidence, 4)
        doc.route_reason = result.routing.reason[:500]
        session.execute(
            delete(ExtractedField).where(
                ExtractedField.document_id == document_id, ExtractedField.source != "staff"
            )
        )
        for f in result.fields:
            session.add(
                ExtractedField(
                    document_id=document_id,
                    name=f.name,
                    value=f.value,
                    confidence=round(f.confidence, 4),
                    source=f.source,
                    page=f.page,
                    bbox=list(f.bbox) if f.bbox else None,
                )
            )
        session.flush()
        session.refresh(doc)
        values = {f.name: f.value for f in result.fields}
        if doc.client_id is not None:
            client = session.get_one(Client, doc.client_id)
            issuer = values.get("seller_name") or values.get("sender_name")
            if is_client_itself(issuer, [client.name, *client.aliases]):
                # the client's own paper: the other party is the addressee, and the VAT-ID and
                # IBAN printed on it are the client's own
                corr = match_or_create(session, doc.client_id, name=values.get("buyer_name"))
            else:
                corr = match_or_create(
                    session,
                    doc.client_id,
                    name=issuer,
                    vat_id=values.get("seller_vat_id"),
                    iban=values.get("iban"),
                )
            doc.correspondent_id = corr.id if corr else None
        doc.doc_date = _parse_date(values.get("issue_date") or values.get("letter_date"))
        doc.title = _title(doc.doc_type, values)
        flags = list(doc.flags or [])
        flags.extend(result.flags)
        if cls.confidence < ctx.settings.understand.review_threshold:
            top = ", ".join(
                f"{TYPE_LABELS.get(label, label)} {score:.0%}" for label, score in cls.top2
            )
            flags.append(f"Dokumentart unsicher ({top})")
        if result.routing.client_id is None:
            flags.append(f"Mandant nicht eindeutig: {result.routing.reason}")
        doc.flags = list(dict.fromkeys(flags))
        doc.needs_review = bool(doc.flags) or result.needs_review
        doc.status = DocumentStatus.UNDERSTOOD
        record_event(
            session,
            actor="system",
            action="document.understood",
            client_id=doc.client_id,
            document_id=document_id,
            detail={
                "type": doc.doc_type.value,
                "confidence": doc.type_confidence,
                "client_id": doc.client_id,
                "route": doc.route_reason,
                "fields": len(result.fields),
            },
        )
    return result


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


_TYPE_TITLES = {
    DocType.INVOICE: "Rechnung",
    DocType.REMINDER: "Mahnung",
    DocType.LETTER: "Brief",
    DocType.OTHER: "Dokument",
    DocType.UNKNOWN: "Dokument",
}
TYPE_LABELS = {
    "invoice": "Rechnung",
    "reminder": "Mahnung",
    "letter": "Brief",
    "other": "Sonstiges",
}
"""Document types in the words staff read (review flags)."""


def _title(doc_type: DocType, values: dict[str, str]) -> str:
    parts = [_TYPE_TITLES[doc_type]]
    if doc_type == DocType.INVOICE and values.get("invoice_number"):
        parts.append(values["invoice_number"])
    if doc_type == DocType.REMINDER and values.get("referenced_invoice_numbers"):
        parts.append("zu " + values["referenced_invoice_numbers"])
    if doc_type == DocType.LETTER and values.get("subject"):
        parts.append(values["subject"])
    sender = values.get("seller_name") or values.get("sender_name")
    if sender:
        parts.append("– " + sender)
    return " ".join(parts)[:300]


CONTENT_TYPES = {".pdf": "application/pdf", ".json": "application/json", ".xml": "application/xml"}


def run_file_stage(ctx: Context, document_id: int) -> None:
    """Copy the document into its client's archive and queue its follow-ups.

    Without a client the document stays in the intake area as ``unassigned`` until staff
    assign one; nothing is filed under a guessed client.
    """
    with ctx.catalog.session() as session:
        doc = session.get_one(Document, document_id)
        if doc.client_id is None:
            doc.status = DocumentStatus.UNASSIGNED
            doc.needs_review = True
            index_document(session, doc)
            record_event(
                session, actor="system", action="document.unassigned", document_id=document_id
            )
            return
        code = session.get_one(Client, doc.client_id).code
        received = doc.intake.received_at.date()
        until = retain_until(doc.doc_type, doc.doc_date, received)
        if doc.retain_until is not None and doc.retain_until > until:
            # filed before (then re-assigned to another client): a period once committed, and
            # possibly locked on the stored original, is never shortened by re-filing
            until = doc.retain_until
        keys = {
            "original": doc.original_key,
            "searchable": doc.searchable_key,
            "words": doc.words_key,
        }
    scope = client_scope(code)
    moved: dict[str, str | None] = {}
    for kind, key in keys.items():
        if key is None or key.startswith(scope + "/"):
            moved[kind] = key
            continue
        body = ctx.store.get(key)
        suffix = Path(key).suffix
        target = content_key(
            scope, {"original": "originals"}.get(kind, kind), sha256_hex(body), suffix
        )
        ctx.store.put(
            target,
            body,
            content_type=CONTENT_TYPES.get(suffix, "application/octet-stream"),
            retain_until=until if kind == "original" else None,
        )
        moved[kind] = target
    with ctx.catalog.session() as session:
        doc = session.get_one(Document, document_id)
        doc.original_key = moved["original"]
        doc.searchable_key = moved["searchable"]
        doc.words_key = moved["words"]
        doc.retain_until = until
        doc.status = DocumentStatus.FILED
        followups = queue_followups(session, doc)
        index_document(session, doc)
        record_event(
            session,
            actor="system",
            action="document.filed",
            client_id=doc.client_id,
            document_id=document_id,
            detail={
                "key": doc.original_key,
                "retain_until": until.isoformat(),
                "followups": [f.kind.value for f in followups],
            },
        )


def outcome(ctx: Context, document_id: int) -> DocumentOutcome:
    """The current state of a document, summarised for people."""
    with ctx.catalog.session() as session:
        doc = session.get_one(Document, document_id)
        client = session.get(Client, doc.client_id) if doc.client_id else None
        followups = session.scalars(select(FollowUp).where(FollowUp.document_id == document_id))
        names = KEY_FIELDS.get(doc.doc_type.value, ())
        key_fields = {n: v for n in names if (v := doc.field(n))}
        return DocumentOutcome(
            document_id=doc.id,
            status=doc.status.value,
            client=client.code if client else None,
            doc_type=doc.doc_type.value,
            confidence=doc.type_confidence,
            key_fields=key_fields,
            archive_key=doc.original_key,
            followups=[
                f.kind.value + (f" bis {f.due_date.isoformat()}" if f.due_date else "")
                for f in followups
            ],
            needs_review=doc.needs_review,
            flags=list(doc.flags or []),
            error=doc.error,
        )


def as_paths(paths: Path | Sequence[Path] | None) -> list[Path]:
    """One path, several, or none, as a list."""
    if paths is None:
        return []
    return [paths] if isinstance(paths, Path) else list(paths)


def process_document_safely(ctx: Context, document_id: int) -> DocumentOutcome:
    """:func:`process_document`, but an unexpected error quarantines this document only.

    The reason names the stage's error; the traceback is kept as detail for whoever fixes it,
    and ``backoffice quarantine retry`` processes the document again afterwards.
    """
    try:
        return process_document(ctx, document_id)
    except Exception as exc:
        log.exception("document %s failed", document_id)
        quarantine_document(
            ctx.catalog,
            document_id,
            f"Verarbeitung fehlgeschlagen: {type(exc).__name__}: {exc}"[:500],
            detail=traceback.format_exc(),
        )
        return outcome(ctx, document_id)


def run_batch(
    ctx: Context,
    paths: Path | Sequence[Path] | None,
    *,
    source: str = "cli",
    client_hint: str | None = None,
    on_document: Callable[[DocumentOutcome], None] | None = None,
) -> list[DocumentOutcome]:
    """Everything in one process, without Prefect (the quick path and what tests compare to)."""
    for path in as_paths(paths):
        receive(ctx, path, source=source, client_hint=client_hint)
    split_pending(ctx, lambda ids: [split(ctx, i) for i in ids])

    def process_many(ids: list[int]) -> list[DocumentOutcome]:
        results = []
        for doc_id in ids:
            result = process_document_safely(ctx, doc_id)
            results.append(result)
            if on_document:
                on_document(result)
        return results

    return process_pending(ctx, process_many)


def seed_clients(ctx: Context, clients: Sequence[Any]) -> int:
    """Create clients (objects with the fields of :class:`Client`) that do not exist yet."""
    created = 0
    with ctx.catalog.session() as session:
        known = set(session.scalars(select(Client.code)))
        for c in clients:
            if c.code in known:
                continue
            session.add(
                Client(
                    code=c.code,
                    name=c.name,
                    street=c.street,
                    zip=c.zip,
                    city=c.city,
                    email=c.email,
                    aliases=list(c.aliases),
                    customer_numbers=list(getattr(c, "customer_numbers", ()) or ()),
                    vat_id=c.vat_id,
                    iban=c.iban,
                )
            )
            created += 1
        if created:
            record_event(
                session,
                actor="system",
                action="clients.seeded",
                detail={"count": created},
            )
    return created
