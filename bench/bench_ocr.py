"""Benchmark of the text stage against raw tesseract, ocrmypdf and pdfplumber.

Run with ``.venv/bin/python bench/bench_ocr.py`` (``--help`` for options). The script makes its
own material, so it depends on nothing but the text stage:

* a batch of A4 pages of German invoice-like text, drawn with reportlab, rendered to grey images
  at 300 dpi and put into an image-only PDF (a scanned batch);
* a born-digital PDF of the same kind of pages.

Scanned batch, side by side in one run (rounds interleaved so that drifts of the machine's speed
hit every contender alike; the best round counts):

1. the limit: the tesseract command line on the pre-rendered PNGs, ``-l deu+eng``, plain text
   output, two processes at a time, ``OMP_THREAD_LIMIT=1``;
2. the anchor: ``ocrmypdf -l deu -j 2`` on the image-only PDF, when ocrmypdf is installed (run
   with ``--output-type pdf``: no PDF/A conversion, which ``extract_document_text`` does not do
   either; the pipeline's PDF/A-2b step after it costs about 0.15 s per scanned page);
3. ours: ``extract_document_text`` on the image-only PDF (searchable PDF, text and word boxes),
   two workers.

Born-digital: pages per second of ``extract_document_text`` against pdfplumber's
``extract_text`` alone on the same PDF.

Also printed: the character error rate of our OCR text against the text the pages were drawn
from, so a speed gain that costs accuracy shows.

``--skew [DEGREES ...]`` instead measures that error rate on scans fed askew, read as they are,
always straightened, and with the stage's policy (straighten from 1.5° on).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium
from PIL import Image
from rapidfuzz.distance import Levenshtein
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backoffice.config import OcrSettings
from backoffice.text import extract_document_text, stage

DPI = 300
WORKERS = 2

_FIRMS = ["Müller & Söhne GmbH", "Bäckerei Schäfer", "Weiß Steuerberatung", "Köhler Haustechnik KG"]
_STREETS = ["Hauptstraße 12", "Gärtnerweg 3a", "Am Schloßpark 7", "Lübecker Allee 118"]
_CITIES = ["50667 Köln", "80331 München", "40213 Düsseldorf", "20095 Hamburg"]
_ITEMS = [
    "Wartung Heizungsanlage",
    "Büromaterial laut Aufstellung",
    "Fahrtkosten Pauschale",
    "Prüfung Rauchwarnmelder",
    "Ersatzteil Thermostatventil",
    "Beratungsleistung Jahresabschluss",
    "Reinigung Außenanlagen",
    "Lieferung Kopierpapier",
]
_PROSE = [
    "Wir",
    "bedanken",
    "uns",
    "für",
    "Ihren",
    "Auftrag",
    "und",
    "stellen",
    "Ihnen",
    "die",
    "folgenden",
    "Leistungen",
    "in",
    "Rechnung.",
    "Bitte",
    "überweisen",
    "Sie",
    "den",
    "Gesamtbetrag",
    "innerhalb",
    "von",
    "vierzehn",
    "Tagen",
    "ohne",
    "Abzug",
    "auf",
    "das",
    "unten",
    "genannte",
    "Konto.",
    "Bei",
    "Rückfragen",
    "zu",
    "dieser",
    "Rechnung",
    "erreichen",
    "Sie",
    "unsere",
    "Buchhaltung",
    "werktags",
    "zwischen",
    "acht",
    "und",
    "sechzehn",
    "Uhr.",
    "Die",
    "Leistungen",
    "wurden",
    "gemäß",
    "Vertrag",
    "vom",
    "Jahresbeginn",
    "erbracht.",
]


def _draw_invoice(pdf: canvas.Canvas, rnd: random.Random, number: int) -> None:
    height = A4[1]
    y = height - 70

    def line(text: str, size: float = 10.5, bold: bool = False, x: float = 62) -> None:
        nonlocal y
        pdf.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        pdf.drawString(x, y, text)
        y -= size * 1.55

    firm = rnd.choice(_FIRMS)
    line(firm, 15, bold=True)
    line(
        f"{rnd.choice(_STREETS)} · {rnd.choice(_CITIES)} · Tel. 0221 {rnd.randint(100000, 999999)}"
    )
    y -= 20
    line("Frau Jürgens, Gößweinstein Büroservice", 11)
    line(f"{rnd.choice(_STREETS)}, {rnd.choice(_CITIES)}", 11)
    y -= 24
    line("Rechnung", 16, bold=True)
    line(f"Rechnungsnummer: RE-{2024}-{number:05d}    Kundennummer: K-{rnd.randint(1000, 9999)}")
    line(f"Rechnungsdatum: {rnd.randint(1, 28):02d}.{rnd.randint(1, 12):02d}.2024")
    y -= 12
    words = list(_PROSE)
    rnd.shuffle(words)
    for start in range(0, len(words), 12):
        line(" ".join(words[start : start + 12]))
    y -= 10
    line(
        "Pos.  Bezeichnung                                   Menge     Einzelpreis      Betrag",
        bold=True,
    )
    total = 0.0
    for pos in range(1, rnd.randint(10, 16)):
        qty, price = rnd.randint(1, 12), rnd.randint(500, 250000) / 100
        total += qty * price
        pdf.setFont("Helvetica", 10.5)
        pdf.drawString(62, y, f"{pos}")
        pdf.drawString(92, y, rnd.choice(_ITEMS))
        pdf.drawRightString(370, y, f"{qty}")
        pdf.drawRightString(460, y, _euro(price))
        pdf.drawRightString(540, y, _euro(qty * price))
        y -= 16
    y -= 8
    line(f"Nettobetrag: {_euro(total)}    Umsatzsteuer 19 %: {_euro(total * 0.19)}", bold=True)
    line(f"Gesamtbetrag: {_euro(total * 1.19)}", 12, bold=True)
    y -= 12
    line(
        f"Bankverbindung: Sparkasse KölnBonn, IBAN DE{rnd.randint(10, 99)} 3705 0198 "
        f"{rnd.randint(1000, 9999)} {rnd.randint(1000, 9999)} {rnd.randint(10, 99)}",
        9.5,
    )
    line(
        "Geschäftsführer: Jörg Weißmüller · Amtsgericht Köln HRB 12345 · USt-IdNr. DE123456789", 9.5
    )
    pdf.showPage()


def _euro(value: float) -> str:
    return f"{value:,.2f} €".replace(",", "X").replace(".", ",").replace("X", ".")


def born_digital_pdf(pages: int, seed: int = 7) -> bytes:
    """Invoice-like pages with a real text layer."""
    rnd = random.Random(seed)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for number in range(pages):
        _draw_invoice(pdf, rnd, number)
    pdf.save()
    return buffer.getvalue()


def scanned_batch(pages: int, folder: Path) -> tuple[bytes, list[Path], list[str]]:
    """Image-only PDF of rendered invoice pages, the page PNGs and the drawn text per page."""
    source = pdfium.PdfDocument(born_digital_pdf(pages, seed=11))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pngs, truths = [], []
    for index in range(len(source)):
        page = source[index]
        textpage = page.get_textpage()
        truths.append(textpage.get_text_range())
        image = page.render(scale=DPI / 72, grayscale=True).to_pil()
        path = folder / f"page-{index + 1:03d}.png"
        image.save(path, dpi=(DPI, DPI), compress_level=1)
        pngs.append(path)
        pdf.drawImage(ImageReader(image), 0, 0, *A4)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue(), pngs, truths


def cer(truth: str, text: str) -> float:
    """Character error rate, independent of reading order.

    Tesseract reads a right-aligned amount column as a block of its own, which says nothing
    about recognition quality; so the words of both texts are sorted before comparing.
    """
    a, b = " ".join(sorted(truth.split())), " ".join(sorted(text.split()))
    return Levenshtein.distance(a, b) / max(len(a), 1)


def run_limit(pngs: list[Path], out: Path) -> None:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")

    def one(path: Path) -> None:
        subprocess.run(
            ["tesseract", str(path), str(out / path.stem), "-l", "deu+eng"],
            env=env,
            capture_output=True,
            check=True,
        )

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(one, pngs))


def ocrmypdf_command() -> list[str] | None:
    """How to run ocrmypdf here, if at all."""
    if shutil.which("ocrmypdf"):
        return ["ocrmypdf"]
    probe = subprocess.run(
        [sys.executable, "-c", "import ocrmypdf"], capture_output=True, check=False
    )
    return [sys.executable, "-m", "ocrmypdf"] if probe.returncode == 0 else None


def run_anchor(command: list[str], pdf_path: Path, out: Path) -> None:
    subprocess.run(
        [
            *command,
            "-l",
            "deu",
            "-j",
            str(WORKERS),
            "--output-type",
            "pdf",
            str(pdf_path),
            str(out),
        ],
        env=dict(os.environ, OMP_THREAD_LIMIT="1"),
        capture_output=True,
        check=True,
    )


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cpu_seconds() -> float:
    """CPU time of this process (all threads) plus its finished child processes."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def own_cpu_seconds() -> float:
    """CPU time of this process alone (all threads), without child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


OWN_CPU: dict[str, list[float]] = {}
"""In-process CPU seconds per run and contender: our overhead around tesseract."""


def measured(fn: Callable[[], object], name: str = "") -> tuple[float, float]:
    """Wall-clock and CPU seconds (this process and its children) of one call."""
    cpu, own = cpu_seconds(), own_cpu_seconds()
    wall = timed(fn)
    OWN_CPU.setdefault(name, []).append(own_cpu_seconds() - own)
    return wall, cpu_seconds() - cpu


def skew_study(pages: int, angles: list[float]) -> None:
    """CER of our OCR on skewed scans, with and without straightening, same pages each time."""
    source = pdfium.PdfDocument(born_digital_pdf(pages, seed=5))
    truths, images = [], []
    for index in range(len(source)):
        page = source[index]
        truths.append(page.get_textpage().get_text_range())
        images.append(page.render(scale=DPI / 72, grayscale=True).to_pil())
    settings = OcrSettings(languages="deu+eng", dpi=DPI, workers=WORKERS, timeout_seconds=300)
    policy = stage.DESKEW_MIN_DEGREES
    print(f"Skewed scans: {pages} pages per angle, CER (order-independent), mean over pages")
    print(f"  {'skew':>6}  {'as is':>7}  {'straightened':>12}  {'our policy':>10}")
    for angle in angles:
        skewed = [
            image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
            for image in images
        ]
        buffer = io.BytesIO()
        pdf = canvas.Canvas(buffer, pagesize=A4)
        for image in skewed:
            pdf.drawImage(ImageReader(image), 0, 0, *A4)
            pdf.showPage()
        pdf.save()
        errors = {}
        for label, threshold in (("as is", 99.0), ("straightened", 0.3), ("policy", policy)):
            stage.DESKEW_MIN_DEGREES = threshold
            result = extract_document_text(buffer.getvalue(), settings)
            errors[label] = statistics.mean(
                cer(truth, page.text) for truth, page in zip(truths, result.pages, strict=True)
            )
        stage.DESKEW_MIN_DEGREES = policy
        print(
            f"  {angle:5.1f}°  {errors['as is']:7.4f}  {errors['straightened']:12.4f}"
            f"  {errors['policy']:10.4f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=20, help="pages in the scanned batch")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (best counts)")
    parser.add_argument("--born-pages", type=int, default=200, help="pages of the born-digital PDF")
    parser.add_argument(
        "--skew",
        nargs="*",
        type=float,
        metavar="DEGREES",
        help="instead: CER on scans skewed by these angles, with and without straightening",
    )
    args = parser.parse_args()
    if args.skew is not None:
        skew_study(
            min(args.pages, 12), args.skew or [-2.5, -2.0, -1.5, -1.0, 0.0, 1.0, 1.5, 2.0, 2.5]
        )
        return

    settings = OcrSettings(languages="deu+eng", dpi=DPI, workers=WORKERS, timeout_seconds=300)
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        folder = Path(tmp)
        print(f"Making a scanned batch of {args.pages} A4 pages at {DPI} dpi ...", flush=True)
        scanned, pngs, truths = scanned_batch(args.pages, folder)
        pdf_path = folder / "scanned.pdf"
        pdf_path.write_bytes(scanned)
        anchor_cmd = ocrmypdf_command()

        runs: dict[str, list[tuple[float, float]]] = {"limit": [], "anchor": [], "ours": []}
        result = None
        for round_no in range(1, args.rounds + 1):
            limit_out = folder / f"limit-{round_no}"
            limit_out.mkdir()
            runs["limit"].append(measured(lambda out=limit_out: run_limit(pngs, out)))
            if anchor_cmd is not None:
                anchor_out = folder / f"anchor-{round_no}.pdf"
                runs["anchor"].append(
                    measured(lambda o=anchor_out: run_anchor(anchor_cmd, pdf_path, o))
                )

            def ours() -> None:
                nonlocal result
                result = extract_document_text(scanned, settings)

            runs["ours"].append(measured(ours, "ours"))
            print(
                f"  round {round_no}: "
                + ", ".join(
                    f"{name} {values[-1][0]:.1f} s (cpu {values[-1][1]:.1f} s)"
                    for name, values in runs.items()
                    if values
                ),
                flush=True,
            )
        limit_texts = [(folder / "limit-1" / f"{png.stem}.txt").read_text() for png in pngs]

    assert result is not None
    pages = args.pages
    rate = {name: pages / min(w for w, _ in values) for name, values in runs.items() if values}
    cpu = {name: min(c for _, c in values) / pages for name, values in runs.items() if values}
    print()
    print(
        f"Scanned batch: {pages} pages, {WORKERS} processes/workers, best of {args.rounds} rounds"
    )
    print("                                         pages/s    CPU s/page")
    print(f"  (1) limit  raw tesseract CLI on PNGs : {rate['limit']:7.3f}   {cpu['limit']:8.2f}")
    if "anchor" in rate:
        print(
            f"  (2) anchor ocrmypdf -l deu -j 2      : {rate['anchor']:7.3f}   {cpu['anchor']:8.2f}"
        )
    else:
        print("  (2) anchor ocrmypdf                  : skipped (ocrmypdf is not installed)")
    print(f"  (3) ours   extract_document_text     : {rate['ours']:7.3f}   {cpu['ours']:8.2f}")
    print(f"  ours / limit  = {rate['ours'] / rate['limit']:.3f}   (target >= 0.90)")
    print(f"  CPU per page, limit / ours = {cpu['limit'] / cpu['ours']:.3f}")
    print(
        "  ours, CPU in our own process (rendering, analysis, PDF assembly) per page: "
        f"{min(OWN_CPU['ours']) / pages * 1000:.0f} ms; the rest is tesseract"
    )
    if "anchor" in rate:
        print(f"  ours / anchor = {rate['ours'] / rate['anchor']:.3f}")
    print(
        "  wall per round: limit "
        + _spread([w for w, _ in runs["limit"]])
        + ", ours "
        + _spread([w for w, _ in runs["ours"]])
    )
    errors = [cer(truth, page.text) for truth, page in zip(truths, result.pages, strict=True)]
    limit_errors = [cer(truth, text) for truth, text in zip(truths, limit_texts, strict=True)]
    print(
        f"  ours: sources {sorted({p.source for p in result.pages})}, "
        f"{sum(len(p.words) for p in result.pages)} words, searchable PDF "
        f"{len(result.searchable_pdf) / 1e6:.2f} MB (input {len(scanned) / 1e6:.2f} MB)"
    )
    print(
        f"  CER (order-independent): ours mean {statistics.mean(errors):.4f} "
        f"max {max(errors):.4f}; limit mean {statistics.mean(limit_errors):.4f} "
        f"max {max(limit_errors):.4f}"
    )

    born = born_digital_pdf(args.born_pages)
    ours_time = min(timed(lambda: extract_document_text(born, settings)) for _ in range(3))
    probe = extract_document_text(born, settings)

    def plumber() -> None:
        with pdfplumber.open(io.BytesIO(born)) as doc:
            for page in doc.pages:
                page.extract_text()

    plumber_time = timed(plumber)
    ours_rate, plumber_rate = args.born_pages / ours_time, args.born_pages / plumber_time
    print()
    print(f"Born-digital: {args.born_pages} pages")
    print(f"  ours   extract_document_text : {ours_rate:8.1f} pages/s  (target >= 200)")
    print(f"  pdfplumber extract_text      : {plumber_rate:8.1f} pages/s")
    print(f"  ours / pdfplumber = {ours_rate / plumber_rate:.1f}")
    print(
        f"  ours: sources {sorted({p.source for p in probe.pages})}, "
        f"{sum(len(p.words) for p in probe.pages) / len(probe.pages):.0f} words/page, "
        f"searchable PDF is the input unchanged: {probe.searchable_pdf is born}"
    )


def _spread(values: list[float]) -> str:
    return "/".join(f"{v:.1f}" for v in values) + " s"


if __name__ == "__main__":
    main()
