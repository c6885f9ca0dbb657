"""Generated sample post shared by the slower tests (made once per session, seeded)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class BatchTruth:
    """The documents of the scanner batches, in page order, as the generator wrote them."""

    root: Path
    documents: dict[str, dict[str, Any]]
    order: list[tuple[str, str | None]]
    """(document id, client code on its separator sheet) in batch order."""


def batch_truth(root: Path) -> BatchTruth:
    truth = json.loads((root / "ground_truth.json").read_text())
    docs = {d["id"]: d for d in truth["documents"]}
    order: list[tuple[str, str | None]] = []
    for batch in truth["batches"]:
        hint: str | None = None
        seen: set[str] = set()
        for page in batch["pages"]:
            if page["kind"] == "separator":
                hint = page.get("client_code")
            elif page["kind"] == "document" and page["id"] not in seen:
                seen.add(page["id"])
                order.append((page["id"], hint))
    return BatchTruth(root, docs, order)


def iter_batches(root: Path) -> Iterator[Path]:
    yield from sorted((root / "batches").glob("*.pdf"))
