"""The recurring runs on their calendar, served by one long-lived process.

``backoffice schedule`` starts :func:`serve_all`: Prefect's runner registers one deployment per
job with its cron schedule (German local time) and starts each run in a subprocess when due.
Runs read their settings from the serving process's environment or ``backoffice.toml`` (no
parameters are stored with the deployments, so no credentials end up in Prefect's database).
Production points ``PREFECT_API_URL`` at a Prefect server; see the README's "Scheduled runs".
"""

from __future__ import annotations

from typing import Any

from prefect.schedules import Cron

from flows.digest import payables_digest
from flows.dunning import dunning_flow
from flows.exports import MONTHLY_CRON, monthly_exports

TIMEZONE = "Europe/Berlin"
DUNNING_CRON = "0 6 * * 1-5"
"""Working days 06:00: yesterday's payments are imported, staff approve during the day."""
DIGEST_CRON = "30 6 * * 1-5"
"""Working days 06:30, after the dunning run: clients read it with the morning post."""

JOBS: tuple[tuple[Any, str, str, str], ...] = (
    (dunning_flow, "mahnlauf", DUNNING_CRON, "Versand freigegebener Mahnungen, neue Vorschläge"),
    (payables_digest, "zahlungsuebersicht", DIGEST_CRON, "Fällige Zahlungen per E-Mail"),
    (monthly_exports, "datev-monatsexport", MONTHLY_CRON, "Buchungsvorschläge und DATEV-Export"),
)


def deployments() -> list[Any]:
    """One runner deployment per job, each on its cron schedule in German local time."""
    return [
        job.to_deployment(
            name=name,
            schedule=Cron(cron, timezone=TIMEZONE),
            description=description,
            tags=["backoffice"],
        )
        for job, name, cron, description in JOBS
    ]


def serve_all() -> None:  # pragma: no cover - blocks until interrupted
    """Serve every scheduled job until the process is stopped."""
    from prefect import serve

    from flows.runtime import no_heartbeat

    with no_heartbeat():
        serve(*deployments())
