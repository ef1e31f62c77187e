"""The learned heads (issue 13 §3): training from labels, a model version's round trip
through the database, promotion against the rules and the current model, the cached
promoted model in the suggest path, and the retraining enqueued after N labels."""

import io
import time
from datetime import timedelta
from typing import Any

import joblib
import pytest
from django.utils import timezone
from sklearn.dummy import DummyClassifier

from tickets.tests.factories import ChannelFactory, MentionFactory
from triage import learning
from triage.actions import record_labels, suggest_for_mentions, training
from triage.models import Label, ModelVersion, Suggestion, TrainingRun

# Words no rule knows: only a model that learned them from the labels routes them.
WORDS = {"support": "flurbo", "cm": "quaxel", "none": "mimbo"}
FILLERS = ["heute", "schon wieder", "seit Montag", "bitte", "echt jetzt", "am Bahnhof"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    training.forget_models()
    yield
    training.forget_models()


def make_labelled(count: int, *, start: Any = None) -> list[Any]:
    channel = ChannelFactory()
    start = start or timezone.now() - timedelta(days=1)
    mentions = []
    routes = list(WORDS)
    for index in range(count):
        route = routes[index % 3]
        text = f"{WORDS[route]} {FILLERS[index % len(FILLERS)]} nummer {index}"
        mention = MentionFactory(channel=channel, text=text)
        record_labels(
            mention,
            {"route": route},
            source="correction",
            actor=None,
            now=start + timedelta(seconds=index),
        )
        mentions.append(mention)
    return mentions


@pytest.mark.django_db
def test_training_from_labels_promotes_a_head_that_beats_the_rules() -> None:
    make_labelled(60)
    run = training.retrain(now=timezone.now(), trigger="manual")
    assert (run.examples, run.holdout) == (60, 12)
    version = ModelVersion.objects.get(head="route")
    assert version.version == 1 and version.promoted and version.decision == training.PROMOTED
    assert (version.training_size, version.holdout_size) == (48, 12)
    assert version.quality == 1.0
    assert version.rules_quality < version.quality
    assert version.previous_quality is None
    # Heads without labels stay on the rules, and the run says why.
    assert run.skipped["tonality"] == training.TOO_FEW_LABELS
    assert set(training.active_models()) == {"route"}


@pytest.mark.django_db
def test_a_model_version_round_trips_through_the_database() -> None:
    make_labelled(60)
    training.retrain(now=timezone.now(), trigger="manual")
    stored = ModelVersion.objects.get(head="route")
    fitted = learning.load(ModelVersion.objects.get(pk=stored.pk).blob)
    texts = ["flurbo kaputt", "quaxel frage", "mimbo egal"]
    assert learning.predict_many(fitted["vectoriser"], fitted["classifier"], texts) == [
        "support",
        "cm",
        "none",
    ]


def test_a_blob_of_the_earlier_format_still_loads() -> None:
    vectoriser = learning.fit_vectoriser(["flurbo kaputt", "quaxel frage"])
    classifier = learning.fit_head(vectoriser, ["flurbo kaputt", "quaxel frage"], ["a", "b"])
    buffer = io.BytesIO()
    joblib.dump({"vectoriser": vectoriser, "classifier": classifier}, buffer, compress=3)
    fitted = learning.load(buffer.getvalue())
    assert learning.predict_many(fitted["vectoriser"], fitted["classifier"], ["flurbo"]) == ["a"]
    # the current format: the run's vectoriser can be handed in instead of unpickled again
    blob = learning.dump(learning.dump_vectoriser(vectoriser), classifier)
    assert learning.load(blob, vectoriser=vectoriser)["vectoriser"] is vectoriser
    fitted = learning.load(blob)
    assert learning.predict_many(fitted["vectoriser"], fitted["classifier"], ["quaxel"]) == ["b"]


@pytest.mark.django_db
def test_the_suggestion_uses_the_promoted_model_and_names_its_features() -> None:
    make_labelled(60)
    training.retrain(now=timezone.now(), trigger="manual")
    mention = MentionFactory(text="flurbo, immer noch nichts passiert")
    suggest_for_mentions([mention.pk], now=timezone.now())
    suggestion = Suggestion.objects.get(mention=mention)
    assert suggestion.route == "support"
    assert suggestion.model == "rules-v1+route-v1"
    reason = next(r for r in suggestion.reasons if r.startswith("route = support (model v1)"))
    assert "flurbo" in reason
    # A head without a model keeps the rules' value.
    assert suggestion.tonality in {"negative", "neutral", "positive"}


@pytest.mark.django_db
def test_promotion_refuses_a_deliberately_worse_candidate() -> None:
    make_labelled(60)
    training.retrain(now=timezone.now(), trigger="manual")
    worse = training.retrain(
        now=timezone.now(),
        trigger="manual",
        factory=lambda: DummyClassifier(strategy="constant", constant="cm"),
    )
    candidate = worse.versions.get(head="route")
    assert candidate.version == 2
    assert not candidate.promoted
    assert candidate.quality < 0.5 and candidate.previous_quality == 1.0
    assert candidate.decision == training.NOT_BETTER_THAN_RULES or (
        candidate.decision == training.NOT_BETTER_THAN_CURRENT
    )
    assert training.active_models(force=True)["route"].version == 1


@pytest.mark.django_db
def test_a_candidate_better_than_the_rules_but_not_the_current_model_is_refused() -> None:
    make_labelled(60)
    first = training.retrain(now=timezone.now(), trigger="manual").versions.get(head="route")
    assert first.promoted
    # The same labels again: an equally good candidate is no improvement.
    again = training.retrain(now=timezone.now(), trigger="manual").versions.get(head="route")
    assert again.quality == first.quality > again.rules_quality
    assert (again.promoted, again.decision) == (False, training.NOT_BETTER_THAN_CURRENT)


@pytest.mark.django_db
def test_the_process_cache_reloads_a_newly_promoted_version(settings: Any) -> None:
    settings.TRIAGE_MODEL_CHECK_SECONDS = 0
    make_labelled(60)
    training.retrain(now=timezone.now(), trigger="manual")
    assert training.active_models()["route"].version == 1
    ModelVersion.objects.filter(head="route").update(version=7)
    assert training.active_models()["route"].version == 1  # same promoted row: no reload
    newer = ModelVersion.objects.get(head="route")
    newer.pk, newer.version = None, 8
    newer.save()
    assert training.active_models()["route"].version == 8


@pytest.mark.django_db
def test_too_few_labels_train_nothing() -> None:
    make_labelled(10)
    run = training.retrain(now=timezone.now(), trigger="manual")
    assert not run.versions.exists()
    assert run.skipped["route"] == training.TOO_FEW_LABELS


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_retraining_is_enqueued_after_n_labels(celery_worker: Any, settings: Any) -> None:
    settings.TRIAGE_RETRAIN_EVERY_LABELS = 5
    settings.TRIAGE_MIN_LABELS = 3
    settings.TRIAGE_MIN_HELD_OUT = 1
    make_labelled(4)
    time.sleep(1)
    assert not TrainingRun.objects.exists()  # four labels: not due yet
    make_labelled(1)
    deadline = time.monotonic() + 30
    while not TrainingRun.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    run = TrainingRun.objects.get()
    assert (run.trigger, run.examples) == ("labels", 5)
    assert Label.objects.count() == 5


def test_the_fast_transform_equals_the_vectorisers_transform() -> None:
    texts = ["Zug fällt aus, schon wieder!", "Danke für die schnelle Hilfe", "ok", "", "🙂 👍"]
    vectoriser = learning.fit_vectoriser(texts[:3])
    fast = learning.FastTransform(vectoriser)
    for text in [*texts, "ganz neue Wörter xyz"]:
        expected = vectoriser.transform([text]).toarray()
        assert abs(fast(text).toarray() - expected).max() < 1e-12
