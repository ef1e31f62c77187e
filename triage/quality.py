"""How good the suggestions are against the people's decisions (issue 13 §5): per head the
accuracy, the macro-F1 and the confusion matrix over the labels recorded in a time range.

Read-only; the team lead's page (tickets.views.triage_quality) shows it. When a mention has
labels of several sources for one head, a correction outweighs the label inferred from the
workflow, and among those the newest wins."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from triage.choices import HEADS, RULES_MODEL, LabelSource
from triage.models import Label


def suggested_value(suggestion: dict[str, Any], head: str) -> str:
    """The suggestion's value of `head` as a label stores it ("true"/"false", a choice, a slug)."""
    value = suggestion.get(head)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass
class HeadQuality:
    head: str
    count: int = 0
    correct: int = 0
    classes: list[str] = field(default_factory=list)
    matrix: list[list[int]] = field(default_factory=list)  # rows: people, columns: suggestion
    f1_per_class: dict[str, float] = field(default_factory=dict)
    models: dict[str, int] = field(default_factory=dict)

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.count if self.count else None

    @property
    def macro_f1(self) -> float | None:
        if not self.count:
            return None
        return sum(self.f1_per_class.values()) / len(self.f1_per_class)

    @property
    def uses_model(self) -> bool:
        """Whether any evaluated suggestion of this head came from a learned model."""
        return any(name != RULES_MODEL for name in self.models)

    @property
    def rows(self) -> list[tuple[str, list[int]]]:
        return list(zip(self.classes, self.matrix, strict=True))


def head_quality(head: str, pairs: list[tuple[str, str, str]]) -> HeadQuality:
    """`pairs`: (people's value, suggested value, suggestion's model) for one head."""
    quality = HeadQuality(head=head, count=len(pairs))
    quality.classes = sorted({truth for truth, _s, _m in pairs} | {s for _t, s, _m in pairs})
    index = {name: number for number, name in enumerate(quality.classes)}
    quality.matrix = [[0] * len(quality.classes) for _ in quality.classes]
    for truth, suggested, _model in pairs:
        quality.matrix[index[truth]][index[suggested]] += 1
        quality.correct += truth == suggested
    for name, number in index.items():
        true_positive = quality.matrix[number][number]
        predicted = sum(row[number] for row in quality.matrix)
        actual = sum(quality.matrix[number])
        denominator = predicted + actual
        quality.f1_per_class[name] = 2 * true_positive / denominator if denominator else 0.0
    quality.models = dict(Counter(model for _t, _s, model in pairs).most_common())
    return quality


def _decisive(labels: list[dict[str, Any]]) -> dict[tuple[int, str], dict[str, Any]]:
    """One label per (mention, head): a correction first, then the newest."""
    chosen: dict[tuple[int, str], dict[str, Any]] = {}
    for label in labels:
        key = (label["mention_id"], label["head"])
        rank = (label["source"] == LabelSource.CORRECTION, label["created_at"])
        current = chosen.get(key)
        if current is None or rank > (
            current["source"] == LabelSource.CORRECTION,
            current["created_at"],
        ):
            chosen[key] = label
    return chosen


def quality_in_range(start: datetime, end: datetime) -> list[HeadQuality]:
    """Per head (in HEADS order) the quality of the suggestions of the mentions labelled in
    [start, end); mentions without a suggestion are left out. One query."""
    rows = list(
        Label.objects.filter(
            created_at__gte=start,
            created_at__lt=end,
            head__in=HEADS,
            mention__triage__isnull=False,
        ).values(
            "mention_id",
            "head",
            "value",
            "source",
            "created_at",
            *(f"mention__triage__{head}" for head in HEADS),
            "mention__triage__model",
        )
    )
    pairs: dict[str, list[tuple[str, str, str]]] = {head: [] for head in HEADS}
    for label in _decisive(rows).values():
        suggestion = {head: label[f"mention__triage__{head}"] for head in HEADS}
        pairs[label["head"]].append(
            (
                label["value"],
                suggested_value(suggestion, label["head"]),
                label["mention__triage__model"],
            )
        )
    return [head_quality(head, pairs[head]) for head in HEADS]
