"""The trained document-type classifier: a spaCy ``textcat`` from ``spacy.blank("de")``.

No pretrained German pipeline is available here, and none is needed: a bag-of-words ``textcat``
(unigrams and bigrams, exclusive classes) learns the vocabulary of invoices, reminders and
letters from a few hundred examples in seconds. Two things make it robust to OCR noise:

* the input is :func:`~.normalize.fold`-ed (lower case, umlauts and look-alike digits undone);
* the rule cues of :mod:`.rules` are prepended as synthetic tokens, so evidence like "a VAT rate
  next to an amount" or "Mahnung in the heading" survives even when the words around it are
  garbled.

Probabilities are calibrated by temperature scaling fitted on a held-out split (minimum
negative log-likelihood); the training report keeps accuracy, expected calibration error before
and after, and a reliability table. The pipeline is saved under ``<out_dir>/model-best`` with
``<out_dir>/calibration.json`` beside it and the training config at ``<out_dir>/config.cfg``.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.training import Example
from spacy.util import fix_random_seed, minibatch

from .normalize import fold
from .rules import classify_rules, cue_tokens, other_subtype
from .schema import DOC_TYPES, Classification

log = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "textcat"
"""``models/textcat`` in the repository root."""
MAX_CHARS = 6000
"""Only the start of long documents is classified: page 1 decides, and it keeps the time flat."""

TEXTCAT_CONFIG: dict[str, Any] = {
    "threshold": 0.5,
    "model": {
        "@architectures": "spacy.TextCatBOW.v3",
        "exclusive_classes": True,
        "ngram_size": 2,
        "no_output_layer": False,
        "length": 131072,
    },
}


def model_input(text: str) -> str:
    """What the model reads: cue tokens, then the folded start of the text."""
    return f"{cue_tokens(text)}\n{fold(text[:MAX_CHARS])}"


def _blank_pipeline() -> Language:
    nlp = spacy.blank("de")
    textcat = nlp.add_pipe("textcat", config=TEXTCAT_CONFIG)
    for label in DOC_TYPES:
        textcat.add_label(label)  # type: ignore[attr-defined]
    return nlp


def _split(
    examples: Sequence[tuple[str, str]], dev_fraction: float, rng: random.Random
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Stratified split so every class is in the held-out part when it has enough examples."""
    train: list[tuple[str, str]] = []
    dev: list[tuple[str, str]] = []
    for label in DOC_TYPES:
        group = [e for e in examples if e[1] == label]
        rng.shuffle(group)
        n_dev = int(len(group) * dev_fraction) if len(group) >= 5 else 0
        dev.extend(group[:n_dev])
        train.extend(group[n_dev:])
    rng.shuffle(train)
    return train, dev


def _softmax_t(probs: dict[str, float], temperature: float) -> dict[str, float]:
    logits = {k: math.log(max(p, 1e-9)) / temperature for k, p in probs.items()}
    top = max(logits.values())
    exp = {k: math.exp(v - top) for k, v in logits.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}


def _nll(rows: Sequence[tuple[dict[str, float], str]], temperature: float) -> float:
    return -sum(math.log(max(_softmax_t(p, temperature)[gold], 1e-12)) for p, gold in rows) / len(
        rows
    )


def fit_temperature(rows: Sequence[tuple[dict[str, float], str]]) -> float:
    """Temperature minimising held-out negative log-likelihood (golden-section on log T).

    With no held-out error at all, the likelihood always prefers sharper probabilities; such a
    fit would only say that the held-out data was easy, so the temperature then stays >= 1.
    """
    if not rows:
        return 1.0
    errors = sum(max(p, key=lambda k: p[k]) != gold for p, gold in rows)
    lo, hi = math.log(0.5 if errors else 1.0), math.log(20.0)
    phi = (math.sqrt(5) - 1) / 2
    for _ in range(60):
        a = hi - phi * (hi - lo)
        b = lo + phi * (hi - lo)
        if _nll(rows, math.exp(a)) < _nll(rows, math.exp(b)):
            hi = b
        else:
            lo = a
    return round(math.exp((lo + hi) / 2), 4)


def combine(
    model: dict[str, float], rules: dict[str, float], model_weight: float = 0.7
) -> dict[str, float]:
    """Linear pool of the calibrated model and the rule baseline.

    Where both agree little changes; where they disagree (typically a document unlike the
    training data) the confidence drops below the review threshold, instead of the model being
    confidently wrong on its own.
    """
    w = model_weight
    return {k: w * model.get(k, 0.0) + (1 - w) * rules.get(k, 0.0) for k in DOC_TYPES}


def reliability(
    rows: Sequence[tuple[dict[str, float], str]], temperature: float = 1.0, bins: int = 5
) -> tuple[float, list[dict[str, float]]]:
    """Expected calibration error and a reliability table (confidence vs. accuracy per bin)."""
    table: list[dict[str, float]] = []
    if not rows:
        return 0.0, table
    buckets: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for probs, gold in rows:
        p = _softmax_t(probs, temperature)
        label = max(p, key=lambda k: p[k])
        conf = p[label]
        buckets[min(int(conf * bins), bins - 1)].append((conf, label == gold))
    ece = 0.0
    for i, bucket in enumerate(buckets):
        if not bucket:
            continue
        conf = sum(c for c, _ in bucket) / len(bucket)
        acc = sum(ok for _, ok in bucket) / len(bucket)
        ece += len(bucket) / len(rows) * abs(conf - acc)
        table.append(
            {
                "bin": round((i + 1) / bins, 2),
                "n": len(bucket),
                "confidence": round(conf, 3),
                "accuracy": round(acc, 3),
            }
        )
    return round(ece, 4), table


def _accuracy(rows: Sequence[tuple[dict[str, float], str]]) -> float | None:
    return sum(max(p, key=lambda k: p[k]) == g for p, g in rows) / len(rows) if rows else None


def train_textcat(
    examples: Sequence[tuple[str, str]],
    out_dir: Path,
    *,
    seed: int = 0,
    n_iter: int = 12,
    dev_fraction: float = 0.2,
    batch_size: int = 16,
    model_weight: float = 0.7,
) -> dict[str, Any]:
    """Train, calibrate and save the classifier; returns the held-out report.

    ``examples`` are ``(text, doc_type)`` pairs with ``doc_type`` in :data:`DOC_TYPES`. The same
    ``seed`` and data give the same model (spaCy's and Python's generators are both seeded).
    """
    unknown = {label for _, label in examples} - set(DOC_TYPES)
    if unknown:
        raise ValueError(f"unknown document types: {sorted(unknown)}")
    if not examples:
        raise ValueError("no training examples")
    rng = random.Random(seed)
    fix_random_seed(seed)
    train, dev = _split(examples, dev_fraction, rng)
    nlp = _blank_pipeline()

    def to_example(text: str, label: str) -> Example:
        cats = {t: float(t == label) for t in DOC_TYPES}
        return Example.from_dict(nlp.make_doc(model_input(text)), {"cats": cats})

    train_examples = [to_example(t, lab) for t, lab in train]
    optimizer = nlp.initialize(lambda: train_examples)
    losses: dict[str, float] = {}
    for _ in range(n_iter):
        rng.shuffle(train_examples)
        losses = {}
        for batch in minibatch(train_examples, size=batch_size):
            nlp.update(list(batch), drop=0.1, sgd=optimizer, losses=losses)

    rows: list[tuple[dict[str, float], str]] = []
    for doc, (_, gold) in zip(nlp.pipe(model_input(t) for t, _ in dev), dev, strict=True):
        rows.append(({k: float(v) for k, v in doc.cats.items()}, gold))
    temperature = fit_temperature(rows) if len(rows) >= 8 else 1.0
    pooled = [
        (combine(_softmax_t(p, temperature), classify_rules(text).scores, model_weight), gold)
        for (p, gold), (text, _) in zip(rows, dev, strict=True)
    ]
    ece_raw, _ = reliability(rows, 1.0)
    ece_cal, _ = reliability(rows, temperature)
    ece_final, table = reliability(pooled, 1.0)
    rule_acc = sum(classify_rules(t).label == gold for t, gold in dev) / len(dev) if dev else None
    report: dict[str, Any] = {
        "seed": seed,
        "n_iter": n_iter,
        "n_train": len(train),
        "n_heldout": len(dev),
        "heldout_accuracy": _accuracy(pooled),
        "model_heldout_accuracy": _accuracy(rows),
        "rules_heldout_accuracy": rule_acc,
        "temperature": temperature,
        "model_weight": model_weight,
        "ece_model_uncalibrated": ece_raw,
        "ece_model_calibrated": ece_cal,
        "ece_final": ece_final,
        "reliability_final": table,
        "final_loss": round(losses.get("textcat", 0.0), 4),
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out_dir / "model-best")
    nlp.config.to_disk(out_dir / "config.cfg")
    (out_dir / "calibration.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    _cache.clear()
    return report


@dataclass(frozen=True)
class LoadedModel:
    nlp: Language
    temperature: float
    model_weight: float
    path: Path


_cache: dict[tuple[str, float], LoadedModel | None] = {}
_lock = threading.Lock()


def _pipeline_dir(model_dir: Path) -> Path | None:
    for cand in (model_dir / "model-best", model_dir):
        if (cand / "meta.json").is_file() and (cand / "textcat").is_dir():
            return cand
    return None


def load_textcat(model_dir: Path | None = None) -> LoadedModel | None:
    """The trained pipeline at ``model_dir`` (cached per path and modification time), or None."""
    base = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
    pipeline = _pipeline_dir(base)
    if pipeline is None:
        return None
    key = (str(pipeline.resolve()), (pipeline / "meta.json").stat().st_mtime)
    with _lock:
        if key in _cache:
            return _cache[key]
        try:
            nlp = spacy.load(pipeline)
        except Exception as exc:  # a broken model must not stop the post
            log.warning("textcat model at %s unusable, falling back to rules: %s", pipeline, exc)
            _cache[key] = None
            return None
        report: dict[str, Any] = {}
        calib = base / "calibration.json"
        if calib.is_file():
            report = json.loads(calib.read_text(encoding="utf-8"))
        loaded = LoadedModel(
            nlp,
            float(report.get("temperature", 1.0)),
            float(report.get("model_weight", 0.7)),
            pipeline,
        )
        _cache[key] = loaded
        return loaded


def classify(text: str, *, model_dir: Path | None = None) -> Classification:
    """Document type of ``text``: the trained model if one is there, else the rule baseline."""
    model = load_textcat(model_dir)
    if model is None:
        return classify_rules(text)
    doc = model.nlp(model_input(text))
    probs = _softmax_t({k: float(doc.cats.get(k, 0.0)) for k in DOC_TYPES}, model.temperature)
    rules = classify_rules(text)
    pooled = combine(probs, rules.scores, model.model_weight)
    scores = {k: round(v, 4) for k, v in pooled.items()}
    label = max(DOC_TYPES, key=lambda k: scores[k])
    subtype = other_subtype(text) if label == "other" else None
    return Classification(label, scores[label], scores, subtype)
