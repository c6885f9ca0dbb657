"""Scanner simulation: born-digital pages in, image-only "scanned" PDFs out.

Real post arrives through a document scanner: grey JPEG pages at 200–300 dpi, fed slightly
crooked, with sensor noise, dust specks, the odd soft focus or washed-out contrast, sometimes a
page fed upside down and duplex back sides that are blank but not white. The OCR, blank-page
and separator code has to work on exactly that, so this module produces it reproducibly: all
randomness comes from a seeded :class:`numpy.random.Generator`, and the PDF container is
written by hand (one DCT image per page, no dates) so identical input gives identical bytes.

Speed matters because test suites generate corpora: pdfium renders each page already turned
(skew, upside down) straight onto an A4 grey canvas, the noise is a small tile repeated from a
random offset, the pixel work runs on a thread pool, and each document is scanned once and the
same pages reused in its own PDF and in the scanner batch.
"""

from __future__ import annotations

import ctypes
import io
import math
import os
import random
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageChops, ImageDraw, ImageFilter

A4_POINTS = (595.2756, 841.8898)
A4_MM = (210.0, 297.0)
_TILE = 256


@dataclass(frozen=True)
class ScanParams:
    """How one document went through the scanner (all of it lands in the ground truth)."""

    dpi: int
    skew_deg: float
    """Counter-clockwise turn of every page, as ``PIL.Image.rotate`` counts it."""
    noise: float
    """Sensor noise on ink as a fraction of full scale (about 0.01–0.035); paper gets far less."""
    blur: float
    """Gaussian blur radius in pixels at 300 dpi; 0 means sharp."""
    contrast: float
    """Distance between paper white and ink black as a fraction of full scale."""
    paper: int
    """Grey level of blank paper (a scanner never delivers pure 255)."""
    upside_down_pages: tuple[int, ...]
    speckles: int
    jpeg_quality: int
    edge_shadow: bool

    def ground_truth(self) -> dict[str, Any]:
        return {
            "dpi": self.dpi,
            "skew_deg": self.skew_deg,
            "upside_down_pages": list(self.upside_down_pages),
            "noise": self.noise,
            "blur": self.blur,
            "contrast": self.contrast,
            "paper": self.paper,
            "speckles": self.speckles,
            "jpeg_quality": self.jpeg_quality,
            "edge_shadow": self.edge_shadow,
        }


@dataclass(frozen=True)
class ScannedPage:
    """One scanned page: the JPEG stream that goes into the PDF unchanged."""

    jpeg: bytes
    width: int
    height: int
    dpi: int
    upside_down: bool = False


def random_params(
    rng: random.Random, n_pages: int, dpi: int, *, upside_down_rate: float = 0.1
) -> ScanParams:
    """Plausible scanner settings for one document of ``n_pages`` pages.

    About one document in ten (``upside_down_rate``) gets exactly one page turned by 180°.
    """
    upside: tuple[int, ...] = ()
    if rng.random() < upside_down_rate:
        upside = (rng.randint(1, n_pages),)
    blur = 0.0
    if rng.random() < 0.3:
        blur = round(rng.uniform(0.5, 1.1), 2)
    return ScanParams(
        dpi=dpi,
        skew_deg=round(rng.uniform(-1.5, 1.5), 2),
        noise=round(rng.uniform(0.008, 0.035), 3),
        blur=blur,
        contrast=round(rng.choice((1.0, 1.0, rng.uniform(0.72, 0.95))), 2),
        paper=rng.randint(236, 252),
        upside_down_pages=upside,
        speckles=rng.randint(4, 60),
        jpeg_quality=rng.choice((70, 75, 75, 80)),
        edge_shadow=rng.random() < 0.2,
    )


def page_pixels(dpi: int) -> tuple[int, int]:
    """Pixel size of an A4 page at ``dpi``."""
    return round(A4_MM[0] / 25.4 * dpi), round(A4_MM[1] / 25.4 * dpi)


def render_pages(pdf: bytes, dpi: int, angles: Sequence[float] | None = None) -> list[Image.Image]:
    """Render every page of ``pdf`` in grey at ``dpi`` onto an exact A4 pixel canvas.

    ``angles`` (degrees, counter-clockwise, one per page) turn each page about its centre
    while rendering: pdfium draws the skewed page directly, anti-aliased, which is both faster
    and cleaner than rotating a finished bitmap. Pages that are not A4 are scaled to fit.
    """
    document = pdfium.PdfDocument(pdf)
    try:
        width, height = page_pixels(dpi)
        images = []
        for index in range(len(document)):
            page = document[index]
            try:
                angle = angles[index] if angles is not None else 0.0
                images.append(_render_turned(page, width, height, angle))
            finally:
                page.close()
        return images
    finally:
        document.close()


def _render_turned(page: pdfium.PdfPage, width: int, height: int, angle: float) -> Image.Image:
    page_w, page_h = page.get_size()
    scale = min(width / page_w, height / page_h)
    theta = math.radians(-angle)  # device y grows downwards: negate for counter-clockwise
    cos, sin = math.cos(theta), math.sin(theta)
    cx, cy = width / 2, height / 2
    # scale about the origin, then centre the page and turn it about the canvas centre
    ox, oy = (width - page_w * scale) / 2 - cx, (height - page_h * scale) / 2 - cy
    matrix = pdfium_c.FS_MATRIX(
        cos * scale,
        sin * scale,
        -sin * scale,
        cos * scale,
        cos * ox - sin * oy + cx,
        sin * ox + cos * oy + cy,
    )
    clip = pdfium_c.FS_RECTF(0, 0, width, height)
    bitmap = pdfium_c.FPDFBitmap_CreateEx(width, height, pdfium_c.FPDFBitmap_Gray, None, 0)
    if not bitmap:
        raise MemoryError("pdfium could not allocate a page bitmap")
    try:
        pdfium_c.FPDFBitmap_FillRect(bitmap, 0, 0, width, height, 0xFFFFFFFF)
        pdfium_c.FPDF_RenderPageBitmapWithMatrix(
            bitmap, page.raw, matrix, clip, pdfium_c.FPDF_ANNOT | pdfium_c.FPDF_GRAYSCALE
        )
        stride = pdfium_c.FPDFBitmap_GetStride(bitmap)
        data = ctypes.string_at(pdfium_c.FPDFBitmap_GetBuffer(bitmap), stride * height)
    finally:
        pdfium_c.FPDFBitmap_Destroy(bitmap)
    return Image.frombuffer("L", (width, height), data, "raw", "L", stride, 1)


def _add_noise(image: Image.Image, gen: np.random.Generator, sigma: float) -> Image.Image:
    """Sensor noise, strong on ink and edges and faint on blank paper.

    Scanners flatten the paper background (and JPEG would otherwise spend most of a page's
    bytes on noise there), while strokes keep their grain: the noise is weighted by darkness.
    It is drawn as one random tile repeated from a random offset, which is far cheaper than a
    full-page draw and invisible after specks, blur and JPEG.
    """
    tile = (gen.standard_normal((_TILE, _TILE), dtype=np.float32) * np.float32(sigma * 255)).astype(
        np.int16
    )
    w, h = image.size
    reps = (h // _TILE + 2, w // _TILE + 2)
    oy, ox = (int(v) for v in gen.integers(0, _TILE, size=2))
    noise = np.tile(tile, reps)[oy : oy + h, ox : ox + w]
    a = np.asarray(image, dtype=np.int16)
    a = a + ((noise * (262 - a)) >> 8)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def _mottle_image(gen: np.random.Generator, size: tuple[int, int], amount: float) -> Image.Image:
    """Low-frequency unevenness of paper and illumination, centred on 128."""
    w, h = size
    small = gen.standard_normal((h // 64 + 2, w // 64 + 2), dtype=np.float32) * np.float32(
        amount
    ) + np.float32(128)
    image = Image.fromarray(np.clip(small, 0, 255).astype(np.uint8))
    return image.resize((w, h), Image.Resampling.BILINEAR)


def _tone_curve(params: ScanParams) -> list[int]:
    """Map clean white..black to the scanner's paper tone..ink tone (contrast loss)."""
    paper = float(params.paper)
    ink = paper - params.contrast * paper * 0.92
    return [round(ink + (paper - ink) * v / 255.0) for v in range(256)]


def _blur_kernel(sigma: float) -> ImageFilter.Kernel:
    """A 3x3 Gaussian kernel: the soft focus of a scanner is well below two pixels."""
    weights = [
        float(np.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)))
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    ]
    total = sum(weights)
    return ImageFilter.Kernel((3, 3), [w / total for w in weights], scale=1)


def degrade(image: Image.Image, params: ScanParams, gen: np.random.Generator) -> Image.Image:
    """Apply paper tone, contrast, noise, specks, shadow and blur to a rendered (turned) page."""
    out = image.point(_tone_curve(params))
    out = _add_noise(out, gen, params.noise)
    out = ImageChops.add(out, _mottle_image(gen, out.size, 2.5), scale=1.0, offset=-128)
    w, h = out.size
    if params.edge_shadow:
        width = max(8, int(w * 0.02))
        left = int(gen.integers(0, 2)) == 0
        box = (0, 0, width, h) if left else (w - width, 0, w, h)
        strip = np.asarray(out.crop(box), dtype=np.int16)
        ramp = np.linspace(-70, 0, width).astype(np.int16)
        strip = strip + (ramp if left else ramp[::-1])
        out.paste(Image.fromarray(np.clip(strip, 0, 255).astype(np.uint8)), box[:2])
    draw = ImageDraw.Draw(out)
    scale = params.dpi / 300
    for _ in range(params.speckles):
        x = int(gen.integers(0, w))
        y = int(gen.integers(0, h))
        r = max(1.0, float(gen.uniform(0.6, 2.6)) * scale)
        level = int(gen.integers(20, 150))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=level)
    if params.blur:
        out = out.filter(_blur_kernel(max(params.blur * scale, 0.3)))
    return out


def encode(image: Image.Image, params: ScanParams, *, upside_down: bool = False) -> ScannedPage:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=params.jpeg_quality, optimize=False, progressive=False)
    return ScannedPage(buffer.getvalue(), image.width, image.height, params.dpi, upside_down)


class Scanner:
    """Scans pages concurrently while keeping output independent of scheduling.

    pdfium is not thread-safe, so pages are rendered on the calling thread; the expensive
    pixel work (noise, specks, blur, JPEG) runs on a small thread pool, where numpy and Pillow
    release the GIL. Every page draws its noise from its own generator seeded by
    ``(*seed, page_number)``, so the result is the same whatever the thread order. At most
    ``max_pending`` rendered pages wait in memory at any time.
    """

    def __init__(self, workers: int | None = None, max_pending: int = 6) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers or max(1, min(4, os.cpu_count() or 1)))
        self._slots = threading.BoundedSemaphore(max_pending)

    def __enter__(self) -> Scanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _submit(
        self, image: Image.Image, params: ScanParams, seed: Sequence[int], turned: bool
    ) -> Future[ScannedPage]:
        def work() -> ScannedPage:
            try:
                gen = np.random.default_rng(list(seed))
                return encode(degrade(image, params, gen), params, upside_down=turned)
            finally:
                self._slots.release()

        return self._pool.submit(work)

    def scan(
        self, pdf: bytes, params: ScanParams, seed: Sequence[int]
    ) -> list[Future[ScannedPage]]:
        """Scan every page of a born-digital PDF with ``params``; ``seed`` fixes the noise."""
        width, height = page_pixels(params.dpi)
        document = pdfium.PdfDocument(pdf)
        futures = []
        try:
            for index in range(len(document)):
                turned = index + 1 in params.upside_down_pages
                self._slots.acquire()
                try:
                    page = document[index]
                    try:
                        image = _render_turned(
                            page, width, height, params.skew_deg + (180.0 if turned else 0.0)
                        )
                    finally:
                        page.close()
                except BaseException:
                    self._slots.release()
                    raise
                futures.append(self._submit(image, params, (*seed, index + 1), turned))
        finally:
            document.close()
        return futures

    def blank(self, params: ScanParams, seed: Sequence[int]) -> Future[ScannedPage]:
        """A duplex back side (see :func:`blank_page`)."""
        self._slots.acquire()

        def work() -> ScannedPage:
            try:
                return blank_page(params, seed)
            finally:
                self._slots.release()

        return self._pool.submit(work)


def scan_document(pdf: bytes, params: ScanParams, seed: Sequence[int]) -> list[ScannedPage]:
    """Scan every page of a born-digital PDF with ``params`` (single-threaded convenience)."""
    with Scanner(workers=1) as scanner:
        return [future.result() for future in scanner.scan(pdf, params, seed)]


def blank_page(params: ScanParams, seed: Sequence[int]) -> ScannedPage:
    """The empty back side of a duplex scan: paper tone, noise, a few specks, maybe show-through."""
    gen = np.random.default_rng(list(seed))
    width, height = page_pixels(params.dpi)
    image = Image.new("L", (width, height), 255)
    if gen.random() < 0.5:
        # faint show-through of the front side's text lines
        draw = ImageDraw.Draw(image)
        y = int(height * 0.3)
        while y < height * 0.8:
            x0 = int(width * float(gen.uniform(0.1, 0.2)))
            x1 = int(width * float(gen.uniform(0.5, 0.9)))
            draw.rectangle((x0, y, x1, y + max(2, params.dpi // 60)), fill=243)
            y += int(params.dpi * float(gen.uniform(0.15, 0.3)))
    quiet = ScanParams(
        dpi=params.dpi,
        skew_deg=0.0,
        noise=params.noise,
        blur=0.0,
        contrast=params.contrast,
        paper=params.paper,
        upside_down_pages=(),
        speckles=min(params.speckles, 12),
        jpeg_quality=params.jpeg_quality,
        edge_shadow=params.edge_shadow,
    )
    return encode(degrade(image, quiet, gen), quiet)


def image_pdf(pages: Sequence[ScannedPage], *, creator: str = "Backoffice sample scanner") -> bytes:
    """An image-only PDF: one A4 page per scanned JPEG, no text layer, no timestamps."""
    out = io.BytesIO()
    offsets: list[int] = []

    def obj(number: int, body: bytes, stream: bytes | None = None) -> None:
        offsets.append(out.tell())
        assert len(offsets) == number
        out.write(f"{number} 0 obj\n".encode())
        out.write(body)
        if stream is not None:
            out.write(b"\nstream\n")
            out.write(stream)
            out.write(b"\nendstream")
        out.write(b"\nendobj\n")

    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    n = len(pages)
    kids = " ".join(f"{4 + 3 * i} 0 R" for i in range(n))
    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    obj(3, f"<< /Producer ({creator}) /Creator ({creator}) >>".encode())
    w_pt, h_pt = A4_POINTS
    for i, page in enumerate(pages):
        base = 4 + 3 * i
        content = f"q {w_pt:.4f} 0 0 {h_pt:.4f} 0 0 cm /Im0 Do Q".encode()
        obj(
            base,
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt:.4f} {h_pt:.4f}] /Resources "
                f"<< /XObject << /Im0 {base + 2} 0 R >> /ProcSet [/PDF /ImageB] >> /Contents "
                f"{base + 1} 0 R >>"
            ).encode(),
        )
        obj(base + 1, f"<< /Length {len(content)} >>".encode(), content)
        obj(
            base + 2,
            (
                f"<< /Type /XObject /Subtype /Image /Width {page.width} /Height {page.height} "
                "/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length "
                f"{len(page.jpeg)} >>"
            ).encode(),
            page.jpeg,
        )
    xref = out.tell()
    total = len(offsets) + 1
    out.write(f"xref\n0 {total}\n".encode())
    out.write(b"0000000000 65535 f \n")
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {total} /Root 1 0 R /Info 3 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()
