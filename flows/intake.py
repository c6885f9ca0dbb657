"""The intake flow: a folder or batch file of post, all the way into the clients' archives.

Thin by design: each task calls one function of :mod:`backoffice.pipeline` and returns a small
serialisable result. One task per intake and per document (never per page: Prefect's event
stream is the bottleneck at thousands of tasks, and the catalog, not Prefect's history, is the
record). Documents run concurrently on a thread pool; OCR inside a document spreads its pages
over the cores, and tesseract runs as subprocesses, so threads are enough.

The flow also resumes whatever an earlier, interrupted run left: intakes received but not split
and documents stopped after any stage are picked up from the catalog.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from backoffice.config import Settings
from backoffice.pipeline import (
    as_paths,
    process_document_safely,
    process_pending,
    receive,
    split,
    split_pending,
)
from flows.runtime import context_for, no_heartbeat, overrides_of


def _thread_pool(workers: int) -> TaskRunner[Any]:
    """Documents in parallel threads: tesseract is a subprocess, so threads are enough."""
    runner: TaskRunner[Any] = ThreadPoolTaskRunner(max_workers=workers)
    return runner


@task(name="receive", cache_policy=NO_CACHE)
def receive_task(
    path: str, source: str, client_hint: str | None, overrides: dict[str, Any] | None
) -> int:
    """Store every file under ``path`` as an original; returns how many were new."""
    received = receive(context_for(overrides), Path(path), source=source, client_hint=client_hint)
    return sum(1 for r in received if not r.duplicate)


@task(name="split", cache_policy=NO_CACHE)
def split_task(intake_id: int, overrides: dict[str, Any] | None) -> list[int]:
    return split(context_for(overrides), intake_id)


@task(name="process-document", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=1)
def process_task(document_id: int, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """One document through all stages; a failure quarantines it instead of the batch."""
    return process_document_safely(context_for(overrides), document_id).as_dict()


@flow(name="intake", task_runner=_thread_pool(2), log_prints=False)
def intake_flow(
    paths: list[str] | None = None,
    source: str = "folder",
    client_hint: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Receive ``paths`` (files or folders), split pending intakes, process pending documents."""
    for path in paths or []:
        receive_task(path, source, client_hint, overrides)
    ctx = context_for(overrides)
    split_pending(ctx, lambda ids: split_task.map(ids, unmapped(overrides)).wait())
    # rounds: a batch without separator sheets is cut after its text stage, and the documents
    # cut from it are pending for the next round
    return process_pending(
        ctx, lambda ids: [f.result() for f in process_task.map(ids, unmapped(overrides))]
    )


def run_intake(
    paths: Path | Sequence[Path] | None,
    settings: Settings,
    *,
    source: str = "folder",
    client_hint: str | None = None,
) -> list[dict[str, Any]]:
    """Run the intake flow for ``settings`` (embedded Prefect unless ``PREFECT_API_URL`` is set)."""
    overrides = overrides_of(settings)
    runner = intake_flow.with_options(task_runner=_thread_pool(max(1, settings.flow_workers)))
    with no_heartbeat():
        result: list[dict[str, Any]] = runner(
            [str(p) for p in as_paths(paths)], source, client_hint, overrides
        )
    return result
