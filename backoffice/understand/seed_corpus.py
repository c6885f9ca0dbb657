"""A small template-based seed corpus for the document-type classifier.

It exists so that a classifier can be trained and evaluated before (and independently of) the
product's sample generator: varied senders, amounts, dates, label wordings and dunning stages
per class, optionally with OCR-style damage (look-alike swaps, dropped and doubled letters).
The shipped ``models/textcat`` was trained on it; retrain on the sample corpus or on staff
corrections for production (see ``models/README.md``).
"""

from __future__ import annotations

import random

_COMPANIES = [
    "Gärtnerei Grünblatt GmbH",
    "Malerbetrieb Farbe & Co. KG",
    "Druckerei Schwarz AG",
    "IT-Service Nord UG (haftungsbeschränkt)",
    "Autohaus Rapid GmbH",
    "Steuerkanzlei Weiß",
    "Sanitär Meier e.K.",
    "Textilpflege Rein GmbH",
]
_CITIES = [("10115", "Berlin"), ("80331", "München"), ("50667", "Köln"), ("01067", "Dresden")]
_ITEMS = ["Wartung", "Beratung", "Material", "Lieferung Papier", "Reparatur", "Softwarelizenz"]
_OCR_SWAPS = {"o": "0", "l": "1", "e": "c", "m": "rn", "i": "l", "S": "5", "B": "8", "u": "v"}


def ocr_noise(text: str, rng: random.Random, rate: float = 0.03) -> str:
    """Look-alike swaps, dropped and doubled characters, as a scanner would produce."""
    out = []
    for ch in text:
        r = rng.random()
        if r < rate and ch in _OCR_SWAPS:
            out.append(_OCR_SWAPS[ch])
        elif r < rate * 1.3 and ch.isalpha():
            continue
        elif r < rate * 1.5 and ch.isalpha():
            out.append(ch + ch)
        else:
            out.append(ch)
    return "".join(out)


def _amount(rng: random.Random) -> tuple[str, str, str]:
    net = rng.randint(1000, 500000) / 100
    vat = round(net * 0.19, 2)

    def de(v: float) -> str:
        return f"{v:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")

    return de(net), de(vat), de(net + vat)


def _date(rng: random.Random) -> str:
    return f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.2026"


def _invoice(rng: random.Random) -> str:
    seller = rng.choice(_COMPANIES)
    zip_, city = rng.choice(_CITIES)
    net, vat, gross = _amount(rng)
    label = rng.choice(["Rechnungsnummer", "Rechnung Nr.", "Rechnungs-Nr.", "Beleg-Nr."])
    total = rng.choice(["Gesamtbetrag", "Rechnungsbetrag", "Bruttobetrag", "Zu zahlen"])
    terms = rng.choice(
        [
            "Zahlbar innerhalb 14 Tagen netto.",
            "Zahlbar sofort ohne Abzug.",
            "Bei Zahlung bis zum 20.04.2026 gewähren wir 2 % Skonto.",
            "Zahlungsziel: 30 Tage",
        ]
    )
    return (
        f"{seller} · Hauptstraße {rng.randint(1, 99)} · {zip_} {city}\n"
        f"Kunde GmbH\nRingstr. 4\n12345 Irgendwo\n\n"
        f"{rng.choice(['Rechnung', 'RECHNUNG', 'Rechnung'])}\n{label}: {rng.randint(1000, 99999)}\n"
        f"Rechnungsdatum: {_date(rng)}\nLeistungsdatum: {_date(rng)}\n\n"
        f"{rng.choice(_ITEMS)}   {rng.randint(1, 9)} Stk   {net}\n"
        f"Nettobetrag {net} €\nzzgl. 19 % USt {vat} €\n{total} {gross} €\n{terms}\n"
        f"USt-IdNr. DE136695976 · IBAN DE89 3704 0044 0532 0130 00\n"
    )


def _reminder(rng: random.Random) -> str:
    seller = rng.choice(_COMPANIES)
    _, _, gross = _amount(rng)
    title = rng.choice(
        ["Zahlungserinnerung", "1. Mahnung", "2. Mahnung", "Letzte Mahnung", "Mahnung"]
    )
    body = rng.choice(
        [
            "sicher haben Sie übersehen, dass unsere Rechnung noch offen ist.",
            "leider konnten wir bis heute keinen Zahlungseingang feststellen.",
            "trotz unserer Erinnerung ist der Betrag weiterhin offen.",
        ]
    )
    fees = rng.choice(["", "Mahngebühr 5,00 €\n", "Verzugszinsen 2,10 €\nMahngebühr 2,50 €\n"])
    threat = rng.choice(
        [
            "",
            "Andernfalls leiten wir das gerichtliche Mahnverfahren ein.\n",
            "Danach übergeben wir die Forderung an ein Inkassobüro.\n",
        ]
    )
    return (
        f"{seller}\n{_date(rng)}\n{title}\n\nSehr geehrte Damen und Herren,\n{body}\n"
        f"Rechnung Nr. {rng.randint(1000, 99999)} vom {_date(rng)} über {gross} €\n"
        f"Offener Betrag {gross} €\n{fees}"
        f"Bitte überweisen Sie den Betrag bis zum {_date(rng)}.\n{threat}"
        f"Mit freundlichen Grüßen\n{seller}\n"
    )


def _letter(rng: random.Random) -> str:
    sender = rng.choice(_COMPANIES)
    topic = rng.choice(
        [
            ("Terminbestätigung", "wir bestätigen Ihnen gerne den Termin am {d} um 10 Uhr."),
            (
                "Ihre Anfrage",
                "vielen Dank für Ihre Anfrage. Anbei erhalten Sie die gewünschten Unterlagen.",
            ),
            (
                "Änderung unserer Bankverbindung",
                "bitte beachten Sie, dass sich unsere Bankverbindung ab {d} ändert.",
            ),
            (
                "Umzug",
                "wir möchten Ihnen mitteilen, dass wir ab dem {d} in neuen Räumen für Sie da sind.",
            ),
            (
                "Rückfrage zu Ihrer Rechnung",
                "zu Ihrer Rechnung vom {d} haben wir eine Rückfrage. Bitte rufen Sie uns an.",
            ),
        ]
    )
    subject, body = topic
    return (
        f"{sender}\n{_date(rng)}\nBetreff: {subject}\n\nSehr geehrte Damen und Herren,\n"
        f"{body.format(d=_date(rng))}\nFür Rückfragen stehen wir gerne zur Verfügung.\n\n"
        f"Mit freundlichen Grüßen\n{sender}\n"
    )


def _other(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return (
            f"Finanzamt {rng.choice(_CITIES)[1]}\nSteuernummer 214/5678/1234\n"
            f"Bescheid über Umsatzsteuer-Vorauszahlungen für {rng.randint(2020, 2025)}\n"
            "Rechtsbehelfsbelehrung: Gegen diesen Bescheid ist der Einspruch gegeben.\n"
        )
    if kind == 1:
        return (
            f"Kontoauszug Nr. {rng.randint(1, 12)}/2026\nBuchungstag Wertstellung Betrag\n"
            f"{_date(rng)} {_date(rng)} Lastschrift -{_amount(rng)[0]}\n"
            f"Alter Saldo {_amount(rng)[2]}\nNeuer Saldo {_amount(rng)[2]}\n"
        )
    if kind == 2:
        return (
            f"Jetzt {rng.randint(10, 50)} % Rabatt sichern! "
            "Gutschein für Ihre nächste Bestellung.\n"
            "Nur für kurze Zeit. Kostenlose Lieferung. Newsletter abmelden.\n"
        )
    return (
        f"Wartungsvertrag Nr. {rng.randint(100, 999)}\n"
        f"zwischen {rng.choice(_COMPANIES)} und dem Kunden\n"
        "§ 1 Vertragsgegenstand\n§ 2 Laufzeit und Kündigung: Mindestlaufzeit 24 Monate.\n"
        "Unterschrift Auftraggeber    Unterschrift Auftragnehmer\n"
    )


def synthetic_corpus(n_per_class: int, seed: int = 0, noise: float = 0.0) -> list[tuple[str, str]]:
    """Varied examples per class; with ``noise`` > 0 every text is OCR-damaged."""
    rng = random.Random(seed)
    makers = {"invoice": _invoice, "reminder": _reminder, "letter": _letter, "other": _other}
    out = []
    for label, make in makers.items():
        for _ in range(n_per_class):
            text = make(rng)
            if noise:
                text = ocr_noise(text, rng, noise)
            out.append((text, label))
    rng.shuffle(out)
    return out
