"""The evaluation runs in CI: accuracy may not fall more than 2 points below the last record.

Held-out sample post (a seed and two layouts training never saw), born-digital and scanned, and
the visible text of the real e-invoices in ``shared/einvoices``. The recorded figures live in
``models/evaluation.json`` (``backoffice evaluate --record`` writes them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backoffice.cli import EVALUATION_RECORD, run_evaluation
from backoffice.understand.evaluate import regressions_against, report_figures

pytestmark = [pytest.mark.ocr, pytest.mark.slow]

SHARED = Path(__file__).resolve().parents[3] / "shared" / "einvoices"


def test_accuracy_does_not_regress(tmp_path: Path) -> None:
    recorded = json.loads(EVALUATION_RECORD.read_text())
    report = run_evaluation(tmp_path, 40, SHARED if SHARED.exists() else None, False)
    figures = report_figures(report)
    assert not regressions_against(report, recorded), json.dumps(figures, indent=2)
    assert figures["held-out/born-digital/classification"] >= 98.0
    assert figures["held-out/scanned/classification"] >= 98.0
