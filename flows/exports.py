"""The monthly bookkeeping run: propose pending bookings, export last month's approved ones.

Thin by design: one task proposes for one client (``ledger.propose_client``), one exports one
client's month (``ledger.export_month``). A client with nothing approved gets no export (and no
empty file); the accountant approves in the portal and the next run, or a manual export, picks
the bookings up. Schedule it for the first days of a month, e.g. with
``monthly_exports.serve(name="datev-monatlich", cron=MONTHLY_CRON)`` on a Prefect worker host.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from backoffice.exports.ledger import client_codes, export_month, previous_month, propose_client
from backoffice.models import utcnow
from flows.runtime import context_for

MONTHLY_CRON = "0 6 3 * *"
"""03rd of the month, 06:00: late post of the old month has had two days to be filed."""
ACTOR = "system:monthly-export"


@task(name="propose-bookings", cache_policy=NO_CACHE)
def propose_task(client_code: str, overrides: dict[str, Any] | None) -> dict[str, Any]:
    return propose_client(context_for(overrides), client_code).as_dict()


@task(name="export-month", cache_policy=NO_CACHE)
def export_task(
    client_code: str, month: str, overrides: dict[str, Any] | None
) -> dict[str, Any] | None:
    result = export_month(context_for(overrides), client_code, month, ACTOR, utcnow())
    return result.as_dict() if result else None


@flow(name="monthly-exports", log_prints=False)
def monthly_exports(
    month: str | None = None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """For every client: propose what is pending, then export ``month`` (default: last month)."""
    period = month or previous_month(date.today())
    results: dict[str, Any] = {"month": period, "clients": {}}
    for code in client_codes(context_for(overrides)):
        proposed = propose_task(code, overrides)
        exported = export_task(code, period, overrides)
        results["clients"][code] = {"proposed": proposed, "exported": exported}
    return results
