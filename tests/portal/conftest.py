"""Fixtures of the portal tests: a built catalog (:mod:`tests.portal.world`), the app, and
logged-in HTTP clients per user."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backoffice.config import Settings
from backoffice.portal import auth
from backoffice.portal.app import create_app
from backoffice.portal.state import PortalSettings
from tests.portal.world import PASSWORD, FakePipeline, World, build_world

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session", autouse=True)
def cheap_argon2() -> Iterator[None]:
    """Argon2id with small parameters: the same code path, a fraction of the time."""
    original = auth._hasher
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    auth._dummy_hash = None
    yield
    auth._hasher = original
    auth._dummy_hash = None


def portal_settings(**overrides: Any) -> PortalSettings:
    values: dict[str, Any] = {
        "secret_key": "test-secret-key-not-for-production",
        "reindex_on_start": False,
        "login_max_attempts": 3,
        "login_window_seconds": 60,
    }
    values.update(overrides)
    return PortalSettings(**values)


def make_app(world: World, pipeline: FakePipeline | None = None, **overrides: Any) -> FastAPI:
    return create_app(
        world.settings, portal_settings(**overrides), process=pipeline or FakePipeline()
    )


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


@pytest.fixture
def world(settings: Settings) -> World:
    """A fresh world per test (for tests that change it)."""
    return build_world(settings)


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """One world for a whole module of read-only tests."""
    root: Path = tmp_path_factory.mktemp("portal")
    return build_world(Settings(var_dir=root / "var"))


@pytest.fixture(scope="module")
def shared_app(shared_world: World) -> FastAPI:
    return make_app(shared_world, login_max_attempts=1000)


@pytest.fixture(scope="module")
def clients(shared_app: FastAPI, shared_world: World) -> Iterator[dict[str, TestClient]]:
    """A logged-in browser per user of the shared world, plus ``anon``."""
    made: dict[str, TestClient] = {}
    for key, email in shared_world.emails.items():
        client = TestClient(shared_app)
        client.__enter__()
        response = login(client, email)
        assert response.status_code == 303, response.text
        made[key] = client
    anon = TestClient(shared_app)
    anon.__enter__()
    made["anon"] = anon
    yield made
    for client in made.values():
        client.__exit__(None, None, None)


@pytest.fixture
def client_for(world: World) -> Iterator[Callable[..., TestClient]]:
    """Logged-in clients on the per-test world: ``client_for("alice")``."""
    pipeline = FakePipeline()
    app = make_app(world, pipeline)
    app.state.fake_pipeline = pipeline
    opened: list[TestClient] = []

    def make(user: str | None = None) -> TestClient:
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        if user is not None:
            assert login(client, world.emails[user]).status_code == 303
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)
