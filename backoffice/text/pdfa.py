"""PDF/A-2b copies of searchable PDFs, made with ghostscript where it is installed.

The searchable PDF is what clients download and keep; PDF/A makes it self-contained and
renderable for decades (fonts embedded, an sRGB output intent). Ghostscript's ``pdfwrite``
does the conversion in about 0.15 s a page and passes JPEG scans through unchanged. Without
ghostscript, or when it fails on an odd input, the plain searchable PDF is kept: archiving never
waits on a format nicety. Conformance is as ghostscript produces it (no separate validator runs).
"""

from __future__ import annotations

import glob
import io
import logging
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from pypdf import PdfReader

log = logging.getLogger(__name__)

_DEF = """%!
/ICCProfile ({icc}) def
[/_objdef {{icc_PDFA}} /type /stream /OBJ pdfmark
[{{icc_PDFA}} << /N 3 >> /PUT pdfmark
[{{icc_PDFA}} ICCProfile (r) file /PUT pdfmark
[/_objdef {{OutputIntent_PDFA}} /type /dict /OBJ pdfmark
[{{OutputIntent_PDFA}} << /Type /OutputIntent /S /GTS_PDFA1
  /DestOutputProfile {{icc_PDFA}} /OutputConditionIdentifier (sRGB) >> /PUT pdfmark
[{{Catalog}} << /OutputIntents [ {{OutputIntent_PDFA}} ] >> /PUT pdfmark
"""


@lru_cache(maxsize=1)
def _tools() -> tuple[str, str] | None:
    """Ghostscript and an sRGB ICC profile it ships, or None when either is missing."""
    gs = shutil.which("gs")
    icc = sorted(glob.glob("/usr/share/ghostscript/*/iccprofiles/default_rgb.icc"))
    icc += sorted(glob.glob("/usr/share/color/icc/ghostscript/srgb.icc"))
    return (gs, icc[-1]) if gs and icc else None


def available() -> bool:
    return _tools() is not None


def to_pdfa(pdf: bytes, *, timeout: float = 120.0) -> bytes | None:
    """A PDF/A-2b rewrite of ``pdf``; None when ghostscript is missing or fails."""
    tools = _tools()
    if tools is None:
        return None
    gs, icc = tools
    with tempfile.TemporaryDirectory(prefix="backoffice-pdfa-") as tmp:
        folder = Path(tmp)
        (folder / "in.pdf").write_bytes(pdf)
        (folder / "def.ps").write_text(_DEF.format(icc=icc))
        cmd = [
            gs, "-q", "-dPDFA=2", "-dBATCH", "-dNOPAUSE", "-dSAFER",
            f"--permit-file-read={icc}", "-sColorConversionStrategy=RGB",
            "-sDEVICE=pdfwrite", "-dPDFACompatibilityPolicy=1", "-dPassThroughJPEGImages=true",
            "-o", str(folder / "out.pdf"), str(folder / "def.ps"), str(folder / "in.pdf"),
        ]  # fmt: skip
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
            out = (folder / "out.pdf").read_bytes()
        except (subprocess.SubprocessError, OSError) as exc:
            log.warning("PDF/A conversion failed, keeping the plain searchable PDF: %s", exc)
            return None
    if _pages(out) != _pages(pdf) or _pages(pdf) == 0:
        log.warning("PDF/A conversion changed the page count, keeping the plain searchable PDF")
        return None
    return out


def _pages(pdf: bytes) -> int:
    """Page count, 0 when unreadable (ghostscript makes an empty page out of garbage)."""
    try:
        return len(PdfReader(io.BytesIO(pdf)).pages)
    except Exception:  # hostile bytes make pypdf raise many kinds of errors
        return 0
