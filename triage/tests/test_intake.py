"""Every stored mention gets a suggestion in the intake; a failing triage never blocks the
intake, and the sweep retries what is missing."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.models import Mention
from tickets.intake import receive_mention, receive_mentions
from tickets.tests.factories import ChannelFactory
from triage import actions
from triage.models import Suggestion

pytestmark = pytest.mark.django_db


def raw(external_id: str, text: str, handle: str = "@erika") -> RawMention:
    return RawMention(
        external_id=external_id,
        author=RawAuthor(handle=handle, display_name="Erika", platform_user_id=""),
        text=text,
        created_at=timezone.now() - timedelta(seconds=20),
    )


def test_intake_stores_one_suggestion_per_new_mention() -> None:
    channel = ChannelFactory(slug="twitter")
    results = receive_mentions(
        channel,
        [raw("1", "Mein Paket ist nicht da, Sendungsnummer PB12345678DE"), raw("2", "Danke!")],
        now=timezone.now(),
    )
    by_mention = {s.mention_id: s for s in Suggestion.objects.all()}
    assert set(by_mention) == {result.mention_id for result in results}
    first = by_mention[results[0].mention_id]
    assert (first.route, first.department, first.needs_private_data) == (
        "support",
        "logistics",
        True,
    )
    assert first.mention.triage == first
    # a duplicate changes nothing
    receive_mention(channel, raw("1", "Mein Paket ist nicht da"), now=timezone.now())
    assert Suggestion.objects.count() == 2


def test_a_failing_triage_never_blocks_intake_and_the_sweep_retries(monkeypatch: Any) -> None:
    channel = ChannelFactory(slug="twitter")

    def broken() -> Any:
        raise RuntimeError("rules unavailable")

    monkeypatch.setattr(actions, "load_rulebook", broken)
    result = receive_mention(channel, raw("9", "Wann kommt der Techniker?"), now=timezone.now())
    mention = Mention.objects.get(pk=result.mention_id)
    assert mention.ticket_id is not None
    assert not Suggestion.objects.filter(mention=mention).exists()

    monkeypatch.undo()
    assert actions.sweep_missing_suggestions(now=timezone.now()) == 1
    assert Suggestion.objects.get(mention=mention).route in {"cm", "support"}
    assert actions.sweep_missing_suggestions(now=timezone.now()) == 0


def test_near_duplicate_reviews_from_different_authors_are_flagged() -> None:
    channel = ChannelFactory(slug="review")
    text = "Super Service, sehr zu empfehlen, alles top und schnell erledigt, gerne wieder hier"
    receive_mentions(
        channel,
        [raw("r1", text, handle="anna"), raw("r2", text + "!", handle="bert")],
        now=timezone.now(),
    )
    flags = list(Suggestion.objects.values_list("fake_review__suspect", flat=True))
    assert flags == [True, True]
