"""The archive's write-once contract, on the local folder and on a real S3 endpoint."""

from __future__ import annotations

from datetime import date

import pytest

from backoffice.archive.storage import (
    ObjectConflictError,
    ObjectMissingError,
    RetentionViolationError,
    StorageError,
    client_scope,
    content_key,
    open_store,
    sha256_hex,
)
from backoffice.config import S3Settings, Settings


@pytest.fixture
def store(archive: tuple[str, S3Settings], tmp_path):  # type: ignore[no-untyped-def]
    url, s3 = archive
    return open_store(Settings(var_dir=tmp_path, archive_url=url, s3=s3))


def test_put_is_write_once_and_idempotent(store) -> None:  # type: ignore[no-untyped-def]
    body = b"%PDF-1.7 an original"
    key = content_key(client_scope("MUELLER"), "originals", sha256_hex(body), ".pdf")
    first = store.put(key, body, content_type="application/pdf")
    assert first.created and first.sha256 == sha256_hex(body) and first.size == len(body)
    again = store.put(key, body)
    assert not again.created
    assert store.get(key) == body
    with pytest.raises(ObjectConflictError):
        store.put(key, b"something else")
    assert store.get(key) == body


def test_keys_are_scoped_by_client_and_listed(store) -> None:  # type: ignore[no-untyped-def]
    for code in ("MUELLER", "KLEIN"):
        body = f"doc of {code}".encode()
        store.put(content_key(client_scope(code), "originals", sha256_hex(body), ".pdf"), body)
    mueller = list(store.list("clients/MUELLER/"))
    assert len(mueller) == 1 and mueller[0].startswith("clients/MUELLER/originals/")
    assert all(k.startswith("clients/") for k in store.list())


def test_missing_and_hostile_keys(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ObjectMissingError):
        store.get("clients/X/originals/ab/nothing.pdf")
    assert not store.exists("clients/X/originals/ab/nothing.pdf")
    for bad in ("../etc/passwd", "/abs/key", "clients/../../x", "a//b", "clients/X/ä.pdf", ""):
        with pytest.raises(StorageError):
            store.put(bad, b"x")
    with pytest.raises(StorageError):
        client_scope("../KLEIN")


def test_retention_blocks_deletion(store) -> None:  # type: ignore[no-untyped-def]
    body = b"invoice"
    key = content_key(client_scope("KLEIN"), "originals", sha256_hex(body), ".pdf")
    store.put(key, body, retain_until=date(2034, 12, 31))
    if store.retention(key) is not None:  # S3 without Object Lock keeps no retention date
        with pytest.raises(RetentionViolationError):
            store.delete(key, today=date(2030, 1, 1))
        assert store.exists(key)
        store.delete(key, today=date(2035, 1, 1))
        assert not store.exists(key)


@pytest.mark.services
def test_s3_object_lock_keeps_originals(s3, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With Object Lock the retention date is the server's, and deleting early is refused."""
    s3.create_bucket("locked-archive", object_lock=True)
    settings = Settings(
        var_dir=tmp_path,
        archive_url="s3://locked-archive/office",
        s3=S3Settings(
            endpoint_url=s3.endpoint, access_key_id="t", secret_access_key="t", object_lock=True
        ),
    )
    store = open_store(settings)
    body = b"%PDF-1.7 invoice to keep"
    key = content_key(client_scope("SCHNEIDER"), "originals", sha256_hex(body), ".pdf")
    store.put(key, body, retain_until=date(2034, 12, 31))
    assert store.retention(key) == date(2034, 12, 31)
    with pytest.raises(RetentionViolationError):
        store.delete(key)
    # The server itself refuses to remove the locked version, whatever our code does.
    client = s3.client()
    version = client.head_object(Bucket="locked-archive", Key=f"office/{key}")["VersionId"]
    with pytest.raises(Exception, match=r"AccessDenied|locked|retention|Forbidden"):
        client.delete_object(Bucket="locked-archive", Key=f"office/{key}", VersionId=version)
    assert store.get(key) == body
