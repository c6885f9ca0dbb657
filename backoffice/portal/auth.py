"""Who is asking: passwords, sessions, CSRF protection, login throttling and API tokens.

* Passwords are hashed with argon2id (``argon2-cffi`` defaults); hashes are upgraded on login
  when the parameters change. An unknown e-mail address costs the same hash as a wrong password,
  so response times do not reveal which addresses exist.
* The session is a signed cookie (``itsdangerous``), HttpOnly, SameSite=Lax, Secure when served
  over TLS (or when configured). It holds the user id, a fingerprint of the password hash (a
  password change ends all sessions) and the session's CSRF token; nothing is stored server-side,
  so the portal runs with any number of workers.
* CSRF: every form carries a token that must match the session's token (or, before login, a
  random token in a separate cookie: double submit). Missing or wrong → 403.
* Login attempts are throttled per IP + e-mail address (and more loosely per IP) with an
  in-memory sliding window; each worker process counts on its own, which is enough to make
  password guessing impractical.
* ``/api`` takes personal API tokens (``Authorization: Bearer …``). Only a SHA-256 of the token is
  stored: the token has 256 random bits, so a slow hash would add nothing but latency.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import HTTPException, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.models import ApiToken, User, utcnow
from backoffice.portal.access import Scope, scope_for
from backoffice.portal.state import Portal, PortalDep, SessionDep

SESSION_COOKIE = "bo_session"
CSRF_COOKIE = "bo_csrf"
CSRF_FIELD = "csrf_token"
TOKEN_PREFIX = "bo_"

_hasher = PasswordHasher()
_dummy_hash: str | None = None


# --- passwords -----------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; with no hash, burn the same time and say no."""
    global _dummy_hash  # noqa: PLW0603 - one lazily made hash per process
    if not password_hash:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash(secrets.token_hex(16))
        password_hash = _dummy_hash
        password = password + "\x00never"
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_fingerprint(password_hash: str | None) -> str:
    """A short digest of the stored hash: a new password invalidates older session cookies."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


# --- sessions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionData:
    user_id: int
    fingerprint: str
    csrf: str


class SessionCodec:
    """Signs and reads the session cookie (timestamped: expires after ``max_age`` seconds)."""

    def __init__(self, secret: str, max_age: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="backoffice.portal.session")
        self.max_age = max_age

    def dump(self, data: SessionData) -> str:
        return self._serializer.dumps({"u": data.user_id, "f": data.fingerprint, "c": data.csrf})

    def load(self, token: str) -> SessionData | None:
        try:
            raw: Any = self._serializer.loads(token, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(raw, dict):
            return None
        try:
            return SessionData(int(raw["u"]), str(raw["f"]), str(raw["c"]))
        except (KeyError, TypeError, ValueError):
            return None


def _secure(request: Request, portal: Portal) -> bool:
    if portal.settings.secure_cookies is not None:
        return portal.settings.secure_cookies
    return request.url.scheme == "https"


def start_session(response: Response, request: Request, portal: Portal, user: User) -> None:
    """Log ``user`` in: a fresh session cookie with a fresh CSRF token."""
    data = SessionData(user.id, password_fingerprint(user.password_hash), secrets.token_urlsafe(32))
    response.set_cookie(
        SESSION_COOKIE,
        portal.codec.dump(data),
        max_age=portal.codec.max_age,
        httponly=True,
        samesite="lax",
        secure=_secure(request, portal),
        path="/",
    )
    response.delete_cookie(CSRF_COOKIE, path="/")


def end_session(response: Response, request: Request, portal: Portal) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request, portal)
    )


def session_data(request: Request, portal: Portal) -> SessionData | None:
    token = request.cookies.get(SESSION_COOKIE)
    return portal.codec.load(token) if token else None


class LoginRequiredError(Exception):
    """No valid session: the page handler sends the browser to the login form."""

    def __init__(self, next_path: str = "/") -> None:
        super().__init__(next_path)
        self.next_path = next_path


def page_scope(request: Request, session: SessionDep, portal: PortalDep) -> Scope:
    """The logged-in user of a page request (else: to the login form)."""
    data = session_data(request, portal)
    user = session.get(User, data.user_id) if data else None
    if (
        data is None
        or user is None
        or not hmac.compare_digest(data.fingerprint, password_fingerprint(user.password_hash))
    ):
        raise LoginRequiredError(request.url.path)
    request.state.csrf = data.csrf
    scope = scope_for(session, user)
    request.state.scope = scope
    return scope


# --- CSRF ----------------------------------------------------------------------------------------


def csrf_token(request: Request) -> tuple[str, bool]:
    """The token forms on this page must carry, and whether a pre-session cookie must be set."""
    token: str | None = getattr(request.state, "csrf", None)
    if token:
        return token, False
    portal: Portal = request.app.state.portal
    data = session_data(request, portal)
    if data is not None:
        return data.csrf, False
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and 20 <= len(existing) <= 100:
        return existing, False
    fresh = secrets.token_urlsafe(32)
    request.state.csrf = fresh
    return fresh, True


def set_csrf_cookie(response: Response, request: Request, token: str) -> None:
    portal: Portal = request.app.state.portal
    response.set_cookie(
        CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(request, portal),
        path="/",
    )


async def require_csrf(request: Request) -> None:
    """Refuse a form post whose token does not match the session (or pre-session) token."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    portal: Portal = request.app.state.portal
    data = session_data(request, portal)
    expected = data.csrf if data is not None else request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise HTTPException(status_code=403, detail="Sicherheitsprüfung (CSRF) fehlgeschlagen.")


# --- login throttling ----------------------------------------------------------------------------


class LoginLimiter:
    """Sliding-window count of failed logins per (IP, e-mail) and per IP.

    After ``max_attempts`` failures for an address from one IP within ``window`` seconds, further
    attempts are refused without checking the password until the oldest failure leaves the
    window. One IP gets ``ip_factor`` times as many failures over all addresses (slows down
    password spraying without locking out an office behind one NAT address too quickly).
    """

    def __init__(
        self,
        max_attempts: int = 5,
        window: float = 900.0,
        *,
        ip_factor: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_attempts = max_attempts
        self.window = window
        self.ip_factor = ip_factor
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _keys(self, ip: str, email: str) -> list[tuple[tuple[str, str], int]]:
        return [
            ((ip, email.strip().lower()), self.max_attempts),
            ((ip, ""), self.max_attempts * self.ip_factor),
        ]

    def _prune(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return deque()
        return times

    def retry_after(self, ip: str, email: str) -> float | None:
        """Seconds until a login may be tried again, or ``None`` if it may be tried now."""
        now = self._clock()
        wait: float | None = None
        with self._lock:
            for key, limit in self._keys(ip, email):
                times = self._prune(key, now)
                if len(times) >= limit:
                    until = times[len(times) - limit] + self.window - now
                    wait = max(wait or 0.0, until)
        return wait

    def failed(self, ip: str, email: str) -> None:
        now = self._clock()
        with self._lock:
            for key, _limit in self._keys(ip, email):
                self._prune(key, now)
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, ip: str, email: str) -> None:
        with self._lock:
            self._failures.pop(self._keys(ip, email)[0][0], None)


# --- API tokens ----------------------------------------------------------------------------------


def new_api_token() -> tuple[str, str]:
    """A fresh token (shown to the user once) and the hash that is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_bearer = HTTPBearer(auto_error=False, description="Persönlicher API-Schlüssel")
_LAST_USED_GRANULARITY = timedelta(minutes=5)


def _unauthorized() -> HTTPException:
    return HTTPException(
        status_code=401,
        detail="Gültiger API-Schlüssel erforderlich.",
        headers={"WWW-Authenticate": "Bearer"},
    )


def api_scope(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    session: SessionDep,
) -> Scope:
    """The user behind a Bearer token of an ``/api`` request."""
    if credentials is None or not credentials.credentials.startswith(TOKEN_PREFIX):
        raise _unauthorized()
    token = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == token_hash(credentials.credentials))
    )
    user = session.get(User, token.user_id) if token else None
    if token is None or user is None:
        raise _unauthorized()
    now = utcnow()
    last = token.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    # Written at most every few minutes: a write per API read would serialise SQLite readers.
    if last is None or now - last > _LAST_USED_GRANULARITY:
        token.last_used_at = now
        # Commit at once: on SQLite a pending write would hold the lock for the whole request
        # and block work that runs its own transactions (e.g. receiving an upload).
        session.commit()
    return scope_for(session, user)


def find_user(session: Session, email: str) -> User | None:
    """The user with this e-mail address (case-insensitive)."""
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
