"""The ``backoffice`` command as staff use it (in-process, embedded defaults, no OCR)."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest
from typer.testing import CliRunner

from backoffice.cli import app, key_fields_line, short_key
from backoffice.intake.separator import read_separator
from backoffice.samples import generate
from backoffice.text import render_page

runner = CliRunner()


@pytest.fixture(scope="module")
def post(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("post")
    generate(root, seed=4, n_documents=3, scanned=False, n_emails=0)
    return root / "digital"


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_clients_documents_quarantine_audit(tmp_path: Path, post: Path) -> None:
    var = str(tmp_path / "var")
    assert "3 Mandanten angelegt" in invoke("clients", "demo", "--var", var)
    invoke("clients", "add", "NEU", "Neu GmbH", "--zip", "10115", "--city", "Berlin", "--var", var)
    listing = invoke("clients", "list", "--var", var)
    assert "MUELLER" in listing and "Neu GmbH" in listing
    (post.parent / "broken.pdf").write_bytes(b"%PDF-1.7 truncated")
    summary = invoke("intake", str(post), "--no-prefect", "--var", var)
    assert "Eingangspost" in summary
    invoke("intake", str(post.parent / "broken.pdf"), "--no-prefect", "--var", var)
    docs = invoke("documents", "list", "--var", var)
    assert docs.count("filed") + docs.count("unassigned") == 3
    shown = invoke("documents", "show", "1", "--var", var)
    assert "Original: clients/" in shown or "Original: intake/" in shown
    quarantine = invoke("quarantine", "list", "--var", var)
    assert "broken.pdf" in quarantine and "beschädigt" in quarantine
    assert "unversehrt" in invoke("audit", "verify", "--var", var)


def test_separator_sheet_command_makes_a_readable_sheet(tmp_path: Path) -> None:
    out = tmp_path / "sheet.pdf"
    invoke("separator-sheet", "--client", "KLEIN", "-o", str(out))
    info = read_separator(render_page(pdfium.PdfDocument(out.read_bytes()), 0, 100))
    assert info is not None and info.client_code == "KLEIN"


def test_summary_helpers() -> None:
    line = key_fields_line(
        "invoice",
        {"invoice_number": "RE-1", "gross_total": "1234.5", "due_date": "2026-04-01"},
    )
    assert line == "Nr. RE-1 · 1.234,50 € · fällig 01.04.2026"
    assert key_fields_line("reminder", {"dunning_stage": "3"}) == "letzte Mahnung"
    assert short_key("clients/KLEIN/originals/ab/abcdef0123456789.pdf") == (
        "clients/KLEIN/originals/abcdef0123….pdf"
    )


def test_watch_once_takes_finished_scans(tmp_path: Path, post: Path) -> None:
    var = str(tmp_path / "var")
    hot = tmp_path / "scanner"
    hot.mkdir()
    source = sorted(post.glob("*.pdf"))[0]
    (hot / "scan0001.pdf").write_bytes(source.read_bytes())
    invoke("clients", "demo", "--var", var)
    out = invoke("watch", str(hot), "--once", "--stable", "0", "--var", var)
    assert "1 Datei(en) übernommen" in out
    assert not (hot / "scan0001.pdf").exists(), "taken files leave the scanner share"
    assert "filed" in invoke("documents", "list", "--var", var) or "unassigned" in out


def test_export_archive_is_complete_and_self_checking(tmp_path: Path, post: Path) -> None:
    import hashlib
    import json
    import zipfile

    var = str(tmp_path / "var")
    invoke("clients", "demo", "--var", var)
    invoke("intake", str(post), "--no-prefect", "--var", var)
    listing = invoke("documents", "list", "--var", var)
    code = next(c for c in ("MUELLER", "SCHNEIDER", "KLEIN") if c in listing)
    out = tmp_path / "paket.zip"
    assert "Dokumente" in invoke("export-archive", code, "-o", str(out), "--var", var)
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        records = json.loads(zf.read("dokumente.json"))
        assert records and all(f"dokumente/{r['nr']}/durchsuchbar.pdf" in names for r in records)
        for line in zf.read("SHA256SUMS").decode().splitlines():
            digest, name = line.split("  ", 1)
            assert hashlib.sha256(zf.read(name)).hexdigest() == digest
        assert {"LIESMICH.txt", "pruefprotokoll.jsonl", "dokumente.csv"} <= names
    assert "unversehrt" in invoke("audit", "verify", "--var", var)
    bad = runner.invoke(app, ["export-archive", "NIEMAND", "--var", var])
    assert bad.exit_code != 0
