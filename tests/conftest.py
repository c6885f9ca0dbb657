"""Shared fixtures: settings in a temp folder, catalogs on SQLite and PostgreSQL, archives in a
folder and on S3. Service-backed variants start real servers once per test session."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")

from backoffice.config import S3Settings, Settings
from tests.services import (
    PostgresServer,
    S3Server,
    SmtpSink,
    postgres_server,
    s3_server,
    smtp_sink,
)

_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpSink]:
    with smtp_sink() as server:
        yield server


@pytest.fixture
def smtp(smtp_server: SmtpSink) -> Iterator[SmtpSink]:
    """The session's SMTP sink, emptied for this test."""
    smtp_server.clear()
    yield smtp_server
    smtp_server.clear()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded defaults in a temp folder (SQLite + local archive)."""
    return Settings(var_dir=tmp_path / "var")


def _catalog_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"t{os.getpid()}_{next(_counter)}")


def _archive(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, S3Settings]:
    if kind == "folder":
        return str(tmp_path / "archive"), S3Settings()
    server: S3Server = request.getfixturevalue("s3")
    bucket = f"archive-{os.getpid()}-{next(_counter)}"
    server.create_bucket(bucket)
    return f"s3://{bucket}/office", S3Settings(
        endpoint_url=server.endpoint, access_key_id="test", secret_access_key="test"
    )


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=pytest.mark.services),
    ]
)
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty catalog database on each backend."""
    return _catalog_url(request.param, request, tmp_path)


@pytest.fixture(
    params=[
        pytest.param("folder"),
        pytest.param("s3", marks=pytest.mark.services),
    ]
)
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, S3Settings]:
    """A fresh, empty archive on each backend: (archive_url, s3 settings)."""
    return _archive(request.param, request, tmp_path)


@pytest.fixture(
    params=[
        pytest.param(("sqlite", "folder"), id="embedded"),
        pytest.param(("postgres", "s3"), id="production", marks=pytest.mark.services),
    ]
)
def any_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for the embedded default and for production services."""
    catalog_kind, archive_kind = request.param
    url = _catalog_url(catalog_kind, request, tmp_path)
    archive_url, s3_settings = _archive(archive_kind, request, tmp_path)
    return Settings(
        var_dir=tmp_path / "var", catalog_url=url, archive_url=archive_url, s3=s3_settings
    )
