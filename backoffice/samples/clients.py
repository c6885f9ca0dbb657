"""The office service's clients that sample post is addressed to.

A *client* here is a small firm whose post the office service handles, i.e. the **recipient** of
every generated document. Routing, the archive and the demo all key on ``SampleClient.code``.

Besides the public :class:`SampleClient` record (the shape the rest of the product codes
against), this module keeps a few private facts per demo client that only the generator needs:
who to address letters to, which trade the firm is in (so a bakery gets flour invoices and not
copper pipes), its Steuernummer for Finanzamt letters, and its bank for account statements.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class SampleClient:
    """One client of the office service, as routing and the archive know it.

    ``aliases`` are the other spellings under which senders really address this firm; the
    generator prints them now and then so that routing cannot rely on the exact legal name.
    """

    code: str
    name: str
    street: str
    zip: str
    city: str
    email: str
    aliases: tuple[str, ...]
    vat_id: str | None
    iban: str


DEMO_CLIENTS: tuple[SampleClient, ...] = (
    SampleClient(
        code="MUELLER",
        name="Müller Haustechnik GmbH",
        street="Hauptstraße 12",
        zip="70173",
        city="Stuttgart",
        email="post@mueller-haustechnik.de",
        aliases=(
            "Müller Haustechnik",
            "Fa. Müller Haustechnik GmbH",
            "Müller Haustechnik GmbH Heizung · Sanitär",
            "Mueller Haustechnik GmbH",
        ),
        vat_id="DE147283560",
        iban="DE94600501017481209306",
    ),
    SampleClient(
        code="SCHNEIDER",
        name="Bäckerei Schneider",
        street="Lindenweg 3",
        zip="50667",
        city="Köln",
        email="post@baeckerei-schneider.de",
        aliases=(
            "Bäckerei A. Schneider",
            "Bäckerei Schneider Inh. Anna Schneider",
            "Anna Schneider Bäckerei",
            "Baeckerei Schneider",
        ),
        vat_id="DE273819459",
        iban="DE44370501981902348588",
    ),
    SampleClient(
        code="KLEIN",
        name="Klein & Partner Architekten PartG mbB",
        street="Schillerplatz 7",
        zip="04109",
        city="Leipzig",
        email="post@klein-partner-architekten.de",
        aliases=(
            "Klein & Partner Architekten",
            "Klein und Partner Architekten PartG mbB",
            "Architekturbüro Klein & Partner",
            "Klein & Partner",
        ),
        vat_id="DE318456278",
        iban="DE03860555921100459238",
    ),
)


@dataclass(frozen=True)
class ClientProfile:
    """Generator-only facts about a client that do not belong in :class:`SampleClient`.

    ``trade`` picks the supplier categories whose invoices the client plausibly receives.
    ``contact`` is ``(title, full name)`` for personal salutations, e.g. ``("Frau", "Anna
    Schneider")``; ``None`` means letters go to "Sehr geehrte Damen und Herren".
    """

    trade: str
    contact: tuple[str, str] | None
    tax_number: str
    state: str
    bank_name: str
    bic: str
    chamber: str


_PROFILES: dict[str, ClientProfile] = {
    "MUELLER": ClientProfile(
        trade="haustechnik",
        contact=("Herr", "Thomas Müller"),
        tax_number="99015/28374",
        state="Baden-Württemberg",
        bank_name="BW-Bank Stuttgart",
        bic="SOLADEST600",
        chamber="Handwerkskammer",
    ),
    "SCHNEIDER": ClientProfile(
        trade="baeckerei",
        contact=("Frau", "Anna Schneider"),
        tax_number="215/5123/0457",
        state="Nordrhein-Westfalen",
        bank_name="Sparkasse KölnBonn",
        bic="COLSDE33XXX",
        chamber="Handwerkskammer",
    ),
    "KLEIN": ClientProfile(
        trade="architektur",
        contact=("Frau", "Dr. Julia Klein"),
        tax_number="231/118/04562",
        state="Sachsen",
        bank_name="Sparkasse Leipzig",
        bic="WELADE8LXXX",
        chamber="Architektenkammer",
    ),
}


def client_profile(client: SampleClient) -> ClientProfile:
    """The generator's extra facts for ``client``; stable made-up ones for unknown clients.

    Callers may pass their own clients to ``generate``; they still need a Steuernummer and a
    bank, so one is derived from a hash of the client code (not from the seed: a client keeps
    the same facts in every generated set).
    """
    known = _PROFILES.get(client.code)
    if known is not None:
        return known
    digest = hashlib.sha256(client.code.encode()).hexdigest()
    digits = "".join(str(int(ch, 16) % 10) for ch in digest[:10])
    return ClientProfile(
        trade="allgemein",
        contact=None,
        tax_number=f"{digits[:2]}/{digits[2:5]}/{digits[5:10]}",
        state="Berlin",
        bank_name="Hausbank",
        bic="",
        chamber="IHK",
    )
