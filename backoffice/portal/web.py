"""Rendering helpers shared by the page routes: templates, German labels, safe file names.

The UI speaks German; the catalog stores English codes (``invoice``, ``payable`` …). The
translation lives here once, so templates, the API and the tests agree on it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from backoffice.display import date_de, money
from backoffice.models import Role
from backoffice.portal.access import Scope
from backoffice.portal.auth import csrf_token, set_csrf_cookie

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

DOC_TYPE_LABELS = {
    "invoice": "Rechnung",
    "reminder": "Mahnung",
    "letter": "Brief",
    "other": "Sonstiges",
    "unknown": "Unbekannt",
}
DOC_STATUS_LABELS = {
    "new": "Eingegangen",
    "text": "Text erkannt",
    "understood": "Ausgewertet",
    "filed": "Abgelegt",
    "unassigned": "Ohne Mandant",
    "quarantined": "Quarantäne",
}
FOLLOWUP_KIND_LABELS = {
    "payable": "Zahlung",
    "reminder": "Mahnung",
    "reply": "Antwort",
    "receivable": "Forderung",
    "review": "Prüfung",
}
FOLLOWUP_STATUS_LABELS = {"open": "offen", "done": "erledigt", "cancelled": "storniert"}
PAYMENT_STATE_LABELS = {
    "to_pay": "Zu zahlen",
    "paid": "Bezahlt",
    "attention": "Braucht Aufmerksamkeit",
}
ROLE_LABELS = {"staff": "Büroservice", "client": "Mandant", "accountant": "Steuerberatung"}
FIELD_LABELS = {
    "invoice_number": "Rechnungsnummer",
    "issue_date": "Rechnungsdatum",
    "service_date": "Leistungsdatum",
    "due_date": "Fällig am",
    "payment_terms_days": "Zahlungsziel (Tage)",
    "skonto_percent": "Skonto (%)",
    "skonto_date": "Skonto bis",
    "seller_name": "Absender",
    "buyer_name": "Empfänger",
    "customer_number": "Kundennummer",
    "net_total": "Nettobetrag",
    "vat_total": "Umsatzsteuer",
    "gross_total": "Bruttobetrag",
    "currency": "Währung",
    "iban": "IBAN",
    "bic": "BIC",
    "seller_vat_id": "USt-IdNr.",
    "seller_tax_number": "Steuernummer",
    "reverse_charge": "Reverse Charge",
    "is_credit_note": "Gutschrift",
    "referenced_invoice_numbers": "Betrifft Rechnung(en)",
    "referenced_invoice_dates": "Rechnungsdatum (gemahnt)",
    "amount_outstanding": "Offener Betrag",
    "fees": "Mahngebühren",
    "interest": "Zinsen",
    "new_deadline": "Neue Frist",
    "dunning_stage": "Mahnstufe",
    "court_threat": "Gerichtliche Schritte angedroht",
    "letter_date": "Briefdatum",
    "subject": "Betreff",
    "sender_name": "Absender",
    "deadline": "Frist",
    "summary": "Zusammenfassung",
    "subtype": "Unterart",
}
"""Fields staff may add by hand (the review form offers these names)."""


def nav_for(scope: Scope | None) -> list[tuple[str, str]]:
    """Main navigation entries (path, label) for the user's role."""
    if scope is None:
        return []
    if scope.role == Role.STAFF:
        return [
            ("/pruefen", "Prüfen"),
            ("/archiv", "Archiv"),
            ("/faellig", "Fällig"),
            ("/quarantaene", "Quarantäne"),
            ("/hochladen", "Hochladen"),
            ("/mandanten", "Mandanten"),
            ("/buchungen", "Buchungen"),
            ("/exporte", "Exporte"),
            ("/mahnwesen", "Mahnwesen"),
            ("/bank", "Kontoauszüge"),
        ]
    if scope.role == Role.ACCOUNTANT:
        return [
            ("/mandanten", "Mandanten"),
            ("/archiv", "Archiv"),
            ("/faellig", "Fällig"),
            ("/buchungen", "Buchungen"),
            ("/exporte", "Exporte"),
        ]
    return [("/archiv", "Archiv"), ("/faellig", "Fällig"), ("/bank", "Kontoauszüge")]


def home_for(scope: Scope) -> str:
    return {Role.STAFF: "/pruefen", Role.ACCOUNTANT: "/mandanten"}.get(scope.role, "/archiv")


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.filters["date_de"] = date_de
    env.filters["money"] = money
    env.filters["percent"] = percent
    env.globals.update(
        DOC_TYPE_LABELS=DOC_TYPE_LABELS,
        DOC_STATUS_LABELS=DOC_STATUS_LABELS,
        FOLLOWUP_KIND_LABELS=FOLLOWUP_KIND_LABELS,
        FOLLOWUP_STATUS_LABELS=FOLLOWUP_STATUS_LABELS,
        PAYMENT_STATE_LABELS=PAYMENT_STATE_LABELS,
        FIELD_LABELS=FIELD_LABELS,
        ROLE_LABELS=ROLE_LABELS,
    )
    return templates


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """A page with the user, navigation and the CSRF token every form needs."""
    portal = request.app.state.portal
    token, fresh = csrf_token(request)
    scope: Scope | None = getattr(request.state, "scope", None)
    full = {
        "csrf_token": token,
        "scope": scope,
        "nav": nav_for(scope),
        "current_path": request.url.path,
        **(context or {}),
    }
    response = portal.templates.TemplateResponse(request, name, full, status_code=status_code)
    if fresh:
        set_csrf_cookie(response, request, token)
    response.headers["Cache-Control"] = "no-store"
    return response


def safe_filename(title: str | None, doc_date: date | None, suffix: str) -> str:
    """An ASCII file name for a download: no paths, quotes or control characters survive."""
    base = unicodedata.normalize("NFKD", title or "Dokument")
    base = base.replace("ß", "ss")
    base = "".join(ch for ch in base if not unicodedata.combining(ch))
    base = re.sub(r"[^A-Za-z0-9]+", "_", base).strip("_")[:80] or "Dokument"
    if doc_date:
        base = f"{doc_date.isoformat()}_{base}"
    suffix = suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,5}", suffix or "") else ".bin"
    return base + suffix.lower()


def content_disposition(disposition: str, filename: str) -> str:
    """``Content-Disposition`` with an ASCII name and its RFC 5987 form."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:120] or "download"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(ascii_name)}"


MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".json": "application/json",
    ".csv": "text/csv; charset=windows-1252",
    ".xml": "application/xml",
    ".zip": "application/zip",
    ".txt": "text/plain",
}


def media_type_for(key: str) -> str:
    """The media type a stored file is served with. CSV files in the archive are DATEV exports,
    which the format writes in Windows-1252; without the charset the browser is told UTF-8."""
    return MEDIA_TYPES.get(Path(key).suffix.lower(), "application/octet-stream")
