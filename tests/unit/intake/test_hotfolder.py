"""The scanner's hot folder: every complete scan is received once, half-written ones wait.

Time is injected (``clock``) instead of slept, so "stable for two seconds" costs nothing here.
"""

from __future__ import annotations

import io
import os
import threading
import time
from datetime import date
from pathlib import Path
from typing import cast

import pytest
from reportlab.pdfgen import canvas
from sqlalchemy import select

from backoffice.archive.storage import ObjectStore, PutResult, StorageError
from backoffice.config import Settings
from backoffice.context import Context
from backoffice.intake.hotfolder import (
    HotFolderState,
    _dispose,
    _Look,
    looks_complete,
    scan_hotfolder,
    watch_hotfolder,
)
from backoffice.intake.receive import Received
from backoffice.models import Intake, IntakeStatus


def make_pdf(text: str) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def later(seconds: float = 10.0) -> float:
    """A clock reading ``seconds`` from now: every file written so far is that old."""
    return time.time() + seconds


@pytest.fixture
def ctx(settings: Settings) -> Context:
    return Context.from_settings(settings)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "scanner"
    path.mkdir()
    return path


def intakes(ctx: Context) -> list[Intake]:
    with ctx.catalog.session() as s:
        return list(s.scalars(select(Intake).order_by(Intake.id)))


def test_stable_complete_scan_is_received_once_and_removed(ctx: Context, folder: Path) -> None:
    pdf = make_pdf("Scan 1")
    (folder / "scan0001.pdf").write_bytes(pdf)
    [result] = scan_hotfolder(ctx, folder, client_hint="MUELLER", clock=later)
    assert result.status == IntakeStatus.RECEIVED and not result.duplicate
    assert not (folder / "scan0001.pdf").exists()
    [intake] = intakes(ctx)
    assert intake.source == "folder" and intake.filename == "scan0001.pdf"
    assert intake.source_ref == str(folder / "scan0001.pdf") and intake.client_hint == "MUELLER"
    assert ctx.store.get(intake.storage_key) == pdf
    assert scan_hotfolder(ctx, folder, clock=later) == []


def test_fresh_file_waits_until_it_has_been_stable(ctx: Context, folder: Path) -> None:
    (folder / "scan.pdf").write_bytes(make_pdf("frisch"))
    assert scan_hotfolder(ctx, folder, stable_seconds=2.0) == []
    assert (folder / "scan.pdf").exists() and intakes(ctx) == []
    assert len(scan_hotfolder(ctx, folder, stable_seconds=2.0, clock=lambda: later(2.5))) == 1


def test_half_written_pdf_is_not_taken_until_complete(ctx: Context, folder: Path) -> None:
    pdf = make_pdf("lang") + b"\n"
    path = folder / "stapel.pdf"
    path.write_bytes(pdf[: len(pdf) // 2])  # the scanner paused mid-file (stalled network)
    assert scan_hotfolder(ctx, folder, clock=later) == []
    assert path.exists() and intakes(ctx) == []
    with path.open("ab") as fh:
        fh.write(pdf[len(pdf) // 2 :])
    [result] = scan_hotfolder(ctx, folder, clock=later)
    [intake] = intakes(ctx)
    assert ctx.store.get(intake.storage_key) == pdf and result.intake_id == intake.id


def test_never_finished_scan_is_taken_after_the_grace_period(ctx: Context, folder: Path) -> None:
    (folder / "abgebrochen.pdf").write_bytes(make_pdf("x")[:300])
    assert scan_hotfolder(ctx, folder, clock=later) == []
    [result] = scan_hotfolder(ctx, folder, incomplete_grace_seconds=60, clock=lambda: later(120))
    assert result.status == IntakeStatus.RECEIVED  # the split stage quarantines it as broken


def test_two_looks_make_a_file_stable_even_when_the_server_clock_runs_ahead(
    ctx: Context, folder: Path
) -> None:
    (folder / "scan.pdf").write_bytes(make_pdf("Uhr"))
    state = HotFolderState()
    behind = lambda: time.time() - 3600  # noqa: E731 - our clock an hour behind the file times
    assert scan_hotfolder(ctx, folder, stable_seconds=0.2, state=state, clock=behind) == []
    time.sleep(0.25)
    assert len(scan_hotfolder(ctx, folder, stable_seconds=0.2, state=state, clock=behind)) == 1


def test_hidden_temporary_and_linked_files_are_left_alone(
    ctx: Context, folder: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "geheim.pdf"
    secret.write_bytes(make_pdf("nicht im Scanordner"))
    (folder / "link.pdf").symlink_to(secret)
    (folder / ".versteckt.pdf").write_bytes(make_pdf("a"))
    (folder / "scan.pdf.part").write_bytes(make_pdf("b"))
    (folder / "~$scan.pdf").write_bytes(make_pdf("c"))
    (folder / ".done").mkdir()
    (folder / ".done" / "alt.pdf").write_bytes(make_pdf("d"))
    (folder / "Abteilung").mkdir()
    (folder / "Abteilung" / "ok.pdf").write_bytes(make_pdf("e"))
    results = scan_hotfolder(ctx, folder, clock=later)
    assert [r.filename for r in results] == ["ok.pdf"]
    assert secret.exists() and (folder / "link.pdf").is_symlink()
    assert (folder / ".done" / "alt.pdf").exists() and (folder / "scan.pdf.part").exists()


def test_keep_done_moves_files_into_the_done_folder(ctx: Context, folder: Path) -> None:
    (folder / "scan.pdf").write_bytes(make_pdf("1"))
    scan_hotfolder(ctx, folder, keep_done=True, clock=later)
    (folder / "scan.pdf").write_bytes(make_pdf("2"))  # the scanner reuses the name
    scan_hotfolder(ctx, folder, keep_done=True, clock=later)
    assert sorted(p.name for p in (folder / ".done").iterdir()) == ["scan-1.pdf", "scan.pdf"]
    assert len(intakes(ctx)) == 2


def test_the_same_scan_twice_is_one_intake(ctx: Context, folder: Path) -> None:
    pdf = make_pdf("doppelt")
    (folder / "a.pdf").write_bytes(pdf)
    (folder / "b.pdf").write_bytes(pdf)
    results = scan_hotfolder(ctx, folder, clock=later)
    assert [r.duplicate for r in results] == [False, True]
    assert len(intakes(ctx)) == 1 and intakes(ctx)[0].redeliveries == 1
    assert list(folder.iterdir()) == []


class BrokenStore:
    """The archive is unreachable: every write fails."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.url = inner.url

    def put(
        self, key: str, data: bytes, *, content_type: str = "", retain_until: date | None = None
    ) -> PutResult:
        raise StorageError("archive unreachable")

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_a_file_stays_in_the_folder_when_storing_fails(ctx: Context, folder: Path) -> None:
    (folder / "scan.pdf").write_bytes(make_pdf("bleibt"))
    broken = Context(ctx.settings, ctx.catalog, cast(ObjectStore, BrokenStore(ctx.store)))
    with pytest.raises(StorageError):
        scan_hotfolder(broken, folder, clock=later)
    assert (folder / "scan.pdf").exists() and intakes(ctx) == []
    assert len(scan_hotfolder(ctx, folder, clock=later)) == 1
    assert not (folder / "scan.pdf").exists()


def test_a_file_replaced_after_reading_is_not_deleted(folder: Path) -> None:
    path = folder / "scan0001.pdf"
    path.write_bytes(make_pdf("alt"))
    look = _Look.of(os.lstat(path))
    path.write_bytes(make_pdf("neuer Scan unter demselben Namen"))
    _dispose(path, folder, look, keep_done=False, state=HotFolderState())
    assert path.exists()


def test_completeness_markers() -> None:
    pdf = make_pdf("x")
    assert looks_complete(pdf) and looks_complete(pdf + b"\r\n\x00\x00")
    assert not looks_complete(pdf[:-20])
    assert not looks_complete(b"\xff\xd8\xff\xe0" + b"\0" * 100)
    assert looks_complete(b"\xff\xd8\xff\xe0" + b"\0" * 100 + b"\xff\xd9")
    assert looks_complete(b"II*\x00 a TIFF has no trailer")


def test_missing_folder_is_not_an_error(ctx: Context, tmp_path: Path) -> None:
    assert scan_hotfolder(ctx, tmp_path / "nicht-gemountet") == []


def test_watcher_takes_new_scans_until_stopped(ctx: Context, folder: Path) -> None:
    stop = threading.Event()
    seen: list[Received] = []
    thread = threading.Thread(
        target=watch_hotfolder,
        args=(ctx, folder, 0.05, stop),
        kwargs={"stable_seconds": 0.1, "on_received": seen.extend},
    )
    thread.start()
    try:
        tmp = folder / "scan.pdf.tmp"
        tmp.write_bytes(make_pdf("Watcher"))
        tmp.rename(folder / "scan.pdf")
        deadline = time.monotonic() + 10
        while (folder / "scan.pdf").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert [r.filename for r in seen] == ["scan.pdf"]
