"""The daily payables digest as a Prefect flow (schedule it each morning).

Thin by design: one task calls :func:`backoffice.followups.digest.send_digests`, which knows from
the audit log what was already sent today, so a retried or doubled run mails nobody twice.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from backoffice.config import Settings
from backoffice.followups.digest import send_digests
from flows.runtime import context_for, no_heartbeat, overrides_of


@task(name="send-digests", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=30)
def send_digests_task(today: date | None, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Send the digests due today; returns what was sent and what failed, per client code."""
    return send_digests(context_for(overrides), today).as_dict()


@flow(name="payables-digest", log_prints=False)
def payables_digest(
    today: date | None = None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """E-mail every client what is due in the coming days (once per client and day)."""
    result: dict[str, Any] = send_digests_task(today, overrides)
    return result


def run_digest(settings: Settings, today: date | None = None) -> dict[str, Any]:
    """Run the digest flow for ``settings`` (embedded Prefect unless ``PREFECT_API_URL`` is set)."""
    overrides = overrides_of(settings)
    with no_heartbeat():
        result: dict[str, Any] = payables_digest(today, overrides)
    return result
