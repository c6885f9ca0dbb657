"""Watching the scanner's hot folder: take each scan exactly once, and only when it is complete.

Office scanners write their PDFs (or TIFF/JPEG) into a shared folder, often over SMB, and take
seconds to minutes for a long batch. A file must not be received half-written: the half would be
stored as an original, split into documents and, worse, deleted from the folder. A file is taken
only when

* it has not changed for ``stable_seconds``: its change time (``ctime``, which a writer cannot set
  back, unlike ``mtime`` that copy tools preserve) is that old, or the folder was looked at that
  long ago and size, times and inode were the same;
* it can be opened and reads back with the same size and times after reading (a second look);
* it looks complete: a PDF ends with ``%%EOF``, a JPEG with its end marker, a PNG with ``IEND``,
  a ZIP with its central directory. A file that stays incomplete for ``incomplete_grace_seconds``
  is taken anyway, so that a scan the scanner never finished ends up in quarantine where staff
  see it instead of lying unnoticed in the folder.

After the original is stored (write-once, fsynced) and recorded in the catalog, the file is
**deleted** from the hot folder. The archive is the record of truth with retention, access
control and an audit trail; a second copy in a share that every scanner user can read holds the
post of many clients without any of that (GDPR: data minimisation), and a ``.done`` folder only
grows until someone cleans it by hand. ``keep_done=True`` moves files into ``<folder>/.done/``
instead, for sites that want a visible trail while they get used to the system.

The watcher polls instead of using inotify: inotify does not report changes made by other
machines on SMB/NFS mounts (the usual set-up for scanners), would need a dependency or ctypes,
and a close event still does not prove a scanner is done (some close and reopen per page). A
directory listing every few seconds of a folder that holds a handful of files costs nothing.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from backoffice.context import Context
from backoffice.intake.receive import Received, receive_bytes
from backoffice.intake.sniff import sniff_media_type

log = logging.getLogger(__name__)

DONE_FOLDER = ".done"

_TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".lock", ".swp", "~")
_TEMP_PREFIXES = (".", "~$", "~")
"""Names writers use while a file is incomplete (and hidden files, including ``.done``)."""


@dataclass(frozen=True)
class _Look:
    """What a file looked like at one moment; any change of these means it is being written."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @classmethod
    def of(cls, st: os.stat_result) -> _Look:
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


@dataclass
class HotFolderState:
    """What earlier scans saw, so that a watcher can judge stability without trusting clocks.

    File times come from the file server's clock; if it runs ahead of ours, the time-based
    check alone would hold files back. A file seen unchanged across two looks at least
    ``stable_seconds`` apart (measured on our monotonic clock) is stable either way.
    """

    looks: dict[Path, tuple[_Look, float]] = field(default_factory=dict)
    undeletable: dict[Path, _Look] = field(default_factory=dict)
    """Files received but not removable (permissions): not received again on every poll."""


def _candidates(folder: Path) -> Iterator[Path]:
    """Regular files under ``folder``, oldest first; hidden and temporary names skipped,
    symbolic links never followed (a link in a shared folder could point anywhere)."""
    found: list[tuple[float, str, Path]] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith(_TEMP_PREFIXES) or name.lower().endswith(_TEMP_SUFFIXES):
                continue
            path = Path(root) / name
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                found.append((st.st_mtime, str(path), path))
    for _mtime, _name, path in sorted(found):
        yield path


def looks_complete(data: bytes) -> bool:
    """Whether a file's end is there: the trailer of its format, where it has one."""
    media_type = sniff_media_type(data)
    tail = data[-2048:].rstrip(b"\r\n\t \x00")
    if media_type == "application/pdf":
        return b"%%EOF" in tail[-1024:]
    if media_type == "image/jpeg":
        return b"\xff\xd9" in tail[-1024:]
    if media_type == "image/png":
        return b"IEND" in tail[-64:]
    if media_type == "application/zip":
        return b"PK\x05\x06" in data[-(65536 + 22) :]
    return True


def _read_stable(
    path: Path,
    *,
    stable_seconds: float,
    incomplete_grace_seconds: float,
    now: float,
    state: HotFolderState,
) -> tuple[bytes, _Look] | None:
    """The file's bytes if it may be taken now, else ``None`` (it is looked at again later)."""
    try:
        first = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(first.st_mode):
        return None
    look = _Look.of(first)
    if state.undeletable.get(path) == look:
        return None
    mono = time.monotonic()
    seen = state.looks.get(path)
    if seen is None or seen[0] != look:
        state.looks[path] = (look, mono)
        observed = 0.0
    else:
        observed = mono - seen[1]
    unchanged_for = max(now - max(first.st_mtime, first.st_ctime), observed)
    if unchanged_for < stable_seconds:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:  # vanished, no permission, locked by the writer (SMB)
        return None
    with os.fdopen(fd, "rb") as fh:
        data = fh.read()
        after = _Look.of(os.fstat(fh.fileno()))
    if after != look or len(data) != look.size:
        state.looks[path] = (after, mono)
        return None
    if not looks_complete(data) and unchanged_for < incomplete_grace_seconds:
        return None
    return data, look


def _dispose(
    path: Path, folder: Path, look: _Look, *, keep_done: bool, state: HotFolderState
) -> None:
    """Remove a received file from the hot folder (or move it to ``.done``), unless it was
    replaced in the meantime: a scanner that reuses names (``scan0001.pdf``) may already have
    written the next scan under the same name, which must stay for the next scan."""
    state.looks.pop(path, None)
    try:
        if _Look.of(os.lstat(path)) != look:
            return
        if keep_done:
            target = folder / DONE_FOLDER / path.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            counter = 1
            while target.exists():
                target = target.with_name(f"{path.stem}-{counter}{path.suffix}")
                counter += 1
            shutil.move(path, target)
        else:
            path.unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        state.undeletable[path] = look
        log.error("received %s but cannot remove it from the hot folder: %s", path, exc)


def scan_hotfolder(
    ctx: Context,
    folder: Path,
    *,
    stable_seconds: float = 2.0,
    incomplete_grace_seconds: float | None = None,
    client_hint: str | None = None,
    keep_done: bool = False,
    state: HotFolderState | None = None,
    clock: Callable[[], float] = time.time,
) -> list[Received]:
    """Receive every complete, stable file in ``folder`` once and remove it from there.

    Without ``state`` the decision rests on the file times alone (one look, plus the look after
    reading); :func:`watch_hotfolder` keeps a state across polls. An error while storing
    (archive or catalog unreachable) propagates; the file stays in the folder and is taken by
    a later scan, and files already received in this scan are already removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        log.warning("hot folder %s is missing (not mounted?)", folder)
        return []
    state = state if state is not None else HotFolderState()
    grace = incomplete_grace_seconds
    grace = max(60.0, 10 * stable_seconds) if grace is None else grace
    results: list[Received] = []
    present: set[Path] = set()
    for path in _candidates(folder):
        present.add(path)
        taken = _read_stable(
            path,
            stable_seconds=stable_seconds,
            incomplete_grace_seconds=grace,
            now=clock(),
            state=state,
        )
        if taken is None:
            continue
        data, look = taken
        result = receive_bytes(
            ctx.catalog,
            ctx.store,
            data,
            source="folder",
            source_ref=str(path),
            filename=path.name,
            client_hint=client_hint,
            max_bytes=ctx.settings.intake.max_file_bytes,
        )
        _dispose(path, folder, look, keep_done=keep_done, state=state)
        results.append(result)
        log.info(
            "hot folder: %s → intake %s (%s)", path.name, result.intake_id, result.status.value
        )
    for gone in set(state.looks) - present:
        state.looks.pop(gone, None)
    for gone in set(state.undeletable) - present:
        state.undeletable.pop(gone, None)
    return results


def watch_hotfolder(
    ctx: Context,
    folder: Path,
    poll_seconds: float,
    stop_event: threading.Event,
    *,
    stable_seconds: float = 2.0,
    client_hint: str | None = None,
    keep_done: bool = False,
    on_received: Callable[[list[Received]], None] | None = None,
) -> None:
    """Scan ``folder`` every ``poll_seconds`` until ``stop_event`` is set.

    A failing scan (archive down, share unmounted) is logged and retried at the next poll:
    the watcher is a long-running service and must outlive transient trouble. ``on_received``
    lets the caller start processing (e.g. trigger the intake flow) for what was taken.
    """
    state = HotFolderState()
    while not stop_event.is_set():
        try:
            received = scan_hotfolder(
                ctx,
                folder,
                stable_seconds=stable_seconds,
                client_hint=client_hint,
                keep_done=keep_done,
                state=state,
            )
            if received and on_received is not None:
                on_received(received)
        except Exception:
            log.exception("hot folder scan of %s failed; retrying in %.0f s", folder, poll_seconds)
        stop_event.wait(poll_seconds)
