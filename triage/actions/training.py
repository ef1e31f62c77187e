"""Retraining the learned heads from the desk's labels, promoting a head only when it beats
both its current model and the rules on the newest labels it was not trained on, and the
per-process cache of the promoted models that the suggest path reads (issue 13 §3).

Training runs in the Celery worker (`triage.tasks.retrain_task`), never in the intake.
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max

from servicedesk.queue import enqueue_on_commit
from triage import learning
from triage.actions.rulebook import _as_value, _is_review, load_rulebook
from triage.choices import RULES_MODEL, LabelSource
from triage.models import Label, ModelVersion, TrainingRun
from triage.rules import suggest

logger = logging.getLogger(__name__)
RETRAIN_TASK = "triage.tasks.retrain_task"
PROMOTED = "promoted"
NOT_BETTER_THAN_RULES = "not_better_than_rules"
NOT_BETTER_THAN_CURRENT = "not_better_than_current"
TOO_FEW_LABELS = "too_few_labels"
ONE_CLASS = "one_class"
TOO_FEW_HELD_OUT = "too_few_held_out"


@dataclass
class Example:
    mention_id: int
    at: datetime
    text: str
    flags: dict[str, bool]
    values: dict[str, str] = field(default_factory=dict)


def labelled_examples() -> list[Example]:
    """One example per labelled mention, oldest first (by its newest label); per head a
    correction outweighs a label inferred from the workflow, else the newest label wins."""
    labels = Label.objects.select_related("mention__channel").order_by("created_at", "pk")
    examples: dict[int, Example] = {}
    corrected: set[tuple[int, str]] = set()
    for label in labels:
        mention = label.mention
        example = examples.get(mention.pk)
        if example is None:
            flags = {"is_review": _is_review(mention), "is_own_account": mention.is_own_account}
            example = examples[mention.pk] = Example(
                mention.pk, label.created_at, mention.text, flags
            )
        example.at = max(example.at, label.created_at)
        key = (mention.pk, label.head)
        if key in corrected:
            continue
        example.values[label.head] = label.value
        if label.source == LabelSource.CORRECTION:
            corrected.add(key)
    return sorted(examples.values(), key=lambda example: (example.at, example.mention_id))


def _rules_value(result: dict[str, Any], head: str) -> str:
    return _as_value(result[head])


def _next_version(head: str) -> int:
    latest = ModelVersion.objects.filter(head=head).aggregate(v=Max("version"))["v"]
    return (latest or 0) + 1


@dataclass
class _Features:
    vectoriser: Any
    train: Any  # sparse matrix, one row per training example
    holdout: Any  # sparse matrix, one row per held-out example

    @classmethod
    def fit(cls, train: Sequence[Example], holdout: Sequence[Example]) -> "_Features":
        vectoriser = learning.make_vectoriser()
        matrix = vectoriser.fit_transform([e.text for e in train])
        return cls(vectoriser, matrix.tocsr(), vectoriser.transform([e.text for e in holdout]))


def _predicted(classifier: Any, rows: Any) -> list[str]:
    return [str(value) for value in classifier.predict(rows)]


def retrain(
    *,
    now: datetime,
    trigger: str,
    factory: learning.ClassifierFactory = learning.make_classifier,
) -> TrainingRun:
    """Fit a candidate per head on all labels but the newest slice, measure it, the current
    model and the rules on that slice, store it and promote it only if it beats both."""
    examples = labelled_examples()
    fraction = settings.TRIAGE_HOLDOUT_FRACTION
    held = max(1, round(len(examples) * fraction)) if examples else 0
    train, holdout = examples[: len(examples) - held], examples[len(examples) - held :]
    run = TrainingRun.objects.create(
        started_at=now, trigger=trigger, examples=len(examples), holdout=len(holdout)
    )
    book = load_rulebook()
    rules = {e.mention_id: suggest(e.text, book, **e.flags) for e in holdout}
    current = active_models(force=True)
    skipped: dict[str, str] = {}
    # Each text is turned into features once per run, not once per head: the shared
    # vectoriser's matrices of the training and held-out slices, and each current model's
    # (usually one vectoriser for all heads) of the held-out slice.
    features: _Features | None = None
    vectoriser_bytes = b""  # the run's vectoriser, serialised once for all its heads
    current_rows: dict[int, Any] = {}
    for head in learning.LEARNED_HEADS:
        rows = [i for i, e in enumerate(train) if head in e.values]
        tests = [i for i, e in enumerate(holdout) if head in e.values]
        if len(rows) < settings.TRIAGE_MIN_LABELS:
            skipped[head] = TOO_FEW_LABELS
            continue
        if len({train[i].values[head] for i in rows}) < 2:
            skipped[head] = ONE_CLASS
            continue
        if len(tests) < settings.TRIAGE_MIN_HELD_OUT:
            skipped[head] = TOO_FEW_HELD_OUT
            continue
        if features is None:
            features = _Features.fit(train, holdout)
            vectoriser_bytes = learning.dump_vectoriser(features.vectoriser)
        classifier = factory()
        classifier.fit(features.train[rows], [train[i].values[head] for i in rows])
        truth = [holdout[i].values[head] for i in tests]
        quality = learning.accuracy(_predicted(classifier, features.holdout[tests]), truth)
        rules_quality = learning.accuracy(
            [_rules_value(rules[holdout[i].mention_id], head) for i in tests], truth
        )
        previous = None
        if head in current:
            model = current[head]
            if model.run not in current_rows:
                current_rows[model.run] = model.vectoriser.transform([e.text for e in holdout])
            previous = learning.accuracy(
                _predicted(model.classifier, current_rows[model.run][tests]), truth
            )
        if quality <= rules_quality:
            decision = NOT_BETTER_THAN_RULES
        elif previous is not None and quality <= previous:
            decision = NOT_BETTER_THAN_CURRENT
        else:
            decision = PROMOTED
        ModelVersion.objects.create(
            run=run,
            head=head,
            version=_next_version(head),
            trained_at=now,
            training_size=len(rows),
            holdout_size=len(tests),
            quality=quality,
            rules_quality=rules_quality,
            previous_quality=previous,
            promoted=decision == PROMOTED,
            decision=decision,
            blob=learning.dump(vectoriser_bytes, classifier),
        )
    run.skipped = skipped
    run.save(update_fields=["skipped"])
    forget_models()
    return run


def labels_since_last_run() -> int:
    last = TrainingRun.objects.order_by("-started_at").values_list("started_at", flat=True)[:1]
    labels = Label.objects.all()
    if last:
        labels = labels.filter(created_at__gt=last[0])
    return labels.count()


def enqueue_retrain_if_due() -> bool:
    """Enqueue a retraining (after commit) once N labels arrived since the last run."""
    if labels_since_last_run() < settings.TRIAGE_RETRAIN_EVERY_LABELS:
        return False
    enqueue_on_commit(RETRAIN_TASK, "labels")
    return True


def retrain_if_due(*, now: datetime) -> TrainingRun | None:
    """The worker's side of the label trigger: several enqueued tasks train once."""
    with transaction.atomic():
        with connection.cursor() as cursor:  # one retraining at a time across workers
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('triage.retrain'))")
        if labels_since_last_run() < settings.TRIAGE_RETRAIN_EVERY_LABELS:
            return None
        return retrain(now=now, trigger="labels")


# The promoted models of this process, rechecked at most every TRIAGE_MODEL_CHECK_SECONDS.
_CACHE: dict[str, Any] = {"checked": None, "key": None, "models": {}}


def forget_models() -> None:
    _CACHE.update(checked=None, key=None, models={})


def active_models(*, force: bool = False) -> dict[str, learning.LoadedHead]:
    """The newest promoted version per head (one query per check; blobs loaded on change)."""
    clock = time.monotonic()
    checked = _CACHE["checked"]
    if not force and checked is not None and clock - checked < settings.TRIAGE_MODEL_CHECK_SECONDS:
        return _CACHE["models"]
    newest = list(
        ModelVersion.objects.filter(promoted=True)
        .order_by("head", "-version")
        .distinct("head")
        .values_list("pk", flat=True)
    )
    key = tuple(sorted(newest))
    if key != _CACHE["key"]:
        models: dict[str, learning.LoadedHead] = {}
        vectorisers: dict[int, Any] = {}
        fast_transforms: dict[int, learning.FastTransform] = {}
        for version in ModelVersion.objects.filter(pk__in=key).order_by("pk"):
            fitted = learning.load(version.blob, vectoriser=vectorisers.get(version.run_id))
            vectoriser = vectorisers.setdefault(version.run_id, fitted["vectoriser"])
            fast = fast_transforms.setdefault(version.run_id, learning.FastTransform(vectoriser))
            models[version.head] = learning.LoadedHead(
                version.head,
                version.version,
                version.run_id,
                vectoriser,
                fitted["classifier"],
                transform=fast,
            )
        _CACHE.update(key=key, models=models)
    _CACHE["checked"] = clock
    return _CACHE["models"]


def apply_models(
    result: dict[str, Any], text: str, models: dict[str, learning.LoadedHead]
) -> dict[str, Any]:
    """Replace the rules' heads by the promoted models' (one transform per vectoriser);
    reasons name the strongest features and `model` names the versions."""
    if not models:
        return result
    rows: dict[int, Any] = {}
    names = []
    for head in learning.LEARNED_HEADS:
        model = models.get(head)
        if model is None:
            continue
        row = rows.get(model.run)
        if row is None:
            row = rows[model.run] = model.transform(text)
        value, probability, features = learning.predict(model, row)
        shown = ", ".join(f"„{feature}“" for feature in features) or "–"
        result["reasons"].append(f"{head} = {value or '–'} (model v{model.version}): {shown}")
        result["confidence"][head] = round(probability, 2)
        result[head] = value == "true" if head in ("relevant", "abusive") else value
        names.append(f"{learning.SHORT[head]}-v{model.version}")
    if result["route"] != "support":
        result["department"] = ""
    result["model"] = "+".join([RULES_MODEL, *names])[:64]
    return result


def apply_models_to(results: Sequence[dict[str, Any]], texts: Sequence[str]) -> None:
    models = active_models()
    for result, text in zip(results, texts, strict=True):
        apply_models(result, text, models)
