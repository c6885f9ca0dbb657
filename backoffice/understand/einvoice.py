"""Structured e-invoices: ZUGFeRD/Factur-X PDFs with embedded XML, XRechnung CII and UBL.

Where an invoice carries XML, the XML is the truth and OCR only describes the picture. The
``factur-x`` library finds the XML in the PDF (``get_xml_from_pdf``), tells its syntax and
profile (``get_flavor``/``get_level``) and maps CII and UBL alike to EN 16931 business terms
(``parse_ubl_cii_xml`` → ``{"BT-1": …, "BG-23": [...]}``); this module maps those terms to the
product's canonical field names. ZUGFeRD 1.0 (``CrossIndustryDocument``), which the library does
not parse, is read with a few XPath expressions.

The profile matters legally: MINIMUM and BASIC WL are not full invoices under §14 UStG, so their
fields are used but the document is flagged (see :data:`INCOMPLETE_PROFILES`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import facturx
from lxml import etree

from backoffice.text.render import looks_like_pdf

from .extract import Doc, find_labelled, payment_terms, value_date
from .labels import DUE_DATE
from .normalize import format_amount, format_rate
from .schema import Field

log = logging.getLogger(__name__)
# factur-x warns on every PDF without embedded XML, i.e. on almost all post: not news here.
logging.getLogger("factur-x").setLevel(logging.ERROR)

INCOMPLETE_PROFILES = frozenset({"minimum", "basicwl"})
INCOMPLETE_FLAG = "kein vollständiges E-Rechnungsprofil"
CREDIT_NOTE_CODES = frozenset(
    {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"}
)
"""UNTDID 1001 document types that are credit notes (384 = corrected invoice is decided by sign)."""

_SKONTO_XR = re.compile(r"#SKONTO#TAGE=(\d+)#PROZENT=(\d+(?:\.\d+)?)#", re.IGNORECASE)


@dataclass
class EInvoice:
    """The result of reading one e-invoice."""

    fields: list[Field]
    profile: str
    """``minimum``, ``basicwl``, ``basic``, ``en16931``, ``extended``, ``xrechnung`` or
    ``zugferd1-<level>``."""
    flavor: str
    xml: bytes
    buyer_address: dict[str, str] = field(default_factory=dict)
    """Buyer name/street/zip/city from the XML, for routing documents that have no page text."""

    @property
    def complete(self) -> bool:
        return self.profile not in INCOMPLETE_PROFILES


def _xml_bytes(data: bytes) -> bytes | None:
    """The e-invoice XML inside ``data`` (a PDF or the XML itself), or ``None``."""
    head = data[:1024].lstrip()
    if looks_like_pdf(data):
        try:
            _name, xml = facturx.get_xml_from_pdf(data, check_xsd=False)
        except Exception as exc:  # broken PDFs are for the text stage to judge
            log.debug("no XML in PDF: %s", exc)
            return None
        return xml or None
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if head.startswith(b"<"):
        return data
    return None


def _profile(root: Any, flavor: str) -> str:
    ids = root.xpath(
        "//*[local-name()='GuidelineSpecifiedDocumentContextParameter']/*[local-name()='ID']/text()"
        " | /*/*[local-name()='CustomizationID']/text()"
    )
    guideline = str(ids[0]).strip().lower() if ids else ""
    if "xrechnung" in guideline:
        return "xrechnung"
    try:
        level = str(facturx.get_level(root, flavor))
    except Exception:
        level = ""
    if not level:
        for name in ("minimum", "basicwl", "basic", "extended", "en16931"):
            if name in guideline.replace("-", "").replace("_", ""):
                return name
        return "unknown"
    return level


def _s(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, (dict, list)):
        return None
    return str(value).strip() or None


def _amount(value: Any) -> str | None:
    raw = _s(value)
    if raw is None:
        return None
    try:
        return format_amount(Decimal(raw))
    except InvalidOperation:
        return None


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _terms(text: str) -> list[tuple[str, str]]:
    """Payment terms and Skonto from BT-20 free text (XRechnung's ``#SKONTO#`` syntax too)."""
    out: list[tuple[str, str]] = []
    m = _SKONTO_XR.search(text)
    if m:
        out.append(("skonto_percent", format_rate(Decimal(m.group(2)))))
        out.append(("_skonto_days", m.group(1)))
    plain = _SKONTO_XR.sub(" ", text)
    doc = Doc([plain])
    terms = payment_terms(doc)
    due = find_labelled(doc, DUE_DATE, value_date, max_gap=40, below=False)
    if due:
        out.append(("due_date", due[0].value))
    if terms.days is not None:
        out.append(("payment_terms_days", terms.days.value))
    if terms.skonto_percent is not None and not m:
        out.append(("skonto_percent", terms.skonto_percent.value))
        if terms.skonto_date is not None:
            out.append(("skonto_date", terms.skonto_date.value))
        elif terms.skonto_days is not None:
            out.append(("_skonto_days", str(terms.skonto_days)))
    return out


def map_en16931(d: Mapping[str, Any], flavor: str) -> list[Field]:
    """Canonical fields from the EN 16931 dictionary produced by ``parse_ubl_cii_xml``."""
    values: dict[str, str] = {}

    def put(name: str, value: str | None) -> None:
        if value is not None and name not in values:
            values[name] = value

    put("invoice_number", _s(d.get("BT-1")))
    put("issue_date", _s(d.get("BT-2")))
    put("due_date", _s(_first(d.get("BT-9"))))
    put("service_date", _s(d.get("BT-72")) or _s(d.get("BT-73")))
    put("currency", _s(d.get("BT-5")))
    seller = d.get("BG-4") or {}
    buyer = d.get("BG-7") or {}
    put("seller_name", _s(seller.get("name")) or _s(seller.get("biz_name")))
    put("buyer_name", _s(buyer.get("name")) or _s(buyer.get("biz_name")))
    buyer_ids = buyer.get("identifiers") or {}
    if isinstance(buyer_ids, dict):
        put("customer_number", _s(buyer_ids.get(None)) or _s(next(iter(buyer_ids.values()), None)))
    vat_id = _s(seller.get("vat_identifier")) or _s((d.get("BG-11") or {}).get("vat_identifier"))
    put("seller_vat_id", re.sub(r"\s", "", vat_id) if vat_id else None)
    put("seller_tax_number", _s(seller.get("tax_identifier")))
    put("net_total", _amount(d.get("BT-109")))
    put("vat_total", _amount(_first(d.get("BT-110"))))
    put("gross_total", _amount(d.get("BT-112")))
    iban = _s(_first(d.get("BT-84")))
    if iban is None and isinstance(d.get("BG-17"), list):
        iban = _s((d["BG-17"][0] or {}).get("BT-84"))
    put("iban", re.sub(r"\s", "", iban).upper() if iban else None)
    bic = _s(_first(d.get("BT-86")))
    put("bic", bic)

    reverse = False
    per_rate: dict[str, list[Decimal]] = {}
    for row in d.get("BG-23") or []:
        try:
            rate = Decimal(str(row.get("BT-119", "0")))
            base = Decimal(str(row.get("BT-116", "0")))
            tax = Decimal(str(row.get("BT-117", "0")))
        except InvalidOperation:
            continue
        if row.get("BT-118") == "AE":
            reverse = True
        key = format_rate(rate)
        acc = per_rate.setdefault(key, [Decimal(0), Decimal(0)])
        acc[0] += base
        acc[1] += tax
    for key, (base, tax) in per_rate.items():
        put(f"vat_{key}_net", format_amount(base))
        put(f"vat_{key}_amount", format_amount(tax))
    if "vat_total" not in values and per_rate:
        put("vat_total", format_amount(sum((t for _, t in per_rate.values()), Decimal(0))))
    put("reverse_charge", "true" if reverse else "false")

    type_code = _s(d.get("BT-3")) or ""
    gross = values.get("gross_total", "")
    credit = (
        flavor == "ubl-2.1-creditnote" or type_code in CREDIT_NOTE_CODES or gross.startswith("-")
    )
    put("is_credit_note", "true" if credit else "false")

    raw_terms = d.get("BT-20")
    terms_list: list[Any] = raw_terms if isinstance(raw_terms, list) else [raw_terms]
    terms_text = " ".join(str(t) for t in terms_list if t)
    if terms_text:
        for name, value in _terms(terms_text):
            if name == "_skonto_days":
                issue = values.get("issue_date")
                if issue and "skonto_date" not in values:
                    day = date.fromisoformat(issue) + timedelta(days=int(value))
                    put("skonto_date", day.isoformat())
            else:
                put(name, value)
    if "due_date" not in values and "payment_terms_days" in values and "issue_date" in values:
        due = date.fromisoformat(values["issue_date"]) + timedelta(
            days=int(values["payment_terms_days"])
        )
        put("due_date", due.isoformat())
    return [Field(name, value, 1.0, "einvoice") for name, value in values.items()]


def _ln(*names: str) -> str:
    """XPath by local names, namespace-agnostic (ZUGFeRD 1.0 prefixes vary between producers)."""
    return "//" + "/".join(f"*[local-name()='{n}']" for n in names)


_SUMMATION = "SpecifiedTradeSettlementMonetarySummation"
_ZF1 = {
    "invoice_number": _ln("HeaderExchangedDocument", "ID"),
    "issue_date": _ln("HeaderExchangedDocument", "IssueDateTime", "DateTimeString"),
    "gross_total": _ln(_SUMMATION, "GrandTotalAmount"),
    "net_total": _ln(_SUMMATION, "TaxBasisTotalAmount"),
    "vat_total": _ln(_SUMMATION, "TaxTotalAmount"),
    "seller_name": _ln("SellerTradeParty", "Name"),
    "buyer_name": _ln("BuyerTradeParty", "Name"),
    "currency": _ln("InvoiceCurrencyCode"),
}


def _zugferd1(root: Any) -> list[Field]:
    """The key fields of a ZUGFeRD 1.0 document (not parsed by the ``factur-x`` library)."""
    out: list[Field] = []
    for name, xpath in _ZF1.items():
        nodes = root.xpath(xpath)
        if not nodes or not (nodes[0].text or "").strip():
            continue
        value = nodes[0].text.strip()
        if name == "issue_date" and re.fullmatch(r"\d{8}", value):
            value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
        elif name.endswith("_total"):
            value = _amount(value) or value
        out.append(Field(name, value, 1.0, "einvoice"))
    return out


def read_einvoice(data: bytes) -> EInvoice | None:
    """Read an e-invoice from a PDF or XML file's bytes; ``None`` if it is not one."""
    xml = _xml_bytes(data)
    if xml is None:
        return None
    try:
        root = etree.fromstring(
            xml, parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
        flavor = str(facturx.get_flavor(root))
    except Exception:
        return None
    if flavor == "zugferd":
        try:
            level = str(facturx.get_level(root, flavor))
        except Exception:
            level = "unknown"
        fields = _zugferd1(root)
        if not fields:
            return None
        profile = "basicwl" if level == "basic" else f"zugferd1-{level}"
        return EInvoice(fields, profile, flavor, xml)
    if flavor not in ("factur-x", "ubl-2.1-invoice", "ubl-2.1-creditnote"):
        return None
    try:
        parsed = facturx.parse_ubl_cii_xml(root, check_xsd=False, date_as="string")
    except Exception as exc:
        log.warning("e-invoice XML could not be mapped: %s", exc)
        return None
    if not parsed.get("BT-1"):
        return None
    buyer = parsed.get("BG-7") or {}
    address = {
        k: str(buyer[src])
        for k, src in (
            ("name", "name"),
            ("street", "addr_l1"),
            ("zip", "postcode"),
            ("city", "city"),
        )
        if buyer.get(src)
    }
    return EInvoice(map_en16931(parsed, flavor), _profile(root, flavor), flavor, xml, address)


def parse_einvoice(data: bytes) -> list[Field] | None:
    """Canonical fields (``source="einvoice"``, confidence 1.0) of an e-invoice, else ``None``."""
    result = read_einvoice(data)
    return result.fields if result else None
