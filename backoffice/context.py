"""The explicit context every stage and command works in: settings, catalog, archive.

Kept apart from :mod:`backoffice.pipeline` so that light commands (listing documents, verifying
the audit log) do not load the OCR and NLP machinery.
"""

from __future__ import annotations

from dataclasses import dataclass

from backoffice.archive.storage import ObjectStore, open_store
from backoffice.config import Settings
from backoffice.db import Catalog, open_catalog


@dataclass
class Context:
    """Everything a stage needs, passed explicitly (no globals)."""

    settings: Settings
    catalog: Catalog
    store: ObjectStore

    @classmethod
    def from_settings(cls, settings: Settings) -> Context:
        return cls(settings, open_catalog(settings), open_store(settings))
