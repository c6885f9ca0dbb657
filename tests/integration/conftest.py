"""IMAP fixtures: one real dovecot per test session, a fresh folder per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.imap_server import ImapServer, imap_server

_folders = itertools.count(1)


@pytest.fixture(scope="session")
def imap() -> Iterator[ImapServer]:
    with imap_server() as server:
        yield server


@pytest.fixture
def imap_folder(imap: ImapServer) -> str:
    """An empty folder of the test user, so that tests do not see each other's mail."""
    name = f"Test{next(_folders)}"
    imap.create_folder(name)
    return name
