"""One Prefect test harness for all flow tests (it costs ~12 s to start), heartbeats off.

Scoped to ``tests/flows`` so that the rest of the suite never starts a Prefect server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    from flows.runtime import configure_environment

    configure_environment(tmp_path_factory.mktemp("prefect-var"))
    from prefect.testing.utilities import prefect_test_harness

    from flows.runtime import no_heartbeat

    with prefect_test_harness(server_startup_timeout=120), no_heartbeat():
        yield
