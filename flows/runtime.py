"""Running Prefect quietly and quickly on one machine.

Measured on the 2-core machines (see the README's architecture notes): the embedded mode starts
a local API server in a subprocess (~15 s with a fresh ``PREFECT_HOME``, ~7 s when its database
exists), so the home is kept under ``var/prefect`` and reused; the per-flow heartbeat thread costs
up to a second per flow call and is switched off; telemetry and API logging are off because the
machines are offline and our catalog is the record of truth, not Prefect's run history.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from backoffice.config import Settings, get_settings
from backoffice.context import Context

QUIET_DEFAULTS = {
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    "PREFECT_UI_ENABLED": "false",
}


def configure_environment(var_dir: Path) -> None:
    """Set Prefect's environment before it is imported (settings are read at import)."""
    os.environ.setdefault("PREFECT_HOME", str((var_dir / "prefect").resolve()))
    for key, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(key, value)


@contextmanager
def no_heartbeat() -> Iterator[None]:
    """Run flows without the heartbeat thread (the environment cannot express ``None``)."""
    import prefect.settings

    with prefect.settings.temporary_settings(
        updates={prefect.settings.PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    ):
        yield


def context_for(overrides: dict[str, Any] | None) -> Context:
    """The context a task works in: the caller's settings, passed as plain data.

    Tasks get settings as a JSON-able dict (what Prefect can hand to a worker), never as live
    objects; without overrides the process's own settings apply.
    """
    settings = Settings(**overrides) if overrides else get_settings()
    return Context.from_settings(settings)


def _secret_fields(model: BaseModel) -> dict[Any, Any]:
    """An ``exclude`` spec naming every secret inside ``model`` (nested models and lists)."""
    spec: dict[Any, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            spec[name] = True
        elif isinstance(value, BaseModel) and (inner := _secret_fields(value)):
            spec[name] = inner
        elif isinstance(value, list):
            items = {
                i: s
                for i, v in enumerate(value)
                if isinstance(v, BaseModel)
                if (s := _secret_fields(v))
            }
            if items:
                spec[name] = items
    return spec


def overrides_of(settings: Settings) -> dict[str, Any]:
    """``settings`` as the plain data a flow takes (see :func:`context_for`), without secrets.

    JSON would carry a password as ``"**********"`` and Prefect keeps flow parameters in its
    database; so secrets are left out, and :class:`Settings` fills them in again from the
    process's own environment or TOML file (missing nested keys come from there).
    """
    return settings.model_dump(mode="json", exclude=_secret_fields(settings))
