"""Rebuild ``models/textcat`` from labelled post: ``python -m backoffice.understand.train``.

Training data comes from sample-corpus ground truth (``ground_truth.json`` with
``documents[i].page_texts`` and ``documents[i].doc_type``), from the built-in seed corpus
(:mod:`.seed_corpus`), and from the visible text of real e-invoice PDFs (``--einvoice-dir``:
every PDF there is an invoice, its text layer read with pdfplumber). The report (held-out
accuracy, calibration) is printed and saved as ``calibration.json`` next to the pipeline.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import pdfplumber

from .schema import DOC_TYPES
from .seed_corpus import synthetic_corpus
from .textcat import DEFAULT_MODEL_DIR, train_textcat


def examples_from_ground_truth(path: Path) -> list[tuple[str, str]]:
    """``(text, doc_type)`` pairs from a sample corpus' ``ground_truth.json``."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out: list[tuple[str, str]] = []
    for doc in data.get("documents", []):
        label = doc.get("doc_type")
        pages = doc.get("page_texts") or []
        if label in DOC_TYPES and pages:
            out.append(("\n".join(pages), label))
    return out


def examples_from_pdfs(folder: Path, label: str = "invoice") -> list[tuple[str, str]]:
    """``(text, label)`` for every born-digital PDF under ``folder`` (text layer only)."""
    out: list[tuple[str, str]] = []
    for path in sorted(Path(folder).rglob("*.pdf")):
        with pdfplumber.open(path) as pdf:
            text = "\n".join(page.extract_text() or "" for page in pdf.pages)
        if text.strip():
            out.append((text, label))
    return out


def examples_from_samples(
    out_dir: Path,
    *,
    seed: int,
    n_documents: int,
    layouts: Sequence[str] | None = None,
    ocr: bool = True,
) -> list[tuple[str, str]]:
    """Generate sample post and return its clean texts plus, with ``ocr``, the OCR text of the
    scanned versions: the classifier must learn what the scanner path really produces.

    OCR results are cached beside the corpus (``ocr-text.json``), since OCR of a few hundred
    pages takes minutes and the corpus is deterministic for a seed.
    """
    from backoffice.config import OcrSettings
    from backoffice.samples import generate
    from backoffice.text import TextError, extract_document_text

    if not (out_dir / "ground_truth.json").exists():
        generate(out_dir, seed=seed, n_documents=n_documents, layouts=layouts, n_emails=0)
    examples = examples_from_ground_truth(out_dir / "ground_truth.json")
    if not ocr:
        return examples
    cache_path = out_dir / "ocr-text.json"
    cache: dict[str, str] = (
        json.loads(cache_path.read_text(encoding="utf-8")) if cache_path.exists() else {}
    )
    truth = json.loads((out_dir / "ground_truth.json").read_text(encoding="utf-8"))
    settings = OcrSettings()
    for doc in truth["documents"]:
        if doc["id"] not in cache:
            scanned = out_dir / "scanned" / f"{doc['id']}.pdf"
            if not scanned.exists():
                continue
            try:
                cache[doc["id"]] = extract_document_text(scanned.read_bytes(), settings).text
            except TextError:
                continue
        examples.append((cache[doc["id"]], doc["doc_type"]))
    cache_path.write_text(json.dumps(cache, ensure_ascii=False), encoding="utf-8")
    return examples


def examples_from_corrections(catalog_url: str) -> list[tuple[str, str]]:
    """``(text, corrected type)`` for every document whose type staff corrected."""
    from backoffice.db import Catalog
    from backoffice.portal.corrections import training_examples

    catalog = Catalog(catalog_url)
    try:
        with catalog.session() as session:
            return training_examples(session)
    finally:
        catalog.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--ground-truth", type=Path, action="append", default=[])
    parser.add_argument(
        "--seed-corpus",
        type=int,
        default=0,
        help="seed-corpus examples per class (clean and noisy)",
    )
    parser.add_argument("--einvoice-dir", type=Path, action="append", default=[])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-iter", type=int, default=12)
    parser.add_argument(
        "--samples",
        type=int,
        default=0,
        help="generate this many sample documents (clean text + OCR of the scanned versions)",
    )
    parser.add_argument("--samples-seed", type=int, default=100)
    parser.add_argument("--samples-dir", type=Path, default=Path("var/train-corpus"))
    parser.add_argument("--layouts", default="", help="comma-separated layouts to train on")
    parser.add_argument(
        "--catalog-url",
        default="",
        help="also learn from staff corrections of document types stored in this catalog",
    )
    args = parser.parse_args(argv)
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    examples: list[tuple[str, str]] = []
    for path in args.ground_truth:
        examples += examples_from_ground_truth(path)
    for folder in args.einvoice_dir:
        examples += examples_from_pdfs(folder)
    if args.samples:
        examples += examples_from_samples(
            args.samples_dir / f"seed{args.samples_seed}-n{args.samples}",
            seed=args.samples_seed,
            n_documents=args.samples,
            layouts=[x for x in args.layouts.split(",") if x] or None,
        )
    if args.seed_corpus:
        half = max(args.seed_corpus // 2, 1)
        examples += synthetic_corpus(half, seed=args.seed + 1)
        examples += synthetic_corpus(half, seed=args.seed + 2, noise=0.04)
    if args.catalog_url:
        examples += examples_from_corrections(args.catalog_url)
    if not examples:
        parser.error("no training data: give --ground-truth and/or --seed-corpus")
    report = train_textcat(examples, args.out, seed=args.seed, n_iter=args.n_iter)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
