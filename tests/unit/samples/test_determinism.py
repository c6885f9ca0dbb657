"""Same seed, same bytes; another seed, another corpus."""

from __future__ import annotations

import json
from pathlib import Path

from backoffice.samples import GeneratedSet, generate
from tests.unit.samples.conftest import SEED


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_files(corpus: GeneratedSet, tmp_path: Path) -> None:
    again = generate(tmp_path, seed=SEED, n_documents=12)
    first, second = _files(corpus.root), _files(again.root)
    assert first.keys() == second.keys()
    assert len(first) == 1 + 12 + 12 + len(corpus.batches) + len(corpus.emails)
    for name in first:
        assert first[name] == second[name], name


def test_other_seed_gives_other_post(corpus: GeneratedSet, tmp_path: Path) -> None:
    other = generate(tmp_path, seed=SEED + 1, n_documents=12, scanned=False)
    mine = corpus.ground_truth["documents"]
    theirs = other.ground_truth["documents"]
    assert [d["page_texts"] for d in mine] != [d["page_texts"] for d in theirs]
    senders_mine = {d["sender"]["name"] for d in mine}
    senders_theirs = {d["sender"]["name"] for d in theirs}
    assert senders_mine != senders_theirs
    numbers = {d["fields"].get("invoice_number") for d in mine} - {None}
    assert numbers.isdisjoint({d["fields"].get("invoice_number") for d in theirs})


def test_rerun_into_the_same_folder_replaces_the_old_set(tmp_path: Path) -> None:
    generate(tmp_path, seed=3, n_documents=5, scanned=False, n_emails=1)
    small = generate(tmp_path, seed=3, n_documents=2, scanned=False, n_emails=0)
    assert sorted(p.name for p in (tmp_path / "digital").iterdir()) == [
        "doc-0001.pdf",
        "doc-0002.pdf",
    ]
    assert not list((tmp_path / "email").iterdir())
    assert (
        json.loads((tmp_path / "ground_truth.json").read_text())["documents"]
        == small.ground_truth["documents"]
    )
