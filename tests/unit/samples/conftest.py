"""One generated sample corpus shared by the sample tests (seeded, made once per session)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backoffice.samples import GeneratedSet, generate

SEED = 1


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> GeneratedSet:
    """The default demo corpus: 12 documents, scanned batches, two e-mails."""
    return generate(tmp_path_factory.mktemp("samples-seed1"), seed=SEED, n_documents=12)


@pytest.fixture(scope="session")
def truth(corpus: GeneratedSet) -> dict[str, Any]:
    """``ground_truth.json`` as read back from disk (not the in-memory dict)."""
    data: dict[str, Any] = json.loads(
        (corpus.root / "ground_truth.json").read_text(encoding="utf-8")
    )
    return data
