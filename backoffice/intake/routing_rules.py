"""Which client an e-mail belongs to, judged by the mailbox and the addresses on it.

The office service gives every client an address of its own: a mailbox per client, an alias
(``mueller+post@office.example``) or plus-addressing on one shared mailbox
(``post+MUELLER@office.example``). Some senders are known to write for exactly one client (the
client's own scanner, its tax adviser). :func:`route_message` turns that knowledge, configured as
:class:`~backoffice.config.MailRoute` rules, into the intake's ``client_hint``.

The hint is only a hint: the understanding stage still reads the document and the routing
threshold still applies. That is also why an ambiguous message (addressed to two clients) gets
*no* hint rather than the first one: nothing is filed under a guessed client.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from backoffice.config import MailRoute

_CODE_RE = re.compile(r"[A-Za-z0-9_\-]{1,32}")
"""What a client code may look like (the same rule the archive's key scopes use)."""


@dataclass(frozen=True)
class MessageAddresses:
    """The addresses of one message that routing looks at, lower-cased ``local@domain``.

    ``recipients`` starts with the envelope recipients (``Delivered-To``, ``X-Original-To``),
    which name the mailbox the message really arrived in, followed by ``To`` and ``Cc``.
    """

    recipients: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteDecision:
    """The client code a message is routed to (``None``: unknown) and why, for the audit log."""

    client_code: str | None
    reason: str
    candidates: tuple[str, ...] = field(default=())


def plus_tag(address: str) -> str | None:
    """The part after ``+`` in the local part (``post+mueller@x`` → ``mueller``), if any."""
    local = address.rsplit("@", 1)[0]
    if "+" not in local:
        return None
    tag = local.split("+", 1)[1]
    return tag or None


def _rule_code(rule: MailRoute, address: str) -> str | None:
    """The client code ``rule`` gives ``address``, or ``None`` if it does not apply."""
    if not fnmatch.fnmatchcase(address.lower(), rule.address_pattern.lower()):
        return None
    code = rule.client_code if rule.client_code is not None else plus_tag(address)
    if code is None:
        return None
    code = code.strip() if rule.client_code is not None else code.strip().upper()
    return code if _CODE_RE.fullmatch(code) else None


def _matches(
    rules: Iterable[MailRoute], addresses: Iterable[str], kind: str
) -> list[tuple[str, str]]:
    """``(code, address)`` for every rule of ``kind`` that applies to one of ``addresses``."""
    found: list[tuple[str, str]] = []
    kind_rules = [r for r in rules if r.match == kind]
    for address in addresses:
        for rule in kind_rules:
            code = _rule_code(rule, address)
            if code is not None:
                found.append((code, address))
    return found


def route_message(
    addresses: MessageAddresses,
    routes: Sequence[MailRoute],
    *,
    mailbox_code: str | None = None,
) -> RouteDecision:
    """Decide the client hint of a message.

    Order of evidence: the mailbox itself (a client's own mailbox), then recipient rules, then
    sender rules. Recipients beat senders because the office controls the addresses it hands
    out, while one supplier may write to several clients. Within one kind of evidence, two
    different clients mean the message is ambiguous and gets no hint.
    """
    if mailbox_code:
        return RouteDecision(mailbox_code, "Postfach des Mandanten", (mailbox_code,))
    for kind, label in (("recipient", "Empfänger"), ("sender", "Absender")):
        matches = _matches(
            routes, addresses.recipients if kind == "recipient" else addresses.senders, kind
        )
        codes = tuple(dict.fromkeys(code for code, _ in matches))
        if len(codes) == 1:
            address = matches[0][1]
            return RouteDecision(codes[0], f"{label} {address}", codes)
        if len(codes) > 1:
            return RouteDecision(
                None,
                f"{label}-Adressen passen zu mehreren Mandanten ({', '.join(codes)})",
                codes,
            )
    return RouteDecision(None, "keine Regel passt auf die Adressen der E-Mail")
