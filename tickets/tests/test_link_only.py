"""Issue 15, point 5: a channel in link-only mode keeps of an author only the handle, the
user id and the profile link; consent to data processing gates any enrichment beyond that."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from crm import actions as crm_actions
from crm.choices import ConsentPurpose, ConsentStatus
from crm.models import SocialIdentity
from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.choices import Platform
from monitoring.minimise import minimise, profile_url
from monitoring.models import Mention
from tickets.intake import receive_mention
from tickets.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

TWEET = {
    "id": "1",
    "text": "Mein Paket fehlt",
    "author": {"name": "Erika Mustermann", "location": "Köln", "bio": "Lehrerin"},
    "author_id": "42",
}


def post(external_id: str, *, name: str = "Erika Mustermann") -> RawMention:
    return RawMention(
        external_id=external_id,
        author=RawAuthor(handle="@erika", display_name=name, platform_user_id="42"),
        text="Mein Paket fehlt",
        created_at=timezone.now() - timedelta(seconds=5),
        raw={**TWEET, "id": external_id},
    )


def channel(*, link_only: bool) -> Any:
    return ChannelFactory(
        slug=f"x-{link_only}", platform=Platform.TWITTER, link_only=link_only, own_accounts=[]
    )


def test_link_only_channel_stores_handle_and_profile_link_only() -> None:
    result = receive_mention(channel(link_only=True), post("1"), now=timezone.now())

    mention = Mention.objects.get(pk=result.mention_id)
    assert (mention.author_handle, mention.author_platform_user_id) == ("@erika", "42")
    assert mention.author_display_name == ""
    assert mention.raw == {"id": "1", "author_profile_url": "https://x.com/erika"}
    identity = SocialIdentity.objects.get()
    assert identity.display_name == ""
    assert identity.customer.display_name == "erika"
    assert mention.text == "Mein Paket fehlt"  # the post itself is what the desk answers


def test_a_normal_channel_keeps_the_author_payload() -> None:
    result = receive_mention(channel(link_only=False), post("1"), now=timezone.now())

    mention = Mention.objects.get(pk=result.mention_id)
    assert mention.author_display_name == "Erika Mustermann"
    assert mention.raw["author"]["location"] == "Köln"


def test_consent_to_data_processing_gates_enrichment_on_a_link_only_channel() -> None:
    link_only = channel(link_only=True)
    first = receive_mention(link_only, post("1"), now=timezone.now())
    customer = SocialIdentity.objects.get().customer
    crm_actions.record_consent(
        customer,
        purpose=ConsentPurpose.DATA_PROCESSING,
        status=ConsentStatus.GRANTED,
        source="DM vom 3.12.",
        actor=None,
    )

    enriched = receive_mention(link_only, post("2"), now=timezone.now())
    crm_actions.record_consent(
        customer,
        purpose=ConsentPurpose.DATA_PROCESSING,
        status=ConsentStatus.WITHDRAWN,
        source="Widerruf per DM",
        actor=None,
    )
    withdrawn = receive_mention(link_only, post("3"), now=timezone.now())

    rows = Mention.objects.in_bulk([first.mention_id, enriched.mention_id, withdrawn.mention_id])
    assert rows[first.mention_id].author_display_name == ""
    assert rows[enriched.mention_id].author_display_name == "Erika Mustermann"
    assert rows[enriched.mention_id].raw["author"]["bio"] == "Lehrerin"
    assert rows[withdrawn.mention_id].author_display_name == ""
    assert "author" not in rows[withdrawn.mention_id].raw


def test_minimise_keeps_ids_and_drops_nested_author_objects() -> None:
    facebook = RawMention(
        external_id="c1",
        author=RawAuthor(handle="Erika Mustermann", display_name="Erika Mustermann"),
        text="Hallo",
        created_at=timezone.now(),
        raw={"id": "c1", "post_id": "p9", "from": {"name": "Erika Mustermann", "id": "7"}},
    )

    kept = minimise(facebook, Platform.FACEBOOK)

    assert kept.raw == {"id": "c1", "post_id": "p9"}  # a name is no profile address
    assert kept.author.display_name == ""
    assert profile_url(Platform.MASTODON, "@erika@social.example") == (
        "https://social.example/@erika"
    )
    assert profile_url(Platform.YOUTUBE, "erika") == "https://www.youtube.com/@erika"
