"""The daily dunning flow: propose the stages that are due, then send what staff approved.

Thin by design: each task calls one function of :mod:`backoffice.followups.dunning` and returns
its small summary. Proposals and dispatch are separate tasks because staff approve in between:
a day's run sends what was approved since the last run and proposes what became due today
(those go out with the next run, after approval). The catalog, not Prefect's history, records
every notice and its audit trail.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from backoffice.config import Settings
from backoffice.followups.dunning import dispatch, run_proposals
from flows.runtime import context_for, no_heartbeat, overrides_of


def _day(today: str | None) -> date:
    return date.fromisoformat(today) if today else date.today()


@task(name="dunning-propose", cache_policy=NO_CACHE)
def propose_task(today: str | None, overrides: dict[str, Any] | None) -> dict[str, list[int]]:
    """Propose every stage due on ``today``; cancel proposals of items settled meanwhile."""
    return run_proposals(context_for(overrides), _day(today)).as_dict()


@task(name="dunning-dispatch", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=30)
def dispatch_task(today: str | None, overrides: dict[str, Any] | None) -> dict[str, object]:
    """File and send (or queue for print) every approved notice."""
    return dispatch(context_for(overrides), _day(today)).as_dict()


@flow(name="dunning", log_prints=False)
def dunning_flow(
    today: str | None = None,
    overrides: dict[str, Any] | None = None,
    send: bool = True,
) -> dict[str, Any]:
    """Dispatch approved notices (unless ``send`` is off), then propose today's stages."""
    sent = dispatch_task(today, overrides) if send else None
    proposed = propose_task(today, overrides)
    return {"dispatch": sent, "proposals": proposed}


def run_dunning(
    settings: Settings, today: date | None = None, *, send: bool = True
) -> dict[str, Any]:
    """Run the dunning flow for ``settings`` (embedded Prefect unless ``PREFECT_API_URL``)."""
    overrides = overrides_of(settings)
    with no_heartbeat():
        result: dict[str, Any] = dunning_flow(today.isoformat() if today else None, overrides, send)
    return result
