"""The learned triage heads (issue 13 §3): one shared word + character TF-IDF vectoriser and
one linear head per triage head, fitted on the desk's own labels (pure functions, no
database; triage.actions stores and loads them, triage.models.ModelVersion holds the bytes).

A head's fitted model is one blob holding its run's vectoriser and its classifier, each
serialised on its own (`dump`): the vectoriser once per training run (its vocabularies are
most of the work), so the heads of one run carry the same vectoriser bytes and a loader
unpickles them once per run (`load` with `vectoriser=`). Heads fitted in the same run share
that vectoriser, so the suggest path transforms a text once per run (usually once) and
scores each head with one sparse row · coefficient product. Blobs of the earlier format (one
joblib pickle of `{"vectoriser", "classifier"}`) still load.
"""

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
from scipy import sparse
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


def _pickled(value: Any) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(value, buffer, compress=3)
    return buffer.getvalue()


def dump_vectoriser(vectoriser: FeatureUnion) -> bytes:
    """The vectoriser's bytes, computed once per training run and passed to `dump`."""
    return _pickled(vectoriser)


def dump(vectoriser_bytes: bytes, classifier: Any) -> bytes:
    """A head's blob: its run's vectoriser (as dump_vectoriser wrote it) and its classifier."""
    buffer = io.BytesIO()
    joblib.dump({"vectoriser_bytes": vectoriser_bytes, "classifier_bytes": _pickled(classifier)},
                buffer)  # fmt: skip
    return buffer.getvalue()


def load(blob: bytes, *, vectoriser: Any = None) -> dict[str, Any]:
    """`{"vectoriser", "classifier"}` of a head's blob; `vectoriser` given (the run's, loaded
    from another head's blob) skips unpickling it again."""
    stored = joblib.load(io.BytesIO(bytes(blob)))
    if "vectoriser" in stored:  # the earlier format
        return stored
    if vectoriser is None:
        vectoriser = joblib.load(io.BytesIO(stored["vectoriser_bytes"]))
    return {
        "vectoriser": vectoriser,
        "classifier": joblib.load(io.BytesIO(stored["classifier_bytes"])),
    }


class FastTransform:
    """The fitted union's transform of one text without scikit-learn's per-call overhead
    (≈ 6 ms on a loaded machine; this ≈ 0.3 ms): the same analysers, vocabularies, sublinear
    tf, idf and per-part l2 norm, as one CSR row (a test checks it equals `transform`)."""

    def __init__(self, vectoriser: FeatureUnion) -> None:
        self.parts = []
        offset = 0
        for _name, part in vectoriser.transformer_list:
            vocabulary = part.vocabulary_
            self.parts.append((part.build_analyzer(), vocabulary, part.idf_, offset))
            offset += len(vocabulary)
        self.width = offset

    def __call__(self, text: str) -> sparse.csr_matrix:
        indices = []
        values = []
        for analyse, vocabulary, idf, offset in self.parts:
            lookup = vocabulary.get
            found = np.fromiter((lookup(t, -1) for t in analyse(text)), dtype=np.int64)
            found = found[found >= 0]
            if not found.size:
                continue
            columns, counts = np.unique(found, return_counts=True)
            weights = (1.0 + np.log(counts)) * idf[columns]
            weights /= np.sqrt(weights @ weights)
            indices.append(columns + offset)
            values.append(weights)
        if not indices:
            return sparse.csr_matrix((1, self.width))
        data, columns = np.concatenate(values), np.concatenate(indices).astype(np.int32)
        return sparse.csr_matrix(
            (data, columns, np.array([0, columns.size], dtype=np.int32)), shape=(1, self.width)
        )


@dataclass
class LoadedHead:
    head: str
    version: int
    run: int
    vectoriser: Any
    classifier: Any
    names: Any = None  # feature names, computed on first explanation
    transform: Any = None  # text → row; a FastTransform of the vectoriser unless given

    def __post_init__(self) -> None:
        if self.transform is None:
            self.transform = FastTransform(self.vectoriser)


def _contributions(head: LoadedHead, row: Any, index: int) -> np.ndarray:
    coef = head.classifier.coef_
    weights = coef[0] if coef.shape[0] == 1 else coef[index]
    sign = 1.0 if coef.shape[0] > 1 or index == 1 else -1.0
    return row.data * weights[row.indices] * sign


def _probabilities(classifier: Any, row: Any) -> np.ndarray:
    """A logistic regression's probabilities as one sparse row · coefficients product
    (predict_proba's input checks cost more than the product); others ask predict_proba."""
    if not isinstance(classifier, LogisticRegression):
        return classifier.predict_proba(row)[0]
    scores = classifier.coef_[:, row.indices] @ row.data + classifier.intercept_
    if scores.shape[0] == 1:
        positive = 1.0 / (1.0 + math.exp(-scores[0]))
        return np.array([1.0 - positive, positive])
    scores = np.exp(scores - scores.max())
    return scores / scores.sum()


def predict(head: LoadedHead, row: Any) -> tuple[str, float, list[str]]:
    """The value, its probability and the two strongest features for one transformed row."""
    proba = _probabilities(head.classifier, row)
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
