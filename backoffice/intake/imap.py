"""Fetching post from IMAP mailboxes, without ever losing or doubling a message.

The mailbox is the queue and ``\\Seen`` is the acknowledgement. :func:`fetch_mailbox` looks for
UNSEEN messages (by UID), reads each with ``BODY.PEEK[]``, which leaves the flag alone, receives
the raw message as an intake (stored under its sha256 and recorded before anything else), routes
it to a client, unpacks its attachments into child intakes, and only then sets ``\\Seen`` (and
moves it to the processed folder, if one is configured). Whatever goes wrong before that
(an exception, the process killed, the connection lost) leaves the message unseen, and the next
fetch takes it again.

Taking a message again never makes a second document: the same bytes are the same intake
(sha256), and a re-delivery with different transport headers (another ``Received`` line, a
second mailbox) is recognised by its Message-ID together with a fingerprint of its content
(:func:`backoffice.intake.mail.find_delivered_message`). An interrupted earlier run is simply
completed: unpacking is idempotent.

Only the standard library's ``imaplib`` and ``ssl`` are used. ``imaps`` (TLS from the start) and
``starttls`` verify the server certificate against the system store or ``ca_file``; ``plain`` is
for a server on the same machine only.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import logging
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field

from backoffice.archive.audit import record_event
from backoffice.archive.storage import sha256_hex
from backoffice.config import MailboxSettings
from backoffice.context import Context
from backoffice.intake.mail import (
    ParsedMessage,
    UnpackError,
    adopt_as_message,
    find_delivered_message,
    parse_message,
    safe_name,
    unpack_intake,
)
from backoffice.intake.receive import receive_bytes
from backoffice.intake.routing_rules import RouteDecision, route_message
from backoffice.models import Intake, IntakeStatus

log = logging.getLogger(__name__)


class MailboxError(Exception):
    """The mailbox cannot be read (connection, TLS, login, folder); the message is for staff."""


@dataclass
class MessageOutcome:
    """What became of one fetched message."""

    intake_id: int
    duplicate: bool
    """True if the message was received before (same bytes, or a re-delivery)."""
    children: list[int] = field(default_factory=list)
    client_hint: str | None = None


@dataclass
class FetchReport:
    """The result of one fetch run over one mailbox."""

    mailbox: str
    found: int = 0
    """Unseen messages in the folder (some may be left for the next run, see ``max_messages``)."""
    received: list[int] = field(default_factory=list)
    """Intakes of messages taken in for the first time."""
    redelivered: list[int] = field(default_factory=list)
    """Intakes of messages that had been received before and came again."""
    children: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    """UID → error for messages left unseen, to be taken again by the next run."""
    error: str | None = None
    """Why the whole mailbox could not be read (only set by :func:`fetch_all`)."""


# --- one message -------------------------------------------------------------------------------


def take_message(
    ctx: Context, raw: bytes, mailbox: MailboxSettings | None = None, *, source: str = "email"
) -> MessageOutcome:
    """Receive, route and unpack one raw message; idempotent for the same message.

    Also the entry for messages that do not come from IMAP (an upload, a forwarding MTA).
    """
    limits = ctx.settings.intake
    try:
        parsed: ParsedMessage | None = parse_message(raw, limits)
    except UnpackError:
        parsed = None  # still stored and recorded; unpacking quarantines it with the reason
    mailbox_code = mailbox.client_code if mailbox else None
    if parsed is not None:
        earlier = find_delivered_message(ctx.catalog, ctx.store, parsed, limits)
        if earlier is not None:
            return _again(ctx, earlier, raw, parsed)
        decision = route_message(parsed.addresses, limits.mail.routes, mailbox_code=mailbox_code)
        message_id = parsed.message_id
        filename = safe_name(parsed.subject[:80], "E-Mail") + ".eml"
    else:
        decision = RouteDecision(mailbox_code, "Postfach des Mandanten" if mailbox_code else "")
        message_id = f"<sha256-{sha256_hex(raw)[:40]}@backoffice.invalid>"
        filename = "E-Mail.eml"
    result = receive_bytes(
        ctx.catalog,
        ctx.store,
        raw,
        source=source,
        source_ref=message_id,
        filename=filename,
        client_hint=decision.client_code,
        max_bytes=limits.mail.max_message_bytes,
    )
    # The transport says this is a message, whatever its first header line is (idempotent,
    # also for a duplicate whose first run died before this line).
    adopt_as_message(ctx.catalog, result.intake_id, limits.mail.max_message_bytes)
    if not result.duplicate:
        with ctx.catalog.session() as session:
            record_event(
                session,
                actor="system",
                action="intake.routed",
                detail={
                    "intake_id": result.intake_id,
                    "client_hint": decision.client_code,
                    "reason": decision.reason,
                    "mailbox": _label(mailbox) if mailbox else None,
                },
            )
    children = unpack_intake(ctx.catalog, ctx.store, result.intake_id, ctx.settings) or []
    return MessageOutcome(result.intake_id, result.duplicate, children, decision.client_code)


def _again(ctx: Context, intake_id: int, raw: bytes, parsed: ParsedMessage) -> MessageOutcome:
    """A message received before: count the re-delivery, finish an interrupted unpacking."""
    adopt_as_message(ctx.catalog, intake_id, ctx.settings.intake.mail.max_message_bytes)
    with ctx.catalog.session() as session:
        intake = session.get_one(Intake, intake_id)
        hint = intake.client_hint
        if intake.status != IntakeStatus.RECEIVED:  # finished before: this is a re-delivery
            intake.redeliveries += 1
            record_event(
                session,
                actor="system",
                action="intake.duplicate",
                detail={
                    "intake_id": intake_id,
                    "source_ref": parsed.message_id,
                    "same_bytes": sha256_hex(raw) == intake.sha256,
                },
            )
    children = unpack_intake(ctx.catalog, ctx.store, intake_id, ctx.settings) or []
    return MessageOutcome(intake_id, True, children, hint)


# --- the mailbox -------------------------------------------------------------------------------


def _label(mailbox: MailboxSettings) -> str:
    return mailbox.name or f"{mailbox.user}@{mailbox.host}"


def imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3): ``Geprüft`` → ``Gepr&APw-ft``."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).rstrip(b"=")
            out.append("&" + encoded.replace(b"/", b",").decode("ascii") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def _folder(name: str) -> str:
    """A folder name as an IMAP quoted string."""
    encoded = imap_utf7(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ssl_context(mailbox: MailboxSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(mailbox.ca_file) if mailbox.ca_file else None)
    if not mailbox.verify_tls:
        log.warning("mailbox %s: TLS certificate is not verified", _label(mailbox))
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def connect(mailbox: MailboxSettings) -> imaplib.IMAP4:
    """A logged-in connection to ``mailbox`` (TLS as configured)."""
    port = mailbox.port or (993 if mailbox.tls == "imaps" else 143)
    label = _label(mailbox)
    conn: imaplib.IMAP4 | None = None
    try:
        if mailbox.tls == "imaps":
            conn = imaplib.IMAP4_SSL(
                mailbox.host,
                port,
                ssl_context=_ssl_context(mailbox),
                timeout=mailbox.timeout_seconds,
            )
        else:
            conn = imaplib.IMAP4(mailbox.host, port, timeout=mailbox.timeout_seconds)
            if mailbox.tls == "starttls":
                conn.starttls(ssl_context=_ssl_context(mailbox))
    except (imaplib.IMAP4.error, OSError) as exc:
        _close(conn)
        raise MailboxError(
            f"Postfach {label}: keine (sichere) Verbindung zu {mailbox.host}:{port} ({exc})."
        ) from exc
    secret = mailbox.password.get_secret_value()
    try:
        if (mailbox.user + secret).isascii():
            conn.login(mailbox.user, secret)
        else:  # LOGIN is ASCII only; SASL PLAIN carries UTF-8 (umlauts in passwords)
            token = f"\0{mailbox.user}\0{secret}".encode()
            conn.authenticate("PLAIN", lambda _challenge: token)
    except (imaplib.IMAP4.error, OSError) as exc:
        _close(conn)
        raise MailboxError(
            f"Postfach {label}: Anmeldung als {mailbox.user} fehlgeschlagen ({exc})."
        ) from exc
    return conn


def _close(conn: imaplib.IMAP4 | None) -> None:
    if conn is None:
        return
    try:
        conn.logout()
    except (imaplib.IMAP4.error, OSError):
        with contextlib.suppress(OSError):
            conn.shutdown()


def _ok(response: tuple[str, Sequence[object]], what: str) -> Sequence[object]:
    typ, data = response
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise imaplib.IMAP4.error(f"{what}: {typ} {detail}")
    return data


def _capabilities(conn: imaplib.IMAP4) -> set[str]:
    """The capabilities after login (they grow after authentication: MOVE, UIDPLUS …)."""
    data = _ok(conn.capability(), "CAPABILITY")
    words: set[str] = set()
    for item in data:
        if isinstance(item, bytes):
            words.update(item.decode("ascii", "replace").upper().split())
    return words


def _unseen(conn: imaplib.IMAP4) -> list[str]:
    data = _ok(conn.uid("SEARCH", "UNSEEN"), "SEARCH UNSEEN")
    uids: list[int] = []
    for item in data:
        if isinstance(item, bytes):
            uids.extend(int(u) for u in item.split() if u.isdigit())
    return [str(u) for u in sorted(uids)]


def _fetch(conn: imaplib.IMAP4, uid: str) -> bytes | None:
    """The raw message, read with ``BODY.PEEK[]`` so that ``\\Seen`` stays as it is."""
    data = _ok(conn.uid("FETCH", uid, "(BODY.PEEK[])"), f"FETCH {uid}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and b"BODY[]" in item[0]:
            match = re.search(rb"UID (\d+)", item[0])
            if match is None or match.group(1).decode() == uid:
                body = item[1]
                return body if isinstance(body, bytes) else None
    return None  # expunged by another client in the meantime


def _done(conn: imaplib.IMAP4, uid: str, mailbox: MailboxSettings, caps: set[str]) -> None:
    """Acknowledge a handled message: ``\\Seen``, then into the processed folder if configured."""
    _ok(conn.uid("STORE", uid, "+FLAGS.SILENT", "(\\Seen)"), f"STORE {uid}")
    if not mailbox.processed_folder:
        return
    target = _folder(mailbox.processed_folder)
    if "MOVE" in caps:
        _ok(conn.uid("MOVE", uid, target), f"MOVE {uid}")
        return
    _ok(conn.uid("COPY", uid, target), f"COPY {uid}")
    _ok(conn.uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)"), f"STORE {uid}")
    if "UIDPLUS" in caps:  # expunge just this message, never others' deleted mail
        _ok(conn.uid("EXPUNGE", uid), f"UID EXPUNGE {uid}")


def fetch_mailbox(ctx: Context, mailbox: MailboxSettings) -> FetchReport:
    """Take in the unseen messages of one mailbox; see the module docstring for the guarantees.

    A message whose processing fails is logged, left unseen and listed in ``failed``; the others
    are still taken. Losing the connection or the process ends the run; what was not yet
    acknowledged is taken by the next run. Raises :class:`MailboxError` if the mailbox cannot be
    opened at all.
    """
    report = FetchReport(_label(mailbox))
    conn = connect(mailbox)
    try:
        try:
            _ok(conn.select(_folder(mailbox.folder)), f"SELECT {mailbox.folder}")
            if mailbox.processed_folder:
                typ, _data = conn.create(_folder(mailbox.processed_folder))
                log.debug("CREATE %s: %s (exists already if NO)", mailbox.processed_folder, typ)
            caps = _capabilities(conn)
            uids = _unseen(conn)
        except imaplib.IMAP4.error as exc:
            raise MailboxError(
                f"Postfach {report.mailbox}: Ordner {mailbox.folder!r} nicht lesbar ({exc})."
            ) from exc
        report.found = len(uids)
        for uid in uids[: mailbox.max_messages]:
            raw = _fetch(conn, uid)
            if raw is None:
                continue
            try:
                outcome = take_message(ctx, raw, mailbox)
            except Exception as exc:  # one bad message must not block the mailbox
                log.exception("mailbox %s: message UID %s left unseen", report.mailbox, uid)
                report.failed[uid] = f"{type(exc).__name__}: {exc}"
                continue
            (report.redelivered if outcome.duplicate else report.received).append(outcome.intake_id)
            report.children += len(outcome.children)
            try:
                _done(conn, uid, mailbox, caps)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error as exc:  # stored already; a re-fetch is recognised
                log.error(
                    "mailbox %s: UID %s taken in but not acknowledged: %s", report.mailbox, uid, exc
                )
                report.failed[uid] = f"nicht als gelesen markiert: {exc}"
    finally:
        _close(conn)
    log.info(
        "mailbox %s: %d unseen, %d new, %d again, %d failed",
        report.mailbox,
        report.found,
        len(report.received),
        len(report.redelivered),
        len(report.failed),
    )
    return report


def fetch_all(ctx: Context) -> list[FetchReport]:
    """Fetch every configured mailbox (``intake.mail.mailboxes``); one broken mailbox does not
    stop the others, its report carries the error."""
    reports = []
    for mailbox in ctx.settings.intake.mail.mailboxes:
        try:
            reports.append(fetch_mailbox(ctx, mailbox))
        except MailboxError as exc:
            log.error("%s", exc)
            reports.append(FetchReport(_label(mailbox), error=str(exc)))
    return reports
