"""What one running portal holds: its settings, context, signing keys and request dependencies.

Kept apart from :mod:`backoffice.portal.app` so that the route modules and :mod:`.auth` can
depend on it without importing the application factory.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session

from backoffice.context import Context

if TYPE_CHECKING:
    from backoffice.portal.auth import LoginLimiter, SessionCodec

log = logging.getLogger(__name__)


class PortalSettings(BaseSettings):
    """Portal options, from ``BACKOFFICE_PORTAL_…`` environment variables.

    Separate from :class:`backoffice.config.Settings` only because that object belongs to the
    pipeline; it can be nested there as ``portal`` without changing any name.
    """

    model_config = SettingsConfigDict(env_prefix="BACKOFFICE_PORTAL_", extra="ignore")

    secret_key: str = ""
    """Signs session cookies. Empty: a random key kept in ``<var>/portal-secret`` (one host).
    Set it explicitly when several hosts serve the portal."""
    secure_cookies: bool | None = None
    """``None``: Secure cookies when the request came over https (behind a proxy: run uvicorn
    with ``--proxy-headers``). ``True``/``False`` to force."""
    session_max_age: int = 8 * 3600
    login_max_attempts: int = 5
    """Failed logins per account within the window before the account is locked."""
    login_max_attempts_per_ip: int = 20
    """Failed logins from one client IP over all accounts within the window."""
    login_window_seconds: float = 900.0
    """Sliding window of the login limits (counted in the catalog, shared by all workers)."""
    reindex_on_start: bool = True
    """Index documents whose search entry is missing or stale when the portal starts."""
    page_size: int = 20


def load_secret(settings: PortalSettings, var_dir: Path) -> str:
    """The signing key: configured, or generated once and kept beside the catalog (mode 600)."""
    if settings.secret_key:
        return settings.secret_key
    path = var_dir / "portal-secret"
    if path.is_file():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


Processor = Callable[[Context, int], Any]
"""Runs a document through the pipeline (``backoffice.pipeline.process_document``)."""


def default_processor(ctx: Context, document_id: int) -> Any:
    """The real pipeline; imported late because it loads OCR and NLP models."""
    from backoffice.pipeline import process_document

    return process_document(ctx, document_id)


@dataclass
class Portal:
    """Everything the routes need, created once per application."""

    ctx: Context
    settings: PortalSettings
    codec: SessionCodec
    limiter: LoginLimiter
    templates: Jinja2Templates
    process: Processor = default_processor

    def session(self) -> Session:
        return Session(self.ctx.catalog.engine, expire_on_commit=False)


def get_portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def get_session(request: Request) -> Iterator[Session]:
    """One catalog transaction per request: committed when the handler returns normally.

    Used with ``scope="function"`` so the commit happens before the response is sent; a
    client that follows a redirect then always sees what the previous request wrote.
    """
    portal = get_portal(request)
    with portal.session() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


PortalDep = Annotated[Portal, Depends(get_portal)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
