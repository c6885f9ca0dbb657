"""Correspondents: who writes to a client, recognised again on the next document.

A sender is matched to the client's known correspondents first by USt-IdNr, then by IBAN, then
by a fuzzy name match (rapidfuzz, tolerant of OCR errors and legal-form variants); only when
nothing matches is a new correspondent created. Correspondents are per client: two clients'
suppliers never mix, even when they are the same firm.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.models import Correspondent

NAME_MATCH = 90.0
_LEGAL_FORMS = re.compile(
    r"\b(gmbh\s*&\s*co\.?\s*kg|gmbh|ag|kg|ohg|ug|e\.\s?k\.|e\.\s?v\.|mbh|partg|inh\.)", re.I
)


def normalise_name(name: str) -> str:
    """A name without legal form, punctuation and case, for comparing senders."""
    name = _LEGAL_FORMS.sub(" ", name.lower())
    return " ".join(re.sub(r"[^\wäöüß]+", " ", name).split())


def is_client_itself(name: str | None, client_names: list[str]) -> bool:
    """Whether ``name`` (a seller or sender) is the client under one of its names.

    The client's own paper (its outgoing invoices, copies of its letters) names the client as
    the issuer; the other party of such a document is the buyer, never the client itself.
    """
    if not name:
        return False
    wanted = normalise_name(name)
    return max(fuzz.token_sort_ratio(wanted, normalise_name(n)) for n in client_names) >= NAME_MATCH


def match_or_create(
    session: Session,
    client_id: int,
    *,
    name: str | None,
    vat_id: str | None = None,
    iban: str | None = None,
    email_domain: str | None = None,
) -> Correspondent | None:
    """The client's correspondent for this sender, created on first sight; None if unnamed."""
    known = list(session.scalars(select(Correspondent).where(Correspondent.client_id == client_id)))
    for attr, value in (("vat_id", vat_id), ("iban", iban)):
        if value:
            for corr in known:
                if getattr(corr, attr) == value:
                    return corr
    if not name:
        return None
    wanted = normalise_name(name)
    best, best_score = None, 0.0
    for corr in known:
        score = fuzz.token_sort_ratio(wanted, normalise_name(corr.name))
        if score > best_score:
            best, best_score = corr, score
    if best is not None and best_score >= NAME_MATCH:
        best.vat_id = best.vat_id or vat_id
        best.iban = best.iban or iban
        best.email_domain = best.email_domain or email_domain
        return best
    corr = Correspondent(
        client_id=client_id,
        name=name.strip()[:200],
        vat_id=vat_id,
        iban=iban,
        email_domain=email_domain,
    )
    session.add(corr)
    session.flush()
    return corr
