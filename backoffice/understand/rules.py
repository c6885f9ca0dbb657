"""Keyword and layout cues: the rule baseline classifier and the features for the model.

The same cue detectors serve twice. Without a trained model, :func:`classify_rules` adds up
weighted cues per class and turns the sums into probabilities. With a model, :func:`cue_tokens`
prepends one synthetic token per detected cue to the model's input, which gives the bag-of-words
classifier robust, OCR-tolerant evidence (cues are matched on :func:`~.normalize.fold`-ed text,
so "Mahnunq" is lost but "Rechnungsnumrner" or "0ffener Betrag" are not).

A cue found in the first lines of page 1 (the heading area) counts extra: "Mahnung" as a title
means something else than "Mahnung" in an invoice's small print.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .normalize import fold
from .schema import DOC_TYPES, OTHER_SUBTYPES, Classification


@dataclass(frozen=True)
class Cue:
    name: str
    label: str
    """Class (``invoice``, ``reminder``, ``letter``) or an ``other`` subtype."""
    pattern: re.Pattern[str]
    weight: float
    title_weight: float = 0.0


def _c(name: str, label: str, pattern: str, weight: float, title: float = 0.0) -> Cue:
    return Cue(name, label, re.compile(pattern), weight, title)


# patterns run on fold()-ed text: lower case, no umlauts, "ss"→"s", "rn"→"m"
CUES: tuple[Cue, ...] = (
    # invoices
    _c(
        "invtitle",
        "invoice",
        r"(?<![a-z])(?:rechnung|invoice|gutschrift|rechnungskorrektur)(?![a-z])",
        1.0,
        3.0,
    ),
    _c(
        "invno",
        "invoice",
        r"rechnungs-?\s?(?:nummer|nr)|rechnung\s?nr|invoice\s?(?:no|number)|beleg-?\s?nr",
        1.5,
    ),
    _c("invdate", "invoice", r"rechnungsdatum|invoice\s?date", 1.0),
    _c("service", "invoice", r"leistungsdatum|lieferdatum|leistungszeitraum", 1.0),
    _c(
        "vat",
        "invoice",
        r"(?:mwst|ust|umsatzsteuer|mehrwertsteuer|vat)\.?\s?\d{1,2}\s?%|\d{1,2}\s?%\s?(?:mwst|ust|umsatzsteuer|mehrwertsteuer|vat)",
        2.0,
    ),
    _c("net", "invoice", r"netto|nettobetrag|zwischensumme|subtotal", 1.0),
    _c("gross", "invoice", r"bruttobetrag|gesamtbetrag|rechnungsbetrag|bruttosume|endbetrag", 1.0),
    _c("terms", "invoice", r"zahlbar\s+(?:innerhalb|bis|sofort)|zahlungsziel|skonto", 1.5),
    _c("items", "invoice", r"einzelpreis|menge|pos\.|artikel|stk|stuck", 0.7),
    _c("taxid", "invoice", r"ust-?\s?id|steuemummer|steuer-?nr|st\.?-?nr", 0.5),
    _c("reverse", "invoice", r"steuerschuldnerschaft|reverse\s?charge", 1.0),
    # reminders
    _c(
        "mahnung",
        "reminder",
        r"(?<![a-z])(?:\d\.\s?|erste|zweite|dritte|letzte)?\s?mahnung",
        3.0,
        4.0,
    ),
    _c("erinnerung", "reminder", r"zahlungserinnerung|erinnerung|payment\s?reminder", 2.5, 3.0),
    _c(
        "overdue",
        "reminder",
        r"uberfalig|uberschrit|verzug|noch\s?(?:nicht|kein)\w*\s?(?:beglichen|bezahlt|eingegangen)|ubersehen|ausstehend|offen(?:e|er|en)?\s?(?:betrag|forderung|posten|rechnung)",
        2.0,
    ),
    _c("fees", "reminder", r"mahngebuhr|mahnkosten|verzugszins|verzugspauschale", 2.5),
    _c("court", "reminder", r"mahnbescheid|mahnverfahren|inkasso|gerichtlich", 1.5),
    _c("remind_ref", "reminder", r"unsere(?:r)?\s+rechnung\s+(?:nr|vom)|folgende\s+rechnung", 1.0),
    # letters
    _c("salutation", "letter", r"sehr\s+geehrte|guten\s+tag|hallo", 0.8),
    _c("closing", "letter", r"mit\s+freundlichen\s+grus|freundliche\s+grus|viele\s+grus", 0.8),
    _c(
        "subject",
        "letter",
        r"(?<![a-z])(?:betref|betr\.|ihr\s+schreiben|ihre\s+anfrage|ihr\s+zeichen)",
        1.0,
    ),
    _c(
        "letterish",
        "letter",
        r"mitteilen|informieren|bitten\s+wir|bitte\s+(?:teilen|senden|rufen)|anbei|beiliegend|termin|ruckfrage|unterlagen",
        1.0,
    ),
    # other: contracts
    _c(
        "contract",
        "contract",
        r"vertrag|vereinbarung",
        2.0,
        2.0,
    ),
    _c(
        "contract2",
        "contract",
        r"laufzeit|kundigung|vertragsbeginn|unterschrift|§\s?\d+\s|mindestlaufzeit",
        1.2,
    ),
    # other: tax office
    _c("tax", "tax_office", r"finanzamt", 3.0, 2.0),
    _c(
        "tax2",
        "tax_office",
        r"steuerbescheid|bescheid\s+fur|festsetzung|rechtsbehelfsbelehrung|einspruch|abgabenordnung|vorauszahlung|steuer-?id|identifikationsnummer",
        2.0,
    ),
    # other: bank statements
    _c("bank", "bank_statement", r"kontoauszug|kontostand|(?:alter|neuer)\s+saldo", 3.5, 2.0),
    _c(
        "bank2", "bank_statement", r"buchungstag|wertstellung|valuta|auszug\s?nr|umsatze|saldo", 1.5
    ),
    # other: advertising
    _c(
        "ad",
        "advertising",
        r"gutschein|rabatt|sonderangebot|newsletter|gratis|kostenlos|jetzt\s+(?:bestellen|sichern|entdecken|testen)|nur\s+fur\s+kurze\s+zeit|exklusiv|sparen|aktion",
        1.5,
    ),
    _c(
        "ad2",
        "advertising",
        r"abmelden|werbung|angebot\s+gilt|bestellen\s+sie|besuchen\s+sie|www\.|%\s?(?:rabatt|sparen|reduziert)",
        1.0,
    ),
)

_TITLE_LINES = 12
_PRIOR = {"invoice": 0.0, "reminder": 0.0, "letter": 1.5, "other": 0.0}
_TEMPERATURE = 2.2


def detect(text: str) -> dict[str, int]:
    """How often each cue occurs (capped at 3), plus a ``title:<cue>`` entry for heading hits."""
    folded = fold(text)
    lines = [ln for ln in folded.splitlines() if ln.strip()]
    head = "\n".join(lines[:_TITLE_LINES])
    found: dict[str, int] = {}
    for cue in CUES:
        n = len(cue.pattern.findall(folded))
        if n:
            found[cue.name] = min(n, 3)
            if cue.title_weight and cue.pattern.search(head):
                found["title:" + cue.name] = 1
    return found


def _scores(found: dict[str, int]) -> dict[str, float]:
    by_name = {c.name: c for c in CUES}
    raw: dict[str, float] = {t: 0.0 for t in (*DOC_TYPES, *OTHER_SUBTYPES)}
    for name, n in found.items():
        if name.startswith("title:"):
            cue = by_name[name[6:]]
            raw[cue.label] += cue.title_weight
        else:
            cue = by_name[name]
            raw[cue.label] += cue.weight * (1 + 0.25 * (n - 1))
    return raw


def other_subtype(text: str) -> str | None:
    """``contract``, ``tax_office``, ``bank_statement`` or ``advertising``, if any cue fits."""
    raw = _scores(detect(text))
    best = max(OTHER_SUBTYPES, key=lambda s: raw[s])
    return best if raw[best] >= 2.0 else None


def classify_rules(text: str) -> Classification:
    """Classify by weighted cues; used when no trained model is available.

    The sums are turned into probabilities with a softmax whose temperature was chosen so that
    clear cases land above 0.9 and mixed ones (a letter about an invoice) stay below the review
    threshold.
    """
    raw = _scores(detect(text))
    other = max(raw[s] for s in OTHER_SUBTYPES)
    # a reminder always quotes invoice vocabulary; a reminder cue in the title outweighs it
    class_scores = {
        "invoice": raw["invoice"],
        "reminder": raw["reminder"] * 1.3,
        "letter": raw["letter"],
        "other": other * 1.2,
    }
    logits = {k: (v + _PRIOR[k]) / _TEMPERATURE for k, v in class_scores.items()}
    top = max(logits.values())
    exp = {k: math.exp(v - top) for k, v in logits.items()}
    total = sum(exp.values())
    scores = {k: round(v / total, 4) for k, v in exp.items()}
    label = max(DOC_TYPES, key=lambda k: scores[k])
    subtype = other_subtype(text) if label == "other" else None
    return Classification(label, scores[label], scores, subtype)


def cue_tokens(text: str) -> str:
    """The detected cues as synthetic tokens (``cuemahnung``, ``cuetitlemahnung``) for the model."""
    found = detect(text)
    tokens = []
    for name, n in sorted(found.items()):
        tok = "cue" + name.replace("title:", "title").replace("_", "")
        tokens.extend([tok] * min(n, 2))
    return " ".join(tokens)
