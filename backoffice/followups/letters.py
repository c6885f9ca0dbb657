"""Dunning letters as PDF, laid out after DIN 5008 Form B, in the client's name.

The letter goes out on behalf of the client (the creditor), so the letterhead, the return
address, the bank details and the footer are the client's; the office service does not appear.
Positions follow DIN 5008 Form B so the address shows in the window of a DL envelope:

* Anschriftfeld 45 mm from the top, 20 mm from the left, 85 × 45 mm: the first 17.7 mm are the
  Zusatz- und Vermerkzone (the return address line sits at its bottom), then 27.3 mm
  Anschriftzone for the recipient; text starts 25 mm from the left edge.
* Informationsblock 125 mm from the left, from 50 mm below the top.
* Betreff at 98.46 mm; folding marks at 105 and 210 mm, punch mark at 148.5 mm.

The text of a letter is built once (:func:`letter_lines`) and used both for the PDF and for the
archive's full-text search, so what staff find is exactly what the debtor got.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from backoffice.display import date_de, money
from backoffice.followups.interest import Interest

PAGE_W, PAGE_H = A4
FONT = "Helvetica"
BOLD = "Helvetica-Bold"
LEFT = 25 * mm
"""Text edge: Anschriftfeld at 20 mm plus its 5 mm inner margin, and the body's left margin."""
RIGHT = PAGE_W - 20 * mm
ADDRESS_FIELD_TOP = 45 * mm
RETURN_LINE_BOTTOM = 62.7 * mm
"""End of the Zusatz- und Vermerkzone: the return address line sits just above it."""
ADDRESS_ZONE_TOP = 62.7 * mm
ADDRESS_ZONE_BOTTOM = 90 * mm
INFO_LEFT = 125 * mm
INFO_TOP = 50 * mm
SUBJECT_TOP = 98.46 * mm
FOOTER_TOP = 272 * mm
BODY_BOTTOM = 262 * mm
LINE = 4.23 * mm
"""One line of 10 pt text in DIN 5008 spacing (12 pt)."""

STAGE_SUBJECTS = {
    1: "Zahlungserinnerung",
    2: "1. Mahnung",
    3: "2. Mahnung",
    4: "Letzte Mahnung vor gerichtlichem Mahnverfahren",
}


def rate_de(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",") + " %"


@dataclass(frozen=True)
class Letterhead:
    """The client as creditor: sender of the letter and payee."""

    name: str
    street: str | None = None
    zip: str | None = None
    city: str | None = None
    email: str | None = None
    phone: str | None = None
    iban: str | None = None
    bic: str | None = None
    vat_id: str | None = None

    @property
    def place(self) -> str:
        return " ".join(p for p in (self.zip, self.city) if p)


@dataclass(frozen=True)
class Recipient:
    name: str
    street: str | None = None
    zip: str | None = None
    city: str | None = None

    def lines(self) -> list[str]:
        place = " ".join(p for p in (self.zip, self.city) if p)
        return [line for line in (self.name, self.street, place) if line]


@dataclass(frozen=True)
class DunningLetter:
    """Everything one letter shows (amounts are already computed by the dunning run)."""

    stage: int
    sender: Letterhead
    recipient: Recipient
    letter_date: date
    invoice_number: str
    invoice_date: date | None
    due_date: date
    invoice_amount: Decimal
    paid: Decimal
    interest: Interest
    flat_fee: Decimal
    letter_fees: Decimal
    deadline: date
    customer_number: str | None = None

    @property
    def principal(self) -> Decimal:
        return self.invoice_amount - self.paid

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest.amount + self.flat_fee + self.letter_fees

    @property
    def subject(self) -> str:
        return subject_for(self.stage)


def subject_for(stage: int) -> str:
    """The Betreff of a stage (1 Zahlungserinnerung … 4 letzte Mahnung)."""
    return STAGE_SUBJECTS[max(1, min(stage, 4))]


def body_paragraphs(letter: DunningLetter) -> list[str]:
    """The letter's body: polite at stage 1, firm later, court announced at the last stage."""
    inv = f"Rechnung Nr. {letter.invoice_number}"
    if letter.invoice_date:
        inv += f" vom {date_de(letter.invoice_date)}"
    deadline = date_de(letter.deadline)
    if letter.stage <= 1:
        paragraphs = [
            f"sicher ist es im Tagesgeschäft untergegangen: Unsere {inv} über "
            f"{money(letter.invoice_amount)} war am {date_de(letter.due_date)} fällig. "
            "Einen Zahlungseingang konnten wir bisher nicht feststellen.",
            f"Bitte überweisen Sie den offenen Betrag bis zum {deadline} auf unser unten "
            "genanntes Konto.",
            "Sollten Sie inzwischen gezahlt haben, betrachten Sie dieses Schreiben bitte als "
            "gegenstandslos.",
        ]
    elif letter.stage == 2:
        paragraphs = [
            f"trotz unserer Zahlungserinnerung ist unsere {inv} noch immer nicht beglichen. "
            "Sie befinden sich damit in Zahlungsverzug.",
            f"Wir fordern Sie auf, den unten aufgeführten Gesamtbetrag einschließlich der "
            f"Verzugszinsen und Kosten bis zum {deadline} zu überweisen.",
        ]
    elif letter.stage == 3:
        paragraphs = [
            f"auch auf unsere Mahnung haben Sie nicht reagiert: Unsere {inv} ist weiterhin "
            "offen, und die Verzugszinsen steigen täglich.",
            f"Wir fordern Sie nachdrücklich auf, den Gesamtbetrag bis spätestens {deadline} "
            "zu zahlen.",
        ]
    else:
        paragraphs = [
            f"trotz mehrfacher Mahnung ist unsere {inv} bis heute nicht bezahlt.",
            f"Dies ist unsere letzte Mahnung. Geht der Gesamtbetrag nicht bis zum {deadline} "
            "bei uns ein, beantragen wir ohne weitere Ankündigung einen Mahnbescheid im "
            "gerichtlichen Mahnverfahren (§§ 688 ff. ZPO). Die dadurch entstehenden weiteren "
            "Kosten gehen zu Ihren Lasten.",
        ]
    return paragraphs


def amount_rows(letter: DunningLetter) -> list[tuple[str, str]]:
    """The table of the claim: invoice, payments, interest per rate period, fees, total."""
    rows = [("Rechnungsbetrag", money(letter.invoice_amount))]
    if letter.paid:
        rows.append(("bereits gezahlt", "– " + money(letter.paid)))
        rows.append(("Offener Rechnungsbetrag", money(letter.principal)))
    for p in letter.interest.periods:
        rows.append(
            (
                f"Verzugszinsen {date_de(p.start)}–{date_de(p.end)} "
                f"({p.days} Tage, {rate_de(p.rate)} p. a.)",
                money(p.amount),
            )
        )
    if letter.flat_fee:
        rows.append(("Verzugspauschale (§ 288 Abs. 5 BGB)", money(letter.flat_fee)))
    if letter.letter_fees:
        rows.append(("Mahnkosten", money(letter.letter_fees)))
    rows.append(("Gesamtbetrag", money(letter.total)))
    return rows


def info_rows(letter: DunningLetter) -> list[tuple[str, str]]:
    rows = [("Datum", date_de(letter.letter_date)), ("Rechnungsnummer", letter.invoice_number)]
    if letter.invoice_date:
        rows.append(("Rechnungsdatum", date_de(letter.invoice_date)))
    if letter.customer_number:
        rows.append(("Kundennummer", letter.customer_number))
    if letter.sender.phone:
        rows.append(("Telefon", letter.sender.phone))
    return rows


def bank_line(letter: DunningLetter) -> str:
    parts = [f"IBAN {letter.sender.iban}"] if letter.sender.iban else []
    if letter.sender.bic:
        parts.append(f"BIC {letter.sender.bic}")
    account = ", ".join(parts) if parts else "unser Konto"
    return (
        f"Bitte überweisen Sie {money(letter.total)} bis zum {date_de(letter.deadline)} auf "
        f"{account}, Verwendungszweck: Rechnung {letter.invoice_number}."
    )


def footer_lines(sender: Letterhead) -> list[str]:
    first = " · ".join(p for p in (sender.name, sender.street, sender.place) if p)
    contact = " · ".join(
        p
        for p in (
            f"Tel. {sender.phone}" if sender.phone else None,
            sender.email,
            f"USt-IdNr. {sender.vat_id}" if sender.vat_id else None,
        )
        if p
    )
    bank = " · ".join(
        p
        for p in (
            f"IBAN {sender.iban}" if sender.iban else None,
            f"BIC {sender.bic}" if sender.bic else None,
        )
        if p
    )
    return [line for line in (first, contact, bank) if line]


def return_line(sender: Letterhead) -> str:
    """Rücksendeangabe above the window address."""
    return " · ".join(p for p in (sender.name, sender.street, sender.place) if p)


def letter_lines(letter: DunningLetter) -> list[str]:
    """The letter's full text in reading order (the archive's search text)."""
    lines = [letter.sender.name, return_line(letter.sender), *letter.recipient.lines()]
    lines += [f"{label}: {value}" for label, value in info_rows(letter)]
    lines += [letter.subject, "", "Sehr geehrte Damen und Herren,", ""]
    for paragraph in body_paragraphs(letter):
        lines += [paragraph, ""]
    lines += [f"{label}: {value}" for label, value in amount_rows(letter)]
    lines += ["", bank_line(letter), "", "Mit freundlichen Grüßen", "", letter.sender.name]
    lines += ["", *footer_lines(letter.sender)]
    return lines


def letter_text(letter: DunningLetter) -> str:
    return "\n".join(letter_lines(letter))


class _Page:
    """Top-down drawing in millimetres-from-the-top, as DIN 5008 gives its positions."""

    def __init__(self, canvas: Canvas, letter: DunningLetter) -> None:
        self.c = canvas
        self.letter = letter
        self.page = 1

    def text(self, x: float, top: float, text: str, size: float = 10, bold: bool = False) -> None:
        self.c.setFont(BOLD if bold else FONT, size)
        self.c.drawString(x, PAGE_H - top, text)

    def right(self, x: float, top: float, text: str, size: float = 10, bold: bool = False) -> None:
        self.c.setFont(BOLD if bold else FONT, size)
        self.c.drawRightString(x, PAGE_H - top, text)

    def marks(self) -> None:
        """Folding marks (105 mm, 210 mm) and punch mark (148.5 mm) at the left edge."""
        self.c.setLineWidth(0.3)
        for top, length in ((105 * mm, 5 * mm), (148.5 * mm, 7 * mm), (210 * mm, 5 * mm)):
            self.c.line(3 * mm, PAGE_H - top, 3 * mm + length, PAGE_H - top)

    def footer(self, pages: int) -> None:
        top = FOOTER_TOP
        self.c.setLineWidth(0.3)
        self.c.line(LEFT, PAGE_H - top + 3 * mm, RIGHT, PAGE_H - top + 3 * mm)
        for line in footer_lines(self.letter.sender):
            self.text(LEFT, top + 1 * mm, line, size=7)
            top += 3.2 * mm
        if pages > 1:
            self.right(RIGHT, 290 * mm, f"Seite {self.page} von {pages}", size=7)


def _draw(canvas: Canvas, letter: DunningLetter, pages: int) -> int:
    """Draw the letter; returns the number of pages used (drawn again if it differs)."""
    p = _Page(canvas, letter)
    sender = letter.sender
    # Letterhead.
    p.text(LEFT, 20 * mm, sender.name, size=16, bold=True)
    contact = [sender.street, sender.place, sender.phone and f"Tel. {sender.phone}", sender.email]
    top = 16 * mm
    for line in (c for c in contact if c):
        p.right(RIGHT, top, line, size=8)
        top += 3.6 * mm
    # Anschriftfeld: return line at the bottom of the Vermerkzone, then the recipient.
    p.text(LEFT, RETURN_LINE_BOTTOM - 2 * mm, return_line(sender), size=7)
    canvas.setLineWidth(0.3)
    baseline = PAGE_H - RETURN_LINE_BOTTOM + 1.2 * mm
    canvas.line(LEFT, baseline, LEFT + 80 * mm, baseline)
    top = ADDRESS_ZONE_TOP + LINE
    for line in letter.recipient.lines()[:6]:
        p.text(LEFT, top, line)
        top += LINE
    # Informationsblock.
    top = INFO_TOP + 3 * mm
    for label, value in info_rows(letter):
        p.text(INFO_LEFT, top, f"{label}:", size=8)
        p.text(INFO_LEFT + 29 * mm, top, value, size=8)
        top += 4 * mm
    # Betreff and body.
    p.text(LEFT, SUBJECT_TOP, letter.subject, size=11, bold=True)
    top = SUBJECT_TOP + 2 * LINE
    width = RIGHT - LEFT

    def room(needed: float) -> None:
        nonlocal top
        if top + needed > BODY_BOTTOM:
            p.marks()
            p.footer(pages)
            canvas.showPage()
            p.page += 1
            top = 25 * mm

    p.text(LEFT, top, "Sehr geehrte Damen und Herren,")
    top += 2 * LINE
    for paragraph in body_paragraphs(letter):
        for line in simpleSplit(paragraph, FONT, 10, width):
            room(LINE)
            p.text(LEFT, top, line)
            top += LINE
        top += LINE
    rows = amount_rows(letter)
    for n, (label, value) in enumerate(rows):
        last = n == len(rows) - 1
        room(LINE * (2 if last else 1))
        if last:
            canvas.line(RIGHT - 45 * mm, PAGE_H - top + 3.2 * mm, RIGHT, PAGE_H - top + 3.2 * mm)
        p.text(LEFT, top, label, bold=last)
        p.right(RIGHT, top, value, bold=last)
        top += LINE
    top += LINE
    for line in simpleSplit(bank_line(letter), FONT, 10, width):
        room(LINE)
        p.text(LEFT, top, line)
        top += LINE
    room(4 * LINE)
    top += LINE
    p.text(LEFT, top, "Mit freundlichen Grüßen")
    top += 3 * LINE
    p.text(LEFT, top, sender.name)
    p.marks()
    p.footer(pages)
    canvas.showPage()
    return p.page


@dataclass(frozen=True)
class RenderedLetter:
    pdf: bytes
    pages: int


def render(letter: DunningLetter) -> RenderedLetter:
    """The letter as a PDF (byte-identical for the same letter: invariant mode)."""
    pages = 1
    for _attempt in range(3):
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
        canvas.setTitle(f"{letter.subject} – Rechnung {letter.invoice_number}")
        canvas.setAuthor(letter.sender.name)
        canvas.setCreator("Backoffice")
        used = _draw(canvas, letter, pages)
        canvas.save()
        if used == pages:
            break
        pages = used
    return RenderedLetter(buffer.getvalue(), pages)
