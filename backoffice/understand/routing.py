"""Which client a piece of post is for: the recipient, read from the address on page 1.

Evidence, strongest first:

1. a hint from outside the page: the code on a separator sheet, or the mailbox the e-mail came
   to. It wins over anything printed on the page.
2. the recipient block (DIN 5008 address field, see :mod:`.address`), fuzzily matched against
   each client's name and aliases, street, postal code and city, tolerant to OCR damage;
3. a client's customer number at the sender, anywhere on page 1 (stronger next to a
   "Kundennummer" label).

The pieces are combined as independent evidence (noisy-OR). A client mentioned only in the
sender's letterhead, return line or footer gets no credit, because clients write to each other.
Only when no client is the recipient does the issuer count: a page whose letterhead or return
line carries one client's name *and* postal address is that client's own paper (an outgoing
invoice, a copy of its letter) and is filed for it (see :func:`_issuer`). Below the
threshold, or with a runner-up too close to the winner, the answer is "no client" with the
candidates listed for staff: never a silent guess.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from rapidfuzz import fuzz

from .address import ZIP_CITY_RE, PageOneZones, page_one_zones
from .layout import Line, lines_from_text, lines_from_words
from .normalize import fix_digit_lookalikes
from .schema import ClientProfile, Routing, WordLike

AMBIGUITY_MARGIN = 0.10
"""Winner and runner-up closer than this count as ambiguous."""

_LEGAL_FORMS = re.compile(
    r"\b(?:gmbh|mbh|ag|kg|kgaa|ug|haftungsbeschrankt|ohg|gbr|ek|e\s?k|ev|e\s?v|se|co|"
    r"partg|partgmbb|ltd|inc|llc|gesellschaft|mit|beschrankter|haftung|und|u)\b"
)
_UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "s"})
_BLOCK_WEIGHT = {
    "din5008": 1.0,
    "return_line": 1.0,
    "label": 1.0,
    "second_address": 0.97,
    "only_address": 0.92,
    "none": 0.85,
}


def _norm(text: str) -> str:
    """Lower-case, umlaut-folded, punctuation-free; OCR look-alike digits in words undone."""
    t = text.lower().replace("ae", "a").replace("oe", "o").replace("ue", "u")
    t = t.translate(_UMLAUTS).replace("ss", "s")
    t = re.sub(r"(?<=[a-z])[0](?=[a-z])", "o", t)
    t = re.sub(r"(?<=[a-z])5(?=[a-z])|\b5(?=tr)", "s", t)
    t = re.sub(r"(?<=[a-z])[1|](?=[a-z])|(?<=[a-z])[1|]\b", "l", t)
    t = t.replace("&", " ")
    t = re.sub(r"[^\w\s]", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def _core(name: str) -> str:
    """A normalised name without legal-form words ("Müller Bau GmbH & Co. KG" → "muller bau")."""
    return re.sub(r"\s+", " ", _LEGAL_FORMS.sub(" ", name)).strip()


def _norm_street(text: str) -> str:
    t = _norm(text)
    t = re.sub(r"stra?s?e\b|str\b", "str", t)
    return re.sub(r"\s+", "", t)


def name_similarity(name: str, line: str) -> float:
    """How well ``line`` spells ``name`` (0..1), allowing OCR typos and extra words."""
    n, candidate = _norm(name), _norm(line)
    if not n or not candidate:
        return 0.0
    best = max(fuzz.ratio(n, candidate), fuzz.token_sort_ratio(n, candidate))
    if len(candidate) > len(n) + 4 and len(n) >= 8:
        best = max(best, 0.95 * fuzz.partial_ratio(n, candidate))
    cn, cl = _core(n), _core(candidate)
    if len(cn) >= 4 and cl:
        specific = " " in cn or len(cn) >= 8
        best = max(best, (0.97 if specific else 0.9) * fuzz.ratio(cn, cl))
    return best / 100.0


def _candidate_texts(lines: Sequence[Line]) -> list[str]:
    """Single lines and pairs of neighbouring lines (names broken over two lines)."""
    texts = [line.text.strip() for line in lines if line.text.strip()]
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(texts)]
    return texts + pairs


def _address_score(client: ClientProfile, lines: Sequence[Line]) -> tuple[float, float]:
    """Share of the client's postal address found in the block (0..1), and a factor below 1
    when the block carries a *different* postal code and city (evidence against the client)."""
    if not (client.zip or client.street or client.city):
        return 0.0, 1.0
    score = 0.0
    block = "\n".join(fix_digit_lookalikes(line.text) for line in lines)
    zip_ok = bool(client.zip and re.search(rf"(?<!\d){re.escape(client.zip)}(?!\d)", block))
    if zip_ok:
        score += 0.45
    cities = [m.group(2).strip() for m in ZIP_CITY_RE.finditer(block)]
    city_ok = False
    if client.city:
        if any(fuzz.ratio(_norm(client.city), _norm(c)) >= 85 for c in cities):
            score += 0.2
            city_ok = True
        elif any(fuzz.partial_ratio(_norm(client.city), _norm(c)) >= 90 for c in cities):
            score += 0.15
            city_ok = True
    against = 1.0
    if client.zip and cities and not zip_ok:
        against = 0.9 if city_ok else 0.7
    if client.street:
        target = _norm_street(client.street)
        if any(
            fuzz.ratio(target, _norm_street(line.text)) >= 85
            or (len(target) >= 8 and fuzz.partial_ratio(target, _norm_street(line.text)) >= 90)
            for line in lines
        ):
            score += 0.35
    return min(score, 1.0), against


def _customer_number_score(client: ClientProfile, lines: Sequence[Line]) -> float:
    best = 0.0
    for number in client.customer_numbers:
        num = re.sub(r"\s", "", number)
        if len(num) < 3:
            continue
        pattern = re.compile(rf"(?<![\w-]){re.escape(num)}(?![\w-])", re.IGNORECASE)
        for line in lines:
            text = fix_digit_lookalikes(line.text)
            squeezed = re.sub(r"(?<=\w) (?=\w)", "", text)
            if pattern.search(text) or pattern.search(squeezed):
                labelled = re.search(
                    r"(?i)kunden|kd\.?-?\s?nr|customer|debitor|mitglied|vertrags", text
                )
                best = max(best, 0.9 if labelled else (0.6 if len(num) >= 6 else 0.3))
    return best


def _score_client(
    client: ClientProfile, zones: PageOneZones, all_lines: Sequence[Line]
) -> tuple[float, str]:
    block = zones.recipient_lines()
    weight = _BLOCK_WEIGHT.get(zones.method, 0.85)
    if not block:
        sender = {id(line) for line in zones.sender_lines()}
        block = [line for line in all_lines[:40] if id(line) not in sender]
        weight = _BLOCK_WEIGHT["none"]
    texts = _candidate_texts(block)
    names = (client.name, *client.aliases)
    name_sim = max((name_similarity(n, t) for n in names for t in texts), default=0.0)
    name_conf = min(max((name_sim - 0.6) / 0.35, 0.0), 1.0)
    addr, against = _address_score(client, block)
    p_name = 0.93 * name_conf * weight * against
    p_addr = 0.6 * addr * weight
    p_cust = _customer_number_score(client, all_lines)
    score = 1.0 - (1.0 - p_name) * (1.0 - p_addr) * (1.0 - p_cust)
    parts = []
    if p_name > 0:
        parts.append(f"Name {name_sim:.2f}")
    if p_addr > 0:
        parts.append(f"Anschrift {p_addr / 0.6 / weight:.2f}")
    if p_cust > 0:
        parts.append("Kundennummer")
    return score, ", ".join(parts) or "keine Übereinstimmung"


def _match_hint_address(address: str, clients: Sequence[ClientProfile]) -> ClientProfile | None:
    addr = address.strip().lower()
    for c in clients:
        if any(addr == e.strip().lower() for e in c.emails):
            return c
    local = addr.split("@", 1)[0]
    tags = {local, *local.split("+")[1:], *re.split(r"[.+_-]", local)}
    hits = [c for c in clients if c.code.lower() in tags]
    return hits[0] if len(hits) == 1 else None


ISSUER_CONFIDENCE = 0.9
"""Confidence of routing by issuer: certain identity, but a weaker kind of evidence."""
RECIPIENT_DOUBT = 0.3
"""Recipient evidence for another client from this score on makes an issuer's paper a case
for staff: it may be addressed to that client after all (a name variant, OCR damage)."""


def _issuer(zones: PageOneZones, clients: Sequence[ClientProfile]) -> ClientProfile | None:
    """The one client whose name and address make up the sender zone of page 1, if any.

    Name alone is not enough (firms are named after towns and families); the street or postal
    code must be there too, as in every letterhead and return line.
    """
    sender = zones.sender_lines()
    if not sender:
        return None
    texts = _candidate_texts(sender)
    hits = []
    for client in clients:
        names = (client.name, *client.aliases)
        if max((name_similarity(n, t) for n in names for t in texts), default=0.0) < 0.9:
            continue
        address, _ = _address_score(client, sender)
        if address >= 0.45:
            hits.append(client)
    return hits[0] if len(hits) == 1 else None


def route_client(
    first_page_text: str,
    clients: Sequence[ClientProfile],
    *,
    hint_code: str | None = None,
    hint_address: str | None = None,
    first_page_words: Sequence[WordLike] | None = None,
    threshold: float = 0.85,
) -> Routing:
    """Decide which client page 1 is addressed to, or say that it cannot be decided.

    Returns ``client_id=None`` when the best score is below ``threshold`` or a second client
    scores within :data:`AMBIGUITY_MARGIN` of it; ``candidates`` always lists the best few.
    """
    lines = (
        lines_from_words(first_page_words, 0)
        if first_page_words
        else lines_from_text(first_page_text, 0)
    )
    zones = page_one_zones(lines, first_page_words)
    scored = sorted(
        ((c, *_score_client(c, zones, lines)) for c in clients),
        key=lambda t: (-t[1], t[0].id),
    )
    candidates = [(c.id, round(s, 3)) for c, s, _ in scored[:5] if s > 0.05]

    hinted: ClientProfile | None = None
    hint_reason = ""
    if hint_code:
        code = hint_code.strip().lower()
        hinted = next((c for c in clients if c.code.lower() == code), None)
        hint_reason = f"Trennblatt-Code {hint_code}"
    if hinted is None and hint_address:
        hinted = _match_hint_address(hint_address, clients)
        hint_reason = f"Postfach {hint_address}"
    if hinted is not None:
        confidence, reason = 1.0, hint_reason
        if scored and scored[0][0].id != hinted.id and scored[0][1] >= threshold:
            confidence = 0.9
            reason += f"; Anschrift nennt eher {scored[0][0].code}"
        return Routing(hinted.id, confidence, reason, candidates)

    if not scored:
        return Routing(None, 0.0, "keine Mandanten bekannt", [])
    best, best_score, why = scored[0]
    runner = scored[1][1] if len(scored) > 1 else 0.0
    issuer = _issuer(zones, clients) if best_score < threshold else None
    if issuer is not None and all(
        score < RECIPIENT_DOUBT for c, score, _ in scored if c.id != issuer.id
    ):
        return Routing(
            issuer.id,
            ISSUER_CONFIDENCE,
            f"{issuer.code}: eigenes Schreiben (Absender), Empfänger ist kein Mandant",
            candidates,
        )
    if best_score < threshold:
        return Routing(
            None,
            round(best_score, 3),
            f"unsicher: bester Kandidat {best.code} ({why}, {zones.method})",
            candidates,
        )
    if best_score - runner < AMBIGUITY_MARGIN:
        other = scored[1][0]
        return Routing(
            None,
            round(best_score - runner, 3),
            f"mehrdeutig: {best.code} oder {other.code}",
            candidates,
        )
    return Routing(
        best.id, round(best_score, 3), f"{best.code}: {why} ({zones.method})", candidates
    )
