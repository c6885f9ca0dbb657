"""Classification: the rule baseline, the trained textcat, calibration and fallbacks."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from backoffice.understand import DOC_TYPES, classify, classify_rules, train_textcat
from backoffice.understand.seed_corpus import ocr_noise, synthetic_corpus
from backoffice.understand.textcat import (
    DEFAULT_MODEL_DIR,
    fit_temperature,
    load_textcat,
    reliability,
)
from backoffice.understand.train import examples_from_ground_truth, main

from .corpus import LABELLED, OTHER_TAX


@pytest.mark.parametrize(
    ("text", "label"), LABELLED, ids=[f"{lab}{i}" for i, (_, lab) in enumerate(LABELLED)]
)
def test_rule_baseline_on_handwritten_post(text: str, label: str) -> None:
    c = classify_rules(text)
    assert c.label == label
    assert set(c.scores) == set(DOC_TYPES)
    assert abs(sum(c.scores.values()) - 1) < 1e-3
    assert c.top2[0] == (c.label, c.confidence)


def test_rule_baseline_survives_ocr_noise() -> None:
    import random

    rng = random.Random(5)
    hits = sum(classify_rules(ocr_noise(t, rng, 0.04)).label == lab for t, lab in LABELLED * 3)
    assert hits / (len(LABELLED) * 3) >= 0.85


def test_other_subtype() -> None:
    c = classify_rules(OTHER_TAX)
    assert (c.label, c.subtype) == ("other", "tax_office")


def test_missing_model_falls_back_to_rules(tmp_path: Path) -> None:
    c = classify(LABELLED[0][0], model_dir=tmp_path / "nothing-here")
    assert c == classify_rules(LABELLED[0][0])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("textcat")
    data = synthetic_corpus(30, seed=1) + synthetic_corpus(30, seed=2, noise=0.04)
    started = time.perf_counter()
    report = train_textcat(data, out, seed=0, n_iter=6)
    report["seconds"] = time.perf_counter() - started
    return out, report


def test_training_report_and_files(trained: tuple[Path, dict[str, object]]) -> None:
    out, report = trained
    assert report["seconds"] < 30  # type: ignore[operator]
    assert (out / "model-best" / "meta.json").is_file()
    assert (out / "config.cfg").is_file()
    saved = json.loads((out / "calibration.json").read_text())
    assert saved["temperature"] == report["temperature"]
    assert report["heldout_accuracy"] >= 0.9  # type: ignore[operator]
    assert report["n_heldout"] == 48


def test_trained_model_classifies_unseen_post(trained: tuple[Path, dict[str, object]]) -> None:
    out, _ = trained
    test = synthetic_corpus(10, seed=77, noise=0.05)
    acc = sum(classify(t, model_dir=out).label == lab for t, lab in test) / len(test)
    assert acc >= 0.9
    # hand-written post is unlike the training data: right, or at least not confidently wrong
    for text, label in LABELLED:
        c = classify(text, model_dir=out)
        assert c.label == label or c.confidence < 0.8


def test_training_is_deterministic(tmp_path: Path) -> None:
    data = synthetic_corpus(8, seed=3)
    a = train_textcat(data, tmp_path / "a", seed=7, n_iter=3)
    b = train_textcat(data, tmp_path / "b", seed=7, n_iter=3)
    assert a == b
    text = LABELLED[5][0]
    assert classify(text, model_dir=tmp_path / "a") == classify(text, model_dir=tmp_path / "b")


def test_training_rejects_unknown_labels(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown"):
        train_textcat([("x", "spam")], tmp_path)


def test_temperature_fit_and_reliability() -> None:
    over = [({"invoice": 0.99, "letter": 0.01}, "invoice")] * 6 + [
        ({"invoice": 0.99, "letter": 0.01}, "letter")
    ] * 4
    t = fit_temperature(over)
    assert t > 1.5  # overconfident and often wrong: soften
    ece_before, _ = reliability(over, 1.0)
    ece_after, table = reliability(over, t)
    assert ece_after < ece_before
    assert sum(int(row["n"]) for row in table) == len(over)
    perfect = [({"invoice": 0.9, "letter": 0.1}, "invoice")] * 10
    assert fit_temperature(perfect) >= 1.0  # never sharpen on error-free held-out data


@pytest.mark.skipif(load_textcat() is None, reason="no shipped model")
def test_shipped_model_right_or_unsure_on_handwritten_post() -> None:
    assert (DEFAULT_MODEL_DIR / "calibration.json").is_file()
    for text, label in LABELLED:
        c = classify(text)
        assert c.label == label or c.confidence < 0.8


def test_train_cli_reads_ground_truth(tmp_path: Path) -> None:
    docs = [
        {"doc_type": label, "page_texts": [text]} for text, label in synthetic_corpus(6, seed=11)
    ]
    truth = tmp_path / "ground_truth.json"
    truth.write_text(json.dumps({"documents": [*docs, {"doc_type": "spam", "page_texts": ["x"]}]}))
    assert len(examples_from_ground_truth(truth)) == 24
    assert main(["--ground-truth", str(truth), "--out", str(tmp_path / "m"), "--n-iter", "2"]) == 0
    assert load_textcat(tmp_path / "m") is not None
