"""Archive object storage: one write-once interface, a local-folder and an S3 backend.

Originals and derived artefacts are stored under content-addressed keys (sha256 of the body),
scoped by client (``clients/<CODE>/…``) or, before a client is known, by the intake area
(``intake/…``). Writes are *write-once*: storing the same body under an existing key is a no-op,
a different body under an existing key is refused (:class:`ObjectConflictError`). That makes every
stage idempotent and an original impossible to overwrite by accident (GoBD Unveränderbarkeit).

The backend is chosen by the archive URL: a path or ``file://`` URL gives :class:`LocalStore`,
``s3://bucket/prefix`` gives :class:`S3Store` (any S3-compatible endpoint via boto3).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from backoffice.config import S3Settings, Settings

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)*$")


class StorageError(Exception):
    """The archive could not do what was asked."""


class ObjectConflictError(StorageError):
    """A different body was offered for a key that already holds an object."""


class ObjectMissingError(StorageError):
    """No object under that key."""


class RetentionViolationError(StorageError):
    """Deleting an object whose retention period has not ended."""


@dataclass(frozen=True)
class PutResult:
    key: str
    sha256: str
    size: int
    created: bool
    """False when the identical body was already there (idempotent re-run)."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_key(key: str) -> str:
    """Reject keys that could escape the archive root or confuse a backend."""
    if len(key) > 900 or not _KEY_RE.match(key) or ".." in key.split("/"):
        raise StorageError(f"invalid archive key: {key!r}")
    return key


def content_key(scope: str, kind: str, digest: str, suffix: str = "") -> str:
    """``<scope>/<kind>/<ab>/<sha256><suffix>``: the one way keys are made."""
    return check_key(f"{scope}/{kind}/{digest[:2]}/{digest}{suffix}")


def client_scope(client_code: str) -> str:
    """The key prefix of one client; every object of a client lives under it."""
    if not re.fullmatch(r"[A-Za-z0-9_\-]{1,32}", client_code):
        raise StorageError(f"invalid client code for a key: {client_code!r}")
    return f"clients/{client_code}"


INTAKE_SCOPE = "intake"


class ObjectStore(Protocol):
    """What the rest of the product may do with archive objects."""

    url: str

    def put(
        self, key: str, data: bytes, *, content_type: str = ..., retain_until: date | None = ...
    ) -> PutResult: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> Iterator[str]: ...

    def delete(self, key: str, *, today: date | None = None) -> None: ...

    def retention(self, key: str) -> date | None: ...

    def extend_retention(self, key: str, until: date) -> date | None: ...


class LocalStore:
    """Archive in a local folder (embedded default).

    Files are written to a temporary name, fsynced and then hard-linked into place, which
    fails if the key exists: creation is atomic and never overwrites. Stored files are made
    read-only; the retention date is kept beside the object in ``<key>.retain``.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.url = str(self.root)

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if self.root not in path.parents:
            raise StorageError(f"key escapes the archive: {key!r}")
        return path

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        retain_until: date | None = None,
    ) -> PutResult:
        digest = sha256_hex(data)
        path = self._path(key)
        if path.exists():
            return self._existing(key, path, digest, len(data))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o444)
            try:
                os.link(tmp, path)
            except FileExistsError:
                return self._existing(key, path, digest, len(data))
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if retain_until is not None:
            path.with_name(path.name + ".retain").write_text(retain_until.isoformat())
        _fsync_dir(path.parent)
        return PutResult(key, digest, len(data), created=True)

    def _existing(self, key: str, path: Path, digest: str, size: int) -> PutResult:
        if sha256_hex(path.read_bytes()) != digest:
            raise ObjectConflictError(f"{key} already holds a different object")
        return PutResult(key, digest, size, created=False)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise ObjectMissingError(key) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[str]:
        if ".." in prefix.split("/"):
            raise StorageError(f"invalid prefix: {prefix!r}")
        base = self.root / prefix if prefix else self.root
        if not base.exists():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith(".tmp-") and path.suffix != ".retain":
                yield path.relative_to(self.root).as_posix()

    def retention(self, key: str) -> date | None:
        marker = self._path(key).with_name(self._path(key).name + ".retain")
        return date.fromisoformat(marker.read_text()) if marker.exists() else None

    def extend_retention(self, key: str, until: date) -> date | None:
        """Keep the object at least until ``until`` (never shorter); the date now in force."""
        path = self._path(key)
        if not path.is_file():
            raise ObjectMissingError(key)
        current = self.retention(key)
        if current is not None and current >= until:
            return current
        marker = path.with_name(path.name + ".retain")
        tmp = path.with_name(f".tmp-{path.name}.retain")
        tmp.write_text(until.isoformat())
        os.replace(tmp, marker)
        _fsync_dir(path.parent)
        return until

    def delete(self, key: str, *, today: date | None = None) -> None:
        until = self.retention(key)
        if until is not None and (today or date.today()) <= until:
            raise RetentionViolationError(f"{key} is retained until {until.isoformat()}")
        path = self._path(key)
        if not path.exists():
            raise ObjectMissingError(key)
        path.unlink()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3Store:
    """Archive in an S3-compatible bucket (production), via boto3.

    Write-once uses a conditional PUT (``If-None-Match: *``) where the server supports it and a
    HEAD + compare otherwise. With ``object_lock`` the bucket must have versioning and Object
    Lock enabled; each original then carries a COMPLIANCE retention date.
    """

    def __init__(self, url: str, s3: S3Settings, client: Any | None = None) -> None:
        import boto3  # local: the embedded default never needs it loaded
        from botocore.config import Config

        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise StorageError(f"not an s3:// URL: {url!r}")
        self.url = url
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.object_lock = s3.object_lock
        self.client = client or boto3.client(
            "s3",
            endpoint_url=s3.endpoint_url,
            region_name=s3.region,
            aws_access_key_id=s3.access_key_id,
            aws_secret_access_key=s3.secret_access_key,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )

    def _k(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            head: dict[str, Any] = dict(
                self.client.head_object(Bucket=self.bucket, Key=self._k(key))
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise StorageError(f"S3 HEAD {key}: {exc}") from exc
        return head

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        retain_until: date | None = None,
    ) -> PutResult:
        from botocore.exceptions import ClientError

        digest = sha256_hex(data)
        if self._head(key) is not None:
            return self._existing(key, digest, len(data))
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self._k(key),
            "Body": data,
            "ContentType": content_type,
            "Metadata": {"sha256": digest},
            "ChecksumAlgorithm": "SHA256",
            "IfNoneMatch": "*",
        }
        if self.object_lock and retain_until is not None:
            args["ObjectLockMode"] = "COMPLIANCE"
            args["ObjectLockRetainUntilDate"] = datetime.combine(
                retain_until, datetime.min.time(), tzinfo=UTC
            )
        try:
            self.client.put_object(**args)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in {"PreconditionFailed", "ConditionalRequestConflict", "412"}:
                return self._existing(key, digest, len(data))
            raise StorageError(f"S3 PUT {key}: {exc}") from exc
        return PutResult(key, digest, len(data), created=True)

    def _existing(self, key: str, digest: str, size: int) -> PutResult:
        if sha256_hex(self.get(key)) != digest:
            raise ObjectConflictError(f"{key} already holds a different object")
        return PutResult(key, digest, size, created=False)

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=self._k(key))[
                "Body"
            ].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise ObjectMissingError(key) from exc
            raise StorageError(f"S3 GET {key}: {exc}") from exc
        return body

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def list(self, prefix: str = "") -> Iterator[str]:
        if ".." in prefix.split("/"):
            raise StorageError(f"invalid prefix: {prefix!r}")
        full = f"{self.prefix}/{prefix}" if self.prefix else prefix
        paginator = self.client.get_paginator("list_objects_v2")
        strip = len(self.prefix) + 1 if self.prefix else 0
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            for obj in page.get("Contents", []):
                yield obj["Key"][strip:]

    def retention(self, key: str) -> date | None:
        head = self._head(key)
        if head is None:
            raise ObjectMissingError(key)
        until = head.get("ObjectLockRetainUntilDate")
        return until.date() if until else None

    def extend_retention(self, key: str, until: date) -> date | None:
        """Move the COMPLIANCE lock to ``until`` if that is later; the date now in force.

        S3 lets a compliance lock be extended, never shortened. Without Object Lock the bucket
        keeps no retention date, and none is made up.
        """
        from botocore.exceptions import ClientError

        current = self.retention(key)
        if not self.object_lock or (current is not None and current >= until):
            return current
        try:
            self.client.put_object_retention(
                Bucket=self.bucket,
                Key=self._k(key),
                Retention={
                    "Mode": "COMPLIANCE",
                    "RetainUntilDate": datetime.combine(until, datetime.min.time(), tzinfo=UTC),
                },
                ChecksumAlgorithm="SHA256",
            )
        except ClientError as exc:
            raise StorageError(f"S3 retention {key}: {exc}") from exc
        return until

    def delete(self, key: str, *, today: date | None = None) -> None:
        until = self.retention(key)
        if until is not None and (today or date.today()) <= until:
            raise RetentionViolationError(f"{key} is retained until {until.isoformat()}")
        self.client.delete_object(Bucket=self.bucket, Key=self._k(key))


def open_store(settings: Settings) -> ObjectStore:
    """The archive backend named by ``settings.archive_url``."""
    url = settings.resolved_archive_url
    if url.startswith("s3://"):
        return S3Store(url, settings.s3)
    if url.startswith("file://"):
        return LocalStore(Path(urlparse(url).path))
    return LocalStore(Path(url))
