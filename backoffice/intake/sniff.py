"""Telling what a received file really is, from its bytes rather than its name.

A ``.pdf`` that is a JPEG is processed as the JPEG it is; an ``.exe`` named ``.pdf`` is
recognised as not a document. Only magic numbers are trusted, never the file name.
"""

from __future__ import annotations

import re

SUFFIX_FOR = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "application/xml": ".xml",
    "application/zip": ".zip",
    "message/rfc822": ".eml",
    "application/x-msdownload": ".exe",
    "application/vnd.ms-outlook": ".msg",
}

_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]?")
"""An RFC 5322 header line: printable name without colon or space, a colon."""


def _looks_like_email(head: bytes) -> bool:
    """True when the data starts with a block of header lines (at least two, one of them a
    typical mail header) ended by a blank line or continuing beyond the sniffed window."""
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    names: list[bytes] = []
    for line in lines[:-1]:
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            if not names:
                return False
            continue
        if not _HEADER_LINE.match(line):
            return False
        names.append(line.split(b":", 1)[0].lower())
    typical = {b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"received"}
    return len(names) >= 2 and bool(typical & set(names))


def sniff_media_type(data: bytes) -> str:
    """The media type of ``data`` judged by its content; ``application/octet-stream`` if unknown.

    Magic numbers at offset 0 are checked first: a ZIP that stores a PDF uncompressed contains
    ``%PDF-`` early on, yet it is a ZIP. PDF readers accept a ``%PDF-`` marker anywhere in the
    first kilobyte (some scanners put junk before it), so that check comes next.
    """
    head = data[:4096]
    magic = (
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"II*\x00", "image/tiff"),
        (b"MM\x00*", "image/tiff"),
        (b"PK\x03\x04", "application/zip"),
        (b"PK\x05\x06", "application/zip"),
        (b"MZ", "application/x-msdownload"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/vnd.ms-outlook"),
        (b"%PDF-", "application/pdf"),
    )
    for prefix, media_type in magic:
        if head.startswith(prefix):
            return media_type
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<"):
        return "application/xml"
    if _looks_like_email(head):
        return "message/rfc822"
    return "application/octet-stream"
