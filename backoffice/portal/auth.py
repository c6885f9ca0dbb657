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
* Login attempts are throttled per account and (more loosely) per client IP over a sliding
  window counted from the failed-login events of the audit log, so every worker process and a
  restarted portal share one count (:class:`LoginLimiter`).
* ``/api`` takes personal API tokens (``Authorization: Bearer …``). Only a SHA-256 of the token is
  stored: the token has 256 random bits, so a slow hash would add nothing but latency.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import HTTPException, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from backoffice.archive.audit import record_event
from backoffice.models import ApiToken, AuditEvent, User, utcnow
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

LOGIN_FAILED = "user.login_failed"
LOGIN_SUCCEEDED = "user.login"


def login_key(email: str) -> str:
    """The spelling of an e-mail address in failed-login events (and so in their counts)."""
    return email.strip().lower()[:200]


def _as_utc(at: datetime) -> datetime:
    """SQLite hands timestamps back naive; the catalog writes them in UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


class LoginLimiter:
    """Sliding-window count of failed logins per account and per client IP, kept in the catalog.

    The failures are the ``user.login_failed`` events of the audit log (actor ``ip:<address>``,
    the e-mail address in ``detail``; never the password), which every login failure writes
    anyway. Counting them there rather than in the process means that all workers of the portal,
    on any number of hosts, and a restarted portal see the same count: an attacker gains nothing
    by spreading guesses over workers or waiting for a deploy.

    * An account is locked after ``max_attempts`` failures within ``window`` seconds, from any
      IP; a successful login of the account starts its count afresh.
    * One IP is locked after ``ip_max_attempts`` failures over all accounts within the window
      (password spraying). Its count is not reset by a success: one known password must not
      buy more guesses at other accounts. The limit is higher than the account limit so an
      office behind one NAT address is not locked out by a few typos.

    A locked attempt is refused without checking the password and is neither counted nor logged,
    so the lock ends when the oldest counted failure leaves the window. The check and the
    recording are not one atomic step: concurrent requests may each get one attempt past the
    limit, which does not matter for guessing.

    The queries filter ``audit_events`` by action and time, which has no index of its own; a
    login (rare, and costing an argon2 hash anyway) pays for that scan.
    """

    def __init__(
        self,
        max_attempts: int = 5,
        window: float = 900.0,
        *,
        ip_max_attempts: int = 20,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.max_attempts = max_attempts
        self.window = timedelta(seconds=window)
        self.ip_max_attempts = ip_max_attempts
        self._clock = clock

    def retry_after(self, session: Session, ip: str, email: str) -> float | None:
        """Seconds until a login may be tried again, or ``None`` if it may be tried now."""
        now = self._clock()
        since = now - self.window
        account = login_key(email)
        # The chain's ids order events exactly; their timestamps are whole seconds only.
        last_success = session.scalar(
            select(func.max(AuditEvent.id)).where(
                AuditEvent.action == LOGIN_SUCCEEDED,
                func.lower(AuditEvent.actor) == f"user:{account}",
                AuditEvent.at >= since,
            )
        )
        waits = [
            self._wait(
                session,
                and_(
                    AuditEvent.detail["email"].as_string() == account,
                    AuditEvent.id > (last_success or 0),
                ),
                since,
                self.max_attempts,
                now,
            ),
            self._wait(session, AuditEvent.actor == f"ip:{ip}", since, self.ip_max_attempts, now),
        ]
        locked = [w for w in waits if w is not None]
        return max(locked) if locked else None

    def _wait(
        self,
        session: Session,
        who: ColumnElement[bool],
        since: datetime,
        limit: int,
        now: datetime,
    ) -> float | None:
        """How long until fewer than ``limit`` failures of ``who`` lie in the window."""
        recent = list(
            session.scalars(
                select(AuditEvent.at)
                .where(AuditEvent.action == LOGIN_FAILED, AuditEvent.at >= since, who)
                .order_by(AuditEvent.id.desc())
                .limit(limit)
            )
        )
        if len(recent) < limit:
            return None
        # The oldest of the last ``limit`` failures must leave the window; timestamps are whole
        # seconds, so wait at least one.
        return max(1.0, (_as_utc(recent[-1]) + self.window - now).total_seconds())

    def failed(self, session: Session, ip: str, email: str) -> None:
        """Count a failed login: one audit event (IP and address, never the password)."""
        record_event(
            session, actor=f"ip:{ip}", action=LOGIN_FAILED, detail={"email": login_key(email)}
        )


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
