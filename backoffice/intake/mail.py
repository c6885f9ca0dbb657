"""Unpacking containers: e-mails (RFC 822 and Outlook ``.msg``) and ZIP archives.

Post arrives by e-mail as often as on paper. The message itself is received and stored first
like any original (:mod:`backoffice.intake.receive`); :func:`unpack_intake` then takes it apart.
Every attachment (PDF, scans, XML e-invoices, ZIP archives, forwarded e-mails …) is received as a
*child* intake of its own, with the container's client hint and ``parent_id`` pointing back, and
containers inside containers are unpacked in turn. A message without attachments is the letter
itself: its text is rendered to a simple PDF (with the From/To/Date/Subject block) and received
as the child, so that it runs through the same stages as scanned post.

Mail is hostile input. The parsers here never let an exception other than :class:`UnpackError`
escape, whatever the bytes: broken MIME is read as far as it goes, headers in unlabelled 8-bit
charsets are decoded as UTF-8 or Windows-1252, parts over the size limit, encrypted parts and
unsafe ZIP members are quarantined with a German reason while the rest of the container is
unpacked, and ZIP bombs are stopped by limits on the total unpacked bytes, the number of members
and the nesting depth (``IntakeSettings.max_unpacked_bytes``, ``max_container_members``,
``max_nesting_depth``). Member names are only ever used as labels: nothing here touches the file
system, so ``../`` names cannot escape anywhere, and they are refused all the same.

Unpacking is idempotent. Children are content-addressed (the same bytes are the same intake), the
letter PDF is rendered deterministically, and the container moves to ``unpacked`` together with its
quarantine entries in one transaction at the end; a crash in between leaves it ``received`` and a
second run completes it without creating anything twice.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import html
import io
import logging
import quopri
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderParseError
from email.generator import BytesGenerator
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from sqlalchemy import select

from backoffice.archive.audit import record_event
from backoffice.archive.storage import ObjectStore
from backoffice.config import IntakeSettings, MailRoute, Settings
from backoffice.db import Catalog
from backoffice.intake.quarantine import quarantine_intake
from backoffice.intake.receive import receive_bytes
from backoffice.intake.routing_rules import MessageAddresses, route_message
from backoffice.intake.sniff import SUFFIX_FOR
from backoffice.models import Client, Intake, IntakeStatus, QuarantineEntry

log = logging.getLogger(__name__)

MESSAGE_TYPE = "message/rfc822"
OUTLOOK_TYPE = "application/vnd.ms-outlook"
ZIP_TYPE = "application/zip"
CONTAINER_TYPES = frozenset({MESSAGE_TYPE, OUTLOOK_TYPE, ZIP_TYPE})
"""Media types (as sniffed at receipt) that are unpacked into child intakes."""

LETTER_FILENAME = "E-Mail-Text.pdf"

_MAX_MIME_DEPTH = 60
"""Nesting of multiparts inside one message. Real mail stays below ten levels; the limit keeps
the recursive walk far from Python's recursion limit on crafted input."""

_MAX_BODY_CHARS = 200_000
"""Text rendered into a letter PDF; beyond that the text is cut with a note (the full message
is stored as the original)."""

_SKIPPED_TYPES = {
    "application/pkcs7-signature": "S/MIME-Signatur",
    "application/x-pkcs7-signature": "S/MIME-Signatur",
    "application/pgp-signature": "PGP-Signatur",
    "application/pgp-keys": "PGP-Schlüssel",
    "text/vcard": "Visitenkarte",
    "text/x-vcard": "Visitenkarte",
    "text/calendar": "Kalendereintrag",
    "message/delivery-status": "Zustellbericht",
    "message/disposition-notification": "Lesebestätigung",
}
"""Parts that are never post: they stay in the stored message but become no documents."""

_ENCRYPTED_TYPES = {
    "application/pkcs7-mime",
    "application/x-pkcs7-mime",
    "multipart/encrypted",
}

_JUNK_MEMBERS = re.compile(r"(^|/)(__MACOSX/|\._|\.DS_Store$|Thumbs\.db$|desktop\.ini$)", re.I)
"""Files that archivers add on their own (macOS resource forks, Windows thumbnails)."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FOLD = re.compile(r"\r?\n[ \t]*")


class UnpackError(Exception):
    """A container cannot be unpacked at all; the message is shown to staff as the reason."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class MailFormatError(UnpackError):
    """The bytes are not a readable e-mail."""


class ArchiveFormatError(UnpackError):
    """The bytes are not a readable (or not an acceptable) ZIP archive."""


@dataclass(frozen=True)
class Part:
    """One file found in a container, to be received as a child intake."""

    name: str
    data: bytes
    declared_type: str = "application/octet-stream"
    """The media type the container claimed (MIME header); receipt still sniffs the bytes."""
    path: str = ""
    """Where it sat inside the container (a ZIP member's folder path), for ``source_ref``."""


@dataclass(frozen=True)
class Rejected:
    """A part that is not unpacked, with the reason staff read in the quarantine list."""

    name: str
    reason: str
    detail: str | None = None


@dataclass
class Budget:
    """What is left of the unpacking limits for one container and everything nested in it.

    Shared down the whole tree, so that a bomb of nested archives, each harmless on its own,
    still stops at ``max_unpacked_bytes`` in total.
    """

    remaining_bytes: int

    def take(self, size: int) -> bool:
        """Reserve ``size`` bytes; False (and nothing reserved) if they do not fit any more."""
        if size > self.remaining_bytes:
            return False
        self.remaining_bytes -= size
        return True


@dataclass
class ParsedMessage:
    """What the unpacker needs from an e-mail, decoded into clean text (no surrogates, no NUL)."""

    message_id: str
    """``<…>`` from the header, or a content hash ``<sha256-…@backoffice.invalid>`` without one."""
    has_message_id: bool
    sender: str = ""
    to: str = ""
    cc: str = ""
    date: str = ""
    subject: str = ""
    addresses: MessageAddresses = field(default_factory=MessageAddresses)
    body_text: str = ""
    attachments: list[Part] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Parts left out on purpose (signatures, logos), for the audit trail."""
    defects: list[str] = field(default_factory=list)
    """Structural damage the parser worked around (``CloseBoundaryNotFoundDefect`` …)."""
    fingerprint: str = ""
    """Hash over the identifying headers and every part's content, blind to transport headers
    (``Received`` …): the same message delivered twice has the same fingerprint."""


# --- text helpers ------------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """Text safe for the catalog and PDFs: 8-bit bytes the parser could not decode become
    UTF-8 or Windows-1252 characters, control characters (NUL breaks PostgreSQL) are dropped."""
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        raw = value.encode("utf-8", "surrogateescape")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode("cp1252", "replace")
    value = value.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", value)


def _decode_bytes(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", "replace")


def decode_header_text(raw: str) -> str:
    """A header value as readable text: unfolded, RFC 2047 words and raw 8-bit decoded."""
    value = clean_text(_FOLD.sub(" ", raw)).strip()
    if "=?" not in value:
        return value
    try:
        chunks = decode_header(value)
    except (HeaderParseError, ValueError, IndexError, AssertionError):
        return value
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            out.append(_decode_bytes(chunk, None if charset in (None, "unknown-8bit") else charset))
        else:
            out.append(chunk)
    return clean_text("".join(out)).strip()


def _raw_header(msg: Message, name: str) -> str | None:
    """The first raw value of header ``name``, bypassing ``policy.default``'s header objects.

    ``policy.default`` replaces undecodable 8-bit bytes with U+FFFD and can raise on crafted
    headers; the raw value still carries the bytes (as surrogate escapes), so Latin-1 headers
    from old mail programs are recovered and nothing can fail here.
    """
    lname = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == lname:
            return str(value)
    return None


def _raw_headers(msg: Message, name: str) -> list[str]:
    lname = name.lower()
    return [str(v) for k, v in msg.raw_items() if k.lower() == lname]


def _header(msg: Message, name: str) -> str:
    raw = _raw_header(msg, name)
    return decode_header_text(raw) if raw is not None else ""


def _compat_view(msg: Message, *names: str) -> Message:
    """A lenient (``compat32``) message holding only ``names``, for parameter parsing."""
    view = Message()
    for name in names:
        raw = _raw_header(msg, name)
        if raw is not None:
            view[name] = clean_text(_FOLD.sub(" ", raw))
    return view


def _content_type(msg: Message) -> str:
    view = _compat_view(msg, "content-type")
    view.set_default_type(msg.get_default_type())
    return view.get_content_type()


def _disposition(msg: Message) -> str | None:
    raw = _raw_header(msg, "content-disposition")
    if raw is None:
        return None
    return clean_text(raw).split(";", 1)[0].strip().lower() or None


def _param(view: Message, name: str, header: str) -> str | None:
    value: Any = view.get_param(name, header=header)
    if value is None or value == "":
        return None
    text = collapse_rfc2231_value(value) if isinstance(value, tuple) else str(value)
    return decode_header_text(text) or None


def _filename(msg: Message) -> str | None:
    view = _compat_view(msg, "content-disposition", "content-type")
    return _param(view, "filename", "content-disposition") or _param(view, "name", "content-type")


def _charset(msg: Message) -> str | None:
    return _param(_compat_view(msg, "content-type"), "charset", "content-type")


def safe_name(name: str | None, fallback: str) -> str:
    """A label for a part: the last path component, printable, not hidden, not too long.

    Names come from senders and archivers and are only ever used as labels (``filename``,
    ``source_ref``), never as paths; this just keeps them readable.
    """
    text = clean_text(name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = re.sub(r"\s+", " ", text).strip().lstrip(".").strip()
    if not text:
        return fallback
    if len(text) > 150:
        stem, dot, suffix = text.rpartition(".")
        text = (
            (stem[: 140 - len(suffix)] + dot + suffix) if dot and len(suffix) <= 8 else text[:150]
        )
    return text


def _suffix_for(media_type: str) -> str:
    return SUFFIX_FOR.get(
        media_type, {"text/plain": ".txt", "text/html": ".html"}.get(media_type, ".bin")
    )


def _size(n: int) -> str:
    """Bytes for people: ``12,5 MB``."""
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB".replace(".", ",")
    return f"{n / 1024 / 1024:.1f} MB".replace(".", ",")


class _HtmlText(HTMLParser):
    """Reduces HTML mail to its text: block elements become line breaks, scripts vanish."""

    _BLOCK = frozenset(
        (
            *("address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "footer"),
            *("h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre"),
            *("section", "table", "tbody", "thead", "tfoot", "tr", "ul"),
        )
    )
    _HIDDEN = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")
        elif tag == "td":
            self.parts.append("  ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The readable text of an HTML body (stdlib only; mail HTML needs no real renderer)."""
    parser = _HtmlText()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # HTMLParser on badly broken markup
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- RFC 822 messages --------------------------------------------------------------------------


@dataclass
class _Leaf:
    part: Message
    content_type: str
    disposition: str | None
    filename: str | None
    payload: bytes


def _walk(msg: Message, depth: int, leaves: list[_Leaf], state: _WalkState) -> None:
    if depth > _MAX_MIME_DEPTH:
        raise MailFormatError(
            f"Die E-Mail ist mehr als {_MAX_MIME_DEPTH} Ebenen tief verschachtelt und wird nicht "
            "entpackt (beschädigt oder absichtlich so gebaut)."
        )
    content_type = _content_type(msg)
    if content_type in _ENCRYPTED_TYPES:
        state.rejected.append(
            Rejected(
                safe_name(_filename(msg), f"teil-{len(leaves) + 1}.p7m"),
                "Der Teil ist verschlüsselt (S/MIME oder PGP) und kann ohne Schlüssel nicht "
                "gelesen werden.",
            )
        )
        return
    payload = msg.get_payload()
    if content_type in (MESSAGE_TYPE, "message/global") and isinstance(payload, list):
        state.count_part()
        try:
            flat = _flatten(msg)
        except MailFormatError as exc:
            state.rejected.append(
                Rejected(
                    safe_name(_filename(msg), f"nachricht-{len(leaves) + 1}.eml"),
                    exc.reason,
                    exc.detail,
                )
            )
            return
        leaves.append(_Leaf(msg, MESSAGE_TYPE, _disposition(msg), _filename(msg), flat))
        return
    if isinstance(payload, list):
        for sub in payload:
            if isinstance(sub, Message):
                _walk(sub, depth + 1, leaves, state)
        return
    state.count_part()
    if content_type.startswith("multipart/"):
        state.rejected.append(
            Rejected(
                safe_name(_filename(msg), f"teil-{len(leaves) + 1}"),
                "Ein Teil der E-Mail ist als mehrteilig gekennzeichnet, hat aber keine "
                "Teilegrenze (boundary); er konnte nicht zerlegt werden.",
            )
        )
        return
    try:
        data = msg.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, AssertionError) as exc:
        state.rejected.append(
            Rejected(
                safe_name(_filename(msg), f"teil-{len(leaves) + 1}"),
                "Der Teil ist falsch kodiert und konnte nicht gelesen werden.",
                str(exc),
            )
        )
        return
    body = data if isinstance(data, bytes) else b""
    leaves.append(_Leaf(msg, content_type, _disposition(msg), _filename(msg), body))


@dataclass
class _WalkState:
    limits: IntakeSettings
    rejected: list[Rejected] = field(default_factory=list)
    parts: int = 0

    def count_part(self) -> None:
        self.parts += 1
        if self.parts > self.limits.max_container_members:
            raise MailFormatError(
                f"Die E-Mail hat mehr als {self.limits.max_container_members} Teile "
                "(Einstellung intake.max_container_members) und wird nicht entpackt."
            )


def _flatten(msg: Message) -> bytes:
    """An attached message (``message/rfc822`` part) as bytes of its own.

    ``compat32`` without refolding writes the headers back as they came, 8-bit bytes included;
    ``policy.default`` would re-encode them.
    """
    inner = msg.get_payload(0)
    if not isinstance(inner, Message):
        raise MailFormatError("Eine angehängte E-Mail ist leer oder beschädigt.")
    buf = io.BytesIO()
    gen = BytesGenerator(
        buf, mangle_from_=False, policy=policy.compat32.clone(max_line_length=0, linesep="\r\n")
    )
    try:
        gen.flatten(inner)
    except (ValueError, TypeError, LookupError, UnicodeError, AttributeError) as exc:
        raise MailFormatError(
            "Eine angehängte E-Mail ist beschädigt und konnte nicht gelesen werden.", str(exc)
        ) from exc
    data = buf.getvalue()
    # RFC 2046 allows only 7bit/8bit/binary here, but Exchange and others send attached mails
    # base64- or QP-encoded; the parser then sees the encoded text as a message without headers.
    encoding = clean_text(_raw_header(msg, "content-transfer-encoding") or "").strip().lower()
    try:
        if encoding == "base64":
            data = base64.b64decode(data)
        elif encoding == "quoted-printable":
            data = quopri.decodestring(data)
    except (binascii.Error, ValueError) as exc:
        raise MailFormatError(
            "Eine angehängte E-Mail ist falsch kodiert und konnte nicht gelesen werden.", str(exc)
        ) from exc
    return data


def _addresses(*values: str) -> tuple[str, ...]:
    found: list[str] = []
    for _name, raw in getaddresses([v for v in values if v]):
        addr = raw.strip().strip("<>").lower()
        if "@" in addr and addr not in found:
            found.append(addr)
    return tuple(found)


def _message_id(raw: str | None) -> str | None:
    if not raw:
        return None
    text = clean_text(_FOLD.sub(" ", raw)).strip()
    match = re.search(r"<[^<>\s]{1,250}>", text)
    if match:
        return match.group(0)
    token = text.split()[0] if text.split() else ""
    return f"<{token[:250]}>" if token and "<" not in token and ">" not in token else None


def _format_date(raw: str) -> str:
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return raw
    if when.tzinfo is None:
        return when.strftime("%d.%m.%Y %H:%M")
    return when.strftime("%d.%m.%Y %H:%M %z")


def _fingerprint(headers: Sequence[str], leaves: Sequence[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for value in headers:
        digest.update(value.encode("utf-8", "surrogateescape") + b"\n")
    for content_type, payload in leaves:
        digest.update(content_type.encode() + b":" + hashlib.sha256(payload).digest())
    return digest.hexdigest()


def parse_message(
    data: bytes, limits: IntakeSettings, budget: Budget | None = None
) -> ParsedMessage:
    """Read an RFC 822 message into headers, body text, attachments and rejected parts.

    Raises only :class:`MailFormatError` (not an e-mail, too many parts, nested too deep); any
    damage below that is worked around and listed in ``defects``/``rejected``.
    """
    budget = budget if budget is not None else Budget(limits.max_unpacked_bytes)
    try:
        msg = BytesParser(policy=policy.default).parsebytes(data)
    except RecursionError as exc:
        raise MailFormatError(
            "Die E-Mail ist zu tief verschachtelt, um gelesen zu werden."
        ) from exc
    if not any(True for _ in msg.raw_items()):
        raise MailFormatError("Die Datei ist keine lesbare E-Mail (keine Kopfzeilen gefunden).")
    state = _WalkState(limits)
    leaves: list[_Leaf] = []
    try:
        _walk(msg, 0, leaves, state)
    except RecursionError as exc:
        raise MailFormatError(
            "Die E-Mail ist zu tief verschachtelt, um gelesen zu werden."
        ) from exc

    raw_id = _raw_header(msg, "message-id")
    identity = [
        _FOLD.sub(" ", _raw_header(msg, h) or "").strip()
        for h in ("message-id", "date", "from", "to", "cc", "subject")
    ]
    fingerprint = _fingerprint(identity, [(leaf.content_type, leaf.payload) for leaf in leaves])
    message_id = _message_id(raw_id)
    result = ParsedMessage(
        message_id=message_id or f"<sha256-{fingerprint[:40]}@backoffice.invalid>",
        has_message_id=message_id is not None,
        sender=_header(msg, "from"),
        to=_header(msg, "to"),
        cc=_header(msg, "cc"),
        date=_format_date(_header(msg, "date")),
        subject=_header(msg, "subject"),
        rejected=state.rejected,
        fingerprint=fingerprint,
    )
    envelope = [
        decode_header_text(v)
        for h in ("delivered-to", "x-original-to", "envelope-to")
        for v in _raw_headers(msg, h)
    ]
    result.addresses = MessageAddresses(
        recipients=_addresses(*envelope, result.to, result.cc),
        senders=_addresses(result.sender, _header(msg, "sender")),
    )
    result.defects = sorted(
        {type(d).__name__ for p in msg.walk() for d in getattr(p, "defects", [])}
    )
    _sort_leaves(result, leaves, limits, budget)
    return result


def _sort_leaves(
    result: ParsedMessage, leaves: list[_Leaf], limits: IntakeSettings, budget: Budget
) -> None:
    """Split the leaves into body text, attachments, skipped and rejected parts."""
    plain: list[str] = []
    markup: str | None = None
    candidates: list[_Leaf] = []
    for leaf in leaves:
        is_text = leaf.content_type in ("text/plain", "text/html")
        if is_text and leaf.disposition != "attachment" and leaf.filename is None:
            text = _decode_bytes(leaf.payload, _charset(leaf.part))
            if leaf.content_type == "text/plain":
                plain.append(text)  # some mail programs split the text around inline files
            elif markup is None:
                markup = text
            continue
        candidates.append(leaf)
    text = "\n".join(plain)
    result.body_text = clean_text(text if text.strip() else html_to_text(markup or ""))
    referenced = set(re.findall(r"cid:([^\"'\s>)]+)", markup or "", flags=re.I))
    for index, leaf in enumerate(candidates, start=1):
        name = safe_name(leaf.filename, f"anhang-{index}{_suffix_for(leaf.content_type)}")
        if leaf.content_type == MESSAGE_TYPE and not name.lower().endswith((".eml", ".msg")):
            name = safe_name(leaf.filename, f"weitergeleitete-nachricht-{index}") + ".eml"
        if leaf.content_type in _SKIPPED_TYPES:
            result.skipped.append(f"{name} ({_SKIPPED_TYPES[leaf.content_type]})")
            continue
        content_id = (_raw_header(leaf.part, "content-id") or "").strip().strip("<>")
        if (
            leaf.content_type.startswith("image/")
            and leaf.disposition != "attachment"
            and content_id
            and content_id in referenced
            and len(leaf.payload) < limits.mail.inline_image_min_bytes
        ):
            result.skipped.append(f"{name} (Bild im E-Mail-Text, z. B. Logo)")
            continue
        rejected = _check_size(name, len(leaf.payload), limits, budget, "Der Anhang")
        if rejected is not None:
            result.rejected.append(rejected)
            continue
        result.attachments.append(Part(name, leaf.payload, leaf.content_type))


def _too_large(name: str, size: int, limits: IntakeSettings, what: str) -> Rejected:
    return Rejected(
        name,
        f"{what} „{name}“ ist mit {_size(size)} größer als erlaubt "
        f"({_size(limits.max_file_bytes)}, Einstellung intake.max_file_bytes).",
    )


def _check_size(
    name: str, size: int, limits: IntakeSettings, budget: Budget, what: str
) -> Rejected | None:
    if size == 0:
        return Rejected(name, f"{what} „{name}“ ist leer (0 Byte).")
    if size > limits.max_file_bytes:
        return _too_large(name, size, limits, what)
    if not budget.take(size):
        return Rejected(
            name,
            f"{what} „{name}“ wurde nicht entpackt: zusammen mit den übrigen Teilen wären mehr "
            f"als {_size(limits.max_unpacked_bytes)} entpackt worden "
            "(Einstellung intake.max_unpacked_bytes).",
        )
    return None


# --- Outlook .msg ------------------------------------------------------------------------------


def parse_outlook(
    data: bytes, limits: IntakeSettings, budget: Budget | None = None
) -> ParsedMessage:
    """Read an Outlook ``.msg`` file into the same shape as :func:`parse_message`.

    ``extract-msg`` parses the OLE compound file. It is imported here, not at module level,
    because importing it takes over a second and it is only needed when a ``.msg`` arrives.
    Any failure of that third-party parser on hostile bytes becomes a :class:`MailFormatError`.
    """
    budget = budget if budget is not None else Budget(limits.max_unpacked_bytes)
    try:
        import extract_msg

        msg = extract_msg.openMsg(data, strict=True)
    except ImportError as exc:
        raise MailFormatError(
            "Outlook-Dateien (.msg) können nicht gelesen werden: das Paket extract-msg fehlt."
        ) from exc
    except Exception as exc:
        raise MailFormatError(
            "Die Datei ist keine lesbare Outlook-E-Mail (.msg): beschädigt oder eine andere "
            "Office-Datei im alten Format (z. B. .doc, .xls), die nicht verarbeitet wird.",
            repr(exc),
        ) from exc
    try:
        return _outlook_message(msg, limits, budget)
    except UnpackError:
        raise
    except Exception as exc:
        raise MailFormatError(
            "Die Outlook-Datei (.msg) konnte nicht vollständig gelesen werden.", repr(exc)
        ) from exc
    finally:
        msg.close()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return clean_text(_decode_bytes(value, None))
    return clean_text(str(value))


def _outlook_message(msg: Any, limits: IntakeSettings, budget: Budget) -> ParsedMessage:
    attachments: list[tuple[str, bytes, str]] = []
    rejected: list[Rejected] = []
    skipped: list[str] = []
    raw_attachments = list(getattr(msg, "attachments", []) or [])
    if len(raw_attachments) > limits.max_container_members:
        raise MailFormatError(
            f"Die Outlook-Datei hat mehr als {limits.max_container_members} Anhänge "
            "(Einstellung intake.max_container_members) und wird nicht entpackt."
        )
    for index, att in enumerate(raw_attachments, start=1):
        name = f"anhang-{index}"
        try:  # one unreadable attachment must not cost the others
            name = safe_name(
                _text(getattr(att, "longFilename", None) or getattr(att, "shortFilename", None))
                or _text(getattr(att, "displayName", None)),
                name,
            )
            payload = getattr(att, "data", None)
            if isinstance(payload, bytes):
                declared = _text(getattr(att, "mimetype", None)) or "application/octet-stream"
                attachments.append((name, payload, declared))
            elif payload is not None and hasattr(payload, "exportBytes"):  # an attached e-mail
                if not name.lower().endswith(".msg"):
                    name += ".msg"
                attachments.append((name, bytes(payload.exportBytes()), OUTLOOK_TYPE))
            else:
                skipped.append(f"{name} (Verknüpfung oder unbekannte Anhangsart)")
        except Exception as exc:
            rejected.append(
                Rejected(
                    name,
                    f"Der Anhang „{name}“ ist beschädigt und konnte nicht gelesen werden.",
                    repr(exc),
                )
            )
    body = _text(msg.body)
    if not body.strip():
        body = html_to_text(_text(getattr(msg, "htmlBody", None)))
    identity = [
        _text(getattr(msg, attr, None))
        for attr in ("messageId", "date", "sender", "to", "cc", "subject")
    ]
    fingerprint = _fingerprint(
        identity, [(t, d) for _n, d, t in attachments] + [("text/plain", body.encode())]
    )
    message_id = _message_id(_text(msg.messageId))
    when = getattr(msg, "date", None)
    date = when.strftime("%d.%m.%Y %H:%M %z").strip() if isinstance(when, datetime) else _text(when)
    header_dict: dict[str, Any] = {}
    try:
        header_dict = dict(msg.headerDict or {})
    except Exception:  # a broken transport-header block is not worth failing the message for
        header_dict = {}
    envelope = [_text(header_dict.get(h)) for h in ("Delivered-To", "X-Original-To")]
    result = ParsedMessage(
        message_id=message_id or f"<sha256-{fingerprint[:40]}@backoffice.invalid>",
        has_message_id=message_id is not None,
        sender=_text(msg.sender),
        to=_text(msg.to),
        cc=_text(msg.cc),
        date=date,
        subject=_text(msg.subject),
        body_text=body,
        rejected=rejected,
        skipped=skipped,
        fingerprint=fingerprint,
    )
    result.addresses = MessageAddresses(
        recipients=_addresses(*envelope, result.to, result.cc), senders=_addresses(result.sender)
    )
    for name, payload, declared in attachments:
        problem = _check_size(name, len(payload), limits, budget, "Der Anhang")
        if problem is not None:
            rejected.append(problem)
        else:
            result.attachments.append(Part(name, payload, declared))
    return result


# --- ZIP archives ------------------------------------------------------------------------------


@dataclass
class ArchiveContents:
    parts: list[Part] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its creator meant it: without the UTF-8 flag zipfile decodes
    CP437, but many tools (7-Zip, macOS) write UTF-8 without setting the flag."""
    name = info.filename
    if not info.flag_bits & 0x800:
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("utf-8")
    return clean_text(name)


def _unsafe_path(name: str) -> bool:
    normal = name.replace("\\", "/")
    return (
        normal.startswith("/")
        or bool(re.match(r"^[A-Za-z]:", normal))
        or ".." in normal.split("/")
        or "\x00" in name
    )


def read_archive(
    data: bytes, limits: IntakeSettings, budget: Budget | None = None
) -> ArchiveContents:
    """The files in a ZIP archive, read into memory under the unpacking limits.

    Raises :class:`ArchiveFormatError` when the archive as a whole is unreadable or over a limit
    (too many members, more bytes than allowed: a ZIP bomb is refused before anything is
    decompressed, judged by the sizes in the central directory, and reading stops at the limit
    whatever those sizes claim). Single bad members are listed in ``rejected``.
    """
    budget = budget if budget is not None else Budget(limits.max_unpacked_bytes)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        RuntimeError,
        OSError,
        ValueError,
        EOFError,
        IndexError,
        UnicodeDecodeError,
        struct.error,
        zlib.error,
    ) as exc:
        raise ArchiveFormatError(
            "Die ZIP-Datei ist beschädigt oder unvollständig und kann nicht geöffnet werden.",
            repr(exc),
        ) from exc
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > limits.max_container_members:
            raise ArchiveFormatError(
                f"Die ZIP-Datei enthält {len(infos)} Dateien; erlaubt sind höchstens "
                f"{limits.max_container_members} (Einstellung intake.max_container_members). "
                "Nichts wurde entpackt."
            )
        declared = sum(max(0, i.file_size) for i in infos)
        if declared > budget.remaining_bytes:
            raise ArchiveFormatError(
                f"Die ZIP-Datei würde entpackt {_size(declared)} ergeben; erlaubt sind "
                f"{_size(limits.max_unpacked_bytes)} (Einstellung intake.max_unpacked_bytes). "
                "Verdacht auf eine ZIP-Bombe, nichts wurde entpackt."
            )
        contents = ArchiveContents()
        for info in infos:
            _read_member(archive, info, limits, budget, contents)
        return contents


def _read_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limits: IntakeSettings,
    budget: Budget,
    contents: ArchiveContents,
) -> None:
    name = _member_name(info)
    label = name[:300]
    if _unsafe_path(name):
        contents.rejected.append(
            Rejected(
                label,
                f"Der Eintrag „{label}“ hat einen unzulässigen Pfad (absolut oder mit „..“) und "
                "wurde nicht entpackt.",
            )
        )
        return
    if _JUNK_MEMBERS.search(name):
        contents.skipped.append(f"{label} (Verwaltungsdatei des Packprogramms)")
        return
    if stat.S_ISLNK(info.external_attr >> 16):
        contents.rejected.append(
            Rejected(
                label, f"Der Eintrag „{label}“ ist ein symbolischer Link und wurde nicht entpackt."
            )
        )
        return
    if info.flag_bits & 0x1:
        contents.rejected.append(
            Rejected(
                label,
                f"Der Eintrag „{label}“ ist passwortgeschützt; ohne Passwort kann er nicht "
                "entpackt werden.",
            )
        )
        return
    if info.file_size > limits.max_file_bytes:
        contents.rejected.append(_too_large(label, info.file_size, limits, "Der Eintrag"))
        return
    try:
        body = _read_capped(archive, info, min(limits.max_file_bytes, budget.remaining_bytes))
    except _TooLargeError:
        contents.rejected.append(
            Rejected(
                label,
                f"Der Eintrag „{label}“ ist größer, als das Verzeichnis der ZIP-Datei angibt, "
                "und wurde nicht entpackt (Verdacht auf eine ZIP-Bombe).",
            )
        )
        return
    except (
        zipfile.BadZipFile,
        NotImplementedError,
        RuntimeError,
        OSError,
        ValueError,
        EOFError,
        zlib.error,
    ) as exc:
        contents.rejected.append(
            Rejected(
                label,
                f"Der Eintrag „{label}“ ist beschädigt oder mit einem nicht unterstützten "
                "Verfahren gepackt und wurde nicht entpackt.",
                repr(exc),
            )
        )
        return
    problem = _check_size(label, len(body), limits, budget, "Der Eintrag")
    if problem is not None:
        contents.rejected.append(problem)
        return
    contents.parts.append(Part(safe_name(name, "datei"), body, path=name[:500]))


class _TooLargeError(Exception):
    pass


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Read a member in chunks, never holding more than ``cap`` bytes."""
    chunks: list[bytes] = []
    total = 0
    with archive.open(info) as fh:
        while chunk := fh.read(1024 * 1024):
            total += len(chunk)
            if total > cap:
                raise _TooLargeError
            chunks.append(chunk)
    return b"".join(chunks)


# --- the letter PDF ----------------------------------------------------------------------------

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


@functools.cache
def _fonts() -> tuple[str, str, bool]:
    """(regular, bold, unicode) font names: DejaVu Sans if installed (covers umlauts and most
    scripts), else the PDF base fonts, which only cover Windows-1252."""
    for folder in _FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont("BackofficeSans", str(regular)))
            pdfmetrics.registerFont(TTFont("BackofficeSans-Bold", str(bold)))
            return "BackofficeSans", "BackofficeSans-Bold", True
    return "Helvetica", "Helvetica-Bold", False


def render_letter(message: ParsedMessage) -> bytes:
    """The message as a simple A4 letter PDF: header block, then the text.

    Rendered with ``invariant`` output, so the same message always gives the same bytes and a
    second unpacking finds the letter already received instead of making another document.
    """
    regular, bold, unicode_font = _fonts()

    def fit(text: str) -> str:
        text = text.replace("\t", "    ")
        return text if unicode_font else text.encode("cp1252", "replace").decode("cp1252")

    width, height = A4
    left, top, bottom = 25 * mm, height - 25 * mm, 20 * mm
    usable = width - 2 * left
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=1)
    pdf.setTitle(fit(message.subject or "E-Mail"))
    pdf.setCreator("Backoffice")
    y = top

    def line(text: str, font: str, size: float, gap: float = 1.35) -> None:
        nonlocal y
        for piece in simpleSplit(fit(text), font, size, usable) or [""]:
            if y < bottom:
                pdf.showPage()
                y = top
            pdf.setFont(font, size)
            pdf.drawString(left, y, piece)
            y -= size * gap

    for label, value in (
        ("Von", message.sender),
        ("An", message.to),
        ("Cc", message.cc),
        ("Datum", message.date),
        ("Betreff", message.subject),
    ):
        if value or label in ("Von", "Betreff"):
            line(f"{label}: {value or '–'}", bold if label == "Betreff" else regular, 10)
    y -= 4 * mm
    pdf.setLineWidth(0.5)
    pdf.line(left, y + 8, width - left, y + 8)
    y -= 2 * mm
    body = message.body_text.strip() or "(Die E-Mail enthält keinen Text.)"
    if len(body) > _MAX_BODY_CHARS:
        body = (
            body[:_MAX_BODY_CHARS]
            + "\n\n[… gekürzt; der vollständige Text steht in der gespeicherten E-Mail]"
        )
    for paragraph in body.splitlines():
        line(paragraph, regular, 10)
    y -= 4 * mm
    line(f"E-Mail {message.message_id}", regular, 7)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


# --- unpacking into child intakes --------------------------------------------------------------


@dataclass
class _Plan:
    """What one container yields: parts to receive (with their ``source_ref``) and the rest."""

    parts: list[tuple[Part, str]]
    rejected: list[tuple[Rejected, str]]
    skipped: list[str]
    detail: dict[str, Any]


def _ref(base: str, name: str) -> str:
    ref = f"{base}/{name}"
    return ref if len(ref) <= 1000 else ref[:1000]


def _message_plan(message: ParsedMessage) -> _Plan:
    """The children of an e-mail: its attachments, or the letter PDF if it has none."""
    base = message.message_id
    parts = [(p, _ref(base, p.name)) for p in message.attachments]
    if not message.attachments and not message.rejected:
        if not message.body_text.strip() and not message.subject.strip():
            raise MailFormatError("Die E-Mail enthält weder Text noch Anhänge.")
        letter = Part(LETTER_FILENAME, render_letter(message), "application/pdf")
        parts.append((letter, _ref(base, LETTER_FILENAME)))
    return _Plan(
        parts=parts,
        rejected=[(r, _ref(base, r.name)) for r in message.rejected],
        skipped=message.skipped,
        detail={
            "message_id": message.message_id,
            "subject": message.subject[:200],
            "letter": not message.attachments and not message.rejected,
            "defects": message.defects,
        },
    )


def _archive_plan(contents: ArchiveContents, base: str) -> _Plan:
    return _Plan(
        parts=[(p, _ref(base, p.path or p.name)) for p in contents.parts],
        rejected=[(r, _ref(base, r.name)) for r in contents.rejected],
        skipped=contents.skipped,
        detail={},
    )


@dataclass(frozen=True)
class _Container:
    id: int
    storage_key: str
    media_type: str
    source: str
    source_ref: str | None
    filename: str | None
    client_hint: str | None
    ancestors: tuple[int, ...]


def _children(catalog: Catalog, intake_id: int) -> list[int]:
    with catalog.session() as session:
        return list(
            session.scalars(
                select(Intake.id).where(Intake.parent_id == intake_id).order_by(Intake.id)
            )
        )


def _ancestors(session: Any, intake: Intake) -> tuple[int, ...]:
    """The ids above ``intake``, nearest first (bounded, in case a cycle was ever recorded)."""
    found: list[int] = []
    parent_id = intake.parent_id
    while parent_id is not None and parent_id not in found and len(found) < 100:
        found.append(parent_id)
        parent_id = session.scalar(select(Intake.parent_id).where(Intake.id == parent_id))
    return tuple(found)


def _load(catalog: Catalog, intake_id: int) -> _Container | None:
    """The container's facts, or ``None`` if it is no longer waiting to be unpacked."""
    with catalog.session() as session:
        intake = session.get_one(Intake, intake_id)
        if intake.status != IntakeStatus.RECEIVED:
            return None
        return _Container(
            id=intake.id,
            storage_key=intake.storage_key,
            media_type=intake.media_type or "",
            source=intake.source,
            source_ref=intake.source_ref,
            filename=intake.filename,
            client_hint=intake.client_hint,
            ancestors=_ancestors(session, intake),
        )


def _hint_from_clients(catalog: Catalog, parsed: ParsedMessage) -> str | None:
    """The client whose own address (as held in the catalog) received this message.

    Mail that arrives through a configured mailbox already carries a hint; a dropped ``.eml``
    or an upload does not, yet its recipient is usually the client's published address.
    """
    with catalog.session() as session:
        routes = [
            MailRoute(address_pattern=email, client_code=code)
            for code, email in session.execute(select(Client.code, Client.email))
            if email
        ]
    return route_message(parsed.addresses, routes).client_code if routes else None


def unpack_intake(
    catalog: Catalog, store: ObjectStore, intake_id: int, settings: Settings
) -> list[int] | None:
    """Unpack a container intake into child intakes; ``None`` if it is not a container.

    The hook for the split stage: call it first for every received intake, and split only
    when it returns ``None``. Returns the ids of the direct children (also when the intake was
    unpacked before); an unreadable container is quarantined and gives ``[]``.
    """
    with catalog.session() as session:
        media_type = session.get_one(Intake, intake_id).media_type
    if media_type not in CONTAINER_TYPES:
        return None
    return _unpack(catalog, store, intake_id, settings, Budget(settings.intake.max_unpacked_bytes))


def unpack_message(
    catalog: Catalog, store: ObjectStore, intake_id: int, settings: Settings
) -> list[int]:
    """Unpack an e-mail intake (``message/rfc822`` or Outlook ``.msg``; a ZIP works alike)."""
    children = unpack_intake(catalog, store, intake_id, settings)
    if children is None:
        raise ValueError(f"intake {intake_id} is not an e-mail or archive")
    return children


def _unpack(
    catalog: Catalog, store: ObjectStore, intake_id: int, settings: Settings, budget: Budget
) -> list[int]:
    """Unpack one container and, depth first, the containers found in it.

    Children are received one by one (each its own transaction, stored before recorded); the
    container's own outcome (``unpacked`` plus the quarantine entries of rejected parts) is
    written last, in one transaction, so an interruption anywhere leaves it ``received`` and a
    later call redoes the work without duplicates.
    """
    limits = settings.intake
    container = _load(catalog, intake_id)
    if container is None:
        return _children(catalog, intake_id)
    depth = len(container.ancestors) + 1
    if depth > limits.max_nesting_depth:
        quarantine_intake(
            catalog,
            intake_id,
            f"Die Datei liegt {depth - 1} Ebenen tief in anderen E-Mails oder ZIP-Dateien; "
            f"entpackt wird bis Ebene {limits.max_nesting_depth} "
            "(Einstellung intake.max_nesting_depth).",
        )
        return []
    data = store.get(container.storage_key)
    try:
        if container.media_type == ZIP_TYPE:
            base = container.source_ref or container.filename or f"intake-{intake_id}"
            plan = _archive_plan(read_archive(data, limits, budget), base)
        else:
            parse = parse_outlook if container.media_type == OUTLOOK_TYPE else parse_message
            parsed = parse(data, limits, budget)
            plan = _message_plan(parsed)
            if container.client_hint is None:
                container = replace(container, client_hint=_hint_from_clients(catalog, parsed))
    except UnpackError as exc:
        quarantine_intake(catalog, intake_id, exc.reason, exc.detail)
        return []

    received: list[dict[str, Any]] = []
    for part, ref in plan.parts:
        result = receive_bytes(
            catalog,
            store,
            part.data,
            source=container.source,
            source_ref=ref,
            filename=part.name,
            client_hint=container.client_hint,
            max_bytes=limits.max_file_bytes,
        )
        owned = _adopt(catalog, result.intake_id, container, ref)
        if owned and part.declared_type == MESSAGE_TYPE:
            adopt_as_message(catalog, result.intake_id, limits.max_file_bytes)
        received.append({"intake_id": result.intake_id, "name": part.name, "own": owned})
        if owned:
            _unpack_child(catalog, store, result.intake_id, settings, budget)

    with catalog.session() as session:
        intake = session.get_one(Intake, intake_id)
        if intake.status != IntakeStatus.RECEIVED:  # another worker finished first
            return _children(catalog, intake_id)
        quarantined = []
        for rejected, ref in plan.rejected:
            quarantined.append(rejected.reason)
            known = session.scalar(
                select(QuarantineEntry.id).where(
                    QuarantineEntry.intake_id == intake_id,
                    QuarantineEntry.source_ref == ref,
                    QuarantineEntry.reason == rejected.reason[:500],
                    QuarantineEntry.resolved_at.is_(None),
                )
            )
            if known is None:
                session.add(
                    QuarantineEntry(
                        intake_id=intake_id,
                        source_ref=ref,
                        reason=rejected.reason[:500],
                        detail=rejected.detail,
                    )
                )
        intake.status = IntakeStatus.UNPACKED
        record_event(
            session,
            actor="system",
            action="intake.unpacked",
            detail={
                "intake_id": intake_id,
                "parts": received,
                "quarantined": quarantined,
                "skipped": plan.skipped,
                **plan.detail,
            },
        )
    return _children(catalog, intake_id)


def _adopt(catalog: Catalog, child_id: int, container: _Container, ref: str) -> bool:
    """Make ``container`` the parent of ``child_id`` if the child is its own.

    A part with the same bytes as an earlier delivery (the invoice that already came by post,
    an attachment repeated in a reminder mail) is that earlier intake: it keeps its own origin
    and is not unpacked again. A child without parent that carries this container's reference
    was received by an earlier, interrupted run and is adopted. A child that is the container
    itself or one of its ancestors (an archive that contains itself) is never linked.
    """
    if child_id == container.id or child_id in container.ancestors:
        return False
    with catalog.session() as session:
        child = session.get_one(Intake, child_id)
        if child.parent_id is None and child.source_ref == ref:
            child.parent_id = container.id
        return child.parent_id == container.id


def _unpack_child(
    catalog: Catalog, store: ObjectStore, child_id: int, settings: Settings, budget: Budget
) -> None:
    with catalog.session() as session:
        child = session.get_one(Intake, child_id)
        is_container = child.media_type in CONTAINER_TYPES and child.status == IntakeStatus.RECEIVED
    if is_container:
        _unpack(catalog, store, child_id, settings, budget)


def adopt_as_message(catalog: Catalog, intake_id: int, max_bytes: int | None) -> bool:
    """Record an intake as an e-mail when the transport says it is one but sniffing did not.

    Receipt judges types by magic numbers only, and an e-mail has none: it is recognised by a
    few well-known first header lines. Messages that start with another header (``DKIM-Signature``,
    ``ARC-Seal``, ``X-…``) would be quarantined as an unknown file type, although the IMAP server
    or the enclosing ``message/rfc822`` part states what they are. Returns True if changed.
    """
    with catalog.session() as session:
        intake = session.get_one(Intake, intake_id)
        if intake.media_type == MESSAGE_TYPE or not intake.size:
            return False
        if max_bytes is not None and intake.size > max_bytes:
            return False
        if intake.status not in (IntakeStatus.RECEIVED, IntakeStatus.QUARANTINED):
            return False
        previous = intake.media_type
        intake.media_type = MESSAGE_TYPE
        if intake.status == IntakeStatus.QUARANTINED:
            intake.status = IntakeStatus.RECEIVED
            intake.error = None
            for entry in session.scalars(
                select(QuarantineEntry).where(
                    QuarantineEntry.intake_id == intake_id,
                    QuarantineEntry.document_id.is_(None),
                    QuarantineEntry.resolved_at.is_(None),
                )
            ):
                entry.resolved_at = datetime.now(UTC)
        record_event(
            session,
            actor="system",
            action="intake.retyped",
            detail={"intake_id": intake_id, "from": previous, "to": MESSAGE_TYPE},
        )
        return True


def find_delivered_message(
    catalog: Catalog, store: ObjectStore, message: ParsedMessage, limits: IntakeSettings
) -> int | None:
    """The intake of an earlier delivery of ``message``, if there is one.

    Mail servers deliver the same message again with other transport headers (a retry after a
    timeout, a forward rule, a second mailbox), so the bytes, and hence the sha256, differ.
    Parents are recorded with their Message-ID as ``source_ref``; a stored message with the same
    Message-ID *and* the same content fingerprint is the same message. Requiring both keeps two
    different messages apart that share a Message-ID (some scan-to-mail devices reuse one).
    """
    with catalog.session() as session:
        candidates = list(
            session.execute(
                select(Intake.id, Intake.storage_key, Intake.media_type)
                .where(Intake.source_ref == message.message_id, Intake.parent_id.is_(None))
                .order_by(Intake.id)
            )
        )
    for intake_id, key, media_type in candidates:
        parse = parse_outlook if media_type == OUTLOOK_TYPE else parse_message
        try:
            earlier = parse(store.get(key), limits)
        except UnpackError:
            continue
        if earlier.fingerprint == message.fingerprint:
            return int(intake_id)
    return None


def intake_tree(catalog: Catalog, intake_id: int) -> list[tuple[int, Intake]]:
    """``(depth, intake)`` for everything unpacked from ``intake_id``, depth first, in the
    order received (for reports, the CLI and tests)."""
    out: list[tuple[int, Intake]] = []
    with catalog.session() as session:

        def visit(parent: int, depth: int) -> None:
            if depth > 100:
                return
            query = select(Intake).where(Intake.parent_id == parent).order_by(Intake.id)
            for child in session.scalars(query):
                out.append((depth, child))
                visit(child.id, depth + 1)

        visit(intake_id, 1)
    return out
