"""A scriptable OCR engine, so orchestration can be tested without tesseract."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from backoffice.text import OcrError, OcrResult, OcrWord, Orientation


@dataclass
class FakeEngine:
    """Reads one word, "Erkannt", at the top-left of every image.

    ``behaviour`` may raise for chosen images (decided by the image, since pages are read in
    any order); ``gate`` holds every call until it is set.
    """

    behaviour: Callable[[Image.Image], None] | None = None
    gate: threading.Event | None = None
    delay: float = 0.0
    calls: int = 0
    orientation: Orientation | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def recognize(self, image: Image.Image, *, dpi: float, timeout: float) -> OcrResult:
        with self.lock:
            self.calls += 1
        if self.gate is not None:
            self.gate.wait(10)
        if self.delay:
            time.sleep(self.delay)
        if self.behaviour is not None:
            self.behaviour(image)
        word = OcrWord(text="Erkannt", confidence=0.9, box=(10, 10, 110, 40), line=(1, 1, 1))
        return OcrResult(words=[word], text="Erkannt", pdf=None)

    def detect_orientation(
        self, image: Image.Image, *, dpi: float, timeout: float
    ) -> Orientation | None:
        return self.orientation


def fail_when(
    predicate: Callable[[Image.Image], bool], error: Exception | None = None
) -> Callable[[Image.Image], None]:
    """A behaviour raising ``error`` (an OcrError by default) for images matching ``predicate``."""

    def behaviour(image: Image.Image) -> None:
        if predicate(image):
            raise error or OcrError("the engine gave up")

    return behaviour
