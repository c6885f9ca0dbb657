"""Measuring how well the machine understands post: ``backoffice evaluate``.

Two corpora:

1. **Held-out sample post**: generated with a seed and layouts the classifier never saw, read
   both born-digital (text layer) and scanned (OCR), scored against the generator's ground truth:
   document type (accuracy, confusion matrix), client routing, and per field exact match
   (amounts to the cent, dates exact, strings compared without case and spaces).
2. **Real e-invoices** (``shared/einvoices``): fields read from the *visible text only* are
   compared with what the embedded XML says; optionally the PDFs are rendered to 300 dpi images
   and the scanned path is scored too.

The report is plain data so the CLI can print it and CI can compare it with the figures last
recorded in ``models/evaluation.json`` (a drop of more than the tolerance fails).
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

from backoffice.config import OcrSettings, UnderstandSettings

from .einvoice import read_einvoice
from .extract import extract_fields
from .normalize import find_dates
from .pipeline import understand_document
from .schema import DOC_TYPES, ClientProfile
from .textcat import classify

SCORED_FIELDS: dict[str, tuple[str, ...]] = {
    "invoice": ("invoice_number", "issue_date", "gross_total", "iban", "due_date", "net_total"),
    "reminder": ("referenced_invoice_numbers", "dunning_stage", "issue_date"),
    "letter": ("letter_date", "subject", "summary"),
    "other": (),
}
AMOUNT_FIELDS = {"gross_total", "net_total", "vat_total", "amount_outstanding", "fees"}
HEADLINE = {
    "born-digital": ("invoice_number", "issue_date", "gross_total", "iban"),
    "scanned": ("invoice_number", "issue_date", "gross_total", "iban"),
}


_SUMMARY_STOPWORDS = frozenset(
    [
        "aber",
        "alle",
        "auch",
        "bitte",
        "damit",
        "dass",
        "dem",
        "den",
        "der",
        "des",
        "die",
        "dies",
        "diese",
        "diesem",
        "dieser",
        "durch",
        "eine",
        "einem",
        "einen",
        "einer",
        "fuer",
        "haben",
        "hier",
        "ihre",
        "ihrem",
        "ihren",
        "ihrer",
        "koennen",
        "nach",
        "noch",
        "oder",
        "sich",
        "sie",
        "sind",
        "uber",
        "ueber",
        "unter",
        "unsere",
        "unserem",
        "unseren",
        "unserer",
        "vom",
        "von",
        "werden",
        "wird",
        "wurde",
        "zum",
        "zur",
    ]
)


def _summary_words(text: str) -> set[str]:
    folded = text.lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        folded = folded.replace(umlaut, plain)
    return {w for w in re.findall(r"[a-z]{4,}", folded) if w not in _SUMMARY_STOPWORDS}


def _summary_dates(text: str) -> set[date]:
    return {d.value for d in find_dates(text)}


def summary_covers(expected: str, got: str) -> bool:
    """Whether an extracted one-line summary says what the labelled one asks, and when.

    The label is a paraphrase ("Unterlagen für den Jahresabschluss bis 30.06.2026 einreichen"),
    the extract is the letter's own sentence ("Bitte reichen Sie uns die Unterlagen bis zum
    30. Juni 2026 ein."), so exact match means nothing. A summary counts when it names one of
    the label's dates (the deadline or the appointment: what the reader must not miss) and
    shares a content word with it, compared by the first four letters.
    """
    dates = _summary_dates(expected)
    if dates and not dates & _summary_dates(got):
        return False
    want = {w[:4] for w in _summary_words(expected)}
    return not want or bool(want & {w[:4] for w in _summary_words(got)})


def same_value(name: str, expected: Any, got: str | None) -> bool:
    """Exact match as a bookkeeper would judge it (see module docstring); a letter's summary by
    what it asks (:func:`summary_covers`)."""
    if got is None:
        return False
    if name == "summary":
        return summary_covers(str(expected), got)
    if isinstance(expected, list):
        expected = ", ".join(str(e) for e in expected)
    if isinstance(expected, bool):
        expected = "true" if expected else "false"
    if name in AMOUNT_FIELDS:
        try:
            return Decimal(str(expected)).quantize(Decimal("0.01")) == Decimal(got).quantize(
                Decimal("0.01")
            )
        except InvalidOperation:
            return False

    def norm(v: Any) -> str:
        return re.sub(r"[\s,;]+", "", str(v)).upper()

    return norm(expected) == norm(got)


@dataclass
class ChannelReport:
    """Scores of one way of reading (born-digital or scanned)."""

    documents: int = 0
    type_correct: int = 0
    routed: int = 0
    """Documents whose recipient is one of the evaluation's clients (routing is scored on them)."""
    client_correct: int = 0
    confusion: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    field_hits: Counter[str] = field(default_factory=Counter)
    field_total: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    text_errors: dict[str, list[tuple[int, int, int, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    """Per scan condition: (character edits, characters, word edits, words) of each document."""

    def add_text(self, condition: str, expected: str, got: str) -> None:
        """Record OCR errors of one document, with words in sorted order on both sides.

        Tesseract reads a right-aligned amount column as its own block, so the raw reading order
        differs from the printed order without any character being wrong; sorting the words
        makes the rates measure recognition, not layout analysis.
        """
        exp_words, got_words = sorted(expected.split()), sorted(got.split())
        self.text_errors[condition].append(
            (
                Levenshtein.distance(" ".join(exp_words), " ".join(got_words)),
                len(" ".join(exp_words)),
                Levenshtein.distance(exp_words, got_words),
                len(exp_words),
            )
        )

    def add(self, expected_type: str, got_type: str) -> None:
        self.documents += 1
        self.type_correct += expected_type == got_type
        self.confusion[expected_type][got_type] += 1

    def as_dict(self) -> dict[str, Any]:
        def pct(a: int, b: int) -> float:
            return round(100.0 * a / b, 1) if b else 0.0

        return {
            "documents": self.documents,
            "classification_accuracy": pct(self.type_correct, self.documents),
            "routing_accuracy": pct(self.client_correct, self.routed) if self.routed else None,
            "confusion": {k: dict(v) for k, v in self.confusion.items()},
            "fields": {
                name: {
                    "accuracy": pct(self.field_hits[name], total),
                    "hits": self.field_hits[name],
                    "total": total,
                }
                for name, total in sorted(self.field_total.items())
            },
            "errors": self.errors[:40],
            "text": {
                condition: {
                    "documents": len(rows),
                    "cer": round(sum(r[0] for r in rows) / max(1, sum(r[1] for r in rows)), 4),
                    "wer": round(sum(r[2] for r in rows) / max(1, sum(r[3] for r in rows)), 4),
                }
                for condition, rows in sorted(self.text_errors.items())
            },
        }


def scan_condition(doc: dict[str, Any]) -> str:
    """The scan's resolution and noise level as a label (``300dpi/noise<0.02``) for grouping."""
    scan = doc.get("scan") or {}
    noise = float(scan.get("noise", 0.0))
    level = "<0.02" if noise < 0.02 else ("0.02-0.03" if noise < 0.03 else ">=0.03")
    return f"{scan.get('dpi', '?')}dpi/noise{level}"


def _pdf_pages(pdf: bytes, ocr: OcrSettings) -> tuple[list[str], list[Any]]:
    from backoffice.text import extract_document_text

    result = extract_document_text(pdf, ocr)
    return [p.text for p in result.pages], [p.words for p in result.pages]


def evaluate_samples(
    root: Path,
    clients: Sequence[ClientProfile],
    *,
    ocr: OcrSettings | None = None,
    settings: UnderstandSettings | None = None,
    channels: Sequence[str] = ("born-digital", "scanned"),
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Score classification, routing and fields on a generated corpus at ``root``."""
    ocr = ocr or OcrSettings()
    truth = json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))
    by_code = {c.code: c.id for c in clients}
    reports = {ch: ChannelReport() for ch in channels}
    folders = {"born-digital": "digital", "scanned": "scanned"}
    docs = truth["documents"]
    for n, doc in enumerate(docs, 1):
        for channel in channels:
            path = root / folders[channel] / f"{doc['id']}.pdf"
            if not path.exists():
                continue
            report = reports[channel]
            pdf = path.read_bytes()
            pages, words = _pdf_pages(pdf, ocr)
            result = understand_document(
                pages, clients, raw=pdf, words=words, settings=settings, ocr=ocr
            )
            if channel == "scanned" and doc.get("page_texts"):
                report.add_text(scan_condition(doc), "\n".join(doc["page_texts"]), "\n".join(pages))
            got_type = result.classification.label
            report.add(doc["doc_type"], got_type)
            if got_type != doc["doc_type"]:
                report.errors.append(f"{doc['id']} type {doc['doc_type']}→{got_type}")
            report.routed += 1
            report.client_correct += result.routing.client_id == by_code.get(doc["client_code"])
            values = {f.name: f.value for f in result.fields}
            for name in SCORED_FIELDS.get(doc["doc_type"], ()):
                if name not in doc["fields"]:
                    continue
                report.field_total[name] += 1
                if same_value(name, doc["fields"][name], values.get(name)):
                    report.field_hits[name] += 1
                else:
                    report.errors.append(
                        f"{doc['id']} {name}: {doc['fields'][name]!r} ≠ {values.get(name)!r}"
                    )
        if progress:
            progress(n, len(docs))
    return {ch: r.as_dict() for ch, r in reports.items()}


def _rasterise(pdf: bytes, dpi: int = 300) -> bytes:
    """The PDF as an image-only PDF (what a scanner would make of the printout)."""
    import pypdfium2 as pdfium

    from backoffice.text import render_page

    doc = pdfium.PdfDocument(pdf)
    images = [render_page(doc, i, dpi, grey=True) for i in range(len(doc))]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return out.getvalue()


def evaluate_einvoices(
    folder: Path,
    *,
    ocr: OcrSettings | None = None,
    scanned: bool = False,
    names: Sequence[str] = ("invoice_number", "issue_date", "gross_total"),
) -> dict[str, dict[str, Any]]:
    """Fields from the visible text of real e-invoice PDFs, scored against their own XML.

    Their buyers are not clients of the evaluation, so routing is not scored here; the type is
    classified from the same text (note: the shipped model saw these texts in training).
    """
    ocr = ocr or OcrSettings()
    reports = {"visible-text": ChannelReport()}
    if scanned:
        reports["scanned"] = ChannelReport()
    for path in sorted(folder.rglob("*.pdf")):
        data = path.read_bytes()
        einvoice = read_einvoice(data)
        if einvoice is None:
            continue
        xml = {f.name: f.value for f in einvoice.fields}
        for channel, report in reports.items():
            pdf = data if channel == "visible-text" else _rasterise(data)
            pages, words = _pdf_pages(pdf, ocr)
            report.add("invoice", classify("\n".join(pages)).label)
            got = {f.name: f.value for f in extract_fields(pages, "invoice", words=words)}
            for name in names:
                if name not in xml:
                    continue
                report.field_total[name] += 1
                if same_value(name, xml[name], got.get(name)):
                    report.field_hits[name] += 1
                else:
                    report.errors.append(f"{path.name} {name}: {xml[name]!r} ≠ {got.get(name)!r}")
    return {ch: r.as_dict() for ch, r in reports.items()}


def headline(report: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The figures CI guards: classification accuracy and key-field accuracies per channel."""
    out: dict[str, float] = {}
    for channel, data in report.items():
        out[f"{channel}/classification"] = data["classification_accuracy"]
        for name, scores in data["fields"].items():
            if name in ("invoice_number", "issue_date", "gross_total", "iban"):
                out[f"{channel}/{name}"] = scores["accuracy"]
    return out


def report_figures(report: dict[str, dict[str, dict[str, Any]]]) -> dict[str, float]:
    """The guarded figures of a whole report, keyed ``corpus/channel/figure``."""
    return {
        f"{corpus}/{key}": value
        for corpus, channels in report.items()
        for key, value in headline(channels).items()
    }


def regressions_against(
    report: dict[str, dict[str, dict[str, Any]]], recorded: dict[str, float], tolerance: float = 2.0
) -> list[str]:
    """:func:`regressions` for a report, ignoring recorded corpora this run did not measure
    (e.g. the shared e-invoices on a machine without them)."""
    measured = {k: v for k, v in recorded.items() if k.split("/", 1)[0] in report}
    return regressions(report_figures(report), measured, tolerance)


def regressions(
    current: dict[str, float], recorded: dict[str, float], tolerance: float = 2.0
) -> list[str]:
    """Figures that fell more than ``tolerance`` points below the recorded ones."""
    return [
        f"{key}: {current.get(key, 0.0):.1f} < {value:.1f} − {tolerance}"
        for key, value in recorded.items()
        if current.get(key, 0.0) < value - tolerance
    ]


__all__ = [
    "DOC_TYPES",
    "evaluate_einvoices",
    "evaluate_samples",
    "headline",
    "regressions",
    "regressions_against",
    "report_figures",
    "same_value",
]
