"""Reconciling bank statements with open payables and receivables.

Importing a statement for a client stores the file in the client's archive
(``clients/<CODE>/bank/…``, kept like a Buchungsbeleg), records each entry once as a
:class:`~backoffice.models.BankTransaction` and applies new payments to open items: money going
out (debits) to the client's open **payables**, money coming in (credits) to its open
**receivables**. A settled item is closed, which is also what stops its dunning.

The matching rules are deliberately cautious, because a wrong match hides an unpaid invoice:

* **reference**: an item's invoice number appears in the remittance text (or structured
  reference) as a word of its own; spaces and dashes inside the number do not matter;
* **amount**: the payment equals what is still outstanding (within
  ``settings.followups.amount_tolerance``), or the outstanding amount less the agreed Skonto
  when paid on or before the Skonto date (the item is then settled in full, ``settled_by`` is
  ``skonto``); less than that with a reference is a **partial** payment and the item stays open;
* **several references** in one payment settle all those items when the sum matches;
* **IBAN and amount** without a reference settle an item only when exactly one open item of that
  counterparty has that amount;
* anything else (ambiguous references, overpayments, unknown payers) stays **unmatched** and is
  listed for staff, who assign it to the right items by hand (:func:`assign_payment`), set it
  aside when it pays no item (:func:`ignore_payment`: a bank fee, a transfer between the
  client's own accounts), or mark items paid that were paid outside the account
  (:func:`mark_paid`).

:func:`decide` is pure (candidates in, a decision out), so the rules are tested without a
catalog; :func:`import_statement` is the catalog side around it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.archive.audit import record_event
from backoffice.archive.retention import retain_until
from backoffice.archive.storage import client_scope, content_key, sha256_hex
from backoffice.context import Context
from backoffice.display import money
from backoffice.followups.bank import BankStatement, normalise_iban, parse_statement
from backoffice.followups.queue import normalise_reference
from backoffice.models import (
    BankTransaction,
    Client,
    DocType,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    PaymentMatch,
)

CENT = Decimal("0.01")
MIN_REFERENCE_LENGTH = 3
"""Shorter invoice numbers ("12") turn up by chance in any text (dates, amounts)."""

MATCHED = "matched"
PARTIAL = "partial"
UNMATCHED = "unmatched"
IGNORED = "ignored"


class PaymentError(ValueError):
    """A payment cannot be recorded as asked; the message says why (German, for staff)."""


# --------------------------------------------------------------------------- pure matching


@dataclass(frozen=True)
class OpenItem:
    """What matching needs to know about an open payable or receivable."""

    id: int
    reference: str | None
    outstanding: Decimal
    iban: str | None = None
    """The counterparty's IBAN as known from the invoice's correspondent."""
    skonto_percent: Decimal | None = None
    skonto_until: date | None = None

    def skonto_amount(self, paid_on: date) -> Decimal | None:
        """What settles the item with Skonto on ``paid_on`` (``None`` when none applies)."""
        if not self.skonto_percent or self.skonto_until is None or paid_on > self.skonto_until:
            return None
        factor = (Decimal(100) - self.skonto_percent) / Decimal(100)
        return (self.outstanding * factor).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Payment:
    """A bank transaction as matching sees it; ``amount`` is the absolute value."""

    amount: Decimal
    booking_date: date
    counterparty_iban: str | None
    remittance: str


@dataclass(frozen=True)
class Allocation:
    item_id: int
    amount: Decimal
    kind: str
    """``full``, ``partial`` or ``skonto`` (as in :class:`~backoffice.models.PaymentMatch`)."""
    settles: bool
    reason: str


@dataclass(frozen=True)
class Decision:
    status: str
    """``matched``, ``partial`` or ``unmatched``."""
    allocations: tuple[Allocation, ...] = ()
    note: str = ""
    """Why a payment stayed unmatched (German, shown to staff)."""


_SEPARATORS = r"[\s\-/._]*"


@lru_cache(maxsize=4096)
def _reference_pattern(normalised: str) -> re.Pattern[str]:
    """A number as a word of its own, separators inside it ignored.

    ``RE-1001`` is found in "Rg. re 1001" but not in "RE-10011", and ``0042`` is not found in
    ``2024-0042`` nor ``12`` in a date ``12.03.2025``: a digit joined by a separator continues
    the number.
    """
    body = _SEPARATORS.join(re.escape(ch) for ch in normalised)
    return re.compile(
        rf"(?<![0-9A-Za-z])(?<![0-9][\-/._])({body})(?![0-9A-Za-z])(?![\-/._][0-9])",
        re.IGNORECASE,
    )


def references_in(text: str, reference: str | None) -> bool:
    """Whether ``reference`` (an invoice number) is quoted in ``text``."""
    if not reference:
        return False
    normalised = normalise_reference(reference)
    if len(normalised) < MIN_REFERENCE_LENGTH:
        return False
    return _reference_pattern(normalised).search(text) is not None


def _close(a: Decimal, b: Decimal, tolerance: Decimal) -> bool:
    return abs(a - b) <= tolerance


def decide(payment: Payment, items: Sequence[OpenItem], tolerance: Decimal = CENT) -> Decision:
    """Which open items ``payment`` pays, and how; unmatched when in any doubt."""
    items = [i for i in items if i.outstanding > 0]
    if payment.amount <= 0:
        return Decision(UNMATCHED, note="Betrag 0")
    iban = normalise_iban(payment.counterparty_iban) if payment.counterparty_iban else None
    quoted = [i for i in items if references_in(payment.remittance, i.reference)]
    if quoted:
        return _by_reference(payment, quoted, iban, tolerance)
    if iban is None:
        return Decision(UNMATCHED, note="Keine Rechnungsnummer im Verwendungszweck, keine IBAN")
    candidates: list[tuple[OpenItem, Allocation]] = []
    for item in items:
        if item.iban is None or normalise_iban(item.iban) != iban:
            continue
        allocation = _settling(item, payment, tolerance, "IBAN und Betrag")
        if allocation is not None:
            candidates.append((item, allocation))
    if len(candidates) == 1:
        return Decision(MATCHED, (candidates[0][1],))
    if candidates:
        return Decision(
            UNMATCHED, note=f"Mehrdeutig: {len(candidates)} offene Posten mit IBAN und Betrag"
        )
    return Decision(UNMATCHED, note="Keine Rechnungsnummer im Verwendungszweck gefunden")


def _settling(item: OpenItem, payment: Payment, tolerance: Decimal, why: str) -> Allocation | None:
    """The allocation that settles ``item`` in full (or with Skonto), if the amount fits."""
    if _close(payment.amount, item.outstanding, tolerance):
        return Allocation(item.id, payment.amount, "full", True, why)
    skonto = item.skonto_amount(payment.booking_date)
    if skonto is not None and _close(payment.amount, skonto, tolerance):
        return Allocation(
            item.id, payment.amount, "skonto", True, f"{why}, {item.skonto_percent} % Skonto"
        )
    return None


def _by_reference(
    payment: Payment, quoted: list[OpenItem], iban: str | None, tolerance: Decimal
) -> Decision:
    # Two open items with the same number (two suppliers both numbering from 1001): the payer's
    # IBAN has to tell them apart, or the payment is left to staff.
    groups: dict[str, list[OpenItem]] = {}
    for item in quoted:
        groups.setdefault(normalise_reference(item.reference or ""), []).append(item)
    chosen: list[OpenItem] = []
    for ref, group in groups.items():
        narrowed = group
        if len(group) > 1:
            narrowed = [i for i in group if iban and i.iban and normalise_iban(i.iban) == iban]
        if len(narrowed) != 1:
            return Decision(UNMATCHED, note=f"Rechnungsnummer {ref} passt zu mehreren Posten")
        chosen.append(narrowed[0])
    reason = "Rechnungsnummer"
    for item in chosen:
        if iban and item.iban and normalise_iban(item.iban) == iban:
            reason = "Rechnungsnummer und IBAN"
            break
    if len(chosen) == 1:
        item = chosen[0]
        settled = _settling(item, payment, tolerance, reason)
        if settled is not None:
            return Decision(MATCHED, (settled,))
        if payment.amount < item.outstanding:
            return Decision(
                PARTIAL,
                (
                    Allocation(
                        item.id,
                        payment.amount,
                        "partial",
                        False,
                        f"{reason}, Teilzahlung (offen {money(item.outstanding - payment.amount)})",
                    ),
                ),
            )
        return Decision(
            UNMATCHED,
            note=f"Betrag {money(payment.amount)} höher als offen ({money(item.outstanding)})",
        )
    # One transfer for several invoices: the sum has to fit, with Skonto where it applies.
    full = sum((i.outstanding for i in chosen), Decimal(0))
    if _close(payment.amount, full, tolerance):
        return Decision(
            MATCHED,
            tuple(
                Allocation(i.id, i.outstanding, "full", True, f"{reason} (Sammelzahlung)")
                for i in chosen
            ),
        )
    with_skonto = [(i, i.skonto_amount(payment.booking_date)) for i in chosen]
    discounted = sum((s if s is not None else i.outstanding for i, s in with_skonto), Decimal(0))
    if any(s is not None for _, s in with_skonto) and _close(payment.amount, discounted, tolerance):
        return Decision(
            MATCHED,
            tuple(
                Allocation(i.id, s, "skonto", True, f"{reason} (Sammelzahlung, Skonto)")
                if s is not None
                else Allocation(i.id, i.outstanding, "full", True, f"{reason} (Sammelzahlung)")
                for i, s in with_skonto
            ),
        )
    return Decision(
        UNMATCHED,
        note=(
            f"Sammelzahlung {money(payment.amount)} passt nicht zur Summe der "
            f"{len(chosen)} Rechnungen ({money(full)})"
        ),
    )


# --------------------------------------------------------------------------- catalog side


@dataclass(frozen=True)
class Outcome:
    """One imported transaction and what became of it (for the CLI and the portal)."""

    transaction_id: int
    booking_date: date
    amount: Decimal
    counterparty: str | None
    remittance: str
    status: str
    followup_ids: tuple[int, ...]
    detail: str


@dataclass
class ImportResult:
    source_key: str
    statements: list[str]
    new: int = 0
    known: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def _item(followup: FollowUp) -> OpenItem | None:
    outstanding = followup.outstanding
    if outstanding is None or outstanding <= 0:
        return None
    correspondent = followup.document.correspondent if followup.document else None
    return OpenItem(
        id=followup.id,
        reference=followup.reference,
        outstanding=outstanding,
        iban=correspondent.iban if correspondent and correspondent.iban else None,
        skonto_percent=followup.skonto_percent,
        skonto_until=followup.skonto_until,
    )


def _open_items(session: Session, client_id: int, kind: FollowUpKind) -> list[FollowUp]:
    return list(
        session.scalars(
            select(FollowUp)
            .where(
                FollowUp.client_id == client_id,
                FollowUp.kind == kind,
                FollowUp.status == FollowUpStatus.OPEN,
            )
            .order_by(FollowUp.due_date, FollowUp.id)
        )
    )


def apply_decision(
    session: Session,
    tx: BankTransaction,
    decision: Decision,
    followups: dict[int, FollowUp],
    *,
    settled_by: str = "bank",
) -> None:
    """Record ``decision`` for ``tx``: payment matches, paid amounts, settled items.

    ``settled_by`` says who decided the match (``bank`` for the automatic rules, ``staff`` for
    a payment assigned by hand); a Skonto settlement is always ``skonto``, because that is what
    explains why less than the invoice amount was paid.
    """
    tx.status = decision.status
    for allocation in decision.allocations:
        followup = followups[allocation.item_id]
        session.add(
            PaymentMatch(
                transaction_id=tx.id,
                followup_id=followup.id,
                amount=allocation.amount,
                kind=allocation.kind,
                reason=allocation.reason[:200],
            )
        )
        followup.paid_amount = (followup.paid_amount or Decimal(0)) + allocation.amount
        if allocation.settles:
            followup.status = FollowUpStatus.DONE
            followup.paid_on = tx.booking_date
            followup.settled_by = "skonto" if allocation.kind == "skonto" else settled_by


def match_transaction(
    session: Session, tx: BankTransaction, tolerance: Decimal
) -> tuple[Decision, dict[int, FollowUp]]:
    """Decide and apply the match of one stored transaction against the current open items."""
    kind = FollowUpKind.RECEIVABLE if tx.amount > 0 else FollowUpKind.PAYABLE
    followups = {f.id: f for f in _open_items(session, tx.client_id, kind)}
    items = [item for f in followups.values() if (item := _item(f)) is not None]
    payment = Payment(
        amount=abs(tx.amount),
        booking_date=tx.booking_date,
        counterparty_iban=tx.counterparty_iban,
        remittance=tx.remittance or "",
    )
    decision = decide(payment, items, tolerance)
    apply_decision(session, tx, decision, followups)
    return decision, followups


STATEMENT_FILES = {"csv": (".csv", "text/csv"), "mt940": (".sta", "text/plain")}
"""How an imported statement file is stored, by format; CAMT.053 (any version) as XML."""


def _stored_as(statements: Sequence[BankStatement]) -> tuple[str, str]:
    kind = statements[0].source_format if statements else ""
    return STATEMENT_FILES.get(kind, (".xml", "application/xml"))


def import_statement(
    ctx: Context, client_code: str, data: bytes, *, actor: str, filename: str | None = None
) -> ImportResult:
    """Import a statement file for one client and reconcile its new payments.

    Idempotent: entries already imported (same bank reference or fingerprint) are skipped,
    so importing the same file again, or an overlapping statement, changes nothing.
    """
    statements = parse_statement(data)
    tolerance = ctx.settings.followups.amount_tolerance
    with ctx.catalog.session() as session:
        client = session.scalar(select(Client).where(Client.code == client_code))
        if client is None:
            raise PaymentError(f"Unbekannter Mandant: {client_code}")
        bookings = [e.booking_date for s in statements for e in s.entries]
        last = max(bookings) if bookings else date.today()
        suffix, media_type = _stored_as(statements)
        key = content_key(client_scope(client.code), "bank", sha256_hex(data), suffix)
        ctx.store.put(
            key,
            data,
            content_type=media_type,
            # A Kontoauszug is a Buchungsbeleg: kept like an invoice.
            retain_until=retain_until(DocType.INVOICE, last, date.today()),
        )
        result = ImportResult(source_key=key, statements=[s.statement_id or "" for s in statements])
        client_iban = normalise_iban(client.iban) if client.iban else None
        new: list[BankTransaction] = []
        for statement in statements:
            if client_iban and statement.account_iban and statement.account_iban != client_iban:
                result.warnings.append(
                    f"Konto {statement.account_iban} ist nicht das hinterlegte Konto des "
                    f"Mandanten ({client_iban})."
                )
            known = set(
                session.scalars(
                    select(BankTransaction.entry_key).where(
                        BankTransaction.client_id == client.id,
                        BankTransaction.entry_key.in_(statement.entry_keys()),
                    )
                )
            )
            for entry, entry_key in zip(statement.entries, statement.entry_keys(), strict=True):
                if entry_key in known:
                    result.known += 1
                    continue
                known.add(entry_key)
                tx = BankTransaction(
                    client_id=client.id,
                    entry_key=entry_key,
                    statement_id=(statement.statement_id or "")[:100] or None,
                    account_iban=statement.account_iban,
                    booking_date=entry.booking_date,
                    value_date=entry.value_date,
                    amount=entry.amount,
                    currency=entry.currency,
                    counterparty_name=(entry.counterparty_name or "")[:200] or None,
                    counterparty_iban=entry.counterparty_iban,
                    remittance=entry.remittance or None,
                    end_to_end_id=(entry.end_to_end_id or "")[:100] or None,
                    # A reversal (Storno) undoes an earlier booking; it pays nothing.
                    status=IGNORED if entry.reversal else UNMATCHED,
                    source_key=key,
                )
                session.add(tx)
                new.append(tx)
        session.flush()
        result.new = len(new)
        # Oldest first, so that a partial payment is applied before the rest that follows it.
        for tx in sorted(new, key=lambda t: (t.booking_date, t.id)):
            if tx.status == IGNORED:
                decision = Decision(IGNORED, note="Storno")
            elif tx.currency != "EUR":
                decision = Decision(UNMATCHED, note="Fremdwährung")
            else:
                decision, _ = match_transaction(session, tx, tolerance)
                session.flush()
            result.outcomes.append(
                Outcome(
                    transaction_id=tx.id,
                    booking_date=tx.booking_date,
                    amount=tx.amount,
                    counterparty=tx.counterparty_name,
                    remittance=tx.remittance or "",
                    status=tx.status,
                    followup_ids=tuple(a.item_id for a in decision.allocations),
                    detail="; ".join(a.reason for a in decision.allocations) or decision.note,
                )
            )
        if new:
            record_event(
                session,
                actor=actor,
                action="bank.import",
                client_id=client.id,
                detail={
                    "key": key,
                    "filename": filename,
                    "statements": result.statements,
                    "new": result.new,
                    "known": result.known,
                    "matched": result.count(MATCHED),
                    "partial": result.count(PARTIAL),
                    "unmatched": result.count(UNMATCHED),
                    "settled": sorted(
                        {f for o in result.outcomes if o.status == MATCHED for f in o.followup_ids}
                    ),
                },
            )
    return result


def unmatched_transactions(
    session: Session, client_ids: Collection[int] | None = None
) -> list[BankTransaction]:
    """Payments no open item could be found for, newest first (``None``: all clients)."""
    query = select(BankTransaction).where(BankTransaction.status == UNMATCHED)
    if client_ids is not None:
        query = query.where(BankTransaction.client_id.in_(list(client_ids)))
    return list(
        session.scalars(query.order_by(BankTransaction.booking_date.desc(), BankTransaction.id))
    )


def mark_paid(
    session: Session,
    followup_id: int,
    *,
    amount: Decimal,
    paid_on: date,
    actor: str,
    tolerance: Decimal = CENT,
    client_ids: Collection[int] | None = None,
) -> FollowUp:
    """Record a payment staff know of (cash, a payment from another account, a set-off).

    The amount adds to what was paid; once nothing is left outstanding the item is closed with
    ``settled_by="staff"``. ``client_ids`` restricts which clients' items may be touched.
    """
    followup = session.get(FollowUp, followup_id)
    if followup is None or (client_ids is not None and followup.client_id not in client_ids):
        raise PaymentError(f"Posten {followup_id} nicht gefunden.")
    if followup.kind not in (FollowUpKind.PAYABLE, FollowUpKind.RECEIVABLE):
        raise PaymentError(f"Posten {followup_id} ist keine Rechnung (Art: {followup.kind}).")
    if followup.status != FollowUpStatus.OPEN:
        raise PaymentError(f"Posten {followup_id} ist nicht mehr offen.")
    amount = amount.quantize(CENT)
    if amount <= 0:
        raise PaymentError("Der Betrag muss größer als 0 sein.")
    outstanding = followup.outstanding
    if outstanding is not None and amount > outstanding + tolerance:
        raise PaymentError(
            f"Betrag {money(amount)} ist höher als der offene Betrag {money(outstanding)}."
        )
    followup.paid_amount = (followup.paid_amount or Decimal(0)) + amount
    remaining = followup.outstanding
    settled = remaining is None or remaining <= tolerance
    if settled:
        followup.status = FollowUpStatus.DONE
        followup.paid_on = paid_on
        followup.settled_by = "staff"
    record_event(
        session,
        actor=actor,
        action="followup.paid",
        client_id=followup.client_id,
        document_id=followup.document_id,
        detail={
            "followup_id": followup.id,
            "amount": str(amount),
            "paid_on": paid_on.isoformat(),
            "settled": settled,
        },
    )
    session.flush()
    return followup


ASSIGNED_REASON = "von Hand zugeordnet"
DIRECTION = {
    FollowUpKind.PAYABLE: ("eine Abbuchung", "Eingangsrechnungen (Verbindlichkeiten)"),
    FollowUpKind.RECEIVABLE: ("ein Zahlungseingang", "Ausgangsrechnungen (Forderungen)"),
}
"""Money out pays the client's payables, money in its receivables: (what the payment is,
what it may be assigned to), for the refusal message."""


def _unmatched_transaction(
    session: Session, transaction_id: int, client_ids: Collection[int] | None
) -> BankTransaction:
    """The transaction, locked, if it is still waiting for staff; else a :class:`PaymentError`.

    The row lock (PostgreSQL) makes a form sent twice fail the second time instead of paying
    the items twice: the second request waits, then sees the transaction is no longer open.
    """
    tx = session.get(BankTransaction, transaction_id, with_for_update=True)
    if tx is None or (client_ids is not None and tx.client_id not in client_ids):
        raise PaymentError(f"Buchung {transaction_id} nicht gefunden.")
    if tx.status != UNMATCHED:
        raise PaymentError(f"Buchung {transaction_id} ist schon bearbeitet (Status: {tx.status}).")
    return tx


def allocate_by_hand(
    payment: Payment, items: Sequence[OpenItem], tolerance: Decimal = CENT
) -> Decision:
    """Spread ``payment`` over ``items`` in the order given, as staff chose them.

    Each item takes what is still outstanding on it, the last one takes the rest. An item is
    settled when its share equals the outstanding amount within ``tolerance``, or the agreed
    Skonto amount when paid in time (the same rule as automatic matching, :func:`_settling`);
    a smaller share is a partial payment. The transaction is then ``matched`` when every item
    is settled and ``partial`` when the last one stays partly open, as with an automatic
    partial payment.

    Refused (:class:`PaymentError`) rather than guessed: a payment larger than the items'
    outstanding (the surplus would belong nowhere; assign a further item, or record the
    overpayment elsewhere) and an item the payment does not reach at all (the choice of items
    is then wrong, and a zero payment match would only mislead).
    """
    if not items:
        raise PaymentError("Bitte mindestens einen offenen Posten wählen.")
    if payment.amount <= 0:
        raise PaymentError("Die Buchung hat den Betrag 0 und bezahlt nichts.")
    total = sum((i.outstanding for i in items), Decimal(0))
    if payment.amount > total + tolerance:
        raise PaymentError(
            f"Betrag {money(payment.amount)} ist höher als der offene Betrag der gewählten "
            f"Posten ({money(total)}). Bitte alle Posten wählen, die die Zahlung bezahlt."
        )
    allocations: list[Allocation] = []
    remaining = payment.amount
    for n, item in enumerate(items):
        last = n == len(items) - 1
        share = remaining if last else min(remaining, item.outstanding)
        if share <= 0:
            raise PaymentError(
                f"Der Betrag {money(payment.amount)} reicht nicht bis Posten {item.id}: "
                "bitte nur die Posten wählen, die die Zahlung bezahlt."
            )
        portion = Payment(share, payment.booking_date, payment.counterparty_iban, "")
        allocation = _settling(item, portion, tolerance, ASSIGNED_REASON)
        if allocation is None:
            # Not settling and within the total: less than outstanding, a partial payment.
            allocation = Allocation(
                item.id,
                share,
                "partial",
                False,
                f"{ASSIGNED_REASON}, Teilzahlung (offen {money(item.outstanding - share)})",
            )
        allocations.append(allocation)
        remaining -= allocation.amount
    status = MATCHED if all(a.settles for a in allocations) else PARTIAL
    return Decision(status, tuple(allocations))


def assign_payment(
    session: Session,
    transaction_id: int,
    followup_ids: Sequence[int],
    *,
    actor: str,
    tolerance: Decimal = CENT,
    client_ids: Collection[int] | None = None,
) -> Decision:
    """Apply an unmatched payment to the open items staff chose (:func:`allocate_by_hand`).

    Only ``unmatched`` transactions: a partial or matched one already has its items, and an
    ignored one was set aside on purpose. The items must be open payables (for money going out)
    or receivables (for money coming in) of the transaction's client. Settled items are closed
    with ``settled_by="staff"`` and the booking date as the day paid, which also stops their
    dunning. ``client_ids`` restricts which clients' transactions may be touched.
    """
    tx = _unmatched_transaction(session, transaction_id, client_ids)
    if tx.currency != "EUR":
        raise PaymentError(
            f"Buchung {tx.id} ist in {tx.currency}; bitte den Euro-Betrag über "
            "„Bezahlt“ am Posten erfassen."
        )
    wanted = list(dict.fromkeys(followup_ids))
    kind = FollowUpKind.RECEIVABLE if tx.amount > 0 else FollowUpKind.PAYABLE
    found = {
        f.id: f
        for f in session.scalars(select(FollowUp).where(FollowUp.id.in_(wanted)).with_for_update())
    }
    items: list[OpenItem] = []
    for followup_id in wanted:
        followup = found.get(followup_id)
        if followup is None:
            raise PaymentError(f"Posten {followup_id} nicht gefunden.")
        if followup.client_id != tx.client_id:
            raise PaymentError(
                f"Posten {followup_id} gehört zu einem anderen Mandanten als die Buchung."
            )
        if followup.kind != kind:
            what, allowed = DIRECTION[kind]
            raise PaymentError(
                f"Posten {followup_id} passt nicht zur Zahlungsrichtung: Buchung {tx.id} ist "
                f"{what}, sie lässt sich nur {allowed} zuordnen."
            )
        if followup.status != FollowUpStatus.OPEN:
            raise PaymentError(f"Posten {followup_id} ist nicht mehr offen.")
        item = _item(followup)
        if item is None:
            raise PaymentError(f"Posten {followup_id} hat keinen offenen Betrag.")
        items.append(item)
    payment = Payment(
        amount=abs(tx.amount),
        booking_date=tx.booking_date,
        counterparty_iban=tx.counterparty_iban,
        remittance=tx.remittance or "",
    )
    decision = allocate_by_hand(payment, items, tolerance)
    apply_decision(session, tx, decision, found, settled_by="staff")
    record_event(
        session,
        actor=actor,
        action="bank.assigned",
        client_id=tx.client_id,
        detail={
            "transaction_id": tx.id,
            "amount": str(tx.amount),
            "status": decision.status,
            "allocations": [
                {"followup_id": a.item_id, "amount": str(a.amount), "kind": a.kind}
                for a in decision.allocations
            ],
            "settled": [a.item_id for a in decision.allocations if a.settles],
        },
    )
    session.flush()
    return decision


def ignore_payment(
    session: Session,
    transaction_id: int,
    *,
    actor: str,
    reason: str = "",
    client_ids: Collection[int] | None = None,
) -> BankTransaction:
    """Set an unmatched payment aside that pays no open item (bank fee, own-account transfer).

    It leaves the list of payments waiting for staff; the reason is kept in the audit log,
    which is where anyone asking later why a payment was not booked against an invoice looks.
    """
    tx = _unmatched_transaction(session, transaction_id, client_ids)
    tx.status = IGNORED
    record_event(
        session,
        actor=actor,
        action="bank.ignored",
        client_id=tx.client_id,
        detail={
            "transaction_id": tx.id,
            "amount": str(tx.amount),
            "reason": reason.strip()[:500],
        },
    )
    session.flush()
    return tx
