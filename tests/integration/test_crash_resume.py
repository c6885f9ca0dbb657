"""Durability: kill -9 the intake in the middle, restart, and nothing is lost or filed twice.

The intake runs as a real subprocess (``backoffice intake``) over a folder of 32 born-digital
documents (born-digital so that OCR time does not dominate) and is SIGKILLed at several points:
while originals are still being received, in the middle of processing, and near the end. After
each kill the same command is started again; at the end every document exists exactly once and
is filed, and every original is in the archive.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.config import Settings
from backoffice.context import Context
from backoffice.models import Document, DocumentStatus, Intake
from backoffice.pipeline import seed_clients
from backoffice.samples import DEMO_CLIENTS, generate

pytestmark = [pytest.mark.slow]

N_DOCUMENTS = 32


def _count(ctx: Context, what: str) -> int:
    with ctx.catalog.session() as s:
        if what == "intakes":
            return s.scalar(select(func.count()).select_from(Intake)) or 0
        return (
            s.scalar(
                select(func.count())
                .select_from(Document)
                .where(Document.status == DocumentStatus.FILED)
            )
            or 0
        )


def _start(folder: Path, var: Path, *, prefect: bool) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BACKOFFICE_VAR_DIR": str(var), "COLUMNS": "200"}
    args = [sys.executable, "-m", "backoffice.cli", "intake", str(folder), "--var", str(var)]
    if not prefect:
        args.append("--no-prefect")
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_when(proc: subprocess.Popen[bytes], ctx: Context, what: str, at_least: int) -> bool:
    """SIGKILL ``proc`` once the catalog shows ``at_least`` of ``what``; False if it finished."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if _count(ctx, what) >= at_least:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return True
        except Exception:  # the catalog may be mid-migration in the child; look again
            pass
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("intake did not make progress")


def test_kill_minus_nine_at_several_points_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    post = tmp_path / "post"
    generate(post, seed=33, n_documents=N_DOCUMENTS, scanned=False, n_emails=0)
    folder = post / "digital"
    var = tmp_path / "var"
    ctx = Context.from_settings(Settings(var_dir=var))
    seed_clients(ctx, DEMO_CLIENTS)

    kills = 0
    for what, at_least in (("intakes", 8), ("filed", 10), ("filed", 24)):
        kills += _kill_when(_start(folder, var, prefect=False), ctx, what, at_least)
    assert kills >= 2, "the intake finished before it could be interrupted"

    final = _start(folder, var, prefect=True)
    _, err = final.communicate(timeout=600)
    assert final.returncode == 0, err.decode()[-2000:]

    with ctx.catalog.session() as s:
        intakes = list(s.scalars(select(Intake)))
        docs = list(s.scalars(select(Document)))
        assert len(intakes) == N_DOCUMENTS
        assert len({i.sha256 for i in intakes}) == N_DOCUMENTS
        assert len(docs) == N_DOCUMENTS, "each document exactly once"
        assert len({(d.intake_id, d.first_page) for d in docs}) == N_DOCUMENTS
        assert all(d.status in (DocumentStatus.FILED, DocumentStatus.UNASSIGNED) for d in docs)
        for intake in intakes:
            assert ctx.store.exists(intake.storage_key)
        for doc in docs:
            assert doc.original_key and ctx.store.exists(doc.original_key)
