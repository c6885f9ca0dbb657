"""Scoring rules of ``backoffice evaluate`` (how a bookkeeper would judge a field)."""

from __future__ import annotations

from backoffice.understand.evaluate import ChannelReport, regressions, same_value, scan_condition


def test_same_value_rules() -> None:
    assert same_value("gross_total", "1234.5", "1234.50")
    assert not same_value("gross_total", "1234.50", "1234.51")
    assert same_value("invoice_number", "RE 2026-17", "re2026-17")
    assert same_value("referenced_invoice_numbers", ["A1", "B2"], "A1, B2")
    assert not same_value("issue_date", "2026-03-01", None)


def test_regressions_use_a_tolerance() -> None:
    recorded = {"a": 95.0, "b": 90.0}
    assert regressions({"a": 93.5, "b": 90.0}, recorded) == []
    assert len(regressions({"a": 92.0, "b": 91.0}, recorded)) == 1


def test_text_error_rates_per_scan_condition() -> None:
    report = ChannelReport()
    condition = scan_condition({"scan": {"dpi": 200, "noise": 0.05}})
    assert condition == "200dpi/noise>=0.03"
    report.add_text(condition, "Rechnung Nr 12", "Rechnung Nr 12")
    report.add_text(condition, "Mahnung", "Mahnunq")
    figures = report.as_dict()["text"][condition]
    assert figures["documents"] == 2
    assert 0 < figures["cer"] < 0.1 and figures["wer"] == 0.25


def test_regressions_against_ignore_corpora_not_measured() -> None:
    from backoffice.understand.evaluate import regressions_against

    report = {"held-out": {"scanned": {"classification_accuracy": 90.0, "fields": {}}}}
    recorded = {
        "held-out/scanned/classification": 99.0,
        "einvoices/visible-text/classification": 100.0,
    }
    problems = regressions_against(report, recorded)
    assert len(problems) == 1 and problems[0].startswith("held-out/scanned/classification")
