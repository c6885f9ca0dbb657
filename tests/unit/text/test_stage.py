"""Orchestration of the text stage with a scripted engine: failures, progress, memory, PDF."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pdfplumber
import pypdf
import pytest
from PIL import Image

from backoffice.config import OcrSettings
from backoffice.text import OcrResult, OcrWord, Orientation, extract_document_text, stage
from tests.unit.text.fakes import FakeEngine, fail_when
from tests.unit.text.pdfs import INVOICE, image_pdf, page_image, text_pdf

SETTINGS = OcrSettings(workers=2, dpi=100, timeout_seconds=30)


def _scans(count: int, odd_size_at: int | None = None) -> bytes:
    """Image-only pages; the page at ``odd_size_at`` is narrower, so an engine can tell it."""
    base = page_image(text_pdf([INVOICE]), dpi=100)
    images = [
        base.crop((0, 0, base.width - 50, base.height)) if index == odd_size_at else base
        for index in range(count)
    ]
    return image_pdf(images, dpi=100)


def test_one_failing_page_keeps_the_others() -> None:
    pdf = _scans(4, odd_size_at=2)
    narrow = page_image(text_pdf([INVOICE]), dpi=100).width - 25
    engine = FakeEngine(behaviour=fail_when(lambda image: image.width < narrow))
    result = extract_document_text(pdf, SETTINGS, engine=engine)

    assert [p.source for p in result.pages] == ["ocr", "ocr", "failed", "ocr"]
    assert result.failed_pages == [3]
    assert result.needs_review
    failed = result.pages[2]
    assert failed.text == "" and failed.words == []
    assert failed.error and "page 3" in failed.error and "gave up" in failed.error
    assert failed.width > 0 and failed.height > 0
    assert result.text.split("\f") == ["Erkannt", "Erkannt", "", "Erkannt"]
    # The searchable PDF still has every page; the failed one is the original without text.
    reader = pypdf.PdfReader(io.BytesIO(result.searchable_pdf))
    assert len(reader.pages) == 4
    with pdfplumber.open(io.BytesIO(result.searchable_pdf)) as doc:
        assert "Erkannt" in (doc.pages[0].extract_text() or "")
        assert "Erkannt" not in (doc.pages[2].extract_text() or "")


def test_an_engine_crash_is_a_failed_page_not_a_failed_document() -> None:
    engine = FakeEngine(behaviour=fail_when(lambda image: True, RuntimeError("segfault")))
    result = extract_document_text(_scans(2), SETTINGS, engine=engine)
    assert result.failed_pages == [1, 2]
    assert "segfault" in (result.pages[0].error or "")


def test_progress_counts_every_page_from_the_calling_thread() -> None:
    seen: list[tuple[int, str]] = []
    pdf_pages = [INVOICE, [], INVOICE]  # a blank page goes to OCR between two layer pages
    result = extract_document_text(
        text_pdf(pdf_pages),
        SETTINGS,
        engine=FakeEngine(),
        progress=lambda done: seen.append((done, threading.current_thread().name)),
    )
    assert [done for done, _ in seen] == [1, 2, 3]
    assert {name for _, name in seen} == {threading.current_thread().name}
    assert [p.source for p in result.pages] == ["layer", "ocr", "layer"]


def test_pages_in_flight_stay_within_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long scan is not rendered up front: at most workers + 2 pages wait for OCR."""
    rendered = 0
    original = stage.render_loaded_page

    def counting(*args: object, **kwargs: object) -> Image.Image:
        nonlocal rendered
        rendered += 1
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(stage, "render_loaded_page", counting)
    gate = threading.Event()
    engine = FakeEngine(gate=gate)
    settings = OcrSettings(workers=2, dpi=50, timeout_seconds=30)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(extract_document_text, _scans(12), settings, engine=engine)
        for _ in range(50):
            if rendered >= settings.workers + 2:
                break
            threading.Event().wait(0.02)
        threading.Event().wait(0.2)
        assert rendered == settings.workers + 2
        gate.set()
        result = future.result(timeout=30)
    assert rendered == 12
    assert len(result.pages) == 12


def test_a_page_over_the_pixel_limit_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    small = Image.new("L", (200, 280), 255)
    big = Image.new("L", (1200, 1600), 255)
    pdf = image_pdf([small, big, small], dpi=100)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    result = extract_document_text(pdf, SETTINGS, engine=FakeEngine())
    assert [p.source for p in result.pages] == ["ocr", "failed", "ocr"]
    assert "decompression bomb" in (result.pages[1].error or "")


def test_an_oversized_page_is_rendered_smaller_not_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int]] = []
    engine = FakeEngine(behaviour=lambda image: seen.append(image.size))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2_000_000)
    pdf = text_pdf([[], []], size=(1000.0, 1000.0))  # 35 cm square, blank: goes to OCR
    result = extract_document_text(pdf, OcrSettings(workers=1, dpi=300), engine=engine)
    assert result.pages[0].source == "ocr"
    assert seen and seen[0][0] * seen[0][1] <= 2_000_000
    # Past the point where the text would be too small to read, the page is refused instead.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)
    result = extract_document_text(pdf, OcrSettings(workers=1, dpi=300), engine=engine)
    assert result.failed_pages == [1, 2]
    assert "too large" in (result.pages[0].error or "")


def test_an_engine_without_pdf_output_still_gives_a_searchable_pdf() -> None:
    result = extract_document_text(_scans(1), SETTINGS, engine=FakeEngine())
    page = result.pages[0]
    word = page.words[0]
    with pdfplumber.open(io.BytesIO(result.searchable_pdf)) as doc:
        found = doc.pages[0].extract_words()
    assert [w["text"] for w in found] == ["Erkannt"]
    x0, top, x1, bottom = found[0]["x0"], found[0]["top"], found[0]["x1"], found[0]["bottom"]
    assert x0 == pytest.approx(word.bbox[0], abs=1) and x1 == pytest.approx(word.bbox[2], abs=1)
    assert top < word.bbox[3] and bottom > word.bbox[1]


class _UpsideDownEngine(FakeEngine):
    """Reads garbage unless the image was turned; says the image needs a 180° turn."""

    def recognize(self, image: Image.Image, *, dpi: float, timeout: float) -> OcrResult:
        turned = image.getpixel((0, 0)) == 0  # the marker pixel ends up at the top left
        text, conf = ("Rechnung", 0.95) if turned else ("ɥɔʇ", 0.2)
        words = [OcrWord(text, conf, (0, 0, 40, 10), (1, 1, 1)) for _ in range(5)]
        return OcrResult(words=words, text=" ".join(w.text for w in words), pdf=None)


def test_a_page_read_poorly_is_checked_for_orientation_and_turned() -> None:
    image = Image.new("L", (200, 300), 255)
    image.putpixel((199, 299), 0)  # bottom right; top left once turned by 180°
    engine = _UpsideDownEngine(orientation=Orientation(rotation=180, confidence=9.0))
    page = extract_document_text(image_pdf([image], dpi=100), SETTINGS, engine=engine).pages[0]
    assert page.rotation == 180
    assert page.text.startswith("Rechnung")


def test_a_wrong_orientation_guess_does_not_replace_a_better_reading() -> None:
    image = Image.new("L", (200, 300), 255)
    engine = _UpsideDownEngine(orientation=Orientation(rotation=90, confidence=1.0))
    page = extract_document_text(image_pdf([image], dpi=100), SETTINGS, engine=engine).pages[0]
    assert page.rotation == 0  # the turned reading was no better, so the first one stands
    assert (page.width, page.height) == pytest.approx((144, 216))


def test_no_orientation_verdict_keeps_the_reading() -> None:
    engine = _UpsideDownEngine(orientation=None)
    page = extract_document_text(_scans(1), SETTINGS, engine=engine).pages[0]
    assert page.source == "ocr" and page.rotation == 0


def test_documents_can_be_processed_from_several_threads() -> None:
    pdf = text_pdf([INVOICE] * 5)
    scans = _scans(2)
    with ThreadPoolExecutor(4) as pool:
        futures = [
            pool.submit(extract_document_text, doc, SETTINGS, engine=FakeEngine())
            for doc in [pdf, scans] * 4
        ]
        results = [f.result(timeout=60) for f in futures]
    assert all(len(r.pages) in (5, 2) for r in results)
    assert all(not r.needs_review for r in results)


def test_the_input_bytes_are_left_alone() -> None:
    pdf = _scans(2)
    copy = bytes(pdf)
    result = extract_document_text(pdf, SETTINGS, engine=FakeEngine())
    assert pdf == copy
    # The searchable PDF extends the original: its bytes come first, unchanged.
    assert result.searchable_pdf.startswith(pdf)


def test_documents_in_parallel_share_the_ocr_workers() -> None:
    """Two documents at once do not start more OCR runs than ``workers``."""
    running = peak = 0
    lock = threading.Lock()

    def track(image: Image.Image) -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        threading.Event().wait(0.05)
        with lock:
            running -= 1

    settings = OcrSettings(workers=1, dpi=50)
    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(
                extract_document_text, _scans(3), settings, engine=FakeEngine(behaviour=track)
            )
            for _ in range(2)
        ]
        assert all(len(f.result(timeout=60).pages) == 3 for f in futures)
    assert peak == 1
