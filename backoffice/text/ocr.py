"""OCR engines: the :class:`OcrEngine` protocol and the tesseract implementation.

The stage talks to an engine only through :class:`OcrEngine`, so another engine (a cloud service,
a GPU model) can be added without touching callers. An engine works on one upright-or-not page
image at a time and returns pixel geometry; turning pixels into points, choosing the orientation
and assembling the searchable PDF are the stage's business.

:class:`TesseractEngine` runs the tesseract command line once per page and asks it for both the
word boxes (TSV) and a text-only PDF page (invisible text, no image) in that single run. The image
goes in as an uncompressed TIFF file (see :meth:`TesseractEngine._run` for why).
``OMP_THREAD_LIMIT=1`` is set for the child because tesseract's own OpenMP threading is several
times slower than one process per core on small machines, and the stage already runs one
process per worker.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from PIL import Image


class OcrError(Exception):
    """OCR of one page did not produce a result; the message is meant for staff."""


class OcrTimeoutError(OcrError):
    """The engine exceeded the page's time limit."""


@dataclass(frozen=True)
class OcrWord:
    """A recognised word in image pixels (``left, top, right, bottom``)."""

    text: str
    confidence: float
    """0..1"""
    box: tuple[int, int, int, int]
    line: tuple[int, int, int] = (0, 0, 0)
    """Block, paragraph and line number, for rebuilding the reading order as text."""


@dataclass
class OcrResult:
    """What an engine read on one page image."""

    words: list[OcrWord]
    text: str
    pdf: bytes | None = field(default=None, repr=False)
    """A one-page PDF holding only invisible text, sized ``image pixels / dpi`` inches; ``None``
    when the engine cannot make one (the stage then writes the text layer itself)."""

    @property
    def confidence(self) -> float | None:
        """Mean word confidence weighted by word length; ``None`` when nothing was read."""
        total = sum(len(word.text) for word in self.words)
        if total == 0:
            return None
        return sum(word.confidence * len(word.text) for word in self.words) / total


@dataclass(frozen=True)
class Orientation:
    """How far (clockwise, degrees) an image must be turned to be upright, and how sure."""

    rotation: int
    confidence: float


@runtime_checkable
class OcrEngine(Protocol):
    """What the text stage needs from an OCR engine.

    Implementations must be safe to call from several threads at once (one page per call).
    """

    def recognize(self, image: Image.Image, *, dpi: float, timeout: float) -> OcrResult:
        """Read one page image; raise :class:`OcrError` (or :class:`OcrTimeoutError`) on failure."""
        ...

    def detect_orientation(
        self, image: Image.Image, *, dpi: float, timeout: float
    ) -> Orientation | None:
        """The image's orientation, or ``None`` when it cannot be told (too little text)."""
        ...


def words_to_text(words: Sequence[OcrWord]) -> str:
    """Rebuild plain text from words in reading order: lines by newline, blocks by a blank line."""
    lines: list[str] = []
    current: tuple[int, int, int] | None = None
    block: int | None = None
    parts: list[str] = []
    for word in words:
        if word.line != current:
            if parts:
                lines.append(" ".join(parts))
            if block is not None and word.line[0] != block:
                lines.append("")
            parts = []
            current = word.line
            block = word.line[0]
        parts.append(word.text)
    if parts:
        lines.append(" ".join(parts))
    return "\n".join(lines)


def parse_tsv(tsv: str) -> list[OcrWord]:
    """Words (level 5 rows) from tesseract's TSV output, in tesseract's reading order."""
    words: list[OcrWord] = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = "\t".join(cols[11:]).strip()
        if not text:
            continue
        try:
            left, top, width, height = (int(v) for v in cols[6:10])
            conf = float(cols[10])
            line = (int(cols[2]), int(cols[3]), int(cols[4]))
        except ValueError:
            continue
        if conf < 0:
            continue
        words.append(
            OcrWord(
                text=text,
                confidence=min(conf, 100.0) / 100.0,
                box=(left, top, left + width, top + height),
                line=line,
            )
        )
    return words


_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.MULTILINE)
_ORIENT_CONF = re.compile(r"^Orientation confidence:\s*([\d.]+)", re.MULTILINE)


@dataclass
class TesseractEngine:
    """OCR with the tesseract command line, one process per page."""

    languages: str = "deu+eng"
    psm: int = 3
    """Page segmentation mode 3 (automatic, no OSD): OSD inside the OCR run costs about a fifth
    more on every page, while a separate OSD run is only needed for the few pages that do not
    read as upright text."""
    binary: str = "tesseract"
    config: Mapping[str, str] = field(default_factory=dict)
    """Extra ``-c name=value`` tesseract variables."""
    osd_dpi: int = 150
    """OSD runs on a copy reduced to about this resolution: as reliable, half the time."""

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["OMP_THREAD_LIMIT"] = "1"
        return env

    def _run(
        self, args: list[str], image: Image.Image, dpi: float, timeout: float
    ) -> tuple[subprocess.CompletedProcess[bytes], Path]:
        """Run tesseract on ``image`` in a fresh folder; return the process and the folder.

        The image goes in as an uncompressed TIFF file: tesseract reads it as fast as a PNG,
        while PIL writes it in a few milliseconds instead of the ~70 ms a PNG costs. PGM would
        be as cheap to write, but leptonica reads it byte by byte, which costs tesseract about
        0.15 s a page; and an image piped through stdin is slower still to take in.
        """
        if image.width < 3 or image.height < 3:
            raise OcrError(f"the page image is too small ({image.width} x {image.height} pixels)")
        if timeout <= 0:
            raise OcrTimeoutError("no time left for OCR on this page")
        folder = Path(tempfile.mkdtemp(prefix="backoffice-ocr-"))
        try:
            source = folder / "page.tif"
            grey = image if image.mode in ("L", "1") else image.convert("L")
            grey.save(source, format="TIFF", dpi=(dpi, dpi))
            done = subprocess.run(
                [self.binary, str(source), *args],
                capture_output=True,
                timeout=timeout,
                env=self._env(),
                cwd=folder,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise OcrTimeoutError(f"OCR took longer than the limit of {timeout:g} s") from exc
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise OcrError(f"tesseract could not be run: {exc}") from exc
        return done, folder

    def recognize(self, image: Image.Image, *, dpi: float, timeout: float) -> OcrResult:
        """One tesseract run producing the TSV word boxes and the text-only PDF page."""
        options = [f"-c{name}={value}" for name, value in self.config.items()]
        args = ["page", "-l", self.languages, "--psm", str(self.psm), "--dpi", str(round(dpi))]
        args += ["-c", "textonly_pdf=1", *options, "pdf", "tsv"]
        done, folder = self._run(args, image, dpi, timeout)
        try:
            tsv_path, pdf_path = folder / "page.tsv", folder / "page.pdf"
            if done.returncode != 0 or not tsv_path.exists():
                raise OcrError(f"tesseract failed: {_last_line(done.stderr)}")
            words = parse_tsv(tsv_path.read_text(encoding="utf-8", errors="replace"))
            pdf = pdf_path.read_bytes() if pdf_path.exists() else None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return OcrResult(words=words, text=words_to_text(words), pdf=pdf)

    def detect_orientation(
        self, image: Image.Image, *, dpi: float, timeout: float
    ) -> Orientation | None:
        """Tesseract OSD (``--psm 0``) on a reduced copy; ``None`` when OSD cannot decide."""
        factor = max(1, round(dpi / self.osd_dpi))
        small = image.reduce(factor) if factor > 1 else image
        small_dpi = dpi / factor
        done, folder = self._run(
            ["stdout", "--psm", "0", "--dpi", str(round(small_dpi))], small, small_dpi, timeout
        )
        shutil.rmtree(folder, ignore_errors=True)
        out = done.stdout.decode("utf-8", errors="replace")
        rotate, conf = _ROTATE.search(out), _ORIENT_CONF.search(out)
        if done.returncode != 0 or rotate is None:
            return None  # typically "Too few characters. Skipping this page"
        return Orientation(
            rotation=int(rotate.group(1)) % 360, confidence=float(conf.group(1)) if conf else 0.0
        )


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", errors="replace").splitlines()]
    meaningful = [line for line in lines if line and not line.startswith("Estimating resolution")]
    return meaningful[-1] if meaningful else "no error message"
