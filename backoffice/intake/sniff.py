"""Telling what a received file really is, from its bytes rather than its name.

A ``.pdf`` that is a JPEG is processed as the JPEG it is; an ``.exe`` named ``.pdf`` is
recognised as not a document. Only magic numbers are trusted, never the file name.
"""

from __future__ import annotations

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

_EMAIL_HEADERS = (
    b"from:",
    b"received:",
    b"return-path:",
    b"message-id:",
    b"mime-version:",
    b"date:",
    b"to:",
    b"subject:",
    b"delivered-to:",
)


def sniff_media_type(data: bytes) -> str:
    """The media type of ``data`` judged by its content; ``application/octet-stream`` if unknown."""
    head = data[:2048]
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"
    if head.startswith(b"MZ"):
        return "application/x-msdownload"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/vnd.ms-outlook"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<"):
        return "application/xml"
    first_line = stripped.split(b"\n", 1)[0].lower()
    if first_line.startswith(_EMAIL_HEADERS):
        return "message/rfc822"
    return "application/octet-stream"
