"""Authentication: argon2 hashes, login and its throttling, CSRF, cookie flags, API tokens."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from backoffice.models import ApiToken, AuditEvent, Document
from backoffice.portal.auth import (
    SESSION_COOKIE,
    find_user,
    verify_password,
)
from backoffice.portal.users import create_api_token, set_password
from tests.portal.conftest import csrf_of, login, make_app
from tests.portal.world import PASSWORD, World

ClientFor = Callable[..., TestClient]


def test_passwords_are_stored_as_argon2id_hashes(world: World) -> None:
    with world.ctx.catalog.session() as s:
        user = find_user(s, "ALICE@alpha.example")
        assert user is not None and user.password_hash is not None
        stored = user.password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "x")
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not-a-hash", PASSWORD)


def test_login_sets_a_hardened_session_cookie(client_for: ClientFor, world: World) -> None:
    client = client_for()
    response = login(client, world.emails["alice"])
    assert response.status_code == 303 and response.headers["location"] == "/archiv"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    )
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags  # plain http in this test
    assert client.get("/archiv").status_code == 200


def test_cookies_are_secure_over_https_or_when_configured(world: World) -> None:
    app = make_app(world)
    with TestClient(app, base_url="https://portal.example") as client:
        response = login(client, world.emails["alice"])
        assert "secure" in response.headers["set-cookie"].lower()
    forced = make_app(world, secure_cookies=True)
    with TestClient(forced) as client:
        page = client.get("/login")
        assert "secure" in page.headers["set-cookie"].lower()


def test_wrong_password_gives_no_session(client_for: ClientFor, world: World) -> None:
    client = client_for()
    for email in (world.emails["alice"], "niemand@example.org"):
        response = login(client, email, "falsches-passwort")
        assert response.status_code == 401
        assert "E-Mail-Adresse oder Passwort ist falsch." in response.text
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert client.get("/archiv", follow_redirects=False).headers["location"].startswith("/login")


def test_login_is_locked_after_repeated_failures(client_for: ClientFor, world: World) -> None:
    client = client_for()  # the app of this fixture allows 3 failures per minute
    email = world.emails["alice"]
    for _ in range(3):
        assert login(client, email, "falsch-falsch").status_code == 401
    locked = login(client, email)  # even the right password is not checked now
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "Zu viele fehlgeschlagene Anmeldungen" in locked.text
    assert login(client, world.emails["bob"]).status_code == 303  # another account: fine
    with world.ctx.catalog.session() as s:
        failed = s.scalars(select(AuditEvent).where(AuditEvent.action == "user.login_failed"))
        assert len(list(failed)) == 3


def test_forms_without_a_valid_csrf_token_are_refused(client_for: ClientFor, world: World) -> None:
    anonymous = client_for()
    anonymous.get("/login")
    data = {"email": world.emails["alice"], "password": PASSWORD}
    assert anonymous.post("/login", data=data).status_code == 403
    assert anonymous.post("/login", data={**data, "csrf_token": "x" * 43}).status_code == 403

    staff = client_for("staff")
    bob = client_for("bob")
    target = f"/dokumente/{world.public['unassigned']}/klasse"
    assert staff.post(target, data={"doc_type": "invoice"}).status_code == 403
    bobs_token = csrf_of(bob.get("/archiv").text)
    response = staff.post(target, data={"doc_type": "invoice", "csrf_token": bobs_token})
    assert response.status_code == 403  # tokens are bound to their session
    assert staff.post("/logout", data={}).status_code == 403
    with world.ctx.catalog.session() as s:
        assert s.get_one(Document, world.doc_ids["unassigned"]).doc_type.value == "letter"
    good = csrf_of(staff.get("/pruefen").text)
    ok = staff.post(
        target, data={"doc_type": "invoice", "csrf_token": good}, follow_redirects=False
    )
    assert ok.status_code == 303


def test_tampered_sessions_and_changed_passwords_end_the_session(
    client_for: ClientFor, world: World
) -> None:
    client = client_for("alice")
    original = client.cookies[SESSION_COOKIE]
    client.cookies.set(SESSION_COOKIE, original[:-2] + ("AA" if original[-2:] != "AA" else "BB"))
    assert client.get("/archiv", follow_redirects=False).status_code == 303
    client.cookies.set(SESSION_COOKIE, original)
    assert client.get("/archiv").status_code == 200
    set_password(world.ctx.catalog, world.emails["alice"], "ein-ganz-neues-passwort")
    response = client.get("/archiv", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/archiv"


def test_logout_and_no_open_redirect(client_for: ClientFor, world: World) -> None:
    client = client_for()
    page = client.get("/login?next=//evil.example/x")
    response = client.post(
        "/login",
        data={
            "email": world.emails["alice"],
            "password": PASSWORD,
            "next": "//evil.example/x",
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/archiv"
    token = csrf_of(client.get("/archiv").text)
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/archiv", follow_redirects=False).status_code == 303


def test_api_tokens_are_stored_hashed_and_only_work_as_bearer(
    client_for: ClientFor, world: World
) -> None:
    token = create_api_token(world.ctx.catalog, world.emails["alice"], "Skript")
    with world.ctx.catalog.session() as s:
        hashes = set(s.scalars(select(ApiToken.token_hash)))
    assert token not in hashes and hashlib.sha256(token.encode()).hexdigest() in hashes
    client = client_for()
    ok = client.get("/api/clients", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json() == [{"code": "ALPHA", "name": "Alpha Bäckerei GmbH"}]
    for header in ({}, {"Authorization": "Bearer bo_falsch"}, {"Authorization": f"Basic {token}"}):
        response = client.get("/api/clients", headers=header)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    browser = client_for("alice")  # a session cookie does not open the API
    assert browser.get("/api/clients").status_code == 401
    with world.ctx.catalog.session() as s:
        row = s.scalars(select(ApiToken).where(ApiToken.name == "Skript")).one()
        assert row.last_used_at is not None


def test_security_headers(client_for: ClientFor) -> None:
    response = client_for("alice").get("/archiv")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
