"""The learned triage heads (issue 13 §3): one shared word + character TF-IDF vectoriser and
one linear head per triage head, fitted on the desk's own labels (pure functions, no
database; triage.actions stores and loads them, triage.models.ModelVersion holds the bytes).

A head's fitted model serialises as one joblib blob of `{"vectoriser", "classifier"}`; heads
fitted in the same training run share one vectoriser, so the suggest path transforms a text
once per run (usually once) and scores each head with one sparse row · coefficient product.
"""

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

LEARNED_HEADS = ("relevant", "route", "department", "tonality", "abusive")
SHORT = {"relevant": "rel", "route": "route", "department": "dept", "tonality": "tone"}
SHORT["abusive"] = "abuse"

ClassifierFactory = Callable[[], Any]


def make_vectoriser() -> FeatureUnion:
    """Word 1–2-grams and `char_wb` 2–5-grams (measured best in STACK.md)."""
    return FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1
                ),
            ),
        ]
    )


def make_classifier() -> LogisticRegression:
    return LogisticRegression(max_iter=1000, C=10.0, class_weight="balanced")


def fit_vectoriser(texts: Sequence[str]) -> FeatureUnion:
    vectoriser = make_vectoriser()
    vectoriser.fit(list(texts))
    return vectoriser


def fit_head(
    vectoriser: FeatureUnion,
    texts: Sequence[str],
    values: Sequence[str],
    factory: ClassifierFactory = make_classifier,
) -> Any:
    classifier = factory()
    classifier.fit(vectoriser.transform(list(texts)), list(values))
    return classifier


def accuracy(predicted: Sequence[str], truth: Sequence[str]) -> float:
    """Accuracy, which is micro-F1 for one label per mention."""
    if not truth:
        return 0.0
    return sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth)


def dump(vectoriser: FeatureUnion, classifier: Any) -> bytes:
    buffer = io.BytesIO()
    joblib.dump({"vectoriser": vectoriser, "classifier": classifier}, buffer, compress=3)
    return buffer.getvalue()


def load(blob: bytes) -> dict[str, Any]:
    return joblib.load(io.BytesIO(bytes(blob)))


@dataclass
class LoadedHead:
    head: str
    version: int
    run: int
    vectoriser: Any
    classifier: Any
    names: Any = None  # feature names, computed on first explanation
    classes: list[str] = field(default_factory=list)


def _contributions(head: LoadedHead, row: Any, index: int) -> np.ndarray:
    coef = head.classifier.coef_
    weights = coef[0] if coef.shape[0] == 1 else coef[index]
    sign = 1.0 if coef.shape[0] > 1 or index == 1 else -1.0
    return row.data * weights[row.indices] * sign


def predict(head: LoadedHead, row: Any) -> tuple[str, float, list[str]]:
    """The value, its probability and the two strongest features for one transformed row."""
    proba = head.classifier.predict_proba(row)[0]
    index = int(np.argmax(proba))
    features: list[str] = []
    if hasattr(head.classifier, "coef_") and row.nnz:
        contributions = _contributions(head, row, index)
        order = np.argsort(contributions)[::-1][:2]
        if head.names is None:
            head.names = head.vectoriser.get_feature_names_out()
        for position in order:
            if contributions[position] <= 0:
                break
            name = str(head.names[row.indices[position]]).split("__", 1)[-1].strip()
            features.append(name)
    return str(head.classifier.classes_[index]), float(proba[index]), features


def predict_many(vectoriser: Any, classifier: Any, texts: Sequence[str]) -> list[str]:
    if not texts:
        return []
    return [str(value) for value in classifier.predict(vectoriser.transform(list(texts)))]
