"""Offline measurements of the learned heads for `manage.py triage_evaluate` (issue 13 §7):
GermEval 2017 relevance and sentiment, a prequential (test-then-train) learning curve in
time order, and the latency of the learned suggest path. Reads files, writes nothing.

GermEval 2017 is CC BY-NC: its models are fitted in memory here and never stored."""

import statistics
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from triage import learning

GERMEVAL_SPLITS = ("dev", "test_syn", "test_dia")


def load_germeval(directory: Path, split: str) -> list[dict[str, Any]]:
    path = directory / f"{split}-2017-09-15.xml"
    return [
        {
            "text": document.findtext("text") or "",
            "relevant": document.findtext("relevance") or "",
            "sentiment": (document.findtext("sentiment") or "").strip(),
        }
        for document in ET.parse(path).getroot().iter("Document")
    ]


def majority(train: Sequence[str], truth: Sequence[str]) -> float:
    value = Counter(train).most_common(1)[0][0]
    return learning.accuracy([value] * len(truth), truth)


def germeval(
    directory: Path, factory: learning.ClassifierFactory = learning.make_classifier
) -> dict[str, dict[str, tuple[float, float]]]:
    """Per label and test split: (micro-F1 of the learned head trained on dev, majority)."""
    splits = {split: load_germeval(directory, split) for split in GERMEVAL_SPLITS}
    dev = splits["dev"]
    vectoriser = learning.fit_vectoriser([d["text"] for d in dev])
    scores: dict[str, dict[str, tuple[float, float]]] = {}
    for label in ("relevant", "sentiment"):
        values = [d[label] for d in dev]
        classifier = learning.fit_head(vectoriser, [d["text"] for d in dev], values, factory)
        scores[label] = {}
        for split in ("test_syn", "test_dia"):
            texts = [d["text"] for d in splits[split]]
            truth = [d[label] for d in splits[split]]
            predicted = learning.predict_many(vectoriser, classifier, texts)
            scores[label][split] = (learning.accuracy(predicted, truth), majority(values, truth))
    return scores


def prequential(
    rows: Sequence[dict[str, Any]],
    rules: Sequence[dict[str, str]],
    heads: Sequence[str],
    *,
    min_labels: int,
    step: int,
) -> dict[str, list[tuple[int, float, float]]]:
    """Test-then-train in time order: each row is first predicted (by the rules, and by the
    learned head fitted on all earlier rows — or the rules while it has too few labels),
    then learned from. The learned heads are refitted every `step` rows. Per head the
    cumulative accuracy (rows seen, rules, learned) after every `step` rows and at the end."""
    curve: dict[str, list[tuple[int, float, float]]] = {head: [] for head in heads}
    hits = {head: [0, 0] for head in heads}
    fitted: dict[str, Any] = {}
    vectoriser = None
    for index, row in enumerate(rows):
        if index and index % step == 0:
            earlier = rows[:index]
            vectoriser = learning.fit_vectoriser([r["text"] for r in earlier])
            for head in heads:
                values = [r[head] for r in earlier]
                if len(values) >= min_labels and len(set(values)) > 1:
                    fitted[head] = learning.fit_head(
                        vectoriser, [r["text"] for r in earlier], values
                    )
        for head in heads:
            truth = row[head]
            rule_value = rules[index][head]
            learned = rule_value
            if head in fitted and vectoriser is not None:
                learned = learning.predict_many(vectoriser, fitted[head], [row["text"]])[0]
            hits[head][0] += rule_value == truth
            hits[head][1] += learned == truth
        seen = index + 1
        if seen % step == 0 or seen == len(rows):
            for head in heads:
                curve[head].append((seen, hits[head][0] / seen, hits[head][1] / seen))
    return curve


def latency(call: Callable[[], Any], repeat: int) -> dict[str, float]:
    """p50 and p95 in milliseconds of `call` over `repeat` calls: wall-clock, and the
    thread's CPU time (which leaves out the waits of a loaded machine's scheduler)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.thread_time()
        call()
        cpu.append((time.thread_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    wall.sort()
    cpu.sort()
    at = int(repeat * 0.95)
    return {
        "p50": statistics.median(wall),
        "p95": wall[at],
        "cpu_p50": statistics.median(cpu),
        "cpu_p95": cpu[at],
        "calls": repeat,
    }
