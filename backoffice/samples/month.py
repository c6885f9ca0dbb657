"""A month of one client's business paper, with exact expectations for follow-ups and books.

The corpus generator (:mod:`backoffice.samples.generator`) produces post as it arrives at the
office: many clients, many senders, reminders citing invoices. Follow-ups and bookkeeping need a
different shape: *one* client's month, where incoming invoices become payables, a supplier's
reminder escalates one of them, the client's own outgoing invoices become receivables to dun,
and the bank statement at the end of the month pays some of them. :func:`generate_month`
composes exactly that with the generator's own senders, composers and layouts, writes the PDFs
and returns what should happen to each document, so that an end-to-end run can be checked
value by value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from backoffice.samples.clients import DEMO_CLIENTS, SampleClient, client_profile
from backoffice.samples.compose import Ctx, InvoiceRef, compose_invoice, compose_reminder
from backoffice.samples.content import Sender, build_sender_pool, sender_serves
from backoffice.samples.layouts import ALL_LAYOUTS, Draft, render_draft
from backoffice.samples.render import available_fonts

DEBTORS: tuple[SampleClient, ...] = (
    SampleClient(
        code="DEB-SONNENHOF",
        name="Hotel Sonnenhof GmbH",
        street="Bahnhofstraße 5",
        zip="70178",
        city="Stuttgart",
        email="buchhaltung@hotel-sonnenhof.example",
        aliases=(),
        vat_id="DE287413690",
        iban="DE02120300000000202051",
    ),
    SampleClient(
        code="DEB-KRONE",
        name="Gasthaus Krone Inh. Petra Albers",
        street="Marktplatz 2",
        zip="71032",
        city="Böblingen",
        email="info@krone-boeblingen.example",
        aliases=(),
        vat_id=None,
        iban="DE02500105170137075030",
    ),
    SampleClient(
        code="DEB-WOHNBAU",
        name="Wohnbau Neckar eG",
        street="Uferstraße 40",
        zip="72072",
        city="Tübingen",
        email="rechnungen@wohnbau-neckar.example",
        aliases=(),
        vat_id="DE811907980",
        iban="DE02700202700010108669",
    ),
)
"""Customers of the client: the recipients of its outgoing invoices (not clients of ours)."""


@dataclass(frozen=True)
class MonthDocument:
    """One generated document of the month and its ground truth."""

    kind: str
    """``incoming`` (supplier invoice), ``outgoing`` (the client's own), ``reminder``."""
    path: Path
    number: str
    issue_date: dt.date
    due_date: dt.date | None
    gross: Decimal
    counterpart: str
    """The supplier (incoming, reminder) or the customer (outgoing)."""
    counterpart_iban: str | None
    fields: dict[str, object]
    refers_to: str | None = None
    """For a reminder: the invoice number it reminds of."""


@dataclass(frozen=True)
class MonthSet:
    client: SampleClient
    first_day: dt.date
    documents: tuple[MonthDocument, ...]

    def of_kind(self, kind: str) -> list[MonthDocument]:
        return [d for d in self.documents if d.kind == kind]


def _issuer(template: Sender, client: SampleClient) -> Sender:
    """The client as the sender of its own invoices, in a supplier's house style."""
    profile = client_profile(client)
    return dataclasses.replace(
        template,
        key=f"client:{client.code}",
        name=client.name,
        street=client.street,
        zip=client.zip,
        city=client.city,
        country="DE",
        email=client.email,
        web=None,
        vat_id=client.vat_id,
        iban=client.iban,
        bic=profile.bic or None,
        bank_name=profile.bank_name,
        register=None,
        clients=(),
        small_business=False,
        language="de",
    )


def _days(first: dt.date, rng: random.Random, n: int, *, latest: int = 24) -> list[dt.date]:
    """``n`` distinct business days of the month, in order."""
    days = [first + dt.timedelta(days=k) for k in range(latest)]
    weekdays = [d for d in days if d.weekday() < 5]
    return sorted(rng.sample(weekdays, n))


def generate_month(
    out_dir: Path,
    *,
    client: SampleClient = DEMO_CLIENTS[0],
    first_day: dt.date = dt.date(2026, 3, 1),
    seed: int = 1,
    n_incoming: int = 4,
    debtors: tuple[SampleClient, ...] = DEBTORS,
) -> MonthSet:
    """Write one month of ``client``'s paper to ``out_dir`` (PDFs, born-digital).

    Incoming invoices come from German suppliers (no reverse charge), the first of them gets a
    Zahlungserinnerung dated in the last week of the month; one outgoing invoice goes to each
    debtor. Same arguments give the same files.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"backoffice-month:{seed}:{client.code}:{first_day}")
    proportional, mono = available_fonts()
    senders = build_sender_pool(rng, (client,), ALL_LAYOUTS, proportional, mono)
    suppliers = [
        s
        for s in senders
        if s.kind == "supplier"
        and sender_serves(s, client)
        and s.language == "de"
        and s.country == "DE"
        and s.category not in {"bauleistung", "steuerberatung"}
    ]
    if len(suppliers) < n_incoming:
        raise ValueError(f"only {len(suppliers)} German suppliers for {client.code}")
    chosen = rng.sample(suppliers, n_incoming)
    profile = client_profile(client)
    documents: list[MonthDocument] = []

    def write(name: str, sender: Sender, draft: Draft) -> Path:
        pdf, _ = render_draft(draft, sender.layout, sender.font)
        path = out / name
        path.write_bytes(pdf)
        return path

    for k, (supplier, day) in enumerate(
        zip(chosen, _days(first_day, rng, n_incoming), strict=True)
    ):
        ctx = Ctx(random.Random(f"{seed}:in:{k}"), client, profile, supplier, day, None)
        number = f"{supplier.key[:3].upper()}-{day:%y%m}{k + 11:03d}"
        composed, result = compose_invoice(ctx, number=number, n_lines=rng.randint(1, 4))
        path = write(f"eingang-{k + 1:02d}.pdf", supplier, composed.draft)
        documents.append(
            MonthDocument(
                "incoming",
                path,
                result.number,
                result.date,
                result.due,
                result.gross,
                supplier.name,
                supplier.iban,
                dict(composed.fields),
            )
        )

    first = documents[0]
    creditor = chosen[0]
    reminder_day = first_day + dt.timedelta(days=25)
    while reminder_day.weekday() >= 5:
        reminder_day -= dt.timedelta(days=1)
    ctx = Ctx(random.Random(f"{seed}:reminder"), client, profile, creditor, reminder_day, None)
    ref = InvoiceRef(
        first.number, first.issue_date, first.due_date or first.issue_date, first.gross
    )
    composed = compose_reminder(ctx, stage=0, refs=[ref])
    documents.append(
        MonthDocument(
            "reminder",
            write("eingang-mahnung.pdf", creditor, composed.draft),
            first.number,
            reminder_day,
            None,
            first.gross,
            creditor.name,
            creditor.iban,
            dict(composed.fields),
            refers_to=first.number,
        )
    )

    issuer = _issuer(rng.choice(suppliers), client)
    for k, (debtor, day) in enumerate(
        zip(debtors, _days(first_day, rng, len(debtors), latest=10), strict=True)
    ):
        ctx = Ctx(
            random.Random(f"{seed}:out:{k}"), debtor, client_profile(debtor), issuer, day, None
        )
        number = f"AR-{day:%Y}-{k + 101:04d}"
        composed, result = compose_invoice(ctx, number=number, n_lines=rng.randint(1, 3))
        documents.append(
            MonthDocument(
                "outgoing",
                write(f"ausgang-{k + 1:02d}.pdf", issuer, composed.draft),
                result.number,
                result.date,
                result.due,
                result.gross,
                debtor.name,
                debtor.iban,
                dict(composed.fields),
            )
        )
    return MonthSet(client, first_day, tuple(documents))
