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
