"""understand_document end to end, the review decision, and the speed budget."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from backoffice.config import UnderstandSettings
from backoffice.understand import classify, extract_fields, understand_document

from .corpus import INVOICE_CLASSIC, LABELLED, LETTER_ABOUT_INVOICE, REMINDER_SECOND
from .test_routing import CLIENTS


def settings(tmp_path: Path) -> UnderstandSettings:
    return UnderstandSettings(model_dir=tmp_path / "no-model")  # rule baseline, deterministic


def test_invoice_end_to_end(tmp_path: Path) -> None:
    u = understand_document([INVOICE_CLASSIC], CLIENTS, settings=settings(tmp_path))
    assert u.classification.label == "invoice"
    assert u.routing.client_id == 1
    assert u.field_value("gross_total") == "1309.00"
    assert u.einvoice_profile is None
    assert u.flags == []
    assert not u.needs_review


def test_reminder_end_to_end(tmp_path: Path) -> None:
    u = understand_document([REMINDER_SECOND], CLIENTS, settings=settings(tmp_path))
    assert u.classification.label == "reminder"
    assert u.routing.client_id == 3
    assert u.field_value("dunning_stage") == "2"


def test_unsure_routing_needs_review(tmp_path: Path) -> None:
    u = understand_document([LETTER_ABOUT_INVOICE], CLIENTS[1:], settings=settings(tmp_path))
    assert u.routing.client_id is None
    assert u.needs_review


def test_hint_code_routes(tmp_path: Path) -> None:
    u = understand_document(
        [INVOICE_CLASSIC], CLIENTS, hint_code="SONN", settings=settings(tmp_path)
    )
    assert u.routing.client_id == 4


def test_speed_budget_per_page() -> None:
    """Classification + extraction of a born-digital page stays well under 50 ms (median)."""
    pages = [t for t, _ in LABELLED] * 3
    timings = []
    for page in pages:
        start = time.perf_counter()
        c = classify(page)
        extract_fields([page], c.label)
        timings.append(time.perf_counter() - start)
    assert statistics.median(timings) < 0.05
