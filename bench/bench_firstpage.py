"""How well the first-page detector splits batches scanned without separator sheets.

Run with ``.venv/bin/python bench/bench_firstpage.py`` (``--help`` for options). Generates sample
post (``backoffice.samples``) for each seed, shuffles the documents into batches of about five,
glues their PDFs together without separator sheets, reads the batch with the real text stage
(text layer; with ``--scanned`` a share of the documents is taken from their scanned version and
OCR'd) and scores it with :func:`backoffice.intake.firstpage.score_pages` at the thresholds of
:class:`backoffice.config.IntakeSettings`.

Counted per batch against the generator's ground truth:

* boundaries found: a true document start scored at or above the split threshold;
* missed: a true start below it (in review if in the middle band, else silently missed);
* false splits: a page inside a document scored at or above the split threshold;
* review: batches with at least one page in the middle band (they go to staff);
* exact: batches whose every document came out with exactly its pages.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backoffice.config import IntakeSettings, OcrSettings
from backoffice.intake.firstpage import PageInput, score_pages
from backoffice.samples import generate
from backoffice.text import extract_document_text


@dataclass
class Counts:
    batches: int = 0
    pages: int = 0
    boundaries: int = 0
    found: int = 0
    missed_review: int = 0
    missed_silent: int = 0
    false_splits: int = 0
    false_review: int = 0
    review_batches: int = 0
    exact: int = 0


def glue(parts: list[bytes]) -> bytes:
    """One PDF of ``parts`` in order, as a scanner without separator sheets would deliver."""
    out = pdfium.PdfDocument.new()
    for body in parts:
        src = pdfium.PdfDocument(body)
        out.import_pages(src)
        src.close()
    buf = io.BytesIO()
    out.save(buf)
    out.close()
    return buf.getvalue()


def evaluate_batch(
    pdf: bytes, starts: set[int], settings: IntakeSettings, ocr: OcrSettings, counts: Counts
) -> list[str]:
    """Score one batch and add to ``counts``; returns lines describing the errors."""
    text = extract_document_text(pdf, ocr)
    pages = [PageInput(p.text, p.words, p.width, p.height) for p in text.pages]
    verdicts = score_pages(pages, settings.split_threshold)
    errors = []
    counts.batches += 1
    counts.pages += len(pages)
    review = False
    for v in verdicts:
        split = v.probability >= settings.split_threshold
        middle = settings.split_review_threshold <= v.probability < settings.split_threshold
        review |= middle
        if v.page in starts:
            counts.boundaries += 1
            counts.found += split
            counts.missed_review += middle
            counts.missed_silent += not split and not middle
        else:
            counts.false_splits += split
            counts.false_review += middle
        if (v.page in starts) != split:
            errors.append(f"  page {v.page} start={v.page in starts} p={v.probability} {v.reasons}")
    counts.review_batches += review
    counts.exact += not errors
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(101, 121)))
    parser.add_argument("--per-batch", type=int, default=5)
    parser.add_argument("--documents", type=int, default=10, help="documents per seed")
    parser.add_argument(
        "--scanned", type=float, default=0.0, help="share of documents taken as scans (OCR)"
    )
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    settings = IntakeSettings()
    ocr = OcrSettings(pdfa=False)
    counts = Counts()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            generated = generate(
                Path(tmp) / str(seed),
                seed=seed,
                n_documents=args.documents,
                scanned=args.scanned > 0,
                n_emails=0,
            )
            rng = random.Random(f"bench-firstpage:{seed}")
            docs = list(generated.documents)
            rng.shuffle(docs)
            for i in range(0, len(docs), args.per_batch):
                group = docs[i : i + args.per_batch]
                parts, starts, page = [], set(), 1
                for doc in group:
                    scan = doc.scanned_pdf is not None and rng.random() < args.scanned
                    path = doc.scanned_pdf if scan and doc.scanned_pdf else doc.digital_pdf
                    parts.append(path.read_bytes())
                    starts.add(page)
                    page += doc.pages
                errors = evaluate_batch(glue(parts), starts, settings, ocr, counts)
                if errors and args.verbose:
                    print(f"seed {seed} batch {i // args.per_batch + 1}:", *errors, sep="\n")
    c = counts
    print(
        f"batches {c.batches}, pages {c.pages}, true boundaries {c.boundaries} "
        f"(thresholds split {settings.split_threshold}, review {settings.split_review_threshold})"
    )
    print(
        f"found {c.found}/{c.boundaries} ({c.found / max(1, c.boundaries):.1%}), "
        f"missed into review {c.missed_review}, missed silently {c.missed_silent}"
    )
    inner = c.pages - c.batches - c.boundaries
    print(
        f"false splits {c.false_splits} of {inner} inner pages, inner pages sent to review "
        f"{c.false_review}; batches with review {c.review_batches}/{c.batches}, "
        f"exactly split {c.exact}/{c.batches}"
    )


if __name__ == "__main__":
    main()
