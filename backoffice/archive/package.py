"""A client's complete archive as one self-describing package (client leaving, auditor access).

``backoffice export-archive CODE`` writes a ZIP that can be understood without Backoffice: every
original exactly as received and its searchable PDF, the catalog's metadata per document (type,
dates, sender, extracted fields with source and confidence, retention date), the client's audit
trail, and a ``SHA256SUMS`` file over everything. This is the Z3 data carrier of §147(6) AO and
what a client takes when they leave. Creating it is itself recorded in the audit log.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from backoffice.archive.audit import record_event, verify_chain
from backoffice.context import Context
from backoffice.models import AuditEvent, Client, Document, FollowUp

README = """Archivpaket {name} ({code})
Erstellt: {created} UTC durch Backoffice

Inhalt
  dokumente/<Nr>/original.<pdf|xml>   das Dokument so, wie es eingegangen ist (unverändert)
  dokumente/<Nr>/durchsuchbar.pdf     PDF mit Textebene (aus dem Original erzeugt)
  dokumente.csv                       eine Zeile je Dokument (Art, Datum, Absender, Status …)
  dokumente.json                      alle Angaben je Dokument, auch erkannte Felder mit Quelle
  wiedervorlagen.csv                  Zahlungen, Mahnungen, Fristen je Dokument
  pruefprotokoll.jsonl                die Einträge des Prüfprotokolls zu diesem Mandanten
  SHA256SUMS                          SHA-256 jeder Datei dieses Pakets (sha256sum -c SHA256SUMS)

Die Originale tragen im Katalog ihre SHA-256-Prüfsumme (Spalte sha256 des Originals in
dokumente.json); sie ist auch der Name, unter dem das Archiv sie speichert.
Prüfprotokoll des gesamten Archivs bei Erstellung: {chain}
"""


@dataclass(frozen=True)
class PackageSummary:
    path: Path
    documents: int
    files: int
    bytes: int


def _document_record(doc: Document) -> dict[str, Any]:
    return {
        "nr": doc.id,
        "art": doc.doc_type.value,
        "unterart": doc.subtype,
        "titel": doc.title,
        "datum": doc.doc_date.isoformat() if doc.doc_date else None,
        "absender": doc.correspondent.name if doc.correspondent else None,
        "status": doc.status.value,
        "seiten": doc.page_count,
        "eingang": doc.intake.received_at.isoformat(),
        "eingangsweg": doc.intake.source,
        "aufbewahren_bis": doc.retain_until.isoformat() if doc.retain_until else None,
        "original_schluessel": doc.original_key,
        "original_sha256": doc.sha256,
        "hinweise": list(doc.flags or []),
        "felder": [
            {
                "name": f.name,
                "wert": f.value,
                "sicherheit": f.confidence,
                "quelle": f.source,
                "seite": f.page,
            }
            for f in doc.fields
        ],
    }


def export_client_archive(
    ctx: Context, client_code: str, out: Path, *, actor: str
) -> PackageSummary:
    """Write the package for ``client_code`` to ``out`` (a ``.zip``); returns what it holds."""
    sums: list[tuple[str, str]] = []
    total = 0

    def add(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
        nonlocal total
        zf.writestr(name, data)
        sums.append((hashlib.sha256(data).hexdigest(), name))
        total += len(data)

    with ctx.catalog.session() as session:
        client = session.scalars(select(Client).where(Client.code == client_code)).one_or_none()
        if client is None:
            raise LookupError(f"Kein Mandant mit dem Kürzel {client_code}.")
        docs = list(
            session.scalars(
                select(Document).where(Document.client_id == client.id).order_by(Document.id)
            )
        )
        chain = verify_chain(session)
        records = [_document_record(d) for d in docs]
        followups = list(
            session.scalars(
                select(FollowUp).where(FollowUp.client_id == client.id).order_by(FollowUp.id)
            )
        )
        events = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.client_id == client.id).order_by(AuditEvent.id)
            )
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for doc in docs:
                if doc.original_key:
                    suffix = Path(doc.original_key).suffix or ".bin"
                    add(zf, f"dokumente/{doc.id}/original{suffix}", ctx.store.get(doc.original_key))
                if doc.searchable_key:
                    add(
                        zf,
                        f"dokumente/{doc.id}/durchsuchbar.pdf",
                        ctx.store.get(doc.searchable_key),
                    )
            table = io.StringIO()
            writer = csv.writer(table, delimiter=";")
            columns = ["nr", "art", "titel", "datum", "absender", "status", "aufbewahren_bis"]
            writer.writerow(columns)
            for rec in records:
                writer.writerow([rec[c] if rec[c] is not None else "" for c in columns])
            add(zf, "dokumente.csv", table.getvalue().encode("utf-8-sig"))
            add(zf, "dokumente.json", json.dumps(records, ensure_ascii=False, indent=1).encode())
            table = io.StringIO()
            writer = csv.writer(table, delimiter=";")
            writer.writerow(["dokument", "art", "status", "faellig", "betrag", "bezug", "hinweis"])
            for f in followups:
                writer.writerow(
                    [f.document_id, f.kind.value, f.status.value, f.due_date or "",
                     f.amount if f.amount is not None else "", f.reference or "", f.note or ""]
                )  # fmt: skip
            add(zf, "wiedervorlagen.csv", table.getvalue().encode("utf-8-sig"))
            trail = "".join(
                json.dumps(
                    {
                        "id": e.id,
                        "zeit": e.at.isoformat(),
                        "wer": e.actor,
                        "was": e.action,
                        "dokument": e.document_id,
                        "angaben": e.detail,
                        "hash": e.hash,
                        "vorher": e.prev_hash,
                    },
                    ensure_ascii=False,
                )
                + "\n"
                for e in events
            )
            add(zf, "pruefprotokoll.jsonl", trail.encode())
            created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
            chain_text = (
                f"unversehrt ({chain.events} Einträge)"
                if chain.ok
                else f"VERLETZT bei Eintrag {chain.first_bad_id}: {chain.problem}"
            )
            readme = README.format(
                name=client.name, code=client.code, created=created, chain=chain_text
            )
            add(zf, "LIESMICH.txt", readme.encode())
            zf.writestr("SHA256SUMS", "".join(f"{digest}  {name}\n" for digest, name in sums))
        record_event(
            session,
            actor=actor,
            action="archive.exported",
            client_id=client.id,
            detail={"documents": len(docs), "file": out.name, "bytes": total},
        )
    return PackageSummary(out, len(docs), len(sums) + 1, total)
