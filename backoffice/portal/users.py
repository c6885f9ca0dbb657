"""Portal accounts: creating users, setting passwords, issuing personal API tokens.

Used by the ``backoffice users …`` commands and by tests; there is deliberately no self sign-up:
the office service decides who sees which client's post.
"""

from __future__ import annotations

from sqlalchemy import select

from backoffice.archive.audit import record_event
from backoffice.db import Catalog
from backoffice.models import ApiToken, Client, Role, User, UserClient
from backoffice.portal.auth import find_user, hash_password, new_api_token

MIN_PASSWORD_LENGTH = 10


class UserError(ValueError):
    """A user could not be created or changed; the message is for the operator (German)."""


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"Das Passwort braucht mindestens {MIN_PASSWORD_LENGTH} Zeichen.")


def create_user(
    catalog: Catalog,
    email: str,
    name: str,
    role: Role | str,
    password: str,
    client_codes: list[str] | tuple[str, ...] = (),
) -> int:
    """Create a user linked to the given clients; returns the user id.

    A client user must be linked to at least one client; staff see every client and are not
    linked to any.
    """
    role = Role(role)
    email = email.strip().lower()
    if "@" not in email or len(email) > 200:
        raise UserError(f"Keine gültige E-Mail-Adresse: {email!r}")
    _check_password(password)
    codes = [] if role == Role.STAFF else list(dict.fromkeys(client_codes))
    if role == Role.CLIENT and not codes:
        raise UserError("Ein Mandanten-Zugang braucht ein Mandantenkürzel (--client).")
    with catalog.session() as session:
        if find_user(session, email) is not None:
            raise UserError(f"Den Zugang {email} gibt es schon.")
        clients = list(session.scalars(select(Client).where(Client.code.in_(codes))))
        missing = sorted(set(codes) - {c.code for c in clients})
        if missing:
            raise UserError(f"Unbekannte Mandanten: {', '.join(missing)}")
        user = User(email=email, name=name, role=role, password_hash=hash_password(password))
        session.add(user)
        session.flush()
        for client in clients:
            session.add(UserClient(user_id=user.id, client_id=client.id))
        record_event(
            session,
            actor="cli",
            action="user.created",
            detail={"user_id": user.id, "role": role.value, "clients": sorted(codes)},
        )
        return user.id


def set_password(catalog: Catalog, email: str, password: str) -> None:
    """A new password; every open session of the user ends with it."""
    _check_password(password)
    with catalog.session() as session:
        user = find_user(session, email)
        if user is None:
            raise UserError(f"Keinen Zugang {email} gefunden.")
        user.password_hash = hash_password(password)
        record_event(session, actor="cli", action="user.password_set", detail={"user_id": user.id})


def create_api_token(catalog: Catalog, email: str, name: str = "API") -> str:
    """Issue a personal API token for ``email``; the token is returned once and never stored."""
    token, digest = new_api_token()
    with catalog.session() as session:
        user = find_user(session, email)
        if user is None:
            raise UserError(f"Keinen Zugang {email} gefunden.")
        row = ApiToken(user_id=user.id, token_hash=digest, name=name[:100])
        session.add(row)
        session.flush()
        record_event(
            session,
            actor="cli",
            action="api_token.created",
            detail={"user_id": user.id, "token_id": row.id, "name": row.name},
        )
    return token


def revoke_api_tokens(catalog: Catalog, email: str) -> int:
    """Remove all API tokens of a user; returns how many there were."""
    with catalog.session() as session:
        user = find_user(session, email)
        if user is None:
            raise UserError(f"Keinen Zugang {email} gefunden.")
        tokens = list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)))
        for token in tokens:
            session.delete(token)
        record_event(
            session,
            actor="cli",
            action="api_token.revoked",
            detail={"user_id": user.id, "count": len(tokens)},
        )
        return len(tokens)
