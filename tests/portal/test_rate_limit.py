"""Login throttling counted in the catalog: shared by worker processes, survives a restart.

Each app made here is a separate portal over the same catalog, as two uvicorn workers (or a
portal before and after a restart) are; nothing but the catalog connects them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from backoffice.config import Settings
from backoffice.db import open_catalog
from backoffice.models import AuditEvent, Role, utcnow
from backoffice.portal.app import create_app
from backoffice.portal.auth import LOGIN_FAILED, LoginLimiter
from backoffice.portal.users import create_user
from tests.portal.conftest import login, portal_settings
from tests.portal.world import PASSWORD, FakePipeline

ANNA = "anna@buero.example"
BERT = "bert@buero.example"
WRONG = "falsches-passwort-1"


@pytest.fixture
def office(catalog_url: str, tmp_path: Path) -> Settings:
    """An installation with two staff accounts, on SQLite and on PostgreSQL."""
    settings = Settings(var_dir=tmp_path / "var", catalog_url=catalog_url)
    catalog = open_catalog(settings)
    for email in (ANNA, BERT):
        create_user(catalog, email, email.split("@")[0].title(), Role.STAFF, PASSWORD)
    return settings


def worker(settings: Settings, **overrides: Any) -> FastAPI:
    """One portal process: its own app, limiter and settings, the shared catalog."""
    values: dict[str, Any] = {"login_max_attempts": 3, "login_max_attempts_per_ip": 5}
    values.update(overrides)
    return create_app(settings, portal_settings(**values), process=FakePipeline())


@pytest.fixture
def browsers() -> Iterator[list[TestClient]]:
    opened: list[TestClient] = []
    yield opened
    for client in opened:
        client.__exit__(None, None, None)


def browser(opened: list[TestClient], app: FastAPI, ip: str = "192.0.2.10") -> TestClient:
    client = TestClient(app, client=(ip, 50000))
    client.__enter__()
    opened.append(client)
    return client


def test_failures_count_across_workers_and_restarts(
    office: Settings, browsers: list[TestClient]
) -> None:
    first, second = worker(office), worker(office)
    on_first = browser(browsers, first)
    on_second = browser(browsers, second, ip="198.51.100.7")  # another IP: the account counts
    assert login(on_first, ANNA, WRONG).status_code == 401
    assert login(on_second, ANNA, WRONG).status_code == 401
    assert login(on_first, ANNA.upper(), WRONG).status_code == 401  # one account, any spelling

    for client in (on_first, on_second, browser(browsers, worker(office))):  # + a restart
        locked = login(client, ANNA)  # the right password is not even checked now
        assert locked.status_code == 429
        assert 0 < int(locked.headers["Retry-After"]) <= 60
        assert "Zu viele fehlgeschlagene Anmeldungen" in locked.text
        assert "Bitte in 1 Minute erneut versuchen." in locked.text
    assert login(on_second, BERT).status_code == 303  # other accounts are not affected

    catalog = open_catalog(office)
    with catalog.session() as s:
        failed = list(s.scalars(select(AuditEvent).where(AuditEvent.action == LOGIN_FAILED)))
    assert len(failed) == 3  # locked attempts are refused, not counted
    assert {e.actor for e in failed} == {"ip:192.0.2.10", "ip:198.51.100.7"}
    assert all(e.detail == {"email": ANNA} for e in failed)  # address and IP, no password
    assert all(WRONG not in str(e.detail) and PASSWORD not in str(e.detail) for e in failed)


def test_one_ip_is_limited_over_all_accounts(office: Settings, browsers: list[TestClient]) -> None:
    app = worker(office)
    sprayer = browser(browsers, app)
    for n in range(4):
        assert login(sprayer, f"gibt-es-nicht-{n}@buero.example", WRONG).status_code == 401
    assert login(sprayer, ANNA, WRONG).status_code == 401  # 5th failure from this IP
    # A correct password for another account does not reset the IP's count ...
    assert login(sprayer, BERT).status_code == 429
    # ... and the same office typing from elsewhere is not locked out by it.
    colleague = browser(browsers, worker(office), ip="203.0.113.5")
    assert login(colleague, BERT).status_code == 303


def test_success_restarts_the_account_count_but_not_the_ip_count(
    office: Settings, browsers: list[TestClient]
) -> None:
    app = worker(office, login_max_attempts=3, login_max_attempts_per_ip=4)
    client = browser(browsers, app)
    assert login(client, ANNA, WRONG).status_code == 401
    assert login(client, ANNA, WRONG).status_code == 401
    assert login(browser(browsers, worker(office)), ANNA).status_code == 303
    # Anna's two typos are forgiven by her login; a third failure does not lock her.
    assert login(client, ANNA, WRONG).status_code == 401
    assert login(client, ANNA).status_code == 303
    # The IP still remembers all three failures: one more, and it is locked for everyone.
    assert login(client, BERT, WRONG).status_code == 401
    assert login(client, BERT).status_code == 429


def test_the_window_slides(office: Settings) -> None:
    """Failures leave the count one by one as they grow older than the window."""
    later = [timedelta(0)]
    limiter = LoginLimiter(3, 60, ip_max_attempts=10, clock=lambda: utcnow() + later[0])
    catalog = open_catalog(office)
    with catalog.session() as s:
        for _ in range(3):
            assert limiter.retry_after(s, "192.0.2.1", ANNA) is None
            limiter.failed(s, "192.0.2.1", ANNA)
    with catalog.session() as s:
        wait = limiter.retry_after(s, "192.0.2.99", " Anna@Buero.example")
        assert wait is not None and 1 <= wait <= 60
        assert limiter.retry_after(s, "192.0.2.99", BERT) is None
        later[0] = timedelta(seconds=62)  # all three failures are older than the window
        assert limiter.retry_after(s, "192.0.2.1", ANNA) is None
