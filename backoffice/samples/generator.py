"""Generate a complete, seeded sample post corpus with exact ground truth.

One call to :func:`generate` produces what an office service receives in a few weeks: born-digital
PDFs, the same documents as scanned image-only PDFs, scanner batches with separator sheets and
blank duplex back sides, and e-mails with PDF attachments, together with ``ground_truth.json``
describing every page. The corpus serves as demo data, as test fixtures, and as training and
evaluation data for the classifier and extractors, which is why everything is reproducible from
the seed and why layouts can be held out (``layouts=``).

The work happens in phases so that cross-references are real: invoices are composed first,
then credit notes and reminders that cite those invoices (same client, same sender, later
date, matching amount), then letters and other papers; e-mail attachments are paired by sender
and client before anything is drawn.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from backoffice.intake.separator import make_separator_sheet
from backoffice.samples import formatting as fmt
from backoffice.samples.clients import DEMO_CLIENTS, SampleClient, client_profile
from backoffice.samples.compose import (
    STAGE_SUBTYPES,
    Composed,
    Ctx,
    InvoiceRef,
    InvoiceResult,
    compose_invoice,
    compose_reminder,
    credit_selection,
    customer_number_for,
    invoice_number,
    lines_from_fields,
)
from backoffice.samples.content import Sender, build_sender_pool, sender_serves
from backoffice.samples.layouts import ALL_LAYOUTS, render_draft
from backoffice.samples.letters import (
    CONTRACT_TITLES,
    compose_advertising,
    compose_bank_statement,
    compose_contract,
    compose_letter,
    compose_tax_office,
)
from backoffice.samples.mail import Attachment, build_email
from backoffice.samples.render import available_fonts
from backoffice.samples.scan import ScannedPage, Scanner, image_pdf, random_params

DOC_TYPE_MIX = (("invoice", 0.45), ("reminder", 0.20), ("letter", 0.20), ("other", 0.15))
OTHER_SUBTYPES = ("contract", "tax_office", "bank_statement", "advertising")
LETTER_KINDS = (
    ("supplier", 0.22),
    ("customer", 0.16),
    ("landlord", 0.14),
    ("insurance", 0.14),
    ("chamber", 0.12),
    ("lawyer", 0.10),
    ("tax_advisor", 0.12),
)
GOODS_CATEGORIES = frozenset(
    {
        "sanitaer_grosshandel",
        "elektro_grosshandel",
        "baeckereibedarf",
        "muehle",
        "lebensmittel",
        "reprografie",
        "buerobedarf",
        "druckerei",
        "werkzeug",
        "berufskleidung",
        "it_service",
    }
)
"""Suppliers that send adverts with product prices."""
WINDOW = (dt.date(2026, 1, 7), dt.date(2026, 6, 26))
"""Issue dates fall in this window; fixed, so that output never depends on today's date."""


@dataclass
class SampleDocument:
    """One generated document and where its files are."""

    id: str
    client_code: str
    doc_type: str
    subtype: str | None
    layout: str
    font: str
    language: str
    sender: dict[str, Any]
    pages: int
    page_texts: list[str]
    fields: dict[str, Any]
    recipient: dict[str, Any]
    features: list[str]
    channel: str
    digital_pdf: Path
    scanned_pdf: Path | None = None
    scan: dict[str, Any] | None = None

    def ground_truth(self, root: Path) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_code": self.client_code,
            "doc_type": self.doc_type,
            "subtype": self.subtype,
            "layout": self.layout,
            "font": self.font,
            "language": self.language,
            "channel": self.channel,
            "sender": self.sender,
            "recipient": self.recipient,
            "pages": self.pages,
            "page_texts": self.page_texts,
            "fields": self.fields,
            "features": self.features,
            "files": {
                "digital": self.digital_pdf.relative_to(root).as_posix(),
                "scanned": self.scanned_pdf.relative_to(root).as_posix()
                if self.scanned_pdf
                else None,
            },
            "scan": self.scan,
        }


@dataclass
class GeneratedSet:
    """The result of :func:`generate`: paths plus the ground truth also written to disk."""

    root: Path
    documents: list[SampleDocument]
    batches: list[Path]
    emails: list[Path]
    ground_truth: dict[str, Any]

    def document(self, doc_id: str) -> SampleDocument:
        for document in self.documents:
            if document.id == doc_id:
                return document
        raise KeyError(doc_id)


@dataclass
class _Plan:
    index: int
    id: str
    doc_type: str
    subtype: str | None
    client: SampleClient
    date: dt.date
    sender: Sender | None = None
    letter_kind: str | None = None
    channel: str = "paper"
    email: int | None = None
    dpi: int = 300
    composed: Composed | None = None
    invoice: InvoiceResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _quota(n: int, mix: Sequence[tuple[str, float]]) -> list[str]:
    """Largest-remainder apportionment, so small sets still show the intended mix."""
    raw = [(name, n * share) for name, share in mix]
    counts = {name: math.floor(value) for name, value in raw}
    rest = n - sum(counts.values())
    for name, _ in sorted(raw, key=lambda item: item[1] - math.floor(item[1]), reverse=True)[:rest]:
        counts[name] += 1
    return [name for name, _ in mix for _ in range(counts[name])]


def _business_day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    day = start + dt.timedelta(days=rng.randint(0, (end - start).days))
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def _next_business_day(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _weighted(rng: random.Random, options: Sequence[tuple[Any, float]]) -> Any:
    total = sum(weight for _, weight in options)
    pick = rng.uniform(0, total)
    for value, weight in options:
        pick -= weight
        if pick <= 0:
            return value
    return options[-1][0]


class _Corpus:
    """Shared state while generating: the sender pool, clients and issued invoice numbers."""

    def __init__(
        self, seed: int, rng: random.Random, clients: Sequence[SampleClient], senders: list[Sender]
    ) -> None:
        self.seed = seed
        self.rng = rng
        self.clients = list(clients)
        self.senders = senders
        self.used_numbers: set[tuple[str, str]] = set()

    def number(self, sender: Sender, day: dt.date) -> str:
        k = 0
        while True:
            candidate = invoice_number(sender, day, k)
            if (sender.key, candidate) not in self.used_numbers:
                self.used_numbers.add((sender.key, candidate))
                return candidate
            k += 1

    def suppliers(self, client: SampleClient, *, german: bool = False) -> list[Sender]:
        return [
            s
            for s in self.senders
            if s.kind == "supplier"
            and sender_serves(s, client)
            and (not german or s.language == "de")
        ]

    def invoice_sender(self, rng: random.Random, client: SampleClient) -> Sender:
        trade = client_profile(client).trade
        options = []
        for sender in self.suppliers(client):
            weight = 3.0 if trade in sender.trades and len(sender.trades) < 4 else 1.0
            if sender.language == "en":
                weight = 1.2
            options.append((sender, weight))
        chosen: Sender = _weighted(rng, options)
        return chosen

    def of_kind(self, kind: str, client: SampleClient) -> list[Sender]:
        if kind == "tax_advisor":
            return [
                s for s in self.suppliers(client, german=True) if s.category == "steuerberatung"
            ]
        if kind == "supplier":
            return [
                s for s in self.suppliers(client, german=True) if s.category != "steuerberatung"
            ]
        return [s for s in self.senders if s.kind == kind and sender_serves(s, client)]

    def ctx(self, plan: _Plan, sender: Sender, date: dt.date | None = None) -> Ctx:
        rng = random.Random(f"{self.seed}:{plan.id}:compose")
        customer = None
        if sender.style.shows_customer_number and sender.kind in {"supplier", "insurance"}:
            customer = customer_number_for(self.seed, sender, plan.client)
        return Ctx(
            rng,
            plan.client,
            client_profile(plan.client),
            sender,
            date or plan.date,
            customer,
        )


def _validate(
    *,
    n_documents: int,
    clients: Sequence[SampleClient],
    batch_size: int,
    n_emails: int,
    dpi_choices: Sequence[int],
    layouts: Sequence[str] | None,
) -> tuple[str, ...]:
    if n_documents < 0 or n_emails < 0:
        raise ValueError("n_documents and n_emails must not be negative")
    if not clients:
        raise ValueError("at least one client is needed")
    if len({c.code for c in clients}) != len(clients):
        raise ValueError("client codes must be unique")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if not dpi_choices or any(d < 72 or d > 600 for d in dpi_choices):
        raise ValueError("dpi_choices must be non-empty and between 72 and 600")
    if layouts is None:
        return ALL_LAYOUTS
    unknown = sorted(set(layouts) - set(ALL_LAYOUTS))
    if unknown or not layouts:
        raise ValueError(f"unknown or empty layouts {unknown}; choose from {ALL_LAYOUTS}")
    return tuple(dict.fromkeys(layouts))


def _plan_documents(corpus: _Corpus, n_documents: int) -> list[_Plan]:
    rng = corpus.rng
    types = _quota(n_documents, DOC_TYPE_MIX)
    rng.shuffle(types)
    clients = [corpus.clients[i % len(corpus.clients)] for i in range(n_documents)]
    rng.shuffle(clients)
    n_invoices = types.count("invoice")
    n_credit = round(n_invoices * 0.08) if n_invoices >= 6 else 0
    credit_slots = set(rng.sample(range(n_invoices), n_credit)) if n_credit else set()
    other_cycle = list(OTHER_SUBTYPES)
    rng.shuffle(other_cycle)
    plans: list[_Plan] = []
    invoice_i = other_i = 0
    for index, (doc_type, client) in enumerate(zip(types, clients, strict=True)):
        plan = _Plan(
            index, f"doc-{index + 1:04d}", doc_type, None, client, _business_day(rng, *WINDOW)
        )
        if doc_type == "invoice":
            if invoice_i in credit_slots:
                plan.subtype = "credit_note"
            else:
                plan.sender = corpus.invoice_sender(rng, client)
            invoice_i += 1
        elif doc_type == "letter":
            kinds = [(k, w) for k, w in LETTER_KINDS if corpus.of_kind(k, client)]
            plan.letter_kind = _weighted(rng, kinds)
            assert plan.letter_kind is not None
            plan.sender = rng.choice(corpus.of_kind(plan.letter_kind, client))
        elif doc_type == "other":
            plan.subtype = other_cycle[other_i % len(other_cycle)]
            other_i += 1
            plan.sender = _other_sender(corpus, rng, plan)
        elif doc_type == "reminder":
            weights = ((0, 0.35), (1, 0.30), (2, 0.20), (3, 0.15))
            plan.extra["stage"] = _weighted(rng, weights)
        plans.append(plan)
    return plans


def _other_sender(corpus: _Corpus, rng: random.Random, plan: _Plan) -> Sender:
    client = plan.client
    if plan.subtype == "tax_office":
        return corpus.of_kind("tax_office", client)[0]
    if plan.subtype == "bank_statement":
        return corpus.of_kind("bank", client)[0]
    if plan.subtype == "contract":
        options = [
            s for s in corpus.suppliers(client, german=True) if s.category in CONTRACT_TITLES
        ]
        options += corpus.of_kind("landlord", client)
        return rng.choice(options)
    suppliers = corpus.suppliers(client, german=True)
    goods = [s for s in suppliers if s.category in GOODS_CATEGORIES]
    return rng.choice(goods or suppliers)


def _plan_emails(
    corpus: _Corpus, plans: list[_Plan], n_emails: int, max_documents: int
) -> list[list[_Plan]]:
    """Pick e-mailed documents: an invoice, letter or contract, sometimes with a second one
    from the same sender to the same client (documents are re-pointed at planning time).

    At most ``max_documents`` go by e-mail, so that small scanned sets still have paper post.
    """
    rng = corpus.rng
    candidates = [
        p
        for p in plans
        if p.sender is not None
        and p.doc_type in {"invoice", "letter", "other"}
        and p.subtype not in {"tax_office", "bank_statement", "credit_note"}
    ]
    rng.shuffle(candidates)
    emails: list[list[_Plan]] = []
    taken: set[str] = set()
    for first in candidates:
        if len(emails) >= n_emails or len(taken) >= max_documents:
            break
        if first.id in taken:
            continue
        group = [first]
        taken.add(first.id)
        if first.doc_type == "invoice" and rng.random() < 0.4 and len(taken) < max_documents:
            partners = [
                p
                for p in candidates
                if p.id not in taken and p.doc_type == "invoice" and p.subtype is None
            ]
            if partners:
                second = rng.choice(partners)
                second.client = first.client
                second.sender = first.sender
                group.append(second)
                taken.add(second.id)
        for plan in group:
            plan.channel = "email"
            plan.email = len(emails)
        emails.append(group)
    return emails


def _compose_all(corpus: _Corpus, plans: list[_Plan]) -> None:
    # Phase 1: ordinary invoices.
    for plan in plans:
        if plan.doc_type == "invoice" and plan.subtype is None:
            assert plan.sender is not None
            ctx = corpus.ctx(plan, plan.sender)
            rng = ctx.rng
            reverse = plan.sender.country != "DE" or (
                plan.sender.category == "bauleistung" and rng.random() < 0.8
            )
            n_lines = _weighted(
                rng,
                (
                    (1, 0.18),
                    (rng.randint(2, 4), 0.40),
                    (rng.randint(5, 9), 0.30),
                    (rng.randint(24, 40), 0.12),
                ),
            )
            number = corpus.number(plan.sender, plan.date)
            plan.composed, plan.invoice = compose_invoice(
                ctx, number=number, reverse_charge=reverse, n_lines=n_lines
            )
    invoices = [p for p in plans if p.invoice is not None]

    # Phase 2: credit notes, preferably against a generated invoice of the same client.
    for plan in plans:
        if plan.subtype != "credit_note":
            continue
        rng = random.Random(f"{corpus.seed}:{plan.id}:plan")
        same_client = [
            p
            for p in invoices
            if p.client.code == plan.client.code
            and p.sender is not None
            and p.sender.language == "de"
        ]
        if same_client and rng.random() < 0.8:
            original = rng.choice(same_client)
            assert original.invoice is not None and original.sender is not None
            plan.sender = original.sender
            plan.date = _next_business_day(
                original.invoice.date + dt.timedelta(days=rng.randint(4, 25))
            )
            ref = InvoiceRef(
                original.invoice.number,
                original.invoice.date,
                original.invoice.date,
                original.invoice.gross,
                original.id,
            )
            assert original.composed is not None
            original_fields = original.composed.fields
            reverse = bool(original_fields["reverse_charge"])
            credit_lines = credit_selection(rng, lines_from_fields(original_fields["line_items"]))
        else:
            reverse = False
            credit_lines = None
            plan.sender = rng.choice(corpus.suppliers(plan.client, german=True))
            old = plan.date - dt.timedelta(days=rng.randint(10, 40))
            ref = InvoiceRef(corpus.number(plan.sender, old), old, old, Decimal(0))
        ctx = corpus.ctx(plan, plan.sender, plan.date)
        plan.composed, plan.invoice = compose_invoice(
            ctx,
            number=_credit_number(corpus, plan.sender, plan.date),
            credit_note=True,
            reverse_charge=reverse,
            n_lines=rng.randint(1, 3),
            credit_ref=ref,
            credit_lines=credit_lines,
        )
        plan.composed.features.append("corpus_reference" if ref.in_corpus else "external_reference")

    # Phase 3: reminders citing invoices (escalating when the same invoice is reminded twice).
    reminded: dict[str, tuple[int, dt.date]] = {}
    for plan in plans:
        if plan.doc_type != "reminder":
            continue
        rng = random.Random(f"{corpus.seed}:{plan.id}:plan")
        stage = int(plan.extra["stage"])
        open_invoices = [p for p in invoices if _remindable(p, plan.client)]
        refs: list[InvoiceRef] = []
        previous: dt.date | None = None
        if open_invoices and rng.random() < 0.75:
            original = rng.choice(open_invoices)
            assert original.invoice is not None and original.invoice.due is not None
            assert original.sender is not None
            sender = original.sender
            if original.id in reminded:
                last_stage, last_date = reminded[original.id]
                stage = min(last_stage + 1, 3)
                previous = last_date
                date = _next_business_day(last_date + dt.timedelta(days=rng.randint(12, 21)))
            else:
                date = _next_business_day(
                    original.invoice.due + dt.timedelta(days=rng.randint(5, 25) + 14 * stage)
                )
            refs.append(
                InvoiceRef(
                    original.invoice.number,
                    original.invoice.date,
                    original.invoice.due,
                    original.invoice.gross,
                    original.id,
                )
            )
            reminded[original.id] = (stage, date)
        else:
            sender = rng.choice(corpus.suppliers(plan.client, german=True))
            date = plan.date
        while len(refs) < 1 or (len(refs) < 3 and rng.random() < 0.25):
            old = _business_day(rng, date - dt.timedelta(days=95), date - dt.timedelta(days=35))
            due = old + dt.timedelta(days=rng.choice((14, 30)))
            amount = Decimal(rng.randint(4000, 480000)) / 100
            refs.append(InvoiceRef(corpus.number(sender, old), old, due, amount))
        refs.sort(key=lambda r: r.date)
        if stage >= 2 and previous is None:
            previous = date - dt.timedelta(days=rng.randint(14, 28))
        plan.sender = sender
        plan.date = date
        plan.extra["stage"] = stage
        plan.subtype = STAGE_SUBTYPES[stage]
        plan.composed = compose_reminder(
            corpus.ctx(plan, sender, date), stage=stage, refs=refs, previous=previous
        )

    # Phase 4: letters and the rest.
    for plan in plans:
        if plan.composed is not None:
            continue
        assert plan.sender is not None
        ctx = corpus.ctx(plan, plan.sender)
        if plan.doc_type == "letter":
            assert plan.letter_kind is not None
            plan.composed = compose_letter(ctx, plan.letter_kind)
        elif plan.subtype == "contract":
            plan.composed = compose_contract(ctx)
        elif plan.subtype == "tax_office":
            plan.composed = compose_tax_office(ctx)
        elif plan.subtype == "bank_statement":
            plan.composed = compose_bank_statement(ctx, corpus.senders)
        else:
            plan.composed = compose_advertising(ctx)


def _remindable(plan: _Plan, client: SampleClient) -> bool:
    if plan.client.code != client.code or plan.invoice is None or plan.composed is None:
        return False
    if plan.invoice.is_credit_note or plan.invoice.due is None or plan.sender is None:
        return False
    return plan.sender.language == "de" and not plan.composed.fields.get("direct_debit")


def _credit_number(corpus: _Corpus, sender: Sender, day: dt.date) -> str:
    number = corpus.number(sender, day)
    digits = re.sub(r"\D", "", number)[-5:]
    return f"GS-{day.year}-{digits}"


def _email_text(plans: list[_Plan], rng: random.Random) -> tuple[str, str, list[str]]:
    first = plans[0]
    assert first.composed is not None and first.sender is not None
    fields = first.composed.fields
    sender = first.sender
    english = sender.language == "en"
    names: list[str] = []
    if first.doc_type == "invoice":
        numbers = [str(p.composed.fields["invoice_number"]) for p in plans if p.composed]
        if english:
            subject = f"Invoice {', '.join(numbers)} from {sender.name}"
            intro = (
                f"please find attached our invoice{'s' if len(numbers) > 1 else ''} "
                f"{', '.join(numbers)}."
            )
        else:
            subject = rng.choice(
                (
                    f"Rechnung {numbers[0]}"
                    if len(numbers) == 1
                    else f"Rechnungen {', '.join(numbers)}",
                    f"Ihre Rechnung{'en' if len(numbers) > 1 else ''} von {sender.name}",
                    f"{sender.name}: Rechnung {', '.join(numbers)}",
                )
            )
            intro = rng.choice(
                (
                    f"anbei erhalten Sie unsere Rechnung{'en' if len(numbers) > 1 else ''} "
                    f"{', '.join(numbers)} als PDF.",
                    "im Anhang finden Sie "
                    f"{'die Rechnungen' if len(numbers) > 1 else 'die Rechnung'} "
                    f"{', '.join(numbers)}. Bitte leiten Sie diese an Ihre Buchhaltung weiter.",
                )
            )
        for number in numbers:
            prefix = "Invoice" if english else rng.choice(("Rechnung", "RE", "Rechnung"))
            names.append(f"{prefix}_{re.sub(r'[^A-Za-z0-9-]+', '_', number)}.pdf")
    elif first.subtype == "contract":
        subject = f"Vertragsunterlagen {fields['contract_number']}"
        intro = (
            "anbei erhalten Sie den Vertrag zur Unterschrift. Bitte senden Sie uns ein "
            "unterschriebenes Exemplar zurück."
        )
        names.append(f"Vertrag_{fields['contract_number']}.pdf")
    else:
        subject = str(fields.get("subject", "Schreiben"))
        intro = rng.choice(
            (
                "anbei erhalten Sie unser Schreiben mit der Bitte um Kenntnisnahme.",
                "im Anhang senden wir Ihnen unser heutiges Schreiben.",
                "bitte beachten Sie das beigefügte Schreiben.",
            )
        )
        names.append(
            rng.choice(
                (
                    "Schreiben.pdf",
                    f"Schreiben_{first.date:%Y%m%d}.pdf",
                    f"scan_{rng.randint(1000, 9999)}.pdf",
                )
            )
        )
    greeting = "Dear Sir or Madam," if english else "Sehr geehrte Damen und Herren,"
    closing = (
        "Kind regards"
        if english
        else rng.choice(("Mit freundlichen Grüßen", "Viele Grüße", "Beste Grüße"))
    )
    text = intro[0].upper() + intro[1:] if english else intro
    body = (
        f"{greeting}\n\n{text}\n\n{closing}\n\n{sender.name}\n{sender.street}\n{sender.zip} "
        f"{sender.city}\n{'Phone' if english else 'Tel.'} {sender.phone}\n"
    )
    while len(names) < len(plans):
        names.append(f"Anlage_{len(names) + 1}.pdf")
    return subject, body, names


def _clean(root: Path) -> None:
    """Remove files of an earlier run (only our own naming patterns) so the set is exact."""
    patterns = (
        ("digital", "doc-*.pdf"),
        ("scanned", "doc-*.pdf"),
        ("batches", "batch-*.pdf"),
        ("email", "msg-*.eml"),
    )
    for folder, pattern in patterns:
        for path in (root / folder).glob(pattern):
            path.unlink()
    truth = root / "ground_truth.json"
    if truth.exists():
        truth.unlink()


def generate(
    out_dir: Path,
    *,
    seed: int = 1,
    n_documents: int = 12,
    clients: Sequence[SampleClient] = DEMO_CLIENTS,
    scanned: bool = True,
    batch_size: int = 6,
    n_emails: int = 2,
    dpi_choices: Sequence[int] = (200, 300),
    progress: Callable[[int, int], None] | None = None,
    layouts: Sequence[str] | None = None,
) -> GeneratedSet:
    """Write a sample post corpus to ``out_dir`` and return what was written.

    Same arguments give byte-identical files. ``layouts`` restricts the house styles used (see
    :data:`~backoffice.samples.layouts.ALL_LAYOUTS`), e.g. to hold some out for evaluation.
    ``progress(done, total)`` is called after each written document, scan, batch and e-mail.
    """
    allowed = _validate(
        n_documents=n_documents,
        clients=clients,
        batch_size=batch_size,
        n_emails=n_emails,
        dpi_choices=dpi_choices,
        layouts=layouts,
    )
    root = Path(out_dir)
    for folder in ("digital", "scanned", "batches", "email"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    _clean(root)

    rng = random.Random(f"backoffice-samples:{seed}")
    proportional, mono = available_fonts()
    senders = build_sender_pool(rng, clients, allowed, proportional, mono)
    corpus = _Corpus(seed, rng, clients, senders)
    plans = _plan_documents(corpus, n_documents)
    email_groups = _plan_emails(
        corpus, plans, n_emails, n_documents // 2 if scanned else n_documents
    )
    _compose_all(corpus, plans)

    paper = [p for p in plans if p.channel == "paper"]
    batch_rng = random.Random(f"backoffice-samples:{seed}:batches")
    batch_rng.shuffle(paper)
    batches_plan = (
        [paper[i : i + batch_size] for i in range(0, len(paper), batch_size)] if scanned else []
    )
    for group in batches_plan:
        dpi = batch_rng.choice(list(dpi_choices))
        for plan in group:
            plan.dpi = dpi
    for plan in plans:
        if plan.channel == "email":
            plan.dpi = random.Random(f"{seed}:{plan.id}:dpi").choice(list(dpi_choices))

    total = len(plans) * (2 if scanned else 1) + len(batches_plan) + len(email_groups)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    documents: list[SampleDocument] = []
    pdfs: dict[str, bytes] = {}
    for plan in plans:
        composed = plan.composed
        assert composed is not None and plan.sender is not None
        pdf, texts = render_draft(composed.draft, plan.sender.layout, plan.sender.font)
        pdfs[plan.id] = pdf
        path = root / "digital" / f"{plan.id}.pdf"
        path.write_bytes(pdf)
        documents.append(
            SampleDocument(
                id=plan.id,
                client_code=plan.client.code,
                doc_type=composed.doc_type,
                subtype=composed.subtype,
                layout=plan.sender.layout,
                font=plan.sender.font,
                language=plan.sender.language if composed.doc_type == "invoice" else "de",
                sender=plan.sender.ground_truth(),
                pages=len(texts),
                page_texts=texts,
                fields=composed.fields,
                recipient=composed.recipient,
                features=sorted(set(composed.features)),
                channel=plan.channel,
                digital_pdf=path,
            )
        )
        tick()

    scans: dict[str, list[ScannedPage]] = {}
    batch_paths: list[Path] = []
    batch_truth: list[dict[str, Any]] = []
    if scanned:
        with Scanner() as scanner:
            pending: dict[str, list[Future[ScannedPage]]] = {}
            for plan, document in zip(plans, documents, strict=True):
                params = random_params(
                    random.Random(f"{seed}:{plan.id}:scan"), document.pages, plan.dpi
                )
                document.scan = params.ground_truth()
                pending[plan.id] = scanner.scan(pdfs[plan.id], params, (seed, plan.index))
            for plan, document in zip(plans, documents, strict=True):
                scans[plan.id] = [future.result() for future in pending.pop(plan.id)]
                path = root / "scanned" / f"{plan.id}.pdf"
                path.write_bytes(image_pdf(scans[plan.id]))
                document.scanned_pdf = path
                tick()
            separator_cache: dict[str | None, bytes] = {}
            for number, group in enumerate(batches_plan, start=1):
                slots: list[Future[ScannedPage] | ScannedPage] = []
                entries: list[dict[str, Any]] = []
                dpi = group[0].dpi
                for slot, plan in enumerate(group):
                    slot_rng = random.Random(f"{seed}:batch{number}:{slot}")
                    code = plan.client.code if slot_rng.random() < 0.6 else None
                    if code not in separator_cache:
                        separator_cache[code] = make_separator_sheet(code)
                    sep_params = random_params(slot_rng, 1, dpi, upside_down_rate=0.1)
                    slots.extend(
                        scanner.scan(
                            separator_cache[code], sep_params, (seed, 10_000 + number, slot)
                        )
                    )
                    entries.append(
                        {
                            "kind": "separator",
                            "client_code": code,
                            "upside_down": bool(sep_params.upside_down_pages),
                        }
                    )
                    for page_no, page in enumerate(scans[plan.id], start=1):
                        slots.append(page)
                        entries.append(
                            {
                                "kind": "document",
                                "id": plan.id,
                                "page": page_no,
                                "upside_down": page.upside_down,
                            }
                        )
                        if slot_rng.random() < 0.08:
                            blank_params = random_params(slot_rng, 1, dpi, upside_down_rate=0.0)
                            slots.append(
                                scanner.blank(blank_params, (seed, 20_000 + number, slot, page_no))
                            )
                            entries.append({"kind": "blank", "after": plan.id})
                pages = [item.result() if isinstance(item, Future) else item for item in slots]
                path = root / "batches" / f"batch-{number:03d}.pdf"
                path.write_bytes(image_pdf(pages))
                batch_paths.append(path)
                batch_truth.append(
                    {"file": path.relative_to(root).as_posix(), "dpi": dpi, "pages": entries}
                )
                tick()

    email_paths: list[Path] = []
    email_truth: list[dict[str, Any]] = []
    for number, group in enumerate(email_groups, start=1):
        first = group[0]
        assert first.sender is not None
        mail_rng = random.Random(f"{seed}:email{number}")
        subject, body, names = _email_text(group, mail_rng)
        attachments = [
            Attachment(name, pdfs[plan.id]) for name, plan in zip(names, group, strict=True)
        ]
        raw, message_id = build_email(
            rng=mail_rng,
            sender_name=first.sender.name,
            sender_email=first.sender.email,
            to_name=first.client.name,
            to_email=first.client.email,
            subject=subject,
            body=body,
            attachments=attachments,
            day=max(p.date for p in group),
            html=mail_rng.random() < 0.4,
        )
        path = root / "email" / f"msg-{number:03d}.eml"
        path.write_bytes(raw)
        email_paths.append(path)
        email_truth.append(
            {
                "file": path.relative_to(root).as_posix(),
                "message_id": message_id,
                "client_code": first.client.code,
                "to": first.client.email,
                "from": first.sender.email,
                "subject": subject,
                "document_ids": [p.id for p in group],
                "attachments": [
                    {"filename": n, "document_id": p.id} for n, p in zip(names, group, strict=True)
                ],
            }
        )
        tick()

    truth: dict[str, Any] = {
        "seed": seed,
        "generator_version": 1,
        "clients": [_client_truth(c) for c in clients],
        "layouts": list(allowed),
        "documents": [d.ground_truth(root) for d in documents],
        "batches": batch_truth,
        "emails": email_truth,
    }
    (root / "ground_truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return GeneratedSet(root, documents, batch_paths, email_paths, truth)


def _client_truth(client: SampleClient) -> dict[str, Any]:
    profile = client_profile(client)
    return {
        "code": client.code,
        "name": client.name,
        "street": client.street,
        "zip": client.zip,
        "city": client.city,
        "email": client.email,
        "aliases": list(client.aliases),
        "vat_id": client.vat_id,
        "iban": client.iban,
        "tax_number": profile.tax_number,
        "iban_formatted": fmt.iban_groups(client.iban),
    }


__all__ = ["GeneratedSet", "SampleDocument", "generate"]
