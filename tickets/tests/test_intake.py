"""The intake: idempotency, threading (DESIGN §3.3), identities, clocks, query budget."""

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import SocialIdentity
from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.choices import Platform
from monitoring.models import Mention, MentionRevision
from tickets.choices import LinkKind, ReplyStatus, SlaKind, TicketState
from tickets.intake import CREATED, DUPLICATE, receive_mention, receive_mentions
from tickets.models import SlaClock, Ticket, TicketLink
from tickets.tests.factories import ChannelFactory, ReplyFactory
from tickets.tests.helpers import force_reply_status, force_state

pytestmark = pytest.mark.django_db


def raw(
    external_id: str,
    *,
    handle: str = "@erika",
    text: str = "Mein Paket ist nicht angekommen.",
    in_reply_to: str = "",
    is_private: bool = False,
    user_id: str = "",
    created_at: datetime | None = None,
) -> RawMention:
    return RawMention(
        external_id=external_id,
        author=RawAuthor(handle=handle, display_name="Erika M.", platform_user_id=user_id),
        text=text,
        created_at=created_at or timezone.now() - timedelta(seconds=20),
        in_reply_to=in_reply_to,
        is_private=is_private,
    )


@pytest.fixture
def twitter() -> Any:
    return ChannelFactory(slug="twitter", platform=Platform.TWITTER, own_accounts=["@Desk_Hilft"])


def test_new_mention_opens_a_ticket_with_a_first_response_clock(twitter: Any) -> None:
    now = timezone.now()

    result = receive_mention(twitter, raw("1"), now=now)

    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert result.status == CREATED
    assert (ticket.state, ticket.mention_count, ticket.opened_at) == (TicketState.NEW, 1, now)
    clock = ticket.clocks.get()
    assert (clock.kind, clock.started_at, clock.due_at) == (
        SlaKind.FIRST_RESPONSE,
        now,
        now + timedelta(minutes=10),
    )
    assert ticket.sla_due_at == clock.due_at


def test_the_same_mention_again_is_a_duplicate_and_changes_nothing(twitter: Any) -> None:
    first = receive_mention(twitter, raw("1"), now=timezone.now())

    again = receive_mention(twitter, raw("1"), now=timezone.now())

    assert again == type(first)(first.mention_id, first.ticket_id, DUPLICATE)
    assert (Mention.objects.count(), Ticket.objects.count(), SlaClock.objects.count()) == (1, 1, 1)


def test_a_known_id_with_another_text_keeps_the_text_and_records_a_revision(twitter: Any) -> None:
    receive_mention(twitter, raw("1", text="Original"), now=timezone.now())

    result = receive_mention(twitter, raw("1", text="Bearbeitet"), now=timezone.now())
    receive_mention(twitter, raw("1", text="Bearbeitet"), now=timezone.now())

    assert result.status == DUPLICATE
    assert Mention.objects.get().text == "Original"
    assert list(MentionRevision.objects.values_list("text", flat=True)) == ["Bearbeitet"]


@pytest.mark.django_db(transaction=True)
def test_ten_clients_pushing_the_same_mention_at_once_make_one_mention_and_one_ticket() -> None:
    channel = ChannelFactory(slug="twitter", platform=Platform.TWITTER)
    barrier = threading.Barrier(10)
    results: list[Any] = []
    errors: list[BaseException] = []

    def push() -> None:
        try:
            barrier.wait()
            results.append(receive_mention(channel, raw("same"), now=timezone.now()))
        except BaseException as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=push) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(result.status for result in results) == [CREATED] + [DUPLICATE] * 9
    assert (Mention.objects.count(), Ticket.objects.count()) == (1, 1)
    assert len({result.ticket_id for result in results}) == 1


def test_a_reply_to_a_stored_mention_joins_its_ticket(twitter: Any) -> None:
    parent = receive_mention(twitter, raw("1"), now=timezone.now())

    child = receive_mention(twitter, raw("2", handle="@erika", in_reply_to="1"), now=timezone.now())

    assert child.ticket_id == parent.ticket_id
    ticket = Ticket.objects.get(pk=parent.ticket_id)
    assert ticket.mention_count == 2
    assert Mention.objects.get(pk=child.mention_id).parent_id == parent.mention_id


def test_a_reply_to_our_sent_reply_joins_the_ticket_and_reopens_it(
    twitter: Any, agent: Any
) -> None:
    opened = receive_mention(twitter, raw("1"), now=timezone.now())
    ticket = force_state(
        Ticket.objects.get(pk=opened.ticket_id), TicketState.WAITING_CUSTOMER, assignee=agent
    )
    reply = ReplyFactory(ticket=ticket, author=agent)
    force_reply_status(reply, ReplyStatus.SENT, platform_id="tw-reply-9")
    ticket.clocks.update(stopped_at=timezone.now())  # the first response was met

    result = receive_mention(twitter, raw("2", in_reply_to="tw-reply-9"), now=timezone.now())

    ticket.refresh_from_db()
    assert result.ticket_id == ticket.pk
    assert ticket.state == TicketState.IN_PROGRESS
    assert ticket.clocks.filter(kind=SlaKind.NEXT_RESPONSE, stopped_at__isnull=True).exists()


def test_own_account_posts_are_stored_without_a_ticket_and_fire_nothing(twitter: Any) -> None:
    result = receive_mention(twitter, raw("1", handle="@desk_hilft"), now=timezone.now())

    mention = Mention.objects.get(pk=result.mention_id)
    assert result.ticket_id is None and mention.is_own_account and mention.identity is None
    assert Ticket.objects.count() == 0


def test_an_own_account_reply_joins_the_thread_without_moving_it(twitter: Any) -> None:
    opened = receive_mention(twitter, raw("1"), now=timezone.now())

    ours = receive_mention(
        twitter, raw("2", handle="@Desk_Hilft", in_reply_to="1"), now=timezone.now()
    )
    customer = receive_mention(twitter, raw("3", in_reply_to="2"), now=timezone.now())

    ticket = Ticket.objects.get(pk=opened.ticket_id)
    assert ours.ticket_id == customer.ticket_id == ticket.pk
    assert ticket.state == TicketState.NEW and ticket.mention_count == 3
    assert not ticket.events.filter(transition="customer_replied").exists()


def test_a_customer_reply_to_an_own_top_level_post_opens_a_ticket(twitter: Any) -> None:
    receive_mention(twitter, raw("post", handle="@desk_hilft"), now=timezone.now())

    result = receive_mention(twitter, raw("c1", in_reply_to="post"), now=timezone.now())

    assert result.ticket_id is not None
    assert Mention.objects.get(pk=result.mention_id).parent.external_id == "post"


def test_a_private_message_joins_the_waiting_customer_ticket_on_the_same_platform(
    twitter: Any, agent: Any
) -> None:
    # the customer was asked in public (on one channel) to send a DM
    opened = receive_mention(twitter, raw("1", user_id="42"), now=timezone.now())
    ticket = force_state(
        Ticket.objects.get(pk=opened.ticket_id), TicketState.WAITING_CUSTOMER, assignee=agent
    )
    other_account = ChannelFactory(slug="twitter-dm", platform=Platform.TWITTER)

    result = receive_mention(
        other_account, raw("dm-1", user_id="42", is_private=True), now=timezone.now()
    )

    ticket.refresh_from_db()
    assert result.ticket_id == ticket.pk
    assert ticket.state == TicketState.IN_PROGRESS
    event = ticket.events.get(transition="customer_replied")
    assert event.actor is None and event.from_state == TicketState.WAITING_CUSTOMER


def test_a_private_message_joins_the_authors_open_private_ticket(twitter: Any) -> None:
    first = receive_mention(twitter, raw("dm-1", is_private=True), now=timezone.now())

    second = receive_mention(twitter, raw("dm-2", is_private=True), now=timezone.now())

    assert first.ticket_id == second.ticket_id
    assert Ticket.objects.get(pk=first.ticket_id).is_private


def test_a_bystander_reply_joins_the_thread_without_moving_the_ticket(
    twitter: Any, agent: Any
) -> None:
    opened = receive_mention(twitter, raw("1"), now=timezone.now())
    ticket = force_state(
        Ticket.objects.get(pk=opened.ticket_id), TicketState.WAITING_CUSTOMER, assignee=agent
    )

    result = receive_mention(
        twitter, raw("2", handle="@bystander", in_reply_to="1"), now=timezone.now()
    )

    ticket.refresh_from_db()
    assert result.ticket_id == ticket.pk
    assert ticket.state == TicketState.WAITING_CUSTOMER


def test_a_mention_into_a_dismissed_ticket_opens_a_new_linked_ticket(twitter: Any) -> None:
    opened = receive_mention(twitter, raw("1"), now=timezone.now())
    old = force_state(Ticket.objects.get(pk=opened.ticket_id), TicketState.DISMISSED)

    result = receive_mention(twitter, raw("2", in_reply_to="1"), now=timezone.now())

    assert result.ticket_id != old.pk
    assert TicketLink.objects.filter(
        from_ticket_id=result.ticket_id, to_ticket=old, kind=LinkKind.RELATED
    ).exists()
    old.refresh_from_db()
    assert old.state == TicketState.DISMISSED


def test_a_resolved_ticket_reopens_within_the_window_and_not_after(twitter: Any) -> None:
    recent = receive_mention(twitter, raw("1"), now=timezone.now())
    old = receive_mention(twitter, raw("9", handle="@otto"), now=timezone.now())
    force_state(Ticket.objects.get(pk=recent.ticket_id), TicketState.RESOLVED)
    force_state(Ticket.objects.get(pk=old.ticket_id), TicketState.RESOLVED)
    Ticket.objects.filter(pk=old.ticket_id).update(resolved_at=timezone.now() - timedelta(days=8))

    reopened = receive_mention(twitter, raw("2", in_reply_to="1"), now=timezone.now())
    follow_up = receive_mention(
        twitter, raw("10", handle="@otto", in_reply_to="9"), now=timezone.now()
    )

    assert reopened.ticket_id == recent.ticket_id
    assert Ticket.objects.get(pk=recent.ticket_id).state == TicketState.SUPPORT
    assert follow_up.ticket_id != old.ticket_id
    assert TicketLink.objects.filter(
        from_ticket_id=follow_up.ticket_id, to_ticket_id=old.ticket_id, kind=LinkKind.FOLLOW_UP_OF
    ).exists()


def test_a_reply_arriving_before_its_parent_is_linked_when_the_parent_arrives(
    twitter: Any,
) -> None:
    child = receive_mention(twitter, raw("2", in_reply_to="1"), now=timezone.now())

    parent = receive_mention(twitter, raw("1"), now=timezone.now())

    assert Mention.objects.get(pk=child.mention_id).parent_id == parent.mention_id


def test_a_batch_threads_replies_to_mentions_earlier_in_the_same_batch(twitter: Any) -> None:
    results = receive_mentions(
        twitter,
        [raw("1"), raw("2", handle="@desk_hilft", in_reply_to="1"), raw("3", in_reply_to="2")],
        now=timezone.now(),
    )

    assert len({result.ticket_id for result in results}) == 1
    assert Ticket.objects.get().mention_count == 3


@pytest.mark.parametrize(
    ("first", "second"), [("@Erika", "erika"), ("erika", "@ERIKA"), ("  @erika ", "@erika")]
)
def test_handles_are_normalised_into_one_identity(twitter: Any, first: str, second: str) -> None:
    receive_mention(twitter, raw("1", handle=first), now=timezone.now())
    receive_mention(twitter, raw("2", handle=second), now=timezone.now())

    identity = SocialIdentity.objects.get()
    assert identity.handle == "erika"


def test_a_platform_user_id_arriving_later_attaches_to_the_handle_only_identity(
    twitter: Any,
) -> None:
    receive_mention(twitter, raw("1", handle="@erika"), now=timezone.now())

    receive_mention(twitter, raw("2", handle="@erika", user_id="777"), now=timezone.now())
    receive_mention(twitter, raw("3", handle="@erika_neu", user_id="777"), now=timezone.now())

    identity = SocialIdentity.objects.get()
    assert identity.platform_user_id == "777"
    assert Mention.objects.filter(identity=identity).count() == 3


def test_webhook_channels_stand_in_for_the_platform_in_identity_keys() -> None:
    bridge_a = ChannelFactory(slug="bridge-a", platform=Platform.WEBHOOK)
    bridge_b = ChannelFactory(slug="bridge-b", platform=Platform.WEBHOOK)

    receive_mention(bridge_a, raw("1"), now=timezone.now())
    receive_mention(bridge_b, raw("1"), now=timezone.now())

    assert sorted(SocialIdentity.objects.values_list("platform", flat=True)) == [
        "channel:bridge-a",
        "channel:bridge-b",
    ]


def test_imported_and_old_mentions_start_no_clock(twitter: Any) -> None:
    now = timezone.now()

    receive_mention(twitter, raw("1"), now=now, live=False)
    receive_mention(twitter, raw("2", handle="@otto", created_at=now - timedelta(days=8)), now=now)

    assert Ticket.objects.count() == 2
    assert SlaClock.objects.count() == 0
    assert not Ticket.objects.filter(sla_due_at__isnull=False).exists()


def test_a_batch_needs_the_same_number_of_queries_for_10_and_for_1000_mentions(
    twitter: Any,
) -> None:
    def count_queries(prefix: str, size: int) -> int:
        batch = [
            raw(f"{prefix}-{index}", handle=f"@user{prefix}{index % 50}") for index in range(size)
        ]
        with CaptureQueriesContext(connection) as queries:
            receive_mentions(twitter, batch, now=timezone.now())
        return len(queries)

    count_queries("warm", 1)  # the per-process lookups (SLA policy, rules) are read once
    small, large = count_queries("a", 10), count_queries("b", 1000)

    assert small == large, (small, large)
    assert Ticket.objects.count() == 1011
